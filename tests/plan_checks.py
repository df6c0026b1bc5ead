"""An independent check of COACHING.md's invariants on a finished plan, written from the document, not the planner."""

from __future__ import annotations

import datetime as dt
import itertools
import math
import re

from bot.catalog import Catalog
from bot.models import DAYS, Plan

BANDS = {"beginner": (20, 30), "intermediate": (30, 40), "advanced": (40, 50)}
# 2, 6 with 3: a session within this many minutes of the longest the runner's sessions get is full (no room for
# one more set and its changeover); a one-session week that full may not hold what a longer one would
FULL_MARGIN = 3
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
            before_race = [s for s in week.sessions if s.date <= p.race_date]
            if len(before_race) > 1:
                out.append(f"2: race week {week.week} has {len(before_race)} sessions before the race")
            for s in (s for s in week.sessions if s.date <= p.race_date):  # after it: 23
                if s.kind != "light" or (p.race_date - s.date).days < 3:
                    out.append(f"2: race-week session on {s.date} is not light and early")
        elif not _race_shaped(plan, week) and not 1 <= n <= 3:
            out.append(f"1: week {week.week} has {n} strength sessions")
        # 2: maintenance in the last three weeks before the race; its final 7 days are checked by 24
        run_in = [s for s in week.sessions if p.race_date and (p.race_date - s.date).days >= 7]
        if offset is not None and 0 <= (p.race_date - week.start).days <= 21 and len(run_in) > 1:
            out.append(f"2: {len(run_in)} sessions in week {week.week} with the race within three weeks")
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
            if heavy and s.day == p.long_run_day:  # on a hard-run day it may stay, after the run (25)
                out.append(f"12: heavy session on the long-run day {s.day}")
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
    if taper and offset >= 34:  # a race under a week after the block: its final 7 days (in week 4) follow 24
        # the peak week is the block's biggest (the coach's read: 29 % of a two-session week 1 is no taper)
        peak = max(totals[:3])
        # one session a week (2) in its band (3) may not hold 40 % of a three-session peak: then nothing is cut
        after_long = (DAYS.index(p.long_run_day) + 1) % 7 if p.long_run_day else None
        longest = max((s.minutes for w in plan.weeks[:3] for s in w.sessions), default=0)
        forced = totals[3] < 0.4 * peak and len(plan.weeks[3].sessions) == 1 and (
            totals[3] >= totals[2] or plan.weeks[3].sessions[0].minutes >= longest - FULL_MARGIN  # full
            # or its only day is the day after the long run, where it is light (25)
            or all(s.kind == "light" and DAYS.index(s.day) == after_long for s in plan.weeks[3].sessions))
        if peak and not 0.4 * peak <= totals[3] <= 0.6 * peak and not forced:
            out.append(f"6: [read4 #7] the taper week has {totals[3]} sets, {100 * totals[3] / peak:.0f} % of the "
                       f"peak week's {peak}")

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


# --------------------------------------------------------------------------------------------
# COACHING.md 23-30, read from the document: each check names the invariant it tests.

# 23: days of recovery after a race by distance; an unknown distance is treated as the longest race.
RECOVERY_DAYS = {"5k": 3, "10k": 3, "half": 7, "marathon": 10, "ultra": 10, None: 10}
REBUILD_AFTER_RECOVERY = 7  # then a week to get back to the runner's sessions a week
EXTRA_CHANGEOVER_S = 30  # 28: time to move between exercises (set up, load, walk over)
BOUNCY_WARM_UP = {"strides", "running-drills"}
JUMP_FREE_NIGGLES = {"knee", "achilles", "calf", "shin", "foot"}
KNEE_DEEP_FLEXION = {"reverse-lunge", "split-squat", "bulgarian-split-squat", "heavy-split-squat", "back-squat",
                     "front-squat", "goblet-squat"}
LOADING_KIT = {"dumbbells", "kettlebell", "barbell", "gym"}
# 26 (and the coach's read, issue 11): the work that loads a niggly tissue stays at RPE 7 or less all block
NIGGLE_OWN_WORK = {"hamstring": {"hamstring-bridge-hold"}, "achilles": {"isometric-calf-hold"},
                   "calf": {"isometric-calf-hold"}, "shin": {"isometric-calf-hold", "bent-knee-calf-raise"}}
# 25: the day after the long run is for mobility or light work: no heavy lifts, jumps or eccentric work
AFTER_LONG_RUN_WAITS = {"heavy", "plyometric", "eccentric"}


def rep_seconds(tempo: str | None) -> float:
    """28: seconds one rep takes at its tempo ('3-1-1' is 5 s, X counts 1); 3 s when the tempo is not timed."""
    if tempo:
        parts = tempo.replace(" ", "").split("-")
        if len(parts) == 3 and all(p.isdigit() or p.upper() == "X" for p in parts):
            return float(sum(1 if p.upper() == "X" else int(p) for p in parts))
    return 3.0


def work_minutes(session, catalog: Catalog, template_id: str) -> float:
    """28: sets x (reps x tempo + rest) + changeovers + warm-up and cool-down, in minutes."""
    template = catalog.templates[template_id]
    seconds = 0.0
    for e in session.exercises:
        per_rep = 1.0 if e.unit == "seconds" else rep_seconds(e.tempo)
        sides = 2 if e.per_side else 1
        seconds += e.sets * (e.max_reps * per_rep * sides + e.rest_seconds)
    seconds += EXTRA_CHANGEOVER_S * max(0, len(session.exercises) - 1)
    return template.warm_up.minutes + template.cool_down.minutes + seconds / 60


