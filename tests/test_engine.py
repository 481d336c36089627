"""Engine numbers against hand-computed cases (analytics.md)."""

import pytest

from orderflow_tui.config import EngineSettings
from orderflow_tui.engine import footprint as fp
from orderflow_tui.engine.engine import Engine
from orderflow_tui.engine.liquidations import magnitude_tier, risk_band
from orderflow_tui.engine.profile import nodes
from orderflow_tui.engine.snapshot import snapshot
from orderflow_tui.events import Liquidation, Trade

T0 = 1_700_000_040_000  # a minute boundary (T0 % 60000 == 0)


def trade(ts, price, qty, buy, venue="binance", symbol="BTCUSDT", tid=None):
    return Trade(f"{venue}:{symbol}", venue, symbol, ts, price, qty, price * qty, buy, tid)


def liq(ts, quote, long, venue="binance", price=100.0, symbol="BTCUSDT"):
    return Liquidation(f"{venue}:{symbol}", venue, symbol, ts, price, quote / price, quote, long, venue != "bybit")


def engine(**kw):
    s = EngineSettings(**kw)
    s.row_size = {"BTC": 1.0}
    return Engine(s)


# ---- §1 CVD and §2 pressure -------------------------------------------------------------------

def test_cvd_net_and_trend_with_reasoning_line():
    e = engine()
    for i in range(3):
        e.on_trade(trade(T0 + i, 100.0, 1.0, True))  # $300 bought
    e.on_trade(trade(T0 + 10, 100.0, 1.0, False))  # $100 sold
    s = snapshot(e, "BTC")
    assert s.cvd_quote == 200.0 and s.cvd_base == 2.0
    assert s.net_pct == 50.0  # (300-100)/400
    assert (s.cvd_direction, s.cvd_strength) == ("bullish", "strong")
    assert s.cvd_reason == "Strong buy pressure: 50.0% net buying (CVD +$200)"


@pytest.mark.parametrize("buy,sell,direction,strength", [
    (60, 40, "bullish", "moderate"),  # net 20: not > 20
    (56, 44, "bullish", "moderate"),  # net 12
    (53, 47, "bullish", "weak"),  # net 6
    (52, 48, "neutral", ""),  # net 4
    (30, 70, "bearish", "strong"),  # net -40
])
def test_cvd_trend_bands(buy, sell, direction, strength):
    e = engine()
    e.on_trade(trade(T0, 1.0, buy, True))
    e.on_trade(trade(T0 + 1, 1.0, sell, False))
    s = snapshot(e, "BTC")
    assert (s.cvd_direction, s.cvd_strength) == (direction, strength)


@pytest.mark.parametrize("buy,dominant,strength", [(75, "buy", "extreme"), (66, "buy", "strong"),
                                                   (55, "buy", "moderate"), (54, "neutral", "weak"),
                                                   (20, "sell", "extreme")])
def test_pressure(buy, dominant, strength):
    e = engine()
    e.on_trade(trade(T0, 1.0, buy, True))
    e.on_trade(trade(T0, 1.0, 100 - buy, False))
    p = snapshot(e, "BTC").pressure
    assert (p.buy_pct, p.sell_pct, p.net) == pytest.approx((buy, 100 - buy, 2 * buy - 100))
    assert (p.dominant, p.strength) == (dominant, strength)


def test_empty_window_after_a_silent_minute():
    e = engine()
    e.on_trade(trade(T0, 1.0, 10, True))
    assert snapshot(e, "BTC").pressure.buy_q == 10
    e.tick(T0 + 59_000)
    assert snapshot(e, "BTC").pressure.buy_q == 10  # still inside 60 s
    e.tick(T0 + 61_000)
    s = snapshot(e, "BTC")
    assert s.pressure.buy_q == 0 and s.pressure.strength == "weak" and s.net_pct == 0
    assert s.cvd_quote == 10  # the session CVD stays


def test_momentum_and_acceleration():
    e = engine()
    for minute, (b, s_) in enumerate([(5, 1), (2, 3), (10, 0)]):  # deltas 4, -1, 10
        e.on_trade(trade(T0 + minute * 60_000, 100.0, b, True))
        e.on_trade(trade(T0 + minute * 60_000 + 1, 100.0, s_, False) if s_ else trade(T0 + minute * 60_000 + 1, 100.0, 0.0, False))
    e.tick(T0 + 3 * 60_000)  # closes the third bar
    s = snapshot(e, "BTC")
    assert s.momentum == 11.0  # 10 - (-1)
    assert s.acceleration == 16.0  # 11 - (-5)


