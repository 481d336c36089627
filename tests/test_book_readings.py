"""Book readings and the heatmap ring on hand-built books (the real L2Book in a real Engine): each
reading fires on the case it names and stays silent on the cases that look like it (a wall eaten,
a resync, a flicker; an absorption whose level gave way)."""

import math
import time

import numpy as np

from orderflow_tui.config import EngineSettings
from orderflow_tui.engine.book_heatmap import HeatmapRing, TradeTape, fine_rows
from orderflow_tui.engine.book_readings import BookWatch, find_walls, touch_imbalance
from orderflow_tui.engine.engine import Engine
from orderflow_tui.events import Trade

T0 = 1_723_161_600_000
M = "binance:BTCUSDT"


class Feed:
    """An engine with group BTC on rows of $1, one Binance book, and a clock for the samples."""

    def __init__(self, **settings) -> None:
        s = EngineSettings(row_size={"BTC": 1.0}, book_wall_min_quote=1000.0, book_absorb_min_quote=1000.0,
                           **settings)
        self.engine = Engine(s)
        self.watch = BookWatch(s, capacity=100, rows=200, stale_s=3600.0)
        self.book = self.engine.book(M, "binance")
        self.id = 0
        self.ts = T0
        self.now = time.monotonic()
        self.trade(100.0, 0.001, True)

    def trade(self, price: float, qty: float, is_buy: bool) -> None:
        self.id += 1
        self.engine.on_trade(Trade(M, "binance", "BTCUSDT", self.ts, price, qty, price * qty, is_buy, self.id))

    def sample(self, seconds: float = 1.0) -> None:
        self.now += seconds
        self.ts += int(seconds * 1000)
        self.engine.tick(self.ts)
        self.watch.sample(self.engine, self.now)

    def alerts(self, kind: str) -> list:
        return [a for a in self.engine.alerts if a.kind == kind]


def ladder(best_bid=99.9, best_ask=100.0, n=100, tick=0.1, size=1.0, extra_bids=(), extra_asks=()):
    bids = {round(best_bid - i * tick, 1): size for i in range(n)}
    asks = {round(best_ask + i * tick, 1): size for i in range(n)}
    bids.update(dict(extra_bids))
    asks.update(dict(extra_asks))
    return list(bids.items()), list(asks.items())


