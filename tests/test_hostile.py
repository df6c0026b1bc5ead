"""Nothing a moderator types can break the bot: hostile conditions, YAML and answer templates are refused or stopped."""

from __future__ import annotations

import threading
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.coach import Coach
from bot.faq import _ENV, ANSWER_LIMIT, RENDER_LIMIT, render_capped
from bot.models import Profile
from bot.storage import Storage
from bot.tuning import Tuning
from bot.yamlio import DataFileError
from tests.conftest import START

GUILD, MOD = 111, 9001
# Generous: a refusal takes milliseconds; this only tells "finished" from "hung".
HANG_GUARD_SECONDS = 20
# Far above what checking a rule needs, far below what building the hostile values would take.
MEMORY_BOUND = 50 * 1024 * 1024


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


def rule_with(condition: str) -> str:
    quoted = condition.replace("'", "''")
    return (f"id: hostile\ndescription: A rule a moderator should not be able to save.\n"
            f"when: '{quoted}'\nthen:\n  - note: never shown\n")


def still_plans(tuning: Tuning) -> None:
    plan = tuning.plan_for(GUILD, Profile(weekly_km=40, level="beginner", goals=["general"]), START)
    assert plan.weeks and not plan.withheld


HOSTILE_CONDITIONS = [
    "'x' * 10**10 != ''",
    "(range(10**9)|list)|length > 0",
    "level.__class__",
    "level.__class__.__mro__[1].__subclasses__()",
    "level['__class__']",
    "goals|attr('__class__')",
    "lipsum.__globals__",
    "cycler.__init__.__globals__",
    "namespace()",
    "'{0.__class__}'.format(level)",
    "'%999999999s' % 1",
    "((((2**64)**64)**64)**64)**64 > 0",
    "(9**64)**64 > 0",
    "('x' * 9999 + 'y') * 2 != ''",
    "('x' * 9000 ~ 'x' * 9000) != ''",
    "('x' * 10000)|list|join('y' * 10000) != ''",
    "goals * 10**9",
    "[1] * 5000 + [2] * 5000 + [3]",
    "-" * 200 + "1 > 0",
    "(" * 100 + "1" + ")" * 100 + " > 0",
    "not " * 50 + "true and " + "weekly_km > " + "9" * 400,
    "weekly_km > 1 and " * 40 + "true",
    "ｗeekly_km > 10",
    "weekly_km\u202e > 10",
    "self",
    "goals|map('upper')|list",
]


@pytest.mark.parametrize("condition", HOSTILE_CONDITIONS)
def test_hostile_condition_is_refused_and_the_bot_still_plans(tuning: Tuning, condition: str) -> None:
    """Each hostile condition is refused when saved, quickly, and a plan is still made afterwards."""
    error = finishes(lambda: tuning.save_rule(GUILD, MOD, rule_with(condition)))
    assert isinstance(error, DataFileError)
    assert "hostile" not in tuning.ruleset_for(GUILD).by_id
    still_plans(tuning)


@pytest.mark.parametrize("condition", ["'x' * 10**10 != ''", "((((2**64)**64)**64)**64)**64 > 0",
                                       "('x' * 10000)|list|join('y' * 10000) != ''"])
def test_hostile_condition_is_refused_without_allocating(tuning: Tuning, condition: str) -> None:
    """Refusing an allocating expression doesn't allocate: peak memory stays far below the value's size."""
    tracemalloc.start()
    try:
        error = finishes(lambda: tuning.preview_rule(GUILD, rule_with(condition)))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert isinstance(error, DataFileError) and peak < MEMORY_BOUND


def test_numbers_can_still_be_multiplied(tuning: Tuning) -> None:
    """The size limits leave ordinary arithmetic alone."""
    tuning.save_rule(GUILD, MOD, rule_with("weekly_km * 2 > 10 and (days_per_week or 2) ** 2 >= 1"))
    assert "hostile" in tuning.ruleset_for(GUILD).by_id


def test_rule_failing_at_evaluation_is_skipped_and_flagged(tuning: Tuning) -> None:
    """A condition that breaks only for some runners skips its rule for them, flagged, and they get a plan."""
    tuning.save_rule(GUILD, MOD, rule_with("1 / ((weekly_km|int) - 50) > 0"))
    plan = tuning.plan_for(GUILD, Profile(weekly_km=50, level="beginner", goals=["general"]), START)
    flagged = [entry for entry in plan.trace if entry.rule_id == "hostile"]
    assert [entry.status for entry in flagged] == ["error"] and plan.weeks and not plan.withheld


def test_rule_failing_at_evaluation_leaves_other_rules_working(tuning: Tuning, coach: Coach) -> None:
    """Only the broken rule is skipped: the other rules still fire as without it."""
    profile = Profile(weekly_km=50, level="beginner", goals=["general"])
    tuning.save_rule(GUILD, MOD, rule_with("1 / ((weekly_km|int) - 50) > 0"))
    assert tuning.plan_for(GUILD, profile, START).fired_rules == coach.plan(profile, START).fired_rules


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
}


