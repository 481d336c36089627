"""Screenshots of the dashboard, made from a replay (never by hand).

The capture: the real Binance USD-M BTCUSDT trade recording in ../shared/data (hftbacktest), plus
liquidation frames in each venue's documented format placed in its last minute (no real
liquidation frame was recorded). One SVG per theme, view and size (120x40 and 200x60), plus the
narrow layout at 80x24; every accumulated chart on a store of a year of liquidations (the store of
tests/year_store.py) and on one hour; and the simulated market of `demo` with all six venues (the
MARKET panel filled); the comparison view (`c`) on ten groups of the simulated market; and the
order books (the DOM ladder and the heatmap) from the real Binance USD-M recording with its depth stream and REST snapshot (hftbacktest's usdm_btcusdt_20240808, six
minutes), replayed with the books sampled once per exchange second:

    python screenshots/make_screenshots.py [accumulated | books | markets]
"""

from __future__ import annotations

import asyncio
import gzip
import json
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

from captures import DATA, hftbacktest_frames, write_capture  # noqa: E402
from liquidation_capture import liquidation_frames  # noqa: E402

from orderflow_tui import config  # noqa: E402
from orderflow_tui.engine.engine import Engine  # noqa: E402
from orderflow_tui.feeds.replay_source import ReplaySource  # noqa: E402
from orderflow_tui.ui.app import OrderflowApp  # noqa: E402

SHOTS = [(theme, view, size) for theme in ("dark", "light", "colorblind") for view in ("snapshot", "footprint")
         for size in ((120, 40), (200, 60))] + [("dark", "snapshot", (80, 24))]


async def shoot(capture: Path, theme: str, view: str, size: tuple[int, int]) -> str:
    settings = config.Settings()
    settings.ui.theme = theme
    app = OrderflowApp(settings, Engine(settings.engine, row_divisor=10), ReplaySource(capture, None),
                       groups=["BTC"], mode="REPLAY", clock=lambda: 1_723_161_600.0)
    async with app.run_test(size=size) as pilot:
        while not app.source.done:
            await pilot.pause(0.05)
        if view != "snapshot":
            await pilot.press(view[0])
        app.last_key = None
        app.refresh_views()
        await pilot.pause(0.2)
        return app.export_screenshot(title=f"orderflow-tui · {view} · {theme}")


async def shoot_demo(size: tuple[int, int], seconds: float = 75.0) -> str:
    """The six venues of the simulated market with the MARKET panel filled (demo, not a replay)."""
    from orderflow_tui.feeds.session import LiveSource

    settings = config.Settings()
    settings.feeds.venues = "binance,bybit,okx,coinbase,hyperliquid,bitget"
    engine = Engine(settings.engine, venues_tracked=6, row_divisor=10)
    app = OrderflowApp(settings, engine, LiveSource(settings, demo=True, demo_rate=60.0), groups=["BTC"],
                       mode="SIMULATED DATA")
    async with app.run_test(size=size) as pilot:
        await pilot.pause(seconds)  # past the signal's warm-up, with a 1 min open-interest change
        app.last_key = None
        app.refresh_views()
        await pilot.pause(0.3)
        return app.export_screenshot(title="orderflow-tui · demo, six venues")


async def shoot_chart(db: Path, chart: int, size: tuple[int, int], range_name: str, theme: str = "dark") -> str:
    """The accumulated view on a store (charts 1-8), the clock at the store's end."""
    settings = config.Settings()
    settings.ui.theme = theme
    app = OrderflowApp(settings, Engine(settings.engine), None, store_path=Path(db.name), groups=["BTC"],
                       mode="LIVE", clock=lambda: YEAR_END / 1000)
    app.range_name = range_name
    async with app.run_test(size=size) as pilot:
        await pilot.press("a", str(chart))
        while app.acc[1] is None and not app.acc[2]:
            await pilot.pause(0.05)
        app.last_key = None
        app.refresh_views()
        await pilot.pause(0.2)
        return app.export_screenshot(title=f"orderflow-tui · accumulated · chart {chart} · {range_name}")


YEAR_END = 1_723_161_600_000  # 20240809 00:00 UTC


def charts() -> None:
    """Every accumulated chart on a year of liquidations (200x60, range all; the heatmap also in the
    colour-blind theme at 120x40), and chart 1 with one hour of data (120x40, range 24h)."""
    import os

    from year_store import build_hour_store, build_year_store

    with tempfile.TemporaryDirectory() as tmp:
        year = build_year_store(Path(tmp) / "year.sqlite", YEAR_END)
        hour = build_hour_store(Path(tmp) / "hour.sqlite", YEAR_END)
        here = os.getcwd()
        os.chdir(tmp)  # the summary names the store file: year.sqlite, not a temporary path
        try:
            shots = [(year, n, (200, 60), "all", "dark") for n in range(1, 9)]
            shots += [(year, 2, (120, 40), "30d", "colorblind"), (hour, 1, (120, 40), "24h", "dark")]
            for db, n, size, rng, theme in shots:
                name = f"accumulated-chart{n}-{db.stem}-{theme}-{size[0]}x{size[1]}.svg"
                (HERE / name).write_text(asyncio.run(shoot_chart(db, n, size, rng, theme)), encoding="utf-8")
                print("wrote", HERE / name)
        finally:
            os.chdir(here)


BOOK_SHOTS = [("dark", "footprint", (200, 60)), ("dark", "heatmap", (200, 60)), ("dark", "footprint", (120, 40)),
              ("dark", "heatmap", (120, 40)), ("light", "heatmap", (120, 40)), ("colorblind", "heatmap", (120, 40))]


