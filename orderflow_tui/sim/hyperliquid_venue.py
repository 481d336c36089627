"""Simulated Hyperliquid: the websocket (``trades``, ``activeAssetCtx``, ``userFills``, ``{"method":"ping"}``)
and POST /info (``vaultDetails``, ``recentTrades``) on a second port: the websocket server answers GET only.

Liquidations arrive as the real ones would for a client watching HLP's children: a backstop fill on
the active liquidator child (it rotates), ``dir`` "Liquidated Cross Long|Short". Beside them the
children also send what must not count: ordinary fills, an ADL fill (``liquidation`` with the
vault as ``liquidatedUser``) and a market liquidation the vault made the book for.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import random

from orderflow_tui.sim.exchange_sim import SERVERS, SYMBOLS, VenueServer
from orderflow_tui.sim.market_model import SimLiquidation

COIN = "BTC"
HLP = "0xdfc24b077bc1425ad1dea75bcb6f8158e10df303"
CHILDREN = [f"0x{i:040x}" for i in (0x2E3D, 0xB0A5, 0x5E17, 0x2ED5, 0x0104, 0x31CA, 0x469F)]
LIQUIDATORS = CHILDREN[:4]


def _compact(obj) -> str:
    return json.dumps(obj, separators=(",", ":"))


class HyperliquidServer(VenueServer):
    venue = "hyperliquid"

    def __init__(self, faults=None):
        super().__init__(faults)
        self._tids = itertools.count(877_707_108_085_800, 7919)
        self.rnd = random.Random(77)
        self.users: dict = {}  # client -> users subscribed with userFills
        self.user_fills: dict[str, list] = {}  # user -> every fill sent, for userFillsByTime
        self.liquidations_sent = 0
        self.not_counted = 0  # ADL and market-liquidation fills sent beside the backstop ones
        self.http_server = None
        self.http_port = 0

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> "HyperliquidServer":
        await super().start(host, port)
        self.http_server = await asyncio.start_server(self._http, host, 0)
        self.http_port = self.http_server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        await super().stop()
        if self.http_server is not None:
            self.http_server.close()
            await self.http_server.wait_closed()

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    def set_endpoints(self, e) -> None:
        e.hyperliquid_ws = f"{self.ws}/ws"
        e.hyperliquid_rest = self.http

    def next_id(self):
        return next(self._tids)

    # ---- websocket -------------------------------------------------------------------------------

    async def on_message(self, client, message) -> None:
        msg = json.loads(message)
        if msg.get("method") == "ping":
            if not client.silent:
                await client.ws.send('{"channel":"pong"}')
            return
        if msg.get("method") != "subscribe":
            return
        sub = msg.get("subscription") or {}
        kind = sub.get("type")
        bad = client.faults.refuse_subscription or (kind in ("trades", "activeAssetCtx") and sub.get("coin") != COIN) \
            or (kind == "userFills" and sub.get("user") not in CHILDREN) or kind not in ("trades", "activeAssetCtx", "userFills")
        if bad:
            await client.ws.send(_compact({"channel": "error", "data": f"Invalid subscription {_compact(sub)}"}))
            return
        await client.ws.send(_compact({"channel": "subscriptionResponse", "data": {"method": "subscribe",
                                                                                   "subscription": sub}}))
        if kind == "userFills":
            self.users.setdefault(client, set()).add(sub["user"])
            # the snapshot: the vault's history, never counted again
            old = {"coin": COIN, "px": "60000.0", "sz": "0.5", "side": "B", "time": 1_700_000_000_000,
                   "startPosition": "0.0", "dir": "Liquidated Cross Long", "crossed": True, "fee": "0.0",
                   "tid": 1, "oid": 1, "hash": "0x" + "0" * 64, "closedPnl": "0.0", "feeToken": "USDC",
                   "liquidation": {"liquidatedUser": "0x" + "9" * 40, "markPx": "60100.0", "method": "backstop"}}
            await client.ws.send(_compact({"channel": "userFills", "data": {"isSnapshot": True, "user": sub["user"],
                                                                            "fills": [old]}}))
        self.clients.add(client)

    def trade_frame(self, tid, ev, count) -> str:
        d = {"coin": COIN, "side": "B" if ev.is_buy else "A", "px": f"{ev.price:.1f}", "sz": f"{ev.qty:.5f}",
             "time": ev.ts, "hash": "0x" + f"{tid:064x}"[-64:], "tid": tid,
             "users": ["0x" + "1" * 40, "0x" + "2" * 40]}
        return _compact({"channel": "trades", "data": [d]})

    def liquidation_frame(self, ev: SimLiquidation, coin: str = COIN) -> str:
        """A backstop liquidation on the active liquidator child, plus fills that must not count.
        The vaults trade every coin: ``coin`` other than BTC is one the client must leave out."""
        n = self.liquidations_sent
        self.liquidations_sent += 1
        liquidator = LIQUIDATORS[n // 3 % len(LIQUIDATORS)]  # the active liquidator rotates
        side = "Long" if ev.is_long else "Short"
        fills = [{"coin": coin, "px": f"{ev.price:.1f}", "sz": f"{ev.qty:.5f}", "side": "B" if ev.is_long else "A",
                  "time": ev.ts, "startPosition": "0.0", "dir": f"Liquidated Cross {side}", "crossed": True, "fee": "0.0",
                  "tid": self.next_id(), "oid": n + 10, "hash": "0x" + "a" * 64, "closedPnl": "0.0", "feeToken": "USDC",
                  "liquidation": {"liquidatedUser": "0x" + f"{n + 1:040x}", "markPx": f"{ev.price:.1f}",
                                  "method": "backstop"}}]
        if n % 2 == 0:  # the vault deleveraged: ADL carries `liquidation` too, and is not one
            fills.append(dict(fills[0], dir="Auto-Deleveraging", tid=self.next_id(), side="A" if ev.is_long else "B",
                              liquidation={"liquidatedUser": liquidator, "markPx": f"{ev.price:.1f}", "method": "market"}))
            self.not_counted += 1
        if n % 3 == 1:  # a market liquidation the vault made the book for: seen, not counted (backstop only)
            fills.append(dict(fills[0], dir="Open Short", crossed=False, tid=self.next_id(), side="A",
                              liquidation={"liquidatedUser": "0x" + "b" * 40, "markPx": f"{ev.price:.1f}",
                                           "method": "market"}))
            self.not_counted += 1
        self.user_fills.setdefault(liquidator, []).extend(fills)
        return _compact({"channel": "userFills", "data": {"user": liquidator, "fills": fills}})

    # ---- POST /info ------------------------------------------------------------------------------

    async def _http(self, reader, writer) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            method, path, _ = lines[0].split(" ", 2)
            length = next((int(x.split(":", 1)[1]) for x in lines[1:] if x.lower().startswith("content-length:")), 0)
            body = await reader.readexactly(length) if length else b""
            status, answer = self.info(path, method, body)
            self.rest_log.append((asyncio.get_running_loop().time(), path, status))
            data = json.dumps(answer).encode()
            writer.write(f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {len(data)}\r\n"
                         f"Connection: close\r\n\r\n".encode() + data)
            await writer.drain()
        except (asyncio.IncompleteReadError, ValueError, ConnectionError):
            pass
        finally:
            writer.close()

    def info(self, path: str, method: str, body: bytes):
        if path != "/info" or method != "POST":
            return 404, {"error": "not found"}
        try:
            req = json.loads(body)
        except ValueError:
            return 422, {"error": "Failed to deserialize the JSON body"}
        kind = req.get("type")
        if kind == "vaultDetails" and str(req.get("vaultAddress")).lower() == HLP:
            return 200, {"name": "Hyperliquidity Provider (HLP)", "vaultAddress": HLP, "leader": "0x" + "6" * 40,
                         "relationship": {"type": "parent", "data": {"childAddresses": CHILDREN}}}
        if kind == "userFillsByTime" and isinstance(req.get("startTime"), int):
            end = req.get("endTime") if isinstance(req.get("endTime"), int) else 1 << 62
            rows = [f for f in self.user_fills.get(str(req.get("user")).lower(), []) if req["startTime"] <= f["time"] <= end]
            return 200, rows[:2000]
        if kind == "recentTrades" and req.get("coin") == COIN:
            return 200, [json.loads(self.trade_frame(tid, ev, 1))["data"][0] for tid, ev in self.history[-500:]]
        return 422, {"error": f"unknown request {kind!r}"}


SERVERS["hyperliquid"] = HyperliquidServer
SYMBOLS["hyperliquid"] = COIN
