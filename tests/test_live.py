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
    s.feeds.reconnect_min_s = 0.05
    s.feeds.reconnect_max_s = 0.3
    s.feeds.stale_after_s = 1.5
    s.feeds.ping_interval_s = 0.5
    return s


async def run_against(faults: dict, venues=("binance", "bybit", "okx"), seconds=3.0, rate=60.0, tweak=None):
    exchange = await DemoExchange(seed=11, rate_per_s=rate, faults=faults, venues=venues).start()
    settings = fast_settings(venues)
    if tweak:
        tweak(settings)
    exchange.endpoints(settings)
    source = LiveSource(settings)
    engine = Engine(settings.engine, collect_facts=False)
    task = asyncio.create_task(source.run(engine))
    await asyncio.sleep(seconds)
    await exchange.pause()  # stop producing; let the client catch up and recover
    await asyncio.sleep(2.5)
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


def state(source, venue):
    return source.states[venue]


async def test_clean_run_all_venues():
    exchange, source, engine = await run_against({})
    for v in ("binance", "bybit", "okx"):
        assert_totals_match(exchange, engine, v)
        assert state(source, v).reconnects == 0 and state(source, v).rejected == 0
    liqs = sum(m.liq["long"][0] + m.liq["short"][0] for m in engine.markets.values())
    assert liqs == sum(len(s.ledger.liquidations) for s in exchange.servers.values())


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


async def test_refused_subscription_is_reported_and_other_venues_go_on():
    exchange, source, engine = await run_against({"bybit": Faults(refuse_subscription=True, once=False)},
                                                 venues=("bybit", "okx"), seconds=6.0)  # opens after 3 s
    st = state(source, "bybit")
    assert "refused" in st.detail and st.state in ("reconnecting", "down")
    assert_totals_match(exchange, engine, "okx")


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
    frames = await _record(settings, out, 4.0, False)
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
