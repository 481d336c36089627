"""Helpers every venue parser shares: number checks, ISO time, per-symbol conversion cache."""

from __future__ import annotations

import calendar
import re

from orderflow_tui.events import FrameError
from orderflow_tui.instruments import BASE, Contract, Instruments

# The accepted range of every numeric field (docs/decisions.md, "Accepted ranges"). Inside them every
# product, quotient and price-row integer downstream is finite: price x size < 1e27, an inverse base
# size x contract / price < 1e32, a row index price / step < 1e26.
TS_MIN = 1_230_000_000_000  # 2009: no crypto venue existed earlier
TS_MAX = 4_102_444_800_000  # 2100
PRICE_MIN = 1e-8  # the smallest tick any venue lists; 1e-300 or a denormal is not a price
PRICE_MAX = 1e12
QTY_MIN = 1e-12  # below every venue's lot size; keeps sizes clear of denormals
QTY_MAX = 1e15
ID_MAX = 1 << 63  # trade ids are 64-bit on every venue

_DECIMAL = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def checked(price: float, qty: float, ts: int) -> None:
    # chained comparisons are false for NaN, so NaN and inf are rejected too
    if not (PRICE_MIN <= price < PRICE_MAX and QTY_MIN <= qty < QTY_MAX and TS_MIN < ts < TS_MAX):
        raise FrameError(f"value out of range: price={price!r} qty={qty!r} ts={ts!r}")


def num(value) -> float:
    """A price or size: a JSON number or a decimal string. ``true`` is not 1 (bool is an int in
    Python), and float() leniencies (``"1_0"``, ``" 1"``, ``"inf"``) are not venue decimals."""
    t = type(value)
    if t is str:
        if _DECIMAL.fullmatch(value) is None:
            raise FrameError(f"not a decimal: {value[:40]!r}")
        return float(value)
    if t is float or t is int:
        return float(value)
    raise FrameError(f"not a number: {value!r}")


def ms(value) -> int:
    """Exchange millisecond timestamps arrive as ints or as digit strings; bool is neither."""
    if type(value) is int:
        return value
    if type(value) is str and value.isdigit() and value.isascii() and len(value) < 20:
        return int(value)
    raise FrameError(f"bad timestamp {value!r}")


def trade_id(value, required: bool = False, kind: type | None = None):
    """A venue trade id as sent, checked: an int in [0, 2**63), a short string (digits within the same
    range), or None where the venue may omit it. bool, floats and nested values are rejected, and so
    is an id of another JSON type than ``kind``, the one the venue documents (a mistyped field)."""
    t = type(value)
    if kind is not None and t is not kind and value is not None:
        raise FrameError(f"trade id {str(value)[:40]!r} is not a {kind.__name__}")
    if t is int:
        if 0 <= value < ID_MAX:
            return value
    elif t is str:
        if 0 < len(value) <= 128 and not (value.isdigit() and (len(value) > 19 or int(value) >= ID_MAX)):
            return value
    elif value is None and not required:
        return None
    raise FrameError(f"bad trade id {str(value)[:40]!r}")


def text(value) -> str:
    if type(value) is not str:
        raise FrameError(f"expected a string, got {type(value).__name__}")
    return value


_day_cache: dict[str, int] = {}


def iso_ms(stamp: str) -> int:
    """'2026-08-09T21:05:48.167634Z' -> ms since epoch, truncating below the millisecond."""
    if type(stamp) is not str or len(stamp) < 20 or stamp[10] != "T":
        raise FrameError(f"bad time {stamp!r}")
    day = stamp[:10]
    base = _day_cache.get(day)
    if base is None:
        y, mo, d = int(day[:4]), int(day[5:7]), int(day[8:10])
        base = calendar.timegm((y, mo, d, 0, 0, 0)) * 1000
        if len(_day_cache) > 64:
            _day_cache.clear()
        _day_cache[day] = base
    hh, mm, ss = int(stamp[11:13]), int(stamp[14:16]), int(stamp[17:19])
    if not (hh < 24 and mm < 60 and ss < 61):
        raise FrameError(f"bad time {stamp!r}")
    frac = 0
    rest = stamp[19:]
    if rest.startswith("."):
        digits = rest[1:].rstrip("Z")
        if not digits[:3].isdigit():
            raise FrameError(f"bad time {stamp!r}")
        frac = int((digits[:3] + "00")[:3])
    elif rest not in ("Z", "+00:00"):
        raise FrameError(f"bad time {stamp!r}")
    return base + ((hh * 60 + mm) * 60 + ss) * 1000 + frac


def amounts(contract, n: float, price: float) -> tuple[float, float]:
    """(base, quote) of ``n`` of the venue's units at ``price``; contract None: n is in the base coin."""
    if contract is None:
        return n, n * price
    return contract.convert(n, price)


class SymbolTable:
    """venue symbol -> (market key, contract or None for base-quantity), built once per symbol."""

    def __init__(self, venue: str, instruments: Instruments | None):
        self.venue = venue
        self.instruments = instruments or Instruments()
        self._cache: dict[str, tuple[str, Contract | None]] = {}

    def get(self, symbol: str) -> tuple[str, Contract | None]:
        found = self._cache.get(symbol)
        if found is None:
            if type(symbol) is not str or not symbol or len(symbol) > 64:
                raise FrameError(f"bad symbol {symbol!r}")
            contract = self.instruments.contract(self.venue, symbol)
            found = (f"{self.venue}:{symbol}", None if contract == BASE else contract)
            self._cache[symbol] = found
        return found
