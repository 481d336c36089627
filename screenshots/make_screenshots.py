"""Screenshots of the dashboard, made from a replay (never by hand).

The capture: the real Binance USD-M BTCUSDT trade recording in ../shared/data (hftbacktest), plus
liquidation frames in each venue's documented format placed in its last minute (no real
liquidation frame was recorded). One SVG per theme, view and size (120x40 and 200x60), plus the
narrow layout at 80x24 and the accumulated view; and the simulated market of `demo` with all six
venues (the MARKET panel filled):

    python screenshots/make_screenshots.py
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

from captures import hftbacktest_frames, write_capture  # noqa: E402
from liquidation_capture import liquidation_frames  # noqa: E402

from orderflow_tui import config  # noqa: E402
from orderflow_tui.engine.engine import Engine  # noqa: E402
from orderflow_tui.feeds.replay_source import ReplaySource  # noqa: E402
from orderflow_tui.ui.app import OrderflowApp  # noqa: E402

SHOTS = [(theme, view, size) for theme in ("dark", "light", "colorblind") for view in ("snapshot", "footprint")
         for size in ((120, 40), (200, 60))] + [("dark", "snapshot", (80, 24)), ("dark", "accumulated", (160, 50))]


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


def main() -> None:
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


if __name__ == "__main__":
    main()
