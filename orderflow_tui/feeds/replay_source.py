"""A capture replayed into the engine at a pace (N x real time, or as fast as possible).

The capture's receive times set the pace; the engine's clock follows the frames' exchange times,
ticked between frames so windows and bars behave as they did live.
"""

from __future__ import annotations

import asyncio
import time

from orderflow_tui.capture import CaptureError, CaptureReader
from orderflow_tui.feeds.status import VenueState
from orderflow_tui.replay import replay_capture
from orderflow_tui.venues import make_parsers

# capture bytes replayed between yields to the event loop: about 2,000 frames at max speed, and
# a few dozen when paced, so the pace stays smooth
CHUNK_BYTES = 1 << 19
PACED_BYTES = 1 << 13


class ReplaySource:
    def __init__(self, path, speed: float | None, venue_options: dict | None = None):
        self.path = path
        self.speed = speed  # None: as fast as possible
        self.venue_options = venue_options
        self.states: dict[str, VenueState] = {}
        self.done = False
        self.error = ""
        self.position_ms = 0
        self.paused = False
        self.rejected = 0
        # called at each new second of the capture's clock (the dashboard samples its books there:
        # at --speed max a wall-clock sample saw one second of a six-minute capture)
        self.on_second = None

    def label(self) -> str:
        pace = "max" if self.speed is None else f"{self.speed:g}x"
        rejected = f" · {self.rejected} rejected" if self.rejected else ""
        return f"REPLAY {pace}{rejected}" + (" · finished" if self.done else "")

    def statuses(self) -> list[VenueState]:
        return list(self.states.values()) or [VenueState("replay", "starting")]

    async def run(self, engine) -> None:
        try:
            reader = CaptureReader(self.path)
        except CaptureError as exc:
            self.error = str(exc)
            self.done = True
            return
        parsers = make_parsers(reader.instruments, self.venue_options)
        t0_capture = None
        t0_wall = time.monotonic()
        clock = [0]
        second = [engine.now // 1000]

        def on_frame(t_ms, venue):
            st = self.states.get(venue)
            if st is None:
                st = self.states[venue] = VenueState(venue, "replay")
            st.frames += 1
            if type(t_ms) is int:
                clock[0] = t_ms
            if self.on_second is not None and engine.now // 1000 != second[0]:
                second[0] = engine.now // 1000
                self.on_second()

        with reader:
            blocks = reader.blocks(CHUNK_BYTES if self.speed is None else PACED_BYTES)
            while True:
                block = next(blocks, None)
                if block is None:
                    if reader.error:  # a cut-off capture: what came before it is on screen
                        self.error = f"{self.path}: {reader.error}"
                    break
                while self.paused:
                    await asyncio.sleep(0.1)
                stats = replay_capture(_Block(reader, block), engine, on_frame=on_frame, finish=False,
                                       parsers=parsers)
                self.position_ms = clock[0]
                self.rejected += stats.rejected
                if self.speed is not None and clock[0]:
                    if t0_capture is None:
                        t0_capture, t0_wall = clock[0], time.monotonic()
                    wait = (clock[0] - t0_capture) / 1000 / self.speed - (time.monotonic() - t0_wall)
                    if wait > 0:
                        await asyncio.sleep(wait)
                else:
                    await asyncio.sleep(0)
                elapsed = max(time.monotonic() - t0_wall, 1e-3)
                for st in self.states.values():
                    st.msgs_per_s = st.frames / elapsed
                    st.last_age_s = 0.0
        engine.finish()
        for st in self.states.values():
            st.state = "finished"
            st.msgs_per_s = 0.0
        self.done = True


class _Block:
    """A reader look-alike over one run of lines already read (the replay loop reads runs)."""

    def __init__(self, reader, block):
        self.instruments = reader.instruments
        self.path = reader.path
        self.error = ""
        self._block = block

    def blocks(self):
        yield self._block
