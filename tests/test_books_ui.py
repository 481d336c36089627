"""The DOM ladder and the heatmap on real L2Books: what they draw equals the books, a book that is not
live is said to be so and left out, keys switch views and row sizes with books flowing, and
snapshots of the ladder and the heatmap at 80x24, 120x40 and 200x60 in each theme."""

import asyncio
import json
import random
import time

import pytest

from captures import hftbacktest_frames, write_capture
from orderflow_tui import config
from orderflow_tui.engine.engine import Engine
from orderflow_tui.events import Trade
from orderflow_tui.feeds.replay_source import ReplaySource
from orderflow_tui.ui.app import OrderflowApp
from orderflow_tui.ui.widgets.book_heatmap import ROW_FACTORS

FROZEN = 1_723_161_600.0
MARKETS = (("binance", "binance:BTCUSDT"), ("bybit", "bybit:BTCUSDT"), ("okx", "okx:BTC-USDT-SWAP"))


@pytest.fixture(scope="module")
def capture(tmp_path_factory):
    frames = list(hftbacktest_frames("usdm_btcusdt_20240808_trades_only.txt.gz", "binance"))[:1500]
    return write_capture(tmp_path_factory.mktemp("books-ui") / "books.jsonl", frames)


def make_app(capture, theme="dark"):
    settings = config.Settings()
    settings.ui.theme = theme
    engine = Engine(settings.engine, row_divisor=10)
    return OrderflowApp(settings, engine, ReplaySource(capture, None), groups=["BTC"], mode="REPLAY",
                        clock=lambda: FROZEN)


def text_of(widget) -> str:
    return "\n".join(widget.render_line(y).text for y in range(widget.size.height))


class Books:
    """Three venues' books around the last price, moved a little each step (seeded): a wall that
    appears and is pulled, sizes that change, a trade or two per step into the engine."""

    def __init__(self, app, seed: int = 7) -> None:
        self.app = app
        self.engine = app.engine
        self.rng = random.Random(seed)
        self.mid = round(self.engine.groups["BTC"].last_price, 1)
        self.books = [self.engine.book(m, v) for v, m in MARKETS]
        self.step_n = 0
        m = self.engine.markets["binance:BTCUSDT"]
        self.trade_id = m.last_id
        for b in self.books:
            b.apply_snapshot(*self.levels(), self.engine.now)

    def levels(self):
        r = self.rng
        bids = [(round(self.mid - 0.5 * (i + 1), 1), round(r.uniform(0.5, 1.5) * (1 + i / 50), 3)) for i in range(300)]
        asks = [(round(self.mid + 0.5 * i, 1), round(r.uniform(0.5, 1.5) * (1 + i / 80), 3)) for i in range(300)]
        return bids, asks

    def step(self, sample: bool = True) -> None:
        r = self.rng
        self.step_n += 1
        self.mid = round(self.mid + r.choice((-0.5, 0.0, 0.5)), 1)
        wall = 40.0 if 5 <= self.step_n % 20 < 15 else 0.0  # a bid wall $25.2 under the mid, pulled later
        for b in self.books:
            bids, asks = self.levels()
            b.apply_snapshot(bids + [(round(self.mid - 25.2, 1), wall or 1.0)], asks, self.engine.now)
        now = self.engine.now + 1000
        for _ in range(2):
            self.trade_id += 1
            buy = r.random() < 0.5
            p = self.mid if buy else round(self.mid - 0.1, 1)
            q = round(r.uniform(0.01, 2.0), 3)
            self.engine.on_trade(Trade("binance:BTCUSDT", "binance", "BTCUSDT", now, p, q, p * q, buy, self.trade_id))
        self.engine.tick(now)
        if sample:
            self.app.book_watch.sample(self.engine, time.monotonic())


async def ready(pilot, app, steps: int = 40) -> Books:
    for _ in range(200):
        if app.source.done:
            break
        await pilot.pause(0.05)
    app.books_timer.pause()  # the test samples: a second's timer would make the snapshots differ
    books = Books(app)
    for _ in range(steps):
        books.step()
    app.last_key = None
    app.refresh_views()
    await pilot.pause()
    return books


