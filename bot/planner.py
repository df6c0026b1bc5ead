"""The planner: a profile and the rules' outcome become a 4-week plan that holds COACHING.md's invariants.

Rules decide policy (template, sessions, progression, additions, notes). The planner then turns that into
weeks and enforces the invariants as safeguards no rule can switch off: beginner limits, sharp pain,
niggles and equipment (through each exercise's substitutes), dose caps, session length, scheduling around
the runner's key runs, deload and race taper. Every safeguard that changed something is in the trace.
"""

from __future__ import annotations

import datetime as dt
import heapq
import itertools
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any, TypeVar

from pydantic import BaseModel

from bot.catalog import (
    Catalog,
    DistancePolicy,
    Exercise,
    LightSession,
    PlacementPolicy,
    RacePolicy,
    Template,
    WeekStep,
    parse_reps,
    reps_text,
    start_load_text,
)
from bot.engine import Outcome, RuleSet
from bot.models import (
    DAY_NAMES,
    DAYS,
    Category,
    Item,
    Level,
    MobilityDay,
    Niggle,
    Plan,
    Prescription,
    Profile,
    Session,
    TraceEntry,
    Week,
)

M = TypeVar("M", bound=BaseModel)
WEEKS = 4
# The safeguard's description in "Why this plan?" wherever a session is trimmed to its band (COACHING.md 28).
MINUTES_GUARD = "Session length stays within the level's band, at the real time its sets, reps, tempo and rest take."
LOADING_KIT = frozenset({"dumbbells", "kettlebell", "barbell", "gym"})  # kit that adds load to a lift
MOBILITY_ITEMS = ("foam-roll", "ankle-dorsiflexion", "hip-flexor-release", "thoracic-rotation")
ACCESSORY = frozenset({Category.HIP, Category.CORE, Category.CALF})  # hip, core and calf work
FILL_ITEMS = ("ankle-dorsiflexion", "hip-flexor-release", "thoracic-rotation")
# The rule engine's words for what a rule did (bot/engine.py), which "Why this plan?" shows (COACHING.md 27).
ADDED_LINE = re.compile(r"^add ([a-z0-9-]+) \(")
ADDED_DOSE = re.compile(r"\(\d+ x [^)]+\)")  # the dose in a rule's "add X (S x R)"
ADDED_CATEGORY_LINE = re.compile(r"^add an? ([a-z-]+) exercise$")
SETTING_SESSIONS = re.compile(r"^\d+ strength session\(s\) a week$")
SETTING_PROGRESSION = re.compile(r"^'([a-z0-9-]+)' progression$")
SESSION_NAMED = re.compile(r"\bsession ([A-C])\b")


def trusted(model: type[M], **values: Any) -> M:
    """A model from values the planner itself built and guarantees: no validation, every field given.

    About 15 models a plan; pydantic's model_construct() fills defaults field by field and cost ~10% of
    planning. tests/test_planner.py round-trips every kind of plan through full validation, so a pydantic
    change that broke this would fail there.
    """
    obj = model.__new__(model)
    object.__setattr__(obj, "__dict__", values)
    object.__setattr__(obj, "__pydantic_fields_set__", set(values))
    object.__setattr__(obj, "__pydantic_extra__", None)
    object.__setattr__(obj, "__pydantic_private__", None)
    return obj


def block_start(today: dt.date) -> dt.date:
    """A block starts on a Monday: the next one, or today when today is a Monday."""
    return today + dt.timedelta(days=(7 - today.weekday()) % 7)


def required_categories(level: Level) -> tuple[str, ...]:
    """Categories a block must cover for a level (COACHING.md 14); mobility comes with every cool-down."""
    base = (Category.SINGLE_LEG, Category.ECCENTRIC, Category.HIP, Category.CORE)
    extra = () if level is Level.BEGINNER else (Category.HEAVY, Category.PLYOMETRIC)
    return tuple(c.value for c in (*base, *extra))


@dataclass
class SlotPlan:
    """One exercise in one session before weeks are laid out."""

    exercise: Exercise
    sets: int
    reps: tuple[int, int]
    origin: str  # "template" or the id of the rule that added it
    emphasis: int = 0  # sets the runner's goals added (rules/emphasis.yaml): trimmed last


@dataclass
class SessionPlan:
    """One session before weeks are laid out: its exercises, its day and whether that is a hard-run day."""

    key: str
    focus: str
    kind: str
    slots: list[SlotPlan]
    day: int = -1
    on_hard_day: bool = False

    def ids(self) -> set[str]:
        """The ids of the session's exercises."""
        return {slot.exercise.id for slot in self.slots}

    def heavy(self) -> bool:
        """Whether the session holds a heavy lift."""
        return any(slot.exercise.is_heavy() for slot in self.slots)

    def load(self, placement: PlacementPolicy) -> tuple[float, float, bool]:
        """What placement needs to know (COACHING.md 25): fatigue cost, the part of it in heavy lifts, jumps."""
        costs = [(slot.sets * placement.set_cost(slot.exercise.categories, slot.reps[0]), slot.exercise.is_heavy())
                 for slot in self.slots]
        return (round(sum(c for c, _ in costs), 1), round(sum(c for c, heavy in costs if heavy), 1),
                any(slot.exercise.is_plyometric() for slot in self.slots))


@dataclass
class WeekEntry:
    """One session of one week before it becomes a Session: its exercises with this week's sets."""

    plan: SessionPlan
    slots: list[tuple[SlotPlan, int]]
    day: int
    kind: str
    rir: tuple[int, int]
    focus: str
    primer: bool = False
    reps: str = "range"  # where in each rep range this session sits (WeekStep.reps)


@dataclass
class WeekLayout:
    """One week before rendering: its progression step, label and sessions."""

    step: WeekStep
    label: str
    summary: str
    maintenance: bool
    entries: list[WeekEntry] = field(default_factory=list)


def day_mode(race: int | None, distance: DistancePolicy, policy: RacePolicy, day: int) -> str:
    """What a day of the block (0 = its first Monday) may hold around a race (COACHING.md 23, 24).

    "full": the runner's sessions; "recovery": a light session without heavy, jumping or eccentric work;
    "primer": only the race's short primer; "final": nothing (the race and its final days); "rest": nothing
    (just after the race).
    """
    if race is None:
        return "full"
    to_race = race - day
    if 0 <= to_race < 7:
        near, far = policy.primer.days_out
        return "primer" if near <= to_race <= far else "final"
    since = -to_race
    if 0 < since <= distance.rest_days:
        return "rest"
    if 0 < since <= distance.recovery_days:
        return "recovery"
    return "full"


