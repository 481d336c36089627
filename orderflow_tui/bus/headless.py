"""``run --headless --bus``: a viewer without a UI, or (with ``--db``) the bus's one store writer.

Roles never mix: without ``--db`` the run is a viewer (its own ordered consumer, no store, nothing
acknowledged). With ``--db`` it is the store writer: the durable consumer ``--durable`` (default
``store``) that acknowledges a sequence only after the rows it produced are committed. Before it
touches that consumer it takes the writer's lease (``WriterLease``): a second store writer on the
same durable is refused with one line, never silently given half the messages.

On PostgreSQL the sequence is also written in the same transaction (table bus_offsets), and a
restart skips what that row says is in: exactly once. On SQLite a crash between commit and
acknowledgement redelivers up to one commit interval of messages: liquidations are still counted
once (natural key), traded volume of that interval twice (docs/scale-out.md).
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import sys
import time

import orjson

from orderflow_tui.bus.attach import BusSource
from orderflow_tui.bus.stream import BusError, BusSettings, cancelled, connect
from orderflow_tui.engine.engine import Engine

log = logging.getLogger("orderflow_tui")

LEASE_BUCKET = "FLOW_WRITERS"  # a JetStream key-value bucket: one key per durable, held by its writer
LEASE_EVERY_S = 0.5  # the holder renews this often
LEASE_DEAD_S = 3.0  # a lease not renewed for this long belongs to a writer that is gone (SIGKILL)
CONNECT_S = 5.0  # the store writer's first connection to the bus
ACQUIRE_S = 60.0  # how long the lease may take while the bus restarts
CATCH_UP_S = 10.0  # at a stop, how long to go on applying what the stream already held


class WriterLease:
    """One live store writer per durable consumer, on the bus itself (the writers may write different
    stores, so a lock in the store could not see them): a key holding who writes, renewed every
    LEASE_EVERY_S with a compare-and-set on its revision. A newcomer that sees the key renewed is
    refused; one that sees it still for LEASE_DEAD_S takes it over (its holder died)."""

    def __init__(self, bus: BusSettings, durable: str):
        self.bus = bus
        self.key = durable
        self.me = f"{socket.gethostname()}:{os.getpid()}"
        self.nc = self.kv = None
        self.rev = 0
        self.value = b""

    async def acquire(self) -> None:
        try:  # nats-py would retry a first connection forever: the writer says at once that it cannot start
            async with asyncio.timeout(CONNECT_S):
                self.nc = await connect(self.bus, f"store-writer-lease {self.key}")
        except asyncio.TimeoutError:
            raise BusError(f"bus {self.bus.url}: no answer within {CONNECT_S:g} s; is nats-server -js running "
                           "there? (the store writer needs the bus to know it is alone)") from None
        value = self.value = f"{self.me} since {time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime())}".encode()
        deadline = time.monotonic() + ACQUIRE_S
        while True:  # a server restart meanwhile (timeouts, a lost connection) is waited out
            try:
                return await self._acquire(value)
            except BusError:
                await self.close()
                raise
            except Exception as exc:
                if cancelled():
                    raise asyncio.CancelledError from None
                if time.monotonic() > deadline:
                    await self.close()
                    raise BusError(f"bus {self.bus.url}: cannot take the store writer's lease within {ACQUIRE_S:g} s "
                                   f"({type(exc).__name__}: {exc})") from None
                await asyncio.sleep(0.5)

    async def _acquire(self, value: bytes) -> None:
        from nats.js.api import KeyValueConfig, StorageType
        from nats.js.errors import BadRequestError, KeyNotFoundError, KeyWrongLastSequenceError

        js = self.nc.jetstream()
        try:
            self.kv = await js.create_key_value(KeyValueConfig(bucket=LEASE_BUCKET, history=1,
                                                               storage=StorageType.FILE))
        except BadRequestError:  # made by another version with other settings
            self.kv = await js.key_value(LEASE_BUCKET)
        try:
            self.rev = await self.kv.create(self.key, value)
            return
        except KeyWrongLastSequenceError:
            pass
        try:
            entry = await self.kv.get(self.key)
        except KeyNotFoundError:  # released (deleted) just now: a delete marker holds the key
            entry = None
        if entry is not None and entry.value == value:  # our own create, whose answer was lost
            self.rev = entry.revision
            return
        seen_at, rev = time.monotonic(), entry.revision if entry else 0
        holder = entry.value.decode(errors="replace") if entry and entry.value else "?"
        while entry is not None and time.monotonic() - seen_at < LEASE_DEAD_S:
            await asyncio.sleep(LEASE_EVERY_S / 2)
            try:
                entry = await self.kv.get(self.key)
            except KeyNotFoundError:
                entry = None
            if entry is not None and entry.revision != rev:
                break
        try:
            if entry is not None and entry.revision != rev:
                raise KeyWrongLastSequenceError()
            self.rev = await self.kv.update(self.key, value, last=rev)  # the holder is gone: take over
        except KeyWrongLastSequenceError:
            raise BusError(f"another store writer ({holder}) is consuming {self.key!r} on {self.bus.url}; one store "
                           f"writer per durable: stop it, or give this one its own --durable NAME and store") from None
        log.info("store writer %r: taken over from %s, which stopped renewing", self.key, holder)

    async def keep(self) -> None:
        """Renew until cancelled. Another writer took the lease only if this one stalled for
        LEASE_DEAD_S: it then stops at once, as if killed, without a last commit (the new writer
        resumes from the committed sequence; nothing is counted twice on PostgreSQL)."""
        from nats.js.errors import KeyWrongLastSequenceError

        while True:
            await asyncio.sleep(LEASE_EVERY_S)
            try:
                self.rev = await self.kv.update(self.key, self.value, last=self.rev)
            except KeyWrongLastSequenceError:
                log.error("store writer %r: another writer took over the durable consumer; stopping", self.key)
                os._exit(3)
            except Exception:  # the bus is away: renew when it is back (nobody can take it meanwhile)
                continue

    async def close(self, release: bool = False) -> None:
        if release and self.kv is not None and self.rev:
            try:
                await self.kv.delete(self.key, last=self.rev)  # the next writer starts at once
            except Exception:
                pass
        if self.nc is not None:
            try:
                async with asyncio.timeout(5.0):
                    await self.nc.close()
            except Exception:
                pass
            self.nc = None


def run_attached(settings, bus: BusSettings, duration, report, db, since_ms=None, durable: str = "store",
                 log_file=None) -> int:
    from orderflow_tui.feeds.headless import setup_logging

    setup_logging(log_file)
    return asyncio.run(_main(settings, bus, duration, report, db, since_ms, durable))


def open_writer(settings, db, engine, source: str, mode: str, venues: str):
    """The live store writer for --db: PostgreSQL for a postgresql:// DSN, else SQLite."""
    from orderflow_tui.store.db import resolve_db_path
    from orderflow_tui.store.postgres import store_writer

    return store_writer(resolve_db_path(db, settings, "live"), settings, engine, source, mode, venues)


