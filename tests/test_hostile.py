"""Nothing a moderator types can break the bot: the hostile corpus is refused, or bounded when it runs.

Every condition and answer of tests/hostile_corpus.py goes through the moderator's save path; whatever is
accepted is then evaluated for profiles chosen to trigger it (the largest profile a member can have among
them). The evaluator's own budget (bot/conditions.py: steps, sizes and time) is what bounds them; these tests
check that it trips and that each evaluation stays under the issue's 10 MB. The issue's 50 ms is a speed target,
so bench/bench_conditions.py measures it (the worst case of the corpus) instead of a timed assertion here.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import threading
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.answers import ANSWER_LIMIT, answer_context, choose_text, placeholder_values, segments
from bot.coach import Coach
from bot.conditions import Budget, OverBudget, evaluate_ast, parse
from bot.engine import context_for, rule_condition, sample_contexts
from bot.models import DAYS, Equipment, Goal, Niggle, Profile
from bot.storage import Storage
from bot.tuning import Tuning, TuningError
from bot.yamlio import DataFileError
from tests.conftest import START
from tests.hostile_corpus import HOSTILE_ANSWERS, HOSTILE_CONDITIONS, entry_yaml, rule_yaml

GUILD, MOD = 111, 9001
# Generous: a refusal takes milliseconds; this only tells "finished" from "hung".
HANG_GUARD_SECONDS = 20
MEMORY_LIMIT = 10 * 1024 * 1024

# Profiles that trigger what the corpus gates on: none, the smallest, the largest, odd distances.
TRIGGERS = [
    Profile(weekly_km=40, level="beginner", goals=["general"]),
    Profile(weekly_km=250, level="advanced", goals=[g.value for g in Goal], days_per_week=3, long_run_day="sun",
            hard_days=list(DAYS), equipment=[e.value for e in Equipment], niggles=[n.value for n in Niggle],
            race_date=START + dt.timedelta(days=27)),
    Profile(weekly_km=0, level="intermediate", goals=["speed"], days_per_week=3, race_date=START),
    Profile(weekly_km=20, unit="mi", level="beginner", goals=["hills"], niggles=["knee"]),
]


@pytest.fixture
def storage(tmp_path: Path) -> Iterator[Storage]:
    with Storage.open(tmp_path / "data") as opened:
        yield opened


@pytest.fixture
def tuning(coach: Coach, storage: Storage) -> Tuning:
    return Tuning(coach, storage)


def finishes(action: Callable[[], Any]) -> BaseException | None:
    """Run `action` in a thread; fail if it hasn't finished in HANG_GUARD_SECONDS. Returns what it raised."""
    outcome: dict[str, BaseException | None] = {"error": None}

    def run() -> None:
        try:
            action()
        except BaseException as exc:  # the test inspects whatever was raised
            outcome["error"] = exc

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(HANG_GUARD_SECONDS)
    assert not worker.is_alive(), "still running: this would hang the bot"
    return outcome["error"]


def peak_memory(action: Callable[[], Any]) -> int:
    """Peak bytes a call allocates (tracemalloc). CPU time is measured by bench/bench_conditions.py, not here:
    a timed assertion on a shared machine fails when the machine is busy, not when the code is slow."""
    tracemalloc.start()
    try:
        action()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak


def test_the_corpus_is_large_enough() -> None:
    """The issue asks for at least 150 conditions and 100 answers."""
    assert len(set(HOSTILE_CONDITIONS)) >= 150 and len(HOSTILE_ANSWERS) >= 100


@pytest.mark.parametrize("condition", HOSTILE_CONDITIONS, ids=range(len(HOSTILE_CONDITIONS)))
def test_hostile_condition_is_refused_or_bounded(tuning: Tuning, condition: str) -> None:
    """Refused with a message when saved, or saved and then within budget for every triggering profile."""
    error = finishes(lambda: tuning.save_rule(GUILD, MOD, rule_yaml(condition)))
    saved = "hostile" in tuning.ruleset_for(GUILD).by_id
    if error is not None:  # refused with a message: the check at saving, or its trial run over budget (a
        # heavy expression near the budget goes either way on a loaded machine; both refuse and save nothing)
        assert not saved
        assert (isinstance(error, DataFileError) and error.problems) or (
            isinstance(error, TuningError) and "longer than" in str(error)), error
    else:
        assert saved and "__" not in condition
        compiled = rule_condition(condition)
        for profile in TRIGGERS:
            context = context_for(profile, START)

            def evaluate(ctx: dict[str, Any] = context) -> None:
                compiled._memo.clear()  # measure the evaluation itself, not the memo
                with contextlib.suppress(OverBudget):  # stopped by its budget: that is the point
                    assert isinstance(compiled(ctx), bool)
            peak = peak_memory(evaluate)
            assert peak < MEMORY_LIMIT, peak
    for profile in TRIGGERS:  # and the server's members still get plans
        plan = tuning.plan_for(GUILD, profile, START)
        assert plan.weeks or plan.withheld


