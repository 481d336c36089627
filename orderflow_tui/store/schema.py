"""Schema and migrations, versioned with PRAGMA user_version."""

SCHEMA_VERSION = 4

MIGRATIONS = {
    1: """
    CREATE TABLE liquidations (
        venue TEXT NOT NULL, symbol TEXT NOT NULL, ts INTEGER NOT NULL, side TEXT NOT NULL,
        price REAL NOT NULL, qty REAL NOT NULL, quote REAL NOT NULL, sampled INTEGER NOT NULL,
        grp TEXT NOT NULL,
        PRIMARY KEY (venue, symbol, ts, side, price, qty)   -- the natural key: never counted twice
    ) WITHOUT ROWID;
    CREATE INDEX liquidations_ts ON liquidations (ts);

    CREATE TABLE liq_minutes (
        minute INTEGER NOT NULL, venue TEXT NOT NULL, symbol TEXT NOT NULL, side TEXT NOT NULL,
        grp TEXT NOT NULL, count INTEGER NOT NULL, base REAL NOT NULL, quote REAL NOT NULL,
        PRIMARY KEY (minute, venue, symbol, side)
    ) WITHOUT ROWID;

    -- buckets follow the raw table: a liquidation ignored as a duplicate fires no trigger
    CREATE TRIGGER liq_minute_add AFTER INSERT ON liquidations BEGIN
        INSERT INTO liq_minutes (minute, venue, symbol, side, grp, count, base, quote)
        VALUES (NEW.ts / 60000 * 60000, NEW.venue, NEW.symbol, NEW.side, NEW.grp, 1, NEW.qty, NEW.quote)
        ON CONFLICT (minute, venue, symbol, side) DO UPDATE SET
            count = count + 1, base = base + excluded.base, quote = quote + excluded.quote;
    END;

    CREATE TABLE volume_hours (
        source TEXT NOT NULL, hour INTEGER NOT NULL, venue TEXT NOT NULL, symbol TEXT NOT NULL,
        grp TEXT NOT NULL, trades INTEGER NOT NULL,
        buy_base REAL NOT NULL, sell_base REAL NOT NULL, buy_quote REAL NOT NULL, sell_quote REAL NOT NULL,
        PRIMARY KEY (source, hour, venue, symbol)
    ) WITHOUT ROWID;

    CREATE TABLE cascades (
        grp TEXT NOT NULL, start_ts INTEGER NOT NULL, end_ts INTEGER, count INTEGER NOT NULL,
        quote REAL NOT NULL, long_quote REAL NOT NULL, short_quote REAL NOT NULL, venues TEXT NOT NULL,
        cross_exchange INTEGER NOT NULL, risk REAL NOT NULL, band TEXT NOT NULL,
        PRIMARY KEY (grp, start_ts)
    ) WITHOUT ROWID;

    CREATE TABLE sessions (
        id INTEGER PRIMARY KEY, source TEXT NOT NULL, mode TEXT NOT NULL, started_ms INTEGER NOT NULL,
        stopped_ms INTEGER, last_seen_ms INTEGER NOT NULL, venues TEXT NOT NULL
    );
    """,
}

# Version 2: every row carries its source (live, demo, replay; a raw liquidation also its origin, the
# capture it was replayed from), part of each key so that a replay never merges into live rows. Rows written before it are attributed from the sessions
# table: covered by a live or headless run and by no simulated one -> live, else 'unknown' (never
# dropped; `--source all` or `--source unknown` shows them). docs/decisions.md, "Sources never mix".
_LIVE_AT = """CASE WHEN EXISTS (SELECT 1 FROM sessions s WHERE s.mode IN ('live', 'headless')
        AND {t} BETWEEN s.started_ms - 60000 AND COALESCE(s.stopped_ms, s.last_seen_ms) + 60000)
    AND NOT EXISTS (SELECT 1 FROM sessions s WHERE s.mode = 'SIMULATED'
        AND {t} BETWEEN s.started_ms - 60000 AND COALESCE(s.stopped_ms, s.last_seen_ms) + 60000)
    THEN 'live' ELSE 'unknown' END"""