@pytest.mark.parametrize("name", HOSTILE_YAML)
def test_hostile_yaml_is_refused_and_the_bot_still_plans(tuning: Tuning, name: str) -> None:
    """YAML built to exhaust the parser or the validator is refused with a message, and nothing is saved."""
    error = finishes(lambda: tuning.save_rule(GUILD, MOD, HOSTILE_YAML[name]))
    assert isinstance(error, DataFileError)
    assert tuning.history(GUILD) == []
    still_plans(tuning)


# ---- hostile FAQ answers


def entry_with(answer: str) -> str:
    quoted = answer.replace("'", "''")
    return ("id: hostile-entry\nquestion: What does this hostile entry do?\nphrasings:\n  - hostile entry\n"
            f"answer: '{quoted}'\n")


HOSTILE_ANSWERS = [
    "{{ 'x' * 10**10 }}",
    "{{ range(10**9)|list }}",
    "{% for i in range(10**9) %}x{% endfor %}",
    "{{ lipsum(10**6) }}",
    "{{ cycler(1, 2).__init__.__globals__ }}",
    "{{ joiner() }}",
    "{% set ns = namespace(a=1) %}{{ ns.a }}",
    "{{ level.__class__.__mro__ }}",
    "{{ level['__class__'] }}",
    "{{ level|attr('__class__') }}",
    "{{ goals|map(attribute='__class__')|list }}",
    "{{ level.center(10**9) }}",
    "{{ level|center(10**9) }}",
    "{{ '%999999999s'|format(1) }}",
    "{{ '%999999999s' % 1 }}",
    "{% for a in goals %}{% for b in goals %}{% for c in goals %}x{% endfor %}{% endfor %}{% endfor %}",
    "{% for a in goals recursive %}{{ loop(goals) }}{% endfor %}",
    "{% macro f(n) %}{{ f(n) }}{{ f(n) }}{% endmacro %}{{ f(1) }}",
    "{% set a = 'x' * 4000 %}{% set a = a ~ a %}{% set a = a ~ a %}{{ a|length }}",
    "{% set goals = 'x' * 6000 %}{% for a in goals %}{% for b in goals %}{% endfor %}{% endfor %}",
    "{% for a in 'x' * 6000 %}{% for b in 'x' * 6000 %}{% endfor %}{% endfor %}",
    "{% for a in goals|join('x' * 6000)|list %}{% for b in niggles %}{% endfor %}{% endfor %}",
    "{{ ((2**64)**64)**64 }}",
    "{{ 'x' * 1800 }}",
    "{{ self }}",
    "{{ config }}",
    "{% include 'overview.md.j2' %}",
    "{% for a in [1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20] %}"
    "{% for b in [1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20] %}"
    "{% if ('x' * 6000)|list|sort|join|length > 1 %}{% endif %}{% endfor %}{% endfor %}",
]


@pytest.mark.parametrize("answer", HOSTILE_ANSWERS)
def test_hostile_answer_is_refused_and_the_bot_still_answers(tuning: Tuning, answer: str) -> None:
    """Each hostile answer template is refused when saved, without hanging, and the FAQ still answers."""
    error = finishes(lambda: tuning.save_faq_entry(GUILD, MOD, entry_with(answer)))
    assert isinstance(error, DataFileError)
    assert "hostile-entry" not in tuning.faq_for(GUILD)
    faq = tuning.faq_for(GUILD)
    assert faq.render_answer(faq.entries[0].id)
    still_plans(tuning)


def test_runaway_render_is_cut_at_the_limit() -> None:
    """A template that would print without end (if it got past the checks) is cut at RENDER_LIMIT."""
    template = _ENV.from_string("{% for a in goals %}{% for b in goals %}" + "{{ 'x' * 4000 }}" + "{% endfor %}"
                                "{% endfor %}")
    text, problem = render_capped(template, {"goals": list(range(20))})
    assert len(text) == RENDER_LIMIT and problem is not None


def test_render_that_fails_for_one_member_gives_a_polite_answer(coach: Coach) -> None:
    """An answer that breaks for an unusual profile shows a short apology, not an error."""
    from bot.faq import FaqBase, FaqEntry

    entry = FaqEntry(id="odd", question="A question that breaks for some?", phrasings=["breaks for some"],
                     answer="{{ 10 / (weekly_km|int - 33) }}")
    faq = FaqBase([entry], "test")
    text = faq.render_answer("odd", Profile(weekly_km=33, level="beginner", goals=["general"]))
    assert "can't be shown" in text and len(text) <= ANSWER_LIMIT


def test_moderator_note_is_shown_as_text_not_template(tuning: Tuning, coach: Coach) -> None:
    """Template syntax in a moderator's note appears literally in the plan; it is never evaluated."""
    text = ("id: sneaky-note\ndescription: A note that looks like a template.\nwhen: 'true'\nthen:\n"
            "  - note: \"{{ 7 * 7 }} {% for x in range(3) %}{{ x }}{% endfor %}\"\n")
    tuning.save_rule(GUILD, MOD, text)
    plan = tuning.plan_for(GUILD, Profile(weekly_km=40, level="beginner", goals=["general"]), START)
    rendered = coach.renderer.markdown(plan)
    assert "{{ 7 \\* 7 }} {% for x in range(3) %}{{ x }}{% endfor %}" in rendered
