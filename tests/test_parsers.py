"""Parsers on the venues' documented examples, on real recorded frames, and on malformed input."""

import json

import pytest

from captures import DATA, EXTRACTED
from orderflow_tui.events import CONTROL, IGNORED, IdOnly, Liquidation, Trade
from orderflow_tui.instruments import Contract, Instruments
from orderflow_tui.venues import Rejected, make_parsers, parse_frame

P = make_parsers()


def one(venue, frame, parsers=P):
    out = parse_frame(parsers[venue], frame)
    assert isinstance(out, list) and len(out) == 1, out
    return out[0]


# ---- documented examples (exchange-feeds.md) ---------------------------------------------

def test_binance_aggtrade_doc_example():
    t = one("binance", '{"e":"aggTrade","E":123456789,"s":"BTCUSDT","a":5933014,"p":"0.001","q":"100",'
                       '"f":100,"l":105,"T":1623456785000,"m":true}')
    assert isinstance(t, Trade)
    assert (t.market, t.ts, t.price, t.qty, t.trade_id) == ("binance:BTCUSDT", 1623456785000, 0.001, 100.0, 5933014)
    assert t.side == "sell"  # m=true: the buyer was the maker, the taker sold
    assert t.quote == pytest.approx(0.1)


def test_binance_force_order_sell_is_long_liquidated():
    liq = one("binance", '{"e":"forceOrder","E":1568014460893,"o":{"s":"BTCUSDT","S":"SELL","o":"LIMIT","f":"IOC",'
                         '"q":"0.014","p":"9910","ap":"9910","X":"FILLED","l":"0.014","z":"0.014","T":1568014460893}}')
    assert isinstance(liq, Liquidation)
    assert liq.position == "long" and liq.sampled
    assert (liq.qty, liq.price, liq.ts) == (0.014, 9910.0, 1568014460893)
    assert liq.quote == pytest.approx(138.74)
    buy = one("binance", '{"stream":"btcusdt@forceOrder","data":{"e":"forceOrder","E":1,"o":{"s":"BTCUSDT",'
                         '"S":"BUY","q":"2","p":"100","ap":"101","z":"1.5","l":"1","T":1568014460893}}}')
    assert buy.position == "short" and buy.qty == 1.5 and buy.price == 101.0  # z and ap, not q and p


def test_binance_trade_keeps_only_market_fills():
    base = {"e": "trade", "E": 1723161256322, "T": 1723161256322, "s": "BTCUSDT", "t": 7, "p": "61800.30",
            "q": "0.006", "m": False}
    assert one("binance", json.dumps({**base, "X": "MARKET"})).side == "buy"
    skipped = one("binance", json.dumps({**base, "X": "INSURANCE_FUND", "p": "0", "q": "0"}))
    assert isinstance(skipped, IdOnly) and skipped.trade_id == 7
    assert one("binance", json.dumps(base)).qty == 0.006  # spot frames have no X


def test_binance_coin_m_contracts_and_1000_prefix():
    t = one("binance", '{"stream":"btcusd_perp@trade","data":{"e":"trade","E":1723161257687,"T":1723161257679,'
                       '"s":"BTCUSD_PERP","t":849714402,"p":"61804.8","q":"4","X":"MARKET","m":false}}')
    assert t.quote == 400.0 and t.qty == pytest.approx(400 / 61804.8)
    pepe = one("binance", '{"e":"aggTrade","E":1,"s":"1000PEPEUSDT","a":1,"p":"0.0125","q":"1000","f":1,"l":1,'
                          '"T":1723161257679,"m":false}')
    assert pepe.qty == 1_000_000 and pepe.quote == pytest.approx(12.5)


