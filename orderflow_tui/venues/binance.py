"""Binance USD-M (and COIN-M) futures: aggTrade, trade, forceOrder.

Sides: ``m`` is "buyer is maker", so m=true is a taker SELL. forceOrder ``o.S`` is the side of the
liquidation order: SELL closes a long, so SELL = long liquidated (the opposite of Bybit).
"""

from __future__ import annotations

from orjson import loads

from orderflow_tui.events import CONTROL, IGNORED, FrameError, IdOnly, Liquidation, Trade
from orderflow_tui.venues.common import SymbolTable, checked, ms

VENUE = "binance"
CONTIGUOUS_IDS = True  # aggTrade `a` and trade `t` are contiguous per symbol
LIQUIDATIONS_SAMPLED = True  # at most one liquidation per symbol per second


class Parser:
    venue = VENUE

    def __init__(self, instruments=None, options=None):
        self.symbols = SymbolTable(VENUE, instruments)

    def parse(self, frame):
        msg = loads(frame)
        if type(msg) is not dict:
            raise FrameError("not a JSON object")
        data = msg.get("data", msg)
        if type(data) is not dict:
            raise FrameError("data is not an object")
        e = data.get("e")
        if e == "aggTrade":
            return self._trade(data, data["a"])
        if e == "trade":
            x = data.get("X")
            if x is not None and x != "MARKET":
                # insurance-fund and ADL fills: not market flow, but their id is used
                market, _ = self.symbols.get(data["s"])
                return [IdOnly(market, _int_id(data["t"]))]
            return self._trade(data, data["t"])
        if e == "forceOrder":
            return self._liquidation(data["o"])
        if type(e) is str:
            return IGNORED  # depthUpdate, bookTicker, kline, markPriceUpdate, tickers...
        if "result" in msg and "id" in msg or ("code" in msg and "msg" in msg):
            return CONTROL  # subscribe/list answers and errors
        stream = msg.get("stream")
        if type(stream) is str and ("@bookTicker" in stream or "@depth" in stream):
            return IGNORED  # spot bookTicker and partial depth carry no "e"
        raise FrameError("unknown message")

    def _trade(self, d, trade_id):
        market, contract = self.symbols.get(d["s"])
        price = float(d["p"])
        qty = float(d["q"])
        ts = ms(d["T"])
        checked(price, qty, ts)
        is_buy = d["m"]
        if type(is_buy) is not bool:
            raise FrameError("m is not a boolean")
        if contract is None:
            quote = price * qty
        else:
            qty, quote = contract.convert(qty, price)
        return [Trade(market, VENUE, d["s"], ts, price, qty, quote, not is_buy, _int_id(trade_id))]

    def _liquidation(self, o):
        if type(o) is not dict:
            raise FrameError("forceOrder without an order object")
        market, contract = self.symbols.get(o["s"])
        side = o["S"]
        if side not in ("SELL", "BUY"):
            raise FrameError(f"unknown liquidation side {side!r}")
        qty = float(o["z"])  # cumulative filled quantity
        price = float(o.get("ap") or 0) or float(o["p"])  # average fill, else the order price
        ts = ms(o["T"])
        if qty == 0.0:
            return IGNORED  # an unfilled liquidation order moved no position
        checked(price, qty, ts)
        if contract is None:
            quote = price * qty
        else:
            qty, quote = contract.convert(qty, price)
        return [Liquidation(market, VENUE, o["s"], ts, price, qty, quote, side == "SELL", LIQUIDATIONS_SAMPLED)]


def _int_id(value) -> int:
    if type(value) is not int or value < 0:
        raise FrameError(f"bad trade id {value!r}")
    return value
