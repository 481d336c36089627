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

from orderflow_tui.books.book import L2Book
from orderflow_tui.books.sync import BookSync, make_sync
from orderflow_tui.config import EngineSettings
from orderflow_tui.engine.context import ContextBook
from orderflow_tui.engine.flow import RollingFlow, net_pct
from orderflow_tui.engine.footprint import Bar, FootprintSeries, PriceGrid, merge_levels, parse_bar_setting
from orderflow_tui.engine.levels import LevelWatch
from orderflow_tui.engine.liquidations import band_rank
from orderflow_tui.engine.market import DAY_MS, GroupState, MarketState, Print
from orderflow_tui.events import Context, Depth, IdOnly, Liquidation, Trade
from orderflow_tui.instruments import default_row_size, group_of, nice_step
from orderflow_tui.venues import CONTIGUOUS_ID_VENUES

__all__ = ["Alert", "Engine", "GroupState", "MarketState", "Print"]


def _multiple(step: float, base: float) -> bool:
    ratio = step / base
    return ratio >= 1 and abs(ratio - round(ratio)) < 1e-9


@dataclass(frozen=True)
class Alert:
    ts: int
    severity: str  # info, warning, high
    kind: str
    text: str


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
        # L2 books by market key, made on a market's first depth event; never touch a trade number
        self.books: dict[str, L2Book] = {}
        self.book_syncs: dict[str, BookSync] = {}  # each book's venue sync machine (books/sync.py)
        # alerts at price levels (engine/levels.py), once per second per group; None: off (the
        # replay report has none)
        self.levels: LevelWatch | None = None

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
            elif type(ev) is Depth:
                self.on_depth(ev)
            elif type(ev) is Context:
                self.context.on(ev, self.now)

    def on_depth(self, d: Depth) -> None:
        """A depth message or REST snapshot into its market's book, through the venue's sync
        machine. Books never touch a trade number, nor the engine's clock."""
        sync = self.book_syncs.get(d.market)
        if sync is None:
            sync = self.book_syncs[d.market] = make_sync(self.book(d.market, d.venue))
        sync.on_depth(d)

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
        g = m.g
        if ts >= g.next_sec_ms:  # first, so the second's work (a session reset) sees none of this trade
            if ts > self.now:
                self.now = ts
            self._second(g, ts // 1000)
        m.trades += fills
        if is_buy:
            m.buy_base += qty
            m.buy_quote += quote
        else:
            m.sell_base += qty
            m.sell_quote += quote
        if ts >= m.last_ts:  # the last price is the newest by exchange time, not the last to arrive
            m.last_ts = ts
            m.last_price = price
        if ts < m.first_ts:
            m.first_ts = ts
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
        flow = m.flow
        if ts < g.next_sec_ms - 1000:  # from an earlier second: a venue a few ms late
            self._late_trade(m, g, ts, qty, quote, is_buy)
        elif is_buy:
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
        book = g.book
        for kind, cascade in book.add(liq):
            self._cascade_fact(g, kind, cascade)
        c = book.active_cascade
        if c is not None:  # a new member can raise the cascade's risk band
            c.score(book.now, self.venues_tracked or len(g.flow) or 1)
            if band_rank(c.band) > band_rank(c.alerted_band):
                c.alerted_band = c.band
                self._alert(liq.ts, "high" if band_rank(c.band) >= 2 else "warning", "cascade_band",
                            f"{g.name}: liquidation cascade risk raised to {c.band} ({c.risk:.2f}), "
                            f"{c.count} liquidations ${c.quote:,.0f}")
        self._tier_alerts(g, liq.ts)

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
            g.footprint = self._series(g, setting, grid)
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
            m.view = self._series(g, setting, grid)
            if base.tf and size % base.tf == 0 and _multiple(step, g.step):
                m.view.seed_from(m.footprint)
                rebuilt = True
        g.view_grid = g.grid if same else grid
        return rebuilt

    def book(self, market: str, venue: str) -> L2Book:
        """The market's book, made on first use (the depth path's entry)."""
        b = self.books.get(market)
        if b is None:
            b = self.books[market] = L2Book(market, venue)
        return b

    def group_books(self, group: str) -> list[L2Book]:
        """The books of a group's markets, in market-key order."""
        return [b for k, b in sorted(self.books.items())
                if group_of(b.venue, k.split(":", 1)[1]) == group]

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
        m.footprint = fp = self._series(g, setting, g.grid, self.keep_all_bars)
        fp.profile = g.closed_profile  # late trades into closed bars join the session profile
        g.markets.append(m)
        self.markets[market] = m
        return m

    def _series(self, g: GroupState, setting: str, grid: PriceGrid, keep_all: bool = False) -> FootprintSeries:
        fs = FootprintSeries(setting, grid, self.s.footprint_bars, keep_all=keep_all)
        fs.daily, fs.session_start = g.daily, g.session_start
        return fs

    def _late_trade(self, m: MarketState, g: GroupState, ts: int, qty: float, quote: float, is_buy: bool) -> None:
        """A trade of an earlier second: the rolling windows place it in its own second (or leave it
        out when it is older than the window); one from before 00:00 UTC is not the new session's."""
        m.flow.add_late(ts // 1000, is_buy, quote, qty)
        if g.daily and ts < g.session_start:
            g.before_session(m, qty, quote, is_buy)

    def _second(self, g: GroupState, sec: int) -> None:
        """Once per second of exchange time: roll windows, finish prints, evaluate alerts."""
        g.sec = sec
        g.next_sec_ms = (sec + 1) * 1000
        now = sec * 1000
        for flow in g.flow.values():
            flow.roll(sec)
        if g.daily and now >= g.session_start + DAY_MS:
            g.new_day(now // DAY_MS)
        bq, sq, _, _ = g.totals()
        g.cvd_history.append((sec, bq - sq))
        minutes = g.cvd_minutes
        minute = sec // 60
        point = (minute, bq - sq, g.last_price)
        if minutes and minutes[-1][0] == minute:
            minutes[-1] = point
        else:
            minutes.append(point)
        for m in g.markets:
            if m.p_n and m.p_ts < now:
                if m.p_quote >= self.large_print:
                    self._print(m)
                m.p_n = 0
        for kind, cascade in g.book.advance(now):
            self._cascade_fact(g, kind, cascade)
        if g.book.trail_changed:
            self._tier_alerts(g, now)
        self._flow_alerts(g, now)
        if self.levels is not None:
            for severity, kind, text in self.levels.second(g, now, bq, sq):
                self._alert(now, severity, kind, text)

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
        if series is not g.footprint and bar.open_ts >= g.session_start:
            merge_levels(g.closed_profile, bar.levels)
        if self.facts is not None:
            self.facts.append(("bar", g.name, series.setting, bar))
        # closed bars only: in a group the merged bar still open is never compared
        found, newest = g.closed_divergence(self.now, self.s.divergence_bars)
        if found and g.divergence_bar != newest:
            g.divergence_bar = newest
            self._alert(bar.last_ts, "info", "divergence", f"{g.name}: {found} CVD divergence")

    def _tier_alerts(self, g: GroupState, ts: int) -> None:
        for side, tier in g.book.tier_changes():
            self._alert(ts, "high" if tier in ("MAJOR", "EXTREME") else "warning", "tier",
                        f"{g.name}: {side} liquidations {tier} tier, "
                        f"${g.book.trail_long if side == 'long' else g.book.trail_short:,.0f} in "
                        f"{self.s.tier_window_min} min")

    def _flow_alerts(self, g: GroupState, now: int) -> None:
        """Extreme pressure and flow imbalance, each second: the figures of analysis.pressure and
        analysis.flow_table over the window only (no session sums, no view objects: this runs at
        every second of exchange time)."""
        s = self.s
        window: list[tuple[str, float, float]] = []
        bq = sq = 0.0
        for venue, flow in g.flow.items():
            b, q, _, _ = flow.totals()
            window.append((venue, b, q))
            bq += b
            sq += q
        net = net_pct(bq, sq)
        extreme = ""
        if abs(net) > s.pressure_extreme:
            extreme = "neutral" if abs(net) < s.pressure_neutral else ("buy" if net > 0 else "sell")
        if extreme and extreme != g.pressure_extreme:
            self._alert(now, "warning", "pressure", f"{g.name}: extreme {extreme} pressure ({net:+.1f} net)")
        g.pressure_extreme = extreme
        total = bq + sq
        hot: set[str] = set()
        rows: list[tuple[float, str, float]] = []
        for venue, b, q in window:
            dom = round((b + q) / total * 100, 9) if total > 0 else 0.0
            vnet = net_pct(b, q)
            if dom > s.flow_dominance_alert and abs(vnet) > s.flow_net_alert:
                hot.add(venue)
                if venue not in g.flow_imbalanced:
                    rows.append((-dom, venue, vnet))
        for neg_dom, venue, vnet in sorted(rows):  # flow_table's order: dominance, then name
            self._alert(now, "warning", "flow",
                        f"{g.name}: {venue} flow imbalance, {-neg_dom:.0f}% of volume, net {vnet:+.0f}%")
        g.flow_imbalanced = hot

    def _cascade_fact(self, g: GroupState, kind: str, cascade) -> None:
        # a finished cascade is scored at its end time, not when the next event revealed the end
        at = cascade.end_ts if kind == "cascade_end" and cascade.end_ts is not None else g.book.now
        cascade.score(at, self.venues_tracked or len(g.flow) or 1)
        if kind == "cascade_start":
            cascade.alerted_band = cascade.band
            cross = " cross-exchange" if cascade.cross_exchange else ""
            self._alert(cascade.start_ts, "high", "cascade",
                        f"{g.name}:{cross} liquidation cascade, {cascade.count} liquidations "
                        f"${cascade.quote:,.0f}, risk {cascade.risk:.2f} ({cascade.band})")
        if self.facts is not None:
            self.facts.append((kind, cascade))

    def _alert(self, ts: int, severity: str, kind: str, text: str) -> None:
        self.alerts.append(Alert(ts, severity, kind, text))
        self.alerts_total += 1
