"""Checks for the market-context fields (open interest, funding, mark price) every venue parser shares.

The same rules as the trade fields (venues/common.py): a JSON number or a plain decimal string, never
a boolean, inside a range; out of range rejects the frame. An absent, null or empty field is "not
carried by this push" (Bybit deltas, empty strings after a resubscribe): None, merged away downstream.
"""

from __future__ import annotations

import re

from orderflow_tui.events import FrameError
from orderflow_tui.venues.common import ms

OI_MAX = 1e15  # open interest in coins, contracts or USD: all well below
FUNDING_MAX = 1.0  # a funding rate of 100 % per interval is not a rate any venue allows
PRICE_MIN, PRICE_MAX = 1e-8, 1e12
INTERVAL_MAX_H = 24 * 7
TS_MIN, TS_MAX = 1_230_000_000_000, 4_102_444_800_000

_DECIMAL = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


def number(value, lo: float, hi: float, name: str) -> float:
    t = type(value)
    if t is str:
        if _DECIMAL.fullmatch(value) is None:
            raise FrameError(f"{name}: not a decimal: {value[:40]!r}")
        x = float(value)
    elif t is float or t is int:
        x = float(value)
    else:
        raise FrameError(f"{name}: not a number: {str(value)[:40]!r}")
    if not lo <= x < hi:  # false for NaN too
        raise FrameError(f"{name} out of range: {x!r}")
    return x


def field(d: dict, key: str, lo: float, hi: float):
    """A number ``d[key]``, or None when the push did not carry it."""
    value = d.get(key)
    if value is None or value == "":
        return None
    return number(value, lo, hi, key)


def oi(d: dict, key: str):
    return field(d, key, 0.0, OI_MAX)


def funding(d: dict, key: str):
    return field(d, key, -FUNDING_MAX, FUNDING_MAX)


def mark(d: dict, key: str):
    return field(d, key, PRICE_MIN, PRICE_MAX)


def time_ms(value) -> int:
    ts = ms(value)
    if not TS_MIN < ts < TS_MAX:
        raise FrameError(f"time out of range: {ts!r}")
    return ts


def opt_time(d: dict, key: str):
    value = d.get(key)
    if value is None or value == "" or value == "0" or value == 0:
        return None  # Bybit sends "0" / "" for instruments without funding
    return time_ms(value)


def interval_h(value) -> float:
    return number(value, 0.01, INTERVAL_MAX_H, "funding interval")
