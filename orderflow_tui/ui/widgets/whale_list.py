"""WHALES: recent large prints (same-millisecond taker fills merged) with their tier."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from orderflow_tui.ui.format import colors, hms, money, price, qty

TIER = {"mega": "MEGA", "whale": "WHALE", "large": ""}


class WhaleList(Static):
    DEFAULT_CSS = "WhaleList { height: auto; }"

    def show(self, snap, rows: int = 8) -> None:
        c = colors(self.app)
        table = Table.grid(padding=(0, 1))
        for i in range(6):
            table.add_column(no_wrap=True, justify="right" if i == 3 else "left")
        for p in snap.whales[:rows]:
            color = c["buy"] if p.is_buy else c["sell"]
            table.add_row(hms(p.ts), Text(p.venue), Text("BUY " if p.is_buy else "SELL", style=color),
                          Text(money(p.quote), style=f"bold {color}"), f"{qty(p.qty)}@{price(p.price)}",
                          Text(TIER[p.tier], style="bold reverse" if p.tier != "large" else ""))
        if not snap.whales:
            table.add_row("no prints ≥ the large tier yet", "", "", "", "", "")
        self.update(table)
