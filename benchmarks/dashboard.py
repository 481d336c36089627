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

With ``--books`` it measures instead the cost of the order books (issue 21), every case in its own
tmux session, all running side by side over the same seconds: `demo` on three venues with books off
(``feeds.books = false``), with books on in the snapshot view, in the footprint view (the DOM
ladder) and in the heatmap view. ``--rss MINUTES`` runs `demo` for that long with books on and the
heatmap open, beside `demo` with books off, and prints both RSS every 30 s.

With ``--groups N`` (issue 23) instead: the dashboard on `demo` with one group and with N groups on
three venues, in the snapshot view and in the comparison view (``c``), each case twice and
interleaved (the machine is shared: the ratio of medians is the figure); RSS sampled every 10 s.
``--memory-minutes M`` then runs the N-group dashboard for M minutes and prints RSS over time.

    python benchmarks/dashboard.py --groups 20 [--seconds 30] [--memory-minutes 10]
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


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def tmux_session(name: str, cmd: list[str], size: str, env: dict | None = None) -> int:
    """``cmd`` in a detached tmux session of ``size`` (WxH), ``env`` set for it; the pid it runs as."""
    w, h = size.split("x")
    prefix = "exec env " + " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items()) + " " if env else "exec "
    subprocess.run(["tmux", "new-session", "-d", "-s", name, "-x", w, "-y", h, prefix + shlex.join(cmd)], check=True)
    return int(subprocess.run(["tmux", "list-panes", "-t", name, "-F", "#{pane_pid}"], check=True,
                              capture_output=True, text=True).stdout.split()[0])


def in_tmux(cmd: list[str], size: str, warmup: float, seconds: float, keys: str = "",
            env: dict | None = None, rss_every: float = 0.0) -> dict:
    """Run ``cmd`` in a detached tmux session of ``size``; CPU % of a core over ``seconds``.
    ``keys`` are typed once the app is up (half the warm-up), ``env`` set for the command; RSS
    samples (s, MB) every ``rss_every`` seconds."""
    rss = []
    name = f"bench{os.getpid()}{int(time.monotonic() * 1000) % 100000}"
    pid = tmux_session(name, cmd, size, env)
    try:
        if keys:
            time.sleep(warmup / 2)
            for key in keys:
                subprocess.run(["tmux", "send-keys", "-t", name, key], check=True)
            time.sleep(warmup / 2)
        else:
            time.sleep(warmup)
        c0, t0 = cpu_seconds(pid), time.monotonic()
        while time.monotonic() - t0 < seconds:
            time.sleep(min(rss_every or seconds, max(0.0, seconds - (time.monotonic() - t0))))
            if rss_every:
                rss.append((time.monotonic() - t0, rss_mb(pid)))
        c1, t1 = cpu_seconds(pid), time.monotonic()
        screen = subprocess.run(["tmux", "capture-pane", "-p", "-t", name], capture_output=True, text=True).stdout
    finally:
        subprocess.run(["tmux", "kill-session", "-t", name], capture_output=True)
    return {"cpu_pct": (c1 - c0) / (t1 - t0) * 100, "screen": screen, "rss": rss}


def many_groups(args) -> None:
    """One group vs N groups on three simulated venues, interleaved, in the snapshot and comparison views."""
    from orderflow_tui.sim.market_model import DEMO_PRICES

    groups = ",".join(list(DEMO_PRICES)[:args.groups])
    rate = str(args.rate)
    cases = {"1 group, snapshot view": ("BTC", ""), f"{args.groups} groups, snapshot view": (groups, ""),
             f"{args.groups} groups, comparison view": (groups, "c")}
    runs: dict[str, list] = {k: [] for k in cases}
    for _ in range(2):
        for name, (g, keys) in cases.items():
            r = in_tmux([*CLI, "demo", "--no-store", "--rate", rate, "--group", g], args.size, 10, args.seconds,
                        keys, rss_every=10)
            runs[name].append(r)
    base = sorted(r["cpu_pct"] for r in runs["1 group, snapshot view"])
    base_cpu = (base[0] + base[-1]) / 2
    print(f"terminal {args.size}, {args.seconds:.0f} s each, twice interleaved, demo --rate {rate}, three venues\n")
    print(f"{'case':34} {'CPU % (runs)':>22} {'x 1 group':>10} {'msg/s':>7} {'RSS MB first..last':>20}")
    for name, rs in runs.items():
        cpus = [r["cpu_pct"] for r in rs]
        mean = sum(cpus) / len(cpus)
        rss = rs[-1]["rss"]
        print(f"{name:34} {mean:>8.1f} ({', '.join(f'{c:.1f}' for c in cpus)})".ljust(57) +
              f" {mean / base_cpu:>10.2f} {msgs_per_s(rs[-1]['screen']):>7.0f} "
              f"{rss[0][1]:>9.1f}..{rss[-1][1]:.1f}")
    if args.memory_minutes:
        r = in_tmux([*CLI, "demo", "--no-store", "--rate", rate, "--group", groups], args.size, 10,
                    args.memory_minutes * 60, "c", rss_every=30)
        print(f"\n{args.groups} groups for {args.memory_minutes:g} min (comparison view): CPU {r['cpu_pct']:.1f} %, RSS MB:")
        print("  " + "  ".join(f"{t / 60:.1f}m {mb:.1f}" for t, mb in r["rss"]))


