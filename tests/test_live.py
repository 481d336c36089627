"""The live path against simulated venues on 127.0.0.1 speaking each venue's protocol, with faults.

In every case the source keeps running, the status says what happened, and the trade totals
equal exactly what the servers produced: nothing lost, nothing counted twice.
"""

import asyncio

import pytest

from orderflow_tui import config
from orderflow_tui.engine.engine import Engine
from orderflow_tui.sim.exchange_sim import DemoExchange, Faults, SYMBOLS
from orderflow_tui.feeds.session import LiveSource


def fast_settings(venues):
    s = config.Settings()
    s.feeds.venues = ",".join(venues)
    s.feeds.books = False  # trade-path faults count connections: the depth ones are tests/test_book_live.py's
    s.feeds.reconnect_min_s = 0.05
    s.feeds.reconnect_max_s = 0.3
    s.feeds.stale_after_s = 1.5
    s.feeds.ping_interval_s = 0.5
    return s


async def run_against(faults: dict, venues=("binance", "bybit", "okx"), seconds=3.0, rate=60.0, tweak=None,
                      catch_up=2.5, details=None):
    """Run the live source against the simulated venues; ``details``: a list that receives every
    status detail text seen (sampled every 50 ms)."""
    exchange = await DemoExchange(seed=11, rate_per_s=rate, faults=faults, venues=venues).start()
    settings = fast_settings(venues)
    if tweak:
        tweak(settings)
    exchange.endpoints(settings)
    source = LiveSource(settings)
    engine = Engine(settings.engine, collect_facts=False)
    task = asyncio.create_task(source.run(engine))

    async def watch():
        while True:
            details.extend(st.detail for st in source.states.values())
            await asyncio.sleep(0.05)

    watcher = asyncio.create_task(watch()) if details is not None else None
    await asyncio.sleep(seconds)
    await exchange.pause()  # stop producing; let the client catch up and recover
    await asyncio.sleep(catch_up)
    source.stop()
    task.cancel()
    if watcher:
        watcher.cancel()
    await asyncio.gather(task, *([watcher] if watcher else []), return_exceptions=True)
    await exchange.stop()
    return exchange, source, engine


def assert_totals_match(exchange, engine, venue):
    count, buy, sell = exchange.servers[venue].ledger.totals()
    m = engine.markets.get(f"{venue}:{SYMBOLS[venue]}")
    assert count > 20, "the server produced too little to test"
    assert m is not None and m.trades == count, (venue, m and m.trades, count)
    assert m.buy_base == pytest.approx(buy, rel=1e-9) and m.sell_base == pytest.approx(sell, rel=1e-9)
    assert m.missing == 0


def state(source, venue):
    return source.states[venue]


async def test_clean_run_all_venues():
    exchange, source, engine = await run_against({})
    for v in ("binance", "bybit", "okx"):
        assert_totals_match(exchange, engine, v)
        assert state(source, v).reconnects == 0 and state(source, v).rejected == 0
    # OKX's SWAP liquidation channel also carries ETH: only the group watched is kept
    assert set(engine.markets) == {"binance:BTCUSDT", "bybit:BTCUSDT", "okx:BTC-USDT-SWAP"}
    liqs = sum(m.liq["long"][0] + m.liq["short"][0] for m in engine.markets.values())
    assert liqs == sum(len(s.ledger.liquidations) for s in exchange.servers.values())


async def test_okx_aggregated_fills_across_a_reconnect_are_counted_once():
    # OKX messages stand for several fills; after the drop, REST lists fills one by one, overlapping
    # what the messages before (and after) the reconnect already counted
    exchange, source, engine = await run_against({"okx": Faults(drop_after=60)}, venues=("okx",), rate=120.0)
    server = exchange.servers["okx"]
    m = engine.markets["okx:BTC-USDT-SWAP"]
    assert len(server.ledger.trades) > 1.5 * server.ledger.messages  # the simulator aggregates
    assert state(source, "okx").reconnects >= 1 and state(source, "okx").gaps_filled > 0
    assert m.duplicates > 0  # REST fills inside messages already counted
    assert_totals_match(exchange, engine, "okx")


async def test_dropped_connection_mid_stream_binance_refills_the_gap_over_rest():
    exchange, source, engine = await run_against({"binance": Faults(drop_after=40)}, venues=("binance",))
    st = state(source, "binance")
    assert st.reconnects >= 1 and st.gaps_filled > 0
    assert_totals_match(exchange, engine, "binance")


