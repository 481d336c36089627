"""The bus settings, the connection and the JetStream stream every collector and viewer shares.

nats-py is imported here and only here on first use: it is in the optional `server` extra, and a
user who never passes --bus needs none of it.

Cancellation is never lost: nats-py turns a cancellation inside ``publish_async`` into
TooManyStalledMsgsError (an ordinary exception), and on Python 3.11 ``asyncio.wait_for`` drops one
that arrives as its awaitable finishes (CPython gh-86296). A cancelled publisher then went on
waiting for events forever and the collector's stop, which awaits it, hung (tests/test_bus.py,
deterministically at stop_collector once publishing was pipelined). So every ``except Exception``
around nats-py asks ``cancelled()`` and re-raises, and waits are bounded with ``asyncio.timeout``.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from urllib.parse import urlparse


class BusError(Exception):
    """The bus cannot be used; the message is one line naming the setting or the server (no password)."""

    def __init__(self, message: str) -> None:
        from orderflow_tui.store.db import masked

        super().__init__(masked(message))


@dataclass
class BusSettings:
    url: str = "nats://127.0.0.1:4222"
    stream: str = "FLOW"
    subjects: str = "flow.>"
    max_age_s: float = 7 * 86_400  # retention: how far back a viewer can rebuild a session
    max_bytes: int = -1  # -1: no size limit (max_age rules)
    # A republished event with the same Nats-Msg-Id within this window is dropped by the server. A
    # collector restarted within it republishes nothing; beyond it, the viewers' engines still drop
    # repeated trade ids (engine/market.py) and the store's natural keys drop repeated liquidations.
    duplicate_window_s: float = 3_600
    buffer_events: int = 500_000  # the collector's local buffer while the bus is down (oldest dropped)
    ack_timeout_s: float = 5.0


def cancelled() -> bool:
    """This task was asked to stop, even if a library swallowed the CancelledError."""
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


def check_url(url: str) -> str:
    parsed = urlparse(url)
    if parsed.scheme not in ("nats", "tls") or not parsed.hostname:
        raise BusError(f"--bus {url!r}: expected nats://HOST:PORT (or tls://HOST:PORT)")
    try:
        parsed.port
    except ValueError:
        raise BusError(f"--bus {url!r}: the port is not a number") from None
    return url


def import_nats():
    try:
        import nats  # noqa: F401
        import nats.js.api  # noqa: F401
    except ImportError:
        raise BusError("--bus needs nats-py: pip install 'orderflow-tui[server]'") from None
    return nats


async def connect(bus: BusSettings, name: str, **callbacks):
    """A client that reconnects by itself forever (a collector and a viewer outlive a server restart)."""
    nats = import_nats()

    async def quiet(exc):  # reconnect noise goes to the status line, not a traceback on stderr
        cb = callbacks.get("error_cb")
        if cb is not None:
            await cb(exc)

    return await nats.connect(bus.url, name=name, connect_timeout=2, reconnect_time_wait=0.5,
                              max_reconnect_attempts=-1, allow_reconnect=True, error_cb=quiet,
                              disconnected_cb=callbacks.get("disconnected_cb"),
                              reconnected_cb=callbacks.get("reconnected_cb"))


async def ensure_stream(js, bus: BusSettings):
    """Create the stream, or bring its retention settings to ours (the stream's retention is a setting)."""
    from nats.js.api import StorageType, StreamConfig
    from nats.js.errors import BadRequestError

    config = StreamConfig(name=bus.stream, subjects=[bus.subjects], storage=StorageType.FILE,
                          max_age=bus.max_age_s, max_bytes=bus.max_bytes, duplicate_window=bus.duplicate_window_s)
    try:
        return await js.add_stream(config)
    except BadRequestError:  # exists with other limits
        return await js.update_stream(config)
