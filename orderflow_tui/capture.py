"""Capture files (contract.md §1): JSON Lines, a header then one raw frame per line, gzip optional."""

from __future__ import annotations

import gzip
import os
import time
import zlib
from pathlib import Path

import orjson

from orderflow_tui.instruments import Instruments

GZIP_MAGIC = b"\x1f\x8b"
READ_ERRORS = (OSError, EOFError, zlib.error)
CONTRACT_SIZE_RANGE = (1e-12, 1e9)  # docs/decisions.md, "Accepted ranges"


class CaptureError(Exception):
    """The file is not a capture this version can read."""


def open_lines(path: str | Path):
    """A binary line iterator over a plain or gzip file, told apart by magic bytes, not by name."""
    fh = open(path, "rb")
    if fh.read(2) == GZIP_MAGIC:
        fh.close()
        return gzip.open(path, "rb")
    fh.seek(0)
    return fh


def read_header(fh, path) -> dict:
    try:
        first = fh.readline()
    except (OSError, EOFError, zlib.error) as exc:
        raise CaptureError(f"{path}: cannot read: {exc}") from None
    if not first.strip():
        raise CaptureError(f"{path}: empty, or no header line; not an orderflow-tui capture")
    try:
        header = orjson.loads(first)
    except orjson.JSONDecodeError:
        raise CaptureError(f"{path}: the first line is not a capture header") from None
    if type(header) is not dict or header.get("capture") != "orderflow-tui":
        raise CaptureError(f"{path}: not an orderflow-tui capture (no header line)")
    version = header.get("version")
    if version != 1:
        raise CaptureError(f"{path}: capture version {version!r}; this program reads version 1")
    return header


def _bad_instruments(header: dict) -> list[str]:
    """Drop header instruments whose contract size is not a number in CONTRACT_SIZE_RANGE (an
    infinite or tiny size would make every base amount of the market infinite or zero)."""
    table = header.get("instruments")
    if type(table) is not dict:
        header["instruments"] = {}
        return [] if table is None else ["instruments (not an object)"]
    bad = []
    for market, spec in list(table.items()):
        size = spec.get("contract_size") if type(spec) is dict else None
        inverse = spec.get("inverse", False) if type(spec) is dict else None
        if (type(size) not in (int, float) or not CONTRACT_SIZE_RANGE[0] <= size <= CONTRACT_SIZE_RANGE[1]
                or type(inverse) is not bool):
            bad.append(f"{market} ({str(spec)[:60]})")
            del table[market]
    return bad


class CaptureReader:
    """``header``, ``instruments``, and the raw data lines in runs (``blocks``)."""

    def __init__(self, path: str | Path):
        self.path = str(path)
        if Path(path).is_dir():
            raise CaptureError(f"{path}: is a directory, not a capture file")
        try:
            self._fh = open_lines(path)
        except OSError as exc:
            raise CaptureError(f"{path}: {exc.strerror or exc}") from None
        try:
            self.header = read_header(self._fh, path)
        except CaptureError:
            self._fh.close()
            raise
        self.ignored_instruments = _bad_instruments(self.header)  # named on stderr by the caller
        self.instruments = Instruments.from_header(self.header)
        # set when the file ends in a corrupt or cut-off stream: what was read before stays valid
        self.error = ""
        # gzip: read1 hands over what decompressed before a cut; read() would drop it with the error
        self._read = self._fh.read1 if isinstance(self._fh, gzip.GzipFile) else self._fh.read

    def blocks(self, size: int = 1 << 16):
        """The remaining data lines in runs of about ``size`` bytes, each run one bytes object of whole
        lines without its last newline (the replay decodes a run in one call). A corrupt or
        cut-off stream ends the runs after the last whole line before it and sets ``error``."""
        rest = b""
        while True:
            try:
                chunk = self._read(size)
            except READ_ERRORS as exc:
                self.error = f"truncated or corrupt ({type(exc).__name__}: {exc})"
                return  # ``rest``, a line cut in the middle, is not a frame
            if not chunk:
                if rest:
                    yield rest
                return
            if rest:
                chunk = rest + chunk
            cut = chunk.rfind(b"\n")
            if cut < 0:
                rest = chunk  # a line longer than size: read on
                continue
            rest = chunk[cut + 1:]
            yield chunk[:cut]

    def close(self) -> None:
        self._fh.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()




class CaptureWriter:
    """Writes a capture; frames are kept exactly as the venue sent them."""

    def __init__(self, path: str | Path, instruments: Instruments | None = None, started_ms: int | None = None,
                 compress: bool | None = None):
        path = Path(path)
        compress = path.suffix == ".gz" if compress is None else compress
        raw = open(path, "wb")
        self._fh = gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=5) if compress else raw
        self._raw = raw
        self.frames = 0
        header = {"capture": "orderflow-tui", "version": 1,
                  "started_ms": started_ms if started_ms is not None else int(time.time() * 1000),
                  "instruments": (instruments or Instruments()).to_header()}
        self._fh.write(orjson.dumps(header) + b"\n")

    def write(self, t_ms: int, venue: str, frame: str | bytes) -> None:
        if isinstance(frame, (bytes, bytearray)):
            frame = frame.decode("utf-8", "replace")
        self._fh.write(orjson.dumps({"t": t_ms, "x": venue, "f": frame}) + b"\n")
        self.frames += 1

    def write_kind(self, kind: str, t_ms: int, venue: str, body: str, market: str | None = None) -> None:
        """Other line kinds (e.g. a REST backfill body; "book": a REST book snapshot of ``market``, as
        applied); readers skip kinds they do not know."""
        line = {"k": kind, "t": t_ms, "x": venue, "f": body}
        if market is not None:
            line["m"] = market
        self._fh.write(orjson.dumps(line) + b"\n")

    def flush(self) -> None:
        """Push what was written to the disk (a crash loses at most the last second)."""
        self._fh.flush()
        if self._fh is not self._raw:
            self._raw.flush()
        os.fsync(self._raw.fileno())

    def close(self) -> None:
        self._fh.close()
        if self._fh is not self._raw:
            self._raw.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


