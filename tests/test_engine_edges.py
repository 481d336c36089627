"""Engine edge cases (issue 11): exact ratios, events out of exchange-time order, closed-bar
divergence, utc-day sessions, liquidation clusters, cascade risk at its end, tier-change alerts,
and volume / trade-count bars fed by interleaving venues. Every expectation is computed by hand."""

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orderflow_tui.config import EngineSettings
from orderflow_tui.engine import footprint as fp
from orderflow_tui.engine.engine import Engine
from orderflow_tui.engine.profile import nodes
from orderflow_tui.engine.snapshot import snapshot
from orderflow_tui.events import Liquidation, Trade

T0 = 1_700_000_040_000  # a minute boundary
DAY = 86_400_000
MIDNIGHT = 1_700_006_400_000  # 2023-11-15 00:00:00 UTC (MIDNIGHT % DAY == 0)

VENUE_SYMBOL = {"binance": "BTCUSDT", "bybit": "BTCUSDT", "okx": "BTC-USDT-SWAP"}


def trade(ts, price, qty, buy, venue="binance", symbol=None):
    symbol = symbol or VENUE_SYMBOL[venue]
    return Trade(f"{venue}:{symbol}", venue, symbol, ts, price, qty, price * qty, buy, None)


def liq(ts, quote, long, venue="binance", price=100.0, symbol=None):
    symbol = symbol or VENUE_SYMBOL[venue]
    return Liquidation(f"{venue}:{symbol}", venue, symbol, ts, price, quote / price, quote, long, venue != "bybit")


def engine(**kw):
    s = EngineSettings(**kw)
    s.row_size = {"BTC": 1.0}
    return Engine(s)


def rows(snap, tick_rows):
    return sorted(round(snap.price(r), 9) for r in tick_rows)


# ---- 1. exact ratios ----------------------------------------------------------------------------

def test_diagonal_imbalance_at_exactly_the_ratio_counts_despite_float_noise():
    e = engine()
    for p in (100.0, 101.0, 102.0):
        for _ in range(3):
            e.on_trade(trade(T0, p, 0.05, False))  # bid 0.05 x 3 = 0.15000000000000002 in floats
    for p in (101.0, 102.0, 103.0):
        e.on_trade(trade(T0 + 1, p, 0.45, True))  # ask 0.45 = 3 x 0.15 exactly
    bar = snapshot(e, "BTC").bars[-1]
    s = snapshot(e, "BTC")
    assert rows(s, bar.buy_imbalances) == [101.0, 102.0, 103.0]
    assert [tuple(rows(s, run)) for run in bar.stacked_buy] == [(101.0, 103.0)]
    assert bar.sell_imbalances == frozenset()  # 0.15 against 3 x 0.45: no
    assert bar.marker == ""  # ask 1.35 is exactly 3 x bid 0.45: "more than 3" is not met


def test_ratio_and_threshold_helpers_decide_on_rounded_volumes():
    assert fp.bar_marker(0.1, 0.1 + 0.2) == ""  # 0.30000000000000004 / 0.1 > 3 in floats, = 3 exactly
    assert fp.bar_marker(0.1, 0.30000001) == "buy" and fp.bar_marker(0.1 + 0.2, 0.1) == ""
    lv = {100: fp.Level(0.05 + 0.05 + 0.05, 0.0, 3), 101: fp.Level(0.0, 0.45, 1)}
    # ask 101 = 0.45: the minimum volume (0.45) and 3 x bid 100 (0.15000000000000002) hit exactly
    assert fp.imbalances(lv, 1, 3.0, 0.45) == ({101}, set())
    assert fp.imbalances(lv, 1, 3.0, 0.4500001) == (set(), set())
    # absorption: volume exactly 2 x median, body 1.1 - 1.0 exactly 25 % of range 1.4 - 1.0
    prev = []
    for v in (10.0, 10.0, 10.0):
        b = fp.Bar(0, 1.0)
        b.ask = v
        prev.append(b)
    bar = fp.Bar(0, 1.0)
    bar.ask, bar.high, bar.low, bar.close = 20.0, 1.4, 1.0, 1.1
    assert fp.is_absorption(bar, prev)
    bar.close = 1.1000001
    assert not fp.is_absorption(bar, prev)


