"""Book readings beside the trade analytics (docs/decisions.md, "Order books: ladder, heatmap and
readings"): imbalance of resting size near the touch, walls appearing and pulled before the price
reached them, absorption confirmed by the book. Each threshold is an ``engine.book_*`` setting.

``BookWatch.sample`` runs once a second (the dashboard's timer, not per message): it reads every
group's books, adds a column to the group's heatmap ring and updates the readings; wall-pulled and
absorption alerts go into the engine's alert log, at most one per kind and side per
``book_alert_interval_s``. No Textual here.
"""

from __future__ import annotations

import math
import time
from collections import deque
from dataclasses import dataclass, field

import numpy as np

from orderflow_tui.engine.book_heatmap import BOOK_LEVELS, HeatmapRing, TradeTape, fine_rows

ABSORB_ROWS = 10  # base rows either side of the touch kept for the absorption reading


def live_books(books, now: float, stale_s: float) -> list:
    return [b for b in books if b.status(now, stale_s) == "live"]


def touch_imbalance(books, tops: dict, bps: float) -> tuple[float, float, float] | None:
    """(bid size, ask size, net %) of the resting size within ``bps`` of the mid, summed over the
    books; net = (bid − ask) / (bid + ask) × 100. None when no book has both sides."""
    bid = ask = 0.0
    mids = [(b.best_bid() + b.best_ask()) / 2 for b in books if b.best_bid() == b.best_bid() and b.best_ask() == b.best_ask()]
    if not mids:
        return None
    mid = sum(mids) / len(mids)
    lo, hi = mid * (1 - bps / 1e4), mid * (1 + bps / 1e4)
    for b in books:
        bids, asks = tops[b.market]
        for p, s in bids:
            if p < lo:
                break
            bid += s
        for p, s in asks:
            if p > hi:
                break
            ask += s
    total = bid + ask
    return bid, ask, (bid - ask) / total * 100 if total > 0 else 0.0


