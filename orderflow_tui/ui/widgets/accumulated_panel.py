"""ACCUMULATED: the store's totals since it was first written, and the analysis desk's charts (keys
1-8). Both change only when the store is read again (every few seconds) or a key or the size
changes, and are drawn only then."""

from __future__ import annotations

from orderflow_tui.store.report import duration
from orderflow_tui.ui.format import money, qty, stamp, ymd
from orderflow_tui.ui.widgets import acc_cascades, acc_daily, acc_heatmaps, acc_series
from orderflow_tui.ui.widgets.chart_grid import H, AccData, data_note
from orderflow_tui.ui.widgets.line_panel import LinePanel, wrap

# key -> (name in the help and the palette, what it shows, draw(data, width, height))
CHARTS = {
    1: ("Liquidation volume", "hourly, longs and shorts apart, under the price", acc_series.volume),
    2: ("Daily heatmap", "when liquidations happen: UTC day x hour", acc_heatmaps.day_hour),
    3: ("Cascade timeline", "each finished cascade: time, risk, volume", acc_cascades.timeline),
    4: ("Long vs short", "share and volume over time", acc_series.long_short),
    5: ("Market share by venue", "each venue's share over time, stacked", acc_series.market_share),
    6: ("Daily summary", "USD, coin and events per day, busiest marked", acc_daily.daily),
    7: ("Cumulative volume", "liquidated since the store began", acc_series.cumulative),
    8: ("Price levels", "where liquidations cluster by price bucket", acc_heatmaps.price_levels),
}


class AccumulatedTotals(LinePanel):
    """The totals since the store began (every group), then the range and group the keys chose;
    every line fits the panel (cut with … only below 120 columns)."""

    def show(self, stats: dict | None, data: AccData | None, path, error: str = "") -> None:
        width = max(10, self.cols)
        if error:
            self.set_lines([((line, "bold red"),) for line in _wrap(error, width)])
            return
        if stats is None:
            self.set_lines([(("reading the store…", "muted"),)])
            return
        self.set_lines([((part, s),) for t, s in summary(stats, data, str(path))
                        for part in (wrap(t, width, "       ") if t else [""])])


def _wrap(text: str, width: int) -> list[str]:
    import textwrap

    return textwrap.wrap(text, width) or [""]


def summary(r: dict, data: AccData | None, path: str) -> list[tuple[str, str]]:
    from orderflow_tui.store.db import masked  # a postgresql:// store is shown without its password

    t, lo, sh = r["total"], r["long"], r["short"]
    out = [(f"STORE  {r.get('source', 'all')} · {masked(path)}", "muted"),
           (f"First  {stamp(r['first_ts'])} UTC" if r["first_ts"] else "First  -", ""),
           (f"Last   {stamp(r['last_ts'])} UTC" if r["last_ts"] else "Last   -", ""),
           (f"Span   {duration(r['duration_ms'])}", ""),
           ("", ""),
           (f"TOTAL  {t['count']:,} events  {money(t['quote'])}", "bold"),
           (f"       {r['cascades']['count']:,} cascades ({r['cascades']['cross_exchange']:,} cross-exchange)", ""),
           (f"LONG   {lo['count']:>7,} events {money(lo['quote']):>9} {lo['share_pct']:5.1f}%", "long"),
           (f"SHORT  {sh['count']:>7,} events {money(sh['quote']):>9} {sh['share_pct']:5.1f}%", "short")]
    if r["groups"]:
        out.append(("BY GROUP", "bold"))
        for g, v in sorted(r["groups"].items()):
            out.append((f"  {g:<5} {v['count']:>7,} {qty(v['base']):>12} {money(v['quote']):>9}", ""))
    if r["venues"]:
        out.append(("BY VENUE", "bold"))
        for venue, v in r["venues"].items():
            out.append((f"  {venue.upper():<11} {v['count']:>7,} {money(v['quote']):>9} {v['share_pct']:5.1f}%", ""))
    hours = r["duration_ms"] / H
    if hours >= 1:  # per-hour rates only over at least an hour: never extrapolated from minutes
        out.append((f"RATES  {t['count'] / hours:,.1f} events/h  {money(t['quote'] / hours)}/h", ""))
    elif t["count"]:
        out.append(("RATES  under an hour of data: no rate yet", "muted"))
    if data is not None:
        days = data.desk.days()
        total = sum(h.quote for h in data.desk.hours)
        count = sum(h.count for h in data.desk.hours)
        longs = sum(h.long_quote for h in data.desk.hours)
        out += [("", ""), (f"{data.group} · last {data.range_name}", "bold"),
                (f"  {count:,} events  {money(total)}" + (f"  longs {longs / total * 100:.0f}%" if total else ""),
                 "")]
        if days:
            top = max(days, key=lambda d: d["quote"])
            out.append((f"  busiest day {ymd(top['day_ts'])} {money(top['quote'])}", ""))
        note = data_note(data)
        if note:
            out.append((f"  {note}", "muted"))
    out += [("", ""), ("keys 1-8 charts · r range · g group", "muted")]
    return out


class AccumulatedChart(LinePanel):
    """The chart chosen with 1-8, drawn only when the data, the chart or the size changed."""

    def __init__(self, *a, **kw) -> None:
        super().__init__(*a, **kw)
        self._drawn = None

    def show(self, data: AccData | None, chart: int, error: str = "") -> None:
        width, height = self.cols, self.rows
        name = CHARTS[chart][0]
        self.set_title(f"CHART {chart} {name.upper()} · 1-8 chart · r range · g group")
        if error or data is None:
            self._drawn = None
            self.set_lines([((error or "reading the store…", "muted"),)])
            return
        key = (id(data), chart, width, height)
        if key == self._drawn:
            return
        self._drawn = key
        self.set_lines(CHARTS[chart][2](data, width, height))
