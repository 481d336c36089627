"""OKX aggregated trades: a websocket message of ``count`` n stands for fills id-n+1 .. id, while REST
lists single fills. The report counts fills, once each, whichever side delivers them first."""

import json

import pytest

from orderflow_tui.engine.engine import Engine
from orderflow_tui.instruments import Instruments
from orderflow_tui.venues import Rejected, make_parsers, parse_frame

SYM = "BTC-USDT-SWAP"  # ctVal 0.01 BTC


def ws(tid, count, sz, px="65000.0", side="buy", ts="1790000000000"):
    return json.dumps({"arg": {"channel": "trades", "instId": SYM},
                       "data": [{"instId": SYM, "tradeId": str(tid), "px": px, "sz": sz, "side": side, "ts": ts,
                                 "count": str(count), "source": "0", "seqId": 7}]})


def rest(*fills, px="65000.0", side="buy", ts="1790000000000"):
    """REST rows re-framed as the feed does (no count: one fill each)."""
    return json.dumps({"arg": {"channel": "trades", "instId": SYM},
                       "data": [{"instId": SYM, "tradeId": str(t), "px": px, "sz": sz, "side": side, "ts": ts}
                                for t, sz in fills]})


def feed(frames):
    parser = make_parsers(Instruments(), {})["okx"]
    engine = Engine(report_tf="1m")
    for f in frames:
        events = parse_frame(parser, f)
        assert not isinstance(events, Rejected), events
        engine.on_events(events)
    return engine.markets[f"okx:{SYM}"]


def test_message_counts_its_fills():
    m = feed([ws(100, 3, "12")])
    assert m.trades == 3 and m.buy_base == pytest.approx(0.12)
    assert m.footprint.current.trades == 3


def test_rest_fills_inside_a_message_are_duplicates():
    # message 98..100 (3 fills, 12 contracts) then REST 97..101: 97 and 101 are new
    m = feed([ws(100, 3, "12"), rest((97, "1"), (98, "5"), (99, "4"), (100, "3"), (101, "2"))])
    assert m.trades == 5 and m.duplicates == 3
    assert m.buy_base == pytest.approx((12 + 1 + 2) * 0.01, rel=1e-12)


def test_message_after_its_fills_came_over_rest_is_a_duplicate():
    m = feed([rest((98, "5"), (99, "4"), (100, "3")), ws(100, 3, "12"), ws(102, 2, "6")])
    assert m.trades == 5 and m.duplicates == 1
    assert m.buy_base == pytest.approx((12 + 6) * 0.01, rel=1e-12)


def test_bad_count_rejects_the_frame_a_number_is_read():
    parser = make_parsers(Instruments(), {})["okx"]
    for bad in ("0", "-1", "x", "1.5", ""):
        assert isinstance(parse_frame(parser, ws(100, bad, "1")), Rejected)
    for bad in (0, -2, 1.5, None, True):
        assert isinstance(parse_frame(parser, ws(100, 1, "1").replace('"count": "1"', f'"count": {json.dumps(bad)}')),
                          Rejected), bad
    events = parse_frame(parser, ws(100, 1, "1").replace('"count": "1"', '"count": 4'))
    assert events[0].fills == 4
