"""ACCUMULATED: the store's totals since it was first written, and a TradingView-style chart.
Both change only when the store is read again (every few seconds), and are redrawn only then."""

from __future__ import annotations

from plotext._figure import _figure_class
from rich.text import Text

from orderflow_tui.store.report import format_stats
from orderflow_tui.ui.format import day_hour
from orderflow_tui.ui.widgets.line_panel import LinePanel


class AccumulatedTotals(LinePanel):
    def show(self, stats: dict | None, path, error: str = "") -> None:
        if error:
            self.set_lines([((error, "bold red"),)])
        elif stats is None:
            self.set_lines([(("reading the store…", "muted"),)])
        else:
            self.set_lines([((line, ""),) for line in format_stats(stats, path).splitlines()])


class LiquidationChart(LinePanel):
    """Price on top, volume under it, liquidation bars below (longs down, shorts up), and the open
    interest summed over the venues (one- or two-sided: indicative, see MARKET), per hour."""

    def __init__(self, *a, **kw) -> None:
        super().__init__(*a, **kw)
        self._drawn = None

    def show(self, hours: list[tuple], range_name: str, error: str = "") -> None:
        width, height = self.cols, self.rows
        if error:
            self._drawn = None
            self.set_lines([((error, "muted"),)])
            return
        key = (tuple(hours), range_name, width, height, self.app.theme)
        if key == self._drawn:
            return  # plotext is slow: draw only when the data or the size changed
        self._drawn = key
        if not hours:
            self.set_lines([((f"{range_name}: no hourly data in the store yet", "muted"),)])
            return
        if width < 30 or height < 9:
            self.set_lines([(("too small for the chart", "muted"),)])
            return
        fig = _figure_class()  # this widget's own figure: plotext's global one is shared state
        oi = [(x, h[6]) for x, h in enumerate(hours) if len(h) > 6 and h[6]]  # open interest, when stored
        fig.subplots(4 if oi else 3, 1)
        xs = list(range(len(hours)))
        known = [(x, h[5]) for x, h in zip(xs, hours) if h[5] > 0]
        top = fig.subplot(1, 1)
        top.title(f"price (hourly VWAP) · volume · liquidations  [{range_name}]")
        if known:
            top.plot([x for x, _ in known], [p for _, p in known], color="cyan")
        mid = fig.subplot(2, 1)
        mid.bar(xs, [(h[3] + h[4]) / 1e6 for h in hours], color="gray")
        mid.ylabel("vol $M")
        low = fig.subplot(3, 1)
        low.bar(xs, [h[2] / 1e6 for h in hours], color="green")  # shorts liquidated: up
        low.bar(xs, [-h[1] / 1e6 for h in hours], color="red")  # longs liquidated: down
        low.ylabel("liq $M")
        subs = [top, mid, low]
        if oi:
            ctx = fig.subplot(4, 1)
            ctx.plot([x for x, _ in oi], [v / 1e9 for _, v in oi], color="orange")
            ctx.ylabel("OI $B*")
            subs.append(ctx)
        step = max(1, len(hours) // max(1, min(6, width // 18)))  # labels like 20261207 16:00 never touch
        ticks = xs[::step]
        labels = [day_hour(hours[i][0]) for i in ticks]
        for sub in subs:
            sub.xticks(ticks, labels)
        fig.plotsize(width, height)
        fig.theme("clear")
        console = self.app.console
        lines = []
        for line in Text.from_ansi(fig.build()).split("\n")[:height]:
            lines.append(tuple((seg.text, seg.style) for seg in line.render(console) if seg.text))
        self.set_lines(lines)
