"""Many markets at once (issue 23): the comparison view against each group's snapshot on the
simulated venues (three groups, one venue cut mid-run), its sorting and enter; CVD per minute
across that reconnect and per hour from the store across a restart; alerts at price levels on
hand-built sequences (reached with aggressive volume, absorbed, an imbalance spike, throttled);
snapshots of the comparison view on a fixed three-group capture."""

import asyncio
import json

import pytest

from captures import hftbacktest_frames, write_capture
from orderflow_tui import config
from orderflow_tui.config import AlertSettings, ConfigError, EngineSettings
from orderflow_tui.engine.engine import Engine
from orderflow_tui.engine.levels import LevelWatch
from orderflow_tui.engine.snapshot import snapshot
from orderflow_tui.events import Trade
from orderflow_tui.feeds.replay_source import ReplaySource
from orderflow_tui.feeds.session import LiveSource
from orderflow_tui.sim.exchange_sim import Faults
from orderflow_tui.store import db
from orderflow_tui.ui.app import OrderflowApp
from orderflow_tui.ui.format import money
from orderflow_tui.ui.widgets.comparison_table import SORTS, ComparisonTable, cells

FROZEN = 1_723_161_600.0
GROUPS = ["BTC", "ETH", "SOL"]


def text_of(widget) -> str:
    return "\n".join(widget.render_line(y).text for y in range(widget.size.height))


def table_rows(app) -> dict:
    """group -> the text of its row in the comparison table."""
    rows = {}
    for line in text_of(app.query_one(ComparisonTable)).splitlines()[1:]:
        words = line.strip(" │●").split()
        if not words:
            break  # the table ends; the selected group's details follow
        if words[0] in app.watched():
            rows[words[0]] = line
    return rows


def table_order(app) -> list[str]:
    return list(table_rows(app))


# ---- the comparison view on the simulated venues ----------------------------------------------------

