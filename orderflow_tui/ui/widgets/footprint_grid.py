"""The footprint detail: the bid × ask grid traders know. One column per bar (newest on the right),
one line per price row with empty rows kept, cells shaded by volume; diagonal imbalances in bold
colour, stacked runs underlined, the selected bar's POC (◆) and value area (│) beside the price,
the last price marked ►. ←/→ move the selected bar; the window ends at it. ↑/↓ select a price row
(shown reversed; it starts at the last price) and ``m`` marks it as an alert level (⚑)."""

from __future__ import annotations

from orderflow_tui.ui.format import hm, hms, price, qty, short
from orderflow_tui.ui.widgets.line_panel import SHADES, LinePanel, fit

PRICE_W = 13  # "►◆ 123,456.70"
CELL_W = 11  # "12.3K×45.6K"


class FootprintGrid(LinePanel):
    selected_price: float | None = None  # the selected row's price (m marks it)

    def show(self, snap, offset: int, empty: str = "no bars yet: waiting for trades", row_offset: int = 0,
             marked=()) -> None:
        w, h = self.cols, self.rows
        bars = sorted(snap.bars, key=lambda b: b.open_ts)
        self.selected_price = None
        if not bars:
            self.set_title("FOOTPRINT DETAIL")
            self.set_lines([((fit(empty, w), "muted"),)])
            return
        sel = max(0, len(bars) - 1 - offset)
        n = max(1, (w - PRICE_W) // (CELL_W + 1))
        window = bars[max(0, sel - n + 1):sel + 1]
        bar = bars[sel]
        clock = hm if snap.bar_setting[-1:] in ("m", "h", "d") else hms
        self.set_title(f"FOOTPRINT DETAIL · {snap.bar_setting} · step {snap.step:g} · {clock(bar.open_ts)} "
                       f"Δ {qty(bar.delta, signed=True)}{'' if bar.closed else ' open'}")
        st = max(1, round(snap.step * snap.scale))
        rows_all = {r for b in window for r in b.rows}
        hi, lo = max(rows_all), min(rows_all)
        hi, lo = hi - hi % st, lo - lo % st
        room = max(1, h - 2)  # a header and a legend line
        last_row = round(snap.last_price * snap.scale) if snap.last_price else None
        if last_row is not None:
            last_row -= last_row % st
        chosen = (last_row if last_row is not None else hi) + row_offset * st
        chosen = max(st, chosen)
        hi, lo = max(hi, chosen), min(lo, chosen)
        flags = set()
        for p in marked:
            r = round(p * snap.scale)
            flags.add(r - r % st)
        count = (hi - lo) // st + 1
        if count < room:  # fill the panel: empty rows above and below the traded range
            extra = room - count
            hi, lo = hi + (extra // 2) * st, lo - (extra - extra // 2) * st
            lo = max(lo, st)  # never below the first row above zero
        elif count > room:  # keep the rows around the selected bar's POC, else the last price
            centre = chosen if row_offset else bar.poc if bar.poc is not None else (
                last_row if last_row is not None else hi)
            top = min(hi, max(lo + (room - 1) * st, centre + (room // 2) * st))
            hi, lo = top, top - (room - 1) * st
        peak = max((sum(b.rows[r][:2]) for b in window for r in b.rows if lo <= r <= hi), default=0.0) or 1.0
        header = [(" " * PRICE_W, "")]
        for b in window:
            label = clock(b.open_ts) + ("" if b.closed else "•")
            header.append((" " + label.center(CELL_W), "bold reverse" if b is bar else "bold"))
        lines = [tuple(header)]
        stacked = {id(b): ({r for a, z in b.stacked_buy for r in range(a, z + st, st)},
                           {r for a, z in b.stacked_sell for r in range(a, z + st, st)}) for b in window}
        for r in range(hi, lo - 1, -st):
            mark = "►" if r == last_row else "⚑" if r in flags else " "
            mark += "◆" if r == bar.poc else "│" if bar.val is not None and bar.val <= r <= bar.vah else " "
            style = "bold" if r == last_row else ""
            if r == chosen:
                style = f"reverse {style}".strip()
                self.selected_price = snap.price(r)
            runs = [(mark, "bold"), (f"{price(snap.price(r)):>{PRICE_W - 2}}", style)]
            for b in window:
                cell = b.rows.get(r)
                runs.append((" ", ""))
                if cell is None:
                    runs.append(("·".center(CELL_W), "muted"))
                    continue
                bid, ask = cell[0], cell[1]
                shade = f"shade{min(SHADES - 1, int((bid + ask) / peak * SHADES))}"
                sb, ss = stacked[id(b)]
                sell_style = ("bold sell" if r in b.sell_imbalances else "sell") + (" underline" if r in ss else "")
                buy_style = ("bold buy" if r in b.buy_imbalances else "buy") + (" underline" if r in sb else "")
                half = (CELL_W - 1) // 2  # bid right-aligned to the ×, ask left-aligned: the × line up
                runs += [(short(bid).rjust(half), f"{sell_style} {shade}"), ("×", f"muted {shade}"),
                         (short(ask).ljust(CELL_W - 1 - half), f"{buy_style} {shade}")]
            lines.append(tuple(runs))
        legend = ("bid×ask  ◆ POC  │ value area (of the selected bar)  ► last  bold imbalance  underlined "
                  "stacked  shade volume  ←/→ bar  ↑/↓ row  m mark ⚑")
        brief = next((t for t in ("◆POC │VA ►last bold=imb. _=stacked ←→ bar ↑↓ row m ⚑",
                                  "◆POC │VA ►last bold=imb _=stacked ←→ ↑↓ m") if len(t) <= w), "◆POC │VA ►last ←→ ↑↓ m")
        lines.append(((fit(legend if len(legend) <= w else brief, w), "muted"),))
        self.set_lines(lines)
