"""The accumulated store on PostgreSQL (``--db postgresql://...``), with the SQLite store's meaning.

The same code writes and reads both: ``PgConnection`` gives asyncpg the small part of the sqlite3
connection interface the store uses (execute / executemany / in_transaction / lastrowid), turning
the store's portable SQL into PostgreSQL's (``?`` -> ``$n``, ``INSERT OR IGNORE`` -> ``ON CONFLICT
DO NOTHING``). write_batch, start_session, apply_retention, accumulated and hourly in store/db.py
run unchanged on it: natural-key primary keys, inserts that ignore duplicates, minute buckets filled
by a trigger that a skipped duplicate never fires, one transaction per batch.

Migrations are versioned in the table ``orderflow_schema``, numbered as the SQLite schema's
(store/schema.py SCHEMA_VERSION); a PostgreSQL store starts at the current layout. With the
TimescaleDB extension available (checked in ``_timescale``), liquidations become a hypertable with
compression and, when store.keep_liquidations_days is set, a retention policy.

asyncpg is imported on first use: it is in the optional `server` extra.
"""

from __future__ import annotations

import re
import time

from orderflow_tui.store.db import (Batch, BatchBuilder, StoreError, apply_retention, masked, start_session,
                                   write_batch)

SCHEMA_VERSION = 4  # the SQLite schema version whose meaning this layout has (tests check they agree)