@dataclass
class Builder:
    """Makes one plan's decisions from the profile and the rules' outcome, recording each safeguard used."""

    profile: Profile
    catalog: Catalog
    outcome: Outcome
    start: dt.date
    guards: list[TraceEntry] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    _blocked: dict[tuple[str, bool], str | None] = field(default_factory=dict)
    _key_days: frozenset[int] | None = None
    progression_id: str = "build"
    _doses: dict[tuple[str, tuple[int, int], str], tuple[int, int]] = field(default_factory=dict)
    _set_times: dict[tuple[str, int], float] = field(default_factory=dict)
    _day_set_times: dict[tuple[int, tuple[tuple[str, tuple[int, int]], ...]], list[float | None]] = field(
        default_factory=dict)
    _can_load: bool | None = None
    rules_by_id: dict[str, Any] | None = None

    # -- decisions -------------------------------------------------------------------------

    def guard(self, rule_id: str, description: str, change: str) -> None:
        """Record what a safeguard changed: one trace entry per safeguard, each change listed once."""
        for entry in self.guards:
            if entry.rule_id == rule_id:
                if change not in entry.changes:
                    entry.changes.append(change)
                return
        self.guards.append(TraceEntry(rule_id=rule_id, description=description, status="safeguard",
                                      changes=[change]))

    def race_offset(self) -> int | None:
        """Days from the block's first day to the race; None when there's none or it is long past."""
        if self.profile.race_date is None:
            return None
        offset = (self.profile.race_date - self.start).days
        return offset if offset >= -self.catalog.races.look_back_days else None

    def template(self) -> Template:
        """The session template a rule chose, else the one for the runner's level."""
        chosen = self.outcome.get("template")
        if chosen in self.catalog.templates:
            return self.catalog.templates[chosen]
        return self.catalog.template_for(self.profile.level)

    def sessions_per_week(self, template: Template) -> int:
        """Sessions a week: a rule's choice, else the runner's, else 2; within 1-3 and the template's count."""
        wanted = self.outcome.get("sessions_per_week") or self.profile.days_per_week or 2
        return max(1, min(3, int(wanted), len(template.sessions)))

    def fewer_sessions_note(self, given: int, chosen: int) -> None:
        """COACHING.md 27: fewer sessions than the runner asked for is said on the plan, with why, in plain words."""
        asked = self.profile.days_per_week
        if not asked or given >= asked:
            return
        texts = self.catalog.placement.fewer_sessions
        setting = self.outcome.settings.get("sessions_per_week")
        if chosen < asked and setting is not None and setting.value != asked:
            rule = self.rules_by_id.get(setting.rule_id) if self.rules_by_id else None
            why = texts.rule.format(reason=rule.description.rstrip(".") if rule else setting.rule_id)
        elif chosen < asked:
            why = texts.template
        else:
            why = texts.schedule
        self.notes.append(texts.note.format(asked=asked, given=given, why=why))

    def progression(self) -> str:
        """The progression pattern a rule chose (else `build`); held steady with sharp joint pain."""
        chosen = self.outcome.get("progression") or "build"
        if chosen not in self.catalog.progressions:
            chosen = "build"
        if self.profile.sharp_pain and chosen != "hold":
            self.guard("safeguard-sharp-pain", "Sharp joint pain: no load progression, no heavy work, no jumps.",
                       "progression held steady")
            chosen = "hold"
        return chosen

    def minutes_band(self, template: Template) -> tuple[int, int]:
        """The session minutes band: the template's, lowered to a rule's cap but never below its minimum."""
        low, high = template.minutes
        cap = self.outcome.get("max_minutes")
        if cap is not None:
            if cap < low:
                self.guard("safeguard-minutes", "Session length stays within the level's band.",
                           f"a {cap}-minute cap is below the {low}-minute minimum for this level, so {low} it is")
                high = low
            else:
                high = min(high, cap)
        return low, high

    # -- exercises -------------------------------------------------------------------------

    def blocked(self, ex: Exercise, no_heavy: bool = False) -> str | None:
        """Why an exercise can't be used for this runner, or None (memoised per plan)."""
        key = (ex.id, no_heavy)
        if key not in self._blocked:
            self._blocked[key] = self._why_blocked(ex, no_heavy)
        return self._blocked[key]

    def _why_blocked(self, ex: Exercise, no_heavy: bool, later: bool = False) -> str | None:
        if ex.id in self.outcome.removed:
            return f"removed by rule '{self.outcome.removed[ex.id]}'"
        for cat in ex.categories:
            if cat.value in self.outcome.removed_categories:
                return f"no {cat.value} work (rule '{self.outcome.removed_categories[cat.value]}')"
        if self.profile.level is Level.BEGINNER and (ex.is_heavy() or ex.is_plyometric()):
            return "heavy lifts and jumps come after the beginner stage"
        if self.profile.sharp_pain and (ex.is_heavy() or ex.is_plyometric()):
            return "no heavy work or jumps with sharp joint pain"
        for niggle in ex.unsuitable_for:
            if niggle in self.profile.niggles:
                return f"not suitable with your {niggle.value} niggle"
        for niggle in ex.not_early_for:
            if niggle in self.profile.niggles and not later:
                return f"with your {niggle.value} niggle it comes later, after easier steps"
        if ex.equipment and not {e.value for e in ex.equipment} & self.profile.available_equipment():
            return "needs " + " or ".join(e.value for e in ex.equipment)
        if no_heavy and ex.is_heavy():
            return "heavy work stays off hard-run days"
        return None

    def next_steps(self, slots: list[tuple[SlotPlan, int]], week: int,
                   done: set[str]) -> list[tuple[SlotPlan, int]]:
        """COACHING.md 26, 30: exercises on a niggle's path move on as the block goes (hold, then slow work).

        Only an exercise already done (in `done`) moves on: the easier step always comes first.
        """
        out = []
        taken = {slot.exercise.id for slot, _ in slots}
        for slot, n in slots:
            step = slot.exercise.next_step
            if (step is not None and week >= step.from_week and set(step.niggles) & set(self.profile.niggles)
                    and step.id not in taken and slot.exercise.id in done):
                target = self.catalog.exercises[step.id]
                if (self._why_blocked(target, False, later=True) is None
                        and self.cap_sets(SlotPlan(target, n, (1, 1), ""), n) == n):  # as many sets, or wait
                    taken.add(target.id)
                    slot = SlotPlan(target, slot.sets, parse_reps(step.reps), slot.origin, slot.emphasis)
            out.append((slot, n))
        return out

    def resolve(self, ex_id: str, taken: set[str], no_heavy: bool = False) -> tuple[Exercise | None, str | None]:
        """The exercise to use in place of ex_id (itself or its first usable substitute) and why it changed."""
        if ex_id in self.outcome.replaced:
            ex_id = self.outcome.replaced[ex_id][0]
        first = self.catalog.exercises[ex_id]
        reason = self.blocked(first, no_heavy)
        if reason is None and ex_id not in taken:
            return first, None
        reason = reason or "already in this session"
        for sub in self.substitutes(ex_id):
            if sub.id not in taken and self.blocked(sub, no_heavy) is None:
                return sub, reason
        return None, reason

    def substitutes(self, ex_id: str) -> Iterator[Exercise]:
        """Every substitute of ex_id, its own first, then theirs (breadth first), each once."""
        queue, seen = list(self.catalog.exercises[ex_id].substitutes), {ex_id}
        while queue:
            sub_id = queue.pop(0)
            if sub_id in seen:
                continue
            seen.add(sub_id)
            sub = self.catalog.exercises[sub_id]
            yield sub
            queue.extend(sub.substitutes)

    def build_session(self, key: str, focus: str, kind: str, slots: list[tuple[str, int, str, str]],
                      no_heavy: bool = False) -> SessionPlan:
        """A session plan from template slots (id, sets, reps, origin), each resolved for the runner."""
        session = SessionPlan(key=key, focus=focus, kind=kind, slots=[])
        for ex_id, sets, reps, origin in slots:
            self.add_slot(session, ex_id, sets, reps, origin, no_heavy)
        return session

    def add_slot(self, session: SessionPlan, ex_id: str, sets: int, reps: str, origin: str,
                 no_heavy: bool = False) -> bool:
        """Add an exercise (or its first usable substitute) to a session; False when none fits."""
        chosen, reason = self.resolve(ex_id, session.ids(), no_heavy)
        name = self.catalog.exercises[ex_id].name
        if chosen is None:
            if reason != "already in this session":
                self.guard("safeguard-exercise-fit", "Exercises are swapped or left out when they don't fit the "
                           "runner (level, niggles, equipment, pain, rules).", f"left out {name}: {reason}")
            return False
        if reason and reason != "already in this session":
            self.guard("safeguard-exercise-fit", "Exercises are swapped or left out when they don't fit the "
                       "runner (level, niggles, equipment, pain, rules).", f"{name} -> {chosen.name}: {reason}")
        low, high = parse_reps(reps)
        original = self.catalog.exercises[ex_id]
        if ((original.is_heavy() or original.is_plyometric()) and not chosen.is_heavy()
                and not chosen.is_plyometric() and chosen.unit == "reps" and low <= 6):
            low, high = 8, 10  # a lighter substitute is done for more reps, not as a heavy set or jump count
        session.slots.append(SlotPlan(chosen, sets, (low, high), origin))
        return True

    def sessions(self, template: Template, count: int) -> list[SessionPlan]:
        """The template's first `count` sessions, with the exercises and categories the rules added."""
        plans = [self.build_session(s.key, s.focus, s.kind, [(x.id, x.sets, x.reps, "template")
                                                             for x in s.exercises])
                 for s in template.sessions[:count]]
        for ref, rule_id in self.outcome.added:
            target = next((p for p in plans if p.key == ref.session), plans[-1])
            there = next((slot for p in plans for slot in p.slots if slot.exercise.id == ref.id), None)
            if there is not None:
                there.origin = rule_id  # already in: now it is what the rule's note promises, so it stays
                continue
            self.add_slot(target, ref.id, ref.sets, ref.reps, rule_id)
        for ref, rule_id in self.outcome.added_categories:
            target = next((p for p in plans if p.key == ref.session), plans[-1])
            if any(ref.category in slot.exercise.categories for slot in target.slots):
                continue
            for ex in self.catalog.exercises.values():
                if ref.category in ex.categories and ex.id not in target.ids() and self.blocked(ex) is None:
                    self.add_slot(target, ex.id, ref.sets, ref.reps, rule_id)
                    break
        return plans

    def place_additions(self, plans: list[SessionPlan]) -> None:
        """COACHING.md 25, 27, 30: a rule's addition goes to a session whose day lets it be done as it is.

        An exercise a goal or niggle rule added to a session whose day makes it wait (jumps after a key run or
        on the day after the long run) moves to the first session where it is done as prescribed, so the
        goal's work survives instead of becoming a calmer substitute.
        """
        for session in plans:
            for slot in list(session.slots):
                if slot.origin in ("template", "coverage") or session.day < 0:
                    continue
                if self.for_day([(slot, 1)], session.day) == [(slot, 1)]:
                    continue  # done as it is on its own day
                target = next((p for p in plans if p is not session and slot.exercise.id not in p.ids()
                               and p.day >= 0 and self.for_day([(slot, 1)], p.day) == [(slot, 1)]), None)
                if target is None:
                    continue
                session.slots.remove(slot)
                target.slots.append(slot)
                self.guard("safeguard-schedule", "Jumps are done fresh; a session that must share a hard-run day "
                           "keeps its heavy lift, comes after the run and drops the jumps.",
                           f"{slot.exercise.name} moves to session {target.key}, on a day it can be done as it is")

    def emphasise(self, plans: list[SessionPlan]) -> None:
        """COACHING.md 30: each goal shifts sets and reps by category (rules/emphasis.yaml)."""
        emphases = [self.catalog.emphasis.goals[g] for g in self.profile.goals]
        for session in plans:
            for slot in session.slots:
                cats = slot.exercise.categories
                sets = max((e.sets.get(c, 0) for e in emphases for c in cats), default=0)
                reps = 0
                if not (slot.exercise.is_heavy() or slot.exercise.is_plyometric()) and slot.exercise.unit == "reps":
                    shifts = [e.reps[c] for e in emphases for c in cats if c in e.reps]
                    reps = max(shifts, key=abs) if shifts else 0
                slot.sets = max(1, min(6, slot.sets + sets))
                slot.emphasis = sets + abs(reps)
                low = max(1, slot.reps[0] + reps)
                slot.reps = (low, max(low, slot.reps[1] + reps))

    def follow_mileage(self, plans: list[SessionPlan], template: Template, band: tuple[int, int],
                       peak_delta: int) -> None:
        """COACHING.md 30: fewer jump contacts and accessory sets the more the runner runs.

        Heavy lifts stay as they are (rules/dosing.yaml `mileage`). Done once sessions fit their time band,
        so cuts only cut; extra accessory reps at low mileage go in only where the session still fits.
        """
        mileage = self.catalog.dosing.band_for(self.profile.weekly_km)
        changed = False
        for session in plans:
            for slot in session.slots:
                before = (slot.sets, slot.reps)
                ex = slot.exercise
                if ex.is_heavy():
                    continue
                floor = min(2, slot.sets)  # a useful dose: fewer sets, never down to one
                if ex.is_plyometric():
                    sets = max(floor, slot.sets + mileage.jump_sets)
                    low = max(1, round(slot.reps[0] * mileage.jump_reps_factor))
                    reps = (low, max(low, round(slot.reps[1] * mileage.jump_reps_factor)))
                elif set(ex.categories) <= ACCESSORY and ex.unit == "reps":
                    sets = max(floor, slot.sets + mileage.accessory_sets)
                    reps = (slot.reps[0] + mileage.accessory_reps, slot.reps[1] + mileage.accessory_reps)
                elif set(ex.categories) <= ACCESSORY:
                    sets, reps = max(floor, slot.sets + mileage.accessory_sets), slot.reps
                else:
                    continue
                slot.sets, slot.reps = sets, reps
                if self.estimate(session, template, [self.step_sets(x, peak_delta)
                                                     for x in session.slots]) > band[1]:
                    slot.sets, slot.reps = before  # more work than the band holds: leave it as it was
                changed |= (slot.sets, slot.reps) != before
        if changed:
            self.guard("safeguard-mileage", "Strength volume follows running volume: fewer jump contacts and "
                       "accessory sets at high mileage, heavy lifts unchanged.",
                       f"jumps and accessory work dosed for {self.profile.mileage_text} a week")

    def cover_categories(self, plans: list[SessionPlan]) -> None:
        """COACHING.md 14: every category of the level appears over the block; single-leg every week."""
        for category in required_categories(self.profile.level):
            if any(category in slot.exercise.categories for p in plans for slot in p.slots):
                continue
            candidates = [ex for ex in self.catalog.exercises.values() if category in ex.categories]
            target = min(plans, key=lambda p: (len(p.slots), p.key))
            for ex in candidates:
                if ex.id not in target.ids() and self.blocked(ex, target.on_hard_day) is None:
                    target.slots.append(SlotPlan(ex, 2, (10, 10) if ex.unit == "reps" else (30, 30), "coverage"))
                    self.guard("safeguard-coverage", "Each block covers every category for the level.",
                               f"added {ex.name} so the block includes {category} work")
                    break

    # -- time ------------------------------------------------------------------------------

    def dose(self, ex: Exercise, reps: tuple[int, int], target: str = "range") -> tuple[int, int]:
        """The reps (or seconds) an exercise is prescribed at this week (memoised per plan; see _dose)."""
        key = (ex.id, reps, target)
        found = self._doses.get(key)
        if found is None:
            found = self._doses[key] = self._dose(ex, reps, target)
        return found

    def can_load(self) -> bool:
        """Whether the runner has kit that adds load to a lift (dumbbells, kettlebell, barbell, gym)."""
        if self._can_load is None:
            self._can_load = bool(LOADING_KIT & self.profile.available_equipment())
        return self._can_load

    def set_time(self, ex: Exercise, top: int) -> float:
        """Seconds one set takes at `top` reps: reps at tempo (both sides) plus rest (COACHING.md 28)."""
        key = (ex.id, top)
        found = self._set_times.get(key)
        if found is None:
            found = self._set_times[key] = self.catalog.dosing.set_seconds(ex.unit, ex.tempo, top, ex.per_side,
                                                                           ex.rest_seconds)
        return found

    def _dose(self, ex: Exercise, reps: tuple[int, int], target: str) -> tuple[int, int]:
        """The reps (or seconds) an exercise is prescribed at, at a week's place in its rep range.

        Holds in seconds (COACHING.md 26); a single rep count becomes a range two reps wide and the week
        takes its bottom, middle or top (double progression, 29); dose caps (15, 16); beginners at 8 reps or
        more (9); a heavy lift without any weight to load it is done for 6-8 rather than 3-5.
        """
        low, high = reps
        if ex.unit == "seconds":
            return self.catalog.dosing.hold(low, high)
        if ex.is_plyometric():
            return low, high
        if ex.is_heavy() and low < 6 and not self.can_load():
            low, high = 6, 8
        elif ex.is_heavy():  # a heavy set stays heavy: inside 3-5, a single count widened downwards
            fewest, most = self.catalog.dosing.heavy_reps
            high = max(fewest, min(high, most))
            low = max(fewest, min(low, high - 2)) if low >= high else max(fewest, low)
        if low == high:
            high = low + 2
        if self.profile.level is Level.BEGINNER and low < 8:
            low, high = 8, max(high, 10)
        if ex.caps.reps:
            low, high = min(low, ex.caps.reps), min(high, ex.caps.reps)
        if target == "bottom":
            return low, low
        if target == "middle":
            return (low + high + 1) // 2, (low + high + 1) // 2
        if target == "top":
            return high, high
        return low, high

    def minutes(self, template: Template, work: list[tuple[Exercise, int, int]]) -> float:
        """COACHING.md 28: warm-up + cool-down + sets x (reps x tempo + rest) + changeovers.

        work holds (exercise, sets, top of the rep range) triples.
        """
        return self.timed_minutes(template, ((n, self.set_time(ex, high) if n > 0 else None) for ex, n, high in work))

    def timed_minutes(self, template: Template, work: Iterator[tuple[int, float | None]]) -> float:
        """`minutes` from (sets, seconds one set takes) pairs; no seconds (None) or no sets: not done."""
        seconds = 0.0
        count = 0
        for n, per_set in work:
            if n > 0 and per_set is not None:
                seconds += n * per_set
                count += 1
        seconds += self.catalog.dosing.changeover_seconds * max(0, count - 1)
        return template.warm_up.minutes + template.cool_down.minutes + seconds / 60

    def estimate(self, session: SessionPlan, template: Template, sets: list[int]) -> float:
        """A session's real minutes at these sets, as done on its usual day (with any calmer swaps)."""
        return self.timed_minutes(template, zip(sets, self.day_set_times(session), strict=True))

    def day_set_times(self, session: SessionPlan) -> list[float | None]:
        """Seconds one set of each of the session's exercises takes as done on its usual day (None: left out).

        Memoised per plan on the day and the exercises and reps: the fitting loops change only sets, and a
        day's calmer swaps depend on which exercises the session holds, never on their sets.
        """
        key = (session.day, tuple((slot.exercise.id, slot.reps) for slot in session.slots))
        found = self._day_set_times.get(key)
        if found is None:
            found = [None] * len(session.slots)
            numbered = [(slot, i) for i, slot in enumerate(session.slots)]  # for_day keeps each slot's number
            for slot, i in self.for_day(numbered, session.day) if session.day >= 0 else numbered:
                found[i] = self.set_time(slot.exercise, self.dose(slot.exercise, slot.reps)[1])
            self._day_set_times[key] = found
        return found

    def fit_minutes(self, plans: list[SessionPlan], template: Template, band: tuple[int, int],
                    peak_delta: int) -> None:
        """COACHING.md 3, 28: fit the fullest week in the level's band at its real minutes.

        Trim sets (to two each), then leave out template accessories (never what a rule added for the runner),
        then trim to one set.
        """
        _, high = band
        required = set(required_categories(self.profile.level))
        for session in plans:
            def peak(s: SessionPlan = session) -> list[int]:
                return [self.step_sets(slot, peak_delta) for slot in s.slots]

            def trim(floor: int, s: SessionPlan = session) -> None:
                sets, per_set = peak(), self.day_set_times(s)  # only sets change here: one slot's per set cut
                while self.timed_minutes(template, zip(sets, per_set, strict=True)) > high:
                    over = [i for i, n in enumerate(sets) if n > floor
                            and (floor > 1 or i > 0)]  # the main lift keeps a useful two sets
                    if not over:
                        return
                    plain = [i for i in over if s.slots[i].emphasis <= 0] or over  # the goals' emphasis goes last
                    cut = max(reversed(plain), key=lambda i: s.slots[i].sets)
                    biggest = s.slots[cut]
                    biggest.sets -= 1
                    sets[cut] = self.step_sets(biggest, peak_delta)
                    self.guard("safeguard-minutes", MINUTES_GUARD,
                               f"fewer sets of {biggest.exercise.name} to keep session {s.key} within {high} min")

            def drop(alone: bool, s: SessionPlan = session) -> None:
                """Leave out accessories whose work is covered; `alone`: session A keeps its own coverage."""
                while self.estimate(s, template, peak()) > high and len(s.slots) > 2:
                    # session A stands alone in one-session weeks (maintenance), so it first keeps its own
                    # coverage (what another session covers is what it holds on its day: jumps wait after a
                    # key run); rather than many exercises at one set, it too gives way to the others
                    others = set() if alone and s is main_session(plans) else {
                        c.value for p in plans if p is not s
                        for slot, _ in (self.for_day([(x, 1) for x in p.slots], p.day) if p.day >= 0
                                        else [(x, 1) for x in p.slots])
                        for c in slot.exercise.categories}
                    droppable = [
                        i for i, slot in enumerate(s.slots)
                        if i > 0  # the session's main lift stays
                        and slot.origin in ("template", "coverage")  # a rule's addition is what its note promises
                        and not (slot.exercise.is_heavy() and slot.reps[0] <= 5)  # the heavy day's lift stays (29)
                        and all(c.value not in required
                                or (c.value in others and c is not Category.SINGLE_LEG)  # single-leg: every week (14)
                                or any(c in o.exercise.categories for o in s.slots if o is not slot)
                                for c in slot.exercise.categories)
                    ]
                    if not droppable:
                        return
                    plain = [i for i in droppable if s.slots[i].emphasis <= 0]
                    if not plain:  # an emphasised exercise goes only if the session keeps its kind of work
                        plain = [i for i in droppable if set(s.slots[i].exercise.categories) <= {
                            c for j, o in enumerate(s.slots) if j != i for c in o.exercise.categories}]
                    if not plain:
                        return
                    dropped = s.slots.pop(plain[-1])
                    self.guard("safeguard-minutes", MINUTES_GUARD,
                               f"left {dropped.exercise.name} out of session {s.key} to keep it within {high} min")

            trim(2)
            drop(alone=True)
            drop(alone=False)
            # Still over: one set of some exercises, unless that leaves most of the session at one set; then
            # a goal's additions give way first (a niggle's or safety rule's never do), last first.
            before = [slot.sets for slot in session.slots]
            trim(1)
            if sum(self.step_sets(x, peak_delta) < 2 for x in session.slots) * 2 > len(session.slots):
                for slot, n in zip(session.slots, before, strict=True):
                    slot.sets = n
            while self.estimate(session, template, peak()) > high and len(session.slots) > 2:
                extra = [i for i, slot in enumerate(session.slots) if i > 0 and slot.origin.startswith("goal-")
                         and not self.promised(slot)
                         and {*slot.exercise.categories, slot.exercise.unit} <= {  # the session keeps its kind
                             c for o in session.slots if o is not slot  # of work (14), holds included
                             for c in (*o.exercise.categories, o.exercise.unit)}]
                if not extra:
                    break
                dropped = session.slots.pop(extra[-1])
                self.guard("safeguard-minutes", MINUTES_GUARD,
                           f"left {dropped.exercise.name} out of session {session.key} to keep it within {high} min")
            trim(1)
            self.fewer_but_useful(session, template, high, peak_delta, plans)

    def promised(self, slot: SlotPlan, others: set[str] = frozenset()) -> bool:  # type: ignore[assignment]
        """Whether the exercise is what the note of the rule that added it names (rules/claims.yaml).

        Not when one of `others` is another exercise that note would accept.
        """
        claim = self.catalog.claims.notes.get(slot.origin)
        return claim is not None and slot.exercise.id in claim.has_ids and not set(claim.has_ids) & others

    def fewer_but_useful(self, session: SessionPlan, template: Template, high: int, peak_delta: int,
                         plans: list[SessionPlan]) -> None:
        """COACHING.md 28: rather than most of a session at one set, fewer exercises at two.

        The last one-set exercise (else the last exercise) whose kind of work the block keeps elsewhere goes,
        never the main lift nor what a safety rule or a note promises, and the time it frees gives the others
        their second set back.
        """
        def sets(s: SessionPlan = session) -> list[int]:
            return [self.step_sets(x, peak_delta) for x in s.slots]

        def thin(s: SessionPlan = session) -> bool:  # as done on its day (jumps may give way to calmer work)
            done = list(zip(s.slots, sets(), strict=True))
            done = self.for_day(done, s.day) if s.day >= 0 else done
            return sum(n < 2 for _, n in done) * 2 > len(done)

        if not (thin() and len(session.slots) > 2):  # the common case: nothing to do (and nothing to work out)
            return
        required = set(required_categories(self.profile.level))
        elsewhere = {c for p in plans if p is not session  # what the other sessions cover on their days
                     for slot, _ in (self.for_day([(x, 1) for x in p.slots], p.day) if p.day >= 0
                                     else [(x, 1) for x in p.slots])
                     for c in slot.exercise.categories if c is not Category.SINGLE_LEG}
        while thin() and len(session.slots) > 2:
            single = [i for i, (slot, n) in enumerate(zip(session.slots, sets(), strict=True)) if i > 0
                      and (slot.origin in ("template", "coverage") or slot.origin.startswith(("goal-", "niggle-")))
                      and not self.promised(slot, {o.exercise.id for o in session.slots if o is not slot})
                      and all(c.value not in required or c in elsewhere or any(  # the block keeps its kinds
                          c in o.exercise.categories for o in session.slots if o is not slot)  # of work (14)
                          for c in slot.exercise.categories)]
            if not single:
                return
            ones = [i for i in single if sets()[i] < 2]  # a one-set exercise goes first, else the last that may
            dropped = session.slots.pop((ones or single)[-1])
            self.guard("safeguard-minutes", MINUTES_GUARD,
                       f"left {dropped.exercise.name} out of session {session.key} so the rest get useful sets")
            for slot in session.slots:
                if self.step_sets(slot, peak_delta) < 2:
                    slot.sets += 1
                    if self.estimate(session, template, sets()) > high:
                        slot.sets -= 1

    def long_day(self) -> int | None:
        """The long run's day (0=Mon), if the runner has one."""
        return DAYS.index(self.profile.long_run_day) if self.profile.long_run_day else None

    def after_long_day(self) -> int | None:
        """The day after the long run (0=Mon), kept for mobility or a light session (COACHING.md 25)."""
        long_day = self.long_day()
        return None if long_day is None else (long_day + 1) % 7

    def for_day(self, slots: list[tuple[SlotPlan, int]], day: int) -> list[tuple[SlotPlan, int]]:
        """A session's exercises as done on a day (COACHING.md 12, 25).

        After a key run jumps wait; on the long run's day and the day after it heavy lifts wait too.
        """
        long_day = self.long_day()
        waits: set[Category] = set()
        if day in self.key_days():
            waits.add(Category.PLYOMETRIC)
        if long_day is not None and day == long_day:
            waits.add(Category.HEAVY)
        if long_day is not None and day == (long_day + 1) % 7:
            waits |= set(self.catalog.placement.after_long_run_waits)
        if not waits:
            return slots
        return self.calmed(slots, frozenset(waits))

    def calmed(self, slots: list[tuple[SlotPlan, int]], waits: frozenset[Category]) -> list[tuple[SlotPlan, int]]:
        """Exercises in the categories that wait give way to calmer substitutes (COACHING.md 12, 25), or are left out.

        After a hard run the heavy lift stays (done after the run) and only the jumps go.
        """
        out: list[tuple[SlotPlan, int]] = []
        taken = {slot.exercise.id for slot, _ in slots}
        for slot, n in slots:
            ex = slot.exercise
            if waits & set(ex.categories):
                sub = self.calmer(ex.id, frozenset(taken), waits)
                if sub is None:
                    continue
                taken.add(sub.id)
                reps = (8, 10) if sub.unit == "reps" and slot.reps[0] <= 6 else slot.reps
                slot = SlotPlan(sub, slot.sets, reps, slot.origin)
            out.append((slot, n))
        return out

    def calmer(self, ex_id: str, taken: frozenset[str], waits: frozenset[Category]) -> Exercise | None:
        """The first substitute of ex_id (breadth first) that is not a jump nor in a waiting category, and fits."""
        for sub in self.substitutes(ex_id):
            if (sub.id not in taken and not sub.is_plyometric() and not waits & set(sub.categories)
                    and self.blocked(sub) is None):
                return sub
        return None

    def step_sets(self, slot: SlotPlan, change: int) -> int:
        """A week's sets of an exercise: its sets plus the week's change, a cut never below two (a useful dose)."""
        sets = slot.sets + change
        if change < 0:
            sets = max(sets, min(2, slot.sets))
        return self.cap_sets(slot, sets)

    def cap_sets(self, slot: SlotPlan, sets: int) -> int:
        """Sets within the exercise's cap, and at least one."""
        cap = slot.exercise.caps.sets
        return max(1, min(sets, cap) if cap else sets)

    # -- calendar --------------------------------------------------------------------------

    def key_days(self) -> frozenset[int]:
        """Days (0=Mon) of the runner's hard runs and long run."""
        if self._key_days is None:
            days = {DAYS.index(day) for day in self.profile.hard_days}
            if self.profile.long_run_day:
                days.add(DAYS.index(self.profile.long_run_day))
            self._key_days = frozenset(days)
        return self._key_days

    def schedule(self, plans: list[SessionPlan], forbidden: frozenset[int] = frozenset()) -> list[SessionPlan]:
        """Give sessions days around the key runs, in day order; those that don't fit go, keeping rules' additions."""
        long_day = DAYS.index(self.profile.long_run_day) if self.profile.long_run_day else None
        hard = frozenset(DAYS.index(day) for day in self.profile.hard_days)
        loads = tuple(p.load(self.catalog.placement) for p in plans)
        placed = choose_days(self.key_days(), hard, long_day, forbidden, loads)
        if len(placed) < len(plans):
            dropped = len(plans) - len(placed)
            self.guard("safeguard-schedule", "No strength the day before a long run or hard session, and never "
                       "on consecutive days.", f"only room for {len(placed)} session(s) a week around your "
                       f"key runs, so {dropped} fewer")
        # What a rule added to a session that found no day goes to the last session kept (its note promises it).
        for lost in plans[len(placed):]:
            keep = plans[len(placed) - 1] if placed else None
            for slot in lost.slots:
                if (keep is not None and slot.origin not in ("template", "coverage")
                        and slot.exercise.id not in keep.ids()):
                    keep.slots.append(slot)
        result = []
        for session, (day, on_hard) in zip(plans, placed, strict=False):
            session.day, session.on_hard_day = day, on_hard
            if on_hard and any(slot.exercise.is_plyometric() for slot in session.slots):
                self.guard("safeguard-schedule", "Jumps are done fresh; a session that must share a hard-run day "
                           "keeps its heavy lift, comes after the run and drops the jumps.",
                           f"session {session.key} shares a hard-run day, so its jumps are left out")
            result.append(session)
        return sorted(result, key=lambda s: s.day)


