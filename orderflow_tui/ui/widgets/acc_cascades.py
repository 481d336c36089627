"""Cascades in the accumulated view: 3 the timeline (each finished cascade at its start, its height
the risk score, its mark sized by volume) and the LARGEST CASCADES table beside every chart."""

from __future__ import annotations

from orderflow_tui.ui.format import hm, money, ymd
from orderflow_tui.ui.widgets.chart_grid import Y_LABEL, AccData, Grid, data_note, header, quantiles, shade_of, \
    time_axis
from orderflow_tui.ui.widgets.line_panel import Columns, LinePanel

MARKS = "∙•●◉"
BAND_STYLE = {"low": "muted", "moderate": "", "high": "bold", "extreme": "bold reverse"}
BANDS = ((1.5, "extreme"), (1.0, "high"), (0.7, "moderate"), (0.0, "low"))


def timeline(data: AccData, width: int, height: int) -> list:
    cascades = data.desk.cascades
    n = len(cascades)
    top = header(f"3 CASCADE TIMELINE  {data.group}  {data.range_name}  {n} cascade{'s' if n != 1 else ''}",
                 data_note(data), width)
    rows = height - len(top) - 2
    plot_w = width - Y_LABEL
    if rows < 6 or plot_w < 10:
        return [(("too small for this chart: enlarge the terminal", "muted"),)]
    axis = time_axis(data.start, data.end, plot_w)
    grid = Grid(width, rows)

    def row_of(risk: float) -> int:
        return max(0, min(rows - 1, round((2.0 - min(2.0, risk)) / 2.0 * (rows - 1))))

    for edge, band in BANDS:
        y = row_of(edge) if edge else rows - 1
        grid.text(0, y, f"{band[:Y_LABEL - 2]}".rjust(Y_LABEL - 1), BAND_STYLE[band] or "")
        if edge:
            for x in range(plot_w):
                grid.put(Y_LABEL + x, y, "┄", "muted")
    edges = quantiles([c["quote"] for c in cascades])
    best: dict[tuple, float] = {}
    for c in cascades:
        i = axis.index(c["start_ts"])
        if i is None:
            continue
        c0, _ = axis.cols(i)
        cell = (Y_LABEL + c0, row_of(c["risk"]))
        if best.get(cell, -1.0) >= c["quote"]:
            continue  # two cascades in one cell: the larger one shows
        best[cell] = c["quote"]
        k = shade_of(c["quote"], edges)
        grid.put(*cell, MARKS[max(0, k - 1)], BAND_STYLE.get(c["band"], ""))
    size = " ".join(f"{MARKS[k]}{'<' if k == 0 else '≥'}{money(edges[max(0, k - 1)])}"
                    for k in range(len(edges) + 1)) if edges else ""
    return [*top, *grid.lines(), (((" " * Y_LABEL + axis.labels())[:width], "muted"),),
            ((f"height: risk 0-2   size: volume {size}   bold: high, reversed: extreme"[:width], "muted"),)]


def duration(ms: int) -> str:
    s = max(0, ms) // 1000
    return f"{s // 3600}h{s % 3600 // 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"


class CascadeTable(LinePanel):
    """The largest finished cascades of the range and group, by volume."""

    SPEC = (("start", 14, "<", 0), ("dur", 5, ">", 2), ("n", 4, ">", 3), ("volume", 8, ">", 0),
            ("long%", 5, ">", 4), ("venues", 14, "<", 5), ("risk", 13, "<", 1))

    def show(self, data: AccData | None, error: str = "") -> None:
        width, height = self.cols, self.rows
        if error or data is None:
            self.set_lines([((error or "reading the store…", "muted"),)])
            return
        cols = Columns(self.SPEC, width)
        biggest = sorted(data.desk.cascades, key=lambda c: -c["quote"])[: max(0, height - 1)]
        if not biggest:
            self.set_lines([cols.header(), ((f"no finished {data.group} cascade in this {data.range_name} range",
                                             "muted"),)])
            return
        lines = [cols.header()]
        for c in biggest:
            q = c["quote"]
            lines.append(cols.row({
                "start": f"{ymd(c['start_ts'])} {hm(c['start_ts'])}", "dur": duration(c["end_ts"] - c["start_ts"]),
                "n": c["count"], "volume": money(q), "long%": f"{c['long_quote'] / q * 100:.0f}" if q else "-",
                "venues": " ".join(v[:3] for v in c["venues"]), "risk": f"{c['risk']:.2f} {c['band']}"},
                {"risk": BAND_STYLE.get(c["band"], "")}))
        self.set_lines(lines)
