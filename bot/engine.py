"""The rule engine: YAML rules with CEL conditions (bot/conditions.py), applied in priority order with a trace.

Conflict policy (also in the README):
- Rules run from the highest `priority` to the lowest; equal priorities run in id order.
- Settings (template, sessions_per_week, progression, max_minutes): the first rule to set one wins;
  a lower-priority rule that tries to change it is recorded in the trace as overridden.
- Exercise changes (add, remove, replace, remove_category, add_category) all apply, and a removal
  always beats an addition, whichever rule made it: safety edits can't be undone by a keener rule.
- Notes and warnings accumulate in priority order. One `withhold` is enough to withhold the plan.
- A condition that fails when evaluated (a null compared, its evaluation budget spent) skips that rule
  only, and is flagged in the trace; the member still gets a plan.
The planner then applies built-in safeguards (COACHING.md invariants) that no rule can switch off.
"""

from __future__ import annotations

import datetime as dt
import difflib
import functools
import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from bot.catalog import Catalog, Reps
from bot.conditions import (
    BOOL,
    DOUBLE,
    CelType,
    Condition,
    ConditionError,
    Variable,
    check,
    list_of,
    migrate_condition,
    strings,
)
from bot.models import DAYS, Category, Equipment, Goal, Level, Niggle, Profile
from bot.yamlio import DataFileError, UnreadableFile, describe_errors, line_of, load_yaml, read_yaml, yaml_errors

_ID = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"


# ------------------------------------------------------------------------------------------
# The variables a condition can see (documented in the README and `rules schema`), with their CEL types.

_DAY = strings(DAYS)
RULE_VARIABLES: dict[str, Variable] = {
    "weekly_km": Variable(DOUBLE, "weekly running distance in km (a decimal: compare with 30.0)"),
    "weekly_mi": Variable(DOUBLE, "weekly running distance in miles (a decimal)"),
    "level": Variable(strings(level.value for level in Level),
                      "strength level: 'beginner', 'intermediate' or 'advanced'"),
    "goals": Variable(list_of(strings(goal.value for goal in Goal)), "list of goals, e.g. 'speed' in goals"),
    "days_per_week": Variable(CelType("int", nullable=True), "strength days the runner asked for (1-3), or null"),
    "long_run_day": Variable(strings(DAYS, nullable=True), "'mon'..'sun', or null"),
    "hard_days": Variable(list_of(_DAY), "list of hard-run days, e.g. 'tue' in hard_days"),
    "equipment": Variable(list_of(strings(item.value for item in Equipment)),
                          "list of equipment the runner has ('gym' implies all of it)"),
    "niggles": Variable(list_of(strings(item.value for item in Niggle)),
                        "list of current niggles, e.g. 'achilles' in niggles"),
    "sharp_pain": Variable(BOOL, "true when the runner reports sharp joint pain now"),
    "has_race": Variable(BOOL, "true when a key race date is given and not in the past"),
    "days_to_race": Variable(CelType("int", nullable=True),
                             "days from the block's first day to the race (a whole number), or null"),
    "race_in_block": Variable(BOOL, "true when the race falls inside the 4-week block"),
    "race_soon": Variable(BOOL, "true when the race is inside the block or within 14 days after it"),
    "weeks_after_block_to_race": Variable(CelType("int", nullable=True),
                                          "whole weeks from the block's end to the race, or null"),
    "race_passed": Variable(BOOL, "true when a race date was given but falls before the block starts"),
}
VARIABLES: dict[str, str] = {name: var.description for name, var in RULE_VARIABLES.items()}


