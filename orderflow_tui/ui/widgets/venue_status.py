"""The status line: one entry per venue (connected / reconnecting / stale / down), msg/s, last age."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

STATE_STYLE = {"connected": "bold green", "replay": "bold cyan", "simulated": "bold magenta",
               "reconnecting": "bold yellow", "stale": "bold yellow", "down": "bold red", "starting": "dim",
               "finished": "dim"}


class VenueStatus(Static):
    DEFAULT_CSS = "VenueStatus { height: 1; }"

    def show(self, statuses, extra: str = "") -> None:
        t = Text()
        for st in statuses:
            t.append(f" {st.venue} ", style="bold")
            t.append(st.state, style=STATE_STYLE.get(st.state, ""))
            detail = f" {st.msgs_per_s:.0f}/s"
            if st.last_age_s is not None:
                detail += f" {st.last_age_s:.0f}s ago" if st.last_age_s >= 2 else " live"
            if st.reconnects:
                detail += f" ↻{st.reconnects}"
            if st.gaps_filled:
                detail += f" gaps {st.gaps_filled}"
            if st.detail:
                detail += f" ({st.detail})"
            t.append(detail + " │")
        if extra:
            t.append(f" {extra}")
        self.update(t)
