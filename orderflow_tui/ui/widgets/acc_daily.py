"""Accumulated chart 6: the daily summary (USD, base coin and events per UTC day, newest first, the
busiest days of the range marked ★)."""

from __future__ import annotations

from orderflow_tui.ui.format import money, qty, ymd
from orderflow_tui.ui.widgets.chart_grid import AccData, data_note, header
from orderflow_tui.ui.widgets.line_panel import Columns

BUSIEST = 3


def daily(data: AccData, width: int, height: int) -> list:
    days = data.desk.days()
    top = header(f"6 DAILY SUMMARY  {data.group}  {data.range_name}  {len(days)} day{'s' if len(days) != 1 else ''} with liquidations",
                 data_note(data), width)
    busiest = {d["date"] for d in sorted(days, key=lambda d: -d["quote"])[:BUSIEST]}
    bar_w = max(0, width - 62)
    cols = Columns((("★", 1, "<", 0), ("date", 8, "<", 0), ("USD", 9, ">", 0), (data.group or "base", 12, ">", 1),
                    ("events", 7, ">", 0), ("long%", 5, ">", 2), ("short%", 6, ">", 3), ("", bar_w, "<", 4)), width)
    scale = max((d["quote"] for d in days), default=0.0) or 1.0
    rows = max(0, height - len(top) - 2)
    out = [*top, cols.header()]
    for d in list(reversed(days))[:rows]:
        star = d["date"] in busiest
        q = d["quote"]
        out.append(cols.row({
            "★": "★" if star else "", "date": ymd(d["day_ts"]), "USD": money(q),
            data.group or "base": qty(d["base"]),
            "events": f"{d['count']:,}", "long%": f"{d['long']['quote'] / q * 100:.0f}" if q else "-",
            "short%": f"{d['short']['quote'] / q * 100:.0f}" if q else "-",
            "": "█" * max(1, round(q / scale * bar_w)) if q and bar_w else ""},
            {"★": "bold", "date": "bold" if star else "", "": "long" if d["long"]["quote"] >= d["short"]["quote"]
             else "short"}))
    hidden = len(days) - rows
    foot = (f"★ the {min(BUSIEST, len(days))} busiest days of the range" if len(days) > 1 else "★ the busiest day") \
        + " · bar: USD, coloured by the larger side"
    if hidden > 0:
        foot += f" · {hidden} older days below (export --what daily)"
    out.append(((foot[:width], "muted"),))
    return out
