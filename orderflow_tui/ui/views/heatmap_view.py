"""The heatmap view: the group's resting book over time (h), the full width of the screen."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical

from orderflow_tui.ui.widgets.book_heatmap import BookHeatmap


class HeatmapView(Vertical):
    def compose(self) -> ComposeResult:
        yield BookHeatmap("HEATMAP", id="heatmap-panel")

    def show(self, ring, group: str, factor: int, offset: int, coin: str, newest: str = "live", empty: str = "") -> None:
        self.query_one(BookHeatmap).show(ring, group, factor, offset, coin, newest, empty)
