"""SIGNAL: the composite LONG / SHORT / NEUTRAL summary with its triggers and reasons.

Until ``ui.warmup_s`` seconds of data have arrived the confidence is not shown: a score from the
first seconds of a session is built on windows that are not yet full (see docs/decisions.md).
"""

from __future__ import annotations

from orderflow_tui.engine.signal import DISCLAIMER
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
        body: list[str] = []
        for reason in sig.reasons:  # each reason whole if it fits, over two lines when needed
            body += wrap(f"• {reason}", w)
        if len(body) > room:
            body = [fit(f"• {r}", w) for r in sig.reasons][:room]
        lines += [((text, ""),) for text in body]
        lines.append(((fit(DISCLAIMER if w >= 44 else "not trading advice", w), "italic muted"),))
        self.set_lines(lines)
