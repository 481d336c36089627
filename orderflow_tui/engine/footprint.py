"""Footprint bars (analytics.md §6): rows in integer ticks, POC, value area, imbalances.

The per-trade path (``FootprintSeries.add``) does a few dict and float operations; everything
derived (POC, value area, imbalances, markers) is computed when a bar is read, not per trade.
"""

from __future__ import annotations

import math
from collections import deque

DAY_MS = 86_400_000
TIMEFRAMES_MS = {"1m": 60_000, "5m": 300_000, "15m": 900_000, "1h": 3_600_000,
                 "4h": 14_400_000, "1d": 86_400_000}


def parse_bar_setting(text: str) -> tuple[str, float]:
    """'1m'..'1d' -> ('time', ms); 'vol:50' -> ('volume', 50 base); 'ticks:500' -> ('ticks', 500)."""
    if text in TIMEFRAMES_MS:
        return "time", TIMEFRAMES_MS[text]
    kind, _, n = text.partition(":")
    if kind in ("vol", "ticks"):
        try:
            size = float(n)
        except ValueError:
            size = 0.0
        if size > 0 and (kind == "vol" or size == int(size)):
            return ("volume", size) if kind == "vol" else ("ticks", int(size))
    raise ValueError(f"{text!r} is not a bar setting (1m 5m 15m 1h 4h 1d, vol:N, ticks:N)")


class PriceGrid:
    """Prices as integers of 10**-k so that ``floor(price / step)`` never suffers float error."""

    def __init__(self, step: float, ref_price: float):
        if not step > 0:
            raise ValueError("row step must be positive")
        int_digits = max(1, int(math.log10(ref_price)) + 1) if ref_price >= 1 else 1
        step_decimals = max(0, -math.floor(math.log10(step) + 1e-9)) + 1
        k = max(step_decimals, min(12, 14 - int_digits))
        self.step = step
        self.scale = 10.0**k
        self.step_ticks = max(1, round(step * self.scale))

    def row(self, price: float) -> int:
        ticks = int(price * self.scale + 0.5)
        return ticks - ticks % self.step_ticks

    def price(self, row: int) -> float:
        return row / self.scale

    def ticks(self, price: float) -> int:
        return int(price * self.scale + 0.5)


class Level:
    """One footprint row: taker sells (bid) and taker buys (ask) in the base coin, and trades."""

    __slots__ = ("bid", "ask", "trades")

    def __init__(self, bid: float = 0.0, ask: float = 0.0, trades: int = 0) -> None:
        self.bid = bid
        self.ask = ask
        self.trades = trades

    def add(self, other: Level) -> None:
        self.bid += other.bid
        self.ask += other.ask
        self.trades += other.trades

    def as_tuple(self) -> tuple[float, float, int]:
        return self.bid, self.ask, self.trades

    def __repr__(self) -> str:
        return f"Level({self.bid!r}, {self.ask!r}, {self.trades})"


class Bar:
    __slots__ = ("open_ts", "first_ts", "last_ts", "open", "high", "low", "close", "bid", "ask", "trades", "levels")

    def __init__(self, open_ts: int, price: float, first_ts: int | None = None):
        self.open_ts = open_ts
        self.first_ts = self.last_ts = open_ts if first_ts is None else first_ts
        self.open = self.high = self.low = self.close = price
        self.bid = 0.0  # taker sells, base
        self.ask = 0.0  # taker buys, base
        self.trades = 0
        self.levels: dict[int, Level] = {}  # row ticks -> its Level

    @property
    def volume(self) -> float:
        return self.bid + self.ask

    @property
    def delta(self) -> float:
        return self.ask - self.bid


