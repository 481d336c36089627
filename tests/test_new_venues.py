"""Coinbase, Hyperliquid and Bitget live (issue 14 items 1-3), against simulated venues on 127.0.0.1
speaking each venue's protocol: what the client counts equals what the servers sent, through a
reconnect with a gap and ids skipped on the socket."""

from __future__ import annotations

import asyncio

import pytest

from orderflow_tui import config
from orderflow_tui.engine.engine import Engine
from orderflow_tui.feeds.session import LiveSource
from orderflow_tui.sim.exchange_sim import SYMBOLS, DemoExchange, Faults


def fast_settings(venues):
    s = config.Settings()
    s.feeds.venues = ",".join(venues)
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
