"""The planner on concrete runners: scheduling, niggles, equipment, race weeks, taper, safety."""

from __future__ import annotations

import datetime as dt
import itertools
import json

import pytest

from bot.models import DAYS, Goal, Level, Profile
from bot.planner import block_start, choose_days, spread_down
from tests.conftest import START
from tests.plan_checks import is_light, read4_violations, violations

BASE = dict(weekly_km=50, level="intermediate", goals=["speed"], long_run_day="sun", hard_days=["tue", "thu"],
            equipment=["dumbbells", "box"])


def ids(plan):
    return {e.id for w in plan.weeks for s in w.sessions for e in s.exercises}


def test_block_starts_on_a_monday():
    """Plans start on the next Monday, or today when today is a Monday."""
    assert block_start(dt.date(2026, 11, 25)) == dt.date(2026, 11, 30)
    assert block_start(dt.date(2026, 11, 30)) == dt.date(2026, 11, 30)


def test_sessions_avoid_the_day_before_key_runs(planner):
    """With hard runs Tue/Thu and a Sunday long run, strength lands on free days, never Mon, Wed or Sat."""
    plan = planner.make_plan(Profile(**BASE), START)
    days = {s.day for w in plan.weeks for s in w.sessions}
    assert days and days.isdisjoint({"mon", "wed", "sat"})
    assert violations(plan, planner.catalog) == []


def test_heavy_session_goes_on_an_easy_day_when_there_is_one(planner):
    """A runner with a free Friday gets the heavy day (the 3-5 rep lift) on Friday, not on a hard-run day."""
    plan = planner.make_plan(Profile(**BASE), START)
    heavy_days = {s.day for s in plan.weeks[1].sessions
                  if any("heavy" in e.categories and e.max_reps <= 5 for e in s.exercises)}
    assert heavy_days == {"fri"}


def test_consecutive_days_are_never_used_even_across_weeks():
    """Sunday and the next Monday count as consecutive."""
    placed = choose_days(frozenset(), frozenset(), None, frozenset(), ((10.0, 5.0, False),) * 3)
    days = sorted(d for d, _ in placed)
    assert len(days) == 3
    for a, b in zip(days, [*days[1:], days[0] + 7], strict=True):
        assert b - a >= 2


def test_full_running_week_withholds_with_an_explanation(planner):
    """When every day is a key run or the day before one, the plan explains how to make room instead."""
    profile = Profile(**{**BASE, "hard_days": ["mon", "tue", "wed", "thu", "fri", "sat"], "long_run_day": "sun"})
    plan = planner.make_plan(profile, START)
    assert plan.withheld and "no day for strength" in plan.withheld_reason


def test_achilles_niggle_swaps_jumps_for_safe_work(planner):
    """With an Achilles niggle no jumps or bounding appear, and the trace says what was swapped and why."""
    plan = planner.make_plan(Profile(**{**BASE, "niggles": ["achilles"]}), START)
    assert ids(plan).isdisjoint({"box-jump", "depth-jump", "bounding", "pogo-hops", "squat-jump"})
    assert "isometric-calf-hold" in ids(plan)
    fit = next(t for t in plan.trace if t.rule_id == "safeguard-exercise-fit")
    assert any("Box jump ->" in c and "achilles" in c for c in fit.changes)
    assert any("Alfredson" in n for n in plan.notes) and "niggle-achilles" in plan.fired_rules


def test_no_equipment_means_bodyweight_everything(planner):
    """Without equipment, every exercise is one that needs none."""
    plan = planner.make_plan(Profile(**{**BASE, "equipment": []}), START)
    assert all(not planner.catalog.exercises[i].equipment for i in ids(plan))
    assert "box-squat" in ids(plan) or "bulgarian-split-squat" in ids(plan)


def test_beginner_gets_no_heavy_or_jumps_and_eight_plus_reps(planner):
    """Beginners: no heavy or plyometric work, and never fewer than 8 reps."""
    plan = planner.make_plan(Profile(**{**BASE, "level": "beginner", "goals": ["power", "speed"]}), START)
    for w in plan.weeks:
        for s in w.sessions:
            for e in s.exercises:
                assert "heavy" not in e.categories and "plyometric" not in e.categories
                assert e.unit != "reps" or e.min_reps >= 8