@pytest.mark.parametrize("index", range(len(HOSTILE_ANSWERS)))
def test_hostile_answer_is_refused_or_bounded(tuning: Tuning, index: int) -> None:
    """Refused when saved, or rendered inert, capped and within budget for every triggering profile."""
    answer, variants = HOSTILE_ANSWERS[index]
    error = finishes(lambda: tuning.save_faq_entry(GUILD, MOD, entry_yaml(answer, variants)))
    faq = tuning.faq_for(GUILD)
    if error is not None:
        assert isinstance(error, DataFileError) and error.problems and "hostile-entry" not in faq
    else:
        for profile in [None, *TRIGGERS]:
            texts: list[str] = []
            peak = peak_memory(lambda p=profile, out=texts: out.append(faq.render_answer("hostile-entry", p)))
            text = texts[0]
            assert peak < MEMORY_LIMIT, peak
            assert 0 < len(text) <= ANSWER_LIMIT
            assert "@everyone" not in text and "<@&1" not in text and "](http" not in text
            assert "__class__" not in text or "{level.__class__}" not in answer  # never evaluated
    assert faq.render_answer(tuning.coach.faq.entries[0].id)


def test_old_sandbox_attacks_from_the_issue_are_refused(tuning: Tuning) -> None:
    """`1|round(0-10**9)` and `[[[0]*9999]*9999]*9999`, which froze the old sandbox: not CEL, and CEL has
    no list repetition."""
    with pytest.raises(DataFileError, match="syntax error"):
        tuning.save_rule(GUILD, MOD, rule_yaml("1|round(0-10**9) > 0"))
    with pytest.raises(DataFileError, match="'\\*' can't combine list of int with int"):
        tuning.save_rule(GUILD, MOD, rule_yaml("[[[0]*9999]*9999]*9999 != []"))


# ---- the evaluator's budget trips


NESTED = "[0,0,0,0,0,0,0,0,0,0].map(a, [0,0,0,0,0,0,0,0,0,0].map(b, [0,0,0,0,0,0,0,0,0,0].map(c, 1)))"


def test_step_budget_trips() -> None:
    """A thousand-fold nested map is stopped by the step budget, not run to the end."""
    with pytest.raises(OverBudget, match="steps"):
        evaluate_ast(parse(NESTED + " != []"), {}, budget=Budget(steps=500))


def test_size_budget_trips() -> None:
    """Building more characters than the size budget allows is stopped."""
    growing = "['" + "x" * 100 + "'].map(a, [0,0,0,0,0,0,0,0,0,0].map(b, a + a + a + a))"
    with pytest.raises(OverBudget, match="characters or list items"):
        evaluate_ast(parse(growing + " != []"), {}, budget=Budget(cells=1000))


def test_time_budget_trips() -> None:
    """With no time left the evaluation stops at its next check (every 64 steps)."""
    with pytest.raises(OverBudget, match="longer than"):
        evaluate_ast(parse(NESTED + " != []"), {}, budget=Budget(seconds=0.0))


GATED = ("weekly_km == 123.0 ? [1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1].exists(a, "
         "[1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1].exists(b, "
         "[1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1].exists(c, a + b + c < 0))) : false")
SLOW = Profile(weekly_km=123, level="beginner", goals=["general"])


def test_a_condition_gated_on_what_samples_lack_is_saved_but_stopped_when_it_runs(tuning: Tuning) -> None:
    """The attack of the issue: cheap for the sample profiles, expensive for one member. The budget stops it,
    the rule is skipped and flagged for that member, and the plan still comes."""
    assert all(ctx["weekly_km"] != 123.0 for ctx in sample_contexts())
    tuning.save_rule(GUILD, MOD, rule_yaml(GATED))
    plan = tuning.plan_for(GUILD, SLOW, START)
    flagged = [entry for entry in plan.trace if entry.rule_id == "hostile"]
    assert [entry.status for entry in flagged] == ["error"] and plan.weeks
    assert "steps" in flagged[0].changes[0] or "longer than" in flagged[0].changes[0]


