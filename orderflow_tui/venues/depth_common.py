"""What the six depth parsers share: typed level lists decoded in C, size conversion to the base coin.

Levels are decoded by msgspec straight from the frame text into lists of (price, size) tuples of
floats (decimal strings converted and range-checked in C): no per-level dicts or strings. Sizes in
contracts become base-coin sizes as trades do (contract.md §1).
"""

from __future__ import annotations

from typing import Annotated

import msgspec

from orderflow_tui.venues.common import PRICE_MAX, PRICE_MIN, QTY_MAX

Price = Annotated[float, msgspec.Meta(ge=PRICE_MIN, lt=PRICE_MAX)]
Size = Annotated[float, msgspec.Meta(ge=0.0, lt=QTY_MAX)]  # 0 removes the level
Levels = list[tuple[Price, Size]]
# OKX [px, sz, "0", orders]: the third field is deprecated (never read as an order count)
Levels4 = list[tuple[Price, Size, str, str]]
DECODE_ERRORS = (msgspec.ValidationError, msgspec.DecodeError)


def base_levels(levels: list, contract) -> list:
    """Sizes in the base coin; ``contract`` None: they already are."""
    if contract is None:
        return levels
    size = contract.size
    if contract.inverse:  # size in quote currency per contract
        return [(p, s * size / p) for p, s in levels]
    return [(p, s * size) for p, s in levels]


def base_levels4(levels: list, contract) -> list:
    size = 1.0 if contract is None else contract.size
    if contract is not None and contract.inverse:
        return [(lv[0], lv[1] * size / lv[0]) for lv in levels]
    return [(lv[0], lv[1] * size) for lv in levels]