async def test_ladder_draws_the_books_and_says_when_one_is_not_live(capture):
    app = make_app(capture)
    async with app.run_test(size=(200, 60)) as pilot:
        books = await ready(pilot, app)
        await pilot.press("f")
        await pilot.pause()
        dom = app.query_one("#dom")
        assert dom.border_title.startswith("DOM · 3/3 books")
        snap_step = app.engine.groups["BTC"].view_step
        # the row holding the best bid: its bid size is the three books' sum over the row
        bb = max(b.best_bid() for b in books.books)
        lo = bb - bb % snap_step
        want = sum(s for b in books.books for p, s in b.top(400)[0] if lo <= p < lo + snap_step)
        row = next(line for line in text_of(dom).splitlines() if f"{lo:,.0f}" in line)
        from orderflow_tui.ui.format import short
        assert short(want) in row
        # a wall of the last sample marks its row only while the level still rests there (a fast run)
        from orderflow_tui.engine.snapshot import snapshot
        gone = lo - 20 * snap_step  # a row on screen with no bid
        dom.show(snapshot(app.engine, "BTC", bars=5), books.books, time.monotonic(), 15.0, walls=[(bb, True), (gone, True)])
        lines = text_of(dom).splitlines()
        assert next(x for x in lines if f"{lo:,.0f}" in x)[0] == "W"
        assert next(x for x in lines if f"{gone:,.0f}" in x)[0] == " "
        await pilot.press("c")  # the comparison's "why" has the book's line too, as the signal card
        await pilot.pause()
        assert "• Book: " in text_of(app.query_one("#compare"))
        await pilot.press("f")
        await pilot.pause()
        # the replay has ended: its books are as of its last second, never stale however long one looks
        for b in books.books:
            b.received -= 100.0
        app.sample_books()  # the clock has not moved since: no new column, and the books stay drawn
        count = app.book_watch.rings["BTC"].count
        app.sample_books()
        app.last_key = None
        app.refresh_views()
        await pilot.pause()
        assert app.book_watch.rings["BTC"].count == count and dom.border_title.startswith("DOM · 3/3 books")
        app.engine.tick(app.engine.now + 1000)  # a clock that moves: a book 100 s old is stale
        app.refresh_views()
        await pilot.pause()
        assert "order book not live" in text_of(dom)
        for b in books.books:
            b.received += 100.0
        books.books[1].mark_gap()
        app.refresh_views()
        await pilot.pause()
        assert "bybit resyncing" in dom.border_title and "2/3 books" in dom.border_title
        await pilot.press("d")
        await pilot.pause()
        app.refresh_views()
        assert app.dom_per_venue and "resyncing" in text_of(dom)
        for b in books.books:
            b.mark_gap()
        app.refresh_views()
        await pilot.pause()
        assert "order book not live" in text_of(dom)


async def test_keys_switch_views_and_row_sizes_with_books_flowing(capture):
    app = make_app(capture)
    async with app.run_test(size=(120, 40)) as pilot:
        books = await ready(pilot, app, steps=140)  # more seconds than the heatmap is wide: it scrolls
        app.books_timer.resume()
        running = True

        async def flow():
            while running:
                books.step(sample=False)  # the app's own 1 s timer samples
                await asyncio.sleep(0.05)

        task = asyncio.create_task(flow())
        try:
            await pilot.press("h")
            assert app.view == "heatmap" and app.query_one("#views").current == "heatmap"
            heat = app.query_one("#heatmap-panel")
            await pilot.pause(0.1)
            assert "rows 10 " in heat.border_title and "newest" in heat.border_title  # a replay: no live book
            await pilot.press("plus", "plus")
            await pilot.pause(0.1)
            assert app.heat_factor == 2 and f"rows {10 * ROW_FACTORS[2]:g} " in heat.border_title
            step = app.engine.groups["BTC"].view_step
            await pilot.press("minus")
            assert app.heat_factor == 1 and app.engine.groups["BTC"].view_step == step  # the footprint's rows stay
            await pilot.press("left", "left")
            await pilot.pause(0.1)
            back = app.heat_offset
            assert back > 0 and " back (→ newer" in heat.border_title
            await pilot.press("right")
            assert 0 < app.heat_offset < back
            await pilot.press("home")  # the oldest second the ring holds at the left edge
            oldest = len(app.book_watch.rings["BTC"]) - (120 - 14)  # a timer sample may land during the key
            assert app.heat_offset >= back and oldest - 1 <= app.heat_offset <= oldest
            await pilot.press("end")
            assert app.heat_offset == 0
            await pilot.press("f")
            await pilot.pause(0.1)
            assert "DOM" in app.query_one("#dom").border_title
            await pilot.press("plus")
            assert app.engine.groups["BTC"].view_step > step  # in the footprint view + is the footprint's
            await pilot.press("d", "tab", "tab", "tab", "tab")
            assert app.view == "snapshot" and app.dom_per_venue  # tab: accumulated, heatmap, markets, snapshot
            await pilot.press("tab")
            assert app.view == "footprint"
            await pilot.press("t", "h", "t", "d")
            await pilot.pause(1.05)
            assert app.book_watch.rings["BTC"].count > 140  # the timer kept sampling
            assert app.is_running and app._exception is None
        finally:
            running = False
            await task


