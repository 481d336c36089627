"""The depth side of the live feeds (issue 21): per venue, the depth connection (its own socket beside
the trade one: the busiest data never delays a trade, a multi-megabyte Coinbase snapshot never
blocks one), its subscribe / unsubscribe frames, and the REST snapshot where the venue's procedure
needs one (Binance always, OKX when no snapshot comes in band).

Topics are keyed by the venue symbol, so a venue's answer names the book it refuses and a resync
resubscribes one book alone. The sync machines (books/sync.py) say when a book needs either.
"""

from __future__ import annotations

import json
from urllib.parse import urlencode

from orderflow_tui.feeds.venue_feed import Stream

BINANCE_DEPTH_WEIGHT = 20  # GET /fapi/v1/depth?limit=1000
BIG_FRAMES = 64 * 2**20  # Coinbase's level2_batch snapshot is the whole book (several MiB)


def _dumps(obj) -> str:
    return json.dumps(obj, separators=(",", ":"))


def _bybit(symbol: str, op: str = "subscribe") -> str:
    return _dumps({"req_id": symbol, "op": op, "args": [f"orderbook.200.{symbol}"]})


def _okx(symbol: str, op: str = "subscribe") -> str:
    return _dumps({"op": op, "args": [{"channel": "books", "instId": symbol}]})


def _bitget(symbol: str, op: str = "subscribe") -> str:
    return _dumps({"op": op, "args": [{"instType": "USDT-FUTURES", "channel": "books", "instId": symbol}]})


def _coinbase(symbol: str, op: str = "subscribe") -> str:
    return _dumps({"type": op, "product_ids": [symbol], "channels": ["level2_batch"]})


def _hyperliquid(symbol: str, op: str = "subscribe") -> str:
    return _dumps({"method": op, "subscription": {"type": "l2Book", "coin": symbol}})


FRAMES = {"bybit": _bybit, "okx": _okx, "bitget": _bitget, "coinbase": _coinbase, "hyperliquid": _hyperliquid}


def depth_stream(feed) -> Stream | None:
    """The venue's depth connection for the feed's symbols."""
    e, f = feed.settings.endpoints, feed.settings.feeds
    venue = feed.venue
    if venue == "binance":  # routed: depth is on /public only
        streams = "/".join(f"{s.lower()}@depth@100ms" for s in feed.symbols)
        return Stream("binance/depth", f"{e.binance_public_ws}?streams={streams}", [], None, f.ping_interval_s,
                      ("book",), books=True)
    make = FRAMES.get(venue)
    if make is None:
        return None
    topics = {s: make(s) for s in feed.symbols}
    url, ping, every = {
        "bybit": (e.bybit_ws, _dumps({"op": "ping"}), min(20.0, f.ping_interval_s)),
        "okx": (e.okx_ws, "ping", min(20.0, f.ping_interval_s)),
        "bitget": (e.bitget_ws, "ping", min(30.0, f.ping_interval_s)),
        "coinbase": (e.coinbase_exchange_ws, None, f.ping_interval_s),
        "hyperliquid": (e.hyperliquid_ws, _dumps({"method": "ping"}), min(50.0, f.ping_interval_s)),
    }[venue]
    return Stream(f"{venue}/depth", url, [], ping, every, ("book",), topics, books=True,
                  max_size=BIG_FRAMES if venue == "coinbase" else None)


def resubscribe_frames(venue: str, symbol: str) -> list[str]:
    """Unsubscribe then subscribe: the venue answers with a fresh snapshot in band."""
    make = FRAMES.get(venue)
    return [make(symbol, "unsubscribe"), make(symbol)] if make is not None else []


async def fetch_book(feed, symbol: str) -> str:
    """The REST snapshot's body text (recorded as is in a capture's "k": "book" line)."""
    e = feed.settings.endpoints
    if feed.venue == "binance":
        url = f"{e.binance_rest}/fapi/v1/depth?{urlencode({'symbol': symbol, 'limit': 1000})}"
        _, text = await feed.rest.get_json(url, BINANCE_DEPTH_WEIGHT, wait=False)
    elif feed.venue == "okx":
        url = f"{e.okx_rest}/api/v5/market/books?{urlencode({'instId': symbol, 'sz': 400})}"
        _, text = await feed.rest.get_json(url, 1.0, wait=False)
    else:
        raise ValueError(f"{feed.venue} has no REST book snapshot")
    return text
