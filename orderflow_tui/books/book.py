"""One market's local L2 book (issue 21; the surface is docs/BOOK_INTERFACE in the notes).

Two dicts price -> size, one per side: a depth frame touches a handful of levels, so a dict write
per level is the whole cost of applying it; the best price is kept incrementally and recomputed
only when the best level itself is removed; `top(n)` sorts lazily (the UI asks a few times a
second, never per message). Memory is bounded: a side that grows past `max_levels` (Binance
diffs add levels far from the touch forever) drops its farthest levels.

The sync state machines (books/sync.py) decide when a book is synced; this class only keeps the
levels and the counters the replay report prints (contract §2b).
"""

from __future__ import annotations

import heapq
import math
import time
from typing import Iterable

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
        self._bids: dict[float, float] = {}
        self._asks: dict[float, float] = {}
        self._best_bid = -math.inf   # valid unless _bid_dirty
        self._best_ask = math.inf
        self._bid_dirty = False
        self._ask_dirty = False

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
        self._bids = {p: s for p, s in bids if s > 0.0}
        self._asks = {p: s for p, s in asks if s > 0.0}
        self._bid_dirty = True
        self._ask_dirty = True
        self._trim(True)
        self._trim(False)
        self.synced = True
        self._touch(ts)

    def apply_levels(self, is_bid: bool, levels: Iterable[tuple[float, float]], ts: int) -> None:
        """Absolute sizes per price; size 0 removes the level (removing an absent level is legal)."""
        if is_bid:
            side = self._bids
            best = self._best_bid
            dirty = self._bid_dirty
            for p, s in levels:
                if s > 0.0:
                    side[p] = s
                    if p > best:
                        best = p
                elif p in side:
                    del side[p]
                    if p == best:
                        dirty = True
            self._best_bid = best
            self._bid_dirty = dirty
        else:
            side = self._asks
            best = self._best_ask
            dirty = self._ask_dirty
            for p, s in levels:
                if s > 0.0:
                    side[p] = s
                    if p < best:
                        best = p
                elif p in side:
                    del side[p]
                    if p == best:
                        dirty = True
            self._best_ask = best
            self._ask_dirty = dirty
        if len(side) > self.max_levels + (self.max_levels >> 2):
            self._trim(is_bid)
        self._touch(ts)

    def apply_update(self, bids: Iterable[tuple[float, float]], asks: Iterable[tuple[float, float]],
                     ts: int) -> None:
        """One depth frame: both sides, counted once in `updates`."""
        self.apply_levels(True, bids, ts)
        self.apply_levels(False, asks, ts)
        self.updates += 1

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
        self._bid_dirty = True
        self._ask_dirty = True

    def _touch(self, ts: int) -> None:
        self.down = False
        if ts > self.ts:
            self.ts = ts
        self.received = time.monotonic()

    def _trim(self, is_bid: bool) -> None:
        side = self._bids if is_bid else self._asks
        if len(side) <= self.max_levels:
            return
        keep = (heapq.nlargest if is_bid else heapq.nsmallest)(self.max_levels, side)
        if is_bid:
            self._bids = {p: side[p] for p in keep}
            self._bid_dirty = True
        else:
            self._asks = {p: side[p] for p in keep}
            self._ask_dirty = True

    # -- reading ---------------------------------------------------------------------------
    def best_bid(self) -> float:
        if not self._bids:
            self._best_bid = -math.inf
            self._bid_dirty = False
            return NAN
        if self._bid_dirty:
            self._best_bid = max(self._bids)
            self._bid_dirty = False
        return self._best_bid

    def best_ask(self) -> float:
        if not self._asks:
            self._best_ask = math.inf
            self._ask_dirty = False
            return NAN
        if self._ask_dirty:
            self._best_ask = min(self._asks)
            self._ask_dirty = False
        return self._best_ask

    def crossed(self) -> bool:
        """Best bid at or above best ask: a corrupted book (never true on an empty side)."""
        return bool(self._bids) and bool(self._asks) and self.best_bid() >= self.best_ask()

    def top(self, n: int) -> tuple[list[tuple[float, float]], list[tuple[float, float]]]:
        """The best n levels a side: bids descending, asks ascending."""
        bids = self._bids
        asks = self._asks
        return ([(p, bids[p]) for p in heapq.nlargest(n, bids)],
                [(p, asks[p]) for p in heapq.nsmallest(n, asks)])

    def size_at(self, is_bid: bool, price: float) -> float:
        return (self._bids if is_bid else self._asks).get(price, 0.0)

    def depth(self) -> tuple[int, int]:
        """Number of levels (bids, asks)."""
        return len(self._bids), len(self._asks)

    def status(self, now_monotonic: float, stale_s: float) -> str:
        """"waiting" before the first snapshot, "resyncing" after a gap until the next snapshot and
        after a dropped connection until data flows again,
        "stale" when synced but nothing applied for stale_s seconds, else "live"."""
        if not self.synced:
            return "resyncing" if self.snapshots or self.gaps else "waiting"
        if self.down:
            return "resyncing"
        if now_monotonic - self.received > stale_s:
            return "stale"
        return "live"