@pytest.mark.parametrize("size,view,theme", [((80, 24), "f", "dark"), ((120, 40), "f", "dark"),
                                             ((200, 60), "f", "dark"), ((80, 24), "h", "dark"),
                                             ((120, 40), "h", "dark"), ((200, 60), "h", "dark"),
                                             ((120, 40), "f", "light"), ((120, 40), "h", "light"),
                                             ((120, 40), "f", "colorblind"), ((120, 40), "h", "colorblind"),
                                             # the signal card with its "Book:" line (a line taller)
                                             ((80, 24), "s", "dark"), ((120, 40), "s", "dark"),
                                             ((200, 60), "s", "dark"),
                                             # every size in every theme (appended: the ids above keep their SVGs)
                                             ((80, 24), "f", "light"), ((200, 60), "f", "light"),
                                             ((80, 24), "h", "light"), ((200, 60), "h", "light"),
                                             ((80, 24), "f", "colorblind"), ((200, 60), "f", "colorblind"),
                                             ((80, 24), "h", "colorblind"), ((200, 60), "h", "colorblind")])
def test_book_snapshots(snap_compare, capture, size, view, theme):
    app = make_app(capture, theme)

    async def run_before(pilot):
        await ready(pilot, app)
        await pilot.press(view)
        await pilot.pause()
        app.last_key = None
        app.refresh_views()
        await pilot.pause()

    assert snap_compare(app, terminal_size=size, run_before=run_before)


def test_the_signal_card_keeps_the_book_line_and_the_idle_line_gives_way_first():
    from orderflow_tui.engine.signal import NO_CASCADE
    from orderflow_tui.ui.widgets.signal_card import fill, shown

    book = "Book: bid-heavy +40% within 10 bps; bid wall 12.30 @ 65,000.0 binance (6×)"
    reasons = ("Strong buy pressure", "Pressure: strong buy", NO_CASCADE, "Leading venue: binance", "Open interest: up",
               book)
    assert shown(reasons, 4) == ["Strong buy pressure", "Pressure: strong buy", "Leading venue: binance", book]
    assert shown(reasons, 2) == ["Strong buy pressure", book]
    lines = fill(shown(reasons, 6), 6, 40)  # the idle line's room lets the book's line show whole
    assert len(lines) == 6 and lines[4].startswith("• Book:") and lines[5].startswith("  ") and "…" not in lines[5]


async def test_the_heatmap_says_books_are_off_with_no_books(capture):
    settings = config.Settings()
    settings.feeds.books = False
    app = OrderflowApp(settings, Engine(settings.engine, row_divisor=10), ReplaySource(capture, None), groups=["BTC"],
                       mode="LIVE", clock=lambda: FROZEN)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("h")
        await pilot.pause()
        assert "order books are off for this run (--no-books" in text_of(app.query_one("#heatmap-panel"))


async def test_a_replay_at_max_speed_samples_its_books_once_per_second_of_its_clock(tmp_path):
    """The heatmap of a replay has one column per second of the capture, whatever the pace (a
    wall-clock sample saw one second of a capture replayed at --speed max)."""
    from types import SimpleNamespace

    from orderflow_tui.sim.depth_sim import DEPTHS
    from orderflow_tui.sim.exchange_sim import Faults

    t0 = 1_796_000_000_000
    server = SimpleNamespace(now_ms=t0, faults=Faults())
    sim = DEPTHS["bybit"](server, 5, 65_000.0)
    frames = [(t0, "bybit", sim.snapshot_frame())]
    for i in range(1, 201):  # 20 s: a push every 100 ms, a trade every second
        server.now_ms = t = t0 + 100 * i
        frames.append((t, "bybit", sim.delta(*sim.book.step(65_000.0 + i % 7))))
        if i % 10 == 0:
            trade = {"T": t, "s": "BTCUSDT", "S": "Buy", "v": "0.010", "p": "65000.0", "L": "PlusTick", "i": str(i),
                     "BT": False}
            frames.append((t, "bybit", json.dumps({"topic": "publicTrade.BTCUSDT", "type": "snapshot", "ts": t,
                                                    "data": [trade]})))
    path = write_capture(tmp_path / "depth.jsonl", frames)
    settings = config.Settings()
    app = OrderflowApp(settings, Engine(settings.engine, row_divisor=10), ReplaySource(path, None), groups=["BTC"],
                       mode="REPLAY", clock=lambda: FROZEN)
    async with app.run_test(size=(80, 24)) as pilot:
        for _ in range(100):
            if app.source.done:
                break
            await pilot.pause(0.05)
        ring = app.book_watch.rings["BTC"]
        assert 18 <= ring.count <= 21, ring.count  # one column per second of the capture (a trade opens it)