def _race_offset(plan: Plan) -> int | None:
    p = plan.profile
    return (p.race_date - plan.start).days if p.race_date else None


def _race_shaped(plan: Plan, week) -> bool:
    """A week holding a race's final 7 days or the recovery after it may have no session (23, 24)."""
    p = plan.profile
    if not p.race_date:
        return False
    recovery = RECOVERY_DAYS[p.race_distance.value if p.race_distance else None]
    first, last = (week.start - p.race_date).days, (week.start - p.race_date).days + 6
    return first <= recovery and last >= -6


def _is_primer(s) -> bool:
    """24: a short primer: a few low jumps and 1-2 sets of one familiar lift, no Nordics, nothing eccentric."""
    lifts = [e for e in s.exercises if "plyometric" not in e.categories]
    return (len(lifts) <= 1 and len(s.exercises) <= 2 and all(e.sets <= 2 for e in s.exercises)
            and not any("eccentric" in e.categories or e.id == "nordic-hamstring" for e in s.exercises))


def coaching_violations(plan: Plan, catalog: Catalog, baseline: Plan | None = None) -> list[str]:
    """Every breach of COACHING.md 23-30 in the plan, as '<number>: what'.

    baseline is the same runner's plan without the race: "the runner's sessions a week" (23, 24).
    """
    if plan.withheld:
        return []
    p = plan.profile
    out: list[str] = []
    offset = _race_offset(plan)
    sessions = [s for w in plan.weeks for s in w.sessions]
    base_counts = [len(w.sessions) for w in baseline.weeks] if baseline and not baseline.withheld else None

    # 23: recovery after a race before (up to ~10 days) or inside the block, then a rebuild.
    if offset is not None and -10 <= offset < 28:
        recovery = RECOVERY_DAYS[p.race_distance.value if p.race_distance else None]
        for s in sessions:
            since = (s.date - p.race_date).days
            if 1 <= since <= recovery:
                hard = [e.id for e in s.exercises if {"heavy", "plyometric", "eccentric"} & set(e.categories)]
                if hard:
                    out.append(f"23: {hard} {since} days after the race (recovery is {recovery} days)")
        if base_counts:
            for w, base in zip(plan.weeks, base_counts, strict=True):
                if (w.start - p.race_date).days >= recovery + REBUILD_AFTER_RECOVERY and len(w.sessions) < base:
                    out.append(f"23: week {w.week} after the race has {len(w.sessions)} sessions, not {base}")

    # 24: the run-in to a race after the block starts.
    if offset is not None and offset >= 0:
        final = [s for s in sessions if 0 <= (p.race_date - s.date).days < 7]
        if len(final) > 1:
            out.append(f"24: {len(final)} sessions in the final 7 days before the race")
        for s in final:
            out_days = (p.race_date - s.date).days
            if not 3 <= out_days <= 4:
                out.append(f"24: a session {out_days} days before the race (a primer is 3-4 days out)")
            if not _is_primer(s):
                out.append(f"24: the session {out_days} days before the race is not a short primer")
            earlier = {e.id for t in sessions if (p.race_date - t.date).days >= 7 for e in t.exercises}
            new = [e.id for e in s.exercises if e.id not in earlier and earlier]
            if new:
                out.append(f"24: new work {new} in the final week")
        for w in plan.weeks:
            out_days = (p.race_date - w.start).days
            run_in = [s for s in w.sessions if (p.race_date - s.date).days >= 7]
            if 0 <= out_days <= 21 and len(run_in) > 1:
                out.append(f"24: {len(run_in)} sessions in week {w.week}, {out_days} days before the race")
        if base_counts:
            for w, base in zip(plan.weeks, base_counts, strict=True):
                if (p.race_date - w.start).days > 28 + 6 and len(w.sessions) < base:
                    out.append(f"24: maintenance in week {w.week}, {(p.race_date - w.start).days} days before "
                               f"the race")

    # 25: placement by content.
    long_day = DAYS.index(p.long_run_day) if p.long_run_day else None
    hard_days = set(p.hard_days)
    for w in plan.weeks:
        mobility = {m.date for m in w.mobility}
        for s in w.sessions:
            day = DAYS.index(s.day)
            cats = s.categories
            if s.date in mobility:
                out.append(f"25: a strength session on {s.date}, a day marked for mobility")
            waits = cats & AFTER_LONG_RUN_WAITS
            if waits and long_day is not None and day == (long_day + 1) % 7:
                out.append(f"25: {sorted(waits)} work on {s.date}, the day after the long run")
            if "plyometric" in cats and (s.day in hard_days or day == long_day):
                out.append(f"25: jumps on {s.date}, after a quality run")

    # 26: niggles hold over the whole plan.
    niggles = {n.value for n in p.niggles}
    for w in plan.weeks:
        for s in w.sessions:
            ids = {e.id for e in s.exercises}
            if niggles & JUMP_FREE_NIGGLES and "plyometric" in s.categories:
                out.append(f"26: jumps on {s.date} with a {sorted(niggles & JUMP_FREE_NIGGLES)} niggle")
            if "knee" in niggles and w.week <= 2 and ids & KNEE_DEEP_FLEXION:
                out.append(f"26: loaded deep knee bending {sorted(ids & KNEE_DEEP_FLEXION)} early with a knee niggle")
            if niggles & {"hamstring", "achilles"} and {i.id for i in s.warm_up} & BOUNCY_WARM_UP:
                out.append(f"26: strides or bouncy drills in the warm-up on {s.date} with a "
                           f"{sorted(niggles & {'hamstring', 'achilles'})} niggle")
            if "calf" in niggles:
                calf_eccentric = [e.id for e in s.exercises if {"calf", "eccentric"} <= set(e.categories)]
                held_before = any(e.unit == "seconds" and "calf" in e.categories
                                  for t in sessions if t.date < s.date for e in t.exercises)
                if calf_eccentric and not held_before:
                    out.append(f"26: calf eccentrics {calf_eccentric} on {s.date} before any calf holds")
            for e in s.exercises:
                sore = sorted(n for n in niggles if e.id in NIGGLE_OWN_WORK.get(n, ()))
                if sore and e.rir_min < 3:
                    out.append(f"26: {e.id} on {s.date} at {e.effort} with a {sore} niggle (at most RPE 7)")
                if e.unit == "seconds" and not 20 <= e.min_reps <= e.max_reps <= 45:
                    out.append(f"26: hold {e.id} dosed {e.reps} s (holds are 20-45 s)")

    # 27: labels true of what the session and week hold.
    for w in plan.weeks:
        for s in w.sessions:
            if "heavy" in s.focus.lower() and "heavy" not in s.categories:
                out.append(f"27: '{s.focus}' on {s.date} holds no heavy lift")
            if ("power" in s.focus.lower() or s.kind == "power") and "plyometric" not in s.categories:
                out.append(f"27: '{s.focus}' ({s.kind}) on {s.date} holds no jumps")
            if "tendon" in s.focus.lower() and not s.categories & {"eccentric", "calf"}:
                out.append(f"27: '{s.focus}' on {s.date} holds no tendon work")
        final_days = p.race_date and any(w.start <= p.race_date - dt.timedelta(days=d) < w.start + dt.timedelta(days=7)
                                         for d in (3, 4))
        if w.label == "Race week" and not final_days and not (
                w.race_day and w.start <= w.race_day < w.start + dt.timedelta(days=7)):
            out.append(f"27: week {w.week} is labelled race week without the race or its final days in it")
    out.extend(note_violations(plan))

    # 28: honest minutes.
    low, high = BANDS[p.level.value]
    for s in sessions:
        need = work_minutes(s, catalog, plan.template)
        if s.minutes + 0.5 < need:
            out.append(f"28: {s.date} shown as {s.minutes} min but the work takes {need:.0f}")
        if s.kind != "light" and not low <= s.minutes <= high:
            out.append(f"28: {s.date} at {s.minutes} min, outside {low}-{high}")

    # 29: real progression.
    race_shaped = offset is not None and -24 <= offset < 49  # maintenance or recovery in weeks 1-3 (23, 24)
    if (plan.progression == "build" and not race_shaped and len(plan.weeks) == 4
            and all(len(w.sessions) for w in plan.weeks[:3])):
        volume = [sum(e.sets * e.max_reps for s in w.sessions for e in s.exercises if e.unit == "reps")
                  for w in plan.weeks[:3]]  # reps, not the seconds of holds
        doses = [[(e.id, e.sets, e.reps) for s in w.sessions for e in s.exercises] for w in plan.weeks[:3]]
        if doses[1] == doses[2]:
            out.append("29: week 3 repeats week 2 exactly")
        if p.level.value == "beginner" and not volume[0] < volume[1] < volume[2]:
            out.append(f"29: a beginner does not progress week to week: {volume}")
        heavy_possible = (p.level.value != "beginner" and not p.niggles and LOADING_KIT & p.available_equipment()
                          and any(not s.after_run for s in sessions))
        if heavy_possible and not any("heavy" in e.categories and 3 <= e.min_reps <= e.max_reps <= 5
                                      for s in sessions for e in s.exercises):
            out.append("29: no heavy 3-5 rep day for an intermediate or advanced runner")
    first_time: set[str] = set()
    for s in sorted(sessions, key=lambda s: s.date):
        for e in s.exercises:
            ex = catalog.exercises[e.id]
            if (e.id not in first_time and ex.equipment and e.unit == "reps" and "plyometric" not in e.categories
                    and not getattr(e, "load", "")):
                out.append(f"29: no starting load for {e.id} the first time it comes")
            first_time.add(e.id)

    # 30: goals change the training (per plan; mileage is compared across plans in the report).
    if not p.niggles and not p.sharp_pain and not race_shaped and len(sessions) >= 4:  # a race's run-in: 23, 24
        cats = {c for s in sessions for c in s.categories}
        ids = {e.id for s in sessions for e in s.exercises}
        goals = {g.value for g in p.goals}
        # jumps wait for fresh legs (25): with every session after a key run there is no room for them
        after_long = DAYS[(DAYS.index(p.long_run_day) + 1) % 7] if p.long_run_day else None
        lifter = (p.level.value != "beginner" and plan.progression == "build"  # a fresh day for heavy + jumps
                  and any(not s.after_run and s.day != after_long for s in sessions))
        kit = LOADING_KIT & p.available_equipment()
        if "speed" in goals and lifter and kit and not {"heavy", "plyometric"} <= cats:
            out.append("30: a speed goal without both heavy work and jumps")
        if "power" in goals and lifter and kit and not any({"heavy", "plyometric"} <= s.categories for s in sessions):
            out.append("30: a power goal without a session pairing a heavy lift with jumps")
        if "injury-resilience" in goals and not ({"eccentric", "hip"} <= cats
                                                 and any(e.unit == "seconds" for s in sessions for e in s.exercises)):
            out.append("30: an injury-resilience goal without eccentrics, holds and hip work")
        if "hills" in goals and not ("single-leg" in cats and any("step-up" in i for i in ids)):
            out.append("30: a hills goal without step-ups")
        if "endurance" in goals and not (any(e.unit == "reps" and e.min_reps >= 12 for s in sessions
                                             for e in s.exercises) and "calf" in cats):
            out.append("30: an endurance goal without strength-endurance sets (12+) and tendon work")
    out.extend(coach_violations(plan, catalog))
    out.extend(read4_violations(plan, catalog, baseline))
    return out


