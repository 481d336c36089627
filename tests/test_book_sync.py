"""Depth parsers and the per-venue sync machines (issue 21), on venue-shaped frames and real recordings."""

import gzip
import json

import pytest

from orderflow_tui.books.sync import FETCH, NONE, RESUBSCRIBE, bitget_checksum
from orderflow_tui.engine.engine import Engine
from orderflow_tui.events import Depth
from orderflow_tui.venues import make_parsers, parse_book, parse_frame

from captures import DATA


class Feed:
    """Frames through the real parsers into an engine, as the live path and the replay do."""

    def __init__(self):
        self.engine = Engine()
        self.parsers = make_parsers()

    def send(self, venue: str, frame) -> list:
        events = parse_frame(self.parsers[venue], frame if isinstance(frame, str) else json.dumps(frame))
        assert isinstance(events, list), events
        self.engine.on_events(events)
        return events

    def rest(self, market: str, body) -> None:
        venue = market.split(":")[0]
        self.engine.on_events(parse_book(self.parsers[venue], market, json.dumps(body)))

    def book(self, market):
        return self.engine.books[market]

    def sync(self, market):
        return self.engine.book_syncs[market]


def _lv(levels):
    return [[str(p), str(s)] for p, s in levels]


# ---- Binance: U/u/pu with the REST snapshot -------------------------------------------------------

def _bn(U, u, pu, b=(), a=(), T=1_723_161_256_000):
    return {"stream": "btcusdt@depth@100ms", "data": {"e": "depthUpdate", "E": T, "T": T, "s": "BTCUSDT", "U": U,
                                                        "u": u, "pu": pu, "b": _lv(b), "a": _lv(a)}}


def _bn_snap(last, bids, asks):
    return {"lastUpdateId": last, "E": 1_723_161_256_100, "T": 1_723_161_256_100, "bids": _lv(bids), "asks": _lv(asks)}


def test_binance_buffer_snapshot_straddle_and_pu_gap():
    f, m = Feed(), "binance:BTCUSDT"
    f.send("binance", _bn(100, 110, 99, b=[(10.0, 1)]))
    f.send("binance", _bn(111, 120, 110, b=[(10.5, 2)], a=[(11.0, 3)]))
    assert not f.book(m).synced and f.sync(m).want == FETCH  # buffered until a snapshot
    f.rest(m, _bn_snap(115, [(10.0, 5), (9.0, 1)], [(11.0, 1), (12.0, 1)]))
    b = f.book(m)
    # u=110 < 115 dropped; 111..120 straddles 115 and applies
    assert b.synced and b.updates == 1 and f.sync(m).want == NONE
    assert b.top(5) == ([(10.5, 2.0), (10.0, 5.0), (9.0, 1.0)], [(11.0, 3.0), (12.0, 1.0)])
    f.send("binance", _bn(121, 125, 120, a=[(12.0, 0)]))
    assert b.top(5)[1] == [(11.0, 3.0)] and b.updates == 2
    f.send("binance", _bn(130, 131, 126, b=[(10.6, 1)]))  # pu 126 != 125: a gap
    assert (b.synced, b.gaps, f.sync(m).want) == (False, 1, FETCH)
    assert b.size_at(True, 10.6) == 0.0  # nothing applied on a broken chain
    f.send("binance", _bn(132, 133, 131, b=[(10.7, 1)]))
    f.rest(m, _bn_snap(131, [(10.6, 1), (10.0, 5)], [(11.0, 3)]))  # u=131 == lastUpdateId: applied
    assert b.synced and b.resyncs == 1 and b.best_bid() == 10.7 and b.updates == 4


def test_binance_snapshot_older_than_buffer_is_refetched_keeping_the_buffer():
    f, m = Feed(), "binance:BTCUSDT"
    f.send("binance", _bn(200, 210, 199, b=[(10.0, 1)], a=[(11.0, 1)]))
    f.send("binance", _bn(211, 220, 210, b=[(10.1, 1)]))
    f.sync(m).want = NONE  # the live client took the request
    f.rest(m, _bn_snap(150, [(9.0, 1)], [(12.0, 1)]))  # older than U=200 of the oldest buffered
    assert not f.book(m).synced and f.sync(m).want == FETCH and f.book(m).snapshots == 0
    f.rest(m, _bn_snap(215, [(9.0, 1), (10.0, 1)], [(11.0, 1)]))
    b = f.book(m)
    assert b.synced and b.resyncs == 0 and b.updates == 1 and b.best_bid() == 10.1


