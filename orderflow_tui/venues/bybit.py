"""Bybit v5 (linear and inverse): publicTrade and allLiquidation.

Sides: trade ``S`` is the taker side. allLiquidation ``S`` is the POSITION side: "Buy" means a
long was liquidated (the opposite of Binance and OKX, whose field is the order side).
Inverse contracts (BTCUSD, BTCUSDH25) quote sizes in USD.
"""

from __future__ import annotations

from orjson import loads

from orderflow_tui.events import CONTROL, IGNORED, FrameError, Liquidation, Trade
from orderflow_tui.venues import bybit_depth
from orderflow_tui.venues.common import SymbolTable, amounts, checked, ms, num, trade_id

VENUE = "bybit"
CONTIGUOUS_IDS = False  # `i` is a UUID on linear; `seq` is monotonic but not contiguous
LIQUIDATIONS_SAMPLED = False  # allLiquidation pushes every liquidation


class Parser:
    venue = VENUE

    def __init__(self, instruments=None, options=None):
        self.symbols = SymbolTable(VENUE, instruments)

    def parse(self, frame):
        if bybit_depth.is_depth(frame):
            return bybit_depth.parse(self.symbols, frame)  # order books (issue 21)
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
        if topic.startswith("orderbook."):  # keys in an unusual order
            return bybit_depth.parse(self.symbols, frame)
        if topic.startswith("tickers."):
            return ticker_context(self.symbols, msg, data)
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
        return Trade(market, VENUE, symbol, ts, price, qty, quote, is_buy, trade_id(d.get("i"), kind=str))

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


# ---- market context (issue 14): ``tickers`` snapshot, then deltas that carry only what changed ---------

from orderflow_tui.events import Context  # noqa: E402
from orderflow_tui.venues import market_fields as mf  # noqa: E402

FUNDING_INTERVAL_H = 8.0  # tickers carry no interval (instruments-info ``fundingInterval``): UNCONFIRMED


def _one_side(d: dict, key: str):
    """``single<Key>``: open interest counted on one side, as every other venue counts it.
    ``openInterest`` counts both sides (in recordings exactly twice the single figure), so
    without the single field it is halved."""
    single = mf.oi(d, "single" + key[0].upper() + key[1:])
    if single is not None:
        return single
    both = mf.oi(d, key)
    return None if both is None else both / 2


def ticker_context(symbols, msg, d):
    """Linear: ``singleOpenInterest`` in the coin, ``singleOpenInterestValue`` in USDT; inverse:
    the other way round. A delta without any context field is IGNORED (a best bid or last price
    moved)."""
    if type(d) is not dict:
        raise FrameError("tickers data is not an object")
    symbol = d.get("symbol") or msg["topic"][len("tickers."):]
    market, contract = symbols.get(symbol)
    oi, value = _one_side(d, "openInterest"), _one_side(d, "openInterestValue")
    if contract is not None and contract.inverse:
        oi, value = value, oi
    funding = mf.funding(d, "fundingRate")
    next_ts = mf.opt_time(d, "nextFundingTime")
    mark = mf.mark(d, "markPrice")
    hours = d.get("fundingIntervalHour")
    interval = mf.interval_h(hours) if hours not in (None, "") else (
        FUNDING_INTERVAL_H if msg.get("type") == "snapshot" else None)
    if oi is None and value is None and funding is None and next_ts is None and mark is None:
        return IGNORED
    return [Context(market, VENUE, symbol, mf.time_ms(msg["ts"]), oi_base=oi, oi_usd=value, mark=mark,
                    funding=funding, interval_h=interval, next_ts=next_ts)]