MIGRATIONS = {
    2: [
        """CREATE TABLE liquidations (
            source TEXT NOT NULL, venue TEXT NOT NULL, symbol TEXT NOT NULL, ts BIGINT NOT NULL, side TEXT NOT NULL,
            price DOUBLE PRECISION NOT NULL, qty DOUBLE PRECISION NOT NULL, quote DOUBLE PRECISION NOT NULL,
            sampled INTEGER NOT NULL, grp TEXT NOT NULL, origin TEXT NOT NULL,
            PRIMARY KEY (source, venue, symbol, ts, side, price, qty))""",
        "CREATE INDEX liquidations_ts ON liquidations (ts)",
        """CREATE TABLE liq_minutes (
            source TEXT NOT NULL, minute BIGINT NOT NULL, venue TEXT NOT NULL, symbol TEXT NOT NULL,
            side TEXT NOT NULL, grp TEXT NOT NULL, count INTEGER NOT NULL, base DOUBLE PRECISION NOT NULL,
            quote DOUBLE PRECISION NOT NULL,
            PRIMARY KEY (minute, source, venue, symbol, side))""",
        # buckets follow the raw table: a liquidation skipped by ON CONFLICT DO NOTHING fires no trigger
        """CREATE FUNCTION liq_minute_add() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO liq_minutes (source, minute, venue, symbol, side, grp, count, base, quote)
            VALUES (NEW.source, NEW.ts / 60000 * 60000, NEW.venue, NEW.symbol, NEW.side, NEW.grp, 1, NEW.qty,
                    NEW.quote)
            ON CONFLICT (minute, source, venue, symbol, side) DO UPDATE SET
                count = liq_minutes.count + 1, base = liq_minutes.base + excluded.base,
                quote = liq_minutes.quote + excluded.quote;
            RETURN NULL;
        END $$""",
        """CREATE TRIGGER liq_minute_add AFTER INSERT ON liquidations
            FOR EACH ROW EXECUTE FUNCTION liq_minute_add()""",
        """CREATE TABLE volume_hours (
            source TEXT NOT NULL, hour BIGINT NOT NULL, venue TEXT NOT NULL, symbol TEXT NOT NULL,
            grp TEXT NOT NULL, trades INTEGER NOT NULL, buy_base DOUBLE PRECISION NOT NULL,
            sell_base DOUBLE PRECISION NOT NULL, buy_quote DOUBLE PRECISION NOT NULL,
            sell_quote DOUBLE PRECISION NOT NULL,
            PRIMARY KEY (source, hour, venue, symbol))""",
        """CREATE TABLE cascades (
            source TEXT NOT NULL, grp TEXT NOT NULL, start_ts BIGINT NOT NULL, end_ts BIGINT,
            count INTEGER NOT NULL, quote DOUBLE PRECISION NOT NULL, long_quote DOUBLE PRECISION NOT NULL,
            short_quote DOUBLE PRECISION NOT NULL, venues TEXT NOT NULL, cross_exchange INTEGER NOT NULL,
            risk DOUBLE PRECISION NOT NULL, band TEXT NOT NULL,
            PRIMARY KEY (source, grp, start_ts))""",
        """CREATE TABLE sessions (
            id BIGSERIAL PRIMARY KEY, source TEXT NOT NULL, mode TEXT NOT NULL, started_ms BIGINT NOT NULL,
            stopped_ms BIGINT, last_seen_ms BIGINT NOT NULL, venues TEXT NOT NULL)""",
        # the bus consumer that writes this store: the last stream sequence committed, in the same
        # transaction as the rows it produced (exactly once across restarts, see bus/headless.py)
        """CREATE TABLE bus_offsets (consumer TEXT PRIMARY KEY, seq BIGINT NOT NULL)""",
    ],
    3: [  # open interest and funding per market and minute (issue 14)
        """CREATE TABLE context_minutes (
            source TEXT NOT NULL, minute BIGINT NOT NULL, venue TEXT NOT NULL, symbol TEXT NOT NULL, grp TEXT NOT NULL,
            oi_base DOUBLE PRECISION, oi_usd DOUBLE PRECISION, funding DOUBLE PRECISION,
            interval_h DOUBLE PRECISION,
            PRIMARY KEY (minute, source, venue, symbol))""",
    ],
    4: [  # the analysis desk's hour rollup by group, venue, side and price bucket (issue 20, schema.py)
        "ALTER TABLE liquidations ADD COLUMN bucket DOUBLE PRECISION NOT NULL DEFAULT 0",
        "ALTER TABLE liquidations ADD COLUMN level DOUBLE PRECISION NOT NULL DEFAULT 0",
        """CREATE TABLE liq_hours (
            source TEXT NOT NULL, hour BIGINT NOT NULL, grp TEXT NOT NULL, venue TEXT NOT NULL, side TEXT NOT NULL,
            bucket DOUBLE PRECISION NOT NULL, level DOUBLE PRECISION NOT NULL, count INTEGER NOT NULL,
            base DOUBLE PRECISION NOT NULL, quote DOUBLE PRECISION NOT NULL,
            PRIMARY KEY (hour, source, grp, venue, side, bucket, level))""",
        """CREATE FUNCTION liq_hour_add() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO liq_hours (source, hour, grp, venue, side, bucket, level, count, base, quote)
            VALUES (NEW.source, NEW.ts / 3600000 * 3600000, NEW.grp, NEW.venue, NEW.side, NEW.bucket, NEW.level, 1,
                    NEW.qty, NEW.quote)
            ON CONFLICT (hour, source, grp, venue, side, bucket, level) DO UPDATE SET
                count = liq_hours.count + 1, base = liq_hours.base + excluded.base,
                quote = liq_hours.quote + excluded.quote;
            RETURN NULL;
        END $$""",
        """CREATE TRIGGER liq_hour_add AFTER INSERT ON liquidations
            FOR EACH ROW EXECUTE FUNCTION liq_hour_add()""",
        "CREATE INDEX cascades_start ON cascades (start_ts)",
    ],
}

MIGRATION_LOCK = 0x0F1057  # pg_advisory_xact_lock key: two processes never migrate at once


def dsn_of(db) -> str | None:
    """The PostgreSQL DSN that --db (a str, or a Path that folded its '//') or store.db names, else None."""
    if not db:
        return None
    text = str(db)
    for scheme in ("postgresql:", "postgres:"):
        if text.startswith(scheme):
            rest = text[len(scheme):]
            return "postgresql://" + rest.lstrip("/") if rest.startswith("/") else None
    return None


