"""Binance USD-M depth: ``<symbol>@depth@100ms`` diffs (``U``/``u``/``pu``) and the REST snapshot
``GET /fapi/v1/depth`` (``lastUpdateId``) that a capture keeps as a ``"k": "book"`` line."""

from __future__ import annotations

from typing import Any

import msgspec

from orderflow_tui.events import DELTA, REST_BOOK, Depth, FrameError
from orderflow_tui.venues.depth_common import DECODE_ERRORS, read_levels

VENUE = "binance"

_Update: Any = msgspec.defstruct("_Update", [("T", int), ("s", str), ("U", int), ("u", int), ("pu", int),
                                             ("b", msgspec.Raw), ("a", msgspec.Raw)], tag_field="e", tag="depthUpdate")
_Combined: Any = msgspec.defstruct("_Combined", [("data", _Update)])
_Rest: Any = msgspec.defstruct("_Rest", [("lastUpdateId", int), ("bids", msgspec.Raw), ("asks", msgspec.Raw),
                                         ("T", int, 0), ("E", int, 0)])
_combined: Any = msgspec.json.Decoder(_Combined, strict=False).decode
_bare: Any = msgspec.json.Decoder(_Update, strict=False).decode
_rest: Any = msgspec.json.Decoder(_Rest, strict=False).decode


def is_depth(frame: str) -> bool:
    head = frame[:64]
    return "@depth" in head or '"depthUpdate"' in head


def parse(symbols, frame: str) -> list:
    try:
        d = _combined(frame).data if frame.startswith('{"stream"') else _bare(frame)
    except DECODE_ERRORS as exc:
        raise FrameError(f"depth: {exc}") from None
    market, contract = symbols.get(d.s)
    return [Depth(market, VENUE, d.T, DELTA, read_levels(d.b, contract), read_levels(d.a, contract),
                  d.U, d.u, d.pu)]


def parse_rest(symbols, symbol: str, body: str) -> list:
    try:
        r = _rest(body)
    except DECODE_ERRORS as exc:
        raise FrameError(f"depth snapshot: {exc}") from None
    market, contract = symbols.get(symbol)
    return [Depth(market, VENUE, r.T or r.E, REST_BOOK, read_levels(r.bids, contract),
                  read_levels(r.asks, contract), -1, r.lastUpdateId, -1)]
