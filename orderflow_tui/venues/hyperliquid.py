"""Hyperliquid ``trades``: side B = buy aggressor, A = sell aggressor; sizes in the coin, prices in USDC.

The first frame after subscribing is a backlog of earlier trades; duplicates are dropped by id
downstream. There is no public liquidation stream.
"""

from __future__ import annotations

from orjson import loads

from orderflow_tui.events import CONTROL, IGNORED, FrameError, Trade
from orderflow_tui.venues.common import SymbolTable, checked, ms, num, trade_id

VENUE = "hyperliquid"
CONTIGUOUS_IDS = False  # tid is a hash of the two order ids
LIQUIDATIONS_SAMPLED = False


class Parser:
    venue = VENUE

    def __init__(self, instruments=None, options=None):
        options = options or {}
        self.symbols = SymbolTable(VENUE, instruments)
        self.b_is_buy = options.get("side_b_is_buy", True)

    def parse(self, frame):
        msg = loads(frame)
        if type(msg) is not dict:
            raise FrameError("not a JSON object")
        channel = msg.get("channel")
        if channel == "trades":
            data = msg["data"]
            if type(data) is not list:
                raise FrameError("data is not a list")
            return [self._trade(d) for d in data]
        if channel in ("subscriptionResponse", "pong", "error"):
            return CONTROL
        if type(channel) is str:
            return IGNORED  # l2Book, bbo, candle, user...
        raise FrameError("unknown message")

    def _trade(self, d):
        coin = d["coin"]
        market, contract = self.symbols.get(coin)
        price = num(d["px"])
        qty = num(d["sz"])
        ts = ms(d["time"])
        checked(price, qty, ts)
        side = d["side"]
        if side != "B" and side != "A":
            raise FrameError(f"unknown side {side!r}")
        is_buy = (side == "B") == self.b_is_buy
        tid = trade_id(d.get("tid"))
        # tid alone is not unique: only together with the time
        return Trade(market, VENUE, coin, ts, price, qty, price * qty, is_buy,
                     f"{ts}:{tid}" if tid is not None else None)
