"""Per-venue book sync state machines: each venue's documented procedure, fed by Depth events.

A machine is pure state: the same Depth events (frames, and the REST snapshots a capture keeps as
"k": "book" lines) give the same book, live or replayed. What it needs from the network it says in
``want`` (FETCH a REST snapshot, RESUBSCRIBE for an in-band one); the live connection reads that,
acts within the venue's REST limits and resets it (feeds/connection.py). A replay ignores it.

- ``updates``: depth frames applied; ``gaps``: sequence breaks, checksum mismatches, crossed books;
  ``resyncs``: snapshots after the first (contract.md §2b). After a gap the book is not synced
  (status "resyncing") until the next snapshot; its levels stay as they were (never shown as live).
"""

from __future__ import annotations

import zlib
from collections import deque
from heapq import nlargest, nsmallest
from typing import Any

from orderflow_tui.books.book import L2Book
from orderflow_tui.events import DELTA, REST_BOOK, SAMPLE, SNAPSHOT, WHOLE, Depth

NONE = 0
FETCH = 1        # a REST snapshot is needed (Binance, OKX without an in-band snapshot)
RESUBSCRIBE = 2  # unsubscribe + subscribe: the venue sends a fresh snapshot in band
BUFFER_MAX = 2000  # deltas kept while a REST snapshot is on its way (oldest dropped first)


class BookSync:
    """The venues with an in-band snapshot and no sequence to check (Coinbase): snapshot, then
    deltas; nothing is applied between a gap and the next snapshot."""

    on_gap = RESUBSCRIBE

    def __init__(self, book: L2Book) -> None:
        self.book = book
        self.want = NONE

    def on_depth(self, d: Depth) -> None:
        kind = d.kind
        if kind == DELTA:
            self.delta(d)
        elif kind == SNAPSHOT:
            self.snapshot(d)
        elif kind == REST_BOOK:
            self.rest(d)
        elif kind == WHOLE:
            self.book.replace(d.bids, d.asks, d.ts)
            self.book.updates += 1
        elif kind == SAMPLE:  # a viewer's book: the collector's, as sampled, synced or not
            self.book.replace(d.bids, d.asks, d.ts)
            self.book.synced = d.first == 1
            self.book.updates += 1

    def snapshot(self, d: Depth) -> None:
        self.book.apply_snapshot(d.bids, d.asks, d.ts)
        self.book.updates += 1
        self.want = NONE

    def delta(self, d: Depth) -> None:
        if self.book.synced:
            self.apply(d)

    def rest(self, d: Depth) -> None:
        self.book.apply_snapshot(d.bids, d.asks, d.ts)
        self.want = NONE

    def apply(self, d: Depth) -> bool:
        """Apply a delta; a crossed book after it is a gap."""
        book = self.book
        book.apply_update(d.bids, d.asks, d.ts)
        if book.crossed():
            self.gap()
            return False
        return True

    def gap(self) -> None:
        self.book.mark_gap()
        self.want = self.on_gap


class BybitSync(BookSync):
    """orderbook.N: a snapshot (also a re-sent one, and any message with u = 1: a service restart)
    replaces the book; a delta must carry u = previous u + 1; an older u is a repeat, ignored."""

    def __init__(self, book: L2Book) -> None:
        super().__init__(book)
        self.last = -1

    def snapshot(self, d: Depth) -> None:
        super().snapshot(d)
        self.last = d.last

    def delta(self, d: Depth) -> None:
        if d.last == 1:
            self.snapshot(d)
        elif not self.book.synced or d.last <= self.last:
            return
        elif d.last != self.last + 1:
            self.gap()
        elif self.apply(d):
            self.last = d.last


class _Bridged(BookSync):
    """A REST snapshot spliced into the stream (Binance; OKX without an in-band snapshot): deltas are
    buffered until a snapshot comes, those older than it dropped; a snapshot older than the oldest
    buffered delta is refetched with the buffer kept; the first delta applied must straddle the
    snapshot, every later one must chain to the previous."""

    on_gap = FETCH

    def __init__(self, book: L2Book) -> None:
        super().__init__(book)
        self.buffer: deque[Depth] = deque(maxlen=BUFFER_MAX)
        self.last = -1          # sequence of the last applied delta
        self.snap_id = -1       # the snapshot's sequence, until the first delta is applied
        self.bridged = False    # the first delta after the snapshot was applied

    # the venue's rules, on its fields
    def stale(self, d: Depth, snap: int) -> bool:      # older than the snapshot: drop
        raise NotImplementedError

    def straddles(self, d: Depth, snap: int) -> bool:  # may be the first delta applied
        raise NotImplementedError

    def chains(self, d: Depth) -> bool:                # follows the previous delta
        raise NotImplementedError

    def delta(self, d: Depth) -> None:
        if not self.book.synced:
            self.buffer.append(d)
            if self.want == NONE:
                self.want = FETCH
            return
        if self.bridged:
            if self.chains(d):
                if self.apply(d):
                    self.last = d.last
                return
        elif self.stale(d, self.snap_id):
            return
        elif self.straddles(d, self.snap_id):
            if self.apply(d):
                self.last = d.last
                self.bridged = True
            return
        self.gap()
        self.buffer.append(d)  # the delta that broke the chain is the first one kept

    def gap(self) -> None:
        super().gap()
        self.buffer.clear()

    def rest(self, d: Depth) -> None:
        snap = d.last
        kept = [e for e in self.buffer if not self.stale(e, snap)]
        if kept and not self.straddles(kept[0], snap):
            # the snapshot is older than the buffer: fetch again, keeping the buffer
            self.buffer = deque(kept, maxlen=BUFFER_MAX)
            self.want = FETCH
            return
        self.book.apply_snapshot(d.bids, d.asks, d.ts)
        self.want = NONE
        self.snap_id = snap
        self.bridged = False
        self.buffer.clear()
        for e in kept:
            self.delta(e)


