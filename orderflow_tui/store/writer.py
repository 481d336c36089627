"""The store writer for the live app: aiosqlite, one transaction per interval, never blocking the loop.

The engine only appends facts to a deque; ``run()`` wakes once per interval, drains them into a
batch and commits it in aiosqlite's thread. A failed commit keeps the batch for the next try and
reports the error through ``status``; shutdown flushes what is left.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import aiosqlite

from orderflow_tui.store import schema
from orderflow_tui.store.db import (Batch, BatchBuilder, apply_retention, connect, explain, start_session,
                                    with_levels)

DRAIN_S = 0.1


class AsyncStoreWriter:
    def __init__(self, path: Path, engine, source: str, mode: str, venues: str, interval_s: float = 1.0,
                 keep_liquidations_days: int = 0, keep_buckets_days: int = 0, institutional: float = 100_000.0):
        self.path = Path(path)
        self.engine = engine
        self.builder = BatchBuilder(source)
        self.source = source
        self.mode = mode
        self.venues = venues
        self.interval_s = interval_s
        self.retention = (keep_liquidations_days, keep_buckets_days)
        self.institutional = institutional  # liquidations this large are kept with the rollups
        self.pending = Batch()
        self.conn: aiosqlite.Connection | None = None
        self.session = 0
        self.status = "starting"
        self.error = ""
        self.commits = 0
        self.rows = 0
        self.longest_commit_ms = 0.0
        self._stop = asyncio.Event()
        self._lock = asyncio.Lock()

    async def open(self) -> None:
        """Check and migrate with a plain connection (raises StoreError), then open aiosqlite."""
        sync = await asyncio.to_thread(connect, self.path)
        try:
            self.session = await asyncio.to_thread(start_session, sync, self.source, self.mode, self.venues)
        finally:
            sync.close()
        self.conn = await aiosqlite.connect(self.path, timeout=5.0, isolation_level=None)
        await self.conn.execute("PRAGMA busy_timeout = 5000")
        await self.conn.execute("PRAGMA synchronous = NORMAL")
        self.status = "ok"

    async def run(self) -> None:
        """The writer loop: a named worker on the app, or a task in headless mode. Facts are drained
        every DRAIN_S (short, even slices on the event loop); a commit happens once per interval."""
        last_commit = time.monotonic()
        last_retention = last_commit - 3600  # prune once at start, then hourly
        while not self._stop.is_set():
            try:
                async with asyncio.timeout(DRAIN_S):  # not wait_for: it can drop a cancel (feeds/connection.py)
                    await self._stop.wait()
            except TimeoutError:
                pass
            self.pending.extend(self.builder.collect(self.engine))
            if time.monotonic() - last_commit >= self.interval_s:
                last_commit = time.monotonic()
                await self.flush()
            if any(self.retention) and time.monotonic() - last_retention > 3600:
                last_retention = time.monotonic()
                await self._retention()

    async def flush(self, stopping: bool = False) -> None:
        """Commit everything collected so far in one transaction. A cancelled flush still lets the
        transaction finish (or roll back) and keeps the batch when it did not commit."""
        async with self._lock:
            self.pending.extend(self.builder.collect(self.engine))
            if self.conn is None:
                return
            batch, self.pending = self.pending, Batch()
            now = int(time.time() * 1000)
            t0 = time.perf_counter()
            write = asyncio.ensure_future(self._write(batch, (now, now if stopping else None, self.session)))
            try:
                await asyncio.shield(write)
            except asyncio.CancelledError:
                await asyncio.wait([write])
                self._settle(write, batch, t0)
                raise
            except Exception:
                pass
            self._settle(write, batch, t0)

    def _settle(self, write, batch: Batch, t0: float) -> None:
        exc = write.exception()
        if exc is not None:  # keep the batch, say why, try again next interval
            self.pending.extend(batch)
            self.status = "error"
            self.error = str(explain(self.path, exc))
            return
        self.longest_commit_ms = max(self.longest_commit_ms, (time.perf_counter() - t0) * 1000)
        self.status, self.error = "ok", ""
        self.commits += 1
        self.rows += len(batch)

    async def _write(self, batch: Batch, session: tuple) -> None:
        conn = self.conn
        await conn.execute("BEGIN IMMEDIATE")
        try:
            if batch.liquidations:
                await conn.executemany(schema.INSERT_LIQUIDATION, with_levels(batch.liquidations))
            if batch.volumes:
                await conn.executemany(schema.ADD_VOLUME, batch.volumes)
            if batch.cascades:
                await conn.executemany(schema.UPSERT_CASCADE, batch.cascades)
            await conn.execute("UPDATE sessions SET last_seen_ms = ?, stopped_ms = ? WHERE id = ?", session)
            await conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                await conn.execute("ROLLBACK")
            raise

    async def _retention(self) -> None:
        """One retention pass on its own connection, opened, used and closed in one worker thread: a
        cancelled writer (shutdown) waits for the pass instead of closing the connection under it."""
        def prune() -> int:
            sync = connect(self.path)
            try:
                return apply_retention(sync, *self.retention, int(time.time() * 1000), self.institutional)
            finally:
                sync.close()

        job = asyncio.ensure_future(asyncio.to_thread(prune))
        try:
            await asyncio.shield(job)
        except asyncio.CancelledError:
            await asyncio.wait([job])
            raise

    def stop(self) -> None:
        """Ask ``run()`` to end after its current step (then call ``close()``)."""
        self._stop.set()

    async def close(self) -> None:
        """Flush everything and close (on shutdown, SIGINT, SIGTERM)."""
        self._stop.set()
        await self.flush(stopping=True)
        if self.conn is not None:
            await self.conn.close()
            self.conn = None
