"""The store: idempotent, consistent with the replay report, safe across SIGKILL, loud on bad files."""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from liquidation_capture import liquidation_capture
from orderflow_tui.store.db import Batch, StoreError, accumulated, connect
from orderflow_tui.store.sync import SyncStoreWriter

HERE = Path(__file__).parent


def cli(*args, check=True):
    proc = subprocess.run([sys.executable, "-m", "orderflow_tui", *map(str, args)], capture_output=True, text=True,
                          timeout=120)
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


def test_stats_json_equals_the_replay_report_and_replaying_twice_changes_nothing(tmp_path):
    cap = liquidation_capture(tmp_path / "liq.jsonl")
    db = tmp_path / "store.sqlite"
    report = json.loads(cli("replay", cap, "--headless", "--report", "json", "--db", db).stdout)
    first = json.loads(cli("stats", "--db", db, "--json").stdout)
    sides = {s: {"count": 0, "base": 0.0, "quote": 0.0} for s in ("long", "short")}
    for m in report["markets"].values():
        for s in sides:
            for k in sides[s]:
                sides[s][k] += m["liquidations"][s][k]
    for s in sides:
        assert first[s]["count"] == sides[s]["count"]
        assert first[s]["base"] == pytest.approx(sides[s]["base"], rel=1e-9)
        assert first[s]["quote"] == pytest.approx(sides[s]["quote"], rel=1e-9)
    assert first["total"]["count"] == 300
    assert set(first["venues"]) == {"binance", "bybit", "okx"}
    assert sum(v["share_pct"] for v in first["venues"].values()) == pytest.approx(100)
    cli("replay", cap, "--headless", "--report", "json", "--db", db)
    again = json.loads(cli("stats", "--db", db, "--json").stdout)
    assert again["total"] == first["total"] and again["venues"] == first["venues"]


def test_a_second_writer_on_the_same_file_counts_nothing_twice(tmp_path):
    cap = liquidation_capture(tmp_path / "liq.jsonl")
    copy = tmp_path / "copy.jsonl"
    copy.write_bytes(cap.read_bytes() + b"\n")  # another file (another source), same liquidations
    db = tmp_path / "s.sqlite"
    cli("replay", cap, "--headless", "--db", db)
    cli("replay", copy, "--headless", "--db", db)
    assert json.loads(cli("stats", "--db", db, "--json").stdout)["total"]["count"] == 300


def test_stats_text_report_and_time_filters(tmp_path):
    db = tmp_path / "s.sqlite"
    cli("replay", liquidation_capture(tmp_path / "liq.jsonl"), "--headless", "--db", db)
    text = cli("stats", "--db", db).stdout
    assert "First:     20231114 22:13:24 UTC" in text and "LONG vs SHORT" in text and "BINANCE" in text
    early = json.loads(cli("stats", "--db", db, "--json", "--until", "20231114 22:30:00").stdout)
    assert 0 < early["total"]["count"] < 300
    none = json.loads(cli("stats", "--db", db, "--json", "--since", "20300101").stdout)
    assert none["total"]["count"] == 0
    assert "--since" in cli("stats", "--db", db, "--since", "yesterday-ish", check=False).stderr


def test_export_csv(tmp_path):
    db = tmp_path / "s.sqlite"
    cli("replay", liquidation_capture(tmp_path / "liq.jsonl"), "--headless", "--db", db)
    cli("export", tmp_path / "l.csv", "--db", db)
    rows = (tmp_path / "l.csv").read_text().splitlines()
    assert rows[0].startswith("date,time_utc,ts_ms,venue") and len(rows) == 301
    assert rows[1].startswith("20231114,22:13:24,")
    cli("export", tmp_path / "h.csv", "--what", "hourly", "--db", db)
    assert len((tmp_path / "h.csv").read_text().splitlines()) >= 2


def test_sigkill_while_writing_loses_at_most_the_batch_in_flight(tmp_path):
    db = tmp_path / "kill.sqlite"
    env = {**os.environ, "PYTHONPATH": str(HERE.parent)}
    expected_min = 0
    for round_ in range(8):
        proc = subprocess.Popen([sys.executable, str(HERE / "store_writer_proc.py"), str(db),
                                 str(1_700_000_000_000 + round_ * 10**9)], stdout=subprocess.PIPE, text=True, env=env)
        last = 0
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            assert line, "the writer died"
            last = int(line.split()[1])
            if last >= 1000 * (1 + round_ % 3):
                break
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        conn = sqlite3.connect(db)
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        total = conn.execute("SELECT COUNT(*) FROM liquidations").fetchone()[0]
        bucket_total = conn.execute("SELECT SUM(count) FROM liq_minutes").fetchone()[0]
        conn.close()
        # every reported commit is there; beyond it at most the commit that finished unreported
        assert expected_min + last <= total <= expected_min + last + 200 * 50
        assert bucket_total == total
        expected_min = total


