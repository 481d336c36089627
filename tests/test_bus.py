"""Collectors -> NATS JetStream -> viewers, against a real nats-server and the simulated venues on 127.0.0.1.

A viewer rebuilds the session from the stream with the same engine: its report equals that of one
process fed the same frames; restarts of the viewer, a collector or the server lose and double nothing.
"""

import asyncio
import json
import os
import signal
import subprocess
import sys
from datetime import datetime
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
    s.feeds.books = False  # the bus carries trades here; a replay of the recordings would have books
    s.feeds.reconnect_min_s = 0.05
    s.feeds.reconnect_max_s = 0.3
    s.feeds.stale_after_s = 1.5
    exchange.endpoints(s)
    return s


async def wait_for(cond, timeout=20.0, what="condition", awaitable=False):
    """A bounded wait on a condition (never a bare sleep): fails naming what did not happen."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not (await cond() if awaitable else cond()):
        assert asyncio.get_running_loop().time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)


class Viewer:
    def __init__(self, bus, **kw):
        self.source = BusSource(bus, **kw)
        self.engine = Engine(report_tf="1m")
        self.task = asyncio.create_task(self.source.run(self.engine))

    async def kill(self):
        self.task.cancel()
        async with asyncio.timeout(15):
            await asyncio.gather(self.task, return_exceptions=True)

    async def caught_up(self, bus):
        last = await stream_last_seq(bus)
        await wait_for(lambda: self.source.last_seq >= last, what="the viewer to catch up")

    async def caught_up_to(self, seq):
        """Connected, and nothing beyond ``seq`` applied (a start after the end of the stream)."""
        await wait_for(lambda: self.source.state.state == "connected", what="the viewer to attach")
        assert self.source.last_seq == seq

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


def test_codec_batches_round_trip():
    t = Trade("binance:BTCUSDT", "binance", "BTCUSDT", 1700000000123, 61234.1, 0.001, 61.2341, True, 42)
    okx = Trade("okx:BTC-USDT-SWAP", "okx", "BTC-USDT-SWAP", 1, 60000.0, 0.12, 7200.0, False, 1000, fills=3)
    liq = Liquidation("okx:BTC-USDT-SWAP", "okx", "BTC-USDT-SWAP", 5, 0.1 + 0.2, 3.0, 0.9000000000000001, False, True)
    ctx = Context("okx:BTC-USDT-SWAP", "okx", "BTC-USDT-SWAP", 9, oi_base=1.5, funding=0.0001, next_ts=10)
    subject, payload, msg_id = codec.encode(t)
    assert subject == "flow.binance.BTCUSDT.events" and msg_id.startswith("b:")
    (back,) = codec.decode(payload)
    assert (back.market, back.ts, back.price, back.qty, back.quote, back.is_buy, back.trade_id, back.fills) == \
        (t.market, t.ts, t.price, t.qty, t.quote, t.is_buy, 42, 1)
    rows = [codec.row(e)[2] for e in (okx, liq, ctx, IdOnly("okx:BTC-USDT-SWAP", 7))]
    subject, payload, msg_id = codec.encode_batch("okx", "BTC-USDT-SWAP", rows)
    assert codec.encode_batch("okx", "BTC-USDT-SWAP", rows)[2] == msg_id  # the same batch, the same id
    assert codec.encode_batch("okx", "BTC-USDT-SWAP", rows[:3])[2] != msg_id
    got = codec.decode(payload)
    assert [type(e) for e in got] == [Trade, Liquidation, Context, IdOnly]  # in arrival order
    assert got[0].fills == 3  # an OKX message of 3 fills stays 3 fills
    assert got[1].price == 0.1 + 0.2  # shortest round-trip text: the very same double
    assert (got[2].oi_base, got[2].oi_usd, got[2].funding, got[2].next_ts) == (1.5, None, 0.0001, 10)
    assert got[3].trade_id == 7
    # a newer collector's kind (say a top of book) is skipped and counted, the rest applied
    newer = codec.decode(b'[2, "okx", "BTC-USDT-SWAP", [["q", 1, 2.0], ["i", 8]]]')
    assert newer.unknown == 1 and [e.trade_id for e in newer] == [8]
    # a version-1 message (one event, before fills were carried) still reads
    (old,) = codec.decode(b'["t", "bybit", "BTCUSDT", 5, 60000.0, 0.5, 30000.0, true, "x1"]')
    assert (old.market, old.fills, old.trade_id) == ("bybit:BTCUSDT", 1, "x1")
    for bad in (b"", b"{}", b'["t", "binance"]', b'["x"]', b'["s", "v", "c", 3]', b"\xff", b'[2, "v", "s"]',
                b'[2, "v", "s", [["t", 1, 2.0, 3.0, 4.0, true, 5, 0]]]', b'[2, "v", "s", [["t", "x"]]]'):
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


def cli(*args):
    return [sys.executable, "-m", "orderflow_tui", *map(str, args)]


SECRET = "Pa55-w0rd-never-shown"


def with_password(dsn):  # the test server trusts every login: the password is accepted and ignored
    return dsn.replace("postgresql://postgres@", f"postgresql://postgres:{SECRET}@")


async def stream_events(bus):
    """Every event on the stream, in order (statuses left out)."""
    viewer = BusSource(bus)
    out = []

    class Sink:
        now = 0

        def on_trade(self, t):
            out.append(t)

        def on_events(self, evs):
            out.extend(evs)

        def tick(self, now):
            pass

    task = asyncio.create_task(viewer.run(Sink()))
    last = await stream_last_seq(bus)
    await wait_for(lambda: viewer.last_seq >= last, what="the whole stream")
    viewer.stop()
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    return out


def ids_of(t):
    return range(t.trade_id - t.fills + 1, t.trade_id + 1) if type(t.trade_id) is int else (t.trade_id,)


async def test_a_viewer_and_the_store_writer_side_by_side_through_restarts(nats_server, pg_dsn, tmp_path):
    """The issue-22 run: a headless viewer and the store writer (PostgreSQL) read the same stream
    while the collectors are killed and restarted, the writer is SIGKILLed and restarted and the
    NATS server restarts. Both equal the venues' ledger; a second store writer is refused; the
    viewer writes no store; a restarted collector republishes nothing already on the stream."""
    venues = ("binance", "bybit", "okx")
    bus = BusSettings(url=nats_server.url)
    dsn = with_password(pg_dsn)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1]),
           "XDG_DATA_HOME": str(tmp_path / "data"), "XDG_CONFIG_HOME": str(tmp_path / "config")}
    logs = tmp_path / "logs"
    logs.mkdir()
    exchange = await DemoExchange(seed=9, rate_per_s=60.0, venues=venues).start()

    def collectors():
        return [start_collector(v, exchange, bus) for v in ("binance,bybit", "okx")]

    def store_writer():
        return subprocess.Popen(cli("run", "--headless", "--bus", nats_server.url, "--db", dsn), env=env,
                                stdout=open(logs / "writer.out", "ab"), stderr=open(logs / "writer.err", "ab"))

    def offset():
        return read_offset(pg_dsn)

    running = [await c for c in collectors()]
    engines = [c.engine for c, _ in running]
    writer = store_writer()
    viewer = subprocess.Popen(cli("run", "--headless", "--bus", nats_server.url, "--report", "json"), env=env,
                              stdout=subprocess.PIPE, stderr=open(logs / "viewer.err", "wb"))
    watch = Viewer(bus)  # in-process: the condition the test waits on
    await wait_for(lambda: sum(m.trades for m in watch.engine.markets.values()) > 300, what="trades on the bus")
    await wait_for(lambda: asyncio.get_running_loop().run_in_executor(None, offset), what="a first commit",
                   awaitable=True)
    # a second store writer on the same durable (another store, even) is refused, in one line
    second = await asyncio.to_thread(subprocess.run, cli("run", "--headless", "--bus", nats_server.url, "--db",
                                                         tmp_path / "other.sqlite"), env=env, capture_output=True,
                                     text=True, timeout=60)
    assert second.returncode == 2 and "another store writer" in second.stderr, second.stderr
    assert len(second.stderr.strip().splitlines()) == 1 and not (tmp_path / "other.sqlite").exists()
    # the collectors killed (what they had not sent is lost with them) and restarted
    for c, task in running:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        c.source.stop()
    before = await stream_last_seq(bus)
    running = [await c for c in collectors()]
    engines += [c.engine for c, _ in running]
    await wait_for(lambda: all(c.seeded for c, _ in running), what="the restarted collectors to seed")
    # the store writer SIGKILLed between or inside commits, then restarted
    writer.send_signal(signal.SIGKILL)
    writer.wait()
    writer = store_writer()
    await wait_for(lambda: watch.source.last_seq > before + 200, what="the market to go on")
    nats_server.restart()  # the bus away: collectors buffer, the viewers and the writer reconnect
    await wait_for(lambda: watch.source.last_seq > before + 400 and all(not c.publisher.buf for c, _ in running),
                   timeout=30, what="the bus back")
    await exchange.pause()

    def complete():
        return all(watch.engine.markets.get(f"{v}:{SYMBOLS[v]}") is not None and
                   watch.engine.markets[f"{v}:{SYMBOLS[v]}"].trades == exchange.servers[v].ledger.totals()[0]
                   for v in venues)

    await wait_for(complete, timeout=30, what="every fill of the ledger on the bus")
    for c, task in running:
        await stop_collector(c, task)
        assert c.publisher.dropped == 0
    await exchange.stop()
    await watch.caught_up(bus)
    await watch.kill()
    for proc in (writer, viewer):  # each applies what the stream holds, commits, and stops
        proc.send_signal(signal.SIGTERM)
    out, _ = await asyncio.to_thread(viewer.communicate, timeout=60)
    assert viewer.returncode == 0 and await asyncio.to_thread(writer.wait, 60) == 0, (logs / "writer.err").read_text()
    report = json.loads(out)
    stored, liqs, buckets = await asyncio.to_thread(read_store, pg_dsn)
    assert buckets == sum(liqs.values())
    all_received = 0
    for v in venues:
        market = f"{v}:{SYMBOLS[v]}"
        ledger = exchange.servers[v].ledger
        count, buy, sell = ledger.totals()
        quote = sum(p * q for p, q, _, _ in ledger.trades.values())
        assert count > 100, v
        m = watch.engine.markets[market]
        assert (m.trades, m.missing, m.duplicates) == (count, 0, 0), v
        got = report["markets"][market]
        assert got["trades"] == count, v  # the headless viewer
        assert stored[(v, SYMBOLS[v])][0] == count, v  # the store: none lost, none twice across the SIGKILL
        for base_buy, base_sell in ((m.buy_base, m.sell_base), stored[(v, SYMBOLS[v])][1:3]):
            assert base_buy == pytest.approx(buy, rel=1e-9) and base_sell == pytest.approx(sell, rel=1e-9), v
        assert m.buy_quote + m.sell_quote == pytest.approx(quote, rel=1e-9), v
        assert stored[(v, SYMBOLS[v])][3] == pytest.approx(quote, rel=1e-9), v
        # liquidations are not replayed by a venue: those while no collector ran are gone, but every
        # one a collector received reached the viewers and the store once
        received = sum(e.markets[market].liq["long"][0] + e.markets[market].liq["short"][0]
                       for e in engines if market in e.markets)  # a restart's seed counts none again
        all_received += received
        assert m.liq["long"][0] + m.liq["short"][0] == received == liqs.get(v, 0), v
        assert sum(x["count"] for x in got["liquidations"].values()) == received, (v, got["liquidations"])
    assert all_received > 0
    # the stream itself: OKX messages of several fills, and no fill twice (a restarted collector
    # republished nothing the stream held)
    events = await stream_events(bus)
    trades = [e for e in events if type(e) is Trade]
    okx = [t for t in trades if t.venue == "okx"]
    assert any(t.fills > 1 for t in okx) and sum(t.fills for t in okx) == exchange.servers["okx"].ledger.totals()[0]
    for v in venues:
        ids = [i for t in trades if t.venue == v for i in ids_of(t)]
        assert len(ids) == len(set(ids)), v
    # the viewer wrote no store anywhere; no output of anyone holds the password
    assert not (tmp_path / "data").exists() or not any((tmp_path / "data").rglob("*.sqlite"))
    for f in logs.iterdir():
        assert SECRET not in f.read_text(errors="replace"), f.name
    assert SECRET not in out.decode() + second.stdout + second.stderr


def test_roles_on_the_bus_are_never_guessed(tmp_path):
    """--db makes the store writer; the other combinations are one line each, before any bus."""
    url = "nats://127.0.0.1:1"
    for args, words in ((("run", "--bus", url, "--db", tmp_path / "s.sqlite"), "writes no store"),
                        (("run", "--headless", "--bus", url, "--durable", "w2"), "give --db"),
                        (("run", "--headless", "--bus", url, "--db", tmp_path / "s.sqlite", "--no-store"), "choose one"),
                        (("run", "--headless", "--bus", url, "--db", tmp_path / "s.sqlite", "--durable", "a.b"),
                         "letters, digits")):
        proc = subprocess.run(cli(*args), capture_output=True, text=True, timeout=60)
        assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
        assert words in proc.stderr, proc.stderr
    assert not (tmp_path / "s.sqlite").exists()


def read_offset(dsn):
    from orderflow_tui.store.postgres import connect

    try:
        conn = connect(dsn, readonly=True)
    except Exception:
        return None
    try:
        row = conn.execute("SELECT seq FROM bus_offsets WHERE consumer = 'store'").fetchone()
        return row[0] if row else None
    finally:
        conn.close()


def read_store(dsn):
    from orderflow_tui.store.postgres import connect

    conn = connect(dsn, readonly=True)
    try:
        stored = {(v, s): (t, bb, sb, q) for v, s, t, bb, sb, q in conn.execute(
            "SELECT venue, symbol, SUM(trades), SUM(buy_base), SUM(sell_base), SUM(buy_quote + sell_quote) "
            "FROM volume_hours GROUP BY 1, 2")}
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
        pub.put_event(ev)
    await wait_for(lambda: pub.state == "buffering", what="the publisher to say it buffers")
    assert pub.pending() == 1000 and pub.dropped == 500  # the oldest dropped, and counted
    await asyncio.to_thread(nats_server.start)
    await wait_for(lambda: not pub.pending(), what="the buffer to drain")
    assert pub.published == 1000 and pub.messages < 20  # batches, not one message per event
    for ev in events[-200:]:  # the same batches again (the same bytes): the server stores them once
        pub.put_event(ev)
    await wait_for(lambda: not pub.pending(), what="the buffer to drain")
    assert pub.duplicates == 200 and pub.published == 1000
    for ev in events[-250:]:  # the same events in other batches: stored, and dropped by the viewers
        pub.put_event(ev)
    await wait_for(lambda: not pub.pending(), what="the buffer to drain")
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    await pub.close()
    viewer = Viewer(bus)
    await viewer.caught_up(bus)
    await viewer.kill()
    m = viewer.engine.markets["bybit:BTCUSDT"]
    assert (m.trades, m.first_ts, m.duplicates) == (1000, 1_700_000_000_500, 250)
    import time

    later = Viewer(bus, since_ms=int(time.time() * 1000) + 60_000)  # --since: nothing was stored after it
    earlier = Viewer(bus, since_ms=int(time.time() * 1000) - 3_600_000)
    await earlier.caught_up(bus)
    await later.caught_up_to(0)
    assert later.source.last_seq == 0 and earlier.engine.markets["bybit:BTCUSDT"].trades == 1000
    await later.kill()
    await earlier.kill()


async def test_a_start_inside_the_stream_counts_late_fills_and_no_duplicate(nats_server):
    """A store writer restarted (or a viewer started) between a Binance trade that opened an id gap
    and the REST fills of that gap: the fills count, the trades before the start count nothing."""
    from orderflow_tui.bus.collector import Publisher

    bus = BusSettings(url=nats_server.url)
    pub = Publisher(bus, "gap-test")
    task = asyncio.create_task(pub.run())

    def t(i):
        return Trade("binance:BTCUSDT", "binance", "BTCUSDT", 1_700_000_000_000 + i, 60000.0, 0.01, 600.0, True, i)

    seqs = []
    for ids in (range(1, 11), (20,), range(11, 20), (10, 21)):  # 10 again: a duplicate after the start
        for i in ids:
            pub.put_event(t(i))
        await wait_for(lambda: not pub.pending(), what="the batch acknowledged")
        seqs.append(await stream_last_seq(bus))
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    await pub.close()
    import nats

    nc = await nats.connect(bus.url)
    opened = (await nc.jetstream().get_msg(bus.stream, seqs[0] + 1)).time  # the gap-opening message's time
    await nc.close()
    since_ms = int(datetime.fromisoformat(opened.replace("Z", "+00:00")[:26] + "+00:00").timestamp() * 1000) \
        if isinstance(opened, str) else int(opened.timestamp() * 1000)
    for viewer in (Viewer(bus, start_seq=seqs[0] + 1), Viewer(bus, since_ms=since_ms)):  # at the trade that
        await viewer.caught_up(bus)  # opens the gap, before its fills: by sequence, and by --since time
        await viewer.kill()
        m = viewer.engine.markets["binance:BTCUSDT"]
        assert (m.trades, m.missing, m.duplicates) == (11, 0, 1)  # 20, 11..19 and 21; 10 counted before


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
