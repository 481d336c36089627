"""The headless replay report (contract.md §2) on real recordings, against an independent computation."""

import gzip
import json
import os
import shutil
import subprocess
import sys
from decimal import Decimal as D
from pathlib import Path

import pytest

from captures import extracted_frames, hftbacktest_frames, tardis_binance_frames, write_capture
from reference import assert_close, reference_report


def run_report(path, *args, check=True, env=None, cwd=None):
    proc = subprocess.run([sys.executable, "-m", "orderflow_tui", "replay", str(path), "--headless", "--report",
                           "json", "--no-store", *args], capture_output=True, text=True, timeout=120, env=env, cwd=cwd)
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


def report(path, *args, env=None, cwd=None):
    proc = run_report(path, *args, env=env, cwd=cwd)
    return json.loads(proc.stdout)  # nothing but the one JSON object on stdout


@pytest.fixture(scope="module")
def usdm(tmp_path_factory):
    frames = list(hftbacktest_frames("usdm_btcusdt_20240808_trades_only.txt.gz", "binance"))
    path = write_capture(tmp_path_factory.mktemp("cap") / "usdm.jsonl.gz", frames, compress=True)
    return path, frames


def test_binance_trade_stream_matches_reference(usdm):
    path, frames = usdm
    out = report(path, "--tf", "1m", "--step", "10")
    assert out["version"] == 1 and out["frames"] == 21313 and out["rejected_frames"] == 0
    assert list(out["markets"]) == ["binance:BTCUSDT"]
    m = out["markets"]["binance:BTCUSDT"]
    assert m["trades"] == 21313 and m["missing_trade_ids"] == 0
    assert m["liquidations"] == {"long": {"count": 0, "base": 0.0, "quote": 0.0},
                                 "short": {"count": 0, "base": 0.0, "quote": 0.0}}
    assert_close(m, reference_report(frames)["binance:BTCUSDT"])


def test_other_bar_settings_match_reference(usdm):
    path, frames = usdm
    out = report(path, "--tf", "5m", "--step", "5")["markets"]["binance:BTCUSDT"]
    assert_close(out, reference_report(frames, 300_000, D("5"))["binance:BTCUSDT"])


def test_compiled_modules_report_what_the_plain_python_reports(tmp_path, usdm):
    """The per-trade modules are compiled with mypyc when installed; the same sources run as plain
    Python must give the very same report (floats included)."""
    import orderflow_tui

    package = Path(orderflow_tui.__file__).parent
    if not any(package.rglob("*.so")):
        pytest.skip("this install is not compiled (ORDERFLOW_TUI_PURE=1)")
    plain = tmp_path / "plain"
    shutil.copytree(package, plain / "orderflow_tui", ignore=shutil.ignore_patterns("*.so", "__pycache__"))
    env = {**os.environ, "PYTHONPATH": str(plain)}
    probe = subprocess.run([sys.executable, "-c", "import orderflow_tui.engine.engine as e; print(e.__file__)"],
                           capture_output=True, text=True, env=env, cwd=tmp_path, check=True)
    assert probe.stdout.strip() == str(plain / "orderflow_tui/engine/engine.py")
    path, _ = usdm
    assert report(path, "--step", "10", env=env, cwd=tmp_path) == report(path, "--step", "10")


def test_gzip_is_detected_by_magic_bytes_not_name(tmp_path, usdm):
    path, _ = usdm
    renamed = tmp_path / "capture.jsonl"  # gzip content, plain name
    renamed.write_bytes(path.read_bytes())
    assert report(renamed, "--step", "10")["markets"]["binance:BTCUSDT"]["trades"] == 21313


def test_gaps_in_aggregate_ids_are_counted(tmp_path):
    frames = list(tardis_binance_frames())
    del frames[100:103]  # three ids missing
    del frames[5000]  # one more
    frames.insert(50, frames[49])  # a duplicate is not counted twice
    out = report(write_capture(tmp_path / "gaps.jsonl", frames), "--step", "10")
    m = out["markets"]["binance:BTCUSDT"]
    assert m["missing_trade_ids"] == 4 and m["trades"] == 9995 and m["duplicate_trades"] == 1
    ref = reference_report([f for i, f in enumerate(frames) if i != 50])["binance:BTCUSDT"]
    assert_close(m, ref)


def test_late_ids_fill_their_gap(tmp_path):
    frames = list(tardis_binance_frames())[:200]
    frames.append(frames.pop(10))  # id 10 arrives last: a gap, then filled
    m = report(write_capture(tmp_path / "late.jsonl", frames), "--step", "10")["markets"]["binance:BTCUSDT"]
    assert m["missing_trade_ids"] == 0 and m["trades"] == 200


def test_bybit_and_okx_recordings_match_reference(tmp_path):
    frames = list(extracted_frames("bybit_v5_linear_publicTrade_2026-08-09.jsonl", "bybit"))
    frames += list(extracted_frames("okx_v5_trades_2022-05-13.jsonl", "okx"))
    instruments = {"okx:UNI-USD-SWAP": {"contract_size": 10, "inverse": True},
                   "okx:BTC-USD-220527": {"contract_size": 100, "inverse": True}}
    out = report(write_capture(tmp_path / "mixed.jsonl", frames, instruments), "--step", "10")
    ref = reference_report(frames)
    assert set(out["markets"]) == set(ref)
    for market, expected in ref.items():
        assert_close(out["markets"][market], expected, market)
    assert out["markets"]["okx:UNI-USD-SWAP"]["sell_quote"] == 1000.0


