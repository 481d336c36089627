"""A store holding a year of liquidations (about 150 a day on three venues), written straight through
the store's own write path (write_batch: the triggers build the rollups) so that it costs about a
second; benchmarks/accumulated.py builds its year by replaying a generated capture instead."""

from __future__ import annotations

import math
import random

from orderflow_tui.engine.liquidations import risk_band
from orderflow_tui.store.db import Batch, connect, write_batch

H = 3_600_000
D = 24 * H
VENUES = ("binance", "bybit", "okx")
SYMBOLS = {"binance": "BTCUSDT", "bybit": "BTCUSDT", "okx": "BTC-USDT-SWAP"}


def year_batch(end_ms: int, days: int = 365, per_day: int = 150, seed: int = 7) -> Batch:
    rnd = random.Random(seed)
    start = (end_ms - days * D) // H * H
    path, p = [], 42_000.0  # one hourly price path for the liquidations and the traded volume
    for _ in range((end_ms - start) // H + 1):
        p *= math.exp(rnd.gauss(0, 0.004))
        path.append(p)
    batch = Batch()
    t = start
    mean_gap = D / per_day
    while t < end_ms:
        t += int(rnd.expovariate(1 / mean_gap)) + 1
        if t >= end_ms:
            break
        venue = rnd.choice(VENUES)
        long = rnd.random() < 0.55
        qty = round(rnd.lognormvariate(-1.5, 1.2), 3) or 0.001
        px = round(path[(t - start) // H] * (1 + rnd.uniform(-0.003, 0.003)), 1)
        level = math.floor(px / 100) * 100.0
        batch.liquidations.append(("live", venue, SYMBOLS[venue], t, "long" if long else "short", px, qty, px * qty,
                                   int(venue == "binance"), "BTC", "", 100.0, level))
        if rnd.random() < 0.02:  # about three cascades a day
            count = rnd.randint(5, 40)
            quote = rnd.uniform(1e5, 5e6)
            lq = quote * rnd.random()
            venues = sorted(rnd.sample(VENUES, rnd.randint(1, 3)))
            risk = round(rnd.uniform(0.2, 1.9), 9)
            batch.cascades.append(("live", "BTC", t, t + rnd.randint(60_000, 900_000), count, quote, lq, quote - lq,
                                   ",".join(venues), int(len(venues) > 1), risk, risk_band(risk)))
    for i, p in enumerate(path):  # traded volume for the hourly VWAP (the price line and today's price)
        hour = start + i * H
        if hour < end_ms:
            batch.volumes.append(("live", hour, "binance", "BTCUSDT", "BTC", 1000, 10.0, 10.0, 10.0 * p, 10.0 * p))
    return batch


def build_year_store(path, end_ms: int, **kw):
    conn = connect(path)
    try:
        write_batch(conn, year_batch(end_ms, **kw))
    finally:
        conn.close()
    return path


def build_hour_store(path, end_ms: int, n: int = 40, seed: int = 3):
    """One hour of data, ending just before ``end_ms``: the little-data case."""
    rnd = random.Random(seed)
    start = (end_ms - H) // H * H + 1
    batch = Batch()
    for i in range(n):
        t = start + i * (H - 2) // (n - 1)  # from the hour's first ms to its last
        venue = VENUES[i % 3]
        px = 60_000.0 + rnd.uniform(-300, 300)
        qty = round(rnd.uniform(0.01, 2.0), 3)
        batch.liquidations.append(("live", venue, SYMBOLS[venue], t, "long" if i % 3 else "short", px, qty, px * qty,
                                   0, "BTC", "", 100.0, math.floor(px / 100) * 100.0))
    batch.cascades.append(("live", "BTC", start + 600_000, start + 780_000, 9, 420_000.0, 300_000.0, 120_000.0,
                           "binance,bybit", 1, 1.12, "high"))
    batch.volumes.append(("live", start - 1, "binance", "BTCUSDT", "BTC", 100, 1.0, 1.0, 60_000.0, 60_000.0))
    conn = connect(path)
    try:
        write_batch(conn, batch)
    finally:
        conn.close()
    return path
