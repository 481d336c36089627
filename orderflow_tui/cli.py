"""The ``orderflow-tui`` command: the dashboard by default, plus replay, record, stats, export, demo, doctor."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import orjson
import typer

from orderflow_tui import config as cfg

app = typer.Typer(add_completion=False, no_args_is_help=False, invoke_without_command=True,
                  help="Order flow of crypto perpetual futures in your terminal: CVD, pressure, footprint, "
                       "whales and liquidations across Binance, Bybit and OKX.")

ConfigOpt = typer.Option(None, "--config", help="TOML config file (default: ./orderflow-tui.toml, then the user config dir).")


def fail(message: str, code: int = 2) -> None:
    typer.echo(f"orderflow-tui: {message}", err=True)
    raise typer.Exit(code)


def load_settings(path: Optional[Path]) -> cfg.Settings:
    try:
        return cfg.load(path)
    except cfg.ConfigError as exc:
        fail(str(exc))


@app.callback()
def main_callback(ctx: typer.Context, config: Optional[Path] = ConfigOpt) -> None:
    if ctx.invoked_subcommand is None:
        ctx.invoke(run, config=config)


@app.command()
def replay(
    capture: Path = typer.Argument(..., help="Capture file (.jsonl or .jsonl.gz)."),
    headless: bool = typer.Option(False, "--headless", help="No UI: read as fast as possible and print a report."),
    report: str = typer.Option("json", "--report", help="Report format (headless): json."),
    tf: str = typer.Option("1m", "--tf", help="Footprint bar setting for the report: 1m 5m 15m 1h 4h 1d."),
    step: Optional[float] = typer.Option(None, "--step", help="Footprint row size (default: the group's row size)."),
    speed: str = typer.Option("1", "--speed", help="Dashboard replay pace: a multiple of real time, or max."),
    db: Optional[Path] = typer.Option(None, "--db", help="Store to write liquidation statistics to."),
    no_store: bool = typer.Option(False, "--no-store", help="Do not write to the store."),
    config: Optional[Path] = ConfigOpt,
) -> None:
    """Replay a capture: headless with a JSON report, or in the dashboard."""
    from orderflow_tui.capture import CaptureError, CaptureReader
    from orderflow_tui.engine.engine import Engine
    from orderflow_tui.engine.footprint import TIMEFRAMES_MS
    from orderflow_tui.replay import replay_capture
    from orderflow_tui.report import build_report

    settings = load_settings(config)
    if tf not in TIMEFRAMES_MS:
        fail(f"--tf {tf!r}: use one of {', '.join(TIMEFRAMES_MS)}")
    if step is not None and not step > 0:
        fail("--step must be a positive number")
    if report != "json":
        fail(f"--report {report!r}: only json is available")
    if not headless:
        from orderflow_tui.ui.launch import launch_replay

        launch_replay(settings, capture, speed, db, no_store)
        return
    try:
        reader = CaptureReader(capture)
    except CaptureError as exc:
        fail(str(exc))
    writer = None
    engine = Engine(settings.engine, report_tf=tf, report_step=step, collect_facts=not no_store)
    if not no_store:
        writer = _open_store(settings, db)
    with reader:
        try:
            stats = replay_capture(reader, engine, settings.venues.per_venue(),
                                   on_batch=writer.absorb_sync if writer else None)
        except CaptureError as exc:
            fail(str(exc))
    if writer is not None:
        writer.absorb_sync(engine)
        writer.close_sync()
    out = build_report(engine, stats, reader.instruments)
    sys.stdout.buffer.write(orjson.dumps(out) + b"\n")
    sys.stdout.flush()
    typer.echo(f"replayed {stats.frames} frames ({stats.rejected} rejected) from {capture}", err=True)


def _open_store(settings, db):
    from orderflow_tui.store.sync import SyncStoreWriter
    from orderflow_tui.store.db import StoreError, resolve_db_path

    try:
        return SyncStoreWriter(resolve_db_path(db, settings))
    except StoreError as exc:
        fail(str(exc))


@app.command()
def run(
    headless: bool = typer.Option(False, "--headless", help="Feeds, engine and store without a UI."),
    duration: Optional[float] = typer.Option(None, "--duration", help="Stop after this many seconds."),
    report: Optional[str] = typer.Option(None, "--report", help="Print the replay-style report at the end: json."),
    group: Optional[str] = typer.Option(None, "--group", help="Groups, e.g. BTC or BTC,ETH."),
    venues: Optional[str] = typer.Option(None, "--venues", help="Venues, e.g. binance,bybit,okx."),
    db: Optional[Path] = typer.Option(None, "--db", help="Store for liquidation statistics."),
    no_mouse: bool = typer.Option(False, "--no-mouse", help="Do not capture the mouse (tmux copy mode)."),
    config: Optional[Path] = ConfigOpt,
) -> None:
    """The live dashboard (the default command)."""
    settings = load_settings(config)
    if group:
        settings.feeds.group = group
    if venues:
        settings.feeds.venues = venues
    from orderflow_tui.feeds.session import check_feed_settings

    try:
        check_feed_settings(settings)
    except ValueError as exc:
        fail(str(exc))
    if headless:
        from orderflow_tui.feeds.headless import run_headless

        code = run_headless(settings, duration, report, db)
        raise typer.Exit(code)
    from orderflow_tui.ui.launch import launch_live

    launch_live(settings, db, no_mouse=no_mouse)


def main() -> None:
    app()
