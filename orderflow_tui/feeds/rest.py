"""REST GETs for refills and instrument lists, one client per venue that keeps its etiquette.

- 429 and 418 (Binance's IP ban): no call to that venue until ``Retry-After`` has passed (a 418
  without it waits ``rest_backoff_max_s``). A ban ignored grows from minutes to days.
- 5xx, timeouts and network errors: exponential backoff from ``rest_backoff_min_s``.
- A budget: at most ``rest_budget_share`` of the venue's published weight limit per window.
- While backing off, a caller that can wait (a refill) sleeps instead of calling; one that cannot
  (instrument lists at startup) gets ``RestBlocked`` at once.

The status line shows the wait (``VenueState.rest_until``). Calls run in a thread with the
standard library: a few calls an hour in normal operation.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import logging
import time
import urllib.error
import urllib.request
from collections import deque

USER_AGENT = "orderflow-tui/0.1"
log = logging.getLogger("orderflow_tui")


class RestError(Exception):
    pass


class RestBlocked(RestError):
    """Not called: the venue asked us to wait, or our own backoff runs."""


class _HttpStatus(Exception):
    def __init__(self, code: int, retry_after: float | None):
        self.code = code
        self.retry_after = retry_after


def _retry_after(value: str | None) -> float | None:
    """Seconds, or an HTTP date (RFC 9110); None when absent or unreadable."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, email.utils.parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def _get(url: str, timeout: float):
    """(parsed body, raw text, the weight the venue says this IP used this minute or None)."""
    req = urllib.request.Request(url, headers={"User-Agent": USER_AGENT, "Accept": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            body = resp.read(20 * 2**20)
            used = resp.headers.get(USED_WEIGHT)
    except urllib.error.HTTPError as exc:
        raise _HttpStatus(exc.code, _retry_after(exc.headers.get("Retry-After") if exc.headers else None)) from None
    try:
        return json.loads(body), body.decode("utf-8", "replace"), int(used) if used and used.isdigit() else None
    except ValueError:
        raise RestError(f"{url.split('?')[0]}: not JSON") from None


# Binance counts every caller on this IP (other programs too) and says so on each answer: past our
# share of the limit, no call until the minute turns (its weight windows are whole minutes)
USED_WEIGHT = "X-MBX-USED-WEIGHT-1M"


class RestClient:
    """Every REST call to one venue goes through its client (shared by that venue's connections)."""

    def __init__(self, venue: str, settings, state=None, limit: tuple[float, float] = (1e9, 1.0)):
        f = settings.feeds
        self.venue = venue
        self.state = state  # a VenueState, for the status line
        self.timeout = f.rest_timeout_s
        self.backoff_min = f.rest_backoff_min_s
        self.backoff_max = f.rest_backoff_max_s
        weight, self.window_s = limit  # the venue's published limit: weight per window
        self.budget = max(1.0, weight * f.rest_budget_share)
        self.spent: deque[tuple[float, float]] = deque()  # (monotonic time, weight) of calls in the window
        self.blocked_until = 0.0  # monotonic
        self.failures = 0  # consecutive 5xx / timeouts / 429 without Retry-After
        self.calls = 0

    def blocked_for(self) -> float:
        return max(0.0, self.blocked_until - time.monotonic())

    async def get_json(self, url: str, weight: float = 1.0, wait: bool = True):
        """(parsed body, raw text). Waits out a backoff and the budget when ``wait``, else raises
        RestBlocked during a backoff."""
        while True:
            now = time.monotonic()
            if now < self.blocked_until:
                if not wait:
                    raise RestBlocked(f"{self.venue} REST backing off for {self.blocked_until - now:.0f}s")
                await asyncio.sleep(self.blocked_until - now)
                continue
            while self.spent and now - self.spent[0][0] >= self.window_s:
                self.spent.popleft()
            if self.spent and sum(w for _, w in self.spent) + weight > self.budget:
                await asyncio.sleep(self.window_s - (now - self.spent[0][0]) + 0.001)
                continue
            break
        self.spent.append((now, weight))
        self.calls += 1
        where = url.split("?")[0]
        try:
            body, text, used = await asyncio.to_thread(_get, url, self.timeout)
        except _HttpStatus as exc:
            if exc.code in (418, 429):
                delay = exc.retry_after
                if delay is None:
                    delay = self.backoff_max if exc.code == 418 else self._next_backoff()
                self._block(delay, f"HTTP {exc.code}")
            elif exc.code >= 500 or exc.code in (403, 408):  # 403: Binance's WAF limit
                self._block(self._next_backoff(), f"HTTP {exc.code}")
            raise RestError(f"HTTP {exc.code} from {where}") from None
        except (urllib.error.URLError, OSError, TimeoutError) as exc:
            reason = "timeout" if isinstance(getattr(exc, "reason", exc), TimeoutError) else "network error"
            self._block(self._next_backoff(), reason)
            raise RestError(f"{where}: {getattr(exc, 'reason', exc)}") from None
        self.failures = 0
        if used is not None and used >= self.budget:
            self._block(60.0 - time.time() % 60.0, f"weight {used} used this minute on this IP")
        return body, text

    def _next_backoff(self) -> float:
        delay = min(self.backoff_max, self.backoff_min * 2**self.failures)
        self.failures += 1
        return delay

    def _block(self, delay: float, reason: str) -> None:
        self.blocked_until = max(self.blocked_until, time.monotonic() + delay)
        log.warning("%s REST: %s; no call for %.1fs", self.venue, reason, delay)
        if self.state is not None:
            self.state.rest_until = time.time() + self.blocked_for()
            self.state.rest_reason = reason