def test_bad_lines_are_counted_and_skipped(tmp_path):
    good = list(extracted_frames("binance_usdm_aggTrade_combined_2021-07-22.jsonl", "binance"))
    path = write_capture(tmp_path / "bad.jsonl", good[:10])
    with open(path, "a") as fh:
        fh.write('{"t": 1, "x": "binance", "f": "{\\"e\\":\\"aggTrade\\",\\"p\\":\\"oops\\"}"}\n')
        fh.write("not json at all\n")
        fh.write('{"t": 1, "x": "kraken", "f": "{}"}\n')
        fh.write('{"t": 1, "x": "binance", "f": 42}\n')
        fh.write('{"t": 1, "x": "binance", "f": "{\\"result\\":null,\\"id\\":1}"}\n')
        fh.write('{"k": "rest", "t": 1, "x": "binance", "f": "[]"}\n')
        fh.write("\n")
        fh.write('{"t": 1, "x": "binance", "f": "{\\"stream\\":\\"ctkusdt@aggTrade\\",\\"data\\":{\\"e\\":\\"aggTr')
    out = report(path, "--step", "1")
    assert out["frames"] == 16 and out["rejected_frames"] == 5 and out["control_frames"] == 1
    assert sum(m["trades"] for m in out["markets"].values()) == 10


@pytest.mark.parametrize("content,message", [
    (b"", "header"),
    (b'{"t": 1, "x": "binance", "f": "{}"}\n', "not an orderflow-tui capture"),
    (b'{"capture": "orderflow-tui", "version": 2}\n', "version 2"),
    (gzip.compress(b'{"capture": "orderflow-tui", "version": 1}\n', mtime=0)[:8], "cannot read"),
    (b"\x1f\x8bnot gzip at all\n", "cannot read"),
    (b"just some text\n", "not a capture header"),
], ids=["empty", "no-header", "version-2", "truncated-header", "fake-gzip", "text"])
def test_unreadable_captures_fail_with_one_line(tmp_path, content, message):
    path = tmp_path / "c.jsonl"
    path.write_bytes(content)
    proc = run_report(path, check=False)
    assert proc.returncode != 0 and proc.stdout == ""
    assert message in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("block_size", [1 << 16, 333, 1])
def test_lines_decoded_in_blocks_count_the_same_as_one_by_one(tmp_path, monkeypatch, block_size):
    """The replay decodes runs of lines in one call; bad lines inside a run, lines cut by the run
    boundary and a line holding two JSON values must count as they would alone."""
    from orderflow_tui.capture import CaptureReader
    from orderflow_tui.engine.engine import Engine
    from orderflow_tui.replay import replay_capture

    good = list(extracted_frames("binance_usdm_aggTrade_combined_2021-07-22.jsonl", "binance"))[:40]
    path = write_capture(tmp_path / "mixed.jsonl", good[:20])
    with open(path, "ab") as fh:
        fh.write(b'{"t": 1, "x": "binance", "f": "{}"}, {"t": 2}\n')  # two values: one bad line, not two
        fh.write(b"[1, 2]\n")
        fh.write(b'"text"\n')
        fh.write(b"   \n")
        fh.write(b'{"t": 1, "x": "binance"}\r\n')
    with open(path, "ab") as fh:  # the rest of the good frames, the last line without a newline
        lines = write_capture(tmp_path / "rest.jsonl", good[20:]).read_bytes().splitlines()[1:]
        fh.write(b"\n".join(lines))
    orig = CaptureReader.blocks
    monkeypatch.setattr(CaptureReader, "blocks", lambda self: orig(self, block_size))
    engine = Engine(report_tf="1m", report_step=1.0)
    with CaptureReader(path) as reader:
        stats = replay_capture(reader, engine)
    assert stats.frames == 44 and stats.rejected == 4
    assert dict(stats.reasons) == {"capture line is not JSON": 1, "capture line is not an object": 2,
                                   "capture line without a frame": 1}
    assert sum(m.trades for m in engine.markets.values()) == 40


def test_a_sparse_capture_keeps_every_bar_only_for_the_report(tmp_path):
    """Issue 19: trades two minutes apart make one bar each. Without --report a headless replay keeps
    the dashboard's bars (engine.footprint_bars) and prints nothing on stdout; the report still lists
    every bar. (The time and memory figures: benchmarks/sparse_replay.py.)"""
    from orderflow_tui.capture import CaptureReader
    from orderflow_tui.config import EngineSettings
    from orderflow_tui.engine.engine import Engine
    from orderflow_tui.replay import replay_capture

    n, t0 = 1500, 1_700_000_040_000
    frames = [(t0 + i * 120_000, "binance", json.dumps({"stream": "btcusdt@aggTrade", "data": {
        "e": "aggTrade", "E": t0 + i * 120_000, "a": 10 + i, "s": "BTCUSDT", "p": f"{60000 + i % 50}.5",
        "q": "0.010", "f": 1, "l": 1, "T": t0 + i * 120_000, "m": i % 3 == 0}})) for i in range(n)]
    path = write_capture(tmp_path / "sparse.jsonl", frames)
    bounded = Engine(EngineSettings(footprint_bars=100))
    with CaptureReader(path) as reader:
        replay_capture(reader, bounded)
    series = bounded.markets["binance:BTCUSDT"].footprint
    assert bounded.markets["binance:BTCUSDT"].trades == n
    assert len(series.bars) == 100 and series.history is None
    proc = run_report(path)
    assert len(json.loads(proc.stdout)["markets"]["binance:BTCUSDT"]["footprint"]) == n  # one bar per trade
    quiet = subprocess.run([sys.executable, "-m", "orderflow_tui", "replay", str(path), "--headless", "--no-store"],
                           capture_output=True, text=True, timeout=120)
    assert quiet.returncode == 0 and quiet.stdout == "" and f"replayed {n} frames" in quiet.stderr
