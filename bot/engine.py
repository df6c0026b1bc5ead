"""The rule engine: YAML rules with sandboxed Jinja conditions, applied in priority order with a trace.

Conflict policy (also in the README):
- Rules run from the highest `priority` to the lowest; equal priorities run in id order.
- Settings (template, sessions_per_week, progression, max_minutes): the first rule to set one wins;
  a lower-priority rule that tries to change it is recorded in the trace as overridden.
- Exercise changes (add, remove, replace, remove_category, add_category) all apply, and a removal
  always beats an addition, whichever rule made it: safety edits can't be undone by a keener rule.
- Notes and warnings accumulate in priority order. One `withhold` is enough to withhold the plan.
- A condition that fails when evaluated (a type error, a limit hit) skips that rule only, and is
  flagged in the trace; the member still gets a plan.
The planner then applies built-in safeguards (COACHING.md invariants) that no rule can switch off.
"""

from __future__ import annotations

import datetime as dt
import difflib
import hashlib
import json
import operator
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from jinja2 import Environment, TemplateSyntaxError, nodes, pass_eval_context
from jinja2 import filters as jinja_filters
from jinja2.compiler import CodeGenerator, Frame
from jinja2.exceptions import SecurityError
from jinja2.parser import Parser
from jinja2.sandbox import ImmutableSandboxedEnvironment
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from bot.catalog import Catalog, Reps
from bot.models import DAYS, Category, Equipment, Goal, Level, Niggle, Profile
from bot.yamlio import DataFileError, describe_errors, line_of, load_yaml, read_yaml

_ID = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
MAX_SEQUENCE = 10_000  # the longest string or list an expression may build
MAX_EXPRESSION = 500  # characters in one condition
MAX_INT_BITS = 4096  # the largest whole number an expression may build (about 1,200 digits)
MAX_DEPTH = 40  # nesting of brackets and operators in one condition


# ------------------------------------------------------------------------------------------
# The variables a condition can see (documented in the README and `rules schema`).

VARIABLES: dict[str, str] = {
    "weekly_km": "weekly running distance in km (number)",
    "weekly_mi": "weekly running distance in miles (number)",
    "level": "strength level: 'beginner', 'intermediate' or 'advanced'",
    "goals": "list of goals, e.g. 'speed' in goals",
    "days_per_week": "strength days the runner asked for (1-3), or none",
    "long_run_day": "'mon'..'sun', or none",
    "hard_days": "list of hard-run days, e.g. 'tue' in hard_days",
    "equipment": "list of equipment the runner has ('gym' implies all of it)",
    "niggles": "list of current niggles, e.g. 'achilles' in niggles",
    "sharp_pain": "true when the runner reports sharp joint pain now",
    "has_race": "true when a key race date is given and not in the past",
    "days_to_race": "days from the block's first day to the race (number), or none",
    "race_in_block": "true when the race falls inside the 4-week block",
    "race_soon": "true when the race is inside the block or within 14 days after it",
    "weeks_after_block_to_race": "whole weeks from the block's end to the race, or none",
    "race_passed": "true when a race date was given but falls before the block starts",
}
VOCABULARY: dict[str, set[str]] = {
    "level": {level.value for level in Level},
    "goals": {goal.value for goal in Goal},
    "equipment": {item.value for item in Equipment},
    "niggles": {item.value for item in Niggle},
    "hard_days": set(DAYS),
    "long_run_day": set(DAYS),
}
ALLOWED_FILTERS = {"length", "lower", "upper", "int", "float", "round", "abs", "min", "max", "default",
                   "count", "first", "last", "sort", "unique", "select", "reject", "join", "list"}
ALLOWED_TESTS = {"none", "defined", "number", "string", "sequence", "in", "eq", "ne", "lt", "le", "gt", "ge",
                 "odd", "even", "divisibleby", "true", "false"}


