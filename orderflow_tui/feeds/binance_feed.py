"""Binance USD-M: routed /market and /public paths, protocol pings, aggTrade id gaps fetched over REST."""

from __future__ import annotations

import json
from urllib.parse import urlencode

from orderflow_tui.feeds.venue_feed import Answer, Recovery, Stream, VenueFeed

MAX_GAP_FETCH = 10_000  # ids fetched per gap at most (10 REST pages)
AGG_TRADES_WEIGHT = 20  # GET /fapi/v1/aggTrades (limit 1000)


class BinanceFeed(VenueFeed):
    venue = "binance"
    rest_limit = (2400, 60.0)  # REQUEST_WEIGHT per minute per IP (exchangeInfo rateLimits)

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

    def answer(self, frame: str) -> Answer | None:
        """Streams are in the URL: an error frame refuses the whole connection."""
        try:
            msg = json.loads(frame)
        except ValueError:
            return None
        if isinstance(msg, dict) and ("code" in msg and "msg" in msg):
            return Answer(False, None, f"{msg['code']}: {msg['msg']}")
        if isinstance(msg, dict) and isinstance(msg.get("error"), dict):
            return Answer(False, None, f"{msg['error'].get('code')}: {msg['error'].get('msg')}")
        return None

    async def _pages(self, symbol: str, start: int, last: int | None, wanted=None):
        """aggTrades from id ``start`` (to ``last``), as websocket frames, one list per call;
        ``wanted(id)`` keeps only some of them (the missing ones)."""
        fetched = 0
        while (last is None or start <= last) and fetched < MAX_GAP_FETCH:
            limit = 1000 if last is None else min(1000, last - start + 1)
            query = urlencode({"symbol": symbol, "fromId": start, "limit": limit})
            rows, _ = await self.rest.get_json(f"{self.settings.endpoints.binance_rest}/fapi/v1/aggTrades?{query}",
                                               AGG_TRADES_WEIGHT)
            rows = [r for r in rows if last is None or r["a"] <= last]
            yield [json.dumps({"e": "aggTrade", "E": r["T"], "s": symbol, "a": r["a"], "p": r["p"], "q": r["q"],
                               "f": r["f"], "l": r["l"], "T": r["T"], "m": r["m"]})
                   for r in rows if wanted is None or wanted(r["a"])]
            if len(rows) < limit:
                return
            fetched += len(rows)
            start = rows[-1]["a"] + 1

    async def backfill(self, engine, market_key: str):
        """The open gaps, several per call when they lie within 1,000 ids (weight 20 per call)."""
        m = engine.markets.get(market_key)
        if m is None:
            return
        gaps = sorted((lo, hi) for lo, hi in m.gaps)
        i = 0
        while i < len(gaps):
            j = i
            while j + 1 < len(gaps) and gaps[j + 1][1] < gaps[i][0] + 1000:
                j += 1
            span = gaps[i:j + 1]
            async for frames in self._pages(m.symbol, span[0][0], span[-1][1],
                                            lambda a, span=span: any(lo <= a <= hi for lo, hi in span)):
                yield frames
            i = j + 1

    def recover(self, engine):
        """After a reconnect: everything after the last id seen, without waiting for the next trade
        to reveal the gap (the market may have gone quiet). The ids are taken now, before the new
        connection delivers anything."""
        starts = [(s, m.last_id + 1) for s in self.symbols
                  if (m := engine.markets.get(f"binance:{s}")) is not None and m.last_id >= 0]
        return Recovery(lambda rec: self._recover_from(starts))

    async def _recover_from(self, starts):
        for symbol, start in starts:
            async for frames in self._pages(symbol, start, None):
                yield frames


def _combined(base: str, streams: list[str]) -> str:
    return f"{base}?streams={'/'.join(streams)}"
