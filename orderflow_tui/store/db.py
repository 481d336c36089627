"""Opening the store safely, turning engine facts into one write batch, and reading statistics.

Every failure to open or write is a StoreError whose message is one line naming the file and what
to do. A file that is not ours, is corrupt or is newer is never replaced.
"""

from __future__ import annotations

import math
import os
import re
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path

from orderflow_tui.store import schema

BUSY_TIMEOUT_MS = 5000


_URL_SECRET = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*:/{1,2}[^/:@\s]*:)\S*@")
_KV_SECRET = re.compile(r"(?i)\b(password|passwd|pwd|pass|token)=[^&\s]*")


def masked(text) -> str:
    """``text`` on one line with every password masked: a URL's (a DSN, also one that a Path folded
    to ``postgresql:/user:pw@host``, or a --bus URL) and a ``password=`` parameter's. Every message
    that can hold a DSN goes through this (StoreError, the CLI's errors, the log)."""
    text = _URL_SECRET.sub(r"\1***@", str(text))
    return " ".join(_KV_SECRET.sub(r"\1=***", text).split())


class StoreError(Exception):
    """The store cannot be used; the message is one line naming the file and what to do, with no
    password in it."""

    def __init__(self, message: str) -> None:
        super().__init__(masked(message))


STORE_FILES = {"live": "orderflow.sqlite", "demo": "demo.sqlite", "replay": "replay.sqlite"}


def resolve_db_path(db: str | Path | None, settings=None, kind: str = "live") -> Path:
    """--db, else (live only) the config's store.db, else the kind's own file in the user data
    directory: a demo or a replay never writes into the live store unless --db names it."""
    if db:
        return Path(db).expanduser()
    if kind == "live" and settings is not None and settings.store.db:
        return Path(settings.store.db).expanduser()
    from platformdirs import user_data_path

    return user_data_path("orderflow-tui") / STORE_FILES[kind]


def explain(path: Path, exc: Exception) -> StoreError:
    msg = str(exc)
    low = msg.lower()
    if "not a database" in low or "file is encrypted" in low:
        hint = "is not an SQLite database; move it away or choose another file with --db"
    elif "malformed" in low or "corrupt" in low:
        hint = "is corrupt; keep a copy, try `sqlite3 FILE .recover`, or choose another file with --db"
    elif "locked" in low or "busy" in low:
        hint = "is locked by another process for too long; try again, or choose another file with --db"
    elif "disk is full" in low or "disk i/o" in low:
        hint = "cannot be written: the disk is full or failing; free space and restart"
    elif "readonly" in low or "read-only" in low or "unable to open" in low or "permission" in low:
        hint = "cannot be opened for writing (read-only file or directory); fix permissions or use --db"
    else:
        hint = f"cannot be used ({msg}); choose another file with --db"
    return StoreError(f"store {path}: {hint}")


