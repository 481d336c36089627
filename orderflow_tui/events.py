"""Normalized events: what every venue parser produces and the engine consumes.

This module is compiled with mypyc (see setup.py): a Trade is then a C struct whose constructor
and attributes cost a few nanoseconds from the compiled parser and engine. It stays plain Python
that works uncompiled.
"""

from __future__ import annotations

from typing import Any, Final


class Trade:
    """One print. ``qty`` is in the base coin, ``quote`` in the quote currency."""

    __slots__ = ("market", "venue", "symbol", "ts", "price", "qty", "quote", "is_buy", "trade_id", "fills")

    def __init__(self, market: str, venue: str, symbol: str, ts: int, price: float, qty: float, quote: float,
                 is_buy: bool, trade_id: object = None, fills: int = 1) -> None:
        self.market = market  # "venue:SYMBOL"
        self.venue = venue
        self.symbol = symbol
        self.ts = ts  # exchange fill time, ms
        self.price = price
        self.qty = qty
        self.quote = quote
        self.is_buy = is_buy  # taker side
        # int for contiguous-id venues, str elsewhere, None when the venue has none
        self.trade_id = trade_id
        # the venue fills this print stands for: an OKX message of ``count`` n is fills id-n+1 .. id
        self.fills = fills

    @property
    def side(self) -> str:
        return "buy" if self.is_buy else "sell"

    def __repr__(self) -> str:
        return (f"Trade({self.market!r}, ts={self.ts}, price={self.price!r}, qty={self.qty!r}, "
                f"quote={self.quote!r}, {self.side}, id={self.trade_id!r}, fills={self.fills})")


class Liquidation:
    """A forced close. ``is_long``: the liquidated position was a long."""

    __slots__ = ("market", "venue", "symbol", "ts", "price", "qty", "quote", "is_long", "sampled")

    def __init__(self, market: str, venue: str, symbol: str, ts: int, price: float, qty: float, quote: float,
                 is_long: bool, sampled: bool) -> None:
        self.market = market
        self.venue = venue
        self.symbol = symbol
        self.ts = ts
        self.price = price
        self.qty = qty
        self.quote = quote
        self.is_long = is_long
        self.sampled = sampled  # the venue pushes only some liquidations

    @property
    def position(self) -> str:
        return "long" if self.is_long else "short"

    def __repr__(self) -> str:
        return (f"Liquidation({self.market!r}, ts={self.ts}, {self.position}, price={self.price!r}, "
                f"qty={self.qty!r}, quote={self.quote!r})")


class IdOnly:
    """A trade id the venue used for a print we do not count (a Binance insurance-fund fill).

    It still advances the contiguous-id check, so it is not reported as a gap.
    """

    __slots__ = ("market", "trade_id")

    def __init__(self, market: str, trade_id: int) -> None:
        self.market = market
        self.trade_id = trade_id


class Skip:
    """An empty parse result that says why it is empty: false, of length 0, iterates nothing."""

    __slots__ = ("why",)

    def __init__(self, why: str) -> None:
        self.why = why

    def __len__(self) -> int:
        return 0

    def __iter__(self):
        return iter(())

    def __repr__(self) -> str:
        return self.why


CONTROL: Final = Skip("CONTROL")  # subscribe acks, pongs, heartbeats, venue errors
IGNORED: Final = Skip("IGNORED")  # valid venue data we do not use (order books, tickers, history replays)


class FrameError(ValueError):
    """A frame that is malformed or not valid for its venue."""


class Context:
    """Market context of a perpetual: open interest and funding, as one venue push carried them.

    A field the push did not carry is None (Bybit sends deltas, Binance's open interest comes from a
    REST poll and its funding from ``markPrice``): the engine merges field by field. ``oi_base`` is in
    the base coin, ``oi_usd`` in the quote currency (None: derived from the mark price), ``funding``
    the rate per ``interval_h`` hours, ``next_ts`` the next funding time (ms).
    """

    __slots__ = ("market", "venue", "symbol", "ts", "oi_base", "oi_usd", "mark", "funding", "interval_h",
                 "next_ts")

    def __init__(self, market: str, venue: str, symbol: str, ts: int, oi_base: float | None = None,
                 oi_usd: float | None = None, mark: float | None = None, funding: float | None = None,
                 interval_h: float | None = None, next_ts: int | None = None) -> None:
        self.market = market
        self.venue = venue
        self.symbol = symbol
        self.ts = ts
        self.oi_base = oi_base
        self.oi_usd = oi_usd
        self.mark = mark
        self.funding = funding
        self.interval_h = interval_h
        self.next_ts = next_ts

    def __repr__(self) -> str:
        return (f"Context({self.market!r}, ts={self.ts}, oi_base={self.oi_base!r}, oi_usd={self.oi_usd!r}, "
                f"mark={self.mark!r}, funding={self.funding!r}, interval_h={self.interval_h!r}, "
                f"next_ts={self.next_ts!r})")


# Depth kinds (issue 21): what a depth message does to its market's book
DELTA: Final = 0      # changed levels, absolute sizes, size 0 removes
SNAPSHOT: Final = 1   # an in-band snapshot: replaces the book
WHOLE: Final = 2      # a whole top-N frame (Hyperliquid l2Book): replaces, never a resync
REST_BOOK: Final = 3  # a REST snapshot the client fetched (a capture's "k": "book" line)
SAMPLE: Final = 4     # a collector's sampled top of book on the bus: replaces; ``first`` 1 = it was synced


class Depth:
    """One depth message of one market, its levels converted: ``bids``/``asks`` are sequences of
    (price, size in the base coin): a parser's Levels (venues/levels.py), or lists. The sequence
    fields are the venue's, as the sync machine of books/sync.py reads them: ``first``/``last``/
    ``prev`` = Binance U/u/pu (REST: lastUpdateId in ``last``), Bybit -/u/-, OKX -/seqId/prevSeqId,
    Bitget -/seq/pseq; -1 where the venue has none.
    ``checksum`` is Bitget's signed CRC32 (0: none), over the levels' texts as sent."""

    __slots__ = ("market", "venue", "ts", "kind", "first", "last", "prev", "bids", "asks", "checksum")

    def __init__(self, market: str, venue: str, ts: int, kind: int, bids: Any, asks: Any, first: int = -1,
                 last: int = -1, prev: int = -1, checksum: int = 0) -> None:
        self.market = market
        self.venue = venue
        self.ts = ts
        self.kind = kind
        self.bids = bids
        self.asks = asks
        self.first = first
        self.last = last
        self.prev = prev
        self.checksum = checksum

    def __repr__(self) -> str:
        return (f"Depth({self.market!r}, ts={self.ts}, kind={self.kind}, first={self.first}, last={self.last}, "
                f"prev={self.prev}, bids={len(self.bids)}, asks={len(self.asks)})")
