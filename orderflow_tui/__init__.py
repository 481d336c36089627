"""orderflow-tui: a terminal dashboard for crypto order flow."""

__version__ = "0.1.0"
