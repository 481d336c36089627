"""LIQUIDATIONS: window totals long vs short and per venue, the active cascade, and the tape."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from orderflow_tui.ui.format import colors, hms, money, qty, ymd


class LiquidationPanel(Static):
    DEFAULT_CSS = "LiquidationPanel { height: auto; }"

    def show(self, snap, tape_rows: int = 10) -> None:
        c = colors(self.app)
        v = snap.liquidations
        total = v.long[2] + v.short[2]
        t = Text()
        t.append(f"Last {v.window_min} min: {v.long[0] + v.short[0]} events  {money(total)}\n", style="bold")
        for name, (n, base, quote), color in (("LONG ", v.long, c["long"]), ("SHORT", v.short, c["short"])):
            share = quote / total * 100 if total else 0.0
            t.append(f"{'▼' if name == 'LONG ' else '▲'} {name} {n:>4}  {qty(base):>10} {snap.group}  "
                     f"{money(quote):>9}  {share:5.1f}%\n", style=color)
        for venue, (n, base, quote, share) in v.by_venue.items():
            t.append(f"  {venue.upper():<11} {n:>4}  {money(quote):>9}  {share:5.1f}%\n")
        tiers = ", ".join(f"{side} {tier}" for side, tier in v.tiers.items() if tier)
        if v.cascade is not None:
            k = v.cascade
            cross = " cross-exchange" if k.cross_exchange else ""
            t.append(f"CASCADE{cross}: {k.count} liq {money(k.quote)} risk {k.risk:.2f} ({k.band})", style="bold reverse")
            t.append("\n")
        if tiers:
            t.append(f"5 min tier: {tiers}\n", style="bold")
        table = Table.grid(padding=(0, 1))
        for name in ("date", "time UTC", "venue", "side", "base", "$"):
            table.add_column(name, justify="right" if name in ("base", "$") else "left")
        table.add_row(*(Text(h, style="bold") for h in ("date", "time UTC", "venue", "side", "base", "$")))
        for liq in v.tape[:tape_rows]:
            color = c["long"] if liq.is_long else c["short"]
            table.add_row(ymd(liq.ts), hms(liq.ts), Text(liq.venue + ("*" if liq.sampled else "")),
                          Text(liq.position.upper(), style=color), qty(liq.qty), money(liq.quote))
        if not v.tape:
            table.add_row("", "", "no liquidations yet", "", "", "")
        from rich.console import Group

        self.update(Group(t, table, Text("* venue pushes a sample of its liquidations", style=c["muted"])))
