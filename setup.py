"""Compiles the per-trade path with mypyc; everything else (metadata, dependencies) is in pyproject.toml.

The compiled modules are ordinary, type-checked Python: with ORDERFLOW_TUI_PURE=1 nothing is
compiled and the same source runs interpreted (replay about 2x slower, same results: a test checks).
Without a working C compiler the install goes on the same way, with a warning.
"""

import os
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

# the modules every trade goes through: capture line -> parser -> event -> engine state
COMPILED = [
    "orderflow_tui/events.py",
    "orderflow_tui/replay.py",
    "orderflow_tui/venues/binance.py",
    "orderflow_tui/engine/engine.py",
    "orderflow_tui/engine/market.py",
    "orderflow_tui/engine/flow.py",
    "orderflow_tui/engine/footprint.py",
    # the depth path (issue 21): every level of every depth frame goes through these
    "orderflow_tui/books/book.py",
    "orderflow_tui/books/sync.py",
    "orderflow_tui/venues/depth_common.py",
    "orderflow_tui/venues/binance_depth.py",
    "orderflow_tui/venues/bybit_depth.py",
    "orderflow_tui/venues/okx_depth.py",
    "orderflow_tui/venues/bitget_depth.py",
    "orderflow_tui/venues/coinbase_depth.py",
    "orderflow_tui/venues/hyperliquid_depth.py",
]


class OptionalBuildExt(build_ext):
    """Compiling is a speed-up, not a requirement: if the C build fails, install plain Python."""

    def run(self):
        try:
            super().run()
        except Exception as exc:  # no compiler, no Python headers...
            for ext in self.extensions:  # never ship some modules compiled and others not
                path = self.get_ext_fullpath(ext.name)
                if os.path.exists(path):
                    os.remove(path)
            print(f"warning: the per-trade modules are not compiled ({exc}); they run as plain Python",
                  file=sys.stderr)


ext_modules = []
if os.environ.get("ORDERFLOW_TUI_PURE") != "1":
    from mypyc.build import mypycify

    ext_modules = mypycify(["--follow-imports=silent", "--ignore-missing-imports", *COMPILED],
                           group_name="orderflow_tui_native")
    # depth levels read and applied in C, no Python object per level (venues/levels.py is its twin);
    # no FMA contraction: a size in contracts converts to exactly the float Python computes
    ext_modules.append(Extension("orderflow_tui._depth", ["orderflow_tui/_depth.c"],
                                 extra_compile_args=["-O2", "-ffp-contract=off"]))

setup(ext_modules=ext_modules, cmdclass={"build_ext": OptionalBuildExt})