async def test_dropped_connection_bybit_recovers_and_drops_duplicates():
    exchange, source, engine = await run_against({"bybit": Faults(drop_after=40)}, venues=("bybit",))
    assert state(source, "bybit").reconnects >= 1
    m = engine.markets["bybit:BTCUSDT"]
    assert m.duplicates >= 40  # the REST recent trades overlap what the socket delivered
    assert_totals_match(exchange, engine, "bybit")


async def test_silent_socket_is_stale_then_reconnected():
    exchange, source, engine = await run_against({"okx": Faults(silent_after=30)}, venues=("okx",), seconds=4.0)
    st = state(source, "okx")
    assert st.reconnects >= 1
    assert_totals_match(exchange, engine, "okx")


async def test_garbage_frames_are_counted_and_skipped():
    exchange, source, engine = await run_against({"bybit": Faults(garbage_every=7)}, venues=("bybit",))
    st = state(source, "bybit")
    assert st.rejected >= 5 and st.reconnects == 0
    assert_totals_match(exchange, engine, "bybit")


async def test_oversized_frame_reconnects():
    def small_frames(s):
        s.feeds.max_frame_bytes = 2**20

    exchange, source, engine = await run_against({"okx": Faults(oversized_after=25)}, venues=("okx",),
                                                 tweak=small_frames)
    st = state(source, "okx")
    assert st.reconnects >= 1
    assert_totals_match(exchange, engine, "okx")


async def test_close_with_an_error_code_is_reported():
    exchange, source, engine = await run_against({"okx": Faults(close_after=20, close_code=1011)}, venues=("okx",))
    st = state(source, "okx")
    assert st.reconnects >= 1
    assert_totals_match(exchange, engine, "okx")


async def test_every_topic_refused_is_reported_not_retried_and_other_venues_go_on():
    exchange, source, engine = await run_against({"bybit": Faults(refuse_subscription=True, once=False)},
                                                 venues=("bybit", "okx"), seconds=6.0)  # opens after 3 s
    st = state(source, "bybit")
    assert st.state == "refused" and "refused: BTCUSDT" in st.detail and "not retried" in st.detail
    assert st.reconnects == 0 and exchange.servers["bybit"].connections == 1  # no reconnect loop
    assert_totals_match(exchange, engine, "okx")


async def test_refused_topic_among_valid_ones_is_dropped_and_the_others_flow():
    # Bybit answers success:false for NOPEUSDT, OKX error 60018 for NOPE-USDT-SWAP; BTC goes on
    def two_groups(s):
        s.feeds.group = "BTC,NOPE"

    details = []
    exchange, source, engine = await run_against({}, venues=("bybit", "okx"), tweak=two_groups, details=details)
    for venue, topic in (("bybit", "NOPEUSDT"), ("okx", "NOPE-USDT-SWAP")):
        st = state(source, venue)
        assert list(st.refused) == [topic], st.refused
        assert st.reconnects == 0 and exchange.servers[venue].connections == 1
        assert_totals_match(exchange, engine, venue)
    assert any(f"refused: NOPE-USDT-SWAP" in d for d in details) and any("refused: NOPEUSDT" in d for d in details)
    assert "60018" in state(source, "okx").refused["NOPE-USDT-SWAP"]


def rest_calls(server, after=0.0):
    return [t for t, path, status in server.rest_log if t >= after]


async def test_429_with_retry_after_no_call_until_it_has_passed():
    skipped = set(range(1_000_010, 1_000_150, 7))  # a gap every 7 ids: every trade frame sees one open
    details = []
    exchange, source, engine = await run_against(
        {"binance": Faults(skip_ids=skipped, rest_status=429, rest_fail_calls=1, retry_after="2")},
        venues=("binance",), seconds=4.0, catch_up=3.0, details=details)
    log = exchange.servers["binance"].rest_log
    assert log[0][2] == 429
    later = [t for t, _, _ in log[1:]]
    assert later and min(later) >= log[0][0] + 2.0, [t - log[0][0] for t in later]
    assert len(log) <= 6  # not a call per trade frame: one refill in flight, gaps within 1,000 ids per call
    assert any("REST backing off until" in d and "HTTP 429" in d for d in details)
    assert state(source, "binance").gaps_filled == len(skipped)
    assert_totals_match(exchange, engine, "binance")


async def test_418_ban_no_call_to_the_venue_until_it_ends():
    details = []
    exchange, source, engine = await run_against(
        {"binance": Faults(drop_after=40, rest_status=418, rest_fail_calls=1, retry_after="3")},
        venues=("binance",), seconds=4.0, catch_up=3.0, details=details)
    log = exchange.servers["binance"].rest_log
    assert log[0][2] == 418 and all(t >= log[0][0] + 3.0 for t, _, _ in log[1:])
    assert len(log) >= 2 and log[-1][2] == 200
    assert any("REST backing off until" in d and "HTTP 418" in d for d in details)
    assert_totals_match(exchange, engine, "binance")