def find_walls(levels, ratio: float, neighbours: int, min_quote: float) -> list[tuple[float, float, float]]:
    """(price, size, times its neighbours) of each level at least ``ratio`` × the median size of the
    ``neighbours`` levels either side of it, and worth at least ``min_quote``; levels best first."""
    sizes = [s for _, s in levels]
    out = []
    for i, (p, s) in enumerate(levels):
        if s * p < min_quote:
            continue
        near = sizes[max(0, i - neighbours):i] + sizes[i + 1:i + 1 + neighbours]
        if not near:
            continue
        near.sort()
        median = near[len(near) // 2]
        if median > 0 and s >= ratio * median:
            out.append((p, s, s / median))
    return out


@dataclass
class Wall:
    market: str
    venue: str
    is_bid: bool
    price: float
    size: float  # the largest size seen
    times: float  # × its neighbours when last seen as a wall
    first: float  # monotonic seconds when first seen
    first_sec: int  # exchange second when first seen
    reached: bool = False  # the book's touch came to its price

    @property
    def side(self) -> str:
        return "bid" if self.is_bid else "ask"


@dataclass
class Event:
    sec: int
    kind: str  # wall_pulled, absorption
    text: str


@dataclass
class GroupReadings:
    imbalance: tuple[float, float, float] | None = None
    walls: dict = field(default_factory=dict)  # (market, is_bid, price) -> Wall
    events: deque = field(default_factory=lambda: deque(maxlen=50))
    history: deque = field(default_factory=deque)  # absorption: (sec, base row, bid rows, ask rows, trades)
    last_alert: dict = field(default_factory=dict)  # (kind, side) -> monotonic seconds
    resyncs: dict = field(default_factory=dict)  # market -> book resyncs + gaps at the last sample
    live: int = 0
    books: int = 0

    def current_walls(self, is_bid: bool) -> list[Wall]:
        return [w for w in self.walls.values() if w.is_bid == is_bid]


class BookWatch:
    """Per group: the heatmap ring and the readings, sampled from the engine's books."""

    def __init__(self, engine_settings, capacity: int = 3600, rows: int = 400, stale_s: float = 15.0) -> None:
        self.s = engine_settings
        self.capacity = capacity
        self.rows = rows
        self.stale_s = stale_s
        self.rings: dict[str, HeatmapRing] = {}
        self.readings: dict[str, GroupReadings] = {}
        self.tapes: dict[str, TradeTape] = {}
        self.liq_seen: dict[str, int] = {}
        self.samples = 0

    def sample(self, engine, now: float | None = None, heat=None) -> None:
        """``heat``: the groups whose heatmap history is kept (None: all). The others keep their
        readings and a two-column ring: with many groups on screen (issue 23) a full ring each
        would be 5.8 MB a group."""
        now = time.monotonic() if now is None else now
        books_of = getattr(engine, "group_books", None)
        if books_of is None:
            return
        sec = engine.now // 1000
        for name, g in engine.groups.items():
            books = books_of(name)
            if books:
                self.sample_group(engine, g, books, sec, now, heat is None or name in heat)
        self.samples += 1

    def sample_group(self, engine, g, books, sec: int, now: float, history: bool = True) -> None:
        s = self.s
        name = g.name
        ring = self.rings.get(name)
        capacity = self.capacity if history else 2
        if (ring is None or ring.step_ticks != g.grid.step_ticks or ring.scale != g.grid.scale
                or ring.capacity < capacity):  # a group shown for the first time starts its history
            ring = self.rings[name] = HeatmapRing(g.grid.scale, g.grid.step_ticks, capacity, self.rows)
        rd = self.readings.setdefault(name, GroupReadings())
        tape = self.tapes.setdefault(name, TradeTape())
        trades = tape.take(g.markets, g.grid.step_ticks)
        live = live_books(books, now, self.stale_s)
        rd.live, rd.books = len(live), len(books)
        bids, asks = [], []
        tops = {}
        for b in live:
            top = tops[b.market] = b.top(BOOK_LEVELS)
            bids.append(fine_rows(top[0], ring.scale, ring.step_ticks))
            asks.append(fine_rows(top[1], ring.scale, ring.step_ticks))
        best_bid = max((b.best_bid() for b in live if b.best_bid() == b.best_bid()), default=math.nan)
        best_ask = min((b.best_ask() for b in live if b.best_ask() == b.best_ask()), default=math.nan)
        mid = (best_bid + best_ask) / 2 if best_bid == best_bid and best_ask == best_ask else math.nan
        last = g.last_price
        liqs = self._new_liquidations(g)
        ring.add(sec, mid, last, bids, asks, len(live), trades, liqs)
        rd.imbalance = touch_imbalance(live, tops, s.book_imbalance_bps) if live else None
        self._walls(engine, g, rd, books, live, tops, trades, ring, sec, now)
        self._absorption(engine, g, rd, bids, asks, trades, ring, best_bid, best_ask, sec, now)

    def _new_liquidations(self, g) -> tuple:
        seen = self.liq_seen.get(g.name, 0)
        fresh = [liq for liq in g.book.tape if liq.ts > seen]
        if fresh:
            self.liq_seen[g.name] = max(liq.ts for liq in fresh)
        return tuple((liq.price, liq.quote, liq.is_long) for liq in fresh)

    # ---- walls -----------------------------------------------------------------------------

    def _walls(self, engine, g, rd: GroupReadings, books, live, tops, trades, ring, sec, now) -> None:
        s = self.s
        live_ids = {b.market for b in live}
        for b in books:  # a resync or a stale book is no pull: forget its walls, say nothing
            mark = b.resyncs + b.gaps
            if b.market not in live_ids or rd.resyncs.get(b.market, mark) != mark:
                for key in [k for k in rd.walls if k[0] == b.market]:
                    del rd.walls[key]
            rd.resyncs[b.market] = mark
        for b in live:
            bid_top, ask_top = tops[b.market]
            bb, ba = b.best_bid(), b.best_ask()
            found = set()
            for is_bid, levels in ((True, bid_top), (False, ask_top)):
                levels = levels[:s.book_wall_depth]
                for p, size, times in find_walls(levels, s.book_wall_ratio, s.book_wall_neighbours,
                                                 s.book_wall_min_quote):
                    key = (b.market, is_bid, p)
                    found.add(key)
                    w = rd.walls.get(key)
                    if w is None:
                        rd.walls[key] = Wall(b.market, b.venue, is_bid, p, size, times, now, sec)
                    else:
                        w.size, w.times = max(w.size, size), times
            for key in [k for k in rd.walls if k[0] == b.market and k not in found]:
                w = rd.walls.pop(key)
                reached = w.reached or (bb <= w.price if w.is_bid else ba >= w.price)
                left = b.size_at(w.is_bid, w.price)
                traded = sum(trades.get(ring.row_of(w.price), (0.0, 0.0)))
                dropped = w.size - left
                if (not reached and now - w.first >= s.book_wall_min_s and dropped >= w.size * s.book_wall_pulled_pct / 100
                        and traded < dropped / 2):
                    dist = abs(w.price - (bb if w.is_bid else ba)) / w.price * 100 if (bb == bb and ba == ba) else 0.0
                    text = (f"{g.name}: {w.venue} {w.side} wall pulled, {_qty(w.size)} @ {_price(w.price)} "
                            f"({w.times:.0f}× its neighbours, {now - w.first:.0f} s, {dist:.2f}% from the touch)")
                    self._event(engine, rd, sec, "wall_pulled", w.side, text, now)
            for w in rd.walls.values():
                if w.market == b.market and not w.reached:
                    w.reached = bb <= w.price if w.is_bid else ba >= w.price
        if len(rd.walls) > 400:  # bounded: the oldest go first
            for key in sorted(rd.walls, key=lambda k: rd.walls[k].first)[:len(rd.walls) - 400]:
                del rd.walls[key]

    # ---- absorption --------------------------------------------------------------------------

    def _absorption(self, engine, g, rd, bids, asks, trades, ring, best_bid, best_ask, sec, now) -> None:
        """Over the last ``book_absorb_window_s`` samples, at a row by the touch: taker volume into
        it at least ``book_absorb_ratio`` × the resting size it had at the start, and the resting
        size at the end at least ``book_absorb_hold_pct`` % of that start (it held or refilled),
        with the price never through the row."""
        s = self.s
        if best_bid != best_bid or best_ask != best_ask:
            rd.history.clear()
            return
        bid_row, ask_row = ring.row_of(best_bid), ring.row_of(best_ask)
        lo = bid_row - ABSORB_ROWS
        n = ask_row + ABSORB_ROWS - lo + 1
        if n <= 0 or n > 4 * ABSORB_ROWS + 200:  # venues crossed by many rows, or a very wide spread: nothing to read
            rd.history.clear()
            return
        side_rows = []
        for side in (bids, asks):
            arr = np.zeros(n, np.float64)
            for rows, sizes in side:
                idx = rows - lo
                keep = (idx >= 0) & (idx < n)
                np.add.at(arr, idx[keep], sizes[keep])
            side_rows.append(arr)
        rd.history.append((sec, lo, side_rows[0], side_rows[1], trades, bid_row, ask_row))
        while len(rd.history) > max(2, s.book_absorb_window_s + 1):
            rd.history.popleft()
        if len(rd.history) < 2:
            return
        first = rd.history[0]
        price_of = ring.step
        for is_bid in (True, False):
            # rows resting on this side at the window's start, nearest the touch first
            start_rows = first[2] if is_bid else first[3]
            for i in np.flatnonzero(start_rows > 0):
                row = first[1] + int(i)
                start = float(start_rows[i])
                if is_bid and any(h[5] < row for h in rd.history):
                    continue  # the bid touch went below the row: broken, not absorbed
                if not is_bid and any(h[6] > row for h in rd.history):
                    continue
                taken = sum(h[4].get(row, (0.0, 0.0))[1 if is_bid else 0] for h in list(rd.history)[1:])
                if taken <= 0 or taken < s.book_absorb_ratio * start or taken * row * price_of < s.book_absorb_min_quote:
                    continue
                j = row - lo
                end = float((side_rows[0] if is_bid else side_rows[1])[j]) if 0 <= j < n else 0.0
                if end < start * s.book_absorb_hold_pct / 100:
                    continue
                side = "bid" if is_bid else "ask"
                who = "selling" if is_bid else "buying"
                text = (f"{g.name}: absorption confirmed by the book at {_price(row * price_of)}: {side}s took "
                        f"{_qty(taken)} of {who} in {sec - first[0]} s and still show {_qty(end)} "
                        f"({end / start * 100:.0f}% of {_qty(start)})")
                if self._event(engine, rd, sec, "absorption", side, text, now):
                    rd.history.clear()  # one reading per episode: the window starts again
                    return

    def _event(self, engine, rd: GroupReadings, sec: int, kind: str, side: str, text: str, now: float) -> bool:
        """Record a reading; alert unless the same kind and side alerted within the interval."""
        rd.events.append(Event(sec, kind, text))
        last = rd.last_alert.get((kind, side))
        if last is not None and now - last < self.s.book_alert_interval_s:
            return True
        rd.last_alert[(kind, side)] = now
        engine._alert(sec * 1000, "warning", kind, text)
        return True

    # ---- the signal's reasoning ----------------------------------------------------------------

    def reasons(self, group: str, sec: int) -> tuple[str, ...]:
        """One reasoning line for the signal card (no points: the score's weights are analytics.md's):
        the touch imbalance, the largest wall a side, the last pulled wall or absorption of the
        last minute."""
        rd = self.readings.get(group)
        if rd is None or not rd.books:
            return ()
        if not rd.live:
            return (f"Book: no live order book ({rd.books} resyncing or stale)",)
        parts = []
        s = self.s
        if rd.imbalance is not None:
            bid, ask, net = rd.imbalance
            lean = "bid-heavy" if net >= s.book_imbalance_pct else "ask-heavy" if net <= -s.book_imbalance_pct else "balanced"
            parts.append(f"{lean} {net:+.0f}% within {s.book_imbalance_bps:g} bps")  # the lean first: a card cuts
        for is_bid in (True, False):
            walls = rd.current_walls(is_bid)
            if walls:
                w = max(walls, key=lambda w: w.size)
                parts.append(f"{w.side} wall {_qty(w.size)} @ {_price(w.price)} {w.venue} ({w.times:.0f}×)")
        recent = [e for e in rd.events if sec - e.sec <= 60]
        if recent:
            e = recent[-1]
            parts.append(f"{sec - e.sec} s ago {e.text.split(': ', 1)[-1]}")
        return ("Book: " + "; ".join(parts),) if parts else ()


def _qty(x: float) -> str:
    return f"{x:,.0f}" if x >= 100 else f"{x:.2f}" if x >= 1 else f"{x:.4f}"


def _price(p: float) -> str:
    return f"{p:,.2f}" if p >= 100 else f"{p:.4f}" if p >= 1 else f"{p:.6g}"
