"""What the status line shows per venue, whatever the source."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class VenueState:
    venue: str
    state: str = "starting"  # connected / reconnecting / stale / down / replay / simulated / finished
    detail: str = ""  # the reason and the next try when reconnecting; a refused subscription...
    msgs_per_s: float = 0.0
    last_age_s: float | None = None
    reconnects: int = 0
    gaps_filled: int = 0  # trades recovered over REST (id gaps, outages)
    frames: int = 0
    rejected: int = 0
    unrecovered: int = 0  # reconnects after which the venue's REST window did not reach back far enough
