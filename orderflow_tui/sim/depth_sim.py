"""Simulated order books for the simulated venues (issue 21): one true book per venue around the
model's price, spoken in each venue's depth protocol (subscribe, snapshot, deltas with its sequence
rules, checksums, REST snapshots), with glitches to switch on: a delta not sent (a gap), a wrong
Bitget checksum, a re-sent Bybit snapshot, a Binance REST snapshot older than the stream.

The true book (``SimBook.top``) is what a client's book must equal once it has caught up.
"""

from __future__ import annotations

import heapq
import json
import random
import re

from orderflow_tui.books.sync import bitget_checksum

TICK = 0.1  # BTC's price tick on every simulated venue
LOT = 0.001  # size granularity, base coin
OKX_CT_VAL = 0.01
_CHECKSUM = re.compile(r'"checksum":(-?[0-9]+)')


def _compact(obj) -> str:
    return json.dumps(obj, separators=(",", ":"))


def _listed(coins) -> bool:
    """Every coin is one the simulated venues trade (market_model.DEMO_PRICES)."""
    from orderflow_tui.sim.market_model import DEMO_PRICES
    coins = list(coins)
    return bool(coins) and all(c in DEMO_PRICES for c in coins)


class SimBook:
    """Levels as integer ticks -> size in lots (exact arithmetic; prices and sizes formatted per venue)."""

    def __init__(self, seed: int, price: float, levels: int = 60):
        self.rnd = random.Random(seed)
        self.levels = levels
        self.bids: dict[int, int] = {}
        self.asks: dict[int, int] = {}
        mid = round(price / TICK)
        for i in range(1, levels + 1):
            self.bids[mid - i] = self._size()
            self.asks[mid + i] = self._size()

    def _size(self) -> int:
        r = self.rnd.random()
        return int(1 + 2000 * r ** 3) if r < 0.97 else self.rnd.randint(5000, 40000)  # now and then a wall

    def step(self, price: float) -> tuple[dict[int, int], dict[int, int]]:
        """Move the book to ``price``; the changed levels per side (0 = removed)."""
        rnd = self.rnd
        mid = round(price / TICK)
        cb: dict[int, int] = {}
        ca: dict[int, int] = {}
        for side, ch, sign in ((self.bids, cb, -1), (self.asks, ca, 1)):
            for t in [t for t in side if (t - mid) * sign <= 0 or abs(t - mid) > self.levels * 8]:
                del side[t]  # crossed by the price, or far behind it
                ch[t] = 0
            for _ in range(rnd.randint(1, 4)):
                t = mid + sign * rnd.randint(1, self.levels)
                size = 0 if (t in side and rnd.random() < 0.25) else self._size()
                if size:
                    side[t] = size
                elif t in side:
                    del side[t]
                else:
                    continue
                ch[t] = size
            while len(side) < self.levels // 2:  # refill after a run of the price
                t = mid + sign * rnd.randint(1, self.levels)
                if t not in side:
                    side[t] = ch[t] = self._size()
            if not any((t - mid) * sign <= 2 for t in side):  # keep the touch close to the price
                t = mid + sign
                side[t] = ch[t] = self._size()
        return cb, ca

    def top(self, n: int) -> tuple[list[tuple[float, float]], list[tuple[float, float]]]:
        """Best n levels a side as (price, size in the base coin), as a client's L2Book.top gives them."""
        return ([(round(t * TICK, 1), round(s * LOT, 3)) for t, s in ((t, self.bids[t]) for t in heapq.nlargest(n, self.bids))],
                [(round(t * TICK, 1), round(s * LOT, 3)) for t, s in ((t, self.asks[t]) for t in heapq.nsmallest(n, self.asks))])