def test_value_area_stops_at_exactly_70_percent_of_a_noisy_total():
    lv = {100: fp.Level(0.15, 0, 1), 101: fp.Level(0.15, 0, 1), 102: fp.Level(0.5, 0, 1),
          103: fp.Level(0.1, 0, 1), 104: fp.Level(0.1, 0, 1)}
    # total 1.0 (1.0000000000000002 in floats), target 0.7; POC 0.5; pairs: above 0.2, below 0.3 ->
    # below (0.8 >= 0.7, stop)
    assert fp.value_area(lv, 102, 1) == (100, 102)
    lv[100] = fp.Level(0.05, 0, 1)
    lv[101] = fp.Level(0.05, 0, 1)
    # above 0.2 > below 0.1 -> 0.7 exactly: stop there
    assert fp.value_area(lv, 102, 1) == (102, 104)


def test_pressure_and_cvd_band_edges_hit_exactly():
    e = engine()
    for q in (0.7, 0.35, 0.45):
        e.on_trade(trade(T0, 1.0, q, True))
    for q in (0.45, 0.45):
        e.on_trade(trade(T0, 1.0, q, False))
    s = snapshot(e, "BTC")
    # net = (1.5 - 0.9) / 2.4 = 25 % exactly (24.99999999999997 from 2 x buy % - 100 in floats): strong
    assert s.pressure.net == 25.0 and s.pressure.strength == "strong" and s.pressure.buy_pct == 62.5
    assert (s.cvd_direction, s.cvd_strength) == ("bullish", "strong")  # CVD bands: > 20 strong
    e = engine()
    for _ in range(3):
        e.on_trade(trade(T0, 1.0, 0.1, True))
    for _ in range(2):
        e.on_trade(trade(T0, 1.0, 0.1, False))
    s = snapshot(e, "BTC")
    # net = 0.1 / 0.5 = 20 % exactly (20.000000000000007 in floats): "> 20 strong" is not met
    assert s.net_pct == 20.0 and (s.cvd_direction, s.cvd_strength) == ("bullish", "moderate")
    assert s.pressure.strength == "moderate"  # 10..25


def test_hvn_at_exactly_one_and_a_half_times_the_mean():
    vol = [0.1, 0.3, 0.7, 0.35, 0.05]  # mean 0.3; row 102 smoothed (0.3 + 0.7 + 0.35) / 3 = 0.45 = 1.5 x 0.3
    rows_ = {100 + i: fp.Level(v, 0, 1) for i, v in enumerate(vol)}
    assert nodes(rows_, 1) == ((102,), ())  # 0.45 against 0.45000000000000007 in floats


def test_cascade_at_exactly_the_minimum_quote_with_float_noise():
    e = engine()
    for i, q in enumerate((19999.99, 20000.01, 20000.01, 20000.01, 19999.98)):  # 99999.99999999999 in floats
        e.on_liquidation(liq(T0 + i, q, True))
    assert snapshot(e, "BTC").liquidations.cascade is not None


# ---- 2. events out of exchange-time order --------------------------------------------------------

def test_a_late_trade_leaves_the_window_with_its_own_second():
    e = engine()
    e.on_trade(trade(T0 + 1000, 1.0, 10, True, "binance"))
    e.on_trade(trade(T0 + 999, 1.0, 5, False, "bybit"))  # 1 ms late, from the second before
    e.on_trade(trade(T0 - 61_000, 1.0, 7, False, "okx"))  # older than the 60 s window: not in it
    s = snapshot(e, "BTC")
    assert (s.pressure.buy_q, s.pressure.sell_q) == (10, 5)
    assert s.cvd_quote == 10 - 5 - 7  # the session still counts it
    e.tick(T0 + 60_000)  # window = seconds T0/1000+1 .. T0/1000+60: the late trade's second left
    s = snapshot(e, "BTC")
    assert (s.pressure.buy_q, s.pressure.sell_q) == (10, 0)
    assert {v.venue: v.sell_q for v in s.venues} == {"binance": 0, "bybit": 0, "okx": 0}
    e.tick(T0 + 61_000)
    assert snapshot(e, "BTC").pressure.buy_q == 0


