"""What differs per venue on the live path: URLs, subscriptions, keep-alives, recovery over REST."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Stream:
    """One websocket connection: where, what to send after connecting, how to keep it alive."""

    name: str  # e.g. "binance/market"
    url: str
    subscribe: list[str]  # text frames sent right after connecting
    app_ping: str | None  # a text keep-alive (OKX "ping", Bybit {"op":"ping"}); None: protocol pings
    ping_every_s: float
    expects: tuple[str, ...] = ("trade",)  # what this stream should deliver (for doctor)


class VenueFeed:
    venue = ""

    def __init__(self, settings, symbols: list[str]):
        self.settings = settings
        self.symbols = symbols

    def streams(self) -> list[Stream]:
        raise NotImplementedError

    def is_keepalive_answer(self, frame: str) -> bool:
        return False

    def refusal(self, frame: str) -> str | None:
        """The reason when this control frame refuses a subscription, else None."""
        return None

    async def backfill(self, engine, market_key: str) -> list[str]:
        """Frames (in the venue's websocket format) that fill id gaps; [] when the venue has none."""
        return []

    async def recover(self, engine) -> list[str]:
        """After a reconnect: what was missed, over REST, as websocket frames (duplicates are
        dropped downstream by trade id)."""
        return []

    async def instruments(self) -> dict:
        """Contract sizes learned from the venue: {"venue:SYMBOL": Contract}."""
        return {}


def symbol_for(venue: str, group: str) -> str:
    group = group.upper()
    return {"binance": f"{group}USDT", "bybit": f"{group}USDT", "okx": f"{group}-USDT-SWAP"}[venue]
