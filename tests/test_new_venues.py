"""Coinbase, Hyperliquid and Bitget live (issue 14 items 1-3), against simulated venues on 127.0.0.1
speaking each venue's protocol: what the client counts equals what the servers sent, through a
reconnect with a gap and ids skipped on the socket."""

from __future__ import annotations

import asyncio
import json
import time

import pytest

from orderflow_tui import config
from orderflow_tui.engine.engine import Engine
from orderflow_tui.feeds.session import LiveSource
from orderflow_tui.sim.coinbase_venue import FIRST_TRADE_ID as FIRST_ID
from orderflow_tui.sim.exchange_sim import SYMBOLS, DemoExchange, Faults
from orderflow_tui.sim.market_model import SimLiquidation


def fast_settings(venues):
    s = config.Settings()
    s.feeds.venues = ",".join(venues)
    s.feeds.books = False  # trade-path faults count connections: the depth ones are tests/test_book_live.py's
    s.feeds.reconnect_min_s = 0.05
    s.feeds.reconnect_max_s = 0.3
    s.feeds.stale_after_s = 1.5
    s.feeds.ping_interval_s = 0.5
    return s


async def run_against(faults: dict, venues, seconds=3.0, rate=60.0, catch_up=2.0):
    exchange = await DemoExchange(seed=13, rate_per_s=rate, faults=faults, venues=venues).start()
    settings = fast_settings(venues)
    exchange.endpoints(settings)
    source = LiveSource(settings)
    engine = Engine(settings.engine)
    task = asyncio.create_task(source.run(engine))
    await asyncio.sleep(seconds)
    await exchange.pause()
    await asyncio.sleep(catch_up)
    source.stop()
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    await exchange.stop()
    return exchange, source, engine


async def wait_until(cond, what, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.02)


def assert_totals_match(exchange, engine, venue):
    count, buy, sell = exchange.servers[venue].ledger.totals()
    m = engine.markets.get(f"{venue}:{SYMBOLS[venue]}")
    assert count > 20, "the server produced too little to test"
    assert m is not None and m.trades == count, (venue, m and m.trades, count)
    assert m.buy_base == pytest.approx(buy, rel=1e-9) and m.sell_base == pytest.approx(sell, rel=1e-9)
    assert m.missing == 0


# ---- Coinbase ---------------------------------------------------------------------------------------


async def test_coinbase_clean_run_taker_side_no_liquidations():
    """The maker side is inverted to the taker (buy totals equal the server's taker buys); the
    last_match replayed on subscribe is not counted; spot has no liquidations; it joins BTC."""
    exchange, source, engine = await run_against({}, ("binance", "coinbase"))
    assert_totals_match(exchange, engine, "coinbase")
    assert_totals_match(exchange, engine, "binance")
    m = engine.markets["coinbase:BTC-USD"]
    assert m.liq == {"long": [0, 0.0, 0.0], "short": [0, 0.0, 0.0]}
    assert m.contiguous and m.duplicates == 0  # ids tracked once the first match was counted
    assert {x.market for x in engine.groups["BTC"].markets} == {"binance:BTCUSDT", "coinbase:BTC-USD"}
    st = source.states["coinbase"]
    assert st.rejected == 0 and st.reconnects == 0
    assert exchange.servers["coinbase"].heartbeats >= 2


async def test_coinbase_reconnect_with_a_gap_is_filled_over_rest():
    """The connection drops after 40 frames; trades sent meanwhile are fetched over REST after the
    reconnect, paged back from the newest to the last id seen, without duplicates."""
    exchange, source, engine = await run_against({"coinbase": Faults(drop_after=40)}, ("coinbase",), seconds=4.0)
    assert_totals_match(exchange, engine, "coinbase")
    st = source.states["coinbase"]
    assert st.reconnects >= 1 and st.gaps_filled > 0
    assert any(path == "/products/BTC-USD/trades" for _, path, _ in exchange.servers["coinbase"].rest_log)


async def test_coinbase_ids_skipped_on_the_socket_are_backfilled():
    skipped = set(range(5_000_020, 5_000_120, 9))
    exchange, source, engine = await run_against({"coinbase": Faults(skip_ids=skipped)}, ("coinbase",), seconds=4.0)
    assert_totals_match(exchange, engine, "coinbase")
    assert source.states["coinbase"].gaps_filled == len(skipped)
    assert source.states["coinbase"].reconnects == 0