@lru_cache(maxsize=8192)
def choose_days(key_days: frozenset[int], hard: frozenset[int], long_day: int | None,
                forbidden: frozenset[int],
                loads: tuple[tuple[float, float, bool], ...]) -> tuple[tuple[int, bool], ...]:
    """Days (0=Mon) for each session in order, with whether it shares a hard-run day; fewer if they don't fit.

    loads are (fatigue cost, its heavy-lift part, jumps) per session. Never the day before a key run (COACHING.md 11),
    never consecutive days (13); the day after the long run is kept for mobility unless the week needs it for a
    session without a heavy lift (then the plan doesn't mark it for mobility, 25). The costliest
    session gets the best free day: not a key-run day, with the most days before the next key run (25);
    heavy and jump sessions keep off hard-run days where they can (12, 25).
    """
    blocked = {(day - 1) % 7 for day in key_days} | set(forbidden)
    after_long = (long_day + 1) % 7 if long_day is not None else None
    candidates = [d for d in range(7) if d not in blocked and (d not in key_days or d in hard)]
    top = max((cost + heavy for cost, heavy, _ in loads), default=0) or 1  # heavy lifts count twice

    def rest_before_next(day: int) -> int:
        return min(((k - day) % 7 or 7 for k in key_days), default=7)

    for count in range(len(loads), 0, -1):
        best: tuple[float, tuple[int, ...]] | None = None
        best_plan: tuple[tuple[int, bool], ...] = ()
        for combo in itertools.combinations(candidates, count):
            if count > 1 and any((b - a) % 7 in (1, 6) for a, b in itertools.combinations(combo, 2)):
                continue
            gaps = sorted((b - a) % 7 for a, b in zip(combo, combo[1:] + combo[:1], strict=True)) if count > 1 else [7]
            for order in itertools.permutations(combo):
                score = 0.5 * gaps[0]
                for day, (cost, heavy, jumps) in zip(order, loads, strict=False):
                    weight = 1 + (cost + heavy) / top
                    if day == after_long:  # the mobility day: only when the week needs it; heavy lifts swap out
                        score -= 10 + weight + 10 * heavy
                    elif day in key_days:  # on the long run's day heavy lifts swap out too
                        score -= (4 if heavy else 1) + (2 if jumps else 0) + (10 * heavy if day == long_day else 0)
                    else:
                        score += 3 + weight * min(rest_before_next(day), 4)
                rank = (score, tuple(-d for d in order))
                if best is None or rank > best:
                    best = rank
                    best_plan = tuple((day, day in key_days) for day in order)
        if best_plan:
            return best_plan
    return ()


