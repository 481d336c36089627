"""MARKET: open interest per venue and in total, its change over 5 min and 1 h, funding now (per
interval and annualized) and the time to the next funding. The total carries a caveat: venues count
open interest one- or two-sided, so the sum is indicative (exchange-feeds.md §9)."""

from __future__ import annotations

from orderflow_tui.ui.format import money
from orderflow_tui.ui.widgets.line_panel import Columns, LinePanel, wrap

SPEC = (("venue", 11, "<", 0), ("OI", 9, ">", 1), ("5m%", 6, ">", 2), ("1h%", 6, ">", 4), ("fund", 8, ">", 3),
        ("/yr", 7, ">", 5), ("next", 6, ">", 6))


def pct(x: float | None) -> str:
    return "…" if x is None else f"{x:+.2f}"


def until(next_ts: int | None, now: int) -> str:
    """Time to the next funding: 3h12m, 12m, or '-'."""
    if not next_ts or not now:
        return "-"
    mins = max(0, (next_ts - now) // 60_000)
    return f"{mins // 60}h{mins % 60:02d}m" if mins >= 60 else f"{mins}m"


def sign_style(x: float | None) -> str:
    return "" if not x else "buy" if x > 0 else "sell"


class MarketPanel(LinePanel):
    def show(self, snap) -> None:
        view = snap.market
        cols = Columns(SPEC, self.cols)
        lines = [cols.header()]
        if view is None:
            lines.append((("no open interest or funding yet", "muted"),))
            self.set_lines(lines)
            return
        for r in view.rows:
            fund = "-" if r.funding is None else f"{r.funding * 100:+.4f}%"
            per = f"/{r.interval_h:g}h" if r.interval_h else ""
            lines.append(cols.row(
                {"venue": r.venue, "OI": money(r.oi_usd) if r.oi_usd is not None else "-", "5m%": pct(r.change_5m),
                 "1h%": pct(r.change_1h), "fund": fund, "/yr": "-" if r.funding_apr is None else f"{r.funding_apr:+.1f}%",
                 "next": until(r.next_ts, snap.now)},
                {"5m%": sign_style(r.change_5m), "1h%": sign_style(r.change_1h), "fund": sign_style(r.funding),
                 "/yr": sign_style(r.funding_apr)}))
            if per and self.cols >= 60:
                lines[-1] = lines[-1] + ((f" {per}", "muted"),)
        lines.append(cols.row(
            {"venue": "total*", "OI": money(view.oi_usd), "5m%": pct(view.change_5m), "1h%": pct(view.change_1h),
             "/yr": "-" if view.funding_apr is None else f"{view.funding_apr:+.1f}%"},
            {"venue": "bold", "OI": "bold", "5m%": sign_style(view.change_5m), "1h%": sign_style(view.change_1h),
             "/yr": sign_style(view.funding_apr)}))
        lines += [((text, "muted"),) for text in wrap(f"* {view.caveat}", self.cols)]
        lines += [((text, "bold"),) for text in wrap(view.reason, self.cols)]
        self.set_lines(lines[:max(1, self.rows)] if self.rows else lines)