def test_binance_snapshot_newer_than_the_buffer_waits_for_the_straddling_event():
    f, m = Feed(), "binance:BTCUSDT"
    f.send("binance", _bn(1, 5, 0, b=[(10.0, 1)]))
    f.rest(m, _bn_snap(8, [(9.0, 1)], [(12.0, 1)]))
    b = f.book(m)
    assert b.synced and b.updates == 0
    f.send("binance", _bn(6, 7, 5, b=[(9.5, 1)]))     # u < lastUpdateId: dropped
    f.send("binance", _bn(8, 12, 7, b=[(9.6, 1)]))    # straddles
    f.send("binance", _bn(13, 14, 12, b=[(9.7, 1)]))  # chains on pu
    assert b.updates == 2 and b.best_bid() == 9.7 and b.size_at(True, 9.5) == 0.0 and b.gaps == 0


def test_binance_crossed_book_is_a_gap():
    f, m = Feed(), "binance:BTCUSDT"
    f.send("binance", _bn(1, 2, 0))
    f.rest(m, _bn_snap(2, [(10.0, 1)], [(11.0, 1)]))
    f.send("binance", _bn(3, 4, 2, b=[(11.5, 1)]))  # a corrupted delta: bid above the ask
    assert (f.book(m).synced, f.book(m).gaps, f.sync(m).want) == (False, 1, FETCH)


def test_binance_real_depth_matches_every_book_ticker():
    """hftbacktest's USD-M recording: @depth@0ms, one REST snapshot taken after the stream began. At
    every bookTicker whose u is the book's last applied u, the best levels must be the ticker's."""
    f, m = Feed(), "binance:BTCUSDT"
    checked = 0
    with gzip.open(DATA / "hftbacktest/usdm_btcusdt_20240808.gz", "rt") as fh:
        for n, line in enumerate(fh):
            if n == 40_000:  # about 2.5 minutes of the market: enough, and cheap
                break
            frame = line.split(" ", 1)[1]
            if frame.startswith('{"lastUpdateId"'):
                f.rest(m, json.loads(frame))
            elif "@depth" in frame[:40]:
                f.send("binance", frame)
            elif "@bookTicker" in frame[:40] and m in f.engine.book_syncs:
                t = json.loads(frame)["data"]
                sync = f.sync(m)
                if sync.bridged and t["u"] == sync.last:
                    b = f.book(m)
                    bids, asks = b.top(1)
                    assert bids[0] == (float(t["b"]), float(t["B"])) and asks[0] == (float(t["a"]), float(t["A"]))
                    checked += 1
    b = f.book(m)
    assert checked > 40 and b.synced and b.gaps == 0 and b.updates > 2500


# ---- Bybit: snapshot / delta with u --------------------------------------------------------------

def _bb(kind, u, b=(), a=()):
    return {"topic": "orderbook.200.BTCUSDT", "type": kind, "ts": 1_723_161_256_000,
            "data": {"s": "BTCUSDT", "b": _lv(b), "a": _lv(a), "u": u, "seq": u * 10}, "cts": 1_723_161_255_990}


def test_bybit_snapshot_deltas_resent_snapshot_restart_and_gap():
    f, m = Feed(), "bybit:BTCUSDT"
    f.send("bybit", _bb("delta", 4, b=[(1.0, 1)]))  # before any snapshot: nothing to apply to
    b = f.book(m)
    assert b.status(0, 5) == "waiting" and b.updates == 0
    f.send("bybit", _bb("snapshot", 5, b=[(10.0, 1), (9.0, 2)], a=[(11.0, 1)]))
    f.send("bybit", _bb("delta", 6, b=[(10.0, 0), (9.5, 1)]))
    f.send("bybit", _bb("delta", 6, b=[(9.4, 1)]))  # a repeat of an old u: ignored
    assert b.top(3) == ([(9.5, 1.0), (9.0, 2.0)], [(11.0, 1.0)]) and b.updates == 2
    f.send("bybit", _bb("snapshot", 7, b=[(8.0, 1)], a=[(12.0, 1)]))  # re-sent: replaces
    assert b.top(3) == ([(8.0, 1.0)], [(12.0, 1.0)]) and b.resyncs == 1
    f.send("bybit", _bb("delta", 9, b=[(8.5, 1)]))  # u 9 after 7: a gap
    assert (b.synced, b.gaps, f.sync(m).want) == (False, 1, RESUBSCRIBE) and b.size_at(True, 8.5) == 0.0
    f.send("bybit", _bb("delta", 1, b=[(7.0, 1)], a=[(7.5, 1)]))  # u=1: a restart, overwrite
    assert b.synced and b.top(3) == ([(7.0, 1.0)], [(7.5, 1.0)]) and b.resyncs == 2


