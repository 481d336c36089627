"""A venue's depth levels, read from their JSON text.

Depth is the busiest data a venue sends, so the work per level is done in C (orderflow_tui/_depth.c):
``parse`` reads a level array (``[["61799.90","3.512"], ...]``, the msgspec.Raw of a frame) into a
``Levels``, the prices and sizes as packed doubles with no Python object per level; a book side
(books/side.py) applies them in one C loop. This file is also the pure-Python twin, used when the C
module is not built (``ORDERFLOW_TUI_PURE=1`` at install, no compiler) or ``ORDERFLOW_TUI_PURE=1``
is set when it runs: the same grammar, floats and errors.

- ``parse(text, mult=1.0, inverse=False)``: each level an array whose first two elements are the
  price and size (a JSON number or a venue decimal string); further elements (OKX's) are skipped.
  Ranges as for trades (venues/common.py); the size in the base coin: ``size * mult`` or, for an
  inverse contract, ``size * mult / price``. Raises ValueError on anything else.
- ``parse_changes(text, mult=1.0)``: Coinbase's ``[["buy"|"sell", price, size], ...]`` -> (bids, asks).
- ``Levels``: a sequence of (price, size) tuples; ``texts()`` gives each level as "price:size" in
  the venue's own text (Bitget's checksum is over the strings as sent).
"""

from __future__ import annotations

import os

import orjson

from orderflow_tui.events import FrameError
from orderflow_tui.venues.common import PRICE_MAX, PRICE_MIN, QTY_MAX, num


# ---- the pure-Python twin --------------------------------------------------------------


class PyLevels(list):
    """(price, size) tuples, and the venue's text of each level for ``texts()``."""

    def texts(self) -> list[str]:
        return self._texts


def _number(value: object) -> tuple[float, str]:
    if type(value) is bool or type(value) not in (str, int, float):
        raise ValueError(f"levels: not a number: {str(value)[:40]!r}")
    try:
        return num(value), value if type(value) is str else orjson.dumps(value).decode()
    except FrameError as exc:
        raise ValueError(f"levels: {exc}") from None


def _level(lv: object) -> tuple[float, float, str]:
    if type(lv) is not list or len(lv) < 2:
        raise ValueError("levels: a level is not an array of price and size")
    for extra in lv[2:]:
        if type(extra) not in (str, int, float) or type(extra) is bool:
            raise ValueError("levels: unexpected value")
    p, pt = _number(lv[0])
    s, st = _number(lv[1])
    if not (PRICE_MIN <= p < PRICE_MAX):
        raise ValueError("levels: price out of range")
    if not (0.0 <= s < QTY_MAX):
        raise ValueError("levels: size out of range")
    return p, s, pt + ":" + st


def _load(text: object) -> list:
    data = orjson.loads(text if type(text) in (str, bytes) else bytes(memoryview(text)))  # type: ignore[arg-type]
    if type(data) is not list:
        raise ValueError("levels: not an array")
    return data


def py_parse(text, mult: float = 1.0, inverse: bool = False) -> PyLevels:
    out = PyLevels()
    texts = []
    for lv in _load(text):
        p, s, t = _level(lv)
        out.append((p, s * mult / p if inverse else s * mult))
        texts.append(t)
    out._texts = texts
    return out


def py_parse_changes(text, mult: float = 1.0) -> tuple[PyLevels, PyLevels]:
    bids, asks = PyLevels(), PyLevels()
    bids._texts, asks._texts = [], []
    for ch in _load(text):
        if type(ch) is not list or len(ch) != 3 or ch[0] not in ("buy", "sell"):
            raise ValueError("levels: a change is not [side, price, size]")
        p, s, t = _level(ch[1:])
        side = bids if ch[0] == "buy" else asks
        side.append((p, s * mult))
        side._texts.append(t)
    return bids, asks


try:  # the C reader (orderflow_tui/_depth.c); the twins above when it is not built or not wanted
    if os.environ.get("ORDERFLOW_TUI_PURE") == "1":
        raise ImportError("ORDERFLOW_TUI_PURE=1")
    from orderflow_tui._depth import Levels, configure, parse, parse_changes

    configure(PRICE_MIN, PRICE_MAX, QTY_MAX)
    NATIVE = True
except ImportError:
    Levels, parse, parse_changes = PyLevels, py_parse, py_parse_changes  # type: ignore[misc,assignment]
    NATIVE = False

__all__ = ["NATIVE", "Levels", "parse", "parse_changes"]
