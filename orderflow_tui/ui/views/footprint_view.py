"""The footprint detail view: the bid × ask grid of the recent bars, the DOM ladder of the resting
book, and the session and visible profiles (the profiles give their room on a narrow terminal)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical

from orderflow_tui.ui.widgets.dom_ladder import DomLadder
from orderflow_tui.ui.widgets.footprint_grid import CELL_W, PRICE_W, FootprintGrid
from orderflow_tui.ui.widgets.volume_profile import VolumeProfile


class FootprintView(Horizontal):
    def compose(self) -> ComposeResult:
        yield FootprintGrid("FOOTPRINT DETAIL", id="grid")
        yield DomLadder("DOM", id="dom")
        with Vertical(id="profiles"):
            yield VolumeProfile("SESSION PROFILE", id="vpsv")
            yield VolumeProfile("VISIBLE PROFILE", id="vpvr")

    def bars_wanted(self, offset: int) -> int:
        return max(1, (self.query_one(FootprintGrid).cols - PRICE_W) // (CELL_W + 1)) + offset

    def show(self, snap, offset: int, waiting: str, no_bars: str, row_offset: int = 0, marked=()) -> None:
        profiles = self.query_one("#profiles").display
        if snap is None:
            for panel in self.query(".panel"):
                panel.waiting(waiting)
            return
        self.query_one(FootprintGrid).show(snap, offset, no_bars, row_offset, marked)
        if profiles:
            self.query_one("#vpsv", VolumeProfile).show(snap.session_profile, "session (since start)",
                                                        snap.base_scale)
            self.query_one("#vpvr", VolumeProfile).show(snap.visible_profile, f"visible bars ({len(snap.bars)})",
                                                        snap.scale)

    def show_dom(self, snap, books, now: float, stale_s: float, per_venue: bool, offset: int, walls,
                 reading: str = "") -> None:
        self.set_class(per_venue, "dom-venues")  # one column pair per venue takes the profiles' room
        dom = self.query_one(DomLadder)
        if dom.display != bool(books):  # no book at all (a trades-only capture): the grid keeps the room
            dom.display = bool(books)
        if snap is not None and books:
            dom.show(snap, books, now, stale_s, per_venue, offset, walls, reading)
