"""Bitget v2 depth: ``books``: ``snapshot`` then ``update``s with ``seq``/``pseq`` and the signed
CRC32 of the top 25 levels as sent. The levels' strings are kept (``raw``): the checksum is over the
original text ("0.5000" is not "0.5")."""

from __future__ import annotations

from typing import Any

import msgspec

from orderflow_tui.events import DELTA, SNAPSHOT, Depth, FrameError
from orderflow_tui.venues.common import PRICE_MAX, PRICE_MIN, QTY_MAX, num
from orderflow_tui.venues.depth_common import DECODE_ERRORS

VENUE = "bitget"

_Raw = list[tuple[str, str]]
_Book: Any = msgspec.defstruct("_Book", [("asks", _Raw), ("bids", _Raw), ("ts", int), ("checksum", int, 0),
                                         ("seq", int, -1), ("pseq", int, -1)])
_Arg: Any = msgspec.defstruct("_Arg", [("instId", str), ("channel", str, "books")])
_Msg: Any = msgspec.defstruct("_Msg", [("action", str), ("arg", _Arg), ("data", list[_Book])])
_decode = msgspec.json.Decoder(_Msg, strict=False).decode


def _levels(raw: list, size: float) -> list:
    out = []
    for ps, ss in raw:
        p = num(ps)
        s = num(ss)
        if not (PRICE_MIN <= p < PRICE_MAX and 0.0 <= s < QTY_MAX):
            raise FrameError(f"books: level out of range {ps[:20]!r} {ss[:20]!r}")
        out.append((p, s * size))
    return out


def parse(symbols, frame: str) -> list:
    try:
        m = _decode(frame)
    except DECODE_ERRORS as exc:
        raise FrameError(f"books: {exc}") from None
    if m.action not in ("snapshot", "update"):
        raise FrameError(f"books: unknown action {m.action[:20]!r}")
    market, contract = symbols.get(m.arg.instId)
    size = 1.0 if contract is None else contract.size
    kind = SNAPSHOT if m.action == "snapshot" else DELTA
    return [Depth(market, VENUE, b.ts, kind, _levels(b.bids, size), _levels(b.asks, size), -1, b.seq, b.pseq,
                  b.checksum, (b.bids, b.asks)) for b in m.data]
