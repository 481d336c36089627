"""Every bad command is one line and a non-zero exit; sources never mix; a crash is loud (issue 13)."""

from __future__ import annotations

import csv
import gzip
import json
import socket
import sqlite3
import subprocess
import sys

import pytest

from captures import extracted_frames, write_capture
from liquidation_capture import liquidation_capture


def cli(*args, check=True, env=None, timeout=120):
    import os

    proc = subprocess.run([sys.executable, "-m", "orderflow_tui", *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, **(env or {})})
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


def one_line_error(proc, *words, code=None):
    assert proc.returncode != 0 if code is None else proc.returncode == code, (proc.returncode, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    for w in words:
        assert w in lines[0], (w, lines[0])


@pytest.fixture
def capture(tmp_path):
    frames = list(extracted_frames("binance_usdm_aggTrade_combined_2021-07-22.jsonl", "binance"))[:50]
    return write_capture(tmp_path / "c.jsonl", frames)


# ---- item 5: bad commands -------------------------------------------------------------------------


def test_h_is_help_and_help_has_no_type_noise():
    short, long = cli("-h"), cli("--help")
    assert short.stdout == long.stdout and "replay" in short.stdout
    text = cli("replay", "-h").stdout
    assert "  --headless       No UI" in text and "<bool>" not in text


@pytest.mark.parametrize("speed", ["abc", "0", "-2", "nan", "inf", ""])
def test_a_bad_speed_is_one_line(capture, speed):
    one_line_error(cli("replay", capture, "--speed", speed, check=False), "--speed", code=2)


@pytest.mark.parametrize("content,words", [
    (b"", ["empty"]),
    (b"hello, this is text\n", ["not a capture header"]),
    (b"\x1f\x8b\x08\x00garbage that is not deflate" * 3, ["cannot read"]),
    (gzip.compress(b"just text in a real gzip\n"), ["not a capture header"]),
], ids=["empty", "text", "fake-gz", "gz-of-text"])
@pytest.mark.parametrize("headless", [True, False], ids=["headless", "dashboard"])
def test_a_file_that_is_not_a_capture_is_one_line_before_any_screen(tmp_path, content, words, headless):
    path = tmp_path / "bad.jsonl.gz"
    path.write_bytes(content)
    args = ["replay", path, "--no-store"] + (["--headless"] if headless else [])
    one_line_error(cli(*args, check=False, timeout=30), str(path), *words, code=2)


@pytest.mark.parametrize("headless", [True, False], ids=["headless", "dashboard"])
def test_a_directory_as_capture_says_so(tmp_path, headless):
    args = ["replay", tmp_path, "--no-store"] + (["--headless"] if headless else [])
    one_line_error(cli(*args, check=False, timeout=30), "is a directory", code=2)


def test_a_missing_capture_says_no_such_file(tmp_path):
    one_line_error(cli("replay", tmp_path / "nope.jsonl", "--headless", check=False), "No such file", code=2)


@pytest.mark.parametrize("command", [["stats"], ["export", "-"], ["replay", "CAP", "--headless"]])
def test_a_directory_as_db_blames_the_directory(tmp_path, capture, command):
    args = [capture if a == "CAP" else a for a in command]
    proc = cli(*args, "--db", tmp_path, check=False)
    one_line_error(proc, "is a directory", str(tmp_path), code=2)


@pytest.mark.parametrize("args", [
    ["replay", "CAP", "--headless", "--step", "1e-300"], ["replay", "CAP", "--headless", "--step", "-1"],
    ["replay", "CAP", "--headless", "--tf", "7m"], ["replay", "CAP", "--headless", "--report", "xml"],
    ["stats", "--source", "sim"], ["stats", "--since", "yesterday"], ["export", "-", "--what", "trades"],
    ["demo", "--rate", "0", "--headless"], ["demo", "--rate", "1e308", "--headless"],
    ["stats", "--since", "99999999999999999999d"], ["demo", "--group", "NOPE", "--headless"],
    ["run", "--duration", "-1", "--headless"], ["record", "OUT", "--duration", "0"],
    ["replay", "CAP", "--speed", "fast"], ["replay"], ["stats", "--db"], ["bogus-command"],
    ["replay", "CAP", "--headless", "--step", "abc"],
])
def test_every_bad_argument_is_one_line_and_exit_2(tmp_path, capture, args):
    args = [capture if a == "CAP" else tmp_path / "o.jsonl" if a == "OUT" else a for a in args]
    proc = cli(*args, check=False, timeout=60)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    assert len([line for line in proc.stderr.splitlines() if line.strip()]) <= 4  # click's usage + one error


def test_the_top_level_config_applies_to_every_command(tmp_path, capture):
    bad = tmp_path / "bad.toml"
    bad.write_text("[engine]\nimbalance_ratio = 0.5\n")
    for args in (["stats"], ["export", "-"], ["replay", capture, "--headless", "--no-store"],
                 ["record", tmp_path / "r.jsonl", "--duration", "1"], ["doctor"]):
        one_line_error(cli("--config", bad, *args, check=False), "engine.imbalance_ratio", code=2)
    good = tmp_path / "good.toml"
    db = tmp_path / "from-config.sqlite"
    good.write_text(f'[store]\ndb = "{db}"\n')
    cli("replay", liquidation_capture(tmp_path / "liq.jsonl"), "--headless", "--db", db)
    out = json.loads(cli("--config", good, "stats", "--json").stdout)  # the store named by the config
    assert out["total"]["count"] > 0


def _closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_record_with_no_reachable_venue_names_them_and_exits_1(tmp_path):
    port = _closed_port()
    env = {"ORDERFLOW_ENDPOINTS_BINANCE_MARKET_WS": f"ws://127.0.0.1:{port}/ws",
           "ORDERFLOW_ENDPOINTS_BINANCE_PUBLIC_WS": f"ws://127.0.0.1:{port}/ws",
           "ORDERFLOW_ENDPOINTS_BINANCE_REST": f"http://127.0.0.1:{port}",
           "ORDERFLOW_ENDPOINTS_OKX_WS": f"ws://127.0.0.1:{port}/ws",
           "ORDERFLOW_ENDPOINTS_OKX_REST": f"http://127.0.0.1:{port}"}
    out = tmp_path / "r.jsonl"
    proc = cli("record", out, "--venues", "binance,okx", "--group", "BTC", "--duration", "2", check=False, env=env,
               timeout=90)
    assert proc.returncode == 1, proc.stderr
    assert "no frame from binance" in proc.stderr and "no frame from okx" in proc.stderr
    assert "no venue could be reached" in proc.stderr.strip().splitlines()[-1]


# ---- item 4: sources never mix --------------------------------------------------------------------


def test_replay_and_demo_never_write_into_the_live_store(tmp_path, capture):
    home = {"XDG_DATA_HOME": str(tmp_path / "data"), "HOME": str(tmp_path)}
    cli("replay", liquidation_capture(tmp_path / "liq.jsonl"), "--headless", env=home)
    files = sorted(p.name for p in (tmp_path / "data" / "orderflow-tui").iterdir())
    assert "orderflow.sqlite" not in files and "replay.sqlite" in files
    proc = cli("stats", "--json", check=False, env=home)  # the live store does not exist: nothing was mixed in
    one_line_error(proc, "no such file", code=2)


def test_stats_and_export_default_to_live_and_take_source(tmp_path):
    from orderflow_tui.store.db import Batch, connect, write_batch

    db = tmp_path / "mixed.sqlite"
    cli("replay", liquidation_capture(tmp_path / "liq.jsonl"), "--headless", "--db", db)
    replayed = json.loads(cli("stats", "--db", db, "--json").stdout)  # no live rows yet: what the file holds
    assert replayed["source"] == "all" and replayed["total"]["count"] > 0
    conn = connect(db)
    live = Batch(liquidations=[("live", "bybit", "BTCUSDT", 1_800_000_000_000, "long", 50_000.0, 2.0, 100_000.0, 0,
                                "BTC", "")])
    write_batch(conn, live)
    conn.close()
    out = json.loads(cli("stats", "--db", db, "--json").stdout)
    assert out["source"] == "live" and out["total"]["count"] == 1 and out["total"]["quote"] == 100_000.0
    assert out["first_ts"] == out["last_ts"] == 1_800_000_000_000
    # the text prints dates as YYYYMMDD (test_store), ISO when ui.date_format says so
    assert "First:     2027-01-15 08:00:00 UTC" in cli("stats", "--db", db, env={"ORDERFLOW_UI_DATE_FORMAT": "iso"}).stdout
    again = json.loads(cli("stats", "--db", db, "--json", "--source", "replay").stdout)
    assert again["total"] == {**replayed["total"]}
    everything = json.loads(cli("stats", "--db", db, "--json", "--source", "all").stdout)
    assert everything["total"]["count"] == replayed["total"]["count"] + 1
    cli("export", tmp_path / "l.csv", "--db", db)
    rows = list(csv.DictReader(open(tmp_path / "l.csv")))
    assert len(rows) == 1 and rows[0]["source"] == "live"
    cli("export", tmp_path / "all.csv", "--db", db, "--source", "all")
    sources = {r["source"] for r in csv.DictReader(open(tmp_path / "all.csv"))}
    assert sources == {"live", "replay:liq.jsonl@1700000000000"} or (
        "live" in sources and any(s.startswith("replay:liq.jsonl@") for s in sources)), sources
    cli("export", tmp_path / "h.csv", "--what", "hourly", "--db", db, "--source", "replay")
    assert {r["source"] for r in csv.DictReader(open(tmp_path / "h.csv"))} == {"replay"}


def test_a_version_1_store_is_migrated_with_its_rows_kept(tmp_path):
    """Schema 1 had no source: rows a live run covered become live, the others 'unknown'; nothing is
    dropped or replaced."""
    from orderflow_tui.store import schema
    from orderflow_tui.store.db import _statements, accumulated, connect

    db = tmp_path / "v1.sqlite"
    conn = sqlite3.connect(db, isolation_level=None)
    for statement in _statements(schema.MIGRATIONS[1]):
        conn.execute(statement)
    conn.execute("PRAGMA user_version = 1")
    conn.execute("INSERT INTO sessions (source, mode, started_ms, stopped_ms, last_seen_ms, venues) VALUES "
                 "('live:1', 'live', 1000000000000, 1000003600000, 1000003600000, 'binance')")
    conn.execute("INSERT INTO sessions (source, mode, started_ms, stopped_ms, last_seen_ms, venues) VALUES "
                 "('SIMULATED:2', 'SIMULATED', 1100000000000, 1100003600000, 1100003600000, 'binance')")
    rows = [("binance", "BTCUSDT", 1000000600000, "long", 50000.0, 1.0, 50000.0, 1, "BTC"),  # live run
            ("binance", "BTCUSDT", 1100000600000, "short", 40000.0, 2.0, 80000.0, 1, "BTC"),  # demo run
            ("okx", "BTC-USDT-SWAP", 900000000000, "long", 10000.0, 3.0, 30000.0, 1, "BTC")]  # a replay
    conn.executemany("INSERT INTO liquidations VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    conn.execute("INSERT INTO volume_hours VALUES ('capture:x.jsonl:1:2', 0, 'okx', 'BTC-USDT-SWAP', 'BTC', 1, "
                 "1.0, 0.0, 1.0, 0.0)")
    conn.close()
    before = cli("stats", "--db", db, "--json", "--source", "all")  # a reader migrates it too
    assert json.loads(before.stdout)["total"]["count"] == 3
    conn = connect(db)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == schema.SCHEMA_VERSION
    assert accumulated(conn)["total"]["count"] == 1
    assert accumulated(conn, source="unknown")["total"]["count"] == 2
    assert accumulated(conn, source="all")["total"] == {"count": 3, "base": 6.0, "quote": 160000.0, "cascades": 0}
    assert conn.execute("SELECT source FROM volume_hours").fetchall() == [("replay:capture:x.jsonl:1:2",)]
    conn.close()


# ---- item 7: replay opens where the data is -----------------------------------------------------------


def test_replay_opens_on_the_groups_the_capture_holds(tmp_path):
    from orderflow_tui.ui.launch import capture_groups

    frames = list(extracted_frames("okx_v5_trades_2022-05-13.jsonl", "okx"))[:300]
    path = write_capture(tmp_path / "okx.jsonl", frames)
    groups = capture_groups(path)
    from collections import Counter

    expected = Counter(json.loads(f)["arg"]["instId"].split("-")[0] for _, _, f in frames
                       if json.loads(f).get("arg", {}).get("channel") == "trades")
    assert groups and set(groups) == set(expected) and groups[0] == expected.most_common(1)[0][0]
    assert "ETH" not in capture_groups(write_capture(tmp_path / "b.jsonl", list(
        extracted_frames("binance_usdm_aggTrade_combined_2021-07-22.jsonl", "binance"))[:20]))


# ---- item 6: an unexpected error is loud ------------------------------------------------------------


def test_a_crash_of_the_dashboard_is_logged_one_line_and_exit_1(tmp_path, capsys):
    from textual.app import App

    from orderflow_tui.ui.launch import run_app

    class Broken(App):
        def compose(self):
            def deep(n):
                return deep(n + 1)

            deep(0)  # the RecursionError of issue 13
            yield from ()

    class Headless(Broken):
        def run(self, mouse=True):
            return super().run(headless=True, size=(80, 24), mouse=mouse)

    log = tmp_path / "logs" / "dash.log"
    assert run_app(Headless(), mouse=False, log_file=str(log)) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "RecursionError" in err[0] and str(log) in err[0]
    text = log.read_text()
    assert "Traceback" in text and "RecursionError" in text and "in deep" in text

    class Fine(App):
        def on_mount(self):
            self.exit(return_code=0)

    class FineHeadless(Fine):
        def run(self, mouse=True):
            return super().run(headless=True, size=(80, 24), mouse=mouse)

    assert run_app(FineHeadless(), mouse=False, log_file=str(log)) == 0


def test_no_books_turns_the_depth_connections_off_for_the_run(tmp_path):
    """--no-books, on each command with feeds or before any command, is feeds.books = false."""
    from typer.testing import CliRunner

    from orderflow_tui import cli as cli_module

    for command in ("run", "demo", "record", "collect", "doctor"):
        assert "--no-books" in CliRunner().invoke(cli_module.app, [command, "--help"]).output, command
    assert cli_module.load_settings(None).feeds.books
    assert not cli_module.load_settings(None, no_books=True).feeds.books
    on, off = tmp_path / "on.jsonl", tmp_path / "off.jsonl"
    cli("record", on, "--demo", "--duration", "1.5")
    cli("--no-books", "record", off, "--demo", "--venues", "binance,bybit", "--duration", "1.5")

    def count(path, *words):
        return sum(any(w in line for w in words) for line in open(path))

    assert count(on, "@depth", "orderbook.") > 0 and count(on, "aggTrade") > 0
    assert count(off, "@depth", "orderbook.") == 0 and count(off, "aggTrade") > 0
