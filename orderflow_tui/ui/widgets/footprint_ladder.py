"""The price ladder of one bar: bid × ask per row, delta, a volume bar, POC, value area,
diagonal imbalances highlighted and stacked runs marked."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from orderflow_tui.ui.format import colors, hm, price, qty, ymd


class FootprintLadder(Static):
    DEFAULT_CSS = "FootprintLadder { height: auto; }"

    def show(self, snap, bar, max_rows: int = 40) -> None:
        c = colors(self.app)
        if bar is None:
            self.update("no bars yet")
            return
        st = round(snap.step * snap.scale)
        rows = sorted(bar.rows, reverse=True)
        if len(rows) > max_rows:  # keep the rows around the POC
            at = rows.index(bar.poc) if bar.poc in rows else 0
            lo = max(0, min(at - max_rows // 2, len(rows) - max_rows))
            rows = rows[lo:lo + max_rows]
        top = max((sum(bar.rows[r][:2]) for r in rows), default=0.0) or 1.0
        stacked_b = {r for a, b in bar.stacked_buy for r in range(a, b + st, st)}
        stacked_s = {r for a, b in bar.stacked_sell for r in range(a, b + st, st)}
        table = Table(box=None, padding=(0, 1), show_edge=False,
                      title=f"{ymd(bar.open_ts)} {hm(bar.open_ts)} UTC  {snap.bar_setting}  step {snap.step:g}  "
                            f"Δ {qty(bar.delta, signed=True)}  {'closed' if bar.closed else 'open'}")
        for name, just in (("", "left"), ("price", "right"), ("bid", "right"), ("×", "center"), ("ask", "right"),
                           ("delta", "right"), ("volume", "left")):
            table.add_column(name, justify=just)
        for r in rows:
            bid, ask, _ = bar.rows[r]
            mark = "◆POC" if r == bar.poc else ("│VA " if bar.val is not None and bar.val <= r <= bar.vah else "")
            bid_t = Text(qty(bid), style=f"bold reverse {c['sell']}" if r in bar.sell_imbalances else c["sell"])
            ask_t = Text(qty(ask), style=f"bold reverse {c['buy']}" if r in bar.buy_imbalances else c["buy"])
            stack = ("≡▲" if r in stacked_b else "") + ("≡▼" if r in stacked_s else "")
            width = round(12 * (bid + ask) / top)
            d = ask - bid
            table.add_row(mark, price(snap.price(r)), bid_t, "×", ask_t,
                          Text(qty(d, signed=True), style=c["buy"] if d > 0 else c["sell"] if d < 0 else ""),
                          Text("█" * width, style=c["buy"] if d >= 0 else c["sell"]) + Text(f" {stack}"))
        legend = Text("◆ POC  │ value area  reversed: diagonal imbalance  ≡ stacked", style=c["muted"])
        from rich.console import Group

        self.update(Group(table, legend))