def smooth_rise(weeks: list[list[list[int]]], steps: list[WeekStep], rise: float) -> None:
    """COACHING.md 29: working sets rise at most `rise` (a fraction) from one building week to the next.

    An earlier week gets sets back (up to the next week's, exercise by exercise, so it still fits its time).
    """
    for i in range(len(weeks) - 2, -1, -1):
        if steps[i].sets_factor is not None or steps[i + 1].sets_factor is not None:
            continue
        this, after = weeks[i], weeks[i + 1]
        while sum(map(sum, this)) and sum(map(sum, after)) > math.ceil(sum(map(sum, this)) * (1 + rise)):
            gaps = [(after[j][k] - n, -j, -k) for j, sets in enumerate(this) for k, n in enumerate(sets)
                    if after[j][k] > n]
            if not gaps:
                break
            _, j, k = max(gaps)
            this[-j][-k] += 1


def fresh_first(slots: list[tuple[SlotPlan, int]]) -> list[tuple[SlotPlan, int]]:
    """A session's order (COACHING.md 25, 30): the heavy lift, then jumps, then the rest in template order.

    Jumps come while the legs are fresh, straight after the heavy lift when both are there (a contrast pair).
    """
    return sorted(slots, key=lambda s: 0 if s[0].exercise.is_heavy() else 1 if s[0].exercise.is_plyometric() else 2)


def light_slots(slots: list[tuple[SlotPlan, int]], light: LightSession) -> list[tuple[SlotPlan, int]]:
    """A light session's exercises (COACHING.md 25): a few sets of each, kept in session order.

    The main lift first, then what a rule added for the runner (its note promises it), then each exercise
    that brings a movement pattern the kept ones lack, then the rest, while the session's sets allow.
    """
    capped = [(slot, min(n, light.max_sets)) for slot, n in slots if n > 0]
    first = capped[:1] + [x for x in capped[1:] if x[0].origin not in ("template", "coverage", "maintenance")]
    covered = {t for x in first for t in x[0].exercise.trains()}
    for x in capped:
        if x not in first and x[0].exercise.trains() - covered:
            first.append(x)
            covered |= x[0].exercise.trains()
    kept: list[tuple[SlotPlan, int]] = []
    total = 0
    for x in first + [x for x in capped if x not in first]:
        if total + x[1] <= light.max_working_sets:
            kept.append(x)
            total += x[1]
    return sorted(kept, key=lambda x: capped.index(x))


def main_session(plans: list[SessionPlan]) -> SessionPlan:
    """The template's first session (A), which alone covers the level's work: the one maintenance weeks keep."""
    return min(plans, key=lambda p: p.key)


