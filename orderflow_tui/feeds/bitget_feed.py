"""Bitget USDT futures: v2 ``trade`` + ``ticker`` per symbol, and the UTA v3 ``liquidation`` topic.

- Keep-alive: text ``ping`` every 30 s at most (the venue drops a connection silent for 2 min);
  the answer is ``pong``.
- The venue cuts every connection at 24 h; the connection is rotated before that
  (``feeds.rotate_after_s``) and, as after any reconnect, the recent fills are fetched over REST
  (``GET /api/v2/mix/market/fills``) and deduplicated by ``tradeId``: no gap.
- The first ``snapshot`` push of ``trade`` replays history: skipped by the parser.
- Liquidations: v3 pushes, each second, the largest long and largest short liquidation per symbol
  (a sample, labelled). Its ``side`` and ``amount`` unit are settings
  (``venues.bitget_liquidation_buy_is_long``, ``venues.bitget_liquidation_amount_in_quote``) whose
  defaults follow aggr, since no primary source defines them.
"""

from __future__ import annotations

import json
from urllib.parse import urlencode

from orderflow_tui.events import Liquidation
from orderflow_tui.feeds.venue_feed import Answer, Recovery, Stream, VenueFeed

INST_TYPE = "USDT-FUTURES"
HISTORY_PAGES = 10  # fills-history pages after an outage: 10,000 fills at most
LIQUIDATIONS = "liquidation"


def _sub(args: list) -> str:
    return json.dumps({"op": "subscribe", "args": args})


class BitgetFeed(VenueFeed):
    venue = "bitget"
    rest_limit = (20, 1.0)  # market endpoints: 20 requests per second per IP

    def __init__(self, settings, symbols, rest=None):
        super().__init__(settings, symbols, rest)
        self.watched = set(symbols)

    def streams(self) -> list[Stream]:
        e, ping = self.settings.endpoints, min(30.0, self.settings.feeds.ping_interval_s)
        trades = {s: _sub([{"instType": INST_TYPE, "channel": ch, "instId": s} for ch in ("trade", "ticker")])
                  for s in self.symbols}
        liqs = {LIQUIDATIONS: _sub([{"instType": INST_TYPE.lower(), "topic": "liquidation"}])}
        return [Stream("bitget/public", e.bitget_ws, [], "ping", ping, ("trade", "context"), trades),
                Stream("bitget/liquidation", e.bitget_liquidation_ws, [], "ping", ping, ("liquidation",), liqs)]

    def answer(self, frame: str) -> Answer | None:
        if frame == "pong":
            return None
        try:
            msg = json.loads(frame)
        except ValueError:
            return None
        if not isinstance(msg, dict):
            return None
        arg = msg.get("arg") if isinstance(msg.get("arg"), dict) else {}
        topic = LIQUIDATIONS if arg.get("topic") == "liquidation" else arg.get("instId")
        if msg.get("event") == "subscribe":
            return Answer(True, topic)
        if msg.get("event") == "error":  # {"event":"error","arg":{...},"code":30001,"msg":"instId:X doesn't exist"}
            text = str(msg.get("msg", ""))
            if topic is None:
                topic = next((s for s in self.symbols if s in text), None)
            return Answer(False, topic, f"{msg.get('code')}: {text}"[:120])
        return None

    def keep(self, events):
        """The liquidation topic delivers every symbol: keep the groups watched."""
        if events and type(events[0]) is Liquidation:
            return [e for e in events if e.symbol in self.watched]
        return events

    def recover(self, engine) -> Recovery:
        before = {s: set(m.seen) for s in self.symbols if (m := engine.markets.get(f"bitget:{s}")) and m.seen}
        return Recovery(lambda rec: self._recent(rec, before))

    async def _recent(self, rec, before):
        """The last 100 fills; when they do not reach back to a fill seen before the outage, older
        pages of fills-history (1,000 each, by idLessThan) until one does, HISTORY_PAGES at most."""
        rest = self.settings.endpoints.bitget_rest
        for symbol in self.symbols:
            seen = before.get(symbol)
            query = {"symbol": symbol, "productType": INST_TYPE, "limit": 100}
            path = "fills"
            for _ in range(1 + HISTORY_PAGES):
                body, _ = await self.rest.get_json(f"{rest}/api/v2/mix/market/{path}?{urlencode(query)}")
                rows = body.get("data") if isinstance(body, dict) else None
                if not isinstance(rows, list):
                    raise ValueError(f"{path} without data")
                # newest first on the wire; fills-history's example writes the side "Buy"
                data = [{"ts": r["ts"], "price": r["price"], "size": r["size"],
                         "side": r["side"].lower() if isinstance(r["side"], str) else r["side"],
                         "tradeId": r["tradeId"]} for r in reversed(rows)]
                if data:
                    yield [json.dumps({"action": "update", "arg": {"instType": INST_TYPE, "channel": "trade",
                                                                   "instId": symbol}, "data": data})]
                if seen is None or any(d["tradeId"] in seen for d in data):
                    break
                if not data:  # the venue's history ends before the outage began
                    rec.reached = False
                    break
                path, query = "fills-history", {"symbol": symbol, "productType": INST_TYPE, "limit": 1000,
                                                "idLessThan": data[0]["tradeId"]}
            else:
                rec.reached = False