def test_bybit_doc_examples_and_position_side():
    t = one("bybit", '{"topic":"publicTrade.BTCUSDT","type":"snapshot","ts":1672304486868,"data":[{"T":1672304486865,'
                     '"s":"BTCUSDT","S":"Buy","v":"0.001","p":"16578.50","L":"PlusTick",'
                     '"i":"20f43950-d8dd-5b31-9112-a178eb6023af","BT":false,"seq":1783284617}]}')
    assert (t.side, t.qty, t.price, t.ts) == ("buy", 0.001, 16578.5, 1672304486865)
    liq = one("bybit", '{"topic":"allLiquidation.ROSEUSDT","type":"snapshot","ts":1739502303204,"data":[{"T":1739502302929,'
                       '"s":"ROSEUSDT","S":"Sell","v":"20000","p":"0.04499"}]}')
    # Bybit S is the POSITION side: Sell = a short was liquidated (the opposite of Binance)
    assert liq.position == "short" and not liq.sampled
    assert (liq.qty, liq.quote) == (20000.0, pytest.approx(899.8))
    long = one("bybit", '{"topic":"allLiquidation.BTCUSDT","data":[{"T":1739502302929,"s":"BTCUSDT","S":"Buy","v":"1","p":"50000"}]}')
    assert long.position == "long"


def test_bybit_inverse_sizes_are_usd():
    t = one("bybit", '{"topic":"publicTrade.BTCUSD","data":[{"T":1672304486865,"s":"BTCUSD","S":"Sell","v":"1000","p":"20000","i":"x"}]}')
    assert t.quote == 1000.0 and t.qty == pytest.approx(0.05)


def test_okx_doc_examples():
    t = one("okx", '{"arg":{"channel":"trades","instId":"BTC-USDT"},"data":[{"instId":"BTC-USDT","tradeId":"130639474",'
                   '"px":"42219.9","sz":"0.12060306","side":"buy","ts":"1630048897897","count":"3","source":"0","seqId":1234}]}')
    assert (t.qty, t.side, t.ts, t.trade_id) == (0.12060306, "buy", 1630048897897, 130639474)
    liq = one("okx", '{"arg":{"channel":"liquidation-orders","instType":"SWAP"},"data":[{"details":[{"bkLoss":"0",'
                     '"bkPx":"0.007831","ccy":"","posSide":"short","side":"buy","sz":"13","ts":"1692266434010"}],'
                     '"instFamily":"IOST-USDT","instId":"IOST-USDT-SWAP","instType":"SWAP","uly":"IOST-USDT"}]}')
    assert liq.position == "short" and liq.price == 0.007831 and liq.sampled


def test_okx_contract_sizes_linear_inverse_and_header():
    swap = one("okx", '{"arg":{"channel":"trades","instId":"BTC-USDT-SWAP"},"data":[{"instId":"BTC-USDT-SWAP",'
                      '"tradeId":"1","px":"60000","sz":"3","side":"sell","ts":"1630048897897"}]}')
    assert swap.qty == pytest.approx(0.03) and swap.quote == pytest.approx(1800.0)
    inv = one("okx", '{"arg":{"channel":"trades","instId":"UNI-USD-SWAP"},"data":[{"instId":"UNI-USD-SWAP",'
                     '"tradeId":"12883020","px":"5.123","sz":"100","side":"sell","ts":"1652459215150"}]}')
    assert inv.quote == 1000.0 and inv.qty == pytest.approx(1000 / 5.123)
    learned = make_parsers(Instruments({"okx:FOO-USDT-SWAP": Contract(0.5)}))
    foo = one("okx", '{"arg":{"channel":"trades","instId":"FOO-USDT-SWAP"},"data":[{"instId":"FOO-USDT-SWAP",'
                     '"tradeId":"1","px":"2","sz":"4","side":"buy","ts":"1652459215150"}]}', learned)
    assert foo.qty == 2.0 and foo.quote == 4.0


def test_okx_net_mode_liquidation_uses_order_side():
    frame = ('{"arg":{"channel":"liquidation-orders","instType":"SWAP"},"data":[{"details":[{"bkPx":"60000",'
             '"posSide":"net","side":"sell","sz":"2","ts":"1692266434010"}],"instId":"BTC-USDT-SWAP"}]}')
    liq = one("okx", frame)
    assert liq.position == "long" and liq.qty == pytest.approx(0.02)


def test_coinbase_side_is_maker_side():
    t = one("coinbase", '{"type":"match","trade_id":1568268,"maker_order_id":"a","taker_order_id":"b","side":"sell",'
                        '"size":"450","price":"0.791","product_id":"SKL-USD","sequence":201390075,'
                        '"time":"2021-04-17T16:43:37.121358Z"}')
    assert t.side == "buy" and t.ts == 1618677817121
    adv = json.dumps({"channel": "market_trades", "timestamp": "2023-02-09T20:19:35.39625135Z", "sequence_num": 0,
                      "events": [{"type": "update", "trades": [{"trade_id": "1", "product_id": "ETH-USD",
                                  "price": "1260.01", "size": "0.3", "side": "BUY", "time": "2019-08-14T20:42:27.265Z"}]}]})
    t = one("coinbase", adv)
    assert t.side == "sell" and t.ts == 1565815347265