def test_rule_failing_at_evaluation_is_skipped_and_other_rules_still_fire(tuning: Tuning, coach: Coach) -> None:
    """A condition that divides by zero for one race date skips its rule only, flagged; the rest fire as usual."""
    profile = Profile(weekly_km=50, level="beginner", goals=["general"], race_date=START + dt.timedelta(days=30))
    tuning.save_rule(GUILD, MOD, rule_yaml("days_to_race != null && 100 / (days_to_race - 30) > 1"))
    plan = tuning.plan_for(GUILD, profile, START)
    assert [e.status for e in plan.trace if e.rule_id == "hostile"] == ["error"]
    assert plan.fired_rules == coach.plan(profile, START).fired_rules


def test_answer_variant_that_fails_is_passed_over() -> None:
    """A variant whose condition can't be worked out for a member is skipped; the main answer is shown."""
    from bot.answers import AnswerVariant

    variant = AnswerVariant(when=GATED.replace("weekly_km == 123.0", "weekly_km == 123.0 && has_profile"),
                            text="never {level}")
    context = answer_context(SLOW)
    assert choose_text("main", [variant], context) == "main"


def test_placeholders_are_never_evaluated() -> None:
    """Format-string syntax is not a placeholder: nothing after a name reaches Python's formatting."""
    with pytest.raises(ValueError, match="unknown placeholder"):
        segments("{level.__class__}")
    assert segments("{{level.__class__}}") == (("{level.__class__}", None),)
    assert all(len(value) <= 120 for value in placeholder_values(TRIGGERS[1]).values())


# ---- hostile YAML


def _alias_bomb() -> str:
    lines = ['a: &a ["x","x","x","x","x","x","x","x","x"]']
    for number, name in enumerate("bcdefghi"):
        previous = "abcdefghi"[number]
        lines.append(f"{name}: &{name} [" + ",".join([f"*{previous}"] * 9) + "]")
    return "\n".join(lines) + "\nid: bomb\ndescription: x\nthen:\n  - note: *i\n"


HOSTILE_YAML = {
    "alias bomb": _alias_bomb(),
    "deep nesting": "id: deep\ndescription: x\nthen: " + "[" * 1500 + "]" * 1500 + "\n",
    "deep block nesting": "id: deep\ndescription: x\nthen:\n" + "".join(
        "  " * (level + 1) + f"k{level}:\n" for level in range(20)) + "  " * 21 + "end\n",
    "huge number": "id: big\ndescription: x\npriority: " + "9" * 3900 + "\nthen:\n  - note: x\n",
    "python tag": "id: tag\ndescription: !!python/object/apply:os.system ['true']\nthen:\n  - note: x\n",
    "too long": "id: long\ndescription: " + "x" * 5000 + "\nthen:\n  - note: x\n",
    "not a mapping": "- - - 1\n",
    "binary junk": "\x00\x01\x02id: x",
    "duplicate key": "id: dup\ndescription: x\npriority: 1\npriority: 900\nthen:\n  - note: x\n",
}


@pytest.mark.parametrize("name", HOSTILE_YAML)
def test_hostile_yaml_is_refused_and_the_bot_still_plans(tuning: Tuning, name: str) -> None:
    """YAML built to exhaust the parser or the validator is refused with a message, and nothing is saved."""
    error = finishes(lambda: tuning.save_rule(GUILD, MOD, HOSTILE_YAML[name]))
    assert isinstance(error, DataFileError)
    assert tuning.history(GUILD) == []
    assert tuning.plan_for(GUILD, TRIGGERS[0], START).weeks


def test_moderator_note_is_shown_as_text_not_template(tuning: Tuning, coach: Coach) -> None:
    """Template syntax in a moderator's note appears literally in the plan; it is never evaluated."""
    text = ("id: sneaky-note\ndescription: A note that looks like a template.\nwhen: 'true'\nthen:\n"
            "  - note: \"{{ 7 * 7 }} {% for x in range(3) %}{{ x }}{% endfor %}\"\n")
    tuning.save_rule(GUILD, MOD, text)
    plan = tuning.plan_for(GUILD, TRIGGERS[0], START)
    rendered = coach.renderer.markdown(plan)
    assert "{{ 7 \\* 7 }} {% for x in range(3) %}{{ x }}{% endfor %}" in rendered
