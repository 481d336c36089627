"""HEATMAP: time × price, each cell shaded by the resting size of the group's live books.

One column a sample (a second), newest on the right; half-block characters (▀, foreground the
upper half, background the lower) give two price rows per line. Shades follow a log scale between
the window's 5th percentile and its largest cell, so one wall does not wash out the rest, and grow
in brightness (not only hue: readable in the colour-blind theme and in greyscale). Over it: taker
trades as ▲ (buy) / ▼ (sell), small ▴ ▾ under a quarter of the window's largest, liquidations ✖,
the last price ━. The lines are built only when the ring gained a column or the view changed;
the Line API then repaints only the lines that differ.
"""

from __future__ import annotations

import math

import numpy as np
from rich.color import Color as RichColor
from rich.style import Style
from textual.color import Color

from orderflow_tui.ui.format import hms, row_price, short, step_decimals
from orderflow_tui.ui.widgets.line_panel import LinePanel, fit, palette

LEVELS = 9  # shade 0 = nothing resting, 1..8 = log size
ROW_FACTORS = (1, 2, 5, 10, 20, 50)  # heatmap rows, in the group's base row steps
BIG_TRADE = 0.25  # a trade mark is big (▲ ▼) from this share of the window's largest trade cell


def shade_colours(app) -> list[str]:
    """LEVELS colours from the background, through the theme's primary colour, to its accent
    (dark themes) or foreground (light ones): brightness changes monotonically with size."""
    theme = app.current_theme if app is not None else None
    dark = theme.dark if theme is not None else True
    bg = Color.parse(theme.background or ("#000000" if dark else "#ffffff")) if theme else Color(0, 0, 0)
    mid = Color.parse(theme.primary) if theme and theme.primary else Color(80, 120, 200)
    end_name = (theme.accent if dark else theme.foreground) if theme else None
    end = Color.parse(end_name) if end_name else Color(255, 200, 80)
    out = [bg.hex]
    for i in range(1, LEVELS):
        t = i / (LEVELS - 1)
        c = bg.blend(mid, 0.25 + 0.75 * t / 0.6) if t <= 0.6 else mid.blend(end, (t - 0.6) / 0.4)
        out.append(c.hex)
    return out


