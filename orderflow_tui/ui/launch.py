"""Open the dashboard on a source: live venues, the simulated market, or a capture."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from orderflow_tui.engine.engine import Engine


def _writer(settings, engine, db, no_store: bool, source: str, mode: str, venues: str):
    if no_store:
        return None, None
    from orderflow_tui.store.db import resolve_db_path
    from orderflow_tui.store.writer import AsyncStoreWriter

    path = resolve_db_path(db, settings)
    s = settings.store
    return path, AsyncStoreWriter(path, engine, source, mode, venues, s.commit_interval_s,
                                  s.keep_liquidations_days, s.keep_buckets_days)


def _check_theme(settings) -> None:
    from orderflow_tui.ui import themes

    try:
        themes.resolve(settings.ui.theme, themes.load_themes())
    except ValueError as exc:
        print(f"orderflow-tui: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def _check_store(path) -> None:
    """Fail before the screen opens: a bad store is a one-line error, not a broken dashboard."""
    from orderflow_tui.store.db import StoreError, connect

    try:
        connect(path).close()
    except StoreError as exc:
        print(f"orderflow-tui: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def launch_replay(settings, capture: Path, speed: str, db, no_store: bool) -> None:
    from orderflow_tui.feeds.replay_source import ReplaySource
    from orderflow_tui.ui.app import OrderflowApp

    _check_theme(settings)
    pace = None if speed == "max" else float(speed)
    if pace is not None and not pace > 0:
        print("orderflow-tui: --speed must be a positive number or max", file=sys.stderr)
        raise SystemExit(2)
    if not Path(capture).is_file():
        print(f"orderflow-tui: {capture}: no such file", file=sys.stderr)
        raise SystemExit(2)
    engine = Engine(settings.engine, collect_facts=not no_store, row_divisor=10)
    path, writer = _writer(settings, engine, db, no_store, f"replay-view:{Path(capture).name}", "replay", "")
    if path is not None:
        _check_store(path)
    source = ReplaySource(capture, pace, settings.venues.per_venue())
    groups = [g.strip().upper() for g in settings.feeds.group.split(",") if g.strip()]
    OrderflowApp(settings, engine, source, store_path=path, writer=writer, groups=groups,
                 mode="REPLAY").run(mouse=settings.ui.mouse)


def launch_live(settings, db, no_mouse: bool = False, demo: bool = False, demo_rate: float = 40.0,
                demo_seed: int = 7) -> None:
    from orderflow_tui.feeds.session import LiveSource
    from orderflow_tui.ui.app import OrderflowApp

    _check_theme(settings)
    venues = [v.strip() for v in settings.feeds.venues.split(",") if v.strip()]
    engine = Engine(settings.engine, venues_tracked=len(venues), collect_facts=True, row_divisor=10)
    mode = "SIMULATED" if demo else "live"
    path, writer = _writer(settings, engine, db, False, f"{mode}:{os.getpid()}", mode, ",".join(venues))
    _check_store(path)
    source = LiveSource(settings, demo=demo, demo_rate=demo_rate, demo_seed=demo_seed)
    groups = [g.strip().upper() for g in settings.feeds.group.split(",") if g.strip()]
    OrderflowApp(settings, engine, source, store_path=path, writer=writer, groups=groups,
                 mode="SIMULATED DATA" if demo else "LIVE").run(mouse=settings.ui.mouse and not no_mouse)
