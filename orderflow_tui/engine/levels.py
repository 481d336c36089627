"""Alerts at price levels (docs/decisions.md, "Alerts at levels (issue 23)").

Levels: the ones a trader marks (``m`` on the footprint's selected row, ``[alerts] levels``) and the
ones the engine finds: the session POC, the value-area edges, HVN/LVN, and the largest liquidation
clusters. Once per second of exchange time per group (never per trade), with the second's taker
volume from the session totals the engine has just summed:

- reached with aggressive volume: price at or through a level while the second's taker volume is
  ``level_volume_ratio`` x its recent per-second norm (and at least ``level_min_quote``);
- absorbed: price stays at a level for ``level_absorb_s`` while taker volume keeps coming
  (``level_absorb_ratio`` x the norm for as long) and one side presses (net >= ``level_absorb_net``
  %) without moving it;
- imbalance spike: at a level, the 60 s flow net % is ``level_spike_ratio`` x its recent mean (and
  >= ``level_spike_net``), or the current bar has a stacked imbalance run through the level's row.

Each (group, level, rule) alerts at most once per ``level_interval_s``. State per group is bounded
(two rings of ``level_norm_s`` seconds, a few levels).
"""

from __future__ import annotations

from collections import deque

from orderflow_tui.engine.flow import net_pct
from orderflow_tui.engine.footprint import imbalances, merge_levels, stacked_runs
from orderflow_tui.engine.profile import build_profile

ENGINE_LEVELS_EVERY_MS = 60_000  # the session profile's levels move slowly: found again each minute
MIN_NORM_S = 30  # seconds of history before a norm means anything
MAX_MARKED = 50  # per group


class _State:
    def __init__(self, price: float, bq: float, sq: float):
        self.price = price
        self.bq = bq
        self.sq = sq
        self.vols: deque[float] = deque()  # per-second taker quote volume
        self.vol_sum = 0.0
        self.nets: deque[float] = deque()  # per-second |60 s flow net %|
        self.net_sum = 0.0
        self.found: list[tuple[float, str]] = []  # engine levels
        self.found_at = -1
        self.stay: list | None = None  # [level, name, since ms, buy quote, sell quote]


