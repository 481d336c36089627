"""The engine: every number in analytics.md, fed by normalized events, read through snapshots.

Time is the exchanges' time: the newest exchange timestamp seen, advanced in live mode by
``tick(now_ms)`` so a quiet market still empties its windows and closes its bars. Work that does
not need to happen per trade (alerts, window roll-over, finished prints) runs once per second of
exchange time, so replay and live give the same answers.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from orderflow_tui.config import EngineSettings
from orderflow_tui.engine.analysis import divergence, flow_table, pressure
from orderflow_tui.engine.flow import RollingFlow
from orderflow_tui.engine.footprint import Bar, FootprintSeries
from orderflow_tui.engine.liquidations import LiquidationBook
from orderflow_tui.engine.market import MarketState
from orderflow_tui.engine.profile import merge_levels
from orderflow_tui.events import IdOnly, Liquidation, Trade
from orderflow_tui.instruments import default_row_size
from orderflow_tui.venues import CONTIGUOUS_ID_VENUES

CVD_HISTORY = 900  # one point per second with trades: 15 minutes of sparkline


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
    """Everything aggregated over one underlying's markets."""

    def __init__(self, name: str, s: EngineSettings, step: float, ref_price: float, setting: str):
        self.name = name
        self.step = step
        self.footprint = FootprintSeries(setting, step, ref_price, s.footprint_bars)
        self.closed_profile: dict = {}  # rows of every closed bar: the session profile without the live bar
        self.markets: list[MarketState] = []
        self.buy_q = self.sell_q = self.buy_b = self.sell_b = 0.0
        self.session_day = -1
        self.flow: dict[str, RollingFlow] = {}
        self.venue_session: dict[str, list[float]] = {}  # venue -> [buy_q, sell_q]
        self.sec = -1
        self.cvd_history: deque[tuple[int, float]] = deque(maxlen=CVD_HISTORY)
        self.whales: deque[Print] = deque(maxlen=s.whale_list_size)
        self.book = LiquidationBook(name, s, step)
        self.last_price = ref_price
        # alert edge state: alert when a condition starts, not every second it holds
        self.pressure_extreme = ""
        self.flow_imbalanced: set[str] = set()
        self.divergence_bar = -1

    @property
    def cvd_quote(self) -> float:
        return self.buy_q - self.sell_q

    @property
    def cvd_base(self) -> float:
        return self.buy_b - self.sell_b


