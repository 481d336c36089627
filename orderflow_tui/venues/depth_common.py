"""What the six depth parsers share: level arrays read in C, sizes converted to the base coin.

msgspec decodes a depth frame's envelope and leaves each level array as raw JSON text
(``msgspec.Raw``); ``read_levels`` reads that text in C (venues/levels.py) into packed doubles,
range-checked, sizes in contracts converted to the base coin as trades are (contract.md §1): no
Python object per level. Hyperliquid's few object levels still go through msgspec (``Price``/``Size``).
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec

from orderflow_tui.events import FrameError
from orderflow_tui.venues.common import PRICE_MAX, PRICE_MIN, QTY_MAX
from orderflow_tui.venues.levels import parse, parse_changes

Price = Annotated[float, msgspec.Meta(ge=PRICE_MIN, lt=PRICE_MAX)]
Size = Annotated[float, msgspec.Meta(ge=0.0, lt=QTY_MAX)]  # 0 removes the level
DECODE_ERRORS = (msgspec.ValidationError, msgspec.DecodeError)


def read_levels(raw: object, contract) -> Any:
    """A level array's JSON text (a msgspec.Raw) as Levels, sizes in the base coin (``contract``
    None: they already are). FrameError when a level is malformed or out of range."""
    try:
        if contract is None:
            return parse(raw)
        return parse(raw, contract.size, contract.inverse)
    except ValueError as exc:
        raise FrameError(str(exc)) from None


def read_changes(raw: object, contract) -> Any:
    """Coinbase's ``[side, price, size]`` changes as (bids, asks) Levels."""
    try:
        return parse_changes(raw, 1.0 if contract is None else contract.size)
    except ValueError as exc:
        raise FrameError(str(exc)) from None
