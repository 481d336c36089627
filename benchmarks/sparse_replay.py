"""A long, sparse capture against a dense one: headless replay time and peak RSS.

The same N trades (prices and sizes of the real Binance USD-M recording) written twice: DENSE_MS
apart (200,000 trades in 33 minutes) and SPARSE_MS apart (two minutes: 278 days). Each capture is
replayed headless in its own process, without and with ``--report json``; the cost of the sparse
one should follow its events, not its span (issue 19: at most 3x the dense time, peak RSS at most
60 MB without a report). ``--baseline DIR`` runs the same cases with the package found in DIR (a
copy of ``orderflow_tui/`` from an older checkout, compiled modules included), side by side.

    python benchmarks/sparse_replay.py [--trades 200000] [--baseline /tmp/old]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parents[1]
RECORDING = ROOT.parent / "shared/data/hftbacktest/extracted/usdm_btcusdt_20240808_trades_only.txt.gz"
DENSE_MS, SPARSE_MS = 10, 120_000


def build_capture(path: Path, n: int, gap_ms: int) -> None:
    base = []
    with gzip.open(RECORDING, "rt") as fh:
        for line in fh:
            base.append(json.loads(line.rstrip("\n").partition(" ")[2])["data"])
    t0 = 1_700_000_000_000
    with open(path, "wb") as out:
        out.write(orjson.dumps({"capture": "orderflow-tui", "version": 1, "started_ms": t0, "instruments": {}}) + b"\n")
        for i in range(n):
            d = dict(base[i % len(base)])
            d["T"] = d["E"] = t0 + i * gap_ms
            d["t"] = 1_000_000 + i
            frame = orjson.dumps({"stream": "btcusdt@trade", "data": d}).decode()
            out.write(orjson.dumps({"t": t0 + i * gap_ms, "x": "binance", "f": frame}) + b"\n")


# the replay in a child process; VmHWM (peak RSS) read by the child itself at its end
CHILD = ("import sys;from orderflow_tui.cli import main;sys.argv=['orderflow-tui','replay',*sys.argv[1:]]\n"
         "try: main()\nexcept SystemExit: pass\n"
         "hwm=[l for l in open('/proc/self/status') if l.startswith('VmHWM')][0].split()[1]\n"
         "print('HWM', int(hwm)/1024, file=sys.stderr)")


def run_once(path: Path, report: bool, package_dir: str | None) -> tuple[float, float]:
    args = [str(path), "--headless", "--no-store"] + (["--report", "json"] if report else [])
    env = dict(os.environ)
    if package_dir:
        env["PYTHONPATH"] = package_dir  # ahead of the editable install's finder
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.run([sys.executable, "-c", CHILD, *args], capture_output=True, text=True, env=env, cwd="/")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime  # a shared machine: not wall time
    hwm = [line for line in proc.stderr.splitlines() if line.startswith("HWM")]
    if proc.returncode or not hwm:
        raise SystemExit(f"replay failed: {proc.stderr[-600:]}")
    return cpu, float(hwm[-1].split()[1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--trades", type=int, default=200_000)
    ap.add_argument("--baseline", help="a directory holding an older orderflow_tui/ package, run side by side")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        dense, sparse = Path(tmp) / "dense.jsonl", Path(tmp) / "sparse.jsonl"
        build_capture(dense, args.trades, DENSE_MS)
        build_capture(sparse, args.trades, SPARSE_MS)
        span_days = args.trades * SPARSE_MS / 86_400_000
        print(f"{args.trades:,} trades: dense {DENSE_MS} ms apart, sparse {SPARSE_MS // 1000} s apart "
              f"({span_days:.0f} days); best CPU seconds of 3 replay processes (start included), peak RSS")
        builds = ([("before", args.baseline)] if args.baseline else []) + [("after", None)]
        print(f"{'case':28}" + "".join(f"{name + ' s':>11}{name + ' MB':>11}" for name, _ in builds))
        cases = [(f"{name}{' --report json' if report else ''}", path, report)
                 for report in (False, True) for name, path in (("dense", dense), ("sparse", sparse))]
        runs: dict = {}
        for _ in range(3):  # rounds over every case and build: a load change hits them alike
            for case, path, report in cases:
                for i, (_, pkg) in enumerate(builds):
                    runs.setdefault((case, i), []).append(run_once(path, report, pkg))
        results = {case: [(min(t for t, _ in runs[case, i]), max(mb for _, mb in runs[case, i]))
                          for i in range(len(builds))] for case, _, _ in cases}
        for case, _, _ in cases:
            print(f"{case:28}" + "".join(f"{t:11.2f}{mb:11.0f}" for t, mb in results[case]))
        for i, (name, _) in enumerate(builds):
            ratio = results["sparse"][i][0] / results["dense"][i][0]
            print(f"{name}: sparse / dense time without a report {ratio:.2f}x, "
                  f"peak RSS {results['sparse'][i][1]:.0f} MB")


if __name__ == "__main__":
    main()