def connect(path: Path, readonly: bool = False) -> sqlite3.Connection:
    """A checked connection: WAL, busy timeout, schema migrated (read-write) or verified (read-only)."""
    path = Path(path)
    if path.is_dir():
        raise StoreError(f"store {path}: is a directory; name a file with --db")
    if readonly and not path.exists():
        raise StoreError(f"store {path}: no such file; run `orderflow-tui` or `replay` first, or pass --db")
    if not readonly:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"store {path}: cannot create its directory ({exc.strerror}); use --db") from None
        if path.exists() and not os.access(path, os.W_OK):
            raise StoreError(f"store {path}: the file is read-only; fix permissions or use --db")
        if not path.exists() and not os.access(path.parent, os.W_OK):
            raise StoreError(f"store {path}: the directory is not writable; fix permissions or use --db")
    try:
        uri = f"file:{path}?mode=ro" if readonly else f"file:{path}"
        conn = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None,
                               check_same_thread=False)
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version > schema.SCHEMA_VERSION:
            conn.close()
            raise StoreError(f"store {path}: written by a newer orderflow-tui (schema {version}, this one "
                             f"reads {schema.SCHEMA_VERSION}); upgrade, or choose another file with --db")
        if version == 0 and _has_foreign_tables(conn):
            conn.close()
            raise StoreError(f"store {path}: an SQLite database of another program; choose another file with --db")
        # A writer checks every page when it opens the file. A reader (stats, export, the accumulated
        # view) does not pay that (~0.1 s on a year's 17 MB): SQLite checks each page it reads, more
        # strictly with cell_size_check, and reading the schema here fails at once on a broken file;
        # a corrupt page met later raises "malformed", reported as corrupt like this (explain).
        if readonly:
            conn.execute("PRAGMA cell_size_check = ON")
            conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
        check = "ok" if readonly else conn.execute("PRAGMA quick_check").fetchone()[0]
        if check != "ok":
            conn.close()
            raise StoreError(f"store {path}: is corrupt ({check}); keep a copy, try `sqlite3 FILE .recover`, "
                             "or choose another file with --db")
        if not readonly:
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")  # WAL + NORMAL: a crash loses no committed batch
            migrate(conn)
        elif version == 0:
            raise StoreError(f"store {path}: empty; nothing recorded yet")
        elif version < schema.SCHEMA_VERSION:  # an older store: migrated (never replaced), then read
            conn.close()
            if not os.access(path, os.W_OK) or not os.access(path.parent, os.W_OK):
                raise StoreError(f"store {path}: written by an older orderflow-tui (schema {version}); open it "
                                 "once with write access to migrate it")
            connect(path).close()
            return connect(path, readonly=True)
        return conn
    except sqlite3.Error as exc:
        raise explain(path, exc) from None


def _has_foreign_tables(conn) -> bool:
    names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    return bool(names) and "liquidations" not in names