def test_not_a_database_is_reported_and_left_alone(tmp_path):
    db = tmp_path / "notes.sqlite"
    db.write_text("my trading notes, do not delete\n" * 100)
    proc = cli("stats", "--db", db, check=False)
    assert proc.returncode != 0 and "not an SQLite database" in proc.stderr
    proc = cli("replay", liquidation_capture(tmp_path / "l.jsonl"), "--headless", "--db", db, check=False)
    assert proc.returncode != 0 and "not an SQLite database" in proc.stderr and proc.stdout == ""
    assert db.read_text().startswith("my trading notes")


def test_a_database_of_another_program_is_refused(tmp_path):
    db = tmp_path / "other.sqlite"
    sqlite3.connect(db).execute("CREATE TABLE customers (id INTEGER)").connection.commit()
    with pytest.raises(StoreError, match="another program"):
        connect(db)


def test_newer_schema_is_refused(tmp_path):
    db = tmp_path / "new.sqlite"
    connect(db).close()
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    with pytest.raises(StoreError, match="newer orderflow-tui"):
        connect(db)


def test_corrupt_database_is_reported(tmp_path):
    db = tmp_path / "c.sqlite"
    w = SyncStoreWriter(db, "x")
    w.close_sync()
    data = bytearray(db.read_bytes())
    assert len(data) > 8192
    data[200:len(data)] = bytes(range(256)) * ((len(data) - 200) // 256) + b"\0" * ((len(data) - 200) % 256)
    db.write_bytes(bytes(data))  # the header survives, every page after it is garbage
    with pytest.raises(StoreError, match="corrupt|not an SQLite"):
        connect(db)
    with pytest.raises(StoreError, match="corrupt|not an SQLite"):
        connect(db, readonly=True)  # a reader skips quick_check but reads the schema at once


def test_stats_reports_a_corrupt_page_it_reads(tmp_path):
    # a reader does not check every page on open (issue 20: stats on a year): a broken page of the
    # hour rollup, behind an intact schema page, must still fail `stats --json`, never print numbers
    db = tmp_path / "c.sqlite"
    conn = connect(db)
    conn.execute("INSERT INTO liq_hours (source, hour, grp, venue, side, bucket, level, count, base, quote) "
                 "VALUES ('live', 0, 'BTC', 'binance', 'long', 10.0, 40000.0, 1, 0.1, 4000.0)")
    root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = 'liq_hours'").fetchone()[0]
    size = conn.execute("PRAGMA page_size").fetchone()[0]
    conn.close()
    data = bytearray(db.read_bytes())
    assert root > 1 and len(data) >= root * size
    data[(root - 1) * size:root * size] = bytes(range(256)) * (size // 256)
    db.write_bytes(bytes(data))
    connect(db, readonly=True).close()  # the schema is intact
    proc = cli("stats", "--db", db, "--json", check=False)
    assert proc.returncode == 2 and "corrupt" in proc.stderr and proc.stdout == "", proc


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores file permissions")
def test_read_only_directory(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    with pytest.raises(StoreError, match="not writable"):
        connect(ro / "s.sqlite")


def test_read_only_directory_message(tmp_path, monkeypatch):
    monkeypatch.setattr(os, "access", lambda *a, **k: False)
    with pytest.raises(StoreError, match="not writable") as err:
        connect(tmp_path / "s.sqlite")
    assert str(tmp_path) in str(err.value) and "\n" not in str(err.value)


def test_locked_database_is_reported(tmp_path, monkeypatch):
    db = tmp_path / "l.sqlite"
    connect(db).close()
    monkeypatch.setattr("orderflow_tui.store.db.BUSY_TIMEOUT_MS", 100)
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(StoreError, match="locked"):
            SyncStoreWriter(db, "y")
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_full_disk_keeps_the_batch_and_says_so(tmp_path):
    from orderflow_tui.engine.engine import Engine
    from orderflow_tui.events import Liquidation

    db = tmp_path / "full.sqlite"
    w = SyncStoreWriter(db, "full")
    pages = w.conn.execute("PRAGMA page_count").fetchone()[0]
    w.conn.execute(f"PRAGMA max_page_count = {pages + 2}")  # the disk is 'full' two pages from now
    engine = Engine(collect_facts=True)
    for i in range(2000):
        engine.on_liquidation(Liquidation("bybit:BTCUSDT", "bybit", "BTCUSDT", 1_700_000_000_000 + i, 60000.0, 1.0,
                                          60000.0, True, False))
    with pytest.raises(StoreError, match="disk is full"):
        w.absorb_sync(engine, force=True)
    assert len(w.pending.liquidations) == 2000  # nothing accepted is lost
    w.conn.execute("PRAGMA max_page_count = 1000000")
    w.absorb_sync(engine, force=True)
    assert w.pending == Batch()
    assert accumulated(w.conn)["total"]["count"] == 2000


def test_reading_while_a_writer_holds_a_transaction(tmp_path):
    db = tmp_path / "rw.sqlite"
    cli("replay", liquidation_capture(tmp_path / "l.jsonl"), "--headless", "--db", db)
    writer = sqlite3.connect(db, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("DELETE FROM liquidations")
    try:
        out = json.loads(cli("stats", "--db", db, "--json").stdout)  # WAL: the reader sees the last commit
        assert out["total"]["count"] == 300
    finally:
        writer.execute("ROLLBACK")
        writer.close()
