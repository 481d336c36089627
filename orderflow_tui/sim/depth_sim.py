"""Simulated order books for the simulated venues (issue 21): one true book per venue and listed coin,
around that coin's own model price, spoken in each venue's depth protocol (subscribe, snapshot,
deltas with its sequence rules, checksums, REST snapshots), with glitches to switch on: a delta not
sent (a gap), a wrong Bitget checksum, a re-sent Bybit snapshot, a Binance REST snapshot older than
the stream.

A venue server holds a ``VenueDepth``: one ``DepthSim`` per symbol it lists, a subscription or a REST
call routed to its symbol's book, an unknown symbol refused as the venue refuses it. A book moves and
is pushed only while a client subscribes to it, on the model's timer: the demo's cost follows what
is watched, not what is listed.

The true book (``DepthSim.book.top``) is what a client's book must equal once it has caught up.
"""

from __future__ import annotations

import heapq
import json
import math
import random
import re

from orderflow_tui.books.sync import bitget_checksum
from orderflow_tui.feeds.venue_feed import symbol_for
from orderflow_tui.instruments import builtin_contract

TICK = 0.1  # BTC's price tick on every simulated venue (another coin's: its model's price decimals)
LOT = 0.001  # BTC's size granularity, base coin
SLOW_EVERY = 10  # model ticks (0.5 s) between pushes of a coin's book after the first coin's
_CHECKSUM = re.compile(r'"checksum":(-?[0-9]+)')


def _compact(obj) -> str:
    return json.dumps(obj, separators=(",", ":"))