async def test_comparison_equals_each_groups_snapshot_and_sorts_and_opens():
    settings = config.Settings()
    settings.feeds.venues = "binance,bybit,okx"
    settings.feeds.group = ",".join(GROUPS)
    settings.feeds.reconnect_min_s = 0.05
    settings.feeds.reconnect_max_s = 0.3
    engine = Engine(settings.engine, venues_tracked=3, row_divisor=10)
    engine.levels = LevelWatch(settings.alerts, settings.engine)
    source = LiveSource(settings, demo=True, demo_rate=150.0, demo_seed=5)
    app = OrderflowApp(settings, engine, source, groups=list(GROUPS), mode="SIMULATED DATA")
    async with app.run_test(size=(250, 40)) as pilot:
        cut = False
        for _ in range(200):  # every group from every venue, and the cut bybit connection back
            bybit = source.exchange.servers["bybit"] if source.exchange is not None else None
            if bybit is not None and bybit.clients and not cut:  # one reconnect mid-run: the connection drops
                cut = True
                for client in bybit.clients:
                    client.faults = Faults(drop_after=client.sent + 60)
            if len(engine.markets) == 9 and source.states["bybit"].reconnects >= 1 and \
                    source.states["bybit"].state == "connected" and engine.now - min(
                        m.first_ts for m in engine.markets.values()) > 2500:
                break
            await pilot.pause(0.05)
        assert len(engine.markets) == 9, sorted(engine.markets)
        assert source.states["bybit"].reconnects >= 1
        await source.exchange.pause()
        await source.exchange.context.stop()  # open interest and funding pushes too
        await pilot.pause(0.3)  # the frames in flight
        app.workers.cancel_group(app, "clock")  # the exchange clock stands still: numbers can be compared
        await pilot.pause()

        # CVD per minute across the reconnect: one point per minute, the newest at the session CVD
        for g in GROUPS:
            ring = list(engine.groups[g].cvd_minutes)
            assert [m for m, _, _ in ring] == sorted({m for m, _, _ in ring})
            bq, sq, _, _ = engine.groups[g].totals()
            engine.tick(engine.now + 1000)  # a second's work: the last trades join the ring
            assert engine.groups[g].cvd_minutes[-1][1] == pytest.approx(bq - sq, abs=1e-6)

        await pilot.press("c")
        assert app.view == "compare" and app.query_one("#views").current == "compare"
        app.last_key = None
        app.refresh_views(even_paused=True)
        await pilot.pause()
        rows = table_rows(app)
        assert list(rows) == GROUPS  # the watchlist order
        for g in GROUPS:
            snap = snapshot(engine, g)  # as the snapshot view builds it (bars and all)
            for name, text in cells(snap).items():
                if text and name not in ("trend 60s", "what", "1h"):
                    assert text in rows[g], (g, name, text, rows[g])
            assert money(snap.cvd_quote, signed=True) in rows[g]
            assert f"{snap.signal.direction} {snap.signal.score:+d}" in rows[g]

        # and the same numbers in that group's own snapshot view
        await pilot.press("down", "enter")
        assert app.view == "snapshot" and app.group == GROUPS[1]
        app.last_key = None
        app.refresh_views(even_paused=True)
        await pilot.pause()
        snap = snapshot(engine, GROUPS[1])
        assert f"CVD {money(snap.cvd_quote, signed=True)}" in text_of(app.query_one("#cvd"))
        assert f"{snap.signal.direction}" in text_of(app.query_one("#signal"))

        # o: liquidations, |CVD|, OI change, funding, then the watchlist again
        await pilot.press("c")
        snaps = {g: snapshot(engine, g) for g in GROUPS}
        keys = {
            "liquidations": lambda g: (-sum(snaps[g].liquidations.recent),
                                       -(snaps[g].liquidations.long[2] + snaps[g].liquidations.short[2])),
            "|CVD|": lambda g: -abs(snaps[g].cvd_quote),
            "OI change": lambda g: -abs(snaps[g].market.change_5m or 0.0) if snaps[g].market else 0.0,
            "funding": lambda g: -abs(snaps[g].market.funding_apr or 0.0) if snaps[g].market else 0.0,
        }
        for order in SORTS[1:] + SORTS[:1]:
            await pilot.press("o")
            assert app.order == order
            app.last_key = None
            app.refresh_views(even_paused=True)
            await pilot.pause()
            want = GROUPS if order == "watchlist" else sorted(GROUPS, key=lambda g: (keys[order](g), GROUPS.index(g)))
            assert table_order(app) == want, order
        await pilot.press("o")  # by liquidations: enter opens the top row
        app.last_key = None
        app.refresh_views(even_paused=True)
        await pilot.pause()
        top = table_order(app)[0]
        await pilot.press("up", "up", "enter")
        assert app.group == top and app.view == "snapshot"
        await pilot.press("q")


# ---- levels: hand-built sequences -----------------------------------------------------------------------

T0 = 1_700_000_040_000


def trade(ts, price, qty, buy):
    return Trade("binance:BTCUSDT", "binance", "BTCUSDT", ts, price, qty, price * qty, buy, None)


def level_engine(**alerts):
    s = EngineSettings()
    s.row_size = {"BTC": 10.0}
    e = Engine(s)
    a = AlertSettings(levels={"BTC": [100_000.0]}, engine_levels=False, level_min_quote=100_000.0, **alerts)
    e.levels = LevelWatch(a, s)
    return e


def quiet(e, start_s, seconds, price=99_500.0):
    """A second of two small trades (about $10K) each second, away from the level."""
    for i in range(start_s, start_s + seconds):
        e.on_trade(trade(T0 + i * 1000, price, 0.05, True))
        e.on_trade(trade(T0 + i * 1000 + 500, price, 0.05, False))


def level_alerts(e):
    return [(a.ts, a.kind, a.text) for a in e.alerts if a.kind.startswith("level")]


