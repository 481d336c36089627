"""Bybit v5 linear: op subscribe, {"op":"ping"} every 20 s, recent trades over REST after a reconnect."""

from __future__ import annotations

import json
from urllib.parse import urlencode

from orderflow_tui.feeds.rest import get_json
from orderflow_tui.feeds.venue_feed import Stream, VenueFeed


class BybitFeed(VenueFeed):
    venue = "bybit"

    def streams(self) -> list[Stream]:
        args = [f"publicTrade.{s}" for s in self.symbols] + [f"allLiquidation.{s}" for s in self.symbols]
        sub = json.dumps({"req_id": "orderflow-tui", "op": "subscribe", "args": args})
        return [Stream("bybit/linear", self.settings.endpoints.bybit_ws, [sub], json.dumps({"op": "ping"}),
                       min(20.0, self.settings.feeds.ping_interval_s), ("trade", "liquidation"))]

    def is_keepalive_answer(self, frame: str) -> bool:
        return '"pong"' in frame and '"op":"ping"' in frame.replace(" ", "")

    def refusal(self, frame: str) -> str | None:
        try:
            msg = json.loads(frame)
        except ValueError:
            return None
        if isinstance(msg, dict) and msg.get("op") == "subscribe" and msg.get("success") is False:
            return msg.get("ret_msg") or "subscription refused"
        return None

    async def recover(self, engine) -> list[str]:
        frames = []
        for symbol in self.symbols:
            query = urlencode({"category": "linear", "symbol": symbol, "limit": 1000})
            body, _ = await get_json(f"{self.settings.endpoints.bybit_rest}/v5/market/recent-trade?{query}")
            rows = body.get("result", {}).get("list", []) if isinstance(body, dict) else []
            data = [{"T": int(r["time"]), "s": r["symbol"], "S": r["side"], "v": r["size"], "p": r["price"],
                     "i": r["execId"], "BT": r.get("isBlockTrade", False)} for r in reversed(rows)]
            if data:
                frames.append(json.dumps({"topic": f"publicTrade.{symbol}", "type": "snapshot", "data": data}))
        return frames
