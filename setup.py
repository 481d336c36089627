"""Compiles the per-trade path with mypyc; everything else (metadata, dependencies) is in pyproject.toml.

The compiled modules are ordinary, type-checked Python: with ORDERFLOW_TUI_PURE=1 nothing is
compiled and the same source runs interpreted (replay about 2x slower, same results: a test checks).
"""

import os

from setuptools import setup

# the modules every trade goes through: capture line -> parser -> event -> engine state
COMPILED = [
    "orderflow_tui/events.py",
    "orderflow_tui/replay.py",
    "orderflow_tui/venues/binance.py",
    "orderflow_tui/engine/engine.py",
    "orderflow_tui/engine/market.py",
    "orderflow_tui/engine/flow.py",
    "orderflow_tui/engine/footprint.py",
]

ext_modules = []
if os.environ.get("ORDERFLOW_TUI_PURE") != "1":
    from mypyc.build import mypycify

    ext_modules = mypycify(["--follow-imports=silent", "--ignore-missing-imports", *COMPILED],
                           group_name="orderflow_tui_native")

setup(ext_modules=ext_modules)
