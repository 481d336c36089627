"""Accumulated heatmaps: 2 when liquidations happen (UTC day x hour) and 8 where they cluster (price
bucket of analytics.md §5, longs and shorts apart, today's price marked).

Cells are shaded by the theme and carry a density glyph ( ░▒▓█), so the map reads without colour.
"""

from __future__ import annotations

import math

from orderflow_tui.ui.format import money, price as fmt_price, ymd
from orderflow_tui.ui.widgets.chart_grid import D, AccData, Grid, data_note, header, quantiles, shade_of

GLYPHS = " ░▒▓█"


def legend(edges: list[float], what: str) -> tuple:
    """'░ <$1.2K  ▒ $1.2K–$5K  ▓ $5K–$20K  █ ≥$20K per hour': shade k for the quantile edges."""
    if not edges:
        return ((f"shade: {what}", "muted"),)
    m = len(edges)
    parts = [(f"{GLYPHS[1]} <{money(edges[0])}", "shade1")]
    for k in range(2, m + 1):
        parts.append((f"  {GLYPHS[k]} {money(edges[k - 2])}–{money(edges[k - 1])}", f"shade{k}"))
    parts.append((f"  {GLYPHS[m + 1]} ≥{money(edges[-1])}", f"shade{m + 1}"))
    parts.append((f"  {what}", "muted"))
    return tuple(parts)


def day_hour(data: AccData, width: int, height: int) -> list:
    """2: one row per UTC day of the range (days without liquidations stay empty), 24 hour cells."""
    top = header(f"2 DAILY HEATMAP  {data.group}  {data.range_name}  day x hour (UTC)", data_note(data), width)
    cells = data.desk.day_hour()
    first_day = data.start // D * D
    days = list(range(first_day, data.end, D))
    label_w = len(ymd(0)) + 1
    cw = max(1, min(4, (width - label_w - 10) // 24))
    rows = height - len(top) - 2  # the hour labels and the legend
    if rows < 2 or width < label_w + 24:
        return [(("too small for this chart: enlarge the terminal", "muted"),)]
    hidden = max(0, len(days) - rows)
    days = days[hidden:]  # the most recent days that fit
    values = [q for d in days for q in cells.get(ymd_key(d), ())]
    edges = quantiles(values)
    hours = [(" " * label_w, "")]
    for h in range(24):
        hours.append(((f"{h:02d}" if h % (3 if cw < 3 else 1) == 0 else "").ljust(cw)[:cw], "muted"))
    hours.append((" day total", "muted"))
    out = [*top, tuple(hours)]
    for d in days:
        qs = cells.get(ymd_key(d))
        line = [(ymd(d).ljust(label_w), "muted" if qs is None else "")]
        for h in range(24):
            q = qs[h] if qs else 0.0
            k = shade_of(q, edges)
            line.append((GLYPHS[k] * cw, f"shade{k}" if k else ""))
        total = sum(qs) if qs else 0.0
        line.append(((" " + money(total)) if total else "", ""))
        out.append(tuple(line))
    note = f"   {hidden} older days above (r: range, export --what day_hour)" if hidden else ""
    out.append(legend(edges, "per hour" + note))  # a long note is cut at the panel's edge, never wraps
    return out


def ymd_key(day_ms: int) -> str:
    """The §3b key of a day (always YYYYMMDD, whatever ui.date_format shows)."""
    import time

    return time.strftime("%Y%m%d", time.gmtime(day_ms / 1000))


def price_levels(data: AccData, width: int, height: int) -> list:
    """8: liquidated quote by price bucket over the range, longs to the left and shorts to the right,
    buckets merged by a whole factor when there are more than rows; today's price marked ►."""
    d = data.desk
    top = header(f"8 PRICE LEVELS  {d.level_group or data.group}  {data.range_name}", data_note(data), width)
    rows = height - len(top) - 2
    label_w = 12
    bar_w = (width - label_w - 3 - 18) // 2
    if rows < 3 or bar_w < 4:
        return [(("too small for this chart: enlarge the terminal", "muted"),)]
    if not d.levels or not d.bucket:
        return [*top, (("no liquidations with a price in this range", "muted"),)]
    lo = min(p for p, *_ in d.levels)
    hi = max(p for p, *_ in d.levels)
    now = data.price
    if now and now > 0 and (hi - lo) < 20 * (max(hi, now) - min(lo, now)):  # keep the marker in view
        lo, hi = min(lo, now), max(hi, now)
    factor = max(1, math.ceil(((hi - lo) / d.bucket + 1) / rows))
    step = d.bucket * factor
    merged: dict[float, list] = {}
    for p, c, lq, sq in d.levels:
        key = round(math.floor(p / step + 1e-9) * step, 10)
        m = merged.setdefault(key, [0, 0.0, 0.0])
        m[0] += c
        m[1] += lq
        m[2] += sq
    first = math.floor(lo / step + 1e-9) * step
    n = int(round((math.floor(hi / step + 1e-9) * step - first) / step)) + 1
    keys = [round(first + i * step, 10) for i in range(n)][::-1][:rows]  # highest price on top
    now_key = round(math.floor(now / step + 1e-9) * step, 10) if now else None
    scale = max((max(m[1], m[2]) for m in merged.values()), default=1.0) or 1.0
    edges = quantiles([m[1] + m[2] for m in merged.values()])
    grid = Grid(width, len(keys))
    for y, key in enumerate(keys):
        m = merged.get(key, [0, 0.0, 0.0])
        mark = key == now_key
        k = shade_of(m[1] + m[2], edges)
        grid.text(0, y, ("►" if mark else " ") + fmt_price(key).rjust(label_w - 2) + " ",
                  "bold" if mark else (f"shade{k}" if k else "muted"))
        left = round(m[1] / scale * bar_w)
        right = round(m[2] / scale * bar_w)
        if m[1] > 0 and left == 0:
            left = 1
        if m[2] > 0 and right == 0:
            right = 1
        x0 = label_w
        grid.text(x0 + bar_w - left, y, "█" * left, "long")
        grid.put(x0 + bar_w, y, "┃" if mark else "│", "bold" if mark else "muted")
        grid.text(x0 + bar_w + 1, y, "░" * right, "short")
        if m[0]:
            grid.text(x0 + 2 * bar_w + 2, y, f"{money(m[1] + m[2])} {m[0]}", "")
        elif mark:
            grid.text(x0 + 2 * bar_w + 2, y, "◄ price now", "bold")
    hidden = n - len(keys)
    unit = f"bucket {money(step)}" + (f" ({factor}x{money(d.bucket)})" if factor > 1 else "")
    foot = f"█ longs │ ░ shorts liquidated  {unit}"
    foot += f"  ► price now {fmt_price(now)}" if now else "  price now unknown"
    if hidden:
        foot += f"  {hidden} lower rows cut"
    return [*top, *grid.lines(), ((foot[:width], "muted"),), legend(edges, "$ and count per row")]