MIGRATIONS[2] = f"""
    ALTER TABLE liquidations RENAME TO liquidations_v1;
    DROP INDEX liquidations_ts;
    CREATE TABLE liquidations (
        source TEXT NOT NULL, venue TEXT NOT NULL, symbol TEXT NOT NULL, ts INTEGER NOT NULL, side TEXT NOT NULL,
        price REAL NOT NULL, qty REAL NOT NULL, quote REAL NOT NULL, sampled INTEGER NOT NULL,
        grp TEXT NOT NULL, origin TEXT NOT NULL,
        PRIMARY KEY (source, venue, symbol, ts, side, price, qty)
    ) WITHOUT ROWID;
    INSERT INTO liquidations SELECT {_LIVE_AT.format(t='ts')}, venue, symbol, ts, side, price, qty, quote, sampled, grp,
        '' FROM liquidations_v1;
    DROP TABLE liquidations_v1;
    CREATE INDEX liquidations_ts ON liquidations (ts);

    ALTER TABLE liq_minutes RENAME TO liq_minutes_v1;
    CREATE TABLE liq_minutes (
        source TEXT NOT NULL, minute INTEGER NOT NULL, venue TEXT NOT NULL, symbol TEXT NOT NULL, side TEXT NOT NULL,
        grp TEXT NOT NULL, count INTEGER NOT NULL, base REAL NOT NULL, quote REAL NOT NULL,
        PRIMARY KEY (minute, source, venue, symbol, side)
    ) WITHOUT ROWID;
    INSERT INTO liq_minutes SELECT {_LIVE_AT.format(t='minute')}, minute, venue, symbol, side, grp, count, base, quote
        FROM liq_minutes_v1;
    DROP TABLE liq_minutes_v1;

    CREATE TRIGGER liq_minute_add AFTER INSERT ON liquidations BEGIN
        INSERT INTO liq_minutes (source, minute, venue, symbol, side, grp, count, base, quote)
        VALUES (NEW.source, NEW.ts / 60000 * 60000, NEW.venue, NEW.symbol, NEW.side, NEW.grp, 1, NEW.qty, NEW.quote)
        ON CONFLICT (minute, source, venue, symbol, side) DO UPDATE SET
            count = count + 1, base = base + excluded.base, quote = quote + excluded.quote;
    END;

    ALTER TABLE cascades RENAME TO cascades_v1;
    CREATE TABLE cascades (
        source TEXT NOT NULL, grp TEXT NOT NULL, start_ts INTEGER NOT NULL, end_ts INTEGER, count INTEGER NOT NULL,
        quote REAL NOT NULL, long_quote REAL NOT NULL, short_quote REAL NOT NULL, venues TEXT NOT NULL,
        cross_exchange INTEGER NOT NULL, risk REAL NOT NULL, band TEXT NOT NULL,
        PRIMARY KEY (source, grp, start_ts)
    ) WITHOUT ROWID;
    INSERT INTO cascades SELECT {_LIVE_AT.format(t='start_ts')}, grp, start_ts, end_ts, count, quote, long_quote,
        short_quote, venues, cross_exchange, risk, band FROM cascades_v1;
    DROP TABLE cascades_v1;

    UPDATE volume_hours SET source = CASE
        WHEN source LIKE 'live:%' OR source LIKE 'headless:%' THEN 'live'
        WHEN source LIKE 'SIMULATED:%' THEN 'demo'
        WHEN source LIKE 'replay-view:%' THEN 'replay:' || substr(source, 13)
        WHEN source LIKE 'capture:%' THEN 'replay:' || source
        ELSE source END;
"""