def test_bearish_divergence_higher_high_lower_cvd():
    e = engine(divergence_bars=3)
    e.on_trade(trade(T0, 100.0, 10, True))  # bar 1: high 100, cvd +10
    e.on_trade(trade(T0 + 60_000, 101.0, 5, False))  # bar 2: high 101, cvd 5
    e.on_trade(trade(T0 + 120_000, 102.0, 3, False))  # bar 3: higher high 102, cvd 2 < max 10
    e.tick(T0 + 180_000)
    assert snapshot(e, "BTC").divergence == "bearish"
    assert any(a.kind == "divergence" and "bearish" in a.text for a in e.alerts)


# ---- §3 whales ----------------------------------------------------------------------------------

def test_prints_merge_same_ms_same_side_and_tiers():
    e = engine()
    e.on_trade(trade(T0, 100_000.0, 3.0, True))  # $300K ...
    e.on_trade(trade(T0, 100_010.0, 3.0, True))  # ... + $300K, same ms: one $600K print
    e.on_trade(trade(T0, 100_000.0, 60.0, False))  # other side: a $6M whale
    e.on_trade(trade(T0 + 1, 100_000.0, 210.0, True))  # $21M mega whale
    e.on_trade(trade(T0 + 2, 100_000.0, 1.0, True))
    e.finish()
    w = snapshot(e, "BTC").whales
    assert [(p.tier, p.is_buy, round(p.quote)) for p in w] == [
        ("mega", True, 21_000_000), ("whale", False, 6_000_000), ("large", True, 600_030)]
    assert w[2].fills == 2 and w[2].price == pytest.approx(100_005.0) and w[2].qty == 6.0
    kinds = [a.severity for a in e.alerts if a.kind in ("whale", "mega")]
    assert kinds == ["warning", "high"]


def test_prints_alone_when_merging_is_off():
    e = engine(merge_prints=False)
    e.on_trade(trade(T0, 100_000.0, 3.0, True))
    e.on_trade(trade(T0, 100_000.0, 3.0, True))
    e.finish()
    assert snapshot(e, "BTC").whales == ()


# ---- §4 exchange flow -----------------------------------------------------------------------------

def test_exchange_flow_dominance_leading_venue_and_imbalance_alert():
    e = engine()
    e.on_trade(trade(T0, 1.0, 60, True, "binance"))
    e.on_trade(trade(T0, 1.0, 10, False, "binance"))
    e.on_trade(trade(T0, 1.0, 15, True, "bybit", "BTCUSDT"))
    e.on_trade(trade(T0, 1.0, 15, False, "okx", "BTC-USDT-SWAP"))
    e.tick(T0 + 1000)
    s = snapshot(e, "BTC")
    flows = {v.venue: v for v in s.venues}
    assert flows["binance"].dominance == 70.0 and flows["binance"].net_pct == pytest.approx(50 / 70 * 100)
    assert flows["okx"].net_pct == -100.0 and flows["okx"].dominance == 15.0
    assert s.leading_venue == "binance" and flows["binance"].imbalanced and not flows["okx"].imbalanced
    assert sum(a.kind == "flow" for a in e.alerts) == 1


def test_single_venue():
    e = engine()
    e.on_trade(trade(T0, 1.0, 5, True, "bybit"))
    s = snapshot(e, "BTC")
    assert [v.venue for v in s.venues] == ["bybit"] and s.venues[0].dominance == 100.0


# ---- §5 liquidations ----------------------------------------------------------------------------

def test_liquidation_window_shares_and_institutional():
    e = engine()
    e.on_liquidation(liq(T0, 150_000, True, "binance"))
    e.on_liquidation(liq(T0 + 1000, 50_000, False, "bybit"))
    v = snapshot(e, "BTC").liquidations
    assert v.long == (1, 1500.0, 150_000) and v.short == (1, 500.0, 50_000)
    assert v.by_venue["binance"][3] == 75.0 and v.by_venue["bybit"][3] == 25.0
    assert [x.quote for x in v.tape] == [50_000, 150_000]
    assert sum(a.kind == "institutional" for a in e.alerts) == 1
    e.tick(T0 + 60 * 60_000 + 1)  # the 60-minute window passed the first one
    assert snapshot(e, "BTC").liquidations.long == (0, 0.0, 0.0)


