"""The accumulated view: the store's long memory, read in a thread every few seconds."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll

from orderflow_tui.ui.views.snapshot_view import panel
from orderflow_tui.ui.widgets.accumulated_panel import AccumulatedTotals, LiquidationChart


class AccumulatedView(Horizontal):
    def compose(self) -> ComposeResult:
        with VerticalScroll(id="acc-left"):
            yield panel(AccumulatedTotals(id="acc-totals"), "ACCUMULATED", "p-acc")
        yield panel(LiquidationChart(id="acc-chart"), "CHART  r: 24h / 7d / 30d / all", "p-chart")

    def show(self, stats, hours, range_name: str, path, error: str) -> None:
        self.query_one(AccumulatedTotals).show(stats, path, error)
        self.query_one(LiquidationChart).show(hours, range_name)