# 27: what each rule's note claims about the plan, read from rules/rules/*.yaml by hand. A note that
# fired without an entry here is reported, so a new note cannot go unchecked.
NOTE_CLAIMS: dict[str, dict[str, set[str]]] = {
    "niggle-achilles": {"no_categories": {"plyometric"}, "has_ids": {"isometric-calf-hold"}},
    "niggle-calf": {"no_categories": {"plyometric"}, "has_ids": {"isometric-calf-hold"}},
    "niggle-knee": {"no_categories": {"plyometric"}, "no_ids": KNEE_DEEP_FLEXION, "has_ids": {"glute-bridge"}},
    "niggle-it-band": {"no_ids": {"bounding", "pogo-hops", "depth-jump"}, "has_ids": {"side-lying-hip-raise"}},
    "niggle-hamstring": {"no_ids": {"nordic-hamstring", "single-leg-rdl"}, "has_ids": {"hamstring-bridge-hold"}},
    "niggle-hip": {"no_ids": {"bulgarian-split-squat", "heavy-split-squat", "back-squat", "front-squat", "bounding"}},
    "niggle-shin": {"no_categories": {"plyometric"}, "has_ids": {"bent-knee-calf-raise", "isometric-calf-hold"}},
    "niggle-foot": {"no_categories": {"plyometric"}},
    "niggle-lower-back": {"no_ids": {"back-squat"}, "has_ids": {"bird-dog"}},
    "equipment-no-box": {"has_ids": {"squat-jump"}},  # "box jumps become squat jumps"
    "equipment-advanced-no-barbell": {"has_ids": {"heavy-split-squat", "weighted-step-up"}},
    "goal-endurance": {"has_categories": {"hip", "core"}},
    "goal-hills": {"has_ids": {"step-up"}},
    "goal-injury-resilience": {"has_categories": {"eccentric", "hip"}, "has_ids": {"isometric-calf-hold"}},
    "goal-power": {"has_categories": {"plyometric"}},
    "goal-speed": {"has_categories": {"heavy", "plyometric"}},
}


