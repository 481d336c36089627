"""CVD: the group's cumulative volume delta, its trend, and a chart of its history.

``r`` picks the chart's range: 15m (one column per second, the default), 4h and 24h (per minute,
the session's ring) and 7d (per hour, from the store, so hours before a restart show). On the
longer ranges the price runs beside the CVD on the bottom line, aligned in time, so that a
divergence over hours can be seen."""

from __future__ import annotations

from orderflow_tui.ui.format import money, qty
from orderflow_tui.ui.widgets.line_panel import LinePanel

BLOCKS = " ▁▂▃▄▅▆▇█"


def sparkline(values, width: int, height: int) -> list[str]:
    """The last ``width`` values as block columns, ``height`` rows tall, top row first."""
    values = list(values)[-width:]
    if not values or height <= 0:
        return []
    lo, hi = min(values), max(values)
    span = hi - lo
    levels = [round((v - lo) / span * (height * 8 - 1)) + 1 if span else height * 4 for v in values]
    rows = []
    for r in range(height - 1, -1, -1):  # r: rows below this one
        rows.append("".join(BLOCKS[max(0, min(8, lv - r * 8))] for lv in levels))
    return rows


RANGE_MINUTES = {"4h": 240, "24h": 1440}


def resample(points, width: int) -> list:
    """At most ``width`` values: the last value of each of ``width`` equal slices (a chart column
    shows the CVD at its end)."""
    points = list(points)
    if width <= 0:
        return []
    if len(points) <= width:
        return points
    step = len(points) / width
    return [points[min(len(points) - 1, int((i + 1) * step) - 1)] for i in range(width)]


class CvdPanel(LinePanel):
    def show(self, snap, rng: str = "15m", hours=None) -> None:
        if rng != "15m":
            self._long(snap, rng, hours)
            return
        color = "buy" if snap.cvd_quote > 0 else "sell" if snap.cvd_quote < 0 else ""
        trend = "neutral" if snap.cvd_direction == "neutral" else f"{snap.cvd_strength} {snap.cvd_direction}"
        closed = sum(1 for b in snap.bars if b.closed)
        momentum = (f"momentum {qty(snap.momentum, signed=True)}  accel {qty(snap.acceleration, signed=True)} "
                    f"{snap.group}/bar" if closed >= 3 else "momentum: after 3 closed bars")
        if self.cols < 36:  # narrow: the same figures, shorter words
            lines = [((f"CVD {money(snap.cvd_quote, signed=True)}", f"bold {color}"),),
                     ((f"{qty(snap.cvd_base, signed=True)} {snap.group}  net {snap.net_pct:+.1f}%", ""),),
                     ((trend, ""), (f" {snap.divergence} div." if snap.divergence else "", "bold"))]
        else:
            lines = [((f"CVD {money(snap.cvd_quote, signed=True)}", f"bold {color}"),
                      (f"  ({qty(snap.cvd_base, signed=True)} {snap.group})", "")),
                     ((f"60 s net {snap.net_pct:+.1f}%  {trend}", ""),),
                     ((momentum, ""), (f"  {snap.divergence} divergence" if snap.divergence else "", "bold"))]
        history = [v for _, v in snap.cvd_history]
        if len(history) < 2:
            lines.append(((f"history: {len(history)} s so far", "muted"),))
        else:
            lines += [((row, color or "muted"),) for row in sparkline(history, self.cols, self.rows - 3)]
        self.set_lines(lines)

    def _long(self, snap, rng: str, hours) -> None:
        """The CVD over 4 h / 24 h (the session's minutes) or 7 d (the store's hours), price below."""
        w = self.cols
        if rng == "7d":
            cvd = [v for _, v in (hours or ())]
            prices: list = []
            what = "per hour from the store" if hours is not None else "no store (--no-store)"
        else:
            ring = [p for p in snap.cvd_minutes if p[0] >= snap.cvd_minutes[-1][0] - RANGE_MINUTES[rng]] \
                if snap.cvd_minutes else []
            cvd = [c for _, c, _ in ring]
            prices = [p for _, _, p in ring]
            what = f"per min, {len(ring)} so far" if len(ring) < RANGE_MINUTES[rng] else "per minute"
        change = cvd[-1] - cvd[0] if len(cvd) >= 2 else 0.0
        color = "buy" if change > 0 else "sell" if change < 0 else "muted"
        runs = [(f"CVD {rng} {money(change, signed=True)}", f"bold {color}")]
        if len(prices) >= 2 and prices[0]:
            runs.append((f"  price {(prices[-1] - prices[0]) / prices[0] * 100:+.2f}% (below)", "bold"))
        runs.append((f"  {what}", "muted"))
        head = [tuple(runs)]
        if len(cvd) < 2:
            self.set_lines(head + [((f"{rng}: not enough history yet", "muted"),)])
            return
        rows = max(1, self.rows - 1 - (1 if prices else 0))
        lines = head + [((row, color),) for row in sparkline(resample(cvd, w), w, rows)]
        if prices:  # the same columns as the CVD above: a divergence shows as opposite slopes
            # none at width 0 (a view drawn before its layout): it was an IndexError that ended the app
            lines += [((row, "muted"),) for row in sparkline(resample(prices, w), w, 1)]
        self.set_lines(lines)
