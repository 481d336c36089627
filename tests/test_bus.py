"""Collectors -> NATS JetStream -> viewers, against a real nats-server and the simulated venues on 127.0.0.1.

A viewer rebuilds the session from the stream with the same engine: its report equals that of one
process fed the same frames; restarts of the viewer, a collector or the server lose and double nothing.
"""

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from orderflow_tui import config
from orderflow_tui.bus import codec
from orderflow_tui.bus.attach import BusSource, stream_last_seq
from orderflow_tui.bus.collector import Collector
from orderflow_tui.bus.stream import BusSettings
from orderflow_tui.capture import CaptureReader, CaptureWriter
from orderflow_tui.engine.engine import Engine
from orderflow_tui.events import Context, IdOnly, Liquidation, Trade
from orderflow_tui.replay import ReplayStats, replay_capture
from orderflow_tui.report import build_report
from orderflow_tui.sim.exchange_sim import SYMBOLS, DemoExchange
from servers import nats_server, pg_dsn, postgres_server  # noqa: F401  (fixtures)

VENUES = ("binance", "bybit")


def settings_for(venue, exchange):
    s = config.Settings()
    s.feeds.venues = venue
    s.feeds.reconnect_min_s = 0.05
    s.feeds.reconnect_max_s = 0.3
    s.feeds.stale_after_s = 1.5
    exchange.endpoints(s)
    return s


async def wait_for(cond, timeout=20.0, what="condition"):
    deadline = asyncio.get_running_loop().time() + timeout
    while not cond():
        assert asyncio.get_running_loop().time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)


class Viewer:
    def __init__(self, bus, **kw):
        self.source = BusSource(bus, **kw)
        self.engine = Engine(report_tf="1m")
        self.task = asyncio.create_task(self.source.run(self.engine))

    async def kill(self):
        self.task.cancel()
        await asyncio.wait_for(asyncio.gather(self.task, return_exceptions=True), 15)

    async def caught_up(self, bus):
        last = await stream_last_seq(bus)
        await wait_for(lambda: self.source.last_seq >= last, what="the viewer to catch up")

    def report(self):
        stats = ReplayStats()
        stats.frames, stats.rejected = self.source.frames()
        self.engine.finish()
        return build_report(self.engine, stats, self.source.instruments)


async def start_collector(venue, exchange, bus, recorder=None):
    c = Collector(settings_for(venue, exchange), bus, recorder=recorder, name=f"test-{venue}")
    return c, asyncio.create_task(c.run())


async def stop_collector(c, task):
    assert await c.stop(10.0)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


def test_codec_round_trip_and_natural_keys():
    t = Trade("binance:BTCUSDT", "binance", "BTCUSDT", 1700000000123, 61234.1, 0.001, 61.2341, True, 42)
    subject, payload, msg_id = codec.encode(t)
    assert subject == "flow.binance.BTCUSDT.trade" and msg_id == "t:binance:BTCUSDT:42"
    back = codec.decode(payload)
    assert (back.market, back.ts, back.price, back.qty, back.quote, back.is_buy, back.trade_id) == \
        (t.market, t.ts, t.price, t.qty, t.quote, t.is_buy, 42)
    liq = Liquidation("okx:BTC-USDT-SWAP", "okx", "BTC-USDT-SWAP", 5, 0.1 + 0.2, 3.0, 0.9000000000000001, False, True)
    subject, payload, msg_id = codec.encode(liq)
    assert subject == "flow.okx.BTC-USDT-SWAP.liquidation"
    assert msg_id == "l:okx:BTC-USDT-SWAP:5:short:0.30000000000000004:3.0"
    assert codec.decode(payload).price == 0.1 + 0.2  # shortest round-trip text: the very same double
    subject, payload, msg_id = codec.encode(IdOnly("binance:BTCUSDT", 7))
    assert msg_id == "i:binance:BTCUSDT:7" and codec.decode(payload).trade_id == 7
    ctx = Context("bybit:BTCUSDT", "bybit", "BTCUSDT", 9, oi_base=1.5, funding=0.0001, next_ts=10)
    subject, payload, msg_id = codec.encode(ctx)
    back = codec.decode(payload)
    assert subject == "flow.bybit.BTCUSDT.context" and (back.oi_base, back.oi_usd, back.funding, back.next_ts) == \
        (1.5, None, 0.0001, 10)
    for bad in (b"", b"{}", b'["t", "binance"]', b'["x"]', b'["s", "v", "c", 3]', b"\xff"):
        with pytest.raises(codec.BadMessage):
            codec.decode(bad)


