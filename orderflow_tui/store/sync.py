"""A blocking store writer for the headless replay (no event loop to keep smooth)."""

from __future__ import annotations

import time
from pathlib import Path

from orderflow_tui.store.db import Batch, BatchBuilder, connect, explain, start_session, write_batch


class SyncStoreWriter:
    def __init__(self, path: Path, source: str, mode: str = "replay", venues: str = "",
                 replace_source: bool = True, interval_s: float = 1.0):
        self.path = Path(path)
        self.conn = connect(self.path)
        self.builder = BatchBuilder(source)
        self.interval_s = interval_s
        self.pending = Batch()
        self.last_commit = 0.0
        self.committed = 0  # liquidations written (including ignored duplicates)
        try:
            self.session = start_session(self.conn, source, mode, venues, replace_source)
        except Exception as exc:  # sqlite3.Error
            raise explain(self.path, exc) from None

    def absorb_sync(self, engine, force: bool = False) -> None:
        """Collect the engine's new facts; commit at most once per interval (or when forced)."""
        self.pending.extend(self.builder.collect(engine))
        now = time.monotonic()
        if force or now - self.last_commit >= self.interval_s:
            self._commit(engine)
            self.last_commit = now

    def _commit(self, engine) -> None:
        batch, self.pending = self.pending, Batch()
        ms = int(time.time() * 1000)
        try:
            write_batch(self.conn, batch, (ms, None, self.session))
        except Exception as exc:
            self.pending = batch  # nothing accepted is lost: kept for the next try
            raise explain(self.path, exc) from None
        self.committed += len(batch.liquidations)

    def close_sync(self, engine=None) -> None:
        if engine is not None:
            self.pending.extend(self.builder.collect(engine))
        ms = int(time.time() * 1000)
        try:
            write_batch(self.conn, self.pending, (ms, ms, self.session))
            self.pending = Batch()
        finally:
            self.conn.close()