class DepthSim:
    """The depth side of one simulated venue server. ``every``: model ticks (50 ms) per depth push."""

    venue = ""
    every = 2

    def __init__(self, server, seed: int, price: float):
        self.server = server
        self.book = SimBook(seed, price)
        self.clients: set = set()
        self.ticks = 0
        self.sent = 0  # depth messages pushed
        self.glitch_every: int | None = None  # every Nth push is lost for everyone (demo: gaps now and then)
        self.subscribed = 0
        self.rest_calls = 0  # REST book snapshots served

    # ---- formats (per venue) ----
    def px(self, t: int) -> str:
        return f"{t * TICK:.1f}"

    def sz(self, s: int) -> str:
        return f"{s * LOT:.3f}"

    def levels(self, side: dict) -> list:
        return [[self.px(t), self.sz(s)] for t, s in side.items()]

    def sorted_levels(self, side: dict, bids: bool, n: int | None = None) -> list:
        keys = sorted(side, reverse=bids)[:n] if n else sorted(side, reverse=bids)
        return [[self.px(t), self.sz(side[t])] for t in keys]

    # ---- hooks the server calls ----
    async def on_connect(self, client, path: str) -> bool:
        return False

    async def on_message(self, client, msg) -> bool:
        return False

    def rest(self, path: str, query: dict):
        return None

    async def tick(self, price: float) -> None:
        self.ticks += 1
        if self.ticks % self.every:
            return
        # the book moves only when a push goes out: a snapshot (in band or REST) is always exactly
        # the book as of the last push's sequence number, as a venue's is
        cb, ca = self.book.step(price)
        self.sent += 1
        frame = self.delta(cb, ca)  # advances the venue's sequence whether or not it is delivered
        glitch = bool(self.glitch_every) and self.sent % self.glitch_every == 0
        if glitch and not self.corrupt_on_glitch:
            return
        for client in list(self.clients):
            f = client.faults
            if f.depth_drop_every and self.sent % f.depth_drop_every == 0:
                continue
            await self.server.send(client, self.client_frame(client, frame, glitch))

    corrupt_on_glitch = False  # a glitch loses the push; Bitget's corrupts its checksum instead

    def client_frame(self, client, frame: str, glitch: bool) -> str:
        return frame

    def delta(self, cb: dict, ca: dict) -> str:
        raise NotImplementedError

    async def add(self, client, snapshot: str | None) -> None:
        self.subscribed += 1
        if snapshot is not None:
            await client.ws.send(snapshot)
        self.clients.add(client)


class BinanceDepth(DepthSim):
    """``/public/stream?streams=btcusdt@depth@100ms``; REST ``/fapi/v1/depth``: lastUpdateId."""

    venue = "binance"

    def __init__(self, server, seed, price):
        super().__init__(server, seed, price)
        self.u = 7_000_000_000
        self.old: dict | None = None  # an old snapshot kept to serve as a stale one (fault)

    def px(self, t):
        return f"{t * TICK:.2f}"  # "65000.10": trailing zeros, as Binance sends them

    async def on_connect(self, client, path):
        if path.startswith("/public/") and "@depth" in path:
            await self.add(client, None)
            return True
        return False

    def delta(self, cb, ca):
        pu = self.u
        first = self.u + 1
        self.u += self.book.rnd.randint(1, 30)  # a 100 ms event coalesces many updates
        if self.old is None or self.sent % 50 == 0:
            self.old = self.snapshot()
        return _compact({"stream": "btcusdt@depth@100ms", "data": {
            "e": "depthUpdate", "E": self.server.now_ms + 2, "T": self.server.now_ms, "s": "BTCUSDT", "U": first,
            "u": self.u, "pu": pu, "b": self.levels(cb), "a": self.levels(ca)}})

    def snapshot(self) -> dict:
        b = self.book
        return {"lastUpdateId": self.u, "E": self.server.now_ms + 2, "T": self.server.now_ms,
                "bids": self.sorted_levels(b.bids, True, 1000), "asks": self.sorted_levels(b.asks, False, 1000)}

    def rest(self, path, query):
        if path != "/fapi/v1/depth":
            return None
        if query.get("symbol") != "BTCUSDT":
            return 400, {"code": -1121, "msg": "Invalid symbol."}
        self.rest_calls += 1
        if self.rest_calls <= self.server.faults.depth_stale_rest and self.old is not None \
                and self.old["lastUpdateId"] < self.u:
            return 200, self.old  # served from a lagging cache: older than the stream
        return 200, self.snapshot()


