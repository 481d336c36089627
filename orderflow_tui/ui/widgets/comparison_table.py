"""MARKETS: one row per watched group, from the same snapshots as each group's snapshot view.

Per group: price and its 1 h change, session CVD with its 60 s net % (and the last 60 s as a
sparkline when there is room), pressure, liquidations over the tier window (5 min) and the
liquidation window (60 min) long/short, open-interest change and funding, the signal, the leading
venue. ● marks a group where something is happening (a cascade, a liquidation tier, extreme
pressure, a flow imbalance, a level alert or a divergence alert in the last minute), and says what
when there is room. ``o`` sorts, ↑/↓ select, enter opens the group's snapshot view. Below the table, on
a tall screen: the selected group's signal reasons and its latest alerts.
"""

from __future__ import annotations

import re

from orderflow_tui.ui.format import hms, money, price
from orderflow_tui.ui.widgets.cvd_panel import sparkline
from orderflow_tui.ui.widgets.line_panel import Columns, LinePanel, fit, wrap

SORTS = ("watchlist", "liquidations", "|CVD|", "OI change", "funding")
RECENT_ALERT_MS = 60_000


def liq_pair(long_q: float, short_q: float) -> str:
    return f"{money(long_q)}/{money(short_q)}"


def pct(x: float | None, digits: int = 1) -> str:
    return "—" if x is None else f"{x:+.{digits}f}%"


def happening(snap) -> str:
    """What is going on in a group right now ('' when nothing stands out)."""
    liq = snap.liquidations
    if liq.cascade is not None:
        return f"cascade {liq.cascade.band}"
    tier = next((f"{side} {t}" for side, t in sorted(liq.tiers.items()) if t), "")
    if tier:
        return f"liq. {tier}"
    if snap.pressure.strength == "extreme":
        return f"extreme {snap.pressure.dominant}"
    hot = [v.venue for v in snap.venues if v.imbalanced]
    if hot:
        return f"{hot[0]} imbalance"
    recent = next((a for a in snap.alerts if (a.kind.startswith("level") or a.kind == "divergence")
                   and a.text.startswith(f"{snap.group}:") and snap.now - a.ts <= RECENT_ALERT_MS), None)
    if recent is not None:  # a level alert or a CVD divergence (at a bar's close) in the last minute
        return recent.kind.replace("level_", "level ")
    return ""


def sort_key(order: str, snap):
    """Largest first; the watchlist order is the groups' own."""
    liq = snap.liquidations
    if order == "liquidations":  # the last 5 minutes, then the last hour
        return (-sum(liq.recent), -(liq.long[2] + liq.short[2]))
    if order == "|CVD|":
        return (-abs(snap.cvd_quote),)
    m = snap.market
    if order == "OI change":
        return (-abs(m.change_5m) if m is not None and m.change_5m is not None else 0.0,)
    if order == "funding":
        return (-abs(m.funding_apr) if m is not None and m.funding_apr is not None else 0.0,)
    return (0.0,)


def order_groups(groups: list[str], snaps: dict, order: str) -> list[str]:
    """The groups in display order: those with data by the sort key (ties in watchlist order), then
    those still waiting."""
    with_data = [g for g in groups if snaps.get(g) is not None]
    waiting = [g for g in groups if snaps.get(g) is None]
    return sorted(with_data, key=lambda g: (sort_key(order, snaps[g]), groups.index(g))) + waiting


def cells(snap) -> dict:
    """The row's texts: the numbers each group's snapshot view shows, formatted alike."""
    liq, m, p, sig = snap.liquidations, snap.market, snap.pressure, snap.signal
    spark = sparkline([v for _, v in snap.cvd_history][-60:], 60, 1)
    return {
        "group": snap.group,
        "price": price(snap.last_price),
        "1h": pct(snap.change_pct(60), 2),
        "CVD": money(snap.cvd_quote, signed=True),
        "60s": f"{snap.net_pct:+.1f}%",
        "trend 60s": spark[0][-15:] if spark else "",
        "pressure": p.dominant if p.dominant == "neutral" else f"{p.strength} {p.dominant}",
        "liq5": liq_pair(*liq.recent),
        "liq60": liq_pair(liq.long[2], liq.short[2]),
        "OI 5m": pct(m.change_5m if m else None),
        "OI 1h": pct(m.change_1h if m else None),
        "fund/y": pct(m.funding_apr if m else None),
        "signal": f"{sig.direction} {sig.score:+d}",
        "lead": snap.leading_venue or "—",
        "what": happening(snap),
    }


