"""OKX v5: subscribe per instId (trades) and per instType (liquidations), text ping, contract sizes
from the instruments endpoint, recent trades over REST after a reconnect."""

from __future__ import annotations

import json
from urllib.parse import urlencode

from orderflow_tui.feeds.rest import get_json
from orderflow_tui.feeds.venue_feed import Stream, VenueFeed
from orderflow_tui.instruments import Contract


class OkxFeed(VenueFeed):
    venue = "okx"

    def streams(self) -> list[Stream]:
        args = [{"channel": "trades", "instId": s} for s in self.symbols]
        args.append({"channel": "liquidation-orders", "instType": "SWAP"})
        sub = json.dumps({"op": "subscribe", "args": args})
        # the socket drops after 30 s without data: ping sooner
        return [Stream("okx/public", self.settings.endpoints.okx_ws, [sub], "ping",
                       min(20.0, self.settings.feeds.ping_interval_s), ("trade", "liquidation"))]

    def is_keepalive_answer(self, frame: str) -> bool:
        return frame == "pong"

    def refusal(self, frame: str) -> str | None:
        try:
            msg = json.loads(frame)
        except ValueError:
            return None
        if isinstance(msg, dict) and msg.get("event") == "error":
            return f"{msg.get('code')}: {msg.get('msg')}"
        return None

    async def recover(self, engine) -> list[str]:
        frames = []
        for symbol in self.symbols:
            query = urlencode({"instId": symbol, "limit": 500})
            body, _ = await get_json(f"{self.settings.endpoints.okx_rest}/api/v5/market/trades?{query}")
            rows = body.get("data", []) if isinstance(body, dict) else []
            data = [{k: r[k] for k in ("instId", "tradeId", "px", "sz", "side", "ts")} for r in reversed(rows)]
            if data:
                frames.append(json.dumps({"arg": {"channel": "trades", "instId": symbol}, "data": data}))
        return frames

    async def instruments(self) -> dict:
        learned = {}
        for kind in ("SWAP", "FUTURES"):
            body, _ = await get_json(f"{self.settings.endpoints.okx_rest}/api/v5/public/instruments?instType={kind}")
            for r in body.get("data", []) if isinstance(body, dict) else []:
                try:
                    learned[f"okx:{r['instId']}"] = Contract(float(r["ctVal"]), r.get("ctType") == "inverse")
                except (KeyError, ValueError, TypeError):
                    continue
        return learned