async def test_coinbase_heartbeat_shows_matches_lost_before_a_quiet_spell():
    """The last matches before the market goes quiet never reach the socket: the heartbeat's
    last_trade_id ahead of the last id counted is a gap fetched over REST at once, not at the next
    match (there is none). A heartbeat with last_trade_id 0 says nothing."""
    from orderflow_tui.sim.coinbase_venue import CoinbaseServer, iso
    from orderflow_tui.sim.market_model import SimTrade

    server = await CoinbaseServer().start()
    settings = fast_settings(("coinbase",))
    server.set_endpoints(settings.endpoints)
    source = LiveSource(settings)
    engine = Engine(settings.engine)
    task = asyncio.create_task(source.run(engine))
    t = int(time.time() * 1000)
    trades = lambda n, k: [SimTrade("coinbase", t + 10 * (k + i), 65_000.0 + i, 0.01 * (i + 1), i % 2 == 0)  # noqa: E731
                           for i in range(n)]
    try:
        await wait_until(lambda: server.clients, "the subscription")
        await server.publish(trades(5, 0))
        await wait_until(lambda: engine.markets.get("coinbase:BTC-USD") and engine.markets["coinbase:BTC-USD"].trades == 5,
                         "the first matches")
        server.faults.skip_ids.update(range(FIRST_ID + 5, FIRST_ID + 8))  # lost on the socket
        await server.publish(trades(3, 5))
        await server.send_heartbeat()  # then only heartbeats
        m = engine.markets["coinbase:BTC-USD"]
        await wait_until(lambda: m.trades == 8, "the lost matches over REST")
        for client in list(server.clients):
            await server.send(client, json.dumps({"type": "heartbeat", "sequence": 1, "last_trade_id": 0,
                                                  "product_id": "BTC-USD", "time": iso(t)}))
        await server.send_heartbeat()
        calls = len(server.rest_log)
        await asyncio.sleep(0.2)
    finally:
        source.stop()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await server.stop()
    assert (m.missing, list(m.gaps), m.duplicates) == (0, [], 0)
    assert source.states["coinbase"].gaps_filled == 3 and len(server.rest_log) == calls == 1
    count, buy, sell = server.ledger.totals()
    assert m.trades == count and m.buy_base == pytest.approx(buy) and m.sell_base == pytest.approx(sell)


async def test_coinbase_refused_product_is_named():
    exchange = await DemoExchange(seed=13, rate_per_s=40.0, venues=("coinbase",)).start()
    settings = fast_settings(("coinbase",))
    settings.feeds.group = "BTC,NOPE"
    exchange.endpoints(settings)
    source = LiveSource(settings)
    engine = Engine(settings.engine)
    task = asyncio.create_task(source.run(engine))
    await asyncio.sleep(3.5)
    source.stop()
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    await exchange.stop()
    st = source.states["coinbase"]
    assert list(st.refused) == ["NOPE-USD"] and "not a valid product" in st.refused["NOPE-USD"]
    assert engine.markets["coinbase:BTC-USD"].trades > 0


# ---- Hyperliquid ------------------------------------------------------------------------------------


def test_hyperliquid_liquidation_rules_on_the_simulated_vault_fills():
    """Each simulated liquidation: one backstop fill (counted, side from ``dir``), sometimes an ADL
    fill and a market liquidation on the same vault (never counted)."""
    from orderflow_tui.sim.hyperliquid_venue import HyperliquidServer
    from orderflow_tui.venues import make_parsers, parse_frame

    server, parser = HyperliquidServer(), make_parsers()["hyperliquid"]
    for n in range(6):
        is_long = n % 2 == 0
        frame = server.liquidation_frame(SimLiquidation("hyperliquid", 1_790_000_000_000 + n, 65_000.0, 0.25, is_long))
        events = parse_frame(parser, frame)
        assert [(e.is_long, e.qty, e.quote, e.sampled) for e in events] == [(is_long, 0.25, 16_250.0, True)], frame
    assert server.not_counted == 5  # 3 ADL fills and 2 market liquidations were in those frames


