"""CVD: sparkline of the group's cumulative volume delta, its value and trend."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Sparkline, Static

from orderflow_tui.ui.format import colors, money, qty


class CvdPanel(Vertical):
    DEFAULT_CSS = """
    CvdPanel { height: auto; }
    CvdPanel Sparkline { height: 3; }
    CvdPanel #cvd-figures { height: auto; }
    """

    def compose(self) -> ComposeResult:
        yield Static(id="cvd-figures")
        yield Sparkline([], id="cvd-spark")

    def show(self, snap) -> None:
        c = colors(self.app)
        t = Text()
        color = c["buy"] if snap.cvd_quote > 0 else c["sell"] if snap.cvd_quote < 0 else ""
        t.append(f"CVD {money(snap.cvd_quote, signed=True)}", style=f"bold {color}")
        t.append(f"  ({qty(snap.cvd_base, signed=True)} {snap.group})")
        trend = "neutral" if snap.cvd_direction == "neutral" else f"{snap.cvd_strength} {snap.cvd_direction}"
        t.append(f"\n60 s net {snap.net_pct:+.1f}%  trend: {trend}")
        t.append(f"\nmomentum {qty(snap.momentum, signed=True)}  accel {qty(snap.acceleration, signed=True)}")
        if snap.divergence:
            t.append(f"  {snap.divergence} divergence", style="bold")
        self.query_one("#cvd-figures", Static).update(t)
        spark = self.query_one("#cvd-spark", Sparkline)
        spark.data = [v for _, v in snap.cvd_history[-240:]]  # a new list: reactives ignore in-place edits