def test_touch_imbalance_counts_only_the_size_near_the_mid():
    f = Feed()
    f.book.apply_snapshot([(99.9, 3.0), (99.8, 1.0), (90.0, 50.0)], [(100.1, 1.0), (110.0, 70.0)], T0)
    bid, ask, net = touch_imbalance([f.book], {M: f.book.top(100)}, 10.0)  # 10 bps of 100 = 0.10
    assert (bid, ask) == (3.0, 1.0) and net == 50.0  # 99.8 is 20 bps away
    f.sample()
    assert "Book: bid-heavy +50% within 10 bps" in f.watch.reasons("BTC", f.ts // 1000)[0]


def test_walls_are_levels_much_larger_than_their_neighbours():
    levels = [(100.0 - i, 1.0) for i in range(20)]
    levels[10] = (90.0, 12.0)  # 12x the median of its neighbours
    levels[3] = (97.0, 4.0)  # only 4x: not a wall at ratio 5
    assert find_walls(levels, 5.0, 5, 0.0) == [(90.0, 12.0, 12.0)]
    assert find_walls(levels, 5.0, 5, 2000.0) == []  # worth 1080 $: under the minimum


def test_a_wall_pulled_before_the_price_reached_it_alerts_once():
    f = Feed()
    f.book.apply_snapshot(*ladder(extra_bids=[(98.0, 30.0)]), T0)
    f.sample()
    f.sample(5)
    assert f.watch.readings["BTC"].current_walls(True)[0].price == 98.0
    f.book.apply_levels(True, [(98.0, 0.0)], f.ts)
    f.sample()
    pulled = f.alerts("wall_pulled")
    assert len(pulled) == 1 and "binance bid wall pulled, 30.00 @ 98.0000" in pulled[0].text
    assert "wall pulled" in f.watch.reasons("BTC", f.ts // 1000)[0]


def test_a_wall_the_price_reached_is_eaten_not_pulled():
    f = Feed()
    f.book.apply_snapshot(*ladder(extra_bids=[(98.0, 30.0)]), T0)
    f.sample()
    f.sample(5)
    # sellers take every bid down to the wall, then the wall itself
    f.book.apply_levels(True, [(p, 0.0) for p, _ in ladder()[0] if p > 98.0], f.ts)
    f.sample()
    f.book.apply_levels(True, [(98.0, 0.0)], f.ts)
    f.sample()
    assert f.alerts("wall_pulled") == []


def test_a_wall_traded_away_between_samples_is_not_pulled():
    f = Feed()
    f.book.apply_snapshot(*ladder(extra_bids=[(98.0, 30.0)]), T0)
    f.sample()
    f.sample(5)
    f.trade(98.0, 29.0, False)  # another venue's touch, or a sweep between two samples
    f.book.apply_levels(True, [(98.0, 0.0)], f.ts)
    f.sample()
    assert f.alerts("wall_pulled") == []


def test_a_flicker_and_a_resync_are_not_pulls():
    f = Feed()
    f.book.apply_snapshot(*ladder(extra_bids=[(98.0, 30.0)]), T0)
    f.sample()
    f.book.apply_levels(True, [(98.0, 0.0)], f.ts)  # gone after 1 s: under book_wall_min_s
    f.sample()
    f.book.apply_levels(True, [(98.0, 30.0)], f.ts)
    f.sample()
    f.sample(5)
    f.book.mark_gap()  # a resync: the new snapshot lacks the wall
    f.sample()
    f.book.apply_snapshot(*ladder(), T0)
    f.sample()
    assert f.alerts("wall_pulled") == []
    assert f.watch.reasons("BTC", f.ts // 1000)  # the book is back: readings again


def test_pulled_walls_are_throttled_per_side():
    f = Feed()
    f.book.apply_snapshot(*ladder(extra_bids=[(98.0, 30.0), (97.0, 30.0)], extra_asks=[(102.0, 30.0)]), T0)
    f.sample()
    f.sample(5)
    f.book.apply_levels(True, [(98.0, 0.0)], f.ts)
    f.sample()
    f.book.apply_levels(True, [(97.0, 0.0)], f.ts)
    f.book.apply_levels(False, [(102.0, 0.0)], f.ts)
    f.sample()
    texts = [a.text for a in f.alerts("wall_pulled")]
    assert len(texts) == 2 and "bid wall" in texts[0] and "ask wall" in texts[1]  # the 2nd bid pull throttled
    assert len([e for e in f.watch.readings["BTC"].events if e.kind == "wall_pulled"]) == 3


def test_absorption_confirmed_when_the_level_holds_under_selling():
    f = Feed()
    f.book.apply_snapshot(*ladder(best_bid=99.5, best_ask=100.0, n=30, size=10.0), T0)
    f.sample()
    f.trade(99.5, 8.0, False)
    f.trade(99.5, 7.0, False)
    f.sample()
    assert f.alerts("absorption") == []  # row 99 ($99-100) rests 99.0..99.5 = 60: 15 sold is not enough
    f.trade(99.5, 50.0, False)
    f.sample()
    found = f.alerts("absorption")
    assert len(found) == 1 and "bids took 65.00 of selling" in found[0].text and "100%" in found[0].text


def test_no_absorption_when_the_level_gives_way():
    f = Feed()
    f.book.apply_snapshot(*ladder(best_bid=99.5, best_ask=100.0, n=30, size=10.0), T0)
    f.sample()
    f.trade(99.5, 70.0, False)
    f.book.apply_levels(True, [(round(99.5 - 0.1 * i, 1), 1.0) for i in range(6)], f.ts)  # 60 -> 6 left
    f.sample()
    assert f.alerts("absorption") == []
    f = Feed()
    f.book.apply_snapshot(*ladder(best_bid=99.5, best_ask=100.0, n=30, size=10.0), T0)
    f.sample()
    f.trade(99.5, 70.0, False)
    f.book.apply_snapshot(*ladder(best_bid=98.5, best_ask=98.6, n=30, size=10.0), T0)  # the price went through
    f.sample()
    assert f.alerts("absorption") == []


def test_heatmap_ring_sums_rows_and_stays_bounded():
    ring = HeatmapRing(scale=10.0, step_ticks=10, capacity=4, rows=20)  # rows of $1
    bids = fine_rows([(99.5, 1.0), (99.2, 2.0), (95.0, 4.0), (50.0, 9.0)], 10.0, 10)
    asks = fine_rows([(100.0, 5.0), (101.9, 6.0)], 10.0, 10)
    ring.add(1, 99.75, 99.8, [bids], [asks], 1, {99: [1.0, 2.0]}, ((99.0, 1e6, True),))
    cells = ring.window(ring.slots(0, 10), top=101, n_rows=8, k=1)  # rows 101 .. 94
    assert cells[0].tolist() == [6.0, 5.0, 3.0, 0.0, 0.0, 0.0, 4.0, 0.0]
    coarse = ring.window(ring.slots(0, 10), top=50, n_rows=2, k=2)  # rows 100-101, 98-99
    assert coarse[0].tolist() == [11.0, 3.0]
    assert math.isnan(ring.window(ring.slots(0, 10), top=60, n_rows=1, k=1)[0][0])  # 50 is outside the window
    ring.add(2, math.nan, 99.8, [], [], 0, {}, ())
    assert np.isnan(ring.window(ring.slots(0, 10), 101, 3, 1)[1]).all()  # no live book: nothing known
    shape = ring.sizes.shape
    for sec in range(3, 20):
        ring.add(sec, 100.0, 100.0, [bids], [asks], 1, {}, ())
    assert len(ring) == 4 and ring.sizes.shape == shape and [int(ring.sec[s]) for s in ring.slots(0, 10)] == [16, 17, 18, 19]
    assert [int(ring.sec[s]) for s in ring.slots(2, 2)] == [16, 17]


def test_trade_tape_reads_volume_per_row_across_a_bar_close():
    f = Feed()
    tape = TradeTape()
    g = f.engine.groups["BTC"]
    assert tape.take(g.markets, g.grid.step_ticks) == {100: [0.001, 0.0]}
    f.trade(99.5, 2.0, False)
    assert tape.take(g.markets, g.grid.step_ticks) == {99: [0.0, 2.0]}
    f.trade(99.4, 1.0, False)
    f.ts += 60_000  # the next bar: what the closed one gained is still counted
    f.trade(100.2, 3.0, True)
    assert tape.take(g.markets, g.grid.step_ticks) == {99: [0.0, 1.0], 100: [3.0, 0.0]}
    assert tape.take(g.markets, g.grid.step_ticks) == {}


def test_only_the_groups_on_screen_keep_a_heatmap_history():
    f = Feed()
    f.book.apply_snapshot(*ladder(), T0)
    f.watch.sample(f.engine, f.now, heat={"ETH"})  # BTC is not shown: readings, no history
    assert f.watch.rings["BTC"].capacity == 2 and f.watch.readings["BTC"].imbalance is not None
    f.watch.sample(f.engine, f.now + 1, heat={"BTC"})
    assert f.watch.rings["BTC"].capacity == 100 and len(f.watch.rings["BTC"]) == 1
