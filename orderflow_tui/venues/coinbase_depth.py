"""Coinbase Exchange depth: ``level2_batch`` (and ``level2``): one ``snapshot`` of the whole book,
then ``l2update`` changes ``[side, price, size]``. No sequence: a reconnect brings a new snapshot."""

from __future__ import annotations

from typing import Any

import msgspec

from orderflow_tui.events import DELTA, SNAPSHOT, Depth, FrameError
from orderflow_tui.venues.common import iso_ms
from orderflow_tui.venues.depth_common import DECODE_ERRORS, Levels, Price, Size

VENUE = "coinbase"

_Snapshot: Any = msgspec.defstruct("_Snapshot", [("product_id", str), ("bids", Levels), ("asks", Levels),
                                                 ("time", str, "")], tag_field="type", tag="snapshot")
_Update: Any = msgspec.defstruct("_Update", [("product_id", str), ("changes", list[tuple[str, Price, Size]]),
                                             ("time", str, "")], tag_field="type", tag="l2update")
_decode = msgspec.json.Decoder(_Snapshot | _Update, strict=False).decode


def is_depth(frame: str) -> bool:
    head = frame[:24]
    return '"l2update"' in head or '"snapshot"' in head


def parse(symbols, frame: str) -> list:
    try:
        m = _decode(frame)
    except DECODE_ERRORS as exc:
        raise FrameError(f"level2: {exc}") from None
    market, contract = symbols.get(m.product_id)
    ts = iso_ms(m.time) if m.time else 0
    if type(m) is _Snapshot:
        return [Depth(market, VENUE, ts, SNAPSHOT, m.bids, m.asks)]
    bids = []
    asks = []
    for side, p, s in m.changes:
        if side == "buy":
            bids.append((p, s))
        elif side == "sell":
            asks.append((p, s))
        else:
            raise FrameError(f"level2: unknown side {side[:10]!r}")
    return [Depth(market, VENUE, ts, DELTA, bids, asks)]