def book_capture(path: Path) -> Path:
    """The whole recording: trades, depth frames, and its REST snapshot as a "k": "book" line."""
    with gzip.open(DATA / "hftbacktest" / "usdm_btcusdt_20240808.gz", "rt") as fh, open(path, "w") as out:
        out.write(json.dumps({"capture": "orderflow-tui", "version": 1, "started_ms": 0, "instruments": {}}) + "\n")
        for line in fh:
            ns, _, frame = line.rstrip("\n").partition(" ")
            t = int(ns) // 1_000_000
            if frame.startswith('{"lastUpdateId"'):
                out.write(json.dumps({"t": t, "x": "binance", "k": "book", "m": "binance:BTCUSDT", "f": frame}) + "\n")
            else:
                out.write(json.dumps({"t": t, "x": "binance", "f": frame}) + "\n")
    return path


async def shoot_books(capture: Path, theme: str, view: str, size: tuple[int, int]) -> str:
    from orderflow_tui.capture import CaptureReader
    from orderflow_tui.replay import replay_capture

    settings = config.Settings()
    settings.ui.theme = theme
    engine = Engine(settings.engine, row_divisor=10)
    app = OrderflowApp(settings, engine, None, groups=["BTC"], mode="REPLAY", clock=lambda: 1_723_161_600.0)
    async with app.run_test(size=size) as pilot:
        app.books_timer.pause()  # sampled below, once per second of the recording
        seen = [0]

        def on_frame(t_ms, venue) -> None:
            sec = engine.now // 1000
            if sec != seen[0] and engine.books:
                seen[0] = sec
                app.book_watch.sample(engine, time.monotonic())

        with CaptureReader(capture) as reader:
            replay_capture(reader, engine, on_frame=on_frame)
        app.book_watch.sample(engine, time.monotonic())
        await pilot.press(view[0])
        app.last_key = None
        app.refresh_views()
        await pilot.pause(0.3)
        app.last_key = None
        app.refresh_views()
        await pilot.pause(0.2)
        what = "DOM ladder" if view == "footprint" else "heatmap"
        return app.export_screenshot(title=f"orderflow-tui · {what} · {theme} · Binance USD-M BTCUSDT, real depth")


def books() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        capture = book_capture(Path(tmp) / "books.jsonl")
        for theme, view, size in BOOK_SHOTS:
            svg = asyncio.run(shoot_books(capture, theme, view, size))
            name = f"books-{'ladder' if view == 'footprint' else 'heatmap'}-{theme}-{size[0]}x{size[1]}.svg"
            (HERE / name).write_text(svg, encoding="utf-8")
            print("wrote", HERE / name)


async def shoot_markets(size: tuple[int, int], seconds: float = 100.0) -> str:
    """The comparison view on ten groups of the simulated market (three venues)."""
    from orderflow_tui.engine.levels import LevelWatch
    from orderflow_tui.feeds.session import LiveSource

    settings = config.Settings()
    groups = ["BTC", "ETH", "SOL", "XRP", "DOGE", "BNB", "ADA", "LINK", "AVAX", "SUI"]
    settings.feeds.group = ",".join(groups)
    engine = Engine(settings.engine, venues_tracked=3, row_divisor=10)
    engine.levels = LevelWatch(settings.alerts, settings.engine)
    app = OrderflowApp(settings, engine, LiveSource(settings, demo=True, demo_rate=60.0), groups=groups,
                       mode="SIMULATED DATA", view="compare")
    async with app.run_test(size=size) as pilot:
        await pilot.pause(seconds)  # past the warm-up, with a 1 min open-interest change
        await pilot.press("o")  # by liquidations
        app.last_key = None
        app.refresh_views()
        await pilot.pause(0.3)
        return app.export_screenshot(title="orderflow-tui · markets (c) · demo, ten groups")


def main() -> None:
    if sys.argv[1:] == ["accumulated"]:  # only the accumulated charts (a few seconds)
        charts()
        return
    if sys.argv[1:] == ["books"]:  # only the order books (about 30 s)
        books()
        return
    if sys.argv[1:] == ["markets"]:  # only the comparison view (about 100 s of demo)
        name = "markets-dark-200x60.svg"
        (HERE / name).write_text(asyncio.run(shoot_markets((200, 60))), encoding="utf-8")
        print("wrote", HERE / name)
        return
    charts()
    books()
    frames = list(hftbacktest_frames("usdm_btcusdt_20240808_trades_only.txt.gz", "binance"))
    frames += list(liquidation_frames(12, t0=frames[-1][0] - 90_000, gap=(2000, 9000)))
    with tempfile.TemporaryDirectory() as tmp:
        capture = write_capture(Path(tmp) / "shots.jsonl", sorted(frames, key=lambda f: f[0]))
        for theme, view, size in SHOTS:
            svg = asyncio.run(shoot(capture, theme, view, size))
            name = f"{view}-{theme}-{size[0]}x{size[1]}.svg"
            (HERE / name).write_text(svg, encoding="utf-8")
            print("wrote", HERE / name)
    name = "demo-six-venues-200x60.svg"
    (HERE / name).write_text(asyncio.run(shoot_demo((200, 60))), encoding="utf-8")
    print("wrote", HERE / name)
    name = "markets-dark-200x60.svg"
    (HERE / name).write_text(asyncio.run(shoot_markets((200, 60))), encoding="utf-8")
    print("wrote", HERE / name)


if __name__ == "__main__":
    main()
