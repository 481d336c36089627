"""The top line: product, group, last price, exchange clock (UTC), the source's badge, pause, bell."""

from __future__ import annotations

from orderflow_tui.ui.format import price, stamp
from orderflow_tui.ui.widgets.line_panel import LinePanel


class TopBar(LinePanel):
    BOXED = False
    DEFAULT_CSS = "TopBar { border: none; padding: 0 1; height: 1; background: $panel; }"

    def show(self, group: str, last_price: float | None, now_ms: int, badge: tuple[str, str], error: str,
             paused: bool, waiting: str, bell: bool, message: str = "") -> None:
        narrow = self.cols < 110
        runs = [] if narrow else [("orderflow-tui", "bold"), (" │ ", "")]
        runs.append((group, "bold"))
        if last_price:
            runs.append((f" │ {price(last_price)}", ""))
        runs += [(f" │ {stamp(now_ms)} UTC │ ", ""), (f" {badge[0]} ", badge[1])]
        if paused:
            runs += [(" │ ", ""), (" PAUSED ", "reverse bold")]
        if error:
            runs.append((f" │ {error}", "bold red"))
        if waiting:
            runs.append((f" │ {waiting}", "muted"))
        if message:
            runs += [(" │ ", ""), (f" {message} ", "reverse")]
        elif not narrow:
            runs.append((f" │ bell {'on' if bell else 'off'}", ""))
        self.set_lines([tuple(runs)])
