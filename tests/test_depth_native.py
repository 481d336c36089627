"""The depth levels' C reader and book side (orderflow_tui/_depth.c) against their pure-Python twins
(venues/levels.py, books/side.py): the same floats, texts, errors and books on random input, and a
malformed level that leaves the book as it was."""

import json
import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orderflow_tui.books.side import PySide, Side, checksum, py_checksum
from orderflow_tui.books.sync import bitget_checksum
from orderflow_tui.venues import levels as L

from captures import DATA, hftbacktest_frames, write_capture
from test_book_sync import Feed, _bg

native = pytest.mark.skipif(not L.NATIVE, reason="the C module is not built (ORDERFLOW_TUI_PURE=1)")

# venue decimals as venues write them (trailing zeros, no integer part, exponents), and some that are not
digits = st.text("0123456789", min_size=1, max_size=9)
decimals = st.one_of(
    st.builds(lambda i, f: f"{i}.{f}", digits, digits),
    digits,
    st.builds(lambda f: f".{f}", digits),
    st.builds(lambda i, e: f"{i}e{e}", digits, st.integers(-12, 12)),
    st.builds(lambda i, f: f"{i}.{f}", st.text("0123456789", min_size=10, max_size=24),
              st.text("0123456789", min_size=10, max_size=24)),  # past the exact fast path
    st.sampled_from(["", ".", "1e", " 1", "1_0", "inf", "nan", "-1", "+1", "0x10", "1.2.3", "١"]),
)
level_values = st.one_of(decimals, st.floats(allow_nan=False, allow_infinity=False, width=64), st.integers(-5, 10**9))
levels_json = st.builds(lambda lv, sep: json.dumps(lv, separators=sep),
                        st.lists(st.lists(level_values, min_size=1, max_size=4), max_size=12),
                        st.sampled_from([(",", ":"), (", ", ": ")]))


def outcome(parse, *args):
    try:
        lv = parse(*args)
    except ValueError:
        return "rejected"
    return list(lv)


@native
@settings(max_examples=200, deadline=None)
@given(levels_json, st.sampled_from([1.0, 0.01, 100.0, 0.1]), st.booleans())
def test_the_c_reader_gives_the_twins_floats_and_errors(text, mult, inverse):
    assert outcome(L.parse, text, mult, inverse) == outcome(L.py_parse, text, mult, inverse)


@native
@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["buy", "sell", "hold"]), decimals, decimals), max_size=8))
def test_coinbase_changes_read_as_the_twin_does(changes):
    text = json.dumps([list(c) for c in changes])
    assert outcome(lambda t: sum(map(list, L.parse_changes(t)), []), text) == \
        outcome(lambda t: sum(map(list, L.py_parse_changes(t)), []), text)


@native
def test_texts_are_the_venues_strings():
    lv = L.parse('[["100.50","1.000","0","3"],["99.0", "0.5000"]]')
    assert lv.texts() == ["100.50:1.000", "99.0:0.5000"] and list(lv) == [(100.5, 1.0), (99.0, 0.5)]
    assert L.parse("[]") == [] and len(L.parse(" [ ] ")) == 0


# ---- the book side -------------------------------------------------------------------------------

prices = st.integers(9_900, 10_100).map(lambda t: f"{t / 10:.2f}")  # trailing zeros, 201 ticks
sizes = st.sampled_from(["0", "0.000", "1", "1.50", "2.0000", "0.001", "37.5"])
frames = st.lists(st.tuples(prices, sizes), max_size=15).map(lambda lv: json.dumps([list(x) for x in lv]))
ops = st.lists(st.tuples(st.sampled_from(["apply", "apply", "apply", "replace", "trim", "clear"]), frames,
                         st.integers(0, 60)), min_size=1, max_size=25)


def state(side, probe):
    return len(side), side.top(1000), side.best(), [side.size_at(p) for p in probe]