def test_coinbase_history_replays_are_skipped():
    snap = json.dumps({"channel": "market_trades", "events": [{"type": "snapshot", "trades": [
        {"trade_id": "1", "product_id": "ETH-USD", "price": "1", "size": "1", "side": "BUY", "time": "2019-08-14T20:42:27.265Z"}]}]})
    assert parse_frame(P["coinbase"], snap) is IGNORED
    with_history = make_parsers(options={"coinbase": {"include_history": True}})
    assert len(parse_frame(with_history["coinbase"], snap)) == 1


def test_hyperliquid_doc_example():
    t = one("hyperliquid", '{"channel":"trades","data":[{"coin":"BTC","side":"B","px":"72581.0","sz":"0.00017",'
                           '"time":1787259217020,"hash":"0x0","tid":877707108085800,"users":["0x1","0x2"]}]}')
    assert (t.market, t.side, t.qty, t.price) == ("hyperliquid:BTC", "buy", 0.00017, 72581.0)


def test_bitget_doc_examples():
    frame = ('{"action":"update","arg":{"instType":"USDT-FUTURES","channel":"trade","instId":"BTCUSDT"},"data":['
             '{"ts":"1695716760565","price":"27000.5","size":"0.001","side":"buy","tradeId":"1111111111"},'
             '{"ts":"1695716759514","price":"27000.0","size":"0.001","side":"sell","tradeId":"1111111110"}],"ts":1695716761589}')
    out = parse_frame(P["bitget"], frame)
    assert [t.side for t in out] == ["sell", "buy"]  # put in time order
    assert parse_frame(P["bitget"], frame.replace('"update"', '"snapshot"')) is IGNORED
    liq = one("bitget", '{"data":[{"symbol":"BTCUSDT","side":"buy","price":"89000","amount":"37.722858",'
                        '"ts":"1736371332162"}],"arg":{"instType":"usdt-futures","topic":"liquidation"},'
                        '"action":"update","ts":1736371332162}')
    assert liq.position == "long" and liq.quote == pytest.approx(37.722858) and liq.sampled


@pytest.mark.parametrize("venue,frame", [
    ("binance", '{"result":null,"id":1}'),
    ("bybit", '{"success":true,"ret_msg":"","conn_id":"x","req_id":"1","op":"subscribe"}'),
    ("bybit", '{"success":true,"ret_msg":"pong","conn_id":"x","op":"ping"}'),
    ("okx", "pong"),
    ("okx", '{"event":"subscribe","arg":{"channel":"trades","instId":"BTC-USDT-SWAP"},"connId":"a"}'),
    ("okx", '{"event":"error","code":"60012","msg":"Invalid request","connId":"a"}'),
    ("coinbase", '{"type":"subscriptions","channels":[]}'),
    ("coinbase", '{"channel":"heartbeats","events":[]}'),
    ("hyperliquid", '{"channel":"subscriptionResponse","data":{}}'),
    ("hyperliquid", '{"channel":"pong"}'),
    ("bitget", "pong"),
    ("bitget", '{"event":"subscribe","arg":{"instType":"USDT-FUTURES","channel":"trade","instId":"BTCUSDT"}}'),
])
def test_control_frames_are_neither_trades_nor_rejected(venue, frame):
    assert parse_frame(P[venue], frame) is CONTROL


