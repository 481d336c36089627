"""Headless replay speed of depth-heavy captures beside the trade replay, in one run (issue 21).

Captures (one market each):
  trades: binance @trade   the real USD-M recording's trades repeated (benchmarks/replay_speed.py): the baseline
  depth: binance real      the real recording's @depth@0ms diffs (6 to 55 levels a side) and its REST
                           snapshot as a "k": "book" line, once through (6,548 frames applied)
  depth: <venue> sim       N pushes of the demo's simulated book in each venue's protocol, each push
                           coalescing a few book moves (as a 100 ms push does)
  demo recording           the depth `demo` sends on its six venues (BTC and ETH), recorded by the live
                           client for --demo seconds as `record` does; its depth frames and REST
                           book lines kept (trades and the rest dropped, as in the other rows)

For each: orjson.loads of every frame (the floor), and the full headless replay (capture reader,
parser, sync machine, book, report). Every depth frame must be applied with no gap.

    python benchmarks/book_replay.py [--frames 50000] [--demo 60] [--baseline DIR]

``--baseline DIR`` replays the same captures with an older package found in DIR (a checkout with its
compiled modules built in place, e.g. a git worktree after ``pip install -e .``), each build in a
child process of its own, side by side.

Timings are noisy on a shared machine: compare the rows of one run (the ratios), not runs.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
RECORDING = ROOT.parent / "shared/data/hftbacktest/usdm_btcusdt_20240808.gz"


def write_capture(path: Path, lines: list[dict]) -> None:
    with open(path, "wb") as out:
        out.write(orjson.dumps({"capture": "orderflow-tui", "version": 1, "started_ms": 0, "instruments": {}}) + b"\n")
        for line in lines:
            out.write(orjson.dumps(line) + b"\n")


def real_binance_depth(path: Path) -> list[str]:
    """The recording's depth frames and its REST snapshot (as a "k": "book" line), nothing else."""
    lines, frames = [], []
    with gzip.open(RECORDING, "rt") as fh:
        for line in fh:
            ns, _, frame = line.rstrip("\n").partition(" ")
            t = int(ns) // 1_000_000
            if frame.startswith('{"lastUpdateId"'):
                lines.append({"t": t, "x": "binance", "k": "book", "m": "binance:BTCUSDT", "f": frame})
            elif "@depth" in frame[:40]:
                lines.append({"t": t, "x": "binance", "f": frame})
                frames.append(frame)
    write_capture(path, lines)
    return frames


def simulated_depth(path: Path, venue: str, n: int, moves: int = 5) -> list[str]:
    """n depth frames of one simulated venue (sim/depth_sim.py, the demo's books): its snapshot, then
    pushes that each coalesce a few book moves (10 to 40 levels, as a 100 ms push does)."""
    import math
    import random
    from types import SimpleNamespace

    from orderflow_tui.sim.depth_sim import DEPTHS, _compact
    from orderflow_tui.sim.exchange_sim import SYMBOLS, Faults

    server = SimpleNamespace(now_ms=1_796_000_000_000, faults=Faults())
    sim = DEPTHS[venue](server, 5, 65_000.0)
    b = sim.book
    market = f"{venue}:{SYMBOLS[venue]}"
    if venue == "binance":
        first = {"k": "book", "m": market, "f": json.dumps(sim.snapshot())}
    elif venue == "bybit":
        first = {"f": sim.snapshot_frame()}
    elif venue == "okx":
        first = {"f": _compact({"arg": {"channel": "books", "instId": "BTC-USDT-SWAP"}, "action": "snapshot",
                                "data": [dict(sim.book_rows(), prevSeqId=-1)]})}
    elif venue == "bitget":
        first = {"f": sim.frame("snapshot", sim.sorted_levels(b.bids, True), sim.sorted_levels(b.asks, False),
                                sim.seq - 1, sim.checksum())}
    elif venue == "coinbase":
        first = {"f": _compact({"type": "snapshot", "product_id": "BTC-USD", "bids": sim.sorted_levels(b.bids, True),
                                "asks": sim.sorted_levels(b.asks, False)})}
    else:
        first = {"f": sim.whole()}
    lines = [dict(first, t=server.now_ms, x=venue)]
    frames = []
    rnd = random.Random(9)
    price = 65_000.0
    for _ in range(n):
        server.now_ms += 100
        cb: dict = {}
        ca: dict = {}
        for _ in range(moves):
            price *= math.exp(rnd.gauss(0, 1e-4))
            nb, na = b.step(price)
            cb.update(nb)
            ca.update(na)
        frame = sim.delta(cb, ca)
        frames.append(frame)
        lines.append({"t": server.now_ms, "x": venue, "f": frame})
    write_capture(path, lines)
    return frames


