"""The headless replay report (contract.md §2)."""

from __future__ import annotations

from orderflow_tui.engine.context import context_report
from orderflow_tui.engine.footprint import poc_row
from orderflow_tui.instruments import Instruments


def _exact(x: float) -> float:
    # Quantities with at most 8 decimals (every venue here): 9 decimals remove float noise (0.1+0.2) so equal
    # decimal sums compare equal and a zero delta is 0.0, without touching significant digits.
    return round(x, 9) + 0.0


def build_report(engine, stats, instruments: Instruments) -> dict:
    markets = {}
    for key in sorted(engine.markets):
        m = engine.markets[key]
        liq = m.liq
        if m.trades == 0 and liq["long"][0] == 0 and liq["short"][0] == 0:
            continue
        exact = not instruments.contract(m.venue, m.symbol).inverse
        r = _exact if exact else float
        buy_base, sell_base = r(m.buy_base), r(m.sell_base)
        markets[key] = {
            "trades": m.trades,
            "buy_base": buy_base,
            "sell_base": sell_base,
            "buy_quote": m.buy_quote,
            "sell_quote": m.sell_quote,
            "cvd_base": r(m.buy_base - m.sell_base),
            "first_ts": m.first_ts if m.trades else None,
            "last_ts": m.last_ts if m.trades else None,
            "missing_trade_ids": m.missing,
            "liquidations": {
                side: {"count": liq[side][0], "base": r(liq[side][1]), "quote": liq[side][2]}
                for side in ("long", "short")
            },
            "footprint": _footprint(m.footprint, r) if m.footprint is not None else [],
            "duplicate_trades": m.duplicates,
            "group": m.group,
        }
        book = engine.books.get(key)
        if book is not None:
            markets[key]["book"] = book_report(book)
    return {
        "version": 1,
        "frames": stats.frames,
        "rejected_frames": stats.rejected,
        "markets": markets,
        "control_frames": stats.control,
        "ignored_frames": stats.ignored,
        "rejected_reasons": dict(stats.reasons.most_common(20)),
        "market_context": context_report(engine.context),  # open interest and funding (issue 14)
    }


def book_report(book) -> dict:
    """contract.md §2b: the best 20 levels a side and the book's counters."""
    bids, asks = book.top(20)
    return {"ts": book.ts, "bids": [[p, _exact(s)] for p, s in bids], "asks": [[p, _exact(s)] for p, s in asks],
            "updates": book.updates, "resyncs": book.resyncs, "gaps": book.gaps, "synced": book.synced}


def _footprint(series, r) -> list[dict]:
    out = []
    grid = series.grid
    ask_total = bid_total = 0.0
    for bar in sorted(series.history, key=lambda b: b.open_ts):
        ask_total += bar.ask
        bid_total += bar.bid
        rows = sorted(bar.levels)
        poc = poc_row(bar.levels, grid.ticks(bar.high), grid.ticks(bar.low), grid.step_ticks)
        out.append({
            "open_ts": bar.open_ts, "open": bar.open, "high": bar.high, "low": bar.low, "close": bar.close,
            "bid": r(bar.bid), "ask": r(bar.ask), "delta": r(bar.ask - bar.bid),
            "cvd": r(ask_total - bid_total), "trades": bar.trades, "poc": grid.price(poc),
            "levels": [{"p": grid.price(row), "bid": r(bar.levels[row].bid), "ask": r(bar.levels[row].ask)}
                       for row in rows],
        })
    return out
