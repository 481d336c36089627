"""The accumulated view: the store's long memory, read in a thread every few seconds."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal

from orderflow_tui.ui.widgets.accumulated_panel import AccumulatedTotals, LiquidationChart


class AccumulatedView(Horizontal):
    def compose(self) -> ComposeResult:
        yield AccumulatedTotals("ACCUMULATED", id="acc-totals")
        yield LiquidationChart("CHART  r: 24h / 7d / 30d / all", id="acc-chart")

    def show(self, stats, hours, range_name: str, path, error: str) -> None:
        self.query_one(AccumulatedTotals).show(stats, path, error)
        self.query_one(LiquidationChart).show(hours, range_name, error)
