"""One parser per venue: a raw websocket frame in, normalized events out, no I/O.

``parse_frame`` is the one entry point that never raises: a bad frame comes back as a
``Rejected`` with its reason, to be counted and skipped.
"""

from __future__ import annotations

from orderflow_tui.events import FrameError
from orderflow_tui.venues import binance, binance_depth, bitget, bybit, coinbase, hyperliquid, okx, okx_depth

MODULES = {m.VENUE: m for m in (binance, bybit, okx, coinbase, hyperliquid, bitget)}
VENUES = tuple(MODULES)
CONTIGUOUS_ID_VENUES = frozenset(v for v, m in MODULES.items() if m.CONTIGUOUS_IDS)
SAMPLED_LIQUIDATION_VENUES = frozenset(v for v, m in MODULES.items() if m.LIQUIDATIONS_SAMPLED)

# what a malformed frame can raise out of a parser: all of it means "rejected", nothing else escapes
PARSE_ERRORS = (FrameError, ValueError, KeyError, TypeError, AttributeError, IndexError, OverflowError)


class Rejected:
    __slots__ = ("reason",)

    def __init__(self, reason: str):
        self.reason = reason

    def __repr__(self) -> str:
        return f"Rejected({self.reason!r})"


def make_parsers(instruments=None, options: dict | None = None) -> dict:
    """One parser per venue, sharing the session's instrument table; options per venue name."""
    options = options or {}
    return {v: m.Parser(instruments, options.get(v)) for v, m in MODULES.items()}


def parse_frame(parser, frame):
    """Events (a list), CONTROL / IGNORED (empty), or a Rejected. Never raises."""
    try:
        return parser.parse(frame)
    except PARSE_ERRORS as exc:
        return Rejected(f"{type(exc).__name__}: {exc}"[:200])
    except RecursionError:
        return Rejected("nesting too deep")


# REST book snapshots a client fetches to sync a book (contract §2b: a capture's "k": "book" lines)
REST_BOOKS = {"binance": binance_depth.parse_rest, "okx": okx_depth.parse_rest}


def parse_book(parser, market: object, body: object) -> list:
    """A REST book snapshot of ``market`` ("venue:SYMBOL") as a Depth event list; raises FrameError
    (or another of PARSE_ERRORS) when it is not one."""
    venue = parser.venue
    parse = REST_BOOKS.get(venue)
    if parse is None:
        raise FrameError(f"{venue} has no REST book snapshot")
    if type(market) is not str or not market.startswith(venue + ":"):
        raise FrameError(f"book line: market {str(market)[:40]!r} is not a {venue} market")
    if type(body) is not str:
        raise FrameError("book line: no body text")
    return parse(parser.symbols, market[len(venue) + 1:], body)
