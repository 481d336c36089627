"""LIQUIDATIONS: window totals long vs short and per venue, the active cascade, the 5-minute tier,
the largest price clusters, and the tape (newest first) filling the rest of the panel."""

from __future__ import annotations

from orderflow_tui.ui.format import hms, money, price, qty, ymd
from orderflow_tui.ui.widgets.line_panel import Columns, LinePanel, fit, wrap

# the date column is as wide as the date format (show)
TAPE = (("date", 10, "<", 5), ("time UTC", 8, "<", 0), ("venue", 12, "<", 1), ("side", 5, "<", 0),
        ("base", 10, ">", 3), ("$", 9, ">", 0))


def mark(liq) -> str:
    """† Hyperliquid (backstop liquidations only), * a venue that pushes a sample of its liquidations."""
    return "†" if liq.venue == "hyperliquid" else "*" if liq.sampled else ""


class LiquidationPanel(LinePanel):
    def show(self, snap) -> None:
        w = self.cols
        v = snap.liquidations
        total = v.long[2] + v.short[2]
        head = (f"Last {v.window_min} min: {v.long[0] + v.short[0]} events  {money(total)}" if w >= 36 else
                f"{v.window_min} min: {v.long[0] + v.short[0]} liq {money(total)}")
        lines = [((fit(head, w), "bold"),)]
        for name, (n, base, quote), color, arrow in (("LONG ", v.long, "long", "▼"), ("SHORT", v.short, "short", "▲")):
            share = quote / total * 100 if total else 0.0
            if w >= 52:
                text = f"{arrow} {name} {n:>4}  {qty(base):>10} {snap.group}  {money(quote):>9}  {share:5.1f}%"
            else:
                text = f"{arrow}{name}{n:>4} {money(quote):>8} {share:3.0f}%"
            lines.append(((fit(text, w), color),))
        venues = []
        for venue, (n, base, quote, share) in v.by_venue.items():
            text = (f"  {venue.upper():<11} {n:>4}  {money(quote):>9}  {share:5.1f}%" if w >= 52 else
                    f" {venue.upper()[:8]:<8} {n:>3} {money(quote):>8} {share:3.0f}%")
            venues.append(((fit(text, w), ""),))
        if v.cascade is not None:
            k = v.cascade
            cross = " cross-exchange" if k.cross_exchange else ""
            for text in wrap(f"CASCADE{cross}: {k.count} liq {money(k.quote)} risk {k.risk:.2f} ({k.band})", w)[:2]:
                lines.append(((text, "bold reverse"),))
        elif v.last_cascade is not None and v.last_cascade.end_ts:
            k = v.last_cascade
            lines.append(((fit(f"last cascade ended {hms(k.end_ts)}: {k.count} liq {money(k.quote)} "
                               f"risk {k.risk:.2f} ({k.band})", w), "muted"),))
        tiers = ", ".join(f"{side} {tier}" for side, tier in v.tiers.items() if tier)
        if tiers:
            lines.append(((fit(f"5 min tier: {tiers}", w), "bold"),))
        if v.clusters and self.rows - len(lines) - 3 >= 3:
            shown, text = 0, f"clusters ${v.bucket:g}:" if v.bucket else "clusters:"
            for p, q in v.clusters[:4]:  # whole entries only
                entry = f" {price(p)} {money(q)}"
                if len(text) + len(entry) + 2 > w and shown:
                    break
                text, shown = text + (" ·" if shown else "") + entry, shown + 1
            lines.append(((fit(text, w), ""),))
        # the per-venue split only while at least 4 tape lines stay below it (small screens: the tape)
        if self.rows - len(lines) - len(venues) - 2 >= 4:
            lines[3:3] = venues
        cols = Columns((("date", len(ymd(0)), "<", 5),) + TAPE[1:], w)
        lines.append(cols.header())
        room = self.rows - len(lines)
        tape = v.tape[:max(0, room - 1)] if any(mark(x) for x in v.tape[:room]) else v.tape[:max(0, room)]
        for liq in tape:
            lines.append(cols.row({"date": ymd(liq.ts), "time UTC": hms(liq.ts),
                                   "venue": liq.venue + mark(liq),
                                   "side": liq.position.upper(), "base": qty(liq.qty), "$": money(liq.quote)},
                                  {"side": "long" if liq.is_long else "short"}))
        if not v.tape:
            lines.append((("no liquidations yet", "muted"),))
        elif any(mark(x) for x in tape):
            marks = {mark(x) for x in tape}
            notes = [f"{m} {n}" for m, n in (("*", "a sample: the venue pushes some of its liquidations" if w >= 60
                                              else "venue sample"),
                                             ("†", "backstop only (Hyperliquid)")) if m in marks]
            lines.append(((fit("  ".join(notes), w), "muted"),))
        self.set_lines(lines)
