"""Events on the bus: one subject per venue, market and kind; compact JSON arrays; a Nats-Msg-Id from
the event's natural key, so a restarted or doubled collector publishes nothing twice.

Floats go through orjson, which writes the shortest text that reads back to the same double: a
viewer's engine adds exactly the numbers the collector's parser produced.
"""

from __future__ import annotations

import orjson

from orderflow_tui.events import Context, IdOnly, Liquidation, Trade

PREFIX = "flow"


def _token(text: str) -> str:
    # NATS subject tokens cannot hold '.', '*', '>' or whitespace; symbols here never do, but be safe
    return "".join("_" if c in ".*> \t" else c for c in text)


def trade_subject(venue: str, symbol: str) -> str:
    return f"{PREFIX}.{venue}.{_token(symbol)}.trade"


def market_subjects(venue: str, symbol: str) -> str:
    """Every subject of one market (trades, liquidations, ids, context)."""
    return f"{PREFIX}.{venue}.{_token(symbol)}.*"


def encode(ev) -> tuple[str, bytes, str] | None:
    """(subject, payload, msg id) of a normalized event; None for an event the bus does not carry."""
    t = type(ev)
    if t is Trade:
        key = ev.trade_id if ev.trade_id is not None else f"{ev.ts}:{ev.price!r}:{ev.qty!r}:{int(ev.is_buy)}"
        return (f"{PREFIX}.{ev.venue}.{_token(ev.symbol)}.trade",
                orjson.dumps(("t", ev.venue, ev.symbol, ev.ts, ev.price, ev.qty, ev.quote, ev.is_buy, ev.trade_id,
                              ev.fills)),
                f"t:{ev.venue}:{ev.symbol}:{key}")
    if t is Liquidation:
        side = "long" if ev.is_long else "short"
        # the store's natural key (store/schema.py): venue, symbol, ts, side, price, qty
        return (f"{PREFIX}.{ev.venue}.{_token(ev.symbol)}.liquidation",
                orjson.dumps(("l", ev.venue, ev.symbol, ev.ts, ev.price, ev.qty, ev.quote, ev.is_long, ev.sampled)),
                f"l:{ev.venue}:{ev.symbol}:{ev.ts}:{side}:{ev.price!r}:{ev.qty!r}")
    if t is Context:
        fields = (ev.oi_base, ev.oi_usd, ev.mark, ev.funding, ev.interval_h, ev.next_ts)
        # a push is identified by its time and content: the same push received twice is one
        return (f"{PREFIX}.{ev.venue}.{_token(ev.symbol)}.context",
                orjson.dumps(("c", ev.venue, ev.symbol, ev.ts, *fields)),
                f"c:{ev.venue}:{ev.symbol}:{ev.ts}:" + ":".join(repr(f) for f in fields))
    if t is IdOnly:
        venue, _, symbol = ev.market.partition(":")
        return (f"{PREFIX}.{venue}.{_token(symbol)}.tradeid", orjson.dumps(("i", venue, symbol, ev.trade_id)),
                f"i:{venue}:{symbol}:{ev.trade_id}")
    return None


def status_message(venue: str, collector: str, state: dict) -> tuple[str, bytes]:
    """A collector's venue status (connected, frames, rejected...): not deduplicated, it is a reading."""
    return f"{PREFIX}.{venue}.status", orjson.dumps(("s", venue, collector, state))


class BadMessage(ValueError):
    pass


def decode(data: bytes):
    """The event of a bus message, or ("status", venue, collector, state). Raises BadMessage."""
    try:
        m = orjson.loads(data)
        if type(m) is not list or not m:
            raise BadMessage("not a JSON array")
        kind = m[0]
        if kind == "t":  # fills: an OKX message of n fills is ids tid-n+1 .. tid (absent before issue 22)
            _, venue, symbol, ts, price, qty, quote, is_buy, tid, *rest = m
            fills = int(rest[0]) if rest else 1
            if len(rest) > 1 or fills < 1:
                raise BadMessage(f"trade with {len(m)} fields or {fills} fills")
            return Trade(f"{venue}:{symbol}", venue, symbol, int(ts), float(price), float(qty), float(quote),
                         bool(is_buy), tid, fills)
        if kind == "l":
            _, venue, symbol, ts, price, qty, quote, is_long, sampled = m
            return Liquidation(f"{venue}:{symbol}", venue, symbol, int(ts), float(price), float(qty), float(quote),
                               bool(is_long), bool(sampled))
        if kind == "c":
            _, venue, symbol, ts, oi_base, oi_usd, mark, funding, interval_h, next_ts = m
            opt = [None if x is None else float(x) for x in (oi_base, oi_usd, mark, funding, interval_h)]
            return Context(f"{venue}:{symbol}", venue, symbol, int(ts), *opt, None if next_ts is None else int(next_ts))
        if kind == "i":
            _, venue, symbol, tid = m
            return IdOnly(f"{venue}:{symbol}", int(tid))
        if kind == "s":
            _, venue, collector, state = m
            if type(state) is not dict:
                raise BadMessage("status without a state object")
            return ("status", str(venue), str(collector), state)
    except (orjson.JSONDecodeError, TypeError, ValueError, IndexError) as exc:
        raise BadMessage(f"{type(exc).__name__}: {exc}"[:120]) from None
    raise BadMessage(f"unknown message kind {kind!r}"[:120])