def test_last_price_and_whales_follow_exchange_time():
    e = engine()
    e.on_trade(trade(T0 + 500, 101.0, 6000.0, True, "binance"))  # a $606K print
    e.on_trade(trade(T0 + 400, 100.0, 6000.0, False, "bybit"))  # earlier, arriving later: $600K
    e.finish()
    s = snapshot(e, "BTC")
    assert s.last_price == 101.0 and e.markets["bybit:BTCUSDT"].last_price == 100.0
    assert [(w.ts, w.venue) for w in s.whales] == [(T0 + 500, "binance"), (T0 + 400, "bybit")]  # newest first
    e.on_trade(trade(T0 + 450, 99.0, 1.0, True, "binance"))  # late on binance too: not its last price
    assert e.markets["binance:BTCUSDT"].last_price == 101.0


def test_a_late_trade_into_a_closed_bar_makes_no_second_bar_and_joins_the_session_profile():
    e = engine()
    e.on_trade(trade(T0 + 59_990, 100.0, 1.0, True, "binance"))
    e.tick(T0 + 60_001)  # the clock closes the bar
    e.on_trade(trade(T0 + 59_995, 103.0, 2.0, False, "bybit"))  # late, for the closed bar
    e.on_trade(trade(T0 + 60_010, 101.0, 1.0, True, "binance"))
    s = snapshot(e, "BTC")
    assert [b.open_ts for b in s.bars] == [T0, T0 + 60_000]
    first = s.bars[0]
    assert first.closed and not s.bars[1].closed
    assert (first.open, first.high, first.low, first.close, first.bid, first.ask) == (100.0, 103.0, 100.0, 103.0, 2.0, 1.0)
    prof = s.session_profile
    assert {round(r / s.base_scale): v[:2] for r, v in prof.rows.items()} == {
        100: (0.0, 1.0), 101: (0.0, 1.0), 103: (2.0, 0.0)}


def test_liquidations_out_of_order_windows_cascade_start_and_tiers():
    e = engine()
    for i in (4, 1, 2, 3):  # OKX: not chronological
        e.on_liquidation(liq(T0 + i * 1000, 20_000, True, "okx"))
    assert snapshot(e, "BTC").liquidations.cascade is None
    e.on_liquidation(liq(T0, 20_000, False, "okx"))  # the earliest arrives last: 5 in 60 s, $100K
    c = snapshot(e, "BTC").liquidations.cascade
    assert c is not None and c.start_ts == T0 and c.count == 5
    assert [a.ts for a in e.alerts if a.kind == "cascade"] == [T0]
    tape = snapshot(e, "BTC").liquidations.tape
    assert [x.ts for x in tape] == [T0 + 4000, T0 + 3000, T0 + 2000, T0 + 1000, T0]  # newest first, by time
    # a liquidation older than the 60 s burst window, the 5 min tier window, or the 60 min window
    e.on_liquidation(liq(T0 + 6 * 60_000, 1000, True, "okx"))
    e.on_liquidation(liq(T0 + 5000 - 5 * 60_000, 30_000_000, True, "okx"))  # 6 min late: no tier
    v = snapshot(e, "BTC").liquidations
    assert v.tiers == {"long": "", "short": ""} and v.long[0] == 6  # in the 60 min window
    e.on_liquidation(liq(T0 - 61 * 60_000, 5000, True, "okx"))  # older than 60 min: not in the window
    assert snapshot(e, "BTC").liquidations.long[0] == 6
    # the window drops them by their own time: at T0 + 60 min + 4 s, those of T0 .. T0 + 4 s are gone
    e.tick(T0 + 60 * 60_000 + 4000)
    v = snapshot(e, "BTC").liquidations
    assert (v.long[0], v.short[0]) == (1, 0)  # only T0 + 6 min is left (T0 + 5 s - 5 min left first)
    assert e.markets["okx:BTC-USDT-SWAP"].liq["long"][0] == 7  # the market totals count every one


