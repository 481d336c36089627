"""``run --headless --bus``: a viewer without a UI, and the one durable consumer that writes the store.

With a store, the attached run is the store writer of the bus: a durable consumer (``--durable``)
that acknowledges a sequence only after the rows it produced are committed. On PostgreSQL the
sequence is also written in the same transaction (table bus_offsets), and a restart skips what
that row says is in: exactly once. On SQLite a crash between commit and acknowledgement redelivers
up to one commit interval of messages: liquidations are still counted once (natural key), traded
volume of that interval twice (docs/scale-out.md).
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys

import orjson

from orderflow_tui.bus.attach import BusSource
from orderflow_tui.bus.stream import BusSettings
from orderflow_tui.engine.engine import Engine

log = logging.getLogger("orderflow_tui")


def run_attached(settings, bus: BusSettings, duration, report, db, no_store, since_ms=None, durable="store",
                 log_file=None) -> int:
    from orderflow_tui.feeds.headless import setup_logging

    setup_logging(log_file)
    return asyncio.run(_main(settings, bus, duration, report, db, no_store, since_ms, durable))


def open_writer(settings, db, engine, source: str, mode: str, venues: str):
    """The live store writer for --db (or store.db): PostgreSQL for a postgresql:// DSN, else SQLite."""
    from orderflow_tui.store.db import resolve_db_path
    from orderflow_tui.store.postgres import store_writer

    return store_writer(resolve_db_path(db, settings, "live"), settings, engine, source, mode, venues)


async def _main(settings, bus, duration, report, db, no_store, since_ms, durable) -> int:
    from orderflow_tui.store.db import StoreError
    from orderflow_tui.store.postgres import PgAsyncStoreWriter

    engine = Engine(settings.engine, collect_facts=not no_store, report_tf="1m" if report else None)
    writer = None
    source = BusSource(bus, since_ms=since_ms, durable=None if no_store else durable)
    if not no_store:
        writer = open_writer(settings, db, engine, "live", "bus", bus.url)
        try:
            await writer.open()
        except StoreError as exc:
            print(f"orderflow-tui: {exc}", file=sys.stderr)
            return 2
        if isinstance(writer, PgAsyncStoreWriter):
            row = await asyncio.to_thread(writer.conn.execute, "SELECT seq FROM bus_offsets WHERE consumer = ?",
                                          (durable,))
            committed = row.fetchone()
            source.last_seq = source.committed_seq = committed[0] if committed else 0
        source.on_batch = _committer(writer, source, durable)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    task = asyncio.create_task(source.run(engine), name="bus")
    try:
        await asyncio.wait_for(stop.wait(), duration) if duration else await stop.wait()
    except asyncio.TimeoutError:
        pass
    source.stop()  # the consumer ends its fetch, commits and acknowledges (at most ~1 s)
    try:
        await asyncio.wait_for(asyncio.shield(task), 10.0)
    except (asyncio.TimeoutError, Exception):
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    if writer is not None:
        await writer.close()  # whatever the bus could not acknowledge is redelivered and skipped by sequence
    engine.finish()
    if report:
        from orderflow_tui.replay import ReplayStats
        from orderflow_tui.report import build_report

        stats = ReplayStats()
        stats.frames, stats.rejected = source.frames()
        out = build_report(engine, stats, source.instruments)
        out["bus"] = {"url": bus.url, "last_seq": source.last_seq, "events": source.events,
                      "bad_messages": source.bad_messages, "reconnects": source.state.reconnects}
        sys.stdout.buffer.write(orjson.dumps(out) + b"\n")
        sys.stdout.flush()
    return 0


def _committer(writer, source: BusSource, durable: str):
    """After each batch: commit once per interval (with the offset, on PostgreSQL), then acknowledge."""
    from orderflow_tui.store.postgres import PgAsyncStoreWriter

    loop = asyncio.get_running_loop()
    state = {"at": loop.time(), "acked": source.last_seq}

    async def commit(_seq: int, force: bool = False) -> None:
        if not force and loop.time() - state["at"] < writer.interval_s:
            return
        state["at"] = loop.time()
        seq, msg = source.last_seq, source.last_msg
        if isinstance(writer, PgAsyncStoreWriter):
            ok = await writer.flush(extra=lambda conn: conn.execute(
                "INSERT INTO bus_offsets (consumer, seq) VALUES (?, ?) "
                "ON CONFLICT (consumer) DO UPDATE SET seq = excluded.seq", (durable, seq)))
        else:
            before = writer.commits
            await writer.flush()
            ok = writer.commits > before
        if not ok and writer.error != state.get("error"):
            log.warning("store: %s (kept for the next commit; nothing acknowledged)", writer.error)
        state["error"] = None if ok else writer.error
        if ok and msg is not None and seq > state["acked"]:
            try:
                await msg.ack()  # AckPolicy.ALL: everything up to seq
                state["acked"] = seq
            except Exception as exc:  # the bus is away: the next commit acknowledges further
                log.warning("bus: acknowledgement of %d failed: %s", seq, exc)

    return commit
