"""The store on PostgreSQL (a real server on 127.0.0.1): the SQLite store's meaning, idempotency,
migrations and crash safety, and the same numbers as the SQLite store for the same input."""

import asyncio
import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import itertools

from captures import tardis_binance_frames, write_capture
from liquidation_capture import liquidation_capture, liquidation_frames
from orderflow_tui.capture import CaptureReader
from orderflow_tui.engine.engine import Engine
from orderflow_tui.events import Liquidation
from orderflow_tui.replay import replay_capture
from orderflow_tui.report import build_report
from orderflow_tui.store import schema
from orderflow_tui.store.db import StoreError, accumulated, hourly
from orderflow_tui.store.postgres import SCHEMA_VERSION, PgAsyncStoreWriter, PgSyncStoreWriter, connect, translate
from orderflow_tui.store.sync import SyncStoreWriter
from servers import pg_dsn, postgres_server  # noqa: F401  (fixtures)

HERE = Path(__file__).parent


def replay_into(writer, cap):
    engine = Engine(report_tf="1m", collect_facts=True)
    with CaptureReader(cap) as reader:
        stats = replay_capture(reader, engine, on_batch=writer.absorb_sync)
        report = build_report(engine, stats, reader.instruments)
    writer.close_sync(engine)
    return report


def stats_of(dsn, **kw):
    conn = connect(dsn, readonly=True)
    try:
        return accumulated(conn, **kw), hourly(conn)
    finally:
        conn.close()


def test_the_layout_has_the_sqlite_schemas_meaning():
    assert SCHEMA_VERSION == schema.SCHEMA_VERSION, "store/schema.py moved on: add the same migration here"
    assert translate(schema.INSERT_LIQUIDATION).endswith("ON CONFLICT DO NOTHING")
    assert "$11" in translate(schema.INSERT_LIQUIDATION) and "?" not in translate(schema.ADD_VOLUME)


def test_stats_equal_the_replay_report_and_replaying_twice_changes_nothing(pg_dsn, tmp_path):
    cap = liquidation_capture(tmp_path / "liq.jsonl")
    report = replay_into(PgSyncStoreWriter(pg_dsn, "replay:liq.jsonl@1"), cap)
    first, first_hours = stats_of(pg_dsn, source="all")
    for side in ("long", "short"):
        want = [sum(m["liquidations"][side][k] for m in report["markets"].values()) for k in ("count", "base", "quote")]
        assert first[side]["count"] == want[0]
        assert first[side]["base"] == pytest.approx(want[1], rel=1e-9)
        assert first[side]["quote"] == pytest.approx(want[2], rel=1e-9)
    assert first["total"]["count"] == 300 and set(first["venues"]) == {"binance", "bybit", "okx"}
    replay_into(PgSyncStoreWriter(pg_dsn, "replay:liq.jsonl@1"), cap)
    again, again_hours = stats_of(pg_dsn, source="all")
    assert again["total"] == first["total"] and again["venues"] == first["venues"] and again_hours == first_hours


def test_same_numbers_as_the_sqlite_store(pg_dsn, tmp_path):
    # real Binance trades (volume buckets) and liquidations of each venue, in time order
    trades = list(itertools.islice(tardis_binance_frames(), 5_000))
    t0 = trades[0][0]
    frames = sorted(trades + list(liquidation_frames(n=500, seed=3, t0=t0, gap=(10, 2000))), key=lambda f: f[0])
    cap = write_capture(tmp_path / "mixed.jsonl", frames)
    replay_into(PgSyncStoreWriter(pg_dsn, "replay:liq.jsonl@1"), cap)
    replay_into(SyncStoreWriter(tmp_path / "s.sqlite", "replay:liq.jsonl@1"), cap)
    pg, pg_hours = stats_of(pg_dsn, source="all")
    from orderflow_tui.store.db import connect as sqlite_connect

    conn = sqlite_connect(tmp_path / "s.sqlite", readonly=True)
    lite, lite_hours = accumulated(conn, source="all"), hourly(conn)
    conn.close()
    for key in ("first_ts", "last_ts", "total", "long", "short", "venues", "groups", "cascades", "rates"):
        assert close(pg[key], lite[key]), (key, pg[key], lite[key])
    assert close(pg_hours, lite_hours) and len(pg_hours) >= 1 and pg_hours[0][3] > 0  # volumes are in


