"""Coinbase: Exchange ``match``/``last_match`` and Advanced Trade ``market_trades``.

Both feeds give the MAKER side in ``side``: the taker is the opposite (checked against the book in
the recordings). History replayed on subscribe (``last_match``, the ``snapshot`` event of the last
100 trades) happened before the session: skipped unless ``include_history``.
"""

from __future__ import annotations

from orjson import loads

from orderflow_tui.events import CONTROL, IGNORED, FrameError, Trade
from orderflow_tui.venues import coinbase_depth
from orderflow_tui.venues.common import SymbolTable, checked, iso_ms, num, text, trade_id

VENUE = "coinbase"
CONTIGUOUS_IDS = False
LIQUIDATIONS_SAMPLED = False  # spot venue: no liquidations

_CONTROL_TYPES = {"subscriptions", "heartbeat", "error", "status"}
_CONTROL_CHANNELS = {"subscriptions", "heartbeats"}


class Parser:
    venue = VENUE

    def __init__(self, instruments=None, options=None):
        options = options or {}
        self.symbols = SymbolTable(VENUE, instruments)
        self.side_is_maker = options.get("side_is_maker", True)
        self.include_history = options.get("include_history", False)

    def parse(self, frame):
        if coinbase_depth.is_depth(frame):
            return coinbase_depth.parse(self.symbols, frame)  # order books (issue 21)
        msg = loads(frame)
        if type(msg) is not dict:
            raise FrameError("not a JSON object")
        channel = msg.get("channel")
        if channel == "market_trades":
            events = msg["events"]
            if type(events) is not list:
                raise FrameError("events is not a list")
            out = []
            for ev in events:
                if ev.get("type") == "snapshot" and not self.include_history:
                    continue
                trades = ev["trades"]
                if type(trades) is not list:
                    raise FrameError("trades is not a list")
                # newest first on the wire: put them in time order
                out.extend(self._trade(t["product_id"], t["side"], t["size"], t["price"], t["time"],
                                       t["trade_id"], str) for t in reversed(trades))
            return out if out or self.include_history else IGNORED
        if channel is not None:
            if channel in _CONTROL_CHANNELS:
                return CONTROL
            return IGNORED  # level2, ticker, candles, status...
        kind = msg.get("type")
        if kind == "match" or (kind == "last_match" and self.include_history):
            return [self._trade(msg["product_id"], msg["side"], msg["size"], msg["price"], msg["time"],
                                msg["trade_id"], int)]
        if kind == "snapshot" or kind == "l2update":  # keys in an unusual order
            return coinbase_depth.parse(self.symbols, frame)
        if kind in _CONTROL_TYPES:
            return CONTROL
        if type(kind) is str:
            return IGNORED  # last_match, l2update, snapshot, ticker, received/open/done/change
        raise FrameError("unknown message")

    def _trade(self, product, side, size, price, stamp, tid, id_kind: type):
        """``id_kind``: Advanced Trade sends ``trade_id`` as a string, Exchange as a number."""
        market, contract = self.symbols.get(product)
        price = num(price)
        qty = num(size)
        ts = iso_ms(stamp)
        checked(price, qty, ts)
        side = text(side).lower()
        if side not in ("buy", "sell"):
            raise FrameError(f"unknown side {side!r}")
        is_buy = (side == "sell") if self.side_is_maker else (side == "buy")
        tid = trade_id(tid, kind=id_kind)
        if type(tid) is str and tid.isdigit():
            tid = int(tid)
        return Trade(market, VENUE, product, ts, price, qty, price * qty, is_buy, tid)
