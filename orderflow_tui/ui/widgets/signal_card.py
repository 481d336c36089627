"""SIGNAL: the composite LONG / SHORT / NEUTRAL summary with its triggers and reasons.

Until ``ui.warmup_s`` seconds of data have arrived the confidence is not shown: a score from the
first seconds of a session is built on windows that are not yet full (see docs/decisions.md).
"""

from __future__ import annotations

from orderflow_tui.engine.signal import DISCLAIMER, NO_CASCADE
from orderflow_tui.ui.widgets.line_panel import LinePanel, fit, wrap


class SignalCard(LinePanel):
    def show(self, snap, data_s: float, warmup_s: float) -> None:
        w = self.cols
        sig = snap.signal
        color = "buy" if sig.direction == "LONG" else "sell" if sig.direction == "SHORT" else "muted"
        arrow = "▲" if sig.direction == "LONG" else "▼" if sig.direction == "SHORT" else "◆"
        narrow = w < 36
        if data_s < warmup_s:
            conf = (f" warm-up {data_s:.0f}/{warmup_s:.0f} s" if narrow else
                    f"  warming up {data_s:.0f}/{warmup_s:.0f} s", "muted")
        else:
            conf = (f" conf {sig.confidence} {sig.score:+d}" if narrow else
                    f"  confidence {sig.confidence}  score {sig.score:+d}", "")
        lines = [((f"{arrow} {sig.direction}", f"bold {color}"), conf),
                 (("Triggers: ", "bold"), (fit(", ".join(sig.triggers) or "none", max(0, w - 10)), ""))]
        room = max(0, self.rows - 3)
        body = [line for r in sig.reasons for line in wrap(f"• {r}", w)]  # each whole, over two lines if needed
        if len(body) > room:
            body = fill(shown(sig.reasons, room), room, w)
        lines += [((text, ""),) for text in body]
        lines.append(((fit(DISCLAIMER if w >= 44 else "not trading advice", w), "italic muted"),))
        self.set_lines(lines)


def shown(reasons, room: int) -> list[str]:
    """The reasons a card short of room shows, in their order, at most ``room``. The book's line keeps
    its place (no other panel of the snapshot view says it); the liquidation line that says nothing
    gives way first (its room lets another line show whole), then the last of the others (the market
    context, the leading venue)."""
    keep = [r for r in reasons if r != NO_CASCADE]
    while len(keep) > room:
        others = [i for i, r in enumerate(keep) if not r.startswith("Book:")]
        del keep[others[-1] if others else -1]
    return keep


def fill(reasons, room: int, w: int) -> list[str]:
    """One line each, then over more lines where the room left allows, the book's line first; a
    line still cut ends in "…"."""
    lines = {r: [fit(f"• {r}", w)] for r in reasons}
    spare = room - len(reasons)
    for r in sorted(reasons, key=lambda r: not r.startswith("Book:")):
        wrapped = wrap(f"• {r}", w)
        take = min(len(wrapped), spare + 1)
        if take > 1:
            lines[r] = wrapped[:take - 1] + [fit(" ".join([wrapped[take - 1]] + [x.strip() for x in wrapped[take:]]), w)]
            spare -= take - 1
    return [line for r in reasons for line in lines[r]]
