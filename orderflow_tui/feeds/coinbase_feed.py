"""Coinbase Exchange (spot): ``matches`` and ``heartbeat`` per product, one subscribe request per product.

- Side: ``side`` is the MAKER side (documented for Exchange); the parser inverts it to the taker.
- History: the ``last_match`` replayed on subscribe happened before the session: skipped by the parser.
- Gaps: ``trade_id`` is contiguous per product on this feed, so once a product's first match has
  arrived the engine tracks its ids like Binance ``a`` (the replay report keeps 0 for Coinbase: a
  capture may come from Advanced Trade, whose ids are not checked). A gap is fetched over REST
  (``GET /products/<id>/trades``, newest first, paged with ``after`` = older than); after a
  reconnect, everything after the last id seen. ``heartbeat`` (1/s per product) keeps the channel
  open in a quiet market (it closes after 60-90 s without updates otherwise), and its
  ``last_trade_id`` ahead of the last id counted is a gap fetched at once: the last matches before
  a quiet spell or a drop would otherwise wait for the next match (0: no information).
- Spot: no liquidations, no open interest or funding; it joins the group as its own venue row.
"""

from __future__ import annotations

import json
from urllib.parse import quote, urlencode

from orderflow_tui.events import Trade
from orderflow_tui.feeds.venue_feed import Answer, Recovery, Stream, VenueFeed

PAGE = 1000  # trades per REST page (the endpoint's maximum)
MAX_PAGES = 10  # per gap or recovery: 10,000 trades at most


def _match(product: str, row: dict) -> str:
    """A REST trade as the websocket ``match`` it stands for (same fields the parser reads)."""
    return json.dumps({"type": "match", "trade_id": row["trade_id"], "product_id": product, "size": row["size"],
                       "price": row["price"], "side": row["side"], "time": row["time"]})


class CoinbaseFeed(VenueFeed):
    venue = "coinbase"
    rest_limit = (10, 1.0)  # public REST: 10 requests per second per IP

    def __init__(self, settings, symbols, rest=None):
        super().__init__(settings, symbols, rest)
        self.engine = None  # set by the session (feeds/context_feed.pollers): ids become contiguous

    def streams(self) -> list[Stream]:
        topics = {s: json.dumps({"type": "subscribe", "product_ids": [s], "channels": ["matches", "heartbeat"]})
                  for s in self.symbols}
        return [Stream("coinbase/exchange", self.settings.endpoints.coinbase_exchange_ws, [], None,
                       self.settings.feeds.ping_interval_s, ("trade",), topics)]

    def answer(self, frame: str) -> Answer | None:
        try:
            msg = json.loads(frame)
        except ValueError:
            return None
        if not isinstance(msg, dict):
            return None
        kind = msg.get("type")
        if kind == "subscriptions":
            return Answer(True, None)
        if kind == "error":  # {"type":"error","message":"Failed to subscribe","reason":"X is not a valid product"}
            reason = f"{msg.get('message', '')}: {msg.get('reason', '')}"
            return Answer(False, next((s for s in self.symbols if s in reason), None), reason[:120])
        return None

    def keep(self, events):
        """Turn on id tracking for a product once its first match is counted."""
        if self.engine is not None and events and type(events[0]) is Trade:
            m = self.engine.markets.get(events[0].market)
            if m is not None and not m.contiguous and m.trades:
                m.contiguous = True
                m.last_id = max(t for t in m.seen if isinstance(t, int)) if m.seen else -2
        return events

    def gaps_in(self, frame: str) -> list[str]:
        if self.engine is None or '"heartbeat"' not in frame:
            return []
        try:
            msg = json.loads(frame)
        except ValueError:
            return []
        last = msg.get("last_trade_id") if isinstance(msg, dict) and msg.get("type") == "heartbeat" else None
        if type(last) is not int or not 0 < last < 2**63:  # 0 (seen from some clients): no information
            return []
        m = self.engine.markets.get(f"coinbase:{msg.get('product_id')}")
        if m is None or m.symbol not in self.symbols:
            return []
        m.expect_id(last)
        return [m.market] if m.gaps else []

    async def _pages(self, product: str, lo: int, hi: int | None):
        """Trades with ids lo..hi (hi None: up to the newest), as match frames, oldest first per page."""
        after = None if hi is None else hi + 1
        for _ in range(MAX_PAGES):
            query = {"limit": PAGE} if after is None else {"limit": PAGE, "after": after}
            rows, _ = await self.rest.get_json(f"{self.settings.endpoints.coinbase_rest}/products/"
                                               f"{quote(product)}/trades?{urlencode(query)}")
            rows = [r for r in rows if isinstance(r, dict) and isinstance(r.get("trade_id"), int)]
            wanted = [r for r in rows if r["trade_id"] >= lo and (hi is None or r["trade_id"] <= hi)]
            if wanted:
                yield [_match(product, r) for r in reversed(wanted)]
            if not rows or min(r["trade_id"] for r in rows) <= lo:
                return
            after = min(r["trade_id"] for r in rows)

    async def backfill(self, engine, market_key: str):
        m = engine.markets.get(market_key)
        if m is None:
            return
        for lo, hi in sorted((lo, hi) for lo, hi in m.gaps):
            async for frames in self._pages(m.symbol, lo, hi):
                yield frames

    def recover(self, engine):
        """After a reconnect: every trade after the last id seen (taken now)."""
        starts = [(s, m.last_id + 1) for s in self.symbols
                  if (m := engine.markets.get(f"coinbase:{s}")) is not None and m.contiguous and m.last_id >= 0]
        return Recovery(lambda rec: self._recover_from(starts))

    async def _recover_from(self, starts):
        for product, start in starts:
            async for frames in self._pages(product, start, None):
                yield frames
