"""The accumulated analysis (contract.md §3b): the seeds' charts as numbers, from the hour rollup.

Everything here reads ``liq_hours`` (per hour, group, venue, side and price bucket) and ``cascades``,
never the raw liquidations, so the numbers are the same before and after raw rows age out
(store.keep_liquidations_days). The SQL is portable: SQLite and PostgreSQL (store/postgres.py) run it
unchanged. A span selects whole UTC hours: those overlapping [--since, --until).
"""

from __future__ import annotations

import math
import sqlite3
import time
from dataclasses import dataclass, field

from orderflow_tui.instruments import DEFAULT_ROW_SIZE, default_row_size
from orderflow_tui.store.db import _where, source_filter

HOUR = 3_600_000
DAY = 86_400_000


def backfill_v4(conn) -> None:
    """Fill schema version 4 from what an older store holds: each raw row's bucket and level (the
    group's default bucket at its lowest price), the hour rollup from raw rows, and from minute
    buckets whose raw rows retention already deleted (counted, with no price: bucket 0)."""
    pg = not isinstance(conn, sqlite3.Connection)
    floor = "floor(price / ?) * ?" if pg else "CAST(price / ? AS INTEGER) * ?"
    for grp, price in conn.execute("SELECT grp, MIN(price) FROM liquidations GROUP BY grp").fetchall():
        bucket = default_row_size(grp, price or 1.0)
        conn.execute(f"UPDATE liquidations SET bucket = ?, level = {floor} WHERE grp = ?",
                     (bucket, bucket, bucket, grp))
    cols = "source, hour, grp, venue, side, bucket, level, count, base, quote"
    conn.execute(f"INSERT INTO liq_hours ({cols}) SELECT source, ts / 3600000 * 3600000, grp, venue, side, bucket, "
                 "level, COUNT(*), SUM(qty), SUM(quote) FROM liquidations "
                 "GROUP BY source, ts / 3600000 * 3600000, grp, venue, side, bucket, level")
    conn.execute(f"INSERT INTO liq_hours ({cols}) SELECT m.source, m.minute / 3600000 * 3600000, m.grp, m.venue, "
                 "m.side, 0, 0, SUM(m.count), SUM(m.base), SUM(m.quote) FROM liq_minutes m "
                 "WHERE m.minute < COALESCE((SELECT MIN(r.ts) FROM liquidations r WHERE r.source = m.source), 0) "
                 "/ 60000 * 60000 GROUP BY m.source, m.minute / 3600000 * 3600000, m.grp, m.venue, m.side")


_DAYS: dict[int, str] = {}


def ymd(ms: int) -> str:
    """The UTC date as §3b writes it (always YYYYMMDD), one strftime per day."""
    day = ms // DAY
    text = _DAYS.get(day)
    if text is None:
        text = _DAYS[day] = time.strftime("%Y%m%d", time.gmtime(day * 86_400))
    return text


@dataclass
class Hour:
    ts: int
    count: int = 0
    base: float = 0.0
    quote: float = 0.0
    long_count: int = 0
    short_count: int = 0
    long_quote: float = 0.0
    short_quote: float = 0.0
    venues: dict = field(default_factory=dict)  # venue -> quote