def test_build_block_progresses_then_deloads(planner):
    """A build block: weekly sets rise or hold and reps rise for three weeks, then week 4 drops, same exercises."""
    plan = planner.make_plan(Profile(**BASE), START)
    totals = [w.working_sets for w in plan.weeks]
    reps = [sum(e.sets * e.max_reps for s in w.sessions for e in s.exercises) for w in plan.weeks]
    assert totals[0] <= totals[1] <= totals[2] and totals[3] < totals[2]
    assert reps[0] < reps[1] < reps[2]
    assert [w.label for w in plan.weeks] == ["Introduce", "Build", "Peak", "Deload"]
    week3 = [e.id for s in plan.weeks[2].sessions for e in s.exercises]
    week4 = [e.id for s in plan.weeks[3].sessions for e in s.exercises]
    assert week3 == week4


def _hard_work_days(plan, race):
    """Days after the race (negative: before) of every session with heavy, jumping or eccentric work."""
    return sorted((s.date - race).days for w in plan.weeks for s in w.sessions
                  if s.categories & {"heavy", "plyometric", "eccentric"})


def test_race_in_week_three_gives_race_week_and_recovery(planner):
    """A race inside the block: maintenance before it, at most a short primer in its final week, then
    recovery by distance (COACHING.md 23, 24)."""
    race = START + dt.timedelta(days=7 * 2 + 5)  # Saturday of week 3
    plan = planner.make_plan(Profile(**{**BASE, "hard_days": ["wed"], "race_date": race,
                                        "race_distance": "half"}), START)
    assert [w.label for w in plan.weeks] == ["Maintain", "Maintain", "Race week", "Recover"]
    assert all(len([s for s in w.sessions if (race - s.date).days >= 7]) <= 1 for w in plan.weeks)
    final = [s for w in plan.weeks for s in w.sessions if 0 <= (race - s.date).days < 7]
    assert len(final) <= 1 and all(s.kind == "light" and 3 <= (race - s.date).days <= 4 for s in final)
    assert not [d for d in _hard_work_days(plan, race) if 0 < d <= 7]  # a half: a week's recovery
    assert plan.weeks[2].race_day == race
    assert violations(plan, planner.catalog) == []


def test_monday_race_gets_no_full_session_in_its_final_days(planner):
    """The issue's example: a Monday race; nothing heavy, no Nordics or box jumps in the final 7 days."""
    profile = Profile(weekly_km=60, level="intermediate", goals=["speed"], long_run_day="sun",
                      hard_days=["tue", "thu"], equipment=["gym"], race_date=dt.date(2027, 3, 8))
    plan = planner.make_plan(profile, dt.date(2027, 3, 1))
    final = [s for w in plan.weeks for s in w.sessions if 0 <= (profile.race_date - s.date).days < 7]
    assert len(final) <= 1
    for s in final:
        assert {e.id for e in s.exercises}.isdisjoint({"nordic-hamstring", "box-jump"})
        assert s.kind == "light" and len(s.exercises) <= 2


def test_recovery_after_a_race_depends_on_its_distance(planner):
    """A race the day before the block: a 5 km lets heavy work back after 3 days, a marathon after 14."""
    race = START - dt.timedelta(days=1)
    short = planner.make_plan(Profile(**{**BASE, "race_date": race, "race_distance": "5k"}), START)
    long = planner.make_plan(Profile(**{**BASE, "race_date": race, "race_distance": "marathon"}), START)
    assert min(_hard_work_days(short, race)) > 3
    assert min(_hard_work_days(long, race)) > 14
    assert min(_hard_work_days(short, race)) < min(_hard_work_days(long, race))
    unknown = planner.make_plan(Profile(**{**BASE, "race_date": race}), START)  # no distance: careful
    assert min(_hard_work_days(unknown, race)) > 14


def test_block_rebuilds_to_the_runners_sessions_after_an_early_race(planner):
    """A 10 km in week 1: after its recovery the runner's two sessions a week come back."""
    race = START + dt.timedelta(days=2)
    plan = planner.make_plan(Profile(**{**BASE, "race_date": race, "race_distance": "10k"}), START)
    assert [len(w.sessions) for w in plan.weeks][2:] == [2, 2]


def test_race_six_to_eight_weeks_out_keeps_a_full_build(planner):
    """Maintenance is only for the last ~4 weeks: a race 45-55 days out leaves weeks 1-3 at full sessions."""
    for days in (45, 55):
        plan = planner.make_plan(Profile(**{**BASE, "race_date": START + dt.timedelta(days=days)}), START)
        assert [len(w.sessions) for w in plan.weeks][:3] == [2, 2, 2]


