"""The accumulated view on a year of liquidations: store size, `stats --json`, each store read and
each chart draw at 200x60, and a retention pass.

Builds the store the way a user would: a generated capture (a year of liquidations, ~150 a day on
Binance, Bybit and OKX in their own frame formats, bursts that make cascades, a Binance trade every
30 minutes for the price) replayed through the parsers, the engine and the store writer. Then times:

- `orderflow-tui stats --json` end to end (a new process, as a user runs it), beside
  `orderflow-tui stats --help` (the same process start without the store: the baseline);
- in process: the totals alone (what `stats --json` read before the analysis keys) and totals plus
  the analysis (contract §3b);
- the accumulated view's store read per range (24h, 7d, 30d, all) and each chart's draw at 200x60;
- the same eight charts through the app (Textual Pilot at 200x60: key press to painted);
- `apply_retention` (90 days raw, 730 days rollups) on the year, in a thread, with the event loop's
  worst lateness meanwhile.

    python benchmarks/accumulated.py [--days 365] [--per-day 150] [--keep DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

H = 3_600_000
D = 24 * H
TARGETS = {"stats": 1.0, "chart": 0.3, "bytes_per_liq": 2048}


def frames(days: int, per_day: int, seed: int = 11):
    """(t, venue, frame text) in time order, ending now."""
    rnd = random.Random(seed)
    end = int(time.time() * 1000) // H * H
    start = end - days * D
    price, t, out = 42_000.0, start, []
    trade_id = 1
    next_trade = start
    while True:
        # quiet liquidations, with a burst now and then (a cascade: >= 5 within 60 s, >= $100K)
        t += int(rnd.expovariate(per_day / D)) + 1
        if t >= end:
            break
        while next_trade <= t:
            price *= math.exp(rnd.gauss(0, 0.003))
            out.append((next_trade, "binance", json.dumps({"stream": "btcusdt@aggTrade", "data": {
                "e": "aggTrade", "E": next_trade, "s": "BTCUSDT", "a": trade_id, "p": f"{price:.1f}",
                "q": "0.250", "f": trade_id, "l": trade_id, "T": next_trade, "m": rnd.random() < 0.5}})))
            trade_id += 1
            next_trade += 30 * 60_000
        burst = rnd.random() < 0.02
        for k in range(rnd.randint(6, 14) if burst else 1):
            ts = t + k * rnd.randint(500, 4000)
            venue = rnd.choice(("binance", "bybit", "okx"))
            long = rnd.random() < 0.55
            px = f"{price * (1 + rnd.uniform(-0.002, 0.002)):.1f}"
            qty = max(0.001, round(rnd.lognormvariate(-1.2 if burst else -1.8, 1.0), 3))
            if venue == "binance":
                f = {"stream": "btcusdt@forceOrder", "data": {"e": "forceOrder", "E": ts, "o": {
                    "s": "BTCUSDT", "S": "SELL" if long else "BUY", "q": str(qty), "p": px, "ap": px, "X": "FILLED",
                    "l": str(qty), "z": str(qty), "T": ts}}}
            elif venue == "bybit":
                f = {"topic": "allLiquidation.BTCUSDT", "type": "snapshot", "ts": ts,
                     "data": [{"T": ts, "s": "BTCUSDT", "S": "Buy" if long else "Sell", "v": str(qty), "p": px}]}
            else:
                f = {"arg": {"channel": "liquidation-orders", "instType": "SWAP"}, "data": [{"details": [{
                    "bkPx": px, "posSide": "long" if long else "short", "side": "sell" if long else "buy",
                    "sz": str(max(1, round(qty * 100))), "ts": str(ts)}], "instId": "BTC-USDT-SWAP"}]}
            out.append((ts, venue, json.dumps(f)))
        if burst:
            t = ts
    out.sort(key=lambda f: f[0])
    return out, start


def write_capture(path: Path, items, started: int) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(json.dumps({"capture": "orderflow-tui", "version": 1, "started_ms": started, "instruments": {}})
                 + "\n")
        for t, x, f in items:
            fh.write(json.dumps({"t": t, "x": x, "f": f}) + "\n")


def build(db: Path, cap: Path) -> tuple[float, int]:
    from orderflow_tui.capture import CaptureReader
    from orderflow_tui.engine.engine import Engine
    from orderflow_tui.replay import replay_capture
    from orderflow_tui.store.sync import SyncStoreWriter

    t0 = time.perf_counter()
    engine = Engine(report_tf="1m", collect_facts=True)
    writer = SyncStoreWriter(db, "live", mode="live")  # as a year of live runs would have written it
    with CaptureReader(cap) as reader:
        replay_capture(reader, engine, on_batch=writer.absorb_sync)
    writer.close_sync(engine)
    return time.perf_counter() - t0, writer.committed


def cli_seconds(*args, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "orderflow_tui", *args], check=True, capture_output=True)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def best(fn, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


async def app_draws(db: Path, now_ms: int) -> tuple[float, dict]:
    from orderflow_tui import config
    from orderflow_tui.engine.engine import Engine
    from orderflow_tui.ui.app import OrderflowApp

    settings = config.Settings()
    app = OrderflowApp(settings, Engine(settings.engine), None, store_path=db, groups=["BTC"], mode="LIVE",
                       clock=lambda: now_ms / 1000)
    app.range_name = "all"
    out = {}
    async with app.run_test(size=(200, 60)) as pilot:
        t0 = time.perf_counter()
        await pilot.press("a")
        while app.acc[1] is None:
            await pilot.pause(0.01)
        await pilot.pause()
        opened = time.perf_counter() - t0
        for n in range(1, 9):
            t0 = time.perf_counter()
            await pilot.press(str(n))
            await pilot.pause()
            out[n] = time.perf_counter() - t0
            t0 = time.perf_counter()
            await pilot.press(str(n))  # the same key again: nothing to draw (the Pilot's own cost)
            await pilot.pause()
            out[-n] = time.perf_counter() - t0
    return opened, out


async def prune_stall(db: Path) -> tuple[float, float, int]:
    from orderflow_tui.store.db import apply_retention, connect

    lateness, removed = [], 0
    done = asyncio.Event()

    def prune():
        conn = connect(db)
        try:
            return apply_retention(conn, 90, 730, int(time.time() * 1000))
        finally:
            conn.close()

    async def ticker():
        while not done.is_set():
            t0 = time.perf_counter()
            await asyncio.sleep(0.001)
            lateness.append(time.perf_counter() - t0 - 0.001)

    tick = asyncio.create_task(ticker())
    t0 = time.perf_counter()
    removed = await asyncio.to_thread(prune)
    took = time.perf_counter() - t0
    done.set()
    await tick
    return took, max(lateness, default=0.0), removed


def day_size(liqs: int, seed: int = 5) -> int:
    """Bytes one UTC day adds to a store for BTC and ETH on six venues: ``liqs`` liquidations,
    traded volume per market and hour, open interest and funding per market and minute, ~50
    cascades, written through the store's own write path (then the WAL checkpointed)."""
    from orderflow_tui.store.db import Batch, connect, write_batch

    rnd = random.Random(seed)
    venues = ("binance", "bybit", "okx", "coinbase", "hyperliquid", "bitget")
    groups = {"BTC": (60_000.0, 100.0), "ETH": (3_000.0, 10.0)}
    day0 = 1_800_000_000_000 // D * D
    batch = Batch()
    for i in range(liqs):
        t = day0 + rnd.randrange(D)
        g = "BTC" if i % 3 else "ETH"
        price, bucket = groups[g]
        v = venues[i % 6]
        px = round(price * (1 + rnd.uniform(-0.02, 0.02)), 1)
        qty = round(rnd.lognormvariate(-1.5, 1.2), 4) or 0.0001
        batch.liquidations.append(("live", v, f"{g}USDT", t, "long" if rnd.random() < 0.5 else "short", px, qty,
                                   px * qty, 0, g, "", bucket, math.floor(px / bucket) * bucket))
    for g, (price, _) in groups.items():
        for v in venues:
            for h in range(24):
                batch.volumes.append(("live", day0 + h * H, v, f"{g}USDT", g, 50_000, 500.0, 500.0, 500 * price,
                                      500 * price))
            for m in range(1440):
                batch.context.append(("live", day0 + m * 60_000, v, f"{g}USDT", g, 50_000.0, 50_000.0 * price,
                                      0.0001, 8.0))
        for k in range(25):
            t = day0 + rnd.randrange(D)
            batch.cascades.append(("live", g, t, t + 120_000, 12, 500_000.0, 300_000.0, 200_000.0,
                                   "binance,bybit", 1, 0.9, "moderate"))
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "day.sqlite"
        conn = connect(db)
        empty = os.path.getsize(db)
        write_batch(conn, batch)
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.close()
        return os.path.getsize(db) - empty


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--per-day", type=int, default=150)
    ap.add_argument("--keep", type=Path, help="build the store in this directory and keep it")
    a = ap.parse_args()
    from orderflow_tui import config
    from orderflow_tui.store.analysis import desk
    from orderflow_tui.store.db import accumulated, connect
    from orderflow_tui.ui.views.accumulated_view import _CACHE, read_store
    from orderflow_tui.ui.widgets.accumulated_panel import CHARTS

    tmp = tempfile.TemporaryDirectory()
    folder = a.keep or Path(tmp.name)
    folder.mkdir(parents=True, exist_ok=True)
    cap, db = folder / "year.jsonl", folder / "year.sqlite"
    for p in (db, Path(f"{db}-wal"), Path(f"{db}-shm")):
        p.unlink(missing_ok=True)
    t0 = time.perf_counter()
    items, _ = frames(a.days, a.per_day)
    write_capture(cap, items, items[0][0])
    gen_s = time.perf_counter() - t0
    build_s, liqs = build(db, cap)
    conn = connect(db)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    cascades = conn.execute("SELECT COUNT(*) FROM cascades WHERE end_ts IS NOT NULL").fetchone()[0]
    hours = conn.execute("SELECT COUNT(*) FROM liq_hours").fetchone()[0]
    conn.close()
    size = os.path.getsize(db)
    rows = [("capture", f"{len(items):,} frames ({liqs:,} liquidations, {cascades:,} cascades) in {gen_s:.1f} s", ""),
            ("replay into the store", f"{build_s:.1f} s", ""),
            ("store size", f"{size / 1e6:.1f} MB = {size / liqs:,.0f} B per liquidation ({hours:,} hour rows)",
             f"< {TARGETS['bytes_per_liq']} B")]
    base = cli_seconds("stats", "--help")
    full = cli_seconds("stats", "--db", str(db), "--json")
    rows += [("`stats --help` (process start)", f"{base:.2f} s", "baseline"),
             ("`stats --json` on the year", f"{full:.2f} s ({full / base:.1f}x the baseline)", "< 1 s")]
    conn = connect(db, readonly=True)
    totals = best(lambda: accumulated(conn))
    both = best(lambda: (accumulated(conn), desk(conn, first_group="BTC").as_json()))
    conn.close()
    rows += [("in process: totals (before §3b)", f"{totals * 1000:.0f} ms", "baseline"),
             ("in process: totals + §3b analysis", f"{both * 1000:.0f} ms ({both / totals:.1f}x)", "")]
    settings = config.Settings()
    now = int(time.time() * 1000)
    worst = 0.0
    for rng in ("24h", "7d", "30d", "all"):
        def read():
            _CACHE.clear()
            return read_store(db, "BTC", rng, now, None, settings)
        took = best(read)
        _, data = read()
        rows.append((f"view read, range {rng}", f"{took * 1000:.0f} ms", "< 1 s"))
        if rng in ("30d", "all"):
            draws = []
            for n, (name, _, fn) in CHARTS.items():
                draws.append(best(lambda fn=fn: fn(data, 148, 36)))
            worst = max(worst, max(draws))
            rows.append((f"chart draws 1-8 at 200x60, {rng}", " ".join(f"{d * 1000:.0f}" for d in draws) + " ms",
                         "< 300 ms each"))
    opened, presses = asyncio.run(app_draws(db, now))
    rows.append(("app: a (all) until drawn, 200x60", f"{opened * 1000:.0f} ms", "< 1 s"))
    rows.append(("app: keys 1-8 until painted", " ".join(f"{presses[n] * 1000:.0f}" for n in range(1, 9)) + " ms",
                 "< 300 ms each"))
    rows.append(("app: the same key again (baseline)", " ".join(f"{presses[-n] * 1000:.0f}" for n in range(1, 9))
                 + " ms", "baseline"))
    took, late, removed = asyncio.run(prune_stall(db))
    rows.append(("retention 90 d / 730 d (thread)", f"{took * 1000:.0f} ms, {removed:,} rows; loop late "
                 f"{late * 1000:.1f} ms at most", ""))
    for liqs in (2_000, 20_000):
        size = day_size(liqs)
        rows.append((f"one day, BTC+ETH on six venues, {liqs:,} liq.", f"{size / 1e6:.2f} MB "
                     f"({size * 365 / 1e9:.2f} GB a year)", "volume/h, OI/min per market"))
    width = max(len(r[0]) for r in rows)
    print(f"accumulated view on {a.days} days x ~{a.per_day}/day (machine load {os.getloadavg()[0]:.1f}; "
          f"{os.cpu_count()} cores)")
    for name, value, target in rows:
        print(f"  {name:<{width}}  {value}" + (f"   [{target}]" if target else ""))


if __name__ == "__main__":
    main()
