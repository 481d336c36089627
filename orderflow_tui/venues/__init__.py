"""One parser per venue: a raw websocket frame in, normalized events out, no I/O.

``parse_frame`` is the one entry point that never raises: a bad frame comes back as a
``Rejected`` with its reason, to be counted and skipped.
"""

from __future__ import annotations

from orderflow_tui.events import FrameError
from orderflow_tui.venues import binance, bitget, bybit, coinbase, hyperliquid, okx

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