def test_race_just_after_block_tapers_week_four(planner):
    """A race ten days after the block: week 4 is a taper at 40-60% of the block's peak week, lighter than week 3."""
    race = START + dt.timedelta(days=28 + 10)
    plan = planner.make_plan(Profile(**{**BASE, "race_date": race}), START)
    totals = [w.working_sets for w in plan.weeks]
    assert plan.weeks[3].label == "Taper"
    assert 0.4 * max(totals[:3]) <= totals[3] <= 0.6 * max(totals[:3])  # COACHING.md 6: of the peak week
    assert totals[3] < totals[2]  # a taper cuts
    assert [len(w.sessions) for w in plan.weeks] == [2, 2, 1, 1]  # maintenance in the last 4 weeks


def test_sharp_pain_withholds_and_points_to_a_professional(planner):
    """Sharp joint pain: no plan, and a clear message to see a professional."""
    plan = planner.make_plan(Profile(**{**BASE, "sharp_pain": True}), START)
    assert plan.withheld and plan.weeks == []
    assert "physio" in plan.withheld_reason and "safety-sharp-pain-withhold" in plan.fired_rules


def test_sharp_pain_without_the_withhold_rule_still_blocks_heavy_work(ruleset):
    """If moderators disable the withhold rule, the plan has no heavy work, no jumps and no progression."""
    from bot.engine import RuleSet
    from bot.planner import Planner

    rules = [r.model_copy(update={"enabled": False}) if r.id == "safety-sharp-pain-withhold" else r
             for r in ruleset.rules]
    plan = Planner(RuleSet(rules, ruleset.catalog)).make_plan(Profile(**{**BASE, "sharp_pain": True}), START)
    assert not plan.withheld and plan.progression == "hold"
    cats = {c for w in plan.weeks for s in w.sessions for e in s.exercises for c in e.categories}
    assert cats.isdisjoint({"heavy", "plyometric"})
    assert any("see a professional" in w for w in plan.warnings)


def test_runner_choice_of_days_is_honoured(planner):
    """A runner who asks for three strength days gets three (when the week has room)."""
    plan = planner.make_plan(Profile(**{**BASE, "days_per_week": 3, "hard_days": ["wed"]}), START)
    assert plan.sessions_per_week == 3
    assert "runner-strength-days" in plan.fired_rules


def test_session_minutes_stay_in_the_level_band(planner):
    """Advanced sessions stay within 40-50 minutes, beginners within 20-30, whatever the rules add."""
    for level, (low, high) in (("advanced", (40, 50)), ("beginner", (20, 30))):
        profile = Profile(**{**BASE, "level": level, "goals": ["speed", "endurance", "hills", "injury-resilience"],
                             "equipment": ["gym"]})
        plan = planner.make_plan(profile, START)
        assert all(low <= s.minutes <= high for w in plan.weeks for s in w.sessions)


def test_spread_down_keeps_every_exercise():
    """Deload cuts take sets from the biggest exercises first and never drop one below one set."""
    assert spread_down([5, 3, 2, 1], 6) == [2, 2, 1, 1]
    assert spread_down([1, 1], 1) == [1, 1]


def test_mobility_day_follows_the_long_run(planner):
    """The day after the long run is marked for light mobility."""
    plan = planner.make_plan(Profile(**BASE), START)
    assert all([m.day for m in w.mobility] == [DAYS[0]] for w in plan.weeks)


def _distinct(plans) -> int:
    return len({json.dumps([w.model_dump(mode="json") for w in p.weeks], sort_keys=True) for p in plans})


ONE_RUNNER = {"weekly_km": 45, "long_run_day": "sun", "hard_days": ["tue", "thu"], "equipment": ["gym"]}


@pytest.mark.parametrize("level", list(Level))
def test_goals_and_mileage_change_the_training(planner, level):
    """COACHING.md 30: six goals give at least four distinct plans; 20/60/160 km a week give three."""
    by_goal = [planner.make_plan(Profile(**ONE_RUNNER, level=level, goals=[goal]), START) for goal in Goal]
    by_km = [planner.make_plan(Profile(**{**ONE_RUNNER, "weekly_km": km}, level=level, goals=["general"]), START)
             for km in (20, 60, 160)]
    assert _distinct(by_goal) >= 4
    assert _distinct(by_km) == 3


