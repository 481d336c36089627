"""``run --headless``: feeds, engine and store without a UI, for servers, tmux and systemd."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys

import orjson

from orderflow_tui.engine.engine import Engine
from orderflow_tui.sim.exchange_sim import SYMBOLS
from orderflow_tui.feeds.session import LiveSource

log = logging.getLogger("orderflow_tui")


class _Masked(logging.Filter):
    """No password reaches a log line (a DSN or a --bus URL in a message or an exception)."""

    def filter(self, record: logging.LogRecord) -> bool:
        from orderflow_tui.store.db import masked

        record.msg, record.args = masked(record.getMessage()), None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text, record.exc_info = masked(logging.Formatter().formatException(record.exc_info)), None
        return True


def setup_logging(log_file: str | None) -> None:
    handlers = [logging.StreamHandler(sys.stderr)]
    if log_file:
        handlers.append(logging.FileHandler(log_file))
    for h in handlers:
        h.addFilter(_Masked())
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s", handlers=handlers)
    logging.getLogger("websockets").setLevel(logging.WARNING)


def run_headless(settings, duration: float | None, report: str | None, db, demo: bool = False,
                 log_file: str | None = None, no_store: bool = False, demo_rate: float = 40.0,
                 demo_seed: int = 7) -> int:
    setup_logging(log_file)
    return asyncio.run(_main(settings, duration, report, db, demo, no_store, demo_rate, demo_seed))


async def _main(settings, duration, report, db, demo, no_store, demo_rate=40.0, demo_seed=7) -> int:
    from orderflow_tui.store.db import StoreError, resolve_db_path

    source = LiveSource(settings, demo=demo, demo_rate=demo_rate, demo_seed=demo_seed)
    engine = Engine(settings.engine, venues_tracked=len(source.venues), collect_facts=not no_store,
                    report_tf="1m" if report else None)
    writer = None
    if not no_store:
        kind = "demo" if demo else "live"  # a demo never writes into the live store (its own file unless --db)
        from orderflow_tui.store.postgres import store_writer  # --db postgresql://... or a file

        writer = store_writer(resolve_db_path(db, settings, kind), settings, engine, kind,
                              "SIMULATED" if demo else "headless", ",".join(source.venues))
        try:
            await writer.open()
        except StoreError as exc:
            print(f"orderflow-tui: {exc}", file=sys.stderr)
            return 2
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    tasks = [asyncio.create_task(source.run(engine), name="feeds")]
    if writer is not None:
        tasks.append(asyncio.create_task(writer.run(), name="store-writer"))
    status_task = asyncio.create_task(_log_status(source, engine))
    try:
        async with asyncio.timeout(duration or None):  # not wait_for: it can drop a cancel (connection.py)
            await stop.wait()
    except TimeoutError:
        pass
    log.info("stopping: flushing the store")
    if source.exchange is not None:
        await source.exchange.pause()  # the simulator stops producing; the client catches up
        await asyncio.sleep(2.0)
    source.stop()
    for t in tasks + [status_task]:
        t.cancel()
    await asyncio.gather(*tasks, status_task, return_exceptions=True)
    if writer is not None:
        await writer.close()
    if source.exchange is not None:
        await source.exchange.stop()
    engine.finish()
    if report:
        from orderflow_tui.replay import ReplayStats
        from orderflow_tui.report import build_report

        stats = ReplayStats()
        stats.frames, stats.rejected = source.frames()
        out = build_report(engine, stats, source.instruments)
        out["venues"] = {s.venue: {"state": s.state, "frames": s.frames, "rejected": s.rejected,
                                   "reconnects": s.reconnects, "gaps_filled": s.gaps_filled, "unrecovered": s.unrecovered,
                                   "refused": s.refused, "detail": s.detail}
                         for s in source.statuses()}
        if source.exchange is not None:  # what the simulated servers produced, to check against
            out["simulator"] = {f"{v}:{SYMBOLS[v]}": dict(zip(("trades", "buy_base", "sell_base"),
                                                              srv.ledger.totals()),
                                                          liquidations=len(srv.ledger.liquidations))
                                for v, srv in source.exchange.servers.items()}
        sys.stdout.buffer.write(orjson.dumps(out) + b"\n")
        sys.stdout.flush()
    return 0


async def _log_status(source, engine) -> None:
    while True:
        await asyncio.sleep(10)
        parts = [f"{s.venue}={s.state} {s.msgs_per_s:.0f}/s rc={s.reconnects}" + (f" ({s.detail})" if s.detail else "")
                 for s in source.statuses()]
        trades = sum(m.trades for m in engine.markets.values())
        log.info("%s | trades=%d", " ".join(parts), trades)
