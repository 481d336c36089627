"""Normalized events: what every venue parser produces and the engine consumes.

Plain ``__slots__`` classes rather than dataclasses: one is created per trade on the hot path,
and a hand-written ``__init__`` is the cheapest constructor CPython offers.
"""

from __future__ import annotations


class Trade:
    """One print. ``qty`` is in the base coin, ``quote`` in the quote currency."""

    __slots__ = ("market", "venue", "symbol", "ts", "price", "qty", "quote", "is_buy", "trade_id")

    def __init__(self, market, venue, symbol, ts, price, qty, quote, is_buy, trade_id):
        self.market = market  # "venue:SYMBOL"
        self.venue = venue
        self.symbol = symbol
        self.ts = ts  # exchange fill time, ms
        self.price = price
        self.qty = qty
        self.quote = quote
        self.is_buy = is_buy  # taker side
        self.trade_id = trade_id  # int for contiguous-id venues, str or None elsewhere

    @property
    def side(self) -> str:
        return "buy" if self.is_buy else "sell"

    def __repr__(self) -> str:
        return (f"Trade({self.market} {self.ts} {self.side} {self.qty}@{self.price} "
                f"${self.quote:.2f} id={self.trade_id!r})")


class Liquidation:
    """A forced close. ``is_long``: the liquidated position was a long."""

    __slots__ = ("market", "venue", "symbol", "ts", "price", "qty", "quote", "is_long", "sampled")

    def __init__(self, market, venue, symbol, ts, price, qty, quote, is_long, sampled):
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
        return (f"Liquidation({self.market} {self.ts} {self.position} {self.qty}@{self.price} "
                f"${self.quote:.2f}{' sampled' if self.sampled else ''})")


class IdOnly:
    """A trade id the venue used for a print we do not count (a Binance insurance-fund fill).

    It still advances the contiguous-id check, so it is not reported as a gap.
    """

    __slots__ = ("market", "trade_id")

    def __init__(self, market, trade_id):
        self.market = market
        self.trade_id = trade_id


class Skip(tuple):
    """An empty parse result that says why it is empty."""

    __slots__ = ()


CONTROL = Skip()  # subscribe acks, pongs, heartbeats, venue errors
IGNORED = Skip()  # valid venue data we do not use (order books, tickers, history replays)


class FrameError(ValueError):
    """A frame that is malformed or not valid for its venue."""
