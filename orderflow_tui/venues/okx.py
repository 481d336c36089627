"""OKX v5: trades, trades-all, liquidation-orders.

Swap and futures sizes are contracts: base = sz * ctVal (linear) or sz * ctVal / px (inverse).
liquidation-orders ``side`` is the liquidation ORDER side (sell closes a long); ``posSide``
long/short, when present, names the position directly and wins.
"""

from __future__ import annotations

from orjson import loads

from orderflow_tui.events import CONTROL, IGNORED, FrameError, Liquidation, Trade
from orderflow_tui.venues import okx_depth
from orderflow_tui.venues.common import SymbolTable, amounts, checked, ms, num, trade_id

VENUE = "okx"
CONTIGUOUS_IDS = False  # tradeId - count == previous tradeId is inferred, not documented
LIQUIDATIONS_SAMPLED = True  # documented as "not the total of liquidations"


class Parser:
    venue = VENUE

    def __init__(self, instruments=None, options=None):
        self.symbols = SymbolTable(VENUE, instruments)

    def parse(self, frame):
        if frame == "pong" or frame == b"pong":
            return CONTROL
        if frame.startswith('{"arg":{"channel":"books'):  # the busiest frames: straight to the typed decoder
            return okx_depth.parse(self.symbols, frame)
        msg = loads(frame)
        if type(msg) is not dict:
            raise FrameError("not a JSON object")
        arg = msg.get("arg")
        if "event" in msg:
            return CONTROL  # subscribe, unsubscribe, error, notice
        if type(arg) is not dict:
            raise FrameError("no arg")
        channel = arg.get("channel")
        data = msg["data"]
        if type(data) is not list:
            raise FrameError("data is not a list")
        if channel == "trades" or channel == "trades-all":
            return [self._trade(d) for d in data]
        if channel == "liquidation-orders":
            return [liq for d in data for liq in self._liquidations(d)]
        if channel == "open-interest":
            return [open_interest_context(self.symbols, d) for d in data]
        if channel == "funding-rate":
            return [funding_context(self.symbols, d) for d in data]
        if channel in okx_depth.CHANNELS:
            return okx_depth.parse(self.symbols, frame)  # order books (issue 21)
        if type(channel) is str:
            return IGNORED  # tickers, candles...
        raise FrameError("no channel")

    def _trade(self, d):
        symbol = d["instId"]
        market, contract = self.symbols.get(symbol)
        price = num(d["px"])
        qty = num(d["sz"])
        ts = ms(d["ts"])
        checked(price, qty, ts)
        side = d["side"]
        if side != "buy" and side != "sell":
            raise FrameError(f"unknown side {side!r}")
        qty, quote = amounts(contract, qty, price)
        tid = trade_id(d["tradeId"], required=True, kind=str)
        # a trades message aggregates ``count`` fills (ids tradeId-count+1 .. tradeId); REST and
        # trades-all list single fills. The report counts fills (docs/decisions.md).
        count = d.get("count", "1")
        if type(count) is str and count.isdigit() and len(count) <= 6:
            fills = int(count)
        elif type(count) is int:  # documented as a string; a number means the same
            fills = count
        else:
            raise FrameError(f"bad count {count!r}")
        if fills < 1 or fills > 999_999:
            raise FrameError(f"bad count {count!r}")
        return Trade(market, VENUE, symbol, ts, price, qty, quote, side == "buy",
                     int(tid) if type(tid) is str and tid.isdigit() else tid, fills)

    def _liquidations(self, d):
        symbol = d["instId"]
        market, contract = self.symbols.get(symbol)
        details = d["details"]
        if type(details) is not list:
            raise FrameError("details is not a list")
        out = []
        for x in details:
            pos = x.get("posSide")
            if pos == "long" or pos == "short":
                is_long = pos == "long"
            elif x["side"] in ("buy", "sell"):
                is_long = x["side"] == "sell"  # a sell order closes a long
            else:
                raise FrameError(f"unknown liquidation side {x['side']!r}")
            price = num(x["bkPx"])
            qty = num(x["sz"])
            ts = ms(x["ts"])
            checked(price, qty, ts)
            qty, quote = amounts(contract, qty, price)
            out.append(Liquidation(market, VENUE, symbol, ts, price, qty, quote, is_long, LIQUIDATIONS_SAMPLED))
        return out


# ---- market context (issue 14): ``open-interest`` and ``funding-rate`` ---------------------------------

from orderflow_tui.events import Context  # noqa: E402
from orderflow_tui.venues import market_fields as mf  # noqa: E402


def open_interest_context(symbols, d):
    """``oi`` is in contracts; ``oiCcy`` in the coin and ``oiUsd`` in USD are used when sent."""
    symbol = d["instId"]
    market, contract = symbols.get(symbol)
    base = mf.oi(d, "oiCcy")
    if base is None:
        n = mf.oi(d, "oi")
        if n is None or (contract is not None and contract.inverse):
            raise FrameError("open-interest without oiCcy")  # inverse contracts need a price: none here
        base = n * contract.size if contract is not None else n
    return Context(market, VENUE, symbol, mf.time_ms(d["ts"]), oi_base=base, oi_usd=mf.oi(d, "oiUsd"))


def funding_context(symbols, d):
    """``fundingTime`` is the next settlement, ``nextFundingTime`` the one after: the interval is their
    difference."""
    symbol = d["instId"]
    market, _ = symbols.get(symbol)
    at, after = mf.opt_time(d, "fundingTime"), mf.opt_time(d, "nextFundingTime")
    interval = mf.interval_h((after - at) / 3_600_000) if at and after else None
    return Context(market, VENUE, symbol, mf.time_ms(d["ts"]), funding=mf.funding(d, "fundingRate"),
                   interval_h=interval, next_ts=at)
