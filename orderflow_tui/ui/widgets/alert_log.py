"""ALERTS: time (UTC), severity and text, newest on top, ordered by the event's own time.
The engine keeps the bounded history; this panel draws the newest lines that fit."""

from __future__ import annotations

from orderflow_tui.ui.format import hms, stamp
from orderflow_tui.ui.widgets.line_panel import LinePanel, fit

SEVERITY = {"info": "cyan", "warning": "yellow", "high": "bold red"}
MARK = {"info": "·", "warning": "!", "high": "‼"}  # a shape as well as a colour


class AlertLog(LinePanel):
    def show(self, alerts) -> None:
        """``alerts``: the engine's bounded deque, in arrival order."""
        w = self.cols
        clock = stamp if w >= 60 else hms
        newest = sorted(alerts, key=lambda a: a.ts, reverse=True)[:self.rows]
        lines = []
        for a in newest:
            head = f"{clock(a.ts)} "
            sev = f"{MARK.get(a.severity, ' ')}{a.severity.upper():<7}"
            lines.append(((head, ""), (sev, SEVERITY.get(a.severity, "")),
                          (fit(" " + a.text, max(0, w - len(head) - len(sev))), "")))
        if not lines:
            lines.append((("no alerts yet", "muted"),))
        self.set_lines(lines)