class FootprintSeries:
    """Bars of one bar setting and one row step; at most ``max_bars`` kept (older drop off)."""

    def __init__(self, setting: str, grid: PriceGrid, max_bars: int = 500, keep_all: bool = False):
        self.setting = setting
        self.kind, self.size = parse_bar_setting(setting)
        self.tf = int(self.size) if self.kind == "time" else 0
        self.grid = grid
        self.scale = grid.scale
        self.step_ticks = grid.step_ticks
        self.bar_end = 0  # the live time bar takes trades with ts < bar_end
        self.max_bars = max_bars
        self.bars: deque[Bar] = deque(maxlen=max_bars)
        self.current: Bar | None = None
        self.dropped_delta = 0.0  # delta of bars that fell off, so CVD still runs from the session start
        self.dropped_day = -1  # UTC day of the newest bar that fell off
        self.daily = False  # session = utc-day: the bars' CVD restarts at each 00:00 UTC
        self.session_start = 0  # ms: trades before it are not the session's (utc-day)
        # the group's session profile, for a base series: a trade into a bar that already closed
        # (a venue a few ms late) goes there too, as the bar's other rows went when it closed
        self.profile: dict[int, Level] | None = None
        self.history: list[Bar] | None = [] if keep_all else None  # every bar, for the replay report
        # CVD at the close of bars[i] for i < len(_cvd), never the newest bar (it still changes): a
        # call of cvd_by_bar costs the bars opened since the previous one, not all that are kept (a
        # sparse capture closes a bar with each trade). A late trade into an older bar clears it.
        self._cvd: deque[float] = deque()

    def add(self, ts: int, price: float, qty: float, is_buy: bool, fills: int = 1) -> Bar | None:
        """Add one trade (``fills`` venue fills); returns the bar this trade closed, if any."""
        bar = self.current
        closed = None
        if bar is None or ts >= self.bar_end or (ts < bar.open_ts and self.tf):
            closed, bar = self._switch(bar, ts, price)
        elif price > bar.high:
            bar.high = price
        elif price < bar.low:
            bar.low = price
        if ts >= bar.last_ts:
            bar.close = price
            bar.last_ts = ts
        elif ts < bar.first_ts:
            bar.open = price
            bar.first_ts = ts
        bar.trades += fills
        ticks = int(price * self.scale + 0.5)
        row = ticks - ticks % self.step_ticks
        lv = bar.levels.get(row)
        if lv is None:
            bar.levels[row] = lv = Level()
        if is_buy:
            lv.ask += qty
            bar.ask += qty
        else:
            lv.bid += qty
            bar.bid += qty
        lv.trades += fills
        if bar is not self.current and self.profile is not None and bar.open_ts >= self.session_start:
            self._late_row(row, qty, is_buy, fills)
        if not self.tf and (bar.trades >= self.size if self.kind == "ticks" else bar.ask + bar.bid >= self.size):
            self.current = None
            return bar
        return closed

    def _switch(self, bar: Bar | None, ts: int, price: float) -> tuple[Bar | None, Bar]:
        """The trade falls outside the live bar: open the next one, or find the earlier one it belongs to."""
        bars = self.bars
        if not self.tf:
            # volume / trade-count bars follow arrival; a bar's key (open_ts) is its first trade's time,
            # kept strictly after the previous bar's so bars stay ordered with unique keys whatever
            # the venues' interleaving (a late trade or several bars in one ms)
            open_ts = ts if not bars or ts > bars[-1].open_ts else bars[-1].open_ts + 1
            return None, self._open(open_ts, price, ts)
        open_ts = ts - ts % self.tf
        if bars and open_ts <= bars[-1].open_ts:  # an earlier bar, or the last one after it closed
            late = self._late(open_ts, price, ts)
            if price > late.high:
                late.high = price
            elif price < late.low:
                late.low = price
            return None, late
        return bar, self._open(open_ts, price, ts)

    def _late_row(self, row: int, qty: float, is_buy: bool, fills: int) -> None:
        profile = self.profile
        assert profile is not None
        lv = profile.get(row)
        if lv is None:
            profile[row] = lv = Level()
        if is_buy:
            lv.ask += qty
        else:
            lv.bid += qty
        lv.trades += fills

    def close_current(self) -> Bar | None:
        """Close the live bar (the clock passed its end with no trade)."""
        bar, self.current = self.current, None
        self.bar_end = 0
        return bar

    def _open(self, open_ts: int, price: float, ts: int) -> Bar:
        bar = Bar(open_ts, price, ts)
        if len(self.bars) == self.max_bars:
            gone = self.bars[0]
            day = gone.open_ts // DAY_MS
            if self.daily and day != self.dropped_day:
                self.dropped_delta = 0.0
            self.dropped_day = day
            self.dropped_delta += gone.delta
            if self._cvd:  # the same sums from the new first bar on: dropped_delta took gone's
                self._cvd.popleft()
        self.bars.append(bar)
        self.current = bar
        self.bar_end = open_ts + self.tf if self.tf else 1 << 62
        if self.history is not None:
            self.history.append(bar)
        return bar

    def _late(self, open_ts: int, price: float, ts: int) -> Bar:
        """A trade for an earlier bar (venues interleave by a few ms): find it, or insert it in order."""
        self._cvd.clear()
        for bar in reversed(self.bars):
            if bar.open_ts == open_ts:
                return bar
            if bar.open_ts < open_ts:
                break
        bar = Bar(open_ts, price, ts)
        bar.last_ts = -1  # its close comes from whatever trade is latest inside it
        at = next((i for i, b in enumerate(self.bars) if b.open_ts > open_ts), len(self.bars))
        if len(self.bars) < self.max_bars:
            self.bars.insert(at, bar)
        if self.history is not None:
            at = next((i for i in range(len(self.history) - 1, -1, -1) if self.history[i].open_ts < open_ts), -1)
            self.history.insert(at + 1, bar)
        return bar

    def seed_from(self, base: "FootprintSeries") -> None:
        """Rebuild history from a finer time series (5m from 1m bars, 20-wide rows from 10)."""
        for b in base.bars:
            open_ts = b.open_ts - b.open_ts % self.tf
            bar = self.current
            if bar is None or bar.open_ts != open_ts:
                bar = self._open(open_ts, b.open, b.first_ts)
                bar.high, bar.low = b.high, b.low
            bar.high, bar.low = max(bar.high, b.high), min(bar.low, b.low)
            if b.last_ts >= bar.last_ts:
                bar.close, bar.last_ts = b.close, b.last_ts
            bar.bid += b.bid
            bar.ask += b.ask
            bar.trades += b.trades
            for row, level in b.levels.items():
                r = self.grid.row(base.grid.price(row))
                lv = bar.levels.get(r)
                if lv is None:
                    bar.levels[r] = Level(level.bid, level.ask, level.trades)
                else:
                    lv.add(level)
        self.dropped_delta, self.dropped_day, self.daily = base.dropped_delta, base.dropped_day, base.daily
        self._cvd.clear()
        if self.current is not None and base.current is None:
            self.close_current()

    def cvd_by_bar(self, last: int = 0) -> list[float]:
        """CVD at the close of each retained bar (of the newest ``last`` when given), running from the
        session start (utc-day: restarting with the first bar of each UTC day)."""
        bars, cache, daily = self.bars, self._cvd, self.daily
        n, k = len(bars), len(self._cvd)
        if k:
            cvd, day = cache[k - 1], bars[k - 1].open_ts // DAY_MS
        else:
            cvd, day = self.dropped_delta, self.dropped_day
        for i in range(k, n):
            bar = bars[i]
            if daily and bar.open_ts // DAY_MS != day:
                cvd, day = 0.0, bar.open_ts // DAY_MS
            cvd += bar.delta
            if i < n - 1:
                cache.append(cvd)
        first = max(0, n - last) if last > 0 else 0
        out = [cache[i] for i in range(first, n - 1)]
        if n:
            out.append(cvd)
        return out

    def last_bars(self, last: int) -> list[Bar]:
        """The newest ``last`` bars, oldest first (without copying all that are kept)."""
        bars = self.bars
        return [bars[i] for i in range(max(0, len(bars) - last), len(bars))]


