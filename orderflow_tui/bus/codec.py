"""Events on the bus: batches of one market's events, in arrival order, as compact JSON arrays.

A message is ``[2, venue, symbol, rows]`` on ``flow.<venue>.<symbol>.events``; each row is one event,
its kind first (ROWS below). Its Nats-Msg-Id is a hash of the payload: a batch sent again after a
lost acknowledgement or a server restart is the same message, and the server stores it once.
Events are deduplicated one by one on the consuming side by their natural key (trade ids in the
engine, liquidations in attach.py), so two collectors batching differently, or a restarted one,
count nothing twice.

Adding a kind (say a sampled top of book): a letter, an encoder in ``row`` and a decoder in
``_decoders``. A viewer that does not know a kind skips its rows and counts them (``Batch.unknown``):
old viewers keep working on a stream that carries new kinds.

Floats go through orjson, which writes the shortest text that reads back to the same double: a
viewer's engine adds exactly the numbers the collector's parser produced.
"""

from __future__ import annotations

import hashlib

import orjson

from orderflow_tui.events import SAMPLE, Context, Depth, IdOnly, Liquidation, Trade

PREFIX = "flow"
VERSION = 2  # the first element of a batch; per-event messages of version 1 began with a kind letter


def _token(text: str) -> str:
    # NATS subject tokens cannot hold '.', '*', '>' or whitespace; symbols here never do, but be safe
    return "".join("_" if c in ".*> \t" else c for c in text)


def events_subject(venue: str, symbol: str) -> str:
    return f"{PREFIX}.{venue}.{_token(symbol)}.events"


def market_subjects(venue: str, symbol: str) -> str:
    """Every subject of one market (its batches, and the per-event subjects of version 1)."""
    return f"{PREFIX}.{venue}.{_token(symbol)}.*"


def row(ev) -> tuple[str, str, tuple] | None:
    """(venue, symbol, row) of a normalized event; None for an event the bus does not carry."""
    t = type(ev)
    if t is Trade:  # fills: an OKX message of n fills is ids trade_id-n+1 .. trade_id
        return ev.venue, ev.symbol, ("t", ev.ts, ev.price, ev.qty, ev.quote, ev.is_buy, ev.trade_id, ev.fills)
    if t is Liquidation:
        return ev.venue, ev.symbol, ("l", ev.ts, ev.price, ev.qty, ev.quote, ev.is_long, ev.sampled)
    if t is Context:
        return ev.venue, ev.symbol, ("c", ev.ts, ev.oi_base, ev.oi_usd, ev.mark, ev.funding, ev.interval_h,
                                     ev.next_ts)
    if t is IdOnly:
        venue, _, symbol = ev.market.partition(":")
        return venue, symbol, ("i", ev.trade_id)
    if t is Depth and ev.kind == SAMPLE:  # a collector's sampled top of book (issue 21); depth messages stay home
        venue, _, symbol = ev.market.partition(":")
        return venue, symbol, ("b", ev.ts, ev.first == 1, ev.bids, ev.asks)
    return None


BOOK_LEVELS = 50  # levels a side in a book sample


def book_sample(book, levels: int = BOOK_LEVELS) -> Depth:
    """A book's best ``levels`` a side, its exchange time and whether it was synced, as the event a
    viewer's engine applies: its book becomes the sample (synced or not, as the collector's was)."""
    bids, asks = book.top(levels)
    return Depth(book.market, book.venue, book.ts, SAMPLE, bids, asks, 1 if book.synced else 0)


def encode_batch(venue: str, symbol: str, rows: list) -> tuple[str, bytes, str]:
    """(subject, payload, msg id) of one market's rows; the id is the payload's hash."""
    payload = orjson.dumps((VERSION, venue, symbol, rows))
    return events_subject(venue, symbol), payload, "b:" + hashlib.blake2b(payload, digest_size=16).hexdigest()


