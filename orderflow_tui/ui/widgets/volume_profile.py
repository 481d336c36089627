"""Volume profile: session (VPSV) or visible range (VPVR), with POC, value area and HVN / LVN."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from orderflow_tui.ui.format import colors, price, qty


class VolumeProfile(Static):
    DEFAULT_CSS = "VolumeProfile { height: auto; }"

    def show(self, snap, profile, title: str, scale: float, max_rows: int = 30) -> None:
        c = colors(self.app)
        t = Text(f"{title}\n", style="bold")
        if not profile.rows:
            self.update(t + Text("no volume yet"))
            return
        rows = sorted(profile.rows, reverse=True)
        if len(rows) > max_rows:  # fold into max_rows bands so the whole range fits
            band = -(-len(rows) // max_rows)
            folded = []
            for i in range(0, len(rows), band):
                chunk = rows[i:i + band]
                folded.append((chunk[-1], sum(sum(profile.rows[r][:2]) for r in chunk), chunk))
        else:
            folded = [(r, sum(profile.rows[r][:2]), [r]) for r in rows]
        top = max(v for _, v, _ in folded) or 1.0
        hvn, lvn = set(profile.hvn), set(profile.lvn)
        for row, vol, chunk in folded:
            inside = profile.val is not None and profile.val <= row <= profile.vah
            tag = "POC" if profile.poc in chunk else "HVN" if hvn & set(chunk) else "LVN" if lvn & set(chunk) else ""
            t.append(f"{price(row / scale):>11} ")
            t.append("█" * max(1, round(20 * vol / top)), style=c["buy"] if inside else c["muted"])
            t.append(f" {qty(vol)} {tag}\n")
        t.append(f"POC {price(profile.poc / scale)}  VAH {price(profile.vah / scale)}  VAL {price(profile.val / scale)}",
                 style="bold")
        self.update(t)
