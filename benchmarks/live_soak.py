"""A long headless run against the simulated venues at a high rate, measured from outside.

The simulated exchange runs in this process; ``orderflow-tui run --headless`` runs in a child
pointed at it through ORDERFLOW_ENDPOINTS_* variables, its connections cut every N frames. Every
5 s the child's CPU and RSS are read from /proc. At the end the child's report is compared with
what the servers produced.

    python benchmarks/live_soak.py [--seconds 600] [--rate 1500] [--drop-every 50000]
                                   [--venues binance,bybit,okx,coinbase,hyperliquid,bitget]

The perpetual venues also push open interest and funding (sim/context_sim.py), as in ``demo``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time

from orderflow_tui import config
from orderflow_tui.sim.context_sim import attach
from orderflow_tui.sim.exchange_sim import SYMBOLS, DemoExchange, Faults

TICK = os.sysconf("SC_CLK_TCK")


def proc_sample(pid: int) -> tuple[float, float]:
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    cpu_s = (int(fields[11]) + int(fields[12])) / TICK
    with open(f"/proc/{pid}/status") as fh:
        rss = next(int(line.split()[1]) for line in fh if line.startswith("VmRSS")) / 1024
    return cpu_s, rss


async def main(seconds: float, rate: float, drop_every: int, venues=("binance", "bybit", "okx")) -> None:
    faults = {v: Faults(drop_after=drop_every, once=False) for v in venues}
    exchange = await DemoExchange(seed=3, rate_per_s=rate, faults=faults, venues=venues).start()
    attach(exchange, seed=3)  # open interest and funding pushes on the perpetual venues
    env = dict(os.environ)
    settings = config.Settings()
    exchange.endpoints(settings)  # every endpoint the servers set, passed as ORDERFLOW_ENDPOINTS_*
    for key, value in vars(settings.endpoints).items():
        if isinstance(value, str) and "127.0.0.1" in value:
            env[f"ORDERFLOW_ENDPOINTS_{key.upper()}"] = value
    db = tempfile.mktemp(suffix=".sqlite")
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "orderflow_tui", "run", "--headless", "--duration", str(seconds), "--report", "json",
        "--db", db, "--venues", ",".join(venues), env=env, stdout=asyncio.subprocess.PIPE,
        stderr=open(os.environ.get("SOAK_LOG", os.devnull), "w"))
    report = asyncio.create_task(child.stdout.read())  # read while it runs: the report exceeds a pipe buffer

    async def stop_producing():  # 5 s before the child's end: it catches up before it reports
        await asyncio.sleep(seconds - 5)
        await exchange.pause()

    pausing = asyncio.create_task(stop_producing())
    samples = []
    start = time.monotonic()
    last_cpu, last_t = 0.0, start
    while child.returncode is None:
        try:
            await asyncio.wait_for(child.wait(), 5.0)
        except asyncio.TimeoutError:
            pass
        if child.returncode is not None:
            break
        cpu, rss = proc_sample(child.pid)
        now = time.monotonic()
        samples.append((now - start, (cpu - last_cpu) / (now - last_t) * 100, rss))
        last_cpu, last_t = cpu, now
    await pausing
    out = json.loads((await report).decode())
    await exchange.stop()
    frames = sum(s.ledger.frames_sent for s in exchange.servers.values())
    busy = [c for t, c, _ in samples if t > 10]
    print(f"{seconds:.0f} s headless run, simulated rate {rate:g}/s base (clustered), connections cut every "
          f"{drop_every} frames")
    print(f"{'frames sent':>14} {'msgs/s':>8} {'CPU % avg':>10} {'CPU % max':>10} {'RSS MB start':>13} "
          f"{'RSS MB peak':>12} {'RSS MB end':>11} {'reconnects':>11}")
    rss = [r for _, _, r in samples]
    reconnects = sum(v["reconnects"] for v in out["venues"].values())
    print(f"{frames:>14,} {frames / seconds:>8,.0f} {sum(busy) / max(1, len(busy)):>10.1f} {max(busy, default=0):>10.1f} "
          f"{rss[1] if len(rss) > 1 else 0:>13.0f} {max(rss):>12.0f} {rss[-1]:>11.0f} {reconnects:>11}")
    # "sent" counts the venue's trade ids: one per message on Binance and Bybit, one per fill on OKX,
    # whose messages stand for several fills (docs/decisions.md)
    print(f"{'market':<22} {'messages':>10} {'sent':>10} {'counted':>10} {'equal':>6} {'missing ids':>12} "
          f"{'duplicates':>11}")
    for v, srv in exchange.servers.items():
        count, buy, sell = srv.ledger.totals()
        got = out["markets"].get(f"{v}:{SYMBOLS[v]}", {})
        equal = got.get("trades") == count and abs(got.get("buy_base", 0) - buy) <= 1e-9 * max(buy, 1) and \
            abs(got.get("sell_base", 0) - sell) <= 1e-9 * max(sell, 1)
        print(f"{v + ':' + SYMBOLS[v]:<22} {srv.ledger.messages:>10,} {count:>10,} {got.get('trades', 0):>10,} "
              f"{str(equal):>6} {got.get('missing_trade_ids', 0):>12,} {got.get('duplicate_trades', 0):>11,}")
    print("venues (reconnects, ids refilled over REST, outages the venue's REST window could not cover):",
          {v: (x["reconnects"], x["gaps_filled"], x.get("unrecovered", 0)) for v, x in out["venues"].items()})
    print("REST calls per venue (answered 200):",
          {v: sum(1 for _, _, status in srv.rest_log if status == 200) for v, srv in exchange.servers.items()})


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=600)
    ap.add_argument("--rate", type=float, default=1500)
    ap.add_argument("--drop-every", type=int, default=50_000)
    ap.add_argument("--venues", default="binance,bybit,okx")
    a = ap.parse_args()
    asyncio.run(main(a.seconds, a.rate, a.drop_every, tuple(v.strip() for v in a.venues.split(","))))
