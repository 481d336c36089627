"""Hyperliquid depth: ``l2Book``: every frame is the whole top 20 (5 with ``fast``) levels a side,
``levels`` = [bids, asks] of {px, sz, n}. Nothing to sequence: each frame replaces the book."""

from __future__ import annotations

from typing import Any

import msgspec

from orderflow_tui.events import WHOLE, Depth, FrameError
from orderflow_tui.venues.depth_common import DECODE_ERRORS, Price, Size

VENUE = "hyperliquid"

_Level: Any = msgspec.defstruct("_Level", [("px", Price), ("sz", Size)], array_like=False)
_Book: Any = msgspec.defstruct("_Book", [("coin", str), ("levels", tuple[list[_Level], list[_Level]]), ("time", int)])
_Msg: Any = msgspec.defstruct("_Msg", [("data", _Book)])
_decode = msgspec.json.Decoder(_Msg, strict=False).decode


def is_depth(frame: str) -> bool:
    return frame.startswith('{"channel":"l2Book"')


def parse(symbols, frame: str) -> list:
    try:
        b = _decode(frame).data
    except DECODE_ERRORS as exc:
        raise FrameError(f"l2Book: {exc}") from None
    market, contract = symbols.get(b.coin)
    size = 1.0 if contract is None else contract.size
    bids, asks = b.levels
    return [Depth(market, VENUE, b.time, WHOLE, [(lv.px, lv.sz * size) for lv in bids],
                  [(lv.px, lv.sz * size) for lv in asks])]
