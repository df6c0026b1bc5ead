"""Benchmark: re-planning after a check-in (adapt the plan to every check-in so far), over varied plans and
random check-in histories; and the next block. Run by hand; prints figures.

Target (issue 14): re-planning after a check-in, median at most 2 ms on this machine.
Usage: .venv/bin/python bench/bench_adapt.py [COUNT]
"""

from __future__ import annotations

import datetime as dt
import gc
import random
import statistics
import sys
import time

from bench_plan import START, pct, random_profile  # this folder is on the path when run as a script

from bot.adapt import adapt, next_block
from bot.checkins import CheckIn, ExerciseLog, plan_id
from bot.coach import Coach
from bot.models import Niggle, Plan


def history(plan: Plan, today: dt.date, rng: random.Random) -> list[CheckIn]:
    """A check-in for most sessions up to today: done, partly or skipped, with a few exercises logged."""
    out = []
    for week in plan.weeks:
        for session in week.sessions:
            if session.date > today or rng.random() < 0.2:
                continue
            logs = tuple(ExerciseLog(exercise=e.id, reps=rng.randint(5, 14), rir=rng.randint(0, 4),
                                     feel=rng.choice(["easy", "ok", "hard"]),
                                     load_kg=rng.choice([None, 8.0, 12.0, 20.0, 40.0]),
                                     pain=rng.choice([None, None, None, 2, 4, 6]))
                         for e in rng.sample(session.exercises, min(len(session.exercises), rng.randint(0, 4))))
            out.append(CheckIn(
                plan_id=plan_id(plan), session=session.date,
                logged_at=dt.datetime.combine(session.date, dt.time(19)), exercises=logs,
                status=rng.choice(["done", "done", "done", "partly", "skipped"]),
                pain=rng.choice([None, None, 3, 5, 7]), pain_where=rng.choice([None, *Niggle]),
                lingering=rng.choice([None, True, False]), sharp=rng.random() < 0.03))
    if rng.random() < 0.3:
        out.append(CheckIn(plan_id=plan_id(plan), session=None, logged_at=dt.datetime.combine(today, dt.time(8)),
                           weekly_km=min(250.0, round(plan.profile.weekly_km * rng.uniform(0.8, 1.6), 1))))
    return out


def main(count: int = 2000) -> None:
    rng = random.Random(14)
    coach = Coach.load()
    cases = []
    while len(cases) < count:
        plan = coach.plan(random_profile(rng), START)
        if plan.withheld:
            continue
        today = START + dt.timedelta(days=rng.randint(1, 26))
        checkins = history(plan, today, rng)
        if checkins:
            cases.append((plan, checkins, today))
    adapt(*cases[0])  # loads the policy and rules once, as the bot does at its first check-in
    gc.collect()
    times = []
    for plan, checkins, today in cases:
        began = time.perf_counter()
        adapt(plan, checkins, today)
        times.append((time.perf_counter() - began) * 1000)
    times.sort()
    sizes = [len(c) for _, c, _ in cases]
    print(f"re-planning after a check-in, {count} plans with {statistics.mean(sizes):.1f} check-ins each on average:")
    print(f"  median {statistics.median(times):.2f} ms, p95 {pct(times, 0.95):.2f} ms, p99 {pct(times, 0.99):.2f} ms, "
          f"max {times[-1]:.2f} ms (target: median <= 2 ms)")
    block_times = []
    for plan, checkins, _ in cases[: max(1, count // 10)]:
        began = time.perf_counter()
        next_block(plan, checkins, coach, plan.start + dt.timedelta(days=28))
        block_times.append((time.perf_counter() - began) * 1000)
    block_times.sort()
    print(f"next block (a new plan from the logs), {len(block_times)} plans: median "
          f"{statistics.median(block_times):.2f} ms, p95 {pct(block_times, 0.95):.2f} ms")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000)
