"""REST GETs for backfill and instrument lists: the standard library in a thread (a few calls an hour)."""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request

USER_AGENT = "orderflow-tui/0.1"


class RestError(Exception):
    pass


def _get(url: str, timeout: float):
    req = urllib.request.Request(url, headers={"User-Agent": USER_AGENT, "Accept": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            body = resp.read(20 * 2**20)
    except urllib.error.HTTPError as exc:
        raise RestError(f"HTTP {exc.code} from {url.split('?')[0]}") from None
    except (urllib.error.URLError, OSError, TimeoutError) as exc:
        raise RestError(f"{url.split('?')[0]}: {getattr(exc, 'reason', exc)}") from None
    try:
        return json.loads(body), body.decode("utf-8", "replace")
    except ValueError:
        raise RestError(f"{url.split('?')[0]}: not JSON") from None


async def get_json(url: str, timeout: float = 10.0):
    """(parsed body, raw text)."""
    return await asyncio.to_thread(_get, url, timeout)