def context_for(profile: Profile, start: dt.date) -> dict[str, Any]:
    """The plain values a rule condition is evaluated against."""
    days_to_race = (profile.race_date - start).days if profile.race_date else None
    has_race = days_to_race is not None and days_to_race >= 0
    return {
        "weekly_km": profile.weekly_km,
        "weekly_mi": profile.weekly_mi,
        "level": profile.level.value,
        "goals": [goal.value for goal in profile.goals],
        "days_per_week": profile.days_per_week,
        "long_run_day": profile.long_run_day,
        "hard_days": list(profile.hard_days),
        "equipment": sorted(profile.available_equipment()),
        "niggles": [niggle.value for niggle in profile.niggles],
        "sharp_pain": profile.sharp_pain,
        "has_race": has_race,
        "days_to_race": days_to_race if has_race else None,
        "race_in_block": has_race and days_to_race < 28,
        "race_soon": has_race and days_to_race < 28 + 14,
        "weeks_after_block_to_race": (days_to_race - 28) // 7 if has_race and days_to_race >= 28 else None,
        "race_passed": days_to_race is not None and days_to_race < 0,
    }


class _BoundedCodeGenerator(CodeGenerator):
    """Compiles `~` into a call that checks the joined length first (Jinja joins it unchecked)."""

    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        self.write("environment.bounded_concat((")
        for arg in node.nodes:
            self.visit(arg, frame)
            self.write(", ")
        self.write("))")


class BoundedSandbox(ImmutableSandboxedEnvironment):
    """Jinja's immutable sandbox where nothing an expression builds can outgrow `max_sequence`.

    `*`, `**`, `+`, `%`, `~`, `join` and `list` check the size of their result before building it, and
    whole numbers are capped at MAX_INT_BITS, so memory and time per operation stay bounded. Used by
    rule conditions and by FAQ answer templates.
    """

    intercepted_binops = frozenset({"*", "**", "+", "%"})
    code_generator_class = _BoundedCodeGenerator
    max_sequence = MAX_SEQUENCE

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        limit_filters(self)

    def call_binop(self, context: Any, operator_: str, left: Any, right: Any) -> Any:
        check_deadline()
        return limited_binop(operator_, left, right, self.max_sequence)

    def bounded_concat(self, values: tuple[Any, ...]) -> str:
        check_deadline()
        parts = [str(value) for value in values]
        if sum(len(part) for part in parts) > self.max_sequence:
            raise SecurityError("that would build a text that is too long")
        return "".join(parts)


class RuleSandbox(BoundedSandbox):
    """The bounded sandbox for rule conditions: no globals, and only whitelisted filters and tests."""

    def __init__(self) -> None:
        super().__init__(autoescape=False)
        self.globals.clear()
        self.filters = {name: f for name, f in self.filters.items() if name in ALLOWED_FILTERS}
        self.tests = {name: t for name, t in self.tests.items() if name in ALLOWED_TESTS}


# Set by `time_budget` around a render: the monotonic time after which bounded operations give up.
# Only templates (FAQ answers) can loop; a loop doing real work goes through the bounded operations,
# so checking here stops it even when it prints nothing.
_DEADLINE: ContextVar[float | None] = ContextVar("legday_sandbox_deadline", default=None)


class OutOfTime(SecurityError):
    """A sandboxed render used up its time budget."""


def check_deadline() -> None:
    """Raise OutOfTime when the current render's time budget is spent."""
    deadline = _DEADLINE.get()
    if deadline is not None and time.monotonic() > deadline:
        raise OutOfTime("it took too long to work out")


@contextmanager
def time_budget(seconds: float) -> Iterator[None]:
    """Give sandboxed rendering inside the block `seconds` of wall time."""
    token = _DEADLINE.set(time.monotonic() + seconds)
    try:
        yield
    finally:
        _DEADLINE.reset(token)


