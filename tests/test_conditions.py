"""Condition memo keys: results are shared between contexts only where celpy would give the same answer."""

from __future__ import annotations

from hypothesis import assume, given
from hypothesis import strategies as st

from bot.conditions import _ENV, Budget, Condition, ConditionError, OverBudget, evaluate_ast
from bot.engine import RULE_VARIABLES, context_for
from bot.models import Profile
from tests.conftest import START


def reference(source: str, context: dict) -> bool | str:
    """What celpy itself gives for the context, with no memo: the result, or the error's message."""
    try:
        return evaluate_ast(_ENV.compile(source), context, budget=Budget(seconds=60))
    except ConditionError as exc:
        return f"error: {exc}"


def memoised(condition: Condition, context: dict) -> bool | str | None:
    """The condition's result through its memo, its error's message, or None when the CPU-time backstop
    stopped it (a time slice the VM took from this thread; not what these tests measure)."""
    try:
        return condition(context)
    except OverBudget as exc:
        return None if "longer than" in str(exc) else f"error: {exc}"
    except ConditionError as exc:
        return f"error: {exc}"


NUMBERS = st.one_of(st.integers(-5, 300).map(str), st.floats(-5, 300).map(lambda x: repr(round(x, 1))))
OPERATORS = st.sampled_from(["<", "<=", ">", ">=", "==", "!="])


@st.composite
def comparisons(draw: st.DrawFn) -> str:
    """`weekly_km < 30.0`, `4 <= days_per_week` (guarded against null), or a shape read another way."""
    name = draw(st.sampled_from(["weekly_km", "weekly_mi"]))
    number, op = draw(NUMBERS), draw(OPERATORS)
    shape = draw(st.sampled_from(["plain", "flipped", "int", "arithmetic", "paren"]))
    if shape == "flipped":
        return f"{number} {op} {name}"
    if shape == "int":
        return f"(days_per_week != null && days_per_week {op} {draw(st.integers(0, 4))})"
    if shape == "arithmetic":  # read through arithmetic: keyed on the value itself
        return f"{name} * 2.0 {op} {number}"
    if shape == "paren":
        return f"({name}) {op} {number}"
    return f"{name} {op} {number}"


@st.composite
def conditions(draw: st.DrawFn) -> str:
    parts = draw(st.lists(comparisons(), min_size=1, max_size=4))
    text = parts[0]
    for part in parts[1:]:
        text = f"{text} {draw(st.sampled_from(['&&', '||']))} {'!' if draw(st.booleans()) else ''}({part})"
    return text


MILEAGES = st.lists(st.one_of(st.floats(0, 250), st.sampled_from([0.0, 15.0, 30.0, 80.0, 120.0, 250.0])),
                    min_size=1, max_size=40)


@given(source=conditions(), mileages=MILEAGES, days=st.lists(st.none() | st.integers(1, 3), min_size=1))
def test_memoised_results_are_celpys_for_every_context(source, mileages, days):
    """However the memo keys numbers (by value, or by place among the numbers compared), every context
    gets exactly what celpy evaluates for it, errors included."""
    try:
        condition = Condition(source, RULE_VARIABLES)
    except ConditionError:
        assume(False)  # refused when saved (e.g. an int literal compared with a double): never evaluated
    for index, km in enumerate(mileages):
        context = {"weekly_km": km, "weekly_mi": km / 1.609344, "days_per_week": days[index % len(days)]}
        found = memoised(condition, context)
        assert found is None or found == reference(source, context), (source, context)


def test_a_number_compared_with_literals_keys_on_its_band():
    """`weekly_km >= 30.0 && weekly_km < 80.0` has five answers' worth of keys (below, at 30, between,
    at 80, above), not one per mileage; each mileage still gets its own right answer."""
    source = "weekly_km >= 30.0 && weekly_km < 80.0"
    condition = Condition(source, RULE_VARIABLES)
    for tenth in range(0, 2501):
        km = tenth / 10
        assert condition({"weekly_km": km}) is (30 <= km < 80)
    assert len(condition._memo) == 5


