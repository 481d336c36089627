"""OKX v5 depth: ``books`` (400 levels): ``snapshot`` (``prevSeqId`` -1) then ``update``s chained by
``prevSeqId`` == the previous ``seqId``; the ``checksum`` field is always 0 now and is not read. The
REST bootstrap ``GET /api/v5/market/books`` carries ``seqId`` too. Sizes are contracts (ctVal)."""

from __future__ import annotations

from typing import Any

import msgspec

from orderflow_tui.events import DELTA, REST_BOOK, SNAPSHOT, Depth, FrameError
from orderflow_tui.venues.depth_common import DECODE_ERRORS, read_levels

VENUE = "okx"

_Book: Any = msgspec.defstruct("_Book", [("asks", msgspec.Raw), ("bids", msgspec.Raw), ("ts", int),
                                         ("seqId", int, -1), ("prevSeqId", int, -1)])
_Arg: Any = msgspec.defstruct("_Arg", [("channel", str), ("instId", str)])
_Msg: Any = msgspec.defstruct("_Msg", [("arg", _Arg), ("data", list[_Book]), ("action", str, "snapshot")])
_Rest: Any = msgspec.defstruct("_Rest", [("data", list[_Book])])
_decode = msgspec.json.Decoder(_Msg, strict=False).decode
_rest = msgspec.json.Decoder(_Rest, strict=False).decode
CHANNELS = frozenset(("books", "books5", "books50-l2-tbt", "books-l2-tbt", "bbo-tbt"))


def parse(symbols, frame: str) -> list:
    try:
        m = _decode(frame)
    except DECODE_ERRORS as exc:
        raise FrameError(f"books: {exc}") from None
    if m.action not in ("snapshot", "update"):
        raise FrameError(f"books: unknown action {m.action[:20]!r}")
    market, contract = symbols.get(m.arg.instId)
    # books5 / bbo-tbt push whole books each time: snapshots
    kind = SNAPSHOT if m.action == "snapshot" or m.arg.channel in ("books5", "bbo-tbt") else DELTA
    return [Depth(market, VENUE, b.ts, kind, read_levels(b.bids, contract), read_levels(b.asks, contract),
                  -1, b.seqId, b.prevSeqId) for b in m.data]


def parse_rest(symbols, symbol: str, body: str) -> list:
    try:
        r = _rest(body)
    except DECODE_ERRORS as exc:
        raise FrameError(f"books snapshot: {exc}") from None
    if len(r.data) != 1:
        raise FrameError("books snapshot: data is not one book")
    b = r.data[0]
    market, contract = symbols.get(symbol)
    return [Depth(market, VENUE, b.ts, REST_BOOK, read_levels(b.bids, contract), read_levels(b.asks, contract),
                  -1, b.seqId, -1)]
