"""Benchmark: profile -> plan -> every rendered page, over 10,000 varied profiles. Run by hand; prints figures.

Target (issue 2): median at most 1 ms, p99 at most 5 ms on this machine.
Usage: PYTHONPATH=. .venv/bin/python bench/bench_plan.py [COUNT] [ROUNDS]  (PYTHONPATH: this checkout's bot/)
"""

from __future__ import annotations

import datetime as dt
import gc
import os
import random
import statistics
import sys
import time

from bot.coach import Coach
from bot.models import DAYS, Equipment, Goal, Level, Niggle, Profile

START = dt.date(2026, 11, 30)


def random_profile(rng: random.Random) -> Profile:
    return Profile(
        weekly_km=round(rng.uniform(0, 250), 1),
        unit=rng.choice(["km", "mi"]),
        level=rng.choice(list(Level)),
        goals=rng.sample(list(Goal), rng.randint(1, 3)),
        days_per_week=rng.choice([None, 1, 2, 3]),
        long_run_day=rng.choice([None, *DAYS]),
        hard_days=rng.sample(DAYS, rng.randint(0, 3)),
        equipment=rng.sample(list(Equipment), rng.randint(0, 3)),
        niggles=rng.sample(list(Niggle), rng.choice([0, 0, 0, 1, 1, 2])),
        sharp_pain=rng.random() < 0.05,
        race_date=None if rng.random() < 0.6 else START + dt.timedelta(days=rng.randint(-7, 120)),
    )


def pct(values: list[float], q: float) -> float:
    return values[min(len(values) - 1, int(q * len(values)))]


def one_round(coach: Coach, profiles: list[Profile]) -> tuple[list[float], list[float]]:
    """Time every profile once: (whole pipeline, planning only), in ms, sorted."""
    renderer = coach.renderer
    timings, plan_only, cpu = [], [], []
    gc.collect()
    for profile in profiles:
        began, began_cpu = time.perf_counter(), time.thread_time()
        plan = coach.plan(profile, START)
        middle = time.perf_counter()
        pages = renderer.pages(plan)
        renderer.why_text(plan)
        ended, ended_cpu = time.perf_counter(), time.thread_time()
        assert pages
        timings.append((ended - began) * 1000)
        plan_only.append((middle - began) * 1000)
        cpu.append((ended_cpu - began_cpu) * 1000)
    return sorted(timings), sorted(plan_only), sorted(cpu)


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    rng = random.Random(2026)
    profiles = [random_profile(rng) for _ in range(count)]
    coach = Coach.load()
    for profile in profiles[:200]:  # warm-up: compiled templates, caches
        coach.renderer.pages(coach.plan(profile, START))
    print(f"profiles: {count} (varied: levels, goals, days, equipment, niggles, races; 5% sharp pain), "
          f"{rounds} rounds; this VM's speed drifts by tens of percent between runs, so every round is shown")
    print("load average (1, 5, 15 min) before: " + ", ".join(f"{x:.2f}" for x in os.getloadavg()))
    for number in range(1, rounds + 1):
        whole, planning, cpu = one_round(coach, profiles)
        print(f"round {number}: profile -> plan -> all pages + why: median {statistics.median(whole):.3f} ms, "
              f"p99 {pct(whole, 0.99):.3f} ms, max {whole[-1]:.3f} ms; of which rules + planner: median "
              f"{statistics.median(planning):.3f} ms, p99 {pct(planning, 0.99):.3f} ms; CPU time of this thread "
              f"(leaves out time the OS gave to other processes): median {statistics.median(cpu):.3f} ms, "
              f"p99 {pct(cpu, 0.99):.3f} ms")
    print("load average after: " + ", ".join(f"{x:.2f}" for x in os.getloadavg()))
    print("target: median <= 1 ms, p99 <= 5 ms")


if __name__ == "__main__":
    main()