class ComparisonTable(LinePanel):
    def show(self, groups: list[str], snaps: dict, order: str, cursor: int) -> str | None:
        """Draw the table; returns the selected group (None when there is none)."""
        w, h = self.cols, self.rows
        first = next((s for s in snaps.values() if s is not None), None)
        tier_min = first.liquidations.recent_min if first else 5
        window_min = first.liquidations.window_min if first else 60
        spec = (("●", 1, "<", 0), ("group", 6, "<", 0), ("price", 11, ">", 0), ("1h", 7, ">", 1),
                ("CVD", 9, ">", 0), ("60s", 6, ">", 1), ("trend 60s", 15, "<", 6), ("pressure", 13, "<", 2),
                ("liq5", 17, ">", 1), ("liq60", 17, ">", 3), ("OI 5m", 7, ">", 3), ("OI 1h", 7, ">", 5),
                ("fund/y", 8, ">", 2), ("signal", 11, "<", 0), ("lead", 11, "<", 4),
                ("what", max(16, w - 172), "<", 4))
        cols = Columns(spec, w)
        names = {"liq5": f"liq {tier_min}m L/S", "liq60": f"liq {window_min}m L/S", "●": " "}
        head = cols.row({n: names.get(n, n) for n, *_ in cols.spec}, {n: "bold" for n, *_ in cols.spec})
        ordered = order_groups(groups, snaps, order)
        cursor = max(0, min(len(ordered) - 1, cursor))
        selected = ordered[cursor] if ordered else None
        self.set_title(f"MARKETS · {len(groups)} groups · by {order} (o) · ↑↓ select · enter opens")
        room = max(1, h - 1)
        if len(ordered) > room:
            room = max(1, h - 2)  # a line says what is above and below
        top = max(0, cursor - room + 1)
        lines = [head]
        for i, g in enumerate(ordered[top:top + room], start=top):
            snap = snaps.get(g)
            mark = "reverse" if i == cursor else ""
            if snap is None:
                lines.append(cols.row({"group": g, "price": "waiting", "CVD": "—", "signal": "—"},
                                      {n: f"muted {mark}" for n, *_ in cols.spec}))
                continue
            c = cells(snap)
            what = c["what"]
            c["●"] = "●" if what else " "
            sig = snap.signal.direction
            styles = {
                "●": f"bold {mark}", "group": f"bold {mark}", "price": mark,
                "1h": self._sign(snap.change_pct(60), mark), "CVD": self._sign(snap.cvd_quote, mark),
                "60s": self._sign(snap.net_pct, mark), "trend 60s": self._sign(snap.cvd_quote, mark),
                "pressure": f"{'buy' if snap.pressure.net > 0 else 'sell' if snap.pressure.net < 0 else ''} {mark}",
                "liq5": f"{'bold' if sum(snap.liquidations.recent) else 'muted'} {mark}", "liq60": mark,
                "OI 5m": mark, "OI 1h": mark, "fund/y": mark, "lead": mark,
                "signal": f"bold {'buy' if sig == 'LONG' else 'sell' if sig == 'SHORT' else 'muted'} {mark}",
                "what": f"bold {mark}",
            }
            lines.append(cols.row(c, styles))
        if len(ordered) > room:
            below = len(ordered) - top - room
            lines.append(((fit(f"{top} above · {max(0, below)} below · ↑↓ scroll", w), "muted"),))
        spare = h - len(lines)
        snap = snaps.get(selected) if selected else None
        if spare >= 4 and snap is not None:
            lines += self._detail(snap, w, spare)
        self.set_lines(lines)
        return selected

    @staticmethod
    def _sign(x: float | None, mark: str) -> str:
        return f"{'buy' if x and x > 0 else 'sell' if x and x < 0 else ''} {mark}".strip()

    @staticmethod
    def _detail(snap, w: int, spare: int) -> list:
        """The selected group's reasons and latest alerts, in the room the table leaves."""
        out = [((" " * w, ""),), ((fit(f"{snap.group}: {snap.signal.direction} · why", w), "bold"),)]
        for r in snap.signal.reasons:
            out += [((t, ""),) for t in wrap(f"• {r}", w)]
        word = re.compile(rf"\b{re.escape(snap.group)}")
        alerts = [a for a in snap.alerts if word.search(a.text)]
        if alerts:
            out.append(((fit(f"{snap.group} alerts", w), "bold"),))
            out += [((fit(f"{hms(a.ts)} {a.text}", w), "sell" if a.severity == "high" else ""),) for a in alerts]
        return out[:spare]
