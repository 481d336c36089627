"""CVD: the group's cumulative volume delta, its trend, and a sparkline of its history."""

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


class CvdPanel(LinePanel):
    def show(self, snap) -> None:
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
