"""Coinbase Exchange depth: ``level2_batch`` (and ``level2``): one ``snapshot`` of the whole book,
then ``l2update`` changes ``[side, price, size]``. No sequence: a reconnect brings a new snapshot."""

from __future__ import annotations

from typing import Any

import msgspec

from orderflow_tui.events import DELTA, SNAPSHOT, Depth, FrameError
from orderflow_tui.venues.common import iso_ms
from orderflow_tui.venues.depth_common import DECODE_ERRORS, read_changes, read_levels

VENUE = "coinbase"

_Snapshot: Any = msgspec.defstruct("_Snapshot", [("product_id", str), ("bids", msgspec.Raw), ("asks", msgspec.Raw),
                                                 ("time", str, "")], tag_field="type", tag="snapshot")
_Update: Any = msgspec.defstruct("_Update", [("product_id", str), ("changes", msgspec.Raw),
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
        return [Depth(market, VENUE, ts, SNAPSHOT, read_levels(m.bids, contract), read_levels(m.asks, contract))]
    bids, asks = read_changes(m.changes, contract)
    return [Depth(market, VENUE, ts, DELTA, bids, asks)]