def test_late_liquidation_tiers_and_the_signal_follow_exchange_time():
    e = engine()
    e.on_trade(trade(T0 + 200_000, 1.0, 50, True))
    e.on_trade(trade(T0 + 200_000, 1.0, 50, False))
    e.on_liquidation(liq(T0 + 10_000, 12_000_000, False, "okx"))  # shorts MINOR over 5 min
    assert snapshot(e, "BTC").signal.score == 20
    e.on_liquidation(liq(T0, 30_000_000, True, "okx"))  # arrives late: longs now MODERATE
    s = snapshot(e, "BTC")
    assert s.liquidations.tiers == {"long": "MODERATE", "short": "MINOR"} and s.signal.score == -20
    e.tick(T0 + 300_000)  # the long one (T0) left the 5 min window, the short one (T0 + 10 s) not yet
    s = snapshot(e, "BTC")
    assert s.liquidations.tiers == {"long": "", "short": "MINOR"} and s.signal.score == 20


# ---- 3. divergence compares closed bars only ------------------------------------------------------

def test_divergence_ignores_the_open_merged_bar_in_a_multi_venue_group():
    e = engine(divergence_bars=3)
    e.on_trade(trade(T0, 100.0, 10, True, "binance"))  # bar 1: high 100, cvd 10
    e.on_trade(trade(T0 + 60_000, 100.5, 1, True, "bybit"))  # bar 2: high 100.5, cvd 11
    e.on_trade(trade(T0 + 120_000, 101.0, 1, True, "binance"))  # bar 3: high 101, cvd 12: no divergence
    e.on_trade(trade(T0 + 180_000, 102.0, 5, False, "bybit"))  # bar 4 (open): higher high, cvd 7
    s = snapshot(e, "BTC")
    assert [b.closed for b in s.bars] == [True, True, True, False]
    assert s.divergence == "" and not any(a.kind == "divergence" for a in e.alerts)
    e.on_trade(trade(T0 + 200_000, 101.0, 1, False, "binance"))
    e.tick(T0 + 240_000)  # bar 4 closes: high 102 > 101, cvd 6 < 12 -> bearish, one alert
    s = snapshot(e, "BTC")
    assert all(b.closed for b in s.bars) and s.divergence == "bearish"
    e.tick(T0 + 250_000)
    assert [a.kind for a in e.alerts].count("divergence") == 1


# ---- 4. session = "utc-day" ------------------------------------------------------------------------

def test_utc_day_session_restarts_cvd_profile_and_bar_cvd_at_midnight():
    e = engine(session="utc-day")
    e.on_trade(trade(MIDNIGHT - 60_000, 100.0, 5, True, "binance"))  # 23:59
    e.on_trade(trade(MIDNIGHT - 30_000, 101.0, 1, False, "bybit"))
    s = snapshot(e, "BTC")
    assert s.cvd_base == 4 and s.session_start == MIDNIGHT - DAY
    e.on_trade(trade(MIDNIGHT + 1000, 102.0, 2, True, "binance"))  # 00:00:01: a new session
    e.on_trade(trade(MIDNIGHT - 10, 103.0, 3, False, "bybit"))  # 23:59:59.990 arriving late
    e.on_trade(trade(MIDNIGHT + 61_000, 104.0, 1, False, "binance"))
    s = snapshot(e, "BTC")
    assert s.session_start == MIDNIGHT
    assert s.cvd_base == 2 - 1 and s.cvd_quote == 204 - 104  # yesterday's late trade is not in it
    assert {round(r / s.base_scale) for r in s.session_profile.rows} == {102, 104}
    assert [(b.open_ts, b.cvd) for b in s.bars] == [
        (MIDNIGHT - 60_000, 5 - 1 - 3), (MIDNIGHT, 2.0), (MIDNIGHT + 60_000, 1.0)]
    assert {v.venue: round(v.session_buy_q) for v in s.venues} == {"binance": 204, "bybit": 0}