# ---- read-side analysis: pure functions of a bar's rows ------------------------------------


# Every ratio and threshold is decided on volumes rounded to 9 decimals (venues quote at most 8):
# 0.05 summed three times is 0.15000000000000002 and 3 x 0.15 is 0.44999999999999996 in floats, so
# unrounded, a ratio hit exactly would count or not at random.
def exact(x: float) -> float:
    return round(x, 9)


def _vol(lv: Level) -> float:
    return round(lv.bid + lv.ask, 9)  # rounded so that equal decimal volumes tie exactly


def poc_row(levels: dict[int, Level], high_ticks: int, low_ticks: int, step_ticks: int) -> int | None:
    """Largest bid+ask; ties: nearest the middle of high and low, then the lower row."""
    best = None
    mid2 = high_ticks + low_ticks
    for row, lv in levels.items():
        key = (_vol(lv), -abs(2 * row + step_ticks - mid2), -row)
        if best is None or key > best[0]:
            best = (key, row)
    return None if best is None else best[1]


def value_area(levels: dict[int, Level], poc: int, step_ticks: int, pct: float = 70.0) -> tuple[int, int]:
    """(VAL, VAH) rows: grow from the POC by the larger of the next two rows above / below."""
    vols = {row: _vol(lv) for row, lv in levels.items()}
    total = exact(sum(vols.values()))
    target = exact(total * pct / 100.0)
    lo = hi = poc
    low_edge, high_edge = min(levels), max(levels)
    area = vols[poc]
    while area < target and (lo > low_edge or hi < high_edge):
        above = [r for r in (hi + step_ticks, hi + 2 * step_ticks) if r <= high_edge]
        below = [r for r in (lo - step_ticks, lo - 2 * step_ticks) if r >= low_edge]
        up = exact(sum(vols.get(r, 0.0) for r in above))
        down = exact(sum(vols.get(r, 0.0) for r in below))
        if above and (up >= down or not below):
            hi = above[-1]
            area = exact(area + up)
        else:
            lo = below[-1]
            area = exact(area + down)
    return lo, hi


