"""Bybit v5 linear: one subscribe request per symbol, {"op":"ping"} every 20 s, recent trades over
REST after a reconnect."""

from __future__ import annotations

import json
from urllib.parse import urlencode

from orderflow_tui.feeds.venue_feed import Answer, Recovery, Stream, VenueFeed


class BybitFeed(VenueFeed):
    venue = "bybit"
    rest_limit = (600, 5.0)  # HTTP requests per 5 s per IP

    def streams(self) -> list[Stream]:
        # req_id = the symbol: the answer (success false, "Invalid symbol") names what it refuses
        topics = {s: json.dumps({"req_id": s, "op": "subscribe", "args": [f"publicTrade.{s}", f"allLiquidation.{s}"]})
                  for s in self.symbols}
        return [Stream("bybit/linear", self.settings.endpoints.bybit_ws, [], json.dumps({"op": "ping"}),
                       min(20.0, self.settings.feeds.ping_interval_s), ("trade", "liquidation"), topics)]

    def answer(self, frame: str) -> Answer | None:
        try:
            msg = json.loads(frame)
        except ValueError:
            return None
        if not isinstance(msg, dict) or msg.get("op") != "subscribe":
            return None
        topic = msg.get("req_id") if msg.get("req_id") in self.symbols else \
            next((s for s in self.symbols if s in str(msg.get("ret_msg", ""))), None)
        return Answer(msg.get("success") is not False, topic, str(msg.get("ret_msg") or "subscription refused"))

    def recover(self, engine) -> Recovery:
        """The 1,000 recent trades (no cursor). It reached back when it holds a trade seen before
        the reconnect (the ids seen are taken now)."""
        before = {s: set(m.seen) for s in self.symbols if (m := engine.markets.get(f"bybit:{s}")) and m.seen}
        return Recovery(lambda rec: self._recent(rec, before))

    async def _recent(self, rec, before):
        for symbol in self.symbols:
            query = urlencode({"category": "linear", "symbol": symbol, "limit": 1000})
            body, _ = await self.rest.get_json(f"{self.settings.endpoints.bybit_rest}/v5/market/recent-trade?{query}")
            rows = body.get("result", {}).get("list", []) if isinstance(body, dict) else []
            data = [{"T": int(r["time"]), "s": r["symbol"], "S": r["side"], "v": r["size"], "p": r["price"],
                     "i": r["execId"], "BT": r.get("isBlockTrade", False)} for r in reversed(rows)]
            if symbol in before and not any(d["i"] in before[symbol] for d in data):
                rec.reached = False
            if data:
                yield [json.dumps({"topic": f"publicTrade.{symbol}", "type": "snapshot", "data": data})]