RECOVERY_WAITS = {"heavy", "plyometric", "eccentric"}  # 23: what "light work only" after a race leaves out


def week_claim_violations(plan: Plan) -> list[str]:
    """27: what a week's summary says is true of that week (read from the words, not the planner)."""
    out = []
    for before, w in itertools.pairwise([None, *plan.weeks]):
        text = w.summary.lower()
        if "light work only" in text:
            for s in w.sessions:
                if s.kind != "light" or s.categories & RECOVERY_WAITS:
                    out.append(f"27: week {w.week} says light work only; {s.date} holds "
                               f"{sorted(s.categories & RECOVERY_WAITS) or s.kind} work")
        if "same exercises" in text and before is not None:
            earlier = {e.id for v in plan.weeks[:w.week - 1] for s in v.sessions for e in s.exercises}
            new = sorted({e.id for s in w.sessions for e in s.exercises} - earlier)
            if new:
                out.append(f"27: week {w.week} says same exercises but brings in {new}")
        if "same effort" in text and before is not None:
            effort = {e.id: e.rir_min for s in before.sessions for e in s.exercises}
            easier = sorted(e.id for s in w.sessions if not s.focus.startswith("Race primer")  # its own label (24)
                            for e in s.exercises if e.rir_min > effort.get(e.id, 9))
            if easier:
                out.append(f"27: week {w.week} says the same effort but {easier} get easier")
    return out


FROM_WEEK = re.compile(r"-> (.+) from week (\d+)$")


def trace_claim_violations(plan: Plan) -> list[str]:
    """27: 'X -> Y from week N' in the why-page is so: Y first comes in week N."""
    out = []
    for entry in plan.trace:
        for change in entry.changes:
            said = FROM_WEEK.search(change)
            if not said:
                continue
            first = next((w.week for w in plan.weeks for s in w.sessions for e in s.exercises
                          if e.name == said[1]), None)
            if first != int(said[2]):
                out.append(f"27: the why-page says {said[1]} from week {said[2]}; it first comes in week {first}")
    return out


def note_violations(plan: Plan) -> list[str]:
    """27: each fired rule's note is true of the plan (NOTE_CLAIMS), and each week's summary of its week."""
    sessions = [s for w in plan.weeks for s in w.sessions]
    if not sessions:
        return []
    ids = {e.id for s in sessions for e in s.exercises}
    cats = {c for s in sessions for c in s.categories}
    out = week_claim_violations(plan) + trace_claim_violations(plan)
    shown = set(plan.notes)
    for entry in plan.trace:
        rule_id = entry.rule_id
        if not any(c.removeprefix("note: ") in shown for c in entry.changes if c.startswith("note: ")):
            continue  # no note of this rule is shown with the plan
        claims = NOTE_CLAIMS.get(rule_id, {})
        for key, wanted in claims.items():
            if key == "no_categories" and wanted & cats:
                out.append(f"27: {rule_id}'s note is untrue: the plan has {sorted(wanted & cats)} work")
            if key == "no_ids" and wanted & ids:
                out.append(f"27: {rule_id}'s note is untrue: the plan has {sorted(wanted & ids)}")
            if key == "has_ids" and not wanted & ids:
                out.append(f"27: {rule_id}'s note is untrue: the plan lacks {sorted(wanted)}")
            if key == "has_categories" and not wanted <= cats:
                out.append(f"27: {rule_id}'s note is untrue: the plan lacks {sorted(wanted - cats)} work")
    return out


