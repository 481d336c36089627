"""The help screen: every key, and what the numbers mean in one line each."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

HELP = """[b]orderflow-tui keys[/b]

  s  snapshot view          a  accumulated view        f  footprint detail
  h  heatmap view           d  DOM merged / per venue  tab  next view
  g  next group (BTC, ETH…) p / space  pause
  b / B  next / previous bar setting (1m 5m 15m 1h 4h 1d, volume, trade count)
  + / -  coarser / finer price rows (heatmap: its own rows)
  ← / →  select a bar (footprint grid); scroll the history (heatmap); home / end: the ends
  r  chart range (24h 7d 30d all); snapshot view: CVD chart 15m 4h 24h 7d (store)
  t  next theme             n  terminal bell on/off
  accumulated view (a): 1 liquidation volume  2 daily heatmap (day x hour)  3 cascade
    timeline  4 long vs short  5 market share by venue  6 daily summary  7 cumulative
    volume  8 price levels (today's price ►); the largest cascades beside them
  c  markets: every watched group   o  sort it (liquidations, |CVD|, OI change, funding)
  ↑ / ↓  select a group (markets) or a price row (footprint grid)   enter  open the group
  m  mark / unmark the footprint's selected row as an alert level (⚑)
  ctrl+p  command palette   ?  this help               q  quit

[b]What the numbers are[/b]
  CVD: taker buys minus taker sells since the session start (in $ and in the coin).
  PRESSURE: share of taker buying over the last 60 s; strength by |buy% − sell%|.
  FOOTPRINT: bid = taker sells, ask = taker buys per price row; ◆ POC; 🔥 one side > 3×;
    ≡ stacked diagonal imbalances; ⊘ exhaustion; ◼ absorption. The grid (f): bid×ask per
    price and bar, shaded by volume, bold = imbalance, underlined = stacked, ► last price.
  DOM (f): resting bids | asks per price row (all live books summed, or per venue with d),
    the selected bar's traded bid×ask beside them; reverse = the touch, W = a wall.
    A book resyncing or stale is named and left out, never drawn as live.
  HEATMAP (h): time × price, shade = resting size (log scale, legend below); ▲▼ taker buy /
    sell (▴▾ small), ✖ liquidation, ━ last price, × on the time axis = no live book then.
  Badges: LIVE, RECONNECTING, STALE, OFFLINE per venue; REPLAY / SIMULATED for other sources.
  LIQUIDATIONS: LONG = a long position was force-closed (forced selling); * = sampled venue.
  SIGNAL: a summary of order flow, not trading advice.
  MARKETS: ● something happening (cascade, liquidation tier, extreme pressure, imbalance,
    a level alert in the last minute, divergence); liq 5m / 60m long/short; OI change; fund/y APR.
  Level alerts: price at a marked level, the session POC, value-area edges, HVN/LVN or a
    liquidation cluster with aggressive volume, absorption, or an imbalance spike ([alerts]).

Press escape or ? to close."""


class HelpScreen(ModalScreen):
    BINDINGS = [("escape", "dismiss", "Close"), ("question_mark", "dismiss", "Close"), ("q", "dismiss", "Close")]
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll { width: 100; max-width: 100%; height: auto; max-height: 90%;
                                  border: round $primary; background: $surface; padding: 1 2; }
    """

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static(HELP)
