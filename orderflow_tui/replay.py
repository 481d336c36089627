"""Headless replay: a capture through the same parsers and engine as the dashboard, as fast as possible."""

from __future__ import annotations

from collections import Counter

from orjson import JSONDecodeError, loads

from orderflow_tui.capture import CaptureReader
from orderflow_tui.engine.engine import Engine
from orderflow_tui.events import CONTROL
from orderflow_tui.venues import PARSE_ERRORS, make_parsers


class ReplayStats:
    def __init__(self):
        self.frames = 0
        self.rejected = 0
        self.control = 0
        self.ignored = 0
        self.reasons: Counter = Counter()

    def reject(self, reason: str) -> None:
        self.rejected += 1
        if len(self.reasons) < 100 or reason in self.reasons:
            self.reasons[reason] += 1


BATCH = 4096  # frames between calls of on_batch (the store writer drains the engine's facts)


def replay_capture(reader: CaptureReader, engine: Engine, venue_options: dict | None = None,
                   on_frame=None, on_batch=None) -> ReplayStats:
    """Feed every frame of ``reader`` to ``engine``. ``on_frame(t_ms)`` is called per frame when given
    (the paced dashboard replay); the headless path leaves it None and runs flat out."""
    parsers = make_parsers(reader.instruments, venue_options)
    stats = ReplayStats()
    on_events = engine.on_events
    for line in reader:
        if len(line) < 3 and not line.strip():
            continue
        try:
            rec = loads(line)
        except JSONDecodeError:
            stats.frames += 1
            stats.reject("capture line is not JSON")
            continue
        if type(rec) is not dict:
            stats.frames += 1
            stats.reject("capture line is not an object")
            continue
        if "k" in rec:
            continue  # other line kinds (REST bodies...): not frames
        stats.frames += 1
        if on_batch is not None and stats.frames % BATCH == 0:
            on_batch(engine)
        parser = parsers.get(rec.get("x"))
        frame = rec.get("f")
        if parser is None or type(frame) is not str:
            stats.reject("unknown venue" if parser is None else "no frame text")
            continue
        if on_frame is not None:
            on_frame(rec.get("t"))
        try:
            events = parser.parse(frame)
        except PARSE_ERRORS as exc:
            stats.reject(f"{parser.venue}: {type(exc).__name__}: {exc}"[:160])
            continue
        except RecursionError:
            stats.reject(f"{parser.venue}: nesting too deep")
            continue
        if events:
            on_events(events)
        elif events is CONTROL:
            stats.control += 1
        else:
            stats.ignored += 1
    engine.finish()
    return stats
