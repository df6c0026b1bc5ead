"""FAQ answers: a moderator's words as data, rendered by the project's own template, personalised safely.

An answer is logic-less text with documented placeholders (`{level}`, `{mileage}`...; `{{` and `}}` for
literal braces) and optional variants, each a CEL condition (bot/conditions.py) and its own text: the
first variant whose condition holds replaces the main text. The text is never a template: it is split
into literal parts and placeholder names here, and templates/faq_answer.md.j2 joins the parts with the
member's values. Nothing in an answer can loop, call or compute, so the work per answer is bounded by
its length, and the output is capped at ANSWER_LIMIT characters.

`migrate_jinja_answer` turns the Jinja answer templates LegDay used before into this form.
"""

from __future__ import annotations

import difflib
import functools
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, TemplateSyntaxError, nodes
from pydantic import BaseModel, ConfigDict, Field

from bot.conditions import (
    BOOL,
    DOUBLE,
    CelType,
    Condition,
    ConditionError,
    MigrationError,
    Variable,
    _Emitter,
    check,
    list_of,
    strings,
)
from bot.errors import LegDayError
from bot.models import DAY_NAMES, DAYS, Equipment, Goal, Level, Niggle, Profile
from bot.text import neutralise_links, neutralise_mentions, truncate

# An answer is shown under its question's heading, so the answer alone must leave room for it.
ANSWER_LIMIT = 1700
MAX_VARIANTS = 8
MAX_PLACEHOLDERS = 40  # placeholders in one text: each expands to at most PLACEHOLDER_LIMIT characters
PLACEHOLDER_LIMIT = 120
TEMPLATE = "faq_answer.md.j2"
TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"

# The values a variant's condition sees; with no profile they are empty (false, 0.0, '' or []), never null,
# so `has_profile && weekly_km >= 80.0` needs no null checks. Only long_run_day can be null with a profile.
ANSWER_VARIABLES: dict[str, Variable] = {
    "has_profile": Variable(BOOL, "true when the member has a profile"),
    "level": Variable(strings([*(level.value for level in Level), ""]),
                      "strength level: 'beginner', 'intermediate' or 'advanced' ('' without a profile)"),
    "weekly_km": Variable(DOUBLE, "weekly running distance in km (a decimal: compare with 30.0)"),
    "weekly_mi": Variable(DOUBLE, "weekly running distance in miles (a decimal)"),
    "unit": Variable(strings(["km", "mi", ""]), "the unit the runner uses: 'km' or 'mi'"),
    "days_per_week": Variable(CelType("int"), "strength days a week the runner asked for (0 when not given)"),
    "goals": Variable(list_of(strings(goal.value for goal in Goal)), "list of goal ids, e.g. 'speed' in goals"),
    "long_run_day": Variable(strings(DAYS, nullable=True), "long-run day as a short id, e.g. 'sun', or null"),
    "hard_days": Variable(list_of(strings(DAYS)), "list of hard-run day ids, e.g. 'tue' in hard_days"),
    "equipment": Variable(list_of(strings(item.value for item in Equipment)), "list of equipment"),
    "niggles": Variable(list_of(strings(item.value for item in Niggle)), "list of niggle ids, e.g. 'knee'"),
}

# The placeholders an answer's text may use; each is '' when the member has no profile.
PLACEHOLDERS: dict[str, str] = {
    "level": "strength level, e.g. 'intermediate'",
    "mileage": "weekly distance in the runner's unit, e.g. '30 mi'",
    "weekly_km": "weekly distance in km, e.g. '48'",
    "unit": "the runner's unit: 'km' or 'mi'",
    "days_per_week": "strength days a week the runner asked for, e.g. '2'",
    "sessions_per_week": "strength sessions a week LegDay suggests: the runner's choice, else 2",
    "goals": "the runner's goals, e.g. 'speed and hills'",
    "long_run_day_name": "long-run day in full, e.g. 'Sunday'",
    "day_before_long_run_name": "the day before the long run, e.g. 'Saturday'",
    "hard_days_names": "hard-run days in full, e.g. 'Tuesday, Thursday'",
    "niggles": "the runner's niggles, e.g. 'knee and achilles'",
}
_PLACEHOLDER_RE = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")


class AnswerError(LegDayError):
    """An answer that can't be used; `problems` says each thing wrong in plain words."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(self.problems))


class AnswerVariant(BaseModel):
    """Text shown instead of the main answer when its CEL condition holds for the member."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    when: str = Field(min_length=1, max_length=500)
    text: str = Field(min_length=1, max_length=4000)  # its rendered length is checked against ANSWER_LIMIT


