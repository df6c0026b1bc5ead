"""Report: over random profiles, how many plans break each of COACHING.md 23-30 (and 1-22). Run by hand.

Profiles vary everything a runner can tell us, with races from 10 days before the block to 70 days after
its start and every distance. "Baseline" is the same runner without the race (the sessions a week a
rebuilt or far-off-race block should have). 30 also compares each high-mileage runner with the same
runner at 20 km a week: fewer jump contacts, same heavy work.
Usage: .venv/bin/python bench/plan_violations.py [COUNT] [SEED]
"""

from __future__ import annotations

import collections
import datetime as dt
import random
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.coach import Coach
from bot.models import DAYS, Equipment, Goal, Level, Niggle, Profile, RaceDistance
from tests.plan_checks import coaching_violations, mileage_violations, violations

START = dt.date(2027, 3, 1)
READ4 = {"1": "a full session the day after the long run under a 'light' note",
         "2": "goal additions in Why that the plan lacks",
         "3": "Why lines about sessions, counts or weeks the plan lacks",
         "4": "a deload not lighter than the week before",
         "5": "cues naming kit or niggles the runner lacks",
         "6": "maintenance weeks losing a movement pattern",
         "7": "a taper outside 40-60 % of the peak week"}


def random_profile(rng: random.Random) -> Profile:
    """A runner drawn from everything the intake accepts."""
    race = rng.random() < 0.6
    return Profile(
        weekly_km=round(rng.uniform(0, 200), 1),
        level=rng.choice(list(Level)),
        goals=rng.sample(list(Goal), rng.randint(1, 3)),
        days_per_week=rng.choice([None, 1, 2, 3]),
        long_run_day=rng.choice([None, *DAYS]),
        hard_days=rng.sample(DAYS, rng.randint(0, 3)),
        equipment=rng.sample(list(Equipment), rng.randint(0, 3)),
        niggles=rng.sample(list(Niggle), rng.choice([0, 0, 1, 1, 2])),
        race_date=START + dt.timedelta(days=rng.randint(-10, 70)) if race else None,
        race_distance=rng.choice([None, *RaceDistance]) if race else None,
    )


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 3000
    rng = random.Random(int(sys.argv[2]) if len(sys.argv) > 2 else 11)
    coach = Coach.load()
    plans_breaking: collections.Counter[str] = collections.Counter()
    by_class: collections.Counter[str] = collections.Counter()  # the second coach's read (issue 11): [read4 #N]
    example: dict[str, str] = {}
    for _ in range(count):
        profile = random_profile(rng)
        plan = coach.plan(profile, START)
        baseline = coach.plan(profile.model_copy(update={"race_date": None, "race_distance": None}), START)
        found = coaching_violations(plan, coach.ruleset.catalog, baseline) + violations(plan, coach.ruleset.catalog)
        found += mileage_violations(plan, coach.plan(profile.model_copy(update={"weekly_km": 20.0}), START))
        for tag in {m[1] for v in found if (m := re.search(r"\[read4 #(\d)\]", v))}:
            by_class[tag] += 1
            example.setdefault("read4 #" + tag, next(v for v in found if f"[read4 #{tag}]" in v))
        for number in {v.split(":", 1)[0] for v in found}:
            plans_breaking[number] += 1
            example.setdefault(number, next(v for v in found if v.split(":", 1)[0] == number))
    print(f"{count} random profiles, block starting {START}; plans breaking each invariant:")
    for number in [str(n) for n in range(23, 31)]:
        print(f"  {number}: {plans_breaking[number]:5d}   {example.get(number, '')[:110]}")
    others = sorted((k for k in plans_breaking if k not in {str(n) for n in range(23, 31)}),
                    key=lambda k: (len(k), k))
    print("  1-22: " + (", ".join(f"{k}: {plans_breaking[k]}" for k in others) or "none"))
    for k in others:
        print(f"    e.g. {example[k][:120]}")
    print("The second coach's read (issue 11), plans showing each class:")
    for tag, what in READ4.items():
        print(f"  #{tag} {what}: {by_class[tag]:5d}   {example.get('read4 #' + tag, '')[:100]}")


if __name__ == "__main__":
    main()
