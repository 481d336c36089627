"""Simulated exchanges on 127.0.0.1 speaking the real Binance USD-M, Bybit v5 and OKX v5 protocols
(websocket and the REST calls the client makes, on the same port). Used by ``orderflow-tui demo``
and, with faults switched on, by the tests of the live path.

Every trade a server produces is kept in its ledger with its venue id, so a test can check that
what the client counted equals exactly what the servers sent, through drops and backfills.
"""

from __future__ import annotations

import asyncio
import http
import itertools
import json
import random
import time
import uuid
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.frames import Frame, Opcode
from websockets.http11 import Response

from orderflow_tui.feeds.venue_feed import symbol_for
from orderflow_tui.instruments import builtin_contract
from orderflow_tui.sim.market_model import DEMO_PRICES, SimLiquidation, SimTrade, group_model

SYMBOLS = {"binance": "BTCUSDT", "bybit": "BTCUSDT", "okx": "BTC-USDT-SWAP"}
FIRST_AGG_ID = 1_000_000
OKX_CT_VAL = 0.01


@dataclass
class Faults:
    """Misbehaviour to switch on (tests). Counts are in frames sent on the current connection."""

    drop_after: int | None = None  # cut the TCP connection without a close frame
    # trades at the moment of the cut, sent to nobody: an outage always costs trades to fetch over
    # REST, however fast the client reconnects (a test asserting a refill no longer depends on timing)
    burst_on_drop: int = 5
    silent_after: int | None = None  # stop sending anything (and stop answering pings)
    close_after: int | None = None  # close with close_code
    close_code: int = 1011
    garbage_every: int | None = None  # a frame that is not JSON
    oversized_after: int | None = None  # one frame larger than any sane limit
    refuse_subscription: bool = False
    skip_ids: set = field(default_factory=set)  # Binance aggTrade ids not sent over the socket
    slow_client_delay_s: float = 0.0
    once: bool = True  # faults hit only the first connection
    # REST: answer every call with rest_status (and Retry-After, when given) for rest_fail_for_s
    # from the first call, or for the first rest_fail_calls calls
    rest_status: int | None = None
    rest_fail_for_s: float = 0.0
    rest_fail_calls: int = 0
    retry_after: str | None = None
    used_weight: int | None = None  # X-MBX-USED-WEIGHT-1M on every answer (Binance)
    # order books (issue 21, sim/depth_sim.py)
    depth_drop_every: int | None = None  # every Nth depth push is not sent: a sequence gap
    depth_bad_checksum_every: int | None = None  # Bitget: every Nth update carries a wrong checksum
    depth_resend_snapshot_every: int | None = None  # Bybit: every Nth push is a re-sent snapshot
    depth_stale_rest: int = 0  # Binance: the first N REST snapshots are older than the stream
    depth_no_snapshot: bool = False  # OKX: no in-band snapshot (the REST bootstrap)


@dataclass
class Ledger:
    trades: dict = field(default_factory=dict)  # id -> (price, qty_base, is_buy, ts), one per venue fill
    messages: int = 0  # trade messages sent (an OKX message stands for several fills)
    liquidations: list = field(default_factory=list)
    frames_sent: int = 0
    keep: int = 0  # 0: every fill is kept; else only the newest `keep` (a demo left open for weeks)
    count: int = 0  # totals over every fill ever sent, kept or not
    buy: float = 0.0
    sell: float = 0.0

    def record(self, tid, price: float, qty: float, is_buy: bool, ts: int) -> None:
        old = self.trades.pop(tid, None)
        if old is not None:  # the same id twice counts once
            self.count -= 1
            if old[2]:
                self.buy -= old[1]
            else:
                self.sell -= old[1]
        self.trades[tid] = (price, qty, is_buy, ts)
        self.count += 1
        if is_buy:
            self.buy += qty
        else:
            self.sell += qty
        if self.keep and len(self.trades) > self.keep + self.keep // 4:  # trim in batches
            for old_id in list(itertools.islice(self.trades, len(self.trades) - self.keep)):
                del self.trades[old_id]

    def totals(self) -> tuple[int, float, float]:
        if not self.keep:  # summed in id order, as a test computing from the fills would
            buy = sum(q for _, q, b, _ in self.trades.values() if b)
            sell = sum(q for _, q, b, _ in self.trades.values() if not b)
            return len(self.trades), buy, sell
        return self.count, self.buy, self.sell


