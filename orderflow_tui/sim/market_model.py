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


@dataclass
class SimLiquidation:
    venue: str
    ts: int
    price: float
    qty: float
    is_long: bool  # the liquidated position


class MarketModel:
    def __init__(self, seed: int = 7, venues=("binance", "bybit", "okx"), price: float = 65_000.0,
                 rate_per_s: float = 40.0):
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
            qty = min(0.001 * rnd.paretovariate(1.3), 50.0)  # heavy tail
            if rnd.random() < 0.002:
                qty *= rnd.choice((100, 300))  # a whale
            # each trade raises the rate for ~3 s: 0.6 children per trade on average (a stable
            # Hawkes process clusters without running away)
            self.excitation = min(self.excitation + 0.6 / (self.base_rate * 3.0), 20.0)
            venue = rnd.choices(self.venues, self.weights)[0]
            out.append(SimTrade(venue, ts, round(px, 1), round(qty, 3) or 0.001, is_buy))
        if self.cascade_left == 0 and rnd.random() < 0.02 * dt_s:
            self.cascade_left = rnd.randint(6, 25)
            self.cascade_long = rnd.random() < 0.5
        if self.cascade_left:
            for _ in range(min(self.cascade_left, _poisson(rnd, 3 * dt_s) + 1)):
                self.cascade_left -= 1
                self.price *= 0.9995 if self.cascade_long else 1.0005
                venue = rnd.choice(self.venues)
                qty = round(0.05 * rnd.paretovariate(1.5), 3) or 0.001
                out.append(SimLiquidation(venue, now_ms, round(self.price, 1), qty, self.cascade_long))
                # forced orders are aggressive: they print as taker trades too
                out.append(SimTrade(venue, now_ms, round(self.price, 1), qty, not self.cascade_long))
        elif rnd.random() < 0.3 * dt_s:
            venue = rnd.choice(self.venues)
            out.append(SimLiquidation(venue, now_ms, round(self.price, 1), round(0.01 * rnd.paretovariate(1.5), 3)
                                      or 0.001, rnd.random() < 0.5))
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