def connect_any(path, readonly: bool = False):
    """A store connection for reading or writing: PostgreSQL for a DSN, else the SQLite file."""
    dsn = dsn_of(path)
    if dsn:
        return connect(dsn, readonly)
    from orderflow_tui.store.db import connect as sqlite_connect

    return sqlite_connect(path, readonly)


def store_writer(path, settings, engine, source: str, mode: str, venues: str):
    """The store writer for a resolved --db: PostgreSQL for a DSN, else the SQLite file."""
    from orderflow_tui.store.writer import AsyncStoreWriter

    s = settings.store
    dsn = dsn_of(path)
    return (PgAsyncStoreWriter if dsn else AsyncStoreWriter)(dsn or path, engine, source, mode, venues,
                                                             s.commit_interval_s, s.keep_liquidations_days,
                                                             s.keep_buckets_days, settings.engine.institutional)


redact = masked  # a DSN without its password, for messages


def explain_any(path, exc: Exception) -> StoreError:
    """A read or write failure as one line, for a DSN or an SQLite file."""
    dsn = dsn_of(path)
    if dsn:
        return exc if isinstance(exc, StoreError) else explain(dsn, exc)
    from orderflow_tui.store.db import explain as explain_file

    return explain_file(path, exc)


def _import_asyncpg():
    try:
        import asyncpg
    except ImportError:
        raise StoreError("--db postgresql://...: needs asyncpg: pip install 'orderflow-tui[server]'") from None
    return asyncpg


# ---- the sqlite3-like connection ----------------------------------------------------------------

_QMARK = re.compile(r"\?")


def translate(sql: str) -> str:
    """The store's SQL in PostgreSQL's dialect (the store's statements hold no '?' inside strings)."""
    s = sql.strip()
    if s.upper().startswith("INSERT OR IGNORE INTO"):
        s = "INSERT INTO" + s[len("INSERT OR IGNORE INTO"):] + " ON CONFLICT DO NOTHING"
    if s.upper() == "BEGIN IMMEDIATE":
        return "BEGIN"
    n = 0

    def number(_):
        nonlocal n
        n += 1
        return f"${n}"

    s = _QMARK.sub(number, s)
    # SQLite reads a bare column in DO UPDATE SET as the existing row's; PostgreSQL wants it qualified
    table = re.match(r"INSERT INTO (\w+)", s, re.I)
    if table and "DO UPDATE SET" in s.upper():
        s = re.sub(r"\b(\w+) = \1 \+ excluded\.\1\b", lambda m: f"{m[1]} = {table[1]}.{m[1]} + excluded.{m[1]}", s)
    if re.match(r"INSERT INTO sessions\b", s, re.I):
        s += " RETURNING id"
    return s


class Cursor:
    def __init__(self, rows=None, rowcount: int = -1, lastrowid=None):
        self.rows = [tuple(r) for r in rows or ()]
        self.rowcount = rowcount
        self.lastrowid = lastrowid

    def fetchone(self):
        return self.rows[0] if self.rows else None

    def fetchall(self):
        return self.rows

    def __iter__(self):
        return iter(self.rows)


class PgConnection:
    """One asyncpg connection on a private event loop, used like the sqlite3 connection of store/db.py.
    Calls must not overlap (the store writers serialize them)."""

    def __init__(self, dsn: str):
        import asyncio  # not at the top: `stats` on an SQLite file never needs asyncio
        self.dsn = dsn
        self.asyncpg = _import_asyncpg()
        self.loop = asyncio.new_event_loop()
        self.conn = None
        self.before_commit = None  # called with this connection just before a COMMIT
        try:
            self.conn = self._run(self.asyncpg.connect(dsn, timeout=10, command_timeout=60))
        except Exception as exc:
            self.loop.close()
            raise explain(dsn, exc) from None

    def _run(self, coro):
        return self.loop.run_until_complete(coro)

    @property
    def in_transaction(self) -> bool:
        return self.conn is not None and self.conn.is_in_transaction()

    def execute(self, sql: str, args=()) -> Cursor:
        pg = translate(sql)
        if pg.upper() == "COMMIT" and self.before_commit is not None:
            self.before_commit(self)
        head = pg.lstrip().split(None, 1)[0].upper()
        if head in ("SELECT", "WITH") or pg.endswith("RETURNING id"):
            rows = self._run(self.conn.fetch(pg, *args))
            return Cursor(rows, len(rows), rows[0][0] if rows and pg.endswith("RETURNING id") else None)
        status = self._run(self.conn.execute(pg, *args))
        tail = status.rsplit(" ", 1)[-1]
        return Cursor(rowcount=int(tail) if tail.isdigit() else -1)

    def executemany(self, sql: str, rows) -> None:
        self._run(self.conn.executemany(translate(sql), list(rows)))

    def close(self) -> None:
        if self.conn is not None:
            try:
                self._run(self.conn.close(timeout=5))
            except Exception:
                self.conn.terminate()
            self.conn = None
        self.loop.close()


