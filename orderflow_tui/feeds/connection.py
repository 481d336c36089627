"""One websocket connection loop: connect, subscribe, keep alive, detect staleness, reconnect.

- Backoff: min * 2^attempt, capped, times a jitter in [0.5, 1.5); reset once a connection has
  stayed up for ``stable_after_s``.
- Stale: no frame and no keep-alive answer for ``stale_after_s``. A quiet market still answers
  pings, so it is not stale; a dead peer answers nothing.
- Planned rotation: reconnect before the venue's own cut (Binance: 24 h), without backoff.
- Recovery: id gaps are filled over REST as they appear (Binance); after a reconnect, recent
  trades are fetched (Bybit, OKX). Duplicates are dropped by trade id in the engine.
"""

from __future__ import annotations

import asyncio
import random
import time

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI, PayloadTooBig

from orderflow_tui.events import CONTROL, Liquidation, Trade
from orderflow_tui.feeds.rest import RestError
from orderflow_tui.feeds.status import VenueState
from orderflow_tui.venues import Rejected, parse_frame


class Stale(Exception):
    pass


class Refused(Exception):
    pass


class Rotate(Exception):
    pass


class Connection:
    def __init__(self, feed, stream, parser, engine, state: VenueState, settings, recorder=None, on_data=None):
        self.feed = feed
        self.stream = stream
        self.parser = parser
        self.engine = engine
        self.state = state
        self.s = settings.feeds
        self.recorder = recorder
        self.on_data = on_data  # called with (kind) when a trade / liquidation arrives (doctor)
        self.stopping = False
        self.last_seen = 0.0  # monotonic time of the last frame or keep-alive answer
        self.frames_window: list[float] = []
        self.attempt = 0
        self.backfilling = False
        self.rest_errors = 0

    # ---- the loop ------------------------------------------------------------------------------

    async def run(self) -> None:
        first = True
        while not self.stopping:
            connected_at = None
            try:
                async with connect(self.stream.url, max_size=self.s.max_frame_bytes, open_timeout=10, close_timeout=2,
                                   ping_interval=None if self.stream.app_ping else self.stream.ping_every_s,
                                   ping_timeout=self.s.stale_after_s, user_agent_header="orderflow-tui") as ws:
                    for text in self.stream.subscribe:
                        await ws.send(text)
                    connected_at = time.monotonic()
                    self.last_seen = connected_at
                    self.state.state = "connected"
                    self.state.detail = ""
                    if not first:
                        await self._recover()
                    first = False
                    await self._read(ws, connected_at)
                reason = "closed by the venue"
            except Rotate:
                self.state.detail = "planned rotation"
                self.state.reconnects += 1
                self.attempt = 0
                continue
            except Refused as exc:
                reason = f"subscription refused: {exc}"
                self.attempt = max(self.attempt, 4)  # retrying at once will not help
            except Stale:
                reason = f"stale: nothing for {self.s.stale_after_s:.0f}s"
                self.state.state = "stale"
            except PayloadTooBig:
                reason = "frame too large"
            except ConnectionClosed as exc:
                code = exc.rcvd.code if exc.rcvd else None
                reason = f"closed ({code})" if code else "connection lost"
            except (OSError, asyncio.TimeoutError, InvalidHandshake, InvalidURI) as exc:
                reason = f"{type(exc).__name__}: {exc}"[:80]
            if self.stopping:
                break
            if connected_at is not None and time.monotonic() - connected_at >= self.s.stable_after_s:
                self.attempt = 0
            delay = min(self.s.reconnect_max_s, self.s.reconnect_min_s * 2**self.attempt) * (0.5 + random.random())
            self.attempt += 1
            self.state.reconnects += 1
            self.state.state = "reconnecting" if self.attempt < 8 else "down"
            self.state.detail = f"{reason}; retry in {delay:.1f}s"
            await asyncio.sleep(delay)
        self.state.state = "stopped"

    async def _read(self, ws, connected_at: float) -> None:
        ping_every = self.stream.ping_every_s
        next_ping = time.monotonic() + ping_every
        while True:
            now = time.monotonic()
            if now - connected_at >= self.s.rotate_after_s:
                raise Rotate()
            wait = max(0.05, min(next_ping - now, self.s.stale_after_s - (now - self.last_seen)))
            try:
                frame = await asyncio.wait_for(ws.recv(), wait)
            except asyncio.TimeoutError:
                now = time.monotonic()
                if now - self.last_seen >= self.s.stale_after_s:
                    raise Stale() from None
                if now >= next_ping:
                    if self.stream.app_ping:
                        await ws.send(self.stream.app_ping)
                    else:
                        pong = await ws.ping()
                        asyncio.ensure_future(self._pong(pong))
                    next_ping = now + ping_every
                continue
            self.last_seen = time.monotonic()
            await self.on_frame(frame)

    async def _pong(self, waiter) -> None:
        try:
            await waiter
            self.last_seen = time.monotonic()  # a protocol pong: the peer is alive
        except (ConnectionClosed, asyncio.CancelledError):
            pass

    # ---- frames ----------------------------------------------------------------------------------

    async def on_frame(self, frame) -> None:
        if isinstance(frame, bytes):
            frame = frame.decode("utf-8", "replace")
        now = time.monotonic()
        st = self.state
        st.frames += 1
        st.last_age_s = 0.0
        self.frames_window.append(now)
        if self.recorder is not None:
            self.recorder.write(int(time.time() * 1000), self.feed.venue, frame)
        events = parse_frame(self.parser, frame)
        if isinstance(events, Rejected):
            st.rejected += 1
            return
        if not events:
            if events is CONTROL:
                reason = self.feed.refusal(frame)
                if reason:
                    raise Refused(reason)
            return
        self._ingest(events)
        if not self.backfilling and any(type(e) is Trade and self.engine.markets[e.market].gaps for e in events):
            self.backfilling = True
            asyncio.ensure_future(self._backfill(events[0].market))

    def _ingest(self, events) -> None:
        self.engine.on_events(events)
        if self.on_data is not None:
            for e in events:
                self.on_data(self.stream.name, "trade" if type(e) is Trade else
                             "liquidation" if type(e) is Liquidation else "other")

    async def _recover(self) -> None:
        """Fetch what the outage may have cost. When a venue's recent-trades window shares no trade
        with what was already seen, some trades in between are gone for good: say so."""
        frames = await self._safe(self.feed.recover(self.engine))
        seen_before = sum(m.trades for m in self._markets())
        dups_before = sum(m.duplicates for m in self._markets())
        self.state.gaps_filled += self._ingest_rest(frames)
        if frames and seen_before and self.feed.venue != "binance" and \
                sum(m.duplicates for m in self._markets()) == dups_before:
            self.state.unrecovered += 1
            self.state.detail = "trades may be missing: the venue's recent-trades window did not reach back"

    async def _backfill(self, market: str) -> None:
        try:
            frames = await self._safe(self.feed.backfill(self.engine, market))
            self.state.gaps_filled += self._ingest_rest(frames)
        finally:
            self.backfilling = False

    def _markets(self):
        return [m for m in self.engine.markets.values() if m.venue == self.feed.venue]

    def _ingest_rest(self, frames) -> int:
        """Ingest REST frames (no await inside, so nothing else lands meanwhile); returns the
        number of trades that were new."""
        before = sum(m.trades for m in self._markets())
        for frame in frames or ():
            if self.recorder is not None:
                self.recorder.write_kind("rest", int(time.time() * 1000), self.feed.venue, frame)
            events = parse_frame(self.parser, frame)
            if isinstance(events, list) and events:
                self._ingest(events)
        return sum(m.trades for m in self._markets()) - before

    async def _safe(self, coro):
        try:
            return await coro
        except (RestError, KeyError, TypeError, ValueError) as exc:
            self.rest_errors += 1
            self.state.detail = f"REST: {exc}"[:80]
            return []

    def rate(self) -> float:
        now = time.monotonic()
        self.frames_window = [t for t in self.frames_window if now - t < 5.0]
        return len(self.frames_window) / 5.0
