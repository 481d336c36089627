"""The dashboard through Textual's Pilot: every key, numbers on screen equal the engine's, and
snapshots at three terminal sizes on a fixed capture with a frozen clock."""


import pytest

from captures import hftbacktest_frames, write_capture
from liquidation_capture import liquidation_frames
from orderflow_tui import config
from orderflow_tui.engine.engine import Engine
from orderflow_tui.engine.snapshot import snapshot
from orderflow_tui.feeds.replay_source import ReplaySource
from orderflow_tui.ui.app import OrderflowApp
from orderflow_tui.ui.format import money
from orderflow_tui.ui.screens.help import HelpScreen

FROZEN = 1_723_161_600.0


@pytest.fixture(scope="module")
def capture(tmp_path_factory):
    frames = list(hftbacktest_frames("usdm_btcusdt_20240808_trades_only.txt.gz", "binance"))
    t_last = frames[-1][0]
    liqs = list(liquidation_frames(8, t0=t_last - 60_000, gap=(500, 1500)))  # in the capture's last minute
    return write_capture(tmp_path_factory.mktemp("ui") / "ui.jsonl", frames + liqs)


def make_app(capture, tmp_path=None):
    settings = config.Settings()
    engine = Engine(settings.engine, row_divisor=10)
    source = ReplaySource(capture, None)
    return OrderflowApp(settings, engine, source, groups=["BTC"], mode="REPLAY", clock=lambda: FROZEN)


async def finished(pilot, app):
    for _ in range(200):
        if app.source.done:
            break
        await pilot.pause(0.05)
    app.last_key = None
    app.refresh_views()
    await pilot.pause()


def text_of(widget) -> str:
    """What a widget shows, as plain text, line by line."""
    return "\n".join(widget.render_line(y).text for y in range(widget.size.height))


async def test_numbers_on_screen_are_the_engines(capture):
    app = make_app(capture)
    async with app.run_test(size=(160, 50)) as pilot:
        await finished(pilot, app)
        snap = snapshot(app.engine, "BTC")
        assert app.engine.markets["binance:BTCUSDT"].trades == 21313
        assert f"CVD {money(snap.cvd_quote, signed=True)}" in text_of(app.query_one("#cvd-figures"))
        pressure = text_of(app.query_one("#pressure"))
        assert f"BUY {snap.pressure.buy_pct:5.1f}%" in pressure and f"SELL {snap.pressure.sell_pct:5.1f}%" in pressure
        signal = text_of(app.query_one("#signal"))
        assert snap.signal.direction in signal and "not trading advice" in signal
        last = snap.bars[-1]
        table = app.query_one("#footprint-table")
        assert table.get_row(str(last.open_ts))[1] == f"{last.close:,.2f}"
        venue = next(v for v in snap.venues if v.venue == "binance")
        assert f"{venue.dominance:.1f}" in text_of(app.query_one("#exchanges"))
        titles = {p.border_title.split(" ")[0] for p in app.query(".panel") if p.border_title}
        assert {"SIGNAL", "CVD", "PRESSURE", "FOOTPRINT", "LIQUIDATIONS", "WHALES", "EXCHANGES", "ALERTS"} <= titles
        assert "REPLAY" in text_of(app.query_one("#top"))


async def test_every_key(capture):
    app = make_app(capture)
    async with app.run_test(size=(160, 50)) as pilot:
        await finished(pilot, app)
        switcher = app.query_one("#views")
        for key, view in (("f", "footprint"), ("a", "accumulated"), ("s", "snapshot"), ("tab", "footprint"),
                          ("tab", "accumulated"), ("tab", "snapshot")):
            await pilot.press(key)
            assert switcher.current == view == app.view
        g = app.engine.groups["BTC"]
        await pilot.press("b")
        assert g.view_setting == "5m"
        await pilot.press("B")
        assert g.view_setting == "1m"
        step = g.view_step
        await pilot.press("plus")
        assert g.view_step > step
        await pilot.press("minus")
        assert g.view_step == step
        await pilot.press("f", "left", "left")
        assert app.bar_offset == 2
        await pilot.press("right", "end")
        assert app.bar_offset == 0
        await pilot.press("home")
        assert app.bar_offset == 39
        await pilot.press("a", "r")
        assert app.range_name == "7d"
        await pilot.press("p")
        assert app.paused
        rendered = app.rendered
        app.refresh_views()
        assert app.rendered == rendered  # paused: nothing redrawn
        await pilot.press("space")
        assert not app.paused
        theme = app.theme
        await pilot.press("t")
        assert app.theme != theme and app.theme in app.theme_names
        await pilot.press("n")
        assert app.bell_on
        await pilot.press("g")
        assert app.group == "BTC"  # the only group in the capture
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)
        await pilot.press("q")
    assert app.return_code == 0 or app.return_code is None


async def test_liquidations_on_screen(capture):
    app = make_app(capture)
    async with app.run_test(size=(200, 60)) as pilot:
        await finished(pilot, app)
        liq = snapshot(app.engine, "BTC").liquidations
        assert liq.long[0] + liq.short[0] == 8
        shown = text_of(app.query_one("#liquidations"))
        assert "Last 60 min: 8 events" in shown and f"{money(liq.long[2])}" in shown


async def test_venue_text_is_escaped(tmp_path):
    frame = ('{"topic":"publicTrade.[b]EVIL[/b]USDT","data":[{"T":1723161600000,"s":"[red]X[/]USDT","S":"Buy",'
             '"v":"1","p":"10","i":"a"}]}')
    cap = write_capture(tmp_path / "evil.jsonl", [(1723161600000, "bybit", frame)])
    app = make_app(cap)
    app.groups = ["[RED]X[/]"]
    app.group = "[RED]X[/]"
    async with app.run_test(size=(120, 40)) as pilot:
        await finished(pilot, app)  # markup in a symbol must neither crash nor style the screen
        assert "[RED]X[/]" in text_of(app.query_one("#top"))


@pytest.mark.parametrize("size", [(80, 24), (120, 40), (200, 60)])
def test_snapshots(snap_compare, capture, size):
    app = make_app(capture)

    async def run_before(pilot):
        await finished(pilot, app)

    assert snap_compare(app, terminal_size=size, run_before=run_before)


def test_footprint_view_snapshot(snap_compare, capture):
    app = make_app(capture)

    async def run_before(pilot):
        await finished(pilot, app)
        await pilot.press("f")
        await pilot.pause()

    assert snap_compare(app, terminal_size=(120, 40), run_before=run_before)
