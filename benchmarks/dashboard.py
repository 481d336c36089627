"""The dashboard's cost in a real terminal, side by side with a floor and with no UI at all.

Every process runs in its own tmux window (a real pty, so Textual really renders and writes the
screen), CPU is read from /proc over the same seconds:

1. the dashboard on `demo` (three simulated venues, about 100 msg/s) at 160x50,
2. the floor: the same feeds and engine, eight Line API panels, only changed lines refreshed
   (benchmarks/floor_app.py),
3. the same feeds headless (no UI),
4. the dashboard at rest: a replay of a quiet capture (one trade every 5 s),
5. under load (in process): a capture paced at 5,000 trades/s replayed at 1x; how far the engine
   trails the capture clock and how often the view refreshed.

    python benchmarks/dashboard.py [--seconds 30] [--rate 50] [--size 160x50]
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import os
import shlex
import subprocess
import sys
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
CLI = [sys.executable, "-m", "orderflow_tui"]
TICKS = os.sysconf("SC_CLK_TCK")


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


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


def in_tmux(cmd: list[str], size: str, warmup: float, seconds: float) -> dict:
    """Run ``cmd`` in a detached tmux session of ``size``; CPU % of a core over ``seconds``."""
    name = f"bench{os.getpid()}{int(time.monotonic() * 1000) % 100000}"
    w, h = size.split("x")
    subprocess.run(["tmux", "new-session", "-d", "-s", name, "-x", w, "-y", h, "exec " + shlex.join(cmd)], check=True)
    try:
        pid = int(subprocess.run(["tmux", "list-panes", "-t", name, "-F", "#{pane_pid}"], check=True,
                                 capture_output=True, text=True).stdout.split()[0])
        time.sleep(warmup)
        c0, t0 = cpu_seconds(pid), time.monotonic()
        time.sleep(seconds)
        c1, t1 = cpu_seconds(pid), time.monotonic()
        screen = subprocess.run(["tmux", "capture-pane", "-p", "-t", name], capture_output=True, text=True).stdout
    finally:
        subprocess.run(["tmux", "kill-session", "-t", name], capture_output=True)
    return {"cpu_pct": (c1 - c0) / (t1 - t0) * 100, "screen": screen}


def msgs_per_s(screen: str) -> float:
    """The venues' msg/s as the status line shows them."""
    import re

    return sum(float(x) for x in re.findall(r"(?:LIVE|SIMULATED) (\d+)/s", screen))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--rate", type=float, default=50.0, help="demo base rate (50: about 100 msg/s)")
    ap.add_argument("--size", default="160x50")
    args = ap.parse_args()
    rate = str(args.rate)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        dash = in_tmux([*CLI, "demo", "--no-store", "--rate", rate], args.size, 8, args.seconds)
        rows.append(("dashboard on demo", dash["cpu_pct"], f"{msgs_per_s(dash['screen']):.0f} msg/s"))
        floor = in_tmux([sys.executable, str(ROOT / "benchmarks" / "floor_app.py"), "--rate", rate], args.size, 8,
                        args.seconds)
        rows.append(("floor (Line API, same feeds)", floor["cpu_pct"], ""))
        head = in_tmux([*CLI, "demo", "--headless", "--no-store", "--rate", rate], args.size, 8, args.seconds)
        rows.append(("same feeds headless", head["cpu_pct"], ""))
        quiet = Path(tmp) / "quiet.jsonl"
        paced_capture(quiet, 0.2, args.seconds + 20)
        rest = in_tmux([*CLI, "replay", str(quiet), "--no-store", "--speed", "1"], args.size, 8, args.seconds)
        rows.append(("dashboard at rest (1 trade / 5 s)", rest["cpu_pct"], ""))
        busy = Path(tmp) / "busy.jsonl"
        paced_capture(busy, 5000, args.seconds)
        load = asyncio.run(under_load(busy, args.seconds))
    print(f"terminal {args.size}, {args.seconds:.0f} s each, demo --rate {rate}\n")
    print(f"{'case':36} {'CPU % of a core':>16} {'x floor':>8}  note")
    for name, cpu, note in rows:
        print(f"{name:36} {cpu:>16.1f} {cpu / floor['cpu_pct']:>8.2f}  {note}")
    print(f"\n{'5,000 trades/s replayed at 1x':36} trades {load['trades']:,}  engine lag p50 {load['lag_p50']:.2f} s  "
          f"max {load['lag_max']:.2f} s  view refreshes {load['refresh_hz']:.1f}/s")


if __name__ == "__main__":
    main()