async def _main(settings, bus, duration, report, db, since_ms, durable) -> int:
    from orderflow_tui.store.db import StoreError, masked
    from orderflow_tui.store.postgres import PgAsyncStoreWriter

    storing = db is not None  # the store writer; else a viewer, which writes nothing anywhere
    engine = Engine(settings.engine, collect_facts=storing, report_tf="1m" if report else None)
    writer = lease = None
    source = BusSource(bus, since_ms=since_ms, durable=durable if storing else None)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    keeper = None
    if storing:
        lease = WriterLease(bus, durable)
        try:
            await lease.acquire()
        except BusError as exc:
            print(f"orderflow-tui: {exc}", file=sys.stderr)
            return 2
        except Exception as exc:  # the bus cannot be reached: the writer needs it to know it is alone
            await lease.close()
            print(f"orderflow-tui: {masked(f'bus {bus.url}: {type(exc).__name__}: {exc}')}"[:300], file=sys.stderr)
            return 2
        writer = open_writer(settings, db, engine, "live", "bus", masked(bus.url))
        try:
            await writer.open()
        except StoreError as exc:
            await lease.close(release=True)
            print(f"orderflow-tui: {exc}", file=sys.stderr)
            return 2
        if isinstance(writer, PgAsyncStoreWriter):
            row = await asyncio.to_thread(writer.conn.execute, "SELECT seq FROM bus_offsets WHERE consumer = ?",
                                          (durable,))
            committed = row.fetchone()
            source.last_seq = source.committed_seq = committed[0] if committed else 0
        source.on_batch = _committer(writer, source, durable)
        log.info("store writer %r on %s: writing %s, resuming after stream sequence %s", durable, bus.url,
                 masked(db), source.committed_seq if source.committed_seq is not None else "its consumer's ack floor")
        keeper = asyncio.create_task(lease.keep(), name="store-writer-lease")
    task = asyncio.create_task(source.run(engine), name="bus")
    try:
        async with asyncio.timeout(duration):
            await stop.wait()
    except asyncio.TimeoutError:
        pass
    await _catch_up(bus, source, task)
    source.stop()  # the consumer ends its fetch, commits and acknowledges (at most ~1 s)
    try:
        async with asyncio.timeout(10.0):
            await asyncio.shield(task)
    except (asyncio.TimeoutError, Exception):
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    if writer is not None:
        await writer.close()  # whatever the bus could not acknowledge is redelivered and skipped by sequence
    if keeper is not None:
        keeper.cancel()
        await asyncio.gather(keeper, return_exceptions=True)
    if lease is not None:
        await lease.close(release=True)
    engine.finish()
    if report:
        from orderflow_tui.replay import ReplayStats
        from orderflow_tui.report import build_report

        stats = ReplayStats()
        stats.frames, stats.rejected = source.frames()
        out = build_report(engine, stats, source.instruments)
        out["bus"] = {"url": masked(bus.url), "last_seq": source.last_seq, "events": source.events,
                      "bad_messages": source.bad_messages, "reconnects": source.state.reconnects}
        sys.stdout.buffer.write(orjson.dumps(out) + b"\n")
        sys.stdout.flush()
    return 0


async def _catch_up(bus, source: BusSource, task, limit_s: float = CATCH_UP_S) -> None:
    """Asked to stop: first apply what the stream held at that moment (the report and the store
    then cover everything published before the signal), unless the bus is away or it takes long."""
    from orderflow_tui.bus.attach import stream_last_seq

    try:
        async with asyncio.timeout(2.0):
            target = await stream_last_seq(bus)
    except Exception:
        return
    deadline = time.monotonic() + limit_s
    while source.last_seq < target and not task.done() and time.monotonic() < deadline:
        await asyncio.sleep(0.02)


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
