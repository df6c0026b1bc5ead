"""PostgreSQL storage benchmark: member save/load latency at 1k and 100k members, change propagation.

Run by hand: `.venv/bin/python bench/bench_storage_pg.py [--sizes 1000,100000] [--ops 2000]`.
Uses DATABASE_URL when set (an empty database!), else starts a throwaway server on 127.0.0.1 as the
tests do (tests/pg_server.py). Prints figures; asserts nothing. Members are filled by one INSERT ... SELECT, then
`profiles.save`/`profiles.get` are timed one call at a time from one asyncio task (each call is one
transaction on a pooled loopback connection). Propagation = `ChangeFeed.announce` in one client to the
callback in another (LISTEN/NOTIFY, then the version read). Storm = two processes appending check-ins
to one member, one killed with SIGKILL each round: acknowledged (committed) writes missing afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from bot.models import Profile  # noqa: E402
from bot.storage._changes import ChangeFeed  # noqa: E402
from bot.storage._postgres import PostgresStorage  # noqa: E402

BASE_ID = 150_000_000_000_000_000
PROFILE = Profile(weekly_km=40, level="intermediate", goals=["speed"], long_run_day="sun")


def stats(samples: list[float]) -> str:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return f"median {statistics.median(ordered) * 1000:.3f} ms  p99 {p99 * 1000:.3f} ms"


async def fill(storage: PostgresStorage, size: int) -> None:
    async with storage.pool.acquire() as conn:
        await conn.execute("TRUNCATE profiles, member_guilds")
        await conn.execute("INSERT INTO profiles (user_id, profile, saved_at) "
                           "SELECT $1::bigint + g, $2::jsonb, now() FROM generate_series(0, $3 - 1) AS g",
                           BASE_ID, PROFILE.model_dump(mode="json"), size)
        await conn.execute("ANALYZE profiles")


async def bench_size(storage: PostgresStorage, size: int, ops: int) -> None:
    started = time.perf_counter()
    await fill(storage, size)
    filled = time.perf_counter() - started
    rng = random.Random(size)
    saves, loads = [], []
    for _ in range(ops):
        user = BASE_ID + rng.randrange(size)
        t = time.perf_counter()
        await storage.profiles.save(user, PROFILE)
        saves.append(time.perf_counter() - t)
        t = time.perf_counter()
        await storage.profiles.get(user)
        loads.append(time.perf_counter() - t)
    print(f"{size:>9,} members (filled in {filled:.1f}s)  save: {stats(saves)}   load: {stats(loads)}")


async def bench_propagation(url: str, rounds: int = 100) -> None:
    arrived: asyncio.Queue[float] = asyncio.Queue()

    async def record(topic: str, version: int) -> None:
        arrived.put_nowait(time.perf_counter())

    listener, sender = ChangeFeed(url, poll_interval=60), ChangeFeed(url)
    listener.subscribe("bench:", record)
    await listener.start()
    await asyncio.sleep(0.3)
    latencies = []
    try:
        for _ in range(rounds):
            t = time.perf_counter()
            await sender.announce("bench:reload")
            latencies.append(await asyncio.wait_for(arrived.get(), 10) - t)
    finally:
        await listener.stop()
    print(f"change propagation (announce -> other process's callback, {rounds} rounds): {stats(latencies)}")


STORM_WRITER = """
import asyncio, sys
from bot.storage._postgres import PostgresStorage
async def main():
    storage = await PostgresStorage.open(sys.argv[1])
    me = int(sys.argv[2])
    n = 0
    while True:
        n += 1
        await storage.checkins.add(7, {"writer": me, "n": n})
        print(n, flush=True)  # acknowledged: the transaction has committed
asyncio.run(main())
"""


async def bench_storm(url: str, rounds: int = 5, seconds: float = 1.5) -> None:
    """Two processes append to one member; one is killed with SIGKILL mid-storm; count acknowledged losses."""
    import signal
    import subprocess

    lost = acknowledged = 0
    for round_ in range(rounds):
        storage = await PostgresStorage.open(url)
        async with storage.pool.acquire() as conn:
            await conn.execute("TRUNCATE checkins")
        procs = [subprocess.Popen([sys.executable, "-c", STORM_WRITER, url, str(me)], cwd=ROOT,
                                  stdout=subprocess.PIPE, text=True) for me in (1, 2)]
        await asyncio.sleep(seconds)
        victim = procs[round_ % 2]
        victim.send_signal(signal.SIGKILL)
        survivor = procs[1 - round_ % 2]
        survivor.terminate()
        for proc in procs:
            out, _ = proc.communicate()
            acks = [int(line) for line in out.split()]
            me = 1 if proc is procs[0] else 2
            stored = await storage.pool.fetchval(
                "SELECT count(*) FROM checkins WHERE user_id = 7 AND (item->>'writer')::int = $1 "
                "AND (item->>'n')::int <= $2", me, max(acks, default=0))
            acknowledged += len(acks)
            lost += len(acks) - stored
        await storage.close()
    print(f"kill -9 write storm, two processes, {rounds} rounds: {acknowledged} acknowledged check-ins, "
          f"{lost} lost")


async def run(url: str, sizes: list[int], ops: int) -> None:
    storage = await PostgresStorage.open(url)
    try:
        for size in sizes:
            await bench_size(storage, size, ops)
    finally:
        await storage.close()
    await bench_propagation(url)
    await bench_storm(url)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="1000,100000")
    parser.add_argument("--ops", type=int, default=2000)
    args = parser.parse_args()
    sizes = [int(part) for part in args.sizes.split(",")]
    from pg_server import bench_database

    with bench_database() as url:
        asyncio.run(run(url, sizes, args.ops))


if __name__ == "__main__":
    main()
