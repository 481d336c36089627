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
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise CaptureError(f"{path}: cannot read: {exc}") from None
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


class CaptureReader:
    """``header``, ``instruments``, and the raw data lines in runs (``blocks``)."""

    def __init__(self, path: str | Path):
        self.path = str(path)
        try:
            self._fh = open_lines(path)
        except OSError as exc:
            raise CaptureError(f"{path}: {exc.strerror or exc}") from None
        self.header = read_header(self._fh, path)
        self.instruments = Instruments.from_header(self.header)

    def blocks(self, size: int = 1 << 16):
        """The remaining data lines in runs of about ``size`` bytes, each run one bytes object of whole
        lines without its last newline (the replay decodes a run in one call). A corrupt gzip
        stream raises OSError, EOFError or zlib.error: ``corrupt()`` turns those into a CaptureError."""
        rest = b""
        while True:
            chunk = self._fh.read(size)
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

    def corrupt(self, exc: Exception) -> CaptureError:
        return CaptureError(f"{self.path}: truncated or corrupt: {exc}")

    def close(self) -> None:
        self._fh.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


READ_ERRORS = (OSError, EOFError, zlib.error)


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

    def write_kind(self, kind: str, t_ms: int, venue: str, body: str) -> None:
        """Other line kinds (e.g. a REST backfill body); readers skip kinds they do not know."""
        self._fh.write(orjson.dumps({"k": kind, "t": t_ms, "x": venue, "f": body}) + b"\n")

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


