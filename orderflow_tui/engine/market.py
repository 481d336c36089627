"""Per-market state: session totals, trade-id continuity, duplicate filtering."""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

from orderflow_tui.instruments import group_of

if TYPE_CHECKING:
    from orderflow_tui.engine.engine import GroupState
    from orderflow_tui.engine.flow import RollingFlow
    from orderflow_tui.engine.footprint import FootprintSeries

RECENT_IDS = 4096  # ids remembered per market to drop replays after reconnects and backlogs
GAP_RANGES = 256  # open gaps remembered per market, so late fills are recognized


class MarketState:
    def __init__(self, market: str, venue: str, symbol: str, contiguous: bool):
        self.market = market
        self.venue = venue
        self.symbol = symbol
        self.group = group_of(venue, symbol)
        self.contiguous = contiguous
        self.trades = 0
        self.buy_base: float = 0.0
        self.sell_base: float = 0.0
        self.buy_quote: float = 0.0
        self.sell_quote: float = 0.0
        self.first_ts = 1 << 62  # min / max exchange time of the trades
        self.last_ts = -1
        self.last_price = 0.0
        self.last_id = -2  # contiguous ids: the last one; -2 = none seen yet (never an id minus one)
        self.missing = 0
        self.gaps: deque[list[int]] = deque(maxlen=GAP_RANGES)  # [first, last] missing ids
        self.duplicates = 0
        self.seen: set = set()
        self.seen_order: deque = deque()
        # [count, base, quote] for liquidated longs and shorts
        self.liq: dict[str, list] = {"long": [0, 0.0, 0.0], "short": [0, 0.0, 0.0]}
        # the base FootprintSeries (the report's, or 1m on the group's rows), and another bar
        # setting or row size the trader chose, when not the base; both set by the engine
        self.footprint: FootprintSeries = None  # type: ignore[assignment]
        self.view: FootprintSeries | None = None
        self.p_ts = -1  # the print being merged: same taker side, same exchange ms
        self.p_buy = False
        self.p_qty: float = 0.0
        self.p_quote: float = 0.0
        self.p_px: float = 0.0
        self.p_n = 0
        self.g: GroupState = None  # type: ignore[assignment]  # the GroupState, and the venue's RollingFlow in it
        self.flow: RollingFlow = None  # type: ignore[assignment]

    def accept_id(self, tid: object, fills: int = 1) -> bool:
        """False for a trade already counted. Tracks gaps in contiguous ids. A print of n fills
        (OKX) covers ids tid-n+1 .. tid: a REST fill among them is a duplicate, and so is the
        message when its last fill was already counted from REST."""
        if tid is None:
            return True  # nothing to check by
        if self.contiguous and isinstance(tid, int):
            last = self.last_id
            if last == -2 or tid == last + 1:
                self.last_id = tid
                return True
            if tid > last:
                self.missing += tid - last - 1
                self.gaps.append([last + 1, tid - 1])
                self.last_id = tid
                return True
            return self._fill(tid)
        seen = self.seen
        if tid in seen:
            self.duplicates += 1
            return False
        order = self.seen_order
        if fills > 1 and isinstance(tid, int):
            for i in range(tid - fills + 1, tid + 1):
                seen.add(i)
                order.append(i)
        else:
            seen.add(tid)
            order.append(tid)
        while len(order) > RECENT_IDS:
            seen.discard(order.popleft())
        return True

    def _fill(self, tid: int) -> bool:
        """An id below the last one: a late fill of a known gap, or a duplicate."""
        for gap in self.gaps:
            lo, hi = gap
            if lo <= tid <= hi:
                self.missing -= 1
                if lo == hi:
                    self.gaps.remove(gap)
                elif tid == lo:
                    gap[0] = tid + 1
                elif tid == hi:
                    gap[1] = tid - 1
                else:  # split the gap around the filled id
                    gap[1] = tid - 1
                    self.gaps.append([tid + 1, hi])
                return True
        self.duplicates += 1
        return False

    @property
    def cvd_base(self) -> float:
        return self.buy_base - self.sell_base

    @property
    def cvd_quote(self) -> float:
        return self.buy_quote - self.sell_quote
