"""The floor the dashboard is measured against: the same simulated feeds and engine, eight panels
with comparable content (figures, a footprint tape, liquidation tape, whales, venues, alerts)
drawn with Textual's Line API as cheaply as we know how: plain formatted lines, cached strips,
only changed lines refreshed, no layout after start. Run by benchmarks/dashboard.py in tmux.

    python benchmarks/floor_app.py [--rate 50]
"""

from __future__ import annotations

import argparse

from rich.segment import Segment
from textual.app import App, ComposeResult
from textual.containers import Horizontal
from textual.geometry import Region
from textual.strip import Strip
from textual.widget import Widget

from orderflow_tui import config
from orderflow_tui.engine.engine import Engine
from orderflow_tui.engine.snapshot import snapshot
from orderflow_tui.feeds.session import LiveSource


class Floor(Widget):
    DEFAULT_CSS = "Floor { border: round $panel-lighten-2; height: 1fr; width: 1fr; }"

    def __init__(self, title: str) -> None:
        super().__init__()
        self.border_title = title
        self.lines: list[str] = []
        self.strips: dict[int, Strip] = {}

    def set_lines(self, lines: list[str]) -> None:
        old, self.lines = self.lines, lines
        dirty = [y for y in range(max(len(old), len(lines))) if y >= len(old) or y >= len(lines) or old[y] != lines[y]]
        for y in dirty:
            self.strips.pop(y, None)
        if dirty:
            self.refresh(*(Region(0, y, self.size.width, 1) for y in dirty))

    def render_line(self, y: int) -> Strip:
        strip = self.strips.get(y)
        if strip is None:
            text = self.lines[y] if y < len(self.lines) else ""
            strip = self.strips[y] = Strip([Segment(text, self.rich_style)]).crop_extend(0, self.size.width,
                                                                                         self.rich_style)
        return strip


class FloorApp(App):
    CSS = "Horizontal { height: 1fr; } #top { height: 8; } #mid { height: 3fr; } #low { height: 2fr; }"

    def __init__(self, rate: float) -> None:
        super().__init__()
        self.settings = config.Settings()
        self.engine = Engine(self.settings.engine, venues_tracked=3, row_divisor=10)
        self.source = LiveSource(self.settings, demo=True, demo_rate=rate)
        self.panels = {name: Floor(name) for name in ("SIGNAL", "CVD", "PRESSURE", "FOOTPRINT", "LIQUIDATIONS",
                                                      "WHALES", "EXCHANGES", "ALERTS")}

    def compose(self) -> ComposeResult:
        p = self.panels
        for row, names in (("top", ("SIGNAL", "CVD", "PRESSURE")), ("mid", ("FOOTPRINT", "LIQUIDATIONS")),
                           ("low", ("WHALES", "EXCHANGES", "ALERTS"))):
            with Horizontal(id=row):
                for n in names:
                    yield p[n]

    async def on_mount(self) -> None:
        await self.source.prepare()
        for c in self.source.build(self.engine):
            self.run_worker(c.run(), group=c.stream.name, exit_on_error=False)
        self.run_worker(self.source.clock(self.engine), exit_on_error=False)
        self.set_interval(1 / 5, self.tick)

    def tick(self) -> None:
        s = snapshot(self.engine, "BTC", bars=self.panels["FOOTPRINT"].size.height)
        if s is None:
            return
        p, liq = self.panels, s.liquidations
        p["SIGNAL"].set_lines([f"{s.signal.direction} {s.signal.confidence} {s.signal.score:+d}",
                               ", ".join(s.signal.triggers), *s.signal.reasons])
        p["CVD"].set_lines([f"CVD {s.cvd_quote:,.0f} ({s.cvd_base:+.4f})", f"net {s.net_pct:+.1f}% {s.cvd_direction}",
                            f"momentum {s.momentum:+.4f} accel {s.acceleration:+.4f}"])
        p["PRESSURE"].set_lines([f"BUY {s.pressure.buy_pct:5.1f}% {s.pressure.buy_q:,.0f}",
                                 f"SELL {s.pressure.sell_pct:5.1f}% {s.pressure.sell_q:,.0f}",
                                 f"net {s.pressure.net:+.1f} {s.pressure.strength}"])
        p["FOOTPRINT"].set_lines([f"{b.open_ts} {b.close:10.2f} {b.bid:9.4f} {b.ask:9.4f} {b.delta:+9.4f} "
                                  f"{b.cvd:+9.4f} {len(b.rows):4d}" for b in s.bars])
        p["LIQUIDATIONS"].set_lines([f"long {liq.long[0]} {liq.long[2]:,.0f}  short {liq.short[0]} {liq.short[2]:,.0f}",
                                     *(f"{x.ts} {x.venue:8} {x.position:5} {x.qty:10.4f} {x.quote:10,.0f}"
                                       for x in liq.tape[:30])])
        p["WHALES"].set_lines([f"{w.ts} {w.venue:8} {w.quote:12,.0f} {w.qty:.4f}@{w.price:.2f}" for w in s.whales[:20]])
        p["EXCHANGES"].set_lines([f"{v.venue:8} {v.buy_q:12,.0f} {v.sell_q:12,.0f} {v.net_pct:+6.1f} {v.dominance:5.1f}"
                                  for v in s.venues])
        p["ALERTS"].set_lines([f"{a.ts} {a.severity:7} {a.text}" for a in s.alerts[:20]])


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--rate", type=float, default=50.0)
    FloorApp(ap.parse_args().rate).run()