def test_hyperliquid_adl_and_market_fills_do_not_count_and_the_snapshot_is_history():
    import json

    from captures import DATA
    from orderflow_tui.events import IGNORED
    from orderflow_tui.venues import make_parsers, parse_frame

    p = make_parsers()["hyperliquid"]
    base = {"coin": "BTC", "px": "66653.0", "sz": "0.5", "side": "A", "time": 1_790_000_000_000, "startPosition": "-2.0",
            "crossed": True, "fee": "0.0", "tid": 5, "hash": "0x0", "oid": 1}
    adl = dict(base, dir="Auto-Deleveraging", liquidation={"liquidatedUser": "0xvault", "markPx": "1", "method": "market"})
    assert parse_frame(p, json.dumps({"channel": "userFills", "data": {"user": "0xvault", "fills": [adl]}})) is IGNORED
    # the real frame of a market liquidation as its maker saw it (nautilus_trader test data): not a backstop
    real = json.loads((DATA / "nautilus_trader" / "hyperliquid_ws_user_fill_liquidation.json").read_text())
    framed = {"channel": "userFills", "data": {"user": "0xmaker", "fills": real["data"]["fills"]}}
    assert parse_frame(p, json.dumps(framed)) is IGNORED
    # the liquidated account's own fill: startPosition < 0 -> a short was closed
    own = dict(base, dir="Close Short", side="B",
               liquidation={"liquidatedUser": "0xme", "markPx": "66600", "method": "backstop"})
    [liq] = parse_frame(p, json.dumps({"channel": "userFills", "data": {"user": "0xme", "fills": [own]}}))
    assert liq.is_long is False and liq.qty == 0.5
    # a counterparty's fill: it bought (B) -> a long was sold off
    maker = dict(base, dir="Open Long", side="B", liquidation={"liquidatedUser": "0xother", "markPx": "1",
                                                               "method": "backstop"})
    [liq] = parse_frame(p, json.dumps({"channel": "userFills", "data": {"user": "0xme", "fills": [maker]}}))
    assert liq.is_long is True
    snap = {"channel": "userFills", "data": {"isSnapshot": True, "user": "0xme", "fills": [own]}}
    assert parse_frame(p, json.dumps(snap)) is IGNORED


async def test_hyperliquid_live_trades_backstop_liquidations_and_context():
    """Children read from HLP's vaultDetails (POST /info), userFills per child, activeAssetCtx;
    what the client counts equals what the server sent (trades and backstop liquidations)."""
    from orderflow_tui.sim.context_sim import attach
    from orderflow_tui.sim.hyperliquid_venue import CHILDREN

    venues = ("hyperliquid",)
    exchange = await DemoExchange(seed=21, rate_per_s=60.0, venues=venues).start()
    sim = attach(exchange, seed=21)
    sim.every_s = 0.25
    settings = fast_settings(venues)
    exchange.endpoints(settings)
    source = LiveSource(settings)
    engine = Engine(settings.engine)
    task = asyncio.create_task(source.run(engine))
    server = exchange.servers["hyperliquid"]
    await asyncio.sleep(3.5)
    now = int(time.time() * 1000)
    await server.publish([SimLiquidation("hyperliquid", now + i, 65_000.0 + i, 0.1 * (i + 1), i % 2 == 0) for i in range(5)])
    await asyncio.sleep(1.0)
    await exchange.pause()
    await sim.stop()
    await asyncio.sleep(1.0)
    source.stop()
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    await exchange.stop()

    assert_totals_match(exchange, engine, "hyperliquid")
    m = engine.markets["hyperliquid:BTC"]
    sent = server.ledger.liquidations
    assert len(sent) >= 5 and server.not_counted >= 3
    assert m.liq["long"][0] == sum(x.is_long for x in sent) and m.liq["short"][0] == sum(not x.is_long for x in sent)
    assert m.liq["long"][1] + m.liq["short"][1] == pytest.approx(sum(x.qty for x in sent))
    assert {u for users in server.users.values() for u in users} == set(CHILDREN)
    assert [p for _, p, _ in server.rest_log].count("/info") >= 1
    ctx = engine.context.markets["hyperliquid:BTC"]
    assert ctx.oi_base == sim.venues["hyperliquid"].sent["oi"] and ctx.interval_h == 1.0
    assert ctx.next_ts % 3_600_000 == 0 and ctx.ts < ctx.next_ts <= ctx.ts + 3_600_000  # hourly, on the hour
    assert ctx.funding == sim.venues["hyperliquid"].sent["funding"] and ctx.ts > 0
    assert source.states["hyperliquid"].rejected == 0