def _and(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1] if items else ""


def answer_context(profile: Profile | None) -> dict[str, Any]:
    """The values a variant's condition sees, for a profile or for no profile."""
    if profile is None:
        return {"has_profile": False, "level": "", "weekly_km": 0.0, "weekly_mi": 0.0, "unit": "",
                "days_per_week": 0, "goals": [], "long_run_day": None, "hard_days": [], "equipment": [],
                "niggles": []}
    return {
        "has_profile": True, "level": profile.level.value, "weekly_km": float(profile.weekly_km),
        "weekly_mi": float(profile.weekly_mi), "unit": profile.unit, "days_per_week": profile.days_per_week or 0,
        "goals": [goal.value for goal in profile.goals], "long_run_day": profile.long_run_day,
        "hard_days": list(profile.hard_days), "equipment": sorted(profile.available_equipment()),
        "niggles": [niggle.value for niggle in profile.niggles],
    }


def placeholder_values(profile: Profile | None) -> dict[str, str]:
    """The text each placeholder stands for ('' for all of them without a profile)."""
    if profile is None:
        return dict.fromkeys(PLACEHOLDERS, "")
    day = profile.long_run_day
    values = {
        "level": profile.level.value,
        "mileage": profile.mileage_text,
        "weekly_km": f"{profile.weekly_km:g}",
        "unit": profile.unit,
        "days_per_week": str(profile.days_per_week or ""),
        "sessions_per_week": str(profile.days_per_week or 2),
        "goals": _and([goal.value for goal in profile.goals]),
        "long_run_day_name": DAY_NAMES[day] if day else "",
        "day_before_long_run_name": DAY_NAMES[DAYS[DAYS.index(day) - 1]] if day else "",
        "hard_days_names": ", ".join(DAY_NAMES[d] for d in profile.hard_days),
        "niggles": _and([niggle.value for niggle in profile.niggles]),
    }
    return {name: value[:PLACEHOLDER_LIMIT] for name, value in values.items()}


def segments(text: str) -> tuple[tuple[str, str | None], ...]:
    """Split an answer's text into (literal, placeholder name or None) pairs; AnswerError on a bad brace."""
    return _segments(text)


@functools.lru_cache(maxsize=4096)
def _segments(text: str) -> tuple[tuple[str, str | None], ...]:
    parts: list[tuple[str, str | None]] = []
    literal: list[str] = []
    problems: list[str] = []
    at = 0
    for match in _PLACEHOLDER_RE.finditer(text):
        literal.append(text[at:match.start()])
        at = match.end()
        token = match.group(0)
        if token in ("{{", "}}"):
            literal.append(token[0])
        elif match.group(1) is None:
            problems.append(f"a lone '{token}' at character {match.start() + 1}; write {token * 2} for a brace")
        else:
            name = match.group(1).strip()
            if name not in PLACEHOLDERS:
                close = difflib.get_close_matches(name, PLACEHOLDERS, n=1)
                hint = f" Did you mean {{{close[0]}}}?" if close else ""
                problems.append(f"unknown placeholder {{{name[:40]}}}.{hint} Placeholders: "
                                + ", ".join(f"{{{key}}}" for key in PLACEHOLDERS))
            else:
                parts.append(("".join(literal), name))
                literal = []
    literal.append(text[at:])
    parts.append(("".join(literal), None))
    if problems:
        raise AnswerError(list(dict.fromkeys(problems)))
    if sum(1 for _, name in parts if name) > MAX_PLACEHOLDERS:
        raise AnswerError([f"more than {MAX_PLACEHOLDERS} placeholders in one text"])
    return tuple(parts)


@functools.cache
def _template() -> Any:
    # The project's own template, given only data: a plain environment, no sandbox needed.
    env = Environment(loader=FileSystemLoader(str(TEMPLATES_DIR)), undefined=StrictUndefined, autoescape=False,
                      keep_trailing_newline=False)
    return env.get_template(TEMPLATE)


_BLANK_LINES_RE = re.compile(r"\n{3,}")


def _tidy(text: str) -> str:
    lines = [line.rstrip() for line in text.strip().splitlines()]
    return _BLANK_LINES_RE.sub("\n\n", "\n".join(lines))


@functools.lru_cache(maxsize=4096)
def _variant_condition(expression: str) -> Condition:
    return Condition(expression, ANSWER_VARIABLES)


def choose_text(answer: str, variants: Sequence[AnswerVariant], context: Mapping[str, Any]) -> str:
    """The text shown: the first variant whose condition holds, else the main answer."""
    for variant in variants:
        try:
            if _variant_condition(variant.when)(context):
                return variant.text
        except ConditionError:  # a variant that can't be worked out is passed over, never fatal
            continue
    return answer


