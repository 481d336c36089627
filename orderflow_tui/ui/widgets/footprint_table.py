"""FOOTPRINT: one line per bar, oldest to newest like a tape, as many as the panel is tall.
Columns drop out by priority on narrow screens; only lines that changed are repainted."""

from __future__ import annotations

from orderflow_tui.ui.format import hm, hms, price, qty
from orderflow_tui.ui.widgets.line_panel import Columns, LinePanel

# name, width, align, priority (lower stays longer on a narrow panel)
SPEC = (("time", 9, "<", 0), ("close", 10, ">", 4), ("bid", 9, ">", 2), ("ask", 9, ">", 2),
        ("delta", 9, ">", 1), ("CVD", 9, ">", 5), ("rows", 4, ">", 7), ("POC", 10, ">", 6),
        ("marks", 14, "<", 3))


def marks(bar) -> str:
    """🔥 ▲/▼ for a bar-level imbalance, ≡ stacked imbalances, ⊘ exhaustion, ◼ absorption."""
    out = []
    if bar.marker:
        out.append("🔥▲" if bar.marker == "buy" else "🔥▼")
    if bar.stacked_buy:
        out.append(f"≡▲{len(bar.stacked_buy)}")
    if bar.stacked_sell:
        out.append(f"≡▼{len(bar.stacked_sell)}")
    if bar.exhaustion:
        out.append(f"⊘{bar.exhaustion}")
    if bar.absorption:
        out.append("◼abs")
    return " ".join(out)


class FootprintTable(LinePanel):
    def show(self, snap, empty: str = "no bars yet: waiting for trades") -> None:
        cols = Columns(SPEC, self.cols)
        clock = hm if snap.bar_setting[-1:] in ("m", "h", "d") else hms  # volume / trade-count bars are short
        bars = sorted(snap.bars, key=lambda b: b.open_ts)[-max(1, self.rows - 1):]
        lines = [cols.header()]
        for bar in bars:
            d = bar.delta
            lines.append(cols.row(
                {"time": clock(bar.open_ts) + ("" if bar.closed else "•"), "close": price(bar.close),
                 "bid": qty(bar.bid), "ask": qty(bar.ask), "delta": qty(d, signed=True),
                 "CVD": qty(bar.cvd, signed=True), "rows": len(bar.rows),
                 "POC": price(snap.price(bar.poc)) if bar.poc is not None else "-", "marks": marks(bar)},
                {"bid": "sell", "ask": "buy", "delta": "buy" if d > 0 else "sell" if d < 0 else "",
                 "time": "" if bar.closed else "bold"}))
        if not bars:
            lines.append(((empty, "muted"),))
        self.set_lines(lines)