def jump_contacts(plan: Plan) -> int:
    """30: foot contacts in jumps over the block."""
    return sum(e.sets * e.max_reps * (2 if e.per_side else 1) for w in plan.weeks for s in w.sessions
               for e in s.exercises if "plyometric" in e.categories)


def mileage_violations(plan: Plan, at_20_km: Plan) -> list[str]:
    """30: at 80 km a week or more, fewer jump contacts than the same runner at 20 km (when that has any)."""
    if plan.withheld or at_20_km.withheld or plan.profile.weekly_km < 80 or not jump_contacts(at_20_km):
        return []
    if jump_contacts(plan) >= jump_contacts(at_20_km):
        return [f"30: {jump_contacts(plan)} jump contacts at {plan.profile.weekly_km:g} km, "
                f"{jump_contacts(at_20_km)} at 20 km"]
    return []


# --------------------------------------------------------------------------------------------
# A strength coach's read of generated plans (issue 11): defects the checks above let through. Each
# check names the invariant it sharpens. Read from COACHING.md and the coach's notes, not the planner.

HEAVY_REPS = 5  # 29: the article's heavy day is 3-5 reps; "heavy" means a lift loaded for at most 5
HEAVY_KIT = {"dumbbells", "kettlebell", "barbell", "gym"}  # 29: kit to load a squat or a split squat for 3-5
MAX_WEEKLY_RISE = 0.30  # 29: building weeks add at most ~30 % working sets a week
BUILD_LABELS = {"Introduce", "Build", "Peak"}
FULL_LABELS = BUILD_LABELS | {"Maintain"}
MAIN_LIFT = {"heavy", "strength", "single-leg"}  # 24: the primer's one lift is a main lift, not core work
# 26: warm-up words that load what a niggle protects (walking lunges bend a sore knee deeply; swings and
# sweeps stretch a sore hamstring ballistically); 23: fast warm-up work has no place in a recovery window.
WARM_UP_WORDS = {"knee": re.compile(r"lunge"),
                 "hamstring": re.compile(r"leg swing|hamstring sweep|(?<!no )strides|a-skip")}
FAST_WARM_UP = re.compile(r"(?<!no )strides|a-skip|high knees|bounding")
LOAD_NUMBER = re.compile(r"about (\d+)(?:-(\d+))? times")


def _is_heavy(e) -> bool:
    """A heavy set as a coach means it: a heavy-category lift prescribed for at most 5 reps."""
    return "heavy" in e.categories and e.unit == "reps" and e.max_reps <= HEAVY_REPS


def _familiar(ex_id: str, done: set[str], catalog: Catalog) -> bool:
    """An exercise done before, or a regression of one (one of its substitutes, followed on)."""
    if ex_id in done:
        return True
    seen, queue = set(), list(done)
    while queue:
        x = queue.pop()
        if x in seen or x not in catalog.exercises:
            continue
        seen.add(x)
        if ex_id in catalog.exercises[x].substitutes:
            return True
        queue.extend(catalog.exercises[x].substitutes)
    return False


