"""A capture of liquidation frames in each venue's documented format (no real ones were recorded)."""

import json
import random

from captures import write_capture


def liquidation_frames(n=300, seed=1, t0=1_700_000_000_000, gap=(100, 20000)):
    rnd = random.Random(seed)
    t = t0
    for _ in range(n):
        t += rnd.randint(*gap)
        venue = rnd.choice(["binance", "bybit", "okx"])
        long = rnd.random() < 0.5
        px = f"{60000 + rnd.random() * 100:.1f}"
        if venue == "binance":
            f = {"stream": "btcusdt@forceOrder", "data": {"e": "forceOrder", "E": t, "o": {
                "s": "BTCUSDT", "S": "SELL" if long else "BUY", "q": "0.5", "p": px, "ap": px, "X": "FILLED",
                "l": "0.5", "z": "0.5", "T": t}}}
        elif venue == "bybit":
            f = {"topic": "allLiquidation.BTCUSDT", "type": "snapshot", "ts": t,
                 "data": [{"T": t, "s": "BTCUSDT", "S": "Buy" if long else "Sell", "v": "0.25", "p": px}]}
        else:
            f = {"arg": {"channel": "liquidation-orders", "instType": "SWAP"}, "data": [{"details": [{
                "bkPx": px, "posSide": "long" if long else "short", "side": "sell" if long else "buy", "sz": "30",
                "ts": str(t)}], "instId": "BTC-USDT-SWAP"}]}
        yield t, venue, json.dumps(f)


def liquidation_capture(path, **kw):
    return write_capture(path, liquidation_frames(**kw))
