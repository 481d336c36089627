"""Hyperliquid: ``trades`` and ``activeAssetCtx`` per coin, and the liquidator vaults' ``userFills``.

- Keep-alive: ``{"method":"ping"}`` (the server closes a connection silent for 60 s).
- After a reconnect: ``recentTrades`` per coin over REST (POST /info), duplicates dropped by
  (time, tid) in the engine; and each vault's fills since the last backstop liquidation counted
  (``userFillsByTime``; the session's first trade when none was), since the websocket's snapshot
  after a resubscribe is skipped as history.
- Liquidations: the public tape has no marker. The fills of HLP's child vaults carry
  ``liquidation`` on backstop liquidations; the children are read at start from HLP's
  ``vaultDetails`` (``childAddresses``: the active liquidator rotates, so no address is
  hard-coded; HLP's own address is the setting ``venues.hyperliquid_hlp_vault``) and subscribed with
  ``userFills`` (at most 10 users per IP). Backstop only: market liquidations go to the book and
  are not seen here (docs/decisions.md).
"""

from __future__ import annotations

import asyncio
import json
import time
import urllib.error
import urllib.request

from orderflow_tui.events import Liquidation
from orderflow_tui.feeds.rest import RestError
from orderflow_tui.feeds.venue_feed import Answer, Recovery, Stream, VenueFeed

MAX_USERS = 10  # "10 unique users across user-specific websocket subscriptions" per IP
_CHILDREN: dict[tuple[str, str], list[str]] = {}  # (info URL, HLP address) -> child vaults, read once


def _sub(subscription: dict) -> str:
    return json.dumps({"method": "subscribe", "subscription": subscription}, separators=(",", ":"))


def _post(url: str, body: dict, timeout: float) -> object:
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json", "User-Agent": "orderflow-tui"})
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        return json.loads(resp.read())


class HyperliquidFeed(VenueFeed):
    venue = "hyperliquid"
    rest_limit = (1200, 60.0)  # weight per minute per IP
    last_liquidation_ts = 0  # the newest backstop liquidation counted (after a reconnect: fetch from there)

    @property
    def info_url(self) -> str:
        return f"{self.settings.endpoints.hyperliquid_rest}/info"

    @property
    def hlp(self) -> str:
        return self.settings.venues.hyperliquid_hlp_vault.lower()

    async def info(self, body: dict):
        """POST /info through the venue's budget; a failure is a RestError like any REST call."""
        wait = self.rest.blocked_for()  # the venue's backoff applies to POSTs too
        if wait:
            await asyncio.sleep(wait)
        try:
            return await asyncio.to_thread(_post, self.info_url, body, 10.0)
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise RestError(f"{self.info_url}: {exc}"[:120]) from None

    async def instruments(self) -> dict:
        """Not contract sizes (Hyperliquid sizes are in the coin): the liquidator vaults, once."""
        key = (self.info_url, self.hlp)
        if key not in _CHILDREN:
            body = await self.info({"type": "vaultDetails", "vaultAddress": self.hlp})
            children = body["relationship"]["data"]["childAddresses"] if isinstance(body, dict) else None
            if not isinstance(children, list) or not all(isinstance(a, str) for a in children):
                raise RestError("vaultDetails without childAddresses")
            _CHILDREN[key] = [a.lower() for a in children]
        return {}

    @property
    def children(self) -> list[str]:
        return _CHILDREN.get((self.info_url, self.hlp), [])[:MAX_USERS]

    def streams(self) -> list[Stream]:
        topics = {}
        for coin in self.symbols:
            topics[coin] = _sub({"type": "trades", "coin": coin})
            topics[f"activeAssetCtx:{coin}"] = _sub({"type": "activeAssetCtx", "coin": coin})
        for user in self.children:
            topics[f"userFills:{user}"] = _sub({"type": "userFills", "user": user})
        expects = ("trade", "liquidation", "context") if self.children else ("trade", "context")
        return [Stream("hyperliquid/ws", self.settings.endpoints.hyperliquid_ws, [], json.dumps({"method": "ping"}),
                       min(50.0, self.settings.feeds.ping_interval_s), expects, topics)]

    @staticmethod
    def _topic(sub) -> str | None:
        if not isinstance(sub, dict):
            return None
        kind = sub.get("type")
        if kind == "trades":
            return sub.get("coin")
        if kind == "activeAssetCtx":
            return f"activeAssetCtx:{sub.get('coin')}"
        if kind == "userFills":
            return f"userFills:{str(sub.get('user')).lower()}"
        return None

    def answer(self, frame: str) -> Answer | None:
        try:
            msg = json.loads(frame)
        except ValueError:
            return None
        if not isinstance(msg, dict):
            return None
        channel, data = msg.get("channel"), msg.get("data")
        if channel == "subscriptionResponse" and isinstance(data, dict):
            return Answer(True, self._topic(data.get("subscription")))
        if channel == "error":  # "Invalid subscription {"type":"trades","coin":"NOPE"}"
            text = str(data)
            sub = None
            if "{" in text:
                try:
                    sub = json.loads(text[text.index("{"):])
                except ValueError:
                    sub = None
            return Answer(False, self._topic(sub), text[:120])
        return None

    def keep(self, events):
        """userFills carry every coin the vaults trade: keep the groups watched."""
        if events and type(events[0]) is Liquidation:
            events = [e for e in events if e.symbol in self.symbols]
            self.last_liquidation_ts = max([self.last_liquidation_ts] + [e.ts for e in events])
        return events

    def recover(self, engine) -> Recovery:
        before = {c: set(m.seen) for c in self.symbols if (m := engine.markets.get(f"hyperliquid:{c}")) and m.seen}
        firsts = [m.first_ts for c in self.symbols if (m := engine.markets.get(f"hyperliquid:{c}")) and m.trades]
        since = self.last_liquidation_ts + 1 if self.last_liquidation_ts else min(firsts, default=0)
        until = int(time.time() * 1000)  # the new connection delivers what comes after: not fetched twice
        return Recovery(lambda rec: self._recent(rec, before, since, until))

    async def _vault_fills(self, since: int, until: int):
        """Each vault's fills from ``since`` (ms) as userFills frames: the backstop liquidations the
        outage hid (at most 2,000 per answer; paged by time)."""
        for user in self.children:
            start = since
            for _ in range(5):
                rows = await self.info({"type": "userFillsByTime", "user": user, "startTime": start, "endTime": until})
                if not isinstance(rows, list):
                    raise ValueError("userFillsByTime is not a list")
                rows = [r for r in rows if isinstance(r, dict) and isinstance(r.get("time"), int)
                        and start <= r["time"] <= until]
                if rows:
                    yield [json.dumps({"channel": "userFills", "data": {"user": user, "fills": rows}})]
                if len(rows) < 2000:
                    break
                start = max(r["time"] for r in rows) + 1

    async def _recent(self, rec, before, since: int = 0, until: int = 0):
        if since:
            async for frames in self._vault_fills(since, until):
                yield frames
        for coin in self.symbols:
            rows = await self.info({"type": "recentTrades", "coin": coin})
            if not isinstance(rows, list):
                raise ValueError("recentTrades is not a list")
            if coin in before and not any(f"{r.get('time')}:{r.get('tid')}" in before[coin] for r in rows):
                rec.reached = False
            if rows:
                yield [json.dumps({"channel": "trades", "data": sorted(rows, key=lambda r: r.get("time", 0))})]
