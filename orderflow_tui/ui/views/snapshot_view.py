"""The snapshot view: right now, at a glance. Three rows that share the screen's height; on a
narrow or short terminal the bottom row (whales, exchanges, market, alerts) gives its room to the others."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical

from orderflow_tui.ui.widgets.alert_log import AlertLog
from orderflow_tui.ui.widgets.cvd_panel import CvdPanel
from orderflow_tui.ui.widgets.exchange_table import ExchangeTable
from orderflow_tui.ui.widgets.footprint_table import FootprintTable
from orderflow_tui.ui.widgets.liquidation_panel import LiquidationPanel
from orderflow_tui.ui.widgets.market_panel import MarketPanel
from orderflow_tui.ui.widgets.pressure_bar import PressureBar
from orderflow_tui.ui.widgets.signal_card import SignalCard
from orderflow_tui.ui.widgets.whale_list import WhaleList


class SnapshotView(Vertical):
    def compose(self) -> ComposeResult:
        with Horizontal(id="row-top", classes="row"):
            yield SignalCard("SIGNAL", id="signal")
            yield CvdPanel("CVD", id="cvd")
            yield PressureBar("PRESSURE · 60 s", id="pressure")
        with Horizontal(id="row-mid", classes="row"):
            yield FootprintTable("FOOTPRINT", id="footprint-table")
            yield LiquidationPanel("LIQUIDATIONS", id="liquidations")
        with Horizontal(id="row-low", classes="row"):
            yield WhaleList("WHALES", id="whales")
            yield ExchangeTable("EXCHANGES · 60 s", id="exchanges")
            yield MarketPanel("MARKET", id="market")
            yield AlertLog("ALERTS", id="alerts")

    def bars_wanted(self) -> int:
        return self.query_one(FootprintTable).rows

    def show(self, snap, data_s: float, warmup_s: float, alerts, waiting: str, no_bars: str,
             cvd_chart: tuple = ("15m", None), books: bool = False) -> None:
        self.set_class(books, "books")  # the signal card grows a line for the book's reasoning
        low = self.query_one("#row-low").display
        if snap is None:
            for panel in self.query(".panel"):
                if low or panel.parent.id != "row-low":
                    panel.waiting(waiting)
            return
        self.query_one(SignalCard).show(snap, data_s, warmup_s)
        self.query_one(CvdPanel).show(snap, *cvd_chart)
        self.query_one(PressureBar).show(snap)
        table = self.query_one(FootprintTable)
        table.set_title(f"FOOTPRINT · {snap.bar_setting} · step {snap.step:g}")
        table.show(snap, no_bars)
        self.query_one(LiquidationPanel).show(snap)
        if low:  # nothing is drawn for a hidden row
            self.query_one(WhaleList).show(snap)
            self.query_one(ExchangeTable).show(snap)
            self.query_one(MarketPanel).show(snap)
            self.query_one(AlertLog).show(alerts)