def test_cascade_starts_scores_ends_and_restarts():
    e = engine()
    for i in range(4):
        e.on_liquidation(liq(T0 + i * 1000, 20_000, True, "binance"))
    assert snapshot(e, "BTC").liquidations.cascade is None  # 4 liquidations: not yet
    e.on_liquidation(liq(T0 + 4000, 20_000, False, "bybit", price=100.2))  # 5th, $100K, two venues
    c = snapshot(e, "BTC").liquidations.cascade
    assert c is not None and c.count == 5 and c.quote == 100_000 and c.cross_exchange
    # hand-computed risk (3 venues tracked): volume 0.1, rate 5/min / 20 = 0.25,
    # price range 0.2/100.04 = 0.1999 % -> 1 - 0.3998 = 0.6002, side |80-20|/100 = 0.6,
    # institutional 0, cross (2-1)/(3-1) = 0.5
    e.venues_tracked = 3
    c.score(T0 + 4000, 3)
    expected = 2 * (0.25 * 0.1 + 0.20 * 0.25 + 0.15 * (1 - (0.2 / 100.04) / 0.005) + 0.15 * 0.6 + 0.15 * 0.5)
    assert c.risk == pytest.approx(expected) and c.band == risk_band(expected) == "low"
    assert any(a.kind == "cascade" and "cross-exchange" in a.text for a in e.alerts)
    # the condition turns false at T0 + 60 s (the first one leaves the window); 60 s later it ends
    e.tick(T0 + 60_000 + 59_000)
    assert snapshot(e, "BTC").liquidations.cascade is not None
    e.tick(T0 + 120_001)
    assert snapshot(e, "BTC").liquidations.cascade is None and c.end_ts == T0 + 120_000
    for i in range(5):
        e.on_liquidation(liq(T0 + 200_000 + i, 30_000, True, "okx", symbol="BTC-USDT-SWAP"))
    v = snapshot(e, "BTC").liquidations
    assert v.cascade is not None and v.cascade is not c and v.cascades_total == 2 and not v.cascade.cross_exchange


def test_magnitude_tiers_and_risk_bands():
    assert magnitude_tier(10_000_001, 10e6, 25e6, 50e6, 100e6) == "MINOR"
    assert magnitude_tier(10_000_000, 10e6, 25e6, 50e6, 100e6) == ""
    assert magnitude_tier(100_000_001, 10e6, 25e6, 50e6, 100e6) == "EXTREME"
    assert [risk_band(x) for x in (0.69, 0.7, 1.0, 1.5)] == ["low", "moderate", "high", "extreme"]
    e = engine()
    e.on_liquidation(liq(T0, 30_000_000, False, "bybit"))
    assert snapshot(e, "BTC").liquidations.tiers == {"long": "", "short": "MODERATE"}
    e.tick(T0 + 5 * 60_000 + 1)
    assert snapshot(e, "BTC").liquidations.tiers == {"long": "", "short": ""}


def test_sampled_flag_comes_from_the_venue():
    e = engine()
    e.on_liquidation(liq(T0, 1000, True, "binance"))
    e.on_liquidation(liq(T0, 1000, True, "bybit"))
    tape = snapshot(e, "BTC").liquidations.tape
    assert {x.venue: x.sampled for x in tape} == {"binance": True, "bybit": False}


def test_price_clusters_use_the_liquidation_bucket_not_the_row_size():
    e = engine()  # rows of $1; BTC clusters are $100 wide (analytics.md §5)
    e.on_liquidation(liq(T0, 1000, True, price=61_850.4))
    e.on_liquidation(liq(T0, 3000, False, price=61_899.9))
    e.on_liquidation(liq(T0, 500, False, price=61_900.0))
    v = snapshot(e, "BTC").liquidations
    assert v.bucket == 100.0 and v.clusters == ((61_800.0, 4000), (61_900.0, 500))


# ---- §6 footprint --------------------------------------------------------------------------------

def levels(**rows):
    """rows: p100=(bid, ask) with a step of 1 tick."""
    return {int(k[1:]): fp.Level(b, a, 1) for k, (b, a) in rows.items()}


