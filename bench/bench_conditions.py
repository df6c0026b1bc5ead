"""Cost of CEL conditions and answers: shipped rules per plan, and the hostile corpus's worst case.

Run by hand: `python bench/bench_conditions.py`. Prints the figures README quotes.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.answers import AnswerVariant, render
from bot.coach import Coach
from bot.conditions import ConditionError
from bot.engine import check_condition, context_for, rule_condition
from tests.hostile_corpus import HOSTILE_ANSWERS, HOSTILE_CONDITIONS
from tests.test_hostile import TRIGGERS

START = dt.date(2026, 11, 30)


def cost(action) -> tuple[float, int]:
    gc.collect()
    gc.disable()
    began = time.thread_time()
    action()
    cpu = time.thread_time() - began
    gc.enable()
    tracemalloc.start()
    action()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return cpu, peak


def main() -> None:
    coach = Coach.load()
    rules = coach.ruleset
    contexts = [context_for(p, START) for p in TRIGGERS]
    conditions = [rule_condition(r.when) for r in rules.rules if r.enabled]
    began = time.perf_counter()
    rounds = 50
    for _ in range(rounds):
        for condition in conditions:
            condition._memo.clear()
            for ctx in contexts:
                condition(ctx)
    uncached = (time.perf_counter() - began) / (rounds * len(contexts))
    began = time.perf_counter()
    for _ in range(rounds):
        for profile in TRIGGERS:
            rules.evaluate(profile, START)
    cached = (time.perf_counter() - began) / (rounds * len(contexts))
    print(f"shipped rules ({len(conditions)} conditions): {uncached * 1000:.1f} ms per profile uncached, "
          f"{cached * 1000:.2f} ms memoised")

    worst_cpu, worst_mem, accepted = (0.0, ""), (0, ""), 0
    for text in HOSTILE_CONDITIONS:
        if check_condition(text):
            continue
        accepted += 1
        condition = rule_condition(text)
        for ctx in contexts:
            def run(c=condition, x=ctx) -> None:
                c._memo.clear()
                with contextlib.suppress(ConditionError):
                    c(x)
            cpu, peak = cost(run)
            worst_cpu = max(worst_cpu, (cpu, text[:50]))
            worst_mem = max(worst_mem, (peak, text[:50]))
    print(f"hostile conditions: {len(HOSTILE_CONDITIONS)}, {accepted} accepted; worst evaluation "
          f"{worst_cpu[0] * 1000:.1f} ms CPU ({worst_cpu[1]!r}), worst peak {worst_mem[0] / 1024:.0f} KiB")

    from bot.answers import answer_problems

    worst_cpu, worst_mem, accepted = (0.0, ""), (0, ""), 0
    for answer, raw in HOSTILE_ANSWERS:
        try:
            variants = [AnswerVariant(**v) for v in raw]
        except ValueError:
            continue
        if len(answer) > 4000 or answer_problems(answer, variants):
            continue
        accepted += 1
        for profile in [None, *TRIGGERS]:
            cpu, peak = cost(lambda a=answer, v=variants, p=profile: render(a, v, p))
            worst_cpu = max(worst_cpu, (cpu, answer[:40]))
            worst_mem = max(worst_mem, (peak, answer[:40]))
    print(f"hostile answers: {len(HOSTILE_ANSWERS)}, {accepted} accepted; worst render "
          f"{worst_cpu[0] * 1000:.1f} ms CPU, worst peak {worst_mem[0] / 1024:.0f} KiB")


if __name__ == "__main__":
    main()