def context_for(profile: Profile, start: dt.date) -> dict[str, Any]:
    """The plain values a rule condition is evaluated against."""
    days_to_race = (profile.race_date - start).days if profile.race_date else None
    has_race = days_to_race is not None and days_to_race >= 0
    return {
        "weekly_km": float(profile.weekly_km),
        "weekly_mi": float(profile.weekly_mi),
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


_SAMPLE_START = dt.date(2026, 1, 5)


@functools.cache
def sample_contexts() -> tuple[dict[str, Any], ...]:
    """Contexts every condition is trial-run on when saved: small, typical, and the largest a profile allows."""
    profiles = [
        Profile(weekly_km=40, level="beginner", goals=["general"]),
        Profile(weekly_km=90, unit="mi", level="advanced", goals=["speed", "power"], days_per_week=3,
                long_run_day="sun", hard_days=["tue", "thu"], equipment=["gym"], niggles=["achilles", "knee"],
                sharp_pain=True, race_date=dt.date(2026, 2, 1)),
        Profile(weekly_km=250, level="intermediate", goals=[goal.value for goal in Goal], days_per_week=1,
                long_run_day="mon", hard_days=list(DAYS), equipment=[item.value for item in Equipment],
                niggles=[item.value for item in Niggle], race_date=dt.date(2026, 6, 1)),
        Profile(weekly_km=0, level="beginner", goals=["general"], race_date=dt.date(2025, 12, 1)),
    ]
    return tuple(context_for(profile, _SAMPLE_START) for profile in profiles)


def check_condition(expression: str) -> list[str]:
    """Everything wrong with a rule condition, found before it ever runs: syntax, names, types, values, cost."""
    return check(expression, RULE_VARIABLES, sample_contexts())


def rule_condition(expression: str) -> Condition:
    """A rule condition compiled for evaluation (cached by text: rule sets share their conditions)."""
    return _condition(expression)


@functools.lru_cache(maxsize=4096)
def _condition(expression: str) -> Condition:
    return Condition(expression, RULE_VARIABLES)


def _compiled_or_failing(expression: str) -> Callable[[Mapping[str, Any]], bool]:
    """The compiled condition; one that no longer compiles fails each evaluation instead (its rule is skipped)."""
    try:
        return rule_condition(expression)
    except ConditionError as exc:
        reason = str(exc)

        def failing(context: Mapping[str, Any]) -> bool:
            raise ConditionError(reason)
        return failing


def migrate_rule_condition(expression: Any) -> tuple[str | None, str | None]:
    """A stored rule condition as CEL: (cel, None), or (None, why it can't be converted)."""
    return migrate_condition(expression, RULE_VARIABLES, sample_contexts())


# ------------------------------------------------------------------------------------------
# Actions: a small vocabulary, each a one-key mapping in a rule's `then:` list.

class _Action(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SetTemplate(_Action):
    """Action: use this session template."""

    template: str


class SetSessions(_Action):
    """Action: plan this many strength sessions a week, or as many as the runner asked for."""

    sessions_per_week: int | Literal["runner"] = Field(
        description="1-3, or 'runner' for the number of strength days the runner asked for")

    @field_validator("sessions_per_week")
    @classmethod
    def _range(cls, value: int | str) -> int | str:
        if isinstance(value, int) and not 1 <= value <= 3:
            raise ValueError("sessions_per_week must be 1, 2, 3 or 'runner'")
        return value


class SetProgression(_Action):
    """Action: use this progression pattern for the block."""

    progression: str


class SetMaxMinutes(_Action):
    """Action: cap how many minutes a session may last."""

    max_minutes: int = Field(ge=15, le=90)


class ExerciseRef(_Action):
    """An exercise to add, with the session it goes in (default: the last) and its sets and reps."""

    id: str = Field(pattern=_ID)
    session: str | None = Field(default=None, pattern=r"^[A-Z]$",
                                description="A, B or C; absent means the week's last session")
    sets: int = Field(default=2, ge=1, le=5)
    reps: Reps = "10"


class AddExercise(_Action):
    """Action: add an exercise to a session."""

    add_exercise: ExerciseRef


class RemoveExercise(_Action):
    """Action: keep an exercise out of the plan; its substitutes are tried in its place."""

    remove_exercise: str = Field(pattern=_ID)


class Replacement(_Action):
    """Which exercise to replace (`from`) and the one to use instead (`to`)."""

    from_: str = Field(alias="from", pattern=_ID)
    to: str = Field(pattern=_ID)
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class ReplaceExercise(_Action):
    """Action: use one exercise in place of another."""

    replace_exercise: Replacement


class RemoveCategory(_Action):
    """Action: keep every exercise of a category out of the plan."""

    remove_category: Category


class CategoryRef(_Action):
    """A category to add an exercise from, with the session it goes in (default: the last) and its dose."""

    category: Category
    session: str | None = Field(default=None, pattern=r"^[A-Z]$")
    sets: int = Field(default=2, ge=1, le=5)
    reps: Reps = "10"


class AddCategory(_Action):
    """Action: add an exercise of a category to a session that has none."""

    add_category: CategoryRef


class AddNote(_Action):
    """Action: add a note to the plan (left out if its claim in rules/claims.yaml is untrue of the plan)."""

    note: str = Field(min_length=1, max_length=400)


class AddWarning(_Action):
    """Action: add a warning to the plan."""

    warning: str = Field(min_length=1, max_length=400)


class Withhold(_Action):
    """Action: withhold the strength plan, giving the runner this reason."""

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
        """The rule's actions as plain JSON data, keyed as in YAML (`from`, not `from_`)."""
        return [action.model_dump(mode="json", by_alias=True) for action in self.then]


# ------------------------------------------------------------------------------------------
# Outcome of running the rules over one profile.

@dataclass
class Setting:
    """A setting's chosen value and the id of the rule that chose it."""

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
        """A setting's value, or `default` when no rule set it."""
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


class RuleSet:
    """A validated, ordered set of rules over a catalogue, with a version hash of both."""

    def __init__(self, rules: list[Rule], catalog: Catalog, source: str = "rules") -> None:
        problems = check_references(rules, catalog, source)
        if problems:
            raise DataFileError(problems)
        self.catalog = catalog
        self.rules = sorted(rules, key=lambda r: (-r.priority, r.id))
        self.by_id = {rule.id: rule for rule in self.rules}
        self._compiled = [(rule, _compiled_or_failing(rule.when)) for rule in self.rules if rule.enabled]
        payload = {"rules": [r.model_dump(mode="json", exclude={"then"}) | {"then": r.action_dump()}
                             for r in self.rules], "catalog": catalog.canonical()}
        digest = hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()
        self.version = digest[:12]

    def evaluate(self, profile: Profile, start: dt.date) -> Outcome:
        """Run every enabled rule against the profile, highest priority first."""
        context = context_for(profile, start)
        out = Outcome()
        for rule, condition in self._compiled:
            try:
                fired = condition(context)
            except ConditionError as exc:  # a broken condition skips its own rule, never the plan
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
    unreadable = False
    for path in files:
        try:
            data, node = read_yaml(path)
            rules.extend(parse_rules(data, str(path), node))
        except DataFileError as exc:
            problems.extend(exc.problems)
            unreadable |= isinstance(exc, UnreadableFile)
    if problems:
        raise (UnreadableFile if unreadable else DataFileError)(problems)
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
        "A CEL expression over: " + "; ".join(f"{k}: {v}" for k, v in VARIABLES.items()))
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "LegDay rule file",
        "type": "object",
        "properties": {"rules": {"type": "array", "items": rule}},
        "required": ["rules"],
    }



