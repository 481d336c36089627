"""PRESSURE: the buy / sell split of the last 60 s as a bar, with percentages and strength."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from orderflow_tui.ui.format import colors, money


class PressureBar(Static):
    DEFAULT_CSS = "PressureBar { height: auto; }"

    def show(self, snap) -> None:
        c = colors(self.app)
        p = snap.pressure
        width = max(10, self.size.width - 2) if self.size.width else 40
        buys = round(width * p.buy_pct / 100)
        t = Text()
        t.append("█" * buys, style=c["buy"])
        t.append("█" * (width - buys), style=c["sell"])
        t.append(f"\nBUY {p.buy_pct:5.1f}% {money(p.buy_q)}", style=c["buy"])
        t.append("  ")
        t.append(f"SELL {p.sell_pct:5.1f}% {money(p.sell_q)}", style=c["sell"])
        t.append(f"\nnet {p.net:+.1f}  {p.strength} {p.dominant}")
        self.update(t)