def covered_last(exercises: list[Exercise], sets: list[int], needed: set[Category] | None = None) -> int | None:
    """The last exercise (with sets) whose categories the others still cover; None when each is needed.

    Leaving it out loses no kind of work (COACHING.md 14), or none of the `needed` kinds when given.
    """
    for k in reversed(range(len(sets))):
        if not sets[k]:
            continue
        rest = {c for j, ex in enumerate(exercises) if j != k and sets[j] for c in ex.categories}
        own = set(exercises[k].categories)
        if (own if needed is None else own & needed) <= rest:
            return k
    return None


def spread_down(sets: list[int], target: int, floor: int = 1) -> list[int]:
    """Take sets away, largest first (later exercises first on ties), until the total reaches target."""
    sets = list(sets)
    total = sum(sets)
    heap = [(-n, -k) for k, n in enumerate(sets)]  # the biggest, then the latest, comes out first
    heapq.heapify(heap)
    while total > target and heap:
        n, k = heapq.heappop(heap)
        if -n <= floor:
            break
        sets[-k] -= 1
        total -= 1
        heapq.heappush(heap, (n + 1, k))
    return sets


def _effort(ex: Exercise, rir: tuple[int, int]) -> str:
    if ex.is_plyometric():
        return f"RPE {10 - rir[1]}-{10 - rir[0]}: every rep fast, stop before they slow"
    if ex.unit != "reps":
        return f"RPE {10 - rir[1]}-{10 - rir[0]}: firm, steady effort"
    return f"{rir[0]}-{rir[1]} reps in reserve"


_reps_text = reps_text  # the name adapt and the planner's own code use


