"""EXCHANGES: per-venue buy, sell, net % and dominance over 60 s, net % over the session (sess%);
★ marks the leading venue, ! a flow imbalance."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from orderflow_tui.ui.format import colors, money


class ExchangeTable(Static):
    DEFAULT_CSS = "ExchangeTable { height: auto; }"

    def show(self, snap) -> None:
        c = colors(self.app)
        table = Table(box=None, padding=(0, 1), show_edge=False)
        for name in ("venue", "buy", "sell", "net%", "dom%", "sess%"):
            table.add_column(name, justify="left" if name == "venue" else "right", no_wrap=True)
        for v in snap.venues:
            lead = " ★" if v.venue == snap.leading_venue else ""
            net_color = c["buy"] if v.net_pct > 0 else c["sell"] if v.net_pct < 0 else ""
            table.add_row(Text(v.venue + lead, style="bold" if lead else ""), money(v.buy_q), money(v.sell_q),
                          Text(f"{v.net_pct:+.1f}", style=net_color),
                          Text(f"{v.dominance:.1f}" + (" !" if v.imbalanced else ""), style="bold" if v.imbalanced else ""),
                          f"{v.session_net_pct:+.1f}")
        self.update(table)