class BookHeatmap(LinePanel):
    def __init__(self, *args, **kw) -> None:
        super().__init__(*args, **kw)
        self._key = None
        self._cells: dict = {}
        self._theme_cells = ""

    def _cell_styles(self):
        if self._theme_cells != self.app.theme:
            self._theme_cells = self.app.theme
            self._cells.clear()
            colours = shade_colours(self.app)
            pal = palette(self.app)
            self._rgb = [RichColor.parse(c) for c in colours]
            self._marks = {w: Style(color=RichColor.parse(pal[w]), bgcolor=self._rgb[0], bold=True)
                           for w in ("buy", "sell", "long", "short")}
            fg = self.app.current_theme.foreground if self.app.current_theme else None
            self._line = Style(color=RichColor.parse(fg) if fg else None, bgcolor=self._rgb[0], bold=True)
        return self._cells

    def _pair(self, top: int, bottom: int):
        cells = self._cells
        key = (top, bottom)
        hit = cells.get(key)
        if hit is None:
            rgb = self._rgb
            if top == bottom:
                hit = (" ", Style(bgcolor=rgb[max(0, top)]))
            else:
                hit = ("▀", Style(color=rgb[max(0, top)], bgcolor=rgb[max(0, bottom)]))
            cells[key] = hit
        return hit

    def show(self, ring, group: str, factor: int, offset: int, coin: str = "", now_word: str = "live", empty: str = "") -> None:
        """``now_word``: what the newest column is called (a replay's is no live book); ``empty``: why
        there is no book, when it is known."""
        w, h = self.cols, self.rows
        if ring is None or not len(ring):
            self.set_title(f"HEATMAP · {group}")
            why = empty or f"no order book for {group} yet: the heatmap samples the books once a second"
            self.set_lines([((fit(why, w), "muted"),)])
            self._key = None
            return
        key = (ring.count, w, h, factor, offset, self.app.theme, now_word)
        if key == self._key:
            return
        self._key = key
        self._cell_styles()
        step = ring.step * factor
        text_rows = max(1, h - 2)
        v_rows = 2 * text_rows
        dec = step_decimals(step)
        pw = len(row_price(float(ring.last[(ring.count - 1) % ring.capacity]) * 1.1, dec)) + 1
        cols = max(1, w - pw - 1)
        slots = ring.slots(offset, cols)
        newest = slots[-1]
        ref = float(ring.last[newest]) or float((ring.base[newest] + ring.rows // 2) * ring.step)
        centre = ring.row_of(ref) // factor
        top = centre + v_rows // 2 - 1
        cells = ring.window(slots, top, v_rows, factor)  # (columns, v_rows)
        pos = cells > 0
        shades = np.zeros(cells.shape, np.int64)
        lo = hi = 0.0
        if pos.any():
            vals = cells[pos]
            lo, hi = float(np.percentile(vals, 5)), float(vals.max())
            if hi > lo > 0:
                f = (np.log(vals) - math.log(lo)) / (math.log(hi) - math.log(lo))
                shades[pos] = 1 + np.clip(np.floor(f * (LEVELS - 1)), 0, LEVELS - 2).astype(np.int64)
            else:
                shades[pos] = LEVELS - 1
        pad = cols - len(slots)  # a young ring: the columns it has, on the right
        marks = self._marks_of(ring, slots, top, factor, text_rows)
        last_rows = {}
        for c, slot in enumerate(slots):
            lr = top - ring.row_of(float(ring.last[slot])) // factor
            if ring.last[slot] > 0 and 0 <= lr < v_rows:
                last_rows[c] = lr // 2
        lines = []
        last_text = (top - centre) // 2
        for i in range(text_rows):
            runs: list = [(" " * pad, "")] if pad else []
            up, down = shades[:, 2 * i].tolist(), shades[:, 2 * i + 1].tolist()
            row_marks = marks.get(i, {})
            for c in range(len(slots)):
                m = row_marks.get(c)
                if m is not None:
                    runs.append(m)
                elif last_rows.get(c) == i:
                    runs.append(("━", self._line))
                else:
                    runs.append(self._pair(up[c], down[c]))
            p = (top - 2 * i) * factor * ring.step
            runs.append((" ", ""))
            runs.append((row_price(p, dec).rjust(pw - 1), "bold reverse" if i == last_text else "muted"))
            lines.append(tuple(runs))
        lines.append(self._time_axis(ring, slots, pad, cols))
        lines.append(self._legend(lo, hi, coin, w))
        back = ring.sec[newest] - ring.sec[(ring.count - 1) % ring.capacity]
        where = now_word if offset == 0 else f"{_ago(-back)} back (→ newer, end: {now_word})"
        self.set_title(f"HEATMAP · {group} · rows {step:g} · {len(slots)} s shown · {where}")
        self.set_lines(lines)

    def _marks_of(self, ring, slots, top: int, factor: int, text_rows: int) -> dict:
        """{text row: {column: (glyph, style)}}: liquidations over trades, trades sized by volume."""
        per: dict = {}
        peak = 0.0
        for c, slot in enumerate(slots):
            trades = ring.trades[slot]
            if not trades:
                continue
            for row, (buy, sell) in trades.items():
                i = (top - row // factor) // 2
                if 0 <= i < text_rows:
                    cell = per.setdefault((i, c), [0.0, 0.0])
                    cell[0] += buy
                    cell[1] += sell
        for v in per.values():
            peak = max(peak, v[0], v[1])
        out: dict = {}
        for (i, c), (buy, sell) in per.items():
            vol, is_buy = (buy, True) if buy >= sell else (sell, False)
            big = vol >= BIG_TRADE * peak
            glyph = ("▲" if big else "▴") if is_buy else ("▼" if big else "▾")
            out.setdefault(i, {})[c] = (glyph, self._marks["buy" if is_buy else "sell"])
        for c, slot in enumerate(slots):
            for p, _, is_long in ring.liqs[slot] or ():
                i = (top - ring.row_of(p) // factor) // 2
                if 0 <= i < text_rows:
                    out.setdefault(i, {})[c] = ("✖", self._marks["long" if is_long else "short"])
        return out

    def _time_axis(self, ring, slots, pad: int, cols: int):
        secs = [int(ring.sec[s]) for s in slots]
        span = max(1, secs[-1] - secs[0]) if secs else 1
        every = next((e for e in (15, 30, 60, 120, 300, 600, 900, 1800) if cols / max(1, span / e) >= 11), 3600)
        chars = [" "] * cols
        prev = None
        for c, sec in enumerate(secs):
            x = pad + c
            if not ring.live[slots[c]]:
                chars[x] = "×"  # no live book in this sample
            bucket = sec // every
            if prev is not None and bucket != prev and x + 9 <= cols:
                label = "│" + (hms(sec * 1000) if every < 60 else hms(sec * 1000)[:5])
                chars[x:x + len(label)] = label
            prev = bucket
        return (("".join(chars[:cols]), "muted"),)

    def _legend(self, lo: float, hi: float, coin: str, w: int):
        runs = [("size (log) ", "muted")]
        runs += [(" ", Style(bgcolor=c)) for c in self._rgb[1:]]
        unit = f" {coin}" if coin else ""
        runs.append((f" {short(lo)}…{short(hi)}{unit}  ", "muted"))
        wide = w >= 110
        runs += [("▲", self._marks["buy"]), ("▼", self._marks["sell"]), (" taker buy/sell  " if wide else " buy/sell ", "muted"),
                 ("✖", self._marks["long"]), (" liq.  " if wide else " liq ", "muted"), ("━", self._line),
                 (" last  × no book  ←/→ time  +/- rows" if wide else " last ×no book", "muted")]
        out, used = [], 0
        for text, style in runs:  # cut to the width
            if used + len(text) > w:
                out.append((text[:max(0, w - used)], style))
                break
            out.append((text, style))
            used += len(text)
        return tuple(out)


def _ago(seconds: int) -> str:
    return f"{seconds // 60} min {seconds % 60:02d} s" if seconds >= 60 else f"{seconds} s"