def test_classic_week_puts_the_heavy_squat_on_the_free_friday(planner):
    """Hard Tue/Thu, long run Sun, full gym: the heavy session keeps its back squat on Friday; Monday stays
    for mobility; jumps are never done after a quality run (COACHING.md 25)."""
    profile = Profile(weekly_km=60, level="advanced", goals=["speed"], long_run_day="sun", hard_days=["tue", "thu"],
                      equipment=["gym"])
    plan = planner.make_plan(profile, dt.date(2027, 3, 1))
    week = plan.weeks[1]
    heavy = [s for s in week.sessions if "heavy" in s.categories and not s.after_run]
    assert [s.day for s in heavy] == ["fri"] and "back-squat" in {e.id for e in heavy[0].exercises}
    assert "mon" not in {s.day for w in plan.weeks for s in w.sessions}
    assert {m.day for m in week.mobility} == {"mon"}
    for s in (s for w in plan.weeks for s in w.sessions if s.after_run):
        assert "plyometric" not in s.categories


def test_heavy_session_forced_onto_a_hard_day_keeps_the_lift_and_drops_the_jumps(planner):
    """Only hard-run days free: the heavy lift stays (after the run), the jumps go, the label says so."""
    profile = Profile(weekly_km=60, level="advanced", goals=["general"], hard_days=["mon", "wed", "fri"],
                      long_run_day="sun", equipment=["gym"], days_per_week=1)
    plan = planner.make_plan(profile, dt.date(2027, 3, 1))
    session = plan.weeks[1].sessions[0]
    assert session.after_run and "heavy" in session.categories and "plyometric" not in session.categories
    assert "power" not in session.focus.lower() and session.kind == "strength"


def test_knee_niggle_holds_across_the_plan(planner):
    """Knee: no jumps anywhere (the coverage safeguard never adds them back), no reverse lunges (COACHING.md 26)."""
    for level in Level:
        plan = planner.make_plan(Profile(**{**BASE, "level": level, "niggles": ["knee"], "equipment": ["gym"]}),
                                 START)
        sessions = [s for w in plan.weeks for s in w.sessions]
        assert sessions and all("plyometric" not in s.categories for s in sessions)
        assert "reverse-lunge" not in ids(plan)


def test_hamstring_and_achilles_warm_ups_have_no_strides_or_bouncy_drills(planner):
    """The warm-up obeys the niggle too: strides and A-skips give way to calmer items."""
    for niggle in ("hamstring", "achilles"):
        plan = planner.make_plan(Profile(**{**BASE, "level": "advanced", "niggles": [niggle]}), START)
        warm = {i.id for w in plan.weeks for s in w.sessions for i in s.warm_up}
        assert warm and warm.isdisjoint({"strides", "running-drills"})


def test_holds_are_dosed_in_seconds_never_a_copied_rep_count(planner):
    """A hold swapped in for a rep exercise (calf: isometric hold for calf raises) is 20-45 s."""
    plan = planner.make_plan(Profile(**{**BASE, "level": "beginner", "niggles": ["calf", "hamstring"]}), START)
    holds = [e for w in plan.weeks for s in w.sessions for e in s.exercises if e.unit == "seconds"]
    assert holds and all(20 <= e.min_reps <= e.max_reps <= 45 for e in holds)
    calf = [{e.id for s in w.sessions for e in s.exercises if "calf" in e.categories} for w in plan.weeks]
    # the tendon path (COACHING.md 26, 30): holds first, slow lowering from week 3, no eccentric drops yet
    assert calf[0] == calf[1] == {"isometric-calf-hold"}
    assert "calf-raise-slow" in calf[2] and "eccentric-calf-lower" not in set().union(*calf)


def test_minutes_shown_cover_the_sets_reps_tempo_and_rest(planner):
    """COACHING.md 28: the shown minutes are at least warm-up + cool-down + the sets' real time."""
    from tests.plan_checks import work_minutes

    for level in Level:
        plan = planner.make_plan(Profile(**{**BASE, "level": level}), START)
        for s in (s for w in plan.weeks for s in w.sessions):
            assert s.minutes >= work_minutes(s, planner.catalog, plan.template) - 0.5


