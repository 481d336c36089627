"""Market context: open interest and funding per perpetual market, and a per-minute open-interest series.

Fed by ``Context`` events (a few per second per market, never per trade). Pushes are merged field by
field: a field a push did not carry keeps its last value (Bybit ticker deltas; Binance funding from
``markPrice`` and open interest from a REST poll). Changes over 5 min and 1 h are computed on the
open interest in the base coin, so a price move alone does not look like positions opening.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from orderflow_tui.events import Context
from orderflow_tui.instruments import group_of

MINUTES_KEPT = 1440  # one day of per-minute open interest per market
# defaults of engine.oi_move_pct and engine.crowded_funding_apr (config)
OI_MOVE_PCT = 1.0  # |open-interest change in 5 min| that the reasoning line calls a move
CROWDED_FUNDING_APR = 30.0  # annualized funding (%) above which rising open interest is "crowded"
HOURS_PER_YEAR = 24 * 365
HOUR_MS = 3_600_000


class MarketContext:
    """The latest merged context of one market and its per-minute open interest (base, USD)."""

    def __init__(self, market: str, venue: str, symbol: str):
        self.market = market
        self.venue = venue
        self.symbol = symbol
        self.group = group_of(venue, symbol)
        self.ts = 0
        self.oi_base: float | None = None
        self.oi_usd_pushed: float | None = None  # as the venue gave it, when it does
        self.mark: float | None = None
        self.funding: float | None = None
        self.interval_h: float | None = None
        self.next_ts: int | None = None
        self.updates = 0
        # (minute, oi base, oi usd): the last value seen in each minute
        self.minutes: deque[tuple[int, float, float]] = deque(maxlen=MINUTES_KEPT)

    def update(self, ev: Context) -> None:
        self.updates += 1
        if ev.ts > self.ts:
            self.ts = ev.ts
        if ev.mark is not None:
            self.mark = ev.mark
        if ev.funding is not None:
            self.funding = ev.funding
        if ev.interval_h is not None:
            self.interval_h = ev.interval_h
        if ev.next_ts is not None:
            self.next_ts = ev.next_ts
        if ev.oi_base is not None:
            self.oi_base = ev.oi_base
            self.oi_usd_pushed = ev.oi_usd  # a new base figure makes an older USD figure stale
        elif ev.oi_usd is not None:
            self.oi_usd_pushed = ev.oi_usd
        if self.oi_base is not None and (ev.oi_base is not None or ev.oi_usd is not None) and ev.ts:
            minute = ev.ts // 60_000
            point = (minute, self.oi_base, self.oi_usd or 0.0)
            if self.minutes and self.minutes[-1][0] == minute:
                self.minutes[-1] = point
            elif not self.minutes or minute > self.minutes[-1][0]:
                self.minutes.append(point)

    @property
    def oi_usd(self) -> float | None:
        if self.oi_usd_pushed is not None:
            return self.oi_usd_pushed
        if self.oi_base is not None and self.mark is not None:
            return self.oi_base * self.mark
        return None

    def oi_at(self, minute: int) -> float | None:
        """Open interest (base) as it stood at the end of ``minute``; None before the series starts."""
        found = None
        for m, base, _ in reversed(self.minutes):
            if m <= minute:
                found = base
                break
        return found

    def change_pct(self, now_ms: int, minutes: int) -> float | None:
        if self.oi_base is None:
            return None
        then = self.oi_at(now_ms // 60_000 - minutes)
        if not then:
            return None
        return (self.oi_base - then) / then * 100


class ContextBook:
    def __init__(self) -> None:
        self.markets: dict[str, MarketContext] = {}
        self.updates = 0

    def on(self, ev: Context, now: int = 0) -> None:
        """``now``: the engine's clock, the time of a push that carries none (Hyperliquid)."""
        if not ev.ts:
            ev.ts = now
            # a push without time and hourly funding (Hyperliquid, "paid every hour"): on the hour,
            # so the next funding is the clock's next whole hour
            if ev.next_ts is None and ev.interval_h == 1.0 and now:
                ev.next_ts = (now // HOUR_MS + 1) * HOUR_MS
        m = self.markets.get(ev.market)
        if m is None:
            m = self.markets[ev.market] = MarketContext(ev.market, ev.venue, ev.symbol)
        m.update(ev)
        self.updates += 1

    def group(self, group: str) -> list[MarketContext]:
        return sorted((m for m in self.markets.values() if m.group == group), key=lambda m: m.market)


@dataclass(frozen=True)
class VenueContext:
    venue: str
    symbol: str
    oi_base: float | None
    oi_usd: float | None
    change_5m: float | None  # % of open interest in the base coin
    change_1h: float | None
    funding: float | None  # per interval, as a fraction (0.0001 = 0.01 %)
    interval_h: float | None
    funding_apr: float | None  # annualized, %
    next_ts: int | None
    age_ms: int  # since the last push


@dataclass(frozen=True)
class MarketView:
    rows: tuple[VenueContext, ...]
    oi_base: float  # sum over the venues that report it
    oi_usd: float
    change_5m: float | None  # over the venues that have both ends of the span
    change_1h: float | None
    funding_apr: float | None  # open-interest-weighted average
    series: tuple  # (minute, total oi usd) over the venues present in that minute
    reason: str
    caveat: str = "venues count open interest differently (one or two sides): the total is indicative"


def annualized(funding: float | None, interval_h: float | None) -> float | None:
    if funding is None or not interval_h:
        return None
    return funding * HOURS_PER_YEAR / interval_h * 100


def _total_change(markets: list[MarketContext], now_ms: int, minutes: int) -> float | None:
    now = then = 0.0
    for m in markets:
        before = m.oi_at(now_ms // 60_000 - minutes)
        if before and m.oi_base is not None:
            now += m.oi_base
            then += before
    return (now - then) / then * 100 if then else None


def market_view(book: ContextBook, group: str, now_ms: int, liq_long_5m: float = 0.0,
                liq_short_5m: float = 0.0, move_pct: float = OI_MOVE_PCT,
                crowded_apr: float = CROWDED_FUNDING_APR) -> MarketView | None:
    """The MARKET panel's figures for a group, and the signal's reasoning line; None without context."""
    markets = book.group(group)
    if not markets:
        return None
    rows = tuple(VenueContext(m.venue, m.symbol, m.oi_base, m.oi_usd, m.change_pct(now_ms, 5),
                              m.change_pct(now_ms, 60), m.funding, m.interval_h,
                              annualized(m.funding, m.interval_h), m.next_ts, max(0, now_ms - m.ts))
                 for m in markets)
    oi_base = sum(r.oi_base for r in rows if r.oi_base is not None)
    oi_usd = sum(r.oi_usd for r in rows if r.oi_usd is not None)
    weighted = [(r.funding_apr, r.oi_usd) for r in rows if r.funding_apr is not None and r.oi_usd]
    weight = sum(w for _, w in weighted)
    apr = sum(a * w for a, w in weighted) / weight if weight else None
    change_5m = _total_change(markets, now_ms, 5)
    by_minute: dict[int, float] = {}
    for m in markets:
        for minute, _, usd in m.minutes:
            by_minute[minute] = by_minute.get(minute, 0.0) + usd
    return MarketView(rows, oi_base, oi_usd, change_5m, _total_change(markets, now_ms, 60), apr,
                      tuple(sorted(by_minute.items())),
                      context_reason(change_5m, apr, liq_long_5m, liq_short_5m, move_pct, crowded_apr))


def context_reason(change_5m: float | None, funding_apr: float | None, liq_long: float, liq_short: float,
                   move_pct: float = OI_MOVE_PCT, crowded_apr: float = CROWDED_FUNDING_APR) -> str:
    """One reasoning line of the signal (docs/decisions.md, "Open interest in the signal's reasoning").
    It explains; it adds no points: the composite's weights are those of analytics.md."""
    from orderflow_tui.engine.signal import money

    if change_5m is None:
        return "Open interest: less than 5 min of data"
    text = f"Open interest {change_5m:+.1f}% in 5 min"
    side = "longs" if liq_long >= liq_short else "shorts"
    amount = max(liq_long, liq_short)
    text += f" with {money(amount)} of {side} liquidated" if amount > 0 else ", no liquidations"
    if change_5m <= -move_pct and amount > 0:
        return text + (": long flush" if side == "longs" else ": short squeeze")
    if change_5m <= -move_pct:
        return text + ": positions closing"
    if change_5m >= move_pct:
        if funding_apr is not None and funding_apr >= crowded_apr:
            return text + f": longs piling in at {funding_apr:+.0f}%/yr funding (crowded)"
        if funding_apr is not None and funding_apr <= -crowded_apr:
            return text + f": shorts piling in at {funding_apr:+.0f}%/yr funding (crowded)"
        return text + ": new positions opening"
    return text


def context_report(book: ContextBook) -> dict:
    """The replay report's ``market_context`` (a key added beside the contract's): per market, the
    pushes merged, the last figures and the per-minute open interest [minute start ms, base, USD]."""
    return {key: {"updates": m.updates, "oi_base": m.oi_base, "oi_usd": m.oi_usd, "funding": m.funding,
                  "funding_interval_h": m.interval_h, "next_funding_ts": m.next_ts,
                  "oi_minutes": [[minute * 60_000, base, usd] for minute, base, usd in m.minutes]}
            for key, m in sorted(book.markets.items())}