@pytest.mark.parametrize("venue,frame", [
    ("binance", '{"stream":"btcusdt@aggTrade","data":{"e":"aggTrade","a":1,"p":"1","q":"1","T":1623456785000,"m":tr'),
    ("binance", '{"e":"aggTrade","s":"BTCUSDT","a":1,"p":"abc","q":"1","T":1623456785000,"m":true}'),
    ("binance", '{"e":"aggTrade","s":"BTCUSDT","a":1,"p":"1","q":"1","T":1623456785000}'),
    ("binance", '{"e":"aggTrade","s":"BTCUSDT","a":1,"p":"1e400","q":"1","T":1623456785000,"m":true}'),
    ("binance", '{"e":"aggTrade","s":"BTCUSDT","a":1,"p":"-5","q":"1","T":1623456785000,"m":true}'),
    ("binance", '{"e":"aggTrade","s":"BTCUSDT","a":1,"p":"NaN","q":"1","T":1623456785000,"m":true}'),
    ("binance", '{"e":"aggTrade","s":"BTCUSDT","a":{"id":1},"p":"1","q":"1","T":1623456785000,"m":true}'),
    ("binance", '{"e":"aggTrade","s":"BTCUSDT","a":-1,"p":"1","q":"1","T":1623456785000,"m":true}'),
    ("binance", '{"e":"aggTrade","s":"BTCUSDT","a":1,"p":"1","q":"0","T":1623456785000,"m":true}'),
    ("binance", '{"e":"aggTrade","s":"BTCUSDT","a":1,"p":"1","q":"1","T":99999999999999999999999,"m":true}'),
    ("binance", '{"e":"aggTrade","s":"BTCUSDT","a":1,"p":"1","q":"1","T":1623456785000,"m":"yes"}'),
    ("binance", '{"e":"aggTrade","s":"","a":1,"p":"1","q":"1","T":1623456785000,"m":true}'),
    ("binance", '[1,2,3]'),
    ("binance", '{"hello":"world"}'),
    ("binance", ''),
    ("binance", '{"e":"forceOrder","o":{"s":"BTCUSDT","S":"HOLD","z":"1","ap":"1","T":1623456785000}}'),
    ("bybit", '{"topic":"publicTrade.BTCUSDT","data":{"T":1}}'),
    ("bybit", '{"topic":"publicTrade.BTCUSDT","data":[{"T":1672304486865,"s":"BTCUSDT","S":"Up","v":"1","p":"1"}]}'),
    ("bybit", '{"topic":"allLiquidation.BTCUSDT","data":[{"T":1672304486865,"s":"BTCUSDT","S":"Buy","p":"1"}]}'),
    ("okx", '{"arg":{"channel":"trades","instId":"BTC-USDT"},"data":[{"instId":"BTC-USDT","px":"1","sz":"1","side":"buy","ts":"x"}]}'),
    ("okx", '{"arg":{"channel":"trades","instId":"BTC-USDT"},"data":[{"instId":7,"tradeId":"1","px":"1","sz":"1","side":"buy","ts":"1630048897897"}]}'),
    ("coinbase", '{"type":"match","trade_id":1,"side":"sell","size":"1","price":"1","product_id":"A-USD","time":"yesterday"}'),
    ("hyperliquid", '{"channel":"trades","data":[{"coin":"BTC","side":"X","px":"1","sz":"1","time":1787259217020}]}'),
    ("bitget", '{"arg":{"channel":"trade","instId":"BTCUSDT"},"data":"oops"}'),
    ("okx", "[" * 100000),
])
def test_malformed_frames_are_rejected_with_a_reason(venue, frame):
    out = parse_frame(P[venue], frame)
    assert isinstance(out, Rejected) and out.reason


def test_the_first_binance_frame_is_checked_like_any_other():
    # the parser remembers the previous frame's symbol: a fresh one must not take "" for it
    fresh = make_parsers()["binance"]
    out = parse_frame(fresh, '{"e":"aggTrade","s":"","a":1,"p":"1","q":"1","T":1623456785000,"m":true}')
    assert isinstance(out, Rejected) and "bad symbol" in out.reason


def test_a_frame_with_one_bad_trade_is_rejected_whole():
    frame = ('{"topic":"publicTrade.BTCUSDT","data":[{"T":1672304486865,"s":"BTCUSDT","S":"Buy","v":"1","p":"1","i":"a"},'
             '{"T":1672304486865,"s":"BTCUSDT","S":"Buy","v":"x","p":"1","i":"b"}]}')
    assert isinstance(parse_frame(P["bybit"], frame), Rejected)


