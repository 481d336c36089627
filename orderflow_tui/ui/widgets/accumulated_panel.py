"""ACCUMULATED: the store's totals since it was first written, and a TradingView-style chart."""

from __future__ import annotations

import time

from plotext._figure import _figure_class
from rich.text import Text
from textual.widgets import Static

from orderflow_tui.store.report import format_stats

RANGES = {"24h": 24, "7d": 24 * 7, "30d": 24 * 30, "all": None}


class AccumulatedTotals(Static):
    DEFAULT_CSS = "AccumulatedTotals { height: auto; }"

    def show(self, stats: dict | None, path, error: str = "") -> None:
        if error:
            self.update(Text(error, style="bold red"))
        elif stats is None:
            self.update("reading the store…")
        else:
            self.update(Text(format_stats(stats, path)))


class LiquidationChart(Static):
    """Price on top, volume under it, liquidation bars below (longs down, shorts up), per hour."""

    DEFAULT_CSS = "LiquidationChart { height: 1fr; min-height: 12; }"

    def show(self, hours: list[tuple], range_name: str) -> None:
        width, height = max(40, self.size.width), max(12, self.size.height)
        if not hours:
            self.update(f"{range_name}: no hourly data in the store yet")
            return
        fig = _figure_class()  # this widget's own figure: plotext's global one is shared state
        fig.subplots(3, 1)
        xs = list(range(len(hours)))
        prices = [h[5] for h in hours]
        known = [(x, p) for x, p in zip(xs, prices) if p > 0]
        top = fig.subplot(1, 1)
        top.title(f"price (hourly VWAP) · volume · liquidations  [{range_name}]")
        if known:
            top.plot([x for x, _ in known], [p for _, p in known], color="cyan")
        mid = fig.subplot(2, 1)
        mid.bar(xs, [(h[3] + h[4]) / 1e6 for h in hours], color="gray")
        mid.ylabel("vol $M")
        low = fig.subplot(3, 1)
        low.bar(xs, [h[2] / 1e6 for h in hours], color="green")  # shorts liquidated: up
        low.bar(xs, [-h[1] / 1e6 for h in hours], color="red")  # longs liquidated: down
        low.ylabel("liq $M")
        step = max(1, len(hours) // 6)
        ticks = xs[::step]
        labels = [time.strftime("%m%d %H:00", time.gmtime(hours[i][0] / 1000)) for i in ticks]
        for sub in (top, mid, low):
            sub.xticks(ticks, labels)
        fig.plotsize(width, height)
        fig.theme("clear")
        self.update(Text.from_ansi(fig.build()))