def test_start_session_never_restarts():
    e = engine()
    e.on_trade(trade(MIDNIGHT - 1000, 100.0, 5, True))
    e.on_trade(trade(MIDNIGHT + 1000, 100.0, 1, False))
    s = snapshot(e, "BTC")
    assert s.cvd_base == 4 and s.session_start == 0 and [b.cvd for b in s.bars] == [5.0, 4.0]


# ---- 5. liquidation clusters ----------------------------------------------------------------------

def test_cluster_bucket_per_group_with_exact_assignment():
    e = Engine(EngineSettings())
    sol = "SOLUSDT"
    e.on_liquidation(liq(T0, 1000, True, "binance", 159.0, sol))  # bucket: 0.1 % of 159 -> 0.2
    e.on_liquidation(liq(T0, 500, True, "binance", 159.19, sol))
    e.on_liquidation(liq(T0, 300, True, "binance", 158.99, sol))
    v = snapshot(e, "SOL").liquidations
    assert v.bucket == 0.2 and v.clusters == ((159.0, 1500), (158.8, 300))  # 159.0 // 0.2 * 0.2 is 158.8
    e.on_liquidation(liq(T0, 1000, False, "bybit", 3005.0, "ETHUSDT"))
    e.on_liquidation(liq(T0, 1000, False, "bybit", 3009.99, "ETHUSDT"))
    v = snapshot(e, "ETH").liquidations
    assert v.bucket == 10.0 and v.clusters == ((3000.0, 2000),)


def test_cluster_bucket_setting_and_window():
    s = EngineSettings(liquidation_window_min=1)
    s.liquidation_bucket = {"BTC": 250.0}
    e = Engine(s)
    e.on_liquidation(liq(T0, 1000, True, "binance", 61_999.0))
    e.on_liquidation(liq(T0 + 30_000, 4000, True, "binance", 62_000.0))
    assert snapshot(e, "BTC").liquidations.clusters == ((62_000.0, 4000), (61_750.0, 1000))
    e.tick(T0 + 60_000)  # the cluster window is the liquidation window: the first one left
    assert snapshot(e, "BTC").liquidations.clusters == ((62_000.0, 4000),)


# ---- 6. a finished cascade's risk at its end time, 7. tier-change alerts ----------------------------

def test_finished_cascade_is_scored_at_its_end_time():
    e = Engine(EngineSettings(), venues_tracked=3, collect_facts=True)
    for i in range(5):
        e.on_liquidation(liq(T0 + i * 1000, 20_000, True, "binance"))
    # the condition turns false at T0 + 60 s, the cascade ends at T0 + 120 s; nothing happens until
    # a liquidation 10 minutes later reveals it
    e.on_liquidation(liq(T0 + 600_000, 1000, True, "binance"))
    c = snapshot(e, "BTC").liquidations.last_cascade
    assert c.end_ts == T0 + 120_000 and snapshot(e, "BTC").liquidations.cascade is None
    # at the end: 2 minutes -> 5 / 2 / 20 = 0.125; $100K / $1M = 0.1; one price; all longs; one venue
    expected = round(2 * (0.25 * 0.1 + 0.20 * 0.125 + 0.15 * 1 + 0.15 * 1 + 0.10 * 0 + 0.15 * 0), 9)
    assert c.risk == expected == 0.7 and c.band == "moderate"  # 0.7 is moderate (at 10 min it was 0.66, low)
    ends = [x[1] for x in e.facts if x[0] == "cascade_end"]
    assert ends == [c] and ends[0].risk == pytest.approx(expected)


