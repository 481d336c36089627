"""OKX v5: one subscribe request per instId (trades) and per instType (liquidations), text ping,
contract sizes from the instruments endpoint, recent trades over REST after a reconnect."""

from __future__ import annotations

import json
from urllib.parse import urlencode

from orderflow_tui.events import Liquidation
from orderflow_tui.feeds.venue_feed import Answer, Recovery, Stream, VenueFeed
from orderflow_tui.instruments import Contract

MAX_HISTORY_PAGES = 50  # 5,000 older trades at most per recovery
LIQUIDATIONS = "liquidation-orders:SWAP"


def _tid(row):
    t = row.get("tradeId")
    return int(t) if isinstance(t, str) and t.isdigit() else t


def _sub(arg: dict) -> str:
    return json.dumps({"op": "subscribe", "args": [arg]})


class OkxFeed(VenueFeed):
    venue = "okx"
    rest_limit = (20, 2.0)  # requests per 2 s per IP: history-trades and instruments, the strictest used

    def __init__(self, settings, symbols, rest=None):
        super().__init__(settings, symbols, rest)
        self.watched = set(symbols)

    def streams(self) -> list[Stream]:
        topics = {s: _sub({"channel": "trades", "instId": s}) for s in self.symbols}
        topics[LIQUIDATIONS] = _sub({"channel": "liquidation-orders", "instType": "SWAP"})
        # the socket drops after 30 s without data: ping sooner
        return [Stream("okx/public", self.settings.endpoints.okx_ws, [], "ping",
                       min(20.0, self.settings.feeds.ping_interval_s), ("trade", "liquidation"), topics)]

    def answer(self, frame: str) -> Answer | None:
        if frame == "pong":
            return None
        try:
            msg = json.loads(frame)
        except ValueError:
            return None
        if not isinstance(msg, dict):
            return None
        event = msg.get("event")
        if event == "subscribe":
            arg = msg.get("arg") or {}
            return Answer(True, arg.get("instId") or f"{arg.get('channel')}:{arg.get('instType')}")
        if event == "error":  # e.g. 60018 "Wrong URL or channel:trades,instId:NOPE-USDT-SWAP doesn't exist"
            text = str(msg.get("msg", ""))
            topic = next((s for s in self.symbols if s in text), LIQUIDATIONS if "liquidation" in text else None)
            return Answer(False, topic, f"{msg.get('code')}: {text}"[:120])
        return None

    def keep(self, events):
        """liquidation-orders for SWAP delivers every instrument: keep the groups watched."""
        if events and type(events[0]) is Liquidation:
            return [e for e in events if e.symbol in self.watched]
        return events

    def recover(self, engine) -> Recovery:
        """The last 500 trades, then older pages of history-trades (100 each) until they reach the
        last id seen before the reconnect (taken now), so an outage longer than the recent window
        is still covered. Every row is one fill; a websocket message covered several (duplicates
        dropped by id range)."""
        marks = {}
        for s in self.symbols:
            m = engine.markets.get(f"okx:{s}")
            ids = [i for i in m.seen if type(i) is int] if m is not None else []
            if ids:
                marks[s] = max(ids)
        return Recovery(lambda rec: self._history(rec, marks))

    async def _history(self, rec, marks):
        rest = self.settings.endpoints.okx_rest
        for symbol in self.symbols:
            body, _ = await self.rest.get_json(f"{rest}/api/v5/market/trades?"
                                               f"{urlencode({'instId': symbol, 'limit': 500})}")
            rows = body.get("data", []) if isinstance(body, dict) else []  # newest first
            mark = marks.get(symbol)
            for page in range(MAX_HISTORY_PAGES + 1):
                reached = mark is None or any(type(t := _tid(r)) is int and t <= mark for r in rows)
                if rows:
                    yield [_frame(symbol, rows)]
                if reached or not rows or page == MAX_HISTORY_PAGES:
                    rec.reached = rec.reached and reached
                    break
                query = urlencode({"instId": symbol, "type": 1, "after": rows[-1]["tradeId"], "limit": 100})
                body, _ = await self.rest.get_json(f"{rest}/api/v5/market/history-trades?{query}")
                rows = body.get("data", []) if isinstance(body, dict) else []

    async def instruments(self) -> dict:
        learned = {}
        for kind in ("SWAP", "FUTURES"):
            body, _ = await self.rest.get_json(f"{self.settings.endpoints.okx_rest}/api/v5/public/instruments?"
                                               f"instType={kind}", wait=False)
            for r in body.get("data", []) if isinstance(body, dict) else []:
                try:
                    learned[f"okx:{r['instId']}"] = Contract(float(r["ctVal"]), r.get("ctType") == "inverse")
                except (KeyError, ValueError, TypeError):
                    continue
        return learned


def _frame(symbol: str, rows: list) -> str:
    """REST rows (newest first) as one websocket trades message, oldest first, one fill per entry."""
    data = [{k: r[k] for k in ("instId", "tradeId", "px", "sz", "side", "ts")} for r in reversed(rows)]
    return json.dumps({"arg": {"channel": "trades", "instId": symbol}, "data": data})
