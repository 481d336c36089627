"""The accumulated view: the store's long memory, read in a thread every few seconds: the totals, the
chart chosen with 1-8 and the largest cascades, over the range `r` and the group `g` choose."""

from __future__ import annotations

import threading
from pathlib import Path

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical

from orderflow_tui.ui.widgets.acc_cascades import CascadeTable
from orderflow_tui.ui.widgets.accumulated_panel import AccumulatedChart, AccumulatedTotals
from orderflow_tui.ui.widgets.chart_grid import H, AccData

RANGE_HOURS = {"24h": 24, "7d": 168, "30d": 720, "all": None}


class AccumulatedView(Horizontal):
    def compose(self) -> ComposeResult:
        yield AccumulatedTotals("ACCUMULATED", id="acc-totals")
        with Vertical(id="acc-right"):
            yield AccumulatedChart("CHART", id="acc-chart")
            yield CascadeTable("LARGEST CASCADES", id="acc-cascades")

    def show(self, stats, data: AccData | None, chart: int, path, error: str) -> None:
        self.query_one(AccumulatedTotals).show(stats, data, path, error)
        self.query_one(AccumulatedChart).show(data, chart, error)
        table = self.query_one(CascadeTable)
        if table.display:
            table.show(data, error)


_CACHE: dict = {}  # (what, store, ...) -> (store state, result): a quiet store is not read twice
_OPEN: dict = {}  # SQLite file -> its read-only connection, kept between reads (opening one checks the file)
_LOCK = threading.Lock()  # one read at a time: a read for a range no longer shown may still be running


def read_store(path, group: str, range_name: str, now_ms: int, price: float | None, settings,
               wanted=lambda: True) -> tuple | None:
    """(totals since the store began, AccData for the range and group) from one read of the store (a
    worker thread calls it; StoreError and database errors reach the caller). The totals and the
    analysis are read again only when the store changed or the range moved to another hour. None
    when ``wanted()`` says, once the previous read is done, that this one is no longer needed."""
    from orderflow_tui.store.postgres import connect_any, dsn_of  # a file, or postgresql://...

    with _LOCK:
        if not wanted():
            return None
        keep = not dsn_of(path)
        name = str(Path(path).resolve()) if keep else ""
        conn = _OPEN.pop(name, None) if keep else None
        if conn is None:
            conn = connect_any(path, readonly=True)
        try:
            out = _read(conn, path, group, range_name, now_ms, price, settings)
        except BaseException:
            conn.close()  # the next read opens (and checks) the file again
            raise
        if keep:
            for old in _OPEN.values():  # one store at a time is the dashboard's; tests open many
                old.close()
            _OPEN.clear()
            _OPEN[name] = conn
        else:
            conn.close()
        return out


def _read(conn, path, group: str, range_name: str, now_ms: int, price: float | None, settings) -> tuple:
    from orderflow_tui.store.analysis import (desk, last_price, quote_before, raw_extent, span_bounds, store_state,
                                              vwap_hours)
    from orderflow_tui.store.db import accumulated

    hours_back = RANGE_HOURS[range_name]
    since = None if hours_back is None else now_ms - hours_back * H
    state = store_state(conn)

    def cached(key, compute):
        hit = _CACHE.get(key)
        if hit is not None and hit[0] == state:
            return hit[1]
        if len(_CACHE) > 32:
            _CACHE.clear()
        value = compute()
        _CACHE[key] = (state, value)
        return value

    stats = cached(("totals", str(path)), lambda: accumulated(conn))
    d = cached(("desk", str(path), group, span_bounds(since, None)),
               lambda: desk(conn, since, None, group, None, settings.engine.liquidation_bucket))
    start = since if since is not None else (d.hours[0].ts if d.hours else now_ms - H)
    end = max(now_ms, d.hours[-1].ts + H if d.hours else now_ms)
    prices = cached(("prices", str(path), group, span_bounds(since, None)), lambda: vwap_hours(conn, since, group))
    from orderflow_tui.store.db import cvd_hours

    cvd = cached(("cvd", str(path), group, span_bounds(since, None)), lambda: cvd_hours(conn, since, group=group))
    before = quote_before(conn, start, group) if since is not None else 0.0
    if not price:  # no trade seen by this process: the last hourly VWAP, else the last liquidation's
        price = prices[-1][1] if prices else last_price(conn, group)
    extent = raw_extent(conn, group, since)
    if extent and d.hours and d.hours[0].ts + H <= extent[0]:  # raw rows aged out: the rollup's hour
        extent = (d.hours[0].ts, extent[1])
    return stats, AccData(d, start, end, range_name, group, price or None, prices, before, extent, cvd)
