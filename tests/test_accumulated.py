"""The accumulated view as the analysis desk, through Textual's Pilot: every chart (keys 1-8) on a
year store and on one hour of data at 200x60 and 120x40 (text snapshots: `--snapshot-update`
after a deliberate change, then read the diff), the summary whole at three sizes, r and g, and the
time the view takes to open on a year and to draw each chart (guards against a hang or a read
repeated per key, 10x the targets: on a shared 2-core machine a timed assert at the target itself
fails at random; benchmarks/accumulated.py measures against the targets, beside a baseline)."""

import time
from pathlib import Path

import pytest

from orderflow_tui import config
from orderflow_tui.engine.engine import Engine
from orderflow_tui.ui.app import OrderflowApp
from orderflow_tui.ui.widgets.chart_grid import Y_LABEL
from year_store import build_hour_store, build_year_store

FROZEN = 1_723_161_600.0  # 20240809 00:00 UTC, as tests/test_app.py
END = int(FROZEN * 1000)
SIZES = [(200, 60), (120, 40)]


@pytest.fixture(scope="module")
def year_db(tmp_path_factory):
    return build_year_store(tmp_path_factory.mktemp("acc") / "year.sqlite", END)


@pytest.fixture(scope="module")
def hour_db(tmp_path_factory):
    return build_hour_store(tmp_path_factory.mktemp("acc") / "hour.sqlite", END)


def make_app(db, theme="dark"):
    settings = config.Settings()
    settings.ui.theme = theme
    return OrderflowApp(settings, Engine(settings.engine), None, store_path=db, groups=["BTC"], mode="LIVE",
                        clock=lambda: FROZEN)


def text_of(widget) -> str:
    return "\n".join(widget.render_line(y).text.rstrip() for y in range(widget.size.height))


async def open_view(pilot, app, range_presses=0):
    """Press a (and r), wait for the store read; returns the seconds until the chart showed it."""
    t0 = time.perf_counter()
    await pilot.press("a", *["r"] * range_presses)
    app.acc_read_at = 0.0
    app.refresh_views()
    for _ in range(400):
        await pilot.pause(0.02)
        data = app.acc[1]
        if data is not None and data.range_name == app.range_name and "reading" not in text_of(
                app.query_one("#acc-chart")):
            return time.perf_counter() - t0
    raise AssertionError(("the store was never read", app.acc[2]))


async def charts_at(pilot, app, size) -> dict:
    await pilot.resize_terminal(*size)
    await pilot.pause()
    out = {}
    for n in range(1, 9):
        t0 = time.perf_counter()
        await pilot.press(str(n))
        await pilot.pause()
        drawn = time.perf_counter() - t0
        assert app.chart == n
        chart = app.query_one("#acc-chart")
        text = text_of(chart)
        assert text.splitlines()[0].startswith(f"{n} "), text[:200]
        out[n] = (text, drawn)
    return out


async def test_every_chart_on_a_year_store(year_db, snapshot):
    app = make_app(year_db)
    app.range_name = "all"
    async with app.run_test(size=SIZES[0]) as pilot:
        opened = await open_view(pilot, app)
        assert app.range_name == "all" and opened < 10.0, opened  # a guard; the target (1 s): the benchmark
        data = app.acc[1]
        assert len(data.desk.days()) >= 364 and data.desk.cascades
        for size in SIZES:
            for n, (text, drawn) in (await charts_at(pilot, app, size)).items():
                assert drawn < 3.0, (n, size, drawn)  # a guard; the target (300 ms): the benchmark
                assert text == snapshot(name=f"year-{size[0]}x{size[1]}-chart{n}")
        totals = app.query_one("#acc-totals")
        for size in ((120, 40), (160, 50), (200, 60)):  # the summary's lines are whole at each size
            await pilot.resize_terminal(*size)
            await pilot.pause()
            text = text_of(totals)
            assert "…" not in text and "TOTAL " in text and "BY VENUE" in text, (size, text)
        table = text_of(app.query_one("#acc-cascades"))
        biggest = max(data.desk.cascades, key=lambda c: c["quote"])
        assert table.splitlines()[1].startswith(time.strftime("%Y%m%d %H:%M", time.gmtime(biggest["start_ts"] / 1000)))


async def test_one_hour_of_data_is_one_hour_wide_and_said(hour_db, snapshot):
    app = make_app(hour_db)
    async with app.run_test(size=SIZES[0]) as pilot:
        await pilot.press("3")  # digits act only in the accumulated view
        assert app.chart == 1 and app.view == "snapshot"
        await open_view(pilot, app)
        assert app.range_name == "24h"
        for size in SIZES:
            charts = await charts_at(pilot, app, size)
            for n, (text, _) in charts.items():
                assert text == snapshot(name=f"hour-{size[0]}x{size[1]}-chart{n}")
                if n not in (6, 8):
                    assert "1 hour of data in this 24h range" in text, (n, text[:300])
            plot_w = app.query_one("#acc-chart").size.width - Y_LABEL
            bars = charts[1][0].splitlines()
            widest = len({x for line in bars[2:-2] for x, ch in enumerate(line[Y_LABEL:]) if ch in "█▀"})
            assert 0 < widest <= plot_w // 24 + 2, (widest, plot_w)  # one hour of 24, not the whole plot
        await pilot.press("r")
        assert app.range_name == "7d"
        await open_view(pilot, app)
        assert "1 hour of data in this 7d range" in text_of(app.query_one("#acc-chart"))
        await pilot.press("g")
        assert app.group == "BTC"  # the only group stored


def test_heatmap_in_the_colourblind_theme(snap_compare, year_db, monkeypatch):
    """Shaded cells with a density glyph and a legend: readable without colour."""
    monkeypatch.chdir(year_db.parent)  # the summary names the store: the same name on every run
    app = make_app(Path(year_db.name), theme="colorblind")

    async def run_before(pilot):
        await open_view(pilot, app, range_presses=1)
        await pilot.press("2")
        await pilot.pause()

    assert snap_compare(app, terminal_size=(120, 40), run_before=run_before)
