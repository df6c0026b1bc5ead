"""Moderators' live tuning of rules and FAQ per server: overrides, previews, impact, audit trail, revert.

Overrides live in each server's settings (`storage.guilds`):

- `rule_overrides`: {rule_id: RuleOverride}: a whole rule the server added or edited ({"rule": <the shape
  of a YAML rule>}), or a default rule switched on or off ({"enabled": bool}).
- `faq_overrides`: {entry_id: FaqOverride}: {"entry": <an FAQ entry>} or {"removed": true}.

Both are typed pydantic models, stored as their plain dumps; both overlays go through one `_overlay`.

The files in rules/ stay the defaults. A server's effective rule set is the defaults with its overrides
on top; it is memoised on the defaults' version and a hash of the overrides, so building it costs
once per change, not once per plan. A stored override that no longer validates (the bot owner reloaded
defaults without an exercise it names, say) is skipped and reported in `problems`, never fatal.

Every write goes through `storage.guilds.update` and appends one audit entry in the same locked step:
{"at", "actor_id", "kind", "target", "action", "before", "after", "rules_version"} plus "scope" (which
setting the change touched) and "override_before"/"override_after" (the stored values: the Change it
made, whose inverse `revert` applies). "before" and "after" are the readable states: a rule or entry as a plain
dict, a role id, or None when there was none.
"""

from __future__ import annotations

import copy
import datetime as dt
import difflib
import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from bot.answers import migrate_stored_answer
from bot.engine import Outcome, Rule, RuleSet, check_references, load_ruleset, migrate_rule_condition, parse_rule_text
from bot.errors import LegDayError
from bot.faq import FaqBase, FaqEntry, FaqError, load_faq, validate_entry
from bot.models import Plan, Profile
from bot.planner import Planner, block_start
from bot.yamlio import DataFileError, load_yaml, yaml_errors

if TYPE_CHECKING:
    from bot.coach import Coach
    from bot.storage import Storage

# A Discord modal's text input holds at most 4,000 characters; nothing a moderator sends is longer.
MAX_TEXT = 4000
# YAML a moderator writes never needs deep nesting; a deep document would only exhaust the parser.
MAX_YAML_DEPTH = 12
MAX_RULE_OVERRIDES = 200
MAX_FAQ_OVERRIDES = 200
MAX_HISTORY = 50
_CACHE_SIZE = 64
EXAMPLE_LIMIT = 900  # characters of the example diff an impact preview shows

Origin = Literal["default", "changed", "server"]


class TuningError(LegDayError):
    """Something a moderator asked for that can't be done; the message says why and what would work."""


class StaleChange(TuningError):
    """The item changed since the moderator's preview, so nothing was saved; `current` is the newer version."""

    def __init__(self, target: str, current: str | None) -> None:
        self.target, self.current = target, current
        shown = f"\nThis is how it is now:\n{current}" if current else "\nIt no longer exists."
        super().__init__(f"'{target}' was changed by someone else since your preview, so nothing was saved. "
                         f"Look at the newer version and make your change again if it still applies.{shown}")


# ------------------------------------------------------------------------------------------------
# Effective rule sets and FAQ


def _digest(value: Any) -> str:
    blob = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


class _LRU:
    """A small thread-safe least-recently-used cache (effective sets are built off the event loop too)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[Any, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Any) -> Any:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        return None

    def put(self, key: Any, value: Any) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


_RULESETS = _LRU(_CACHE_SIZE)
# Stored rules already validated (condition trial runs included), by a hash of their data: a change to
# one rule of a server with many rebuilds the set without re-checking all the others.
_PARSED_RULES = _LRU(2048)
_FAQS = _LRU(_CACHE_SIZE)


class ServerRuleSet(RuleSet):
    """A server's effective rule set: a RuleSet that also lists the stored overrides it had to skip."""

    problems: list[str]


def rule_to_dict(rule: Rule) -> dict[str, Any]:
    """A rule as plain data, the shape a YAML rule file has (and the shape stored in overrides)."""
    data = rule.model_dump(mode="json", exclude={"then"})
    data["then"] = rule.action_dump()
    return data


class SwitchedOff(DataFileError):
    """A stored rule or entry in an old form that can't be converted: it is kept, switched off, and shown."""

    def __init__(self, problems: list[str], kept: Any = None) -> None:
        super().__init__(problems)
        self.kept = kept


def _rule_from_dict(data: Any, base: RuleSet, rule_id: str) -> Rule:
    """Rebuild a stored rule with every check a file gets; DataFileError when it no longer holds.

    A rule saved with the old Jinja condition is converted to CEL here (bot/conditions.py); one that can't
    be converted raises SwitchedOff carrying the rule switched off (condition `false`), so it is kept.
    """
    where = f"server rule '{rule_id}'"
    key = _digest(data)
    rule = _PARSED_RULES.get(key)
    if rule is None:
        rule = _migrated_rule(data, where)
        _PARSED_RULES.put(key, rule)
    if isinstance(rule, SwitchedOff):
        raise rule
    problems = check_references([rule], base.catalog, where)
    if problems:
        raise DataFileError(problems)
    return rule