def test_double_progression_with_a_starting_load(planner):
    """COACHING.md 29: reps climb week to week within the range (beginners too), a starting load by feel comes
    with each loaded lift the first time, and intermediates get a heavy 3-5 rep day."""
    beginner = planner.make_plan(Profile(**{**BASE, "level": "beginner"}), START)
    squat = [next(e for s in w.sessions for e in s.exercises if e.id == "goblet-squat") for w in beginner.weeks]
    assert [e.max_reps for e in squat[:3]] == [8, 9, 10]
    assert "could lift about 11-12 times, for sets of 8" in squat[0].load and not squat[1].load
    volume = [sum(e.sets * e.max_reps for s in w.sessions for e in s.exercises) for w in beginner.weeks[:3]]
    assert volume[0] < volume[1] < volume[2]
    intermediate = planner.make_plan(Profile(**BASE), START)
    assert any("heavy" in e.categories and 3 <= e.min_reps <= e.max_reps <= 5
               for w in intermediate.weeks for s in w.sessions for e in s.exercises)


def test_a_note_the_plan_does_not_keep_is_left_out_and_explained(planner):
    """COACHING.md 27: a knee niggle takes the jumps, so the speed note (heavy lifting plus jumps) is not shown,
    and "why this plan" says so; the knee note itself is true and stays."""
    plan = planner.make_plan(Profile(**{**BASE, "niggles": ["knee"], "equipment": ["gym"]}), START)
    assert not any("springy jumps" in note for note in plan.notes)
    assert any(note.startswith("Knee:") for note in plan.notes)
    guard = next(t for t in plan.trace if t.rule_id == "safeguard-true-notes")
    assert any("goal-speed" in change and "plyometric" in change for change in guard.changes)


# ---- defects from a coach's read of generated plans (issue 11), fixed

# An advanced marathoner with a full gym, race four weeks after the block starts (the coach's plan 3).
MARATHONER = Profile(weekly_km=100, level="advanced", goals=["endurance"], long_run_day="sun", hard_days=["tue", "thu"],
                     equipment=["gym"], race_date=dt.date(2027, 3, 28), race_distance="marathon")


def test_a_maintenance_week_introduces_nothing_new(planner):
    """In the weeks before a key race (maintenance), every exercise was already done earlier in the block."""
    plan = planner.make_plan(MARATHONER, dt.date(2027, 3, 1))
    seen: set[str] = set()
    new_in_maintenance = []
    for number, week in enumerate(plan.weeks):
        names = {item.id for session in week.sessions for item in session.exercises}
        if number and week.label == "Maintain":
            new_in_maintenance += sorted(names - seen)
        seen |= names
    assert new_in_maintenance == []


def test_an_advanced_lifter_with_a_gym_gets_a_heavy_low_rep_lift(planner):
    """COACHING.md 29: the heavy day (3-5 reps) for an advanced runner with a gym, race block or not."""
    plan = planner.make_plan(MARATHONER, dt.date(2027, 3, 1))
    assert any(item.max_reps <= 5 and "heavy" in item.categories
               for week in plan.weeks for session in week.sessions for item in session.exercises)


# ---- the coach's ten profiles (bench/coach_previews.sh), one defect class each
COACH_START = dt.date(2027, 3, 1)
CLASSIC = dict(long_run_day="sun", hard_days=["tue", "thu"])


def _sessions(plan):
    return [s for w in plan.weeks for s in w.sessions]


def test_heavy_means_a_lift_of_five_or_fewer_and_dumbbells_give_one(planner):
    """Class 1: 'heavy' labels hold a heavy lift of 3-5 reps; a split squat for 6-8 is not heavy; with only
    dumbbells the heavy day is a split squat loaded for 3-5."""
    plan = planner.make_plan(Profile(**BASE), START)
    for s in _sessions(plan):
        heavy = [e for e in s.exercises if "heavy" in e.categories]
        assert all(e.max_reps <= 5 for e in heavy)
        assert ("heavy" in s.focus.lower()) <= bool(heavy)
    assert "heavy-split-squat" in ids(plan)
    assert all("heavy" not in e.categories for s in _sessions(plan) for e in s.exercises
               if e.id == "bulgarian-split-squat")


def test_the_race_week_holds_the_primer_and_race_day_has_no_mobility_slot(planner):
    """Class 3: a Monday race: the week before is the race week (its primer a familiar main lift, jumps first),
    the race's own week is recovery, and race day carries no mobility slot."""
    profile = Profile(weekly_km=60, level="intermediate", goals=["speed"], equipment=["gym"], **CLASSIC,
                      race_date=dt.date(2027, 3, 15), race_distance="10k")
    plan = planner.make_plan(profile, COACH_START)
    labels = [w.label for w in plan.weeks]
    assert labels[1] == "Race week" and labels[2].startswith("Recover")  # 3 days of recovery, then a rebuild
    primer = next(s for s in plan.weeks[1].sessions if s.focus.startswith("Race primer"))
    lifts = [e for e in primer.exercises if "plyometric" not in e.categories]
    assert lifts and {"heavy", "strength", "single-leg"} & set(lifts[0].categories)
    assert all(m.date != profile.race_date for w in plan.weeks for m in w.mobility)


