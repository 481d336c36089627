"""Immutable snapshots of a group for the views: built on demand at the UI refresh rate."""

from __future__ import annotations

from dataclasses import dataclass, replace

from orderflow_tui.engine import footprint as fpm
from orderflow_tui.engine.context import MarketView, market_view
from orderflow_tui.engine.analysis import (Pressure, VenueFlow, cvd_state, divergence, flow_table, momentum,
                                           pressure)
from orderflow_tui.engine.liquidations import Cascade
from orderflow_tui.engine.footprint import merge_levels
from orderflow_tui.engine.profile import Profile, build_profile
from orderflow_tui.engine.signal import Signal, composite, cvd_reason


@dataclass(frozen=True)
class BarView:
    open_ts: int
    open: float
    high: float
    low: float
    close: float
    bid: float
    ask: float
    delta: float
    cvd: float
    trades: int
    rows: dict  # row ticks -> (bid, ask, trades)
    poc: int | None
    val: int | None
    vah: int | None
    buy_imbalances: frozenset
    sell_imbalances: frozenset
    stacked_buy: tuple
    stacked_sell: tuple
    marker: str  # buy / sell / ''
    exhaustion: str
    absorption: bool
    closed: bool

    @property
    def volume(self) -> float:
        return self.bid + self.ask


@dataclass(frozen=True)
class LiquidationView:
    window_min: int
    long: tuple[int, float, float]  # count, base, quote
    short: tuple[int, float, float]
    by_venue: dict  # venue -> (count, base, quote, share %)
    tape: tuple  # newest first
    cascade: Cascade | None
    cascades_total: int
    tiers: dict
    clusters: tuple  # (bucket price, quote) over the window, largest first (top 10)
    bucket: float = 0.0  # the clusters' price bucket (analytics.md §5: $100 BTC, $10 ETH, else ~0.1 %)
    last_cascade: Cascade | None = None  # the latest cascade, running or finished (risk at its end)
    recent: tuple[float, float] = (0.0, 0.0)  # long, short quote over the tier window (5 min by default)
    recent_min: int = 5


@dataclass(frozen=True)
class GroupSnapshot:
    group: str
    now: int
    last_price: float
    step: float
    scale: float
    bar_setting: str
    cvd_quote: float
    cvd_base: float
    cvd_history: tuple  # (sec, cvd quote)
    net_pct: float
    cvd_direction: str
    cvd_strength: str
    cvd_reason: str
    momentum: float
    acceleration: float
    divergence: str
    pressure: Pressure
    venues: tuple[VenueFlow, ...]
    leading_venue: str
    whales: tuple
    liquidations: LiquidationView
    bars: tuple[BarView, ...]
    session_profile: Profile
    visible_profile: Profile
    signal: Signal
    alerts: tuple
    markets: tuple  # (market, trades, cvd base, cvd quote, missing ids, duplicates)

    base_scale: float = 1.0  # session-profile rows are always on the group's base grid
    market: MarketView | None = None  # open interest and funding (engine/context.py); None: no context
    session_start: int = 0  # ms: 0 = from app start; 00:00 UTC of the day with session = "utc-day"
    cvd_minutes: tuple = ()  # (minute, CVD quote, last price) per minute of the session, oldest first

    def change_pct(self, minutes: int) -> float | None:
        """Price change over the last ``minutes`` (or since the session's first minute, when younger)."""
        ring = self.cvd_minutes
        if not ring or not self.last_price:
            return None
        newest = ring[-1][0]
        then = next((p for m, _, p in ring if m >= newest - minutes), ring[0][2])
        return (self.last_price - then) / then * 100 if then else None

    def price(self, row: int) -> float:
        """Price of a footprint row (bars, visible profile)."""
        return row / self.scale


