"""Replay speed and memory against a plain-JSON baseline, in one run.

Builds a capture of N trade frames by repeating the real Binance USD-M recording
(../shared/data/hftbacktest) with shifted trade ids and times, then times, on the same frames:

  orjson.loads(frame)            the baseline: JSON parsing alone, nothing else
  orjson.loads(line) + (frame)   reading the capture lines as the replay must
  full replay                    capture reader + parsers + every analytic + the report

and, with --memory, the peak RSS of a headless replay of N and 4N trades (separate processes).

    python benchmarks/replay_speed.py [--trades 500000] [--memory]
"""

from __future__ import annotations

import argparse
import gzip
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parents[1]
RECORDING = ROOT.parent / "shared/data/hftbacktest/extracted/usdm_btcusdt_20240808_trades_only.txt.gz"


def build_capture(path: Path, n: int) -> list[str]:
    base = []
    with gzip.open(RECORDING, "rt") as fh:
        for line in fh:
            ns, _, frame = line.rstrip("\n").partition(" ")
            base.append((int(ns) // 1_000_000, json.loads(frame)))
    span_ms = base[-1][1]["data"]["T"] - base[0][1]["data"]["T"] + 1000
    ids = base[-1][1]["data"]["t"] - base[0][1]["data"]["t"] + 1
    frames = []
    with open(path, "wb") as out:
        out.write(orjson.dumps({"capture": "orderflow-tui", "version": 1, "started_ms": base[0][0],
                                "instruments": {}}) + b"\n")
        k = 0
        while len(frames) < n:
            for t, msg in base:
                if len(frames) >= n:
                    break
                d = dict(msg["data"])
                d["T"] += k * span_ms
                d["E"] += k * span_ms
                d["t"] += k * ids
                frame = orjson.dumps({"stream": msg["stream"], "data": d}).decode()
                frames.append(frame)
                out.write(orjson.dumps({"t": t + k * span_ms, "x": "binance", "f": frame}) + b"\n")
            k += 1
    return frames


def best_of(fn, repeat=3) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def full_replay(path: Path) -> dict:
    from orderflow_tui.capture import CaptureReader
    from orderflow_tui.engine.engine import Engine
    from orderflow_tui.engine.snapshot import snapshot
    from orderflow_tui.replay import replay_capture
    from orderflow_tui.report import build_report

    engine = Engine(report_tf="1m", report_step=10.0)
    with CaptureReader(path) as reader:
        stats = replay_capture(reader, engine)
    snapshot(engine, "BTC")  # the dashboard's read side, once
    return build_report(engine, stats, reader.instruments)


def peak_rss_mb(path: Path) -> float:
    # VmHWM, not ru_maxrss: the latter is inherited from this (large) parent across fork
    code = ("import sys;from orderflow_tui.cli import main;sys.argv=['x','replay',sys.argv[1],'--headless',"
            "'--no-store','--step','10','--report','json'];\ntry: main()\nexcept SystemExit: pass\n"
            "hwm=[l for l in open('/proc/self/status') if l.startswith('VmHWM')][0].split()[1]\n"
            "print(int(hwm)/1024,file=sys.stderr)")
    proc = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=True)
    return float(proc.stderr.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--trades", type=int, default=500_000)
    ap.add_argument("--memory", action="store_true", help="also measure peak RSS at N and 4N trades")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.jsonl"
        frames = build_capture(path, args.trades)
        lines = path.read_bytes().splitlines()[1:]
        loads = orjson.loads

        def json_frames():
            for f in frames:
                loads(f)

        def json_lines():
            for line in lines:
                loads(loads(line)["f"])

        t_json = best_of(json_frames)
        t_lines = best_of(json_lines)
        report = {}
        t_full = best_of(lambda: report.update(full_replay(path)))
        trades = report["markets"]["binance:BTCUSDT"]["trades"]
        assert trades == args.trades, trades
        n = args.trades
        print(f"{n:,} trade frames (Binance USD-M BTCUSDT @trade, real recording repeated)")
        print(f"{'what':34} {'seconds':>8} {'µs/frame':>9} {'frames/s':>11} {'× json':>7}")
        for name, t in (("orjson.loads(frame)  [baseline]", t_json), ("orjson.loads(line) + loads(frame)", t_lines),
                        ("full replay + report", t_full)):
            print(f"{name:34} {t:8.3f} {t / n * 1e6:9.2f} {n / t:11,.0f} {t / t_json:7.2f}")
        if args.memory:
            big = Path(tmp) / "big.jsonl"
            build_capture(big, 4 * n)
            small_rss, big_rss = peak_rss_mb(path), peak_rss_mb(big)
            print(f"peak RSS: {n:,} trades {small_rss:.0f} MB, {4 * n:,} trades {big_rss:.0f} MB "
                  f"(ratio {big_rss / small_rss:.2f})")


if __name__ == "__main__":
    main()