async def test_hyperliquid_reconnect_recovers_recent_trades():
    exchange, source, engine = await run_against({"hyperliquid": Faults(drop_after=40)}, ("hyperliquid",), seconds=4.0)
    assert_totals_match(exchange, engine, "hyperliquid")
    st = source.states["hyperliquid"]
    assert st.reconnects >= 1 and st.gaps_filled > 0


# ---- Bitget -----------------------------------------------------------------------------------------


async def test_bitget_trades_liquidations_and_ticker():
    """v2 trades (the snapshot on subscribe is history), v3 liquidations of every symbol with BTC
    kept (buy = long, amount in USDT by default, a sample), the ticker's open interest and funding."""
    from orderflow_tui.sim.context_sim import attach

    venues = ("bitget",)
    exchange = await DemoExchange(seed=31, rate_per_s=60.0, venues=venues).start()
    sim = attach(exchange, seed=31)
    sim.every_s = 0.25
    settings = fast_settings(venues)
    exchange.endpoints(settings)
    source = LiveSource(settings)
    engine = Engine(settings.engine)
    task = asyncio.create_task(source.run(engine))
    server = exchange.servers["bitget"]
    await asyncio.sleep(3.5)
    now = int(time.time() * 1000)
    await server.publish([SimLiquidation("bitget", now + i, 65_000.0, 0.1 * (i + 1), i % 3 == 0) for i in range(4)])
    await asyncio.sleep(1.0)
    await exchange.pause()
    await sim.stop()
    await asyncio.sleep(1.0)
    source.stop()
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    await exchange.stop()

    assert_totals_match(exchange, engine, "bitget")
    m = engine.markets["bitget:BTCUSDT"]
    sent = server.ledger.liquidations
    assert len(sent) >= 4
    assert m.liq["long"][0] == sum(x.is_long for x in sent) and m.liq["short"][0] == sum(not x.is_long for x in sent)
    assert m.liq["long"][1] + m.liq["short"][1] == pytest.approx(sum(x.qty for x in sent), rel=1e-9)
    assert all(x.sampled for x in engine.groups["BTC"].book.tape)
    assert set(engine.markets) == {"bitget:BTCUSDT"}  # the ETH liquidations were not kept
    ctx = engine.context.markets["bitget:BTCUSDT"]
    assert ctx.oi_base == sim.venues["bitget"].sent["oi"] and ctx.funding == sim.venues["bitget"].sent["funding"]
    assert source.states["bitget"].rejected == 0


async def test_bitget_reconnect_and_rotation_leave_no_gap():
    """A dropped connection, then planned rotations (the venue's 24 h cut, here every 1.5 s): the
    recent fills over REST fill what was missed; nothing counted twice."""
    def rotate(s):
        s.feeds.rotate_after_s = 1.5

    exchange = await DemoExchange(seed=33, rate_per_s=60.0, faults={"bitget": Faults(drop_after=30)},
                                  venues=("bitget",)).start()
    settings = fast_settings(("bitget",))
    rotate(settings)
    exchange.endpoints(settings)
    source = LiveSource(settings)
    engine = Engine(settings.engine)
    task = asyncio.create_task(source.run(engine))
    await asyncio.sleep(5.0)
    await exchange.pause()
    await asyncio.sleep(2.0)
    source.stop()
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    await exchange.stop()
    assert_totals_match(exchange, engine, "bitget")
    st = source.states["bitget"]
    assert st.reconnects >= 3 and st.gaps_filled > 0 and engine.markets["bitget:BTCUSDT"].duplicates > 0


