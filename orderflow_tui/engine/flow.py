"""Rolling buy/sell flow (analytics.md §1, §2, §4) kept in one-second buckets.

Adding a trade touches only the newest bucket; a bucket leaves the window once, when the clock
passes it, so the cost per trade is O(1) whatever the rate.
"""

from __future__ import annotations

from collections import deque


class RollingFlow:
    """Taker buy/sell volume over the last ``window_s`` seconds (second resolution)."""

    __slots__ = ("window_s", "buckets", "sec", "buy_q", "sell_q", "buy_b", "sell_b",
                 "done_buy_q", "done_sell_q", "done_buy_b", "done_sell_b")

    def __init__(self, window_s: int = 60):
        self.window_s = window_s
        self.buckets: deque[tuple[int, float, float, float, float]] = deque()
        self.sec = -1  # the current (newest) bucket
        self.buy_q = self.sell_q = self.buy_b = self.sell_b = 0.0
        self.done_buy_q = self.done_sell_q = self.done_buy_b = self.done_sell_b = 0.0

    def roll(self, sec: int) -> None:
        """Move the current bucket to ``sec`` (only forwards) and drop what left the window."""
        if sec <= self.sec:
            return
        if self.sec >= 0 and (self.buy_q or self.sell_q):
            self.buckets.append((self.sec, self.buy_q, self.sell_q, self.buy_b, self.sell_b))
            self.done_buy_q += self.buy_q
            self.done_sell_q += self.sell_q
            self.done_buy_b += self.buy_b
            self.done_sell_b += self.sell_b
        self.sec = sec
        self.buy_q = self.sell_q = self.buy_b = self.sell_b = 0.0
        oldest = sec - self.window_s
        buckets = self.buckets
        while buckets and buckets[0][0] <= oldest:
            _, bq, sq, bb, sb = buckets.popleft()
            self.done_buy_q -= bq
            self.done_sell_q -= sq
            self.done_buy_b -= bb
            self.done_sell_b -= sb
        if not buckets:  # no float residue from the subtractions once empty
            self.done_buy_q = self.done_sell_q = self.done_buy_b = self.done_sell_b = 0.0

    def totals(self) -> tuple[float, float, float, float]:
        """(buy quote, sell quote, buy base, sell base) over the window."""
        return (self.done_buy_q + self.buy_q, self.done_sell_q + self.sell_q,
                self.done_buy_b + self.buy_b, self.done_sell_b + self.sell_b)


def net_pct(buy: float, sell: float) -> float:
    total = buy + sell
    return (buy - sell) / total * 100.0 if total > 0 else 0.0


def cvd_trend(net: float, strong: float, moderate: float, weak: float) -> tuple[str, str]:
    """(direction, strength) from rolling net %: ('bullish', 'strong') ... ('neutral', '')."""
    a = abs(net)
    if a <= weak:
        return "neutral", ""
    strength = "strong" if a > strong else "moderate" if a > moderate else "weak"
    return ("bullish" if net > 0 else "bearish"), strength


def pressure_strength(net: float, extreme: float, strong: float, moderate: float) -> str:
    a = abs(net)
    return "extreme" if a > extreme else "strong" if a >= strong else "moderate" if a >= moderate else "weak"
