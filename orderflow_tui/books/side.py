"""One side of a local book: price -> size, kept sorted with the touch last.

In C (orderflow_tui/_depth.c) sorted doubles in chunks of 64, no Python object per level: a depth
frame's Levels are applied in one loop (a binary search over the chunks, one within, a move of at
most 64 elements), the best price is the last element, the best n are read backwards, and trimming
drops the far end. This file is its pure-Python twin (used when it is not built, or with
``ORDERFLOW_TUI_PURE=1`` when it runs), with the same results.

``Side(is_bid)``: ``apply(levels)`` absolute sizes, size 0 removes (an absent level too);
``replace(levels)`` the side becomes these (a price given twice: the later); ``best()`` (NaN when
empty); ``top(n)`` [(price, size)] the best first; ``size_at(price)``; ``trim(keep)`` keeps the
``keep`` levels nearest the touch; ``clear()``; ``len()``. Levels: a parser's Levels or any
sequence of (price, size). ``Side(is_bid, texts=True)`` also keeps each level's text as the venue
sent it, and ``checksum(bids, asks, n)`` is Bitget's signed CRC32 over the best n of them.
"""

from __future__ import annotations

import math
import os
import zlib
from bisect import bisect_left, insort

# ---- the pure-Python twin --------------------------------------------------------------


class PySide:
    def __init__(self, is_bid: bool, texts: bool = False) -> None:
        self.bid = is_bid
        self.keys: list[float] = []        # price (bids) or -price (asks), ascending: the touch last
        self.sizes: dict[float, float] = {}
        self.texts: dict[float, str] | None = {} if texts else None

    def __len__(self) -> int:
        return len(self.keys)

    def _texts(self, levels) -> list:
        if self.texts is None or not hasattr(levels, "texts"):
            return [""] * len(levels)
        texts = levels.texts()
        if any(len(t) >= 48 for t in texts):  # as the C slot: a length byte and 47
            raise ValueError("levels: a level's text is too long")
        return texts

    def apply(self, levels) -> None:
        keys, sizes, bid, texts = self.keys, self.sizes, self.bid, self.texts
        for (p, s), t in zip(levels, self._texts(levels)):
            k = p if bid else -p
            if s > 0.0:
                if k not in sizes:
                    insort(keys, k)
                sizes[k] = s
                if texts is not None:
                    texts[k] = t
            elif k in sizes:
                del sizes[k]
                del keys[bisect_left(keys, k)]
                if texts is not None:
                    del texts[k]

    def replace(self, levels) -> None:
        sizes, texts = {}, {}
        for (p, s), t in zip(levels, self._texts(levels)):
            k = p if self.bid else -p
            sizes[k] = s
            texts[k] = t
        self.sizes = {k: s for k, s in sizes.items() if s > 0.0}
        self.keys = sorted(self.sizes)
        if self.texts is not None:
            self.texts = {k: texts[k] for k in self.keys}

    def best(self) -> float:
        if not self.keys:
            return math.nan
        k = self.keys[-1]
        return k if self.bid else -k

    def top(self, n: int) -> list[tuple[float, float]]:
        if n <= 0:
            return []
        sign = 1.0 if self.bid else -1.0
        return [(sign * k, self.sizes[k]) for k in reversed(self.keys[-n:])]

    def size_at(self, price: float) -> float:
        return self.sizes.get(price if self.bid else -price, 0.0)

    def trim(self, keep: int) -> None:
        if len(self.keys) > keep:
            drop = len(self.keys) - keep
            for k in self.keys[:drop]:
                del self.sizes[k]
                if self.texts is not None:
                    del self.texts[k]
            del self.keys[:drop]

    def clear(self) -> None:
        self.keys = []
        self.sizes = {}
        if self.texts is not None:
            self.texts = {}

def py_checksum(bids: PySide, asks: PySide, n: int) -> int:
    if bids.texts is None or asks.texts is None:
        raise ValueError("checksum: the sides keep no texts")
    top_b = [bids.texts[k] for k in reversed(bids.keys[-n:])] if n > 0 else []
    top_a = [asks.texts[k] for k in reversed(asks.keys[-n:])] if n > 0 else []
    parts = []
    for i in range(max(len(top_b), len(top_a))):
        if i < len(top_b):
            parts.append(top_b[i])
        if i < len(top_a):
            parts.append(top_a[i])
    crc = zlib.crc32(":".join(parts).encode())
    return crc - (1 << 32) if crc >= 1 << 31 else crc


try:  # the C side (orderflow_tui/_depth.c); the twins above when it is not built or not wanted
    if os.environ.get("ORDERFLOW_TUI_PURE") == "1":
        raise ImportError("ORDERFLOW_TUI_PURE=1")
    from orderflow_tui._depth import Side, checksum
except ImportError:
    Side, checksum = PySide, py_checksum  # type: ignore[misc,assignment]

__all__ = ["Side", "checksum"]
