"""The accumulated analysis (contract.md §3b) against numbers worked out by hand, on SQLite and on a
real PostgreSQL, and the same numbers after retention deleted the raw liquidations."""

import csv
import io
import json
import subprocess
import sys

import pytest

from captures import write_capture
from orderflow_tui.capture import CaptureReader
from orderflow_tui.engine.engine import Engine
from orderflow_tui.replay import replay_capture
from orderflow_tui.store.analysis import desk, export_rows
from orderflow_tui.store.db import accumulated, apply_retention, connect
from orderflow_tui.store.postgres import PgSyncStoreWriter
from orderflow_tui.store.postgres import connect as pg_connect
from servers import pg_dsn, postgres_server  # noqa: F401  (fixtures)

D1 = 1_709_251_200_000  # 20240301 00:00 UTC; nothing on 20240302; D3 = 20240303
H, M, S = 3_600_000, 60_000, 1000
D3 = D1 + 2 * 24 * H


def binance(t, sym, long, qty, px):
    return t, "binance", json.dumps({"stream": f"{sym.lower()}@forceOrder", "data": {"e": "forceOrder", "E": t, "o": {
        "s": sym, "S": "SELL" if long else "BUY", "q": str(qty), "p": str(px), "ap": str(px), "X": "FILLED",
        "l": str(qty), "z": str(qty), "T": t}}})


def bybit(t, sym, long, qty, px):
    return t, "bybit", json.dumps({"topic": f"allLiquidation.{sym}", "type": "snapshot", "ts": t,
                                   "data": [{"T": t, "s": sym, "S": "Buy" if long else "Sell", "v": str(qty),
                                             "p": str(px)}]})


FRAMES = [
    binance(D1 + 10 * M, "BTCUSDT", True, 0.5, 60000.0),  # bucket 60000 (its lower edge)
    bybit(D1 + 5 * M, "BTCUSDT", False, 1.0, 60099.9),  # earlier than the frame before it; still 60000
    binance(D1 + 13 * H, "BTCUSDT", True, 2, 60100.0),  # the next bucket's edge; institutional ($120,200)
    bybit(D1 + 24 * H - 1, "BTCUSDT", True, 0.1, 59999.9),  # the last ms of the day; bucket 59900
    binance(D3 + 5 * H, "ETHUSDT", False, 10, 3000.0),  # ETH: $10 buckets
    bybit(D3 + 5 * H + 30 * M, "ETHUSDT", True, 1, 3009.99),
    # a cross-exchange cascade: 5 liquidations, $242,010 within 60 s
    binance(D3 + 12 * H, "BTCUSDT", True, 1, 60500.0),
    binance(D3 + 12 * H + 10 * S, "BTCUSDT", True, 1, 60500.0),
    bybit(D3 + 12 * H + 15 * S, "BTCUSDT", False, 0.5, 60510.0),
    binance(D3 + 12 * H + 20 * S, "BTCUSDT", True, 1, 60500.0),
    bybit(D3 + 12 * H + 30 * S, "BTCUSDT", False, 0.5, 60510.0),
    binance(D3 + 23 * H, "BTCUSDT", False, 0.01, 61000.0),  # ends the cascade (60 s quiet, then 60 s)
]