def test_tier_reached_raised_and_reached_again_each_write_one_alert():
    e = engine()
    e.on_liquidation(liq(T0, 0.1, True))
    e.on_liquidation(liq(T0 + 1000, 2_500_000.1, True))
    e.on_liquidation(liq(T0 + 2000, 7_499_999.9, True))  # 10,000,000.1 > $10M: MINOR reached
    e.on_liquidation(liq(T0 + 3000, 1000.0, True))  # still MINOR: no line
    e.on_liquidation(liq(T0 + 4000, 20_000_000.0, True))  # MODERATE: raised
    tiers = [a for a in e.alerts if a.kind == "tier"]
    assert [(a.ts, a.severity) for a in tiers] == [(T0 + 2000, "warning"), (T0 + 4000, "warning")]
    assert "long liquidations MINOR" in tiers[0].text and "MODERATE" in tiers[1].text
    e.tick(T0 + 300_000)  # the $0.1 left: 30,001,000 still MODERATE
    e.tick(T0 + 303_000)  # only the $20M (T0 + 4 s) remains: MINOR, lowered silently
    assert snapshot(e, "BTC").liquidations.tiers["long"] == "MINOR"
    e.on_liquidation(liq(T0 + 305_000, 60_000_000.0, True))  # the $20M left, $60M: MAJOR, high severity
    e.on_liquidation(liq(T0 + 305_500, 1.0, False))
    tiers = [a for a in e.alerts if a.kind == "tier"]
    assert [(a.ts, a.severity) for a in tiers][2:] == [(T0 + 305_000, "high")]


def test_tier_edge_after_a_window_drop_is_not_counted_from_float_residue():
    e = engine()
    e.on_liquidation(liq(T0, 0.1, True))
    e.on_liquidation(liq(T0 + 1000, 2_500_000.1, True))
    e.on_liquidation(liq(T0 + 2000, 7_499_999.9, True))
    e.tick(T0 + 300_000)  # the $0.1 left: exactly $10M (10000000.000000002 in floats) is not > $10M
    assert snapshot(e, "BTC").liquidations.tiers == {"long": "", "short": ""}


def test_cascade_risk_band_raised_writes_one_alert():
    e = Engine(EngineSettings(), venues_tracked=3)
    for i in range(5):
        e.on_liquidation(liq(T0 + i, 20_000, True, "binance"))
    c = snapshot(e, "BTC").liquidations.cascade
    # start: 0.1 volume, 5/min -> 0.25 rate, price 1, side 1, inst 0, cross 0 -> 2 x 0.37 = 0.74 moderate
    assert c.band == "moderate" and not [a for a in e.alerts if a.kind == "cascade_band"]
    e.on_liquidation(liq(T0 + 10, 900_000, True, "bybit"))  # $1M: volume 1, inst 0.9, cross 0.5
    # 2 x (0.25 + 0.2 x 6/20 + 0.15 + 0.15 + 0.1 x 0.9 + 0.15 x 0.5) = 1.55 -> extreme
    assert c.band == "extreme" and c.risk == pytest.approx(1.55)
    bands = [a for a in e.alerts if a.kind == "cascade_band"]
    assert len(bands) == 1 and "extreme" in bands[0].text and bands[0].severity == "high"
    e.on_liquidation(liq(T0 + 20, 1000, True, "bybit"))
    assert len([a for a in e.alerts if a.kind == "cascade_band"]) == 1


# ---- volume and trade-count bars, several venues interleaving --------------------------------------

