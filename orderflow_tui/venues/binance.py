"""Binance USD-M (and COIN-M) futures: aggTrade, trade, forceOrder.

Sides: ``m`` is "buyer is maker", so m=true is a taker SELL. forceOrder ``o.S`` is the side of the
liquidation order: SELL closes a long, so SELL = long liquidated (the opposite of Bybit).
"""

from __future__ import annotations

from typing import Annotated, Any, Final

import msgspec
from orjson import loads

from orderflow_tui.events import CONTROL, IGNORED, FrameError, IdOnly, Liquidation, Skip, Trade
from orderflow_tui.instruments import Contract
from orderflow_tui.venues import binance_depth
from orderflow_tui.venues.common import (ID_MAX, PRICE_MAX, PRICE_MIN, QTY_MAX, QTY_MIN, TS_MAX, TS_MIN, SymbolTable,
                                         amounts, checked, ms, num)

VENUE: Final = "binance"
CONTIGUOUS_IDS = True  # aggTrade `a` and trade `t` are contiguous per symbol
LIQUIDATIONS_SAMPLED = True  # at most one liquidation per symbol per second


# The fast path: trades decoded straight into typed structs, numbers converted and range-checked in C.
# Whatever it cannot take (liquidations, control frames, other events, bad values) goes to the
# checked path below, which decides between CONTROL, IGNORED, events and a rejection reason.
_Price = Annotated[float, msgspec.Meta(ge=PRICE_MIN, lt=PRICE_MAX)]
_Qty = Annotated[float, msgspec.Meta(ge=QTY_MIN, lt=QTY_MAX)]
_Time = Annotated[int, msgspec.Meta(gt=TS_MIN, lt=TS_MAX)]
_Id = Annotated[int, msgspec.Meta(ge=0, le=ID_MAX - 1)]


# made with defstruct, not class statements: the module is compiled (mypyc), the structs must not be
_AggTrade: Any = msgspec.defstruct("_AggTrade", [("s", str), ("a", _Id), ("p", _Price), ("q", _Qty), ("T", _Time),
                                            ("m", bool)], tag_field="e", tag="aggTrade")
_RawTrade: Any = msgspec.defstruct("_RawTrade", [("s", str), ("t", _Id), ("p", _Price), ("q", _Qty), ("T", _Time),
                                            ("m", bool), ("X", str, "MARKET")], tag_field="e", tag="trade")
_Combined = msgspec.defstruct("_Combined", [("data", _AggTrade | _RawTrade)])

_combined: Final[Any] = msgspec.json.Decoder(_Combined, strict=False).decode
_bare: Final[Any] = msgspec.json.Decoder(_AggTrade | _RawTrade, strict=False).decode
_astuple: Final[Any] = msgspec.structs.astuple
_FAST_ERRORS: Final = (msgspec.ValidationError, msgspec.DecodeError)


