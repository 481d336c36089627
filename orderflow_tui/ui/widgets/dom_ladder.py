"""DOM: the resting book as a ladder at the footprint's row size, beside the footprint grid.

One line per price row (a row holds prices from its label up to the next row, as the footprint
files trades), centred on the touch: resting bids and asks as shaded bars with their size, the
selected bar's traded bid × ask at that row, the touch rows in reverse video, walls marked W.
``d`` switches between the group's live books summed and one column pair per venue. A book that is
not live (resyncing, stale, waiting) is never summed nor drawn as sizes: the panel says so.
"""

from __future__ import annotations

import math

from orderflow_tui.ui.format import row_price, short, step_decimals
from orderflow_tui.ui.widgets.line_panel import SHADES, LinePanel, fit, wrap

FIRST_LEVELS = 100  # levels a side read per book first; doubled until the visible rows are covered
TRADED_W = 11  # "12.3K×45.6K"
CELL = 5  # a size in short()


def bin_side(levels, scale: float, st: int, rows: dict, slot: int) -> None:
    """Add (price, size) levels into rows[row ticks][slot], each price floored to its row."""
    for p, s in levels:
        t = int(p * scale + 0.5)
        r = t - t % st
        cell = rows.get(r)
        if cell is None:
            rows[r] = cell = [0.0, 0.0]
        cell[slot] += s


def bar_runs(size: float, peak: float, width: int, left: bool, style: str) -> list:
    """A bar of ``size`` in ``width`` cells (half-cell steps), growing left or right. Its length
    goes with the square root of the size: a wall 50× the rest would leave every other bar empty
    on a linear scale; the order of the sizes is kept and the numbers are beside the bars."""
    if width <= 0:
        return []
    halves = int(round(math.sqrt(size / peak) * width * 2)) if peak > 0 else 0
    halves = max(1 if size > 0 else 0, min(width * 2, halves))
    full, half = divmod(halves, 2)
    body = "█" * full + ("▐" if left else "▌") * half
    pad = " " * (width - full - half)
    return [(pad, ""), (body[::-1] if left else body, style)] if left else [(body, style), (pad, "")]