def _migrated_rule(data: Any, where: str) -> Rule | SwitchedOff:
    try:
        return _validated_rule(data, where)
    except DataFileError:
        if not isinstance(data, Mapping) or "when" not in data:
            raise
        converted, reason = migrate_rule_condition(data["when"])
        if converted is None or converted == data["when"]:
            if reason is None:
                raise
            kept = _validated_rule({**data, "when": "false", "enabled": False}, where)
            return SwitchedOff([f"{where} is switched off: {reason}. Fix it with /rules edit."], kept)
        return _validated_rule({**data, "when": converted}, where)


def _validated_rule(data: Any, where: str) -> Rule:
    try:
        return Rule.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or "rule"
        raise DataFileError([f"{where} field '{field}': {first['msg'].removeprefix('Value error, ')}"]) from None
    except (RecursionError, MemoryError, TypeError) as exc:
        raise DataFileError([f"{where}: can't be read ({type(exc).__name__})"]) from None


class RuleOverride(BaseModel):
    """A server's stored change to one rule: a whole rule (added or edited), or a default switched on/off."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    rule: dict[str, Any] | None = None  # the shape of a YAML rule
    enabled: bool | None = None

    @model_validator(mode="after")
    def _one(self) -> RuleOverride:
        if (self.rule is None) == (self.enabled is None):
            raise ValueError("a rule override holds either 'rule' or 'enabled'")
        return self

    def stored(self) -> dict[str, Any]:
        """The plain value kept in storage."""
        return self.model_dump(mode="json", exclude_none=True)


class FaqOverride(BaseModel):
    """A server's stored change to one FAQ entry: a whole entry (added or edited), or a default removed."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    entry: dict[str, Any] | None = None
    removed: bool | None = None

    @model_validator(mode="after")
    def _one(self) -> FaqOverride:
        if (self.entry is None) == (not self.removed):
            raise ValueError("an FAQ override holds either 'entry' or 'removed: true'")
        return self

    def stored(self) -> dict[str, Any]:
        """The plain value kept in storage."""
        return self.model_dump(mode="json", exclude_none=True)


def _overlay(base: dict[str, Any], overrides: Mapping[str, Any], model: type[BaseModel],
             place: Callable[[dict[str, Any], str, Any, list[str]], None]) -> tuple[list[Any], list[str]]:
    """Defaults with a server's overrides on top, written once for rules and FAQ alike.

    Each stored value is read as its typed model (a malformed one is reported and skipped), then `place`
    puts it in; nothing here is ever fatal.
    """
    items, problems = dict(base), []
    for key in sorted(overrides):
        try:
            override = model.model_validate(overrides[key])
        except ValidationError as exc:
            problems.append(f"override for '{key}' can't be read ({exc.errors()[0]['msg']}); skipped")
            continue
        place(items, key, override, problems)
    return list(items.values()), problems


def _place_rule(base: RuleSet) -> Callable[[dict[str, Any], str, Any, list[str]], None]:
    def place(rules: dict[str, Any], rule_id: str, override: RuleOverride, problems: list[str]) -> None:
        if override.enabled is not None:
            if rule_id in rules:
                rules[rule_id] = rules[rule_id].model_copy(update={"enabled": override.enabled})
            else:
                problems.append(f"'{rule_id}' is no longer a default rule; its on/off switch is ignored")
            return
        try:
            rule = _rule_from_dict(override.rule, base, rule_id)
        except SwitchedOff as exc:
            problems.extend(exc.problems)
            rule = exc.kept
        except DataFileError as exc:
            problems.extend(f"{line} (skipped)" for line in exc.problems)
            return
        if rule.id != rule_id:
            problems.append(f"override '{rule_id}' holds a rule with id '{rule.id}'; skipped")
            return
        rules[rule_id] = rule
    return place


def _place_entry(entries: dict[str, Any], entry_id: str, override: FaqOverride, problems: list[str]) -> None:
    if override.removed:
        entries.pop(entry_id, None)
        return
    entry, problem = _stored_entry(override.entry, entry_id)
    if problem is not None:
        problems.append(problem)  # left out, never fatal; moderators see why in /faq-admin list
    elif entry is not None and entry.id == entry_id:
        entries[entry_id] = entry


def effective_ruleset(base: RuleSet, overrides: Mapping[str, Any] | None) -> RuleSet:
    """The defaults with a server's rule overrides applied; memoised, and `base` itself when none."""
    if not overrides:
        return base
    key = (id(base), base.version, _digest(overrides))
    cached = _RULESETS.get(key)
    if cached is None:
        rules, problems = _overlay(base.by_id, overrides, RuleOverride, _place_rule(base))
        cached = ServerRuleSet(rules, base.catalog, source="server rules")
        cached.problems = problems
        _RULESETS.put(key, cached)
    return cached


def effective_faq(base: FaqBase, overrides: Mapping[str, Any] | None) -> FaqBase:
    """The default FAQ with a server's added, edited and removed entries; memoised, `base` when none."""
    if not overrides:
        return base
    key = (id(base), base.version, _digest(overrides))
    cached = _FAQS.get(key)
    if cached is None:
        entries, problems = _overlay({entry.id: entry for entry in base.entries}, overrides, FaqOverride,
                                     _place_entry)
        cached = ServerFaq(entries, source="server FAQ")
        cached.problems = problems
        _FAQS.put(key, cached)
    return cached


class ServerFaq(FaqBase):
    """A server's effective FAQ: a FaqBase that also lists the stored entries it had to leave out."""

    problems: list[str]


