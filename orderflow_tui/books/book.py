"""One market's local L2 book (issue 21; the surface is docs/BOOK_INTERFACE in the notes).

Two dicts price -> size, one per side: a depth frame touches a handful of levels, so a dict write
per level is the whole cost of applying it. The best price comes from a lazy heap per side (a
price is pushed when it appears; removed ones are popped when they reach the top), so a removed
touch costs O(log n), not a scan of the side. `top(n)` sorts lazily (the UI asks a few times a
second, never per message). Memory is bounded: a side that grows past `max_levels` (Binance
diffs add levels far from the touch forever) drops its farthest levels, and a heap holding more
than twice its side's levels is rebuilt. Compiled with mypyc (setup.py): the per-level loop is C.

The sync state machines (books/sync.py) decide when a book is synced; this class only keeps the
levels and the counters the replay report prints (contract §2b).
"""

from __future__ import annotations

import math
import time
from heapq import heapify, heappop, heappush, nlargest, nsmallest
from typing import Any, Iterable

NAN = math.nan
# a side keeps at most this many levels (a Binance snapshot has 1000, OKX 400, Bybit 200; the
# Coinbase full book has more, but levels 5000 away from the touch are nobody's reading)
MAX_LEVELS = 5000


class L2Book:
    """One market's local L2 book. Sizes in the base coin (contracts converted as contract.md §1)."""

    def __init__(self, market: str, venue: str, max_levels: int = MAX_LEVELS) -> None:
        self.market = market
        self.venue = venue
        self.synced = False      # a snapshot was applied and no gap since
        self.ts = 0              # exchange ms of the last applied update (0 before any)
        self.received = 0.0      # monotonic seconds of the last applied update
        self.updates = 0         # depth frames applied (counted by the sync machine, per frame)
        self.gaps = 0            # sequence breaks / checksum mismatches / crossed books seen
        self.resyncs = 0         # snapshots applied after the first
        self.snapshots = 0       # snapshots applied in all
        self.max_levels = max_levels
        self.down = False        # its connection dropped (link_lost) and nothing applied since
        # price -> size; Any, not float: the parser's float objects are kept as they are (no boxing)
        self._bids: dict[Any, Any] = {}
        self._asks: dict[Any, Any] = {}
        self._bh: list[Any] = []  # heap of the bid prices, negated; may hold removed ones (lazy)
        self._ah: list[Any] = []  # heap of the ask prices; the same

    # -- writing ---------------------------------------------------------------------------
    def apply_snapshot(self, bids: Iterable[tuple[float, float]], asks: Iterable[tuple[float, float]],
                       ts: int) -> None:
        """Replace the whole book; the book is synced afterwards. Every snapshot after the first
        counts as a resync (contract §2b)."""
        if self.snapshots:
            self.resyncs += 1
        self.snapshots += 1
        self.replace(bids, asks, ts)

    def replace(self, bids: Iterable[tuple[float, float]], asks: Iterable[tuple[float, float]],
                ts: int) -> None:
        """Replace the whole book without counting a resync (Hyperliquid: every frame is whole)."""
        b: dict[Any, Any] = {}
        a: dict[Any, Any] = {}
        p: Any
        s: Any
        for p, s in bids:
            if s > 0.0:
                b[p] = s
        for p, s in asks:
            if s > 0.0:
                a[p] = s
        self._bids = b
        self._asks = a
        self._trim(True)
        self._trim(False)
        self._reheap(True)
        self._reheap(False)
        self.synced = True
        self._touch(ts)

    def apply_levels(self, is_bid: bool, levels: Iterable[tuple[float, float]], ts: int) -> None:
        """Absolute sizes per price; size 0 removes the level (removing an absent level is legal)."""
        self._apply(is_bid, levels)
        self._touch(ts)

    def apply_update(self, bids: Iterable[tuple[float, float]], asks: Iterable[tuple[float, float]],
                     ts: int) -> None:
        """One depth frame: both sides, counted once in `updates`."""
        self._apply(True, bids)
        self._apply(False, asks)
        self.updates += 1
        self._touch(ts)

    def _apply(self, is_bid: bool, levels: Iterable[Any]) -> None:
        # prices and sizes stay the float objects the parser made (typed Any): compiled, a float
        # annotation would unbox each and box it again for the dict, two allocations per level
        p: Any
        s: Any
        n: int
        if is_bid:
            side = self._bids
            heap = self._bh
            for p, s in levels:
                if s > 0.0:
                    n = len(side)
                    side[p] = s
                    if len(side) != n:  # a new price (one dict operation per level, not two)
                        heappush(heap, -p)
                else:
                    side.pop(p, None)
        else:
            side = self._asks
            heap = self._ah
            for p, s in levels:
                if s > 0.0:
                    n = len(side)
                    side[p] = s
                    if len(side) != n:  # a new price (one dict operation per level, not two)
                        heappush(heap, p)
                else:
                    side.pop(p, None)
        n = len(side)
        if n > self.max_levels + (self.max_levels >> 2):
            self._trim(is_bid)
            self._reheap(is_bid)
        elif len(heap) > 2 * n + 64:
            self._reheap(is_bid)

    def mark_gap(self) -> None:
        """A sequence break, checksum mismatch or crossed book: not synced until a new snapshot."""
        self.synced = False
        self.gaps += 1

    def link_lost(self) -> None:
        """The connection carrying this book dropped: shown as "resyncing" until the next update
        arrives (the sync machine decides from the frames whether the book still holds)."""
        self.down = True

    def clear(self) -> None:
        self._bids = {}
        self._asks = {}
        self._bh = []
        self._ah = []

    def _touch(self, ts: int) -> None:
        self.down = False
        if ts > self.ts:
            self.ts = ts
        self.received = time.monotonic()

    def _trim(self, is_bid: bool) -> None:
        side = self._bids if is_bid else self._asks
        if len(side) <= self.max_levels:
            return
        keep = nlargest(self.max_levels, side) if is_bid else nsmallest(self.max_levels, side)
        kept = {p: side[p] for p in keep}
        if is_bid:
            self._bids = kept
        else:
            self._asks = kept

    def _reheap(self, is_bid: bool) -> None:
        if is_bid:
            bh = [-p for p in self._bids]
            heapify(bh)
            self._bh = bh
        else:
            ah = list(self._asks)
            heapify(ah)
            self._ah = ah

    # -- reading ---------------------------------------------------------------------------
    def best_bid(self) -> float:
        side = self._bids
        heap = self._bh
        while heap:
            p = -heap[0]
            if p in side:
                return float(p)
            heappop(heap)
        return NAN

    def best_ask(self) -> float:
        side = self._asks
        heap = self._ah
        while heap:
            p = heap[0]
            if p in side:
                return float(p)
            heappop(heap)
        return NAN

    def crossed(self) -> bool:
        """Best bid at or above best ask: a corrupted book (never true on an empty side)."""
        return self.best_bid() >= self.best_ask()  # NaN compares false

    def top(self, n: int) -> tuple[list[tuple[float, float]], list[tuple[float, float]]]:
        """The best n levels a side: bids descending, asks ascending."""
        bids = self._bids
        asks = self._asks
        return ([(float(p), float(bids[p])) for p in nlargest(n, bids)],
                [(float(p), float(asks[p])) for p in nsmallest(n, asks)])

    def size_at(self, is_bid: bool, price: float) -> float:
        return float((self._bids if is_bid else self._asks).get(price, 0.0))

    def depth(self) -> tuple[int, int]:
        """Number of levels (bids, asks)."""
        return len(self._bids), len(self._asks)

    def status(self, now_monotonic: float, stale_s: float) -> str:
        """"waiting" before the first snapshot, "resyncing" after a gap until the next snapshot and
        after a dropped connection until data flows again, "stale" when synced but nothing applied
        for stale_s seconds, else "live"."""
        if not self.synced:
            return "resyncing" if self.snapshots or self.gaps else "waiting"
        if self.down:
            return "resyncing"
        if now_monotonic - self.received > stale_s:
            return "stale"
        return "live"
