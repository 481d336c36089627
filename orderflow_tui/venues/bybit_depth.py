"""Bybit v5 depth: ``orderbook.{200|50|1000}.{symbol}``: ``snapshot`` then ``delta`` with ``u``
(+1 per message; ``u`` = 1 after a service restart, to be taken as a snapshot)."""

from __future__ import annotations

from typing import Any

import msgspec

from orderflow_tui.events import DELTA, SNAPSHOT, Depth, FrameError
from orderflow_tui.venues.depth_common import DECODE_ERRORS, read_levels

VENUE = "bybit"

_Data: Any = msgspec.defstruct("_Data", [("s", str), ("b", msgspec.Raw), ("a", msgspec.Raw), ("u", int),
                                         ("seq", int, -1)])
_Msg: Any = msgspec.defstruct("_Msg", [("type", str), ("ts", int), ("data", _Data), ("cts", int, 0)])
_decode = msgspec.json.Decoder(_Msg, strict=False).decode


def is_depth(frame: str) -> bool:
    return frame.startswith('{"topic":"orderbook.')


def parse(symbols, frame: str) -> list:
    try:
        m = _decode(frame)
    except DECODE_ERRORS as exc:
        raise FrameError(f"orderbook: {exc}") from None
    if m.type == "snapshot":
        kind = SNAPSHOT
    elif m.type == "delta":
        kind = DELTA
    else:
        raise FrameError(f"orderbook: unknown type {m.type[:20]!r}")
    d = m.data
    market, contract = symbols.get(d.s)
    # cts: the matching engine's time, the one trades carry in T
    return [Depth(market, VENUE, m.cts or m.ts, kind, read_levels(d.b, contract), read_levels(d.a, contract),
                  -1, d.u, -1)]