def encode(ev) -> tuple[str, bytes, str] | None:
    """One event as a batch of one (tests, tools)."""
    r = row(ev)
    return None if r is None else encode_batch(r[0], r[1], [r[2]])


def status_message(venue: str, collector: str, state: dict) -> tuple[str, bytes]:
    """A collector's venue status (connected, frames, rejected...): not deduplicated, it is a reading."""
    return f"{PREFIX}.{venue}.status", orjson.dumps(("s", venue, collector, state))


class BadMessage(ValueError):
    pass


class Batch(list):
    """The events of one message, in order; ``unknown``: rows of a kind this version does not know."""

    unknown = 0


def _trade(market, venue, symbol, r):
    _, ts, price, qty, quote, is_buy, tid, fills = r
    if type(fills) is not int or fills < 1:
        raise BadMessage(f"trade of {fills!r} fills")
    return Trade(market, venue, symbol, int(ts), float(price), float(qty), float(quote), bool(is_buy), tid, fills)


def _liquidation(market, venue, symbol, r):
    _, ts, price, qty, quote, is_long, sampled = r
    return Liquidation(market, venue, symbol, int(ts), float(price), float(qty), float(quote), bool(is_long),
                       bool(sampled))


def _context(market, venue, symbol, r):
    _, ts, oi_base, oi_usd, mark, funding, interval_h, next_ts = r
    opt = [None if x is None else float(x) for x in (oi_base, oi_usd, mark, funding, interval_h)]
    return Context(market, venue, symbol, int(ts), *opt, None if next_ts is None else int(next_ts))


def _id_only(market, venue, symbol, r):
    _, tid = r
    return IdOnly(market, int(tid))


def _book(market, venue, symbol, r):
    _, ts, synced, bids, asks = r
    return Depth(market, venue, int(ts), SAMPLE, _levels(bids), _levels(asks), 1 if synced is True else 0)


def _levels(rows) -> list:
    out = [(float(p), float(s)) for p, s in rows]
    if not all(p > 0.0 and s > 0.0 for p, s in out):  # NaN fails too
        raise BadMessage("a book level with a price or size not above 0")
    return out


_decoders = {"t": _trade, "l": _liquidation, "c": _context, "i": _id_only, "b": _book}


def decode(data: bytes):
    """The events of a bus message (a Batch), or ("status", venue, collector, state). Raises BadMessage:
    a message is applied whole or not at all."""
    try:
        m = orjson.loads(data)
        if type(m) is not list or not m:
            raise BadMessage("not a JSON array")
        kind = m[0]
        if kind == VERSION:
            _, venue, symbol, rows = m
            if type(venue) is not str or type(symbol) is not str or type(rows) is not list:
                raise BadMessage("batch without venue, symbol and rows")
            market = f"{venue}:{symbol}"
            out = Batch()
            trade = _trade  # the common row, without the table lookup
            for r in rows:
                k = r[0]
                if k == "t":
                    out.append(trade(market, venue, symbol, r))
                else:
                    dec = _decoders.get(k)
                    if dec is None:
                        out.unknown += 1
                    else:
                        out.append(dec(market, venue, symbol, r))
            return out
        if kind == "s":
            _, venue, collector, state = m
            if type(state) is not dict:
                raise BadMessage("status without a state object")
            return ("status", str(venue), str(collector), state)
        if kind in _decoders:  # version 1: one event per message, venue and symbol in the row
            _, venue, symbol, *rest = m
            if kind == "t" and len(rest) == 6:  # before fills were carried: one fill
                rest.append(1)
            out = Batch()
            out.append(_decoders[kind](f"{venue}:{symbol}", venue, symbol, [kind, *rest]))
            return out
    except BadMessage:
        raise
    except (orjson.JSONDecodeError, TypeError, ValueError, IndexError, KeyError) as exc:
        raise BadMessage(f"{type(exc).__name__}: {exc}"[:120]) from None
    raise BadMessage(f"unknown message kind {kind!r}"[:120])
