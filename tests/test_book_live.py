"""Books on the live path against the simulated venues (sim/depth_sim.py), with depth faults: every
client book ends equal to its venue's true book, the counters say what happened, a recording of the
run replays to the same books, and the trade totals are exactly the servers' (books change none)."""

import asyncio

import pytest

from orderflow_tui import config
from orderflow_tui.capture import CaptureReader, CaptureWriter
from orderflow_tui.engine.engine import Engine
from orderflow_tui.feeds.venue_feed import symbol_for
from orderflow_tui.feeds.session import LiveSource
from orderflow_tui.replay import replay_capture
from orderflow_tui.report import book_report
from orderflow_tui.sim.exchange_sim import SYMBOLS, DemoExchange, Faults

from servers import nats_server  # noqa: F401  (fixture)

ALL = ("binance", "bybit", "okx", "coinbase", "hyperliquid", "bitget")
MULTI = ("binance", "bybit", "okx")  # the simulated venues that list every demo coin


def _settings(venues):
    s = config.Settings()
    s.feeds.venues = ",".join(venues)
    s.feeds.reconnect_min_s = 0.05
    s.feeds.reconnect_max_s = 0.3
    s.feeds.stale_after_s = 3.0
    s.feeds.ping_interval_s = 0.3
    s.feeds.book_resync_s = 0.2
    return s


async def _run(faults, venues, seconds, capture=None, groups=("BTC",)):
    exchange = await DemoExchange(seed=21, rate_per_s=30.0, faults=faults, venues=venues, groups=groups).start()
    settings = _settings(venues)
    settings.feeds.group = ",".join(groups)
    exchange.endpoints(settings)
    source = LiveSource(settings)
    engine = Engine(settings.engine, collect_facts=False)
    if capture is not None:
        await source.prepare()
        source.recorder = writer = CaptureWriter(capture, source.instruments, 0)
    task = asyncio.create_task(source.run(engine))
    await asyncio.sleep(seconds)
    for f in (faults or {}).values():  # a lost last push is invisible until the next: end on clean ones
        f.depth_drop_every = f.depth_bad_checksum_every = f.depth_resend_snapshot_every = None
    await asyncio.sleep(1.0)
    await exchange.pause()
    await asyncio.sleep(1.5)  # the clients catch up, resync what is left to resync
    source.stop()
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    await exchange.stop()
    if capture is not None:
        writer.close()
    return exchange, source, engine


def _market(venue, coin="BTC"):
    return f"{venue}:{SYMBOLS[venue] if coin == 'BTC' else symbol_for(venue, coin)}"


def assert_true_book(exchange, engine, venue, coin="BTC"):
    """The client's best 20 levels a side are the venue's true ones."""
    book = engine.books[_market(venue, coin)]
    mine, true = book.top(20), exchange.servers[venue].depth.of(coin).book.top(20)
    assert book.synced, (venue, book.status(0, 1e9))
    for side in (0, 1):
        assert [p for p, _ in mine[side]] == [p for p, _ in true[side]], venue
        assert [s for _, s in mine[side]] == pytest.approx([s for _, s in true[side]], rel=1e-9), venue
    assert len(mine[0]) == len(mine[1]) == 20


def assert_trades_exact(exchange, engine, venue):
    count, buy, sell = exchange.servers[venue].ledger.totals()
    m = engine.markets[_market(venue)]
    assert m.trades == count > 0 and m.buy_base == pytest.approx(buy, rel=1e-9), venue
    assert m.sell_base == pytest.approx(sell, rel=1e-9), venue


async def test_books_sync_resync_on_faults_and_replay_the_same(tmp_path):
    faults = {
        # Binance: pushes lost (pu breaks) and a first REST snapshot older than the buffered stream
        "binance": Faults(depth_drop_every=13, depth_stale_rest=1, once=False),
        "bybit": Faults(depth_drop_every=17, depth_resend_snapshot_every=11, once=False),
        # OKX: no in-band snapshot (the REST bootstrap), and lost pushes (prevSeqId breaks)
        "okx": Faults(depth_no_snapshot=True, depth_drop_every=19, once=False),
        "bitget": Faults(depth_bad_checksum_every=7, once=False),
    }
    path = tmp_path / "books.jsonl"
    exchange, source, engine = await _run(faults, ALL, 4.0, capture=path)
    for venue in ALL:
        assert_true_book(exchange, engine, venue)
        assert_trades_exact(exchange, engine, venue)
    books = {v: engine.books[_market(v)] for v in ALL}
    for v in ("binance", "bybit", "okx", "bitget"):  # each fault was seen and healed
        assert books[v].gaps >= 1 and books[v].resyncs >= 1, (v, books[v].gaps, books[v].resyncs)
    assert books["bybit"].resyncs > books["bybit"].gaps  # the re-sent snapshots replaced the book too
    assert exchange.servers["binance"].depth.rest_calls >= 2  # the stale snapshot was fetched again
    assert books["hyperliquid"].resyncs == books["coinbase"].gaps == 0
    # the recording replays to the same books, counters included (REST snapshots as "k": "book" lines)
    replayed = Engine(config.Settings().engine)
    with CaptureReader(path) as reader:
        stats = replay_capture(reader, replayed)
    assert stats.rejected == 0, stats.reasons
    for v in ALL:
        assert book_report(replayed.books[_market(v)]) == book_report(books[v]), v
    with open(path) as fh:
        lines = sum('"k":"book"' in line for line in fh)
    assert lines == exchange.servers["binance"].depth.rest_calls + exchange.servers["okx"].depth.rest_calls
    assert exchange.servers["okx"].depth.rest_calls >= 2  # the bootstrap, then again after each gap


