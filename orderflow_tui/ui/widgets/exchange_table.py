"""EXCHANGES: per-venue buy, sell, net % and dominance over 60 s, net % over the session (sess%);
★ marks the leading venue, ! a flow imbalance."""

from __future__ import annotations

from orderflow_tui.ui.format import money
from orderflow_tui.ui.widgets.line_panel import Columns, LinePanel

SPEC = (("venue", 10, "<", 0), ("buy", 8, ">", 3), ("sell", 8, ">", 3), ("net%", 6, ">", 0),
        ("dom%", 7, "<", 1), ("sess%", 6, ">", 4))


class ExchangeTable(LinePanel):
    def show(self, snap) -> None:
        cols = Columns(SPEC, self.cols)
        lines = [cols.header()]
        for v in snap.venues[:max(0, self.rows - 1)]:
            lead = " ★" if v.venue == snap.leading_venue else ""
            lines.append(cols.row(
                {"venue": v.venue + lead, "buy": money(v.buy_q), "sell": money(v.sell_q), "net%": f"{v.net_pct:+.1f}",
                 "dom%": f"{v.dominance:5.1f}" + (" !" if v.imbalanced else ""), "sess%": f"{v.session_net_pct:+.1f}"},
                {"venue": "bold" if lead else "", "net%": "buy" if v.net_pct > 0 else "sell" if v.net_pct < 0 else "",
                 "dom%": "bold" if v.imbalanced else ""}))
        if not snap.venues:
            lines.append((("no trades yet", "muted"),))
        self.set_lines(lines)
