"""``doctor``: per venue and stream, does data arrive? A verdict and a hint per line."""

from __future__ import annotations

import asyncio
import socket
import time
from urllib.parse import urlsplit

from rich.console import Console
from rich.table import Table

from orderflow_tui.engine.engine import Engine
from orderflow_tui.feeds.session import LiveSource


def run_doctor(settings, timeout: float, liquidation_timeout: float, demo: bool = False) -> int:
    rows = asyncio.run(_doctor(settings, timeout, liquidation_timeout, demo))
    table = Table(title="orderflow-tui doctor")
    for name in ("venue / stream", "check", "result", "hint"):
        table.add_column(name)
    bad = 0
    for stream, check, ok, result, hint in rows:
        bad += ok is False
        mark = "[green]ok[/]" if ok else "[yellow]no data yet[/]" if ok is None else "[red]FAIL[/]"
        table.add_row(stream, check, f"{mark} {result}", hint)
    Console().print(table)
    return 1 if bad else 0


async def _doctor(settings, timeout, liquidation_timeout, demo):
    source = LiveSource(settings, demo=demo)
    seen: dict = {}

    def on_data(stream, kind):
        seen.setdefault((stream, kind), time.monotonic())

    source.on_data = on_data
    rows = []
    await source.prepare()
    engine = Engine(settings.engine)
    conns = source.build(engine)
    for c in conns:
        host = urlsplit(c.stream.url).hostname or ""
        try:
            await asyncio.to_thread(socket.getaddrinfo, host, None)
            rows.append((c.stream.name, "name resolution", True, host, ""))
        except OSError as exc:
            rows.append((c.stream.name, "name resolution", False, f"{host}: {exc}",
                         "check DNS / network, or the endpoint setting"))
    tasks = [asyncio.create_task(c.run()) for c in conns]
    start = time.monotonic()
    while time.monotonic() - start < max(timeout, liquidation_timeout):
        await asyncio.sleep(0.5)
        # a book waits like trades (issue 21): its first depth message, and the book synced
        trades_done = all((c.stream.name, kind) in seen for c in conns for kind in ("trade", "book")
                          if kind in c.stream.expects) and _books_synced(conns, engine)
        liqs_done = all((c.stream.name, kind) in seen for c in conns for kind in ("liquidation", "context")
                        if kind in c.stream.expects)  # context waits like liquidations (issue 14)
        if trades_done and (liqs_done or time.monotonic() - start > liquidation_timeout):
            break
        if not trades_done and time.monotonic() - start > timeout:
            break
    source.stop()
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    for c in conns:
        st = c.state
        connected = st.frames > 0
        rows.append((c.stream.name, "connect + subscribe", connected and st.state != "refused",
                     f"{st.frames} frames" + (f"; {st.note}" if st.note else ""),
                     "" if connected else "firewall? a wrong URL? see [endpoints] in the config"))
        for topic, reason in c.refused.items():  # dropped; the stream's other topics went on
            rows.append((c.stream.name, f"subscribe {topic}", False, f"refused: {reason}",
                         "not listed on this venue? check feeds.group"))
        for kind in c.stream.expects:
            t = seen.get((c.stream.name, kind))
            limit = timeout if kind == "trade" else liquidation_timeout
            if t is not None and kind == "book":
                rows.append(_book_row(c, engine, t - start))
            elif t is not None:
                rows.append((c.stream.name, f"first {kind}", True, f"after {t - start:.1f}s", ""))
            elif kind == "book":
                rows.append((c.stream.name, "first book", False, f"none in {limit:.0f}s",
                             "no depth message: the depth route or symbol? --no-books (feeds.books = false) turns books off"))
            elif kind == "liquidation":
                rows.append((c.stream.name, "first liquidation", None, f"none in {limit:.0f}s",
                             "liquidations can be rare in a calm market; the route may also be wrong"))
            elif kind == "context":  # open interest and funding (issue 14)
                rows.append((c.stream.name, "first context", None, f"none in {limit:.0f}s",
                             "open interest / funding not seen yet: some venues push every 30-90 s"))
            else:
                rows.append((c.stream.name, "first trade", False, f"none in {limit:.0f}s",
                             "subscribed but silent: check the route (binance_trades_route) and symbols"))
    if source.exchange is not None:
        await source.exchange.stop()
    return rows


def _books_synced(conns, engine) -> bool:
    return all(b.synced for c in conns if c.stream.books for m in c._markets_watched()
               if (b := engine.books.get(m)) is not None)


def _book_row(c, engine, after: float) -> tuple:
    """The first depth message, and whether each book of the stream is synced."""
    books = [b for m in c._markets_watched() if (b := engine.books.get(m)) is not None]
    unsynced = [b.market for b in books if not b.synced]
    if unsynced:
        return (c.stream.name, "first book", False, f"after {after:.1f}s; not synced: {', '.join(unsynced)}",
                "depth arrives but the book never synced: REST snapshot blocked? see the venue's status")
    levels = ", ".join(f"{b.market.split(':')[1]} {sum(b.depth())} levels" for b in books)
    return (c.stream.name, "first book", True, f"after {after:.1f}s; synced ({levels})", "")
