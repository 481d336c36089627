"""The order-book part of the dashboard (issue 21), kept out of app.py so that it stays small:
the once-a-second sampling of the books into the heatmap rings and the readings, the DOM ladder's
merged / per-venue switch (d), and the heatmap's row size (+/-) and history scroll (←/→ home end).

The books are only read here, never written: on a 1 s timer (history and readings) and on the
refresh timer (what is drawn)."""

from __future__ import annotations

import math
import time

from orderflow_tui.engine.book_readings import BookWatch
from orderflow_tui.ui.widgets.book_heatmap import ROW_FACTORS


def group_books(engine, group: str) -> list:
    """The group's books; none for an engine that keeps no books (an attached viewer of an older bus)."""
    books_of = getattr(engine, "group_books", None)
    return list(books_of(group)) if books_of is not None else []


class BookKeys:
    dom_per_venue = False
    heat_factor = 0  # index into ROW_FACTORS
    heat_offset = 0  # columns back from the newest
    book_watch: BookWatch | None = None
    books_sampled_at = -1  # the engine's clock at the last sample

    def books_start(self) -> None:
        ui = self.settings.ui
        self.book_watch = BookWatch(self.settings.engine, capacity=ui.heatmap_minutes * 60, rows=ui.heatmap_rows,
                                    stale_s=ui.book_stale_s)
        self.books_timer = self.set_interval(1.0, self.sample_books, name="books")
        if hasattr(self.source, "on_second"):  # a replay: also once per second of its own clock
            self.source.on_second = self.sample_books

    def books_frozen(self) -> bool:
        """A replay whose clock has not moved since the last sample (paused, finished, or a quiet
        second): its books are as of that moment, not stale (the ladder went blank 15 s after a
        replay ended), and a second of wall time is no new column (the heatmap repeated it)."""
        return self.mode.startswith("REPLAY") and self.engine.now == self.books_sampled_at

    def book_stale_s(self) -> float:
        return math.inf if self.books_frozen() else self.settings.ui.book_stale_s

    def sample_books(self) -> None:
        """Once a second, paused or not, whatever is on screen: the history must have no holes. A
        replay is sampled at each second of its clock as well, once a second at most."""
        replay_second = self.mode.startswith("REPLAY") and self.engine.now // 1000 == self.books_sampled_at // 1000
        if self.book_watch is not None and not self.books_frozen() and not replay_second:
            self.books_sampled_at = self.engine.now
            self.book_watch.sample(self.engine, time.monotonic(), heat=set(self.groups) | {self.group})

    def books_key(self) -> tuple:
        """What the refresh key needs to see a book change that brought no trade."""
        books = group_books(self.engine, self.group)
        ring = self.book_watch.rings.get(self.group) if self.book_watch else None
        return (tuple(b.received for b in books), tuple(b.status(time.monotonic(), self.book_stale_s())
                                                       for b in books),
                ring.count if ring is not None else 0, self.dom_per_venue, self.heat_factor, self.heat_offset)

    def book_reasons(self, snap, group: str | None = None):
        """The snapshot with the book readings of its group added to the signal's reasoning."""
        from dataclasses import replace

        if snap is None or self.book_watch is None:
            return snap
        extra = self.book_watch.reasons(group or self.group, self.engine.now // 1000)
        if not extra:
            return snap
        return replace(snap, signal=replace(snap.signal, reasons=snap.signal.reasons + extra))

    def show_dom(self, view, snap) -> None:
        rd = self.book_watch.readings.get(self.group) if self.book_watch else None
        walls = [(w.price, w.is_bid) for w in rd.walls.values()] if rd is not None else []
        reading = self.book_watch.reasons(self.group, self.engine.now // 1000) if self.book_watch else ()
        view.show_dom(snap, group_books(self.engine, self.group), time.monotonic(), self.book_stale_s(),
                      self.dom_per_venue, self.bar_offset, walls, reading[0] if reading else "")

    def show_heatmap(self, view) -> None:
        ring = self.book_watch.rings.get(self.group) if self.book_watch else None
        newest = "newest" if self.mode.startswith("REPLAY") else "live"  # a replay's book is no live one
        off = not self.settings.feeds.books and not self.mode.startswith("REPLAY")  # it would wait forever
        empty = "order books are off for this run (--no-books, or feeds.books = false)" if off else ""
        view.show(ring, self.group, ROW_FACTORS[self.heat_factor], self.heat_offset, self.group, newest, empty)

    # ---- keys --------------------------------------------------------------------------------

    def action_dom_mode(self) -> None:
        self.dom_per_venue = not self.dom_per_venue
        self.say("DOM per venue" if self.dom_per_venue else "DOM merged across venues")

    def heat_step(self, direction: int) -> None:
        self.heat_factor = max(0, min(len(ROW_FACTORS) - 1, self.heat_factor + direction))
        ring = self.book_watch.rings.get(self.group) if self.book_watch else None
        size = f"{ring.step * ROW_FACTORS[self.heat_factor]:g}" if ring is not None else f"×{ROW_FACTORS[self.heat_factor]}"
        self.say(f"heatmap rows {size}")

    def heat_scroll(self, direction: int) -> None:
        """←/→ move a quarter of the width through the history; home / end go to its ends."""
        ring = self.book_watch.rings.get(self.group) if self.book_watch else None
        have = len(ring) if ring is not None else 0
        width = max(10, self.size.width - 14)
        step = have if abs(direction) >= 1000 else max(1, width // 4)
        self.heat_offset = max(0, min(max(0, have - width), self.heat_offset + (step if direction > 0 else -step)))
        self.last_key = None
        self.refresh_views(even_paused=True)
