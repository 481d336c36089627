"""``record``: the live frames, exactly as received, into a capture file."""

from __future__ import annotations

import asyncio
import signal
import time

from orderflow_tui.capture import CaptureWriter
from orderflow_tui.engine.engine import Engine
from orderflow_tui.feeds.session import LiveSource


def record_capture(settings, out, duration: float | None, demo: bool = False) -> tuple[int, dict[str, str]]:
    """Frames written, and the venues that sent none with their last reason (the caller names them)."""
    return asyncio.run(_record(settings, out, duration, demo))


async def _record(settings, out, duration, demo) -> tuple[int, dict[str, str]]:
    source = LiveSource(settings, demo=demo)
    await source.prepare()  # contract sizes first: they go in the header
    writer = CaptureWriter(out, source.instruments, int(time.time() * 1000))
    source.recorder = writer
    engine = Engine(settings.engine)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    tasks = [asyncio.create_task(c.run()) for c in source.build(engine)]
    flusher = asyncio.create_task(_flush(writer))
    try:
        async with asyncio.timeout(duration or None):  # not wait_for: it can drop a cancel (connection.py)
            await stop.wait()
    except TimeoutError:
        pass
    source.stop()
    for t in tasks + [flusher]:
        t.cancel()
    await asyncio.gather(*tasks, flusher, return_exceptions=True)
    writer.close()
    if source.exchange is not None:
        await source.exchange.stop()
    silent = {v: st.detail for v, st in source.states.items() if st.frames == 0}
    return writer.frames, silent


async def _flush(writer) -> None:
    while True:
        await asyncio.sleep(1.0)
        writer.flush()