class SimBook:
    """Levels as integer ticks -> size in lots (exact arithmetic; prices and sizes formatted per venue).
    ``decimals`` / ``qd``: the coin's price and size decimals (its tick and lot); ``scale``: lots per
    lot of BTC's book, so a smaller coin's book rests about the same notional as BTC's.

    Levels lie within ``span`` ticks of the price (0.3 % of it: about $200 on BTC, twenty rows of
    the footprint's $10), denser near the touch, at most ``levels`` a side (the farthest go), so the
    ladder and the heatmap show a book across the screen, not a band of $6."""

    def __init__(self, seed: int, price: float, levels: int = 120, decimals: int = 1, qd: int = 3,
                 scale: float = 1.0):
        self.rnd = random.Random(seed)
        self.levels = levels
        self.d, self.qd = decimals, qd
        self.tick = 10.0 ** -decimals
        self.lot = 10.0 ** -qd
        self.scale = scale
        self.span = max(4 * levels, round(0.003 * price / self.tick))  # room for the levels: no endless draw
        self.bids: dict[int, int] = {}
        self.asks: dict[int, int] = {}
        mid = round(price / self.tick)
        for side, sign in ((self.bids, -1), (self.asks, 1)):
            for i in range(1, 11):  # a full top of book
                side[mid + sign * i] = self._size()
            for _ in range(20 * levels):
                if len(side) >= levels:
                    break
                side[mid + sign * self._distance()] = self._size()

    def _distance(self) -> int:
        """Ticks from the price: most levels near the touch, a few far out."""
        return 1 + int((self.span - 1) * self.rnd.random() ** 2.5)

    def _size(self) -> int:
        r = self.rnd.random()
        n = int(1 + 2000 * r ** 3) if r < 0.995 else self.rnd.randint(5000, 40000)  # now and then a wall
        return n if self.scale == 1.0 else max(1, round(n * self.scale))

    def step(self, price: float) -> tuple[dict[int, int], dict[int, int]]:
        """Move the book to ``price``; the changed levels per side (0 = removed)."""
        rnd = self.rnd
        mid = round(price / self.tick)
        far = self.span * 3 // 2
        cb: dict[int, int] = {}
        ca: dict[int, int] = {}
        for side, ch, sign in ((self.bids, cb, -1), (self.asks, ca, 1)):
            for t in [t for t in side if (t - mid) * sign <= 0 or abs(t - mid) > far]:
                del side[t]  # crossed by the price, or far behind it
                ch[t] = 0
            for _ in range(rnd.randint(1, 4)):  # changes crowd the touch more than levels do: a deep
                t = mid + sign * (1 + int((self.span - 1) * rnd.random() ** 4))  # level stands longer
                if t not in side and len(side) >= self.levels // 2 and rnd.random() < 0.7:
                    continue  # mostly sizes change where orders rest; a new price now and then
                size = 0 if (t in side and rnd.random() < 0.25) else self._size()
                if size:
                    side[t] = size
                elif t in side:
                    del side[t]
                else:
                    continue
                ch[t] = size
            for _ in range(10 * self.levels):  # refill after a run of the price
                if len(side) >= self.levels // 2:
                    break
                t = mid + sign * self._distance()
                if t not in side:
                    side[t] = ch[t] = self._size()
            if not any((t - mid) * sign <= 2 for t in side):  # keep the touch close to the price
                t = mid + sign
                side[t] = ch[t] = self._size()
            near = max(10, self.span // 40)  # and a full top of book: after a run the side was bare for $50
            have = sum(1 for t in side if (t - mid) * sign <= near)
            for _ in range(4 * (8 - have)):
                if have >= 8:
                    break
                t = mid + sign * rnd.randint(1, near)
                if t not in side:
                    side[t] = ch[t] = self._size()
                    have += 1
            while len(side) > self.levels:  # bounded: the farthest level goes
                t = max(side) if sign > 0 else min(side)
                del side[t]
                ch[t] = 0
        return cb, ca

    def top(self, n: int) -> tuple[list[tuple[float, float]], list[tuple[float, float]]]:
        """Best n levels a side as (price, size in the base coin), as a client's L2Book.top gives them."""
        d, qd, tick, lot = self.d, self.qd, self.tick, self.lot
        return ([(round(t * tick, d), round(self.bids[t] * lot, qd)) for t in heapq.nlargest(n, self.bids)],
                [(round(t * tick, d), round(self.asks[t] * lot, qd)) for t in heapq.nsmallest(n, self.asks)])


class DepthSim:
    """The depth side of one simulated venue for one coin (BTC unless told). ``every``: model ticks
    (50 ms) per depth push. ``px_extra`` / ``sz_extra``: decimals a venue prints beyond the coin's tick
    and lot ("65000.10", Bitget's "0.5000": trailing zeros a parser must take)."""

    venue = ""
    every = 2
    px_extra = 0
    sz_extra = 0

    def __init__(self, server, seed: int, price: float, coin: str = "BTC", decimals: int = 1, qd: int = 3,
                 scale: float = 1.0):
        self.server = server
        self.coin = coin
        self.symbol = symbol_for(self.venue, coin)
        self.book = SimBook(seed, price, decimals=decimals, qd=qd, scale=scale)
        self.pd = decimals + self.px_extra
        self.sd = qd + self.sz_extra
        self.clients: set = set()
        self.ticks = 0
        self.sent = 0  # depth messages pushed
        self.glitch_every: int | None = None  # every Nth push is lost for everyone (demo: gaps now and then)
        self.subscribed = 0
        self.rest_calls = 0  # REST book snapshots served

    # ---- formats (per venue) ----
    def px(self, t: int) -> str:
        return f"{t * self.book.tick:.{self.pd}f}"

    def sz(self, s: int) -> str:
        return f"{s * self.book.lot:.{self.sd}f}"

    def levels(self, side: dict) -> list:
        return [[self.px(t), self.sz(s)] for t, s in side.items()]

    def sorted_levels(self, side: dict, bids: bool, n: int | None = None) -> list:
        keys = sorted(side, reverse=bids)[:n] if n else sorted(side, reverse=bids)
        return [[self.px(t), self.sz(side[t])] for t in keys]

    # ---- routing (class level: which symbols a message is about, before a book is chosen) ----
    @staticmethod
    def symbols_of(msg) -> list[str] | None:
        """The symbols a depth (un)subscribe names; None when the message is not one."""
        return None

    @staticmethod
    def streams_of(path: str) -> list[str] | None:
        """Binance: the symbols of the depth streams a connection's URL names; None: not a depth URL."""
        return None

    async def refuse(self, client, msg, symbol: str) -> None:
        """The venue's answer to a depth subscription of a symbol it does not list."""

    # ---- hooks ----
    async def on_message(self, client, msg) -> None:
        """A depth (un)subscribe of this book's symbol."""

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


class VenueDepth:
    """A venue server's books: one DepthSim per coin it lists (``server.groups``), each centred on
    that coin's model, stepped and pushed only while subscribed."""

    def __init__(self, server, cls, seed: int, models: dict):
        self.server = server
        self.sims: dict[str, DepthSim] = {}  # venue symbol -> its book
        for j, coin in enumerate(server.groups):
            m = models.get(coin)
            if m is None:  # a BTC-only venue in a demo without BTC: its book would follow nothing
                continue
            # the first coin's book keeps the one-book demo's seed; each other coin its own
            sim = cls(server, seed + 1000 * j, m.price, coin=coin, decimals=m.decimals, qd=m.qd,
                      scale=0.001 * m.size / m.lot)
            if j:  # the other coins push every 0.5 s, staggered: ten coins at BTC's 100 ms cost 1.7x
                sim.every, sim.ticks = max(sim.every, SLOW_EVERY), j  # the demo's CPU (headless, --watch)
            self.sims[sim.symbol.upper()] = sim
        # routes and refuses; with no book listed, a stranger that refuses every symbol
        self.primary = next(iter(self.sims.values()), None) or cls(server, seed, 65_000.0)

    @property
    def book(self) -> SimBook:
        """The first coin's true book (BTC's in a default demo)."""
        return self.primary.book

    def of(self, coin: str) -> DepthSim | None:
        return next((s for s in self.sims.values() if s.coin == coin), None)

    @property
    def rest_calls(self) -> int:
        return sum(s.rest_calls for s in self.sims.values())

    @property
    def glitch_every(self) -> int | None:
        return self.primary.glitch_every

    @glitch_every.setter
    def glitch_every(self, every: int | None) -> None:
        for s in self.sims.values():
            s.glitch_every = every

    def _sim(self, symbol) -> DepthSim | None:
        return self.sims.get(str(symbol).upper())

    async def on_connect(self, client, path: str) -> bool:
        symbols = self.primary.streams_of(path)
        if symbols is None:
            return False
        for symbol in symbols:  # an unlisted symbol's stream stays silent
            if (sim := self._sim(symbol)) is not None:
                await sim.add(client, None)
        return True

    async def on_message(self, client, msg) -> bool:
        symbols = self.primary.symbols_of(msg)
        if symbols is None:
            return False
        unknown = [s for s in symbols if self._sim(s) is None]
        if unknown or not symbols:  # refused whole, naming the first it does not list
            await self.primary.refuse(client, msg, unknown[0] if unknown else "?")
            return True
        for symbol in dict.fromkeys(symbols):
            await self._sim(symbol).on_message(client, msg)
        return True

    def rest(self, path: str, query: dict):
        symbol = query.get("symbol") or query.get("instId") or ""
        return (self._sim(symbol) or self.primary).rest(path, query)  # the primary refuses a stranger

    def drop(self, client) -> None:
        for s in self.sims.values():
            s.clients.discard(client)

    @property
    def watched(self) -> bool:
        return any(s.clients for s in self.sims.values())

    async def tick(self, prices: dict) -> None:
        """One model tick: each subscribed book follows its coin's price."""
        for s in self.sims.values():
            if s.clients:
                await s.tick(prices[s.coin])


class BinanceDepth(DepthSim):
    """``/public/stream?streams=btcusdt@depth@100ms``; REST ``/fapi/v1/depth``: lastUpdateId."""

    venue = "binance"
    px_extra = 1  # "65000.10": trailing zeros, as Binance sends them

    def __init__(self, server, seed, price, **coin):
        super().__init__(server, seed, price, **coin)
        self.u = 7_000_000_000
        self.old: dict | None = None  # an old snapshot kept to serve as a stale one (fault)

    @staticmethod
    def streams_of(path):
        if not (path.startswith("/public/") and "@depth" in path):
            return None
        names = path.partition("streams=")[2].split("&")[0].split("/")
        return [n.split("@")[0] for n in names if "@depth" in n]

    def delta(self, cb, ca):
        pu = self.u
        first = self.u + 1
        self.u += self.book.rnd.randint(1, 30)  # a 100 ms event coalesces many updates
        if self.old is None or self.sent % 50 == 0:
            self.old = self.snapshot()
        return _compact({"stream": f"{self.symbol.lower()}@depth@100ms", "data": {
            "e": "depthUpdate", "E": self.server.now_ms + 2, "T": self.server.now_ms, "s": self.symbol, "U": first,
            "u": self.u, "pu": pu, "b": self.levels(cb), "a": self.levels(ca)}})

    def snapshot(self) -> dict:
        b = self.book
        return {"lastUpdateId": self.u, "E": self.server.now_ms + 2, "T": self.server.now_ms,
                "bids": self.sorted_levels(b.bids, True, 1000), "asks": self.sorted_levels(b.asks, False, 1000)}

    def rest(self, path, query):
        if path != "/fapi/v1/depth":
            return None
        if query.get("symbol") != self.symbol:
            return 400, {"code": -1121, "msg": "Invalid symbol."}
        self.rest_calls += 1
        if self.rest_calls <= self.server.faults.depth_stale_rest and self.old is not None \
                and self.old["lastUpdateId"] < self.u:
            return 200, self.old  # served from a lagging cache: older than the stream
        return 200, self.snapshot()


class BybitDepth(DepthSim):
    """``orderbook.200.BTCUSDT``: snapshot on subscribe, then deltas with u + 1."""

    venue = "bybit"

    def __init__(self, server, seed, price, **coin):
        super().__init__(server, seed, price, **coin)
        self.u = 500
        self.topic = f"orderbook.200.{self.symbol}"

    def frame(self, kind: str, b: list, a: list) -> str:
        return _compact({"topic": self.topic, "type": kind, "ts": self.server.now_ms + 3,
                         "data": {"s": self.symbol, "b": b, "a": a, "u": self.u, "seq": self.u * 7},
                         "cts": self.server.now_ms})

    def snapshot_frame(self) -> str:
        return self.frame("snapshot", self.sorted_levels(self.book.bids, True, 200),
                          self.sorted_levels(self.book.asks, False, 200))

    @staticmethod
    def symbols_of(msg):
        if not isinstance(msg, dict) or msg.get("op") not in ("subscribe", "unsubscribe"):
            return None
        books = [str(a) for a in msg.get("args") or [] if str(a).startswith("orderbook.")]
        return [a.rsplit(".", 1)[-1] for a in books] or None

    def _answer(self, msg, ok: bool, reason: str = "") -> str:
        return _compact({"success": ok, "ret_msg": reason, "conn_id": "sim", "req_id": msg.get("req_id", ""),
                         "op": msg["op"]})

    async def refuse(self, client, msg, symbol):
        await client.ws.send(self._answer(msg, False, f"Invalid symbol :[orderbook.200.{symbol}]"))

    async def on_message(self, client, msg):
        await client.ws.send(self._answer(msg, True))
        if msg["op"] == "unsubscribe":
            self.clients.discard(client)
        else:
            await self.add(client, self.snapshot_frame())

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

    def __init__(self, server, seed, price, **coin):
        super().__init__(server, seed, price, **coin)
        self.seq = 1000
        c = builtin_contract("okx", self.symbol)  # sizes in contracts, as the trade frames' (0.01 BTC)
        self.ct = c.size if c is not None else 1.0
        self.cd = max(1, self.book.qd + round(math.log10(self.ct)))  # contract decimals: exact lots

    def sz(self, s):
        return f"{s * self.book.lot / self.ct:.{self.cd}f}"

    def levels(self, side):
        return [[self.px(t), self.sz(s), "0", str(1 + s % 7) if s else "0"] for t, s in side.items()]

    def book_rows(self) -> dict:
        b = self.book
        return {"asks": [[self.px(t), self.sz(b.asks[t]), "0", "1"] for t in sorted(b.asks)[:400]],
                "bids": [[self.px(t), self.sz(b.bids[t]), "0", "1"] for t in sorted(b.bids, reverse=True)[:400]],
                "ts": str(self.server.now_ms), "checksum": 0, "seqId": self.seq}

    @staticmethod
    def symbols_of(msg):
        if not isinstance(msg, dict) or msg.get("op") not in ("subscribe", "unsubscribe"):
            return None
        args = msg.get("args") or []
        if not args or not isinstance(args[0], dict) or args[0].get("channel") != "books":
            return None
        return [str(args[0].get("instId"))]

    async def refuse(self, client, msg, symbol):
        await client.ws.send(_compact({"event": "error", "code": "60018", "connId": "s",
                                       "msg": f"Wrong URL or channel:books,instId:{symbol} doesn't exist."}))

    async def on_message(self, client, msg):
        arg = msg["args"][0]
        await client.ws.send(_compact({"event": msg["op"], "arg": arg, "connId": "sim"}))
        if msg["op"] == "unsubscribe":
            self.clients.discard(client)
        elif client.faults.depth_no_snapshot:
            await self.add(client, None)  # the announced change: no initial snapshot, REST bootstrap
        else:
            snap = dict(self.book_rows(), prevSeqId=-1)
            await self.add(client, _compact({"arg": arg, "action": "snapshot", "data": [snap]}))

    def delta(self, cb, ca):
        prev = self.seq
        if cb or ca:
            self.seq += self.book.rnd.randint(1, 9)  # seqId steps are irregular: identity, not +1
        row = {"asks": self.levels(ca), "bids": self.levels(cb), "ts": str(self.server.now_ms), "checksum": 0,
               "prevSeqId": prev, "seqId": self.seq}
        return _compact({"arg": {"channel": "books", "instId": self.symbol}, "action": "update", "data": [row]})

    def rest(self, path, query):
        if path != "/api/v5/market/books":
            return None
        if query.get("instId") != self.symbol:
            return 200, {"code": "51001", "msg": "Instrument ID does not exist", "data": []}
        self.rest_calls += 1
        row = self.book_rows()
        row.pop("checksum")
        return 200, {"code": "0", "msg": "", "data": [row]}


class BitgetDepth(DepthSim):
    """``books``: snapshot on subscribe, then updates with seq/pseq and the CRC32 of the top 25."""

    venue = "bitget"
    every = 3
    px_extra = 1
    sz_extra = 1  # "0.5000": the checksum is over these strings, not "0.5"

    def __init__(self, server, seed, price, **coin):
        super().__init__(server, seed, price, **coin)
        self.seq = 90_000

    def checksum(self) -> int:
        b = self.book
        return bitget_checksum({t: (self.px(t), self.sz(s)) for t, s in b.bids.items()},
                               {t: (self.px(t), self.sz(s)) for t, s in b.asks.items()})

    def frame(self, action: str, b: list, a: list, pseq: int, checksum: int) -> str:
        return _compact({"action": action, "arg": {"instType": "USDT-FUTURES", "channel": "books", "instId": self.symbol},
                         "data": [{"asks": a, "bids": b, "checksum": checksum, "seq": self.seq, "pseq": pseq,
                                   "ts": str(self.server.now_ms)}], "ts": self.server.now_ms + 1})

    symbols_of = staticmethod(OkxDepth.symbols_of)  # the same request shape: op, args[0].channel "books", instId

    async def refuse(self, client, msg, symbol):
        await client.ws.send(_compact({"event": "error", "arg": msg["args"][0], "code": 30001,
                                       "msg": f"instId:{symbol} doesn't exist"}))

    async def on_message(self, client, msg):
        await client.ws.send(_compact({"event": msg["op"], "arg": msg["args"][0]}))
        if msg["op"] == "unsubscribe":
            self.clients.discard(client)
        else:
            snap = self.frame("snapshot", self.sorted_levels(self.book.bids, True),
                              self.sorted_levels(self.book.asks, False), self.seq - 1, self.checksum())
            await self.add(client, snap)

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
    px_extra = 1
    sz_extra = 5  # "0.50000000"

    @staticmethod
    def symbols_of(msg):
        if not isinstance(msg, dict) or msg.get("type") not in ("subscribe", "unsubscribe"):
            return None
        channels = msg.get("channels") or []
        if "level2" in channels:
            return []  # refused whatever the product (authentication)
        if "level2_batch" not in channels:
            return None
        return [str(p) for p in msg.get("product_ids") or []]

    async def refuse(self, client, msg, symbol):
        if "level2" in (msg.get("channels") or []):
            reason = "level2, level3, and full channels now require authentication."
        else:
            reason = f"{symbol} is not a valid product"
        await client.ws.send(_compact({"type": "error", "message": "Failed to subscribe", "reason": reason}))

    async def on_message(self, client, msg):
        if msg["type"] == "unsubscribe":
            self.clients.discard(client)
            return
        await client.ws.send(_compact({"type": "subscriptions", "channels": [{"name": "level2_batch",
                                                                              "product_ids": [self.symbol]}]}))
        b = self.book
        await self.add(client, _compact({"type": "snapshot", "product_id": self.symbol,
                                         "bids": self.sorted_levels(b.bids, True), "asks": self.sorted_levels(b.asks, False)}))

    def delta(self, cb, ca):
        changes = [["buy", self.px(t), self.sz(s)] for t, s in cb.items()] + \
                  [["sell", self.px(t), self.sz(s)] for t, s in ca.items()]
        from orderflow_tui.sim.coinbase_venue import iso
        return _compact({"type": "l2update", "product_id": self.symbol, "changes": changes,
                         "time": iso(self.server.now_ms)})


class HyperliquidDepth(DepthSim):
    """``l2Book``: the whole top 20 a side on every push (every 0.5 s here, as ``fast`` pushes)."""

    venue = "hyperliquid"
    every = 10
    sz_extra = 2

    @staticmethod
    def symbols_of(msg):
        if not isinstance(msg, dict) or msg.get("method") != "subscribe":
            return None
        sub = msg.get("subscription") or {}
        return [str(sub.get("coin"))] if sub.get("type") == "l2Book" else None

    async def refuse(self, client, msg, symbol):  # a refusal, not HL's 1006 cut
        await client.ws.send(_compact({"channel": "error", "data": f"Invalid subscription {_compact(msg['subscription'])}"}))

    async def on_message(self, client, msg):
        await client.ws.send(_compact({"channel": "subscriptionResponse", "data": {"method": "subscribe", "subscription": {
            "type": "l2Book", "coin": self.symbol, "nSigFigs": None, "mantissa": None, "fast": False}}}))
        await self.add(client, self.whole())

    def whole(self) -> str:
        b = self.book
        side = lambda d, desc: [{"px": self.px(t), "sz": self.sz(d[t]), "n": 1 + d[t] % 5}  # noqa: E731
                                for t in sorted(d, reverse=desc)[:20]]
        return _compact({"channel": "l2Book", "data": {"coin": self.symbol, "time": self.server.now_ms,
                                                       "levels": [side(b.bids, True), side(b.asks, False)]}})

    def delta(self, cb, ca):
        return self.whole()


DEPTHS = {c.venue: c for c in (BinanceDepth, BybitDepth, OkxDepth, BitgetDepth, CoinbaseDepth, HyperliquidDepth)}
