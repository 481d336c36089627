"""Simulated Bitget: v2 ``/v2/ws/public`` (``trade`` snapshot then updates, ``ticker``) and UTA v3
``/v3/ws/public`` (``liquidation``: every symbol, the largest per side per second) on one port, text
``ping``/``pong``, and ``GET /api/v2/mix/market/fills``.

Liquidations follow the default convention of the client settings (aggr's reading): ``side`` buy =
a long liquidated, ``amount`` in USDT. An ETH liquidation rides along: the client keeps BTC only.
"""

from __future__ import annotations

import itertools
import json

from orderflow_tui.sim.exchange_sim import SERVERS, SYMBOLS, VenueServer

SYMBOL = "BTCUSDT"


def _compact(obj) -> str:
    return json.dumps(obj, separators=(",", ":"))


class BitgetServer(VenueServer):
    venue = "bitget"

    def __init__(self, faults=None):
        super().__init__(faults)
        self._ids = itertools.count(1_111_111_111_000)
        self.v3: set = set()  # clients on the v3 (liquidation) path

    def next_id(self):
        return str(next(self._ids))

    def set_endpoints(self, e) -> None:
        e.bitget_ws = f"{self.ws}/v2/ws/public"
        e.bitget_liquidation_ws = f"{self.ws}/v3/ws/public"
        e.bitget_rest = self.http

    async def on_connect(self, client, path: str) -> None:
        if path.startswith("/v3/"):
            self.v3.add(client)

    async def on_message(self, client, message) -> None:
        if message == "ping":
            if not client.silent:
                await client.ws.send("pong")
            return
        msg = json.loads(message)
        if msg.get("op") != "subscribe":
            return
        for arg in msg.get("args", []):
            inst = arg.get("instId")
            v3 = client in self.v3
            ok = not client.faults.refuse_subscription and (
                arg.get("topic") == "liquidation" if v3 else inst == SYMBOL and arg.get("channel") in ("trade", "ticker"))
            if not ok:
                await client.ws.send(_compact({"event": "error", "arg": arg, "code": 30001,
                                               "msg": f"instId:{inst} doesn't exist" if inst else "topic not supported"}))
                continue
            await client.ws.send(_compact({"event": "subscribe", "arg": arg}))
            if arg.get("channel") == "trade" and self.history:  # history first: skipped by the client
                data = [self._row(tid, ev) for tid, ev in reversed(self.history[-5:])]
                await client.ws.send(_compact({"action": "snapshot", "arg": arg, "data": data, "ts": data[0]["ts"]}))
        self.clients.add(client)

    async def send(self, client, frame: str) -> None:
        """v2 clients get trades and tickers, v3 clients the liquidation topic."""
        if (client in self.v3) != frame.startswith('{"data"'):
            return
        await super().send(client, frame)

    @staticmethod
    def _row(tid, ev) -> dict:
        return {"ts": str(ev.ts), "price": f"{ev.price:.1f}", "size": f"{ev.qty:.4f}",
                "side": "buy" if ev.is_buy else "sell", "tradeId": tid}

    def trade_frame(self, tid, ev, count) -> str:
        return _compact({"action": "update", "arg": {"instType": "USDT-FUTURES", "channel": "trade", "instId": SYMBOL},
                         "data": [self._row(tid, ev)], "ts": ev.ts + 2})

    def liquidation_frame(self, ev) -> str:
        side = "buy" if ev.is_long else "sell"
        data = [{"symbol": "ETHUSDT", "side": side, "price": f"{ev.price / 20:.2f}", "amount": "1234.5", "ts": str(ev.ts)},
                {"symbol": SYMBOL, "side": side, "price": f"{ev.price:.1f}", "amount": f"{ev.price * ev.qty:.6f}",
                 "ts": str(ev.ts)}]
        return _compact({"data": data, "arg": {"instType": "usdt-futures", "topic": "liquidation"}, "action": "update",
                         "ts": ev.ts})

    def rest(self, path, query):
        if path == "/api/v2/mix/market/fills":
            if query.get("symbol") != SYMBOL:
                return 400, {"code": "40034", "msg": "Parameter does not exist", "data": None}
            limit = min(int(query.get("limit", 100)), 100)
            rows = [dict(self._row(tid, ev), symbol=SYMBOL) for tid, ev in reversed(self.history[-limit:])]
            return 200, {"code": "00000", "msg": "success", "data": rows}
        if path == "/api/v2/mix/market/fills-history":  # newest first, older than idLessThan, up to 1000
            if query.get("symbol") != SYMBOL:
                return 400, {"code": "40034", "msg": "Parameter does not exist", "data": None}
            limit = min(int(query.get("limit", 500)), 1000)
            below = int(query["idLessThan"]) if "idLessThan" in query else 1 << 62
            older = [(tid, ev) for tid, ev in self.history if int(tid) < below][-limit:]
            rows = [dict(self._row(tid, ev), symbol=SYMBOL) for tid, ev in reversed(older)]
            return 200, {"code": "00000", "msg": "success", "data": rows}
        return 404, {"code": "40404", "msg": "not found"}


SERVERS["bitget"] = BitgetServer
SYMBOLS["bitget"] = SYMBOL
