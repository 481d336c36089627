"""Bitget: v2 public ``trade`` and the UTA v3 ``liquidation`` topic.

Trade ``side`` is taken as the taker side (clients assume it; UNCONFIRMED, setting
``trade_side_is_taker``). The v3 liquidation ``side`` buy = long liquidated and ``amount`` in USDT
follow aggr (UNCONFIRMED: settings ``liquidation_buy_is_long``, ``liquidation_amount_in_quote``).
The first ``snapshot`` push replays history: skipped unless ``include_history``.
"""

from __future__ import annotations

from orjson import loads

from orderflow_tui.events import CONTROL, IGNORED, FrameError, Liquidation, Trade
from orderflow_tui.venues import bitget_depth
from orderflow_tui.venues.common import SymbolTable, amounts, checked, ms, num, trade_id

VENUE = "bitget"
CONTIGUOUS_IDS = False
LIQUIDATIONS_SAMPLED = True  # only the largest long and short per symbol per second


class Parser:
    venue = VENUE

    def __init__(self, instruments=None, options=None):
        options = options or {}
        self.symbols = SymbolTable(VENUE, instruments)
        self.side_is_taker = options.get("trade_side_is_taker", True)
        self.include_history = options.get("include_history", False)
        self.buy_is_long = options.get("liquidation_buy_is_long", True)
        self.amount_in_quote = options.get("liquidation_amount_in_quote", True)

    def parse(self, frame):
        if frame == "pong" or frame == b"pong":
            return CONTROL
        if bitget_depth.is_depth(frame):  # the busiest frames: straight to the typed decoder
            return bitget_depth.parse(self.symbols, frame)
        msg = loads(frame)
        if type(msg) is not dict:
            raise FrameError("not a JSON object")
        if "event" in msg:
            return CONTROL
        arg = msg.get("arg")
        if type(arg) is not dict:
            raise FrameError("no arg")
        data = msg["data"]
        if type(data) is not list:
            raise FrameError("data is not a list")
        if arg.get("channel") == "trade":
            if msg.get("action") == "snapshot" and not self.include_history:
                return IGNORED
            return sorted((self._trade(arg["instId"], d) for d in data), key=_by_time)
        if arg.get("topic") == "liquidation":
            return [self._liquidation(d) for d in data]
        if arg.get("channel") == "books":
            return bitget_depth.parse(self.symbols, frame)  # order books (issue 21)
        if arg.get("channel") == "ticker":
            return [ticker_context(self.symbols, arg, d) for d in data]
        return IGNORED

    def _trade(self, symbol, d):
        market, contract = self.symbols.get(symbol)
        price = num(d["price"])
        qty = num(d["size"])
        ts = ms(d["ts"])
        checked(price, qty, ts)
        side = d["side"]
        if side != "buy" and side != "sell":
            raise FrameError(f"unknown side {side!r}")
        is_buy = (side == "buy") == self.side_is_taker
        qty, quote = amounts(contract, qty, price)
        return Trade(market, VENUE, symbol, ts, price, qty, quote, is_buy, trade_id(d.get("tradeId"), kind=str))

    def _liquidation(self, d):
        symbol = d["symbol"]
        market, _ = self.symbols.get(symbol)
        price = num(d["price"])
        amount = num(d["amount"])
        ts = ms(d["ts"])
        checked(price, amount, ts)
        side = d["side"]
        if side != "buy" and side != "sell":
            raise FrameError(f"unknown liquidation side {side!r}")
        qty, quote = (amount / price, amount) if self.amount_in_quote else (amount, amount * price)
        return Liquidation(market, VENUE, symbol, ts, price, qty, quote, (side == "buy") == self.buy_is_long,
                           LIQUIDATIONS_SAMPLED)


def _by_time(t):
    return t.ts


# ---- market context (issue 14): the v2 ``ticker`` channel ---------------------------------------------

from orderflow_tui.events import Context  # noqa: E402
from orderflow_tui.venues import market_fields as mf  # noqa: E402

FUNDING_INTERVAL_H = 8.0  # when the push names no interval (UNCONFIRMED: Bitget sets 1-8 h per symbol)


def ticker_context(symbols, arg, d):
    """``holdingAmount``: "current positions in the unit of number of coins traded" (REST docs);
    ``fundingRate`` per interval, ``nextFundingTime``, ``markPrice``."""
    if type(d) is not dict:
        raise FrameError("ticker item is not an object")
    symbol = d.get("instId") or d.get("symbol") or arg["instId"]
    market, _ = symbols.get(symbol)
    hours = d.get("fundingRateInterval")
    interval = mf.interval_h(hours) if hours not in (None, "") else FUNDING_INTERVAL_H
    return Context(market, VENUE, symbol, mf.time_ms(d["ts"]), oi_base=mf.oi(d, "holdingAmount"),
                   mark=mf.mark(d, "markPrice"), funding=mf.funding(d, "fundingRate"), interval_h=interval,
                   next_ts=mf.opt_time(d, "nextFundingTime"))
