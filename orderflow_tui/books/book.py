"""One market's local L2 book (issue 21).

Each side is a ``Side`` (books/side.py, in C): prices and sizes as sorted doubles in chunks, the
touch last, so a depth frame's levels are applied in one C loop with no Python object per level,
the best price is O(1) and ``top(n)`` a slice (the UI asks a few times a second, never per
message). Memory is bounded: a side that grows past ``max_levels`` (Binance diffs add levels far
from the touch forever) drops its farthest levels. Compiled with mypyc (setup.py).

The sync state machines (books/sync.py) decide when a book is synced; this class only keeps the
levels and the counters the replay report prints (contract §2b).
"""

from __future__ import annotations

import math
import time
from typing import Any

from orderflow_tui.books.side import Side, checksum

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
        self._bids: Any = Side(True)
        self._asks: Any = Side(False)

    # -- writing ---------------------------------------------------------------------------
    def apply_snapshot(self, bids: Any, asks: Any, ts: int) -> None:
        """Replace the whole book; the book is synced afterwards. Every snapshot after the first
        counts as a resync (contract §2b)."""
        if self.snapshots:
            self.resyncs += 1
        self.snapshots += 1
        self.replace(bids, asks, ts)

    def replace(self, bids: Any, asks: Any, ts: int) -> None:
        """Replace the whole book without counting a resync (Hyperliquid: every frame is whole)."""
        self._bids.replace(bids)
        self._asks.replace(asks)
        self._bids.trim(self.max_levels)
        self._asks.trim(self.max_levels)
        self.synced = True
        self._touch(ts)

    def apply_levels(self, is_bid: bool, levels: Any, ts: int) -> None:
        """Absolute sizes per price; size 0 removes the level (removing an absent level is legal)."""
        self._apply(self._bids if is_bid else self._asks, levels)
        self._touch(ts)

    def apply_update(self, bids: Any, asks: Any, ts: int) -> None:
        """One depth frame: both sides, counted once in `updates`."""
        self._apply(self._bids, bids)
        self._apply(self._asks, asks)
        self.updates += 1
        self._touch(ts)

    def _apply(self, side: Any, levels: Any) -> None:
        side.apply(levels)
        if len(side) > self.max_levels + (self.max_levels >> 2):  # trimmed now and then, not per frame
            side.trim(self.max_levels)

    def keep_texts(self) -> None:
        """From now on (the book is empty) each level's text as sent is kept: Bitget's checksum."""
        self._bids = Side(True, True)
        self._asks = Side(False, True)

    def mark_gap(self) -> None:
        """A sequence break, checksum mismatch or crossed book: not synced until a new snapshot."""
        self.synced = False
        self.gaps += 1

    def link_lost(self) -> None:
        """The connection carrying this book dropped: shown as "resyncing" until the next update
        arrives (the sync machine decides from the frames whether the book still holds)."""
        self.down = True

    def clear(self) -> None:
        self._bids.clear()
        self._asks.clear()

    def _touch(self, ts: int) -> None:
        self.down = False
        if ts > self.ts:
            self.ts = ts
        self.received = time.monotonic()

    # -- reading ---------------------------------------------------------------------------
    def best_bid(self) -> float:
        return float(self._bids.best())

    def best_ask(self) -> float:
        return float(self._asks.best())

    def crossed(self) -> bool:
        """Best bid at or above best ask: a corrupted book (never true on an empty side)."""
        return self.best_bid() >= self.best_ask()  # NaN compares false

    def top(self, n: int) -> tuple[list[tuple[float, float]], list[tuple[float, float]]]:
        """The best n levels a side: bids descending, asks ascending."""
        return self._bids.top(n), self._asks.top(n)

    def size_at(self, is_bid: bool, price: float) -> float:
        return float((self._bids if is_bid else self._asks).size_at(price))

    def depth(self) -> tuple[int, int]:
        """Number of levels (bids, asks)."""
        return len(self._bids), len(self._asks)

    def checksum(self, n: int) -> int:
        """Bitget's signed CRC32 of the best n bids and asks interleaved, as sent (keep_texts)."""
        return int(checksum(self._bids, self._asks, n))

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
