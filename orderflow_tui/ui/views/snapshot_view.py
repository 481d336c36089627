"""The snapshot view: right now, at a glance. Panels titled so they can be found."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll

from orderflow_tui.ui.widgets.alert_log import AlertLog
from orderflow_tui.ui.widgets.cvd_panel import CvdPanel
from orderflow_tui.ui.widgets.exchange_table import ExchangeTable
from orderflow_tui.ui.widgets.footprint_table import FootprintTable
from orderflow_tui.ui.widgets.liquidation_panel import LiquidationPanel
from orderflow_tui.ui.widgets.pressure_bar import PressureBar
from orderflow_tui.ui.widgets.signal_card import SignalCard
from orderflow_tui.ui.widgets.whale_list import WhaleList


def panel(widget, title: str, panel_id: str):
    box = Vertical(widget, id=panel_id, classes="panel")
    box.border_title = title
    return box


class SnapshotView(VerticalScroll):
    def compose(self) -> ComposeResult:
        with Horizontal(id="row-top", classes="row"):
            yield panel(SignalCard(id="signal"), "SIGNAL", "p-signal")
            yield panel(CvdPanel(id="cvd"), "CVD", "p-cvd")
            yield panel(PressureBar(id="pressure"), "PRESSURE · 60 s", "p-pressure")
        with Horizontal(id="row-mid", classes="row"):
            yield panel(FootprintTable(id="footprint-table"), "FOOTPRINT", "p-footprint")
            yield panel(LiquidationPanel(id="liquidations"), "LIQUIDATIONS", "p-liquidations")
        with Horizontal(id="row-low", classes="row"):
            yield panel(WhaleList(id="whales"), "WHALES", "p-whales")
            yield panel(ExchangeTable(id="exchanges"), "EXCHANGES · 60 s", "p-exchanges")
            yield panel(AlertLog(id="alerts"), "ALERTS", "p-alerts")

    def show(self, snap) -> None:
        self.query_one(SignalCard).show(snap)
        self.query_one(CvdPanel).show(snap)
        self.query_one(PressureBar).show(snap)
        fp = self.query_one("#p-footprint")
        fp.border_title = f"FOOTPRINT · {snap.bar_setting} · step {snap.step:g}"
        self.query_one(FootprintTable).show(snap)
        self.query_one(LiquidationPanel).show(snap)
        self.query_one(WhaleList).show(snap)
        self.query_one(ExchangeTable).show(snap)