class BinanceSync(_Bridged):
    """USD-M "How to manage a local order book correctly": drop u < lastUpdateId; the first event has
    U <= lastUpdateId <= u (or U = lastUpdateId + 1); then each pu == the previous u."""

    def stale(self, d: Depth, snap: int) -> bool:
        return d.last < snap

    def straddles(self, d: Depth, snap: int) -> bool:
        # the documented U <= lastUpdateId <= u, and the event that starts right after the snapshot
        # (U = lastUpdateId + 1): it continues the book exactly, refetching would loop
        return d.first <= snap + 1 and snap <= d.last

    def chains(self, d: Depth) -> bool:
        return d.prev == self.last


class OkxSync(_Bridged):
    """books: an in-band snapshot (prevSeqId -1) replaces the book; each update's prevSeqId must be
    the previous seqId (a heartbeat repeats it; after maintenance seqId may go down and the chain
    goes on). A break resubscribes. Without an in-band snapshot, the REST bootstrap: drop
    seqId <= snapshot seqId, the first kept has prevSeqId <= snapshot seqId < seqId."""

    on_gap = RESUBSCRIBE

    def snapshot(self, d: Depth) -> None:
        super().snapshot(d)
        self.last = d.last
        self.bridged = True
        self.buffer.clear()

    def delta(self, d: Depth) -> None:
        if not self.book.synced:
            # an in-band snapshot normally comes first: fetch one over REST only from the second delta on
            self.buffer.append(d)
            if len(self.buffer) >= 2 and self.want == NONE:
                self.want = FETCH
            return
        super().delta(d)

    def stale(self, d: Depth, snap: int) -> bool:
        return d.last <= snap

    def straddles(self, d: Depth, snap: int) -> bool:
        return d.prev <= snap < d.last

    def chains(self, d: Depth) -> bool:
        return d.prev == self.last


CHECKSUM_LEVELS = 25


def bitget_checksum(bids: dict[Any, Any], asks: dict[Any, Any]) -> int:
    """Signed CRC32 of the first 25 bids and asks interleaved, as the venue sent the strings, over
    dicts price -> (price text, size text): the simulated venue signs its pushes with it, apart
    from the client's own (L2Book.checksum, in C)."""
    top_b = nlargest(CHECKSUM_LEVELS, bids)
    top_a = nsmallest(CHECKSUM_LEVELS, asks)
    parts = []
    for i in range(max(len(top_b), len(top_a))):
        if i < len(top_b):
            ps, ss = bids[top_b[i]]
            parts.append(ps + ":" + ss)
        if i < len(top_a):
            ps, ss = asks[top_a[i]]
            parts.append(ps + ":" + ss)
    crc = zlib.crc32(":".join(parts).encode())
    return crc - (1 << 32) if crc >= 1 << 31 else crc


class BitgetSync(BookSync):
    """books: snapshot, then updates whose pseq is the previous seq, each carrying the CRC32 of the
    top 25 levels after it is applied (0: none given). A break or a mismatch resubscribes; the book
    is rebuilt from the new snapshot, never kept across (the poisoned-book bug, ccxt #21997). The
    book keeps each level's text as sent: the checksum is over those ("0.5000" is not "0.5")."""

    def __init__(self, book: L2Book) -> None:
        super().__init__(book)
        self.last = -1
        book.keep_texts()

    def snapshot(self, d: Depth) -> None:
        super().snapshot(d)
        self.last = d.last
        if d.checksum and self.book.checksum(CHECKSUM_LEVELS) != d.checksum:
            self.gap()

    def delta(self, d: Depth) -> None:
        if not self.book.synced:
            return
        if d.prev != self.last:
            self.gap()
            return
        if not self.apply(d):
            return
        self.last = d.last
        if d.checksum and self.book.checksum(CHECKSUM_LEVELS) != d.checksum:
            self.gap()


SYNCS = {"binance": BinanceSync, "bybit": BybitSync, "okx": OkxSync, "bitget": BitgetSync}


def make_sync(book: L2Book) -> BookSync:
    """The machine for the book's venue (Coinbase and Hyperliquid: the plain one)."""
    return SYNCS.get(book.venue, BookSync)(book)
