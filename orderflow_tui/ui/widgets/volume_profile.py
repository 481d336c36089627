"""Volume profile: session (VPSV) or visible range (VPVR), with POC, value area and HVN / LVN,
folded into as many bands as the panel has lines."""

from __future__ import annotations

from orderflow_tui.ui.format import price, qty
from orderflow_tui.ui.widgets.line_panel import LinePanel, fit


class VolumeProfile(LinePanel):
    def show(self, profile, title: str, scale: float) -> None:
        w = self.cols
        lines = [((fit(title, w), "bold"),)]
        if not profile.rows or profile.poc is None:
            self.set_lines(lines + [(("no volume yet", "muted"),)])
            return
        rows = sorted(profile.rows, reverse=True)
        room = max(1, self.rows - 2)
        st = max(1, min((a - b for a, b in zip(rows, rows[1:])), default=1))  # the row step, in ticks
        span = (rows[0] - rows[-1]) // st + 1
        band = -(-span // room) * st  # rows per line, as a price span: bands start at multiples of it
        bands: dict[int, list[int]] = {}
        for r in rows:
            bands.setdefault(r - r % band, []).append(r)
        # a band holding the POC is labelled with the POC's own price
        folded = [(profile.poc if profile.poc in chunk else key, sum(sum(profile.rows[r][:2]) for r in chunk), chunk)
                  for key, chunk in sorted(bands.items(), reverse=True)]
        if band > st:
            lines[0] = ((fit(f"{title} · {band // st} rows a line", w), "bold"),)
        top = max(v for _, v, _ in folded) or 1.0
        hvn, lvn = set(profile.hvn), set(profile.lvn)
        bar_w = max(1, w - 12 - 10 - 5)
        for row, vol, chunk in folded:
            inside = profile.val is not None and profile.val <= row <= profile.vah
            tag = "POC" if profile.poc in chunk else "HVN" if hvn & set(chunk) else "LVN" if lvn & set(chunk) else ""
            lines.append(((f"{price(row / scale):>11} ", ""),
                          (("█" if inside else "▒") * max(1, round(bar_w * vol / top)), "buy" if inside else "muted"),
                          (f" {qty(vol)} {tag}", "bold" if tag == "POC" else "")))
        lines.append(((fit(f"POC {price(profile.poc / scale)}  VAH {price(profile.vah / scale)}  "
                           f"VAL {price(profile.val / scale)}", w), "bold"),))
        self.set_lines(lines)
