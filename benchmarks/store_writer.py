"""Store writer throughput and event-loop stalls.

A producer pushes liquidations into the engine as fast as it can, in 1 ms slices, while the app's
AsyncStoreWriter commits once per second and a ticker measures how late a 1 ms sleep wakes up
(the event-loop stall the writer causes). Prints liquidations/s and bucket updates/s absorbed.

    python benchmarks/store_writer.py [--seconds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import tempfile
import time
from pathlib import Path

from orderflow_tui.engine.engine import Engine
from orderflow_tui.events import Liquidation
from orderflow_tui.store.writer import AsyncStoreWriter

VENUES = (("binance", "BTCUSDT"), ("bybit", "BTCUSDT"), ("okx", "BTC-USDT-SWAP"), ("binance", "ETHUSDT"))


async def run(seconds: float, rate: int | None) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.sqlite"
        engine = Engine(collect_facts=True)
        engine.s.cascade_min_count = 10**9  # measure the store, not cascade alerts
        writer = AsyncStoreWriter(db, engine, "bench", "bench", "all", interval_s=1.0)
        await writer.open()
        task = asyncio.create_task(writer.run())
        lateness = []
        stop = time.monotonic() + seconds

        async def ticker():
            while time.monotonic() < stop:
                t0 = time.perf_counter()
                await asyncio.sleep(0.001)
                lateness.append(time.perf_counter() - t0 - 0.001)

        async def producer():
            ts, n = 1_700_000_000_000, 0
            while time.monotonic() < stop:
                t0 = time.perf_counter()
                burst = 200 if rate is None else max(1, rate // 1000)
                for _ in range(burst):
                    ts += 7
                    venue, symbol = VENUES[n % 4]
                    engine.on_liquidation(Liquidation(f"{venue}:{symbol}", venue, symbol, ts, 60000.0 + n % 500,
                                                      0.01 * (1 + n % 7), 600.0 * (1 + n % 7), n % 3 == 0,
                                                      venue != "bybit"))
                    n += 1
                await asyncio.sleep(max(0.0, 0.001 - (time.perf_counter() - t0)))
            return n

        tick = asyncio.create_task(ticker())
        produced = await producer()
        await tick
        writer.stop()
        await task
        t0 = time.perf_counter()
        await writer.close()
        final_flush = time.perf_counter() - t0
        conn = sqlite3.connect(db)
        stored = conn.execute("SELECT COUNT(*) FROM liquidations").fetchone()[0]
        buckets = conn.execute("SELECT SUM(count) FROM liq_minutes").fetchone()[0]
        conn.close()
        lateness.sort()
        return {"produced": produced, "stored": stored, "bucket_updates": buckets, "seconds": seconds,
                "stall_max_ms": lateness[-1] * 1000, "stall_p99_ms": lateness[int(len(lateness) * 0.99)] * 1000,
                "commit_max_ms": writer.longest_commit_ms, "final_flush_s": final_flush}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=10.0)
    print("(max: the producer itself holds the loop for several ms per slice; that row shows throughput)")
    args = ap.parse_args()
    print(f"{'producer':>16} {'liq/s stored':>13} {'bucket upd/s':>13} {'loop stall max':>15} {'p99':>8} "
          f"{'longest commit':>15}")
    for rate in (1000, 10_000, None):
        r = asyncio.run(run(args.seconds, rate))
        assert r["stored"] == r["produced"], r
        label = "max" if rate is None else f"{rate:,}/s"
        print(f"{label:>16} {r['stored'] / r['seconds']:>13,.0f} {r['bucket_updates'] / r['seconds']:>13,.0f} "
              f"{r['stall_max_ms']:>12.2f} ms {r['stall_p99_ms']:>5.2f} ms {r['commit_max_ms']:>12.1f} ms")


if __name__ == "__main__":
    main()
