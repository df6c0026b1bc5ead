"""An independent check of COACHING.md's invariants on a finished plan, written from the document, not the planner."""

from __future__ import annotations

import datetime as dt
import itertools

from bot.catalog import Catalog
from bot.models import DAYS, Plan

BANDS = {"beginner": (20, 30), "intermediate": (30, 40), "advanced": (40, 50)}
ECCENTRIC_CALF = {"eccentric-calf-lower", "calf-raise-slow"}


def _day(date: dt.date) -> str:
    return DAYS[date.weekday()]


def violations(plan: Plan, catalog: Catalog) -> list[str]:
    """Every invariant (all but 7 and 19, which need history) that the plan breaks, in words."""
    p = plan.profile
    out: list[str] = []
    if plan.withheld:
        if plan.weeks:
            out.append("a withheld plan still has weeks")
        if not plan.withheld_reason:
            out.append("a withheld plan gives no reason")
        return out
    if p.sharp_pain:
        out.append("17: sharp pain but the plan was not withheld")  # the default rules withhold it

    offset = (p.race_date - plan.start).days if p.race_date and p.race_date >= plan.start else None
    race_soon = offset is not None and offset < 42
    race_week = offset // 7 + 1 if offset is not None and offset < 28 else None
    taper = offset is not None and 28 <= offset < 42
    level = p.level.value
    low, high = BANDS[level]
    key_days = set(p.hard_days) | ({p.long_run_day} if p.long_run_day else set())
    before_key = {DAYS[(DAYS.index(d) - 1) % 7] for d in key_days}
    have = p.available_equipment()

    # 1
    if len(plan.weeks) != 4:
        out.append(f"1: {len(plan.weeks)} weeks")
    all_sessions = []
    for week in plan.weeks:
        n = len(week.sessions)
        all_sessions += week.sessions
        if race_week == week.week:
            if n > 1:
                out.append(f"2: race week {week.week} has {n} sessions")
            for s in week.sessions:
                if s.kind != "light" or (p.race_date - s.date).days < 3:
                    out.append(f"2: race-week session on {s.date} is not light and early")
        elif not (race_week and week.week > race_week) and not 1 <= n <= 3:
            out.append(f"1: week {week.week} has {n} strength sessions")
        if race_soon and n > 1:
            out.append(f"2: {n} sessions in week {week.week} with a race close")
        for s in week.sessions:
            # 3
            if s.kind != "light" and not low <= s.minutes <= high:
                out.append(f"3: {s.minutes} min outside {low}-{high} for {level}")
            # 11
            if s.day in before_key:
                out.append(f"11: session on {s.day}, the day before a key run")
            if p.race_date and (p.race_date - s.date).days in (0, 1):
                out.append(f"11: session on {s.date}, on or the day before the race")
            heavy = any("heavy" in e.categories for e in s.exercises)
            # 12
            if heavy and s.day in key_days:
                out.append(f"12: heavy session on key-run day {s.day}")
            if s.day in key_days and not s.after_run:
                out.append(f"12: session on run day {s.day} not marked 'after your run'")
            nordic_sets = 0
            for e in s.exercises:
                ex = catalog.exercises[e.id]
                # 8
                if not (1 <= e.rir_min <= e.rir_max <= 4) or not e.effort:
                    out.append(f"8: {e.id} effort {e.rir_min}-{e.rir_max}")
                # 9, 10
                if level == "beginner":
                    if e.unit == "reps" and e.min_reps < 8:
                        out.append(f"9: beginner {e.id} at {e.min_reps} reps")
                    if "heavy" in e.categories or "plyometric" in e.categories:
                        out.append(f"10: beginner given {e.id}")
                    if e.id in ("depth-jump", "bounding"):
                        out.append(f"9: beginner given {e.id}")
                # 15
                if e.id == "nordic-hamstring":
                    nordic_sets += e.sets
                    if e.sets > 3 or e.max_reps > 12:
                        out.append(f"15: Nordics {e.sets} x {e.reps}")
                # 16
                if e.id in ECCENTRIC_CALF and (e.sets > 3 or e.max_reps > 15):
                    out.append(f"16: {e.id} {e.sets} x {e.reps}")
                # 18 and equipment
                bad = {n.value for n in ex.unsuitable_for} & {n.value for n in p.niggles}
                if bad:
                    out.append(f"18: {e.id} given despite {sorted(bad)}")
                if ex.equipment and not {q.value for q in ex.equipment} & have:
                    out.append(f"equipment: {e.id} needs {[q.value for q in ex.equipment]}")
            if s.working_sets <= 0:
                out.append(f"empty session on {s.date}")
        # 15 (maintenance, taper, race weeks)
        if race_soon or plan.progression == "maintain":
            with_nordic = sum(any(e.id == "nordic-hamstring" for e in s.exercises) for s in week.sessions)
            if with_nordic > 1:
                out.append(f"15: Nordics {with_nordic} times in maintenance week {week.week}")
        # 14: single-leg every week (when the week has a regular session)
        if any(s.kind != "light" for s in week.sessions) and not any(
                "single-leg" in e.categories for s in week.sessions for e in s.exercises):
            out.append(f"14: week {week.week} has no single-leg work")
        if not any(s.cool_down for s in week.sessions) and week.sessions:
            out.append("14: no mobility in the cool-downs")

    # 13: no strength on consecutive days, across week boundaries too
    dates = sorted(s.date for s in all_sessions)
    for a, b in itertools.pairwise(dates):
        if (b - a).days <= 1:
            out.append(f"13: sessions on {a} and {b}")

    totals = [w.working_sets for w in plan.weeks]
    if not race_soon:
        # 4, 5
        if not totals[0] <= totals[1] <= totals[2]:
            out.append(f"4: weekly sets fall in weeks 1-3: {totals}")
        if not totals[3] < totals[2]:
            out.append(f"5: week 4 is not a deload: {totals}")
    if taper:
        peak = max(totals[:3])
        if not 0.4 * peak <= totals[3] <= 0.6 * peak:
            out.append(f"6: taper week at {totals[3]} of peak {peak}")

    # 17 (plans that get through despite sharp pain, e.g. a moderator disabled the withhold rule)
    if p.sharp_pain:
        for s in all_sessions:
            for e in s.exercises:
                if "heavy" in e.categories or "plyometric" in e.categories:
                    out.append(f"17: {e.id} despite sharp pain")
        if plan.progression != "hold":
            out.append("17: load progresses despite sharp pain")
    return out


def missing_categories(plan: Plan) -> set[str]:
    """COACHING.md 14: categories of the level's template absent from the whole block."""
    level = plan.profile.level.value
    needed = {"single-leg", "eccentric", "hip", "core"}
    if level != "beginner":
        needed |= {"heavy", "plyometric"}
    seen = {c for w in plan.weeks for s in w.sessions for e in s.exercises for c in e.categories}
    return needed - seen