# ---- OKX: seqId / prevSeqId, contracts -----------------------------------------------------------

def _okx(action, seq, prev, b=(), a=(), inst="BTC-USDT-SWAP"):
    return {"arg": {"channel": "books", "instId": inst}, "action": action,
            "data": [{"asks": [[str(p), str(s), "0", "3"] for p, s in a], "bids": [[str(p), str(s), "0", "2"] for p, s in b],
                      "ts": "1723161256000", "checksum": 0, "seqId": seq, "prevSeqId": prev}]}


def test_okx_chain_heartbeat_maintenance_gap_and_contracts():
    f, m = Feed(), "okx:BTC-USDT-SWAP"
    f.send("okx", _okx("snapshot", 10, -1, b=[(100.0, 5)], a=[(101.0, 200)]))
    b = f.book(m)
    assert b.top(1) == ([(100.0, 0.05)], [(101.0, 2.0)])  # contracts of 0.01 BTC
    f.send("okx", _okx("update", 15, 10, b=[(100.5, 100)]))
    f.send("okx", _okx("update", 15, 15))          # a heartbeat: same seqId, no levels
    f.send("okx", _okx("update", 3, 15, a=[(101.0, 0)]))  # maintenance: seqId goes down, chain holds
    f.send("okx", _okx("update", 5, 3, a=[(102.0, 1)]))
    assert b.synced and b.gaps == 0 and b.updates == 5 and b.top(2)[1] == [(102.0, 0.01)]
    f.send("okx", _okx("update", 9, 7, b=[(99.0, 1)]))  # prevSeqId 7 != 5
    assert (b.synced, b.gaps, f.sync(m).want) == (False, 1, RESUBSCRIBE)
    f.send("okx", _okx("snapshot", 20, -1, b=[(99.0, 1)], a=[(100.0, 1)]))
    assert b.synced and b.resyncs == 1 and b.top(1) == ([(99.0, 0.01)], [(100.0, 0.01)])


def test_okx_rest_bootstrap_without_an_in_band_snapshot():
    f, m = Feed(), "okx:BTC-USDT-SWAP"
    f.send("okx", _okx("update", 12, 10, b=[(100.0, 1)]))
    assert f.sync(m).want == NONE  # one delta: the in-band snapshot may still come
    f.send("okx", _okx("update", 14, 12, b=[(100.5, 1)]))
    assert f.sync(m).want == FETCH
    f.rest(m, {"code": "0", "msg": "", "data": [{"asks": [["101", "1", "0", "1"]], "bids": [["99", "1", "0", "1"]],
                                                 "ts": "1723161256000", "seqId": 13}]})
    b = f.book(m)  # 12 <= 13 dropped; (12, 14] straddles 13
    assert b.synced and b.updates == 1 and b.top(3) == ([(100.5, 0.01), (99.0, 0.01)], [(101.0, 0.01)])


# ---- Bitget: seq / pseq and the CRC32 of raw strings ---------------------------------------------

def _bg_levels_crc(bids, asks):
    bd = {float(p): (p, s) for p, s in bids}
    ad = {float(p): (p, s) for p, s in asks}
    return bitget_checksum(bd, ad)


def _bg(action, seq, pseq, b=(), a=(), checksum=None, book=None):
    data = {"asks": [list(x) for x in a], "bids": [list(x) for x in b], "ts": "1723161256000",
            "checksum": 0 if checksum is None else checksum, "seq": seq, "pseq": pseq}
    return {"action": action, "arg": {"instType": "USDT-FUTURES", "channel": "books", "instId": "BTCUSDT"},
            "data": [data], "ts": 1723161256001}