def snapshot(engine, group: str, bars: int = 30, profiles: bool = True) -> GroupSnapshot | None:
    """``profiles=False`` leaves the session and visible profiles empty (the snapshot view does not
    show them, and they are the dearest part at 5 Hz)."""
    g = engine.groups.get(group)
    if g is None:
        return None
    s = engine.s
    lookback = s.absorption_lookback
    # bars=0 (the comparison view): no bar at all, so no bar views, momentum nor divergence
    recent, cvds = g.bars(bars + lookback) if bars > 0 else ([], [])
    flags = g.closed_flags(recent, engine.now)  # by time for merged bars, never by identity
    cache = _view_cache(engine, group)
    grid = g.view_grid
    views = []
    for i in range(max(0, len(recent) - bars), len(recent)):
        b = recent[i]
        # a closed bar's view changes only if a late trade reached it: keyed by what it holds
        key = (b.open_ts, b.trades, b.bid, b.ask, cvds[i], grid.step_ticks, grid.scale, flags[i])
        hit = cache.get(b.open_ts)
        if hit is not None and hit[0] == key:
            views.append(hit[1])
            continue
        view = _bar_view(b, cvds[i], recent[max(0, i - lookback):i], grid, s, flags[i])
        if flags[i]:
            cache[b.open_ts] = (key, view)
        views.append(view)
    if len(cache) > 4 * (bars + lookback) + 64:  # bounded: drop bars no longer asked for
        keep = {b.open_ts for b in recent}
        for ts in [t for t in cache if t not in keep]:
            del cache[ts]
    views = tuple(views)
    net, direction, strength = cvd_state(g, s)
    p = pressure(g, s)
    venues, leading = flow_table(g, s.flow_dominance_alert, s.flow_net_alert)
    lead = next((v for v in venues if v.venue == leading), None)
    book = g.book
    cascade = book.active_cascade
    if cascade is not None:
        cascade.score(engine.now, engine.venues_tracked or len(g.flow) or 1)
    tiers = book.tiers()
    liq_side = ""
    if cascade is not None or any(tiers.values()):
        long_q, short_q = round(book.trail_long, 6), round(book.trail_short, 6)
        if short_q > long_q:
            liq_side = "short"
        elif long_q > short_q:
            liq_side = "long"
    bq, sq, bb, sb = g.totals()
    sig = composite(direction, strength, net, bq - sq, p.dominant, p.strength, p.buy_pct, liq_side,
                    leading, lead.net_pct if lead else 0.0, s.signal_threshold, s.flow_signal_net)
    context = market_view(engine.context, group, engine.now, book.trail_long, book.trail_short, s.oi_move_pct,
                          s.crowded_funding_apr)
    if context is not None:  # a reasoning line only: the score's weights are analytics.md's
        sig = replace(sig, reasons=sig.reasons + (context.reason,))
    session_rows: dict = {}
    visible_rows: dict = {}
    if profiles:
        merge_levels(session_rows, g.closed_profile)
        for levels in g.live_levels():
            merge_levels(session_rows, levels)
        for b in recent[-bars:]:
            merge_levels(visible_rows, b.levels)
    total_q = book.long.quote + book.short.quote
    liq = LiquidationView(
        s.liquidation_window_min,
        (book.long.count, book.long.base, book.long.quote),
        (book.short.count, book.short.base, book.short.quote),
        {v: (x.count, x.base, x.quote, x.quote / total_q * 100 if total_q else 0.0)
         for v, x in sorted(book.by_venue.items()) if x.count},
        tuple(reversed(book.tape)),
        cascade,
        book.cascades_total,
        tiers,
        tuple(sorted(book.clusters.items(), key=lambda kv: (-kv[1], kv[0]))[:10]),
        book.bucket,
        book.cascade,
        (book.trail_long, book.trail_short),
        s.tier_window_min,
    )
    closed = [b for b in views if b.closed]
    mom, acc = momentum(closed)
    closed_bars = [b for b, f in zip(recent, flags) if f]
    st = g.grid.step_ticks
    return GroupSnapshot(
        group, engine.now, g.last_price, g.view_step, g.view_grid.scale, g.view_setting, bq - sq, bb - sb,
        tuple(g.cvd_history), net, direction, strength, cvd_reason(direction, strength, net, bq - sq),
        mom, acc, divergence(closed_bars, [c for c, f in zip(cvds, flags) if f], s.divergence_bars),
        p, tuple(venues), leading, tuple(sorted(reversed(g.whales), key=lambda w: w.ts, reverse=True)), liq, views,
        build_profile(session_rows, st, s.value_area_pct, s.hvn_ratio, s.lvn_ratio),
        build_profile(visible_rows, g.view_grid.step_ticks, s.value_area_pct, s.hvn_ratio, s.lvn_ratio),
        sig, tuple(reversed(engine.alerts)),
        tuple((m.market, m.trades, m.cvd_base, m.cvd_quote, m.missing, m.duplicates) for m in g.markets),
        g.grid.scale,
        context,
        g.session_start,
        tuple(g.cvd_minutes),
    )


_CACHES: dict[int, tuple] = {}  # id(engine) -> (engine, {group: {open_ts: (what the bar held, BarView)}})


def _view_cache(engine, group: str) -> dict:
    """Views of closed bars, per engine and group (the engine is a compiled class without a
    __dict__, so the cache lives here and holds the engine, so that its id is not reused)."""
    entry = _CACHES.get(id(engine))
    if entry is None or entry[0] is not engine:
        if len(_CACHES) >= 8:
            _CACHES.clear()
        entry = _CACHES[id(engine)] = (engine, {})
    return entry[1].setdefault(group, {})


def _bar_view(bar, cvd, previous, grid, s, closed) -> BarView:
    st = grid.step_ticks
    levels = bar.levels
    poc = fpm.poc_row(levels, grid.ticks(bar.high), grid.ticks(bar.low), st) if levels else None
    val, vah = fpm.value_area(levels, poc, st, s.value_area_pct) if poc is not None else (None, None)
    buys, sells = fpm.imbalances(levels, st, s.imbalance_ratio, s.imbalance_min_volume)
    return BarView(
        bar.open_ts, bar.open, bar.high, bar.low, bar.close, bar.bid, bar.ask, bar.ask - bar.bid, cvd,
        bar.trades, {r: v.as_tuple() for r, v in levels.items()}, poc, val, vah, frozenset(buys), frozenset(sells),
        tuple(fpm.stacked_runs(buys, st, s.stacked_rows)), tuple(fpm.stacked_runs(sells, st, s.stacked_rows)),
        fpm.bar_marker(bar.bid, bar.ask, s.bar_imbalance_ratio), fpm.exhaustion(levels),
        fpm.is_absorption(bar, previous, s.absorption_volume_ratio, s.absorption_body_pct), closed,
    )
