"""Human output of the store: the accumulated report and CSV exports."""

from __future__ import annotations

import csv
import time

from orderflow_tui.ui.format import stamp


def ymd_hms(ms: int | None) -> str:
    if ms is None:
        return "-"
    return stamp(ms) + " UTC"  # as on the dashboard: YYYYMMDD unless ui.date_format says iso


def duration(ms: int) -> str:
    s = ms // 1000
    d, s = divmod(s, 86400)
    h, s = divmod(s, 3600)
    m, _ = divmod(s, 60)
    return f"{d} days, {h} hours, {m} minutes" if d else f"{h} hours, {m} minutes"


def format_stats(r: dict, path) -> str:
    from orderflow_tui.store.db import masked

    t, lo, sh = r["total"], r["long"], r["short"]
    lines = [
        f"ACCUMULATED LIQUIDATION STATISTICS  ({masked(path)}, source: {r.get('source', 'all')})",
        "",
        "DATA COLLECTION PERIOD",
        f"  First:     {ymd_hms(r['first_ts'])}",
        f"  Last:      {ymd_hms(r['last_ts'])}",
        f"  Duration:  {duration(r['duration_ms'])}",
        "",
        "GRAND TOTALS",
        f"  Liquidations:  {t['count']:,} events",
        f"  Quote:         ${t['quote']:,.0f}",
        f"  Cascades:      {r['cascades']['count']:,} ({r['cascades']['cross_exchange']:,} cross-exchange)",
        "",
        "LONG vs SHORT",
        f"  LONG:   {lo['count']:>8,} events | ${lo['quote']:>16,.0f} | {lo['share_pct']:5.1f}%",
        f"  SHORT:  {sh['count']:>8,} events | ${sh['quote']:>16,.0f} | {sh['share_pct']:5.1f}%",
        "",
        "BY GROUP (base in the group's coin)",
    ]
    for g, v in sorted(r["groups"].items()):
        lines.append(f"  {g:<8} {v['count']:>8,} events | {v['base']:>14,.4f} {g:<5} | ${v['quote']:>16,.0f}")
    lines += ["", "EXCHANGE BREAKDOWN"]
    for venue, v in r["venues"].items():
        lines.append(f"  {venue.upper():<12} {v['count']:>8,} events | ${v['quote']:>16,.0f} | {v['share_pct']:5.1f}%")
    rates = r["rates"]
    lines += ["", "AVERAGE RATES",
              f"  Liquidations/hour:  {rates['count_per_hour']:,.1f}",
              f"  USD/hour:           ${rates['quote_per_hour']:,.0f}"]
    if r["sessions"]:
        lines += ["", "RECENT RUNS (gaps between them are not covered)"]
        for s in r["sessions"][:5]:
            lines.append(f"  {s['mode']:<8} {ymd_hms(s['started_ms'])} -> {ymd_hms(s['stopped_ms'] or s['last_seen_ms'])}"
                         f"  {s['venues'] or s['source']}")
    return "\n".join(lines)


def export_csv(conn, fh, what: str, since: int | None, until: int | None, group: str | None,
               source: str | None = None) -> int:
    """One row per liquidation or per (hour, venue, symbol, source), with a source column."""
    from orderflow_tui.store.db import source_filter

    w = csv.writer(fh)
    _, cond, sargs = source_filter(conn, source)
    args = [since or 0, until if until is not None else 1 << 62, *sargs]
    g = f" AND {cond}" + (" AND grp = ?" if group else "")
    if group:
        args.append(group.upper())
    n = 0
    if what == "liquidations":
        w.writerow(["date", "time_utc", "ts_ms", "venue", "symbol", "group", "position", "price", "base", "quote",
                    "sampled", "source"])
        for venue, symbol, ts, side, price, qty, quote, sampled, grp, src in conn.execute(
                "SELECT venue, symbol, ts, side, price, qty, quote, sampled, grp, CASE origin WHEN '' THEN source "
                "ELSE origin END FROM liquidations "
                f"WHERE ts >= ? AND ts <= ?{g} ORDER BY ts, source", args):
            gm = time.gmtime(ts / 1000)
            w.writerow([time.strftime("%Y%m%d", gm), time.strftime("%H:%M:%S", gm), ts, venue, symbol, grp, side,
                        repr(price), repr(qty), repr(quote), sampled, src])
            n += 1
    else:
        w.writerow(["hour_utc", "ts_ms", "group", "venue", "symbol", "trades", "buy_base", "sell_base", "buy_quote",
                    "sell_quote", "long_liq_count", "long_liq_quote", "short_liq_count", "short_liq_quote", "source"])
        rows = {}
        # per whole source, folded to its kind here: SQLite's instr() is not PostgreSQL's strpos()
        for hour, venue, symbol, src, grp, trades, bb, sb, bq, sq in conn.execute(
                "SELECT hour, venue, symbol, source, grp, SUM(trades), SUM(buy_base), SUM(sell_base), SUM(buy_quote), "
                f"SUM(sell_quote) FROM volume_hours WHERE hour >= ? AND hour <= ?{g} GROUP BY 1, 2, 3, 4, 5", args):
            row = rows.setdefault((hour, venue, symbol, src.split(":", 1)[0]), [grp, 0, 0.0, 0.0, 0.0, 0.0, 0, 0.0, 0, 0.0])
            row[1] += trades
            row[2] += bb
            row[3] += sb
            row[4] += bq
            row[5] += sq
        for hour, venue, symbol, src, grp, side, count, quote in conn.execute(
                "SELECT minute / 3600000 * 3600000, venue, symbol, source, grp, side, SUM(count), SUM(quote) "
                f"FROM liq_minutes WHERE minute >= ? AND minute <= ?{g} GROUP BY 1, 2, 3, 4, 5, 6", args):
            row = rows.setdefault((hour, venue, symbol, src), [grp, 0, 0.0, 0.0, 0.0, 0.0, 0, 0.0, 0, 0.0])
            at = 6 if side == "long" else 8
            row[at] += count
            row[at + 1] += quote
        for (hour, venue, symbol, src), row in sorted(rows.items()):
            w.writerow([time.strftime("%Y%m%d %H:00", time.gmtime(hour / 1000)), hour, row[0], venue, symbol,
                        *row[1:], src])
            n += 1
    return n