def limit_filters(env: Environment) -> None:
    """Swap `join` and `list` for versions that refuse to build more than the sandbox's limit."""
    # The sync implementations: the registered filters are async-aware wrappers expecting an environment.
    join, to_list = jinja_filters.sync_do_join, jinja_filters.sync_do_list
    limit = getattr(env, "max_sequence", MAX_SEQUENCE)

    @pass_eval_context
    def limited_join(eval_ctx: Any, value: Any, d: str = "", attribute: Any = None) -> Any:
        check_deadline()
        if attribute is not None:
            raise SecurityError("join by attribute isn't allowed")
        items = list(value)
        size = 0
        for item in items:
            size += len(item if isinstance(item, str) else str(item)) + len(str(d))
            if size > limit:
                raise SecurityError("that would build a text that is too long")
        return join(eval_ctx, items, d)

    def limited_list(value: Any) -> list[Any]:
        check_deadline()
        if hasattr(value, "__len__") and len(value) > limit:
            raise SecurityError("that would build a sequence that is too long")
        return to_list(value)

    env.filters["join"] = limited_join
    env.filters["list"] = limited_list


def _too_big_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > MAX_INT_BITS


def limited_binop(operator_: str, left: Any, right: Any, max_sequence: int = MAX_SEQUENCE) -> Any:
    """`*`, `**`, `+` and `%` with every result's size bounded before it is built.

    Nothing here loops: each check is arithmetic on lengths and bit counts, so a hostile operand costs
    no more than a normal one.
    """
    if operator_ == "%":
        if isinstance(left, str):
            raise SecurityError("string formatting with % isn't allowed")
        return left % right
    if operator_ == "**":
        if isinstance(right, int | float) and abs(right) > 64:
            raise SecurityError("exponent too large")
        if isinstance(left, int) and isinstance(right, int) and right > 0 and \
                left.bit_length() * right > MAX_INT_BITS:
            raise SecurityError("that would build a number that is too large")
        return left**right
    if operator_ == "*":
        for seq, count in ((left, right), (right, left)):
            if isinstance(seq, str | list | tuple) and isinstance(count, int) and len(seq) * count > max_sequence:
                raise SecurityError("that would build a sequence that is too long")
        if isinstance(left, int) and isinstance(right, int) and \
                left.bit_length() + right.bit_length() > MAX_INT_BITS:
            raise SecurityError("that would build a number that is too large")
        return operator.mul(left, right)
    if _too_big_int(left) or _too_big_int(right):
        raise SecurityError("that number is too large")
    result = operator.add(left, right)
    if isinstance(result, str | list | tuple) and len(result) > max_sequence:
        raise SecurityError("that would build a sequence that is too long")
    return result


SANDBOX = RuleSandbox()
_SAMPLE_START = dt.date(2026, 1, 5)
_SAMPLE_PROFILES = [
    Profile(weekly_km=40, level="beginner", goals=["general"]),
    Profile(weekly_km=90, unit="mi", level="advanced", goals=["speed", "power"], days_per_week=3,
            long_run_day="sun", hard_days=["tue", "thu"], equipment=["gym"], niggles=["achilles", "knee"],
            sharp_pain=True, race_date=dt.date(2026, 2, 1)),
]


def check_condition(expression: str) -> list[str]:
    """Everything wrong with a condition, found before it ever runs: syntax, names, filters, vocabulary."""
    if len(expression) > MAX_EXPRESSION:
        return [f"the condition is {len(expression)} characters long; keep it under {MAX_EXPRESSION}"]
    depth = _bracket_depth(expression)
    if depth > MAX_DEPTH:
        return [f"the condition nests {depth} levels deep; keep it under {MAX_DEPTH}"]
    try:
        return _check_condition(expression)
    except (RecursionError, MemoryError, SyntaxError, OverflowError) as exc:
        # A parser or Python's compiler gave up on the expression itself: too deep or too big.
        return [f"the condition is too complex to check ({type(exc).__name__}); simplify it"]


