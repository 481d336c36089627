"""What differs per venue on the live path: URLs, subscriptions, keep-alives, recovery over REST."""

from __future__ import annotations

from dataclasses import dataclass, field

from orderflow_tui.feeds.rest import RestClient


@dataclass
class Stream:
    """One websocket connection: where, what to send after connecting, how to keep it alive."""

    name: str  # e.g. "binance/market"
    url: str
    subscribe: list[str]  # text frames sent right after connecting
    app_ping: str | None  # a text keep-alive (OKX "ping", Bybit {"op":"ping"}); None: protocol pings
    ping_every_s: float
    expects: tuple[str, ...] = ("trade",)  # what this stream should deliver (for doctor)
    # topic -> its own subscribe frame, sent after ``subscribe``: one request per topic, so that the
    # venue's answer names the topic it refuses, and a refused topic is dropped alone
    topics: dict[str, str] = field(default_factory=dict)
    books: bool = False  # a depth stream: its books resync through this connection (feeds/depth_feed.py)
    max_size: int | None = None  # largest frame accepted; None: the feeds.max_frame_bytes setting


@dataclass
class Answer:
    """A venue's answer to a subscribe request."""

    ok: bool
    topic: str | None  # None: the answer does not say which request; the oldest one pending
    reason: str = ""


class Recovery:
    """What to fetch after a reconnect, fixed at the moment of the reconnect (frames of the new
    connection arriving meanwhile must not move it). Calling it gives the pages (an async iterator
    of frame lists), again on a retry; ``reached`` turns False when the venue's REST window did not
    reach back to what was seen before the outage."""

    def __init__(self, fetch):
        self.fetch = fetch
        self.reached = True

    def __call__(self):
        return self.fetch(self)


class VenueFeed:
    venue = ""
    rest_limit = (1e9, 1.0)  # the venue's published REST limit: (weight, per seconds)

    def __init__(self, settings, symbols: list[str], rest: RestClient | None = None):
        self.settings = settings
        self.symbols = symbols
        self.rest = rest or RestClient(self.venue, settings, limit=self.rest_limit)

    def streams(self) -> list[Stream]:
        raise NotImplementedError

    def answer(self, frame: str) -> Answer | None:
        """The answer to a subscription, when this control frame is one."""
        return None

    def keep(self, events):
        """The events of the instruments watched (a venue channel may deliver more)."""
        return events

    def gaps_in(self, frame: str) -> list[str]:
        """Markets whose missing ids a control frame reveals (a Coinbase heartbeat): fetched at once."""
        return []

    def backfill(self, engine, market_key: str):
        """Async iterator of frame lists (the venue's websocket format), one per REST call, that
        fill id gaps; nothing when the venue has none."""
        return _nothing()

    def recover(self, engine) -> Recovery:
        """After a reconnect: what was missed, over REST, as lists of websocket frames (duplicates
        are dropped downstream by trade id)."""
        return Recovery(lambda rec: _nothing())

    async def instruments(self) -> dict:
        """Contract sizes learned from the venue: {"venue:SYMBOL": Contract}."""
        return {}


async def _nothing():
    return
    yield


def symbol_for(venue: str, group: str) -> str:
    group = group.upper()
    return {"binance": f"{group}USDT", "bybit": f"{group}USDT", "okx": f"{group}-USDT-SWAP", "coinbase": f"{group}-USD",
            "hyperliquid": group, "bitget": f"{group}USDT"}[venue]
