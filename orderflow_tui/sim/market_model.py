"""A seeded stochastic market for the simulated exchange: clustered trade arrivals (self-exciting),
heavy-tailed sizes, occasional whales, and liquidation cascades that hit every venue at once.

It produces venue-neutral events; each simulated venue server formats them in its own protocol.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass


@dataclass
class SimTrade:
    venue: str
    ts: int
    price: float
    qty: float  # base coin
    is_buy: bool
    group: str = "BTC"


@dataclass
class SimLiquidation:
    venue: str
    ts: int
    price: float
    qty: float
    is_long: bool  # the liquidated position
    group: str = "BTC"


# the coins the simulated venues list (another is refused, as a venue refuses an unknown symbol),
# their demo prices, and trade-rate weights (BTC's rate is --rate)
DEMO_PRICES = {"BTC": 65_000.0, "ETH": 3_400.0, "SOL": 150.0, "XRP": 0.6, "DOGE": 0.15, "BNB": 600.0,
               "ADA": 0.45, "AVAX": 35.0, "LINK": 15.0, "SUI": 1.8, "TRX": 0.12, "LTC": 80.0, "TON": 5.5,
               "DOT": 6.5, "BCH": 400.0, "NEAR": 5.0, "APT": 8.0, "ARB": 0.8, "OP": 1.7, "WIF": 2.0,
               "HYPE": 25.0, "ENA": 0.5, "AAVE": 150.0, "UNI": 8.0, "FIL": 4.5, "ATOM": 6.0, "ETC": 22.0}
DEMO_RATES = {"BTC": 1.0, "ETH": 0.6, "SOL": 0.35, "XRP": 0.25, "DOGE": 0.25, "BNB": 0.2}


def group_model(group: str, index: int, seed: int, venues, rate_per_s: float) -> "MarketModel":
    """The model of one demo group: BTC's is the model of a one-group demo (same seed, same path);
    the others get their own seed, price, decimals and a smaller share of the trades and size."""
    price = DEMO_PRICES.get(group, 10.0)
    decimals = min(6, max(1, 4 - math.floor(math.log10(price))))
    size = 65_000.0 / price * (1.0 if group == "BTC" else 0.4)  # notional a little below BTC's
    qty_decimals = min(3, max(0, 3 - round(math.log10(size))))
    return MarketModel(seed + 7919 * index, venues, price, rate_per_s * DEMO_RATES.get(group, 0.15), group=group,
                       decimals=decimals, size=size, qty_decimals=qty_decimals)


class MarketModel:
    def __init__(self, seed: int = 7, venues=("binance", "bybit", "okx"), price: float = 65_000.0,
                 rate_per_s: float = 40.0, group: str = "BTC", decimals: int = 1, size: float = 1.0,
                 qty_decimals: int = 3):
        self.group = group
        self.decimals = decimals  # price decimals
        self.size = size  # sizes in units of 0.001 BTC-equivalent coin
        self.qd = qty_decimals
        self.lot = 10.0 ** -qty_decimals
        self.rnd = random.Random(seed)
        self.venues = venues
        self.price = price
        self.anchor = price  # the price drifts and wanders, but is pulled back here (days of demo)
        self.base_rate = rate_per_s
        self.excitation = 0.0  # recent activity raises the arrival rate (clustering)
        self.drift = 0.0
        self.cascade_left = 0
        self.cascade_long = True
        self.weights = [0.5, 0.3, 0.2, 0.15, 0.15, 0.1][: len(venues)]  # binance, bybit, okx, then the others

    def step(self, now_ms: int, dt_s: float) -> list:
        """Events of the next ``dt_s`` seconds ending at ``now_ms``."""
        rnd = self.rnd
        rate = self.base_rate * (1 + self.excitation)
        n = _poisson(rnd, rate * dt_s)
        self.excitation *= math.exp(-dt_s / 3.0)
        if rnd.random() < 0.02 * dt_s:
            self.drift = rnd.gauss(0, 2e-4)  # per second: a trend of a few % an hour at most
        # volatility and drift are per second of time, not per trade, so the path does not depend
        # on the trade rate; a weak pull back to the anchor keeps hours of demo in a sane range
        pull = -0.001 * math.log(self.price / self.anchor)
        self.price *= math.exp((self.drift + pull) * dt_s + rnd.gauss(0, 4e-4) * math.sqrt(dt_s))
        buy_share = min(0.8, max(0.2, 0.5 + 500 * self.drift))
        out: list = []
        for _ in range(n):
            ts = now_ms - int(rnd.random() * dt_s * 1000)
            is_buy = rnd.random() < buy_share
            px = self.price * (1 + (1e-5 if is_buy else -1e-5) * rnd.random())  # buyers lift, sellers hit
            qty = min(0.001 * rnd.paretovariate(1.3), 50.0) * self.size  # heavy tail
            if rnd.random() < 0.002:
                qty *= rnd.choice((100, 300))  # a whale
            # each trade raises the rate for ~3 s: 0.6 children per trade on average (a stable
            # Hawkes process clusters without running away)
            self.excitation = min(self.excitation + 0.6 / (self.base_rate * 3.0), 20.0)
            venue = rnd.choices(self.venues, self.weights)[0]
            out.append(SimTrade(venue, ts, round(px, self.decimals), round(qty, self.qd) or self.lot, is_buy, self.group))
        if self.cascade_left == 0 and rnd.random() < 0.02 * dt_s:
            self.cascade_left = rnd.randint(6, 25)
            self.cascade_long = rnd.random() < 0.5
        if self.cascade_left:
            for _ in range(min(self.cascade_left, _poisson(rnd, 3 * dt_s) + 1)):
                self.cascade_left -= 1
                self.price *= 0.9995 if self.cascade_long else 1.0005
                venue = rnd.choice(self.venues)
                qty = round(0.05 * rnd.paretovariate(1.5) * self.size, self.qd) or self.lot
                px = round(self.price, self.decimals)
                out.append(SimLiquidation(venue, now_ms, px, qty, self.cascade_long, self.group))
                # forced orders are aggressive: they print as taker trades too
                out.append(SimTrade(venue, now_ms, px, qty, not self.cascade_long, self.group))
        elif rnd.random() < 0.3 * dt_s:
            venue = rnd.choice(self.venues)
            out.append(SimLiquidation(venue, now_ms, round(self.price, self.decimals),
                                      round(0.01 * rnd.paretovariate(1.5) * self.size, self.qd) or self.lot,
                                      rnd.random() < 0.5, self.group))
        out.sort(key=lambda e: e.ts)
        return out


def _poisson(rnd, lam: float) -> int:
    if lam > 50:
        return max(0, int(rnd.gauss(lam, math.sqrt(lam))))
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rnd.random()
        if p <= limit:
            return k
        k += 1
