"""The dashboard app. Data flows one way: source -> parsers -> engine -> (store, views).

The source and the store writer run as named workers (exit_on_error=False: one socket error never
takes the app down). A timer at the refresh rate builds one snapshot and hands it to the visible
view; hidden views, a paused screen and an open modal are skipped.
"""

from __future__ import annotations

import time
from pathlib import Path

from textual.app import App, ComposeResult, ScreenStackError, SystemCommand
from textual.binding import Binding
from textual.css.query import NoMatches
from textual.widgets import ContentSwitcher, Footer

from orderflow_tui.engine.engine import Engine
from orderflow_tui.engine.footprint import TIMEFRAMES_MS
from orderflow_tui.engine.snapshot import snapshot
from orderflow_tui.instruments import nice_step
from orderflow_tui.ui import themes as theme_files
from orderflow_tui.ui.books import BookKeys, group_books
from orderflow_tui.ui.screens.help import HelpScreen
from orderflow_tui.ui.screens.palette import SafeCommandPalette
from orderflow_tui.ui.views.accumulated_view import AccumulatedView
from orderflow_tui.ui.widgets.accumulated_panel import CHARTS
from orderflow_tui.ui.views.footprint_view import FootprintView
from orderflow_tui.ui.views.heatmap_view import HeatmapView
from orderflow_tui.ui.views.snapshot_view import SnapshotView
from orderflow_tui.ui.widgets.comparison_table import SORTS, ComparisonTable
from orderflow_tui.ui.widgets.footprint_grid import FootprintGrid
from orderflow_tui.ui.widgets.line_panel import LinePanel
from orderflow_tui.ui.widgets.top_bar import TopBar
from orderflow_tui.ui.widgets.venue_status import VenueStatus, overall

VIEWS = ("snapshot", "footprint", "accumulated", "heatmap", "compare")
SEVERITIES = ("info", "warning", "high")
APP_ACTIONS = {"view", "next_view", "next_group", "bar_setting", "step", "bar", "range", "pause", "next_theme",
               "bell", "dom_mode", "chart", "sort", "move", "open", "mark"}
RANGES = ("24h", "7d", "30d", "all")
COMPARE_HZ = 2.0  # the comparison view's refresh from the timer (20 snapshots a draw)
CVD_RANGES = ("15m", "4h", "24h", "7d")  # the snapshot view's CVD chart (r): seconds, minutes, the store's hours