def test_bitget_checksum_over_raw_strings_trailing_zeros_and_gaps():
    f, m = Feed(), "bitget:BTCUSDT"
    bids = [("100.50", "1.000"), ("100.0", "2")]
    asks = [("101.00", "0.50")]
    f.send("bitget", _bg("snapshot", 5, 4, bids, asks))
    # the venue's CRC over the strings as sent: "100.50:1.000:101.00:0.50:100.0:2"
    import zlib
    crc = zlib.crc32(b"100.50:1.000:101.00:0.50:100.0:2")
    assert _bg_levels_crc(bids, asks) == (crc - (1 << 32) if crc >= 1 << 31 else crc)
    new_bids = [("100.50", "1.500")]
    good = _bg_levels_crc([("100.50", "1.500"), ("100.0", "2")], asks)
    f.send("bitget", _bg("update", 6, 5, new_bids, checksum=good))
    b = f.book(m)
    assert b.synced and b.gaps == 0 and b.top(1)[0] == [(100.5, 1.5)]
    # the same numbers written "100.5": a client that re-formats floats would compute this one
    trimmed = _bg_levels_crc([("100.5", "1.5"), ("100.0", "2")], [("101.00", "0.40")])
    f.send("bitget", _bg("update", 7, 6, (), [("101.00", "0.40")], checksum=trimmed))
    assert (b.synced, b.gaps, f.sync(m).want) == (False, 1, RESUBSCRIBE)
    f.send("bitget", _bg("update", 8, 7, (), [("101.00", "0.30")]))  # not applied until a snapshot
    assert b.size_at(False, 101.0) == 0.4
    f.send("bitget", _bg("snapshot", 20, 19, [("99.0", "1")], [("100.0", "1")]))
    f.send("bitget", _bg("update", 22, 21, [("99.5", "1")]))  # pseq 21 != 20
    assert b.gaps == 2 and b.resyncs == 1 and not b.synced


# ---- Coinbase and Hyperliquid: whole snapshots, real recordings -----------------------------------

def _coinbase_level2_frames():
    with open(DATA / "cryptofeed/COINBASE.ws.28.0", encoding="utf-8") as fh:
        for line in fh:
            head, sep, frame = line.partition(": ")
            if sep and frame.startswith('{"type":"snapshot"') or frame.startswith('{"type":"l2update"'):
                yield frame.rstrip("\n")


def test_coinbase_level2_real_frames_against_a_plain_dict_book():
    f = Feed()
    ref: dict = {}
    for frame in _coinbase_level2_frames():
        msg = json.loads(frame)
        side = ref.setdefault(msg["product_id"], ({}, {}))
        if msg["type"] == "snapshot":
            side[0].clear(), side[1].clear()
            for i, key in ((0, "bids"), (1, "asks")):
                side[i].update({float(p): float(s) for p, s in msg[key] if float(s)})
        else:
            for s, p, q in msg["changes"]:
                d = side[0 if s == "buy" else 1]
                if float(q):
                    d[float(p)] = float(q)
                else:
                    d.pop(float(p), None)
        f.send("coinbase", frame)
    assert len(ref) >= 5
    for product, (bids, asks) in ref.items():
        b = f.book(f"coinbase:{product}")
        assert b.top(20) == (sorted(bids.items(), reverse=True)[:20], sorted(asks.items())[:20])
        assert b.synced and b.gaps == 0 and b.ts > 1_618_000_000_000


def test_hyperliquid_l2book_real_frames_replace_the_book():
    f, m = Feed(), "hyperliquid:BTC"
    last = None
    with gzip.open(DATA / "hftbacktest/hyperliquid_btcusd_20250126.gz", "rt") as fh:
        for line in fh:
            frame = line.split(" ", 1)[1].rstrip("\n")
            if frame.startswith('{"channel":"l2Book"'):
                f.send("hyperliquid", frame)
                last = json.loads(frame)["data"]
    b = f.book(m)
    bids, asks = last["levels"]
    assert b.top(20) == ([(float(x["px"]), float(x["sz"])) for x in bids], [(float(x["px"]), float(x["sz"])) for x in asks])
    assert b.updates == 46 and b.resyncs == 0 and b.ts == last["time"] and b.synced