def explain(dsn: str, exc: Exception) -> StoreError:
    import asyncio
    name = type(exc).__name__
    msg = " ".join(str(exc).split())[:160]
    where = redact(dsn)
    if isinstance(exc, (OSError, asyncio.TimeoutError)) or name in ("CannotConnectNowError",
                                                                     "ConnectionDoesNotExistError"):
        hint = f"cannot reach the server ({msg or name}); is PostgreSQL running there?"
    elif name in ("InvalidPasswordError", "InvalidAuthorizationSpecificationError"):
        hint = "the server refused the login; check the user and password"
    elif name == "InvalidCatalogNameError":
        hint = f"no such database ({msg}); create it first (createdb)"
    elif name in ("DiskFullError", "InsufficientResourcesError"):
        hint = "the server cannot write: its disk is full"
    elif name in ("ReadOnlySQLTransactionError",):
        hint = "the server is read-only (a standby?); point --db at the primary"
    else:
        hint = f"cannot be used ({name}: {msg})"
    return StoreError(f"store {where}: {hint}")


def connect(dsn: str, readonly: bool = False) -> PgConnection:
    """A checked connection: schema migrated (read-write) or verified (read-only). StoreError otherwise."""
    conn = PgConnection(dsn)
    try:
        tables = {r[0] for r in conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()")}
        version = 0
        if "orderflow_schema" in tables:
            version = conn.execute("SELECT COALESCE(MAX(version), 0) FROM orderflow_schema").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise StoreError(f"store {redact(dsn)}: written by a newer orderflow-tui (schema {version}, this one "
                             f"reads {SCHEMA_VERSION}); upgrade, or choose another database with --db")
        if version == 0 and tables - {"orderflow_schema"}:
            raise StoreError(f"store {redact(dsn)}: a database of another program (it has tables); "
                             "create an empty one for orderflow-tui (createdb orderflow) and pass it with --db")
        if readonly:
            if version == 0:
                raise StoreError(f"store {redact(dsn)}: empty; nothing recorded yet")
        else:
            migrate(conn)
        return conn
    except StoreError:
        conn.close()
        raise
    except Exception as exc:
        conn.close()
        raise explain(dsn, exc) from None


def migrate(conn: PgConnection) -> None:
    conn.execute("BEGIN")
    try:
        conn.execute(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK})")  # a second process waits here
        conn.execute("CREATE TABLE IF NOT EXISTS orderflow_schema "
                     "(version INTEGER PRIMARY KEY, applied_ms BIGINT NOT NULL)")
        version = conn.execute("SELECT COALESCE(MAX(version), 0) FROM orderflow_schema").fetchone()[0]
        for target in sorted(MIGRATIONS):
            if target <= version:
                continue
            for statement in MIGRATIONS[target]:
                conn.execute(statement)
            if target == 4:
                from orderflow_tui.store.analysis import backfill_v4

                backfill_v4(conn)
            conn.execute("INSERT INTO orderflow_schema (version, applied_ms) VALUES (?, ?)",
                         (target, int(time.time() * 1000)))
        if version == 0:  # a new store: the liquidations table just made
            _timescale(conn)
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def _timescale(conn: PgConnection) -> bool:
    """Where the store checks for TimescaleDB: when the server offers the extension, liquidations
    become a hypertable (one-day chunks of the ms timestamp) compressed after 7 days. Without it
    the plain table above works the same, only slower over years."""
    if not conn.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb'").fetchone():
        return False
    conn.execute("CREATE EXTENSION IF NOT EXISTS timescaledb")
    conn.execute("SELECT create_hypertable('liquidations', 'ts', chunk_time_interval => 86400000, "
                 "migrate_data => true, if_not_exists => true)")
    conn.execute("CREATE OR REPLACE FUNCTION orderflow_now_ms() RETURNS BIGINT LANGUAGE SQL STABLE AS "
                 "$$ SELECT (extract(epoch FROM now()) * 1000)::BIGINT $$")
    conn.execute("SELECT set_integer_now_func('liquidations', 'orderflow_now_ms', replace_if_exists => true)")
    conn.execute("ALTER TABLE liquidations SET "
                 "(timescaledb.compress, timescaledb.compress_segmentby = 'venue, symbol')")
    conn.execute("SELECT add_compression_policy('liquidations', BIGINT '604800000', if_not_exists => true)")
    return True