def demo_recording(path: Path, seconds: float) -> list[str]:
    """The six simulated venues of `demo` (BTC and ETH), recorded by the live client as `record` does."""
    import asyncio

    from orderflow_tui import config
    from orderflow_tui.capture import CaptureWriter
    from orderflow_tui.engine.engine import Engine
    from orderflow_tui.feeds.session import LiveSource
    from orderflow_tui.sim.exchange_sim import DemoExchange

    async def run() -> None:
        venues = ("binance", "bybit", "okx", "coinbase", "hyperliquid", "bitget")
        exchange = await DemoExchange(seed=3, venues=venues, groups=("BTC", "ETH")).start()
        settings = config.Settings()
        settings.feeds.venues = ",".join(venues)
        settings.feeds.group = "BTC,ETH"
        exchange.endpoints(settings)
        source = LiveSource(settings)
        await source.prepare()
        source.recorder = writer = CaptureWriter(path, source.instruments, 0)
        task = asyncio.create_task(source.run(Engine(settings.engine, collect_facts=False)))
        await asyncio.sleep(seconds)
        source.stop()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await exchange.stop()
        writer.close()

    asyncio.run(run())
    from orderflow_tui.events import Depth
    from orderflow_tui.venues import make_parsers, parse_frame

    parsers = make_parsers()
    header, *lines = path.read_bytes().splitlines()
    kept, depth = [], []
    for line in lines:
        rec = orjson.loads(line)
        if rec.get("k") == "book":
            kept.append(line)
        elif "k" not in rec:
            events = parse_frame(parsers[rec["x"]], rec["f"])
            if type(events) is list and events and type(events[0]) is Depth:
                kept.append(line)
                depth.append(rec["f"])
    path.write_bytes(b"\n".join([header, *kept]) + b"\n")
    return depth


def replay(path: Path) -> dict:
    from orderflow_tui.capture import CaptureReader
    from orderflow_tui.engine.engine import Engine
    from orderflow_tui.replay import replay_capture
    from orderflow_tui.report import build_report

    engine = Engine(report_tf="1m", report_step=10.0)
    with CaptureReader(path) as reader:
        stats = replay_capture(reader, engine)
    report = build_report(engine, stats, reader.instruments)
    report["_books"] = engine.books
    return report


CHILD = """
import sys, time
from orderflow_tui.capture import CaptureReader
from orderflow_tui.engine.engine import Engine
from orderflow_tui.replay import replay_capture
best = float("inf")
for _ in range(3):
    t0 = time.process_time()
    engine = Engine(report_tf="1m", report_step=10.0)
    with CaptureReader(sys.argv[1]) as reader:
        replay_capture(reader, engine)
    best = min(best, time.process_time() - t0)
print(best)
"""


def child_replay(path: Path, package: str | None) -> float:
    """The best CPU seconds of 3 replays in a child process that imports the package from ``package``
    (None: this checkout)."""
    env = dict(os.environ, PYTHONPATH=package or str(ROOT))
    out = subprocess.run([sys.executable, "-c", CHILD, str(path)], capture_output=True, text=True, env=env,
                         cwd=package or str(ROOT))
    if out.returncode:
        raise SystemExit(f"replay failed ({package or 'this checkout'}): {out.stderr[-500:]}")
    return float(out.stdout.split()[-1])