@native
@settings(max_examples=100, deadline=None)
@given(ops, st.booleans())
def test_the_c_side_keeps_the_twins_book(steps, is_bid):
    c, py = Side(is_bid, True), PySide(is_bid, True)
    c_ask, py_ask = Side(not is_bid, True), PySide(not is_bid, True)
    probe = [99.0, 100.0, 1000.0, 1005.5, 1010.0]
    for op, text, n in steps:
        lv = L.parse(text)
        for a, b in ((c, py), (c_ask, py_ask)):
            if op == "apply":
                a.apply(lv), b.apply(L.py_parse(text))
            elif op == "replace":
                a.replace(lv), b.replace(L.py_parse(text))
            elif op == "trim":
                a.trim(n), b.trim(n)
            else:
                a.clear(), b.clear()
        assert state(c, probe) == state(py, probe) or (c.best() != c.best() and py.best() != py.best())
        assert checksum(c, c_ask, 25) == py_checksum(py, py_ask, 25)


@native
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_deep_side_splits_and_trims_its_chunks_as_the_twin_keeps_its_list(seed):
    """Thousands of levels (the C side keeps them in chunks of 64): frames deep in the book and at
    the touch, a replace of 700 levels, trims, a side emptied and refilled."""
    rnd = random.Random(seed)
    for is_bid in (True, False):
        c, py = Side(is_bid, True), PySide(is_bid, True)
        for step in range(400):
            n = rnd.choice([1, 5, 40, 200])
            lo = rnd.choice([0, 0, 3000])
            text = json.dumps([[f"{rnd.randint(lo + 1, lo + 3000) / 10:.2f}", rnd.choice(["0", "0", "1.5", "2.00"])]
                               for _ in range(n)])
            if step % 97 == 50:
                text = json.dumps([[f"{t / 10:.1f}", "3"] for t in rnd.sample(range(1, 6000), 700)])
                c.replace(L.parse(text)), py.replace(L.py_parse(text))
            else:
                c.apply(L.parse(text)), py.apply(L.py_parse(text))
            if step % 53 == 0:
                keep = rnd.choice([0, 10, 100, 1000])
                c.trim(keep), py.trim(keep)
            assert len(c) == len(py) and c.best() == py.best() or (c.best() != c.best() and len(py) == 0)
            if step % 20 == 0:
                assert c.top(5000) == py.top(5000), step
                assert checksum(c, c, 25) == py_checksum(py, py, 25)
        probe = [t / 10 for t in range(0, 6000, 7)]
        assert [c.size_at(p) for p in probe] == [py.size_at(p) for p in probe]


@native
def test_sides_take_plain_pairs_too_and_later_prices_win():
    s = Side(True)
    s.replace([(10.0, 1.0), (11.0, 2.0), (10.0, 0.0), (9, 3)])  # the later 10.0 (size 0) wins
    assert s.top(5) == [(11.0, 2.0), (9.0, 3.0)] and s.best() == 11.0
    s.apply([(11.0, 0.0)])
    assert s.best() == 9.0 and len(s) == 1
    a = Side(False)
    assert a.best() != a.best() and a.top(3) == [] and a.size_at(1.0) == 0.0


def test_the_book_checksum_is_the_venues_rule():
    """Bitget's CRC32 from the book's kept texts equals the plain rule over dicts (sync.bitget_checksum)."""
    rnd = random.Random(5)
    f, m = Feed(), "bitget:BTCUSDT"
    book = {True: {}, False: {}}
    seq = 10
    for step in range(60):
        changes = {True: [], False: []}
        for _ in range(rnd.randint(1, 8)):
            is_bid = rnd.random() < 0.5
            tick = rnd.randint(9_950, 9_999) if is_bid else rnd.randint(10_000, 10_050)
            px, sz = f"{tick / 10:.2f}", rnd.choice(["0", "0.5000", "1.000", "12.0"])
            changes[is_bid].append((px, sz))
            if float(sz):
                book[is_bid][float(px)] = (px, sz)
            else:
                book[is_bid].pop(float(px), None)
        crc = bitget_checksum(book[True], book[False])
        if step == 0:
            f.send("bitget", _bg("snapshot", seq, seq - 1, [v for v in book[True].values()],
                                 [v for v in book[False].values()], checksum=crc))
        else:
            f.send("bitget", _bg("update", seq, seq - 1, changes[True], changes[False], checksum=crc))
        seq += 1
        b = f.book(m)
        assert b.synced and b.gaps == 0, step
        assert b.checksum(25) == crc