class Parser:
    venue = VENUE

    def __init__(self, instruments=None, options=None) -> None:
        self.symbols = SymbolTable(VENUE, instruments)
        # the symbol of the previous trade frame, its market and contract (frames come in runs)
        self._symbol: str | None = None
        self._market = ""
        self._contract: Contract | None = None

    def parse(self, frame: str) -> list | Skip:
        fields: tuple
        if binance_depth.is_depth(frame):
            return binance_depth.parse(self.symbols, frame)  # order books (issue 21)
        try:
            # one C call for every field: attribute reads on a msgspec struct are slow from compiled code
            fields = _astuple(_combined(frame).data if frame.startswith('{"stream"') else _bare(frame))
        except _FAST_ERRORS:
            return self._parse_checked(frame)
        if len(fields) == 7 and fields[6] != "MARKET":
            return self._parse_checked(frame)  # an insurance-fund or ADL fill
        symbol: str = fields[0]
        if symbol != self._symbol:
            self._market, self._contract = self.symbols.get(symbol)
            self._symbol = symbol
        price: float = fields[2]
        qty: float = fields[3]
        if self._contract is None:
            quote = price * qty
        else:
            qty, quote = self._contract.convert(qty, price)
        return [Trade(self._market, VENUE, symbol, fields[4], price, qty, quote, not fields[5], fields[1])]

    def _parse_checked(self, frame):
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
        if e == "markPriceUpdate":
            return mark_price_context(self.symbols, data)
        if type(e) is str:
            return IGNORED  # depthUpdate, bookTicker, kline, markPriceUpdate, tickers...
        if "openInterest" in msg and "symbol" in msg:
            return open_interest_context(self.symbols, msg)  # the REST poll's body (feeds/binance_feed.py)
        if "result" in msg and "id" in msg or ("code" in msg and "msg" in msg):
            return CONTROL  # subscribe/list answers and errors
        stream = msg.get("stream")
        if type(stream) is str and ("@bookTicker" in stream or "@depth" in stream):
            return IGNORED  # spot bookTicker and partial depth carry no "e"
        raise FrameError("unknown message")

    def _trade(self, d, trade_id):
        market, contract = self.symbols.get(d["s"])
        price = num(d["p"])
        qty = num(d["q"])
        ts = ms(d["T"])
        checked(price, qty, ts)
        is_buy = d["m"]
        if type(is_buy) is not bool:
            raise FrameError("m is not a boolean")
        qty, quote = amounts(contract, qty, price)
        return [Trade(market, VENUE, d["s"], ts, price, qty, quote, not is_buy, _int_id(trade_id))]

    def _liquidation(self, o):
        if type(o) is not dict:
            raise FrameError("forceOrder without an order object")
        market, contract = self.symbols.get(o["s"])
        side = o["S"]
        if side not in ("SELL", "BUY"):
            raise FrameError(f"unknown liquidation side {side!r}")
        qty = num(o["z"])  # cumulative filled quantity
        ap = o.get("ap")
        price = num(ap) if ap is not None and ap != "" else 0.0
        if price == 0.0:
            price = num(o["p"])  # no average fill yet: the order price
        ts = ms(o["T"])
        if qty == 0.0:
            return IGNORED  # an unfilled liquidation order moved no position
        checked(price, qty, ts)
        qty, quote = amounts(contract, qty, price)
        return [Liquidation(market, VENUE, o["s"], ts, price, qty, quote, side == "SELL", LIQUIDATIONS_SAMPLED)]


def _int_id(value) -> int:
    if type(value) is not int or not 0 <= value < ID_MAX:
        raise FrameError(f"bad trade id {value!r}")
    return value


# ---- market context (issue 14): funding from ``markPrice``, open interest from the REST poll ----------

from orderflow_tui.events import Context  # noqa: E402
from orderflow_tui.venues import market_fields as mf  # noqa: E402

FUNDING_INTERVAL_H = 8.0  # all but the symbols GET /fapi/v1/fundingInfo lists (UNCONFIRMED)


def mark_price_context(symbols, d) -> list:
    """``markPriceUpdate``: ``p`` mark price, ``r`` funding rate, ``T`` next funding time."""
    symbol = d["s"]
    market, _ = symbols.get(symbol)
    mark = mf.number(d["p"], mf.PRICE_MIN, mf.PRICE_MAX, "p")
    return [Context(market, VENUE, symbol, mf.time_ms(d["E"]), mark=mark, funding=mf.funding(d, "r"),
                    interval_h=FUNDING_INTERVAL_H, next_ts=mf.opt_time(d, "T"))]


def open_interest_context(symbols, d) -> list:
    """GET /fapi/v1/openInterest: ``openInterest`` in contracts of the symbol (the base coin, or 1000
    coins for ``1000PEPEUSDT``; USD contracts on COIN-M)."""
    symbol = d["symbol"]
    market, contract = symbols.get(symbol)
    n = mf.number(d["openInterest"], 0.0, mf.OI_MAX, "openInterest")
    ts = mf.time_ms(d["time"])
    if contract is not None and contract.inverse:
        return [Context(market, VENUE, symbol, ts, oi_usd=n * contract.size)]
    base = n * contract.size if contract is not None else n
    return [Context(market, VENUE, symbol, ts, oi_base=base)]
