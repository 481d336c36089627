"""SIGNAL: the composite LONG / SHORT / NEUTRAL summary with its triggers and reasons."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from orderflow_tui.engine.signal import DISCLAIMER
from orderflow_tui.ui.format import colors


class SignalCard(Static):
    DEFAULT_CSS = "SignalCard { height: auto; }"

    def show(self, snap) -> None:
        c = colors(self.app)
        sig = snap.signal
        color = c["buy"] if sig.direction == "LONG" else c["sell"] if sig.direction == "SHORT" else c["muted"]
        arrow = "▲" if sig.direction == "LONG" else "▼" if sig.direction == "SHORT" else "◆"
        t = Text()
        t.append(f"{arrow} {sig.direction}", style=f"bold {color}")
        t.append(f"  confidence {sig.confidence}  score {sig.score:+d}\n")
        t.append("Triggers: ", style="bold")
        t.append(", ".join(sig.triggers) or "none")
        for reason in sig.reasons:
            t.append(f"\n• {reason}")
        t.append(f"\n{DISCLAIMER}", style=f"italic {c['muted']}")
        self.update(t)
