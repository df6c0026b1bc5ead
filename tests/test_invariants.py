"""Property tests: for every valid profile, the plan holds COACHING.md's invariants and fits Discord."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.models import DAYS, Equipment, Goal, Level, Niggle, Plan, Profile, RaceDistance
from bot.text import CONTENT_LIMIT, embed_problems
from tests.conftest import START
from tests.plan_checks import HEAVY_KIT, coaching_violations, mileage_violations, missing_categories, violations

ANY_PAIN = st.booleans()
ANY_NIGGLES = st.lists(st.sampled_from(list(Niggle)), max_size=3)


def profiles(sharp_pain: st.SearchStrategy = ANY_PAIN, niggles: st.SearchStrategy = ANY_NIGGLES) -> st.SearchStrategy:
    return st.builds(
        Profile,
        weekly_km=st.floats(min_value=0, max_value=250, allow_nan=False),
        unit=st.sampled_from(["km", "mi"]),
        level=st.sampled_from(list(Level)),
        goals=st.lists(st.sampled_from(list(Goal)), min_size=1, max_size=3),
        days_per_week=st.none() | st.integers(1, 3),
        long_run_day=st.none() | st.sampled_from(DAYS),
        hard_days=st.lists(st.sampled_from(DAYS), max_size=3),
        equipment=st.lists(st.sampled_from(list(Equipment)), max_size=4),
        niggles=niggles,
        sharp_pain=sharp_pain,
        race_date=st.none() | st.integers(-10, 120).map(lambda d: START + dt.timedelta(days=d)),
    )


@given(profile=profiles())
def test_every_plan_holds_the_invariants(planner, profile):
    """Any valid profile gives a plan that breaks none of COACHING.md's invariants."""
    plan = planner.make_plan(profile, START)
    assert violations(plan, planner.catalog) == []


@given(profile=profiles(sharp_pain=st.just(False), niggles=st.just([])))
def test_block_covers_the_levels_categories(planner, profile):
    """Without niggles or pain, a block covers every category of the level (heavy needs an easy day)."""
    plan = planner.make_plan(profile, START)
    if plan.withheld or (profile.race_date and -10 <= (profile.race_date - START).days < 42):
        return  # a race-shaped block keeps to maintenance, primer and recovery: nothing new (23, 24)
    missing = missing_categories(plan)
    sessions = [s for w in plan.weeks for s in w.sessions if s.kind != "light"]
    after_long = DAYS[(DAYS.index(profile.long_run_day) + 1) % 7] if profile.long_run_day else None
    if sessions and all(s.after_run or s.day == after_long for s in sessions):
        missing -= {"heavy", "plyometric"}  # only key-run days and the day after the long run: jumps wait (12, 25)
    if not HEAVY_KIT & profile.available_equipment():
        missing -= {"heavy"}  # a heavy lift is one loaded for 3-5 reps: it needs weights (29)
    assert missing == set()


@given(profile=profiles())
def test_every_page_fits_discord(coach, profile):
    """Every rendered page fits one embed, the why-trace fits a description, overview text fits a message."""
    plan = coach.plan(profile, START)
    for page in [*coach.renderer.pages(plan), coach.renderer.why_embed(plan)]:
        assert embed_problems(page) == []
    assert len(coach.renderer.overview_text(plan)) <= CONTENT_LIMIT * 2  # console only; Discord uses the embed


@given(profile=profiles())
def test_every_plan_passes_full_validation(planner, profile):
    """Plans are assembled without re-validation for speed; every one must survive full validation unchanged."""
    plan = planner.make_plan(profile, START)
    assert Plan.model_validate(plan.to_json()).to_json() == plan.to_json()


@settings(max_examples=50)
@given(profile=profiles())
def test_plans_are_deterministic(planner, profile):
    """The same profile and rule set give the same plan, recording the rule set's version."""
    first, second = planner.make_plan(profile, START), planner.make_plan(profile, START)
    assert first.to_json() == second.to_json()
    assert first.rules_version == planner.ruleset.version


# COACHING.md 23-30. Races from 10 days before the block to 70 days after its start, every distance,
# every niggle and pair of niggles, every hard-day pattern.
RACE_PROFILES = st.builds(
    Profile,
    weekly_km=st.sampled_from([0.0, 20.0, 45.0, 60.0, 95.0, 160.0]) | st.floats(0, 250, allow_nan=False),
    level=st.sampled_from(list(Level)),
    goals=st.lists(st.sampled_from(list(Goal)), min_size=1, max_size=3),
    days_per_week=st.none() | st.integers(1, 3),
    long_run_day=st.none() | st.sampled_from(DAYS),
    hard_days=st.sets(st.sampled_from(DAYS), max_size=3).map(sorted),
    equipment=st.lists(st.sampled_from(list(Equipment)), max_size=4),
    niggles=st.lists(st.sampled_from(list(Niggle)), max_size=2, unique=True),
    race_date=st.none() | st.integers(-10, 70).map(lambda d: START + dt.timedelta(days=d)),
    race_distance=st.none() | st.sampled_from(list(RaceDistance)),
)
@pytest.mark.parametrize("number", range(23, 31))
@settings(max_examples=60)
@given(profile=RACE_PROFILES)
def test_plans_hold_invariants_23_to_30(planner, profile, number):
    """Each of COACHING.md 23-30 holds for any runner (the checks in tests/plan_checks.py)."""
    plan = planner.make_plan(profile, START)
    baseline = planner.make_plan(profile.model_copy(update={"race_date": None, "race_distance": None}), START)
    found = coaching_violations(plan, planner.catalog, baseline)
    if number == 30:
        found += mileage_violations(plan, planner.make_plan(profile.model_copy(update={"weekly_km": 20.0}), START))
    broken = [v for v in found if v.startswith(f"{number}:")]
    assert broken == []


@settings(max_examples=60)
@given(profile=RACE_PROFILES)
def test_race_profiles_hold_invariants_1_to_22(planner, profile):
    """Races by days and distance keep every earlier invariant too."""
    assert violations(planner.make_plan(profile, START), planner.catalog) == []


@pytest.mark.parametrize("number", [1, 2, 3, 4, 5, 7])
@settings(max_examples=40)
@given(profile=RACE_PROFILES)
def test_plans_hold_the_second_coach_read(planner, profile, number):
    """The classes of the second coach's read (issue 11, tests/plan_checks.py read4_violations) hold for any
    runner. (Class 6, movement patterns in maintenance weeks, has a known limit: bench/plan_violations.py.)"""
    plan = planner.make_plan(profile, START)
    baseline = planner.make_plan(profile.model_copy(update={"race_date": None, "race_distance": None}), START)
    found = coaching_violations(plan, planner.catalog, baseline) + violations(plan, planner.catalog)
    assert [v for v in found if f"[read4 #{number}]" in v] == []
