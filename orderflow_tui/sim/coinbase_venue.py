"""Simulated Coinbase Exchange (spot BTC-USD): ``matches`` and ``heartbeat`` over the websocket,
``GET /products/<id>/trades`` over REST, as the real feed speaks them.

- ``side`` is the maker side (a taker buy prints as ``"side":"sell"``).
- On subscribe: a ``subscriptions`` answer, then the ``last_match`` before it (history).
- ``heartbeat`` once a second with ``sequence`` and ``last_trade_id``.
- Spot: the model's liquidations are not this venue's (they are dropped, never sent).
"""

from __future__ import annotations

import itertools
import json
import time
import uuid
from datetime import datetime, timezone

from orderflow_tui.sim.exchange_sim import SERVERS, SYMBOLS, VenueServer
from orderflow_tui.sim.market_model import SimLiquidation

PRODUCT = "BTC-USD"
FIRST_TRADE_ID = 5_000_000


def iso(ts_ms: int) -> str:
    return datetime.fromtimestamp(ts_ms / 1000, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f") + "Z"


class CoinbaseServer(VenueServer):
    venue = "coinbase"

    def __init__(self, faults=None):
        super().__init__(faults)
        self._ids = itertools.count(FIRST_TRADE_ID)
        self.sequence = itertools.count(80_000_000_000)
        self.last_heartbeat = 0.0
        self.heartbeats = 0

    def next_id(self):
        return next(self._ids)

    async def on_message(self, client, message) -> None:
        msg = json.loads(message)
        if msg.get("type") != "subscribe":
            return
        products = msg.get("product_ids") or []
        bad = [p for p in products if p != PRODUCT]
        if client.faults.refuse_subscription or bad:
            await client.ws.send(json.dumps({"type": "error", "message": "Failed to subscribe",
                                             "reason": f"{(bad or products or ['?'])[0]} is not a valid product"}))
            return
        await client.ws.send(json.dumps({"type": "subscriptions", "channels": [
            {"name": c, "product_ids": products} for c in msg.get("channels", [])]}))
        if self.history:  # the feed replays the last match before the subscription
            tid, ev = self.history[-1]
            await client.ws.send(self._match(tid, ev, "last_match"))
        self.clients.add(client)

    async def publish(self, events) -> None:
        await super().publish([e for e in events if not isinstance(e, SimLiquidation)])
        now = time.monotonic()
        if now - self.last_heartbeat >= 1.0:
            self.last_heartbeat = now
            await self.send_heartbeat()

    async def send_heartbeat(self) -> None:
        last = self.history[-1][0] if self.history else FIRST_TRADE_ID - 1
        frame = json.dumps({"type": "heartbeat", "sequence": next(self.sequence), "last_trade_id": last,
                            "product_id": PRODUCT, "time": iso(int(time.time() * 1000))})
        for client in list(self.clients):
            if not client.silent and client in self.clients:
                await self.send(client, frame)
                self.heartbeats += 1

    def trade_frame(self, tid, ev, count) -> str:
        return self._match(tid, ev, "match")

    def _match(self, tid, ev, kind: str) -> str:
        return json.dumps({"type": kind, "trade_id": tid, "sequence": next(self.sequence),
                           "maker_order_id": str(uuid.UUID(int=tid * 2)), "taker_order_id": str(uuid.UUID(int=tid * 2 + 1)),
                           "time": iso(ev.ts), "product_id": PRODUCT, "size": f"{ev.qty:.8f}", "price": f"{ev.price:.2f}",
                           "side": "sell" if ev.is_buy else "buy"}, separators=(",", ":"))

    def rest(self, path, query):
        if path == f"/products/{PRODUCT}/trades":  # newest first; ``after``: older than that id
            limit = min(int(query.get("limit", 100)), 1000)
            after = int(query["after"]) if "after" in query else None
            rows = [(tid, ev) for tid, ev in self.history if after is None or tid < after][-limit:]
            return 200, [{"time": iso(ev.ts), "trade_id": tid, "price": f"{ev.price:.2f}", "size": f"{ev.qty:.8f}",
                          "side": "sell" if ev.is_buy else "buy"} for tid, ev in reversed(rows)]
        return 404, {"message": "NotFound"}

    def set_endpoints(self, e) -> None:
        e.coinbase_exchange_ws = self.ws
        e.coinbase_rest = self.http


SERVERS["coinbase"] = CoinbaseServer
SYMBOLS["coinbase"] = PRODUCT
