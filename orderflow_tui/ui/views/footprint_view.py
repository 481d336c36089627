"""The footprint detail view: the bid × ask grid of the recent bars beside the session and visible
profiles (the profiles give their room to the grid on a narrow terminal)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical

from orderflow_tui.ui.widgets.footprint_grid import CELL_W, PRICE_W, FootprintGrid
from orderflow_tui.ui.widgets.volume_profile import VolumeProfile


class FootprintView(Horizontal):
    def compose(self) -> ComposeResult:
        yield FootprintGrid("FOOTPRINT DETAIL", id="grid")
        with Vertical(id="profiles"):
            yield VolumeProfile("SESSION PROFILE", id="vpsv")
            yield VolumeProfile("VISIBLE PROFILE", id="vpvr")

    def bars_wanted(self, offset: int) -> int:
        return max(1, (self.query_one(FootprintGrid).cols - PRICE_W) // (CELL_W + 1)) + offset

    def show(self, snap, offset: int, waiting: str, no_bars: str) -> None:
        profiles = self.query_one("#profiles").display
        if snap is None:
            for panel in self.query(".panel"):
                panel.waiting(waiting)
            return
        self.query_one(FootprintGrid).show(snap, offset, no_bars)
        if profiles:
            self.query_one("#vpsv", VolumeProfile).show(snap.session_profile, "session (since start)",
                                                        snap.base_scale)
            self.query_one("#vpvr", VolumeProfile).show(snap.visible_profile, f"visible bars ({len(snap.bars)})",
                                                        snap.scale)