def test_power_gets_contrast_pairs_with_jumps_fresh(planner):
    """Class 4: a power goal pairs the heavy lift with jumps straight after it; jumps never follow other work."""
    plan = planner.make_plan(Profile(weekly_km=45, level="intermediate", goals=["power"], long_run_day="sun",
                                     hard_days=["tue"], equipment=["gym"]), COACH_START)
    pairs = [(a.id, b.id) for s in _sessions(plan) for a, b in itertools.pairwise(s.exercises)
             if "heavy" in a.categories and a.max_reps <= 5 and "plyometric" in b.categories]
    assert pairs
    for s in _sessions(plan):
        kinds = ["jump" if "plyometric" in e.categories else "heavy" if "heavy" in e.categories else "other"
                 for e in s.exercises]
        assert "other" not in kinds[:max((i for i, k in enumerate(kinds) if k == "jump"), default=-1)]


def test_fewer_sessions_than_asked_is_said_on_the_plan(planner):
    """Class 5: three days asked, room for two: a note on the plan says so and why."""
    plan = planner.make_plan(Profile(weekly_km=60, level="intermediate", goals=["general"], days_per_week=3,
                                     equipment=["dumbbells"], **CLASSIC), COACH_START)
    assert plan.sessions_per_week == 2
    assert any("asked for 3" in note and "has 2" in note for note in plan.notes)


