"""WHALES: recent large prints (same-millisecond taker fills merged) with their tier, newest first."""

from __future__ import annotations

from orderflow_tui.ui.format import hms, money, price, qty
from orderflow_tui.ui.widgets.line_panel import Columns, LinePanel

SPEC = (("time", 8, "<", 1), ("venue", 8, "<", 3), ("side", 4, "<", 0), ("$", 8, ">", 0),
        ("size", 22, "<", 4), ("tier", 5, "<", 2))
TIER = {"mega": "MEGA", "whale": "WHALE", "large": ""}


class WhaleList(LinePanel):
    def show(self, snap) -> None:
        cols = Columns(SPEC, self.cols)
        lines = []
        for p in snap.whales[:self.rows]:
            color = "buy" if p.is_buy else "sell"
            lines.append(cols.row({"time": hms(p.ts), "venue": p.venue, "side": "BUY" if p.is_buy else "SELL",
                                   "$": money(p.quote), "size": f"{qty(p.qty)}@{price(p.price)}",
                                   "tier": TIER[p.tier]},
                                  {"side": color, "$": f"bold {color}",
                                   "tier": "bold reverse" if p.tier != "large" else ""}))
        if not lines:
            lines.append((("no large prints yet" if self.cols < 40 else "no prints at or above the large tier yet", "muted"),))
        self.set_lines(lines)