class DomLadder(LinePanel):
    def __init__(self, *args, **kw) -> None:
        super().__init__(*args, **kw)
        self._depth: dict[str, int] = {}  # market -> levels a side that covered the rows last time
        # a row's line by what it shows: most rows are the same from one tick to the next
        self._row_lines: dict = {}
        self._row_params: tuple = ()
        self._wrapped: tuple = ("", 0, [])
        self._frame: tuple = (0, 0, 0)  # (row step, rows, top row) of the window on screen

    def _top(self, book, lo: float, hi: float):
        """The book's levels down to ``lo`` (bids) and up to ``hi`` (asks): as few as cover the
        visible rows (top(n) sorts, and a Coinbase side holds thousands of levels)."""
        n = self._depth.get(book.market, FIRST_LEVELS)
        while True:
            bids, asks = book.top(n)
            short_b = len(bids) == n and bids[-1][0] >= lo
            short_a = len(asks) == n and asks[-1][0] <= hi
            if not (short_b or short_a) or n >= 5000:
                break
            n *= 2
        self._depth[book.market] = n
        return bids, asks

    def show(self, snap, books, now: float, stale_s: float, per_venue: bool = False, offset: int = 0,
             walls=(), reading: str = "") -> None:
        w, h = self.cols, self.rows
        if snap is None:
            return
        st = max(1, round(snap.step * snap.scale))
        scale = snap.scale
        if not books:
            self.set_title("DOM")
            self.set_lines([((fit(f"no order book for {snap.group}: the venues send no depth", w), "muted"),)])
            return
        states = [(b, b.status(now, stale_s)) for b in sorted(books, key=lambda b: b.venue)]
        live = [b for b, s in states if s == "live"]
        shown = [b for b, _ in states] if per_venue else live
        if not per_venue:
            out = [f"{b.venue} {s}" for b, s in states if s != "live"]
            self.set_title(f"DOM · {len(live)}/{len(states)} books" + (f" · {', '.join(out)}" if out else "")
                           + f" · rows {snap.step:g}")
        if not live:
            if per_venue:
                self.set_title(f"DOM · per venue · rows {snap.step:g}")
            lines = [((fit("order book not live: nothing drawn until it is", w), "bold"),)]
            lines += [((fit(f"  {b.venue:<12} {s}", w), "muted"),) for b, s in states]
            self.set_lines(lines)
            return
        best_bid = max((b.best_bid() for b in live if b.best_bid() == b.best_bid()), default=math.nan)
        best_ask = min((b.best_ask() for b in live if b.best_ask() == b.best_ask()), default=math.nan)
        ref = best_bid if best_bid == best_bid else best_ask if best_ask == best_ask else snap.last_price
        bid_row = _row(best_bid, scale, st)
        ask_row = _row(best_ask, scale, st)
        centre = _row(ref, scale, st)
        reading_lines = self._reading(reading, w) if h >= 16 else []  # the book readings, on a tall panel
        room = max(1, h - 2 - len(reading_lines))
        top = self._window(centre, room, st)
        keys = [top - i * st for i in range(room)]
        rows: dict[int, list[float]] = {}  # row ticks -> [bid, ask] summed
        per: dict[str, dict] = {}
        for b in live:
            bids, asks = self._top(b, keys[-1] / scale, (keys[0] + st) / scale)
            target = per.setdefault(b.market, {}) if per_venue else rows
            bin_side(bids, scale, st, target, 0)
            bin_side(asks, scale, st, target, 1)
        bars = sorted(snap.bars, key=lambda b: b.open_ts)
        bar = bars[max(0, len(bars) - 1 - offset)] if bars else None
        traded = bar.rows if bar is not None else {}
        # a wall of the last 1 s sample whose level has gone since (a fast run) is no wall on screen
        binned = list(per.values()) if per_venue else [rows]
        wall_rows = {(r, is_bid) for r, is_bid in ((_row(wp, scale, st), is_bid) for wp, is_bid in walls)
                     if any(d.get(r, (0.0, 0.0))[0 if is_bid else 1] > 0 for d in binned)}
        dec = step_decimals(snap.step)
        pw = max(len(row_price(k / scale, dec)) for k in keys)
        show_traded = w >= 1 + pw + 2 + 2 * (CELL + 1) + TRADED_W + 6
        lines = []
        if per_venue:
            lines += self._venues(states, per, keys, traded, scale, (pw, dec), w, bid_row, ask_row, wall_rows,
                                  show_traded)
            hidden = len(states) - self._venues_shown
            self.set_title(f"DOM · per venue · rows {snap.step:g}" + (f" · {hidden} more: widen" if hidden else ""))
        else:
            lines += self._merged(rows, keys, traded, scale, (pw, dec), w, bid_row, ask_row, wall_rows, show_traded)
        spread = best_ask - best_bid if best_bid == best_bid and best_ask == best_ask else math.nan
        if spread == spread and spread < 0:  # one venue's bid above another's ask: say so, it is no spread
            lead = f"venues cross by {-spread:g}  "
        else:
            lead = f"spread {spread:g}  " if spread == spread else ""
        legend = lead + "reverse = touch  W wall  bars √size  d: per venue / merged"
        lines += [((text, "bold"),) for text in reading_lines]
        lines.append(((fit(legend, w), "muted"),))
        self.set_lines(lines)

    def _window(self, centre: int | None, room: int, st: int) -> int:
        """The top row: kept while the touch stays in the middle half of the ladder, re-centred when
        it leaves it. A ladder that re-centred on every tick shifted every line (all repainted) and
        was hard to read; this is the DOM's usual auto-centre."""
        old_st, old_room, top = self._frame
        if centre is None:
            return top
        inside = old_st == st and old_room == room and top - (3 * room // 4) * st <= centre <= top - (room // 4) * st
        if not inside:
            top = centre + (room // 2) * st
            self._frame = (st, room, top)
        return top

    def _scale(self, largest: float) -> float:
        """The bars' full length: a 1-2-5 ceiling of the largest row, kept until a row outgrows it or
        the largest falls under a fifth of it (steady bars, fewer lines to repaint)."""
        peak = getattr(self, "_peak", 0.0)
        if largest > peak or largest < peak / 5:
            peak = self._peak = nice_ceiling(largest)
        return peak

    def _reading(self, reading: str, w: int) -> list:
        if self._wrapped[:2] != (reading, w):
            lines = wrap(reading, w) if reading else []
            if len(lines) > 2:
                lines = [lines[0], fit(" ".join([lines[1]] + [x.strip() for x in lines[2:]]), w)]
            self._wrapped = (reading, w, lines)
        return self._wrapped[2]

    def _cached(self, params: tuple) -> dict:
        if params != self._row_params or len(self._row_lines) > 4000:
            self._row_lines.clear()
            self._row_params = params
        return self._row_lines

    def _price_runs(self, k: int, scale: float, pw, bid_row, ask_row, wall_rows) -> list:
        touch = k == bid_row or k == ask_row
        wall = (k, True) in wall_rows or (k, False) in wall_rows
        return [("W" if wall else " ", "bold"), (row_price(k / scale, pw[1]).rjust(pw[0]), "bold reverse" if touch else "")]

    def _traded(self, k: int, traded: dict) -> list:
        cell = traded.get(k)
        if cell is None:
            return [(" " + "·".center(TRADED_W), "muted")]
        half = (TRADED_W - 1) // 2
        return [(" " + short(cell[0]).rjust(half), "sell"), ("×", "muted"), (short(cell[1]).ljust(TRADED_W - 1 - half), "buy")]

    def _merged(self, rows, keys, traded, scale, pw, w, bid_row, ask_row, wall_rows, show_traded) -> list:
        """The classic ladder: bid bar, bid size | price | ask size, ask bar; traded on the right."""
        fixed = 1 + CELL + 1 + pw[0] + 1 + CELL + 1 + (TRADED_W + 1 if show_traded else 0)
        bar_w = max(0, (w - fixed) // 2)
        peak = self._scale(max((max(rows.get(k, (0.0, 0.0))) for k in keys), default=0.0))
        cache = self._cached(("merged", bar_w, pw, peak, show_traded))
        head = " " + "bids".rjust(bar_w + CELL) + " " + "price".center(pw[0]) + " " + "asks".ljust(CELL + bar_w)
        if show_traded:
            head += " " + "traded".center(TRADED_W)
        out = [((fit(head, w), "bold"),)]
        for k in keys:
            bid, ask = rows.get(k, (0.0, 0.0))
            key = (k, bid, ask, traded.get(k), k == bid_row or k == ask_row, (k, True) in wall_rows,
                   (k, False) in wall_rows)
            line = cache.get(key)
            if line is not None:
                out.append(line)
                continue
            mark, label = self._price_runs(k, scale, pw, bid_row, ask_row, wall_rows)
            bstyle = "bold buy" if (k, True) in wall_rows else "buy"
            astyle = "bold sell" if (k, False) in wall_rows else "sell"
            runs = [mark] + bar_runs(bid, peak, bar_w, True, "buy")
            runs += [((short(bid) if bid else "").rjust(CELL), f"{bstyle} {_shade(bid, peak)}" if bid else ""),
                     (" ", ""), label, (" ", ""),
                     ((short(ask) if ask else "").ljust(CELL), f"{astyle} {_shade(ask, peak)}" if ask else "")]
            runs += bar_runs(ask, peak, bar_w, False, "sell")
            if show_traded:
                runs += self._traded(k, traded)
            out.append(cache.setdefault(key, tuple(runs)))
        return out

    def _venues(self, states, per, keys, traded, scale, pw, w, bid_row, ask_row, wall_rows, show_traded) -> list:
        col_w = 2 * CELL + 2
        show_traded = show_traded and w - (1 + pw[0]) - (TRADED_W + 1) >= col_w * len(states)  # venues first
        room = w - (1 + pw[0]) - (TRADED_W + 1 if show_traded else 0)
        n = max(1, room // col_w)
        states = states[:n]
        self._venues_shown = len(states)
        head = [(" " * (1 + pw[0]), "")]
        for b, s in states:
            head.append((" " + fit(b.venue, col_w - 1).center(col_w - 1), "bold" if s == "live" else "bold reverse"))
        if show_traded:
            head.append((" " + "traded".center(TRADED_W), "bold"))
        out = [tuple(head)]
        shown = set(keys)
        peak = self._scale(max((max(v) for rows in per.values() for k, v in rows.items() if k in shown), default=0.0))
        for k in keys:
            runs = self._price_runs(k, scale, pw, bid_row, ask_row, wall_rows)
            for b, s in states:
                if s != "live":
                    runs.append((" " + ("·" if k != keys[0] else s[:col_w - 1]).center(col_w - 1), "muted"))
                    continue
                bid, ask = per.get(b.market, {}).get(k, (0.0, 0.0))
                runs += [(" ", ""), ((short(bid) if bid else "").rjust(CELL), f"buy {_shade(bid, peak)}" if bid else ""),
                         (" ", ""), ((short(ask) if ask else "").ljust(CELL), f"sell {_shade(ask, peak)}" if ask else "")]
            if show_traded:
                runs += self._traded(k, traded)
            out.append(tuple(runs))
        return out


def nice_ceiling(x: float) -> float:
    """The 1-2-5 value at or above x: bars keep their scale while the largest row wobbles."""
    if x <= 0:
        return 0.0
    e = math.floor(math.log10(x))
    for m in (1, 2, 5, 10):
        if m * 10.0**e >= x:
            return m * 10.0**e
    return 10.0 ** (e + 1)


def _row(p: float, scale: float, st: int) -> int | None:
    if p != p:
        return None
    t = int(p * scale + 0.5)
    return t - t % st


def _shade(size: float, peak: float) -> str:
    return f"shade{min(SHADES - 1, int(size / peak * SHADES))}" if peak > 0 else "shade0"