def test_poc_ties_go_to_the_middle_then_the_lower_row():
    lv = levels(p100=(5, 5), p101=(1, 0), p102=(10, 0), p103=(0, 1), p104=(1, 0))
    assert fp.poc_row(lv, 104, 100, 1) == 102  # mid 102: row 102 (centre 102.5) is 0.5 away, row 100 is 1.5
    lv = levels(p100=(10, 0), p101=(1, 0), p102=(10, 0))
    assert fp.poc_row(lv, 102, 100, 1) == 100  # equally far: the lower row


def test_value_area_pairs_and_edges():
    lv = levels(p100=(10, 0), p101=(20, 0), p102=(40, 0), p103=(5, 0), p104=(5, 0), p105=(20, 0))
    # total 100, target 70: POC 102 (40); above pair 103+104 = 10, below pair 101+100 = 30 -> below: 70
    assert fp.value_area(lv, 102, 1) == (100, 102)
    lv = levels(p100=(50, 0), p101=(5, 0), p102=(5, 0), p103=(40, 0))
    # POC 100 at the bottom edge: only rows above remain: 101+102 = 10 (60), then 103 (100)
    assert fp.value_area(lv, 100, 1) == (100, 103)
    lv = levels(p100=(10, 0), p101=(30, 0), p102=(10, 0), p103=(10, 0))
    # tie between above (102+103 = 20) and below (100 = 10)? no: above wins when larger or equal
    assert fp.value_area(lv, 101, 1) == (101, 103)


def test_diagonal_imbalances_missing_rows_and_stacks():
    lv = levels(p100=(1, 0), p101=(2, 3), p102=(1, 9), p103=(0, 3), p105=(4, 0))
    buys, sells = fp.imbalances(lv, 1, 3.0, 0.0)
    # ask 101 = 3 >= 3 x bid 100 (1); ask 102 = 9 >= 3 x bid 101 (2); ask 103 = 3 >= 3 x bid 102 (1)
    assert buys == {101, 102, 103}
    # bid 105: no row 106 -> counts as zero; bid 100: ask 101 = 3 -> 1 < 9
    assert 105 in sells and 100 not in sells
    assert fp.stacked_runs(buys, 1, 3) == [(101, 103)]
    assert fp.stacked_runs({100, 101, 103}, 1, 3) == []
    assert fp.imbalances(lv, 1, 3.0, 5.0)[0] == {102}  # the minimum volume


def test_bar_marker_exhaustion_absorption():
    assert fp.bar_marker(1.0, 3.5) == "buy" and fp.bar_marker(1.0, 3.0) == "" and fp.bar_marker(4.0, 0) == "sell"
    assert fp.exhaustion(levels(p100=(0, 5), p101=(3, 3))) == "low"
    assert fp.exhaustion(levels(p100=(1, 5), p101=(3, 0))) == "high"
    prev = []
    for v in (10, 12, 8, 10):
        b = fp.Bar(0, 100.0)
        b.bid = v
        prev.append(b)
    bar = fp.Bar(0, 100.0)
    bar.bid, bar.high, bar.low, bar.close = 21.0, 104.0, 100.0, 101.0  # median 10 -> 21 >= 20; body 1 <= 1
    assert fp.is_absorption(bar, prev)
    bar.close = 101.5
    assert not fp.is_absorption(bar, prev)


def test_rows_in_integer_ticks_never_slip():
    grid = fp.PriceGrid(0.1, 0.3)
    assert grid.price(grid.row(0.3)) == 0.3  # 0.3 / 0.1 == 2.9999999999999996 in floats
    grid = fp.PriceGrid(10, 61800.3)
    assert grid.price(grid.row(61809.99)) == 61800.0 and grid.price(grid.row(61810.0)) == 61810.0


def test_time_volume_and_tick_bars():
    s = fp.FootprintSeries("1m", fp.PriceGrid(1.0, 100.0))
    assert s.add(T0 + 59_999, 100.0, 1, True) is None
    closed = s.add(T0 + 60_000, 101.0, 1, False)
    assert closed.open_ts == T0 and closed.ask == 1 and s.current.open_ts == T0 + 60_000
    v = fp.FootprintSeries("vol:3", fp.PriceGrid(1.0, 100.0))
    assert v.add(T0, 100.0, 2, True) is None
    done = v.add(T0 + 5, 101.0, 1.5, False)
    assert done is not None and done.bid + done.ask == 3.5 and v.current is None
    k = fp.FootprintSeries("ticks:2", fp.PriceGrid(1.0, 100.0))
    assert k.add(T0, 100.0, 1, True) is None and k.add(T0, 100.0, 1, True).trades == 2


