"""A process that writes liquidations to a PostgreSQL store as fast as it can, through the live writer.

Prints "committed N" after every finished commit, N = liquidations durably written so far.
Usage: python pg_writer_proc.py DSN START_TS
"""

import asyncio
import sys

from orderflow_tui.engine.engine import Engine
from orderflow_tui.events import Liquidation
from orderflow_tui.store.postgres import PgAsyncStoreWriter


async def main(dsn, start):
    engine = Engine(collect_facts=True)
    writer = PgAsyncStoreWriter(dsn, engine, "live", "test", "binance", interval_s=0.02)
    await writer.open()
    ts, written = start, 0
    while True:
        for _ in range(200):
            ts += 1
            engine.on_liquidation(Liquidation("binance:BTCUSDT", "binance", "BTCUSDT", ts, 60000.0, 0.5, 30000.0,
                                              ts % 2 == 0, True))
        pending = sum(1 for fact in engine.facts if fact[0] == "liquidation")
        if await writer.flush():
            written += pending
            print(f"committed {written}", flush=True)
        await asyncio.sleep(0)


asyncio.run(main(sys.argv[1], int(sys.argv[2])))
