"""The dashboard under load and at rest (headless Textual, the real app and replay source).

1. A capture paced at 5,000 trades/s (the real Binance recording, times compressed) replayed at
   1x: every 0.5 s, how far the engine's position trails the capture clock.
2. A quiet feed (one trade every 5 s): CPU used by the whole process over 30 s.

    python benchmarks/dashboard.py [--seconds 30]
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import tempfile
import time
from pathlib import Path

import orjson

from orderflow_tui import config
from orderflow_tui.engine.engine import Engine
from orderflow_tui.feeds.replay_source import ReplaySource
from orderflow_tui.ui.app import OrderflowApp

ROOT = Path(__file__).resolve().parents[1]
RECORDING = ROOT.parent / "shared/data/hftbacktest/extracted/usdm_btcusdt_20240808_trades_only.txt.gz"


def paced_capture(path: Path, rate: float, seconds: float) -> None:
    base = []
    with gzip.open(RECORDING, "rt") as fh:
        for line in fh:
            base.append(json.loads(line.partition(" ")[2]))
    n = int(rate * seconds)
    t0 = 1_723_161_256_000
    with open(path, "wb") as out:
        out.write(orjson.dumps({"capture": "orderflow-tui", "version": 1, "started_ms": t0, "instruments": {}}) + b"\n")
        for i in range(n):
            msg = base[i % len(base)]
            d = dict(msg["data"])
            t = t0 + int(i * 1000 / rate)
            d["T"] = d["E"] = t
            d["t"] = 5_000_000_000 + i
            out.write(orjson.dumps({"t": t, "x": "binance", "f": orjson.dumps({"stream": msg["stream"], "data": d})
                                    .decode()}) + b"\n")


async def under_load(capture: Path, seconds: float) -> dict:
    settings = config.Settings()
    app = OrderflowApp(settings, Engine(settings.engine, row_divisor=10), ReplaySource(capture, 1.0),
                       groups=["BTC"], mode="REPLAY")
    lags = []
    async with app.run_test(size=(200, 60)) as pilot:
        start = None
        t0 = 1_723_161_256_000
        rendered0 = app.rendered
        while not app.source.done:
            await pilot.pause(0.5)
            pos = app.source.position_ms
            if pos and start is None:
                start = time.monotonic() - (pos - t0) / 1000
            if start is not None:
                lags.append((time.monotonic() - start) - (pos - t0) / 1000)
        elapsed = time.monotonic() - start
        refreshes = app.rendered - rendered0
        trades = sum(m.trades for m in app.engine.markets.values())
    lags.sort()
    return {"trades": trades, "elapsed": elapsed, "lag_max": lags[-1], "lag_p50": lags[len(lags) // 2],
            "refresh_hz": refreshes / elapsed}


async def at_rest(capture: Path, seconds: float) -> dict:
    settings = config.Settings()
    app = OrderflowApp(settings, Engine(settings.engine, row_divisor=10), ReplaySource(capture, 1.0),
                       groups=["BTC"], mode="REPLAY")
    async with app.run_test(size=(200, 60)) as pilot:
        await pilot.pause(2.0)
        cpu0, wall0 = time.process_time(), time.monotonic()
        await pilot.pause(seconds)
        cpu, wall = time.process_time() - cpu0, time.monotonic() - wall0
    return {"cpu_pct": cpu / wall * 100}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=30.0)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        busy = Path(tmp) / "busy.jsonl"
        paced_capture(busy, 5000, args.seconds)
        quiet = Path(tmp) / "quiet.jsonl"
        paced_capture(quiet, 0.2, args.seconds + 10)
        load = asyncio.run(under_load(busy, args.seconds))
        rest = asyncio.run(at_rest(quiet, args.seconds))
    print(f"{'case':34} {'trades':>8} {'lag p50':>8} {'lag max':>8} {'refresh/s':>10} {'CPU %':>6}")
    print(f"{'5,000 trades/s replayed at 1x':34} {load['trades']:>8,} {load['lag_p50']:>7.2f}s {load['lag_max']:>7.2f}s "
          f"{load['refresh_hz']:>10.1f} {'':>6}")
    print(f"{'quiet feed (1 trade / 5 s)':34} {'':>8} {'':>8} {'':>8} {'':>10} {rest['cpu_pct']:>6.1f}")


if __name__ == "__main__":
    main()
