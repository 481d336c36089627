"""Simulated market context (issue 14): each simulated perpetual venue pushes open interest and funding
in its own protocol, and Binance answers ``GET /fapi/v1/openInterest``.

- Binance: ``markPriceUpdate`` every second (``@markPrice@1s``); open interest only over REST.
- Bybit: a ``tickers`` snapshot to each new subscriber, then deltas with only the fields that changed
  (open interest and mark every second, the funding rate every 5 s).
- OKX: ``open-interest`` every 3 s (``oi`` in contracts, ``oiCcy``, ``oiUsd``), ``funding-rate`` every
  10 s.

Open interest wanders a little each second and falls when the venue liquidates (a forced close ends a
position and its counterparty's), so a simulated cascade shows as a flush in the MARKET panel.
"""

from __future__ import annotations

import asyncio
import json
import random
import time

OKX_CT_VAL = 0.01
HOUR_MS = 3_600_000
START_OI = {"binance": 80_000.0, "bybit": 55_000.0, "okx": 25_000.0, "hyperliquid": 30_000.0,
            "bitget": 40_000.0}  # BTC
INTERVAL_H = {"binance": 8, "bybit": 8, "okx": 8, "hyperliquid": 1, "bitget": 8}


def _compact(obj) -> str:
    return json.dumps(obj, separators=(",", ":"))


def _bybit_oi(oi: float, mark: float) -> dict:
    """Bybit's ticker carries open interest twice: both sides (``openInterest``, twice the other)
    and one side (``singleOpenInterest``), each in the coin and in USDT."""
    return {"openInterest": f"{2 * oi:.3f}", "openInterestValue": f"{2 * oi * mark:.2f}",
            "singleOpenInterest": f"{oi:.3f}", "singleOpenInterestValue": f"{oi * mark:.2f}"}


class VenueContext:
    def __init__(self, venue: str, rnd: random.Random, scale: float = 1.0):
        self.venue = venue
        self.rnd = rnd
        self.oi = START_OI[venue] * scale * (0.9 + 0.2 * rnd.random())
        self.funding = 0.0001 / 8 * INTERVAL_H[venue]
        self.liquidations_seen = 0
        self.sent_snapshot: set = set()  # Bybit clients that had their snapshot
        self.ticks = 0
        self.sent: dict[str, float] = {}  # the last figures sent, as the client parses them (tests)

    def step(self, liquidated_base: float) -> None:
        self.oi = max(1.0, self.oi * (1 + self.rnd.gauss(0.00005, 0.0004)) - 2 * liquidated_base)
        self.funding = min(0.003, max(-0.003, self.funding + self.rnd.gauss(0, 0.000004)))


