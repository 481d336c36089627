"""Engine state: per market (session totals, trade-id continuity, duplicate filtering) and per group.

Both live here so that the engine imports its state and the state imports nothing of the engine.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from orderflow_tui.config import EngineSettings
from orderflow_tui.engine.analysis import divergence
from orderflow_tui.engine.flow import RollingFlow
from orderflow_tui.engine.footprint import Bar, FootprintSeries, PriceGrid, merge_bars, parse_bar_setting
from orderflow_tui.engine.liquidations import LiquidationBook
from orderflow_tui.instruments import default_row_size, group_of

CVD_HISTORY = 900  # one point per second: 15 minutes of sparkline
CVD_MINUTES = 1440  # one point per minute: the session's last 24 h of CVD and price (longer: the store's hours)
DAY_MS = 86_400_000

RECENT_IDS = 4096  # ids remembered per market to drop replays after reconnects and backlogs
GAP_RANGES = 256  # open gaps remembered per market, so late fills are recognized


class MarketState:
    def __init__(self, market: str, venue: str, symbol: str, contiguous: bool):
        self.market = market
        self.venue = venue
        self.symbol = symbol
        self.group = group_of(venue, symbol)
        self.contiguous = contiguous
        self.trades = 0
        self.buy_base: float = 0.0
        self.sell_base: float = 0.0
        self.buy_quote: float = 0.0
        self.sell_quote: float = 0.0
        self.first_ts = 1 << 62  # min / max exchange time of the trades
        self.last_ts = -1
        self.last_price = 0.0
        self.last_id = -2  # contiguous ids: the last one; -2 = none seen yet (never an id minus one)
        self.missing = 0
        self.gaps: deque[list[int]] = deque(maxlen=GAP_RANGES)  # [first, last] missing ids
        self.duplicates = 0
        self.seen: set = set()
        self.seen_order: deque = deque()
        # [count, base, quote] for liquidated longs and shorts
        self.liq: dict[str, list] = {"long": [0, 0.0, 0.0], "short": [0, 0.0, 0.0]}
        # the base FootprintSeries (the report's, or 1m on the group's rows), and another bar
        # setting or row size the trader chose, when not the base; both set by the engine
        self.footprint: FootprintSeries = None  # type: ignore[assignment]
        self.view: FootprintSeries | None = None
        self.p_ts = -1  # the print being merged: same taker side, same exchange ms
        self.p_buy = False
        self.p_qty: float = 0.0
        self.p_quote: float = 0.0
        self.p_px: float = 0.0
        self.p_n = 0
        self.g: GroupState = None  # type: ignore[assignment]  # the GroupState, and the venue's RollingFlow in it
        self.flow: RollingFlow = None  # type: ignore[assignment]

    def accept_id(self, tid: object, fills: int = 1) -> bool:
        """False for a trade already counted. Tracks gaps in contiguous ids. A print of n fills
        (OKX) covers ids tid-n+1 .. tid: a REST fill among them is a duplicate, and so is the
        message when its last fill was already counted from REST."""
        if tid is None:
            return True  # nothing to check by
        if self.contiguous and isinstance(tid, int):
            last = self.last_id
            if last == -2 or tid == last + 1:
                self.last_id = tid
                return True
            if tid > last:
                self.missing += tid - last - 1
                self.gaps.append([last + 1, tid - 1])
                self.last_id = tid
                return True
            return self._fill(tid)
        seen = self.seen
        if tid in seen:
            self.duplicates += 1
            return False
        order = self.seen_order
        if fills > 1 and isinstance(tid, int):
            for i in range(tid - fills + 1, tid + 1):
                seen.add(i)
                order.append(i)
        else:
            seen.add(tid)
            order.append(tid)
        while len(order) > RECENT_IDS:
            seen.discard(order.popleft())
        return True

    def expect_id(self, tid: int) -> bool:
        """The venue says its newest id is ``tid`` (a Coinbase heartbeat): the ids after the last
        one counted, up to it, are a gap now, filled like any other. True when one opened."""
        last = self.last_id
        if not self.contiguous or last == -2 or tid <= last:
            return False
        self.missing += tid - last
        self.gaps.append([last + 1, tid])
        self.last_id = tid
        return True

    def _fill(self, tid: int) -> bool:
        """An id below the last one: a late fill of a known gap, or a duplicate."""
        for gap in self.gaps:
            lo, hi = gap
            if lo <= tid <= hi:
                self.missing -= 1
                if lo == hi:
                    self.gaps.remove(gap)
                elif tid == lo:
                    gap[0] = tid + 1
                elif tid == hi:
                    gap[1] = tid - 1
                else:  # split the gap around the filled id
                    gap[1] = tid - 1
                    self.gaps.append([tid + 1, hi])
                return True
        self.duplicates += 1
        return False

    @property
    def cvd_base(self) -> float:
        return self.buy_base - self.sell_base

    @property
    def cvd_quote(self) -> float:
        return self.buy_quote - self.sell_quote


@dataclass(frozen=True)
class Print:
    """A taker order: same market, side and millisecond merged (sum of size, VWAP price)."""

    ts: int
    market: str
    venue: str
    symbol: str
    is_buy: bool
    qty: float
    price: float
    quote: float
    fills: int
    tier: str  # large, whale, mega


class GroupState:
    """One underlying across venues: what is aggregated, and the state of its alerts."""

    def __init__(self, name: str, s: EngineSettings, step: float, ref_price: float, setting: str):
        self.name = name
        self.step = step
        self.grid = PriceGrid(step, ref_price)  # shared by the group's markets so their rows line up
        kind, _ = parse_bar_setting(setting)
        # volume and trade-count bars cannot be summed from per-market bars: built for the group
        self.footprint = None if kind == "time" else FootprintSeries(setting, self.grid, s.footprint_bars)
        self.view_setting, self.view_step, self.view_grid = setting, step, self.grid  # what the views show
        self.closed_profile: dict = {}  # rows of every closed bar of the session (profile minus live bars)
        self.markets: list[MarketState] = []
        self.daily = s.session == "utc-day"
        self.session_start = 0  # ms; with utc-day, 00:00 UTC of the current day
        self.baseline: dict[str, tuple] = {}  # market -> totals at the session start (utc-day)
        self.flow: dict[str, RollingFlow] = {}
        self.sec = -1
        self.next_sec_ms = 0  # first ms of the next second: per-second work runs when a trade reaches it
        self.cvd_history: deque[tuple[int, float]] = deque(maxlen=CVD_HISTORY)
        # (minute, CVD quote, last price) at the end of each minute with data, the newest still moving
        self.cvd_minutes: deque[tuple[int, float, float]] = deque(maxlen=CVD_MINUTES)
        self.whales: deque[Print] = deque(maxlen=s.whale_list_size)
        # clusters use the bucket of analytics.md §5, one per group, fixed at the group's first price
        bucket = s.liquidation_bucket.get(name) or default_row_size(name, ref_price)
        self.book = LiquidationBook(name, s, bucket, ref_price)
        # alert edge state: alert when a condition starts, not every second it holds
        self.pressure_extreme = ""
        self.flow_imbalanced: set[str] = set()
        self.divergence_bar = -1

    def totals(self, venue: str | None = None) -> tuple[float, float, float, float]:
        """Session (buy quote, sell quote, buy base, sell base), for one venue or all."""
        bq = sq = bb = sb = 0.0
        for m in self.markets:
            if venue is None or m.venue == venue:
                b = self.baseline.get(m.market, (0.0, 0.0, 0.0, 0.0))
                bq += m.buy_quote - b[0]
                sq += m.sell_quote - b[1]
                bb += m.buy_base - b[2]
                sb += m.sell_base - b[3]
        return bq, sq, bb, sb

    def new_day(self, day: int) -> None:
        """utc-day session: at 00:00 UTC the CVD baseline, the session profile and the bars' CVD restart."""
        if self.session_start:
            self.baseline = {m.market: (m.buy_quote, m.sell_quote, m.buy_base, m.sell_base) for m in self.markets}
        self.session_start = day * DAY_MS
        self.closed_profile.clear()  # the same dict: the base series add their late trades to it
        for m in self.markets:
            m.footprint.session_start = self.session_start

    def before_session(self, m: MarketState, qty: float, quote: float, is_buy: bool) -> None:
        """A trade of the previous day arriving after 00:00 UTC: part of the baseline, not of the session."""
        b = self.baseline.get(m.market, (0.0, 0.0, 0.0, 0.0))
        self.baseline[m.market] = ((b[0] + quote, b[1], b[2] + qty, b[3]) if is_buy
                                   else (b[0], b[1] + quote, b[2], b[3] + qty))

    @property
    def last_price(self) -> float:
        newest = max(self.markets, key=lambda m: m.last_ts, default=None)
        return newest.last_price if newest else 0.0

    def bars(self, n: int) -> tuple[list[Bar], list[float]]:
        """The last n group bars shown (oldest first, strictly by open time) and the CVD (base) at each."""
        if self.footprint is not None:
            return self.footprint.last_bars(n), self.footprint.cvd_by_bar(n)
        return merge_bars(self.series(), n)

    def series(self) -> list[FootprintSeries]:
        """The series whose bars are shown: the group's own, or each market's."""
        if self.footprint is not None:
            return [self.footprint]
        return [m.view or m.footprint for m in self.markets]

    def closed_flags(self, bars: list[Bar], now: int) -> list[bool]:
        """Which bars are closed: a volume or trade-count bar once the next one opened; a time bar once
        the exchange clock passed its end, or no market still takes trades into it (merged bars are
        new objects, so closedness is decided by time, never by identity)."""
        if self.footprint is not None:
            cur = self.footprint.current
            return [b is not cur for b in bars]
        series = self.series()
        tf = series[0].tf
        opens = [x.current.open_ts for x in series if x.current is not None]
        return [b.open_ts + tf <= now or all(o > b.open_ts for o in opens) for b in bars]

    def closed_divergence(self, now: int, n: int) -> tuple[str, int]:
        """Divergence over the last n closed bars, and the open time of the newest closed bar."""
        bars, cvds = self.bars(n + 1)
        flags = self.closed_flags(bars, now)
        keep = [i for i in range(len(bars)) if flags[i]]
        found = divergence([bars[i] for i in keep], [cvds[i] for i in keep], n)
        return found, bars[keep[-1]].open_ts if keep else -1

    def live_levels(self) -> list[dict]:
        """Rows of the session's base bars still open (the closed ones are in closed_profile)."""
        return [m.footprint.current.levels for m in self.markets
                if m.footprint.current is not None and m.footprint.current.open_ts >= self.session_start]
