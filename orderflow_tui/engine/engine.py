"""The engine: every number in analytics.md, fed by normalized events, read through snapshots.

Time is the exchanges' time: the newest exchange timestamp seen, advanced in live mode by
``tick(now_ms)`` so a quiet market still empties its windows and closes its bars. Work that does
not need to happen per trade (alerts, window roll-over, finished prints) runs once per second of
exchange time, so replay and live give the same answers.

Per trade, only the market's own state is touched: totals, id continuity, the print being merged,
the venue's rolling flow and the market's footprint bar. Group figures (totals, CVD, group bars,
profiles) are sums over the group's markets, made when a view or an alert reads them.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from orderflow_tui.config import EngineSettings
from orderflow_tui.engine.analysis import divergence, flow_table, pressure
from orderflow_tui.engine.flow import RollingFlow
from orderflow_tui.engine.footprint import Bar, FootprintSeries, PriceGrid, merge_bars, merge_levels, parse_bar_setting
from orderflow_tui.engine.liquidations import LiquidationBook
from orderflow_tui.engine.market import MarketState
from orderflow_tui.engine.context import ContextBook
from orderflow_tui.events import Context, IdOnly, Liquidation, Trade
from orderflow_tui.instruments import default_row_size, nice_step
from orderflow_tui.venues import CONTIGUOUS_ID_VENUES

CVD_HISTORY = 900  # one point per second: 15 minutes of sparkline


def _multiple(step: float, base: float) -> bool:
    ratio = step / base
    return ratio >= 1 and abs(ratio - round(ratio)) < 1e-9


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


@dataclass(frozen=True)
class Alert:
    ts: int
    severity: str  # info, warning, high
    kind: str
    text: str


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
        self.closed_profile: dict = {}  # rows of every closed bar (session profile minus live bars)
        self.markets: list[MarketState] = []
        self.baseline: dict[str, tuple] = {}  # market -> totals at the last session reset (utc-day)
        self.session_day = -1
        self.flow: dict[str, RollingFlow] = {}
        self.sec = -1
        self.next_sec_ms = 0  # first ms of the next second: per-second work runs when a trade reaches it
        self.cvd_history: deque[tuple[int, float]] = deque(maxlen=CVD_HISTORY)
        self.whales: deque[Print] = deque(maxlen=s.whale_list_size)
        self.book = LiquidationBook(name, s, step)
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

    @property
    def last_price(self) -> float:
        newest = max(self.markets, key=lambda m: m.last_ts, default=None)
        return newest.last_price if newest else 0.0

    def bars(self, n: int) -> tuple[list[Bar], list[float]]:
        """The last n group bars shown (oldest first) and the CVD (base) at each."""
        if self.footprint is not None:
            return list(self.footprint.bars)[-n:], self.footprint.cvd_by_bar()[-n:]
        return merge_bars([m.view or m.footprint for m in self.markets], n)

    def series(self) -> list[FootprintSeries]:
        """The series whose bars are shown: the group's own, or each market's."""
        if self.footprint is not None:
            return [self.footprint]
        return [m.view or m.footprint for m in self.markets]

    def live_levels(self) -> list[dict]:
        """Rows of the base bars still open (the closed ones are in closed_profile)."""
        return [m.footprint.current.levels for m in self.markets if m.footprint.current is not None]


class Engine:
    def __init__(self, settings: EngineSettings | None = None, *, report_tf: str | None = None,
                 report_step: float | None = None, venues_tracked: int = 0, collect_facts: bool = False,
                 row_divisor: float = 1.0):
        self.s = settings or EngineSettings()
        self.merge_prints = self.s.merge_prints
        self.large_print = self.s.large_print
        self.markets: dict[str, MarketState] = {}
        self.groups: dict[str, GroupState] = {}
        # the headless report asks for its own bar setting and row size on every market
        self.bar_setting = report_tf or self.s.footprint_tf
        self.report_step = report_step
        self.keep_all_bars = report_tf is not None
        # the dashboard keeps rows finer than the default (1/10): coarser row sizes then rebuild
        # from history; the replay report uses the group's row size itself
        self.row_divisor = row_divisor
        self.venues_tracked = venues_tracked
        self.now = 0  # newest exchange time seen, ms
        self.alerts: deque[Alert] = deque(maxlen=self.s.alert_log_size)
        self.alerts_total = 0
        # finished facts for the store; None when nobody consumes them (bounded memory)
        self.facts: deque | None = deque() if collect_facts else None
        self.context = ContextBook()  # open interest and funding: not on the per-trade path

    # ---- input ---------------------------------------------------------------------------

    def on_events(self, events) -> None:
        on_trade = self.on_trade
        for ev in events:
            if type(ev) is Trade:
                on_trade(ev)
            elif type(ev) is Liquidation:
                self.on_liquidation(ev)
            elif type(ev) is IdOnly:
                m = self.markets.get(ev.market)
                if m is not None:
                    m.accept_id(ev.trade_id)
            elif type(ev) is Context:
                self.context.on(ev)

    def on_trade(self, t: Trade) -> None:
        m = self.markets.get(t.market)
        if m is None:
            m = self._add_market(t.market, t.venue, t.symbol, t.price)
        tid = t.trade_id
        if m.contiguous and isinstance(tid, int) and tid == m.last_id + 1:
            m.last_id = tid  # the common case, inline
        elif not m.accept_id(tid, t.fills):
            return
        ts = t.ts
        qty = t.qty
        quote = t.quote
        price = t.price
        is_buy = t.is_buy
        fills = t.fills
        m.trades += fills
        if is_buy:
            m.buy_base += qty
            m.buy_quote += quote
        else:
            m.sell_base += qty
            m.sell_quote += quote
        if ts > m.last_ts:
            m.last_ts = ts
        if ts < m.first_ts:
            m.first_ts = ts
        m.last_price = price
        # prints: consecutive trades, same side, same exchange millisecond
        if ts == m.p_ts and is_buy == m.p_buy and self.merge_prints:
            m.p_qty += qty
            m.p_quote += quote
            m.p_px += price * qty
            m.p_n += fills
        else:
            if m.p_n and m.p_quote >= self.large_print:
                self._print(m)
            m.p_ts = ts
            m.p_buy = is_buy
            m.p_qty = qty
            m.p_quote = quote
            m.p_px = price * qty
            m.p_n = fills
        g = m.g
        if ts >= g.next_sec_ms:
            if ts > self.now:
                self.now = ts
            self._second(g, ts // 1000)
        flow = m.flow
        if is_buy:
            flow.buy_q += quote
            flow.buy_b += qty
        else:
            flow.sell_q += quote
            flow.sell_b += qty
        closed = m.footprint.add(ts, price, qty, is_buy, fills)
        if closed is not None:
            self._bar_closed(g, m.footprint, closed)
        if m.view is not None:
            m.view.add(ts, price, qty, is_buy, fills)
        if g.footprint is not None:
            closed = g.footprint.add(ts, price, qty, is_buy, fills)
            if closed is not None:
                self._bar_closed(g, g.footprint, closed)

    def on_liquidation(self, liq: Liquidation) -> None:
        m = self.markets.get(liq.market)
        if m is None:
            m = self._add_market(liq.market, liq.venue, liq.symbol, liq.price)
        side = m.liq["long" if liq.is_long else "short"]
        side[0] += 1
        side[1] += liq.qty
        side[2] += liq.quote
        if liq.ts > self.now:
            self.now = liq.ts
        g = m.g
        if self.facts is not None:
            self.facts.append(("liquidation", liq))
        if liq.quote >= self.s.institutional:
            self._alert(liq.ts, "warning", "institutional",
                        f"Institutional {liq.position} liquidation {liq.venue} {liq.symbol} "
                        f"${liq.quote:,.0f} @ {liq.price:g}")
        for kind, cascade in g.book.add(liq):
            self._cascade_fact(g, kind, cascade)

    def set_footprint(self, group: str, setting: str, step: float | None = None) -> bool:
        """Show another bar setting or row size for a group. Time settings made of whole base bars
        (5m from 1m, a step that is a multiple of the base step) start with the history the base
        bars hold; others start empty. Returns True when history was rebuilt."""
        g = self.groups.get(group)
        if g is None:
            return False
        kind, size = parse_bar_setting(setting)
        step = step or g.step
        grid = PriceGrid(step, max(m.last_price for m in g.markets))
        base = g.markets[0].footprint
        same = setting == base.setting and abs(step - g.step) < 1e-12
        g.view_setting, g.view_step = setting, step
        if kind != "time":
            g.footprint = FootprintSeries(setting, grid, self.s.footprint_bars)
            for m in g.markets:
                m.view = None
            g.view_grid = grid
            return False
        g.footprint = None
        rebuilt = False
        for m in g.markets:
            if same:
                m.view = None
                continue
            m.view = FootprintSeries(setting, grid, self.s.footprint_bars)
            if base.tf and size % base.tf == 0 and _multiple(step, g.step):
                m.view.seed_from(m.footprint)
                rebuilt = True
        g.view_grid = g.grid if same else grid
        return rebuilt

    def tick(self, now_ms: int) -> None:
        """Advance the clock without a trade (live mode): windows empty, bars and cascades close."""
        if now_ms <= self.now:
            return
        self.now = now_ms
        for g in self.groups.values():
            if now_ms >= g.next_sec_ms:
                self._second(g, now_ms // 1000)
            for m in g.markets:
                fp = m.footprint
                bar = fp.current
                if bar is not None and fp.tf and now_ms >= bar.open_ts + fp.tf:
                    fp.close_current()
                    self._bar_closed(g, fp, bar)
                v = m.view
                if v is not None and v.current is not None and now_ms >= v.current.open_ts + v.tf:
                    v.close_current()

    def finish(self) -> None:
        """End of input: complete the prints being merged (replay)."""
        for m in self.markets.values():
            if m.p_n and m.p_quote >= self.large_print:
                self._print(m)
            m.p_n = 0

    # ---- internals -----------------------------------------------------------------------

    def _add_market(self, market: str, venue: str, symbol: str, price: float) -> MarketState:
        m = MarketState(market, venue, symbol, venue in CONTIGUOUS_ID_VENUES)
        g = self.groups.get(m.group)
        if g is None:
            step = self.report_step or self.s.row_size.get(m.group) or (
                nice_step(default_row_size(m.group, price) / self.row_divisor))
            g = self.groups[m.group] = GroupState(m.group, self.s, step, price, self.bar_setting)
        m.g = g
        flow = g.flow.get(venue)
        if flow is None:
            flow = g.flow[venue] = RollingFlow(self.s.rolling_window_s)
            flow.roll(max(g.sec, 0))  # a venue joining mid-second starts in the group's second
        m.flow = flow
        setting = self.bar_setting if g.footprint is None else "1m"
        m.footprint = FootprintSeries(setting, g.grid, self.s.footprint_bars, keep_all=self.keep_all_bars)
        g.markets.append(m)
        self.markets[market] = m
        return m

    def _second(self, g: GroupState, sec: int) -> None:
        """Once per second of exchange time: roll windows, finish prints, evaluate alerts."""
        g.sec = sec
        g.next_sec_ms = (sec + 1) * 1000
        now = sec * 1000
        for flow in g.flow.values():
            flow.roll(sec)
        if self.s.session == "utc-day" and now // 86_400_000 != g.session_day:
            if g.session_day >= 0:
                g.baseline = {m.market: (m.buy_quote, m.sell_quote, m.buy_base, m.sell_base) for m in g.markets}
            g.session_day = now // 86_400_000
        bq, sq, _, _ = g.totals()
        g.cvd_history.append((sec, bq - sq))
        for m in g.markets:
            if m.p_n and m.p_ts < now:
                if m.p_quote >= self.large_print:
                    self._print(m)
                m.p_n = 0
        for kind, cascade in g.book.advance(now):
            self._cascade_fact(g, kind, cascade)
        self._flow_alerts(g, now)

    def _print(self, m: MarketState) -> None:
        s = self.s
        quote = m.p_quote
        tier = "mega" if quote >= s.mega_whale_print else "whale" if quote >= s.whale_print else "large"
        p = Print(m.p_ts, m.market, m.venue, m.symbol, m.p_buy, m.p_qty, m.p_px / m.p_qty, quote, m.p_n, tier)
        m.p_n = 0
        m.g.whales.append(p)
        if tier != "large":
            side = "BUY" if p.is_buy else "SELL"
            self._alert(p.ts, "high" if tier == "mega" else "warning", tier,
                        f"{'Mega whale' if tier == 'mega' else 'Whale'} {side} {m.venue} {m.symbol} "
                        f"${quote:,.0f} @ {p.price:g}")

    def _bar_closed(self, g: GroupState, series: FootprintSeries, bar: Bar) -> None:
        if series is not g.footprint:
            merge_levels(g.closed_profile, bar.levels)
        if self.facts is not None:
            self.facts.append(("bar", g.name, series.setting, bar))
        n = self.s.divergence_bars
        bars, cvds = g.bars(n + 1)
        closed = [(b, c) for b, c in zip(bars, cvds) if b.open_ts <= bar.open_ts]
        found = divergence([b for b, _ in closed], [c for _, c in closed], n)
        if found and g.divergence_bar != bar.open_ts:
            g.divergence_bar = bar.open_ts
            self._alert(bar.last_ts, "info", "divergence", f"{g.name}: {found} CVD divergence")

    def _flow_alerts(self, g: GroupState, now: int) -> None:
        s = self.s
        p = pressure(g, s)
        extreme = p.dominant if p.strength == "extreme" else ""
        if extreme and extreme != g.pressure_extreme:
            self._alert(now, "warning", "pressure", f"{g.name}: extreme {extreme} pressure ({p.net:+.1f} net)")
        g.pressure_extreme = extreme
        venues, _ = flow_table(g, s.flow_dominance_alert, s.flow_net_alert)
        hot = {v.venue for v in venues if v.imbalanced}
        for v in venues:
            if v.venue in hot and v.venue not in g.flow_imbalanced:
                self._alert(now, "warning", "flow",
                            f"{g.name}: {v.venue} flow imbalance, {v.dominance:.0f}% of volume, net {v.net_pct:+.0f}%")
        g.flow_imbalanced = hot

    def _cascade_fact(self, g: GroupState, kind: str, cascade) -> None:
        cascade.score(self.now, self.venues_tracked or len(g.flow) or 1)
        if kind == "cascade_start":
            cross = " cross-exchange" if cascade.cross_exchange else ""
            self._alert(cascade.start_ts, "high", "cascade",
                        f"{g.name}:{cross} liquidation cascade, {cascade.count} liquidations "
                        f"${cascade.quote:,.0f}, risk {cascade.risk:.2f} ({cascade.band})")
        if self.facts is not None:
            self.facts.append((kind, cascade))

    def _alert(self, ts: int, severity: str, kind: str, text: str) -> None:
        self.alerts.append(Alert(ts, severity, kind, text))
        self.alerts_total += 1
