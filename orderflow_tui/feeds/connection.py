"""One websocket connection loop: connect, subscribe, keep alive, detect staleness, reconnect.

- Backoff: min * 2^attempt, capped, times a jitter in [0.5, 1.5); reset once a connection has
  stayed up for ``stable_after_s``.
- Keep-alive: one mechanism per connection, ours (a text ping or a protocol ping every
  ``ping_every_s``); the websockets library's own pings are off.
- Stale: no frame and no keep-alive answer for ``stale_after_s``. A quiet market still answers
  pings, so it is not stale; a dead peer answers nothing.
- Planned rotation: reconnect before the venue's own cut (Binance: 24 h), without backoff. A
  rotation and a shutdown close with 1000 (normal closure).
- Subscriptions: a topic the venue refuses is reported and dropped (not sent again); the others
  go on. Only when every topic is refused, or the venue refuses the connection, does it reconnect.
- Recovery: id gaps are filled over REST as they appear (Binance); after a reconnect, recent
  trades are fetched. At most one refill per market is in flight; it runs beside the reading
  loop and waits out REST backoffs (feeds/rest.py). Duplicates are dropped by trade id in the engine.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI, PayloadTooBig

from orderflow_tui.books.sync import FETCH, NONE, RESUBSCRIBE
from orderflow_tui.events import CONTROL, Context, Depth, Liquidation, Trade
from orderflow_tui.feeds.depth_feed import fetch_book, resubscribe_frames
from orderflow_tui.feeds.rest import RestError
from orderflow_tui.feeds.status import VenueState
from orderflow_tui.venues import PARSE_ERRORS, Rejected, parse_book, parse_frame

log = logging.getLogger("orderflow_tui")
SUBSCRIBE_BURST = 8  # subscribe requests sent per second at most (issue 23: many groups on one connection)
REFILL_ATTEMPTS = 12  # per refill, each after the REST client's backoff


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
        self.rest_errors = 0
        self.refused: dict[str, str] = {}  # topic -> reason, on this connection
        self.pending: list[str] = []  # topics subscribed and not answered yet, in order
        self.refilling: set[str] = set()  # markets with a REST refill in flight
        self.retry_at: dict[str, float] = {}  # market -> no new refill before (monotonic)
        self.refill_tries: dict[str, int] = {}
        self.tasks: set[asyncio.Task] = set()
        self.ws = None  # the open websocket (a book resync sends on it)
        self.book_at: dict[str, float] = {}  # market -> no book resync before (monotonic)

    # ---- the loop ------------------------------------------------------------------------------

    async def run(self) -> None:
        first = True
        try:
            while not self.stopping:
                connected_at = None
                try:
                    async with connect(self.stream.url, max_size=self.stream.max_size or self.s.max_frame_bytes,
                                       open_timeout=10, close_timeout=2, ping_interval=None, ping_timeout=None,
                                       user_agent_header="orderflow-tui") as ws:
                        self.ws = ws
                        await self._subscribe(ws)
                        connected_at = time.monotonic()
                        self.last_seen = connected_at
                        self.state.state = "connected"
                        self.state.detail = ""
                        if not first:
                            self.recover()
                        first = False
                        try:
                            await self._read(ws, connected_at)
                        except (Rotate, asyncio.CancelledError):
                            await ws.close()  # 1000: a planned end, not an error
                            raise
                    reason = "closed by the venue"
                except Rotate:
                    self.state.detail = "planned rotation"
                    self.state.reconnects += 1
                    self.attempt = 0
                    continue
                except Refused as exc:
                    if self.stream.topics and all(t in self.refused for t in self.stream.topics):
                        self.state.state = "refused"  # nothing left to ask for: no reconnect loop
                        self.state.detail = "every topic refused; not retried"
                        return
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
                self.ws = None
                if self.stream.books:  # no book of this connection is live until data flows again
                    for market in self._markets_watched():
                        book = self.engine.books.get(market)
                        if book is not None:
                            book.link_lost()
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
        finally:
            for task in list(self.tasks):
                task.cancel()
            if self.state.state != "refused":
                self.state.state = "stopped"

    async def _subscribe(self, ws) -> None:
        for text in self.stream.subscribe:
            await ws.send(text)
        self.pending = [t for t in self.stream.topics if t not in self.refused]
        if self.stream.topics and not self.pending:
            raise Refused("every topic refused")
        for i, topic in enumerate(self.pending):
            if i and i % SUBSCRIBE_BURST == 0:  # many groups: Bitget and Binance cut a client over 10 msg/s
                await asyncio.sleep(1.0)
            await ws.send(self.stream.topics[topic])

    async def _read(self, ws, connected_at: float) -> None:
        ping_every = self.stream.ping_every_s
        next_ping = time.monotonic() + ping_every
        while not self.stopping:  # stop() ends the loop even when a cancellation was lost
            now = time.monotonic()
            if now - connected_at >= self.s.rotate_after_s:
                raise Rotate()
            wait = max(0.05, min(next_ping - now, self.s.stale_after_s - (now - self.last_seen)))
            try:
                # not asyncio.wait_for: on Python 3.11 it swallows a cancel that arrives as recv()
                # completes (CPython gh-86296), and this loop then read on forever after a stop
                async with asyncio.timeout(wait):
                    frame = await ws.recv()
            except TimeoutError:
                now = time.monotonic()
                if now - self.last_seen >= self.s.stale_after_s:
                    raise Stale() from None
                if self.stream.books:  # a resync held back by its rate limit, with no frame to prompt it
                    await self._book_wants(self._markets_watched())
                if now >= next_ping:
                    if self.stream.app_ping:
                        await ws.send(self.stream.app_ping)
                    else:
                        pong = await ws.ping()
                        self._spawn(self._pong(pong))
                    next_ping = now + ping_every
                continue
            self.last_seen = time.monotonic()
            await self.on_frame(frame)

    async def _pong(self, waiter) -> None:
        try:
            await waiter
            self.last_seen = time.monotonic()  # a protocol pong: the peer is alive
        except ConnectionClosed:
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
                self._on_control(frame)
            return
        events = self.feed.keep(events)
        self._ingest(events)
        if self.stream.books:
            await self._book_wants([e.market for e in events if type(e) is Depth])
        for e in events:
            if type(e) is Trade and self.engine.markets[e.market].gaps and self._backfill(e.market, now):
                break

    def _backfill(self, market: str, now: float) -> bool:
        """Fetch a market's id gaps over REST unless a refill is in flight or backing off."""
        if market in self.refilling or now < self.retry_at.get(market, 0.0):
            return False
        self._refill([market], lambda: self.feed.backfill(self.engine, market))
        return True

    def _on_control(self, frame: str) -> None:
        """A subscription answer: a refused topic is dropped and reported; the others go on. A
        heartbeat that shows missing ids: fetched now, not at the next trade."""
        for market in self.feed.gaps_in(frame):
            self._backfill(market, time.monotonic())
        ans = self.feed.answer(frame)
        if ans is None:
            return
        topic = ans.topic if ans.topic in self.stream.topics else (self.pending[0] if self.pending else None)
        if topic in self.pending:
            self.pending.remove(topic)
        if ans.ok:
            return
        if topic is None:
            if self.stream.topics:  # an error that names no request: report it, keep the connection
                self.state.detail = f"venue error: {ans.reason}"[:120]
                return
            raise Refused(ans.reason)
        log.warning("%s: subscription %s refused: %s", self.stream.name, topic, ans.reason)
        self.refused[topic] = ans.reason
        self.state.refused[topic] = ans.reason
        if all(t in self.refused for t in self.stream.topics):
            raise Refused("every topic refused")

    def _ingest(self, events) -> None:
        self.engine.on_events(events)
        if self.on_data is not None:
            for e in events:
                self.on_data(self.stream.name, "trade" if type(e) is Trade else
                             "liquidation" if type(e) is Liquidation else
                             "context" if type(e) is Context else
                             "book" if type(e) is Depth else "other")

    # ---- book resyncs (issue 21) ----------------------------------------------------------------

    async def _book_wants(self, markets) -> None:
        """A book whose sync machine asks for a REST snapshot or a fresh in-band one gets it, at most
        once per book_resync_s per book (gaps cluster in violent markets, when REST weight is scarce);
        until then the request stays and the book shows "resyncing". Checked on each depth frame
        and when the socket is quiet."""
        for market in markets:
            sync = self.engine.book_syncs.get(market)
            if sync is None or sync.want == NONE:
                continue
            now = time.monotonic()
            if now < self.book_at.get(market, 0.0):
                continue
            self.book_at[market] = now + self.s.book_resync_s
            want, sync.want = sync.want, NONE
            symbol = market.split(":", 1)[1]
            if want == RESUBSCRIBE and self.ws is not None:
                for text in resubscribe_frames(self.feed.venue, symbol):
                    await self.ws.send(text)
            elif want == FETCH:
                self._spawn(self._fetch_book(market, symbol, sync))

    async def _fetch_book(self, market: str, symbol: str, sync) -> None:
        try:
            body = await fetch_book(self.feed, symbol)
        except (RestError, ValueError) as exc:
            self.rest_errors += 1
            self.state.detail = f"book {symbol}: {exc}"[:80]
            sync.want = FETCH  # asked again on a later frame, after book_resync_s
            return
        if self.recorder is not None:  # as applied, so that a replay rebuilds this book (contract §2b)
            self.recorder.write_kind("book", int(time.time() * 1000), self.feed.venue, body, market)
        try:
            events = parse_book(self.parser, market, body)
        except PARSE_ERRORS as exc:
            self.rest_errors += 1
            self.state.detail = f"book {symbol}: unexpected answer ({type(exc).__name__})"[:80]
            sync.want = FETCH
            return
        self.engine.on_events(events)

    # ---- REST refills ------------------------------------------------------------------------------

    def _spawn(self, coro) -> None:
        task = asyncio.ensure_future(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    def _refill(self, markets: list[str], make, done=None) -> None:
        """Run one refill beside the reading loop, the markets it covers marked in flight until it
        ends. ``make()`` gives the feed's pages (an async iterator of frame lists); it is called now,
        so the ids to start from are those of this moment, and again when the venue asked us to
        back off (the retry waits it out in the REST client)."""
        if not markets or any(m in self.refilling for m in markets):
            return
        self.refilling.update(markets)
        self._spawn(self._run_refill(markets, make, make(), done))

    async def _run_refill(self, markets: list[str], make, pages, done) -> None:
        try:
            for attempt in range(REFILL_ATTEMPTS):
                try:
                    async for frames in pages:
                        self.state.gaps_filled += self._ingest_rest(frames)
                    if done is not None:
                        done()
                    return
                except RestError as exc:
                    self.rest_errors += 1
                    self.state.detail = f"REST: {exc}"[:80]
                    if not self.feed.rest.blocked_for():
                        return  # not a "wait and retry" answer (a 404, a 400): retrying will not help
                except (KeyError, TypeError, ValueError, AttributeError) as exc:  # a body not as documented
                    self.rest_errors += 1
                    self.state.detail = f"REST: unexpected answer ({type(exc).__name__}: {exc})"[:80]
                    return
                pages = make()
        finally:
            now = time.monotonic()
            for m in markets:
                self.refilling.discard(m)
                state = self.engine.markets.get(m)
                if state is not None and state.gaps:  # not all filled: try again later, not on every frame
                    tries = self.refill_tries[m] = self.refill_tries.get(m, 0) + 1
                    self.retry_at[m] = now + min(self.s.rest_backoff_max_s, self.s.rest_backoff_min_s * 2**(tries - 1))
                else:
                    self.refill_tries.pop(m, None)

    def recover(self) -> None:
        """Fetch over REST what an outage may have cost, beside the reading loop (after a
        reconnect; also a restarted bus collector)."""
        if "trade" in self.stream.expects:
            rec = self.feed.recover(self.engine)
            self._refill(self._markets_watched(), rec, lambda: self._recovered(rec))

    def _recovered(self, rec) -> None:
        """When the venue's REST window did not reach back to what was seen before the outage,
        some trades in between are gone for good: say so."""
        if not rec.reached:
            self.state.unrecovered += 1
            self.state.detail = "trades may be missing: the venue's recent-trades window did not reach back"

    def _markets(self):
        return [m for m in self.engine.markets.values() if m.venue == self.feed.venue]

    def _markets_watched(self) -> list[str]:
        return [f"{self.feed.venue}:{s}" for s in self.feed.symbols]

    def _ingest_rest(self, frames) -> int:
        """Ingest REST frames (no await inside, so nothing else lands meanwhile); returns the
        number of trades that were new."""
        before = sum(m.trades for m in self._markets())
        for frame in frames or ():
            if self.recorder is not None:
                self.recorder.write_kind("rest", int(time.time() * 1000), self.feed.venue, frame)
            events = parse_frame(self.parser, frame)
            if isinstance(events, list) and events:
                self._ingest(self.feed.keep(events))  # the same filter (and resume point) as the socket
        return sum(m.trades for m in self._markets()) - before

    def rate(self) -> float:
        now = time.monotonic()
        self.frames_window = [t for t in self.frames_window if now - t < 5.0]
        return len(self.frames_window) / 5.0