async def test_bitget_outage_longer_than_the_recent_fills_is_paged_back():
    """The recent fills are 100; an outage of ~450 fills is paged back with fills-history
    (idLessThan) until a fill seen before it: nothing lost, nothing twice, nothing said missing."""
    exchange, source, engine = await run_against({"bitget": Faults(silent_after=100)}, ("bitget",), seconds=4.0,
                                                 rate=300.0)
    st = source.states["bitget"]
    assert st.reconnects >= 1 and st.gaps_filled > 100 and st.unrecovered == 0
    assert any(path.endswith("fills-history") for _, path, _ in exchange.servers["bitget"].rest_log)
    assert_totals_match(exchange, engine, "bitget")


def test_demo_selects_the_six_venues(tmp_path):
    """``demo --venues`` with all six: each simulated venue's trades reach the report, none rejected."""
    import json
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-m", "orderflow_tui", "demo", "--headless", "--duration", "5", "--no-store",
                          "--venues", "binance,bybit,okx,coinbase,hyperliquid,bitget", "--rate", "80", "--report", "json"],
                         capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-500:]
    report = json.loads(out.stdout)
    assert report["rejected_frames"] == 0
    assert {m.split(":")[0] for m, v in report["markets"].items() if v["trades"] > 0} == \
        {"binance", "bybit", "okx", "coinbase", "hyperliquid", "bitget"}


async def test_status_sums_a_venues_connections():
    """Bitget has two connections (trades, liquidations): its rate is their sum, not the last one's."""
    exchange = await DemoExchange(seed=35, rate_per_s=80.0, venues=("bitget",)).start()
    settings = fast_settings(("bitget",))
    exchange.endpoints(settings)
    source = LiveSource(settings)
    engine = Engine(settings.engine)
    task = asyncio.create_task(source.run(engine))
    await asyncio.sleep(5.0)
    [st] = source.statuses()
    rates = [c.rate() for c in source.connections]
    source.stop()
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    await exchange.stop()
    assert len(rates) == 2 and rates[0] > 0 and st.msgs_per_s == pytest.approx(sum(rates), rel=0.2)
    assert st.last_age_s is not None and st.last_age_s < 1.0


async def test_hyperliquid_recovery_fetches_the_vault_fills_an_outage_hid():
    """Backstop liquidations sent while nobody listened come back over userFillsByTime after a
    reconnect (the connection's REST path), from the last one counted on: the group filter holds
    there too (an ETH fill in a BTC run is left out), and a second reconnect counts nothing twice."""
    from orderflow_tui.sim.hyperliquid_venue import HyperliquidServer

    server = await HyperliquidServer().start()
    settings = fast_settings(("hyperliquid",))
    server.set_endpoints(settings.endpoints)
    source = LiveSource(settings)
    await source.prepare()  # the children, from vaultDetails
    engine = Engine(settings.engine)
    [conn] = [c for c in source.build(engine) if "liquidation" in c.stream.expects]
    t = int(time.time() * 1000)

    async def outage(hidden, eth):
        for ev in hidden:
            server.liquidation_frame(ev)  # sent while the client was away
        server.liquidation_frame(eth, coin="ETH")  # the vaults trade every coin
        conn.recover()
        await asyncio.gather(*conn.tasks)

    before = SimLiquidation("hyperliquid", t - 10_000, 65_000.0, 0.5, True)
    await conn.on_frame(server.liquidation_frame(before))  # seen live, before the outage
    hidden = [SimLiquidation("hyperliquid", t - 8000 + 1000 * i, 64_000.0, 0.1 * i, i % 2 == 0) for i in range(1, 5)]
    await outage(hidden, SimLiquidation("hyperliquid", t - 7500, 3_000.0, 2.0, True))
    later = [SimLiquidation("hyperliquid", t - 2000, 64_500.0, 0.7, False)]
    await outage(later, SimLiquidation("hyperliquid", t - 1500, 3_000.0, 3.0, False))
    await server.stop()
    assert [k for k in engine.markets if k.startswith("hyperliquid:")] == ["hyperliquid:BTC"]
    m = engine.markets["hyperliquid:BTC"]
    assert m.liq["long"][0] + m.liq["short"][0] == 1 + len(hidden) + len(later)
    assert m.liq["long"][1] + m.liq["short"][1] == pytest.approx(0.5 + sum(x.qty for x in hidden + later))