def coach_violations(plan: Plan, catalog: Catalog) -> list[str]:
    """The coach's defect classes (issue 11), as '<invariant>: what'."""
    if plan.withheld or not plan.weeks:
        return []
    p = plan.profile
    out: list[str] = []
    sessions = sorted((s for w in plan.weeks for s in w.sessions), key=lambda s: s.date)
    race = p.race_date
    recovery = RECOVERY_DAYS[p.race_distance.value if p.race_distance else None]
    after_long = DAYS[(DAYS.index(p.long_run_day) + 1) % 7] if p.long_run_day else None

    # 1. "heavy" is true of the content; a real heavy day for intermediate/advanced runners with the kit.
    for s in sessions:
        if "heavy" in s.focus.lower() and not any(_is_heavy(e) for e in s.exercises):
            out.append(f"27: '{s.focus}' on {s.date} holds no lift of {HEAVY_REPS} reps or fewer")
        for e in s.exercises:
            if "heavy" in e.categories and e.unit == "reps" and e.max_reps > HEAVY_REPS:
                out.append(f"27: {e.id} on {s.date} counts as heavy at {e.reps} reps")
    fresh = [s for w in plan.weeks if w.label in FULL_LABELS for s in w.sessions  # building or maintaining
             if s.kind != "light" and not s.after_run and s.day != after_long]
    if (p.level.value != "beginner" and not p.niggles and not p.sharp_pain and plan.progression != "hold"
            and HEAVY_KIT & {q.value for q in p.equipment} and fresh
            and not any(_is_heavy(e) for s in sessions for e in s.exercises)):
        out.append("29: no heavy 3-5 rep lift for an intermediate or advanced runner with weights")

    # 2. Nothing new where nothing new belongs; new work comes in at submaximal effort.
    done: set[str] = set()
    before_race_work = False
    first_after_recovery = None
    if race is not None:
        first_after_recovery = next((s for s in sessions if (s.date - race).days > recovery), None)
        before_race_work = any(s.date < race and s.kind != "light" for s in sessions)
    for w in plan.weeks:
        for s in sorted(w.sessions, key=lambda s: s.date):
            no_new = (w.label in ("Maintain", "Taper") and done) or (s.focus.startswith("Race primer") and done) or (
                s is first_after_recovery and before_race_work)
            if no_new:
                new = [e.id for e in s.exercises if not _familiar(e.id, done, catalog)]
                if new:
                    out.append(f"2: new work {new} on {s.date} ({w.label}, '{s.focus}')")
            for e in s.exercises:
                if e.id not in done and e.rir_min < 2:
                    out.append(f"29: {e.id} first appears on {s.date} at {e.rir_min}-{e.rir_max} reps in reserve")
            done |= {e.id for e in s.exercises}

    # 3. Week labels, race-day mobility and the primer around a race.
    for w in plan.weeks:
        if w.label == "Maintain" and not any(s.kind != "light" for s in w.sessions):
            out.append(f"27: week {w.week} is labelled Maintain but holds no maintenance session")
        if race is not None and w.label == "Race week":
            days = {w.start + dt.timedelta(days=d) for d in range(7)}
            if not {race - dt.timedelta(days=3), race - dt.timedelta(days=4)} & days:
                out.append(f"27: week {w.week} is labelled Race week but the race's final days are not in it")
        if race is not None and any(m.date == race for m in w.mobility):
            out.append(f"25: a mobility slot on race day {race}")
    for s in sessions:
        if s.focus.startswith("Race primer"):
            lifts = [e for e in s.exercises if "plyometric" not in e.categories]
            if lifts and not MAIN_LIFT & set(lifts[0].categories):
                out.append(f"24: the primer on {s.date} is {lifts[0].id}, not a familiar main lift")

    # 4. Goals show: contrast pairs for power, jumps fresh at the start, the calf path with a calf niggle.
    for s in sessions:
        seen_other = False
        for e in s.exercises:
            if "plyometric" in e.categories and seen_other:
                out.append(f"25: jumps ({e.id}) on {s.date} come after other work, not fresh")
                break
            if "plyometric" not in e.categories and not _is_heavy(e):
                seen_other = True
    goals = {g.value for g in p.goals}
    lifter = (p.level.value != "beginner" and not p.niggles and plan.progression == "build"
              and HEAVY_KIT & {q.value for q in p.equipment} and len(fresh) >= 3)
    if "power" in goals and lifter and not any(
            _is_heavy(a) and "plyometric" in b.categories
            for s in fresh for a, b in itertools.pairwise(s.exercises)):
        out.append("30: a power goal without a contrast pair (a heavy lift, then jumps)")
    if "calf" in {n.value for n in p.niggles} and plan.progression == "build" and race is None:
        def calf(week) -> set[tuple[str, str]]:  # the day after the long run keeps to holds (25)
            return {(e.id, e.unit) for s in week.sessions if s.day != after_long for e in s.exercises
                    if "calf" in e.categories}
        early, late = calf(plan.weeks[0]), calf(plan.weeks[2])
        if early and all(unit == "seconds" for _, unit in early) and all(unit == "seconds" for _, unit in late):
            out.append("30: a calf niggle keeps the same calf holds all block (holds, then slow, then eccentric)")

    # 5. Fewer sessions than asked is said in plain words, on the plan.
    if p.days_per_week and plan.sessions_per_week < p.days_per_week and not any(
            str(p.days_per_week) in n and str(plan.sessions_per_week) in n for n in plan.notes):
        out.append(f"27: {p.days_per_week} days a week asked, {plan.sessions_per_week} given, no note says so")

    # 6. Warm-ups obey niggles; building weeks rise smoothly.
    niggles = {n.value for n in p.niggles}
    for s in sessions:
        for niggle, words in WARM_UP_WORDS.items():
            if niggle in niggles:
                bad = [i.name for i in s.warm_up if words.search(i.name.lower())]
                if bad:
                    out.append(f"26: warm-up {bad} on {s.date} with a {niggle} niggle")
    for a, b in itertools.pairwise(plan.weeks):
        if a.label in BUILD_LABELS and b.label in BUILD_LABELS and a.working_sets and (
                b.working_sets > math.ceil(a.working_sets * (1 + MAX_WEEKLY_RISE))):
            out.append(f"29: working sets jump {a.working_sets} -> {b.working_sets} from week {a.week} to {b.week}")

    # 7. Load by feel fits the kit and the prescription.
    for s in sessions:
        for e in s.exercises:
            if not e.load:
                continue
            kit = {q.value for q in catalog.exercises[e.id].equipment}
            if kit and kit <= {"bands", "box", "gym"} and "band" in e.name.lower() and "weight" in e.load:
                out.append(f"29: a weight for the band exercise {e.id} on {s.date}")
            number = LOAD_NUMBER.search(e.load)
            if number:
                low, high = int(number[1]), int(number[2] or number[1])
                if (low, high) != (e.min_reps + e.rir_min, e.max_reps + e.rir_max):
                    out.append(f"29: load '{e.load}' does not follow {e.reps} reps at {e.rir_min}-{e.rir_max} "
                               "reps in reserve")

    # 8. Nothing fast in a race's recovery window; race notes true of the weeks.
    if race is not None:
        for s in sessions:
            if 1 <= (s.date - race).days <= recovery:
                fast = [i.name for i in s.warm_up if FAST_WARM_UP.search(i.name.lower())]
                if fast:
                    out.append(f"23: {fast} in the warm-up {(s.date - race).days} days after the race")
        shown = " ".join(plan.notes).lower()
        if "one" in shown and "four weeks" in shown:  # "the last four weeks", "fewer than four weeks remain"
            for w in plan.weeks:
                before = [s for s in w.sessions if s.date < race and not s.focus.startswith("Race primer")]
                if 0 <= (race - w.start).days < 28 and len(before) > 1:
                    out.append(f"27: a note says one session a week in the last four weeks; week {w.week} "
                               f"({(race - w.start).days} days out) has {len(before)}")

    # 9. Useful doses: in full weeks, few exercises at one set. (A one-session week must hold every kind of
    # work the level needs, 14, so a short band can leave it thin: a known limit, not checked.)
    for w in plan.weeks:
        if w.label not in FULL_LABELS or plan.sessions_per_week == 1:
            continue
        for s in w.sessions:
            if s.kind == "light":
                continue
            single = [e.id for e in s.exercises if e.sets < 2]
            if len(single) * 2 > len(s.exercises):
                out.append(f"28: {len(single)} of {len(s.exercises)} exercises at one set on {s.date} ({w.label})")
    return out