@pytest.mark.parametrize(("niggle", "word"), [("knee", "lunge"), ("hamstring", "swing"), ("hamstring", "sweep")])
def test_warm_ups_obey_niggles_and_sets_rise_smoothly(planner, niggle, word):
    """Class 6: no walking lunges with a knee niggle, no swings or sweeps with a hamstring one; building
    weeks add at most about 30 % working sets."""
    for level in ("beginner", "intermediate", "advanced"):
        plan = planner.make_plan(Profile(weekly_km=60, level=level, goals=["speed"], equipment=["gym"],
                                         niggles=[niggle], **CLASSIC), COACH_START)
        assert not [i.name for s in _sessions(plan) for i in s.warm_up if word in i.name.lower()]
        sets = [w.working_sets for w in plan.weeks[:3]]
        assert all(b <= -(-a * 13 // 10) for a, b in itertools.pairwise(sets))


def test_load_by_feel_follows_reps_and_effort_and_the_kit(planner):
    """Class 7: a band exercise gets a band, never a weight; the load follows reps + reps in reserve."""
    plan = planner.make_plan(Profile(weekly_km=35, level="intermediate", goals=["general"], equipment=["bands"],
                                     **CLASSIC), COACH_START)
    band = next(e for s in _sessions(plan) for e in s.exercises if e.id == "banded-lateral-walk" and e.load)
    assert "band" in band.load and "weight" not in band.load
    gym = planner.make_plan(Profile(**BASE), START)
    for e in (e for s in _sessions(gym) for e in s.exercises if e.load):
        low, high = e.min_reps + e.rir_min, e.max_reps + e.rir_max
        assert f"about {low if low == high else f'{low}-{high}'} times" in e.load


def test_nothing_fast_in_the_recovery_after_an_ultra(planner):
    """Class 8: after an ultra, recovery sessions have no strides or running drills in their warm-up."""
    profile = Profile(weekly_km=90, level="advanced", goals=["endurance"], long_run_day="sat", hard_days=["wed"],
                      equipment=["gym"], race_date=dt.date(2027, 3, 13), race_distance="ultra")
    plan = planner.make_plan(profile, COACH_START)
    recovery = [s for s in _sessions(plan) if 0 < (s.date - profile.race_date).days <= 14]
    assert recovery
    assert not [i.id for s in recovery for i in s.warm_up if i.id in ("strides", "running-drills")]


@pytest.mark.parametrize("extra", [
    dict(weekly_km=160, level="advanced", goals=["power"], long_run_day="sat", hard_days=["tue", "wed"],
         equipment=["gym"], days_per_week=3),
    dict(weekly_km=160, level="advanced", goals=["endurance"], long_run_day="sat", hard_days=["wed"],
         equipment=["gym"], race_date=START + dt.timedelta(days=37), race_distance="ultra"),
    dict(weekly_km=40, level="intermediate", goals=["injury-resilience", "power"], long_run_day="sun",
         hard_days=["wed"], equipment=["dumbbells", "bands", "box"], days_per_week=3),
])
def test_the_day_after_the_long_run_holds_no_jumps_heavy_or_eccentric_work(planner, extra):
    """COACHING.md 25, 27: a session the day after the long run is light, as the note says: no jumps, heavy
    lifts or slow lowering, a few easy sets; a race's one-session weeks keep off that day when they can."""
    plan = planner.make_plan(Profile(**extra), START)
    after_long = DAYS[(DAYS.index(extra["long_run_day"]) + 1) % 7]
    there = [s for w in plan.weeks for s in w.sessions if s.day == after_long]
    assert bool(there) == ("race_date" not in extra)  # two or three sessions need that day; one does not
    for s in there:
        assert not s.categories & {"heavy", "plyometric", "eccentric"}, (s.date, s.categories)
        assert is_light(s) and "kept light" in s.focus, (s.date, s.kind, s.working_sets)


def test_niggle_swaps_suit_every_niggle_and_the_niggles_own_work_stays_easy(planner):
    """COACHING.md 18, 26: a knee niggle keeps split squats out all block; a hamstring hold stays at RPE 7 or less."""
    knee = planner.make_plan(Profile(weekly_km=35, level="beginner", goals=["endurance"], long_run_day="sat",
                                     hard_days=["thu"], equipment=["kettlebell"], days_per_week=3,
                                     niggles=["knee", "achilles"]), START)
    assert ids(knee) and not ids(knee) & {"reverse-lunge", "split-squat", "bulgarian-split-squat"}
    hip = planner.make_plan(Profile(weekly_km=90, level="advanced", goals=["speed"], long_run_day="sun",
                                    hard_days=["tue", "thu"], equipment=["barbell", "box"], niggles=["it-band", "hip"]),
                            START)
    assert ids(hip) and not ids(hip) & {"back-squat", "front-squat", "bulgarian-split-squat"}
    ham = planner.make_plan(Profile(weekly_km=50, level="intermediate", goals=["hills"], long_run_day="wed",
                                    hard_days=["fri"], equipment=["kettlebell"], niggles=["hamstring"]), START)
    holds = [e for w in ham.weeks for s in w.sessions for e in s.exercises if e.id == "hamstring-bridge-hold"]
    assert holds and all(e.rir_min >= 3 for e in holds)


# The second coach's read (issue 11, 2026-12-02): its profiles, each class of defect it found.
def _coach(**extra):
    return Profile(**{"weekly_km": 60, "goals": ["speed"], "long_run_day": "sun", "hard_days": ["tue", "thu"],
                      "equipment": ["gym"], **extra})


def _why(plan) -> list[str]:
    return [c for t in plan.trace for c in t.changes]


def test_goal_jumps_move_to_a_fresh_day_and_why_says_what_the_plan_holds(planner):
    """08: power and speed with the only free days Thu and the day after the long run: the goal's squat jumps
    and pogo hops go to Thursday with the heavy squat, and every Why line is true (COACHING.md 25, 27, 30)."""
    plan = planner.make_plan(_coach(weekly_km=80, level="advanced", goals=["power", "speed"], long_run_day="sat",
                                    hard_days=["tue", "wed"], days_per_week=3), START)
    thursday = [s for w in plan.weeks for s in w.sessions if s.day == "thu"]
    assert thursday and all({"squat-jump", "pogo-hops"} <= {e.id for e in s.exercises} for s in thursday
                            if s.kind != "light")
    assert "add squat-jump (2 x 5)" in _why(plan) and "add pogo-hops (2 x 15)" in _why(plan)
    sunday = [s for w in plan.weeks for s in w.sessions if s.day == "sun"]
    assert sunday and all(is_light(s) and "kept light" in s.focus for s in sunday)
    assert read4_violations(plan, planner.catalog) == []


def test_why_of_a_one_session_race_block_describes_that_block(planner):
    """02: a marathon in week 4: Why says the weeks hold one session, how they run, and names no session B."""
    plan = planner.make_plan(_coach(weekly_km=110, level="advanced", race_date=START + dt.timedelta(days=26),
                                    race_distance="marathon"), START)
    why = _why(plan)
    assert "2 strength session(s) a week; the weeks hold 1, 1, 1 and 1" in why
    assert any(c.startswith("'build' progression; the weeks run maintain") for c in why)
    assert not [c for c in why if "session B" in c or "session C" in c]
    pogo = [c for c in why if c.startswith("add pogo-hops")]
    assert pogo and ("pogo-hops" in ids(plan)) == (pogo[0] == "add pogo-hops (2 x 15)")
    assert read4_violations(plan, planner.catalog) == []


def test_no_deload_heavier_than_the_week_before_after_a_race(planner):
    """03: a half in week 2 leaves a light recovery week 3; week 4 rebuilds rather than 'deloading' above it."""
    plan = planner.make_plan(_coach(weekly_km=45, level="intermediate", goals=["hills"], long_run_day="sat",
                                    hard_days=["tue"], equipment=["dumbbells"], niggles=["knee"],
                                    race_date=START + dt.timedelta(days=12), race_distance="half"), START)
    totals = [w.working_sets for w in plan.weeks]
    assert plan.weeks[3].label == "Rebuild" and totals[3] > totals[2]
    assert all(w.working_sets < v.working_sets for v, w in itertools.pairwise(plan.weeks)
               if w.label in ("Deload", "Ease off"))


@pytest.mark.parametrize(("kit", "niggles", "banned"), [
    (["kettlebell"], ["calf"], "dumbbell"), (["barbell", "box"], [], "dumbbell"),
    (["none"], ["hip", "lower-back"], "backpack"), (["gym"], [], "sore hamstring")])
def test_cues_fit_the_runners_kit_and_niggles(planner, kit, niggles, banned):
    """09, 05, 12, 08: no dumbbells for a kettlebell or barbell owner, no backpack with a sore back, no sore
    hamstring without one (COACHING.md 26, 27)."""
    for level in Level:
        plan = planner.make_plan(_coach(level=level, equipment=[] if kit == ["none"] else kit, niggles=niggles,
                                        goals=["endurance"]), START)
        text = " ".join(f"{e.cue} {e.load}" for w in plan.weeks for s in w.sessions for e in s.exercises).lower()
        assert banned not in text, (level, kit)
        assert banned not in " ".join(plan.notes).lower()


def test_maintenance_weeks_keep_every_movement_pattern(planner):
    """04: an ultra in week 3: the one maintenance session keeps hinge work from session B, not just session A."""
    plan = planner.make_plan(_coach(weekly_km=90, level="intermediate", long_run_day="sun", hard_days=["tue"],
                                    race_date=START + dt.timedelta(days=33), race_distance="ultra"), START)
    maintain = [s for w in plan.weeks if w.label == "Maintain" for s in w.sessions]
    assert maintain
    trains = {t for s in maintain for e in s.exercises for t in planner.catalog.exercises[e.id].trains()}
    assert {"squat", "single-leg", "hinge", "calf", "hip", "core"} <= trains
    assert any(c.startswith("session A takes") for c in _why(plan))


def test_a_taper_is_40_to_60_percent_of_the_peak_week(planner):
    """11: a 10k a week after the block: the taper is 40-60 % of the block's biggest week, not of maintenance."""
    plan = planner.make_plan(_coach(weekly_km=90, level="advanced", race_date=START + dt.timedelta(days=34),
                                    race_distance="10k"), START)
    totals = [w.working_sets for w in plan.weeks]
    assert plan.weeks[3].label == "Taper"
    assert 0.4 * max(totals[:3]) <= totals[3] <= 0.6 * max(totals[:3]), totals


def test_a_session_after_the_race_in_race_week_is_not_held_to_nothing_new(planner):
    """Found by the race property test: a block that starts in race week has only its primer before the race,
    and the race week counts as a maintenance week; the session after the race (past the recovery days)
    rebuilds with single-leg work instead of keeping only the primer's lift (COACHING.md 14, 23)."""
    profile = Profile(weekly_km=0, level=Level.INTERMEDIATE, goals=[Goal.SPEED], hard_days=["mon", "tue", "wed"],
                      equipment=[], niggles=["achilles", "knee"], race_date=START + dt.timedelta(days=8),
                      race_distance="5k")
    plan = planner.make_plan(profile, START)
    after = [s for s in plan.weeks[1].sessions if s.date > profile.race_date]
    assert after and len(after[0].exercises) > 1
    assert violations(plan, planner.catalog) == []