def imbalances(levels: dict[int, Level], step_ticks: int, ratio: float, min_volume: float) -> tuple[set, set]:
    """Diagonal imbalances: (buy rows, sell rows). A missing opposite row counts as zero."""
    buys, sells = set(), set()
    for row, lv in levels.items():
        bid, ask = exact(lv.bid), exact(lv.ask)
        if ask > 0 and ask >= min_volume:
            below = levels.get(row - step_ticks)
            if ask >= exact(ratio * (exact(below.bid) if below is not None else 0.0)):
                buys.add(row)
        if bid > 0 and bid >= min_volume:
            above = levels.get(row + step_ticks)
            if bid >= exact(ratio * (exact(above.ask) if above is not None else 0.0)):
                sells.add(row)
    return buys, sells


def stacked_runs(rows: set, step_ticks: int, min_rows: int = 3) -> list[tuple[int, int]]:
    """(lowest, highest) of each run of >= min_rows consecutive rows."""
    runs: list[tuple[int, int]] = []
    ordered = sorted(rows)
    if not ordered:
        return runs
    start = prev = ordered[0]
    for row in ordered[1:]:
        if row == prev + step_ticks:
            prev = row
            continue
        if (prev - start) // step_ticks + 1 >= min_rows:
            runs.append((start, prev))
        start = prev = row
    if (prev - start) // step_ticks + 1 >= min_rows:
        runs.append((start, prev))
    return runs


def bar_marker(bid: float, ask: float, ratio: float = 3.0) -> str:
    """'buy' or 'sell' when one side outweighs the other more than ``ratio`` times, else ''."""
    bid, ask = exact(bid), exact(ask)
    if ask > 0 and ask > exact(ratio * bid):
        return "buy"
    if bid > 0 and bid > exact(ratio * ask):
        return "sell"
    return ""


