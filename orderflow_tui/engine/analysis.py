"""Read-side analytics: pure functions of engine state, computed when a view or alert asks."""

from __future__ import annotations

from dataclasses import dataclass

from orderflow_tui.engine.flow import cvd_trend, net_pct, pressure_strength


@dataclass(frozen=True)
class Pressure:
    buy_q: float
    sell_q: float
    buy_pct: float
    sell_pct: float
    net: float  # buy % - sell %
    dominant: str  # buy, sell, neutral
    strength: str  # extreme, strong, moderate, weak


@dataclass(frozen=True)
class VenueFlow:
    venue: str
    buy_q: float  # rolling window
    sell_q: float
    net_q: float
    net_pct: float
    dominance: float
    session_buy_q: float
    session_sell_q: float
    session_net_pct: float
    session_dominance: float
    imbalanced: bool = False


def window_totals(g) -> tuple[float, float, float, float]:
    bq = sq = bb = sb = 0.0
    for f in g.flow.values():
        a, b, c, d = f.totals()
        bq += a
        sq += b
        bb += c
        sb += d
    return bq, sq, bb, sb


def pressure(g, s) -> Pressure:
    bq, sq, _, _ = window_totals(g)
    total = bq + sq
    buy_pct = round(bq / total * 100, 9) if total > 0 else 50.0
    net = net_pct(bq, sq)  # = buy % - sell %, rounded: a band edge hit exactly counts
    dominant = "neutral" if abs(net) < s.pressure_neutral else ("buy" if net > 0 else "sell")
    strength = pressure_strength(net, s.pressure_extreme, s.pressure_strong, s.pressure_moderate)
    return Pressure(bq, sq, buy_pct, round(100 - buy_pct, 9), net, dominant, strength)


def flow_table(g, dominance_alert=40.0, net_alert=20.0) -> tuple[list[VenueFlow], str]:
    """Per-venue flow over the window and the session, and the leading venue (highest dominance)."""
    rows = []
    window = {v: f.totals()[:2] for v, f in g.flow.items()}
    session = {v: g.totals(v)[:2] for v in g.flow}
    total_w = sum(b + s for b, s in window.values())
    total_s = sum(b + s for b, s in session.values())
    for venue, (b, s) in window.items():
        sb, ss = session[venue]
        dom = round((b + s) / total_w * 100, 9) if total_w > 0 else 0.0
        net = net_pct(b, s)
        rows.append(VenueFlow(venue, b, s, b - s, net, dom, sb, ss, net_pct(sb, ss),
                              round((sb + ss) / total_s * 100, 9) if total_s > 0 else 0.0,
                              dom > dominance_alert and abs(net) > net_alert))
    rows.sort(key=lambda r: (-r.dominance, r.venue))
    leading = rows[0].venue if rows and rows[0].dominance > 0 else ""
    return rows, leading


def cvd_state(g, s) -> tuple[float, str, str]:
    """(rolling net %, direction, strength)."""
    bq, sq, _, _ = window_totals(g)
    net = net_pct(bq, sq)
    direction, strength = cvd_trend(net, s.cvd_strong, s.cvd_moderate, s.cvd_weak)
    return net, direction, strength


def divergence(bars, cvds, n: int) -> str:
    """Over the last n bars: price higher high with CVD lower high -> 'bearish';
    price lower low with CVD higher low -> 'bullish'; else ''."""
    k = len(bars)
    if k < 3:
        return ""
    # one plain loop, no slices nor generators: it runs at every bar close (with each trade of a
    # sparse capture)
    start = k - n if k > n else 0
    high, low, cvd_high, cvd_low = bars[start].high, bars[start].low, cvds[start], cvds[start]
    for i in range(start + 1, k - 1):
        b, c = bars[i], cvds[i]
        if b.high > high:
            high = b.high
        if b.low < low:
            low = b.low
        if c > cvd_high:
            cvd_high = c
        if c < cvd_low:
            cvd_low = c
    last, cvd = bars[k - 1], cvds[k - 1]
    if last.high > high and cvd < cvd_high:
        return "bearish"
    if last.low < low and cvd > cvd_low:
        return "bullish"
    return ""


def momentum(bars) -> tuple[float, float]:
    """(delta momentum, acceleration) of the newest bar: delta minus the previous one's, and its change."""
    d = [b.ask - b.bid for b in bars[-3:]]
    if len(d) < 2:
        return 0.0, 0.0
    mom = d[-1] - d[-2]
    acc = mom - (d[-2] - d[-3]) if len(d) == 3 else 0.0
    return mom, acc