# --------------------------------------------------------------------------------------------
# The second coach's read (issue 11, 2026-12-02): what the checks above still let through. Each message
# names the invariant it sharpens and, in brackets, the class of the coach's read ([read4 #N]) so that
# bench/plan_violations.py can count each class. Read from COACHING.md and the coach's report.

LIGHT_MAX_SETS = 2  # 25, 27: a "light" session: a couple of easy sets an exercise, a short session
LIGHT_MAX_WORKING_SETS = 8
LIGHT_MIN_RIR = 3
# 27: what trace lines say, in the rule engine's and the planner's words
ADDED = re.compile(r"^add ([a-z0-9-]+) \(")
ADDED_CATEGORY = re.compile(r"^add an? ([a-z-]+) exercise(, then left out)?")
LEFT_OUT = ", then left out"
DONE_AS = re.compile(r", done as ([^(]+?)(?: \(|$)")
SESSIONS_A_WEEK = re.compile(r"^(\d+) strength session\(s\) a week(.*)$")
WEEKS_HOLD = re.compile(r"the weeks hold ([\d, and]+)")
PROGRESSION = re.compile(r"^'([a-z-]+)' progression(.*)$")
WEEKS_RUN = re.compile(r"the weeks run (.+)$")
SESSION_NAMED = re.compile(r"\bsession ([A-C])\b")
PATTERN_LABELS = {"build": {"Introduce", "Build", "Peak", "Deload"}, "maintain": {"Maintain", "Ease off"},
                  "hold": {"Steady", "Deload"}}
LIGHTER_LABELS = {"Deload", "Ease off"}  # 5: labels that say the week is lighter than the one before
# 26, 27: cue words that name kit, and the kit that makes them true (a gym has it all)
KIT_WORDS = {re.compile(r"dumbbell"): "dumbbells", re.compile(r"kettlebell"): "kettlebell",
             re.compile(r"barbell"): "barbell", re.compile(r"\bband\b"): "bands"}
SORE = re.compile(r"sore ([a-z-]+)")
SPINE_LOAD = re.compile(r"backpack|(?:on|across) your (?:upper )?back")  # 26: spinal load: not with a sore back
# 2, 14 (and the coach's read): movement patterns a block keeps; hinge and squat named by exercise
HINGE = {"single-leg-rdl", "nordic-hamstring", "sliding-leg-curl", "hamstring-curl", "hamstring-bridge-hold"}
SQUAT = {"goblet-squat", "bodyweight-squat", "box-squat", "back-squat", "front-squat"}
MAINTAINED = ("squat", "single-leg", "hinge", "calf", "hip", "core")


def patterns(e) -> set[str]:
    """The movement patterns one prescribed exercise trains (categories, plus squat and hinge)."""
    out = set(e.categories)
    if e.id in HINGE:
        out.add("hinge")
    if e.id in SQUAT:
        out.add("squat")
    return out


def is_light(s) -> bool:
    """25, 27: what "a light session" means: easy sets, a few of them, nothing heavy, jumping or eccentric."""
    return (s.kind == "light" and all(e.rir_min >= LIGHT_MIN_RIR and e.sets <= LIGHT_MAX_SETS for e in s.exercises)
            and s.working_sets <= LIGHT_MAX_WORKING_SETS and not s.categories & AFTER_LONG_RUN_WAITS)