class BybitDepth(DepthSim):
    """``orderbook.200.BTCUSDT``: snapshot on subscribe, then deltas with u + 1."""

    venue = "bybit"
    topic = "orderbook.200.BTCUSDT"

    def __init__(self, server, seed, price):
        super().__init__(server, seed, price)
        self.u = 500

    def frame(self, kind: str, b: list, a: list) -> str:
        return _compact({"topic": self.topic, "type": kind, "ts": self.server.now_ms + 3,
                         "data": {"s": "BTCUSDT", "b": b, "a": a, "u": self.u, "seq": self.u * 7},
                         "cts": self.server.now_ms})

    def snapshot_frame(self) -> str:
        return self.frame("snapshot", self.sorted_levels(self.book.bids, True, 200),
                          self.sorted_levels(self.book.asks, False, 200))

    async def on_message(self, client, msg):
        if not isinstance(msg, dict) or msg.get("op") not in ("subscribe", "unsubscribe"):
            return False
        args = msg.get("args") or []
        if not any(str(a).startswith("orderbook.") for a in args):
            return False
        if self.topic not in args and _listed(a.rsplit(".", 1)[-1].removesuffix("USDT") for a in args):
            # a listed coin without a simulated book (the demo has BTC's only): acknowledged, silent,
            # so its trades' connection does not read as refused; the ladder says "not live"
            await client.ws.send(_compact({"success": True, "ret_msg": "", "conn_id": "sim",
                                           "req_id": msg.get("req_id", ""), "op": msg["op"]}))
            return True
        if self.topic not in args:  # an unknown coin, refused as the venue does
            await client.ws.send(_compact({"success": False, "ret_msg": f"Invalid symbol :[{args[0]}]", "conn_id": "sim",
                                           "req_id": msg.get("req_id", ""), "op": msg["op"]}))
            return True
        ack = {"success": True, "ret_msg": "", "conn_id": "sim", "req_id": msg.get("req_id", ""), "op": msg["op"]}
        if msg["op"] == "unsubscribe":
            self.clients.discard(client)
            await client.ws.send(_compact(ack))
        else:
            await client.ws.send(_compact(ack))
            await self.add(client, self.snapshot_frame())
        return True

    def delta(self, cb, ca):
        self.u += 1
        f = self.server.faults
        if f.depth_resend_snapshot_every and self.sent % f.depth_resend_snapshot_every == 0:
            return self.snapshot_frame()  # a re-sent snapshot: the client must replace its book
        return self.frame("delta", self.levels(cb), self.levels(ca))