def best_of(fn, repeat=3) -> float:
    """CPU seconds of this process (not wall time: the machine is shared), best of ``repeat``."""
    best = float("inf")
    for _ in range(repeat):
        t0 = time.process_time()
        fn()
        best = min(best, time.process_time() - t0)
    return best


def main() -> None:
    from replay_speed import build_capture as build_trade_capture

    ap = argparse.ArgumentParser()
    ap.add_argument("--frames", type=int, default=50_000, help="frames per capture")
    ap.add_argument("--only", default="", help="comma-separated words: only the captures whose name has one")
    ap.add_argument("--demo", type=float, default=60.0, help="seconds of demo to record (0: none)")
    ap.add_argument("--baseline", help="a directory holding an older orderflow_tui/ package, run side by side")
    args = ap.parse_args()
    n = args.frames
    loads = orjson.loads
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        cases = [("trades: binance @trade", "trade", lambda p: build_trade_capture(p, n)),
                 ("depth: binance real", "binance:BTCUSDT", real_binance_depth)]
        cases += [("depth: binance sim, small", "binance:BTCUSDT", lambda p: simulated_depth(p, "binance", n, 1))]
        cases += [(f"depth: {v} sim", f"{v}:{s}", lambda p, v=v: simulated_depth(p, v, n))
                  for v, s in (("binance", "BTCUSDT"), ("bybit", "BTCUSDT"), ("okx", "BTC-USDT-SWAP"),
                               ("bitget", "BTCUSDT"), ("coinbase", "BTC-USD"), ("hyperliquid", "BTC"))]
        if args.demo:
            cases += [("demo recording", "demo", lambda p: demo_recording(p, args.demo))]
        words = [w for w in args.only.split(",") if w]
        cases = [c for c in cases if c[1] == "trade" or not words or any(w in c[0] for w in words)]
        for i, (name, market, build) in enumerate(cases):
            path = Path(tmp) / f"c{i}.jsonl"
            frames = build(path)
            t_json = best_of(lambda: [loads(f) for f in frames])
            out: dict = {}
            t_full = best_of(lambda: out.update(replay(path)))
            if market == "trade":
                assert out["markets"]["binance:BTCUSDT"]["trades"] == len(frames)
            elif market == "demo":  # no trades kept, so no market in the report: the engine's books
                books = [b for b in out["_books"].values() if b.updates]
                assert len(books) >= 6 and sum(b.updates for b in books) >= len(frames) * 0.5, \
                    [(b.market, b.updates, b.gaps) for b in books]
            else:
                book = out["_books"][market]
                # the real one: the few diffs older than its REST snapshot are dropped, as the procedure says
                assert len(frames) - 10 <= book.updates <= len(frames) + 1 and book.gaps == 0 and book.synced, name
            size = sum(map(len, frames)) / len(frames)
            before = after = 0.0
            if args.baseline:  # both builds in child processes alike, interleaved
                before = child_replay(path, args.baseline)
                after = child_replay(path, None)
            rows.append((name, len(frames), size, t_json, t_full, before, after))
    print("headless replay, CPU seconds of the process, best of 3 (a shared 2-core machine: compare rows of one run)")
    print(f"{'capture':24} {'frames':>8} {'bytes/fr':>8} {'orjson s':>9} {'replay s':>9} {'µs/frame':>9} "
          f"{'frames/s':>10} {'× json':>7}")
    for name, count, size, t_json, t_full, _, _ in rows:
        print(f"{name:24} {count:8,} {size:8.0f} {t_json:9.3f} {t_full:9.3f} {t_full / count * 1e6:9.2f} "
              f"{count / t_full:10,.0f} {t_full / t_json:7.2f}")
    if args.baseline:
        print(f"\nthe same captures, each build in a child process (best CPU s of 3): before = {args.baseline}")
        print(f"{'capture':24} {'before s':>9} {'after s':>9} {'before f/s':>11} {'after f/s':>11} {'speed-up':>9}")
        for name, count, _, _, _, before, after in rows:
            print(f"{name:24} {before:9.3f} {after:9.3f} {count / before:11,.0f} {count / after:11,.0f} "
                  f"{before / after:8.2f}x")


if __name__ == "__main__":
    main()