def read4_violations(plan: Plan, catalog: Catalog, baseline: Plan | None = None) -> list[str]:
    """The second coach's defect classes (issue 11), as '<invariant>: [read4 #class] what'."""
    if plan.withheld or not plan.weeks:
        return []
    p = plan.profile
    out: list[str] = []
    sessions = sorted((s for w in plan.weeks for s in w.sessions), key=lambda s: s.date)
    ids = {e.id for s in sessions for e in s.exercises}
    names = {e.name for s in sessions for e in s.exercises}
    cats = {c for s in sessions for c in s.categories}
    shown = " ".join(plan.notes)

    # 1. The day after the long run: the note says it is marked for mobility unless a light session is there.
    if p.long_run_day and "day after your long run" in shown and "light session" in shown:
        after = (DAYS.index(p.long_run_day) + 1) % 7
        for w in plan.weeks:
            date = w.start + dt.timedelta(days=after)
            there = [s for s in w.sessions if s.date == date]
            for s in there:
                if not is_light(s):
                    out.append(f"25: [read4 #1] the note says the day after the long run holds a light session; "
                               f"{date} holds {s.kind} work ({s.working_sets} sets, {s.minutes} min)")
            marked = any(m.date == date for m in w.mobility)
            if not there and not marked and date != p.race_date and "marks it" in shown:
                out.append(f"27: [read4 #1] the note says the plan marks the day after the long run; week "
                           f"{w.week} does not ({date})")

    # 2, 3. Why this plan?: every line true of the final plan.
    counts = [len(w.sessions) for w in plan.weeks]
    labels = [w.label for w in plan.weeks]
    for entry in plan.trace:
        if entry.status not in ("applied", "safeguard"):
            continue
        for change in entry.changes:
            added = ADDED.match(change)
            if added and entry.status == "applied":
                said_out = LEFT_OUT in change
                done_as = DONE_AS.search(change)
                if said_out and added[1] in ids:
                    out.append(f"27: [read4 #2] why says {added[1]} was left out, but the plan has it")
                elif done_as and done_as[1] not in names:
                    out.append(f"27: [read4 #2] why says {added[1]} is done as {done_as[1]}, which the plan lacks")
                elif not said_out and not done_as and added[1] not in ids:
                    out.append(f"27: [read4 #2] why says '{change}', but the plan has no {added[1]}")
            category = ADDED_CATEGORY.match(change)
            if category and entry.status == "applied" and (category[1] in cats) == bool(category[2]):
                out.append(f"27: [read4 #2] why says '{change}', but the plan has no {category[1]} work")
            a_week = SESSIONS_A_WEEK.match(change)
            if a_week and entry.status == "applied":
                hold = WEEKS_HOLD.search(a_week[2])
                if hold:
                    said = [int(n) for n in re.findall(r"\d+", hold[1])]
                    if said != counts:
                        out.append(f"27: [read4 #3] why says the weeks hold {said}; they hold {counts}")
                elif set(counts) != {int(a_week[1])}:
                    out.append(f"27: [read4 #3] why says '{change}'; the weeks hold {counts}")
            pattern = PROGRESSION.match(change)
            if pattern and entry.status == "applied":
                run = WEEKS_RUN.search(pattern[2])
                if run:
                    if run[1] != ", ".join(label.lower() for label in labels):
                        out.append(f"27: [read4 #3] why says the weeks run {run[1]}; they are {labels}")
                elif pattern[1] in PATTERN_LABELS and not set(labels) <= PATTERN_LABELS[pattern[1]]:
                    out.append(f"27: [read4 #3] why says '{change}'; the weeks are {labels}")
            for key in SESSION_NAMED.findall(change):
                held = [s for s in sessions if getattr(s, "key", "") == key]
                if not held:
                    out.append(f"27: [read4 #3] why names session {key} ('{change}'), which the plan never holds")
                elif "shares a hard-run day" in change and not any(s.day in p.hard_days for s in held):
                    out.append(f"27: [read4 #3] why says session {key} shares a hard-run day; it never does")

    # 4. A deload (or an easier maintenance week) is lighter than the week before it, always.
    for before, w in itertools.pairwise(plan.weeks):
        if w.label in LIGHTER_LABELS and w.working_sets >= before.working_sets:
            out.append(f"5: [read4 #4] week {w.week} '{w.label}' has {w.working_sets} sets, week {before.week} "
                       f"{before.working_sets}")

    # 5. Cues and loads that fit the runner's kit and niggles.
    have = p.available_equipment()
    niggles = {n.value for n in p.niggles}
    for s in sessions:
        for e in s.exercises:
            text = f"{e.cue} {e.load}".lower()
            lacking = sorted({kit for word, kit in KIT_WORDS.items() if word.search(text)} - have)
            if lacking:
                out.append(f"27: [read4 #5] the cue for {e.id} names {lacking}, which the runner lacks")
            for sore in SORE.findall(text):
                if sore not in niggles and sore.replace("-", " ") not in {n.replace("-", " ") for n in niggles}:
                    out.append(f"27: [read4 #5] the cue for {e.id} speaks of a sore {sore} the runner lacks")
            if "lower-back" in niggles and SPINE_LOAD.search(text):
                out.append(f"26: [read4 #5] the cue for {e.id} loads the spine with a lower-back niggle")

    # 6. Maintenance weeks keep every movement pattern the runner's normal weeks hold.
    kept = [s for w in plan.weeks if w.label == "Maintain" for s in w.sessions if s.kind != "light"]
    if kept and baseline is not None and not baseline.withheld:
        normal = {c for w in baseline.weeks if w.label in ("Build", "Peak") for s in w.sessions
                  if s.kind != "light" for e in s.exercises for c in patterns(e)}
        held = {c for s in kept for e in s.exercises for c in patterns(e)}
        lost = sorted(set(MAINTAINED) & normal - held)
        # a known limit: a one-session week as long as the runner's sessions get (its band, or a mileage cap)
        # may have no room for one more exercise, even at one set
        longest = max((s.minutes for w in baseline.weeks for s in w.sessions), default=0)
        full = all(s.minutes >= longest - FULL_MARGIN for s in kept)
        # a block whose first session is a light one (the day after the long run, 25) may keep later
        # maintenance weeks to what that held: nothing new (2)
        first_light = next((s.kind == "light" for s in sessions), False)
        if lost and not full and not first_light:
            out.append(f"2: [read4 #6] the maintenance weeks lose {lost} work the runner's normal weeks hold")

    return out