class OkxDepth(DepthSim):
    """``books``: snapshot (prevSeqId -1) on subscribe, then updates chained by seqId; checksum 0;
    REST ``/api/v5/market/books`` with seqId (the bootstrap when there is no in-band snapshot)."""

    venue = "okx"

    def __init__(self, server, seed, price):
        super().__init__(server, seed, price)
        self.seq = 1000

    def sz(self, s):
        return f"{s * LOT / OKX_CT_VAL:.1f}"  # contracts of 0.01 BTC

    def levels(self, side):
        return [[self.px(t), self.sz(s), "0", str(1 + s % 7) if s else "0"] for t, s in side.items()]

    def book_rows(self) -> dict:
        b = self.book
        return {"asks": [[self.px(t), self.sz(b.asks[t]), "0", "1"] for t in sorted(b.asks)[:400]],
                "bids": [[self.px(t), self.sz(b.bids[t]), "0", "1"] for t in sorted(b.bids, reverse=True)[:400]],
                "ts": str(self.server.now_ms), "checksum": 0, "seqId": self.seq}

    async def on_message(self, client, msg):
        if not isinstance(msg, dict) or msg.get("op") not in ("subscribe", "unsubscribe"):
            return False
        args = msg.get("args") or []
        if not args or args[0].get("channel") != "books":
            return False
        arg = args[0]
        if arg.get("instId") != "BTC-USDT-SWAP" and _listed([str(arg.get("instId")).split("-")[0]]):
            # a listed coin without a simulated book (BTC's only): acknowledged, silent (as Bybit's)
            await client.ws.send(_compact({"event": msg["op"], "arg": arg, "connId": "sim"}))
            return True
        if arg.get("instId") != "BTC-USDT-SWAP":
            await client.ws.send(_compact({"event": "error", "code": "60018", "connId": "s",
                                           "msg": f"Wrong URL or channel:books,instId:{arg.get('instId')} doesn't exist."}))
            return True
        await client.ws.send(_compact({"event": msg["op"], "arg": arg, "connId": "sim"}))
        if msg["op"] == "unsubscribe":
            self.clients.discard(client)
        elif client.faults.depth_no_snapshot:
            await self.add(client, None)  # the announced change: no initial snapshot, REST bootstrap
        else:
            snap = dict(self.book_rows(), prevSeqId=-1)
            await self.add(client, _compact({"arg": arg, "action": "snapshot", "data": [snap]}))
        return True

    def delta(self, cb, ca):
        prev = self.seq
        if cb or ca:
            self.seq += self.book.rnd.randint(1, 9)  # seqId steps are irregular: identity, not +1
        row = {"asks": self.levels(ca), "bids": self.levels(cb), "ts": str(self.server.now_ms), "checksum": 0,
               "prevSeqId": prev, "seqId": self.seq}
        return _compact({"arg": {"channel": "books", "instId": "BTC-USDT-SWAP"}, "action": "update", "data": [row]})

    def rest(self, path, query):
        if path != "/api/v5/market/books":
            return None
        if query.get("instId") != "BTC-USDT-SWAP":
            return 200, {"code": "51001", "msg": "Instrument ID does not exist", "data": []}
        self.rest_calls += 1
        row = self.book_rows()
        row.pop("checksum")
        return 200, {"code": "0", "msg": "", "data": [row]}


class BitgetDepth(DepthSim):
    """``books``: snapshot on subscribe, then updates with seq/pseq and the CRC32 of the top 25."""

    venue = "bitget"
    every = 3

    def __init__(self, server, seed, price):
        super().__init__(server, seed, price)
        self.seq = 90_000

    def px(self, t):
        return f"{t * TICK:.2f}"

    def sz(self, s):
        return f"{s * LOT:.4f}"  # "0.5000": the checksum is over these strings, not "0.5"

    def checksum(self) -> int:
        b = self.book
        return bitget_checksum({t: (self.px(t), self.sz(s)) for t, s in b.bids.items()},
                               {t: (self.px(t), self.sz(s)) for t, s in b.asks.items()})

    def frame(self, action: str, b: list, a: list, pseq: int, checksum: int) -> str:
        return _compact({"action": action, "arg": {"instType": "USDT-FUTURES", "channel": "books", "instId": "BTCUSDT"},
                         "data": [{"asks": a, "bids": b, "checksum": checksum, "seq": self.seq, "pseq": pseq,
                                   "ts": str(self.server.now_ms)}], "ts": self.server.now_ms + 1})

    async def on_message(self, client, msg):
        if not isinstance(msg, dict) or msg.get("op") not in ("subscribe", "unsubscribe"):
            return False
        args = msg.get("args") or []
        if not args or args[0].get("channel") != "books":
            return False
        arg = args[0]
        if arg.get("instId") != "BTCUSDT":  # the demo simulates the BTC book only
            await client.ws.send(_compact({"event": "error", "arg": arg, "code": 30001,
                                           "msg": f"instId:{arg.get('instId')} doesn't exist"}))
            return True
        await client.ws.send(_compact({"event": msg["op"], "arg": arg}))
        if msg["op"] == "unsubscribe":
            self.clients.discard(client)
        else:
            snap = self.frame("snapshot", self.sorted_levels(self.book.bids, True),
                              self.sorted_levels(self.book.asks, False), self.seq - 1, self.checksum())
            await self.add(client, snap)
        return True

    def delta(self, cb, ca):
        pseq = self.seq
        self.seq += 1
        return self.frame("update", self.levels(cb), self.levels(ca), pseq, self.checksum())

    corrupt_on_glitch = True

    def client_frame(self, client, frame, glitch):
        f = client.faults
        if glitch or (f.depth_bad_checksum_every and self.sent % f.depth_bad_checksum_every == 0):
            return _CHECKSUM.sub(lambda m: f'"checksum":{int(m.group(1)) ^ 1}', frame, 1)  # one bit off
        return frame


