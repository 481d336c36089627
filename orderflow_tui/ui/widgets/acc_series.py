"""Accumulated charts over time: 1 liquidation volume (longs and shorts apart, with the price), 4 long
vs short (share and volume), 5 market share by venue (stacked) and 7 cumulative volume.

Bars are whole UTC buckets of the range (1 h when it fits, wider on long ranges), each as wide as its
time: one hour of data is one bucket, never a block filling the plot. Nothing is extrapolated.
"""

from __future__ import annotations

from orderflow_tui.ui.format import money, price as fmt_price
from orderflow_tui.ui.widgets.chart_grid import (Y_LABEL, AccData, Grid, column_down, column_up, data_note, header,
                                                 nice_max, time_axis, y_label)

VENUE_GLYPHS = "█▓▒░▚▞▙▟"
VENUE_STYLES = ("cyan", "magenta", "yellow", "bright_blue", "bright_green", "bright_red", "white", "grey50")


def _frame(data: AccData, width: int, height: int, title: str, legend: str):
    """(header lines, grid, axis, plot width, plot rows) or None when the panel is too small."""
    top = header(title, data_note(data), width)
    rows = height - len(top) - 2  # the time axis and the legend under the plot
    plot_w = width - Y_LABEL
    if rows < 4 or plot_w < 10:
        return None
    axis = time_axis(data.start, data.end, plot_w)
    return top, Grid(width, rows), axis, plot_w, rows


def _finish(top, grid: Grid, axis, legend: str, width: int) -> list:
    return [*top, *grid.lines(), (((" " * Y_LABEL + axis.labels())[:width], "muted"),),
            (((f"1 bar = {axis.unit()}   " + legend)[:width], "muted"),)]


def too_small(width: int) -> list:
    return [(("too small for this chart: enlarge the terminal", "muted"),)]


def volume(data: AccData, width: int, height: int) -> list:
    """1: liquidated quote per bucket, shorts up and longs down, under the hourly VWAP line."""
    legend = "▲ shorts liquidated  ▼ longs liquidated  $ per bar" + ("  • price  · CVD" if len(data.cvd) > 1 else "")
    f = _frame(data, width, height, f"1 LIQUIDATION VOLUME  {data.group}  {data.range_name}", legend)
    if f is None:
        return too_small(width)
    top, grid, axis, plot_w, rows = f
    hours = data.desk.hours
    longs = axis.sums(hours, lambda h: h.long_quote)
    shorts = axis.sums(hours, lambda h: h.short_quote)
    price_rows = rows // 4 if rows >= 16 and data.prices else 0
    if price_rows and data.cvd:  # the CVD on its own scale under the price dots: opposite slopes = divergence
        cvd: dict[int, float] = {}
        for ts, c in data.cvd:
            i = axis.index(ts)
            if i is not None:
                cvd[i] = c
        if len(cvd) > 1:
            lo, hi = min(cvd.values()), max(cvd.values())
            for i, c in cvd.items():
                y = (price_rows - 1) // 2 if hi == lo else round((hi - c) / (hi - lo) * (price_rows - 1))
                c0, c1 = axis.cols(i)
                for x in range(c0, c1):
                    grid.put(Y_LABEL + x, y, "·", "yellow")
    if price_rows:
        last: dict[int, float] = {}
        for ts, p in data.prices:
            i = axis.index(ts)
            if i is not None and p > 0:
                last[i] = p
        if last:
            lo, hi = min(last.values()), max(last.values())
            grid.text(0, 0, fmt_price(hi)[:Y_LABEL - 1].rjust(Y_LABEL - 1), "muted")
            if lo != hi:
                grid.text(0, price_rows - 1, fmt_price(lo)[:Y_LABEL - 1].rjust(Y_LABEL - 1), "muted")
            for i, p in last.items():
                y = 0 if hi == lo else round((hi - p) / (hi - lo) * (price_rows - 1))
                c0, c1 = axis.cols(i)
                for x in range(c0, c1):
                    grid.put(Y_LABEL + x, y, "•", "cyan")
    area = rows - price_rows
    up = area // 2
    scale_top = nice_max(max([*longs, *shorts, 0.0]))
    grid.text(0, price_rows, y_label(scale_top), "muted")
    grid.text(0, price_rows + up - 1, "0".rjust(Y_LABEL - 1), "muted")
    grid.text(0, rows - 1, ("-" + money(scale_top)).rjust(Y_LABEL - 1), "muted")
    for i in range(axis.n):
        c0, c1 = axis.cols(i)
        for x in range(c0, c1):
            if shorts[i]:
                column_up(grid, Y_LABEL + x, price_rows + up, shorts[i], scale_top / up, "short")
            if longs[i]:
                column_down(grid, Y_LABEL + x, price_rows + up, longs[i], scale_top / (area - up), "long")
    for x in range(plot_w):
        if grid.chars[price_rows + up - 1][Y_LABEL + x] == " ":
            grid.put(Y_LABEL + x, price_rows + up - 1, "▁", "muted")  # the zero line
    return _finish(top, grid, axis, legend, width)


