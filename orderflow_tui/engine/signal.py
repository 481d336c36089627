"""The composite LONG / SHORT / NEUTRAL signal (analytics.md §8): a summary of flow, not advice."""

from __future__ import annotations

from dataclasses import dataclass

CVD_POINTS = {"strong": 40, "moderate": 25, "weak": 15, "": 0}
PRESSURE_POINTS = {"extreme": 30, "strong": 20, "moderate": 10, "weak": 0}
DISCLAIMER = "A summary of order flow, not trading advice."
NO_CASCADE = "Liquidations: no active cascade"  # the part that adds nothing: a short card drops it first


@dataclass(frozen=True)
class Signal:
    direction: str  # LONG, SHORT or NEUTRAL
    score: int
    confidence: int
    triggers: tuple[str, ...]
    reasons: tuple[str, ...]


def composite(cvd_dir, cvd_strength, net, cvd_quote, pressure_dom, pressure_strength, buy_pct,
              liq_side, leading_venue, leading_net, threshold=30.0, flow_net=15.0) -> Signal:
    score = 0
    triggers, reasons = [], []
    pts = CVD_POINTS[cvd_strength] if cvd_dir != "neutral" else 0
    if cvd_dir == "bullish":
        score += pts
        triggers.append("Positive CVD")
    elif cvd_dir == "bearish":
        score -= pts
        triggers.append("Negative CVD")
    reasons.append(cvd_reason(cvd_dir, cvd_strength, net, cvd_quote))
    pts = PRESSURE_POINTS[pressure_strength]
    if pts and pressure_dom == "buy":
        score += pts
        triggers.append("Buy pressure")
    elif pts and pressure_dom == "sell":
        score -= pts
        triggers.append("Sell pressure")
    reasons.append(f"Pressure: {pressure_strength} {pressure_dom} ({buy_pct:.1f}% buy)")
    if liq_side == "short":
        score += 20
        triggers.append("Short liquidations")
        reasons.append("Shorts dominate liquidations during an active cascade")
    elif liq_side == "long":
        score -= 20
        triggers.append("Long liquidations")
        reasons.append("Longs dominate liquidations during an active cascade")
    else:
        reasons.append(NO_CASCADE)
    if leading_venue and leading_net > flow_net:
        score += 10
        triggers.append(f"{leading_venue.capitalize()} buying")
    elif leading_venue and leading_net < -flow_net:
        score -= 10
        triggers.append(f"{leading_venue.capitalize()} selling")
    reasons.append(f"Leading venue: {leading_venue or '-'} net {leading_net:+.1f}%")
    if score > threshold:
        direction, confidence = "LONG", score
    elif score < -threshold:
        direction, confidence = "SHORT", -score
    else:
        direction, confidence = "NEUTRAL", abs(score)
    return Signal(direction, score, confidence, tuple(triggers), tuple(reasons))


def cvd_reason(direction: str, strength: str, net: float, cvd_quote: float) -> str:
    cvd = f"CVD {money(cvd_quote, signed=True)}"
    if direction == "neutral":
        return f"Balanced flow: {net:+.1f}% net ({cvd})"
    side = "buy" if direction == "bullish" else "sell"
    word = "buying" if direction == "bullish" else "selling"
    return f"{strength.capitalize()} {side} pressure: {abs(net):.1f}% net {word} ({cvd})"


def money(x: float, signed: bool = False) -> str:
    sign = ("+" if x >= 0 else "-") if signed else ("-" if x < 0 else "")
    a = abs(x)
    for unit, div in (("B", 1e9), ("M", 1e6), ("K", 1e3)):
        if a >= div:
            return f"{sign}${a / div:.1f}{unit}"
    return f"{sign}${a:,.0f}"