def _stored_entry(data: Any, entry_id: str) -> tuple[FaqEntry | None, str | None]:
    """A stored entry, its old Jinja answer converted to the current form (bot/answers.py) when needed."""
    where = f"server entry '{entry_id}'"
    if not isinstance(data, Mapping):
        return None, f"{where} isn't a mapping; it is left out"
    migrated, reason = migrate_stored_answer(data)
    if reason is not None:
        return None, f"{where} is switched off: {reason}. Fix it with /faq-admin edit."
    try:
        return validate_entry(migrated, where), None
    except (FaqError, RecursionError, TypeError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return None, f"{first} (left out)"


@dataclass(frozen=True)
class RuleRow:
    """One line of /rules list: a rule of the server's effective set and where it comes from."""

    id: str
    description: str
    tags: tuple[str, ...]
    priority: int
    enabled: bool
    origin: Origin


def rule_rows(base: RuleSet, overrides: Mapping[str, Any] | None) -> list[RuleRow]:
    """Every rule of the server's effective set, in priority order, marked default, changed or server."""
    overrides = overrides or {}
    effective = effective_ruleset(base, overrides)
    rows = []
    for rule in effective.rules:
        if rule.id not in base.by_id:
            origin: Origin = "server"
        elif rule != base.by_id[rule.id]:
            origin = "changed"
        else:
            origin = "default"
        rows.append(RuleRow(rule.id, rule.description, tuple(rule.tags), rule.priority, rule.enabled, origin))
    return rows


# ------------------------------------------------------------------------------------------------
# Reading what a moderator typed


def _yaml_guard(text: Any, source: str) -> str:
    """Refuse text that would make the YAML parser itself the weak point: size, nesting, aliases."""
    if not isinstance(text, str):
        raise DataFileError([f"{source}: expected YAML text"])
    if len(text) > MAX_TEXT:
        raise DataFileError([f"{source}: {len(text):,} characters is too long; keep it under {MAX_TEXT:,}"])
    if not text.strip():
        raise DataFileError([f"{source}: it's empty; paste the YAML of one rule"])
    # The scanner looks ahead at every opening bracket, so a wall of them is slow before it is deep:
    # a plain count (quotes ignored, so it can only over-count) turns that away first.
    depth = deepest = 0
    for char in text:
        depth += (char in "[{") - (char in "]}")
        deepest = max(deepest, depth)
    if deepest > 3 * MAX_YAML_DEPTH:
        raise DataFileError([f"{source}: nested too deeply (more than {MAX_YAML_DEPTH} levels)"])
    depth = 0
    with yaml_errors(source):
        for token in yaml.scan(text, Loader=yaml.SafeLoader):
            if isinstance(token, yaml.AliasToken | yaml.AnchorToken):
                line = token.start_mark.line + 1
                raise DataFileError([f"{source}:{line}: YAML anchors and aliases (& and *) aren't accepted here; "
                                     "write each value out"])
            if isinstance(token, yaml.BlockMappingStartToken | yaml.BlockSequenceStartToken
                          | yaml.FlowMappingStartToken | yaml.FlowSequenceStartToken):
                depth += 1
                if depth > MAX_YAML_DEPTH:
                    line = token.start_mark.line + 1
                    raise DataFileError([f"{source}:{line}: nested too deeply (more than {MAX_YAML_DEPTH} levels)"])
            elif isinstance(token, yaml.BlockEndToken | yaml.FlowMappingEndToken | yaml.FlowSequenceEndToken):
                depth -= 1
            elif isinstance(token, yaml.TagToken):
                line = token.start_mark.line + 1
                raise DataFileError([f"{source}:{line}: YAML tags (!!...) aren't accepted here"])
    return text


def parse_moderator_rule(text: str, ruleset: RuleSet) -> Rule:
    """One rule from a moderator's YAML, with every check a rule file gets plus catalogue references."""
    source = "your rule"
    _yaml_guard(text, source)
    try:
        rule = parse_rule_text(text, source)
    except DataFileError:
        raise
    except (RecursionError, MemoryError) as exc:
        raise DataFileError([f"{source}: too complex to read ({type(exc).__name__}); simplify it"]) from None
    except ValueError as exc:  # e.g. an integer literal too long to convert
        raise DataFileError([f"{source}: can't read it: {exc}"]) from None
    problems = check_references([rule], ruleset.catalog, source)
    if problems:
        raise DataFileError(problems)
    return rule


def parse_moderator_entry(text: str, shipped: FaqBase | None = None) -> FaqEntry:
    """One FAQ entry from a moderator's YAML, with every check the FAQ file gets.

    An entry that changes a shipped one (same id) and lists no example questions keeps the shipped ones:
    the edit form leaves them out, since with them a shipped entry is longer than a Discord form holds.
    """
    source = "your entry"
    _yaml_guard(text, source)
    try:
        data, _ = load_yaml(text, source)
    except (RecursionError, ValueError) as exc:
        if isinstance(exc, DataFileError):
            raise
        raise DataFileError([f"{source}: can't read it ({type(exc).__name__})"]) from None
    if isinstance(data, list) and len(data) == 1:
        data = data[0]
    if not isinstance(data, dict):
        raise DataFileError([f"{source}: an entry is a mapping with id, question, phrasings and answer"])
    inherited = shipped.get(str(data.get("id"))) if shipped is not None else None
    if inherited is not None and "phrasings" not in data and "examples" not in data:
        data = {**data, "phrasings": list(inherited.phrasings)}
        data.setdefault("tags", list(inherited.tags))
    try:
        return validate_entry(data, source)
    except FaqError as exc:
        raise DataFileError(str(exc).splitlines()) from None


class _RuleDumper(yaml.SafeDumper):
    """Block-style YAML with long text folded at spaces, so a rule reads like the shipped files."""


def _str_presenter(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_RuleDumper.add_representer(str, _str_presenter)


def _dump(data: Any) -> str:
    return yaml.dump(data, Dumper=_RuleDumper, sort_keys=False, allow_unicode=True, width=100,
                     default_flow_style=False)


def rule_to_yaml(rule: Rule) -> str:
    """A rule as readable YAML for the edit modal; compact flow style if block style would not fit."""
    data = rule_to_dict(rule)
    text = _dump(data)
    if len(text) > MAX_TEXT:
        text = yaml.dump(data, Dumper=_RuleDumper, sort_keys=False, allow_unicode=True, width=4000,
                         default_flow_style=None)
    return text


def entry_to_yaml(entry: FaqEntry, shipped: FaqBase | None = None) -> str:
    """An FAQ entry as readable YAML for the edit modal, within Discord's limit.

    A shipped entry's own example questions are left out; saving keeps them (see parse_moderator_entry).
    """
    data = entry.model_dump(mode="json")
    inherited = shipped.get(entry.id) if shipped is not None else None
    if inherited is None or list(inherited.phrasings) != data["phrasings"] or list(inherited.tags) != data["tags"]:
        return _dump(data)
    del data["phrasings"], data["tags"]
    return (f"# The {len(inherited.phrasings)} example questions of the shipped entry are kept; list\n"
            "# `examples:` here to replace them with your own.\n" + _dump(data))


def export_yaml(ruleset: RuleSet) -> str:
    """The whole effective rule set as one rule file (loadable by `rules check`)."""
    header = (f"# LegDay rules, version {ruleset.version}: {len(ruleset.rules)} rules in priority order.\n"
              "# The same format as the files in rules/rules/.\n")
    return header + _dump({"rules": [rule_to_dict(rule) for rule in ruleset.rules]})


# ------------------------------------------------------------------------------------------------
# Impact of a change


@dataclass(frozen=True)
class Impact:
    """How many of the checked profiles would get a different plan, with one readable example."""

    total: int
    changed: int
    example: str | None = None


def _week_exercises(plan: Plan) -> list[dict[str, str]]:
    return [{item.id: item.name for session in week.sessions for item in session.exercises} for week in plan.weeks]


def _listed(items: Iterable[str]) -> str:
    return ", ".join(items)


def plan_diff(before: Plan, after: Plan) -> list[str]:
    """Short lines saying how `after` differs from `before` (settings, exercises, notes); no user data."""
    lines: list[str] = []
    if before.withheld != after.withheld:
        lines.append("plan withheld" if after.withheld else "plan no longer withheld")
    for name, label in (("template", "template"), ("sessions_per_week", "sessions a week"),
                        ("progression", "progression")):
        old, new = getattr(before, name), getattr(after, name)
        if old != new:
            lines.append(f"{label}: {old} → {new}")
    old_weeks, new_weeks = _week_exercises(before), _week_exercises(after)
    for number in range(max(len(old_weeks), len(new_weeks))):
        old = old_weeks[number] if number < len(old_weeks) else {}
        new = new_weeks[number] if number < len(new_weeks) else {}
        added = [name for key, name in new.items() if key not in old]
        removed = [name for key, name in old.items() if key not in new]
        if added:
            lines.append(f"week {number + 1}: adds {_listed(added)}")
        if removed:
            lines.append(f"week {number + 1}: drops {_listed(removed)}")
    old_minutes = [s.minutes for w in before.weeks for s in w.sessions]
    new_minutes = [s.minutes for w in after.weeks for s in w.sessions]
    if old_minutes and new_minutes and max(old_minutes) != max(new_minutes):
        lines.append(f"longest session: {max(old_minutes)} → {max(new_minutes)} min")
    for kind, old_list, new_list in (("note", before.notes, after.notes), ("warning", before.warnings,
                                                                            after.warnings)):
        for text in new_list:
            if text not in old_list:
                lines.append(f"new {kind}: {text}")
        for text in old_list:
            if text not in new_list:
                lines.append(f"{kind} gone: {text}")
    if not lines and _comparable(before) != _comparable(after):
        lines.append("sets, reps or days change")
    return lines


def _comparable(plan: Plan) -> dict[str, Any]:
    # What a member sees; the version, the trace and the list of fired rules naturally differ.
    return plan.model_dump(mode="json", exclude={"rules_version", "trace", "fired_rules"})


def _decisions(outcome: Outcome) -> tuple[Any, ...]:
    # Everything of an outcome the planner reads; the trace and the list of fired rules only explain.
    return (outcome.settings, outcome.added, outcome.added_categories, outcome.removed,
            outcome.removed_categories, outcome.replaced, outcome.notes, outcome.warnings, outcome.withheld)


def _who(profile: Profile) -> str:
    goals = ", ".join(goal.value for goal in profile.goals)
    return f"a {profile.level.value} runner, {profile.mileage_text} a week, goals: {goals}"


def impact(current: RuleSet, proposed: RuleSet, profiles: Iterable[Profile], start: dt.date,
           limit: int = 2000) -> Impact:
    """Plan each profile (at most `limit`) with both rule sets and count those whose plan would differ."""
    if current.version == proposed.version:
        total = sum(1 for _ in zip(range(limit), profiles, strict=False))
        return Impact(total, 0, None)
    start = block_start(start)
    old, new = Planner(current), Planner(proposed)
    total = changed = 0
    example: str | None = None
    for profile in profiles:
        if total >= limit:
            break
        total += 1
        # The rules' decisions decide the plan; only when they differ is it worth planning twice.
        if _decisions(current.evaluate(profile, start)) == _decisions(proposed.evaluate(profile, start)):
            continue
        before, after = old.make_plan(profile, start), new.make_plan(profile, start)
        if _comparable(before) == _comparable(after):
            continue
        changed += 1
        if example is None:
            lines = plan_diff(before, after)
            text = f"For {_who(profile)}:\n" + "\n".join(f"- {line}" for line in lines)
            example = text if len(text) <= EXAMPLE_LIMIT else text[: EXAMPLE_LIMIT - 1].rstrip() + "…"
    return Impact(total, changed, example)


# ------------------------------------------------------------------------------------------------
# The moderators' service


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _hint(name: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(known), n=1)
    return f" Did you mean '{close[0]}'?" if close else ""


def _check_guild(guild_id: Any) -> int:
    if isinstance(guild_id, bool) or not isinstance(guild_id, int) or guild_id <= 0:
        raise TuningError("Server settings can only be changed inside a server.")
    return guild_id


class Tuning:
    """Per-server rules and FAQ on top of the defaults, with previews, an audit trail and revert.

    Calls are synchronous and touch only memory, except `reload_defaults` (reads files) and the
    previews (they plan every stored profile twice): run those through `asyncio.to_thread`.
    """

    def __init__(self, coach: Coach, storage: Storage, clock: Callable[[], str] = _now) -> None:
        self.coach = coach
        self.storage = storage
        self._clock = clock
        self._planners = _LRU(16)
        self._reload_lock = threading.Lock()

    # ---- reading

    def _settings(self, guild_id: int | None) -> dict[str, Any]:
        if guild_id is None:
            return {}
        return self.storage.guilds.get(guild_id)

    def ruleset_for(self, guild_id: int | None) -> RuleSet:
        """The server's effective rule set (the defaults outside a server)."""
        return effective_ruleset(self.coach.ruleset, self._settings(guild_id).get("rule_overrides"))

    def faq_for(self, guild_id: int | None) -> FaqBase:
        """The server's effective FAQ (the defaults outside a server)."""
        return effective_faq(self.coach.faq, self._settings(guild_id).get("faq_overrides"))

    def plan_for(self, guild_id: int | None, profile: Profile, start: dt.date | None = None) -> Plan:
        """A plan made with the server's effective rules; it records that rule set's version."""
        ruleset = self.ruleset_for(guild_id)
        if ruleset is self.coach.ruleset:
            return self.coach.plan(profile, start)
        planner = self._planners.get((id(ruleset), ruleset.version))
        if planner is None:
            planner = Planner(ruleset)
            self._planners.put((id(ruleset), ruleset.version), planner)
        return planner.make_plan(profile, start)

    def rows(self, guild_id: int | None, tag: str | None = None) -> list[RuleRow]:
        """The server's rules for /rules list, optionally only those with a tag."""
        rows = rule_rows(self.coach.ruleset, self._settings(guild_id).get("rule_overrides"))
        if tag:
            rows = [row for row in rows if tag in row.tags]
        return rows

    def problems(self, guild_id: int | None) -> list[str]:
        """Stored rule overrides that no longer apply (skipped or switched off), for moderators to fix."""
        ruleset = self.ruleset_for(guild_id)
        return list(getattr(ruleset, "problems", []))

    def faq_problems(self, guild_id: int | None) -> list[str]:
        """Stored FAQ entries left out (an old answer that can't be converted, say), for moderators to fix."""
        return list(getattr(self.faq_for(guild_id), "problems", []))

    def history(self, guild_id: int, limit: int = 10, before: int | None = None) -> list[dict[str, Any]]:
        """The server's changes, newest first; `before` pages back from a change id."""
        guild_id = _check_guild(guild_id)
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_HISTORY:
            raise TuningError(f"Ask for 1 to {MAX_HISTORY} history entries at a time.")
        if before is not None and (isinstance(before, bool) or not isinstance(before, int) or before < 1):
            raise TuningError("`before` is a change number from /rules history, like 12.")
        return self.storage.audit.list(guild_id, limit, before)

    # ---- previews

    def _profiles(self, guild_id: int, members: Collection[int] | None) -> Iterable[Profile]:
        """The profiles a preview counts: the given members, else those who made a plan in this server."""
        stored = self.storage.profiles.all() if members is not None else self.storage.profiles.all(guild_id)
        for user_id, profile in stored:
            if members is None or user_id in members:
                yield profile

    def _start(self) -> dt.date:
        return block_start(dt.date.today() + dt.timedelta(days=1))

    def _impact(self, guild_id: int, overrides: dict[str, Any], members: Collection[int] | None) -> Impact:
        current = self.ruleset_for(guild_id)
        proposed = effective_ruleset(self.coach.ruleset, overrides)
        return impact(current, proposed, self._profiles(guild_id, members), self._start())

    def preview_rule(self, guild_id: int, text: str,
                     members: Collection[int] | None = None) -> tuple[Rule, Impact]:
        """Validate a rule and say how many of the server's planners would get a different plan; saves nothing.

        `members` limits the count to those user ids; otherwise it counts members who made a plan here.
        """
        guild_id = _check_guild(guild_id)
        rule = parse_moderator_rule(text, self.ruleset_for(guild_id))
        overrides = self._settings(guild_id)["rule_overrides"]
        proposed = {**overrides, rule.id: self._rule_slot(rule)}
        return rule, self._impact(guild_id, _drop_none(proposed), members)

    def preview_toggle(self, guild_id: int, rule_id: str, enabled: bool,
                       members: Collection[int] | None = None) -> Impact:
        """How many of the server's planners would get a different plan if the rule were switched on or off."""
        guild_id = _check_guild(guild_id)
        overrides = self._settings(guild_id)["rule_overrides"]
        slot = self._toggle_slot(guild_id, rule_id, enabled)
        return self._impact(guild_id, _drop_none({**overrides, rule_id: slot}), members)

    # ---- writing

    def _rule_slot(self, rule: Rule) -> dict[str, Any] | None:
        """The override that makes the effective rule equal `rule` (None when it is the default)."""
        default = self.coach.ruleset.by_id.get(rule.id)
        if default is not None and rule == default:
            return None
        if default is not None and rule == default.model_copy(update={"enabled": rule.enabled}):
            return RuleOverride(enabled=rule.enabled).stored()
        return RuleOverride(rule=rule_to_dict(rule)).stored()

    def _toggle_slot(self, guild_id: int, rule_id: str, enabled: bool) -> dict[str, Any] | None:
        if not isinstance(enabled, bool):
            raise TuningError("enabled is true or false.")
        current = self.ruleset_for(guild_id)
        rule = current.by_id.get(str(rule_id))
        if rule is None:
            hint = _hint(str(rule_id), current.by_id)
            raise TuningError(f"There is no rule '{str(rule_id)[:60]}' on this server.{hint}")
        if rule.enabled == enabled:
            raise TuningError(f"Rule '{rule_id}' is already {'enabled' if enabled else 'disabled'}; nothing changed.")
        return self._rule_slot(rule.model_copy(update={"enabled": enabled}))

    def version_of(self, guild_id: int | None, scope: str, target: str = "") -> str:
        """A short fingerprint of what a change to (scope, target) would touch, taken at preview time.

        Scopes: "rule" and "faq" (target: the id), "rules" (every rule override), "modrole". A change made
        with `expected=` this fingerprint is saved only if it is still the same (optimistic concurrency).
        """
        return self._version(self._settings(guild_id), scope, target)

    def _fresh(self, guild_id: int, scope: str, target: str, expected: str | None) -> None:
        """Refuse early (before any other check) a change whose item moved on since its preview."""
        settings = self._settings(guild_id)
        if expected is not None and self._version(settings, scope, target) != expected:
            raise StaleChange(target, self._current_text(settings, scope, target))

    def _version(self, settings: Mapping[str, Any], scope: str, target: str) -> str:
        return _digest(self._state(settings, scope, target))[:16]

    def _state(self, settings: Mapping[str, Any], scope: str, target: str) -> Any:
        if scope == "rule":
            return self._rule_state(self.coach.ruleset, settings.get("rule_overrides") or {}, target)
        if scope == "faq":
            entry = effective_faq(self.coach.faq, settings.get("faq_overrides")).get(target)
            return entry.model_dump(mode="json") if entry is not None else None
        if scope == "rules":
            return settings.get("rule_overrides") or {}
        return settings.get("mod_role_id")

    def _current_text(self, settings: Mapping[str, Any], scope: str, target: str) -> str | None:
        state = self._state(settings, scope, target)
        if state is None or scope == "rules":
            return None if state is None else f"{len(state)} rule change(s)"
        return _dump(state).strip() if isinstance(state, dict) else str(state)

    def _write(self, guild_id: int, actor_id: int, kind: str, action: str, change: Change,
               extra: dict[str, Any] | None = None, expected: str | None = None) -> int:
        """Apply one Change to the server's settings and append its audit entry, under the storage lock.

        The audit entry keeps the Change's stored values ("override_before"/"override_after") and the
        readable states ("before"/"after"); reverting is applying the recorded Change's inverse. With
        `expected` (a `version_of` fingerprint from the preview), nothing is saved unless the item is
        unchanged since then.
        """
        scope, target = change.scope, change.target
        if isinstance(actor_id, bool) or not isinstance(actor_id, int):
            raise TuningError("The moderator's id is missing.")
        result: dict[str, int] = {}

        def check_fresh(settings: Mapping[str, Any]) -> None:
            if expected is not None and self._version(settings, scope, target) != expected:
                raise StaleChange(target, self._current_text(settings, scope, target))

        def step(settings: dict[str, Any]) -> tuple[Any, Any, Any]:
            check_fresh(settings)
            stored_before = change.current(settings)
            if stored_before == change.after:
                raise TuningError("That is already the current setting; nothing changed.")
            before = self._state(settings, scope, target)
            change.apply(settings)
            self._check_limits(settings, change)
            return stored_before, before, self._state(settings, scope, target)

        def apply(settings: dict[str, Any]) -> dict[str, Any]:
            stored_before, before, after = step(settings)
            version = effective_ruleset(self.coach.ruleset, settings["rule_overrides"]).version
            settings["rules_version"] = version
            entry = {"at": self._clock(), "actor_id": actor_id, "kind": kind, "scope": scope, "target": target,
                     "action": action, "before": before, "after": after, "rules_version": version,
                     "override_before": stored_before, "override_after": change.after, **(extra or {})}
            # Inside update(): the store's lock nests, so the setting and its audit entry land together.
            result["change_id"] = self.storage.audit.append(guild_id, entry)
            return settings

        # A dry run on a copy first: it raises the moderator's errors early and builds (and caches) the new
        # effective sets, so the locked step below holds the storage lock only for cache hits.
        step(copy.deepcopy(self.storage.guilds.get(guild_id)))
        self.storage.guilds.update(guild_id, apply)
        return result["change_id"]

    def _check_limits(self, settings: Mapping[str, Any], change: Change) -> None:
        """What no change may leave behind, whichever action made it (a revert included)."""
        rules, faq = settings.get("rule_overrides") or {}, settings.get("faq_overrides") or {}
        if change.scope == "rule" and change.after is not None:
            if len(rules) > MAX_RULE_OVERRIDES:
                raise TuningError(f"This server already has {MAX_RULE_OVERRIDES} rule changes; "
                                  "remove or reset some first.")
            stored = RuleOverride.model_validate(change.after)
            if stored.rule is not None:
                try:
                    _rule_from_dict(stored.rule, self.coach.ruleset, change.target)
                except SwitchedOff:
                    pass  # an old stored form, kept switched off; the moderator sees why in /rules list
                except DataFileError as exc:
                    raise TuningError("Nothing changed: that rule no longer works with today's defaults "
                                      f"({exc.problems[0]}).") from None
        if change.scope == "faq":
            if change.after is not None and len(faq) > MAX_FAQ_OVERRIDES:
                raise TuningError(f"This server already has {MAX_FAQ_OVERRIDES} FAQ changes; remove some first.")
            if len(effective_faq(self.coach.faq, faq)) == 0:
                raise TuningError("That would leave the FAQ empty; keep at least one entry.")

    def _rule_state(self, base: RuleSet, overrides: Mapping[str, Any], rule_id: str) -> dict[str, Any] | None:
        rule = effective_ruleset(base, overrides).by_id.get(rule_id)
        return rule_to_dict(rule) if rule is not None else None

    def save_rule(self, guild_id: int, actor_id: int, text: str, expected: str | None = None) -> int:
        """Add a rule or replace one (by id) from a moderator's YAML; returns the change id."""
        guild_id = _check_guild(guild_id)
        rule = parse_moderator_rule(text, self.ruleset_for(guild_id))
        self._fresh(guild_id, "rule", rule.id, expected)
        exists = rule.id in self.ruleset_for(guild_id).by_id
        return self._write(guild_id, actor_id, "rule", "edit" if exists else "add",
                           Change("rule", rule.id, self._rule_slot(rule)), expected=expected)

    def set_enabled(self, guild_id: int, actor_id: int, rule_id: str, enabled: bool,
                    expected: str | None = None) -> int:
        """Switch a rule on or off for this server; returns the change id."""
        guild_id = _check_guild(guild_id)
        self._fresh(guild_id, "rule", rule_id, expected)
        slot = self._toggle_slot(guild_id, rule_id, enabled)
        return self._write(guild_id, actor_id, "rule", "enable" if enabled else "disable",
                           Change("rule", rule_id, slot), expected=expected)

    def remove_rule(self, guild_id: int, actor_id: int, rule_id: str, expected: str | None = None) -> int:
        """Drop the server's own version of a rule (a server rule goes, a changed one returns to default)."""
        guild_id = _check_guild(guild_id)
        self._fresh(guild_id, "rule", rule_id, expected)
        overrides = self._settings(guild_id)["rule_overrides"]
        if rule_id not in overrides:
            raise TuningError(f"'{str(rule_id)[:60]}' has no server changes to remove.{_hint(str(rule_id), overrides)}")
        return self._write(guild_id, actor_id, "rule", "remove", Change("rule", rule_id, None), expected=expected)

    def reset_rules(self, guild_id: int, actor_id: int, expected: str | None = None) -> int:
        """Drop every rule override of this server (the defaults apply again); returns the change id."""
        guild_id = _check_guild(guild_id)
        if not self._settings(guild_id)["rule_overrides"]:
            raise TuningError("This server uses the default rules already; nothing to reset.")
        return self._write(guild_id, actor_id, "reset", "reset", Change("rules", "rules", {}), expected=expected)

    def _faq_slot(self, entry: FaqEntry | None, entry_id: str) -> dict[str, Any] | None:
        default = self.coach.faq.get(entry_id)
        if entry is None:
            return FaqOverride(removed=True).stored() if default is not None else None
        if default is not None and entry == default:
            return None
        return FaqOverride(entry=entry.model_dump(mode="json")).stored()

    def preview_faq_entry(self, guild_id: int, text: str) -> FaqEntry:
        """Validate a moderator's FAQ entry with every check the file gets; saves nothing."""
        _check_guild(guild_id)
        return parse_moderator_entry(text, self.coach.faq)

    def save_faq_entry(self, guild_id: int, actor_id: int, text: str, expected: str | None = None) -> int:
        """Add an FAQ entry or replace one (by id) from a moderator's YAML; returns the change id."""
        guild_id = _check_guild(guild_id)
        entry = parse_moderator_entry(text, self.coach.faq)
        self._fresh(guild_id, "faq", entry.id, expected)
        exists = entry.id in self.faq_for(guild_id)
        return self._write(guild_id, actor_id, "faq", "edit" if exists else "add",
                           Change("faq", entry.id, self._faq_slot(entry, entry.id)), expected=expected)

    def remove_faq_entry(self, guild_id: int, actor_id: int, entry_id: str, expected: str | None = None) -> int:
        """Remove an FAQ entry from this server (a default one is hidden, a server one deleted)."""
        guild_id = _check_guild(guild_id)
        self._fresh(guild_id, "faq", entry_id, expected)
        faq = self.faq_for(guild_id)
        if entry_id not in faq:
            known = [entry.id for entry in faq.entries]
            hint = _hint(str(entry_id), known)
            raise TuningError(f"There is no FAQ entry '{str(entry_id)[:60]}' on this server.{hint}")
        return self._write(guild_id, actor_id, "faq", "remove",
                           Change("faq", entry_id, self._faq_slot(None, entry_id)), expected=expected)

    def set_mod_role(self, guild_id: int, actor_id: int, role_id: int | None, expected: str | None = None) -> int:
        """Set (or clear, with None) the role whose members may tune this server; returns the change id."""
        guild_id = _check_guild(guild_id)
        if role_id is not None and (isinstance(role_id, bool) or not isinstance(role_id, int) or role_id <= 0):
            raise TuningError("The moderator role is a role of this server (or none to clear it).")
        return self._write(guild_id, actor_id, "settings", "modrole", Change("modrole", "mod_role_id", role_id),
                           expected=expected)

    def revert(self, guild_id: int, actor_id: int, change_id: int, expected: str | None = None) -> int:
        """Put back what was there before change `change_id`, as a new change (its inverse); returns its id."""
        guild_id = _check_guild(guild_id)
        if isinstance(change_id, bool) or not isinstance(change_id, int):
            raise TuningError("Give the change number shown in /rules history, like 12.")
        entry = self.storage.audit.get(guild_id, change_id)
        if entry is None:
            raise TuningError(f"There is no change #{change_id} on this server; see /rules history.")
        recorded = Change.from_audit(entry)
        if recorded is None:
            raise TuningError(f"Change #{change_id} can't be reverted.")
        self._fresh(guild_id, recorded.scope, recorded.target, expected)
        return self._write(guild_id, actor_id, "revert", "revert", recorded.inverse(), {"reverts": change_id},
                           expected=expected)

    # ---- the bot owner's reload

    def reload_defaults(self) -> str:
        """Re-read rules/ and faq.yaml, validated first; swap them in only if all is well. Returns the version."""
        with self._reload_lock:
            rules_dir = self.coach.rules_dir
            ruleset = load_ruleset(rules_dir)
            try:
                faq = load_faq(rules_dir / "faq.yaml")
            except FaqError as exc:
                raise DataFileError(str(exc).splitlines()) from None
            planner = Planner(ruleset)
            # cached_property values live in the instance dict: replacing them swaps all three together.
            self.coach.ruleset = ruleset
            self.coach.__dict__["planner"] = planner
            self.coach.__dict__["faq"] = faq
            return ruleset.version


SCOPES = ("rule", "faq", "rules", "modrole")


@dataclass(frozen=True)
class Change:
    """One moderator action: the value it stores at one place of a server's settings.

    Its inverse, which puts back the value recorded before it, is its revert (no per-kind revert code).
    Places: "rule" and "faq" (`target` is the id; None removes the server's override), "rules" (every
    rule override at once: a reset), "modrole" (the moderator role's id, or None).
    """

    scope: str
    target: str
    after: Any
    before: Any = None

    def current(self, settings: Mapping[str, Any]) -> Any:
        """The value stored at this change's place now."""
        if self.scope in ("rule", "faq"):
            return copy.deepcopy((settings.get(f"{self.scope}_overrides") or {}).get(self.target))
        if self.scope == "rules":
            return copy.deepcopy(settings.get("rule_overrides") or {})
        return settings.get("mod_role_id")

    def apply(self, settings: dict[str, Any]) -> None:
        """Store `after` at this change's place (edits `settings`)."""
        if self.scope in ("rule", "faq"):
            key = f"{self.scope}_overrides"
            overrides = copy.deepcopy(settings.get(key) or {})
            if self.after is None:
                overrides.pop(self.target, None)
            else:
                overrides[self.target] = copy.deepcopy(self.after)
            settings[key] = overrides
        elif self.scope == "rules":
            settings["rule_overrides"] = copy.deepcopy(self.after or {})
        else:
            settings["mod_role_id"] = self.after

    def inverse(self) -> Change:
        """The change that undoes this one."""
        return Change(self.scope, self.target, self.before, self.after)

    @classmethod
    def from_audit(cls, entry: Mapping[str, Any]) -> Change | None:
        """The change an audit entry recorded (None for an entry of an unknown kind)."""
        scope = entry.get("scope")
        if scope not in SCOPES:
            return None
        return cls(str(scope), str(entry.get("target")), entry.get("override_after"), entry.get("override_before"))


def _drop_none(overrides: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in overrides.items() if value is not None}