def _yaml_scalar(text: str) -> str:
    """`text` as a one-line YAML scalar: plain when YAML reads it back unchanged, else double-quoted."""
    plain_safe = ": " not in text and " #" not in text and not text.startswith(("!", "&", "*", "'", '"', "[", "{"))
    try:
        if plain_safe and yaml.safe_load(text) == text:
            return text
    except yaml.YAMLError:
        pass
    return json.dumps(text, ensure_ascii=False)


def migrate_rule_text(text: str, source: str = "rules") -> tuple[str, int, list[str]]:
    """Rewrite every Jinja `when:` of a rule file's text as CEL: (new text, conditions changed, problems).

    Only the `when:` values change; comments, layout and every other field stay byte for byte. A condition
    that can't be converted is left as it was and named in `problems`.
    """
    with yaml_errors(source):
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    items = root
    if isinstance(root, yaml.MappingNode):
        items = next((value for key, value in root.value if key.value == "rules"), None)
    if not isinstance(items, yaml.SequenceNode):
        return text, 0, [f"{source}: no `rules:` list found"]
    edits: list[tuple[int, int, str]] = []
    problems: list[str] = []
    for item in items.value:
        if not isinstance(item, yaml.MappingNode):
            continue
        rule_id = next((v.value for k, v in item.value if k.value == "id"), "?")
        for key, value in item.value:
            if key.value != "when" or not isinstance(value, yaml.ScalarNode):
                continue
            raw = yaml.safe_load(text[value.start_mark.index:value.end_mark.index]) if value.style is None \
                else value.value
            converted, reason = migrate_rule_condition(raw)
            if converted is None:
                problems.append(f"{source}:{value.start_mark.line + 1}: rule '{rule_id}': {reason}")
            elif converted != raw:
                edits.append((value.start_mark.index, value.end_mark.index, _yaml_scalar(converted)))
    for begin, end, replacement in sorted(edits, reverse=True):
        text = text[:begin] + replacement + text[end:]
    return text, len(edits), problems


def migrate_rule_files(paths: list[Path], write: bool = True) -> tuple[int, list[str]]:
    """Convert the Jinja conditions of rule files to CEL in place: (conditions changed, problems)."""
    changed, problems = 0, []
    for path in paths:
        try:
            text = path.read_text(encoding="utf-8")
            new_text, count, found = migrate_rule_text(text, str(path))
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(f"{path}: can't read the file ({exc})")
            continue
        except DataFileError as exc:
            problems.extend(exc.problems)
            continue
        problems.extend(found)
        changed += count
        if write and count:
            path.write_text(new_text, encoding="utf-8")
    return changed, problems