@pytest.mark.parametrize("venue,frame", [
    ("binance", '{"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","T":1,"s":"BTCUSDT","U":1,"u":2,"pu":0,"b":[["1_0","1"]],"a":[]}}'),
    ("bybit", '{"topic":"orderbook.200.BTCUSDT","type":"delta","ts":1723161256000,"data":{"s":"BTCUSDT","b":[["nan","1"]],"a":[],"u":3}}'),
    ("okx", '{"arg":{"channel":"books","instId":"BTC-USDT-SWAP"},"action":"update","data":[{"asks":[["1","-1","0","1"]],"bids":[],"ts":"1","seqId":1,"prevSeqId":0}]}'),
    ("hyperliquid", '{"channel":"l2Book","data":{"coin":"BTC","levels":[[{"px":"inf","sz":"1","n":1}],[]],"time":1}}'),
    ("coinbase", '{"type":"l2update","product_id":"BTC-USD","changes":[["hold","1","1"]],"time":"2021-04-17T16:43:37.075687Z"}'),
    ("bitget", '{"action":"update","arg":{"instType":"USDT-FUTURES","channel":"books","instId":"BTCUSDT"},"data":[{"asks":[["x","1"]],"bids":[],"ts":"1","seq":2,"pseq":1}]}'),
])
def test_malformed_depth_frames_are_rejected(venue, frame):
    from orderflow_tui.venues import Rejected
    assert isinstance(parse_frame(make_parsers()[venue], frame), Rejected)


def test_depth_events_are_the_parsers_output():
    ev = Feed().send("binance", _bn(1, 2, 0, b=[(10.0, 1)]))
    assert len(ev) == 1 and type(ev[0]) is Depth and ev[0].bids == [(10.0, 1.0)] and ev[0].last == 2


def test_replay_report_book_key_and_trade_numbers_unchanged_by_depth(tmp_path):
    """A capture with depth frames and the REST snapshot as a "k": "book" line: the report's market
    gains `book` (contract §2b) equal to the book the frames build, and every trade number is the
    same as without the depth frames."""
    from orderflow_tui.capture import CaptureReader
    from orderflow_tui.replay import replay_capture
    from orderflow_tui.report import build_report

    lines = []
    with gzip.open(DATA / "hftbacktest/usdm_btcusdt_20240808.gz", "rt") as fh:
        for n, line in enumerate(fh):
            if n == 8_000:
                break
            ns, _, frame = line.rstrip("\n").partition(" ")
            lines.append((int(ns) // 1_000_000, frame))
    with_depth = tmp_path / "depth.jsonl"
    trades_only = tmp_path / "trades.jsonl"
    for path, keep_depth in ((with_depth, True), (trades_only, False)):
        with open(path, "w") as out:
            out.write(json.dumps({"capture": "orderflow-tui", "version": 1, "started_ms": 0, "instruments": {}}) + "\n")
            for t, frame in lines:
                if frame.startswith('{"lastUpdateId"'):
                    if keep_depth:
                        out.write(json.dumps({"t": t, "x": "binance", "k": "book", "m": "binance:BTCUSDT", "f": frame}) + "\n")
                elif keep_depth or "@depth" not in frame[:40]:
                    out.write(json.dumps({"t": t, "x": "binance", "f": frame}) + "\n")
    reports = []
    for path in (with_depth, trades_only):
        engine = Engine(report_tf="1m", report_step=10.0)
        with CaptureReader(path) as reader:
            stats = replay_capture(reader, engine)
        reports.append(build_report(engine, stats, reader.instruments))
    got, base = reports
    depth_frames = sum(1 for _, f in lines if "@depth" in f[:40])
    assert got["ignored_frames"] - base["ignored_frames"] == depth_frames > 300
    book = got["markets"]["binance:BTCUSDT"].pop("book")
    assert got["markets"] == base["markets"] and got["rejected_frames"] == 0
    f, m = Feed(), "binance:BTCUSDT"
    for _, frame in lines:
        if frame.startswith('{"lastUpdateId"'):
            f.rest(m, json.loads(frame))
        elif "@depth" in frame[:40]:
            f.send("binance", frame)
    b = f.book(m)
    bids, asks = b.top(20)
    assert book == {"ts": b.ts, "bids": [list(x) for x in bids], "asks": [list(x) for x in asks],
                    "updates": b.updates, "resyncs": 0, "gaps": 0, "synced": True}
    assert len(book["bids"]) == 20 and book["bids"][0][0] < book["asks"][0][0] and book["updates"] > 300
