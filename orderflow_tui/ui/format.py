"""Number and time formats shared by the widgets. Venue text is escaped before it reaches markup."""

from __future__ import annotations

import math
import time


def money(x: float, signed: bool = False) -> str:
    sign = ("+" if x > 0 else "-" if x < 0 else " ") if signed else ("-" if x < 0 else "")
    a = abs(x)
    for unit, div in (("B", 1e9), ("M", 1e6), ("K", 1e3)):
        if a >= div:
            return f"{sign}${a / div:.2f}{unit}"
    return f"{sign}${a:,.0f}"


def qty(x: float, signed: bool = False) -> str:
    a = abs(x)
    if a >= 10_000:
        body = f"{a:,.0f}"
    elif a >= 100:
        body = f"{a:,.2f}"
    elif a >= 0.0001 or a == 0:
        body = f"{a:.4f}"  # one column format: 1.2500, 0.0390, 0.0020
    else:  # dust: four significant digits, never scientific notation
        body = f"{a:.{3 - math.floor(math.log10(a))}f}"
    return (("+" if x > 0 else "-" if x < 0 else " ") if signed else ("-" if x < 0 else "")) + body


def price(p: float) -> str:
    return f"{p:,.2f}" if p >= 100 else f"{p:.4f}" if p >= 1 else f"{p:.6g}"


# Dates print as YYYYMMDD (analytics.md §10), or ISO with ui.date_format = "iso"; times are always
# HH:MM:SS UTC. One process shows one format: the commands set it once from the settings.
DATE_FORMATS = {"yyyymmdd": "%Y%m%d", "iso": "%Y-%m-%d"}
_date = DATE_FORMATS["yyyymmdd"]


def step_decimals(step: float) -> int:
    """Decimals a price on rows of ``step`` needs: 10 -> 0, 0.5 -> 1, 0.25 -> 2."""
    d = 0
    while d < 10 and abs(step * 10**d - round(step * 10**d)) > 1e-9 * max(1.0, step * 10**d):
        d += 1
    return d


def row_price(p: float, decimals: int) -> str:
    """A row's price at the decimals its step needs (a ladder of 10-dollar rows shows no cents)."""
    return f"{p:,.{decimals}f}"


def set_date_format(name: str) -> None:
    """``name``: a key of DATE_FORMATS (config validates ui.date_format against them)."""
    global _date
    _date = DATE_FORMATS[name]


def ymd(ms: int) -> str:
    """The date, UTC: 20261130 (or 2026-11-30)."""
    return time.strftime(_date, time.gmtime(ms / 1000))


def stamp(ms: int) -> str:
    """Date and time, UTC: 20261130 16:46:18 (or 2026-11-30 16:46:18)."""
    return time.strftime(_date + " %H:%M:%S", time.gmtime(ms / 1000))


def day_hour(ms: int) -> str:
    """An hour's label on a chart axis: 20261130 16:00."""
    return time.strftime(_date + " %H:00", time.gmtime(ms / 1000))


def short(x: float) -> str:
    """A volume in at most 5 characters, for grid cells: 0.123 12.3 123 1.2K 12K 1.2M."""
    a = abs(x)
    if a == 0:
        return "0"
    if a < 10:
        body = f"{a:.2f}" if a >= 0.01 else f"{a:.3f}"[1:] if a >= 0.001 else "~0"
    elif a < 100:
        body = f"{a:.1f}"
    elif a < 1000:
        body = f"{a:.0f}"
    else:
        body = next(f"{a / d:.1f}{u}" if a / d < 10 else f"{a / d:.0f}{u}"
                    for u, d in (("B", 1e9), ("M", 1e6), ("K", 1e3)) if a >= d)
    return ("-" if x < 0 else "") + body


def hms(ms: int) -> str:
    return time.strftime("%H:%M:%S", time.gmtime(ms / 1000))


def hm(ms: int) -> str:
    return time.strftime("%H:%M", time.gmtime(ms / 1000))


def safe(text: str) -> str:
    """Venue-provided text (symbols, ids) as literal text in markup. Every '[' is escaped:
    rich.markup.escape and textual.markup.escape both leave tags like [RED] alone."""
    return str(text).replace("\\", "\\\\").replace("[", "\\[")