def test_a_malformed_level_leaves_the_book_as_it_was():
    f, m = Feed(), "bybit:BTCUSDT"
    snap = {"topic": "orderbook.200.BTCUSDT", "type": "snapshot", "ts": 1723161256000,
            "data": {"s": "BTCUSDT", "b": [["99.5", "1"]], "a": [["100.5", "1"]], "u": 1, "seq": 1}, "cts": 1723161256000}
    f.send("bybit", snap)
    before = f.book(m).top(10)
    bad = dict(snap, type="delta", data={"s": "BTCUSDT", "b": [["99.0", "2"], ["99.1", "1 "]], "a": [], "u": 2})
    from orderflow_tui.venues import Rejected, parse_frame
    assert isinstance(parse_frame(f.parsers["bybit"], json.dumps(bad)), Rejected)
    assert f.book(m).top(10) == before and f.book(m).updates == 1


@native
def test_a_level_text_too_long_for_its_slot_is_refused_before_anything_changes():
    s = Side(True, True)
    s.apply(L.parse('[["100.0","1"]]'))
    long = "1." + "0" * 50
    with pytest.raises(ValueError):
        s.apply(L.parse(f'[["101.0","2"],["102.0","{long}"]]'))
    assert s.top(5) == [(100.0, 1.0)]
    with pytest.raises(ValueError):
        PySide(True, True).apply(L.py_parse(f'[["102.0","{long}"]]'))


# ---- the whole replay, compiled and plain ----------------------------------------------------------

@native
def test_a_depth_replay_reports_the_same_books_compiled_and_plain(tmp_path):
    """Real Binance depth (with its REST snapshot) and Coinbase level2 through the C reader and sides
    (and mypyc), and through the same sources run as plain Python with the C module's twins
    (ORDERFLOW_TUI_PURE=1 when it runs): the very same report."""
    import orderflow_tui

    lines = []  # trades too: a market is in the report when it has a trade (contract §2)
    for t, x, frame in hftbacktest_frames("../usdm_btcusdt_20240808.gz", "binance"):
        if frame.startswith('{"lastUpdateId"'):
            lines.append({"t": t, "x": x, "k": "book", "m": "binance:BTCUSDT", "f": frame})
        elif "@depth" in frame[:40] or "@trade" in frame[:40]:
            lines.append({"t": t, "x": x, "f": frame})
        if len(lines) >= 4000:
            break
    with open(DATA / "cryptofeed/COINBASE.ws.28.0", encoding="utf-8") as fh:
        for i, line in enumerate(fh):
            _, sep, frame = line.partition(": ")
            if sep and frame.startswith("{"):
                lines.append({"t": 1_723_161_300_000 + i, "x": "coinbase", "f": frame.rstrip("\n")})
    path = write_capture(tmp_path / "depth.jsonl", [])
    with open(path, "a", encoding="utf-8") as fh:
        for line in lines:
            fh.write(json.dumps(line) + "\n")
    package = Path(orderflow_tui.__file__).parent
    plain = tmp_path / "plain"
    shutil.copytree(package, plain / "orderflow_tui", ignore=shutil.ignore_patterns("*.so", "__pycache__"))
    cmd = [sys.executable, "-m", "orderflow_tui", "replay", str(path), "--headless", "--report", "json", "--no-store"]
    env = {**os.environ, "PYTHONPATH": str(plain), "ORDERFLOW_TUI_PURE": "1"}
    probe = subprocess.run([sys.executable, "-c", "import orderflow_tui.books.book as b, orderflow_tui.books.side as s, "
                            "orderflow_tui.venues.levels as v; print(b.__file__, s.Side is s.PySide, v.NATIVE)"],
                           capture_output=True, text=True, env=env, cwd=tmp_path, check=True)
    assert probe.stdout.split() == [str(plain / "orderflow_tui/books/book.py"), "True", "False"]
    compiled = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=True)
    pure = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=True, cwd=tmp_path, env=env)
    a, b = json.loads(compiled.stdout), json.loads(pure.stdout)
    books = {k: v["book"] for k, v in a["markets"].items() if "book" in v}
    assert len(books) >= 5 and books["binance:BTCUSDT"]["updates"] > 1000 and books["binance:BTCUSDT"]["synced"]
    assert a == b