class OrderflowApp(BookKeys, App):
    CSS_PATH = "app.tcss"
    TITLE = "orderflow-tui"
    BINDINGS = [
        Binding("s", "view('snapshot')", "Snapshot"),
        Binding("a", "view('accumulated')", "Accumulated"),
        Binding("f", "view('footprint')", "Footprint"),
        Binding("tab", "next_view", "Next view", show=False, priority=True),
        Binding("h", "view('heatmap')", "Heatmap", show=False),
        Binding("d", "dom_mode", "DOM merged/venue", show=False),
        Binding("g", "next_group", "Group"),
        Binding("b", "bar_setting(1)", "Bars"),
        Binding("B", "bar_setting(-1)", "Bars back", show=False),
        Binding("plus,equals_sign", "step(1)", "Rows +", show=False),
        Binding("minus", "step(-1)", "Rows -", show=False),
        Binding("left", "bar(1)", "Older bar", show=False),
        Binding("right", "bar(-1)", "Newer bar", show=False),
        Binding("home", "bar(1000)", "Oldest", show=False),
        Binding("end", "bar(-1000)", "Newest", show=False),
        Binding("r", "range", "Range", show=False),
        *(Binding(str(n), f"chart({n})", f"Chart {n}", show=False) for n in range(1, 9)),  # accumulated view
        Binding("p,space", "pause", "Pause"),
        Binding("t", "next_theme", "Theme"),
        Binding("n", "bell", "Bell", show=False),
        Binding("question_mark", "help", "Help"),
        Binding("c", "view('compare')", "Markets"),
        Binding("o", "sort", "Sort", show=False),
        Binding("up", "move(-1)", "Up", show=False),
        Binding("down", "move(1)", "Down", show=False),
        Binding("enter", "open", "Open", show=False),
        Binding("m", "mark", "Mark level", show=False),
        Binding("q", "quit", "Quit"),
    ]

    def __init__(self, settings, engine: Engine, source, *, store_path: Path | None = None, writer=None,
                 groups: list[str] | None = None, mode: str = "LIVE", clock=None, view: str = "snapshot"):
        super().__init__()
        self.settings = settings
        self.engine = engine
        self.source = source
        self.store_path = store_path
        self.writer = writer
        self.groups = groups or [settings.feeds.group.split(",")[0].strip().upper()]
        self.group = self.groups[0]
        self.mode = mode
        self.clock = clock or time.time  # tests freeze it
        self.view = view if view in VIEWS else "snapshot"
        self.order = SORTS[0]  # the comparison view's sort
        self.cursor = 0  # its selected row
        self.selected: str | None = None
        self.compare_at = 0.0  # when the comparison was last drawn (monotonic)
        self.row_offset = 0  # the footprint's selected row, in rows from the last price
        self.cvd_range = CVD_RANGES[0]
        self.cvd_hours: tuple = (0, [])  # (read at, [(hour, cvd)]) from the store, for the 7d CVD chart
        self.paused = False
        self.bell_on = settings.ui.bell
        self.bar_offset = 0
        self.range_name = "24h"
        self.acc: tuple = (None, None, "")  # (totals, AccData, error) of the last store read
        self.chart = 1  # the accumulated view's chart (keys 1-8)
        self.acc_every = 5.0  # seconds between store reads
        self.acc_asked = None  # (group, range) of the last read started
        self.acc_read_at = 0.0
        self.last_key = None
        self.theme_names: list[str] = []
        self.message = ("", 0.0)  # a short answer to a key, shown in the top line until it expires
        self.alerts_seen = 0
        self.last_bell = -1e9
        self.rendered = 0  # snapshots drawn (for tests and the idle benchmark)

    # ---- layout and start ----------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield TopBar(id="top")
        with ContentSwitcher(initial=self.view, id="views"):
            yield SnapshotView(id="snapshot")
            yield FootprintView(id="footprint")
            yield AccumulatedView(id="accumulated")
            yield HeatmapView(id="heatmap")
            yield ComparisonTable("MARKETS", id="compare")
        yield VenueStatus(id="status")
        yield Footer()

    def on_mount(self) -> None:
        found = theme_files.load_themes()
        for t in found.values():
            self.register_theme(t)
        self.theme_names = [n for n in theme_files.BUILTIN_NAMES.values() if n in found] + \
            sorted(n for n in found if n not in theme_files.BUILTIN_NAMES.values())
        self.theme = theme_files.resolve(self.settings.ui.theme, found)
        self._layout_for(self.size)
        self.theme_changed_signal.subscribe(self, self._repaint_all)
        if hasattr(self.source, "build"):  # live: one named worker per connection
            self.run_worker(self._start_live(), name="feeds-setup", group="feeds-setup", exit_on_error=False)
        elif self.source is not None:
            self.run_worker(self.source.run(self.engine), name="replay", group="replay", exit_on_error=False)
        if self.writer is not None:
            self.run_worker(self._store(), name="store-writer", group="store", exit_on_error=False)
        self.set_interval(1 / self.settings.ui.refresh_hz, self.refresh_views, name="refresh")
        self.books_start()
        self.refresh_views()

    async def _start_live(self) -> None:
        await self.source.prepare()
        for c in self.source.build(self.engine):
            self.run_worker(c.run(), name=c.stream.name, group=f"feed:{c.stream.name}", exit_on_error=False)
        self.run_worker(self.source.clock(self.engine), name="clock", group="clock", exit_on_error=False)

    async def _store(self) -> None:
        await self.writer.open()
        await self.writer.run()

    async def on_unmount(self) -> None:
        if hasattr(self.source, "stop"):
            self.source.stop()
        if self.writer is not None:
            await self.writer.close()
        exchange = getattr(self.source, "exchange", None)
        if exchange is not None:
            await exchange.stop()

    def on_resize(self, event) -> None:
        self._layout_for(event.size)
        self.last_key = None  # the panels have a new size: draw them again on the next tick

    def _layout_for(self, size) -> None:
        self.screen.set_class(size.width < 120, "narrow")
        self.screen.set_class(size.height < 30, "short")
        self.screen.set_class(size.height >= 50, "tall")

    def _repaint_all(self, _theme=None) -> None:
        for panel in self.query(LinePanel):
            panel.repaint_all()
        self.last_key = None

    # ---- refresh ---------------------------------------------------------------------------

    def refresh_views(self, even_paused: bool = False) -> None:
        """Called by the timer: draw the visible view from one snapshot, unless nothing changed or
        nothing can be seen. Panels repaint only the lines that differ; no tick lays out."""
        # not while the app shuts down: its screens are gone before on_unmount (a slow store close
        # there) and the timer still ticks, so a tick found no panel and ended the app with an error
        if not self.is_running or (self.paused and not even_paused) or self.screen is not self.screen_stack[0]:
            return
        key = (self.engine.now, self.engine.alerts_total, self.view, self.bar_offset, self.group,
               sum(m.trades for m in self.engine.markets.values()), self.theme, self.size,
               self._label(), self._statuses_key(), self.paused, self.bell_on, self.message[0], self.books_key(),
               self.order, self.cursor, self.row_offset, self.cvd_range, self.cvd_hours[0])
        if key == self.last_key and self.view != "accumulated":
            return  # a quiet feed costs nothing
        if self.view == "compare" and not even_paused and time.monotonic() - self.compare_at < 1 / COMPARE_HZ:
            return  # one snapshot per group: at most COMPARE_HZ from the timer (a key draws at once)
        self.last_key = key
        self._ring_bell()
        if self.view == "compare":
            self._compare()
            return
        if self.view == "snapshot":
            bars = self.query_one(SnapshotView).bars_wanted()
        elif self.view == "footprint":
            bars = self.query_one(FootprintView).bars_wanted(self.bar_offset)
        else:
            bars = 1
        snap = self.book_reasons(snapshot(self.engine, self.group, bars=max(1, bars), profiles=self.view == "footprint"))
        waiting = "" if snap is not None else self._waiting()
        with self.batch_update():
            self.query_one(TopBar).show(self.group, snap.last_price if snap else None,
                                        self.engine.now or int(self.clock() * 1000),
                                        overall(self.mode, self._statuses()),
                                        getattr(self.source, "error", "") or "", self.paused, waiting, self.bell_on,
                                        self.message[0])
            self.query_one(VenueStatus).show(self._statuses(), self._store_note(), self.mode.startswith("SIMULATED"))
            if self.view == "snapshot":
                self.query_one(SnapshotView).show(snap, self._data_seconds(), self.settings.ui.warmup_s,
                                                  self.engine.alerts, waiting, self._no_bars(), self._cvd_chart(),
                                                  books=bool(group_books(self.engine, self.group)))
            elif self.view == "footprint":
                marked = self.engine.levels.marked.get(self.group, []) if self.engine.levels is not None else []
                self.query_one(FootprintView).show(snap, self.bar_offset, waiting, self._no_bars(), self.row_offset,
                                                   marked)
                self.show_dom(self.query_one(FootprintView), snap)
            elif self.view == "heatmap":
                self.show_heatmap(self.query_one(HeatmapView))
            else:
                self._accumulated()
        self.rendered += 1

    def watched(self) -> list[str]:
        """--group's groups, then any other group the feeds delivered."""
        return self.groups + sorted(g for g in self.engine.groups if g not in self.groups)

    def _compare(self) -> None:
        self.compare_at = time.monotonic()
        """The comparison view: one snapshot per group (the snapshot view's own code, without bars
        or profiles, which the table does not show)."""
        groups = self.watched()
        # with the book's reasoning line, as the signal card has it (the selected group's "why")
        snaps = {g: self.book_reasons(snapshot(self.engine, g, bars=0, profiles=False), g) for g in groups}
        snap = snaps.get(self.group)
        with self.batch_update():
            self.query_one(TopBar).show(self.group, snap.last_price if snap else None,
                                        self.engine.now or int(self.clock() * 1000),
                                        overall(self.mode, self._statuses()),
                                        getattr(self.source, "error", "") or "", self.paused, "", self.bell_on,
                                        self.message[0])
            self.query_one(VenueStatus).show(self._statuses(), self._store_note(), self.mode.startswith("SIMULATED"))
            self.cursor = max(0, min(self.cursor, len(groups) - 1))
            self.selected = self.query_one(ComparisonTable).show(groups, snaps, self.order, self.cursor)
        self.rendered += 1

    def _cvd_chart(self):
        """The CVD panel's chart range and, for the store's range, the hourly CVD read from it."""
        if self.cvd_range != "7d":
            return self.cvd_range, None
        if self.store_path is not None and time.monotonic() - self.cvd_hours[0] > 30:
            self.cvd_hours = (time.monotonic(), self.cvd_hours[1])
            self.run_worker(self._read_cvd_hours, thread=True, group="store-read-cvd", exclusive=True,
                            exit_on_error=False)
        return self.cvd_range, (self.cvd_hours[1] if self.store_path is not None else None)

    def _read_cvd_hours(self) -> None:
        from orderflow_tui.store.db import cvd_hours
        from orderflow_tui.store.postgres import connect_any

        since = (self.engine.now or int(self.clock() * 1000)) - 168 * 3_600_000
        try:
            conn = connect_any(self.store_path, readonly=True)
            try:
                rows = cvd_hours(conn, since, group=self.group)
            finally:
                conn.close()
        except Exception:  # the chart says it has no hours; the accumulated view reports store errors
            rows = []
        self.cvd_hours = (time.monotonic(), rows)

    def _label(self) -> str:
        return self.source.label() if hasattr(self.source, "label") else ""

    def _waiting(self) -> str:
        """What a panel with no data says: the group, and why nothing arrives when we know."""
        error = getattr(self.source, "error", "")
        if error:
            return f"no data for {self.group}: {error}"
        if getattr(self.source, "done", False):
            return f"the capture holds no {self.group} trades"
        if self.mode.startswith("REPLAY"):
            return f"replaying: no {self.group} trade yet"
        states = {s.venue: s.state for s in self._statuses()}
        if states and not any(v in ("connected", "replay", "simulated") for v in states.values()):
            return f"waiting for {self.group}: no venue connected yet"
        return f"waiting for the first {self.group} trade"

    def _no_bars(self) -> str:
        """What an empty footprint says: a setting chosen after the data passed builds from new trades."""
        g = self.engine.groups.get(self.group)
        setting = g.view_setting if g is not None else ""
        if getattr(self.source, "done", False):
            return f"no {setting} bars: this setting builds from new trades and the capture has ended (b: next)"
        return f"no {setting} bars yet: this setting builds from new trades"

    def _data_seconds(self) -> float:
        """How long the group has had data: the signal's warm-up counts against it."""
        g = self.engine.groups.get(self.group)
        if g is None or not self.engine.now:
            return 0.0
        first = min((m.first_ts for m in g.markets), default=self.engine.now)
        return max(0.0, (self.engine.now - first) / 1000)

    def _ring_bell(self) -> None:
        """The bell rings for new alerts at or above ui.bell_severity, at most once per interval."""
        total = self.engine.alerts_total
        new, self.alerts_seen = total - self.alerts_seen, total
        if not self.bell_on or new <= 0:
            return
        floor = SEVERITIES.index(self.settings.ui.bell_severity)
        recent = list(self.engine.alerts)[-new:]
        if any(a.severity in SEVERITIES and SEVERITIES.index(a.severity) >= floor for a in recent):
            now = time.monotonic()
            if now - self.last_bell >= self.settings.ui.bell_interval_s:
                self.last_bell = now
                self.bell()

    def _statuses(self):
        return self.source.statuses() if self.source is not None else []

    def _statuses_key(self):
        return tuple((s.venue, s.state, round(s.msgs_per_s), s.reconnects) for s in self._statuses())

    def _store_note(self) -> str:
        w = self.writer
        if w is None:
            return "store off"
        return f"store {w.status}" + (f": {w.error}" if w.error else "")

    def _accumulated(self) -> None:
        if self.store_path is None:
            why = "no store: viewers on the bus write none (its store writer does)" if self.mode == "BUS" else \
                "no store: this session runs with --no-store, so nothing accumulates"
            self.query_one(AccumulatedView).show(None, None, self.chart, None, why)
            return
        want = (self.group, self.range_name)  # a new group or range is read at once, not on the next turn
        if time.monotonic() - self.acc_read_at > self.acc_every or self.acc_asked != want:
            self.acc_read_at, self.acc_asked = time.monotonic(), want
            self.run_worker(self._read_store, thread=True, group="store-read", exclusive=True, exit_on_error=False)
        stats, data, error = self.acc
        if data is not None and (data.group != self.group or data.range_name != self.range_name):
            data = None  # a key changed the group or range: "reading the store…" until the new read
        self.query_one(AccumulatedView).show(stats, data, self.chart, self.store_path, error)

    def _read_store(self) -> None:
        from orderflow_tui.store.db import StoreError
        from orderflow_tui.ui.views.accumulated_view import read_store

        group, range_name = self.group, self.range_name
        now = self.engine.now or int(self.clock() * 1000)  # a replay: the range ends at the data's time
        g = self.engine.groups.get(group)
        t0 = time.monotonic()
        try:
            out = read_store(self.store_path, group, range_name, now, g.last_price if g else None, self.settings,
                             lambda: (group, range_name) == (self.group, self.range_name))
            if out is None:
                return  # r or g was pressed again while the previous read ran: this one is not wanted
            acc = (*out, "")
        except StoreError as exc:
            acc = (None, None, str(exc))
        except Exception as exc:  # sqlite3.Error mid-read: say so, keep going
            from orderflow_tui.store.db import masked

            acc = (None, None, masked(f"store read failed: {exc}"))
        # every 5 s, or less often when a read is long (a year of a busy store): at most ~10 % of a core
        self.acc_every = max(5.0, 10 * (time.monotonic() - t0))
        if (group, range_name) == (self.group, self.range_name):  # else r or g was pressed meanwhile: the
            self.acc = acc  # read for the new choice is already asked for (_accumulated)
        self.call_from_thread(self._store_read)

    def _store_read(self) -> None:
        if self.view != "accumulated" or not self.is_running:
            return
        self.last_key = None
        try:
            self.refresh_views(even_paused=True)
        except (NoMatches, ScreenStackError):
            pass  # the read ended while the app was closing: nothing left to draw

    # ---- actions -------------------------------------------------------------------------

    def action_view(self, name: str) -> None:
        self.view = name
        self.query_one(ContentSwitcher).current = name
        self.last_key = None
        self.refresh_views(even_paused=True)
        self.call_after_refresh(self._redraw)  # the view's panels have their size only after the layout

    def _redraw(self) -> None:
        self.last_key = None
        self.refresh_views(even_paused=True)

    def action_next_view(self) -> None:
        self.action_view(VIEWS[(VIEWS.index(self.view) + 1) % len(VIEWS)])

    def action_sort(self) -> None:
        if self.view != "compare":
            return
        self.order = SORTS[(SORTS.index(self.order) + 1) % len(SORTS)]
        self.cursor = 0
        self.say(f"sorted by {self.order}")

    def action_move(self, direction: int) -> None:
        """↑/↓: the comparison's selected row, or the footprint's selected price row."""
        if self.view == "compare":
            self.cursor = max(0, min(len(self.watched()) - 1, self.cursor + direction))
        elif self.view == "footprint":
            self.row_offset -= direction  # up: a higher price
        else:
            return
        self.last_key = None
        self.refresh_views(even_paused=True)

    def action_open(self) -> None:
        """enter on the comparison: that group's snapshot view."""
        if self.view != "compare" or not self.selected:
            return
        self.group = self.selected
        self.bar_offset = self.row_offset = 0
        self.cvd_hours = (0, [])
        self.action_view("snapshot")

    def action_mark(self) -> None:
        """m on the footprint: mark (or unmark) the selected row's price as an alert level."""
        if self.view != "footprint":
            return
        at = self.query_one(FootprintGrid).selected_price
        if at is None or self.engine.levels is None:
            self.say("no row to mark" if at is None else "level alerts are off")
            return
        marked = self.engine.levels.mark(self.group, at)
        self.say(f"{'marked' if marked else 'unmarked'} {self.group} {at:,.10g}")

    def action_next_group(self) -> None:
        stored = self.acc[0]["groups"] if self.view == "accumulated" and self.acc[0] else {}
        known = self.watched() + sorted(g for g in stored if g not in self.watched())
        self.group = known[(known.index(self.group) + 1) % len(known)] if self.group in known else known[0]
        self.bar_offset = self.row_offset = 0
        self.cvd_hours = (0, [])
        self.last_key = None
        self.refresh_views(even_paused=True)
        self.say(f"group {self.group}")

    def bar_settings(self) -> list[str]:
        """Time settings, then a volume and a trade-count setting sized so a bar spans about a
        minute of the current flow (from the median 1m bar)."""
        g = self.engine.groups.get(self.group)
        bars = sorted(g.markets[0].footprint.bars, key=lambda b: b.volume) if g else []
        mid = bars[len(bars) // 2] if bars else None
        vol = nice_step(mid.volume) if mid else 1.0
        ticks = max(10, int(nice_step(mid.trades))) if mid else 100
        return [*TIMEFRAMES_MS, f"vol:{vol:g}", f"ticks:{ticks}"]

    def action_bar_setting(self, direction: int) -> None:
        g = self.engine.groups.get(self.group)
        if g is None:
            return
        options = self.bar_settings()
        current = g.view_setting
        i = options.index(current) if current in options else 0
        setting = options[(i + direction) % len(options)]
        rebuilt = self.engine.set_footprint(self.group, setting, g.view_step)
        self.say(f"bars {setting}" + ("" if rebuilt or setting == "1m" else " (building from now)"))
        self.bar_offset = 0
        self.last_key = None
        self.refresh_views(even_paused=True)

    def action_step(self, direction: int) -> None:
        if self.view == "heatmap":
            return self.heat_step(direction)
        g = self.engine.groups.get(self.group)
        if g is None:
            return
        step = g.view_step
        ladder = sorted({nice_step(step * f) for f in (0.4, 0.5, 1, 2, 2.5)})
        i = ladder.index(nice_step(step)) if nice_step(step) in ladder else 2
        new = ladder[max(0, min(len(ladder) - 1, i + direction))]
        rebuilt = self.engine.set_footprint(self.group, g.view_setting, new)
        self.say(f"rows {new:g}" + ("" if rebuilt or new == g.step else " (building from now)"))
        self.last_key = None
        self.refresh_views(even_paused=True)

    def action_bar(self, direction: int) -> None:
        if self.view == "heatmap":
            return self.heat_scroll(direction)
        if self.view != "footprint":
            return
        g = self.engine.groups.get(self.group)
        known = len(g.bars(500)[0]) if g is not None else 1
        self.bar_offset = max(0, min(known - 1, self.bar_offset + direction))
        self.last_key = None
        self.refresh_views(even_paused=True)

    def action_chart(self, n: int) -> None:
        if self.view != "accumulated":
            return
        self.chart = n
        self.last_key = None
        self.refresh_views(even_paused=True)

    def action_range(self) -> None:
        if self.view == "snapshot":  # the CVD chart's range
            self.cvd_range = CVD_RANGES[(CVD_RANGES.index(self.cvd_range) + 1) % len(CVD_RANGES)]
            self.say(f"CVD chart {self.cvd_range}")
            return
        self.range_name = RANGES[(RANGES.index(self.range_name) + 1) % len(RANGES)]
        self.acc_read_at = 0.0
        self.last_key = None
        self.refresh_views(even_paused=True)

    def action_pause(self) -> None:
        self.paused = not self.paused
        if hasattr(self.source, "paused") and self.mode.startswith("REPLAY"):
            self.source.paused = self.paused  # a replay stops; a live feed keeps counting, the view freezes
        self.last_key = None
        self.refresh_views(even_paused=True)  # the top line says PAUSED before the views freeze

    def action_next_theme(self) -> None:
        names = self.theme_names
        self.theme = names[(names.index(self.theme) + 1) % len(names)] if self.theme in names else names[0]
        self._repaint_all()
        self.say(f"theme {self.theme}")

    def action_bell(self) -> None:
        self.bell_on = not self.bell_on
        self.say(f"bell {'on' if self.bell_on else 'off'}")
        self.last_key = None

    def say(self, text: str, seconds: float = 3.0) -> None:
        """Answer a key in the top line (a toast would cover the panels' bottom borders)."""
        self.message = (text, time.monotonic() + seconds)
        self.last_key = None
        self.refresh_views(even_paused=True)
        self.set_timer(seconds + 0.05, self._message_expired)

    def _message_expired(self) -> None:
        if self.message[0] and time.monotonic() >= self.message[1]:
            self.message = ("", 0.0)
            self.last_key = None
            self.refresh_views(even_paused=True)

    def check_action(self, action: str, parameters) -> bool | None:
        """Under a modal (help, the command palette) only the modal's own keys and quit act: the
        view must not change behind it."""
        return not (len(self.screen_stack) > 1 and action in APP_ACTIONS)

    def action_command_palette(self) -> None:
        if self.use_command_palette and not SafeCommandPalette.is_open(self):
            self.push_screen(SafeCommandPalette(id="--command-palette"))

    def action_help(self) -> None:
        self.push_screen(HelpScreen())

    def get_system_commands(self, screen):
        yield from super().get_system_commands(screen)
        for name, text, action in (
            ("Snapshot view", "Right now: signal, CVD, pressure, footprint, liquidations", "view('snapshot')"),
            ("Accumulated view", "The store's totals, charts 1-8 and largest cascades", "view('accumulated')"),
            ("Footprint detail", "Ladder of one bar, the DOM and the volume profiles", "view('footprint')"),
            ("Heatmap view", "Resting book over time, trades and liquidations on it (h)", "view('heatmap')"),
            ("DOM merged / per venue", "The ladder's books summed or one column per venue (d)", "dom_mode"),
            ("Markets", "Every watched group side by side (c)", "view('compare')"),
            ("Next group", "Switch the underlying", "next_group"),
            ("Next bar setting", "1m 5m 15m 1h 4h 1d, volume, trade count", "bar_setting(1)"),
            ("Coarser rows", "Larger price step", "step(1)"),
            ("Finer rows", "Smaller price step", "step(-1)"),
            ("Pause / resume", "Freeze the views", "pause"),
            ("Next theme", "dark, light, colour-blind", "next_theme"),
            ("Bell on / off", "Ring the terminal bell on alerts", "bell"),
        ):
            yield SystemCommand(name, text, lambda a=action: self.run_action(a))
        for n, (name, text, _) in CHARTS.items():  # the accumulated view's charts
            yield SystemCommand(f"Chart {n}: {name}", text,
                                lambda n=n: (self.action_view("accumulated"), self.action_chart(n)))
