"""The alert log: time (UTC), severity and text, newest on top. The engine keeps the bounded
history; this widget only draws the latest lines, so it holds no state of its own but a count."""

from __future__ import annotations

from itertools import islice

from rich.text import Text
from textual.widgets import Static

from orderflow_tui.ui.format import hms, ymd

SEVERITY = {"info": "cyan", "warning": "yellow", "high": "bold red"}


class AlertLog(Static):
    DEFAULT_CSS = "AlertLog { height: auto; text-wrap: nowrap; text-overflow: ellipsis; }"

    def __init__(self, **kw):
        super().__init__(**kw)
        self.seen = 0

    def show(self, engine_alerts_total: int, alerts, lines: int = 30) -> int:
        """Draw the newest alerts (``alerts``: the engine's deque, oldest first); returns how many
        arrived since the last call (for the bell)."""
        new = engine_alerts_total - self.seen
        if new <= 0:
            return 0
        self.seen = engine_alerts_total
        t = Text(no_wrap=True, overflow="ellipsis")
        for a in reversed(list(islice(alerts, max(0, len(alerts) - lines), None))):
            t.append(f"{ymd(a.ts)} {hms(a.ts)} ")
            t.append(a.severity.upper().ljust(7), style=SEVERITY.get(a.severity, ""))
            t.append(f" {a.text}\n")
        self.update(t)
        return new
