"""Open the dashboard on a source: live venues, the simulated market, or a capture."""

from __future__ import annotations

import sys
import time
import traceback
from pathlib import Path

from orderflow_tui.engine.engine import Engine
from orderflow_tui.engine.levels import LevelWatch

# the capture bytes read to find the groups a replay opens on (a few seconds of a busy recording)
GROUP_SCAN_BYTES = 4 << 20


def _writer(settings, engine, db, no_store: bool, source: str, mode: str, venues: str, kind: str):
    if no_store:
        return None, None
    from orderflow_tui.store.db import resolve_db_path
    from orderflow_tui.store.postgres import store_writer  # --db postgresql://... or a file

    path = resolve_db_path(db, settings, kind)
    return path, store_writer(path, settings, engine, source, mode, venues)


def _check_theme(settings) -> None:
    from orderflow_tui.ui import themes

    try:
        themes.resolve(settings.ui.theme, themes.load_themes())
    except ValueError as exc:
        print(f"orderflow-tui: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def _check_store(path) -> None:
    """Fail before the screen opens: a bad store is a one-line error, not a broken dashboard."""
    from orderflow_tui.store.db import StoreError
    from orderflow_tui.store.postgres import connect_any

    try:
        connect_any(path).close()
    except StoreError as exc:
        print(f"orderflow-tui: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def log_path(log_file: str | None = None) -> Path:
    """Where the dashboard's errors go: --log-file, else the user log directory."""
    if log_file:
        return Path(log_file)
    from platformdirs import user_log_path

    return user_log_path("orderflow-tui") / "orderflow-tui.log"


def run_app(app, mouse: bool, log_file: str | None = None) -> int:
    """Run the dashboard; an exception that ended it goes with its traceback to the log file and as
    one line to the terminal (after the screen is restored), and the exit status is 1."""
    shown = app._print_error_renderables

    def print_unless_crashed() -> None:
        if app._exception is None:
            shown()
        else:
            app._exit_renderables.clear()  # the traceback goes to the log, not over the terminal

    def fatal_error() -> None:
        # Textual's own renders the traceback with every frame's source highlighted (~10 s of CPU on
        # a deep one, before the exit); it goes to the log as plain text below instead
        app.bell()
        app._close_messages_no_wait()

    app._print_error_renderables = print_unless_crashed
    app._fatal_error = fatal_error
    app.run(mouse=mouse)
    exc = app._exception
    if exc is None:
        return app.return_code or 0
    where = log_path(log_file)
    text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    try:
        where.parent.mkdir(parents=True, exist_ok=True)
        with open(where, "a", encoding="utf-8") as fh:
            fh.write(f"{time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime())} UTC the dashboard stopped:\n{text}\n")
        saved = f"traceback in {where}"
    except OSError as err:
        saved = f"cannot write the traceback to {where}: {err.strerror}"
    first = (str(exc).splitlines() or [""])[0][:200]
    print(f"orderflow-tui: the dashboard stopped on an unexpected error: {type(exc).__name__}: {first} ({saved})",
          file=sys.stderr)
    return 1


def capture_groups(path, venue_options: dict | None = None, limit: int = GROUP_SCAN_BYTES) -> list[str]:
    """The groups a capture holds, busiest first, from its first ``limit`` bytes of frames."""
    from collections import Counter

    from orderflow_tui.capture import CaptureError, CaptureReader
    from orderflow_tui.instruments import group_of
    from orderflow_tui.events import Liquidation, Trade
    from orderflow_tui.replay import _decode_block
    from orderflow_tui.venues import Rejected, make_parsers, parse_frame

    seen: Counter = Counter()
    try:
        reader = CaptureReader(path)
    except CaptureError:
        return []
    with reader:
        parsers = make_parsers(reader.instruments, venue_options)
        read = 0
        for block in reader.blocks():
            read += len(block)
            for rec in _decode_block(block):
                if type(rec) is not dict or type(rec.get("f")) is not str or rec.get("x") not in parsers:
                    continue
                events = parse_frame(parsers[rec["x"]], rec["f"])
                if isinstance(events, Rejected):
                    continue
                for ev in events:
                    if type(ev) is Trade or type(ev) is Liquidation:
                        seen[group_of(ev.venue, ev.symbol)] += 1
            if read >= limit:
                break
    return [g for g, _ in seen.most_common()]


def launch_replay(settings, reader, pace: float | None, db, no_store: bool, source: str,
                  groups_given: bool = False) -> int:
    """The dashboard on a capture (already opened and checked by the caller); its store is
    replay.sqlite unless --db names one, never the live store. Opens on the capture's groups
    unless --group says otherwise."""
    from orderflow_tui.feeds.replay_source import ReplaySource
    from orderflow_tui.ui.app import OrderflowApp

    capture = Path(reader.path)
    reader.close()
    _check_theme(settings)
    engine = Engine(settings.engine, collect_facts=not no_store, row_divisor=10)
    engine.levels = LevelWatch(settings.alerts, settings.engine)  # alerts at price levels
    path, writer = _writer(settings, engine, db, no_store, source, "replay", "", "replay")
    if path is not None:
        _check_store(path)
    groups = [g.strip().upper() for g in settings.feeds.group.split(",") if g.strip()]
    if not groups_given:
        groups = capture_groups(capture, settings.venues.per_venue()) or groups
    replay = ReplaySource(capture, pace, settings.venues.per_venue())
    app = OrderflowApp(settings, engine, replay, store_path=path, writer=writer, groups=groups, mode="REPLAY")
    return run_app(app, settings.ui.mouse)


def launch_live(settings, db, no_mouse: bool = False, demo: bool = False, demo_rate: float = 40.0,
                demo_seed: int = 7, no_store: bool = False, view: str = "snapshot") -> int:
    """The live dashboard, or the simulated market (demo: its own store, demo.sqlite, unless --db)."""
    from orderflow_tui.feeds.session import LiveSource
    from orderflow_tui.ui.app import OrderflowApp

    _check_theme(settings)
    venues = [v.strip() for v in settings.feeds.venues.split(",") if v.strip()]
    engine = Engine(settings.engine, venues_tracked=len(venues), collect_facts=not no_store, row_divisor=10)
    engine.levels = LevelWatch(settings.alerts, settings.engine)  # alerts at price levels
    kind = "demo" if demo else "live"
    path, writer = _writer(settings, engine, db, no_store, kind, "SIMULATED" if demo else "live", ",".join(venues),
                           kind)
    if path is not None:
        _check_store(path)
    source = LiveSource(settings, demo=demo, demo_rate=demo_rate, demo_seed=demo_seed)
    groups = [g.strip().upper() for g in settings.feeds.group.split(",") if g.strip()]
    app = OrderflowApp(settings, engine, source, store_path=path, writer=writer, groups=groups,
                       mode="SIMULATED DATA" if demo else "LIVE", view=view)
    return run_app(app, settings.ui.mouse and not no_mouse)
