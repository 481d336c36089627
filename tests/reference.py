"""An independent computation of the replay report, in Decimal, straight from the raw frames.

It shares no code with the package: it is what a careful reader of contract.md would write.
"""

from __future__ import annotations

import json
from collections import defaultdict
from decimal import Decimal as D

OKX_CT = {"BTC-USDT-SWAP": (D("0.01"), False), "UNI-USD-SWAP": (D("10"), True), "BTC-USD-220527": (D("100"), True)}


def raw_trades(frames):
    """(market, ts, price, base, quote, is_buy, id) from Binance, Bybit and OKX frames."""
    for _, venue, f in frames:
        m = json.loads(f)
        if venue == "binance":
            d = m.get("data", m)
            if d.get("e") in ("aggTrade", "trade"):
                if d.get("X", "MARKET") != "MARKET":
                    continue
                p, q = D(d["p"]), D(d["q"])
                yield f"binance:{d['s']}", d["T"], p, q, p * q, not d["m"], d.get("a", d.get("t"))
        elif venue == "bybit" and m.get("topic", "").startswith("publicTrade."):
            for d in m["data"]:
                p, q = D(d["p"]), D(d["v"])
                yield f"bybit:{d['s']}", d["T"], p, q, p * q, d["S"] == "Buy", None
        elif venue == "okx" and m.get("arg", {}).get("channel") == "trades":
            for d in m["data"]:
                p, n = D(d["px"]), D(d["sz"])
                ct, inverse = OKX_CT.get(d["instId"], (None, False))
                if ct is None:
                    base, quote = n, n * p
                elif inverse:
                    base, quote = n * ct / p, n * ct
                else:
                    base, quote = n * ct, n * ct * p
                yield f"okx:{d['instId']}", int(d["ts"]), p, base, quote, d["side"] == "buy", None


def reference_report(frames, tf_ms=60_000, step=D("10")):
    out = defaultdict(lambda: {"trades": 0, "buy_base": D(0), "sell_base": D(0), "buy_quote": D(0),
                               "sell_quote": D(0), "first_ts": None, "last_ts": None, "missing": 0,
                               "last_id": None, "bars": {}})
    for market, ts, p, base, quote, is_buy, tid in raw_trades(frames):
        r = out[market]
        if tid is not None:
            if r["last_id"] is not None and tid > r["last_id"] + 1:
                r["missing"] += tid - r["last_id"] - 1
            r["last_id"] = tid
        r["trades"] += 1
        r["buy_base" if is_buy else "sell_base"] += base
        r["buy_quote" if is_buy else "sell_quote"] += quote
        r["first_ts"] = ts if r["first_ts"] is None else min(r["first_ts"], ts)
        r["last_ts"] = ts if r["last_ts"] is None else max(r["last_ts"], ts)
        open_ts = ts - ts % tf_ms
        bar = r["bars"].setdefault(open_ts, {"open": p, "high": p, "low": p, "close": p, "bid": D(0), "ask": D(0),
                                             "trades": 0, "levels": defaultdict(lambda: [D(0), D(0)])})
        bar["high"], bar["low"], bar["close"] = max(bar["high"], p), min(bar["low"], p), p
        bar["trades"] += 1
        row = (p // step) * step
        bar["levels"][row][1 if is_buy else 0] += base
        bar["ask" if is_buy else "bid"] += base
    reports = {}
    for market, r in out.items():
        bars, cvd = [], D(0)
        for open_ts in sorted(r["bars"]):
            b = r["bars"][open_ts]
            cvd += b["ask"] - b["bid"]
            mid = (b["high"] + b["low"]) / 2
            poc = max(b["levels"], key=lambda row: (sum(b["levels"][row]), -abs(row + step / 2 - mid), -row))
            bars.append({"open_ts": open_ts, "open": b["open"], "high": b["high"], "low": b["low"],
                         "close": b["close"], "bid": b["bid"], "ask": b["ask"], "delta": b["ask"] - b["bid"],
                         "cvd": cvd, "trades": b["trades"], "poc": poc,
                         "levels": [{"p": row, "bid": v[0], "ask": v[1]} for row, v in sorted(b["levels"].items())]})
        reports[market] = {"trades": r["trades"], "buy_base": r["buy_base"], "sell_base": r["sell_base"],
                           "buy_quote": r["buy_quote"], "sell_quote": r["sell_quote"],
                           "cvd_base": r["buy_base"] - r["sell_base"], "first_ts": r["first_ts"],
                           "last_ts": r["last_ts"], "missing_trade_ids": r["missing"], "footprint": bars}
    return reports


def assert_close(ours, theirs, path="report"):
    """Relative 1e-9, and exact zero where the decimal answer is zero."""
    if isinstance(theirs, dict):
        for k, v in theirs.items():
            assert k in ours, f"{path}.{k} missing"
            assert_close(ours[k], v, f"{path}.{k}")
    elif isinstance(theirs, list):
        assert len(ours) == len(theirs), f"{path}: {len(ours)} items, expected {len(theirs)}"
        for i, (a, b) in enumerate(zip(ours, theirs)):
            assert_close(a, b, f"{path}[{i}]")
    elif isinstance(theirs, (D, float)):
        b = D(theirs)
        a = D(repr(ours))
        assert abs(a - b) <= D("1e-9") * max(abs(a), abs(b)), f"{path}: {ours} != {b}"
    else:
        assert ours == theirs, f"{path}: {ours!r} != {theirs!r}"
