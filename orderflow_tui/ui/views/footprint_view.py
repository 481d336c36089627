"""The footprint detail view: the ladder of a chosen bar beside the session and visible profiles."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll

from orderflow_tui.ui.views.snapshot_view import panel
from orderflow_tui.ui.widgets.footprint_ladder import FootprintLadder
from orderflow_tui.ui.widgets.volume_profile import VolumeProfile


class FootprintView(Horizontal):
    def compose(self) -> ComposeResult:
        with VerticalScroll(id="ladder-scroll"):
            yield panel(FootprintLadder(id="ladder"), "FOOTPRINT DETAIL  ←/→ bar  home/end", "p-ladder")
        with VerticalScroll(id="profiles"):
            yield panel(VolumeProfile(id="vpsv"), "SESSION PROFILE", "p-vpsv")
            yield panel(VolumeProfile(id="vpvr"), "VISIBLE PROFILE", "p-vpvr")

    def show(self, snap, offset: int) -> None:
        bars = snap.bars
        bar = bars[max(0, len(bars) - 1 - offset)] if bars else None
        self.query_one(FootprintLadder).show(snap, bar)
        self.query_one("#vpsv", VolumeProfile).show(snap, snap.session_profile, "session (since start)",
                                                    snap.base_scale)
        self.query_one("#vpvr", VolumeProfile).show(snap, snap.visible_profile,
                                                    f"visible bars ({len(bars)})", snap.scale)
