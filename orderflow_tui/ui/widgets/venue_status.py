"""The status line: a badge per venue (LIVE, RECONNECTING, STALE, OFFLINE, REPLAY, SIMULATED),
msg/s, age of the last message, reconnects, trades recovered, and why when something is wrong."""

from __future__ import annotations

from orderflow_tui.ui.widgets.line_panel import LinePanel, fit

BADGE = {"connected": ("LIVE", "bold green"), "replay": ("REPLAY", "bold cyan"),
         "simulated": ("SIMULATED", "bold magenta"), "reconnecting": ("RECONNECTING", "bold yellow"),
         "stale": ("STALE", "bold yellow"), "down": ("OFFLINE", "bold red"), "starting": ("CONNECTING", "dim"),
         "finished": ("FINISHED", "dim"), "refused": ("REFUSED", "bold red")}


def badge(state: str) -> tuple[str, str]:
    return BADGE.get(state, (state.upper(), ""))


def overall(mode: str, statuses) -> tuple[str, str]:
    """One badge for the whole source: what a trader must know first."""
    if mode.startswith("REPLAY"):
        return "REPLAY", "reverse bold cyan"
    if mode.startswith("SIMULATED"):
        return "SIMULATED", "reverse bold magenta"
    states = [s.state for s in statuses]
    live = states.count("connected")
    if states and live == len(states):
        return "LIVE", "reverse bold green"
    if live:
        return f"LIVE {live}/{len(states)}", "reverse bold yellow"
    if any(s in ("reconnecting", "starting") for s in states) or not states:
        return "RECONNECTING" if "reconnecting" in states else "CONNECTING", "reverse bold yellow"
    if "stale" in states:
        return "STALE", "reverse bold yellow"
    return "OFFLINE", "reverse bold red"


class VenueStatus(LinePanel):
    BOXED = False
    DEFAULT_CSS = "VenueStatus { border: none; padding: 0; height: 1; background: $surface; }"

    def show(self, statuses, extra: str = "", simulated: bool = False) -> None:
        runs = []
        for st in statuses:
            text, style = badge("simulated" if simulated and st.state == "connected" else st.state)
            runs += [(f" {st.venue} ", "bold"), (text, style)]
            detail = f" {st.msgs_per_s:.0f}/s"
            if st.last_age_s is not None:
                detail += f" {st.last_age_s:.0f}s ago" if st.last_age_s >= 2 else ""
            if st.reconnects:
                detail += f" ↻{st.reconnects}"
            if st.gaps_filled:
                detail += f" recovered {st.gaps_filled}"
            if st.detail:
                detail += f" ({st.detail})"
            runs.append((detail + " │", ""))
        if extra:
            runs.append((f" {extra}", ""))
        used = sum(len(t) for t, _ in runs)
        if used > self.cols:  # keep the badges, cut the details
            runs = [(fit(t, 14), s) if s == "" and len(t) > 14 else (t, s) for t, s in runs]
        self.set_lines([tuple(runs)])
