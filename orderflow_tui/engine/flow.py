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

    def add_late(self, sec: int, is_buy: bool, quote: float, qty: float) -> bool:
        """A trade of an earlier second (a venue a few ms late): into its own second's bucket, so it
        leaves the window when that second does; not counted when already older than the window."""
        if sec >= self.sec:
            sec = self.sec  # not late for this venue's window (it joined in this second)
        elif sec <= self.sec - self.window_s:
            return False
        if sec == self.sec:
            if is_buy:
                self.buy_q += quote
                self.buy_b += qty
            else:
                self.sell_q += quote
                self.sell_b += qty
            return True
        buckets = self.buckets
        i = len(buckets)
        while i > 0 and buckets[i - 1][0] > sec:
            i -= 1
        if i > 0 and buckets[i - 1][0] == sec:
            s, bq, sq, bb, sb = buckets[i - 1]
            buckets[i - 1] = (s, bq + quote, sq, bb + qty, sb) if is_buy else (s, bq, sq + quote, bb, sb + qty)
        else:
            buckets.insert(i, (sec, quote, 0.0, qty, 0.0) if is_buy else (sec, 0.0, quote, 0.0, qty))
        if is_buy:
            self.done_buy_q += quote
            self.done_buy_b += qty
        else:
            self.done_sell_q += quote
            self.done_sell_b += qty
        return True

    def totals(self) -> tuple[float, float, float, float]:
        """(buy quote, sell quote, buy base, sell base) over the window."""
        return (self.done_buy_q + self.buy_q, self.done_sell_q + self.sell_q,
                self.done_buy_b + self.buy_b, self.done_sell_b + self.sell_b)


def net_pct(buy: float, sell: float) -> float:
    """(buy - sell) / (buy + sell) x 100, rounded to 9 decimals so that a band edge hit exactly
    (net 25.0) is not 24.999999999999996 from the float noise of the sums."""
    total = buy + sell
    return round((buy - sell) / total * 100.0, 9) if total > 0 else 0.0


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
