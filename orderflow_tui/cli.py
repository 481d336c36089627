"""The ``orderflow-tui`` command: the dashboard by default, plus replay, record, stats, export, demo, doctor."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Optional

import orjson
import typer

from orderflow_tui import config as cfg

# plain help (no "<bool>" column), -h as well as --help, and no rich traceback for a bad argument
app = typer.Typer(add_completion=False, no_args_is_help=False, invoke_without_command=True, rich_markup_mode=None,
                  pretty_exceptions_enable=False, context_settings={"help_option_names": ["-h", "--help"]},
                  help="Order flow of crypto perpetual futures in your terminal: CVD, pressure, footprint, "
                       "whales and liquidations across Binance, Bybit and OKX.")

ConfigOpt = typer.Option(None, "--config", help="TOML config file (default: ./orderflow-tui.toml, then the user config dir).")
SOURCES_HELP = "Which data: live (default), demo, replay (every capture), replay:NAME (one capture file), or all."
_top_config: Optional[Path] = None  # `orderflow-tui --config X COMMAND`: X applies to every command
_top_no_books = False  # `orderflow-tui --no-books [COMMAND]`: as --config, for every command with feeds
NoBooksOpt = typer.Option(False, "--no-books", help="No order books this run: no depth connections (feeds.books = false).")


def fail(message: str, code: int = 2) -> None:
    from orderflow_tui.store.db import masked  # one line, and never a password (a DSN, a --bus URL)

    typer.echo(f"orderflow-tui: {masked(message)}", err=True)
    raise typer.Exit(code)


def load_settings(path: Optional[Path], group: Optional[str] = None, venues: Optional[str] = None,
                  live: bool = False, no_books: bool = False) -> cfg.Settings:
    """The config file and environment, then --group / --venues / --no-books; checked for the live
    path when live."""
    try:
        settings = cfg.load(path or _top_config)
    except cfg.ConfigError as exc:
        fail(str(exc))
    from orderflow_tui.ui.format import set_date_format

    set_date_format(settings.ui.date_format)
    if group:
        settings.feeds.group = group
    if venues:
        settings.feeds.venues = venues
    if no_books or _top_no_books:
        settings.feeds.books = False
    if live:
        from orderflow_tui.feeds.session import check_feed_settings

        try:
            check_feed_settings(settings)
        except ValueError as exc:
            fail(str(exc))
    return settings


BusOpt = typer.Option(None, "--bus", help="Attach to collectors on NATS JetStream, e.g. nats://host:4222 "
                     "(docs/scale-out.md; needs the server extra).")
SinceBusOpt = typer.Option(None, "--since", help="With --bus: rebuild from this time (UTC; YYYYMMDD, ISO 8601, "
                           "or 90m / 24h back); default: the stream's start.")


@app.callback()
def main_callback(ctx: typer.Context, config: Optional[Path] = ConfigOpt, bus: Optional[str] = BusOpt,
                  since: Optional[str] = SinceBusOpt, no_books: bool = NoBooksOpt) -> None:
    global _top_config, _top_no_books
    _top_config, _top_no_books = config, no_books
    if ctx.invoked_subcommand is None and bus:  # the dashboard attached to the bus
        _attach(config, bus, since, headless=False, duration=None, report=None, db=None, no_store=True,
                no_mouse=False, log_file=None, durable=None)
    elif ctx.invoked_subcommand is None:  # the bare command: the live dashboard with its defaults
        _live(config, headless=False, duration=None, report=None, group=None, venues=None, db=None, no_store=False,
              no_mouse=False, log_file=None, demo=False)


GroupOpt = typer.Option(None, "--group", help="Groups, e.g. BTC or BTC,ETH.")
WatchOpt = typer.Option(False, "--watch", help="Watch the ten largest perpetuals (with --group's first) and "
                        "open on the comparison view.")


def _watched(group: Optional[str], watch: bool) -> Optional[str]:
    """--group, plus the default watchlist with --watch (the groups given first, none twice)."""
    if not watch:
        return group
    from orderflow_tui.instruments import WATCHLIST

    given = [g.strip().upper() for g in (group or "").split(",") if g.strip()]
    return ",".join(dict.fromkeys(given + list(WATCHLIST)))


@app.command()
def replay(
    capture: Path = typer.Argument(..., help="Capture file (.jsonl or .jsonl.gz)."),
    headless: bool = typer.Option(False, "--headless", help="No UI: read as fast as possible (the report: --report json)."),
    report: Optional[str] = typer.Option(None, "--report", help="Print the report (headless): json. Without it a "
                                         "headless replay fills the store and keeps only the dashboard's bars."),
    tf: str = typer.Option("1m", "--tf", help="Footprint bar setting for the report: 1m 5m 15m 1h 4h 1d."),
    step: Optional[float] = typer.Option(None, "--step", help="Footprint row size (default: the group's row size)."),
    speed: str = typer.Option("1", "--speed", help="Dashboard replay pace: a multiple of real time, or max."),
    group: Optional[str] = GroupOpt,
    db: Optional[Path] = typer.Option(None, "--db", help="Store to write liquidation statistics to "
                                      "(default: replay.sqlite in the user data directory, never the live store)."),
    no_store: bool = typer.Option(False, "--no-store", help="Do not write to the store."),
    config: Optional[Path] = ConfigOpt,
) -> None:
    """Replay a capture: headless with a JSON report, or in the dashboard (on the capture's groups)."""
    from orderflow_tui.capture import CaptureError, CaptureReader
    from orderflow_tui.engine.engine import Engine
    from orderflow_tui.engine.footprint import TIMEFRAMES_MS
    from orderflow_tui.replay import replay_capture
    from orderflow_tui.report import build_report
    from orderflow_tui.store.db import StoreError

    settings = load_settings(config, group)
    if tf not in TIMEFRAMES_MS:
        fail(f"--tf {tf!r}: use one of {', '.join(TIMEFRAMES_MS)}")
    if step is not None and not STEP_MIN <= step <= STEP_MAX:
        fail(f"--step {step!r}: a row size from {STEP_MIN:g} to {STEP_MAX:g}")
    if report not in (None, "json"):
        fail(f"--report {report!r}: only json is available")
    pace = _speed(speed)
    try:
        reader = CaptureReader(capture)  # a bad file is one line here, before any screen opens
    except CaptureError as exc:
        fail(str(exc))
    for bad in reader.ignored_instruments:
        typer.echo(f"orderflow-tui: {capture}: ignored header instrument {bad}: contract_size must be a number "
                   "from 1e-12 to 1e9", err=True)
    source = _capture_source(capture, reader.header)
    if not headless:
        from orderflow_tui.ui.launch import launch_replay

        raise typer.Exit(launch_replay(settings, reader, pace, db, no_store, source, groups_given=bool(group)))
    writer = None
    # every bar of the capture only for a report that lists them: without one, memory and time follow
    # the trades, not the span (a sparse capture of 278 days kept 200,000 bars)
    engine = Engine(settings.engine, report_tf=tf if report else None, report_step=step if report else None,
                    collect_facts=not no_store)
    if not no_store:
        writer = _open_store(settings, db, source)
    with reader:
        try:
            stats = replay_capture(reader, engine, settings.venues.per_venue(),
                                   on_batch=writer.absorb_sync if writer else None)
        except StoreError as exc:
            fail(str(exc))
    if writer is not None:
        try:
            writer.close_sync(engine)
        except StoreError as exc:
            fail(str(exc))
    if report:
        sys.stdout.buffer.write(orjson.dumps(build_report(engine, stats, reader.instruments)) + b"\n")
        sys.stdout.flush()
    typer.echo(f"replayed {stats.frames} frames ({stats.rejected} rejected) from {capture}", err=True)
    if stats.truncated:  # the report holds everything before the cut; the exit status says it is partial
        fail(stats.truncated, 1)


STEP_MIN, STEP_MAX = 1e-12, 1e9  # a row index price / step stays below 1e26 (docs/decisions.md)


def _speed(text: str) -> float | None:
    """--speed: a positive multiple of real time, or max (None)."""
    if text.strip().lower() == "max":
        return None
    try:
        pace = float(text)
    except ValueError:
        pace = 0.0
    if not 0 < pace < float("inf"):
        fail(f"--speed {text!r}: use a positive number (a multiple of real time) or max")
    return pace


def _capture_source(capture: Path, header: dict) -> str:
    """A capture's source in the store: replaying it again replaces what it wrote before."""
    return f"replay:{capture.resolve().name}@{header.get('started_ms')}"


def _open_store(settings, db, source: str):
    from orderflow_tui.store.db import StoreError, resolve_db_path
    from orderflow_tui.store.sync import SyncStoreWriter

    from orderflow_tui.store.postgres import PgSyncStoreWriter, dsn_of

    path = resolve_db_path(db, settings, "replay")
    try:
        if dsn_of(path):  # --db postgresql://...
            return PgSyncStoreWriter(dsn_of(path), source, interval_s=settings.store.commit_interval_s)
        return SyncStoreWriter(path, source, interval_s=settings.store.commit_interval_s)
    except StoreError as exc:
        fail(str(exc))


@app.command()
def run(
    headless: bool = typer.Option(False, "--headless", help="Feeds, engine and store without a UI."),
    duration: Optional[float] = typer.Option(None, "--duration", help="Stop after this many seconds."),
    report: Optional[str] = typer.Option(None, "--report", help="Print the replay-style report at the end: json."),
    group: Optional[str] = typer.Option(None, "--group", help="Groups, e.g. BTC or BTC,ETH."),
    watch: bool = WatchOpt,
    venues: Optional[str] = typer.Option(None, "--venues", help="Venues, e.g. binance,bybit,okx."),
    db: Optional[Path] = typer.Option(None, "--db", help="Store for liquidation statistics (with --bus: makes "
                                      "this run the bus's store writer)."),
    no_store: bool = typer.Option(False, "--no-store", help="Do not write to the store (headless)."),
    no_mouse: bool = typer.Option(False, "--no-mouse", help="Do not capture the mouse (tmux copy mode)."),
    log_file: Optional[str] = typer.Option(None, "--log-file", help="Also log to this file (headless)."),
    bus: Optional[str] = BusOpt,
    since: Optional[str] = SinceBusOpt,
    durable: Optional[str] = typer.Option(None, "--durable", help="With --bus --headless --db (the store "
                                          "writer): its durable consumer's name (default store; one writer each)."),
    no_books: bool = NoBooksOpt,
    config: Optional[Path] = ConfigOpt,
) -> None:
    """The live dashboard (the default command); --headless for servers; --bus to attach to collectors."""
    if bus:
        _attach(config, bus, since, headless, duration, report, db, no_store, no_mouse, log_file, durable)
    _live(config, headless, duration, report, _watched(group, watch), venues, db, no_store, no_mouse, log_file,
          demo=False, compare=watch, no_books=no_books)


@app.command()
def demo(
    headless: bool = typer.Option(False, "--headless", help="No UI: run the simulated market headless."),
    duration: Optional[float] = typer.Option(None, "--duration", help="Stop after this many seconds."),
    report: Optional[str] = typer.Option(None, "--report", help="Print the report at the end: json."),
    db: Optional[Path] = typer.Option(None, "--db", help="Store for liquidation statistics (default: demo.sqlite)."),
    no_store: bool = typer.Option(False, "--no-store", help="Do not write to any store."),
    rate: float = typer.Option(40.0, "--rate", help="Simulated base trade rate per second (clustered around it)."),
    seed: int = typer.Option(7, "--seed", help="Seed of the simulated market."),
    group: Optional[str] = typer.Option(None, "--group", help="Simulated groups, e.g. BTC or BTC,ETH (default BTC)."),
    watch: bool = WatchOpt,
    log_file: Optional[str] = typer.Option(None, "--log-file", help="Also log to this file (headless)."),
    venues: Optional[str] = typer.Option(None, "--venues", help="Simulated venues, e.g. "
                                         "binance,bybit,okx,coinbase,hyperliquid,bitget (default binance,bybit,okx)."),
    no_books: bool = NoBooksOpt,
    config: Optional[Path] = ConfigOpt,
) -> None:
    """The dashboard on a SIMULATED market: local servers speaking Binance, Bybit and OKX's protocols,
    driven by a seeded model, reached through the ordinary live path. No internet needed. Its store is
    demo.sqlite in the user data directory unless --db names one; never the live store."""
    if not 0 < rate <= 100_000:
        fail(f"--rate {rate!r}: a number of trades per second above 0, at most 100000")
    group = _watched(group, watch)
    if group:
        from orderflow_tui.sim.market_model import DEMO_PRICES

        unknown = [g for g in (x.strip().upper() for x in group.split(",")) if g and g not in DEMO_PRICES]
        if unknown:
            fail(f"--group {','.join(unknown)}: the simulated market lists only {', '.join(DEMO_PRICES)}")
    _live(config, headless, duration, report, group or "BTC", venues or "binance,bybit,okx", db, no_store, False,
          log_file, demo=True, demo_rate=rate, demo_seed=seed, compare=watch, no_books=no_books)


def _live(config, headless, duration, report, group, venues, db, no_store, no_mouse, log_file, demo,
          demo_rate=40.0, demo_seed=7, compare=False, no_books=False):
    settings = load_settings(config, group, venues, live=True, no_books=no_books)
    if report not in (None, "json"):
        fail(f"--report {report!r}: only json is available")
    if duration is not None and not 0 < duration < float("inf"):
        fail(f"--duration {duration!r}: a positive number of seconds")
    if headless:
        from orderflow_tui.feeds.headless import run_headless

        raise typer.Exit(run_headless(settings, duration, report, db, demo=demo, log_file=log_file,
                                      no_store=no_store, demo_rate=demo_rate, demo_seed=demo_seed))
    from orderflow_tui.ui.launch import launch_live

    raise typer.Exit(launch_live(settings, db, no_mouse=no_mouse, demo=demo, demo_rate=demo_rate, demo_seed=demo_seed,
                                 no_store=no_store, view="compare" if compare else "snapshot"))


def _bus_settings(settings, url: str, retention: Optional[str] = None, buffer: Optional[int] = None):
    from orderflow_tui.bus.stream import BusError, BusSettings, check_url

    try:
        bus = BusSettings(url=check_url(url))
    except BusError as exc:
        fail(str(exc))
    if retention is not None:
        m = re.fullmatch(r"(\d+(?:\.\d+)?)([hd])", retention.strip())
        if not m or float(m.group(1)) <= 0:
            fail(f"--retention {retention!r}: a duration like 48h or 30d")
        bus.max_age_s = float(m.group(1)) * (3600 if m.group(2) == "h" else 86_400)
    if buffer is not None:
        if buffer < 1000:
            fail(f"--buffer {buffer}: at least 1000 events")
        bus.buffer_events = buffer
    return bus


def _attach(config, url, since, headless, duration, report, db, no_store, no_mouse, log_file, durable):
    """On the bus, a viewer (the dashboard, or headless without --db: its own consumer, no store) or,
    headless with --db, the store writer (the one durable consumer --durable)."""
    settings = load_settings(config)
    bus = _bus_settings(settings, url)
    if report not in (None, "json"):
        fail(f"--report {report!r}: only json is available")
    if duration is not None and not 0 < duration < float("inf"):
        fail(f"--duration {duration!r}: a positive number of seconds")
    if db is not None and no_store:
        fail("--db and --no-store: a run on the bus writes a store only when --db names it; choose one")
    if db is not None and not headless:
        fail("--db with --bus: the dashboard on the bus is a viewer and writes no store; the store writer is "
             "`run --headless --bus URL --db DB`")
    if durable is not None and db is None:
        fail(f"--durable {durable}: names the store writer's consumer; give --db as well (a viewer has its own)")
    if durable is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", durable):
        fail(f"--durable {durable!r}: letters, digits, - and _ (at most 64)")
    since_ms = _parse_time(since, "--since")
    from orderflow_tui.bus.stream import BusError, import_nats

    try:
        import_nats()
    except BusError as exc:
        fail(str(exc))
    if headless:
        from orderflow_tui.bus.headless import run_attached

        raise typer.Exit(run_attached(settings, bus, duration, report, db, since_ms, durable or "store", log_file))
    from orderflow_tui.bus.attach import launch_attached

    raise typer.Exit(launch_attached(settings, bus, since_ms, no_mouse))


@app.command()
def collect(
    bus: str = typer.Option(..., "--bus", help="NATS server with JetStream, e.g. nats://host:4222."),
    venues: Optional[str] = typer.Option(None, "--venues", help="Venues this collector feeds, e.g. binance."),
    group: Optional[str] = typer.Option(None, "--group", help="Groups, e.g. BTC,ETH."),
    duration: Optional[float] = typer.Option(None, "--duration", help="Stop after this many seconds."),
    retention: Optional[str] = typer.Option(None, "--retention", help="How long the stream keeps events, "
                                            "e.g. 48h or 30d (default 7d); applied to the stream."),
    buffer: Optional[int] = typer.Option(None, "--buffer", help="Events kept locally while the bus is down "
                                         "(default 500000; beyond it the oldest are dropped and counted)."),
    demo: bool = typer.Option(False, "--demo", help="Feed from the simulated venues (no internet)."),
    log_file: Optional[str] = typer.Option(None, "--log-file", help="Also log to this file."),
    no_books: bool = NoBooksOpt,
    config: Optional[Path] = ConfigOpt,
) -> None:
    """Run the feeds headless and publish every normalized event to a NATS JetStream stream, for
    dashboards and a store writer that attach with --bus (docs/scale-out.md)."""
    settings = load_settings(config, group, venues, live=True, no_books=no_books)
    bus_settings = _bus_settings(settings, bus, retention, buffer)
    if duration is not None and not 0 < duration < float("inf"):
        fail(f"--duration {duration!r}: a positive number of seconds")
    from orderflow_tui.bus.stream import BusError, import_nats

    try:
        import_nats()
    except BusError as exc:
        fail(str(exc))
    from orderflow_tui.bus.collector import run_collector

    raise typer.Exit(run_collector(settings, bus_settings, duration, demo, log_file))


@app.command()
def record(
    out: Path = typer.Argument(..., help="Capture file to write (.jsonl, or .jsonl.gz to compress)."),
    duration: Optional[float] = typer.Option(None, "--duration", help="Stop after this many seconds."),
    group: Optional[str] = typer.Option(None, "--group", help="Groups, e.g. BTC,ETH."),
    venues: Optional[str] = typer.Option(None, "--venues", help="Venues, e.g. binance,bybit,okx."),
    demo: bool = typer.Option(False, "--demo", help="Record the simulated venues (no internet; e.g. to try replay)."),
    no_books: bool = NoBooksOpt,
    config: Optional[Path] = ConfigOpt,
) -> None:
    """Record the live feeds into a capture file (contract.md §1), with the instruments header."""
    settings = load_settings(config, group, venues, live=True, no_books=no_books)
    from orderflow_tui.feeds.record import record_capture

    if duration is not None and not 0 < duration < float("inf"):
        fail(f"--duration {duration!r}: a positive number of seconds")
    if out.is_dir():
        fail(f"cannot write {out}: is a directory; name a capture file")
    try:
        frames, silent = record_capture(settings, out, duration, demo=demo)
    except OSError as exc:
        fail(f"cannot write {out}: {exc.strerror or exc}")
    typer.echo(f"recorded {frames} frames to {out}", err=True)
    for venue, why in silent.items():  # a venue that never answered is named, with its last reason
        typer.echo(f"orderflow-tui: record: no frame from {venue}" + (f" ({why})" if why else ""), err=True)
    if frames == 0 or len(silent) == len(settings.feeds.venues.split(",")):
        fail("record: no venue could be reached; the capture holds no frame", 1)


@app.command()
def doctor(
    timeout: float = typer.Option(20.0, "--timeout", help="Seconds to wait for the first trade per stream."),
    liquidation_timeout: float = typer.Option(60.0, "--liquidation-timeout",
                                              help="Seconds to wait for a first liquidation (they can be rare)."),
    group: Optional[str] = typer.Option(None, "--group", help="Group to check, e.g. BTC."),
    venues: Optional[str] = typer.Option(None, "--venues", help="Venues to check."),
    no_books: bool = NoBooksOpt,
    config: Optional[Path] = ConfigOpt,
) -> None:
    """Check each venue and stream: name resolution, connection, subscription, first trade and
    first liquidation; a verdict and a hint per line."""
    settings = load_settings(config, group, venues, live=True, no_books=no_books)
    from orderflow_tui.feeds.doctor import run_doctor

    raise typer.Exit(run_doctor(settings, timeout, liquidation_timeout))


def _parse_time(text: Optional[str], name: str) -> Optional[int]:
    """YYYYMMDD, 'YYYYMMDD HH:MM:SS', ISO 8601 (UTC), or a span back from now: 90m, 24h, 7d."""
    if text is None:
        return None
    import calendar
    import time as _time
    from datetime import datetime, timezone

    t = text.strip()
    m = re.fullmatch(r"(\d{1,7})([mhd])", t)  # up to 27 years of days: ms stay a 64-bit integer
    if m:
        unit = {"m": 60_000, "h": 3_600_000, "d": 86_400_000}[m.group(2)]
        return int(_time.time() * 1000) - int(m.group(1)) * unit
    for fmt in ("%Y%m%d", "%Y%m%d %H:%M:%S", "%Y%m%d %H:%M", "%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S"):
        try:
            return calendar.timegm(datetime.strptime(t, fmt).timetuple()) * 1000
        except ValueError:
            pass
    try:
        d = datetime.fromisoformat(t)
        return int((d if d.tzinfo else d.replace(tzinfo=timezone.utc)).timestamp() * 1000)
    except ValueError:
        fail(f"{name} {text!r}: use YYYYMMDD, 'YYYYMMDD HH:MM:SS', ISO 8601, or 90m / 24h / 7d")


@app.command()
def stats(
    db: Optional[Path] = typer.Option(None, "--db", help="Store file (default: the user data directory)."),
    json_out: bool = typer.Option(False, "--json", help="One JSON object on stdout."),
    since: Optional[str] = typer.Option(None, "--since", help="From (UTC): YYYYMMDD, 'YYYYMMDD HH:MM:SS', 24h, 7d."),
    until: Optional[str] = typer.Option(None, "--until", help="Until (UTC), same forms."),
    group: Optional[str] = typer.Option(None, "--group", help="Only this underlying, e.g. BTC."),
    source: Optional[str] = typer.Option(None, "--source", help=SOURCES_HELP),
    config: Optional[Path] = ConfigOpt,
) -> None:
    """Accumulated liquidation statistics from the store (live data unless --source says otherwise)."""
    from orderflow_tui.store.db import StoreError, accumulated, resolve_db_path
    from orderflow_tui.store.postgres import connect_any as connect  # a file, or postgresql://...
    from orderflow_tui.store.report import format_stats

    settings = load_settings(config)
    _check_source(source)
    path = resolve_db_path(db, settings)
    since_ms, until_ms = _parse_time(since, "--since"), _parse_time(until, "--until")
    try:
        conn = connect(path, readonly=True)
        try:
            if json_out:  # the analysis desk's numbers (contract.md §3b), from the hour rollup
                from orderflow_tui.store.analysis import HOUR, desk

                d = desk(conn, since_ms, until_ms, group, source, settings.engine.liquidation_bucket,
                         settings.feeds.group.split(",")[0].strip())
                # the totals of a span of whole hours are the rollup's: no second scan of the store
                whole = until_ms is None and (since_ms is None or since_ms % HOUR == 0)
                result = accumulated(conn, since_ms, until_ms, group, source, d.cells if whole else None)
                result["cascade_summary"] = result["cascades"]  # §3b's cascades is the list of them
                result.update(d.as_json(), span={"from_ts": d.span[0], "until_ts": d.span[1]})
            else:
                result = accumulated(conn, since_ms, until_ms, group, source)
        finally:
            conn.close()
    except StoreError as exc:
        fail(str(exc))
    except Exception as exc:  # sqlite3.Error or asyncpg's while reading
        from orderflow_tui.store.postgres import explain_any

        fail(str(explain_any(path, exc)))
    if json_out:
        sys.stdout.buffer.write(orjson.dumps(result) + b"\n")
    else:
        typer.echo(format_stats(result, path))


@app.command()
def export(
    out: Path = typer.Argument(..., help="Output CSV file, or - for stdout."),
    what: str = typer.Option("liquidations", "--what", help="liquidations, hourly (volume and liquidations per "
                             "hour, venue and symbol), or an analysis table: daily, day_hour, cumulative (per hour, "
                             "with the running sum), price_levels, cascades."),
    db: Optional[Path] = typer.Option(None, "--db", help="Store file."),
    since: Optional[str] = typer.Option(None, "--since", help="From (UTC)."),
    until: Optional[str] = typer.Option(None, "--until", help="Until (UTC)."),
    group: Optional[str] = typer.Option(None, "--group", help="Only this underlying."),
    source: Optional[str] = typer.Option(None, "--source", help=SOURCES_HELP),
    config: Optional[Path] = ConfigOpt,
) -> None:
    """CSV of liquidations or of hourly buckets over a time range (for notebooks and spreadsheets),
    with a source column; live data unless --source says otherwise."""
    from orderflow_tui.store.db import StoreError, resolve_db_path
    from orderflow_tui.store.postgres import connect_any as connect  # a file, or postgresql://...
    from orderflow_tui.store.postgres import explain_any
    from orderflow_tui.store.report import export_csv

    analysis = ("daily", "day_hour", "cumulative", "price_levels", "cascades")
    if what not in ("liquidations", "hourly", *analysis):
        fail(f"--what {what!r}: use liquidations, hourly, {', '.join(analysis)}")
    settings = load_settings(config)
    _check_source(source)
    path = resolve_db_path(db, settings)
    since_ms, until_ms = _parse_time(since, "--since"), _parse_time(until, "--until")
    if str(out) != "-" and out.is_dir():
        fail(f"cannot write {out}: is a directory; name a CSV file")
    try:
        conn = connect(path, readonly=True)
    except StoreError as exc:
        fail(str(exc))
    try:
        fh = sys.stdout if str(out) == "-" else open(out, "w", newline="", encoding="utf-8")
    except OSError as exc:
        fail(f"cannot write {out}: {exc.strerror}")
    try:
        if what in analysis:
            import csv

            from orderflow_tui.store.analysis import desk, export_rows

            d = desk(conn, since_ms, until_ms, group, source, settings.engine.liquidation_bucket,
                     settings.feeds.group.split(",")[0].strip())
            header, table = export_rows(d, "hourly" if what == "cumulative" else what)
            out_csv = csv.writer(fh)
            out_csv.writerow(header)
            out_csv.writerows(table)
            rows = len(table)
        else:
            rows = export_csv(conn, fh, what, since_ms, until_ms, group, source)
    except StoreError as exc:
        fail(str(exc))
    except Exception as exc:
        fail(str(explain_any(path, exc)))
    finally:
        conn.close()
        if fh is not sys.stdout:
            fh.close()
    typer.echo(f"{rows} rows written to {out}", err=True)


def _check_source(source: Optional[str]) -> None:
    from orderflow_tui.store.db import SOURCES

    if source is not None and source not in SOURCES:
        fail(f"--source {source!r}: use one of {', '.join(SOURCES)}")


def main() -> None:
    app()
