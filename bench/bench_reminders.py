"""Reminder scheduler benchmark: 100,000 members with schedules in the TinyDB storage.

Run by hand: `.venv/bin/python bench/bench_reminders.py [--members 100000] [--postgres]`. Prints figures;
asserts nothing. `--postgres` measures the same lookups over PostgreSQL (DATABASE_URL, else a throwaway server).

- next-due lookup: `reminders.next_due()` (the heap's top) and `reminders.due(now, 200)`, against a full
  scan of every schedule for comparison;
- reschedule: `reminders.save` of one schedule (heap push), and `ReminderService.update` of one member
  with a real stored plan (read the plan and check-ins, adapt, work out the next session, save);
- a tick that claims 200 due reminders;
- memory: the index alone (tracemalloc while it is built) and the process's RSS after loading.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from bot.coach import Coach
from bot.config import Settings
from bot.models import Profile
from bot.reminders import ReminderService, Schedule
from bot.storage import Storage
from bot.storage._collections import ReminderRepo

BASE_ID = 150_000_000_000_000_000
NOW = dt.datetime(2026, 12, 1, 6, tzinfo=dt.UTC)


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def timed(fn, runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def us(samples: list[float]) -> str:
    ordered = sorted(samples)
    p99 = ordered[int(len(ordered) * 0.99)]
    return f"median {statistics.median(ordered) * 1e6:8.1f} µs   p99 {p99 * 1e6:8.1f} µs"


async def atimed(fn, runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        await fn()
        out.append(time.perf_counter() - start)
    return out


async def postgres(n: int) -> None:
    """next_due, due and a reschedule over PostgreSQL's index on next_due."""
    from pg_server import bench_database

    from bot.storage._postgres import PostgresStorage

    with bench_database() as url:
        storage = await PostgresStorage.open(url)
        try:
            rows = []
            for i in range(n):
                due = NOW + dt.timedelta(minutes=(i * 7919) % (14 * 24 * 60))
                rows.append((BASE_ID + i, Schedule(enabled=True, next_due=due, session=due.date()).dump(), due))
            async with storage.pool.acquire() as conn:
                await conn.executemany("INSERT INTO reminders (user_id, reminder, next_due) VALUES ($1, $2, $3)", rows)
                await conn.execute("ANALYZE reminders")
            repo = storage.reminders
            print(f"PostgreSQL, {n:,} schedules:")
            print(f"next_due()                    {us(await atimed(repo.next_due, 2_000))}")
            soon = NOW + dt.timedelta(hours=1)
            print(f"due(now + 1 h, limit 200)     {us(await atimed(lambda: repo.due(soon, 200), 300))}")
            counter = iter(range(10**9))

            async def reschedule_one() -> None:
                i = next(counter) % n
                due = NOW + dt.timedelta(days=3, minutes=i % 1000)
                await repo.save(BASE_ID + i, Schedule(enabled=True, next_due=due, session=due.date()).dump())

            print(f"reminders.save (reschedule)   {us(await atimed(reschedule_one, 2_000))}")
        finally:
            await storage.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--postgres", action="store_true")
    args = parser.parse_args()
    n = args.members
    if args.postgres:
        asyncio.run(postgres(n))
        return
    coach = Coach.load(Settings(_env_file=None))
    plan = coach.plan(Profile(weekly_km=40, level="intermediate", goals=["speed"], long_run_day="sun"),
                      dt.date(2026, 11, 30))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder)
        storage = Storage.open(path, flush_interval=1.0, backup_count=0)
        start = time.perf_counter()
        for i in range(n):
            # Spread over two weeks of minutes, like members' chosen times on their session days.
            due = NOW + dt.timedelta(minutes=(i * 7919) % (14 * 24 * 60))
            storage.reminders.save(BASE_ID + i, Schedule(enabled=True, next_due=due, session=due.date(),
                                                         zone="Europe/London").dump())
        fill = time.perf_counter() - start
        storage.close()
        print(f"{n:,} members with schedules; filling took {fill:.1f} s")

        start = time.perf_counter()
        storage = Storage.open(path, flush_interval=1.0, backup_count=0)
        print(f"open (load the files, build the heap): {time.perf_counter() - start:.2f} s;  RSS {rss_mb():.0f} MB")

        tracemalloc.start()
        before = tracemalloc.take_snapshot()
        index = ReminderRepo(storage._store)
        after = tracemalloc.take_snapshot()
        tracemalloc.stop()
        size = sum(stat.size_diff for stat in after.compare_to(before, "filename"))
        print(f"the index alone (heap + due map, tracemalloc): {size / 1024 / 1024:.1f} MB "
              f"({size / n:.0f} bytes a member)")
        del index

        repo = storage.reminders
        print(f"next_due()                    {us(timed(repo.next_due, 10_000))}")
        print(f"due(now + 1 h, limit 200)     {us(timed(lambda: repo.due(NOW + dt.timedelta(hours=1), 200), 1_000))}")

        def scan() -> dt.datetime:
            return min(dt.datetime.fromisoformat(doc["reminder"]["next_due"])
                       for _, doc in storage._store.iter_table("reminders"))

        print(f"full scan for the minimum     {us(timed(scan, 3))}   (what the index avoids)")

        counter = iter(range(10**9))

        def reschedule_one() -> None:
            i = next(counter) % n
            due = NOW + dt.timedelta(days=3, minutes=i % 1000)
            repo.save(BASE_ID + i, Schedule(enabled=True, next_due=due, session=due.date()).dump())

        print(f"reminders.save (reschedule)   {us(timed(reschedule_one, 10_000))}")

        member = BASE_ID + n + 1
        storage.plans.save(member, plan)
        clock = [NOW]
        service = ReminderService(storage, lambda: clock[0])
        hours = iter(range(10**6))

        def update_one() -> None:
            asyncio.run(service.update(member, enabled=True, at=dt.time(6 + next(hours) % 12)))

        print(f"ReminderService.update (plan read + adapt + next session + save)  {us(timed(update_one, 300))}")

        # A tick: 200 due schedules without a plan are claimed and worked out again (the cheapest path is
        # the plan-less one; members with plans add the plan read measured above).
        clock[0] = NOW + dt.timedelta(days=14)
        start = time.perf_counter()
        asyncio.run(service.tick())
        print(f"one tick over 200 due schedules: {(time.perf_counter() - start) * 1000:.1f} ms")
        print(f"RSS at the end: {rss_mb():.0f} MB")
        storage.close()


if __name__ == "__main__":
    main()