def test_volume_bars_from_interleaving_venues():
    e = engine(footprint_tf="vol:5")
    feed = [  # (ts, venue, price, qty, buy)
        (T0 + 10, "binance", 100.0, 2.0, True),
        (T0 + 8, "bybit", 99.0, 1.0, False),  # late: still this bar; it becomes the bar's open
        (T0 + 12, "okx", 101.0, 2.5, True),  # 5.5 >= 5: closes bar 1 (the whole trade stays in it)
        (T0 + 11, "bybit", 102.0, 1.0, False),  # late, opens bar 2: keyed 1 ms after bar 1
        (T0 + 12, "binance", 103.0, 3.0, True),
        (T0 + 12, "okx", 100.0, 1.0, False),  # 5.0: closes bar 2
        (T0 + 12, "binance", 100.0, 0.5, True),  # bar 3, same ms: keyed T0 + 12
    ]
    for ts, venue, price, qty, buy in feed:
        e.on_trade(trade(ts, price, qty, buy, venue))
    bars = snapshot(e, "BTC").bars
    got = [(b.open_ts, b.open, b.high, b.low, b.close, b.bid, b.ask, b.trades, b.cvd, b.closed) for b in bars]
    assert got == [
        (T0 + 10, 99.0, 101.0, 99.0, 101.0, 1.0, 4.5, 3, 3.5, True),
        (T0 + 11, 102.0, 103.0, 100.0, 100.0, 2.0, 3.0, 3, 4.5, True),  # close: the latest; same ms: last to arrive
        (T0 + 12, 100.0, 100.0, 100.0, 100.0, 0.0, 0.5, 1, 5.0, False),
    ]


def test_trade_count_bars_count_fills_across_venues():
    e = engine(footprint_tf="ticks:3")
    e.on_trade(trade(T0 + 5, 100.0, 1.0, True, "bybit"))
    e.on_trade(trade(T0 + 3, 101.0, 1.0, False, "okx"))
    e.on_trade(Trade("binance:BTCUSDT", "binance", "BTCUSDT", T0 + 4, 102.0, 2.0, 204.0, True, None, 2))  # 2 fills
    e.on_trade(trade(T0 + 4, 99.0, 1.0, False, "okx"))
    bars = snapshot(e, "BTC").bars
    assert [(b.open_ts, b.trades, b.open, b.close, b.ask - b.bid, b.cvd, b.closed) for b in bars] == [
        (T0 + 5, 4, 101.0, 100.0, 2.0, 2.0, True),  # open: the earliest (okx, T0 + 3); close: the latest
        (T0 + 6, 1, 99.0, 99.0, -1.0, 1.0, False),  # its first trade is T0 + 4: keyed after bar 1
    ]


SETTINGS = ["1m", "vol:3", "vol:0.5", "ticks:2", "ticks:7"]


@settings(max_examples=60, deadline=None)
@given(setting=st.sampled_from(SETTINGS), seed=st.integers(0, 2**32 - 1), n=st.integers(1, 400),
       jitter=st.integers(0, 3000), ticks=st.booleans())
def test_group_bars_strictly_ordered_unique_and_complete_for_any_interleaving(setting, seed, n, jitter, ticks):
    """#16 item 1: any interleaving of three venues, each a little late at random, any bar setting."""
    rnd = random.Random(seed)
    e = engine(footprint_bars=100_000)
    e.on_trade(trade(T0, 100.0, 0.1, True))
    e.set_footprint("BTC", setting)
    clock = T0
    total = 0.1 if setting == "1m" else 0.0
    for _ in range(n):
        clock += rnd.randint(0, 40_000 if setting == "1m" else 300)
        venue = rnd.choice(("binance", "bybit", "okx"))
        ts = max(T0, clock - rnd.randint(0, jitter))
        qty = rnd.choice((0.01, 0.05, 0.1, 0.5, 1.0, 2.5))
        e.on_trade(trade(ts, 100.0 + rnd.randint(-20, 20), qty, rnd.random() < 0.5, venue))
        total += qty
        if ticks and rnd.random() < 0.05:
            e.tick(clock + rnd.randint(0, 2000))
    s = snapshot(e, "BTC", bars=100_000)
    keys = [b.open_ts for b in s.bars]
    assert keys == sorted(set(keys))  # strictly ordered, unique
    assert sum(b.bid + b.ask for b in s.bars) == pytest.approx(total)
    assert all(b.closed for b in s.bars[:-1])
    assert all(b.low <= min(b.open, b.close) and b.high >= max(b.open, b.close) for b in s.bars)