def test_bars_are_capped_and_cvd_runs_from_the_session_start():
    e = engine(footprint_bars=10)
    for i in range(25):
        e.on_trade(trade(T0 + i * 60_000, 100.0, 1.0, True))
    series = e.markets["binance:BTCUSDT"].footprint
    assert len(series.bars) == 10 and series.cvd_by_bar()[-1] == 25.0


def test_cost_per_trade_does_not_grow_with_rows_or_bars():
    """Operation counts, not time: a trade touches one bar and one row whatever is held."""
    e = engine(footprint_bars=50)
    for i in range(20_000):
        e.on_trade(trade(T0 + i * 100, 100.0 + (i % 500), 1.0, i % 2 == 0))
    s = e.markets["binance:BTCUSDT"].footprint
    assert len(s.bars) == 34 and len(s.current.levels) <= 500


def test_group_bars_sum_the_venues():
    e = engine()
    e.on_trade(trade(T0 + 5, 100.0, 2.0, True, "binance"))
    e.on_trade(trade(T0 + 1, 101.0, 1.0, False, "bybit"))
    e.on_trade(trade(T0 + 9, 102.0, 1.0, True, "bybit"))
    bar = snapshot(e, "BTC").bars[-1]
    assert (bar.open, bar.close, bar.high, bar.low) == (101.0, 102.0, 102.0, 100.0)
    assert bar.ask == 3.0 and bar.bid == 1.0 and bar.cvd == 2.0 and bar.trades == 3


# ---- §7 profile, §8 signal ----------------------------------------------------------------------

def test_hvn_and_lvn():
    vol = [1, 10, 30, 10, 1, 1, 1, 10, 30, 10, 1]
    rows = {100 + i: fp.Level(v, 0, 1) for i, v in enumerate(vol)}
    hvn, lvn = nodes(rows, 1)
    assert hvn == (102, 108) and lvn == (105,)


def test_composite_signal_long_with_triggers_and_disclaimer():
    e = engine()
    e.on_trade(trade(T0, 1.0, 80, True, "binance"))
    e.on_trade(trade(T0, 1.0, 20, False, "binance"))
    sig = snapshot(e, "BTC").signal
    # CVD strong +40, pressure extreme (net 60) +30, flow: binance leads at +60 % -> +10
    assert sig.score == 80 and sig.direction == "LONG" and sig.confidence == 80
    assert sig.triggers == ("Positive CVD", "Buy pressure", "Binance buying")
    assert len(sig.reasons) == 4


def test_composite_signal_short_liquidations_push_up():
    e = engine()
    e.on_trade(trade(T0, 1.0, 50, True))
    e.on_trade(trade(T0, 1.0, 50, False))
    for i in range(5):
        e.on_liquidation(liq(T0 + i, 30_000, False, "bybit"))  # shorts squeezed, a cascade
    sig = snapshot(e, "BTC").signal
    assert sig.score == 20 and sig.direction == "NEUTRAL" and "Short liquidations" in sig.triggers


def test_switching_to_5m_rebuilds_from_the_1m_bars_and_keeps_up():
    e = engine()
    T5 = T0 - T0 % 300_000 + 300_000  # a 5-minute boundary: bars are aligned to UTC
    for i in range(10):
        e.on_trade(trade(T5 + i * 60_000, 100.0 + i, 1.0, i % 2 == 0))
    assert e.set_footprint("BTC", "5m", 2.0) is True
    bars = snapshot(e, "BTC").bars
    assert [b.trades for b in bars] == [5, 5] and bars[0].open == 100.0 and bars[0].close == 104.0
    assert {round(r / snapshot(e, "BTC").scale) for r in bars[0].rows} == {100, 102, 104}
    e.on_trade(trade(T5 + 10 * 60_000, 110.0, 1.0, True))
    assert [b.trades for b in snapshot(e, "BTC").bars] == [5, 5, 1]
    assert e.set_footprint("BTC", "ticks:3") is False
    for i in range(4):
        e.on_trade(trade(T5 + 11 * 60_000 + i, 110.0, 1.0, True))
    assert [b.trades for b in snapshot(e, "BTC").bars] == [3, 1]
    e.set_footprint("BTC", "1m")
    assert snapshot(e, "BTC").bars[-1].open_ts == T5 + 11 * 60_000
