"""Bybit v5 (linear and inverse): publicTrade and allLiquidation.

Sides: trade ``S`` is the taker side. allLiquidation ``S`` is the POSITION side: "Buy" means a
long was liquidated (the opposite of Binance and OKX, whose field is the order side).
Inverse contracts (BTCUSD, BTCUSDH25) quote sizes in USD.
"""

from __future__ import annotations

from orjson import loads

from orderflow_tui.events import CONTROL, IGNORED, FrameError, Liquidation, Trade
from orderflow_tui.venues.common import SymbolTable, amounts, checked, ms, num, trade_id

VENUE = "bybit"
CONTIGUOUS_IDS = False  # `i` is a UUID on linear; `seq` is monotonic but not contiguous
LIQUIDATIONS_SAMPLED = False  # allLiquidation pushes every liquidation


class Parser:
    venue = VENUE

    def __init__(self, instruments=None, options=None):
        self.symbols = SymbolTable(VENUE, instruments)

    def parse(self, frame):
        msg = loads(frame)
        if type(msg) is not dict:
            raise FrameError("not a JSON object")
        topic = msg.get("topic")
        if type(topic) is not str:
            if "op" in msg or "ret_msg" in msg or "success" in msg:
                return CONTROL  # subscribe answers, pongs, errors
            raise FrameError("no topic")
        data = msg["data"]
        if topic.startswith("publicTrade."):
            if type(data) is not list:
                raise FrameError("publicTrade data is not a list")
            return [self._trade(d) for d in data]
        if topic.startswith("allLiquidation."):
            if type(data) is not list:
                raise FrameError("allLiquidation data is not a list")
            return [self._liquidation(d["s"], d["S"], d["v"], d["p"], d["T"]) for d in data]
        if topic.startswith("liquidation."):  # retired Nov 2025; same position-side meaning
            if type(data) is not dict:
                raise FrameError("liquidation data is not an object")
            return [self._liquidation(data["symbol"], data["side"], data["size"], data["price"],
                                      data["updatedTime"])]
        return IGNORED  # orderbook, tickers, kline...

    def _trade(self, d):
        symbol = d["s"]
        market, contract = self.symbols.get(symbol)
        price = num(d["p"])
        qty = num(d["v"])
        ts = ms(d["T"])
        checked(price, qty, ts)
        side = d["S"]
        if side == "Buy":
            is_buy = True
        elif side == "Sell":
            is_buy = False
        else:
            raise FrameError(f"unknown side {side!r}")
        qty, quote = amounts(contract, qty, price)
        return Trade(market, VENUE, symbol, ts, price, qty, quote, is_buy, trade_id(d.get("i")))

    def _liquidation(self, symbol, side, size, price, ts):
        market, contract = self.symbols.get(symbol)
        price = num(price)
        qty = num(size)
        ts = ms(ts)
        checked(price, qty, ts)
        if side not in ("Buy", "Sell"):
            raise FrameError(f"unknown liquidation side {side!r}")
        qty, quote = amounts(contract, qty, price)
        return Liquidation(market, VENUE, symbol, ts, price, qty, quote, side == "Buy", LIQUIDATIONS_SAMPLED)
