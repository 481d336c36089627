"""Market context on the live path (issue 14): each perpetual venue's feed, plus its context topics.

The context rides on the venue's existing connection (one more topic, not one more socket):
- Binance: ``<symbol>@markPrice@1s`` on the /market route (mark price, funding rate, next funding),
  and open interest from a polite REST poll (``GET /fapi/v1/openInterest``, weight 1) every
  ``OI_POLL_S`` seconds per symbol, run beside the connections as a ``ContextPoller``.
- Bybit: ``tickers.<symbol>`` (a snapshot, then deltas merged field by field in the engine).
- OKX: ``open-interest`` and ``funding-rate`` per instId.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from urllib.parse import urlencode

from orderflow_tui.feeds.binance_feed import BinanceFeed
from orderflow_tui.feeds.bitget_feed import BitgetFeed
from orderflow_tui.feeds.bybit_feed import BybitFeed
from orderflow_tui.feeds.coinbase_feed import CoinbaseFeed
from orderflow_tui.feeds.hyperliquid_feed import HyperliquidFeed
from orderflow_tui.feeds.okx_feed import OkxFeed
from orderflow_tui.feeds.venue_feed import Stream
from orderflow_tui.venues import Rejected, parse_frame

log = logging.getLogger("orderflow_tui")
OI_POLL_S = 10.0  # default of feeds.open_interest_poll_s: weight 1 per symbol per poll, far below 2,400/min


def _with_args(stream: Stream, extra) -> Stream:
    """The stream with the context channels added to each symbol's own subscribe request, so that a
    venue refusing a symbol names one topic, and refuses its trades and its context together."""
    for topic, text in list(stream.topics.items()):
        req = json.loads(text)
        req["args"] = req["args"] + extra(topic, req["args"])
        stream.topics[topic] = json.dumps(req)
    stream.expects = tuple(stream.expects) + ("context",)
    return stream


class BinanceContextFeed(BinanceFeed):
    def streams(self) -> list[Stream]:
        streams = super().streams()
        market = next(s for s in streams if s.name == "binance/market")
        market.url += "".join(f"/{s.lower()}@markPrice@1s" for s in self.symbols)
        market.expects = tuple(market.expects) + ("context",)
        return streams

    async def open_interest(self) -> list[str]:
        """One REST body per symbol, as the venue sent it (the parser reads it like a frame)."""
        bodies = []
        for symbol in self.symbols:
            url = f"{self.settings.endpoints.binance_rest}/fapi/v1/openInterest?{urlencode({'symbol': symbol})}"
            body, _ = await self.rest.get_json(url, 1)
            bodies.append(json.dumps(body))
        return bodies


class BybitContextFeed(BybitFeed):
    def streams(self) -> list[Stream]:
        def tickers(symbol, args):
            return [f"tickers.{symbol}"] if symbol in self.symbols else []
        return [_with_args(s, tickers) for s in super().streams()]


class OkxContextFeed(OkxFeed):
    def streams(self) -> list[Stream]:
        def context(topic, args):
            return [{"channel": ch, "instId": topic} for ch in ("open-interest", "funding-rate")
                    if topic in self.symbols]
        return [_with_args(s, context) for s in super().streams()]


class ContextPoller:
    """Binance open interest over REST, beside the websocket connections: the same face as a
    ``Connection`` (``run``, ``stream``, ``state``, ``rate``) so the session runs and reports it
    alike. A failed poll is reported in the venue's status and retried at the next interval."""

    def __init__(self, feed: BinanceContextFeed, parser, engine, state, recorder=None, on_data=None,
                 every_s: float | None = None):
        self.feed = feed
        self.parser = parser
        self.engine = engine
        self.state = state
        self.recorder = recorder
        self.on_data = on_data
        self.every_s = every_s or getattr(feed.settings.feeds, "open_interest_poll_s", OI_POLL_S)
        self.stopping = False
        self.refused: dict[str, str] = {}  # a Connection's face (doctor): a poll has no topics
        self.last_seen = 0.0
        self.polls = 0
        self.errors = 0
        self.stream = Stream("binance/open-interest", f"{feed.settings.endpoints.binance_rest}/fapi/v1/openInterest",
                             [], None, self.every_s, ("context",))

    def context_flowing(self) -> bool:
        """The venue's markPrice stream is up: no polls while it is down or not subscribed."""
        return any(m.venue == "binance" and m.mark is not None for m in self.engine.context.markets.values())

    async def run(self) -> None:
        while not self.stopping:
            if not self.context_flowing():
                await asyncio.sleep(0.5)
                continue
            try:
                bodies = await self.feed.open_interest()
            except Exception as exc:  # RestError, a body not as documented: report, try again later
                self.errors += 1
                self.state.detail = f"open interest: {exc}"[:80]
                bodies = []
            for body in bodies:
                self.ingest(body)
            await asyncio.sleep(self.every_s)

    def ingest(self, body: str) -> None:
        if self.recorder is not None:
            self.recorder.write_kind("rest", int(time.time() * 1000), self.feed.venue, body)
        events = parse_frame(self.parser, body)
        if isinstance(events, Rejected):
            self.state.rejected += 1
            log.warning("binance open interest: %s", events.reason)
            return
        if events:
            self.polls += 1
            self.last_seen = time.monotonic()
            self.engine.on_events(events)
            if self.on_data is not None:
                self.on_data(self.stream.name, "context")

    def rate(self) -> float:
        return 0.0


# the perpetual feeds with their context, and the venues issue 14 brings live
FEEDS = {"binance": BinanceContextFeed, "bybit": BybitContextFeed, "okx": OkxContextFeed, "coinbase": CoinbaseFeed,
         "hyperliquid": HyperliquidFeed, "bitget": BitgetFeed}


def pollers(feed, parser, engine, state, recorder=None, on_data=None) -> list[ContextPoller]:
    """The REST pollers a venue's context needs beside its connections (Binance only). Feeds that
    follow the engine's state (Coinbase: ids contiguous once counted) get the engine here."""
    if hasattr(feed, "engine"):
        feed.engine = engine
    if isinstance(feed, BinanceContextFeed) and feed.symbols:
        return [ContextPoller(feed, parser, engine, state, recorder, on_data)]
    return []
