"""Attach to the bus: rebuild the session from the stream, then follow it live, in the same engine.

A viewer reads the stream with its own ephemeral consumer from a start (the stream's first event,
a time, or a sequence) and feeds each event of each batch to the engine entry points the
websocket path uses, dropping an event published twice by its natural key (a trade id in the
engine; a liquidation or an id-less print here).
It remembers the last stream sequence it processed; when the bus goes away it reconnects and asks
for the next one, so nothing is seen twice or skipped (within the stream's retention).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from datetime import datetime, timezone

from orderflow_tui.bus import codec
from orderflow_tui.bus.stream import BusSettings, cancelled, connect
from orderflow_tui.events import IdOnly, Liquidation, Trade
from orderflow_tui.feeds.status import VenueState
from orderflow_tui.instruments import Instruments

log = logging.getLogger("orderflow_tui")

FETCH = 64  # messages per pull of the store writer: up to 64,000 events between two looks at the loop
RECENT_KEYS = 8192  # natural keys remembered to drop a liquidation published twice
WARM_MSGS = 20_000  # messages read back for their ids before a start inside the stream


class BusSource:
    """The viewer side: ``run(engine)``, ``statuses()`` and ``frames()`` like the live source."""

    def __init__(self, bus: BusSettings, since_ms: int | None = None, start_seq: int = 0, on_batch=None,
                 durable: str | None = None):
        self.bus = bus
        self.since_ms = since_ms
        self.last_seq = start_seq - 1 if start_seq else 0  # the last stream sequence processed
        self.last_msg = None  # the message of last_seq (a durable consumer acknowledges up to it)
        self.on_batch = on_batch  # awaited after each fetched batch (the store consumer commits and acks)
        self.durable = durable  # a durable consumer acknowledging explicitly (the store writer), else ephemeral
        self.fresh = True  # a durable consumer is re-created once, at the first sequence not yet committed
        self.warm = True  # a start after the stream's first message reads the ids before it once
        self.committed_seq: int | None = None  # what the store says it holds (PostgreSQL): overrides the ack floor
        self.state = VenueState("bus")
        self.venue_states: dict[str, VenueState] = {}
        self.collectors: dict[tuple[str, str], dict] = {}  # (venue, collector) -> its latest status
        self.instruments = Instruments()
        self.bad_messages = 0
        self.unknown_rows = 0  # rows of a kind a newer collector writes and this version does not know
        self.duplicates = 0  # events without a venue id that arrived twice (dropped here)
        self.keys: set = set()  # natural keys of recent liquidations and id-less prints
        self.keys_order: deque = deque()
        self.events = 0
        self.lag_ms = 0.0  # wall clock minus the stream time of the last message
        self.window: list[list[int]] = []  # [monotonic second, messages]
        self.stopping = False
        self.exchange = None  # no simulated exchange behind a viewer
        self.venues: list[str] = []

    def label(self) -> str:
        from orderflow_tui.store.db import masked

        return f"BUS {masked(self.bus.url)}"

    def statuses(self) -> list[VenueState]:
        now = time.monotonic()
        st = self.state
        st.msgs_per_s = sum(n for t, n in self.window if now - t < 5.0) / 5.0
        st.detail = f"lag {self.lag_ms / 1000:.1f}s, seq {self.last_seq}" if st.state == "connected" else st.detail
        return [st, *self.venue_states.values()]

    def frames(self) -> tuple[int, int]:
        """Frames and rejected frames over the collectors, from their latest status."""
        return (sum(s.get("frames", 0) for s in self.collectors.values()),
                sum(s.get("rejected", 0) for s in self.collectors.values()))

    def stop(self) -> None:
        self.stopping = True

    def _config(self):
        from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

        if self.durable:
            # acknowledged up to a sequence (AckPolicy.ALL) after each commit; a long ack_wait and a
            # large max_ack_pending so that a second of messages between commits is never redelivered
            common = dict(durable_name=self.durable, ack_policy=AckPolicy.ALL, ack_wait=300.0,
                          max_ack_pending=1_000_000, filter_subject=self.bus.subjects)
        else:  # the ordered consumer sets its own acks, flow control and lifetime
            common = {}
        if self.last_seq:
            return ConsumerConfig(deliver_policy=DeliverPolicy.BY_START_SEQUENCE, opt_start_seq=self.last_seq + 1,
                                  **common)
        if self.since_ms is not None:
            start = datetime.fromtimestamp(self.since_ms / 1000, timezone.utc).isoformat().replace("+00:00", "Z")
            return ConsumerConfig(deliver_policy=DeliverPolicy.BY_START_TIME, opt_start_time=start, **common)
        return ConsumerConfig(deliver_policy=DeliverPolicy.ALL, **common)

    async def run(self, engine) -> None:
        """Follow the stream and tick the engine's clock (the dashboard runs this as one worker)."""
        clock = asyncio.create_task(self.clock(engine))
        try:
            await self._consume(engine)
        finally:
            clock.cancel()
            await asyncio.gather(clock, return_exceptions=True)

    async def _consume(self, engine) -> None:
        while not self.stopping:
            if cancelled():  # swallowed inside nats-py (bus/stream.py): stop all the same
                raise asyncio.CancelledError
            nc = None
            try:
                nc = await connect(self.bus, "viewer", disconnected_cb=self._disconnected,
                                   reconnected_cb=self._reconnected, error_cb=self._error)
                js = nc.jetstream()
                if self.durable and self.fresh:
                    await self._restart_durable(js)
                if self.warm and not self.last_seq and self.since_ms is not None:
                    self.last_seq = await self._seq_at(js, self.since_ms)  # --since: from that message on
                if self.warm and self.last_seq:  # resuming mid-stream: learn the ids before it first
                    await self._warm_up(js, engine)
                self.warm = False
                self.state.state, self.state.detail = "connected", ""
                if self.durable:  # pulled in batches, acknowledged after each commit
                    sub = await js.pull_subscribe(self.bus.subjects, durable=self.durable, stream=self.bus.stream,
                                                  config=self._config())
                    await self._follow(sub, engine)
                else:  # pushed as they arrive (an ordered consumer: no acks, in stream order)
                    await self._push(js, engine)
                if self.on_batch is not None:  # stopping: the last commit and its acknowledgement
                    await self.on_batch(self.last_seq, force=True)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # server gone, stream missing, consumer lost: resume after last_seq
                if cancelled():  # a cancellation nats-py turned into its own error
                    raise asyncio.CancelledError from None
                self.state.state = "reconnecting"
                self.state.reconnects += 1
                self.state.detail = f"{type(exc).__name__}: {exc}"[:80] + f"; resume after seq {self.last_seq}"
                log.warning("bus: %s", self.state.detail)
            finally:
                if nc is not None:
                    try:
                        async with asyncio.timeout(5.0):  # a half-dead connection must not hang us
                            await nc.close()
                    except Exception:
                        pass
            if not self.stopping:
                await asyncio.sleep(0.5)
        self.state.state = "stopped"

    async def _restart_durable(self, js) -> None:
        """At start, the durable consumer resumes after max(its ack floor, the sequence the store says
        it committed): re-created there, so the first message is the next one in stream order (not
        the unacknowledged tail redelivered after ack_wait, out of order). Only the holder of the
        store writer's lease gets here (bus/headless.py): the consumer deleted is never a live one's."""
        from nats.js.errors import NotFoundError

        try:
            info = await js.consumer_info(self.bus.stream, self.durable)
            floor = info.ack_floor.stream_seq if info.ack_floor else 0
            self.last_seq = self.committed_seq if self.committed_seq is not None else max(self.last_seq, floor)
            await js.delete_consumer(self.bus.stream, self.durable)
        except NotFoundError:
            pass
        self.fresh = False

    async def _seq_at(self, js, since_ms: int) -> int:
        """The sequence just before the first message stored at or after ``since_ms`` (0: none)."""
        from nats.errors import TimeoutError as NatsTimeout
        from nats.js.api import ConsumerConfig, DeliverPolicy

        start = datetime.fromtimestamp(since_ms / 1000, timezone.utc).isoformat().replace("+00:00", "Z")
        sub = await js.subscribe(self.bus.subjects, stream=self.bus.stream, ordered_consumer=True,
                                 config=ConsumerConfig(deliver_policy=DeliverPolicy.BY_START_TIME,
                                                       opt_start_time=start))
        try:
            return (await sub.next_msg(timeout=2.0)).metadata.sequence.stream - 1
        except (NatsTimeout, asyncio.TimeoutError):
            return 0  # nothing stored since then: follow from the time, as asked
        finally:
            async with asyncio.timeout(5.0):
                await sub.unsubscribe()

    async def _warm_up(self, js, engine) -> None:
        """Before applying from a sequence inside the stream (a restarted store writer, a viewer
        given a start), read up to WARM_MSGS messages before it for their ids only: a Binance REST
        fill that arrives after the resume point, for a gap that opened before it, is then a late
        fill, not a duplicate; an id or a liquidation already counted before it stays a duplicate."""
        from nats.js.api import ConsumerConfig, DeliverPolicy

        upto = self.last_seq
        info = await js.stream_info(self.bus.stream)
        start = max(info.state.first_seq, upto - WARM_MSGS + 1)
        if start > upto or info.state.last_seq < start:
            return
        sub = await js.subscribe(self.bus.subjects, stream=self.bus.stream, ordered_consumer=True,
                                 config=ConsumerConfig(deliver_policy=DeliverPolicy.BY_START_SEQUENCE,
                                                       opt_start_seq=start))
        try:
            while True:
                msg = await sub.next_msg(timeout=5.0)
                seq = msg.metadata.sequence.stream
                if seq > upto:
                    break
                self._learn(msg.data, engine)
                if seq >= upto:
                    break
        finally:
            async with asyncio.timeout(5.0):
                await sub.unsubscribe()

    def _learn(self, data: bytes, engine) -> None:
        """The natural keys of a message, without counting anything."""
        try:
            batch = codec.decode(data)
        except codec.BadMessage:
            return
        if type(batch) is tuple:
            return
        markets = engine.markets
        for ev in batch:
            t = type(ev)
            if t is Trade:
                if ev.trade_id is None:
                    self._remember(("t", ev.market, ev.ts, ev.price, ev.qty, ev.is_buy))
                    continue
                m = markets.get(ev.market)
                if m is None:
                    m = engine._add_market(ev.market, ev.venue, ev.symbol, ev.price)
                m.accept_id(ev.trade_id, ev.fills)
            elif t is Liquidation:
                self._remember(("l", ev.market, ev.ts, ev.is_long, ev.price, ev.qty))
            elif t is IdOnly:
                m = markets.get(ev.market)
                if m is not None:
                    m.accept_id(ev.trade_id)

    async def _error(self, exc) -> None:
        # nats-py retries by itself; say once per outage why, not once per attempt
        if self.state.state not in ("reconnecting", "down"):
            log.warning("bus %s: %s; retrying", self.bus.url, f"{type(exc).__name__}: {exc}"[:80])
        self.state.state = "reconnecting" if self.state.state == "connected" else "down"
        self.state.detail = f"{type(exc).__name__}: {exc}"[:80]

    async def _disconnected(self) -> None:
        if self.stopping:
            return  # our own close at the end
        self.state.state = "reconnecting"
        self.state.reconnects += 1

    async def _reconnected(self) -> None:
        self.state.state = "connected"

    async def _follow(self, sub, engine) -> None:
        from nats.errors import TimeoutError as NatsTimeout

        idle = 0
        while not self.stopping and not cancelled():
            try:
                msgs = await sub.fetch(FETCH, timeout=1.0)
            except (NatsTimeout, asyncio.TimeoutError):
                idle += 1
                if idle >= 5:  # a consumer the server forgot (restart) answers nothing: make a new one
                    info = await sub.consumer_info()
                    if info.num_pending:
                        raise RuntimeError("consumer stalled")
                    idle = 0
                continue
            idle = 0
            self._apply(msgs, engine)
            if self.on_batch is not None:
                await self.on_batch(self.last_seq, force=False)

    async def _push(self, js, engine) -> None:
        """Messages applied as nats-py delivers them (a callback: no task or timer per message)."""
        error: list[Exception] = []

        async def on_msg(msg) -> None:
            try:
                self._apply((msg,), engine)
            except Exception as exc:  # never lose it inside nats-py's delivery task
                error.append(exc)

        sub = await js.subscribe(self.bus.subjects, stream=self.bus.stream, ordered_consumer=True,
                                 config=self._config(), idle_heartbeat=2.0, cb=on_msg)
        try:
            seen, idle_since = self.last_seq, time.monotonic()
            while not self.stopping and not error and not cancelled():
                await asyncio.sleep(0.5)
                if self.last_seq != seen:
                    seen, idle_since = self.last_seq, time.monotonic()
                elif time.monotonic() - idle_since > 5.0:  # nothing for 5 s: is the stream ahead of us?
                    info = await js.stream_info(self.bus.stream)
                    if info.state.last_seq > self.last_seq:
                        raise RuntimeError("consumer stalled")
                    idle_since = time.monotonic()
            if error:
                raise error[0]
        finally:
            try:
                async with asyncio.timeout(5.0):
                    await sub.unsubscribe()
            except Exception:
                pass

    def _apply(self, msgs, engine) -> None:
        on_trade, on_events = engine.on_trade, engine.on_events
        n = 0
        meta = None
        for msg in msgs:
            meta = msg.metadata
            seq = meta.sequence.stream
            if seq <= self.last_seq:
                continue  # already processed (a consumer recreated at an older point)
            self.last_seq = seq
            self.last_msg = msg
            try:
                batch = codec.decode(msg.data)
            except codec.BadMessage as exc:
                self.bad_messages += 1
                log.warning("bus: message %d on %s skipped: %s", seq, msg.subject, exc)
                continue
            if type(batch) is tuple:
                self._on_status(*batch[1:])
                continue
            self.unknown_rows += batch.unknown
            for ev in batch:
                t = type(ev)
                if t is Trade:
                    # a trade id is its natural key, checked by the engine (gaps, duplicates); a
                    # print without one is checked here
                    if ev.trade_id is None and self._seen(("t", ev.market, ev.ts, ev.price, ev.qty, ev.is_buy)):
                        continue
                    on_trade(ev)
                elif t is Liquidation:
                    if self._seen(("l", ev.market, ev.ts, ev.is_long, ev.price, ev.qty)):
                        continue
                    on_events((ev,))
                else:
                    on_events((ev,))
                n += 1
        self.events += n
        if meta is not None:
            self.lag_ms = max(0.0, time.time() * 1000 - meta.timestamp.timestamp() * 1000)
            sec = int(time.monotonic())  # one counter per second, five kept: bounded whatever the rate
            if self.window and self.window[-1][0] == sec:
                self.window[-1][1] += n
            else:
                self.window.append([sec, n])
                del self.window[:-6]

    def _seen(self, key) -> bool:
        """An event without a venue id seen before: two collectors, or one restarted, published it."""
        if key in self.keys:
            self.duplicates += 1
            return True
        self._remember(key)
        return False

    def _remember(self, key) -> None:
        self.keys.add(key)
        self.keys_order.append(key)
        if len(self.keys_order) > RECENT_KEYS:
            self.keys.discard(self.keys_order.popleft())

    def _on_status(self, venue: str, collector: str, state: dict) -> None:
        self.collectors[(venue, collector)] = state
        st = self.venue_states.get(venue)
        if st is None:
            st = self.venue_states[venue] = VenueState(venue)
            self.venues.append(venue)
        st.state = str(state.get("state", ""))
        st.detail = str(state.get("detail", ""))
        st.msgs_per_s = float(state.get("msgs_per_s", 0.0))
        for key in ("frames", "rejected", "reconnects", "gaps_filled", "unrecovered"):
            setattr(st, key, sum(int(s.get(key, 0)) for (v, _), s in self.collectors.items() if v == venue))
        if state.get("bus_dropped"):
            st.detail = f"collector dropped {state['bus_dropped']} events while the bus was down"
        learned = Instruments.from_header({"instruments": state.get("instruments") or {}}).learned
        self.instruments.learned.update(learned)

    async def clock(self, engine) -> None:
        """As the live source: advance the engine between events by the local time since."""
        last_seen, at = 0, time.monotonic()
        while True:
            await asyncio.sleep(0.25)
            if engine.now != last_seen:
                last_seen, at = engine.now, time.monotonic()
            elif last_seen and self.lag_ms < 2000:  # caught up: a quiet market still closes its bars
                engine.tick(last_seen + int((time.monotonic() - at) * 1000))


async def stream_last_seq(bus: BusSettings) -> int:
    nc = await connect(bus, "probe")
    try:
        info = await nc.jetstream().stream_info(bus.stream)
        return info.state.last_seq
    finally:
        await nc.close()


def launch_attached(settings, bus: BusSettings, since_ms: int | None, no_mouse: bool = False) -> int:
    """The dashboard on the bus: the same app and engine as live, fed from the stream by its own
    ephemeral consumer; the status line shows the bus like a venue. A viewer: it writes no store
    (the bus's one store writer does)."""
    from orderflow_tui.engine.engine import Engine
    from orderflow_tui.engine.levels import LevelWatch
    from orderflow_tui.ui.app import OrderflowApp
    from orderflow_tui.ui.launch import run_app

    engine = Engine(settings.engine, row_divisor=10)
    engine.levels = LevelWatch(settings.alerts, settings.engine)  # alerts at price levels
    source = BusSource(bus, since_ms=since_ms)
    groups = [g.strip().upper() for g in settings.feeds.group.split(",") if g.strip()]
    app = OrderflowApp(settings, engine, source, store_path=None, writer=None, groups=groups, mode="BUS")
    return run_app(app, settings.ui.mouse and not no_mouse)