def test_a_level_reached_with_aggressive_volume_then_absorbed_then_throttled():
    e = level_engine()
    quiet(e, 0, 60)
    assert level_alerts(e) == []
    e.on_trade(trade(T0 + 60_000, 100_000.0, 5.0, True))  # $500K of buying lifts price to the level
    quiet(e, 61, 1, price=100_000.0)
    found = {k: t for _, k, t in level_alerts(e)}
    assert set(found) == {"level_volume", "level_imbalance"}  # the burst also tips the 60 s flow
    assert "marked level 100,000" in found["level_volume"] and "aggressive buying, $500,000" in found["level_volume"]
    # sellers hit the level for 12 s ($100K a second) and price holds within a row: absorbed
    for i in range(62, 74):
        e.on_trade(trade(T0 + i * 1000, 100_000.0, 1.0, False))
        e.on_trade(trade(T0 + i * 1000 + 400, 100_001.0, 0.01, True))
    quiet(e, 74, 1, price=100_000.0)
    kinds = [k for _, k, _ in level_alerts(e)]
    assert kinds.count("level_absorption") == 1 and kinds.count("level_volume") == 1  # the rest throttled
    text = next(t for _, k, t in level_alerts(e) if k == "level_absorption")
    assert "selling absorbed at marked level 100,000" in text and "price held" in text
    # away for five minutes, then back with another burst: the level alerts again
    quiet(e, 75, 300)
    e.on_trade(trade(T0 + 375_000, 100_000.0, 5.0, False))
    quiet(e, 376, 1, price=100_000.0)
    assert [k for _, k, _ in level_alerts(e)].count("level_volume") == 2
    assert "aggressive selling" in [t for _, k, t in level_alerts(e) if k == "level_volume"][-1]


def test_no_alert_without_a_level_or_without_volume_and_a_spike_at_a_level():
    e = level_engine()
    quiet(e, 0, 60)
    quiet(e, 60, 5, price=100_000.0)  # at the level, ordinary volume, balanced flow: nothing
    assert level_alerts(e) == []
    e2 = level_engine(level_interval_s=0)
    quiet(e2, 0, 60)
    e2.on_trade(trade(T0 + 60_000, 98_000.0, 5.0, True))  # a burst away from every level: nothing
    quiet(e2, 61, 1, price=98_000.0)
    assert level_alerts(e2) == []
    # one-sided buying at the level: the 60 s net % far above its norm (the norm is ~0: balanced)
    e3 = level_engine()
    quiet(e3, 0, 60)
    for i in range(60, 70):
        e3.on_trade(trade(T0 + i * 1000, 100_000.0, 0.2, True))
    assert "level_imbalance" in [k for _, k, _ in level_alerts(e3)]


def test_marking_a_level_and_the_config_levels_are_checked(tmp_path):
    w = LevelWatch(AlertSettings(), EngineSettings())
    assert w.mark("BTC", 65_000.0) is True and w.marked["BTC"] == [65_000.0]
    assert w.mark("BTC", 65_000.0) is False and w.marked["BTC"] == []
    s = config.apply(config.Settings(), {"alerts": {"levels": {"btc": [100000, 95000]}}})
    assert s.alerts.levels == {"BTC": [95000.0, 100000.0]}
    for bad in ({"BTC": [1, "x"]}, {"BTC": 5}, {"BTC": [-1]}, [1, 2]):
        with pytest.raises(ConfigError, match="alerts.levels"):
            config.apply(config.Settings(), {"alerts": {"levels": bad}})


# ---- CVD per hour from the store across a restart --------------------------------------------------------

HOUR = 3_600_000