def expected():
    day1 = {"date": "20240301", "count": 4, "base": 0.5 + 1.0 + 2 + 0.1,
            "quote": 30000.0 + 60099.9 + 120200.0 + 5999.99,
            "long": {"count": 3, "quote": 30000.0 + 120200.0 + 5999.99}, "short": {"count": 1, "quote": 60099.9},
            "venues": {"binance": 150200.0, "bybit": 66099.89}}
    day3 = {"date": "20240303", "count": 8, "base": 10 + 1 + 3 + 1 + 0.01,
            "quote": 30000.0 + 3009.99 + 181500.0 + 60510.0 + 610.0,
            "long": {"count": 4, "quote": 3009.99 + 181500.0},
            "short": {"count": 4, "quote": 30000.0 + 60510.0 + 610.0},
            "venues": {"binance": 30000.0 + 181500.0 + 610.0, "bybit": 3009.99 + 60510.0}}
    hourly = [
        {"ts": D1, "count": 2, "quote": 90099.9, "long_quote": 30000.0, "short_quote": 60099.9},
        {"ts": D1 + 13 * H, "count": 1, "quote": 120200.0, "long_quote": 120200.0, "short_quote": 0.0},
        {"ts": D1 + 23 * H, "count": 1, "quote": 5999.99, "long_quote": 5999.99, "short_quote": 0.0},
        {"ts": D3 + 5 * H, "count": 2, "quote": 33009.99, "long_quote": 3009.99, "short_quote": 30000.0},
        {"ts": D3 + 12 * H, "count": 5, "quote": 242010.0, "long_quote": 181500.0, "short_quote": 60510.0},
        {"ts": D3 + 23 * H, "count": 1, "quote": 610.0, "long_quote": 0.0, "short_quote": 610.0},
    ]
    day_hour = {"20240301": [0.0] * 24, "20240303": [0.0] * 24}
    for h in hourly:
        day_hour["20240301" if h["ts"] < D1 + 24 * H else "20240303"][h["ts"] % (24 * H) // H] += h["quote"]
    btc_levels = {"bucket": 100.0, "levels": [
        {"price": 59900.0, "count": 1, "long_quote": 5999.99, "short_quote": 0.0},
        {"price": 60000.0, "count": 2, "long_quote": 30000.0, "short_quote": 60099.9},
        {"price": 60100.0, "count": 1, "long_quote": 120200.0, "short_quote": 0.0},
        {"price": 60500.0, "count": 5, "long_quote": 181500.0, "short_quote": 60510.0},
        {"price": 61000.0, "count": 1, "long_quote": 0.0, "short_quote": 610.0},
    ]}
    # risk = 2 x (0.25 volume + 0.20 pace + 0.15 clustering + 0.15 side + 0.10 institutional + 0.15 venues),
    # scored at its end: 5 liquidations over the 2 minutes from 12:00:00 to 12:02:00
    mean = (3 * 60500 + 2 * 60510) / 5
    risk = 2 * (0.25 * 0.24201 + 0.20 * (5 / 2 / 20) + 0.15 * (1 - (10 / mean) / 0.005)
                + 0.15 * (181500 - 60510) / 242010 + 0.10 * 0 + 0.15 * 1)
    cascade = {"start_ts": D3 + 12 * H, "end_ts": D3 + 12 * H + 2 * M, "count": 5, "quote": 242010.0,
               "venues": ["binance", "bybit"], "cross_exchange": True, "risk": risk}
    return {"daily": [day1, day3], "day_hour": day_hour, "hourly": hourly, "price_levels": btc_levels,
            "cascades": [cascade]}


def close(a, b, path="$"):
    if isinstance(a, dict):
        assert isinstance(b, dict) and a.keys() == b.keys(), (path, a, b)
        for k in a:
            close(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b), (path, a, b)
        for i, (x, y) in enumerate(zip(a, b)):
            close(x, y, f"{path}[{i}]")
    elif isinstance(a, float) or isinstance(b, float):
        assert a == pytest.approx(b, rel=1e-9, abs=1e-9), (path, a, b)
    else:
        assert type(a) is type(b) and a == b, (path, a, b)


KEYS = ("daily", "day_hour", "hourly", "price_levels", "cascades")


def cli(*args):
    proc = subprocess.run([sys.executable, "-m", "orderflow_tui", *map(str, args)], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


@pytest.fixture(scope="module")
def capture(tmp_path_factory):
    return write_capture(tmp_path_factory.mktemp("analysis") / "liq.jsonl", FRAMES, started_ms=D1)


def test_stats_json_has_the_hand_computed_analysis_and_stays_after_pruning(capture, tmp_path):
    db = tmp_path / "s.sqlite"
    cli("replay", capture, "--headless", "--report", "json", "--db", db)
    out = json.loads(cli("stats", "--db", db, "--json"))
    want = expected()
    for key in KEYS:
        close(out[key], want[key], key)
    # ETH by --group, and a span of one day (hours overlapping [since, until))
    conn = connect(db, readonly=True)
    eth = desk(conn, group="ETH").as_json()
    assert eth["price_levels"] == {"bucket": 10.0, "levels": [
        {"price": 3000.0, "count": 2, "long_quote": 3009.99, "short_quote": 30000.0}]}
    assert [d["date"] for d in eth["daily"]] == ["20240303"] and eth["cascades"] == []
    day1 = desk(conn, since=D1, until=D1 + 24 * H).as_json()
    close(day1["daily"], want["daily"][:1])
    assert list(day1["day_hour"]) == ["20240301"] and day1["cascades"] == []
    conn.close()
    # CSV: the daily table carries the same numbers
    rows = list(csv.DictReader(io.StringIO(cli("export", "-", "--what", "daily", "--db", db))))
    assert [r["date"] for r in rows] == ["20240301", "20240303"]
    assert float(rows[0]["quote"]) == pytest.approx(want["daily"][0]["quote"]) and rows[1]["count"] == "8"
    # every analysis table as CSV: a header and one row per entry of its §3b key
    conn = connect(db, readonly=True)
    d = desk(conn, first_group="BTC")
    conn.close()
    for what, n, first in (("daily", 2, "date"), ("day_hour", 2, "date"), ("hourly", 6, "date"),
                           ("price_levels", 5, "group"), ("cascades", 1, "date")):
        header, table = export_rows(d, what)
        assert header[0] == first and len(table) == n and all(len(r) == len(header) for r in table), what
    cumulative = float(export_rows(d, "hourly")[1][-1][-1])  # the running sum's last value: the total
    assert cumulative == pytest.approx(sum(h["quote"] for h in want["hourly"]))
    # retention: raw liquidations older than one day go (the institutional one and the store's first
    # stay), and neither the analysis nor the totals change
    conn = connect(db)
    before, totals = desk(conn).as_json(), accumulated(conn)
    removed = apply_retention(conn, 1, 730, D3 + 23 * H + 1)
    assert removed == 2 and conn.execute("SELECT COUNT(*) FROM liquidations").fetchone()[0] == 10
    assert desk(conn).as_json() == before and accumulated(conn) == totals
    conn.close()


def test_the_same_analysis_on_postgresql(capture, pg_dsn):
    engine = Engine(report_tf="1m", collect_facts=True)
    writer = PgSyncStoreWriter(pg_dsn, "replay:liq.jsonl@1")
    with CaptureReader(capture) as reader:
        replay_capture(reader, engine, on_batch=writer.absorb_sync)
    writer.close_sync(engine)
    conn = pg_connect(pg_dsn)
    try:
        got = desk(conn, first_group="BTC").as_json()
        want = expected()
        for key in KEYS:
            close(got[key], want[key], key)
        assert apply_retention(conn, 1, 730, D3 + 23 * H + 1) == 2
        assert desk(conn, first_group="BTC").as_json() == got
    finally:
        conn.close()


def test_a_version_3_store_gets_its_hour_rollup_from_the_raw_rows_and_the_pruned_minutes(tmp_path):
    import sqlite3

    from orderflow_tui.store import db, schema

    path = tmp_path / "v3.sqlite"
    raw = sqlite3.connect(path, isolation_level=None)
    for version in (1, 2, 3):
        for statement in db._statements(schema.MIGRATIONS[version]):
            raw.execute(statement)
    raw.execute("PRAGMA user_version = 3")
    ins = ("INSERT INTO liquidations (source, venue, symbol, ts, side, price, qty, quote, sampled, grp, origin) "
           "VALUES (?, ?, 'BTCUSDT', ?, ?, ?, ?, ?, 0, 'BTC', '')")
    raw.execute(ins, ("live", "binance", D1 + 5 * M, "long", 60050.0, 1.0, 60050.0))
    raw.execute(ins, ("live", "bybit", D1 + 2 * H, "short", 60150.0, 1.0, 60150.0))
    raw.execute("DELETE FROM liquidations WHERE ts = ?", (D1 + 5 * M,))  # aged out: only its minute bucket is left
    raw.close()
    conn = connect(path)  # migrates to version 4
    d = desk(conn).as_json()
    conn.close()
    assert [(h["ts"], h["count"], h["quote"]) for h in d["hourly"]] == [(D1, 1, 60050.0), (D1 + 2 * H, 1, 60150.0)]
    assert d["price_levels"]["levels"] == [{"price": 60100.0, "count": 1, "long_quote": 0.0, "short_quote": 60150.0}]


async def test_the_store_writer_prunes_at_start_in_a_thread(tmp_path):
    """Raw liquidations older than 90 days (below the institutional size) go when the writer starts;
    their hour rollup stays, so the analysis does not change."""
    import asyncio

    from orderflow_tui.store.db import Batch, write_batch
    from orderflow_tui.store.writer import AsyncStoreWriter

    db = tmp_path / "w.sqlite"
    now = D3 + 200 * 24 * H
    conn = connect(db)
    rows = [("live", "binance", "BTCUSDT", t, "long", 60000.0, q, 60000.0 * q, 0, "BTC", "", 100.0, 60000.0)
            for t, q in ((D1 - H, 0.5), (D1, 0.5), (D1 + H, 2.0), (now - H, 0.1))]  # 100+ days old; recent
    write_batch(conn, Batch(liquidations=rows))
    before = desk(conn).as_json()
    conn.close()
    writer = AsyncStoreWriter(db, Engine(), "live", "live", "binance", keep_liquidations_days=90,
                              keep_buckets_days=730)
    await writer.open()
    task = asyncio.create_task(writer.run())
    conn = connect(db, readonly=True)
    try:
        for _ in range(200):
            left = conn.execute("SELECT COUNT(*) FROM liquidations").fetchone()[0]
            if left == 3:
                break
            await asyncio.sleep(0.02)
        assert left == 3  # the second $30K one went; the store's first, the institutional and the recent stay
        assert desk(conn).as_json() == before
    finally:
        conn.close()
        writer.stop()
        await task
        await writer.close()