async def test_every_listed_coin_has_its_own_book():
    """A coin beside BTC (--group, --watch) has its own true book around its own price on each venue
    that lists it, in each protocol family (Binance's REST snapshot, Bybit's in-band one, OKX's
    seqId chain), with lost pushes healed; the venues of issue 14 list BTC only and refuse it."""
    faults = {v: Faults(depth_drop_every=3, once=False) for v in MULTI}  # SOL's book pushes every 0.5 s
    venues = MULTI + ("bitget",)
    exchange, source, engine = await _run(faults, venues, 2.5, groups=("BTC", "SOL"))
    for venue in MULTI:
        for coin in ("BTC", "SOL"):
            assert_true_book(exchange, engine, venue, coin)
        sol = engine.books[_market(venue, "SOL")]
        assert 100 < sol.best_bid() < 200 and sol.gaps >= 1 and sol.resyncs >= 1, venue
    assert _market("bitget", "SOL") not in engine.books and "SOLUSDT" in source.states["bitget"].refused
    assert_true_book(exchange, engine, "bitget")


async def test_books_rebuilt_after_reconnects():
    """Connections cut again and again: each new connection's snapshot rebuilds the book (never
    kept across: the poisoned-book bug), and the book ends equal to the venue's."""
    venues = ("coinbase", "bitget", "bybit", "hyperliquid")
    # about one cut every 1.5 s of depth pushes
    faults = {v: Faults(drop_after=n, once=False) for v, n in zip(venues, (30, 10, 15, 3))}
    exchange, source, engine = await _run(faults, venues, 3.5)
    for venue in venues:
        assert_true_book(exchange, engine, venue)
        assert source.states[venue].reconnects >= 1
    for venue in ("coinbase", "bitget", "bybit"):
        assert engine.books[_market(venue)].resyncs >= 1, venue


async def test_collector_publishes_sampled_books_and_a_viewer_shows_them(nats_server):
    """The depth stays in the collector; once a second its books' best 50 levels go on the bus, and
    an attached viewer's books are those samples (synced or not, as the collector's were)."""
    from orderflow_tui.bus import codec
    from orderflow_tui.bus.attach import BusSource
    from orderflow_tui.bus.collector import Collector
    from orderflow_tui.bus.stream import BusSettings

    bus = BusSettings(url=nats_server.url)
    venues = ("binance", "bybit")
    exchange = await DemoExchange(seed=4, rate_per_s=30.0, venues=venues).start()
    settings = _settings(venues)
    exchange.endpoints(settings)
    collector = Collector(settings, bus, name="test-books")
    ctask = asyncio.create_task(collector.run())
    viewer = Engine(config.Settings().engine)
    vtask = asyncio.create_task(BusSource(bus).run(viewer))
    for _ in range(200):  # bounded: until both books reached the viewer
        if all(viewer.books.get(_market(v)) is not None for v in venues):
            break
        await asyncio.sleep(0.05)
    await exchange.pause()
    await asyncio.sleep(2.5)  # the collector's books are still now; the next sample carries them
    for v in venues:
        mine, theirs = viewer.books[_market(v)], collector.engine.books[_market(v)]
        assert mine.top(50) == theirs.top(50) and len(mine.top(50)[0]) > 20
        assert mine.synced and mine.ts == theirs.ts
    # samples reached the viewer (about one a second), not the depth messages (ten a second)
    assert collector.engine.books[_market("binance")].updates > 2 * viewer.books[_market("binance")].updates
    # a sample of a book that was not synced says so
    book = collector.engine.books[_market("bybit")]
    book.mark_gap()
    (ev,) = codec.decode(codec.encode(codec.book_sample(book))[1])
    assert ev.kind == 4 and ev.first == 0 and ev.bids == book.top(50)[0]
    await collector.stop(5.0)
    for t in (ctask, vtask):
        t.cancel()
    await asyncio.gather(ctask, vtask, return_exceptions=True)
    await exchange.stop()
