"""One side of a local book: price -> size, kept sorted with the touch last.

In C (orderflow_tui/_depth.c) two arrays of doubles, no Python object per level: a depth frame's
Levels are applied in one loop (binary search, and a short move near the touch where most changes
are), the best price is the last element, the best n a slice, and trimming drops the far end. This
file is its pure-Python twin (``ORDERFLOW_TUI_PURE=1`` or no compiler), with the same results.

``Side(is_bid)``: ``apply(levels)`` absolute sizes, size 0 removes (an absent level too);
``replace(levels)`` the side becomes these (a price given twice: the later); ``best()`` (NaN when
empty); ``top(n)`` [(price, size)] the best first; ``size_at(price)``; ``trim(keep)`` keeps the
``keep`` levels nearest the touch; ``clear()``; ``len()``. Levels: a parser's Levels or any
sequence of (price, size).
"""

from __future__ import annotations

import math
from bisect import bisect_left, insort

try:
    from orderflow_tui._depth import Side
except ImportError:

    class Side:  # type: ignore[no-redef]
        def __init__(self, is_bid: bool) -> None:
            self.bid = is_bid
            self.keys: list[float] = []        # price (bids) or -price (asks), ascending: the touch last
            self.sizes: dict[float, float] = {}

        def __len__(self) -> int:
            return len(self.keys)

        def apply(self, levels) -> None:
            keys, sizes, bid = self.keys, self.sizes, self.bid
            for p, s in levels:
                k = p if bid else -p
                if s > 0.0:
                    if k not in sizes:
                        insort(keys, k)
                    sizes[k] = s
                elif k in sizes:
                    del sizes[k]
                    del keys[bisect_left(keys, k)]

        def replace(self, levels) -> None:
            sizes = {}
            for p, s in levels:
                sizes[p if self.bid else -p] = s
            self.sizes = {k: s for k, s in sizes.items() if s > 0.0}
            self.keys = sorted(self.sizes)

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
                del self.keys[:drop]

        def clear(self) -> None:
            self.keys = []
            self.sizes = {}

__all__ = ["Side"]