async def test_two_collectors_two_viewers_equal_one_process(nats_server, tmp_path):
    bus = BusSettings(url=nats_server.url)
    exchange = await DemoExchange(seed=5, rate_per_s=80.0, venues=VENUES).start()
    recorders = {v: CaptureWriter(tmp_path / f"{v}.jsonl") for v in VENUES}
    collectors = [await start_collector(v, exchange, bus, recorders[v]) for v in VENUES]
    early = Viewer(bus)  # attached from the start, follows live
    await asyncio.sleep(4.0)
    late = Viewer(bus)  # attaches mid-run: rebuilds from the stream, then follows
    await asyncio.sleep(2.0)
    await exchange.pause()
    await asyncio.sleep(1.0)
    for c, task in collectors:
        await stop_collector(c, task)
    for w in recorders.values():
        w.close()
    await exchange.stop()
    # one process fed the same frames: the two recordings, one after the other
    merged = tmp_path / "merged.jsonl"
    lines = [open(tmp_path / f"{v}.jsonl", "rb").read().split(b"\n", 1)[1] for v in VENUES]
    merged.write_bytes(open(tmp_path / "binance.jsonl", "rb").readline() + b"".join(lines))
    engine = Engine(report_tf="1m")
    with CaptureReader(merged) as reader:
        stats = replay_capture(reader, engine)
        expected = build_report(engine, stats, reader.instruments)
    for v in VENUES:
        assert expected["markets"][f"{v}:{SYMBOLS[v]}"]["trades"] > 100
    for viewer in (early, late):
        await viewer.caught_up(bus)
        await viewer.kill()
        got = viewer.report()
        assert got["markets"] == expected["markets"]
        assert (got["frames"], got["rejected_frames"]) == (stats.frames, stats.rejected)
        assert viewer.source.bad_messages == 0


async def test_restarts_of_viewer_collectors_and_server_lose_and_double_nothing(nats_server, tmp_path):
    bus = BusSettings(url=nats_server.url)
    exchange = await DemoExchange(seed=9, rate_per_s=80.0, venues=VENUES).start()
    running = {v: await start_collector(v, exchange, bus) for v in VENUES}
    steady = Viewer(bus)  # stays up through everything, resumes after the server restart
    doomed = Viewer(bus)
    await asyncio.sleep(2.0)
    await doomed.kill()  # a viewer killed...
    # a collector killed (what it had not sent is lost with it) and one stopped, both restarted
    c, task = running["binance"]
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    c.source.stop()
    await stop_collector(*running["bybit"])
    bybit_engines = [running["bybit"][0].engine]
    await asyncio.sleep(1.0)  # the venues go on trading meanwhile
    running = {v: await start_collector(v, exchange, bus) for v in VENUES}
    bybit_engines.append(running["bybit"][0].engine)
    await asyncio.sleep(2.0)
    nats_server.restart()  # the bus goes away mid-run: collectors buffer, the viewer reconnects
    await asyncio.sleep(2.0)
    restarted = Viewer(bus)  # ...and restarted: rebuilds from the stream
    await asyncio.sleep(1.0)
    await exchange.pause()
    await asyncio.sleep(2.5)  # the collectors catch up and recover
    for c, task in running.values():
        await stop_collector(c, task)
        assert c.publisher.dropped == 0
    await exchange.stop()
    assert steady.source.state.reconnects >= 1
    for viewer in (steady, restarted):
        await viewer.caught_up(bus)
        await viewer.kill()
        for v in VENUES:
            count, buy, sell = exchange.servers[v].ledger.totals()
            m = viewer.engine.markets[f"{v}:{SYMBOLS[v]}"]
            assert count > 200
            assert (m.trades, m.missing, m.duplicates) == (count, 0, 0), v
            assert m.buy_base == pytest.approx(buy, rel=1e-9) and m.sell_base == pytest.approx(sell, rel=1e-9)
        # liquidations are not replayed by a venue: those of the stopped collector's gap are gone, but
        # every one a bybit collector received reached the viewer once
        liqs = lambda markets: sum(m.liq["long"][0] + m.liq["short"][0]  # noqa: E731
                                   for m in markets if m.venue == "bybit")
        assert liqs(viewer.engine.markets.values()) == sum(liqs(e.markets.values()) for e in bybit_engines)
    assert restarted.report()["markets"] == steady.report()["markets"]


def cli(*args):
    return [sys.executable, "-m", "orderflow_tui", *map(str, args)]


