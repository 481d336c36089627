"""Contract sizes and symbol conventions: how a venue's quantity becomes base coin and quote.

Precedence: the capture header / REST instrument list, then the built-in table below, then
"spot or base quantity" (contract.md §1).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Contract:
    """How one unit of a venue's size field converts.

    linear:  base = n * size,          quote = n * size * price / price_unit
    inverse: base = n * size / price,  quote = n * size            (size in quote currency)
    ``price_unit`` is 1000 for ``1000PEPEUSDT``: the price is per 1000 coins.
    """

    size: float = 1.0
    inverse: bool = False
    price_unit: float = 1.0

    def convert(self, n: float, price: float) -> tuple[float, float]:
        if self.inverse:
            quote = n * self.size
            return quote / price, quote
        base = n * self.size
        return base, base * price / self.price_unit


BASE = Contract()

# --watch: the ten largest perpetuals by open interest (a default, docs/decisions.md "Many markets")
WATCHLIST = ("BTC", "ETH", "SOL", "XRP", "DOGE", "BNB", "HYPE", "SUI", "ADA", "LINK")

# OKX linear swaps: ctVal in the base coin (GET /api/v5/public/instruments?instType=SWAP).
_OKX_LINEAR = {
    "BTC-USDT-SWAP": 0.01, "ETH-USDT-SWAP": 0.1, "SOL-USDT-SWAP": 1.0, "XRP-USDT-SWAP": 100.0,
    "DOGE-USDT-SWAP": 1000.0, "BNB-USDT-SWAP": 0.01, "LTC-USDT-SWAP": 1.0, "ADA-USDT-SWAP": 100.0,
    "AVAX-USDT-SWAP": 1.0, "LINK-USDT-SWAP": 1.0, "TON-USDT-SWAP": 1.0, "SUI-USDT-SWAP": 1.0,
    "BTC-USDC-SWAP": 0.0001, "ETH-USDC-SWAP": 0.001,
}
_OKX_INVERSE = re.compile(r"^([A-Z0-9]+)-USD-(SWAP|\d{6})$")
_OKX_LINEAR_FUTURE = re.compile(r"^([A-Z0-9]+-USD[TC])-\d{6}$")
_BINANCE_COINM = re.compile(r"^([A-Z0-9]+)USD_(PERP|\d{6})$")
_BYBIT_INVERSE = re.compile(r"^([A-Z0-9]+)USD([FGHJKMNQUVXZ]\d{2})?$")
_MULTIPLIER = re.compile(r"^(10{3,}|1M)(?=[A-Z])")
_QUOTES = ("USDT", "USDC", "FDUSD", "BUSD", "USD", "PERP")


def builtin_contract(venue: str, symbol: str) -> Contract | None:
    """The project's own knowledge of a venue's contracts; None when it knows nothing."""
    if venue == "okx":
        if symbol in _OKX_LINEAR:
            return Contract(_OKX_LINEAR[symbol])
        m = _OKX_LINEAR_FUTURE.match(symbol)
        if m and m.group(1) + "-SWAP" in _OKX_LINEAR:
            return Contract(_OKX_LINEAR[m.group(1) + "-SWAP"])
        m = _OKX_INVERSE.match(symbol)
        if m:  # OKX inverse: 100 USD per BTC contract, 10 USD for every other coin
            return Contract(100.0 if m.group(1) == "BTC" else 10.0, inverse=True)
        return None
    if venue == "binance":
        m = _BINANCE_COINM.match(symbol)
        if m:  # Binance COIN-M: 100 USD per BTC contract, 10 USD otherwise
            return Contract(100.0 if m.group(1) == "BTC" else 10.0, inverse=True)
    if venue == "bybit" and _BYBIT_INVERSE.match(symbol):
        return Contract(1.0, inverse=True)  # inverse sizes are in USD
    if venue in ("binance", "bybit", "bitget"):
        m = _MULTIPLIER.match(symbol)
        if m:
            unit = 1e6 if m.group(1) == "1M" else float(m.group(1))
            return Contract(unit, price_unit=unit)
    return None


class Instruments:
    """Contract lookup for one session: learned instruments first, then the built-in table."""

    def __init__(self, learned: dict[str, Contract] | None = None):
        self.learned: dict[str, Contract] = dict(learned or {})

    @classmethod
    def from_header(cls, header: dict) -> "Instruments":
        learned = {}
        for market, spec in (header.get("instruments") or {}).items():
            try:
                size = float(spec["contract_size"])
                inverse = bool(spec.get("inverse", False))
            except (KeyError, TypeError, ValueError):
                continue
            if size > 0:
                learned[market] = Contract(size, inverse)
        return cls(learned)

    def contract(self, venue: str, symbol: str) -> Contract:
        found = self.learned.get(f"{venue}:{symbol}")
        if found is not None:
            if venue != "okx" and not found.inverse:
                # a learned size keeps the price convention of the symbol (1000PEPE prices per 1000)
                known = builtin_contract(venue, symbol)
                if known is not None and known.price_unit != 1.0:
                    return Contract(found.size, False, known.price_unit)
            return found
        return builtin_contract(venue, symbol) or BASE

    def to_header(self) -> dict:
        return {m: {"contract_size": c.size, "inverse": c.inverse} for m, c in sorted(self.learned.items())}


def group_of(venue: str, symbol: str) -> str:
    """The underlying a market belongs to: BTC for binance:BTCUSDT, okx:BTC-USDT-SWAP, hyperliquid:BTC."""
    s = symbol.upper()
    if venue in ("okx", "coinbase") or "-" in s:
        s = s.split("-")[0]
    else:
        s = s.split("_")[0]
        for quote in _QUOTES:
            if s.endswith(quote) and len(s) > len(quote):
                s = s[: -len(quote)]
                break
    m = _MULTIPLIER.match(s)
    if m:
        s = s[m.end():]
    if venue == "hyperliquid" and s.startswith("K") and len(s) > 3 and symbol.startswith("k"):
        s = s[1:]  # kPEPE is 1000 PEPE
    return s


def nice_step(raw: float) -> float:
    """The 1-2-5 value nearest (by ratio) to ``raw``."""
    if raw <= 0:
        return 1.0
    exp = math.floor(math.log10(raw))
    best = None
    for e in (exp - 1, exp, exp + 1):
        for m in (1, 2, 5):
            v = m * 10.0**e
            r = max(v / raw, raw / v)
            if best is None or r < best[0]:
                best = (r, v)
    return float(f"{best[1]:.12g}")


# Default price-row size per group (analytics.md §5): $100 for BTC, $10 for ETH,
# otherwise about 0.1 % of price rounded to a 1-2-5 step.
DEFAULT_ROW_SIZE = {"BTC": 100.0, "ETH": 10.0}


def default_row_size(group: str, price: float) -> float:
    return DEFAULT_ROW_SIZE.get(group) or nice_step(price * 0.001)