def _bracket_depth(expression: str) -> int:
    """How deep brackets and runs of unary operators go, counted without parsing (parsers recurse)."""
    depth = deepest = run = 0
    for char in expression:
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        run = run + 1 if char in "-+" else (run if char.isspace() else 0)
        deepest = max(deepest, depth + run)
    return deepest


def _check_condition(expression: str) -> list[str]:
    try:
        parser = Parser(SANDBOX, expression, state="variable")
        tree = parser.parse_expression()
        if not parser.stream.eos:
            token = parser.stream.current
            return [f"unexpected '{token.value}' after the end of the condition"]
    except TemplateSyntaxError as exc:
        return [f"syntax error: {exc.message}"]
    # find_all() skips the node it is called on, so search from a wrapper: the root is checked too.
    tree = nodes.Output([tree])
    problems = []
    for name_node in tree.find_all(nodes.Name):
        if name_node.name not in VARIABLES and name_node.name not in ("true", "false", "none"):
            close = difflib.get_close_matches(name_node.name, VARIABLES, n=1)
            hint = f" Did you mean '{close[0]}'?" if close else ""
            problems.append(f"unknown variable '{name_node.name}'.{hint} Known: {', '.join(VARIABLES)}")
    for filter_node in tree.find_all(nodes.Filter):
        if filter_node.name not in SANDBOX.filters:
            problems.append(f"filter '{filter_node.name}' isn't allowed; use one of {sorted(SANDBOX.filters)}")
    for test_node in tree.find_all(nodes.Test):
        if test_node.name not in SANDBOX.tests:
            problems.append(f"test '{test_node.name}' isn't allowed; use one of {sorted(SANDBOX.tests)}")
    for getattr_node in tree.find_all(nodes.Getattr):
        problems.append(f"attribute access ('.{getattr_node.attr}') isn't allowed in a condition")
    for getitem_node in tree.find_all(nodes.Getitem):
        if isinstance(getitem_node.arg, nodes.Const) and isinstance(getitem_node.arg.value, str):
            problems.append(f"looking up ['{getitem_node.arg.value[:30]}'] isn't allowed in a condition; "
                            "only positions like goals[0]")
    for _ in tree.find_all(nodes.Call):
        problems.append("calling functions isn't allowed in a condition")
        break
    problems.extend(_vocabulary_problems(tree))
    if not problems:
        problems.extend(_trial_problems(expression))
    return problems


def _trial_problems(expression: str) -> list[str]:
    """Run the condition against sample profiles, so `weekly_km > 'x'` fails when saved, not when used."""
    try:
        test = SANDBOX.compile_expression(expression)
    except TemplateSyntaxError as exc:  # also TemplateAssertionError (an unknown filter or test)
        return [f"syntax error: {exc.message}"]
    for profile in _SAMPLE_PROFILES:
        try:
            test(**context_for(profile, _SAMPLE_START))
        except Exception as exc:
            return [f"the condition fails when evaluated: {exc}"]
    return []


def _vocabulary_problems(tree: nodes.Node) -> list[str]:
    """Catch `'sped' in goals` or `level == 'pro'`: a string that can never match the variable's values."""
    problems = []
    for compare in tree.find_all(nodes.Compare):
        operands = [compare.expr, *(op.expr for op in compare.ops)]
        names = [o.name for o in operands if isinstance(o, nodes.Name) and o.name in VOCABULARY]
        consts = [o.value for o in operands if isinstance(o, nodes.Const) and isinstance(o.value, str)]
        consts += [item.value for o in operands if isinstance(o, nodes.List | nodes.Tuple)
                    for item in o.items if isinstance(item, nodes.Const) and isinstance(item.value, str)]
        for name in names:
            for value in consts:
                if value not in VOCABULARY[name]:
                    close = difflib.get_close_matches(value, VOCABULARY[name], n=1)
                    hint = f" Did you mean '{close[0]}'?" if close else ""
                    problems.append(f"'{value}' is never a value of {name}.{hint} "
                                    f"Values: {', '.join(sorted(VOCABULARY[name]))}")
    return problems


