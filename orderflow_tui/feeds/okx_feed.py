"""OKX v5: subscribe per instId (trades) and per instType (liquidations), text ping, contract sizes
from the instruments endpoint, recent trades over REST after a reconnect."""

from __future__ import annotations

import json
from urllib.parse import urlencode

from orderflow_tui.feeds.rest import get_json
from orderflow_tui.feeds.venue_feed import Stream, VenueFeed
from orderflow_tui.instruments import Contract

MAX_HISTORY_PAGES = 50  # 5,000 older trades at most per recovery


def _tid(row):
    t = row.get("tradeId")
    return int(t) if isinstance(t, str) and t.isdigit() else t


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
        """The last 500 trades, then older pages of history-trades (100 each) until they reach a
        trade already seen, so an outage longer than the recent window is still covered."""
        frames = []
        rest = self.settings.endpoints.okx_rest
        for symbol in self.symbols:
            body, _ = await get_json(f"{rest}/api/v5/market/trades?{urlencode({'instId': symbol, 'limit': 500})}")
            rows = body.get("data", []) if isinstance(body, dict) else []  # newest first
            m = engine.markets.get(f"okx:{symbol}")
            for _ in range(MAX_HISTORY_PAGES):
                if m is None or not rows or any(_tid(r) in m.seen for r in rows):
                    break
                query = urlencode({"instId": symbol, "type": 1, "after": rows[-1]["tradeId"], "limit": 100})
                body, _ = await get_json(f"{rest}/api/v5/market/history-trades?{query}")
                older = body.get("data", []) if isinstance(body, dict) else []
                if not older:
                    break
                rows += older
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