def long_short(data: AccData, width: int, height: int) -> list:
    """4: the long share of each bucket (100 % stacked) above, the stacked volume below."""
    legend = "█ longs  ░ shorts liquidated"
    f = _frame(data, width, height, f"4 LONG vs SHORT  {data.group}  {data.range_name}  share % and volume", legend)
    if f is None:
        return too_small(width)
    top, grid, axis, plot_w, rows = f
    hours = data.desk.hours
    longs = axis.sums(hours, lambda h: h.long_quote)
    shorts = axis.sums(hours, lambda h: h.short_quote)
    share_rows = rows // 2
    vol_rows = rows - share_rows - 1
    grid.text(0, 0, "100% ".rjust(Y_LABEL - 1), "muted")
    grid.text(0, share_rows // 2, "50% ".rjust(Y_LABEL - 1), "muted")
    grid.text(0, share_rows - 1, "0% ".rjust(Y_LABEL - 1), "muted")
    scale = nice_max(max([a + b for a, b in zip(longs, shorts)] + [0.0]))
    grid.text(0, share_rows + 1, y_label(scale), "muted")
    grid.text(0, rows - 1, "0".rjust(Y_LABEL - 1), "muted")
    for i in range(axis.n):
        total = longs[i] + shorts[i]
        if total <= 0:
            continue
        c0, c1 = axis.cols(i)
        long_rows = round(longs[i] / total * share_rows)
        for x in range(c0, c1):
            for y in range(share_rows):
                is_long = y >= share_rows - long_rows
                grid.put(Y_LABEL + x, y, "█" if is_long else "░", "long" if is_long else "short")
            top_long = column_up(grid, Y_LABEL + x, rows, longs[i], scale / vol_rows, "long", "█" if
                                 longs[i] / scale * vol_rows >= 1 else "")
            if shorts[i]:
                column_up(grid, Y_LABEL + x, top_long, shorts[i], scale / vol_rows, "short", "░")
    tl = sum(longs)
    tt = tl + sum(shorts)
    legend += f"  longs {tl / tt * 100:.1f}% of {money(tt)}" if tt else ""
    return _finish(top, grid, axis, legend, width)


def market_share(data: AccData, width: int, height: int) -> list:
    """5: each venue's share of each bucket's liquidated quote, stacked to 100 %."""
    totals: dict[str, float] = {}
    for h in data.desk.hours:
        for v, q in h.venues.items():
            totals[v] = totals.get(v, 0.0) + q
    venues = sorted(totals, key=lambda v: -totals[v])
    grand = sum(totals.values())
    legend = "  ".join(f"{VENUE_GLYPHS[k % len(VENUE_GLYPHS)]} {v} {totals[v] / grand * 100:.1f}%"
                       for k, v in enumerate(venues)) if grand else "no venue yet"
    f = _frame(data, width, height, f"5 MARKET SHARE BY VENUE  {data.group}  {data.range_name}", legend)
    if f is None:
        return too_small(width)
    top, grid, axis, plot_w, rows = f
    per = [axis.sums(data.desk.hours, lambda h, v=v: h.venues.get(v, 0.0)) for v in venues]
    grid.text(0, 0, "100% ".rjust(Y_LABEL - 1), "muted")
    grid.text(0, rows // 2, "50% ".rjust(Y_LABEL - 1), "muted")
    grid.text(0, rows - 1, "0% ".rjust(Y_LABEL - 1), "muted")
    for i in range(axis.n):
        total = sum(p[i] for p in per)
        if total <= 0:
            continue
        c0, c1 = axis.cols(i)
        y, acc = rows, 0.0
        for k, p in enumerate(per):
            acc += p[i]
            y_top = rows - round(acc / total * rows)
            for x in range(c0, c1):
                for yy in range(y_top, y):
                    grid.put(Y_LABEL + x, yy, VENUE_GLYPHS[k % len(VENUE_GLYPHS)], VENUE_STYLES[k % len(VENUE_STYLES)])
            y = y_top
    return _finish(top, grid, axis, legend, width)


def cumulative(data: AccData, width: int, height: int) -> list:
    """7: liquidated quote summed since the store began (the range's start carries what came before)."""
    hours = data.desk.hours
    legend = f"since the store began: {money(data.before + sum(h.quote for h in hours))}"
    f = _frame(data, width, height, f"7 CUMULATIVE VOLUME  {data.group}  {data.range_name}", legend)
    if f is None:
        return too_small(width)
    top, grid, axis, plot_w, rows = f
    per = axis.sums(hours, lambda h: h.quote)
    first = axis.index(hours[0].ts) if hours else None
    if first is None and hours and hours[0].ts < axis.start:
        first = 0
    if data.before > 0:
        first = 0
    values, run = [], data.before
    for i in range(axis.n):
        run += per[i]
        values.append(run if first is not None and i >= first else 0.0)
    scale = nice_max(max(values + [0.0]))
    grid.text(0, 0, y_label(scale), "muted")
    grid.text(0, rows - 1, "0".rjust(Y_LABEL - 1), "muted")
    for i in range(axis.n):
        c0, c1 = axis.cols(i)
        for x in range(c0, c1):
            if values[i] > 0:
                column_up(grid, Y_LABEL + x, rows, values[i], scale / rows, "cyan")
    return _finish(top, grid, axis, legend, width)
