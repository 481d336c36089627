"""Volume profiles (analytics.md §7): POC, value area, high and low volume nodes."""

from __future__ import annotations

from dataclasses import dataclass

from orderflow_tui.engine.footprint import exact, poc_row, value_area


@dataclass(frozen=True)
class Profile:
    step_ticks: int
    rows: dict  # row ticks -> (bid, ask, trades)
    poc: int | None
    val: int | None
    vah: int | None
    hvn: tuple
    lvn: tuple


def build_profile(rows: dict, step_ticks: int, value_pct=70.0, hvn_ratio=1.5, lvn_ratio=0.5) -> Profile:
    if not rows:
        return Profile(step_ticks, {}, None, None, None, (), ())
    lo, hi = min(rows), max(rows)
    poc = poc_row(rows, hi, lo, step_ticks)
    val, vah = value_area(rows, poc, step_ticks, value_pct)
    hvn, lvn = nodes(rows, step_ticks, hvn_ratio, lvn_ratio)
    return Profile(step_ticks, {r: v.as_tuple() for r, v in rows.items()}, poc, val, vah, hvn, lvn)


def nodes(rows: dict, step_ticks: int, hvn_ratio=1.5, lvn_ratio=0.5) -> tuple[tuple, tuple]:
    """HVN: local max of the 3-row smoothed profile >= ratio x mean of non-empty rows.
    LVN: local min <= lvn_ratio x that mean, between two HVNs."""
    lo, hi = min(rows), max(rows)
    grid = list(range(lo, hi + step_ticks, step_ticks))
    # rounded like every other threshold (footprint.exact): a node hit exactly counts
    vol = [exact(rows[r].bid + rows[r].ask) if r in rows else 0.0 for r in grid]
    nonempty = [v for v in vol if v > 0]
    if len(grid) < 3 or not nonempty:
        return (), ()
    mean = sum(nonempty) / len(nonempty)
    sm = [exact((vol[max(i - 1, 0)] + vol[i] + vol[min(i + 1, len(vol) - 1)]) / 3) for i in range(len(vol))]
    high, low = exact(hvn_ratio * mean), exact(lvn_ratio * mean)
    hvn = [i for i in range(len(sm)) if sm[i] >= high
           and (i == 0 or sm[i] >= sm[i - 1]) and (i == len(sm) - 1 or sm[i] > sm[i + 1])]
    lvn = []
    for a, b in zip(hvn, hvn[1:]):
        i = min(range(a + 1, b), key=lambda j: sm[j], default=None)
        if i is not None and sm[i] <= low:
            lvn.append(i)
    return tuple(grid[i] for i in hvn), tuple(grid[i] for i in lvn)
