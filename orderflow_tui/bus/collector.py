"""``collect --bus``: the live feeds, headless, publishing every normalized event to JetStream.

feed -> parser -> engine as in one process; the collector's own engine keeps doing what the live
path needs (trade-id continuity, REST gap fills, duplicate drops) and every event it accepted is
published, in arrival order, in batches of one market's events (bus/codec.py). A batch closes when
it holds max_events, or LINGER_S after its first event when the publisher is idle: about one
event per message at a quiet market's pace (latency first), up to max_events in a burst (rate
first). Each round publishes every closed batch without waiting, then awaits all their
acknowledgements at once (pipelined, not one round trip per message).

While the bus is down, batches wait in a bounded local buffer (BusSettings.buffer_events events);
when it is full the oldest batches are dropped, counted (in events) and logged. A batch leaves the
buffer only when the server acknowledged it, so a batch lost in a server restart is sent again:
the same bytes under the same Nats-Msg-Id, stored once.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
from collections import deque

from orderflow_tui.bus import codec
from orderflow_tui.bus.stream import BusSettings, cancelled, connect, ensure_stream
from orderflow_tui.engine.engine import Engine
from orderflow_tui.engine.market import RECENT_IDS
from orderflow_tui.events import Depth, Liquidation, Trade
from orderflow_tui.feeds.session import LiveSource
from orderflow_tui.feeds.venue_feed import symbol_for

log = logging.getLogger("orderflow_tui")

MAX_EVENTS = 1000  # events per message at most (about 100 KB of JSON)
ROUND = 256  # messages in flight per acknowledgement round
ROUND_BYTES = 2 << 20  # and bytes: a round the server cannot store within ack_timeout_s would be sent forever
LINGER_S = 0.001  # an idle publisher waits this long for a batch to fill (rebuilds read fewer messages)
STATUS_EVERY_S = 1.0
SEED_FILLS = RECENT_IDS  # fills read back per market at a restart: what the engine remembers of ids
LIQ_KEYS = 4096  # liquidations remembered by natural key, so a venue's replay publishes none twice


async def stream_tail(js, stream: str, venue: str, symbol: str, fills: int) -> list:
    """The newest events on the stream of one market, oldest first, covering at least ``fills``
    fills (or all it holds). Read with an ordered consumer from a sequence that moves back by a
    factor of 8 until the window holds enough (other markets' messages share the sequence)."""
    from nats.js.api import ConsumerConfig, DeliverPolicy
    from nats.js.errors import NotFoundError

    last = 0
    for subject in (codec.events_subject(venue, symbol), f"{codec.PREFIX}.{venue}.{symbol}.trade"):  # v1 too
        try:
            last = max(last, (await js.get_last_msg(stream, subject)).seq)
        except NotFoundError:
            pass
    if not last:
        return []
    info = await js.stream_info(stream)
    first, top = info.state.first_seq, info.state.last_seq
    window = 4 * fills
    while True:
        start = max(first, last - window)
        events, n = [], 0
        sub = await js.subscribe(codec.market_subjects(venue, symbol), ordered_consumer=True,
                                 config=ConsumerConfig(deliver_policy=DeliverPolicy.BY_START_SEQUENCE,
                                                       opt_start_seq=start))
        try:
            while True:
                msg = await sub.next_msg(timeout=5.0)
                try:
                    batch = codec.decode(msg.data)
                except codec.BadMessage:
                    batch = ()
                if type(batch) is not tuple:
                    events += batch
                    n += sum(ev.fills for ev in batch if type(ev) is Trade)
                if msg.metadata.num_pending == 0 or msg.metadata.sequence.stream >= top:
                    break
        finally:
            await sub.unsubscribe()
        if n >= fills or start == first:
            return events
        window *= 8


class Publisher:
    """The open batches, the bounded buffer of closed ones, and the task that empties it into JetStream."""

    def __init__(self, bus: BusSettings, name: str):
        self.bus = bus
        self.name = name
        # a tenth of the buffer at most per batch, so that dropping the oldest batch drops little
        self.max_events = max(1, min(MAX_EVENTS, bus.buffer_events // 10))
        self.open: dict[tuple[str, str], list] = {}  # (venue, symbol) -> rows not yet in a message
        self.open_n = 0
        self.open_since = 0.0
        self.buf: deque = deque()  # (n, subject, payload, msg id or None, events)
        self.buffered = 0  # events in buf
        self.n = 0  # numbers every message, so an acknowledged round is found after drops
        self.dropped = 0  # events
        self.published = 0  # events stored by the server
        self.duplicates = 0  # events in batches the server already held (a batch sent again)
        self.messages = 0
        self.state = "connecting"
        self.detail = ""
        self.nc = None
        self.js = None
        self.wake = asyncio.Event()

    def pending(self) -> int:
        """Events not yet acknowledged by the server."""
        return self.buffered + self.open_n

    def put_event(self, ev) -> None:
        r = codec.row(ev)
        if r is not None:
            self.put_rows(r[0], r[1], [r[2]])

    def put_rows(self, venue: str, symbol: str, new: list) -> None:
        """Rows of one market, in arrival order, into its open batch (closed at max_events)."""
        key = (venue, symbol)
        rows = self.open.get(key)
        if rows is None:
            rows = self.open[key] = []
        if not self.open_n:
            self.open_since = time.monotonic()
            self.wake.set()
        rows += new
        self.open_n += len(new)
        while len(rows) >= self.max_events:  # full batches close now, at the same boundaries every time
            rest = rows[self.max_events:]
            del rows[self.max_events:]
            self._close(key)
            if not rest:
                break
            rows = self.open[key] = rest

    def put_status(self, subject: str, payload: bytes) -> None:
        self._append(subject, payload, None, 0)

    def _close(self, key) -> None:
        rows = self.open.pop(key)
        self.open_n -= len(rows)
        self._append(*codec.encode_batch(key[0], key[1], rows), len(rows))

    def _close_all(self) -> None:
        for key in list(self.open):
            self._close(key)

    def _append(self, subject: str, payload: bytes, msg_id: str | None, events: int) -> None:
        self.n += 1
        self.buf.append((self.n, subject, payload, msg_id, events))
        self.buffered += events
        while self.buffered + self.open_n > self.bus.buffer_events and len(self.buf) > 1:
            lost = self.buf.popleft()[4]
            self.buffered -= lost
            before, self.dropped = self.dropped, self.dropped + lost
            if before == 0 or len(str(before)) != len(str(self.dropped)) or before // 10_000 != self.dropped // 10_000:
                log.warning("bus buffer full (%d events): %d oldest events dropped", self.bus.buffer_events,
                            self.dropped)
        self.wake.set()

    async def _connect(self) -> None:
        async def on_error(exc):  # nats-py retries by itself: say it once per outage
            if not self.detail.startswith(type(exc).__name__):
                log.warning("bus %s: %s; buffering %d events", self.bus.url, f"{type(exc).__name__}: {exc}"[:80],
                            self.pending())
            self.detail = f"{type(exc).__name__}: {exc}"[:80]

        async def on_disconnect():
            self.state = "buffering"

        async def on_reconnect():
            self.state, self.detail = "connected", ""
            log.info("bus %s: connected again; %d events buffered", self.bus.url, self.pending())

        while self.js is None:
            # nats-py retries the first connection by itself until the server answers; events wait here
            self.state, self.detail = "buffering", f"connecting to {self.bus.url}"
            try:
                self.nc = await connect(self.bus, self.name, error_cb=on_error, disconnected_cb=on_disconnect,
                                        reconnected_cb=on_reconnect)
                self.js = self.nc.jetstream()
                await ensure_stream(self.js, self.bus)
                self.state, self.detail = "connected", ""
                log.info("bus %s: connected, stream %s", self.bus.url, self.bus.stream)
            except Exception as exc:  # refused, timeout, JetStream off: keep buffering and retry
                if cancelled():
                    raise asyncio.CancelledError from None
                self.state, self.detail = "buffering", f"{type(exc).__name__}: {exc}"[:80]
                if self.nc is not None:
                    await self.nc.close()
                self.nc = self.js = None
                log.warning("bus %s: %s; buffering %d events", self.bus.url, self.detail, self.pending())
                await asyncio.sleep(1.0)

    async def run(self) -> None:
        await self._connect()
        while True:
            if cancelled():  # swallowed inside nats-py (bus/stream.py): stop all the same
                raise asyncio.CancelledError
            if not self.buf and not self.open_n:
                self.wake.clear()
                await self.wake.wait()
            if not self.buf:  # an idle publisher lets the first batch gather a little
                wait = self.open_since + LINGER_S - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
            self._close_all()
            if not self.buf:
                continue
            batch, size = [], 0  # a round of at most ROUND messages and ROUND_BYTES (at least one)
            for msg in self.buf:
                if batch and (len(batch) >= ROUND or size + len(msg[2]) > ROUND_BYTES):
                    break
                batch.append(msg)
                size += len(msg[2])
            if await self._send(batch):
                last = batch[-1][0]
                while self.buf and self.buf[0][0] <= last:
                    self.buffered -= self.buf.popleft()[4]
            else:
                await asyncio.sleep(0.5)

    async def _send(self, batch) -> bool:
        js = self.js
        futures = []
        try:  # every message sent before the first acknowledgement is awaited
            for _, subject, payload, msg_id, _ in batch:
                futures.append(await js.publish_async(subject, payload, wait_stall=self.bus.ack_timeout_s,
                                                      headers={"Nats-Msg-Id": msg_id} if msg_id else None))
            async with asyncio.timeout(self.bus.ack_timeout_s):  # not wait_for: see bus/stream.py
                acks = await asyncio.gather(*futures)
        except Exception as exc:  # timeout, disconnected, outbound buffer full: send the batch again later
            for f in futures:
                f.cancel()  # frees nats-py's in-flight slots
            if cancelled():  # nats-py said TooManyStalledMsgsError for our own cancellation
                raise asyncio.CancelledError from None
            if self.state != "buffering":
                log.warning("bus: %s; buffering %d events", f"{type(exc).__name__}: {exc}"[:80], self.pending())
            self.state = "buffering"
            self.detail = f"{type(exc).__name__}"
            return False
        self.state = "connected"
        self.messages += len(batch)
        for (*_, events), ack in zip(batch, acks):
            if ack.duplicate:
                self.duplicates += events
            else:
                self.published += events
        return True

    async def drain(self, timeout: float) -> bool:
        """Wait until everything buffered is acknowledged (shutdown)."""
        deadline = time.monotonic() + timeout
        while self.pending() and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        return not self.pending()

    async def close(self) -> None:
        if self.nc is not None:
            await self.nc.close()


class PublishingEngine:
    """What the connections feed: the collector's engine, plus a publish of every accepted event
    (trades, liquidations, ids, market context), in arrival order."""

    def __init__(self, engine: Engine, publisher: Publisher):
        self._engine = engine
        self._put_rows = publisher.put_rows
        self.markets = engine.markets
        self.liq_keys: set = set()  # natural keys of recent liquidations (the store's key)
        self.liq_order: deque = deque()

    def seen_liquidation(self, ev) -> bool:
        """True for a liquidation already published (a venue's replay after a reconnect, or one the
        stream held when this collector started); remembers it otherwise."""
        key = (ev.market, ev.ts, ev.is_long, ev.price, ev.qty)
        if key in self.liq_keys:
            return True
        self.liq_keys.add(key)
        self.liq_order.append(key)
        if len(self.liq_order) > LIQ_KEYS:
            self.liq_keys.discard(self.liq_order.popleft())
        return False

    def on_events(self, events) -> None:
        # the per-event work stays in this loop: a frame's rows go to the batcher in one call
        eng = self._engine
        markets, on_trade = eng.markets, eng.on_trade
        put = self._put_rows
        rows: list = []
        cur = ""  # the market of ``rows``
        venue = symbol = ""
        for ev in events:
            t = type(ev)
            if t is Trade:
                m = markets.get(ev.market)
                before = m.trades if m is not None else 0
                on_trade(ev)
                if (m if m is not None else markets[ev.market]).trades == before:
                    continue  # a duplicate (REST overlap after a reconnect): already published
                row = ("t", ev.ts, ev.price, ev.qty, ev.quote, ev.is_buy, ev.trade_id, ev.fills)
                market = ev.market
            else:
                if t is Liquidation:
                    if self.seen_liquidation(ev):
                        continue
                    eng.on_liquidation(ev)
                else:  # IdOnly, Context
                    eng.on_events((ev,))
                r = codec.row(ev)
                if r is None:
                    continue
                row, market = r[2], f"{r[0]}:{r[1]}"
            if market != cur:
                if rows:
                    put(venue, symbol, rows)
                    rows = []
                cur = market
                venue, _, symbol = market.partition(":")
            rows.append(row)
        if rows:
            put(venue, symbol, rows)

    def __getattr__(self, name):  # now, tick, groups... for the feeds' recovery code
        return getattr(self._engine, name)


class Collector:
    def __init__(self, settings, bus: BusSettings, demo: bool = False, recorder=None, name: str | None = None):
        self.settings = settings
        self.bus = bus
        self.name = name or f"collector@{socket.gethostname()}:{os.getpid()}"
        self.source = LiveSource(settings, demo=demo, recorder=recorder)
        self.engine = Engine(settings.engine, venues_tracked=len(self.source.venues))
        self.publisher = Publisher(bus, self.name)
        self.tee = PublishingEngine(self.engine, self.publisher)
        self.seeded: set[str] = set()  # venues whose last published trade was found on the stream

    async def seed(self) -> None:
        """A restarted collector starts where the stream ends: the newest events of each market on
        the stream (at least SEED_FILLS fills, more than any venue's REST recovery returns) go into
        its engine, not published again. The first live trade then shows the id gap (filled over
        REST, Binance), a recovery fetch runs after the first connect (the others), and whatever
        that fetch returns that the stream already holds is a duplicate here: nothing is
        republished (an OKX message of n fills marks all n ids as seen)."""
        js = self.publisher.js
        for venue in self.source.venues:
            for group in self.source.groups:
                events = await stream_tail(js, self.bus.stream, venue, symbol_for(venue, group), SEED_FILLS)
                if not events:
                    continue
                self.seeded.add(venue)
                for ev in events:  # liquidations only remembered: the venue replays them over REST
                    if type(ev) is Liquidation:
                        self.tee.seen_liquidation(ev)
                # trades and ids; not the book samples (this collector builds its own books)
                self.engine.on_events([ev for ev in events if type(ev) is not Liquidation and type(ev) is not Depth])
        if self.seeded:
            log.info("bus: resuming after the events already published for %s", ", ".join(sorted(self.seeded)))

    async def run(self) -> None:
        pub_task = asyncio.create_task(self.publisher.run(), name="bus-publisher")
        try:
            for _ in range(100):  # up to 5 s for the bus, to resume after what it already holds
                if self.publisher.js is not None:
                    break
                await asyncio.sleep(0.05)
            if self.publisher.js is not None:
                await self.seed()
            else:  # the venues do not wait: collect into the buffer, the Msg-Ids drop what is already there
                log.warning("bus %s unreachable at start: collecting into the local buffer (%d events at most)",
                            self.bus.url, self.bus.buffer_events)
            await self.source.prepare()
            conns = self.source.build(self.tee)
            tasks = [c.run() for c in conns] + [self.source.clock(self.engine), self._status()]
            tasks += [self._recover_after_connect(c) for c in conns
                      if c.feed.venue in self.seeded and c.feed.venue != "binance"]
            await asyncio.gather(*tasks)
        finally:
            pub_task.cancel()
            await asyncio.gather(pub_task, return_exceptions=True)

    async def _recover_after_connect(self, conn) -> None:
        # Connection recovers only after a reconnect; a restarted collector is one, seen from the
        # stream: the same call as Connection.run makes then (feeds/connection.py)
        while conn.state.state != "connected":
            await asyncio.sleep(0.05)
        conn.recover()

    def status(self) -> dict:
        out = {}
        for st in self.source.statuses():
            out[st.venue] = {"state": st.state, "detail": st.detail, "frames": st.frames, "rejected": st.rejected,
                             "reconnects": st.reconnects, "gaps_filled": st.gaps_filled,
                             "unrecovered": st.unrecovered, "msgs_per_s": st.msgs_per_s,
                             "bus_buffered": self.publisher.pending(), "bus_dropped": self.publisher.dropped,
                             "instruments": {k: v for k, v in self.source.instruments.to_header().items()
                                             if k.startswith(st.venue + ":")},
                             "at_ms": int(time.time() * 1000)}
        return out

    def publish_status(self) -> None:
        for venue, state in self.status().items():
            self.publisher.put_status(*codec.status_message(venue, self.name, state))

    async def _status(self) -> None:
        while True:
            await asyncio.sleep(STATUS_EVERY_S)
            self.publish_status()
            self.publish_books()

    def publish_books(self) -> None:
        """Once a second, each book's best 50 levels a side: attached dashboards get the ladder and
        the heatmap (sampled once a second there too) without the depth traffic on the bus."""
        for book in self.engine.books.values():
            if book.snapshots or book.updates:
                self.publisher.put_event(codec.book_sample(book))

    async def stop(self, drain_s: float = 10.0) -> bool:
        """Stop the feeds, publish the final status, wait for the buffer to be acknowledged."""
        self.source.stop()
        self.publish_status()
        ok = await self.publisher.drain(drain_s)
        if not ok:
            log.warning("bus: %d events not acknowledged at exit", self.publisher.pending())
        return ok


def run_collector(settings, bus: BusSettings, duration: float | None, demo: bool = False,
                  log_file: str | None = None) -> int:
    from orderflow_tui.feeds.headless import setup_logging

    setup_logging(log_file)
    return asyncio.run(_collect(settings, bus, duration, demo))


async def _collect(settings, bus: BusSettings, duration, demo) -> int:
    import signal

    collector = Collector(settings, bus, demo=demo)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    task = asyncio.create_task(collector.run(), name="collector")
    status = asyncio.create_task(_log_status(collector))
    waiter = asyncio.create_task(stop.wait())
    await asyncio.wait([task, waiter], timeout=duration, return_when=asyncio.FIRST_COMPLETED)
    if task.done() and task.exception() is not None:
        log.error("collector stopped: %s", task.exception())
        return 1
    if collector.source.exchange is not None:
        await collector.source.exchange.pause()  # the simulator stops; the feeds catch up
        await asyncio.sleep(1.0)
    drained = await collector.stop()
    for t in (task, status, waiter):
        t.cancel()
    await asyncio.gather(task, status, waiter, return_exceptions=True)
    await collector.publisher.close()
    if collector.source.exchange is not None:
        await collector.source.exchange.stop()
    p = collector.publisher
    log.info("collector: %d events published in %d messages, %d sent again and dropped by the server, "
             "%d dropped locally, %d unsent", p.published, p.messages, p.duplicates, p.dropped, p.pending())
    return 0 if drained and not p.dropped else 1


async def _log_status(collector: Collector) -> None:
    while True:
        await asyncio.sleep(10)
        p = collector.publisher
        parts = [f"{s.venue}={s.state} {s.msgs_per_s:.0f}/s" for s in collector.source.statuses()]
        log.info("%s | bus=%s published=%d buffered=%d dropped=%d", " ".join(parts), p.state, p.published,
                 p.pending(), p.dropped)
