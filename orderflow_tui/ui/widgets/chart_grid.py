"""What every accumulated chart shares: the data they draw, a time axis of whole UTC buckets, a
character grid turned into panel lines, bar glyphs, and the honest words about how much data there is.

A chart is a pure function ``draw(data, width, height) -> list[Line]`` (see line_panel.py): no
Textual, so a benchmark or a test can time and read it without an app.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from orderflow_tui.ui.format import hm, money, ymd

H = 3_600_000
D = 24 * H
BUCKETS = (H, 2 * H, 3 * H, 4 * H, 6 * H, 12 * H, D, 2 * D, 3 * D, 7 * D, 14 * D, 30 * D, 91 * D)
EIGHTHS = " ▁▂▃▄▅▆▇█"
Y_LABEL = 10  # the y-axis label column


@dataclass
class AccData:
    """One read of the store for the accumulated view: the range and group the keys chose."""

    desk: object  # store.analysis.Desk
    start: int  # the range drawn, ms UTC
    end: int
    range_name: str
    group: str
    price: float | None = None  # the group's price now (the engine's, else the last hourly VWAP)
    prices: list = field(default_factory=list)  # (hour, VWAP) for the price line of chart 1
    before: float = 0.0  # liquidation quote of the group stored before ``start`` (cumulative chart)
    extent: tuple | None = None  # (first, last) liquidation of the group in the range, ms (raw rows)
    cvd: list = field(default_factory=list)  # (hour, CVD from the range's start) beside the price (issue 23)


def span_words(ms: int) -> str:
    if ms < 1000:
        return "under 1 s"  # a single liquidation, or several in one second
    if ms < 59_500:
        return f"{round(max(0, ms) / 1000)} s"
    if ms < H - 30_000:
        return f"{round(ms / 60_000)} min"
    hours = round(ms / H)
    if hours < 48:
        return f"{hours} hour{'s' if hours != 1 else ''}"
    return f"{hours / 24:.0f} days"


def data_note(data: AccData) -> str:
    """'n hours of data' when the range is longer than what the store holds in it: from the first to
    the last liquidation (raw rows), else from the first to the last hour holding one."""
    hours = data.desk.hours
    if not hours:
        return f"no {data.group} liquidations in this {data.range_name} range"
    first, last = data.extent or (hours[0].ts, hours[-1].ts + H)
    covered = last - max(first, data.start)
    if covered < data.end - data.start - H:
        return f"{span_words(covered)} of data in this {data.range_name} range"
    return ""


@dataclass
class TimeAxis:
    """The range cut into whole UTC buckets (1 h or more), each as many columns wide as its time."""

    start: int
    bucket: int
    n: int
    width: int

    def cols(self, i: int) -> tuple[int, int]:
        return i * self.width // self.n, max(i * self.width // self.n + 1, (i + 1) * self.width // self.n)

    def index(self, ts: int) -> int | None:
        i = (ts - self.start) // self.bucket
        return i if 0 <= i < self.n else None

    def sums(self, items, value) -> list[float]:
        out = [0.0] * self.n
        for it in items:
            i = self.index(it.ts)
            if i is not None:
                out[i] += value(it)
        return out

    def unit(self) -> str:
        b = self.bucket
        return f"{b // D}d" if b >= D else f"{b // H}h"

    def labels(self) -> list:
        """One axis line: a label at a bucket start every ~14 columns, the date where it changes."""
        cells = [" "] * self.width
        short = self.bucket < D and self.n * self.bucket <= 2 * D
        last_end = -2
        for i in range(self.n):
            c0, _ = self.cols(i)
            ts = self.start + i * self.bucket
            text = hm(ts) if short else ymd(ts)
            if c0 <= last_end + 1 or c0 + len(text) > self.width:
                continue
            cells[c0:c0 + len(text)] = list(text)
            last_end = c0 + len(text)
        return "".join(cells)


def time_axis(start: int, end: int, width: int) -> TimeAxis:
    span = max(1, end - start)
    bucket = next((b for b in BUCKETS if span / b <= width), BUCKETS[-1])
    first = start // bucket * bucket
    n = max(1, -(-(end - first) // bucket))
    return TimeAxis(first, bucket, n, max(1, width))


class Grid:
    """A width x height character grid with a style per cell."""

    def __init__(self, width: int, height: int):
        self.width, self.height = width, height
        self.chars = [[" "] * width for _ in range(height)]
        self.styles = [[""] * width for _ in range(height)]

    def put(self, x: int, y: int, ch: str, style: str = "") -> None:
        if 0 <= x < self.width and 0 <= y < self.height:
            self.chars[y][x] = ch
            self.styles[y][x] = style

    def text(self, x: int, y: int, text: str, style: str = "") -> None:
        for i, ch in enumerate(text):
            self.put(x + i, y, ch, style)

    def lines(self) -> list:
        return [runs(chars, styles) for chars, styles in zip(self.chars, self.styles)]


def runs(chars, styles) -> tuple:
    out, text, style = [], "", None
    for ch, st in zip(chars, styles):
        if st == style:
            text += ch
            continue
        if text:
            out.append((text, style))
        text, style = ch, st
    if text:
        out.append((text, style))
    return tuple(out)


def column_up(grid: Grid, x: int, base: int, value: float, scale: float, style: str, glyph: str = "") -> int:
    """A bar growing up from row ``base`` (exclusive): eighths of a row; returns its top row."""
    units = round(value / scale * 8) if scale > 0 else 0
    if value > 0 and units == 0:
        units = 1  # a liquidation is never drawn as nothing
    y = base - 1
    while units > 0 and y >= 0:
        grid.put(x, y, glyph or EIGHTHS[min(8, units)], style)
        units -= 8
        y -= 1
    return y + 1


def column_down(grid: Grid, x: int, base: int, value: float, scale: float, style: str) -> None:
    """A bar hanging down from row ``base`` (inclusive), in half rows."""
    halves = round(value / scale * 2) if scale > 0 else 0
    if value > 0 and halves == 0:
        halves = 1
    y = base
    while halves > 0 and y < grid.height:
        grid.put(x, y, "█" if halves >= 2 else "▀", style)
        halves -= 2
        y += 1


def y_label(value: float) -> str:
    return money(value).rjust(Y_LABEL - 1)[: Y_LABEL - 1]


def nice_max(x: float) -> float:
    """The axis top: x rounded up to 1, 2 or 5 times a power of ten."""
    if x <= 0:
        return 1.0
    p = 10 ** math.floor(math.log10(x))
    return next(m * p for m in (1, 2, 2.5, 5, 10) if m * p >= x)


def header(text: str, note: str, width: int) -> list:
    """The chart's first line: what it shows, and the data note in the muted style when there is one."""
    line = [(text[:width], "bold")]
    if note and len(text) + 3 + len(note) <= width:
        line.append(("   " + note, "bold" if "of data" in note else "muted"))
    elif note:
        return [tuple(line), ((note[:width], "muted"),)]
    return [tuple(line)]


def quantiles(values: list[float], n: int = 4) -> list[float]:
    """Edges splitting the non-zero values into n groups of about equal size (shading legends)."""
    vals = sorted(v for v in values if v > 0)
    if not vals:
        return []
    return sorted({vals[min(len(vals) - 1, len(vals) * k // n)] for k in range(1, n)})


def shade_of(value: float, edges: list[float]) -> int:
    """0 for nothing, else 1..len(edges)+1."""
    if value <= 0:
        return 0
    return 1 + sum(1 for e in edges if value >= e)
