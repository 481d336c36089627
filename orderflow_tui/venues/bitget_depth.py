"""Bitget v2 depth: ``books``: ``snapshot`` then ``update``s with ``seq``/``pseq`` and the signed
CRC32 of the top 25 levels as sent. The levels keep their strings (``Levels.texts()``): the checksum
is over the original text ("0.5000" is not "0.5")."""

from __future__ import annotations

from typing import Any

import msgspec

from orderflow_tui.events import DELTA, SNAPSHOT, Depth, FrameError
from orderflow_tui.venues.depth_common import DECODE_ERRORS, read_levels

VENUE = "bitget"

_Book: Any = msgspec.defstruct("_Book", [("asks", msgspec.Raw), ("bids", msgspec.Raw), ("ts", int),
                                         ("checksum", int, 0),
                                         ("seq", int, -1), ("pseq", int, -1)])
_Arg: Any = msgspec.defstruct("_Arg", [("instId", str), ("channel", str, "books")])
_Msg: Any = msgspec.defstruct("_Msg", [("action", str), ("arg", _Arg), ("data", list[_Book])])
_decode = msgspec.json.Decoder(_Msg, strict=False).decode


def is_depth(frame) -> bool:
    """A ``books`` push, told from its head (the venue writes action, then arg): the typed decoder
    checks the rest, and a frame that only looks like one is rejected there as malformed."""
    return type(frame) is str and frame.startswith('{"action":') and '"channel":"books"' in frame[:160]


def parse(symbols, frame: str) -> list:
    try:
        m = _decode(frame)
    except DECODE_ERRORS as exc:
        raise FrameError(f"books: {exc}") from None
    if m.action not in ("snapshot", "update"):
        raise FrameError(f"books: unknown action {m.action[:20]!r}")
    market, contract = symbols.get(m.arg.instId)
    kind = SNAPSHOT if m.action == "snapshot" else DELTA
    # the Levels keep the strings as sent: Levels.texts() (books/sync.py, the checksum)
    return [Depth(market, VENUE, b.ts, kind, read_levels(b.bids, contract), read_levels(b.asks, contract), -1,
                  b.seq, b.pseq, b.checksum) for b in m.data]