class Engine:
    def __init__(self, settings: EngineSettings | None = None, *, report_tf: str | None = None,
                 report_step: float | None = None, venues_tracked: int = 0, collect_facts: bool = False):
        self.s = settings or EngineSettings()
        self.markets: dict[str, MarketState] = {}
        self.groups: dict[str, GroupState] = {}
        self.report_tf = report_tf
        self.report_step = report_step
        self.venues_tracked = venues_tracked
        self.now = 0  # newest exchange time seen, ms
        self.alerts: deque[Alert] = deque(maxlen=self.s.alert_log_size)
        self.alerts_total = 0
        # finished facts for the store; None when nobody consumes them (bounded memory)
        self.facts: deque | None = deque() if collect_facts else None
        self.liquidations_seen = 0

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

    def on_trade(self, t: Trade) -> None:
        m = self.markets.get(t.market)
        if m is None:
            m = self._add_market(t.market, t.venue, t.symbol, t.price)
        if not m.accept_id(t.trade_id):
            return
        ts = t.ts
        qty = t.qty
        quote = t.quote
        price = t.price
        is_buy = t.is_buy
        m.trades += 1
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
        if ts == m.p_ts and is_buy == m.p_buy and self.s.merge_prints:
            m.p_qty += qty
            m.p_quote += quote
            m.p_px += price * qty
            m.p_n += 1
        else:
            if m.p_n and m.p_quote >= self.s.large_print:
                self._print(m)
            m.p_ts = ts
            m.p_buy = is_buy
            m.p_qty = qty
            m.p_quote = quote
            m.p_px = price * qty
            m.p_n = 1
        if m.footprint is not None:
            m.footprint.add(ts, price, qty, is_buy)
        g = m.g
        if ts // 1000 > g.sec:
            if ts > self.now:
                self.now = ts
            self._second(g, ts // 1000)
        if is_buy:
            g.buy_q += quote
            g.buy_b += qty
            m.flow.buy_q += quote
            m.flow.buy_b += qty
            m.venue_session[0] += quote
        else:
            g.sell_q += quote
            g.sell_b += qty
            m.flow.sell_q += quote
            m.flow.sell_b += qty
            m.venue_session[1] += quote
        g.last_price = price
        closed = g.footprint.add(ts, price, qty, is_buy)
        if closed is not None:
            self._bar_closed(g, closed)

    def on_liquidation(self, liq: Liquidation) -> None:
        m = self.markets.get(liq.market)
        if m is None:
            m = self._add_market(liq.market, liq.venue, liq.symbol, liq.price)
        side = m.liq["long" if liq.is_long else "short"]
        side[0] += 1
        side[1] += liq.qty
        side[2] += liq.quote
        self.liquidations_seen += 1
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

    def tick(self, now_ms: int) -> None:
        """Advance the clock without a trade (live mode): windows empty, bars and cascades close."""
        if now_ms <= self.now:
            return
        self.now = now_ms
        sec = now_ms // 1000
        for g in self.groups.values():
            if sec > g.sec:
                self._second(g, sec)
            fp = g.footprint
            bar = fp.current
            if bar is not None and fp.tf and now_ms >= bar.open_ts + fp.tf:
                fp.current = None
                self._bar_closed(g, bar)

    def finish(self) -> None:
        """End of input: complete pending prints (replay)."""
        for m in self.markets.values():
            if m.p_n and m.p_quote >= self.s.large_print:
                self._print(m)
            m.p_n = 0

    # ---- internals -----------------------------------------------------------------------

    def _add_market(self, market: str, venue: str, symbol: str, price: float) -> MarketState:
        m = MarketState(market, venue, symbol, venue in CONTIGUOUS_ID_VENUES)
        m.first_ts = 1 << 62
        m.last_ts = -1
        g = self.groups.get(m.group)
        if g is None:
            step = self.s.row_size.get(m.group) or default_row_size(m.group, price)
            g = self.groups[m.group] = GroupState(m.group, self.s, step, price, self.s.footprint_tf)
        m.g = g
        m.flow = g.flow.setdefault(venue, RollingFlow(self.s.rolling_window_s))
        m.venue_session = g.venue_session.setdefault(venue, [0.0, 0.0])
        g.markets.append(m)
        if self.report_tf is not None:
            step = self.report_step or g.step
            m.footprint = FootprintSeries(self.report_tf, step, price, self.s.footprint_bars, keep_all=True)
        self.markets[market] = m
        return m

    def _second(self, g: GroupState, sec: int) -> None:
        """Once per second of exchange time: roll windows, finish prints, evaluate alerts."""
        g.sec = sec
        for flow in g.flow.values():
            flow.roll(sec)
        now = sec * 1000
        if self.s.session == "utc-day" and now // 86_400_000 != g.session_day:
            if g.session_day >= 0:
                g.buy_q = g.sell_q = g.buy_b = g.sell_b = 0.0
                for v in g.venue_session.values():
                    v[0] = v[1] = 0.0
            g.session_day = now // 86_400_000
        g.cvd_history.append((sec, g.buy_q - g.sell_q))
        for m in g.markets:
            if m.p_n and m.p_ts < now:
                if m.p_quote >= self.s.large_print:
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

    def _bar_closed(self, g: GroupState, bar: Bar) -> None:
        merge_levels(g.closed_profile, bar.levels)
        if self.facts is not None:
            self.facts.append(("bar", g.name, g.footprint.setting, bar))
        bars = list(g.footprint.bars)
        if g.footprint.current is not None and bars and bars[-1] is g.footprint.current:
            bars.pop()
        found = divergence(bars, g.footprint.cvd_by_bar()[: len(bars)], self.s.divergence_bars)
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
        venues, _ = flow_table(g)
        hot = {v.venue for v in venues if v.dominance > s.flow_dominance_alert and abs(v.net_pct) > s.flow_net_alert}
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

