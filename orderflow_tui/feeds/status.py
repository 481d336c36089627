"""What the status line shows per venue, whatever the source."""

from __future__ import annotations

import time
from dataclasses import dataclass, field


@dataclass
class VenueState:
    venue: str
    state: str = "starting"  # connected / reconnecting / stale / down / replay / simulated / finished
    note: str = ""  # the connection's own reason and next try; read and written as ``detail``
    msgs_per_s: float = 0.0
    last_age_s: float | None = None
    reconnects: int = 0
    gaps_filled: int = 0  # trades recovered over REST (id gaps, outages)
    frames: int = 0
    rejected: int = 0
    unrecovered: int = 0  # reconnects after which the venue's REST window did not reach back far enough
    refused: dict = field(default_factory=dict)  # topic -> the venue's reason; dropped, the others go on
    rest_until: float = 0.0  # epoch s: no REST call to this venue before then (429, 418, 5xx, timeouts)
    rest_reason: str = ""  # why REST is backing off ("HTTP 429", "timeout"...)

    @property
    def detail(self) -> str:
        """One line for the status bar: the connection's note, refused topics, REST backing off."""
        parts = [self.note] if self.note else []
        if self.refused:
            parts.append("refused: " + ", ".join(self.refused))
        if self.rest_until > time.time():
            parts.append(f"REST backing off until {time.strftime('%H:%M:%S', time.gmtime(self.rest_until))} "
                         f"({self.rest_reason})")
        return "; ".join(parts)

    @detail.setter
    def detail(self, text: str) -> None:
        self.note = text
