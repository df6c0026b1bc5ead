"""Adaptation through the core: check-ins change only the sessions after today, keep every invariant, and say why."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.adapt import adapt, load_adaptation, new_changes, next_block, ready_to_level_up, summarise
from bot.checkins import CheckIn, ExerciseLog, make_checkin, plan_id
from bot.models import Level, Niggle, Plan, Profile
from bot.yamlio import DataFileError
from tests.conftest import START
from tests.plan_checks import coaching_violations, violations
from tests.test_invariants import profiles

TUE_THU = Profile(weekly_km=40, level="beginner", goals=["general"], days_per_week=2, long_run_day="sun",
                  equipment=["dumbbells"])
EVENING = dt.time(19, 0)


@pytest.fixture(scope="module")
def plan(coach) -> Plan:
    made = coach.plan(TUE_THU, dt.date(2026, 11, 23))
    assert [s.day for s in made.weeks[0].sessions] == ["tue", "thu"]
    return made


def at(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, EVENING)


def checkin(plan: Plan, day: dt.date | None, logged: dt.date | None = None, **fields) -> CheckIn:
    return make_checkin(plan, at(logged or day or dt.date(2026, 12, 3)), session=day, **fields)


def sessions(plan: Plan) -> dict[dt.date, object]:
    return {s.date: s for w in plan.weeks for s in w.sessions}


def item(plan: Plan, day: dt.date, ex_id: str):
    return next(e for e in sessions(plan)[day].exercises if e.id == ex_id)


def check_lines(plan: Plan) -> list[str]:
    return [c for e in plan.trace if e.rule_id.startswith("check-in") for c in e.changes]


def test_no_checkins_leave_the_plan_as_made(plan):
    """Without check-ins (or with another plan's) the plan comes back as made."""
    assert adapt(plan, [], dt.date(2026, 12, 3)) is plan
    other = CheckIn(plan_id="another", session=dt.date(2026, 12, 1), logged_at=at(dt.date(2026, 12, 1)),
                    status="skipped")
    assert adapt(plan, [other], dt.date(2026, 12, 3)) is plan


def test_top_of_the_range_at_target_effort_adds_load_in_the_members_numbers(plan):
    """Every set at the top of the range, effort on target: about 5 % more, shown in the kg they logged."""
    week3 = dt.date(2026, 12, 8)
    done = checkin(plan, week3, status="done", exercises=[{"exercise": "goblet-squat", "reps": 10, "rir": 2,
                                                           "load_kg": 16}])
    adapted = adapt(plan, [done], week3)
    assert item(adapted, dt.date(2026, 12, 15), "goblet-squat").load == "about 17 kg"  # 16.8 to the 0.5 kg step
    assert any("load goes up about 5%" in line for line in check_lines(adapted))
    entry = next(e for e in adapted.trace if e.rule_id == "check-in-progression")
    assert entry.status == "applied" and len(entry.changes) == 1


def test_felt_easy_moves_faster_than_a_grind(plan):
    """'Felt easy' with every rep done puts the next sessions a rep ahead; a grind holds the reps."""
    thu, next_thu = dt.date(2026, 11, 26), dt.date(2026, 12, 3)
    easy = adapt(plan, [checkin(plan, thu, status="done", exercises=[{"exercise": "step-up", "feel": "easy"}])], thu)
    grind = adapt(plan, [checkin(plan, thu, status="done", exercises=[{"exercise": "step-up", "feel": "hard"}])], thu)
    planned = item(plan, next_thu, "step-up").max_reps
    assert item(easy, next_thu, "step-up").max_reps == planned + 1
    assert sessions(easy)[next_thu].minutes >= sessions(plan)[next_thu].minutes  # the extra reps take time
    assert item(grind, next_thu, "step-up").max_reps == item(plan, thu, "step-up").max_reps < planned


def test_extra_reps_that_do_not_fit_the_minutes_wait(coach):
    """A session already at the top of the level's minutes keeps the plan's reps (COACHING.md 28)."""
    three_days = coach.plan(TUE_THU.model_copy(update={"days_per_week": 3}), dt.date(2026, 11, 23))
    wed, fri = dt.date(2026, 12, 9), dt.date(2026, 12, 11)
    high = coach.ruleset.catalog.templates[three_days.template].minutes[1]
    assert sessions(three_days)[fri].minutes == high  # the premise: Friday's session is already full
    easy = adapt(three_days, [checkin(three_days, wed, status="done",
                                      exercises=[{"exercise": "calf-raise-slow", "feel": "easy"}])], wed)
    assert item(easy, fri, "calf-raise-slow").max_reps == item(three_days, fri, "calf-raise-slow").max_reps
    assert sessions(easy)[fri].minutes <= high


def test_missed_reps_hold_and_reps_below_the_range_lighten(plan):
    """Reps short of the target hold the reps; below the bottom of the range the load drops too."""
    tue = dt.date(2026, 12, 1)
    short = adapt(plan, [checkin(plan, tue, status="done", exercises=[{"exercise": "goblet-squat", "reps": 8}])], tue)
    assert item(short, dt.date(2026, 12, 8), "goblet-squat").max_reps == 9
    heavy = adapt(plan, [checkin(plan, tue, status="done", exercises=[
        {"exercise": "goblet-squat", "reps": 5, "load_kg": 20, "load_unit": "kg"}])], tue)
    assert item(heavy, dt.date(2026, 12, 8), "goblet-squat").load == "about 18 kg"
    pounds = adapt(plan, [checkin(plan, tue, status="done", exercises=[
        {"exercise": "goblet-squat", "reps": 10, "hit": True, "load_kg": 11.34, "load_unit": "lb"}])], tue)
    assert item(pounds, dt.date(2026, 12, 8), "goblet-squat").load == "about 25 lb"


def test_lingering_pain_swaps_an_exercise_that_does_not_suit_the_spot(plan, coach):
    """Knee pain 4/10 still there the next morning on the lunges: a knee-friendly substitute from the catalogue."""
    tue = dt.date(2026, 12, 1)
    hurt = checkin(plan, tue, status="done", pain=4, pain_where="knee", lingering=True,
                   exercises=[{"exercise": "reverse-lunge", "pain": 4}])
    adapted = adapt(plan, [hurt], dt.date(2026, 12, 3))
    ids = {e.id for d, s in sessions(adapted).items() if d > dt.date(2026, 12, 3) for e in s.exercises}
    swapped = [line for line in check_lines(adapted) if line.startswith("Reverse lunge: pain 4/10")]
    assert swapped and "takes its place" in swapped[0] and swapped[0] in adapted.notes
    # The substitute is a catalogue exercise that suits a knee, and it is where the lunge was from here on.
    exercises = coach.ruleset.catalog.exercises
    [substitute] = [x for x in exercises.values() if f"so {x.name} takes its place" in swapped[0]]
    assert "knee" not in substitute.unsuitable_for and substitute.id != "reverse-lunge"
    assert substitute.id in ids and "reverse-lunge" not in ids


def test_pain_that_settles_changes_nothing_and_high_pain_lightens(plan):
    """3/10 gone by morning is fine; 6/10 in the session lightens the exercise and stops it progressing."""
    tue = dt.date(2026, 12, 1)
    mild = checkin(plan, tue, status="done", pain=3, lingering=False, exercises=[{"exercise": "glute-bridge",
                                                                                  "pain": 3}])
    assert adapt(plan, [mild], tue) is plan
    sore = checkin(plan, tue, status="done", lingering=False, exercises=[{"exercise": "goblet-squat", "pain": 6,
                                                                          "load_kg": 20}])
    adapted = adapt(plan, [sore], tue)
    later = item(adapted, dt.date(2026, 12, 8), "goblet-squat")
    assert later.load == "about 16 kg" and later.max_reps <= item(plan, tue, "goblet-squat").max_reps


def test_sharp_pain_withholds_heavy_work_and_jumps_with_the_advice(coach):
    """Sharp pain in a check-in: no heavy lifts or jumps after today, and the plan's see-a-professional wording."""
    runner = Profile(weekly_km=50, level="advanced", goals=["speed", "power"], long_run_day="sun", equipment=["gym"])
    made = coach.plan(runner, START)
    first = made.weeks[0].sessions[0].date
    adapted = adapt(made, [make_checkin(made, at(first), session=first, status="done", sharp=True, pain=7,
                                        pain_where="knee")], first)
    for day, session in sessions(adapted).items():
        if day > first:
            assert not {"heavy", "plyometric"} & session.categories
    assert any("see a professional" in warning for warning in adapted.warnings)
    assert adapted.progression == "hold"


def test_skipped_session_moves_to_a_day_that_keeps_the_rules_or_is_dropped(plan, coach):
    """Long run Sunday: a skipped Tuesday has no free day left (Wed and Fri touch Thu); a skipped Thursday moves."""
    tue, thu = dt.date(2026, 12, 1), dt.date(2026, 12, 3)
    dropped = adapt(plan, [checkin(plan, tue, status="skipped")], tue)
    assert any("is dropped" in line for line in check_lines(dropped))
    assert sessions(dropped).keys() == sessions(plan).keys()
    moved = adapt(plan, [checkin(plan, thu, status="skipped")], thu)
    assert thu not in sessions(moved) and dt.date(2026, 12, 4) in sessions(moved)
    assert sessions(moved)[dt.date(2026, 12, 4)].day == "fri"
    assert violations(moved, coach.ruleset.catalog) == []


def test_a_mileage_jump_warns_and_holds_progression(plan):
    """60 km against a 40 km profile (+50 %): the warning, and reps stay where they were."""
    tue = dt.date(2026, 12, 1)
    adapted = adapt(plan, [checkin(plan, None, logged=tue, weekly_km=60, weekly_unit="km")], tue)
    assert any("50% above" in warning and "not a proven limit" in warning for warning in adapted.warnings)
    assert item(adapted, dt.date(2026, 12, 8), "goblet-squat").max_reps == item(plan, tue, "goblet-squat").max_reps
    assert adapt(plan, [checkin(plan, None, logged=tue, weekly_km=50)], tue) is plan  # +25 %: no jump


def test_new_changes_lists_only_what_the_latest_checkin_added(plan):
    """The reply after a check-in shows the changes it made, not earlier ones again."""
    tue, thu = dt.date(2026, 12, 1), dt.date(2026, 12, 3)
    first = [checkin(plan, tue, status="done", exercises=[{"exercise": "goblet-squat", "feel": "hard"}])]
    before = adapt(plan, first, thu)
    after = adapt(plan, [*first, checkin(plan, thu, status="skipped")], thu)
    assert new_changes(before, after) == [line for line in check_lines(after) if "skipped" in line]


def test_policy_file_is_validated_on_load(tmp_path, settings, ruleset):
    """A broken adaptation.yaml names the file, line and field; a rotation to a different kind of work is refused."""
    assert load_adaptation(settings.rules_dir, ruleset.catalog).pain.lingering_above == 3
    text = (settings.rules_dir / "adaptation.yaml").read_text()
    (tmp_path / "adaptation.yaml").write_text(text.replace("load_step_pct: 5", "load_step_pct: 25"))
    with pytest.raises(DataFileError) as error:
        load_adaptation(tmp_path)
    assert "adaptation.yaml:" in str(error.value) and "load_step_pct" in str(error.value)
    (tmp_path / "adaptation.yaml").write_text(text.replace("dead-bug: [bird-dog]", "dead-bug: [box-jump]"))
    with pytest.raises(DataFileError, match="doesn't train what it trains"):
        load_adaptation(tmp_path, ruleset.catalog)


def test_next_block_carries_loads_and_offers_a_level_up(plan, coach):
    """A full, pain-free block at the top of the ranges: loads carried a step up and the next level offered."""
    logs = []
    for week in plan.weeks:
        for s in week.sessions:
            logs.append(make_checkin(plan, at(s.date), session=s.date, status="done", exercises=[
                {"exercise": e.id, "hit": True, "rir": 2, **({"load_kg": 14} if e.id == "goblet-squat" else {})}
                for e in s.exercises]))
    summary = summarise(plan, logs)
    assert ready_to_level_up(summary, Level.BEGINNER, load_adaptation(Path(coach.rules_dir)).level_up) is \
        Level.INTERMEDIATE
    start = plan.start + dt.timedelta(days=28)
    block = next_block(plan, logs, coach, start)
    assert block.start == start and len(block.weeks) == 4
    assert any("ready for the intermediate level" in note for note in block.notes)
    loads = {e.load for w in block.weeks for s in w.sessions for e in s.exercises if e.id == "goblet-squat"}
    assert loads == {"about 14.5 kg"}  # 14 kg + 5 %, to the 0.5 kg step
    assert any("gives way to" in line for line in check_lines(block))  # rotation of exercises done well
    assert violations(block, coach.ruleset.catalog) == []


def test_next_block_without_logs_is_the_planners_block(plan, coach):
    """No check-ins: the next block is the planner's own, with no level-up."""
    start = plan.start + dt.timedelta(days=28)
    assert next_block(plan, [], coach, start).to_json() == coach.plan(plan.profile, start).to_json()


# --------------------------------------------------------------------------------------------
# Properties over random plans and random check-in histories

PROGRESSION_29 = ("29: week 3 repeats week 2 exactly", "29: a beginner does not progress")


@st.composite
def histories(draw, plan: Plan):
    """Random check-ins for the plan's sessions up to a random today (and maybe a mileage update)."""
    days = sorted(sessions(plan))
    today = plan.start + dt.timedelta(days=draw(st.integers(0, 27)))
    out = []
    for day in days:
        if day > today or not draw(st.booleans()):
            continue
        session = sessions(plan)[day]
        logs = []
        for e in draw(st.lists(st.sampled_from(session.exercises), max_size=4, unique_by=lambda e: e.id)):
            logs.append(ExerciseLog(
                exercise=e.id, hit=draw(st.none() | st.booleans()), reps=draw(st.none() | st.integers(0, 20)),
                rir=draw(st.none() | st.integers(0, 5)), feel=draw(st.none() | st.sampled_from(["easy", "ok", "hard"])),
                load_kg=draw(st.none() | st.floats(0, 120).map(lambda x: round(x, 1))),
                load_unit=draw(st.none() | st.sampled_from(["kg", "lb"])),
                pain=draw(st.none() | st.integers(0, 10))))
        out.append(CheckIn(
            plan_id=plan_id(plan), session=day, logged_at=at(day), exercises=tuple(logs),
            status=draw(st.sampled_from(["done", "partly", "skipped"])), pain=draw(st.none() | st.integers(0, 10)),
            pain_where=draw(st.none() | st.sampled_from(list(Niggle))), lingering=draw(st.none() | st.booleans()),
            sharp=draw(st.integers(0, 9)) == 0, source="console"))
    if draw(st.booleans()):
        out.append(CheckIn(plan_id=plan_id(plan), session=None, logged_at=at(today),
                           weekly_km=draw(st.floats(0, 250).map(lambda x: round(x, 1)))))
    return today, out


@settings(max_examples=60)
@given(data=st.data(), profile=profiles(sharp_pain=st.just(False)))
def test_adapted_plans_keep_every_invariant_and_the_past(coach, data, profile):
    """Any plan and any history: no invariant broken that the plan kept, the past unchanged, the same every time."""
    plan = coach.plan(profile, START)
    if plan.withheld:
        return
    today, history = data.draw(histories(plan))
    adapted = adapt(plan, history, today)
    assert adapt(plan, list(reversed(history)), today).to_json() == adapted.to_json()  # deterministic
    assert Plan.model_validate(adapted.to_json()).to_json() == adapted.to_json()
    catalog = coach.ruleset.catalog
    held = any(e.rule_id.startswith("check-in") for e in adapted.trace)
    new = (set(violations(adapted, catalog)) | set(coaching_violations(adapted, catalog))) - (
        set(violations(plan, catalog)) | set(coaching_violations(plan, catalog)))
    new = {v for v in new if not (held and v.startswith(PROGRESSION_29))}  # holding is COACHING.md 7
    if any(c.sharp for c in history):  # 17 outranks volume: a heavy lift or jump with nothing calmer in time goes
        new = {v for v in new if not v.startswith(("4:", "5:", "29:"))}
    assert new == set()
    before, after = sessions(plan), sessions(adapted)
    skipped = {c.session for c in history if c.status == "skipped"}
    for day, session in before.items():
        if day <= today:
            assert after.get(day) == session or (day in skipped and day not in after)
    if any(c.sharp for c in history):
        for day, session in after.items():
            if day > today and {"heavy", "plyometric"} & session.categories:
                assert before.get(day) is not None and all(  # only a session with nothing calmer stays
                    "heavy" in e.categories or "plyometric" in e.categories for e in before[day].exercises)
    for entry in adapted.trace[len(plan.trace):]:
        assert entry.status == "applied" and entry.rule_id.startswith("check-in") and len(entry.changes) == 1


def test_a_painful_heavy_lift_swapped_for_another_heavy_lift_keeps_the_heavy_day_true(coach):
    """Found by the property test: an advanced runner's back squat hurts (6/10) and becomes a front squat. The
    substitute keeps the heavy reps, so the 'Heavy strength' label, the jumps-after-the-heavy-lift order and the
    load by feel (reps + reps in reserve, after the first-time effort) all stay true (COACHING.md 25, 27, 29)."""
    profile = Profile(weekly_km=0, level=Level.ADVANCED, goals=["speed"], equipment=["barbell"])
    made = coach.plan(profile, START)
    first = sessions(made)[START]
    assert "back-squat" in {e.id for e in first.exercises}
    hurt = make_checkin(made, at(START), session=START, status="done", pain_where=Niggle.ACHILLES,
                        exercises=[ExerciseLog(exercise="back-squat", pain=6)])
    adapted = adapt(made, [hurt], START)
    swapped = [e for s in sessions(adapted).values() if s.date > START for e in s.exercises if e.id == "front-squat"]
    assert swapped and all(e.max_reps <= 5 for e in swapped)
    catalog = coach.ruleset.catalog
    new = (set(violations(adapted, catalog)) | set(coaching_violations(adapted, catalog))) - (
        set(violations(made, catalog)) | set(coaching_violations(made, catalog)))
    assert new == set()


def test_next_block_follows_the_servers_rules(plan, coach):
    """A server that switched a rule off gets its next block without it, as its first block was made."""
    from bot.tuning import effective_ruleset

    start = plan.start + dt.timedelta(days=28)
    default = next_block(plan, [], coach, start)
    fired = set(default.fired_rules)
    rule_id = next(r for r in sorted(fired) if not r.startswith(("safety", "safeguard")))
    server = effective_ruleset(coach.ruleset, {rule_id: {"enabled": False}})
    block = next_block(plan, [], coach, start, server)
    assert rule_id not in block.fired_rules and block.rules_version == server.version != default.rules_version
