"""Turn the real recordings in ../shared/data into capture files (contract.md §1) for tests."""

from __future__ import annotations

import csv
import gzip
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = (ROOT.parent / "shared" / "data").resolve()
EXTRACTED = DATA / "cryptofeed" / "extracted"


def write_capture(path: Path, frames, instruments: dict | None = None, started_ms: int = 1_700_000_000_000,
                  compress: bool = False) -> Path:
    """frames: iterable of (t_ms, venue, frame_text)."""
    opener = gzip.open if compress else open
    with opener(path, "wt", encoding="utf-8") as fh:
        fh.write(json.dumps({"capture": "orderflow-tui", "version": 1, "started_ms": started_ms,
                             "instruments": instruments or {}}) + "\n")
        for t, x, f in frames:
            fh.write(json.dumps({"t": t, "x": x, "f": f}) + "\n")
    return path


def hftbacktest_frames(name: str, venue: str):
    """Lines '<local ns> <frame>' of an hftbacktest extract."""
    path = DATA / "hftbacktest" / "extracted" / name
    opener = gzip.open if name.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            ns, _, frame = line.rstrip("\n").partition(" ")
            yield int(ns) // 1_000_000, venue, frame


def extracted_frames(name: str, venue: str, t0: int = 1_700_000_000_000):
    """One raw frame per line; the extracts have no receive time, so frames are 1 ms apart."""
    with open(EXTRACTED / name, encoding="utf-8") as fh:
        for i, line in enumerate(fh):
            if line.strip():
                yield t0 + i, venue, line.rstrip("\n")


def tardis_binance_frames(stream: str = "aggTrade"):
    """The Tardis Binance USD-M CSV as Binance frames (ids contiguous, side = taker side)."""
    path = DATA / "nautilus_trader" / "tardis_binance-futures_trades_BTCUSDT_2020-02-22.csv"
    with open(path, newline="") as fh:
        for row in csv.DictReader(fh):
            ts = int(row["timestamp"]) // 1000
            id_key = "a" if stream == "aggTrade" else "t"
            data = {"e": stream, "E": ts + 5, id_key: int(row["id"]), "s": "BTCUSDT", "p": row["price"],
                    "q": row["amount"], "T": ts, "m": row["side"] == "sell"}
            yield int(row["local_timestamp"]) // 1000, "binance", json.dumps(
                {"stream": f"btcusdt@{stream.lower()}", "data": data}, separators=(",", ":"))