def test_a_number_read_any_other_way_keys_on_its_value():
    """Arithmetic or `in` on the number: two mileages between the same literals may differ, so no sharing."""
    doubled = Condition("weekly_km * 2.0 > 61.0", RULE_VARIABLES)
    assert [doubled({"weekly_km": km}) for km in (30.0, 30.4, 30.6, 31.0)] == [False, False, True, True]
    listed = Condition("weekly_km in [30.5, 40.0] || weekly_km > 100.0", RULE_VARIABLES)
    assert [listed({"weekly_km": km}) for km in (30.0, 30.5, 31.0, 40.0, 101.0)] == [False, True, False, True, True]


def test_profiles_that_differ_only_in_what_a_condition_does_not_read_share_its_result():
    """The memo keys on the variables the condition names, so other fields don't split it."""
    condition = Condition("'speed' in goals && weekly_km < 40.0", RULE_VARIABLES)
    for km, level, niggles in [(20, "beginner", []), (25.5, "advanced", ["knee"]), (39.9, "intermediate", ["calf"])]:
        profile = Profile(weekly_km=km, level=level, goals=["speed"], niggles=niggles)
        assert condition(context_for(profile, START)) is True
    assert len(condition._memo) == 1


GOALS = ["speed", "power", "hills", "general", "endurance", "injury-resilience"]


@st.composite
def list_conditions(draw: st.DrawFn) -> str:
    """`'speed' in goals`, `size(hard_days) >= 3`, both together, or a list read another way."""
    parts = []
    for _ in range(draw(st.integers(1, 3))):
        shape = draw(st.sampled_from(["in", "size", "flipped-size", "exists", "index"]))
        if shape == "in":
            parts.append(f"'{draw(st.sampled_from(GOALS))}' in goals")
        elif shape == "size":
            parts.append(f"size(goals) {draw(OPERATORS)} {draw(st.integers(-1, 4))}")
        elif shape == "flipped-size":
            parts.append(f"{draw(st.integers(-1, 4))} {draw(OPERATORS)} size(goals)")
        elif shape == "exists":  # read through a macro: keyed on the list itself
            parts.append(f"goals.exists(g, g.startsWith('{draw(st.sampled_from(['s', 'h', 'e']))}'))")
        else:  # read by index: keyed on the list itself
            parts.append(f"(size(goals) > 0 && goals[0] == '{draw(st.sampled_from(GOALS))}')")
    text = parts[0]
    for part in parts[1:]:
        text = f"{text} {draw(st.sampled_from(['&&', '||']))} {'!' if draw(st.booleans()) else ''}({part})"
    return text


@given(source=list_conditions(), lists=st.lists(st.lists(st.sampled_from(GOALS), max_size=5), min_size=1,
                                                 max_size=30))
def test_memoised_list_results_are_celpys_for_every_context(source, lists):
    """However the memo keys a list (by value, or by the members tested and its size's place), every
    context gets exactly what celpy evaluates for it."""
    condition = Condition(source, RULE_VARIABLES)
    for goals in lists:
        context = {"goals": goals}
        found = memoised(condition, context)
        assert found is None or found == reference(source, context), (source, context)


def test_a_list_tested_for_members_and_size_keys_on_those():
    """`'speed' in goals && size(goals) >= 2`: whether a list holds 'speed' and where its size falls (below,
    at or above 2) decide, so 64 different goal lists need six evaluations; each gets its own answer."""
    source = "'speed' in goals && size(goals) >= 2"
    condition = Condition(source, RULE_VARIABLES)
    for mask in range(64):
        goals = [goal for bit, goal in enumerate(GOALS) if mask >> bit & 1]
        assert condition({"goals": goals}) is ("speed" in goals and len(goals) >= 2)
    assert len(condition._shared) == 6


def test_a_list_read_any_other_way_keys_on_its_value():
    """A list also read by index or through a macro keys on itself: no sharing between lists."""
    condition = Condition("'speed' in goals && goals[0] == 'hills'", RULE_VARIABLES)
    assert [condition({"goals": goals}) for goals in (["hills", "speed"], ["speed", "hills"])] == [True, False]
    assert len(condition._memo) == 2 and not condition._shared