@dataclass
class Desk:
    """What the charts and the JSON are made of, for one span, group and source."""

    source: str
    span: tuple  # (first hour ms, end ms exclusive or None)
    group: str | None
    hours: list  # Hour, oldest first, only hours with a liquidation
    level_group: str | None  # the group of ``levels``
    bucket: float
    levels: list  # (price, count, long_quote, short_quote), ascending price
    cascades: list  # dicts, oldest first (with group and band for the table)
    cells: list = field(default_factory=list)  # (group, venue, side, count, base, quote) over the span

    def days(self) -> list[dict]:
        out: dict[str, dict] = {}
        for h in self.hours:
            d = out.get(ymd(h.ts))
            if d is None:
                d = out[ymd(h.ts)] = {"date": ymd(h.ts), "count": 0, "base": 0.0, "quote": 0.0,
                                      "long": {"count": 0, "quote": 0.0}, "short": {"count": 0, "quote": 0.0},
                                      "venues": {}, "day_ts": h.ts - h.ts % DAY}
            d["count"] += h.count
            d["base"] += h.base
            d["quote"] += h.quote
            d["long"]["count"] += h.long_count
            d["long"]["quote"] += h.long_quote
            d["short"]["count"] += h.short_count
            d["short"]["quote"] += h.short_quote
            for v, q in h.venues.items():
                d["venues"][v] = d["venues"].get(v, 0.0) + q
        return list(out.values())

    def day_hour(self) -> dict[str, list[float]]:
        out: dict[str, list[float]] = {}
        for h in self.hours:
            out.setdefault(ymd(h.ts), [0.0] * 24)[h.ts % DAY // HOUR] += h.quote
        return out

    def as_json(self) -> dict:
        """The keys of contract.md §3b, exactly."""
        daily = self.days()
        for d in daily:
            del d["day_ts"]
        return {
            "daily": daily,
            "day_hour": self.day_hour(),
            "hourly": [{"ts": h.ts, "count": h.count, "quote": h.quote, "long_quote": h.long_quote,
                        "short_quote": h.short_quote} for h in self.hours],
            "price_levels": {"bucket": self.bucket, "levels": [
                {"price": p, "count": c, "long_quote": lq, "short_quote": sq} for p, c, lq, sq in self.levels]},
            "cascades": [{"start_ts": c["start_ts"], "end_ts": c["end_ts"], "count": c["count"], "quote": c["quote"],
                          "venues": c["venues"], "cross_exchange": c["cross_exchange"], "risk": c["risk"]}
                         for c in self.cascades],
        }


def span_bounds(since: int | None, until: int | None) -> tuple[int | None, int | None]:
    """The whole hours overlapping [since, until): (first hour start, end exclusive)."""
    lo = None if since is None else since // HOUR * HOUR
    hi = None if until is None else -(-until // HOUR) * HOUR
    return lo, hi


def group_bucket(group: str, buckets: dict | None, cells: dict) -> float:
    """The group's liquidation bucket (analytics.md §5): the setting, the built-in default, else the
    bucket the engine stored most (it derives one from the group's first price)."""
    if buckets and buckets.get(group):
        return float(buckets[group])
    if group in DEFAULT_ROW_SIZE:
        return DEFAULT_ROW_SIZE[group]
    counts: dict[float, int] = {}
    for (bucket, _), (count, _, _) in cells.items():
        counts[bucket] = counts.get(bucket, 0) + count
    return max(counts, key=lambda b: counts[b]) if counts else 0.0


def desk(conn, since: int | None = None, until: int | None = None, group: str | None = None,
         source: str | None = None, buckets: dict | None = None, first_group: str | None = None) -> Desk:
    """Read the analysis for a span (ms, UTC), a group (all when None) and a source (``source_filter``)."""
    src = source_filter(conn, source)
    lo, hi = span_bounds(since, until)
    group = group.upper() if group else None
    w, args = _where("hour", lo, None, group, src)
    if hi is not None:
        w += " AND hour < ?"
        args.append(hi)
    # one scan of the rollup in the span (no GROUP BY: at ~150 a day nearly every row is one
    # liquidation, and a sort in SQL costs more than adding them up here). Every sum is a plain
    # += in scan order: the numbers stay exactly what they were. The scan comes in key order (hour,
    # then group, venue, side), so the hour, cell and group level map of the previous row are kept
    # at hand rather than looked up again; any order (PostgreSQL's) still adds up the same.
    acc: dict[int, list] = {}  # hour -> [count, base, quote, long count, short count, long q, short q, venues]
    by_level: dict[str, dict] = {}  # group -> (bucket, level) -> [count, long quote, short quote]
    cells: dict[tuple, list] = {}  # (group, venue, side) -> [count, base, quote]: the span's totals
    at_hour = h = hv = None
    key: tuple = ()
    cell: list = []
    gl: dict | None = None
    for ts, grp, venue, side, bucket, level, count, base, quote in conn.execute(
            f"SELECT hour, grp, venue, side, bucket, level, count, base, quote FROM liq_hours WHERE {w}", args):
        if ts != at_hour:
            h = acc.get(ts)
            if h is None:
                h = acc[ts] = [0, 0.0, 0.0, 0, 0, 0.0, 0.0, {}]
            at_hour, hv = ts, h[7]
        h[0] += count
        h[1] += base
        h[2] += quote
        long = side == "long"
        if long:
            h[3] += count
            h[5] += quote
        else:
            h[4] += count
            h[6] += quote
        hv[venue] = hv.get(venue, 0.0) + quote
        if key != (grp, venue, side):
            key = (grp, venue, side)
            cell = cells.get(key)
            if cell is None:
                cell = cells[key] = [0, 0.0, 0.0]
            gl = by_level.get(grp)  # created by the group's first priced row (bucket 0: none)
        cell[0] += count
        cell[1] += base
        cell[2] += quote
        if bucket > 0:
            if gl is None:
                gl = by_level[grp] = {}
            lc = gl.get((bucket, level))
            if lc is None:
                lc = gl[(bucket, level)] = [0, 0.0, 0.0]
            lc[0] += count
            lc[1 if long else 2] += quote
    hours = [Hour(ts, *acc[ts]) for ts in sorted(acc)]
    # price levels: the group asked for, else the configured first group when it has data, else the first
    level_group = group
    if level_group is None:
        present = sorted(by_level)
        first = (first_group or "").upper()
        level_group = first if first in present else (present[0] if present else first or None)
    bucket, levels = 0.0, []
    if level_group:
        at_levels = by_level.get(level_group, {})
        bucket = group_bucket(level_group, buckets, at_levels)
        merged: dict[float, list] = {}
        for (stored, level), (count, lq, sq) in at_levels.items():
            # a bucket setting changed since these rows were written: their lower edges, re-bucketed
            price = level if stored == bucket else round(math.floor(level / bucket + 1e-9) * bucket, 10)
            row = merged.setdefault(price, [0, 0.0, 0.0])
            row[0] += count
            row[1] += lq
            row[2] += sq
        levels = [(p, r[0], r[1], r[2]) for p, r in sorted(merged.items())]
    cw, cargs = _where("start_ts", lo, None, group, src)
    if hi is not None:
        cw += " AND start_ts < ?"
        cargs.append(hi)
    cascades = []
    for start, end, count, quote, venues, cross, risk, band, grp, lq, sq in conn.execute(
            "SELECT start_ts, end_ts, count, quote, venues, cross_exchange, risk, band, grp, long_quote, short_quote "
            f"FROM cascades WHERE {cw} AND end_ts IS NOT NULL ORDER BY start_ts, grp", cargs):
        cascades.append({"start_ts": start, "end_ts": end, "count": count, "quote": quote,
                         "venues": [v for v in venues.split(",") if v], "cross_exchange": bool(cross), "risk": risk,
                         "band": band, "group": grp, "long_quote": lq, "short_quote": sq})
    return Desk(src[0], (lo, hi), group, hours, level_group, bucket, levels, cascades,
                [(*k, *v) for k, v in sorted(cells.items())])


# ---- CSV (export --what daily|day_hour|hourly|price_levels|cascades) -------------------------------

EXPORTS = ("daily", "day_hour", "hourly", "price_levels", "cascades")


def export_rows(d: Desk, what: str) -> tuple[list, list]:
    """(header, rows) of one §3b key as a table, dates YYYYMMDD and times HH:MM:SS UTC."""
    if what == "daily":
        venues = sorted({v for h in d.hours for v in h.venues})
        rows = [[x["date"], x["count"], repr(x["base"]), repr(x["quote"]), x["long"]["count"], repr(x["long"]["quote"]),
                 x["short"]["count"], repr(x["short"]["quote"]), *(repr(x["venues"].get(v, 0.0)) for v in venues)]
                for x in d.days()]
        return (["date", "count", "base", "quote", "long_count", "long_quote", "short_count", "short_quote",
                 *(f"{v}_quote" for v in venues)], rows)
    if what == "day_hour":
        return (["date", *(f"h{h:02d}" for h in range(24))],
                [[day, *(repr(q) for q in qs)] for day, qs in d.day_hour().items()])
    if what == "hourly":
        run, rows = 0.0, []
        for h in d.hours:
            run += h.quote
            rows.append([ymd(h.ts), time.strftime("%H:%M:%S", time.gmtime(h.ts / 1000)), h.ts, h.count, repr(h.quote),
                         repr(h.long_quote), repr(h.short_quote), repr(run)])
        return ["date", "time_utc", "ts_ms", "count", "quote", "long_quote", "short_quote", "cumulative_quote"], rows
    if what == "price_levels":
        return (["group", "bucket", "price", "count", "long_quote", "short_quote"],
                [[d.level_group, repr(d.bucket), repr(p), c, repr(lq), repr(sq)] for p, c, lq, sq in d.levels])
    return (["date", "time_utc", "start_ts", "end_ts", "group", "count", "quote", "long_quote", "short_quote",
             "venues", "cross_exchange", "risk", "band"],
            [[ymd(c["start_ts"]), time.strftime("%H:%M:%S", time.gmtime(c["start_ts"] / 1000)), c["start_ts"],
              c["end_ts"], c["group"], c["count"], repr(c["quote"]), repr(c["long_quote"]), repr(c["short_quote"]),
              " ".join(c["venues"]), int(c["cross_exchange"]), repr(c["risk"]), c["band"]] for c in d.cascades])


def quote_before(conn, ts: int, group: str | None = None, source: str | None = None) -> float:
    """Liquidated quote stored before the hour of ``ts`` (the cumulative chart's starting level)."""
    w, args = _where("hour", None, None, group, source_filter(conn, source))
    row = conn.execute(f"SELECT COALESCE(SUM(quote), 0) FROM liq_hours WHERE {w} AND hour < ?",
                       [*args, ts // HOUR * HOUR]).fetchone()
    return float(row[0])


def vwap_hours(conn, since: int | None, group: str | None = None, source: str | None = None) -> list[tuple]:
    """(hour, volume-weighted price) of the traded volume stored per hour: the charts' price line."""
    w, args = _where("hour", since, None, group, source_filter(conn, source))
    return [(h, q / b) for h, q, b in conn.execute(
        f"SELECT hour, SUM(buy_quote + sell_quote), SUM(buy_base + sell_base) FROM volume_hours WHERE {w} "
        "GROUP BY hour ORDER BY hour", args) if b]


def last_price(conn, group: str) -> float | None:
    """The price of the group's newest raw liquidation (kept for store.keep_liquidations_days)."""
    row = conn.execute("SELECT price FROM liquidations WHERE grp = ? ORDER BY ts DESC LIMIT 1", (group,)).fetchone()
    return row[0] if row else None


def store_state(conn) -> tuple:
    """A few indexed reads that change whenever a liquidation, a cascade, traded volume or retention
    changes the store: readers keep their results while it stays the same."""
    first, last = conn.execute("SELECT MIN(minute), MAX(minute) FROM liq_minutes").fetchone()
    in_last = conn.execute("SELECT SUM(count) FROM liq_minutes WHERE minute = ?", (last,)).fetchone()[0] \
        if last is not None else 0
    cascades = tuple(conn.execute("SELECT COUNT(*), MAX(start_ts), MAX(end_ts) FROM cascades").fetchone())
    hour = conn.execute("SELECT MAX(hour) FROM volume_hours").fetchone()[0]
    trades = conn.execute("SELECT SUM(trades) FROM volume_hours WHERE hour = ?", (hour,)).fetchone()[0] \
        if hour is not None else 0
    return first, last, in_last, cascades, hour, trades


def raw_extent(conn, group: str, since: int | None) -> tuple | None:
    """(first, last) exchange time of the group's raw liquidations since ``since``, or None."""
    row = conn.execute("SELECT MIN(ts), MAX(ts) FROM liquidations WHERE grp = ? AND ts >= ?",
                       (group, since or 0)).fetchone()
    return tuple(row) if row and row[0] is not None else None