class LevelWatch:
    def __init__(self, settings, engine_settings):
        self.s = settings  # AlertSettings
        self.e = engine_settings
        self.marked: dict[str, list[float]] = {g: list(v)[:MAX_MARKED] for g, v in settings.levels.items()}
        self.states: dict[str, _State] = {}
        self.last: dict[tuple, int] = {}  # (group, level, rule) -> ms of its last alert

    # ---- levels --------------------------------------------------------------------------

    def mark(self, group: str, price: float) -> bool:
        """Mark a level, or unmark it when it is marked; True when it is now marked."""
        marked = self.marked.setdefault(group, [])
        if price in marked:
            marked.remove(price)
            return False
        if len(marked) >= MAX_MARKED:
            marked.pop(0)
        marked.append(price)
        return True

    def levels(self, g, now: int) -> list[tuple[float, str]]:
        """(price, name) of every level of a group: marked first."""
        out = [(p, "marked level") for p in self.marked.get(g.name, ())]
        if not self.s.engine_levels:
            return out
        st = self.states.get(g.name)
        if st is None:
            return out
        if st.found_at < 0 or now - st.found_at >= ENGINE_LEVELS_EVERY_MS:
            st.found_at = now
            st.found = self._find(g)
        return out + st.found

    def _find(self, g) -> list[tuple[float, str]]:
        rows: dict = {}
        merge_levels(rows, g.closed_profile)
        for levels in g.live_levels():
            merge_levels(rows, levels)
        found: list[tuple[float, str]] = []
        if rows:
            e = self.e
            p = build_profile(rows, g.grid.step_ticks, e.value_area_pct, e.hvn_ratio, e.lvn_ratio)
            price = g.grid.price
            if p.poc is not None:
                found.append((price(p.poc), "session POC"))
            if p.val is not None and p.val != p.poc:
                found.append((price(p.val), "value-area low"))
            if p.vah is not None and p.vah != p.poc:
                found.append((price(p.vah), "value-area high"))
            found += [(price(r), "HVN") for r in p.hvn if r != p.poc][:5]
            found += [(price(r), "LVN") for r in p.lvn][:5]
        clusters = sorted(g.book.clusters.items(), key=lambda kv: (-kv[1], kv[0]))[:self.s.cluster_levels]
        found += [(bucket, "liquidation cluster") for bucket, _ in clusters]
        return found

    # ---- each second -----------------------------------------------------------------------

    def second(self, g, now: int, bq: float, sq: float) -> list[tuple[str, str, str]]:
        """The level alerts of this second: (severity, kind, text)."""
        price = g.last_price
        st = self.states.get(g.name)
        if st is None or price <= 0:
            if price > 0:
                self.states[g.name] = _State(price, bq, sq)
            return []
        s = self.s
        buy, sell = bq - st.bq, sq - st.sq
        vol = buy + sell
        wb = ws = 0.0
        for flow in g.flow.values():
            b, q, _, _ = flow.totals()
            wb += b
            ws += q
        net = net_pct(wb, ws)
        n = len(st.vols)
        norm = st.vol_sum / n if n else 0.0
        net_norm = st.net_sum / n if n else 0.0
        out: list[tuple[str, str, str]] = []
        tol = g.step * s.level_rows + 1e-9 * price
        lo, hi = min(st.price, price) - tol, max(st.price, price) + tol
        nearest: tuple[float, str] | None = None
        for level, name in self.levels(g, now):
            if not lo <= level <= hi:
                continue
            at = abs(price - level) <= tol
            if at and (nearest is None or abs(price - level) < abs(price - nearest[0])):
                nearest = (level, name)
            where = f"{name} {level:,.10g}"
            if n >= MIN_NORM_S and vol >= s.level_volume_ratio * norm and vol >= s.level_min_quote and vol > 0:
                side = "buying" if buy >= sell else "selling"
                self._add(out, g.name, level, "level_volume", now,
                          f"{g.name}: price at {where} with aggressive {side}, ${vol:,.0f} in 1 s "
                          f"({vol / norm:.1f}x the norm)" if norm > 0 else
                          f"{g.name}: price at {where} with aggressive {side}, ${vol:,.0f} in 1 s")
            if not at or n < MIN_NORM_S:
                continue
            if abs(net) >= s.level_spike_net and abs(net) >= s.level_spike_ratio * net_norm:
                self._add(out, g.name, level, "level_imbalance", now,
                          f"{g.name}: flow imbalance spike at {where}: 60 s net {net:+.0f}%"
                          + (f" ({abs(net) / net_norm:.1f}x its norm)" if net_norm > 0 else ""))
            run = self._stacked_at(g, level)
            if run:
                self._add(out, g.name, level, "level_stacked", now,
                          f"{g.name}: stacked {run} imbalance through {where}")
        self._absorption(out, g, st, nearest, now, buy, sell, norm, n)
        # the norms: this second joins them after it was compared with them
        st.vols.append(vol)
        st.vol_sum += vol
        st.nets.append(abs(net))
        st.net_sum += abs(net)
        if len(st.vols) > s.level_norm_s:
            st.vol_sum -= st.vols.popleft()
            st.net_sum -= st.nets.popleft()
        st.price, st.bq, st.sq = price, bq, sq
        return out

    def _absorption(self, out, g, st: _State, nearest, now: int, buy: float, sell: float, norm: float,
                    n: int) -> None:
        """Price held at one level for level_absorb_s while one side kept pressing into it."""
        s = self.s
        if nearest is None:
            st.stay = None
            return
        stay = st.stay
        if stay is None or stay[0] != nearest[0]:
            st.stay = [nearest[0], nearest[1], now, 0.0, 0.0]
            return
        stay[3] += buy
        stay[4] += sell
        secs = (now - stay[2]) / 1000
        if secs < s.level_absorb_s or n < MIN_NORM_S:
            return
        total = stay[3] + stay[4]
        net = net_pct(stay[3], stay[4])
        if total > 0 and total >= s.level_absorb_ratio * norm * secs and abs(net) >= s.level_absorb_net:
            side = "buying" if net > 0 else "selling"
            self._add(out, g.name, stay[0], "level_absorption", now,
                      f"{g.name}: {side} absorbed at {stay[1]} {stay[0]:,.10g}: ${total:,.0f} taker volume in "
                      f"{secs:.0f} s, net {net:+.0f}%, price held")
        st.stay = [stay[0], stay[1], now, 0.0, 0.0]  # the next stay is judged on its own

    def _stacked_at(self, g, level: float) -> str:
        """'buy' / 'sell' when the group's current bars have a stacked imbalance run through the row."""
        rows: dict = {}
        for levels in g.live_levels():
            merge_levels(rows, levels)
        if not rows:
            return ""
        e = self.e
        st = g.grid.step_ticks
        row = g.grid.row(level)
        buys, sells = imbalances(rows, st, e.imbalance_ratio, e.imbalance_min_volume)
        for side, found in (("buy", buys), ("sell", sells)):
            if row in found and any(a <= row <= b for a, b in stacked_runs(found, st, e.stacked_rows)):
                return side
        return ""

    def _add(self, out, group: str, level: float, kind: str, now: int, text: str) -> None:
        key = (group, level, kind)
        last = self.last.get(key)
        if last is not None and now - last < self.s.level_interval_s * 1000:
            return  # throttled
        self.last[key] = now
        if len(self.last) > 4096:  # bounded: forget what no longer throttles anything
            old = now - self.s.level_interval_s * 1000
            self.last = {k: t for k, t in self.last.items() if t >= old}
        out.append(("warning", kind, text))