async def test_503_for_3s_backs_off_exponentially_then_recovers():
    # the backoff scaled down tenfold (it was 30 s of 503 with 1-8 s waits: 40 s of the suite)
    def backoff(s):
        s.feeds.rest_backoff_min_s = 0.1
        s.feeds.rest_backoff_max_s = 0.8

    details = []
    exchange, source, engine = await run_against(
        {"binance": Faults(drop_after=40, rest_status=503, rest_fail_for_s=3.0)},
        venues=("binance",), seconds=4.5, rate=20.0, catch_up=2.0, tweak=backoff, details=details)
    log = exchange.servers["binance"].rest_log
    failed = [t for t, _, status in log if status == 503]
    waits = [b - a for a, b in zip(failed, failed[1:])]
    # 0.1, 0.2, 0.4, 0.8, 0.8... s: about 7 calls in 3 s, not one per trade frame; never past the cap
    # (the next doubling, 1.6 s) even on a loaded machine
    assert 4 <= len(failed) <= 9, waits
    assert all(w >= 0.09 for w in waits) and waits[:3] == sorted(waits[:3]) and max(waits) <= 1.3, waits
    assert log[-1][2] == 200
    assert any("REST backing off until" in d and "HTTP 503" in d for d in details)
    assert_totals_match(exchange, engine, "binance")


async def test_rest_budget_spaces_calls_to_the_published_limit():
    from orderflow_tui.feeds.rest import RestClient
    from orderflow_tui.sim.exchange_sim import BinanceServer

    server = await BinanceServer().start()
    settings = fast_settings(("binance",))
    settings.feeds.rest_budget_share = 0.5
    client = RestClient("binance", settings, limit=(80, 1.0))  # 80 weight/s published: 40 ours, 2 calls of 20
    for _ in range(6):
        await client.get_json(f"{server.http}/fapi/v1/aggTrades?symbol=BTCUSDT&fromId=1000000&limit=10", 20)
    await server.stop()
    times = [t for t, _, _ in server.rest_log]
    assert len(times) == 6
    assert all(times[i + 2] - times[i] >= 0.99 for i in range(4)), times  # never 3 calls within 1 s


async def test_binance_used_weight_header_past_our_share_stops_calls_until_the_minute_turns():
    """Binance counts every caller on the IP (X-MBX-USED-WEIGHT-1M on each answer): past our share
    of the published limit, no call until the next whole minute, and the status line says why."""
    from orderflow_tui.feeds.rest import RestClient
    from orderflow_tui.feeds.status import VenueState
    from orderflow_tui.sim.exchange_sim import BinanceServer

    url = "/fapi/v1/aggTrades?symbol=BTCUSDT&fromId=1000000&limit=10"
    for used, blocked in ((300, False), (1300, True)):  # our share: 1,200 of 2,400 a minute
        server = await BinanceServer(Faults(used_weight=used)).start()
        state = VenueState("binance")
        client = RestClient("binance", fast_settings(("binance",)), state, limit=(2400, 60.0))
        await client.get_json(server.http + url)
        await server.stop()
        assert (client.blocked_for() > 0) is blocked and client.blocked_for() <= 60.0
        assert ("weight 1300 used this minute" in state.rest_reason) is blocked, state.rest_reason


async def test_normal_shutdown_closes_with_1000_and_one_keepalive_per_connection():
    def ping_fast(s):
        s.feeds.ping_interval_s = 0.5

    exchange, source, engine = await run_against({}, venues=("binance", "okx"), rate=5.0, seconds=3.0,
                                                 tweak=ping_fast)
    for venue in ("binance", "okx"):
        assert exchange.servers[venue].close_codes == [1000], (venue, exchange.servers[venue].close_codes)
    # Binance: protocol pings from our loop only (the library's own are off): one per 0.5 s at most
    assert 0 < exchange.servers["binance"].pings <= 5.5 / 0.5 + 1
    assert exchange.servers["okx"].pings == 0  # OKX is kept alive by text pings


async def test_id_gap_filled_over_rest():
    skipped = set(range(1_000_010, 1_000_016)) | {1_000_030}
    exchange, source, engine = await run_against({"binance": Faults(skip_ids=skipped)}, venues=("binance",))
    st = state(source, "binance")
    assert st.gaps_filled == len(skipped) and st.reconnects == 0
    assert_totals_match(exchange, engine, "binance")


