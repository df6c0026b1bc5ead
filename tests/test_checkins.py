"""Check-in validation: impossible values and wrong sessions get a clear message and nothing is made."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.checkins import CheckIn, CheckInError, load_checkins, make_checkin, plan_id
from bot.models import Plan, Profile

NOW = dt.datetime(2026, 12, 3, 20, 0)


@pytest.fixture(scope="module")
def plan(coach):
    profile = Profile(weekly_km=40, level="beginner", goals=["general"], days_per_week=2, long_run_day="sun",
                      equipment=["dumbbells"])
    return coach.plan(profile, dt.date(2026, 11, 23))


@pytest.mark.parametrize(("fields", "says"), [
    ({"pain": 15}, "Pain (15) isn't possible. Pain is 0-10"),
    ({"exercises": [{"exercise": "goblet-squat", "reps": 400}]}, "Reps (400) isn't possible. Reps are 0-100"),
    ({"exercises": [{"exercise": "goblet-squat", "load_kg": 900}]}, "A load is 0-500 kg"),
    ({"status": "meh"}, "A session is done, partly done or skipped"),
    ({"pain_where": "elbow"}, "Where it hurt ('elbow') isn't possible. Where it hurt is one of: achilles"),
    ({"weekly_km": 900}, "Weekly mileage is 0-250 km"),
    ({"colour": "red"}, "'colour' isn't something a check-in holds"),
])
def test_impossible_values_say_what_is_accepted(plan, fields, says):
    """Each impossible value names what was wrong and what is accepted."""
    with pytest.raises(CheckInError) as error:
        make_checkin(plan, NOW, session=dt.date(2026, 12, 1), **fields)
    assert says in str(error.value)


def test_wrong_sessions_and_plans_are_refused_politely(plan, coach):
    """A future date, a day without a session, a session's missing exercise, a replaced plan, no plan at all."""
    cases = {
        dt.date(2026, 12, 8): "still ahead",
        dt.date(2026, 12, 2): "no strength session on Wednesday 2 December",
    }
    for day, says in cases.items():
        with pytest.raises(CheckInError, match=says):
            make_checkin(plan, NOW, session=day, status="done")
    with pytest.raises(CheckInError, match="That session has no nordic-hamstring"):
        make_checkin(plan, NOW, session=dt.date(2026, 12, 1), exercises=[{"exercise": "nordic-hamstring"}])
    old = make_checkin(plan, NOW, session=dt.date(2026, 12, 1), status="done")
    newer = coach.plan(plan.profile.model_copy(update={"weekly_km": 60}), dt.date(2026, 11, 23))
    with pytest.raises(CheckInError, match="replaced"):
        make_checkin(newer, NOW, **old.model_dump(exclude={"logged_at"}))
    with pytest.raises(CheckInError, match="don't have a plan"):
        make_checkin(None, NOW, session=dt.date(2026, 12, 1))


def test_a_valid_checkin_round_trips_through_storage_values(plan):
    """A check-in is stored as JSON values and loads back equal; a stored one that no longer validates is skipped."""
    made = make_checkin(plan, NOW, session=dt.date(2026, 12, 1), status="partly", pain=4, pain_where="knee",
                        lingering=True, exercises=[{"exercise": "goblet-squat", "reps": 8, "load_kg": 11.3,
                                                    "load_unit": "lb"}], source="chat")
    assert made.plan_id == plan_id(plan)
    stored = [made.model_dump(mode="json"), {"plan_id": "x", "pain": 99}]
    assert load_checkins(stored) == [made]
    assert CheckIn.model_validate(stored[0]) == made


def test_a_plan_has_one_identity_fresh_or_read_back(coach):
    """plan_id of a plan fresh from the planner equals that of the same plan read back from storage's JSON,
    and differs for another plan (a check-in must match the stored plan it was made against)."""
    made = coach.plan(Profile(weekly_km=55, level="advanced", goals=["power"], equipment=["gym"], niggles=["knee"]),
                      dt.date(2027, 3, 1))
    other = coach.plan(Profile(weekly_km=55, level="advanced", goals=["speed"], equipment=["gym"]), dt.date(2027, 3, 1))
    assert plan_id(made) == plan_id(Plan.model_validate_json(made.model_dump_json()))
    assert plan_id(made) != plan_id(other)
