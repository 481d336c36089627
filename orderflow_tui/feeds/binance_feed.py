"""Binance USD-M: routed /market and /public paths, protocol pings, aggTrade id gaps fetched over REST."""

from __future__ import annotations

import json
from urllib.parse import urlencode

from orderflow_tui.feeds.rest import get_json
from orderflow_tui.feeds.venue_feed import Stream, VenueFeed

MAX_GAP_FETCH = 10_000  # ids fetched per gap at most (10 REST pages)


class BinanceFeed(VenueFeed):
    venue = "binance"

    def streams(self) -> list[Stream]:
        e, f = self.settings.endpoints, self.settings.feeds
        trades = [f"{s.lower()}@aggTrade" for s in self.symbols]
        liqs = [f"{s.lower()}@forceOrder" for s in self.symbols]
        # /market carries forceOrder (and aggTrade by default); the trade route is a setting because
        # clients disagree on it (exchange-feeds.md). An unrouted /ws gets nothing: never used.
        if e.binance_trades_route == "public":
            return [Stream("binance/public", _combined(e.binance_public_ws, trades), [], None, f.ping_interval_s),
                    Stream("binance/market", _combined(e.binance_market_ws, liqs), [], None, f.ping_interval_s,
                           ("liquidation",))]
        return [Stream("binance/market", _combined(e.binance_market_ws, trades + liqs), [], None, f.ping_interval_s,
                       ("trade", "liquidation"))]

    def refusal(self, frame: str) -> str | None:
        try:
            msg = json.loads(frame)
        except ValueError:
            return None
        if isinstance(msg, dict) and ("code" in msg and "msg" in msg):
            return f"{msg['code']}: {msg['msg']}"
        if isinstance(msg, dict) and isinstance(msg.get("error"), dict):
            return f"{msg['error'].get('code')}: {msg['error'].get('msg')}"
        return None

    async def backfill(self, engine, market_key: str) -> list[str]:
        m = engine.markets.get(market_key)
        if m is None or not m.gaps:
            return []
        frames = []
        for lo, hi in list(m.gaps):
            start = lo
            while start <= hi and start - lo < MAX_GAP_FETCH:
                query = urlencode({"symbol": m.symbol, "fromId": start, "limit": min(1000, hi - start + 1)})
                rows, _ = await get_json(f"{self.settings.endpoints.binance_rest}/fapi/v1/aggTrades?{query}")
                if not rows:
                    break
                for r in rows:
                    if r["a"] > hi:
                        break
                    frames.append(json.dumps({"e": "aggTrade", "E": r["T"], "s": m.symbol, "a": r["a"], "p": r["p"],
                                              "q": r["q"], "f": r["f"], "l": r["l"], "T": r["T"], "m": r["m"]}))
                start = rows[-1]["a"] + 1
        return frames


    async def recover(self, engine) -> list[str]:
        """After a reconnect: everything after the last id seen, without waiting for the next trade
        to reveal the gap (the market may have gone quiet)."""
        frames = []
        for symbol in self.symbols:
            m = engine.markets.get(f"binance:{symbol}")
            if m is None or m.last_id < 0:
                continue
            start = m.last_id + 1
            for _ in range(MAX_GAP_FETCH // 1000):
                query = urlencode({"symbol": symbol, "fromId": start, "limit": 1000})
                rows, _ = await get_json(f"{self.settings.endpoints.binance_rest}/fapi/v1/aggTrades?{query}")
                frames += [json.dumps({"e": "aggTrade", "E": r["T"], "s": symbol, "a": r["a"], "p": r["p"], "q": r["q"],
                                       "f": r["f"], "l": r["l"], "T": r["T"], "m": r["m"]}) for r in rows]
                if len(rows) < 1000:
                    break
                start = rows[-1]["a"] + 1
        return frames


def _combined(base: str, streams: list[str]) -> str:
    return f"{base}?streams={'/'.join(streams)}"