def test_unused_venue_data_is_ignored_not_rejected():
    assert parse_frame(P["binance"], '{"stream":"x@bookTicker","data":{"e":"bookTicker","u":1}}') is IGNORED
    assert parse_frame(P["bybit"], '{"topic":"kline.1.BTCUSDT","type":"snapshot","data":[]}') is IGNORED
    assert parse_frame(P["okx"], '{"arg":{"channel":"candle1m","instId":"BTC-USDT"},"data":[]}') is IGNORED
    # order books are data now (issue 21): a malformed one is rejected, not ignored
    assert isinstance(parse_frame(P["bybit"], '{"topic":"orderbook.50.BTCUSDT","type":"snapshot","data":{}}'),
                      Rejected)


# ---- real recordings ------------------------------------------------------------------------

def _parse_file(path, venue, split=None):
    out, rejected = [], 0
    with open(path) as fh:
        for line in fh:
            frame = line.rstrip("\n").partition(" ")[2] if split else line.rstrip("\n")
            r = parse_frame(P[venue], frame)
            if isinstance(r, Rejected):
                rejected += 1
            elif r:
                out.extend(r)
    return out, rejected


def test_real_binance_aggtrades():
    trades, rejected = _parse_file(EXTRACTED / "binance_usdm_aggTrade_combined_2021-07-22.jsonl", "binance")
    assert rejected == 0 and len(trades) == 91
    by_symbol = {}
    for t in trades:
        by_symbol[t.symbol] = by_symbol.get(t.symbol, 0) + 1
    assert by_symbol == {"SUSHIUSDT": 40, "CTKUSDT": 38, "AKROUSDT": 8, "KEEPUSDT": 5}
    first = trades[0]
    assert first.market == "binance:CTKUSDT" and first.price == 1.011 and first.qty == 10 and first.side == "buy"


def test_real_bybit_linear_trades_sides_match_the_raw_field():
    path = EXTRACTED / "bybit_v5_linear_publicTrade_2026-08-09.jsonl"
    trades, rejected = _parse_file(path, "bybit")
    raw = [d for line in open(path) for d in json.loads(line)["data"]]
    assert rejected == 0 and len(trades) == len(raw) > 100
    assert [t.side for t in trades] == [d["S"].lower() for d in raw]
    assert [t.qty for t in trades] == [float(d["v"]) for d in raw]


def test_real_okx_trades_with_inverse_contracts():
    trades, rejected = _parse_file(EXTRACTED / "okx_v5_trades_2022-05-13.jsonl", "okx")
    assert rejected == 0
    uni = [t for t in trades if t.symbol == "UNI-USD-SWAP"]
    fut = [t for t in trades if t.symbol == "BTC-USD-220527"]
    assert uni and uni[0].quote == 1000.0 and uni[0].qty == pytest.approx(1000 / 5.123)  # 100 contracts x 10 USD
    assert fut and fut[0].quote == 100.0  # 1 contract x 100 USD
    spot = [t for t in trades if t.symbol == "BTC-USDT"]
    assert spot[0].qty == 0.0002


def test_real_coinbase_feeds_invert_the_maker_side():
    trades, rejected = _parse_file(EXTRACTED / "coinbase_exchange_matches_2021-04-17.jsonl", "coinbase")
    raw = [json.loads(line) for line in open(EXTRACTED / "coinbase_exchange_matches_2021-04-17.jsonl")]
    matches = [r for r in raw if r["type"] == "match"]
    assert rejected == 0 and len(trades) == len(matches) == 97
    assert all(t.side != m["side"] for t, m in zip(trades, matches))
    adv, rejected = _parse_file(EXTRACTED / "coinbase_advtrade_market_trades_2026-08-09.jsonl", "coinbase")
    assert rejected == 0 and len(adv) == 79  # 279 minus the two 100-trade snapshot replays
    ts = [t.ts for t in adv if t.symbol == "BTC-USD"]
    assert ts == sorted(ts)


def test_real_hyperliquid_trades():
    trades, rejected = _parse_file(DATA / "hftbacktest/extracted/hyperliquid_btcusd_20250126_trades_only.txt",
                                   "hyperliquid", split=True)
    assert rejected == 0 and len(trades) == 64
    assert sum(t.side == "sell" for t in trades) == 41


def test_hyperliquid_user_fill_is_not_a_public_trade():
    frame = (DATA / "nautilus_trader/hyperliquid_ws_user_fill_liquidation.json").read_text()
    assert parse_frame(P["hyperliquid"], frame) is IGNORED