def timescale_retention(conn: PgConnection, keep_liquidations_days: int) -> None:
    """With TimescaleDB, raw retention is a policy that drops whole chunks (store.keep_liquidations_days)."""
    if keep_liquidations_days and conn.execute(
            "SELECT 1 FROM pg_extension WHERE extname = 'timescaledb'").fetchone():
        conn.execute("SELECT remove_retention_policy('liquidations', if_exists => true)")
        conn.execute(f"SELECT add_retention_policy('liquidations', BIGINT '{keep_liquidations_days * 86_400_000}')")



# ---- writers: the same interface as store/sync.py and store/writer.py -----------------------------


class PgSyncStoreWriter:
    """The replay's blocking writer, on PostgreSQL."""

    def __init__(self, dsn: str, source: str, mode: str = "replay", venues: str = "", replace_source: bool = True,
                 interval_s: float = 1.0):
        self.dsn = dsn
        self.conn = connect(dsn)
        self.builder = BatchBuilder(source)
        self.interval_s = interval_s
        self.pending = Batch()
        self.last_commit = 0.0
        self.committed = 0
        try:
            self.session = start_session(self.conn, source, mode, venues, replace_source)
        except Exception as exc:
            raise explain(dsn, exc) from None

    def absorb_sync(self, engine, force: bool = False) -> None:
        self.pending.extend(self.builder.collect(engine))
        now = time.monotonic()
        if force or now - self.last_commit >= self.interval_s:
            self._commit(None)
            self.last_commit = now

    def _commit(self, stopped_ms) -> None:
        batch, self.pending = self.pending, Batch()
        ms = int(time.time() * 1000)
        try:
            write_batch(self.conn, batch, (ms, stopped_ms, self.session))
        except Exception as exc:
            self.pending = batch  # nothing accepted is lost: kept for the next try
            raise explain(self.dsn, exc) from None
        self.committed += len(batch.liquidations)

    def close_sync(self, engine=None) -> None:
        if engine is not None:
            self.pending.extend(self.builder.collect(engine))
        try:
            self._commit(int(time.time() * 1000))
        finally:
            self.conn.close()