def test_hourly_cvd_comes_back_from_the_store_after_a_restart(tmp_path):
    path = tmp_path / "s.sqlite"
    t = 1_700_000_000_000 // HOUR * HOUR
    cvds = []
    for run, (start, buys, sells) in enumerate(((t, 3.0, 1.0), (t + HOUR, 1.0, 4.0))):  # two sessions
        e = Engine(EngineSettings(), collect_facts=True)
        builder = db.BatchBuilder("demo")
        e.on_trade(trade(start + 1000, 100.0, buys, True))
        e.on_trade(trade(start + 2000, 100.0, sells, False))
        conn = db.connect(path)
        db.write_batch(conn, builder.collect(e))
        conn.close()
        cvds.append((buys - sells) * 100.0)
    conn = db.connect(path, readonly=True)
    assert db.cvd_hours(conn, group="BTC") == [(t, cvds[0]), (t + HOUR, cvds[0] + cvds[1])]
    assert db.cvd_hours(conn, since=t + HOUR, group="BTC") == [(t + HOUR, cvds[1])]
    conn.close()


# ---- a fixed three-group capture: the chart from the store, snapshots -------------------------------------

def _derived(frame: str, symbol: str, div: float, decimals: int) -> str:
    """A BTC aggTrade frame as another symbol's: price / div, size x div (a derived, not a real, market)."""
    msg = json.loads(frame)
    d = msg.get("data", msg)
    d["s"] = symbol
    d["p"] = f"{float(d['p']) / div:.{decimals}f}"
    d["q"] = f"{float(d['q']) * div:.3f}"
    if "stream" in msg:
        msg["stream"] = f"{symbol.lower()}@aggTrade"
    return json.dumps(msg)


@pytest.fixture(scope="module")
def three_groups(tmp_path_factory):
    frames = list(hftbacktest_frames("usdm_btcusdt_20240808_trades_only.txt.gz", "binance"))[-6000:]
    out = list(frames)
    out += [(t, v, _derived(f, "ETHUSDT", 20.0, 2)) for i, (t, v, f) in enumerate(frames) if i % 2 == 0]
    out += [(t, v, _derived(f, "SOLUSDT", 400.0, 3)) for i, (t, v, f) in enumerate(frames) if i % 3 == 0]
    out.sort(key=lambda x: x[0])
    return write_capture(tmp_path_factory.mktemp("markets") / "three.jsonl", out)


def capture_app(capture, store=None):
    settings = config.Settings()
    engine = Engine(settings.engine, row_divisor=10)
    engine.levels = LevelWatch(settings.alerts, settings.engine)
    return OrderflowApp(settings, engine, ReplaySource(capture, None), store_path=store, groups=list(GROUPS),
                        mode="REPLAY", clock=lambda: FROZEN)


async def finished(pilot, app):
    for _ in range(200):
        if app.source.done:
            break
        await pilot.pause(0.05)
    app.last_key = None
    app.refresh_views(even_paused=True)
    await pilot.pause()


async def test_cvd_chart_ranges_and_the_stores_hours(three_groups, tmp_path):
    path = tmp_path / "h.sqlite"
    conn = db.connect(path)
    conn.execute("INSERT INTO volume_hours VALUES ('demo', ?, 'binance', 'BTCUSDT', 'BTC', 1, 1, 0, 1000, 0)",
                 (int(FROZEN * 1000) - 5 * HOUR,))  # an hour from before a restart
    conn.commit()
    conn.close()
    app = capture_app(three_groups, store=path)
    async with app.run_test(size=(160, 50)) as pilot:
        await finished(pilot, app)
        await pilot.press("r")
        assert app.cvd_range == "4h"
        app.last_key = None
        app.refresh_views(even_paused=True)
        await pilot.pause()
        shown = text_of(app.query_one("#cvd"))
        assert "CVD 4h" in shown and "price" in shown
        await pilot.press("r", "r")
        assert app.cvd_range == "7d"
        for _ in range(100):
            await pilot.pause(0.05)
            if app.cvd_hours[1]:
                break
        app.last_key = None
        app.refresh_views(even_paused=True)
        await pilot.pause()
        shown = text_of(app.query_one("#cvd"))
        assert "per hour from the store" in shown and app.cvd_hours[1][0][1] == pytest.approx(1000.0)
        await pilot.press("r")
        assert app.cvd_range == "15m"
        await pilot.press("a", "1")  # the accumulated view's chart 1 reads the same hours: CVD beside price
        for _ in range(100):
            await pilot.pause(0.05)
            if app.acc[1] is not None:
                break
        assert app.acc[1].cvd == [(int(FROZEN * 1000) - 5 * HOUR, pytest.approx(1000.0))]