def render(answer: str, variants: Sequence[AnswerVariant], profile: Profile | None) -> str:
    """The member-facing Markdown of an answer: placeholders filled, mentions and masked links made inert."""
    text = choose_text(answer, variants, answer_context(profile))
    raw = _template().render(segments=segments(text), values=placeholder_values(profile))
    return truncate(neutralise_links(neutralise_mentions(_tidy(raw))), ANSWER_LIMIT)


@functools.cache
def _check_profiles() -> tuple[Profile | None, ...]:
    # Profiles every answer is rendered with when saved, chosen to walk each kind of variant an answer may
    # have: no profile, each level, both units, with and without days and niggles, and the largest one.
    return (
        None,
        Profile(weekly_km=20, level="beginner", goals=["general"]),
        Profile(weekly_km=48.28, unit="mi", level="intermediate", goals=["speed", "hills"], long_run_day="sun",
                hard_days=["tue", "thu"], niggles=["achilles", "knee"], equipment=["dumbbells"]),
        Profile(weekly_km=130, level="advanced", goals=[goal.value for goal in Goal], long_run_day="mon",
                hard_days=list(DAYS), niggles=[niggle.value for niggle in Niggle], sharp_pain=True,
                days_per_week=3),
        Profile(weekly_km=0, level="beginner", goals=["injury-resilience"], long_run_day="sat"),
    )


def answer_problems(answer: str, variants: Sequence[AnswerVariant]) -> list[str]:
    """Everything wrong with an answer and its variants, found before it is stored."""
    problems: list[str] = []
    if len(variants) > MAX_VARIANTS:
        return [f"{len(variants)} variants; keep it to {MAX_VARIANTS} at most"]
    texts = [("answer", answer)] + [(f"variants[{i}].text", v.text) for i, v in enumerate(variants)]
    for label, text in texts:
        if _JINJA_RE.search(text):
            problems.append(f"{label}: answers aren't Jinja templates any more: write placeholders like {{level}} "
                            "and put personal lines in `variants:` (each a `when:` CEL condition and a `text:`)")
            continue
        try:
            segments(text)
        except AnswerError as exc:
            problems.extend(f"{label}: {problem}" for problem in exc.problems)
    contexts = [answer_context(profile) for profile in _check_profiles()]
    for index, variant in enumerate(variants):
        problems.extend(f"variants[{index}].when: {problem}"
                        for problem in check(variant.when, ANSWER_VARIABLES, contexts))
    if problems:
        return problems
    for profile in _check_profiles():
        who = "without a profile" if profile is None else f"for a {profile.level.value} profile"
        text = choose_text(answer, variants, answer_context(profile))
        values = placeholder_values(profile)
        empty = sorted({name for _, name in segments(text) if name and not values[name]})
        label = "the answer" if text is answer else "a variant"
        if empty:
            problems.append(f"{label} shown {who} uses {', '.join('{' + n + '}' for n in empty)}, which is empty "
                            "then; put it in a variant whose condition makes sure it is set (e.g. has_profile)")
            continue
        shown = _tidy(_template().render(segments=segments(text), values=values))
        if not shown:
            problems.append(f"{label} renders empty {who}")
        elif len(shown) > ANSWER_LIMIT:
            problems.append(f"{label} renders {len(shown)} characters {who}; the limit is {ANSWER_LIMIT}")
    return list(dict.fromkeys(problems))


# ------------------------------------------------------------------------------------------
# Migration from Jinja answer templates


_OUTPUTS = {
    "level": "level", "mileage": "mileage", "unit": "unit", "weekly_km": "weekly_km",
    "long_run_day_name": "long_run_day_name", "long_run_day|day_name": "long_run_day_name",
    "long_run_day|day_before|day_name": "day_before_long_run_name",
    "hard_days|map('day_name')|join(', ')": "hard_days_names",
    "niggles|join(' and ')": "niggles", "niggles|join(', ')": "niggles",
    "goals|join(' and ')": "goals", "goals|join(', ')": "goals", "days_per_week": "days_per_week",
}
MAX_MIGRATED_PATHS = 16
# What only the old template form has: a block tag, or an output tag around a name ("{{ level }}"); in the
# current form "{{" is a literal brace and is never followed by a name in a shipped or saved answer.
_JINJA_RE = re.compile(r"\{%|\{\{-?\s*[A-Za-z_]")
_DOUBLES = [name for name, var in ANSWER_VARIABLES.items() if var.type.kind == "double"]