def migrate(conn: sqlite3.Connection) -> None:
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    for target in range(version + 1, schema.SCHEMA_VERSION + 1):
        conn.execute("BEGIN IMMEDIATE")
        try:
            # a second process may have migrated meanwhile
            if conn.execute("PRAGMA user_version").fetchone()[0] >= target:
                conn.execute("ROLLBACK")
                continue
            for statement in _statements(schema.MIGRATIONS[target]):
                conn.execute(statement)
            if target == 4:
                from orderflow_tui.store.analysis import backfill_v4

                backfill_v4(conn)
            conn.execute(f"PRAGMA user_version = {target}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise


def _statements(script: str) -> list[str]:
    """Split a migration script on ';' at the end of a statement (triggers hold inner ones)."""
    out, buf = [], []
    depth = 0
    for line in script.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("--"):
            continue
        buf.append(line)
        up = stripped.upper()
        if up.startswith("CREATE TRIGGER"):
            depth = 1
        if depth and up.startswith("END;"):
            depth = 0
            out.append("\n".join(buf))
            buf = []
        elif not depth and stripped.endswith(";"):
            out.append("\n".join(buf))
            buf = []
    return out


# ---- writing --------------------------------------------------------------------------------


@dataclass
class Batch:
    liquidations: list = field(default_factory=list)
    volumes: list = field(default_factory=list)
    cascades: list = field(default_factory=list)
    context: list = field(default_factory=list)  # open interest and funding per market and minute

    def __len__(self) -> int:
        return len(self.liquidations) + len(self.volumes) + len(self.cascades) + len(self.context)

    def extend(self, other: "Batch") -> None:
        self.liquidations += other.liquidations
        self.volumes += other.volumes
        self.cascades += other.cascades
        self.context += other.context


class BatchBuilder:
    """Drains the engine's finished facts and the volume traded since the last batch."""

    def __init__(self, source: str):
        self.source = source  # live, demo, or replay:CAPTURE@started_ms (volume rows, the raw origin)
        self.kind = source.split(":")[0]  # live, demo or replay: part of every key
        self.origin = source if self.kind != source else ""
        self.seen: dict[str, tuple] = {}  # market -> (trades, buy_b, sell_b, buy_q, sell_q) already written
        self.context_seen: dict[str, tuple] = {}  # market -> the last open-interest point written

    def collect(self, engine) -> Batch:
        batch = Batch()
        facts = engine.facts
        while facts:
            kind, *rest = facts.popleft()
            if kind == "liquidation":
                liq = rest[0]
                group = engine.markets[liq.market].group
                g = engine.groups.get(group)  # the group's §5 bucket, as the engine's clusters use it
                bucket, level = (g.book.bucket, g.book.grid.price(g.book.grid.row(liq.price))) if g else (0.0, 0.0)
                batch.liquidations.append((self.kind, liq.venue, liq.symbol, liq.ts, liq.position, liq.price, liq.qty,
                                           liq.quote, int(liq.sampled), group, self.origin, bucket, level))
            elif kind in ("cascade_start", "cascade_end"):
                c = rest[0]
                batch.cascades.append((self.kind, c.group, c.start_ts, c.end_ts, c.count, c.quote, c.long_q, c.short_q,
                                       ",".join(sorted(c.venues)), int(c.cross_exchange), c.risk, c.band))
        for group in engine.groups.values():  # the running cascade, with its latest numbers
            c = group.book.active_cascade
            if c is not None:
                c.score(engine.now, engine.venues_tracked or len(group.flow) or 1)
                batch.cascades.append((self.kind, c.group, c.start_ts, None, c.count, c.quote, c.long_q, c.short_q,
                                       ",".join(sorted(c.venues)), int(c.cross_exchange), c.risk, c.band))
        for m in engine.markets.values():
            now = (m.trades, m.buy_base, m.sell_base, m.buy_quote, m.sell_quote)
            before = self.seen.get(m.market, (0, 0.0, 0.0, 0.0, 0.0))
            if now[0] != before[0]:
                hour = m.last_ts // 3_600_000 * 3_600_000  # the traded volume goes to the latest hour
                batch.volumes.append((self.source, hour, m.venue, m.symbol, m.group,
                                      *(a - b for a, b in zip(now, before))))
                self.seen[m.market] = now
        for key, c in engine.context.markets.items():  # open interest and funding, per minute
            done = self.context_seen.get(key)  # (minute ms, oi base, oi usd) last written
            for minute, oi_base, oi_usd in list(c.minutes)[-2:]:  # the minute just closed and the current one
                point = (minute * 60_000, oi_base, oi_usd)
                if done is not None and (point[0] < done[0] or point == done):
                    continue
                batch.context.append((self.kind, point[0], c.venue, c.symbol, c.group, oi_base, oi_usd or None,
                                      c.funding, c.interval_h))
                done = point
            if done is not None:
                self.context_seen[key] = done
        return batch


def with_levels(rows: list) -> list:
    """Liquidation rows with their price bucket and its lower edge; a row built without them (by an
    older producer) gets its group's default bucket (analytics.md §5)."""
    from orderflow_tui.instruments import default_row_size

    out = []
    for r in rows:
        if len(r) == 11:
            bucket = default_row_size(r[9], r[5])
            r = (*r, bucket, math.floor(r[5] / bucket + 1e-9) * bucket)
        out.append(r)
    return out


def write_batch(conn: sqlite3.Connection, batch: Batch, session: tuple | None = None) -> None:
    """One transaction: everything in the batch, or nothing."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        if batch.liquidations:
            conn.executemany(schema.INSERT_LIQUIDATION, with_levels(batch.liquidations))
        if batch.volumes:
            conn.executemany(schema.ADD_VOLUME, batch.volumes)
        if batch.cascades:
            conn.executemany(schema.UPSERT_CASCADE, batch.cascades)
        if batch.context:
            conn.executemany(schema.UPSERT_CONTEXT, batch.context)
        if session is not None:
            conn.execute("UPDATE sessions SET last_seen_ms = ?, stopped_ms = ? WHERE id = ?", session)
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def start_session(conn, source: str, mode: str, venues: str, replace_source: bool = False) -> int:
    """Register a run; a replay of the same capture first removes what its earlier replay wrote."""
    now = int(time.time() * 1000)
    conn.execute("BEGIN IMMEDIATE")
    try:
        if replace_source:
            conn.execute("DELETE FROM volume_hours WHERE source = ?", (source,))
            conn.execute("DELETE FROM sessions WHERE source = ?", (source,))
        cur = conn.execute("INSERT INTO sessions (source, mode, started_ms, last_seen_ms, venues) "
                           "VALUES (?, ?, ?, ?, ?)", (source, mode, now, now, venues))
        conn.execute("COMMIT")
        return cur.lastrowid
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def apply_retention(conn, keep_liquidations_days: int, keep_buckets_days: int, now_ms: int,
                    institutional: float = 100_000.0) -> int:
    """Retention in tiers (0 keeps forever): raw liquidations below the institutional size for
    ``keep_liquidations_days``; the minute and hour rollups, traded volume, open interest, cascades
    and institutional liquidations for ``keep_buckets_days``. Every statistic reads the rollups, so
    it is the same before and after raw rows go. Ages count back from each source's newest liquidation (never from
    later than now): a replay of an old capture is not deleted by the next launch."""
    removed = 0
    conn.execute("BEGIN IMMEDIATE")
    try:
        for source in ("live", "demo", "replay", "unknown"):
            newest = conn.execute("SELECT MAX(ts) FROM liquidations WHERE source = ?", (source,)).fetchone()[0]
            if newest is None:
                newest = conn.execute("SELECT MAX(minute) FROM liq_minutes WHERE source = ?", (source,)).fetchone()[0]
            if newest is None:
                continue
            ref = min(now_ms, newest)
            if keep_liquidations_days:
                cut = ref - keep_liquidations_days * 86_400_000
                # the source's first liquidation stays with the rollups: first_ts stays exact
                removed += conn.execute("DELETE FROM liquidations WHERE source = ? AND ts < ? AND quote < ? AND ts > "
                                        "(SELECT MIN(ts) FROM liquidations WHERE source = ?)",
                                        (source, cut, institutional, source)).rowcount
            if keep_buckets_days:
                cut = ref - keep_buckets_days * 86_400_000
                src = (source, source + ":%")
                removed += conn.execute("DELETE FROM liquidations WHERE source = ? AND ts < ?", (source, cut)).rowcount
                removed += conn.execute("DELETE FROM liq_minutes WHERE source = ? AND minute < ?",
                                        (source, cut)).rowcount
                removed += conn.execute("DELETE FROM liq_hours WHERE source = ? AND hour < ?", (source, cut)).rowcount
                removed += conn.execute("DELETE FROM cascades WHERE source = ? AND start_ts < ?",
                                        (source, cut)).rowcount
                removed += conn.execute("DELETE FROM context_minutes WHERE source = ? AND minute < ?",
                                        (source, cut)).rowcount
                removed += conn.execute("DELETE FROM volume_hours WHERE (source = ? OR source LIKE ?) AND hour < ?",
                                        (*src, cut)).rowcount
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return removed


# ---- reading --------------------------------------------------------------------------------


SOURCES = ("live", "demo", "replay", "unknown", "all")


def source_filter(conn, source: str | None) -> tuple[str, str, list]:
    """(label, SQL condition, args) for --source: live, demo, replay (every capture), unknown (rows
    from before sources were stored that no live run covers) or all. None: live, or everything when
    the store holds no live row at all (a file that only a demo or replays wrote into)."""
    if source is None:
        has_live = any(conn.execute(f"SELECT 1 FROM {t} WHERE source = 'live' LIMIT 1").fetchone()
                       for t in ("liq_minutes", "volume_hours", "cascades"))
        source = "live" if has_live else "all"
    if source not in SOURCES:
        raise StoreError(f"--source {source!r}: use one of {', '.join(SOURCES)}")
    if source == "all":
        return source, "1 = 1", []
    # volume rows keep the whole source (replay:CAPTURE@started_ms), the other tables its kind
    return source, "(source = ? OR source LIKE ?)", [source, source + ":%"]


def _where(column: str, since: int | None, until: int | None, group: str | None,
           source: tuple = ("all", "1 = 1", [])) -> tuple[str, list]:
    """SQL condition and arguments for a time range on ``column``, an optional group and a source."""
    where, args = [source[1]], list(source[2])
    if since is not None:
        where.append(f"{column} >= ?")
        args.append(since)
    if until is not None:
        where.append(f"{column} <= ?")
        args.append(until)
    if group:
        where.append("grp = ?")
        args.append(group.upper())
    return " AND ".join(where), args


def accumulated(conn, since: int | None = None, until: int | None = None, group: str | None = None,
                source: str | None = None, cells: list | None = None) -> dict:
    """The accumulated statistics (analytics.md §10), from the minute buckets, of one source
    (``source_filter``: live by default). ``cells``: the same span's (group, venue, side, count,
    base, quote) already summed from the hour rollup (store/analysis.py), which saves a scan."""
    src = source_filter(conn, source)
    w, args = _where("minute", None if since is None else since // 60_000 * 60_000, until, group, src)
    first_last = conn.execute(f"SELECT MIN(minute), MAX(minute) FROM liq_minutes WHERE {w}", args).fetchone()
    rw, rargs = _where("ts", since, until, group, src)
    raw = conn.execute(f"SELECT MIN(ts), MAX(ts) FROM liquidations WHERE {rw}", rargs).fetchone()
    first_ts = raw[0] if raw[0] is not None else first_last[0]
    if first_last[0] is not None and raw[0] is not None and first_last[0] < raw[0] // 60_000 * 60_000:
        first_ts = first_last[0]  # older raw rows aged out (retention): the first minute bucket kept
    last_ts = raw[1] if raw[1] is not None else first_last[1]

    # one scan of the minute buckets, split by group, venue and side (a year of them is ~0.1 s)
    if cells is None:
        cells = conn.execute(f"SELECT grp, venue, side, SUM(count), SUM(base), SUM(quote) FROM liq_minutes "
                             f"WHERE {w} GROUP BY grp, venue, side", args).fetchall()

    def sums(keep) -> dict:
        out = {"count": 0, "base": 0.0, "quote": 0.0}
        for cell in cells:
            if keep(cell):
                out["count"] += cell[3]
                out["base"] += cell[4]
                out["quote"] += cell[5]
        return out

    total = sums(lambda c: True)
    long, short = sums(lambda c: c[2] == "long"), sums(lambda c: c[2] == "short")
    for side in (long, short):
        side["share_pct"] = side["quote"] / total["quote"] * 100 if total["quote"] else 0.0
    venues = {}
    for venue in sorted({c[1] for c in cells}):
        venues[venue] = sums(lambda c: c[1] == venue)
    venues = dict(sorted(venues.items(), key=lambda kv: -kv[1]["quote"]))
    for v in venues.values():
        v["share_pct"] = v["quote"] / total["quote"] * 100 if total["quote"] else 0.0
    groups = {g: sums(lambda c: c[0] == g) for g in sorted({c[0] for c in cells})}
    cw, cargs = _where("start_ts", since, until, group, src)
    cascades = conn.execute(f"SELECT COUNT(*), COALESCE(SUM(cross_exchange),0), COALESCE(MAX(risk),0) "
                            f"FROM cascades WHERE {cw}", cargs).fetchone()
    duration_ms = (last_ts - first_ts) if first_ts is not None else 0
    hours = duration_ms / 3_600_000
    total["cascades"] = cascades[0]
    rates = {"count_per_hour": total["count"] / hours if hours > 0 else 0.0,
             "base_per_hour": total["base"] / hours if hours > 0 else 0.0,
             "quote_per_hour": total["quote"] / hours if hours > 0 else 0.0}
    sessions = [dict(zip(("source", "mode", "started_ms", "stopped_ms", "last_seen_ms", "venues"), r))
                for r in conn.execute("SELECT source, mode, started_ms, stopped_ms, last_seen_ms, venues "
                                      f"FROM sessions WHERE {src[1]} ORDER BY started_ms DESC LIMIT 20", src[2])]
    return {"source": src[0], "first_ts": first_ts, "last_ts": last_ts, "duration_ms": duration_ms, "total": total,
            "long": long, "short": short, "venues": venues, "groups": groups,
            "cascades": {"count": cascades[0], "cross_exchange": cascades[1], "max_risk": cascades[2]},
            "rates": rates, "sessions": sessions}


def hourly(conn, since: int | None = None, until: int | None = None, group: str | None = None,
           source: str | None = None) -> list[tuple]:
    """(hour, long quote, short quote, buy quote, sell quote, last price proxy) per hour, oldest first."""
    _, cond, sargs = source_filter(conn, source)
    args = [since or 0, until if until is not None else 1 << 62, *sargs]
    g = f" AND {cond}" + (" AND grp = ?" if group else "")
    if group:
        args.append(group.upper())
    liq = {}
    for hour, side, quote in conn.execute(
            f"SELECT minute / 3600000 * 3600000, side, SUM(quote) FROM liq_minutes WHERE minute >= ? "
            f"AND minute <= ?{g} GROUP BY 1, 2", args):
        liq.setdefault(hour, [0.0, 0.0])[0 if side == "long" else 1] += quote
    vol = {}
    for hour, bq, sq, bb, sb in conn.execute(
            f"SELECT hour, SUM(buy_quote), SUM(sell_quote), SUM(buy_base), SUM(sell_base) FROM volume_hours "
            f"WHERE hour >= ? AND hour <= ?{g} GROUP BY hour", args):
        vol[hour] = (bq, sq, (bq + sq) / (bb + sb) if bb + sb else 0.0)
    out = []
    for hour in sorted(set(liq) | set(vol)):
        lq, sq_ = liq.get(hour, (0.0, 0.0))
        bq, sq, vwap = vol.get(hour, (0.0, 0.0, 0.0))
        out.append((hour, lq, sq_, bq, sq, vwap))
    return out


def open_interest(conn, since: int | None = None, until: int | None = None, group: str | None = None,
                  source: str | None = None) -> list[tuple]:
    """(hour, open interest in USD) per hour, oldest first, for the accumulated chart beside the
    liquidation bars: per market the last minute stored in the hour, summed over the markets (the
    sum carries the one- or two-sided caveat of the MARKET panel)."""
    _, cond, sargs = source_filter(conn, source)
    where, args = _where("minute", since, until, group, (None, cond, sargs))
    last: dict[tuple, tuple] = {}
    for minute, venue, symbol, usd in conn.execute(
            f"SELECT minute, venue, symbol, oi_usd FROM context_minutes WHERE {where} AND oi_usd IS NOT NULL "
            f"ORDER BY minute", args):
        last[(minute // 3_600_000 * 3_600_000, venue, symbol)] = (minute, usd)
    hours: dict[int, float] = {}
    for (hour, _, _), (_, usd) in last.items():
        hours[hour] = hours.get(hour, 0.0) + usd
    return sorted(hours.items())


def cvd_hours(conn, since: int | None = None, until: int | None = None, group: str | None = None,
              source: str | None = None) -> list[tuple[int, float]]:
    """(hour, CVD in quote at the hour's end) per hour, oldest first: the running sum of the
    volume_hours rollup's buy - sell quote from ``since`` (a chart's CVD starts at 0 at its left
    edge). No table of its own: volume_hours already holds each hour's delta (issue 23)."""
    w, args = _where("hour", since, until, group, source_filter(conn, source))
    out, cvd = [], 0.0
    for hour, delta in conn.execute(f"SELECT hour, SUM(buy_quote - sell_quote) FROM volume_hours WHERE {w} "
                                    "GROUP BY hour HAVING SUM(buy_base + sell_base) > 0 ORDER BY hour", args):
        cvd += delta  # hours with traded volume only, as the price line's
        out.append((hour, cvd))
    return out
