"""Liquidation windows, burst cascades with a risk score, magnitude tiers, price clusters (§5).

Every window places a liquidation by its own exchange time, never by arrival: OKX documents its
channel as not chronological. The windows are kept sorted by time, a liquidation already older than
a window is not counted in it, and the book's clock is the newest exchange time it has seen.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from orderflow_tui.engine.footprint import PriceGrid

TIERS = ("MINOR", "MODERATE", "MAJOR", "EXTREME")
BANDS = ("low", "moderate", "high", "extreme")


def _money(x: float) -> float:
    return round(x, 6)  # running quote sums carry float residue; thresholds are decided on micro-dollars


@dataclass
class Cascade:
    """One burst cascade: from its first qualifying window until 60 s pass without one."""

    group: str
    start_ts: int
    last_qualifying_ts: int
    false_since: int | None = None  # when the burst condition last turned false
    end_ts: int | None = None
    count: int = 0
    long_q: float = 0.0
    short_q: float = 0.0
    base: float = 0.0
    institutional_q: float = 0.0
    low: float = float("inf")
    high: float = 0.0
    price_sum: float = 0.0
    venues: set = field(default_factory=set)
    risk: float = 0.0
    band: str = "low"
    alerted_band: str = "low"  # the highest band an alert line was written for

    @property
    def quote(self) -> float:
        return self.long_q + self.short_q

    @property
    def cross_exchange(self) -> bool:
        return len(self.venues) >= 2

    def add(self, liq, institutional: float) -> None:
        if liq.ts < self.start_ts:
            self.start_ts = liq.ts  # a cascade starts at its earliest member, also when it arrives late
        self.count += 1
        self.base += liq.qty
        if liq.is_long:
            self.long_q += liq.quote
        else:
            self.short_q += liq.quote
        if liq.quote >= institutional:
            self.institutional_q += liq.quote
        self.low = min(self.low, liq.price)
        self.high = max(self.high, liq.price)
        self.price_sum += liq.price
        self.venues.add(liq.venue)

    def score(self, now_ts: int, venues_tracked: int) -> float:
        """risk = 2 * sum(w_i * f_i), each factor clipped to 0..1 (analytics.md §5)."""
        def clip(x):
            return 0.0 if x < 0 else 1.0 if x > 1 else x

        quote = self.quote
        minutes = max((max(now_ts, self.last_qualifying_ts) - self.start_ts) / 60_000, 1.0)
        mean_price = self.price_sum / self.count if self.count else 0.0
        rng = (self.high - self.low) / mean_price if mean_price else 0.0
        factors = (
            (0.25, clip(quote / 1_000_000)),
            (0.20, clip(self.count / minutes / 20)),
            (0.15, clip(1 - rng / 0.005)),
            (0.15, clip(abs(self.long_q - self.short_q) / quote) if quote else 0.0),
            (0.10, clip(self.institutional_q / quote) if quote else 0.0),
            (0.15, clip((len(self.venues) - 1) / max(1, venues_tracked - 1))),
        )
        self.risk = round(2 * sum(w * f for w, f in factors), 9)  # a band edge hit exactly counts
        self.band = risk_band(self.risk)
        return self.risk


def risk_band(risk: float) -> str:
    return "extreme" if risk >= 1.5 else "high" if risk >= 1.0 else "moderate" if risk >= 0.7 else "low"


def magnitude_tier(quote: float, minor: float, moderate: float, major: float, extreme: float) -> str:
    quote = _money(quote)
    for name, limit in zip(reversed(TIERS), (extreme, major, moderate, minor)):
        if quote > limit:
            return name
    return ""


def tier_rank(tier: str) -> int:
    return TIERS.index(tier) + 1 if tier else 0


def band_rank(band: str) -> int:
    return BANDS.index(band)


def _insert(dq: deque, liq) -> None:
    """Insert by exchange time (the newest almost always goes last)."""
    i = len(dq)
    while i > 0 and dq[i - 1].ts > liq.ts:
        i -= 1
    if dq.maxlen is not None and len(dq) == dq.maxlen:
        if i == 0:
            return  # older than everything a full tape holds
        dq.popleft()
        i -= 1
    dq.insert(i, liq)


class Sums:
    """count, base, quote of a set of liquidations, with add/remove."""

    __slots__ = ("count", "base", "quote")

    def __init__(self):
        self.count = 0
        self.base = 0.0
        self.quote = 0.0

    def add(self, liq, sign: int = 1) -> None:
        self.count += sign
        self.base += sign * liq.qty
        self.quote += sign * liq.quote
        if self.count == 0:
            self.base = self.quote = 0.0


class LiquidationBook:
    """Liquidations of one group: snapshot window, tape, cascades, tiers and clusters."""

    def __init__(self, group: str, s, bucket: float, ref_price: float = 1.0):
        self.group = group
        self.s = s
        self.bucket = bucket
        self.grid = PriceGrid(bucket, ref_price)  # buckets in integer ticks: 159.0 is in the 159.0 bucket
        self.now = 0  # newest exchange time seen
        self.window_ms = s.liquidation_window_min * 60_000
        self.window: deque = deque()
        self.long = Sums()
        self.short = Sums()
        self.by_venue: dict[str, Sums] = {}
        self.clusters: dict[float, float] = {}  # bucket price -> quote over the window
        self.tape: deque = deque(maxlen=s.liquidation_tape_size)
        self.burst: deque = deque()  # the last cascade_window_s of liquidations
        self.burst_quote = 0.0
        self.trail: deque = deque()  # the last tier_window_min
        self.trail_long = 0.0
        self.trail_short = 0.0
        self.cascade: Cascade | None = None  # the latest cascade, running or finished
        self.cascades_total = 0
        self.tier_seen = {"long": "", "short": ""}  # tiers already alerted (lowered when they fall)
        self.trail_changed = False  # the tier window gained or lost a liquidation since tier_changes()

    def add(self, liq) -> list[tuple[str, object]]:
        """Add one liquidation; returns facts ('cascade_start', cascade), ... for alerts and the store."""
        facts = self.advance(liq.ts)  # first, so a gap before this liquidation can end a cascade
        now, ts = self.now, liq.ts
        if ts > now - self.window_ms:
            _insert(self.window, liq)
            (self.long if liq.is_long else self.short).add(liq)
            self.by_venue.setdefault(liq.venue, Sums()).add(liq)
            key = self._bucket(liq.price)
            self.clusters[key] = self.clusters.get(key, 0.0) + liq.quote
        _insert(self.tape, liq)
        in_burst = ts > now - self.s.cascade_window_s * 1000
        if in_burst:
            _insert(self.burst, liq)
            self.burst_quote += liq.quote
        if ts > now - self.s.tier_window_min * 60_000:
            self.trail_changed = True
            _insert(self.trail, liq)
            if liq.is_long:
                self.trail_long += liq.quote
            else:
                self.trail_short += liq.quote
        c = self.cascade
        if c is not None and c.end_ts is None and (in_burst or ts >= c.start_ts):
            c.add(liq, self.s.institutional)  # members: every liquidation until it ends, cool-down included
        return facts + self._check_burst()

    def _bucket(self, price: float) -> float:
        return self.grid.price(self.grid.row(price))

    def advance(self, now: int) -> list:
        """Drop what left each window; end a cascade after a quiet cascade window."""
        facts = []
        if now > self.now:
            self.now = now
        now = self.now
        old = now - self.window_ms
        while self.window and self.window[0].ts <= old:
            liq = self.window.popleft()
            (self.long if liq.is_long else self.short).add(liq, -1)
            self.by_venue[liq.venue].add(liq, -1)
            key = self._bucket(liq.price)
            left = self.clusters.get(key, 0.0) - liq.quote
            if _money(left) <= 0:
                self.clusters.pop(key, None)
            else:
                self.clusters[key] = left
        span = self.s.cascade_window_s * 1000
        c = self.cascade
        while self.burst and self.burst[0].ts <= now - span:
            gone = self.burst.popleft()
            self.burst_quote -= gone.quote
            if c is not None and c.end_ts is None and c.false_since is None and not self._qualifies():
                c.false_since = gone.ts + span  # the moment this liquidation left the window
        if not self.burst:
            self.burst_quote = 0.0
        old = now - self.s.tier_window_min * 60_000
        while self.trail and self.trail[0].ts <= old:
            self.trail_changed = True
            liq = self.trail.popleft()
            if liq.is_long:
                self.trail_long -= liq.quote
            else:
                self.trail_short -= liq.quote
        if not self.trail:
            self.trail_long = self.trail_short = 0.0
        if c is not None and c.end_ts is None and c.false_since is not None and now - c.false_since >= span:
            c.end_ts = c.false_since + span
            facts.append(("cascade_end", c))
        return facts

    def _qualifies(self) -> bool:
        return len(self.burst) >= self.s.cascade_min_count and _money(self.burst_quote) >= self.s.cascade_min_quote

    def _check_burst(self) -> list:
        if not self._qualifies():
            return []
        now = self.now
        c = self.cascade
        if c is not None and c.end_ts is None:
            c.last_qualifying_ts = now
            c.false_since = None
            return []
        c = self.cascade = Cascade(self.group, self.burst[0].ts, now)  # from its earliest member
        for liq in self.burst:
            c.add(liq, self.s.institutional)
        self.cascades_total += 1
        return [("cascade_start", c)]

    @property
    def active_cascade(self) -> Cascade | None:
        c = self.cascade
        return c if c is not None and c.end_ts is None else None

    def tiers(self) -> dict[str, str]:
        s = self.s
        limits = (s.tier_minor, s.tier_moderate, s.tier_major, s.tier_extreme)
        return {"long": magnitude_tier(self.trail_long, *limits), "short": magnitude_tier(self.trail_short, *limits)}

    def tier_changes(self) -> list[tuple[str, str]]:
        """(side, tier) for each side whose magnitude tier was reached or raised since the last call.
        A tier that fell is remembered lower, so reaching it again writes a new alert."""
        raised: list[tuple[str, str]] = []
        if not self.trail_changed:
            return raised
        self.trail_changed = False
        for side, tier in self.tiers().items():
            if tier_rank(tier) > tier_rank(self.tier_seen[side]):
                raised.append((side, tier))
            self.tier_seen[side] = tier
        return raised
