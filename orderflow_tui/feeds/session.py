"""The live source: one connection per venue stream, a clock tick, optional recording."""

from __future__ import annotations

import asyncio
import time

from orderflow_tui.feeds.binance_feed import BinanceFeed
from orderflow_tui.feeds.bybit_feed import BybitFeed
from orderflow_tui.feeds.connection import Connection
from orderflow_tui.feeds.depth_feed import depth_stream
from orderflow_tui.feeds.okx_feed import OkxFeed
from orderflow_tui.feeds.rest import RestClient
from orderflow_tui.feeds.status import VenueState
from orderflow_tui.feeds.venue_feed import symbol_for
from orderflow_tui.instruments import Instruments
from orderflow_tui.venues import make_parsers

FEEDS = {"binance": BinanceFeed, "bybit": BybitFeed, "okx": OkxFeed}
from orderflow_tui.feeds.context_feed import FEEDS as CONTEXT_FEEDS, pollers  # noqa: E402
FEEDS.update(CONTEXT_FEEDS)  # the same feeds plus open interest and funding (issue 14)


def parse_list(text: str, upper: bool = False) -> list[str]:
    items = [x.strip() for x in text.split(",") if x.strip()]
    return [x.upper() for x in items] if upper else [x.lower() for x in items]


def check_feed_settings(settings) -> None:
    venues = parse_list(settings.feeds.venues)
    unknown = [v for v in venues if v not in FEEDS]
    if not venues or unknown:
        raise ValueError(f"config key feeds.venues: {', '.join(unknown) or 'empty'} not supported live "
                         f"(use {', '.join(FEEDS)})")
    groups = parse_list(settings.feeds.group, upper=True)
    if not groups or any(not g.isalnum() for g in groups):
        raise ValueError(f"config key feeds.group: {settings.feeds.group!r} is not a list like BTC,ETH")


class LiveSource:
    def __init__(self, settings, demo: bool = False, recorder=None, on_data=None, demo_rate: float = 40.0,
                 demo_seed: int = 7):
        check_feed_settings(settings)
        self.settings = settings
        self.demo = demo
        self.recorder = recorder
        self.on_data = on_data
        self.venues = parse_list(settings.feeds.venues)
        self.groups = parse_list(settings.feeds.group, upper=True)
        self.instruments = Instruments()
        self.connections: list[Connection] = []
        self.states: dict[str, VenueState] = {v: VenueState(v) for v in self.venues}
        # one REST client per venue, shared by its connections: one budget, one backoff
        self.rest = {v: RestClient(v, settings, self.states[v], FEEDS[v].rest_limit) for v in self.venues}
        self.error = ""
        self.paused = False
        self.exchange = None  # the simulated exchange, in demo mode
        self.demo_rate = demo_rate
        self.demo_seed = demo_seed

    def label(self) -> str:
        return "SIMULATED DATA · not a real market" if self.demo else "LIVE"

    def statuses(self) -> list[VenueState]:
        now = time.monotonic()
        for st in self.states.values():
            st.msgs_per_s, st.last_age_s = 0.0, None
        for c in self.connections:  # a venue with several connections (Bitget, Binance's poll): summed
            st = c.state
            st.msgs_per_s += c.rate()
            if c.last_seen and (st.last_age_s is None or now - c.last_seen < st.last_age_s):
                st.last_age_s = now - c.last_seen
        return list(self.states.values())

    async def prepare(self) -> None:
        """Start the simulated exchange (demo); contract sizes from the venues (OKX), the built-in
        table as fallback."""
        if self.demo and self.exchange is None:
            from orderflow_tui.sim.exchange_sim import DemoExchange

            # the newest 20,000 fills per venue (more than any REST refill asks): flat memory for weeks
            # a lost depth push every ~600 (a minute or two): the books' resync path shows in the demo
            self.exchange = await DemoExchange(self.demo_seed, self.demo_rate, venues=tuple(self.venues),
                                               keep_trades=20_000, groups=tuple(self.groups),
                                               depth_glitch_every=600).start()
            self.exchange.endpoints(self.settings)
            from orderflow_tui.sim.context_sim import attach

            attach(self.exchange, self.demo_seed)  # open interest and funding pushes
        for venue in self.venues:
            feed = FEEDS[venue](self.settings, [], self.rest[venue])
            try:
                self.instruments.learned.update(await feed.instruments())
            except Exception as exc:  # RestError and anything odd in the body: keep the built-in table
                self.states[venue].detail = f"instruments: {exc}"[:80]

    def build(self, engine) -> list[Connection]:
        parsers = make_parsers(self.instruments, self.settings.venues.per_venue())
        self.connections = []
        for venue in self.venues:
            feed = FEEDS[venue](self.settings, [symbol_for(venue, g) for g in self.groups], self.rest[venue])
            streams = feed.streams()
            if self.settings.feeds.books:  # the depth connection beside the trade one (issue 21)
                depth = depth_stream(feed)
                streams += [depth] if depth is not None else []
            for stream in streams:
                self.connections.append(Connection(feed, stream, parsers[venue], engine, self.states[venue],
                                                   self.settings, self.recorder, self.on_data))
            self.connections += pollers(feed, parsers[venue], engine, self.states[venue], self.recorder,
                                        self.on_data)  # Binance open interest over REST
        return self.connections

    async def run(self, engine) -> None:
        """Everything in one task (headless); the app starts the same coroutines as named workers."""
        await self.prepare()
        await asyncio.gather(*(c.run() for c in self.build(engine)), self.clock(engine))

    async def clock(self, engine) -> None:
        """Advance the engine between trades: the last exchange time plus the local time since."""
        last_seen, at = 0, time.monotonic()
        while True:
            await asyncio.sleep(0.25)
            if engine.now != last_seen:
                last_seen, at = engine.now, time.monotonic()
            elif last_seen:
                engine.tick(last_seen + int((time.monotonic() - at) * 1000))

    def stop(self) -> None:
        for c in self.connections:
            c.stopping = True

    def frames(self) -> tuple[int, int]:
        """(frames received, rejected) over all connections."""
        return sum(s.frames for s in self.states.values()), sum(s.rejected for s in self.states.values())
