"""PRESSURE: the buy / sell split of the last 60 s as a bar, with percentages and strength."""

from __future__ import annotations

from orderflow_tui.ui.format import money
from orderflow_tui.ui.widgets.line_panel import LinePanel


class PressureBar(LinePanel):
    def show(self, snap) -> None:
        p = snap.pressure
        width = max(4, self.cols)
        if p.buy_q + p.sell_q <= 0:
            self.set_lines([(("no trades in the last 60 s", "muted"),)])
            return
        buys = round(width * p.buy_pct / 100)
        bar = (("█" * buys, "buy"), ("▒" * (width - buys), "sell"))  # two shapes, not colour alone
        lines = [bar, bar if self.rows >= 6 else None,
                 ((f"BUY {p.buy_pct:5.1f}% {money(p.buy_q)}", "buy"),),
                 ((f"SELL {p.sell_pct:5.1f}% {money(p.sell_q)}", "sell"),),
                 ((f"net {p.net:+.1f}  {p.strength}" + (f" {p.dominant}" if self.cols >= 30 else ""), "bold"),)]
        self.set_lines([x for x in lines if x is not None])
