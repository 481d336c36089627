"""The Textual dashboard: views read immutable engine snapshots at a fixed refresh rate."""