class CoinbaseDepth(DepthSim):
    """``level2_batch``: the whole book as ``snapshot`` on subscribe, then ``l2update`` changes."""

    venue = "coinbase"
    every = 1

    def px(self, t):
        return f"{t * TICK:.2f}"

    def sz(self, s):
        return f"{s * LOT:.8f}"

    async def on_message(self, client, msg):
        if not isinstance(msg, dict) or msg.get("type") not in ("subscribe", "unsubscribe"):
            return False
        channels = msg.get("channels") or []
        if "level2" in channels:
            await client.ws.send(_compact({"type": "error", "message": "Failed to subscribe",
                                           "reason": "level2, level3, and full channels now require authentication."}))
            return True
        if "level2_batch" not in channels:
            return False
        products = msg.get("product_ids") or []
        if products != ["BTC-USD"]:
            await client.ws.send(_compact({"type": "error", "message": "Failed to subscribe",
                                           "reason": f"{(products or ['?'])[0]} is not a valid product"}))
            return True
        if msg["type"] == "unsubscribe":
            self.clients.discard(client)
            return True
        await client.ws.send(_compact({"type": "subscriptions", "channels": [{"name": "level2_batch",
                                                                              "product_ids": products}]}))
        b = self.book
        await self.add(client, _compact({"type": "snapshot", "product_id": "BTC-USD",
                                         "bids": self.sorted_levels(b.bids, True), "asks": self.sorted_levels(b.asks, False)}))
        return True

    def delta(self, cb, ca):
        changes = [["buy", self.px(t), self.sz(s)] for t, s in cb.items()] + \
                  [["sell", self.px(t), self.sz(s)] for t, s in ca.items()]
        from orderflow_tui.sim.coinbase_venue import iso
        return _compact({"type": "l2update", "product_id": "BTC-USD", "changes": changes,
                         "time": iso(self.server.now_ms)})


class HyperliquidDepth(DepthSim):
    """``l2Book``: the whole top 20 a side on every push (every 0.5 s here, as ``fast`` pushes)."""

    venue = "hyperliquid"
    every = 10

    def sz(self, s):
        return f"{s * LOT:.5f}"

    async def on_message(self, client, msg):
        if not isinstance(msg, dict) or msg.get("method") != "subscribe":
            return False
        sub = msg.get("subscription") or {}
        if sub.get("type") != "l2Book":
            return False
        if sub.get("coin") != "BTC":  # the demo simulates the BTC book only (a refusal, not HL's 1006 cut)
            await client.ws.send(_compact({"channel": "error", "data": f"Invalid subscription {_compact(sub)}"}))
            return True
        await client.ws.send(_compact({"channel": "subscriptionResponse", "data": {"method": "subscribe", "subscription": {
            "type": "l2Book", "coin": "BTC", "nSigFigs": None, "mantissa": None, "fast": False}}}))
        await self.add(client, self.whole())
        return True

    def whole(self) -> str:
        b = self.book
        side = lambda d, desc: [{"px": self.px(t), "sz": self.sz(d[t]), "n": 1 + d[t] % 5}  # noqa: E731
                                for t in sorted(d, reverse=desc)[:20]]
        return _compact({"channel": "l2Book", "data": {"coin": "BTC", "time": self.server.now_ms,
                                                       "levels": [side(b.bids, True), side(b.asks, False)]}})

    def delta(self, cb, ca):
        return self.whole()


DEPTHS = {c.venue: c for c in (BinanceDepth, BybitDepth, OkxDepth, BitgetDepth, CoinbaseDepth, HyperliquidDepth)}