async def test_planned_rotation():
    def rotate_fast(s):
        s.feeds.rotate_after_s = 1.0

    exchange, source, engine = await run_against({}, venues=("binance", "okx"), tweak=rotate_fast)
    for v in ("binance", "okx"):
        assert state(source, v).reconnects >= 2
        assert_totals_match(exchange, engine, v)


async def test_slow_consumer_loses_nothing():
    exchange, source, engine = await run_against({"binance": Faults(slow_client_delay_s=0.01, once=False)},
                                                 venues=("binance",), rate=150.0)
    assert_totals_match(exchange, engine, "binance")


def test_headless_demo_run_report_matches_what_the_servers_sent(tmp_path):
    import json
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-m", "orderflow_tui", "demo", "--headless", "--duration", "8",
                           "--report", "json", "--db", str(tmp_path / "d.sqlite"), "--rate", "80"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["rejected_frames"] == 0
    for market, sent in out["simulator"].items():
        got = out["markets"][market]
        assert got["trades"] == sent["trades"] > 50
        assert got["buy_base"] == pytest.approx(sent["buy_base"], rel=1e-9)
        assert got["sell_base"] == pytest.approx(sent["sell_base"], rel=1e-9)
        liq = got["liquidations"]
        assert liq["long"]["count"] + liq["short"]["count"] == sent["liquidations"]
    stats = json.loads(subprocess.run([sys.executable, "-m", "orderflow_tui", "stats", "--db", str(tmp_path / "d.sqlite"),
                                       "--json"], capture_output=True, text=True, timeout=60).stdout)
    assert stats["total"]["count"] == sum(s["liquidations"] for s in out["simulator"].values())


async def test_okx_outage_longer_than_the_recent_window_is_paged_back():
    # one venue takes every trade: ~400/s through a 1.5 s stale timeout is well over 500 trades
    exchange, source, engine = await run_against({"okx": Faults(silent_after=200)}, venues=("okx",), rate=400.0,
                                                 seconds=4.0)
    st = state(source, "okx")
    assert st.reconnects >= 1 and st.gaps_filled > 500 and st.unrecovered == 0
    assert_totals_match(exchange, engine, "okx")


async def test_record_writes_a_capture_that_replays_to_what_the_servers_sent(tmp_path):
    import json

    from orderflow_tui.capture import CaptureReader
    from orderflow_tui.feeds.record import _record
    from orderflow_tui.replay import replay_capture
    from orderflow_tui.report import build_report

    exchange = await DemoExchange(seed=5, rate_per_s=60.0).start()
    settings = fast_settings(("binance", "bybit", "okx"))
    exchange.endpoints(settings)

    async def stop_producing():
        await asyncio.sleep(2.5)
        await exchange.pause()

    pausing = asyncio.create_task(stop_producing())
    out = tmp_path / "rec.jsonl.gz"
    result = await _record(settings, out, 4.0, False)
    frames = result[0] if isinstance(result, tuple) else result  # (frames, silent venues) since record names them
    await pausing
    await exchange.stop()
    assert frames > 50 and out.read_bytes()[:2] == b"\x1f\x8b"
    with CaptureReader(out) as reader:
        header = reader.header
        assert header["instruments"]["okx:BTC-USDT-SWAP"] == {"contract_size": 0.01, "inverse": False}
        engine = Engine(report_tf="1m")
        stats = replay_capture(reader, engine)
    report = json.loads(json.dumps(build_report(engine, stats, reader.instruments)))
    assert report["rejected_frames"] == 0
    for venue in ("binance", "bybit", "okx"):
        count, buy, sell = exchange.servers[venue].ledger.totals()
        got = report["markets"][f"{venue}:{SYMBOLS[venue]}"]
        assert got["trades"] == count > 10
        assert got["buy_base"] == pytest.approx(buy, rel=1e-9) and got["sell_base"] == pytest.approx(sell, rel=1e-9)


async def test_doctor_names_a_refused_topic_and_passes_the_valid_ones():
    from orderflow_tui.feeds.doctor import _doctor

    settings = fast_settings(("bybit", "okx"))
    settings.feeds.group = "BTC,NOPE"
    rows = await _doctor(settings, 5.0, 1.0, True)  # demo: the simulated venues
    by_check = {(stream, check): (ok, result) for stream, check, ok, result, _ in rows}
    assert by_check[("bybit/linear", "subscribe NOPEUSDT")][0] is False
    assert "60018" in by_check[("okx/public", "subscribe NOPE-USDT-SWAP")][1]
    for stream in ("bybit/linear", "okx/public"):
        assert by_check[(stream, "connect + subscribe")][0] is True
        assert by_check[(stream, "first trade")][0] is True


