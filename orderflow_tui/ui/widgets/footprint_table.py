"""FOOTPRINT: one row per bar, oldest to newest like a tape, updated by diff: only changed cells
are redrawn and rows are only ever appended at the bottom or dropped from the top."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import DataTable

from orderflow_tui.ui.format import colors, hm, price, qty

COLUMNS = ("time", "close", "bid", "ask", "delta", "CVD", "rows", "POC", "marks")


def marks(bar) -> str:
    """🔥 ▲/▼ for a bar-level imbalance, ≡ stacked imbalances, ⊘ exhaustion, ◼ absorption."""
    out = []
    if bar.marker:
        out.append("🔥▲" if bar.marker == "buy" else "🔥▼")
    if bar.stacked_buy:
        out.append(f"≡▲{len(bar.stacked_buy)}")
    if bar.stacked_sell:
        out.append(f"≡▼{len(bar.stacked_sell)}")
    if bar.exhaustion:
        out.append(f"⊘{bar.exhaustion}")
    if bar.absorption:
        out.append("◼abs")
    return " ".join(out)


class FootprintTable(DataTable):
    DEFAULT_CSS = "FootprintTable { height: 1fr; overflow-x: hidden; }"

    def on_mount(self) -> None:
        self.cursor_type = "row"
        self.zebra_stripes = True
        for name in COLUMNS:
            self.add_column(name, key=name)
        self._shown: dict[str, tuple] = {}

    def show(self, snap, rows: int = 20) -> None:
        c = colors(self.app)
        bars = list(snap.bars[-rows:])
        added = False
        wanted = {str(b.open_ts): b for b in bars}
        for key in [k for k in self._shown if k not in wanted]:
            self.remove_row(key)
            del self._shown[key]
        for bar in bars:
            key = str(bar.open_ts)
            d = bar.delta
            dcol = c["buy"] if d > 0 else c["sell"] if d < 0 else ""
            cells = (
                hm(bar.open_ts) + ("" if bar.closed else "•"),
                price(bar.close),
                Text(qty(bar.bid), style=c["sell"]),
                Text(qty(bar.ask), style=c["buy"]),
                Text(qty(d, signed=True), style=dcol),
                qty(bar.cvd, signed=True),
                str(len(bar.rows)),
                price(snap.price(bar.poc)) if bar.poc is not None else "-",
                marks(bar),
            )
            plain = tuple(str(x) for x in cells)
            if key not in self._shown:
                if self._shown and int(key) < int(max(self._shown, key=int)):
                    self.clear()  # an older bar appeared (setting changed): rebuild in order
                    self._shown.clear()
                    return self.show(snap, rows)
                self.add_row(*cells, key=key)
                self._shown[key] = plain
                added = True
            elif self._shown[key] != plain:
                for name, old, new, cell in zip(COLUMNS, self._shown[key], plain, cells):
                    if old != new:
                        self.update_cell(key, name, cell)
                self._shown[key] = plain
        if added:
            self.scroll_to(x=0, y=self.max_scroll_y, animate=False, immediate=True)