async def test_marking_the_selected_footprint_row(three_groups):
    app = capture_app(three_groups)
    async with app.run_test(size=(160, 50)) as pilot:
        await finished(pilot, app)
        await pilot.press("f", "up", "up", "m")
        grid = app.query_one("#grid")
        at = grid.selected_price
        assert app.row_offset == 2 and at is not None and at in app.engine.levels.marked["BTC"]
        assert at > snapshot(app.engine, "BTC").last_price
        await pilot.press("m")
        assert at not in app.engine.levels.marked["BTC"]


@pytest.mark.parametrize("size", [(80, 24), (120, 40), (200, 60)])
def test_comparison_snapshots(snap_compare, three_groups, size):
    app = capture_app(three_groups)

    async def run_before(pilot):
        await finished(pilot, app)
        await pilot.press("c")
        for _ in range(40):
            await pilot.pause(0.05)
            if set(table_rows(app)) == set(GROUPS):
                break
        assert set(table_rows(app)) == set(GROUPS)

    assert snap_compare(app, terminal_size=size, run_before=run_before)


async def test_ten_groups_ride_one_connection_per_venue_stream():
    """Ten groups: Binance in one combined-stream URL, OKX's requests on one socket (sent at most
    eight a second), every group's trades arrive."""
    settings = config.Settings()
    settings.feeds.venues = "binance,okx"
    groups = ["BTC", "ETH", "SOL", "XRP", "DOGE", "BNB", "ADA", "LINK", "AVAX", "SUI"]
    settings.feeds.group = ",".join(groups)
    source = LiveSource(settings, demo=True, demo_rate=200.0, demo_seed=3)
    engine = Engine(settings.engine)
    task = asyncio.create_task(source.run(engine))
    try:
        for _ in range(200):
            await asyncio.sleep(0.05)
            if {m.group for m in engine.markets.values() if m.venue == "okx"} == set(groups) and \
                    {m.group for m in engine.markets.values() if m.venue == "binance"} == set(groups):
                break
        ex = source.exchange
        assert {m.group for m in engine.markets.values()} == set(groups)
        streams = {v: len([c for c in source.connections if c.stream.name.startswith(v) and c.stream.url.startswith("ws")])
                   for v in ("binance", "okx")}  # the trade stream and, since issue 21, the depth stream
        assert ex.servers["binance"].connections == streams["binance"] <= 2
        assert ex.servers["okx"].connections == streams["okx"] <= 2
        assert ex.servers["okx"].subscribes >= len(groups) + 1  # per instrument (not per connection), liquidations
    finally:
        source.stop()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        if source.exchange is not None:
            await source.exchange.stop()


def test_the_long_cvd_chart_of_a_panel_not_laid_out_yet_draws_no_price_line():
    """A view switched to draws its panels once at width 0 (before its layout): the 4 h chart's price
    line was an IndexError there that ended the dashboard (seen in tmux: r, then h, then s)."""
    from types import SimpleNamespace

    from orderflow_tui.ui.widgets.cvd_panel import CvdPanel

    panel = CvdPanel("CVD")
    panel.show(SimpleNamespace(cvd_minutes=[(0, 1.0, 100.0), (1, 2.0, 101.0), (2, 1.5, 100.5)]), "4h")