class PgAsyncStoreWriter:
    """The live writer on PostgreSQL: the engine's facts drained every DRAIN_S, one transaction per
    interval in a worker thread (the event loop never waits on the server); a failed commit keeps
    its batch for the next try and says why in ``status`` / ``error``."""

    DRAIN_S = 0.1

    def __init__(self, dsn: str, engine, source: str, mode: str, venues: str, interval_s: float = 1.0,
                 keep_liquidations_days: int = 0, keep_buckets_days: int = 0, institutional: float = 100_000.0):
        import asyncio
        self.dsn = dsn
        self.path = redact(dsn)  # what the status line names
        self.engine = engine
        self.builder = BatchBuilder(source)
        self.source, self.mode, self.venues = source, mode, venues
        self.interval_s = interval_s
        self.retention = (keep_liquidations_days, keep_buckets_days)
        self.institutional = institutional  # liquidations this large are kept with the rollups
        self.pending = Batch()
        self.conn: PgConnection | None = None
        self.session = 0
        self.status, self.error = "starting", ""
        self.commits = self.rows = 0
        self.longest_commit_ms = 0.0
        self.on_commit = None  # called (in the loop) after each successful commit (the bus consumer acks)
        self._stop = asyncio.Event()
        self._lock = asyncio.Lock()

    async def open(self) -> None:
        import asyncio
        self.conn = await asyncio.to_thread(connect, self.dsn)
        try:
            self.session = await asyncio.to_thread(start_session, self.conn, self.source, self.mode, self.venues)
            if self.retention[0]:
                await asyncio.to_thread(timescale_retention, self.conn, self.retention[0])
        except Exception as exc:
            raise explain(self.dsn, exc) from None
        self.status = "ok"

    async def run(self) -> None:
        import asyncio
        last_commit = time.monotonic()
        last_retention = last_commit - 3600  # prune once at start, then hourly
        while not self._stop.is_set():
            try:
                async with asyncio.timeout(self.DRAIN_S):  # not wait_for: it can drop a cancel
                    await self._stop.wait()
            except TimeoutError:
                pass
            self.pending.extend(self.builder.collect(self.engine))
            if time.monotonic() - last_commit >= self.interval_s:
                last_commit = time.monotonic()
                await self.flush()
            if any(self.retention) and time.monotonic() - last_retention > 3600:
                last_retention = time.monotonic()
                async with self._lock:  # the connection is the writer's: held until the pass ends, even
                    job = asyncio.ensure_future(asyncio.to_thread(  # when the writer is cancelled meanwhile
                        apply_retention, self.conn, *self.retention, int(time.time() * 1000), self.institutional))
                    try:
                        await asyncio.shield(job)
                    except asyncio.CancelledError:
                        await asyncio.wait([job])
                        raise

    async def flush(self, stopping: bool = False, extra=None) -> bool:
        """Commit everything collected so far in one transaction (``extra(conn)`` runs inside it: the
        bus consumer's offset). A cancelled flush lets the transaction finish and keeps the batch
        when it did not commit."""
        import asyncio
        async with self._lock:
            self.pending.extend(self.builder.collect(self.engine))
            if self.conn is None:
                return False
            batch, self.pending = self.pending, Batch()
            now = int(time.time() * 1000)
            t0 = time.perf_counter()
            write = asyncio.ensure_future(asyncio.to_thread(self._write, batch, (now, now if stopping else None,
                                                                                 self.session), extra))
            try:
                await asyncio.shield(write)
            except asyncio.CancelledError:
                await asyncio.wait([write])
                self._settle(write, batch, t0)
                raise
            except Exception:
                pass
            return self._settle(write, batch, t0)

    def _write(self, batch: Batch, session: tuple, extra) -> None:
        self.conn.before_commit = extra  # inside write_batch's transaction: all or nothing
        try:
            write_batch(self.conn, batch, session)
        finally:
            self.conn.before_commit = None

    def _settle(self, write, batch: Batch, t0: float) -> bool:
        exc = write.exception()
        if exc is not None:
            self.pending.extend(batch)
            self.status, self.error = "error", str(exc if isinstance(exc, StoreError) else explain(self.dsn, exc))
            return False
        self.longest_commit_ms = max(self.longest_commit_ms, (time.perf_counter() - t0) * 1000)
        self.status, self.error = "ok", ""
        self.commits += 1
        self.rows += len(batch)
        return True

    def stop(self) -> None:
        self._stop.set()

    async def close(self) -> None:
        import asyncio
        self._stop.set()
        await self.flush(stopping=True)
        if self.conn is not None:
            await asyncio.to_thread(self.conn.close)
            self.conn = None