async def test_collect_command_and_a_killed_store_writer_count_everything_once(nats_server, pg_dsn, tmp_path):
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    collector = subprocess.Popen(cli("collect", "--bus", nats_server.url, "--demo", "--duration", "9",
                                     "--retention", "2h"), env=env, stderr=open(tmp_path / "collect.log", "wb"))
    store = lambda: subprocess.Popen(cli("run", "--headless", "--bus", nats_server.url, "--db", pg_dsn),  # noqa: E731
                                     env=env, stderr=open(tmp_path / "store.log", "ab"))
    writer = store()
    await asyncio.sleep(5.0)
    writer.send_signal(signal.SIGKILL)  # the store writer dies between commits (or inside one)
    writer.wait()
    await asyncio.sleep(1.0)
    writer = store()
    assert await asyncio.to_thread(collector.wait, 60) == 0, (tmp_path / "collect.log").read_text()[-2000:]
    bus = BusSettings(url=nats_server.url)
    viewer = Viewer(bus)  # everything on the stream, once
    await viewer.caught_up(bus)
    await asyncio.sleep(2.5)  # the store writer's last commit
    writer.send_signal(signal.SIGTERM)
    assert await asyncio.to_thread(writer.wait, 30) == 0, (tmp_path / "store.log").read_text()[-2000:]
    await viewer.kill()
    stored, liqs, buckets = await asyncio.to_thread(read_store, pg_dsn)
    assert buckets == sum(liqs.values())
    markets = viewer.engine.markets.values()
    assert sum(m.trades for m in markets) > 300
    for m in markets:
        trades, buy, sell = stored[(m.venue, m.symbol)]
        assert trades == m.trades, m.market  # none lost, none twice, across the SIGKILL
        assert buy == pytest.approx(m.buy_base, rel=1e-9) and sell == pytest.approx(m.sell_base, rel=1e-9)
        assert liqs.get(m.venue, 0) == sum(x.liq["long"][0] + x.liq["short"][0] for x in markets
                                          if x.venue == m.venue)


def read_store(dsn):
    from orderflow_tui.store.postgres import connect

    conn = connect(dsn, readonly=True)
    try:
        stored = {(v, s): (t, bb, sb) for v, s, t, bb, sb in conn.execute(
            "SELECT venue, symbol, SUM(trades), SUM(buy_base), SUM(sell_base) FROM volume_hours GROUP BY 1, 2")}
        liqs = dict(conn.execute("SELECT venue, COUNT(*) FROM liquidations GROUP BY venue").fetchall())
        return stored, liqs, conn.execute("SELECT COALESCE(SUM(count), 0) FROM liq_minutes").fetchone()[0]
    finally:
        conn.close()


async def test_the_collector_buffers_while_the_bus_is_down_within_its_bound(nats_server):
    from orderflow_tui.bus.collector import Publisher

    nats_server.stop()  # down from the start
    bus = BusSettings(url=nats_server.url, buffer_events=1000, ack_timeout_s=1.0)
    pub = Publisher(bus, "buffer-test")
    task = asyncio.create_task(pub.run())
    events = [Trade("bybit:BTCUSDT", "bybit", "BTCUSDT", 1_700_000_000_000 + i, 60000.0, 0.01, 600.0, True, f"id{i}")
              for i in range(1500)]
    for ev in events:
        pub.put(*codec.encode(ev))
    await wait_for(lambda: pub.state == "buffering", what="the publisher to say it buffers")
    assert len(pub.buf) == 1000 and pub.dropped == 500  # the oldest dropped, and counted
    await asyncio.to_thread(nats_server.start)
    await wait_for(lambda: not pub.buf, what="the buffer to drain")
    for ev in events[-200:]:  # a restarted collector publishing the same events again: nothing stored twice
        pub.put(*codec.encode(ev))
    await wait_for(lambda: not pub.buf, what="the buffer to drain")
    assert pub.duplicates == 200
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    await pub.close()
    viewer = Viewer(bus)
    await viewer.caught_up(bus)
    await viewer.kill()
    m = viewer.engine.markets["bybit:BTCUSDT"]
    assert (m.trades, m.first_ts, m.duplicates) == (1000, 1_700_000_000_500, 0)
    import time

    later = Viewer(bus, since_ms=int(time.time() * 1000) + 60_000)  # --since: nothing was stored after it
    earlier = Viewer(bus, since_ms=int(time.time() * 1000) - 3_600_000)
    await earlier.caught_up(bus)
    await asyncio.sleep(1.0)
    assert later.source.last_seq == 0 and earlier.engine.markets["bybit:BTCUSDT"].trades == 1000
    await later.kill()
    await earlier.kill()


async def test_the_dashboard_attaches_and_shows_the_bus_like_a_venue(nats_server):
    from orderflow_tui.ui.app import OrderflowApp
    from orderflow_tui.ui.widgets.venue_status import VenueStatus

    bus = BusSettings(url=nats_server.url)
    exchange = await DemoExchange(seed=3, rate_per_s=60.0, venues=("bybit",)).start()
    c, task = await start_collector("bybit", exchange, bus)
    await asyncio.sleep(2.0)
    settings = config.Settings()
    engine = Engine(settings.engine, row_divisor=10)
    app = OrderflowApp(settings, engine, BusSource(bus), groups=["BTC"], mode="BUS")
    async with app.run_test(size=(160, 50)) as pilot:
        await wait_for(lambda: engine.markets.get("bybit:BTCUSDT") is not None
                       and engine.markets["bybit:BTCUSDT"].trades > 50, what="trades in the dashboard's engine")
        await asyncio.sleep(1.5)
        await pilot.pause()
        status = app.query_one(VenueStatus)
        shown = "\n".join(status.render_line(y).text for y in range(status.size.height)).lower()
        assert "bus live" in shown and "lag" in shown and "bybit live" in shown, shown
    await exchange.pause()
    await stop_collector(c, task)
    await exchange.stop()
