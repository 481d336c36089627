"""The heatmap's history: a bounded time × price ring of one group's books, sampled once a second.

Each column is one sample: the resting size of the group's live books summed per price row (rows of
the group's base step, prices floored to the row as the footprint files trades), the taker volume traded per row since the previous sample, the liquidations of that
interval, the last price and how many books were live. ``rows`` rows are kept around the mid of
each sample (the view follows the price; a coarser row size sums fine rows when drawn). Memory is
fixed: ``capacity × rows`` float32 sizes plus small sparse trade and liquidation lists.

No Textual here: the UI asks ``window()`` for the cells it draws.
"""

from __future__ import annotations

import math

import numpy as np

BOOK_LEVELS = 1000  # levels a side read from each book per sample (Binance's REST depth)


def fine_rows(levels, scale: float, step_ticks: int) -> tuple[np.ndarray, np.ndarray]:
    """(row numbers, sizes) of a book side's (price, size) levels, each price floored to its row as
    the footprint files trades, so that the traded volume and the resting size of a row line up."""
    if not levels:
        return np.empty(0, np.int64), np.empty(0, np.float64)
    arr = np.asarray(levels, dtype=np.float64)
    ticks = np.floor(arr[:, 0] * scale + 0.5).astype(np.int64)
    return ticks // step_ticks, arr[:, 1]


class TradeTape:
    """Taker volume per base row since the last call, read from the markets' own footprint bars
    (no per-trade hook: the bars already hold volume per row; we keep what we saw last time)."""

    def __init__(self) -> None:
        self.seen: dict[str, tuple[int, dict[int, tuple[float, float]]]] = {}  # market -> (bar open, row -> (bid, ask))

    def take(self, markets, step_ticks: int) -> dict[int, list[float]]:
        """row number -> [buy volume, sell volume] (base coin) traded since the previous call."""
        out: dict[int, list[float]] = {}

        def add(row_ticks: int, dbid: float, dask: float) -> None:
            if dbid <= 1e-12 and dask <= 1e-12:
                return
            cell = out.get(row_ticks // step_ticks)
            if cell is None:
                out[row_ticks // step_ticks] = [max(0.0, dask), max(0.0, dbid)]
            else:
                cell[0] += max(0.0, dask)
                cell[1] += max(0.0, dbid)

        for m in markets:
            fp = m.footprint
            bar = fp.current if fp is not None else None
            prev_open, prev = self.seen.get(m.market, (None, {}))
            if prev_open is not None and (bar is None or bar.open_ts != prev_open):
                # the bar we read last time closed: what it gained since, from its closed copy
                old = next((b for b in reversed(fp.bars) if b.open_ts == prev_open), None) if fp is not None else None
                if old is not None:
                    for r, lv in old.levels.items():
                        pb, pa = prev.get(r, (0.0, 0.0))
                        add(r, lv.bid - pb, lv.ask - pa)
                prev = {}
            if bar is None:
                self.seen.pop(m.market, None)
                continue
            now = {}
            for r, lv in bar.levels.items():
                pb, pa = prev.get(r, (0.0, 0.0))
                if lv.bid != pb or lv.ask != pa:
                    add(r, lv.bid - pb, lv.ask - pa)
                now[r] = (lv.bid, lv.ask)
            self.seen[m.market] = (bar.open_ts, now)
        return out


class HeatmapRing:
    def __init__(self, scale: float, step_ticks: int, capacity: int = 3600, rows: int = 400) -> None:
        self.scale = scale
        self.step_ticks = step_ticks
        self.step = step_ticks / scale
        self.capacity = capacity
        self.rows = rows
        # filled, not np.zeros: zeros are mapped lazily and the RSS would grow as the ring fills;
        # the memory is taken at once and stays flat
        self.sizes = np.full((capacity, rows), 0.0, np.float32)
        self.base = np.zeros(capacity, np.int64)  # row number of index 0, per column
        self.sec = np.zeros(capacity, np.int64)
        self.last = np.zeros(capacity, np.float64)
        self.live = np.zeros(capacity, np.int8)  # books live at the sample (0: nothing to show)
        self.trades: list = [None] * capacity  # per column: {row: (buy, sell)} or None
        self.liqs: list = [None] * capacity  # per column: ((price, quote, is_long), ...) or None
        self.count = 0  # columns ever added; column i lives at slot i % capacity
        self.version = 0

    def __len__(self) -> int:
        return min(self.count, self.capacity)

    def row_of(self, price: float) -> int:
        return int(math.floor(price * self.scale + 0.5)) // self.step_ticks

    def add(self, sec: int, mid: float, last: float, bids, asks, live: int, trades: dict, liqs: tuple) -> None:
        """One column. ``bids`` / ``asks``: (row numbers, sizes) arrays of every live book (or empty)."""
        slot = self.count % self.capacity
        col = self.sizes[slot]
        col[:] = 0.0
        centre = self.row_of(mid if mid == mid and mid > 0 else last)
        base = centre - self.rows // 2
        for rows, sizes in (*bids, *asks):
            idx = rows - base
            keep = (idx >= 0) & (idx < self.rows)
            if keep.any():
                np.add.at(col, idx[keep], sizes[keep])
        self.base[slot] = base
        self.sec[slot] = sec
        self.last[slot] = last
        self.live[slot] = live
        self.trades[slot] = {r: (b, s) for r, (b, s) in trades.items()} if trades else None
        self.liqs[slot] = liqs or None
        self.count += 1
        self.version += 1

    def slots(self, end: int, n: int) -> list[int]:
        """The ring slots of the ``n`` columns ending ``end`` columns before the newest (oldest first)."""
        have = len(self)
        last = self.count - 1 - max(0, min(end, have - 1))
        first = max(self.count - have, last - n + 1)
        return [i % self.capacity for i in range(first, last + 1)] if self.count else []

    def window(self, slots: list[int], top: int, n_rows: int, k: int) -> np.ndarray:
        """Resting size per cell: ``len(slots)`` columns × ``n_rows`` rows of ``k`` base rows each,
        row 0 the coarse row ``top`` (coarse row R = base rows R·k .. R·k+k-1), going down.
        NaN where the column did not store that price (outside its window, or no live book)."""
        if not slots:
            return np.zeros((0, n_rows), np.float32)
        s = np.asarray(slots)
        cs = np.zeros((len(s), self.rows + 1), np.float64)
        np.cumsum(self.sizes[s], axis=1, out=cs[:, 1:])
        lo_fine = (top - np.arange(n_rows)) * k  # first base row of each coarse row
        start = lo_fine[None, :] - self.base[s][:, None]
        end = start + k
        a = np.clip(start, 0, self.rows)
        b = np.clip(end, 0, self.rows)
        out = np.take_along_axis(cs, b, axis=1) - np.take_along_axis(cs, a, axis=1)
        out[(b <= a) | (self.live[s] == 0)[:, None]] = np.nan
        return out