class _Counted(ServerConnection):
    """Counts the protocol pings a client sends (one keep-alive mechanism per connection)."""

    pings = 0

    def process_event(self, event) -> None:
        if isinstance(event, Frame) and event.opcode is Opcode.PING:
            self.pings += 1
        super().process_event(event)


def _px(ev) -> str:
    """A price as the venue prints it: BTC with one decimal, a small coin with more."""
    return f"{ev.price:.{_DECIMALS.get(ev.group, 1)}f}"


_DECIMALS: dict = {}  # group -> price decimals of the demo (set by DemoExchange)


def _qty(ev) -> str:
    return f"{ev.qty:.{_QTY_DECIMALS.get(ev.group, 3)}f}"


_QTY_DECIMALS: dict = {}


class VenueServer:
    venue = ""
    multi = False  # serves every group of the demo (binance, bybit, okx); else BTC only

    def __init__(self, faults: Faults | None = None):
        self.faults = faults or Faults()
        self.ledger = Ledger()
        self.clients: set = set()
        self.connections = 0
        self.history: list = []  # (id, SimTrade) in order, for REST
        self.server = None
        self.port = 0
        self.rest_log: list = []  # (monotonic time, path, status) of every REST call
        self.close_codes: list = []  # the close code of each client connection that ended
        self.pings = 0  # protocol pings received from clients
        self.groups: tuple = ("BTC",)  # the groups this demo trades (DemoExchange sets them)
        self.subscribes = 0  # subscribe requests received (one per connection and venue limit, tests)
        self.depth = None  # the venue's simulated books, one per listed coin (sim/depth_sim.VenueDepth)
        self.now_ms = int(time.time() * 1000)  # the market's clock, set on each model step

    def group_of(self, symbol: str) -> str | None:
        """The demo group of a venue symbol, or None when the demo does not trade it."""
        return next((g for g in self.groups if symbol_for(self.venue, g).lower() == symbol.lower()), None)

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> "VenueServer":
        self.server = await serve(self._handle, host, port, process_request=self._rest, ping_interval=20,
                                  max_size=2**20, create_connection=_Counted)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    # ---- websocket -------------------------------------------------------------------------

    async def _handle(self, ws) -> None:
        self.connections += 1
        client = _Client(ws, self.faults if (self.connections == 1 or not self.faults.once) else Faults())
        try:
            if self.depth is None or not await self.depth.on_connect(client, ws.request.path):
                await self.on_connect(client, ws.request.path)
            async for message in ws:
                if self.depth is not None and await self._depth_message(client, message):
                    continue
                await self.on_message(client, message)
        except ConnectionClosed:
            pass
        finally:
            self.clients.discard(client)
            if self.depth is not None:
                self.depth.drop(client)
            self.close_codes.append(ws.close_code)
            self.pings += ws.pings

    async def on_connect(self, client, path: str) -> None:
        pass

    async def _depth_message(self, client, message) -> bool:
        """A depth subscription, answered by the book (True), or something for the venue."""
        try:
            msg = json.loads(message)
        except ValueError:
            return False
        return await self.depth.on_message(client, msg)

    async def on_message(self, client, message) -> None:
        raise NotImplementedError

    async def send(self, client, frame: str) -> None:
        f = client.faults
        client.sent += 1
        if f.silent_after is not None and client.sent > f.silent_after:
            client.silent = True
            client.ws.pong = _never  # a dead peer answers nothing
            return
        if f.drop_after is not None and client.sent > f.drop_after:
            client.ws.transport.abort()
            self.clients.discard(client)
            if f.burst_on_drop and self.history and not client.silent:
                client.silent = True  # once per cut: the frames still queued for it go nowhere
                last = self.history[-1][1]
                await self.publish([SimTrade(self.venue, last.ts + i + 1, last.price, last.qty, i % 2 == 0, last.group)
                                    for i in range(f.burst_on_drop)])
            return
        if f.close_after is not None and client.sent > f.close_after:
            self.clients.discard(client)
            await client.ws.close(f.close_code, "simulated failure")
            return
        if f.oversized_after is not None and client.sent == f.oversized_after:
            await client.ws.send('{"stream":"x","data":"' + "x" * (5 * 2**20) + '"}')
        if f.garbage_every and client.sent % f.garbage_every == 0:
            await client.ws.send("{not json at all")
        if f.slow_client_delay_s:
            await asyncio.sleep(f.slow_client_delay_s)
        try:
            await client.ws.send(frame)
            self.ledger.frames_sent += 1
        except ConnectionClosed:
            self.clients.discard(client)

    async def publish(self, events) -> None:
        """Turn model events into this venue's frames and send them to subscribed clients."""
        frames = []
        for ev in events:
            if isinstance(ev, SimTrade):
                fills = self.fills(ev)
                self.ledger.messages += 1
                for tid, fill in fills:
                    self.ledger.record(tid, fill.price, fill.qty, fill.is_buy, fill.ts)
                    self.history.append((tid, fill))
                if len(self.history) > 5000:
                    del self.history[:1000]
                frames.append(("trade", fills[-1][0], self.trade_frame(fills[-1][0], ev, len(fills)), ev.group))
            elif isinstance(ev, SimLiquidation):
                self.ledger.liquidations.append(ev)
                frames.append(("liquidation", None, self.liquidation_frame(ev), ev.group))
        for client in list(self.clients):
            if client.silent:
                continue
            for kind, tid, frame, group in frames:
                if kind == "trade" and tid in client.faults.skip_ids:
                    continue
                if client.groups is not None and group not in client.groups:
                    continue  # a symbol this client did not subscribe to
                if client in self.clients:
                    await self.send(client, frame)

    # ---- REST --------------------------------------------------------------------------------

    def _rest(self, connection, request):
        if request.headers.get("Upgrade", "").lower() == "websocket":
            return None
        url = urlsplit(request.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        f, now = self.faults, time.monotonic()
        first = self.rest_log[0][0] if self.rest_log else now
        extra = []
        if f.rest_status and (now - first < f.rest_fail_for_s or len(self.rest_log) < f.rest_fail_calls):
            status, body = f.rest_status, {"code": -1003, "msg": "simulated: too many requests / banned / down"}
            if f.retry_after is not None:
                extra.append(("Retry-After", f.retry_after))
        else:
            try:
                found = self.depth.rest(url.path, query) if self.depth is not None else None
                status, body = found or self.rest(url.path, query)
            except (KeyError, ValueError) as exc:
                status, body = 400, {"error": str(exc)}
        self.rest_log.append((now, url.path, status))
        if f.used_weight is not None:
            extra.append(("X-MBX-USED-WEIGHT-1M", str(f.used_weight)))
        data = json.dumps(body).encode()
        headers = Headers([("Content-Type", "application/json"), ("Content-Length", str(len(data)))] + extra)
        return Response(status, http.HTTPStatus(status).phrase, headers, data)

    def rest(self, path: str, query: dict) -> tuple[int, object]:
        return 404, {"error": "not found"}

    def next_id(self):
        raise NotImplementedError

    def fills(self, ev: SimTrade) -> list:
        """[(id, SimTrade)] per venue fill of this taker order; one where the venue sends each fill."""
        return [(self.next_id(), ev)]

    def trade_frame(self, tid, ev: SimTrade, count: int) -> str:
        raise NotImplementedError

    def liquidation_frame(self, ev: SimLiquidation) -> str:
        raise NotImplementedError


class _Client:
    def __init__(self, ws, faults: Faults):
        self.ws = ws
        self.faults = faults
        self.sent = 0
        self.silent = False
        self.groups: set | None = None  # None: every frame (the BTC-only venues)


async def _never(*args, **kwargs):
    await asyncio.Event().wait()


class BinanceServer(VenueServer):
    venue = "binance"
    multi = True

    def __init__(self, faults=None):
        super().__init__(faults)
        self._ids: dict = {}  # group -> its aggTrade ids (per symbol, as Binance's)
        self._last: dict = {}  # group -> the last id given

    def next_id(self, group: str = "BTC"):
        ids = self._ids.get(group)
        if ids is None:  # BTC's ids start at FIRST_AGG_ID; each other group has its own range
            ids = self._ids[group] = itertools.count(FIRST_AGG_ID + 1_000_000_000 * self.groups.index(group))
        tid = self._last[group] = next(ids)
        return tid

    def fills(self, ev):
        return [(self.next_id(ev.group), ev)]

    async def on_connect(self, client, path: str) -> None:
        if "streams=" in path:  # /market/stream?streams=a/b: subscribed by the URL
            names = parse_qs(urlsplit(path).query).get("streams", [""])[0].split("/")
            client.groups = {g for n in names if (g := self.group_of(n.split("@")[0])) is not None}
            self.subscribes += 1
            if client.faults.refuse_subscription:
                await client.ws.send(json.dumps({"code": -1121, "msg": "Invalid symbol."}))
                await client.ws.close(1008, "invalid")
                return
            self.clients.add(client)

    async def on_message(self, client, message) -> None:
        msg = json.loads(message)
        if msg.get("method") == "SUBSCRIBE":
            if client.faults.refuse_subscription:
                await client.ws.send(json.dumps({"error": {"code": 2, "msg": "Invalid request"}, "id": msg.get("id")}))
                return
            await client.ws.send(json.dumps({"result": None, "id": msg.get("id")}))
            self.clients.add(client)

    def trade_frame(self, tid, ev, count) -> str:
        symbol = symbol_for("binance", ev.group)
        data = {"e": "aggTrade", "E": ev.ts + 3, "a": tid, "s": symbol, "p": _px(ev),
                "q": _qty(ev), "f": tid * 2, "l": tid * 2 + 1, "T": ev.ts, "m": not ev.is_buy}
        return json.dumps({"stream": f"{symbol.lower()}@aggTrade", "data": data}, separators=(",", ":"))

    def liquidation_frame(self, ev) -> str:
        symbol = symbol_for("binance", ev.group)
        o = {"s": symbol, "S": "SELL" if ev.is_long else "BUY", "o": "LIMIT", "f": "IOC", "q": _qty(ev),
             "p": _px(ev), "ap": _px(ev), "X": "FILLED", "l": _qty(ev), "z": _qty(ev), "T": ev.ts}
        return json.dumps({"stream": f"{symbol.lower()}@forceOrder", "data": {"e": "forceOrder", "E": ev.ts, "o": o}},
                          separators=(",", ":"))

    def rest(self, path, query):
        if path == "/fapi/v1/aggTrades":
            limit = min(int(query.get("limit", 500)), 1000)
            group = self.group_of(query.get("symbol", "BTCUSDT")) or "BTC"
            base = FIRST_AGG_ID + 1_000_000_000 * self.groups.index(group) if group in self.groups else FIRST_AGG_ID
            first = max(int(query["fromId"]), base)  # ids are consecutive: index by arithmetic
            rows = []
            last = self._last.get(group, base - 1)
            for tid in range(first, min(first + limit, last + 1)):
                if tid not in self.ledger.trades:
                    continue  # older than a bounded demo ledger keeps, like a venue's REST window
                p, q, b, ts = self.ledger.trades[tid]
                d = _DECIMALS.get(group, 1)
                rows.append({"a": tid, "p": f"{p:.{d}f}", "q": f"{q:.{_QTY_DECIMALS.get(group, 3)}f}", "f": tid * 2,
                             "l": tid * 2 + 1, "T": ts, "m": not b})
            return 200, rows
        return 404, {"code": -1, "msg": "not found"}


class BybitServer(VenueServer):
    venue = "bybit"
    multi = True

    def next_id(self):
        return str(uuid.uuid4())

    async def on_message(self, client, message) -> None:
        msg = json.loads(message)
        op = msg.get("op")
        if op == "ping":
            if not client.silent:
                await client.ws.send(json.dumps({"success": True, "ret_msg": "pong", "conn_id": "sim", "op": "ping"}))
        elif op == "subscribe":  # a request with an unknown symbol is refused whole, naming it
            self.subscribes += 1
            args = [str(a) for a in msg.get("args", [])]
            bad = [a for a in args if self.group_of(a.rsplit(".", 1)[-1]) is None]
            ok = not client.faults.refuse_subscription and not bad
            if ok:
                client.groups = (client.groups or set()) | {self.group_of(a.rsplit(".", 1)[-1]) for a in args}
            reason = f"Invalid symbol :[{bad[0]}]" if bad else "error:handler not found"
            await client.ws.send(json.dumps({"success": ok, "ret_msg": "" if ok else reason,
                                             "conn_id": "sim", "req_id": msg.get("req_id", ""), "op": "subscribe"}))
            if ok:
                self.clients.add(client)

    def trade_frame(self, tid, ev, count) -> str:
        symbol = symbol_for("bybit", ev.group)
        d = {"T": ev.ts, "s": symbol, "S": "Buy" if ev.is_buy else "Sell", "v": _qty(ev),
             "p": _px(ev), "L": "PlusTick", "i": tid, "BT": False, "RPI": False, "seq": int(time.time() * 1e3)}
        return json.dumps({"topic": f"publicTrade.{symbol}", "type": "snapshot", "ts": ev.ts + 2, "data": [d]},
                          separators=(",", ":"))

    def liquidation_frame(self, ev) -> str:
        symbol = symbol_for("bybit", ev.group)
        d = {"T": ev.ts, "s": symbol, "S": "Buy" if ev.is_long else "Sell", "v": _qty(ev), "p": _px(ev)}
        return json.dumps({"topic": f"allLiquidation.{symbol}", "type": "snapshot", "ts": ev.ts + 5, "data": [d]},
                          separators=(",", ":"))

    def rest(self, path, query):
        if path == "/v5/market/recent-trade":
            limit = min(int(query.get("limit", 500)), 1000)
            group = self.group_of(query.get("symbol", "BTCUSDT"))
            mine = [(tid, ev) for tid, ev in self.history if ev.group == group]
            rows = [{"execId": tid, "symbol": symbol_for("bybit", ev.group), "price": _px(ev), "size": _qty(ev),
                     "side": "Buy" if ev.is_buy else "Sell", "time": str(ev.ts), "isBlockTrade": False}
                    for tid, ev in reversed(mine[-limit:])]
            return 200, {"retCode": 0, "retMsg": "OK", "result": {"category": "linear", "list": rows}}
        return 404, {"retCode": 10001, "retMsg": "not found"}


def _ct_val(group: str) -> float:
    """OKX contract size of a group's USDT swap, as the client's built-in table knows it."""
    c = builtin_contract("okx", symbol_for("okx", group))
    return c.size if c is not None else 1.0


class OkxServer(VenueServer):
    venue = "okx"
    multi = True

    def __init__(self, faults=None):
        super().__init__(faults)
        self._ids = itertools.count(500_000_000)
        self.rnd = random.Random(500)

    def next_id(self):
        return str(next(self._ids))

    def fills(self, ev):
        """As OKX: one message per taker order and price, standing for ``count`` fills (makers)
        with consecutive ids; REST lists the fills one by one."""
        lot = _ct_val(ev.group) / 10  # 0.1 contract, the lot size (0.001 BTC)
        lots = max(1, round(ev.qty / lot))
        n = 1 if self.rnd.random() < 0.4 else min(lots, self.rnd.randint(2, 8))
        cuts = sorted(self.rnd.sample(range(1, lots), n - 1)) if n > 1 else []
        parts = [b - a for a, b in zip([0] + cuts, cuts + [lots])]
        return [(self.next_id(), SimTrade(ev.venue, ev.ts, ev.price, part * lot if lot >= 1 else part / round(1 / lot),
                                          ev.is_buy, ev.group)) for part in parts]

    async def on_message(self, client, message) -> None:
        if message == "ping":
            if not client.silent:
                await client.ws.send("pong")
            return
        msg = json.loads(message)
        if msg.get("op") == "subscribe":
            self.subscribes += 1
            client.groups = client.groups or set()
            for arg in msg.get("args", []):
                inst = arg.get("instId")
                if client.faults.refuse_subscription or inst is not None and self.group_of(inst) is None:
                    where = f",instId:{inst} doesn't exist" if inst else ""
                    await client.ws.send(json.dumps({"event": "error", "code": "60018", "connId": "s",
                                                     "msg": f"Wrong URL or channel:{arg.get('channel')}{where}. "
                                                            "Please use the correct URL, channel and parameters "
                                                            "referring to API document."}))
                    return
                await client.ws.send(json.dumps({"event": "subscribe", "arg": arg, "connId": "sim"}))
                if inst is not None:
                    client.groups.add(self.group_of(inst))
                elif arg.get("channel") == "liquidation-orders":  # the SWAP channel: every instrument
                    client.groups = None
            self.clients.add(client)

    def trade_frame(self, tid, ev, count) -> str:
        inst = symbol_for("okx", ev.group)
        lots = max(1, round(ev.qty / (_ct_val(ev.group) / 10)))  # as the fills: whole lots
        d = {"instId": inst, "tradeId": tid, "px": _px(ev), "sz": f"{lots / 10:.1f}",
             "side": "buy" if ev.is_buy else "sell", "ts": str(ev.ts), "count": str(count), "source": "0",
             "seqId": 1}
        return json.dumps({"arg": {"channel": "trades", "instId": inst}, "data": [d]}, separators=(",", ":"))

    def liquidation_frame(self, ev) -> str:
        """As OKX: the SWAP channel delivers every instrument's liquidations (here also PEPE, or ETH
        when the demo does not trade ETH)."""
        inst = symbol_for("okx", ev.group)
        detail = {"bkLoss": "0", "bkPx": _px(ev), "ccy": "", "posSide": "long" if ev.is_long else "short",
                  "side": "sell" if ev.is_long else "buy", "sz": _contracts(ev.qty, ev.group), "ts": str(ev.ts)}
        other = "ETH" if "ETH" not in self.groups else "PEPE"
        extra = dict(detail, bkPx=f"{ev.price / 20:.2f}" if other == "ETH" else "0.0000123", sz="3")
        return json.dumps({"arg": {"channel": "liquidation-orders", "instType": "SWAP"},
                           "data": [{"details": [extra], "instFamily": f"{other}-USDT", "instId": f"{other}-USDT-SWAP",
                                     "instType": "SWAP", "uly": f"{other}-USDT"},
                                    {"details": [detail], "instFamily": inst[:-5], "instId": inst,
                                     "instType": "SWAP", "uly": inst[:-5]}]}, separators=(",", ":"))

    def rest(self, path, query):
        if path == "/api/v5/public/instruments":
            return 200, {"code": "0", "msg": "", "data": [
                {"instId": symbol_for("okx", g), "ctVal": f"{_ct_val(g):g}", "ctType": "linear", "ctValCcy": g}
                for g in self.groups] + [
                {"instId": "BTC-USD-SWAP", "ctVal": "100", "ctType": "inverse", "ctValCcy": "USD"}]}
        group = self.group_of(query.get("instId", "BTC-USDT-SWAP"))
        if path == "/api/v5/market/trades":
            limit = min(int(query.get("limit", 100)), 500)
            mine = [(tid, ev) for tid, ev in self.history if ev.group == group][-limit:]
            return 200, {"code": "0", "msg": "", "data": [self._row(tid, ev) for tid, ev in reversed(mine)]}
        if path == "/api/v5/market/history-trades":  # older than `after`, newest first
            after = int(query["after"])
            limit = min(int(query.get("limit", 100)), 100)
            older = [(tid, ev) for tid, ev in self.history if int(tid) < after and ev.group == group][-limit:]
            return 200, {"code": "0", "msg": "", "data": [self._row(tid, ev) for tid, ev in reversed(older)]}
        return 404, {"code": "51000", "msg": "not found"}

    @staticmethod
    def _row(tid, ev) -> dict:
        return {"instId": symbol_for("okx", ev.group), "tradeId": tid, "px": _px(ev),
                "sz": _contracts(ev.qty, ev.group), "side": "buy" if ev.is_buy else "sell", "ts": str(ev.ts)}


def _contracts(qty: float, group: str = "BTC") -> str:
    return f"{qty / _ct_val(group):.1f}"


SERVERS = {"binance": BinanceServer, "bybit": BybitServer, "okx": OkxServer}


class DemoExchange:
    """The three venues driven by one seeded model."""

    def __init__(self, seed: int = 7, rate_per_s: float = 40.0, faults: dict | None = None,
                 venues=("binance", "bybit", "okx"), keep_trades: int = 0, groups=("BTC",),
                 depth_glitch_every: int | None = None):
        from orderflow_tui.sim.depth_sim import DEPTHS, VenueDepth

        self.groups = tuple(g for g in groups if g in DEMO_PRICES) or ("BTC",)  # the coins the demo lists
        self.models = {g: group_model(g, i, seed, venues, rate_per_s) for i, g in enumerate(self.groups)}
        self.model = self.models[self.groups[0]]
        for m in self.models.values():
            _DECIMALS[m.group], _QTY_DECIMALS[m.group] = m.decimals, m.qd
        self.servers = {v: SERVERS[v]((faults or {}).get(v)) for v in venues}
        for i, (venue, server) in enumerate(self.servers.items()):
            server.ledger.keep = keep_trades
            server.groups = self.groups if server.multi else ("BTC",)
            # each venue's true book of each coin it lists; depth_glitch_every: a lost push (a gap)
            # now and then, for the demo
            server.depth = VenueDepth(server, DEPTHS[venue], seed * 100 + i, self.models)
            server.depth.glitch_every = depth_glitch_every
        self.running = False
        self._task = None
        self.tick_s = 0.05

    async def start(self) -> "DemoExchange":
        for s in self.servers.values():
            await s.start()
        self.running = True
        self._task = asyncio.create_task(self._run())
        return self

    async def _run(self) -> None:
        # the market opens when every venue has a subscriber (or after 3 s): trades nobody could
        # have received would make "what the servers sent" meaningless
        opened = time.monotonic()
        while self.running and time.monotonic() - opened < 3.0 and not all(s.clients for s in self.servers.values()):
            await asyncio.sleep(0.02)
        last = time.time()
        while self.running:
            await asyncio.sleep(self.tick_s)
            now = time.time()
            # at most 0.25 s of market per step: a starved simulator slows down instead of producing
            # ever larger bursts that take ever longer to send (a runaway on a loaded machine)
            by_venue: dict = {}
            for model in self.models.values():
                for ev in model.step(int(now * 1000), min(now - last, 0.25)):
                    if ev.group == "BTC" or self.servers[ev.venue].multi:  # the BTC-only venues: BTC
                        by_venue.setdefault(ev.venue, []).append(ev)
            last = now
            for venue, evs in by_venue.items():
                await self.servers[venue].publish(evs)
            prices = {g: m.price for g, m in self.models.items()}
            for server in self.servers.values():
                server.now_ms = int(now * 1000)
                if server.depth is not None and server.depth.watched:
                    await server.depth.tick(prices)

    async def pause(self) -> None:
        """Stop producing (the servers stay up): lets a client catch up before totals are compared."""
        self.running = False
        if self._task is not None:
            try:  # a send to a client that stopped reading must not hold the pause (or stop) forever
                async with asyncio.timeout(5.0):
                    await self._task
            except TimeoutError:
                pass

    async def stop(self) -> None:
        await self.pause()
        for s in self.servers.values():
            await s.stop()

    def endpoints(self, settings) -> None:
        """Point a Settings' endpoints at these servers."""
        e = settings.endpoints
        if "binance" in self.servers:
            b = self.servers["binance"]
            e.binance_market_ws = f"{b.ws}/market/stream"
            e.binance_public_ws = f"{b.ws}/public/stream"
            e.binance_rest = b.http
        if "bybit" in self.servers:
            e.bybit_ws = f"{self.servers['bybit'].ws}/v5/public/linear"
            e.bybit_rest = self.servers["bybit"].http
        if "okx" in self.servers:
            e.okx_ws = f"{self.servers['okx'].ws}/ws/v5/public"
            e.okx_rest = self.servers["okx"].http
        for server in self.servers.values():  # the venues of issue 14 set their own
            if hasattr(server, "set_endpoints"):
                server.set_endpoints(e)


# the venues of issue 14, one module each; each registers itself in SERVERS and SYMBOLS
import orderflow_tui.sim.coinbase_venue  # noqa: E402,F401
import orderflow_tui.sim.hyperliquid_venue  # noqa: E402,F401
import orderflow_tui.sim.bitget_venue  # noqa: E402,F401
