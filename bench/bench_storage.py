"""Storage benchmark: save/load latency at 1k, 10k and 100k members, flush and compaction time, memory.

Run by hand: `.venv/bin/python bench/bench_storage.py [--sizes 1000,10000,100000] [--ops 5000]`.
Prints figures; asserts nothing. Each size uses a fresh database in a temporary folder, with the
flusher running (0.5 s) as in the bot, so the latencies include contention with background flushes.
Columns: save/load = profiles.save/get; flush = the journal append that makes 1 or 1,000 changed
members durable; compaction = rewriting every database file; loop stall = the longest gap between
1 ms ticks of an asyncio loop while that compaction runs in a thread; open = load at start-up;
RSS = resident memory after filling.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import gc
import random
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.models import Item, Plan, Prescription, Profile, Session, TraceEntry, Week
from bot.storage import Storage
from bot.storage._migrations import pack

BASE_ID = 150_000_000_000_000_000


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def member_id(n: int) -> int:
    # Realistic snowflakes: a timestamp in the high bits and a zero counter in the low bits.
    return BASE_ID + (n * 7919 << 22)


def profile_for(n: int) -> Profile:
    return Profile(weekly_km=20 + n % 80, unit="km" if n % 3 else "mi",
                   level=("beginner", "intermediate", "advanced")[n % 3],
                   goals=["speed", "hills"] if n % 2 else ["endurance"], days_per_week=1 + n % 3,
                   long_run_day="sun", hard_days=["tue", "thu"], equipment=["dumbbells", "box"],
                   niggles=["knee"] if n % 5 == 0 else [], race_date=dt.date(2027, 4, 1 + n % 28))


def big_plan(profile: Profile) -> Plan:
    """A plan of realistic size (3 sessions x 7 exercises x 4 weeks, with warm-ups and a trace)."""
    start = dt.date(2026, 11, 30)
    items = [Item(id=f"mob-{i}", name=f"Mobility drill {i}", dose="2 x 10 slow reps each side")
             for i in range(5)]
    weeks = []
    for number in range(1, 5):
        monday = start + dt.timedelta(weeks=number - 1)
        sessions = []
        for s, day in enumerate(("mon", "wed", "fri")):
            exercises = [
                Prescription(id=f"ex-{s}-{e}", name=f"Exercise {s}-{e} with a descriptive name",
                             sets=3, reps="8-10", min_reps=8, max_reps=10, per_side=bool(e % 2),
                             tempo="3-1-1", rest_seconds=90, rir_min=2, rir_max=3, effort="RIR 2-3",
                             categories=["single-leg", "eccentric"],
                             cue="Keep the hips level and lower under control; stop two reps short.")
                for e in range(7)
            ]
            sessions.append(Session(day=day, date=monday + dt.timedelta(days=2 * s),
                                    focus="Single-leg strength and tendon work", kind="strength",
                                    minutes=40, warm_up=items, exercises=exercises, cool_down=items[:3]))
        weeks.append(Week(week=number, start=monday, label=f"Week {number}: build",
                          summary="Add a rep to each set when the last session felt easy.",
                          sessions=sessions))
    trace = [TraceEntry(rule_id=f"rule-{i}", description="A rule that explains itself in a sentence.",
                        status="applied", changes=["set sessions per week to 3", "added a note"])
             for i in range(12)]
    return Plan(profile=profile, start=start, template="intermediate-3x", level=profile.level,
                sessions_per_week=3, progression="double-progression", weeks=weeks,
                fired_rules=[t.rule_id for t in trace], trace=trace, notes=["Lift after easy runs."] * 4,
                warnings=[], rules_version="bench-1")


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def timed(fn, args_list) -> list[float]:
    """Microseconds per call."""
    out = []
    for args in args_list:
        t0 = time.perf_counter_ns()
        fn(*args)
        out.append((time.perf_counter_ns() - t0) / 1000)
    return out


async def loop_stall_during(action) -> float:
    """The longest gap (ms) between 1 ms ticks of an asyncio loop while `action` runs in a thread."""
    worst = 0.0
    done = threading.Event()

    def run():
        action()
        done.set()

    threading.Thread(target=run).start()
    last = time.perf_counter()
    while not done.is_set():
        await asyncio.sleep(0.001)
        now = time.perf_counter()
        worst = max(worst, now - last)
        last = now
    return worst * 1000


def run_size(size: int, ops: int, with_plans: bool) -> dict:
    rng = random.Random(size)
    with tempfile.TemporaryDirectory() as folder:
        data = Path(folder) / "data"
        storage = Storage.open(data, flush_interval=0.5, backup_count=0, compact_interval=3600)
        profiles = [profile_for(n) for n in range(min(size, 1000))]
        plan = big_plan(profiles[0])
        store = storage._store
        t0 = time.perf_counter()
        plan_save_us = timed(storage.plans.save, [(member_id(n), plan) for n in range(min(size, 200))]) \
            if with_plans else []
        if with_plans:
            # Packing a plan costs milliseconds (timed above); filling 100,000 members by copying the
            # packed document keeps the run short and stores exactly what plans.save stores.
            packed = store.get(store.member_file(member_id(0)), "plans", member_id(0))
            for n in range(200, size):
                store.put(store.member_file(member_id(n)), "plans", member_id(n), packed)
        for n in range(size):
            uid = member_id(n)
            storage.profiles.save(uid, profiles[n % len(profiles)])
            storage.checkins.add(uid, {"week": 1, "done": True, "note": "felt good"})
        fill = time.perf_counter() - t0
        storage.flush()
        # A full compaction: every database file rewritten (the worst case, e.g. after a restore).
        for db in store.files:
            db.dirty = True
        t0 = time.perf_counter()
        storage.compact()
        full_compact = time.perf_counter() - t0
        gc.collect()
        rss = rss_mb()

        ids = [member_id(rng.randrange(size)) for _ in range(ops)]
        # Warm up (pydantic's and the allocator's first-call costs) so sizes are compared fairly.
        for uid in ids[:500]:
            storage.profiles.save(uid, storage.profiles.get(uid))
        save_us = timed(storage.profiles.save, [(uid, profiles[i % len(profiles)]) for i, uid in enumerate(ids)])
        load_us = timed(storage.profiles.get, [(uid,) for uid in ids])
        plan_load_us = timed(storage.plans.latest, [(uid,) for uid in ids[:200]]) if with_plans else []

        # Flush = one journal append of what changed: one member, then a storm of 1,000 members.
        storage.flush()
        storage.profiles.save(ids[0], profiles[1])
        t0 = time.perf_counter()
        storage.flush()
        one_flush = time.perf_counter() - t0
        for uid in ids[:1000]:
            storage.profiles.save(uid, profiles[2])
        t0 = time.perf_counter()
        storage.flush()
        storm_flush = time.perf_counter() - t0

        # The event loop's longest stall while a full compaction runs in its thread.
        for db in store.files:
            db.dirty = True
        stall = asyncio.run(loop_stall_during(storage.compact))
        storage.close()

        t0 = time.perf_counter()
        reopened = Storage.open(data, flush_interval=0.5, backup_count=0)
        open_s = time.perf_counter() - t0
        reopened.close()
        disk = sum(p.stat().st_size for p in data.rglob("*.json")) / 1e6
    return {
        "size": size, "fill_s": fill, "save_med": statistics.median(save_us), "save_p99": pct(save_us, 0.99),
        "load_med": statistics.median(load_us), "load_p99": pct(load_us, 0.99),
        "plan_load_med": statistics.median(plan_load_us) if plan_load_us else float("nan"),
        "plan_save_med": statistics.median(plan_save_us) if plan_save_us else float("nan"),
        "compact_ms": full_compact * 1000, "one_flush_ms": one_flush * 1000,
        "storm_flush_ms": storm_flush * 1000, "stall_ms": stall,
        "open_s": open_s, "rss_mb": rss, "disk_mb": disk,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--ops", type=int, default=5000)
    parser.add_argument("--plans", action="store_true", help="also store a ~30 KB plan for every member")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    plan = big_plan(profile_for(1))
    raw = len(plan.model_dump_json())
    packed = len(pack(plan.model_dump(mode="json")))
    print(f"python {sys.version.split()[0]}; a bench plan is {raw / 1000:.1f} KB of JSON, "
          f"{packed / 1000:.1f} KB packed; "
          f"plans stored: {'yes' if args.plans else 'no'}; {args.ops} random members per figure")
    print(f"{'members':>8} {'save med/p99 us':>16} {'load med/p99 us':>16} {'flush 1 / 1000 ms':>17} "
          f"{'compaction ms':>13} {'loop stall ms':>13} {'open s':>7} {'RSS MB':>7} {'disk MB':>8}")
    results = []
    for size in sizes:
        r = run_size(size, args.ops, args.plans)
        results.append(r)
        print(f"{r['size']:>8} {r['save_med']:>7.1f}/{r['save_p99']:<8.1f} {r['load_med']:>7.1f}/{r['load_p99']:<8.1f} "
              f"{r['one_flush_ms']:>8.1f}/{r['storm_flush_ms']:<8.1f} {r['compact_ms']:>13.0f} {r['stall_ms']:>13.1f} "
              f"{r['open_s']:>7.2f} {r['rss_mb']:>7.0f} {r['disk_mb']:>8.1f}", flush=True)
        if args.plans:
            print(f"{'':>8} plan save (dump + pack) median {r['plan_save_med']:.0f} us, "
                  f"plan load (unpack + validate) median {r['plan_load_med']:.0f} us")
    if len(results) > 1:
        first, last = results[0], results[-1]
        ratios = {key: last[key] / first[key] for key in ("save_med", "save_p99", "load_med", "load_p99")}
        print(f"ratio {last['size']} / {first['size']} members: "
              f"save median {ratios['save_med']:.2f}, p99 {ratios['save_p99']:.2f}; "
              f"load median {ratios['load_med']:.2f}, p99 {ratios['load_p99']:.2f}")


if __name__ == "__main__":
    main()