def test_a_bounded_demo_ledger_keeps_the_totals_and_the_newest_fills():
    """demo keeps only the newest fills per venue (flat memory over weeks); the totals still count
    every fill, exactly as summing them all would."""
    from orderflow_tui.sim.exchange_sim import Ledger

    bounded, full = Ledger(keep=100), Ledger()
    for i in range(5000):
        fill = (1000 + i, 100.0 + i % 7, 0.001 * (i % 13 + 1), i % 3 == 0, i)
        bounded.record(*fill)
        full.record(*fill)
    assert bounded.totals() == full.totals()
    assert len(bounded.trades) <= 125 and max(bounded.trades) == 5999 and len(full.trades) == 5000


async def test_cancel_while_frames_pour_in_ends_every_connection():
    """Stopping a run while frames arrive back to back ends every reading loop. The loop used
    asyncio.wait_for around recv(), which on Python 3.11 swallows a cancel that lands as recv()
    completes (CPython gh-86296): the task stayed "cancelling" and read on forever, and a test
    hung until its timeout now and then."""
    settings = config.Settings()
    settings.feeds.venues = "binance,bybit,okx"
    source = LiveSource(settings, demo=True, demo_rate=5000)
    await source.prepare()
    try:
        for _ in range(4):
            engine = Engine(settings.engine)
            tasks = [asyncio.create_task(c.run()) for c in source.build(engine)]
            for _ in range(400):  # until frames flow on every connection (bounded)
                if all(c.state.frames > 0 for c in source.connections):
                    break
                await asyncio.sleep(0.01)
            for _ in range(5):  # a few reads in: frames are now queued on every socket
                await asyncio.sleep(0)
            for t in tasks:
                t.cancel()
            _, pending = await asyncio.wait(tasks, timeout=5)
            assert not pending, [t.get_coro() for t in pending]
    finally:
        source.stop()
        await source.exchange.stop()


# ---- the suite's random hang (issue 19) ---------------------------------------------------------------


async def test_asyncio_timeout_keeps_a_cancel_that_wait_for_drops():
    """The cause of the random 300 s hang: on Python 3.11, asyncio.wait_for returns the result when a
    cancel lands as the awaited thing completes, and the cancel is lost; a connection cancelled that
    way read on for ever and `gather` waited on it. The package awaits with asyncio.timeout, which
    keeps the cancel."""
    import sys

    loop = asyncio.get_running_loop()

    async def read(fut, use_wait_for):
        if use_wait_for:
            return await asyncio.wait_for(fut, 10)
        async with asyncio.timeout(10):
            return await fut

    for use_wait_for, lost in ((True, sys.version_info < (3, 12)), (False, False)):
        fut = loop.create_future()
        task = asyncio.create_task(read(fut, use_wait_for))
        await asyncio.sleep(0)  # the task waits
        fut.set_result("frame")  # a frame arrives...
        task.cancel()  # ...and the cancel lands before the task runs again
        [result] = await asyncio.gather(task, return_exceptions=True)
        assert isinstance(result, asyncio.CancelledError) is not lost, (use_wait_for, result)


async def test_a_stopped_connection_ends_while_frames_still_flow():
    """stop() ends a connection's reading loop by itself, even when no cancel reaches it (the state
    a lost cancel leaves): before, it read on as long as the venue sent frames."""
    exchange = await DemoExchange(seed=5, rate_per_s=300.0, venues=("bybit",)).start()
    settings = fast_settings(("bybit",))
    exchange.endpoints(settings)
    source = LiveSource(settings)
    await source.prepare()
    engine = Engine(settings.engine)
    [conn] = [c for c in source.build(engine) if "trade" in c.stream.expects]
    task = asyncio.create_task(conn.run())
    try:
        for _ in range(200):
            if conn.state.frames > 20:
                break
            await asyncio.sleep(0.05)
        assert conn.state.frames > 20
        source.stop()  # no cancel
        done, _ = await asyncio.wait({task}, timeout=5.0)
        assert task in done, "the connection read on after stop()"
        frames = conn.state.frames
        await asyncio.sleep(0.2)
        assert conn.state.frames == frames and exchange.servers["bybit"].ledger.count > frames
    finally:
        await exchange.stop()  # closes the socket: even a loop that reads on ends
        task.cancel()
        await asyncio.wait({task}, timeout=5.0)