def test_per_second_alert_state_matches_the_snapshot_figures():
    """The per-second alert check (engine._flow_alerts) decides as analysis.pressure / flow_table do."""
    rnd = random.Random(11)
    e = engine()
    g = None
    for sec in range(1, 400):
        for _ in range(rnd.randint(0, 6)):
            venue = rnd.choice(("binance", "bybit", "okx"))
            e.on_trade(trade(T0 + sec * 1000 - rnd.randint(1, 999), 1.0, rnd.choice((0.1, 1.0, 5.0)),
                             rnd.random() < rnd.choice((0.2, 0.5, 0.8)), venue))
        e.tick(T0 + sec * 1000)
        g = e.groups.get("BTC")
        if g is None:
            continue
        s = snapshot(e, "BTC")
        assert g.pressure_extreme == (s.pressure.dominant if s.pressure.strength == "extreme" else "")
        assert g.flow_imbalanced == {v.venue for v in s.venues if v.imbalanced}
    assert {"pressure", "flow"} <= {a.kind for a in e.alerts}


def test_a_cached_closed_bar_view_follows_a_late_trade():
    """The snapshot keeps the views of closed bars between refreshes; a late trade into a closed
    bar must show, and the cached view equals a fresh computation."""
    e = engine()
    e.on_trade(trade(T0 + 10, 100.0, 1.0, True, "binance"))
    e.on_trade(trade(T0 + 60_010, 101.0, 1.0, True, "binance"))
    e.tick(T0 + 120_001)
    before = snapshot(e, "BTC", profiles=False).bars[0]
    assert snapshot(e, "BTC", profiles=False).bars[0] is before  # served from the cache
    e.on_trade(trade(T0 + 59_000, 99.0, 3.0, False, "bybit"))  # late, into the closed first bar
    after = snapshot(e, "BTC", profiles=False).bars[0]
    assert (after.bid, after.ask, after.low, after.trades) == (3.0, 1.0, 99.0, 2)
    assert not snapshot(e, "BTC", profiles=False).session_profile.rows
    assert snapshot(e, "BTC").session_profile.rows


def _cvd_from_scratch(series):
    """CVD at each retained bar the way it was computed before the cache (issue 19): every bar, every call."""
    out, cvd, day = [], series.dropped_delta, series.dropped_day
    for bar in series.bars:
        if series.daily and bar.open_ts // DAY != day:
            cvd, day = 0.0, bar.open_ts // DAY
        cvd += bar.delta
        out.append(cvd)
    return out


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), daily=st.booleans(), keep=st.integers(3, 12))
def test_cached_bar_cvd_equals_the_sum_from_scratch_after_late_trades_drops_and_days(seed, daily, keep):
    """The bar CVD is cached for all but the newest bar (a sparse capture closes a bar with each trade:
    summing every kept bar at each close made its cost follow the span). After late trades into
    older bars, bars falling off, and UTC days, it is exactly the sum from scratch, every time."""
    rnd = random.Random(seed)
    e = engine(footprint_bars=keep, session="utc-day" if daily else "start")
    clock = MIDNIGHT - 20 * 60_000
    for _ in range(150):
        clock += rnd.choice((0, 500, 20_000, 60_000, 7 * 60_000, 3 * 3_600_000))
        ts = clock - rnd.choice((0, 0, 0, 30_000, 90_000, 200_000))  # some land in older bars
        e.on_trade(trade(ts, 100.0 + rnd.randint(-20, 20), rnd.choice((0.1, 0.3, 1.7)), rnd.random() < 0.5))
        series = e.markets["binance:BTCUSDT"].footprint
        if rnd.random() < 0.5:
            assert series.cvd_by_bar() == _cvd_from_scratch(series)  # exactly: same sums, same order
        n = rnd.randint(1, keep + 2)
        assert series.cvd_by_bar(n) == _cvd_from_scratch(series)[-n:]
        assert series.last_bars(n) == list(series.bars)[-n:]