def _output_key(node: nodes.Node) -> str:
    if isinstance(node, nodes.Name):
        return node.name
    if isinstance(node, nodes.Filter) and node.node is not None:
        args = ", ".join(repr(arg.value) for arg in node.args if isinstance(arg, nodes.Const))
        return f"{_output_key(node.node)}|{node.name}" + (f"({args})" if node.args else "")
    raise MigrationError(f"the output '{type(node).__name__}' has no placeholder")


_Path = tuple[list[tuple[str, int]], str]


def _paths(body: Sequence[nodes.Node], emitter: _Emitter) -> list[_Path]:
    """Every way through a template body: (conditions taken, text); literal text keeps its braces escaped."""
    paths: list[_Path] = [([], "")]
    for node in body:
        if isinstance(node, nodes.Output):
            for child in node.nodes:
                if isinstance(child, nodes.TemplateData):
                    piece = child.data.replace("{", "{{").replace("}", "}}")
                else:
                    key = _output_key(child)
                    if key not in _OUTPUTS:
                        raise MigrationError(f"'{{{{ {key} }}}}' has no placeholder")
                    piece = "{" + _OUTPUTS[key] + "}"
                paths = [(conds, text + piece) for conds, text in paths]
        elif isinstance(node, nodes.If):
            branches: list[tuple[list[tuple[str, int]], list[_Path]]] = []
            negated: list[tuple[str, int]] = []
            for test_node, branch in [(node.test, node.body), *((e.test, e.body) for e in node.elif_)]:
                branches.append(([*negated, emitter.emit_bool(test_node)], _paths(branch, emitter)))
                negated.append(("!" + emitter.wrap_bool(test_node, 6), 6))
            branches.append((negated, _paths(node.else_, emitter)))
            paths = [(list(dict.fromkeys(conds + taken + inner_conds)), text + inner_text)
                     for conds, text in paths for taken, inner in branches for inner_conds, inner_text in inner]
        else:
            raise MigrationError(f"'{type(node).__name__}' blocks have no form in an answer (only if/elif/else)")
        if len(paths) > MAX_MIGRATED_PATHS:
            raise MigrationError(f"more than {MAX_MIGRATED_PATHS} combinations of if-blocks")
    return paths


def migrate_jinja_answer(template: str) -> tuple[str, list[AnswerVariant]]:
    """An old Jinja answer template as (answer, variants) with the same output; MigrationError if impossible.

    Each way through the if-blocks becomes one variant (they exclude each other, so their order doesn't
    matter); the way taken without a profile is the main answer.
    """
    env = Environment(trim_blocks=True, lstrip_blocks=True)
    try:
        tree = env.parse(template)
    except (TemplateSyntaxError, RecursionError) as exc:
        raise MigrationError(f"the template can't be read: {exc}") from None
    emitter = _Emitter(set(_DOUBLES), {name: var.type for name, var in ANSWER_VARIABLES.items()})
    paths = _paths(tree.body, emitter)
    merged: dict[str, list[str]] = {}
    for conds, text in paths:
        joined = " && ".join(f"({c})" if prec < 3 and len(conds) > 1 else c for c, prec in conds)
        merged.setdefault(_tidy(text), []).append(joined or "true")
    no_profile = answer_context(None)
    base = None
    variants = []
    for text, conditions in merged.items():
        when = conditions[0] if len(conditions) == 1 else " || ".join(f"({c})" for c in conditions)
        problems = check(when, ANSWER_VARIABLES, [no_profile])
        if problems:
            raise MigrationError(f"the condition `{when[:80]}` fails: {problems[0]}")
        if base is None and _variant_condition(when)(no_profile):
            base = text
        else:
            variants.append(AnswerVariant(when=when, text=text))
    if base is None:
        raise MigrationError("no way through the template is taken without a profile")
    if not base and variants:  # nothing to show without a profile: the answer was personal only
        raise MigrationError("the answer is empty without a profile")
    return base, variants


def migrate_stored_answer(data: Mapping[str, Any]) -> tuple[dict[str, Any], str | None]:
    """A stored FAQ entry (a dict) in the current answer form: (entry, None) or (entry unchanged, reason)."""
    answer = data.get("answer")
    if not isinstance(answer, str) or data.get("variants") or not _JINJA_RE.search(answer):
        return dict(data), None
    try:
        base, variants = migrate_jinja_answer(answer)
    except MigrationError as exc:
        return dict(data), f"its answer can't be converted from the old template form: {exc}"
    return {**data, "answer": base, "variants": [v.model_dump() for v in variants]} if variants else \
        {**data, "answer": base}, None

