"""The L2 book itself (orderflow_tui/books/book.py): levels, best prices, counters, status."""

import math

from orderflow_tui.books.book import L2Book
from orderflow_tui.engine.engine import Engine


def _book() -> L2Book:
    b = L2Book("binance:BTCUSDT", "binance")
    b.apply_snapshot([(100.0, 1.0), (99.5, 2.0), (99.0, 0.0)], [(100.5, 3.0), (101.0, 4.0)], 1000)
    return b


def test_snapshot_levels_and_best():
    b = _book()
    assert b.synced and b.ts == 1000 and b.resyncs == 0
    assert b.best_bid() == 100.0 and b.best_ask() == 100.5
    assert b.top(5) == ([(100.0, 1.0), (99.5, 2.0)], [(100.5, 3.0), (101.0, 4.0)])  # size 0 never kept
    assert b.top(1) == ([(100.0, 1.0)], [(100.5, 3.0)])
    assert b.size_at(True, 99.5) == 2.0 and b.size_at(False, 99.5) == 0.0


def test_levels_update_remove_and_best_moves():
    b = _book()
    b.apply_levels(True, [(100.0, 0.0), (99.75, 5.0), (42.0, 0.0)], 1100)  # removing an absent level is legal
    assert b.best_bid() == 99.75 and b.size_at(True, 100.0) == 0.0
    b.apply_levels(False, [(100.5, 0.0), (101.0, 0.0)], 1200)
    assert math.isnan(b.best_ask()) and b.top(3)[1] == []
    b.apply_levels(False, [(100.25, 1.5)], 1150)
    assert b.best_ask() == 100.25 and b.ts == 1200  # ts never goes back
    b.apply_update([(99.75, 0.0)], [(100.3, 2.0)], 1300)
    assert b.updates == 1 and b.best_bid() == 99.5 and b.top(2)[1] == [(100.25, 1.5), (100.3, 2.0)]


def test_gap_resync_and_status():
    b = L2Book("okx:BTC-USDT-SWAP", "okx")
    assert b.status(0.0, 5.0) == "waiting" and math.isnan(b.best_bid())
    b.apply_snapshot([(1.0, 1.0)], [(2.0, 1.0)], 5)
    now = b.received
    assert b.status(now, 5.0) == "live" and b.status(now + 6.0, 5.0) == "stale"
    b.mark_gap()
    assert (b.synced, b.gaps, b.status(now, 5.0)) == (False, 1, "resyncing")
    b.apply_snapshot([(1.5, 1.0)], [(2.5, 1.0)], 9)
    assert (b.synced, b.resyncs, b.top(5)) == (True, 1, ([(1.5, 1.0)], [(2.5, 1.0)]))
    b.replace([(1.6, 1.0)], [(1.55, 1.0)], 10)  # a whole frame: no resync counted
    assert b.resyncs == 1 and b.crossed()


def test_bounded_levels_keep_the_nearest():
    b = L2Book("coinbase:BTC-USD", "coinbase", max_levels=100)
    b.apply_snapshot([(float(p), 1.0) for p in range(1000)], [(float(p), 1.0) for p in range(1000, 2000)], 1)
    assert b.depth() == (100, 100) and b.best_bid() == 999.0 and b.best_ask() == 1000.0
    b.apply_levels(True, [(float(p), 1.0) for p in range(-200, 0)], 2)  # far levels pile up, then go
    assert b.depth()[0] <= 125 and b.best_bid() == 999.0 and b.size_at(True, 900.0) == 1.0


def test_engine_books_by_group_never_touch_trades():
    e = Engine()
    e.book("binance:BTCUSDT", "binance").apply_snapshot([(1.0, 1.0)], [(2.0, 1.0)], 1)
    e.book("okx:BTC-USDT-SWAP", "okx")
    e.book("binance:ETHUSDT", "binance")
    assert [b.market for b in e.group_books("BTC")] == ["binance:BTCUSDT", "okx:BTC-USDT-SWAP"]
    assert e.book("binance:BTCUSDT", "binance").best_bid() == 1.0
    assert e.markets == {} and e.groups == {}