def msgs_per_s(screen: str) -> float:
    """The venues' msg/s as the status line shows them."""
    import re

    return sum(float(x) for x in re.findall(r"(?:LIVE|SIMULATED) (\d+)/s", screen))


def side_by_side(cases, size: str, warmup: float, seconds: float) -> list[dict]:
    """Each (cmd, keys, env) in its own tmux session, all at once, CPU read over the same seconds: on
    a shared machine a case run after another meets another load."""
    names, pids = [], []
    try:
        for i, (cmd, keys, env) in enumerate(cases):
            names.append(f"bench{os.getpid()}x{i}")
            pids.append(tmux_session(names[-1], cmd, size, env))
        time.sleep(warmup / 2)
        for name, (_, keys, _) in zip(names, cases):
            for key in keys:
                subprocess.run(["tmux", "send-keys", "-t", name, key], check=True)
        time.sleep(warmup / 2)
        c0, t0 = [cpu_seconds(p) for p in pids], time.monotonic()
        time.sleep(seconds)
        c1, t1 = [cpu_seconds(p) for p in pids], time.monotonic()
        screens = [subprocess.run(["tmux", "capture-pane", "-p", "-t", n], capture_output=True, text=True).stdout
                   for n in names]
    finally:
        for name in names:
            subprocess.run(["tmux", "kill-session", "-t", name], capture_output=True)
    return [{"cpu_pct": (b - a) / (t1 - t0) * 100, "screen": s} for a, b, s in zip(c0, c1, screens)]


def books(args) -> None:
    """The order books' cost: demo on three venues, books off against books on in each view, all
    five running side by side over the same seconds."""
    cmd = [*CLI, "demo", "--no-store", "--rate", str(args.rate), "--venues", "binance,bybit,okx"]
    off = {"ORDERFLOW_FEEDS_BOOKS": "false"}
    cases = [("books off, snapshot view", off, ""), ("books on, snapshot view", {}, ""),
             ("books off, footprint view", off, "f"), ("books on, footprint + DOM (f)", {}, "f"),
             ("books on, heatmap (h)", {}, "h")]
    results = side_by_side([(cmd, keys, env) for _, env, keys in cases], args.size, 12, args.seconds)
    rows = [(name, r["cpu_pct"], msgs_per_s(r["screen"])) for (name, _, _), r in zip(cases, results)]
    base = {"snapshot": rows[0][1], "footprint": rows[2][1]}
    print(f"terminal {args.size}, the five cases side by side over the same {args.seconds:.0f} s, demo --rate "
          f"{args.rate} on binance, bybit, okx (a shared machine: compare the ratios)\n")
    print(f"{'case':32} {'CPU % of a core':>16} {'x books off':>12} {'msg/s':>7}")
    for name, cpu, msgs in rows:
        ref = base["footprint"] if "footprint" in name else base["snapshot"]
        print(f"{name:32} {cpu:>16.1f} {cpu / ref:>12.2f} {msgs:>7.0f}")


def rss(args) -> None:
    """demo on three venues for ``args.rss`` minutes, side by side: books on with the heatmap open,
    and books off; the RSS of each every 30 s (the books' memory must stay flat, not grow)."""
    cmd = [*CLI, "demo", "--no-store", "--rate", str(args.rate), "--venues", "binance,bybit,okx"]
    cases = [("books on, heatmap", {}, "h"), ("books off", {"ORDERFLOW_FEEDS_BOOKS": "false"}, "")]
    names, pids = [], []
    try:
        for i, (_, env, _) in enumerate(cases):
            names.append(f"rss{os.getpid()}x{i}")
            pids.append(tmux_session(names[-1], cmd, args.size, env))
        time.sleep(5)
        for name, (_, _, keys) in zip(names, cases):
            for key in keys:
                subprocess.run(["tmux", "send-keys", "-t", name, key], check=True)
        print("minute  " + "  ".join(f"{c[0] + ' RSS MB':>24}" for c in cases))
        start = time.monotonic()
        while time.monotonic() - start < args.rss * 60:
            mbs = [rss_mb(pid) for pid in pids]
            print(f"{(time.monotonic() - start) / 60:6.1f}  " + "  ".join(f"{mb:>24.1f}" for mb in mbs), flush=True)
            time.sleep(30)
    finally:
        for name in names:
            subprocess.run(["tmux", "kill-session", "-t", name], capture_output=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--rate", type=float, default=50.0, help="demo base rate (50: about 100 msg/s)")
    ap.add_argument("--size", default="160x50")
    ap.add_argument("--books", action="store_true", help="the order books' cost: books off / on, per view")
    ap.add_argument("--rss", type=float, default=0.0, help="minutes of demo with the heatmap open, RSS printed")
    ap.add_argument("--groups", type=int, default=0, help="compare one group with this many (issue 23)")
    ap.add_argument("--memory-minutes", type=float, default=0.0, help="with --groups: RSS over this many minutes")
    args = ap.parse_args()
    if args.groups:
        return many_groups(args)
    if args.books:
        return books(args)
    if args.rss:
        return rss(args)
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