class ContextSim:
    """Drives the context of a DemoExchange's perpetual venues; ``attach`` starts it."""

    def __init__(self, exchange, seed: int = 7):
        self.exchange = exchange
        self.rnd = random.Random(seed * 31 + 1)
        self.venues = {v: VenueContext(v, self.rnd) for v in exchange.servers if v in START_OI}  # BTC
        # the other groups of a multi-group demo, on the venues that serve them: (venue, group) -> context
        self.others = {(v, g): VenueContext(v, random.Random(f"{seed}:{v}:{g}"), 20.0 / exchange.models[g].price)
                       for v, server in exchange.servers.items() if v in START_OI
                       for g in server.groups if g != "BTC"}
        self.task = None
        self.sent = 0  # context frames sent (over every client)
        self.every_s = 1.0
        for venue, server in exchange.servers.items():
            if venue == "binance":
                server.rest = self._binance_rest(server.rest)  # the instance's REST answers, plus openInterest

    def _binance_rest(self, inner):
        def rest(path, query):
            if path == "/fapi/v1/openInterest":
                symbol = query.get("symbol")
                group = self.exchange.servers["binance"].group_of(symbol or "")
                ctx = self.venues["binance"] if group == "BTC" else self.others.get(("binance", group))
                if ctx is None:
                    return 400, {"code": -1121, "msg": "Invalid symbol."}
                oi = ctx.sent["oi"] = round(ctx.oi, 3)
                return 200, {"openInterest": f"{oi:.3f}", "symbol": symbol, "time": int(time.time() * 1000)}
            return inner(path, query)
        return rest

    def start(self) -> "ContextSim":
        self.task = asyncio.ensure_future(self._run())
        return self

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            try:
                await self.task
            except asyncio.CancelledError:
                pass

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.every_s)
            await self.push(int(time.time() * 1000))

    def price(self) -> float:
        return self.exchange.model.price

    async def push(self, now_ms: int) -> None:
        for venue, ctx in self.venues.items():
            server = self.exchange.servers[venue]
            liqs = server.ledger.liquidations[ctx.liquidations_seen:]
            ctx.liquidations_seen = len(server.ledger.liquidations)
            ctx.step(sum(x.qty for x in liqs if x.group == "BTC"))
            ctx.ticks += 1
            others = [(g, c) for (v, g), c in self.others.items() if v == venue]
            for g, c in others:
                c.step(sum(x.qty for x in liqs if x.group == g))
                c.ticks += 1
            for client in list(server.clients):
                if client.silent:
                    continue
                frames = self.frames(venue, ctx, client, now_ms) if client.groups is None or "BTC" in client.groups \
                    else []
                for g, c in others:
                    if client.groups is None or g in client.groups:
                        frames += self.frames(venue, c, client, now_ms, g)
                for frame in frames:
                    if client in server.clients:
                        await server.send(client, frame)
                        self.sent += 1

    def frames(self, venue: str, ctx: VenueContext, client, now_ms: int, group: str = "BTC") -> list[str]:
        if group != "BTC":  # BTC's frames with the group's symbol, price and contract size
            from orderflow_tui.sim.exchange_sim import _ct_val, symbol_for

            mark = self.exchange.models[group].price
            out = self._frames(venue, ctx, client, now_ms, mark, _ct_val(group))
            sym = symbol_for(venue, group)
            return [f.replace("BTC-USDT-SWAP", sym).replace("BTCUSDT", sym).replace("btcusdt", sym.lower())
                    for f in out]
        return self._frames(venue, ctx, client, now_ms, self.price(), OKX_CT_VAL)

    def _frames(self, venue: str, ctx: VenueContext, client, now_ms: int, mark: float, ct_val: float) -> list[str]:
        funding = ctx.funding
        if venue in ("binance", "hyperliquid", "bitget") or venue == "okx" and ctx.ticks % 10 == 1 or venue == "bybit" and (
                client not in ctx.sent_snapshot or ctx.ticks % 5 == 0):
            ctx.sent["funding"] = float(format(funding, {"bybit": ".6f", "bitget": ".6f", "hyperliquid": ".10f"}.get(venue, ".8f")))
        if venue in ("bybit", "hyperliquid", "bitget") or venue == "okx" and ctx.ticks % 3 == 1:
            ctx.sent["oi"] = float(f"{ctx.oi:.3f}" if venue != "okx" else f"{ctx.oi:.4f}")
        next_ts = (now_ms // (INTERVAL_H[venue] * HOUR_MS) + 1) * INTERVAL_H[venue] * HOUR_MS
        if venue == "binance":
            return [_compact({"stream": "btcusdt@markPrice@1s", "data": {
                "e": "markPriceUpdate", "E": now_ms, "s": "BTCUSDT", "p": f"{mark:.2f}", "i": f"{mark * 0.9999:.2f}",
                "P": f"{mark:.2f}", "r": f"{ctx.funding:.8f}", "T": next_ts}})]
        if venue == "bybit":
            if client not in ctx.sent_snapshot:
                ctx.sent_snapshot.add(client)
                data = {"symbol": "BTCUSDT", "lastPrice": f"{mark:.1f}", "markPrice": f"{mark:.2f}",
                        **_bybit_oi(ctx.oi, mark), "fundingRate": f"{ctx.funding:.6f}", "nextFundingTime": str(next_ts),
                        "bid1Price": f"{mark - 0.1:.1f}", "ask1Price": f"{mark + 0.1:.1f}"}
                kind = "snapshot"
            else:  # only what changed: the funding rate every 5 s
                data = {"symbol": "BTCUSDT", "markPrice": f"{mark:.2f}", **_bybit_oi(ctx.oi, mark)}
                if ctx.ticks % 5 == 0:
                    data["fundingRate"] = f"{ctx.funding:.6f}"
                kind = "delta"
            return [_compact({"topic": "tickers.BTCUSDT", "type": kind, "data": data, "cs": ctx.ticks,
                              "ts": now_ms})]
        if venue == "bitget":
            return [_compact({"action": "snapshot", "arg": {"instType": "USDT-FUTURES", "channel": "ticker",
                                                            "instId": "BTCUSDT"},
                              "data": [{"instId": "BTCUSDT", "lastPr": f"{mark:.1f}", "fundingRate": f"{ctx.funding:.6f}",
                                        "nextFundingTime": str(next_ts), "markPrice": f"{mark:.1f}",
                                        "indexPrice": f"{mark:.1f}", "holdingAmount": f"{ctx.oi:.3f}",
                                        "ts": str(now_ms)}], "ts": now_ms})]
        if venue == "hyperliquid":  # strings, as on the wire; no time in the push
            return [_compact({"channel": "activeAssetCtx", "data": {"coin": "BTC", "ctx": {
                "funding": f"{ctx.funding:.10f}", "openInterest": f"{ctx.oi:.3f}", "prevDayPx": f"{mark:.1f}",
                "dayNtlVlm": "4490636699.3", "premium": None, "oraclePx": f"{mark:.1f}", "markPx": f"{mark:.1f}",
                "midPx": None, "impactPxs": None, "dayBaseVlm": "56265.7"}}})]
        if venue == "okx":
            out = []
            if ctx.ticks % 3 == 1:
                contracts = ctx.oi / ct_val
                out.append(_compact({"arg": {"channel": "open-interest", "instId": "BTC-USDT-SWAP"}, "data": [
                    {"instType": "SWAP", "instId": "BTC-USDT-SWAP", "oi": f"{contracts:.2f}",
                     "oiCcy": f"{ctx.oi:.4f}", "oiUsd": f"{ctx.oi * mark:.2f}", "ts": str(now_ms)}]}))
            if ctx.ticks % 10 == 1:
                out.append(_compact({"arg": {"channel": "funding-rate", "instId": "BTC-USDT-SWAP"}, "data": [
                    {"instType": "SWAP", "instId": "BTC-USDT-SWAP", "method": "current_period",
                     "fundingRate": f"{ctx.funding:.8f}", "fundingTime": str(next_ts),
                     "nextFundingTime": str(next_ts + INTERVAL_H[venue] * HOUR_MS), "ts": str(now_ms)}]}))
            return out
        return []


def attach(exchange, seed: int = 7) -> ContextSim:
    """Start the context pushes of a started DemoExchange (demo, tests)."""
    sim = ContextSim(exchange, seed).start()
    exchange.context = sim
    return sim