INSERT_LIQUIDATION = """INSERT OR IGNORE INTO liquidations
    (source, venue, symbol, ts, side, price, qty, quote, sampled, grp, origin, bucket, level)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"""

ADD_VOLUME = """INSERT INTO volume_hours
    (source, hour, venue, symbol, grp, trades, buy_base, sell_base, buy_quote, sell_quote)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT (source, hour, venue, symbol) DO UPDATE SET
        trades = trades + excluded.trades, buy_base = buy_base + excluded.buy_base,
        sell_base = sell_base + excluded.sell_base, buy_quote = buy_quote + excluded.buy_quote,
        sell_quote = sell_quote + excluded.sell_quote"""

UPSERT_CASCADE = """INSERT INTO cascades
    (source, grp, start_ts, end_ts, count, quote, long_quote, short_quote, venues, cross_exchange, risk, band)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT (source, grp, start_ts) DO UPDATE SET
        end_ts = excluded.end_ts, count = excluded.count, quote = excluded.quote,
        long_quote = excluded.long_quote, short_quote = excluded.short_quote, venues = excluded.venues,
        cross_exchange = excluded.cross_exchange, risk = excluded.risk, band = excluded.band"""


# Version 3 (issue 14): open interest and funding per market and minute, the last value seen in the minute.
MIGRATIONS[3] = """
    CREATE TABLE context_minutes (
        source TEXT NOT NULL, minute INTEGER NOT NULL, venue TEXT NOT NULL, symbol TEXT NOT NULL, grp TEXT NOT NULL,
        oi_base REAL, oi_usd REAL, funding REAL, interval_h REAL,
        PRIMARY KEY (minute, source, venue, symbol)
    ) WITHOUT ROWID;
"""

UPSERT_CONTEXT = """INSERT INTO context_minutes
    (source, minute, venue, symbol, grp, oi_base, oi_usd, funding, interval_h)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT (minute, source, venue, symbol) DO UPDATE SET
        oi_base = excluded.oi_base, oi_usd = excluded.oi_usd, funding = excluded.funding,
        interval_h = excluded.interval_h"""


# Version 4 (issue 20): the analysis desk's rollup, kept longer than raw liquidations. Each raw row
# carries its group's liquidation bucket (analytics.md §5) and the bucket's lower edge, as the engine
# computed them; a trigger adds it to its hour (group, venue, side, bucket) like the minute buckets, so
# a duplicate that is ignored counts nowhere. Rows from before version 4 are filled in by
# store/analysis.py backfill_v4 (bucket 0: a price no longer known, from minute buckets alone).
MIGRATIONS[4] = """
    ALTER TABLE liquidations ADD COLUMN bucket REAL NOT NULL DEFAULT 0;
    ALTER TABLE liquidations ADD COLUMN level REAL NOT NULL DEFAULT 0;
    CREATE TABLE liq_hours (
        source TEXT NOT NULL, hour INTEGER NOT NULL, grp TEXT NOT NULL, venue TEXT NOT NULL, side TEXT NOT NULL,
        bucket REAL NOT NULL, level REAL NOT NULL, count INTEGER NOT NULL, base REAL NOT NULL, quote REAL NOT NULL,
        PRIMARY KEY (hour, source, grp, venue, side, bucket, level)
    ) WITHOUT ROWID;
    CREATE TRIGGER liq_hour_add AFTER INSERT ON liquidations BEGIN
        INSERT INTO liq_hours (source, hour, grp, venue, side, bucket, level, count, base, quote)
        VALUES (NEW.source, NEW.ts / 3600000 * 3600000, NEW.grp, NEW.venue, NEW.side, NEW.bucket, NEW.level, 1,
                NEW.qty, NEW.quote)
        ON CONFLICT (hour, source, grp, venue, side, bucket, level) DO UPDATE SET
            count = count + 1, base = base + excluded.base, quote = quote + excluded.quote;
    END;
    CREATE INDEX cascades_start ON cascades (start_ts);
"""
