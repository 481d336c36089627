"""Hyperliquid ``trades``: side B = buy aggressor, A = sell aggressor; sizes in the coin, prices in USDC.

The first frame after subscribing is a backlog of earlier trades; duplicates are dropped by id
downstream. There is no public liquidation stream: backstop liquidations come from the liquidator
vaults' ``userFills`` (below).
"""

from __future__ import annotations

from orjson import loads

from orderflow_tui.events import CONTROL, IGNORED, FrameError, Trade
from orderflow_tui.venues import hyperliquid_depth
from orderflow_tui.venues.common import SymbolTable, checked, ms, num, trade_id

VENUE = "hyperliquid"
CONTIGUOUS_IDS = False  # tid is a hash of the two order ids
LIQUIDATIONS_SAMPLED = True  # backstop liquidations only, from the liquidator vaults' fills (issue 14)


class Parser:
    venue = VENUE

    def __init__(self, instruments=None, options=None):
        options = options or {}
        self.symbols = SymbolTable(VENUE, instruments)
        self.b_is_buy = options.get("side_b_is_buy", True)

    def parse(self, frame):
        if hyperliquid_depth.is_depth(frame):  # the busiest frames: straight to the typed decoder
            return hyperliquid_depth.parse(self.symbols, frame)
        msg = loads(frame)
        if type(msg) is not dict:
            raise FrameError("not a JSON object")
        channel = msg.get("channel")
        if channel == "trades":
            data = msg["data"]
            if type(data) is not list:
                raise FrameError("data is not a list")
            return [self._trade(d) for d in data]
        if channel == "l2Book":
            return hyperliquid_depth.parse(self.symbols, frame)  # order books (issue 21)
        if channel == "userFills":
            return user_fills_liquidations(self.symbols, msg["data"])
        if channel == "activeAssetCtx":
            return asset_context(self.symbols, msg["data"])
        if channel in ("subscriptionResponse", "pong", "error"):
            return CONTROL
        if type(channel) is str:
            return IGNORED  # l2Book, bbo, candle, user...
        raise FrameError("unknown message")

    def _trade(self, d):
        coin = d["coin"]
        market, contract = self.symbols.get(coin)
        price = num(d["px"])
        qty = num(d["sz"])
        ts = ms(d["time"])
        checked(price, qty, ts)
        side = d["side"]
        if side != "B" and side != "A":
            raise FrameError(f"unknown side {side!r}")
        is_buy = (side == "B") == self.b_is_buy
        tid = trade_id(d.get("tid"), kind=int)
        # tid alone is not unique: only together with the time
        return Trade(market, VENUE, coin, ts, price, qty, price * qty, is_buy,
                     f"{ts}:{tid}" if tid is not None else None)


# ---- issue 14: backstop liquidations from the liquidator vaults' ``userFills``, and ``activeAssetCtx`` ----

from orderflow_tui.events import Context, Liquidation  # noqa: E402
from orderflow_tui.venues import market_fields as mf  # noqa: E402

FUNDING_INTERVAL_H = 1.0  # "paid every hour"
ADL = "Auto-Deleveraging"


def liquidated_long(fill: dict, user) -> bool | None:
    """Which position a fill that carries ``liquidation`` closed (exchange-feeds.md §8), or None when
    it is not a liquidation (an ADL fill carries the field too)."""
    direction = fill.get("dir")
    if direction == ADL:
        return None
    if type(direction) is str and direction.startswith("Liquidated "):
        if direction.endswith(" Long"):
            return True
        if direction.endswith(" Short"):
            return False
        raise FrameError(f"unknown dir {direction[:40]!r}")
    side = fill["side"]
    if side != "B" and side != "A":
        raise FrameError(f"unknown side {side!r}")
    if user is not None and user == fill["liquidation"].get("liquidatedUser"):
        start = mf.number(fill["startPosition"], -mf.OI_MAX, mf.OI_MAX, "startPosition")
        return start > 0  # the liquidated account's own fill: it held the position being closed
    return side == "B"  # a counterparty bought: a long was sold off


def user_fills_liquidations(symbols, data):
    """The liquidator vaults' fills: only ``backstop`` liquidations count. The first frame
    (``isSnapshot``) is history from before the session: skipped like Coinbase's last_match."""
    if type(data) is not dict:
        raise FrameError("userFills data is not an object")
    fills = data["fills"]
    if type(fills) is not list:
        raise FrameError("fills is not a list")
    snapshot = data.get("isSnapshot", False)
    if type(snapshot) is not bool:
        raise FrameError("isSnapshot is not a boolean")
    if snapshot:
        return IGNORED
    user = data.get("user")
    out = []
    for fill in fills:
        liq = fill.get("liquidation")
        if liq is None:
            continue  # the vault's ordinary trading
        if type(liq) is not dict:
            raise FrameError("liquidation is not an object")
        is_long = liquidated_long(fill, user)
        if is_long is None or liq.get("method") != "backstop":
            continue  # ADL, or a market liquidation the vault only took part in
        coin = fill["coin"]
        market, _ = symbols.get(coin)
        price = num(fill["px"])
        qty = num(fill["sz"])
        ts = ms(fill["time"])
        checked(price, qty, ts)
        out.append(Liquidation(market, VENUE, coin, ts, price, qty, price * qty, is_long, LIQUIDATIONS_SAMPLED))
    return out if out else IGNORED


def asset_context(symbols, data):
    """``openInterest`` in the coin, ``funding`` per hour, ``markPx``. The push has no time: the
    engine stamps it with its clock (ts 0)."""
    if type(data) is not dict or type(data.get("ctx")) is not dict:
        raise FrameError("activeAssetCtx without ctx")
    coin = data["coin"]
    market, _ = symbols.get(coin)
    ctx = data["ctx"]
    return [Context(market, VENUE, coin, 0, oi_base=mf.oi(ctx, "openInterest"), mark=mf.mark(ctx, "markPx"),
                    funding=mf.funding(ctx, "funding"), interval_h=FUNDING_INTERVAL_H)]