def close(a, b):
    """Equal, floats within 1e-12 relative (each server sums doubles in its own order)."""
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(close(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(close(x, y) for x, y in zip(a, b))
    if isinstance(a, float) or isinstance(b, float):
        return a == pytest.approx(b, rel=1e-12)
    return a == b


def test_a_second_writer_with_the_same_liquidations_counts_nothing_twice(pg_dsn, tmp_path):
    cap = liquidation_capture(tmp_path / "liq.jsonl")
    replay_into(PgSyncStoreWriter(pg_dsn, "replay:a.jsonl@1"), cap)
    replay_into(PgSyncStoreWriter(pg_dsn, "replay:b.jsonl@1"), cap)
    total = stats_of(pg_dsn, source="all")[0]["total"]
    assert total["count"] == 300


def test_sigkill_while_writing_loses_at_most_the_batch_in_flight(pg_dsn):
    expected_min = 0
    for round_ in range(4):
        proc = subprocess.Popen([sys.executable, str(HERE / "pg_writer_proc.py"), pg_dsn,
                                 str(1_700_000_000_000 + round_ * 10**9)], stdout=subprocess.PIPE, text=True,
                                env={**os.environ, "PYTHONPATH": str(HERE.parent)})
        last = 0
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            assert line, "the writer died"
            last = int(line.split()[1])
            if last >= 1000 * (1 + round_ % 3):
                break
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        conn = connect(pg_dsn, readonly=True)
        total = conn.execute("SELECT COUNT(*) FROM liquidations").fetchone()[0]
        buckets = conn.execute("SELECT SUM(count) FROM liq_minutes").fetchone()[0]
        conn.close()
        # every reported commit is there; beyond it at most the commits that finished unreported
        assert expected_min + last <= total <= expected_min + last + 200 * 50
        assert buckets == total  # a bucket never counts a row twice, nor misses one
        expected_min = total


def test_a_commit_and_its_extra_statement_are_one_transaction(pg_dsn):
    async def main():
        engine = Engine(collect_facts=True)
        w = PgAsyncStoreWriter(pg_dsn, engine, "live", "bus", "binance")
        await w.open()
        engine.on_liquidation(Liquidation("binance:BTCUSDT", "binance", "BTCUSDT", 1_700_000_000_000, 60000.0, 0.5,
                                          30000.0, True, True))

        def offset_then_fail(conn):
            conn.execute("INSERT INTO bus_offsets (consumer, seq) VALUES (?, ?)", ("x", 7))
            raise RuntimeError("the server went away")

        assert not await w.flush(extra=offset_then_fail)
        assert w.status == "error" and "went away" in w.error and len(w.pending.liquidations) == 1
        assert await w.flush(extra=lambda conn: conn.execute(
            "INSERT INTO bus_offsets (consumer, seq) VALUES (?, ?)", ("x", 8)))
        await w.close()

    asyncio.run(main())
    conn = connect(pg_dsn, readonly=True)
    assert conn.execute("SELECT seq FROM bus_offsets").fetchall() == [(8,)]
    assert conn.execute("SELECT COUNT(*) FROM liquidations").fetchone()[0] == 1
    conn.close()


def test_newer_schema_and_foreign_database_are_refused(pg_dsn, postgres_server):
    connect(pg_dsn).close()
    conn = connect(pg_dsn)
    conn.execute("INSERT INTO orderflow_schema (version, applied_ms) VALUES (99, 0)")
    conn.close()
    with pytest.raises(StoreError, match="newer orderflow-tui"):
        connect(pg_dsn)
    other = postgres_server.create_db(f"shop_{os.getpid()}")
    import asyncpg

    async def make():
        c = await asyncpg.connect(other)
        await c.execute("CREATE TABLE customers (id INTEGER)")
        await c.close()

    asyncio.run(make())
    with pytest.raises(StoreError, match="another program"):
        connect(other)


def test_unreachable_server_and_missing_database_are_one_line_errors(postgres_server):
    with pytest.raises(StoreError) as err:
        connect(f"postgresql://postgres:secret@127.0.0.1:{postgres_server.port}/no_such_db")
    assert "no such database" in str(err.value) and "secret" not in str(err.value) and "\n" not in str(err.value)
    from servers import free_port

    with pytest.raises(StoreError, match="cannot reach the server") as err:
        connect(f"postgresql://postgres@127.0.0.1:{free_port()}/x")
    assert "\n" not in str(err.value)


SECRET = "Pa55-w0rd-never-shown"


def test_the_commands_take_a_postgresql_db_and_never_print_its_password(pg_dsn, postgres_server, tmp_path):
    """Every command given a DSN with a password (the test server trusts every login: it is accepted
    and ignored) works, and neither its output nor its errors hold the password; every error is one
    line."""
    from servers import free_port

    cap = liquidation_capture(tmp_path / "liq.jsonl")
    dsn = pg_dsn.replace("postgresql://postgres@", f"postgresql://postgres:{SECRET}@")
    said = []

    def cli(*args, ok=True):
        proc = subprocess.run([sys.executable, "-m", "orderflow_tui", *map(str, args)], capture_output=True,
                              text=True, timeout=120, env={**os.environ, "XDG_DATA_HOME": str(tmp_path / "data")})
        said.append(proc.stdout + proc.stderr)
        assert (proc.returncode == 0) == ok, proc.stderr
        if not ok:
            assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr, proc.stderr
            assert "postgres:***@" in proc.stderr, proc.stderr
        return proc.stdout

    cli("replay", cap, "--headless", "--db", dsn)  # replaying twice: test_stats_equal_the_replay_report...
    out = json.loads(cli("stats", "--db", dsn, "--json", "--source", "all"))
    assert out["total"]["count"] == 300 and set(out["venues"]) == {"binance", "bybit", "okx"}
    assert "postgres:***@127.0.0.1" in cli("stats", "--db", dsn, "--source", "all")
    cli("export", tmp_path / "l.csv", "--db", dsn, "--source", "all")
    assert len((tmp_path / "l.csv").read_text().splitlines()) == 301
    cli("export", tmp_path / "h.csv", "--what", "hourly", "--db", dsn, "--source", "all")  # no SQLite instr()
    hourly = list(csv.DictReader((tmp_path / "h.csv").open()))
    assert hourly and {r["source"] for r in hourly} == {"replay"}
    assert sum(int(r["long_liq_count"]) + int(r["short_liq_count"]) for r in hourly) == 300
    cli("demo", "--headless", "--duration", "1", "--rate", "5", "--db", dsn)
    # the errors: a missing database, a server that is not there, a bus that is not there
    cli("stats", "--db", dsn.rsplit("/", 1)[0] + "/no_such_db", ok=False)
    gone = f"postgresql://postgres:{SECRET}@127.0.0.1:{free_port()}/x"
    cli("export", "-", "--what", "hourly", "--db", gone, ok=False)
    cli("replay", cap, "--headless", "--db", gone, ok=False)
    cli("demo", "--headless", "--duration", "1", "--db", gone, ok=False)
    proc = subprocess.run([sys.executable, "-m", "orderflow_tui", "run", "--headless", "--bus",
                           f"nats://orderflow:{SECRET}@127.0.0.1:{free_port()}", "--db", dsn],
                          capture_output=True, text=True, timeout=60)
    said.append(proc.stdout + proc.stderr)
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert not any(SECRET in text for text in said), [t for t in said if SECRET in t]


async def test_the_dashboard_writes_and_reads_a_postgresql_store(pg_dsn, tmp_path):
    """The dashboard with --db postgresql://: its store writer is PostgreSQL's, and the accumulated
    view reads the totals back from the server."""
    from orderflow_tui import config
    from orderflow_tui.feeds.replay_source import ReplaySource
    from orderflow_tui.ui.app import OrderflowApp
    from orderflow_tui.ui.launch import _check_store, _writer

    cap = liquidation_capture(tmp_path / "liq.jsonl")
    settings = config.Settings()
    engine = Engine(settings.engine, collect_facts=True, row_divisor=10)
    dsn = pg_dsn.replace("postgresql://postgres@", f"postgresql://postgres:{SECRET}@")  # shown masked
    path, writer = _writer(settings, engine, dsn, False, "replay-view:liq.jsonl", "replay", "", "replay")
    assert isinstance(writer, PgAsyncStoreWriter)
    await asyncio.to_thread(_check_store, path)  # as before the screen opens: no event loop running
    app = OrderflowApp(settings, engine, ReplaySource(cap, None), store_path=path, writer=writer, groups=["BTC"],
                       mode="REPLAY")
    async with app.run_test(size=(160, 50)) as pilot:
        for _ in range(200):
            if app.source.done:
                break
            await pilot.pause(0.05)
        await pilot.pause(1.5)  # the writer commits at most once a second
        await pilot.press("a")
        shown = ""
        for _ in range(100):
            app.acc_read_at = 0.0
            app.last_key = None
            app.refresh_views()
            await pilot.pause(0.1)
            widget = app.query_one("#acc-totals")
            shown = "\n".join(widget.render_line(y).text for y in range(widget.size.height))
            if "300 events" in shown:
                break
        assert "300 events" in shown, shown
        assert SECRET not in shown and "postgres:***@" in shown, shown