# ------------------------------------------------------------------------------------------
# Actions: a small vocabulary, each a one-key mapping in a rule's `then:` list.

class _Action(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SetTemplate(_Action):
    template: str


class SetSessions(_Action):
    sessions_per_week: int | Literal["runner"] = Field(
        description="1-3, or 'runner' for the number of strength days the runner asked for")

    @field_validator("sessions_per_week")
    @classmethod
    def _range(cls, value: int | str) -> int | str:
        if isinstance(value, int) and not 1 <= value <= 3:
            raise ValueError("sessions_per_week must be 1, 2, 3 or 'runner'")
        return value


class SetProgression(_Action):
    progression: str


class SetMaxMinutes(_Action):
    max_minutes: int = Field(ge=15, le=90)


class ExerciseRef(_Action):
    id: str = Field(pattern=_ID)
    session: str | None = Field(default=None, pattern=r"^[A-Z]$",
                                description="A, B or C; absent means the week's last session")
    sets: int = Field(default=2, ge=1, le=5)
    reps: Reps = "10"


class AddExercise(_Action):
    add_exercise: ExerciseRef


class RemoveExercise(_Action):
    remove_exercise: str = Field(pattern=_ID)


class Replacement(_Action):
    from_: str = Field(alias="from", pattern=_ID)
    to: str = Field(pattern=_ID)
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class ReplaceExercise(_Action):
    replace_exercise: Replacement


class RemoveCategory(_Action):
    remove_category: Category


class CategoryRef(_Action):
    category: Category
    session: str | None = Field(default=None, pattern=r"^[A-Z]$")
    sets: int = Field(default=2, ge=1, le=5)
    reps: Reps = "10"


class AddCategory(_Action):
    add_category: CategoryRef


class AddNote(_Action):
    note: str = Field(min_length=1, max_length=400)


class AddWarning(_Action):
    warning: str = Field(min_length=1, max_length=400)


class Withhold(_Action):
    withhold: str = Field(min_length=1, max_length=600)


ACTION_TYPES: dict[str, type[_Action]] = {
    "template": SetTemplate, "sessions_per_week": SetSessions, "progression": SetProgression,
    "max_minutes": SetMaxMinutes, "add_exercise": AddExercise, "remove_exercise": RemoveExercise,
    "replace_exercise": ReplaceExercise, "remove_category": RemoveCategory, "add_category": AddCategory,
    "note": AddNote, "warning": AddWarning, "withhold": Withhold,
}
Action = Annotated[
    SetTemplate | SetSessions | SetProgression | SetMaxMinutes | AddExercise | RemoveExercise
    | ReplaceExercise | RemoveCategory | AddCategory | AddNote | AddWarning | Withhold,
    Field(union_mode="left_to_right"),
]


def _parse_action(raw: Any) -> _Action:
    if not isinstance(raw, dict) or len(raw) != 1:
        raise ValueError("each action is a mapping with exactly one key, one of: " + ", ".join(ACTION_TYPES))
    (key, _value), = raw.items()
    if key not in ACTION_TYPES:
        close = difflib.get_close_matches(str(key), ACTION_TYPES, n=1)
        hint = f" Did you mean '{close[0]}'?" if close else ""
        raise ValueError(f"unknown action '{key}'.{hint} Actions: {', '.join(ACTION_TYPES)}")
    return ACTION_TYPES[key].model_validate(raw)


class Rule(BaseModel):
    """One rule as a moderator writes it in YAML."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=_ID, max_length=60)
    description: str = Field(min_length=1, max_length=300)
    priority: int = Field(default=50, ge=0, le=1000)
    enabled: bool = True
    tags: list[str] = Field(default_factory=list, max_length=10)
    when: str = Field(default="true", min_length=1)
    then: list[Any] = Field(min_length=1, max_length=20)

    @field_validator("when", mode="before")
    @classmethod
    def _when(cls, value: Any) -> Any:
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, str):
            problems = check_condition(value)
            if problems:
                raise ValueError("; ".join(problems))
        return value

    @field_validator("then")
    @classmethod
    def _then(cls, value: list[Any]) -> list[Any]:
        actions = []
        for raw in value:
            if isinstance(raw, _Action):
                actions.append(raw)
                continue
            try:
                actions.append(_parse_action(raw))
            except ValidationError as exc:
                first = exc.errors()[0]
                where = ".".join(str(part) for part in first["loc"])
                raise ValueError(f"action {raw!r:.60}: {where}: {first['msg']}") from None
        return actions

    def action_dump(self) -> list[dict[str, Any]]:
        return [action.model_dump(mode="json", by_alias=True) for action in self.then]


# ------------------------------------------------------------------------------------------
# Outcome of running the rules over one profile.

@dataclass
class Setting:
    value: Any
    rule_id: str


@dataclass
class Outcome:
    """What the rules decided, before the planner turns it into weeks."""

    settings: dict[str, Setting] = field(default_factory=dict)
    added: list[tuple[ExerciseRef, str]] = field(default_factory=list)
    added_categories: list[tuple[CategoryRef, str]] = field(default_factory=list)
    removed: dict[str, str] = field(default_factory=dict)  # exercise id -> rule id
    removed_categories: dict[str, str] = field(default_factory=dict)
    replaced: dict[str, tuple[str, str]] = field(default_factory=dict)  # from -> (to, rule id)
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    withheld: str | None = None
    fired: list[str] = field(default_factory=list)
    trace: list[dict[str, Any]] = field(default_factory=list)

    def get(self, name: str, default: Any = None) -> Any:
        setting = self.settings.get(name)
        return setting.value if setting else default


_SETTING_WORDS = {
    "template": "use the {} session template",
    "sessions_per_week": "{} strength session(s) a week",
    "progression": "'{}' progression",
    "max_minutes": "sessions of at most {} minutes",
}


def _apply(action: _Action, rule: Rule, profile: Profile, out: Outcome) -> tuple[str, bool]:
    """Apply one action; return a plain-words account of it and whether it changed anything."""
    match action:
        case SetTemplate(template=v) | SetProgression(progression=v) | SetMaxMinutes(max_minutes=v) | \
             SetSessions(sessions_per_week=v):
            name = next(iter(type(action).model_fields))
            if name == "sessions_per_week" and v == "runner":
                if profile.days_per_week is None:
                    return "no strength days were given, so this changes nothing", False
                v = profile.days_per_week
            words = _SETTING_WORDS[name].format(v)
            if name in out.settings:
                kept = out.settings[name]
                return f"wanted {words}, but '{kept.rule_id}' (higher priority) already chose {kept.value}", False
            out.settings[name] = Setting(v, rule.id)
            return words, True
        case AddExercise(add_exercise=ref):
            out.added.append((ref, rule.id))
            where = f" to session {ref.session}" if ref.session else ""
            return f"add {ref.id} ({ref.sets} x {ref.reps}){where}", True
        case RemoveExercise(remove_exercise=ex_id):
            out.removed.setdefault(ex_id, rule.id)
            return f"remove {ex_id}", True
        case ReplaceExercise(replace_exercise=rep):
            out.replaced.setdefault(rep.from_, (rep.to, rule.id))
            return f"replace {rep.from_} with {rep.to}", True
        case RemoveCategory(remove_category=cat):
            out.removed_categories.setdefault(cat.value, rule.id)
            return f"no {cat.value} exercises", True
        case AddCategory(add_category=ref):
            out.added_categories.append((ref, rule.id))
            return f"add a {ref.category.value} exercise", True
        case AddNote(note=text):
            if text not in out.notes:
                out.notes.append(text)
            return "note: " + text, True
        case AddWarning(warning=text):
            if text not in out.warnings:
                out.warnings.append(text)
            return "warning: " + text, True
        case Withhold(withhold=text):
            if out.withheld is None:
                out.withheld = text
            return "withhold the strength plan: " + text, True
    raise AssertionError(f"unhandled action {action!r}")  # pragma: no cover - the union is closed


@dataclass(frozen=True)
class CompiledRule:
    rule: Rule
    test: Callable[..., Any]


class RuleSet:
    """A validated, ordered set of rules over a catalogue, with a version hash of both."""

    def __init__(self, rules: list[Rule], catalog: Catalog, source: str = "rules") -> None:
        problems = check_references(rules, catalog, source)
        if problems:
            raise DataFileError(problems)
        self.catalog = catalog
        self.rules = sorted(rules, key=lambda r: (-r.priority, r.id))
        self.by_id = {rule.id: rule for rule in self.rules}
        self._compiled = [CompiledRule(r, SANDBOX.compile_expression(r.when)) for r in self.rules if r.enabled]
        # All conditions in one template: one render per profile instead of one per rule. If any condition
        # raises, evaluate() falls back to rule-by-rule so only the broken rule is skipped.
        # Built from the parsed expressions, not pasted source, so no condition can reshape the template.
        body = [nodes.Output([nodes.CondExpr(Parser(SANDBOX, c.rule.when, state="variable").parse_expression(),
                                             nodes.Const("1"), nodes.Const("0"))]) for c in self._compiled]
        self._batch = SANDBOX.from_string(nodes.Template(body, lineno=1)) if body else None
        payload = {"rules": [r.model_dump(mode="json", exclude={"then"}) | {"then": r.action_dump()}
                             for r in self.rules], "catalog": catalog.canonical()}
        digest = hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()
        self.version = digest[:12]

    def evaluate(self, profile: Profile, start: dt.date) -> Outcome:
        """Run every enabled rule against the profile, highest priority first."""
        context = context_for(profile, start)
        out = Outcome()
        try:
            flags = self._batch.render(**context) if self._batch else ""
        except Exception:
            flags = None  # some condition is broken: find it rule by rule below
        for index, compiled in enumerate(self._compiled):
            rule = compiled.rule
            if flags is not None:
                fired = flags[index] == "1"
            else:
                try:
                    fired = bool(compiled.test(**context))
                except Exception as exc:  # a broken condition skips its own rule, never the plan
                    out.trace.append({"rule_id": rule.id, "description": rule.description, "status": "error",
                                      "changes": [f"condition failed and the rule was skipped: {exc}"]})
                    continue
            if not fired:
                continue
            out.fired.append(rule.id)
            changes, changed = [], False
            for action in rule.then:
                words, did = _apply(action, rule, profile, out)
                changes.append(words)
                changed |= did
            out.trace.append({"rule_id": rule.id, "description": rule.description,
                              "status": "applied" if changed else "overridden", "changes": changes})
        return out


def check_references(rules: list[Rule], catalog: Catalog, source: str) -> list[str]:
    """Names a rule uses that the catalogue doesn't have: exercises, templates, progressions; duplicate ids."""
    problems = []
    seen: set[str] = set()
    for rule in rules:
        if rule.id in seen:
            problems.append(f"{source}: rule '{rule.id}' is defined twice")
        seen.add(rule.id)
        for action in rule.then:
            names: list[tuple[str, str, Mapping[str, Any]]] = []
            match action:
                case SetTemplate(template=t):
                    names.append(("template", t, catalog.templates))
                case SetProgression(progression=p):
                    names.append(("progression", p, catalog.progressions))
                case AddExercise(add_exercise=ref):
                    names.append(("exercise", ref.id, catalog.exercises))
                case RemoveExercise(remove_exercise=ex_id):
                    names.append(("exercise", ex_id, catalog.exercises))
                case ReplaceExercise(replace_exercise=rep):
                    names += [("exercise", rep.from_, catalog.exercises), ("exercise", rep.to, catalog.exercises)]
            for kind, name, known in names:
                if name not in known:
                    close = difflib.get_close_matches(name, list(known), n=1)
                    hint = f" Did you mean '{close[0]}'?" if close else ""
                    problems.append(f"{source}: rule '{rule.id}' field 'then': unknown {kind} '{name}'.{hint}")
    return problems


def parse_rules(data: Any, source: str, node: Any = None) -> list[Rule]:
    """Validate the `rules:` list of one file; every problem names the file, line, rule id and field."""
    if isinstance(data, dict) and "rules" in data:
        items, prefix = data["rules"], ["rules"]
    else:
        items, prefix = data, []
    if not isinstance(items, list):
        raise DataFileError([f"{source}: expected a list of rules under 'rules:'"])
    rules, problems = [], []
    for index, raw in enumerate(items):
        rule_id = raw.get("id", f"#{index + 1}") if isinstance(raw, dict) else f"#{index + 1}"
        try:
            rules.append(Rule.model_validate(raw))
        except ValidationError as exc:
            problems.extend(describe_errors(exc, source, node, [*prefix, index], label=f"rule '{rule_id}'"))
    if problems:
        raise DataFileError(problems)
    return rules


def parse_rule_text(text: str, source: str = "rule") -> Rule:
    """One rule from YAML text (a moderator's edit): the same checks as a file."""
    data, node = load_yaml(text, source)
    if isinstance(data, list):
        if len(data) != 1:
            raise DataFileError([f"{source}: expected exactly one rule, found {len(data)}"])
        data, node = data[0], node.value[0] if node is not None else None
    if not isinstance(data, dict):
        raise DataFileError([f"{source}:{line_of(node, []) or 1}: a rule is a mapping with id, description, "
                             "when and then"])
    # Present the one rule as a one-item list so error lines are found the same way as in a file.
    wrapped = None if node is None else yaml.SequenceNode(
        tag="tag:yaml.org,2002:seq", value=[node], start_mark=node.start_mark, end_mark=node.end_mark)
    return parse_rules([data], source, wrapped)[0]


def load_rule_files(rules_dir: Path) -> list[Rule]:
    """Every rule in rules_dir/rules/*.yaml, in file order; all problems in all files reported together."""
    folder = rules_dir / "rules"
    files = sorted(folder.glob("*.yaml")) + sorted(folder.glob("*.yml"))
    if not files:
        raise DataFileError([f"{folder}: no rule files (*.yaml) found"])
    rules, problems = [], []
    for path in files:
        try:
            data, node = read_yaml(path)
            rules.extend(parse_rules(data, str(path), node))
        except DataFileError as exc:
            problems.extend(exc.problems)
    if problems:
        raise DataFileError(problems)
    return rules


def load_ruleset(rules_dir: Path, catalog: Catalog | None = None) -> RuleSet:
    """The catalogue and rules from one folder, fully validated; nothing half-loads."""
    from bot.catalog import load_catalog

    catalog = catalog or load_catalog(rules_dir)
    return RuleSet(load_rule_files(rules_dir), catalog, source=str(rules_dir / "rules"))


def rule_schema() -> dict[str, Any]:
    """JSON Schema for a rule file, for editors to check moderators' YAML as they type."""
    action_schemas = []
    for key, model in ACTION_TYPES.items():
        schema = model.model_json_schema(by_alias=True)
        schema["title"] = key
        action_schemas.append(schema)
    rule = Rule.model_json_schema()
    rule["properties"]["then"] = {"type": "array", "minItems": 1, "items": {"anyOf": action_schemas}}
    rule["properties"]["when"]["description"] = (
        "A Jinja expression over: " + "; ".join(f"{k}: {v}" for k, v in VARIABLES.items()))
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "LegDay rule file",
        "type": "object",
        "properties": {"rules": {"type": "array", "items": rule}},
        "required": ["rules"],
    }

