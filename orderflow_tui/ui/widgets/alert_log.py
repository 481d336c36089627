"""ALERTS: time (UTC), severity and text, newest on top, ordered by the event's own time.
The engine keeps the bounded history; this panel draws the newest lines that fit."""

from __future__ import annotations

from orderflow_tui.ui.format import hms, stamp
from orderflow_tui.ui.widgets.line_panel import LinePanel, fit, wrap

SEVERITY = {"info": "cyan", "warning": "yellow", "high": "bold red"}
MARK = {"info": "·", "warning": "!", "high": "‼"}  # a shape as well as a colour
SHORT = {"info": "INFO", "warning": "WARN", "high": "HIGH"}


class AlertLog(LinePanel):
    def show(self, alerts) -> None:
        """``alerts``: the engine's bounded deque, in arrival order."""
        w = self.cols
        clock = stamp if w >= 80 else hms
        newest = sorted(alerts, key=lambda a: a.ts, reverse=True)[:self.rows]
        lines: list = []
        for i, a in enumerate(newest):
            head = f"{clock(a.ts)} {MARK.get(a.severity, ' ')}"
            sev = f"{SHORT.get(a.severity, a.severity.upper()):<5}"
            room = max(8, w - len(head) - len(sev) - 1)
            parts = wrap(a.text, room, indent="")
            # a second line only while the alerts below still fit
            take = 2 if len(parts) > 1 and len(lines) + 2 + (len(newest) - i - 1) <= self.rows else 1
            text = parts[0] if take == 2 or len(parts) == 1 else fit(a.text, room)
            lines.append(((head, SEVERITY.get(a.severity, "")), (sev, SEVERITY.get(a.severity, "")), (" " + text, "")))
            if take == 2:
                lines.append(((" " * (len(head) + len(sev) + 1) + fit(" ".join(parts[1:]), room), ""),))
        lines = lines[:self.rows]
        if not lines:
            lines.append((("no alerts yet", "muted"),))
        self.set_lines(lines)