class Planner:
    """Makes plans from one rule set; cheap to keep and reuse."""

    def __init__(self, ruleset: RuleSet) -> None:
        self.ruleset = ruleset
        self.catalog = ruleset.catalog
        self._items: dict[str, Item] = {}
        self._template_blocks: dict[tuple[str, tuple[Niggle, ...], bool], tuple[list[Item], list[Item]]] = {}
        self._prescriptions: dict[tuple, Prescription] = {}

    def make_plan(self, profile: Profile, start: dt.date | None = None) -> Plan:
        """A profile's plan, from the first Monday on or after `start` (default: tomorrow), or a withheld one."""
        start = block_start(start or dt.date.today() + dt.timedelta(days=1))
        outcome = self.ruleset.evaluate(profile, start)
        builder = Builder(profile, self.catalog, outcome, start, rules_by_id=self.ruleset.by_id)
        template = builder.template()
        trace = [trusted(TraceEntry, **entry) for entry in outcome.trace]
        common = {
            "profile": profile, "start": start, "template": template.id, "level": profile.level,
            "fired_rules": outcome.fired, "notes": list(outcome.notes), "warnings": list(outcome.warnings),
            "rules_version": self.ruleset.version,
        }
        if outcome.withheld:
            return Plan(**common, sessions_per_week=0, progression="none", weeks=[], trace=trace,
                        withheld=True, withheld_reason=outcome.withheld)

        count = builder.sessions_per_week(template)
        progression = self.catalog.progressions[builder.progression()]
        builder.progression_id = progression.id
        band = builder.minutes_band(template)
        plans = builder.sessions(template, count)
        plans = builder.schedule(plans)
        if not plans:
            reason = ("Your running week has no day for strength that isn't a key run or the day before one. "
                      "Free up one easy day (or tell me fewer hard days) and I'll fit a session in.")
            return Plan(**common, sessions_per_week=0, progression=progression.id, weeks=[],
                        trace=trace + builder.guards, withheld=True, withheld_reason=reason)
        builder.fewer_sessions_note(len(plans), count)
        builder.place_additions(plans)
        builder.emphasise(plans)
        builder.cover_categories(plans)
        peak_delta = max(step.sets for step in progression.weeks if step.sets_factor is None)
        builder.fit_minutes(plans, template, band, peak_delta)
        builder.follow_mileage(plans, template, band, peak_delta)

        weeks = self._weeks(builder, template, progression.weeks, plans, band)
        notes = self._true_notes(builder, outcome, weeks, common.pop("notes")) + builder.notes
        return trusted(Plan, **common, notes=notes, sessions_per_week=len(plans), progression=progression.id,
                       weeks=weeks, trace=self._true_trace(builder, plans, weeks, trace + builder.guards),
                       withheld=False, withheld_reason=None)

    def _true_trace(self, b: Builder, plans: list[SessionPlan], weeks: list[Week],
                    trace: list[TraceEntry]) -> list[TraceEntry]:
        """COACHING.md 27: every line of "Why this plan?" true of the plan it is shown with.

        A rule's addition the plan doesn't hold says what became of it; a setting the weeks don't keep (sessions
        a week, the progression) says what they hold; a safeguard's line about a session the plan never holds
        (or a day it never has) goes.
        """
        sessions = [s for w in weeks for s in w.sessions]
        held = {e.id for s in sessions for e in s.exercises}
        names = {e.name for s in sessions for e in s.exercises}
        keys = {s.key for s in sessions}
        hard = set(b.profile.hard_days)
        on_hard = {s.key for s in sessions if s.day in hard}
        guard_lines = [c for t in trace if t.status == "safeguard" for c in t.changes]
        out = []
        for entry in trace:
            changes = []
            for change in entry.changes:
                if entry.status == "applied":
                    change = self._true_change(b, plans, weeks, change, entry.rule_id, (held, names, keys),
                                               guard_lines)
                named = SESSION_NAMED.findall(change) if entry.status == "safeguard" else []
                if any(k not in keys for k in named) or (
                        "shares a hard-run day" in change and not set(named) & on_hard):
                    continue  # about a session (or a day) this plan never holds
                changes.append(change)
            if changes or not entry.changes or entry.status != "safeguard":
                out.append(trusted(TraceEntry, rule_id=entry.rule_id, description=entry.description,
                                   status=entry.status, changes=changes))
        return out

    def _dose_said(self, change: str, ex_id: str, weeks: list[Week]) -> str:
        """COACHING.md 27: a rule's "add X (S x R)" says the plan's first dose of X, "at first" if it moves."""
        doses = [(e.sets, e.reps) for w in weeks for s in sorted(w.sessions, key=lambda s: s.date)
                 for e in s.exercises if e.id == ex_id]
        sets, reps = doses[0]
        at_first = self.catalog.claims.trace.dose_at_first.format(sets=sets, reps=reps)
        said = f"({sets} x {reps})" if len(set(doses)) == 1 else f"({at_first})"
        return ADDED_DOSE.sub(said, change, count=1)

    def _true_change(self, b: Builder, plans: list[SessionPlan], weeks: list[Week], change: str, rule_id: str,
                     plan_holds: tuple[set[str], set[str], set[str]], guard_lines: list[str]) -> str:
        """One rule's trace line, with what became of it when the plan doesn't keep it as it says.

        plan_holds: the ids, names and session keys the plan's weeks hold.
        """
        held, names, keys = plan_holds
        counts = [len(w.sessions) for w in weeks]
        labels = [w.label for w in weeks]
        words = self.catalog.claims.trace
        added = ADDED_LINE.match(change)
        if added and added[1] in held:
            return self._dose_said(change, added[1], weeks)
        if added and added[1] in self.catalog.exercises and added[1] not in held:
            name = self.catalog.exercises[added[1]].name
            swapped = next((line.split(" -> ", 1)[1].split(":")[0] for line in guard_lines
                            if line.startswith(f"{name} -> ")), None)
            if swapped in names:
                return f"{change}, done as {swapped}"
            for p in plans:
                slot = next((x for x in p.slots if x.exercise.id == added[1] and x.origin == rule_id), None)
                if slot is None or p.day < 0:
                    continue
                if p.key not in keys:
                    return f"{change}, then left out ({words.session_unused})"
                calm = b.for_day([(slot, 1)], p.day)
                waits = words.calmed.format(day=DAY_NAMES[DAYS[p.day]])
                if calm and calm[0][0].exercise.name in names and calm[0][0].exercise.id != added[1]:
                    return f"{change}, done as {calm[0][0].exercise.name} ({waits})"
                if not calm:
                    return f"{change}, then left out ({waits})"
            why = next((line for line in guard_lines if name in line and "left" in line
                        and set(SESSION_NAMED.findall(line)) <= keys), None)
            return f"{change}, then left out ({why or words.not_held})"
        category = ADDED_CATEGORY_LINE.match(change)
        if category and not any(category[1] in s.categories for w in weeks for s in w.sessions):
            return f"{change}, then left out ({words.not_held})"
        if SETTING_SESSIONS.match(change) and set(counts) != {int(change.split()[0])}:
            held_text = ", ".join(map(str, counts[:-1])) + f" and {counts[-1]}"
            return f"{change}; {words.weeks_hold.format(counts=held_text)}"
        progression = SETTING_PROGRESSION.match(change)
        if progression and progression[1] in self.catalog.progressions and not set(labels) <= {
                step.label for step in self.catalog.progressions[progression[1]].weeks}:
            return f"{change}; {words.weeks_run.format(labels=', '.join(label.lower() for label in labels))}"
        return change

    def _true_notes(self, b: Builder, outcome: Outcome, weeks: list[Week], notes: list[str]) -> list[str]:
        """COACHING.md 27: leave out a rule's note whose claim (rules/claims.yaml) the plan doesn't keep."""
        exercises = [e for w in weeks for s in w.sessions for e in s.exercises]
        if not exercises:
            return notes
        ids = {e.id for e in exercises}
        categories = {c for e in exercises for c in e.categories}
        untrue: set[str] = set()
        for entry in outcome.trace:
            claim = self.catalog.claims.notes.get(entry["rule_id"])
            if claim is None or entry["status"] != "applied":
                continue
            why = claim.untrue(ids, categories)
            if why is None:
                continue
            for change in entry["changes"]:
                if change.startswith("note: "):
                    untrue.add(change.removeprefix("note: "))
                    b.guard("safeguard-true-notes", "A note is shown only when it is true of the plan.",
                            f"left out the note of rule '{entry['rule_id']}': {why}")
        return [note for note in notes if note not in untrue]

    # -- weeks -----------------------------------------------------------------------------

    def _weeks(self, b: Builder, template: Template, steps: list[WeekStep], plans: list[SessionPlan],
               band: tuple[int, int]) -> list[Week]:
        """Lay the block out week by week, by days to the race and its distance (rules/races.yaml)."""
        policy = self.catalog.races
        race = b.race_offset()
        distance = policy.for_distance(b.profile.race_distance.value if b.profile.race_distance else None)
        maintain = self.catalog.progressions["maintain"].weeks
        taper = race is not None and WEEKS * 7 <= race < WEEKS * 7 + policy.taper_window_days
        build_sets: list[list[list[int]]] = []  # week -> session -> slot sets, for the runner's normal weeks
        for step in steps:
            if step.sets_factor is None:
                build_sets.append([[b.step_sets(s, step.sets) for s in p.slots] for p in plans])
            else:
                build_sets.append(self._reduced(b, plans, build_sets, step, False))
        smooth_rise(build_sets, steps, self.catalog.dosing.max_weekly_rise)
        merged = self._maintenance_session(b, template, plans, band) if race is not None else main_session(plans)
        layout: list[WeekLayout] = []
        placed_dates: list[dt.date] = []
        rebuilt = 0  # weeks with full sessions since the race: the block rebuilds from its first step
        stepped_in: dict[str, str] = {}  # next steps taken: the new exercise's id -> the one it moves on from
        used: list[int] = []  # the step each non-maintenance week took
        # What the weeks laid out so far hold, kept up to date as each week is added (a laid-out week never
        # changes again before the taper): their exercises' ids; what they hold on their days (for_day), in
        # entry order; and by exercise id, the weeks' entries taken by day (_nothing_new's `done`).
        laid_ids: set[str] = set()
        laid_on_days: list[SlotPlan] = []
        laid_by_id: dict[str, SlotPlan] = {}
        for index, step in enumerate(steps):
            week_start = b.start + dt.timedelta(days=7 * index)
            modes = [day_mode(race, distance, policy, 7 * index + d) for d in range(7)]
            to_race = None if race is None else race - 7 * index
            maintenance = to_race is not None and 0 < to_race < policy.maintenance_days  # a race on Monday: after it
            step_index = index
            if race is not None and race < 7 * index and step.sets_factor is None:
                step_index = min(rebuilt, 2)  # COACHING.md 23, 29: after a race, introduce again; week 4 deloads
                step = steps[step_index]
            week = WeekLayout(step=step, label=step.label, summary=step.summary,
                              maintenance=maintenance or steps[0].label == "Maintain")
            # the race week is the one holding its final days (the primer's), not a week that starts on race day
            if to_race is not None and 0 <= to_race - policy.primer.days_out[0] < 7:
                week.label, week.summary = policy.weeks["race"].label, policy.weeks["race"].summary
            elif any(m in ("rest", "recovery") for m in modes) or (to_race is not None and 0 <= to_race < 7):
                week.label, week.summary = policy.weeks["recover"].label, policy.weeks["recover"].summary
            elif maintenance:
                week.label, week.summary = policy.weeks["maintain"].label, policy.weeks["maintain"].summary
            if maintenance:
                week.step = maintain[index]
                if week.step.sets_factor is not None and week.label == policy.weeks["maintain"].label:
                    week.label, week.summary = week.step.label, week.step.summary  # a lighter week says so (27)
                steady = next(m for m in maintain if m.sets_factor is None)
                main = merged
                sets = [b.step_sets(s, steady.sets) for s in main.slots]
                if week.step.sets_factor is not None:  # the pattern's lighter week: scale the steady dose
                    total = sum(sets)
                    sets = spread_down(sets, min(total - 1, math.floor(week.step.sets_factor * total)))
                    k = covered_last([s.exercise for s in main.slots], sets) if sum(sets) >= total else None
                    if k is not None:
                        sets[k] = 0  # one set of everything already: leave out an accessory others cover
                chosen = [(main, sets)]
            else:
                sets = build_sets[step_index]
                if step.sets_factor is not None and used and used[-1] != len(steps) - 2:  # deload the week before
                    sets = self._reduced(b, plans, [build_sets[used[-1]]], step, False)
                if (step.sets_factor is not None and race is not None and race < 7 * index and layout
                        and week.label == step.label
                        and sum(map(sum, sets)) >= sum(n for e in layout[-1].entries for _, n in e.slots)):
                    # COACHING.md 5: a deload is lighter than the week before; after a race's easy days the
                    # block builds again instead (rules/races.yaml `rebuild`)
                    step_index = min(rebuilt, 2)
                    week.step, sets = steps[step_index], build_sets[step_index]
                    week.label, week.summary = policy.weeks["rebuild"].label, policy.weeks["rebuild"].summary
                chosen = list(zip(plans, sets, strict=True))
            last = placed_dates[-1] if placed_dates else None
            after_previous = (last - week_start).days + 1 if last else -1
            forbidden = {d for d, m in enumerate(modes) if m not in ("full", "recovery")}
            if 0 <= after_previous < 7:
                forbidden.add(after_previous)
            usual_next = {p.day for p in plans}
            avoid = frozenset({6}) if 0 in usual_next and index < WEEKS - 1 else frozenset()
            days = self._place(b, [p for p, _ in chosen], frozenset(forbidden), self._last_full_window(
                policy, to_race) if maintenance else frozenset(), avoid)
            recovery_used = False
            for (p, sets), day in zip(chosen, days, strict=True):
                if day is None:
                    continue
                if modes[day] == "recovery":
                    if recovery_used:
                        continue
                    recovery_used = True
                    slots = [(slot, max(1, n - 1)) for slot, n in zip(p.slots, sets, strict=True)
                             if n > 0 and not {Category.HEAVY, Category.PLYOMETRIC, Category.ECCENTRIC}
                             & set(slot.exercise.categories)]
                    if day == b.after_long_day():
                        slots = light_slots(slots, self.catalog.placement.after_long_run_session)
                    if slots:
                        week.entries.append(WeekEntry(p, slots, day, "light", (3, 4), policy.recovery_focus,
                                                      reps="bottom"))
                    continue
                slots = [(slot, n) for slot, n in zip(p.slots, sets, strict=True) if n > 0]
                if not week.maintenance:  # the tendon path moves on where the session still fits its time
                    stepped = b.next_steps(slots, index + 1, laid_ids)
                    if stepped != slots and b.minutes(template, [
                            (s.exercise, n, b.dose(s.exercise, s.reps, week.step.reps)[1])
                            for s, n in b.for_day(stepped, day)]) <= band[1]:
                        for (old, _), (new, _) in zip(slots, stepped, strict=True):
                            if old is not new:
                                stepped_in.setdefault(new.exercise.id, old.exercise.name)
                        slots = stepped
                if day == b.after_long_day():  # COACHING.md 25, 27: only ever a light session there
                    light = self.catalog.placement.after_long_run_session
                    rir = (max(week.step.rir[0], light.rir[0]), max(week.step.rir[1], light.rir[1]))
                    week.entries.append(WeekEntry(p, light_slots(b.for_day(slots, day), light), day, "light", rir,
                                                  p.focus, reps=week.step.reps))
                    continue
                week.entries.append(WeekEntry(p, slots, day, p.kind, week.step.rir, p.focus, reps=week.step.reps))
            self._nothing_new(b, layout, week, index, race, laid_by_id)
            if race is not None and race < 7 * index and any(e.kind != "light" for e in week.entries):
                rebuilt += 1
            if not maintenance:
                used.append(step_index)
            on_days = {id(e): b.for_day(e.slots, e.day) for e in week.entries}
            done = laid_on_days + [slot for e in week.entries for slot, _ in on_days[id(e)]]
            main = main_session(plans)
            primer = self._primer(b, main, done or main.slots, modes, week_start, placed_dates + [
                week_start + dt.timedelta(days=e.day) for e in week.entries])
            if primer is not None:
                week.entries.append(primer)
                on_days[id(primer)] = b.for_day(primer.slots, primer.day)
            placed_dates += sorted(week_start + dt.timedelta(days=e.day) for e in week.entries)
            placed_dates.sort()
            layout.append(week)
            laid_ids.update(slot.exercise.id for e in week.entries for slot, _ in e.slots)
            laid_on_days += [slot for e in week.entries for slot, _ in on_days[id(e)]]
            for e in sorted(week.entries, key=lambda entry: entry.day):
                laid_by_id.update((slot.exercise.id, slot) for slot, _ in on_days[id(e)])
        if taper:
            self._taper(b, layout)
        weeks = []
        primer_week = 0
        seen: set[str] = set()  # exercises already done: a loaded one gets its starting load the first time
        for index, week in enumerate(layout):
            number = index + 1
            week_start = b.start + dt.timedelta(days=7 * index)
            label, summary = week.label, week.summary
            if taper and number == WEEKS:
                full = [e for e in week.entries if not e.primer]
                text = self.catalog.races.weeks["taper_light" if full and all(e.kind == "light" for e in full)
                                                else "taper"]
                label, summary = text.label, text.summary
            load = self.catalog.progressions[b.progression_id].load_start
            done_before = set(seen)
            sessions = []
            for e in sorted(week.entries, key=lambda entry: entry.day):
                session = self._session(b, template, e.plan, e.slots, e.rir, week_start, band, e.kind, e.day,
                                        focus=e.focus, reps=e.reps, load=load, seen=seen,
                                        calm=e.kind == "light" and not e.primer)
                seen.update(p.id for p in session.exercises)
                sessions.append(session)
            sessions.sort(key=lambda session: session.date)
            step = steps[index]
            if (step.summary_if_new and summary == step.summary and done_before
                    and {p.id for session in sessions for p in session.exercises} - done_before):
                summary = step.summary_if_new  # COACHING.md 27: "same exercises" only when it is so
            self._nordic_limit(sessions, week.maintenance or label == "Taper")
            race_in_week = race is not None and 0 <= race - 7 * index < 7
            race_text = self.catalog.races.weeks
            if any(e.primer for e in week.entries) and label != "Taper":  # the primer's week is the race week
                label, summary = race_text["race"].label, race_text["race"].summary
                primer_week = number
            elif label == race_text["race"].label and primer_week:  # the primer came the week before
                label, summary = race_text["recover"].label, race_text["recover"].summary
            elif label == race_text["maintain"].label and not week.entries:  # COACHING.md 27: say what it holds
                label, summary = race_text["no_room"].label, race_text["no_room"].summary
            elif label == race_text["maintain"].label and all(e.kind == "light" for e in week.entries):
                label, summary = race_text["maintain_light"].label, race_text["maintain_light"].summary
            if label == race_text["recover"].label and any(s.kind != "light" for s in sessions):
                label, summary = race_text["recover_rebuild"].label, race_text["recover_rebuild"].summary
            weeks.append(trusted(Week, week=number, start=week_start, label=label, summary=summary,
                                 sessions=sessions, mobility=self._mobility_days(
                                     b, week_start, race, {e.day for e in week.entries}),
                                 race_day=b.profile.race_date if race_in_week else None))
        self._unloaded_summaries(weeks, steps)
        for new_id, old_name in stepped_in.items():  # COACHING.md 27: the week it really first comes
            first = next((w for w in weeks for s in w.sessions for e in s.exercises if e.id == new_id), None)
            if first is not None:
                b.guard("safeguard-next-step", "With a niggle, tendon work moves on as the block goes: holds "
                        "first, then slow lowering.",
                        f"{old_name} -> {self.catalog.exercises[new_id].name} from week {first.week}")
        return weeks

    def _unloaded_summaries(self, weeks: list[Week], steps: list[WeekStep]) -> None:
        """COACHING.md 27, 29: with nothing in the plan that has weight to add, no week speaks of weight."""
        if any(self._loaded(ex) and ex.loading == "weight" for ex in (
                self.catalog.exercises[e.id] for w in weeks for s in w.sessions for e in s.exercises)):
            return
        unloaded = {step.summary: step.summary_unloaded for step in steps if step.summary_unloaded}
        for week in weeks:
            week.summary = unloaded.get(week.summary, week.summary)

    def _maintenance_session(self, b: Builder, template: Template, plans: list[SessionPlan],
                             band: tuple[int, int]) -> SessionPlan:
        """The one session of maintenance weeks: session A, keeping every movement pattern the runner's sessions hold.

        COACHING.md 2, 14: with one session a week, session A takes the first exercise of each pattern it lacks
        (rules/races.yaml maintenance_patterns) from the other sessions, at the maintenance dose, where it fits
        the band: as an extra exercise, else in place of an accessory of A whose work the rest still covers
        (never its main lift or its single-leg work, which comes every week).
        """
        main = main_session(plans)
        wanted = self.catalog.races.maintenance_patterns
        others = [p for p in sorted(plans, key=lambda p: p.key) if p is not main]
        steady = next(m for m in self.catalog.progressions["maintain"].weeks if m.sets_factor is None)

        def trains(slots: list[SlotPlan], day: int) -> set[str]:
            return {t for slot, _ in b.for_day([(x, 1) for x in slots], day) for t in slot.exercise.trains()}

        light = self.catalog.placement.after_long_run_session

        def done(p: SessionPlan) -> list[SlotPlan]:  # what a session holds on its day (light after the long run)
            slots = b.for_day([(x, b.step_sets(x, 0)) for x in p.slots], p.day)
            return [x for x, _ in (light_slots(slots, light) if p.day == b.after_long_day() else slots)]

        def fits(slots: list[SlotPlan]) -> bool:
            trial = SessionPlan(key=main.key, focus=main.focus, kind=main.kind, slots=slots, day=main.day)
            return b.estimate(trial, template, [b.step_sets(x, steady.sets) for x in slots]) <= band[1]

        slots = list(main.slots)
        taken: list[str] = []
        held = {t for p in plans for t in trains(p.slots, p.day)}
        for pattern in (t for t in wanted if t in held):
            if pattern in trains(slots, main.day):
                continue
            ids = {x.exercise.id for x in slots}
            found = next((x for p in others for x in done(p) if pattern in trains([x], main.day)
                          and x.exercise.id not in ids), None)
            if found is None:
                continue
            trial: list[SlotPlan] | None = [*slots, replace(found, origin="maintenance")]
            if not fits(trial):
                trial = next((t for i in range(len(slots) - 1, 0, -1)
                              if Category.SINGLE_LEG not in slots[i].exercise.categories
                              and trains([slots[i]], main.day) <= trains(t := trial[:i] + trial[i + 1:], main.day)
                              and fits(t)), None)
            if trial is None:  # one set of it (and of accessories), while at most half is at one set (COACHING.md 28)
                trial = [*slots, replace(found, origin="maintenance", sets=1)]
                while trial is not None and not fits(trial):
                    two = [i for i in range(1, len(trial) - 1) if b.step_sets(trial[i], steady.sets) >= 2]
                    ones = sum(b.step_sets(x, steady.sets) < 2 for x in trial)
                    if not two or (ones + 1) * 2 >= len(trial):  # fewer than half at one set, for the day's swaps
                        trial = None
                        break
                    trial[two[-1]] = replace(trial[two[-1]], sets=1)
            if trial is not None:
                slots = trial
                taken.append(found.exercise.name)
        if not taken:
            return main
        b.guard("safeguard-maintenance", "Maintenance weeks (one session a week before a race) keep every movement "
                "pattern your sessions train.", f"session {main.key} takes {', '.join(taken)} from the other "
                f"sessions in maintenance weeks, within {band[1]} min")
        return SessionPlan(key=main.key, focus=main.focus, kind=main.kind, slots=slots, day=main.day,
                           on_hard_day=main.on_hard_day)

    @staticmethod
    def _nothing_new(b: Builder, layout: list[WeekLayout], week: WeekLayout, index: int, race: int | None,
                     done: dict[str, SlotPlan]) -> None:
        """COACHING.md 2, 24: nothing new in maintenance weeks, nor after a race up to the first full session.

        (After a race only when the block had work before it.) Only exercises already done, or a regression
        of one (its substitutes); what has neither is left out. `done`: what the weeks in `layout` hold on
        their days by exercise id, each week's entries taken by day (the last one's slot for an id).
        """
        if not done:
            return
        before_race = race is not None and any(
            7 * i + e.day < race for i, w in enumerate(layout) for e in w.entries if not e.primer)
        full_after = race is not None and any(
            7 * i + e.day > race and e.kind != "light" for i, w in enumerate(layout) for e in w.entries)
        for entry in sorted(week.entries, key=lambda e: e.day):
            past = race is not None and 7 * index + entry.day > race
            after_race = past and before_race and not full_after
            # the race week is a maintenance week, but a session after the race follows the after-race rule
            if not ((week.maintenance and not past) or after_race):
                continue
            if after_race and entry.kind != "light":
                full_after = True
            regressions = {sub.id for ex_id in done for sub in b.substitutes(ex_id)}
            kept: list[tuple[SlotPlan, int]] = []
            taken: set[str] = set()
            for slot, n in b.for_day(entry.slots, entry.day):
                ex = slot.exercise
                if ex.id not in done and ex.id not in regressions:
                    known = next((sub for sub in b.substitutes(ex.id) if sub.id in done), None)
                    if known is None or known.id in taken:
                        b.guard("safeguard-nothing-new", "Nothing new before a race or right after one: only "
                                "exercises already done in the block.", f"left {ex.name} out on a no-new day")
                        continue
                    slot = SlotPlan(known, slot.sets, done[known.id].reps, slot.origin, slot.emphasis)
                taken.add(slot.exercise.id)
                kept.append((slot, n))
            entry.slots = kept  # an entry left with nothing is dropped below (the guard says why)
        week.entries = [e for e in week.entries if e.slots]

    @staticmethod
    def _last_full_window(policy: RacePolicy, to_race: int | None) -> frozenset[int]:
        """Days of this week that are 7-10 days before the race, where the last full session belongs."""
        if to_race is None:
            return frozenset()
        near, far = policy.last_full_session_days
        return frozenset(d for d in range(7) if near <= to_race - d <= far)

    def _primer(self, b: Builder, first: SessionPlan, familiar: list[SlotPlan], modes: list[str],
                week_start: dt.date, placed: list[dt.date]) -> WeekEntry | None:
        """COACHING.md 24: at most one short primer 3-4 days out: one familiar lift and a few low jumps.

        Familiar means done earlier in the block; in a block that starts in race week, from its first session.
        """
        primer = self.catalog.races.primer
        key = b.key_days()
        mobility = {(DAYS.index(b.profile.long_run_day) + 1) % 7} if b.profile.long_run_day else set()
        for day in (d for d, m in enumerate(modes) if m == "primer"):
            date = week_start + dt.timedelta(days=day)
            if (day + 1) % 7 in key or day in mobility or any(abs((date - p).days) <= 1 for p in placed):
                continue
            on_run_day = day in key
            # the main lift: the first familiar one of the primer's categories, in their order (heavy first)
            lifts = [s for c in primer.lift_categories for s in familiar if c in s.exercise.categories
                     and not {Category.PLYOMETRIC, Category.ECCENTRIC} & set(s.exercise.categories)
                     and not (on_run_day and s.exercise.is_heavy())]
            slots = [] if not lifts else [(SlotPlan(lifts[0].exercise, primer.lift_sets,
                                                    (lifts[0].reps[0], lifts[0].reps[0]), lifts[0].origin),
                                           primer.lift_sets)]
            jump = next((s for j in primer.jumps for s in familiar if s.exercise.id == j), None)
            if jump is not None and not on_run_day:
                reps = min(jump.reps[0], primer.jump_reps)
                slots.insert(0, (SlotPlan(jump.exercise, primer.jump_sets, (reps, reps), jump.origin),
                                 primer.jump_sets))
            known = {s.exercise.id for s in familiar}
            slots = [slot for slot in b.for_day(slots, day) if slot[0].exercise.id in known]  # nothing new (24)
            if not slots:
                return None
            return WeekEntry(first, slots, day, "light", primer.rir, primer.focus, primer=True, reps="bottom")
        return None

    @staticmethod
    def _taper(b: Builder, layout: list[WeekLayout]) -> None:
        """COACHING.md 6: a race within two weeks after the block: week 4 at 40-60% of the peak week's sets.

        The peak week is the block's biggest (rules/races.yaml taper_volume).
        """
        totals = [sum(n for e in w.entries for _, n in e.slots) for w in layout]
        peak = max(totals[:-1] or [0])
        # the primer stays short (24), a light session the day after the long run light (25)
        entries = [e for e in layout[-1].entries if not e.primer and e.kind != "light"]
        if not peak or not entries:
            return
        volume = b.catalog.races.taper_volume
        low, high = math.ceil(volume.low * peak), math.floor(volume.high * peak)
        # lighter than the week before it where the 40 % floor allows (a taper cuts), never above 60 %
        target = min(high, max(low, min(round(volume.target * peak), totals[-2] - 1)))
        before = next(([e.rir for e in w.entries if not e.primer] for w in layout[-2::-1]
                       if any(not e.primer for e in w.entries)), [])
        for entry in entries:  # intensity kept: the hardest effort of the last week before the taper (6)
            entry.rir = min(before) if before else entry.rir
        flat = [n for e in entries for _, n in e.slots]
        if sum(flat) > high:
            flat = spread_down(flat, target)
        while sum(flat) < low:  # a one-session week below 40%: add sets back, up to each exercise's dose
            room = [i for i, (slot, _) in enumerate(s for e in entries for s in e.slots)
                    if flat[i] < b.cap_sets(slot, slot.sets + 2)]
            if not room:
                break
            flat[min(room, key=lambda i: flat[i])] += 1
        i = 0
        for entry in entries:
            entry.slots = [(slot, flat[i + k]) for k, (slot, _) in enumerate(entry.slots)]
            i += len(entry.slots)
        # Still over 60% with one set each: leave out accessories from the end of the last session.
        while sum(n for e in entries for _, n in e.slots) > high:
            entry = next((e for e in reversed(entries) if len(e.slots) > 2), None)
            k = None if entry is None else covered_last([s.exercise for s, _ in entry.slots],
                                                        [n for _, n in entry.slots], {Category.SINGLE_LEG})
            if entry is None or k is None:
                break
            entry.slots.pop(k)
        # Still under 40% (one session left of a three-session peak): bring back familiar exercises.
        main = entries[0]
        have = {slot.exercise.id for slot, _ in main.slots}
        for slot, _ in (s for w in layout[:-1] for e in w.entries if not e.primer for s in e.slots):
            if sum(n for e in entries for _, n in e.slots) >= low:
                break
            if slot.exercise.id not in have and not (main.day in b.key_days() and slot.exercise.is_plyometric()):
                have.add(slot.exercise.id)
                main.slots.append((slot, b.cap_sets(slot, 2)))

    @staticmethod
    def _place(b: Builder, plans: list[SessionPlan], forbidden: frozenset[int],
               prefer: frozenset[int] = frozenset(), avoid: frozenset[int] = frozenset()) -> list[int | None]:
        """The usual days, unless one is forbidden this week; then place the week again (maybe fewer).

        Softer wishes are tried first and given up if they would cost a session: a one-session week goes in
        `prefer` (the window for the last full session before a race) and stays off `avoid` (the day before
        next week's first session).
        """
        prefer = prefer - b.key_days() - {b.after_long_day()}  # a full session there would have to be light (25)
        tries = []
        if prefer - forbidden and len(plans) == 1:
            tries.append(forbidden | avoid | (frozenset(range(7)) - prefer))
        if avoid - forbidden:
            tries.append(forbidden | avoid)
        tries.append(forbidden)
        best: list[int | None] = []
        for attempt in tries:
            if not attempt & {p.day for p in plans}:
                days: list[int | None] = [p.day for p in plans]
            else:
                hard = frozenset(DAYS.index(d) for d in b.profile.hard_days)
                placed = choose_days(b.key_days(), hard, b.long_day(), attempt,
                                     tuple(p.load(b.catalog.placement) for p in plans))
                days = [day for day, _ in placed] + [None] * (len(plans) - len(placed))
            if days.count(None) == 0:
                return days
            if not best or days.count(None) < best.count(None):
                best = days
        return best

    def _reduced(self, b: Builder, plans: list[SessionPlan], before: list[list[list[int]]], step: WeekStep,
                 taper: bool) -> list[list[int]]:
        """Deload (fewer sets than week 3, same exercises) or taper (40-60% of the peak week)."""
        previous = before[-1]
        total = sum(map(sum, previous))
        if taper:
            peak = max(sum(map(sum, week)) for week in before)
            target = round(0.5 * peak)
            limit = math.floor(0.6 * peak)
        else:
            target = min(total - 1, math.floor(step.sets_factor * total))
            limit = total - 1
        # Spread the cut across sessions evenly: reduce the whole week, not each session to the target.
        flat = [n for sets in previous for n in sets]
        flat = spread_down(flat, target)
        if not taper and sum(flat) >= total and len(flat) > 2:
            # one set of everything already: the deload leaves out the last accessory whose work others cover
            k = covered_last([slot.exercise for p in plans for slot in p.slots], flat)
            if k is not None:
                flat[k] = 0
        reduced, i = [], 0
        for sets in previous:
            reduced.append(flat[i:i + len(sets)])
            i += len(sets)
        if taper:
            # Still too much with one set each: leave out accessories from the end of the last session.
            while sum(map(sum, reduced)) > limit:
                for sets in reversed(reduced):
                    live = [k for k, n in enumerate(sets) if n > 0]
                    if len(live) > 2:
                        sets[live[-1]] = 0
                        break
                else:
                    break
        return reduced

    def _session(self, b: Builder, template: Template, plan: SessionPlan, slots: list[tuple[SlotPlan, int]],
                 rir: tuple[int, int], week_start: dt.date, band: tuple[int, int], kind: str,
                 day: int | None = None, focus: str | None = None, reps: str = "range", load: str = "",
                 seen: set[str] | None = None, calm: bool = False) -> Session:
        day = plan.day if day is None else day
        on_run_day = day in b.key_days()
        slots = fresh_first(b.for_day(slots, day))
        if b.profile.level is Level.BEGINNER:
            rir = (max(rir[0], 2), max(rir[1], 3))
        work = [[slot.exercise, sets, *b.dose(slot.exercise, slot.reps, reps)] for slot, sets in slots]
        low, high = band
        dosing = self.catalog.dosing
        # COACHING.md 23-25: a primer, a race's recovery window and the day after the long run hold no slow
        # (eccentric) lowering; the minutes are worked out at the tempo shown (28)
        tempos = ({ex.id: dosing.calm_tempo(ex.tempo) for ex, *_ in work}
                  if kind == "light" or day == b.after_long_day() else {})
        calmed = any(tempos[ex.id] != ex.tempo for ex, *_ in work if ex.id in tempos)

        def set_time(ex: Exercise, top: int) -> float:
            if tempos.get(ex.id, ex.tempo) == ex.tempo:
                return b.set_time(ex, top)
            return dosing.set_seconds(ex.unit, tempos[ex.id], top, ex.per_side, ex.rest_seconds)

        if calmed:
            estimate = b.timed_minutes(template, ((n, set_time(ex, top) if n > 0 else None) for ex, n, _, top in work))
        else:
            estimate = b.minutes(template, [(ex, n, top) for ex, n, _, top in work])
        while kind != "light" and estimate > high:  # COACHING.md 28: trim sets rather than understate time
            biggest = max(reversed(work), key=lambda w: w[1])
            if biggest[1] <= 1:
                break
            biggest[1] -= 1
            estimate -= set_time(biggest[0], biggest[3]) / 60
        pattern = self.catalog.progressions[b.progression_id]
        new_rir = self.catalog.dosing.first_time_rir  # COACHING.md 29: new work comes in below full effort
        gentle = self.catalog.dosing.niggle_rir  # COACHING.md 18, 26: a niggle's own work stays easy all block
        niggles = set(b.profile.niggles)

        def effort(ex: Exercise) -> tuple[int, int]:
            floor = new_rir if ex.id not in (seen or ()) else (0, 0)
            if niggles & set(ex.gentle_for):
                floor = (max(floor[0], gentle[0]), max(floor[1], gentle[1]))
            return max(rir[0], floor[0]), max(rir[1], floor[1])

        have = b.profile.available_equipment()
        exercises = [self._prescription(ex, n, bottom, top, effort(ex),
                                        (pattern.band_start if ex.loading == "band" else load)
                                        if self._loaded(ex) and ex.id not in (seen or ()) else "",
                                        ex.cue_for(have, niggles), tempos.get(ex.id, ex.tempo))
                     for ex, n, bottom, top in work]
        warm_up, cool_down = self._blocks(template, b.profile.niggles, calm)
        shown = math.ceil(estimate - 1e-9)
        if kind != "light" and estimate < low:
            spare = [i for i in FILL_ITEMS if i not in template.cool_down.items]
            cool_down = cool_down + [self._item(i) for i in spare[: max(1, math.ceil((low - estimate) / 3))]]
            shown = low
        minutes = shown
        focus = focus or plan.focus
        held = {c.value for slot, _ in slots for c in slot.exercise.categories}
        if not self.catalog.placement.focus_holds(focus, held):  # COACHING.md 27: the label says what it holds
            focus = self.catalog.placement.focus_for(held)
        if kind == "light" and day == b.after_long_day():  # COACHING.md 27: it says it is light, and why
            focus = self.catalog.placement.after_long_run_session.focus.format(focus=focus)
        focus = f"{focus} (after your run)" if on_run_day else focus
        if kind != "light":
            kind = "power" if Category.PLYOMETRIC.value in held else "strength"
        return trusted(
            Session, day=DAYS[day], date=week_start + dt.timedelta(days=day), focus=focus, kind=kind, minutes=minutes,
            after_run=on_run_day, warm_up=warm_up,
            exercises=exercises, cool_down=cool_down, key=plan.key)

    def _blocks(self, template: Template, niggles: list[Niggle], calm: bool = False) -> tuple[list[Item], list[Item]]:
        """A template's warm-up and cool-down, items that don't suit a niggle swapped (COACHING.md 26).

        Fast ones are swapped too when `calm` (a race's recovery window, 23).
        Shared between sessions, which never change them.
        """
        key = (template.id, tuple(niggles), calm)
        if key not in self._template_blocks:
            self._template_blocks[key] = (
                [self._item(self._suited(i, niggles, calm)) for i in template.warm_up.items],
                [self._item(self._suited(i, niggles, calm)) for i in template.cool_down.items])
        return self._template_blocks[key]

    def _suited(self, item_id: str, niggles: list[Niggle], calm: bool = False) -> str:
        """The item itself, or its substitute (followed on) when it doesn't suit a niggle (or is fast, if calm)."""
        seen = set()
        while item_id not in seen:
            seen.add(item_id)
            item = self.catalog.items[item_id]
            if (not set(item.unsuitable_for) & set(niggles) and not (calm and item.fast)) or item.substitute is None:
                return item_id
            item_id = item.substitute
        return item_id

    def _item(self, item_id: str) -> Item:
        if item_id not in self._items:
            item = self.catalog.items[item_id]
            self._items[item_id] = Item(id=item.id, name=item.name, dose=item.dose)
        return self._items[item_id]

    @staticmethod
    def _loaded(ex: Exercise) -> bool:
        """A lift done with added weight (so it needs a starting load): kit to hold, counted in reps, no jump."""
        return bool(ex.equipment) and ex.unit == "reps" and not ex.is_plyometric()

    def _prescription(self, ex: Exercise, sets: int, low: int, high: int, rir: tuple[int, int],
                      load: str = "", cue: str | None = None, tempo: str | None = None) -> Prescription:
        """Prescriptions are immutable and repeat across weeks and runners, so each is built once.

        cue: the one for the runner's kit and niggles (Exercise.cue_for); the exercise's own by default.
        tempo: the exercise's own by default; a calm one where eccentric work is ruled out (DosingPolicy.calm_tempo).
        """
        if load:
            load = start_load_text(load, low, high, rir)
        cue = ex.cue if cue is None else cue
        tempo = ex.tempo if tempo is None else tempo
        key = (ex.id, sets, low, high, rir, load, cue, tempo)
        found = self._prescriptions.get(key)
        if found is None:
            if len(self._prescriptions) > 50_000:
                self._prescriptions.clear()
            found = self._prescriptions[key] = Prescription(
                id=ex.id, name=ex.name, sets=sets, reps=_reps_text(low, high), min_reps=low, max_reps=high,
                per_side=ex.per_side, unit=ex.unit, tempo=tempo, rest_seconds=ex.rest_seconds,
                rir_min=rir[0], rir_max=rir[1], effort=_effort(ex, rir),
                categories=[c.value for c in ex.categories], cue=cue, load=load)
        return found

    def _mobility_days(self, b: Builder, week_start: dt.date, race: int | None,
                       taken: set[int] = frozenset()) -> list[MobilityDay]:  # type: ignore[assignment]
        """The day after the long run (unless a session had to go there) and the day after the race."""
        days = []
        race_day = None if race is None else race - (week_start - b.start).days
        if (b.profile.long_run_day and (after_long := (DAYS.index(b.profile.long_run_day) + 1) % 7) not in taken
                and after_long != race_day):  # race day is for the race
            days.append(after_long)
        if race_day is not None and 0 <= race_day + 1 < 7:
            days.append(race_day + 1)
        items = [self._item(i) for i in MOBILITY_ITEMS]
        return [trusted(MobilityDay, day=DAYS[d], date=week_start + dt.timedelta(days=d), minutes=12,
                                            items=items) for d in sorted(set(days))]

    @staticmethod
    def _nordic_limit(sessions: list[Session], maintenance: bool) -> None:
        """COACHING.md 15: Nordics at most once a week in maintenance, taper and race weeks."""
        if not maintenance:
            return
        seen = False
        for session in sessions:
            if any(p.id == "nordic-hamstring" for p in session.exercises):
                if seen:
                    session.exercises = [p for p in session.exercises if p.id != "nordic-hamstring"]
                seen = True