def exhaustion(levels: dict[int, Level]) -> str:
    """'low' (no sellers left at the low), 'high' (no buyers at the high), 'both' or ''."""
    if not levels:
        return ""
    low, high = levels[min(levels)], levels[max(levels)]
    at_low, at_high = exact(low.bid) == 0, exact(high.ask) == 0
    return "both" if at_low and at_high else "low" if at_low else "high" if at_high else ""


def is_absorption(bar: Bar, previous: list[Bar], volume_ratio=2.0, body_pct=25.0) -> bool:
    if not previous:
        return False
    vols = sorted(exact(b.bid + b.ask) for b in previous)
    n = len(vols)
    median = vols[n // 2] if n % 2 else exact((vols[n // 2 - 1] + vols[n // 2]) / 2)
    body = exact(abs(bar.close - bar.open))
    return (exact(bar.bid + bar.ask) >= exact(volume_ratio * median)
            and body <= exact(body_pct / 100 * exact(bar.high - bar.low)))


def merge_levels(into: dict[int, Level], levels: dict[int, Level]) -> dict[int, Level]:
    """Add one bar's (or profile's) rows into another."""
    for row, level in levels.items():
        lv = into.get(row)
        if lv is None:
            into[row] = Level(level.bid, level.ask, level.trades)
        else:
            lv.add(level)
    return into


def merge_bars(series_list, n: int) -> tuple[list[Bar], list[float]]:
    """The last ``n`` time bars of several markets on one grid, summed per open time (so strictly
    ordered, one bar per open time), with the CVD at each: the sum of every market's CVD at its
    latest bar up to then (utc-day: 0 for a market with no bar yet that day). Open and close come
    from the earliest and the latest trade across the markets."""
    if len(series_list) == 1:
        s = series_list[0]
        return s.last_bars(n), s.cvd_by_bar(n)
    opens = sorted({b.open_ts for s in series_list for b in s.bars})[-n:]
    if not opens:
        return [], []
    merged: dict[int, Bar] = {}
    cvd_at = [0.0] * len(opens)
    index = {t: i for i, t in enumerate(opens)}
    for s in series_list:
        daily = s.daily
        last_cvd, last_day, j = s.dropped_delta, s.dropped_day, 0
        for bar, cvd in zip(s.bars, s.cvd_by_bar()):
            if bar.open_ts >= opens[0]:
                j = _carry(cvd_at, opens, j, index[bar.open_ts], last_cvd, last_day, daily)
                m = merged.get(bar.open_ts)
                if m is None:
                    m = merged[bar.open_ts] = Bar(bar.open_ts, bar.open, bar.first_ts)
                    m.high, m.low = bar.high, bar.low
                    m.close, m.last_ts = bar.close, bar.last_ts
                else:
                    m.high, m.low = max(m.high, bar.high), min(m.low, bar.low)
                    if bar.first_ts < m.first_ts:
                        m.open, m.first_ts = bar.open, bar.first_ts
                    if bar.last_ts > m.last_ts:
                        m.close, m.last_ts = bar.close, bar.last_ts
                m.bid += bar.bid
                m.ask += bar.ask
                m.trades += bar.trades
                merge_levels(m.levels, bar.levels)
            last_cvd, last_day = cvd, bar.open_ts // DAY_MS
        _carry(cvd_at, opens, j, len(opens), last_cvd, last_day, daily)
    return [merged[t] for t in opens], cvd_at


def _carry(cvd_at: list[float], opens: list[int], j: int, upto: int, cvd: float, day: int, daily: bool) -> int:
    """Add a market's CVD to the merged bars from j up to ``upto`` (where its next bar is)."""
    while j < upto:
        if not daily or opens[j] // DAY_MS == day:
            cvd_at[j] += cvd
        j += 1
    return j
