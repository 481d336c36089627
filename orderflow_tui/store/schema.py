"""Schema and migrations, versioned with PRAGMA user_version."""

SCHEMA_VERSION = 1

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

INSERT_LIQUIDATION = """INSERT OR IGNORE INTO liquidations
    (venue, symbol, ts, side, price, qty, quote, sampled, grp) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"""

ADD_VOLUME = """INSERT INTO volume_hours
    (source, hour, venue, symbol, grp, trades, buy_base, sell_base, buy_quote, sell_quote)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT (source, hour, venue, symbol) DO UPDATE SET
        trades = trades + excluded.trades, buy_base = buy_base + excluded.buy_base,
        sell_base = sell_base + excluded.sell_base, buy_quote = buy_quote + excluded.buy_quote,
        sell_quote = sell_quote + excluded.sell_quote"""

UPSERT_CASCADE = """INSERT INTO cascades
    (grp, start_ts, end_ts, count, quote, long_quote, short_quote, venues, cross_exchange, risk, band)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT (grp, start_ts) DO UPDATE SET
        end_ts = excluded.end_ts, count = excluded.count, quote = excluded.quote,
        long_quote = excluded.long_quote, short_quote = excluded.short_quote, venues = excluded.venues,
        cross_exchange = excluded.cross_exchange, risk = excluded.risk, band = excluded.band"""
