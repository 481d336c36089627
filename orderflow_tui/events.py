"""Normalized events: what every venue parser produces and the engine consumes.

msgspec Structs: one is created per trade on the hot path, and a Struct's constructor runs in C
(about 4x cheaper than a Python ``__init__``); ``gc=False`` because they hold only scalars.
"""

from __future__ import annotations

import msgspec


class Trade(msgspec.Struct, gc=False):
    """One print. ``qty`` is in the base coin, ``quote`` in the quote currency."""

    market: str  # "venue:SYMBOL"
    venue: str
    symbol: str
    ts: int  # exchange fill time, ms
    price: float
    qty: float
    quote: float
    is_buy: bool  # taker side
    trade_id: object = None  # int for contiguous-id venues, str elsewhere, None when the venue has none

    @property
    def side(self) -> str:
        return "buy" if self.is_buy else "sell"


class Liquidation(msgspec.Struct, gc=False):
    """A forced close. ``is_long``: the liquidated position was a long."""

    market: str
    venue: str
    symbol: str
    ts: int
    price: float
    qty: float
    quote: float
    is_long: bool
    sampled: bool  # the venue pushes only some liquidations

    @property
    def position(self) -> str:
        return "long" if self.is_long else "short"


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
