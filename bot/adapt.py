"""Adapting the rest of a block to a member's check-ins, and the block after it (owned by the adapt branch).

Contract for front-ends, fixed before the work was split:
- `adapt(plan, checkins, today) -> Plan`: pure and deterministic; the plan as made plus every check-in gives the
  plan the member follows from `today` on, with one `TraceEntry` per change (status "applied", rule_id starting
  "check-in") and notes saying why. Sessions already past are never changed (a skipped one may move to a later
  day of its week).
- `next_block(plan, checkins, coach, start) -> Plan`: the four weeks after `plan`, continued from the logs.

Policy (thresholds, steps, wording) is data in rules/adaptation.yaml; the scheduling and dose limits are the
plan's own: every value adapt writes stays inside the ranges the planner already gave that exercise.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from bot.checkins import CheckIn, ExerciseLog, plan_id, planned_session
from bot.config import get_settings
from bot.models import DAYS, Level, Plan, Prescription, Session, TraceEntry, Week
from bot.yamlio import DataFileError, describe_errors, read_yaml

if TYPE_CHECKING:
    from bot.catalog import Catalog, Exercise
    from bot.coach import Coach
    from bot.engine import RuleSet

LB_PER_KG = 2.2046226
AFTER_RUN = " (after your run)"


# --------------------------------------------------------------------------------------------
# Policy: rules/adaptation.yaml


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ProgressionPolicy(_Strict):
    """Double progression steps (COACHING.md 7, 29): never more than 10 % load at a time."""

    load_step_pct: float = Field(ge=2, le=10)
    easy_load_step_pct: float = Field(ge=2, le=10)
    easy_reps_ahead: int = Field(ge=0, le=3)
    short_load_drop_pct: float = Field(ge=0, le=30)
    round_kg: float = Field(gt=0, le=5)
    round_lb: float = Field(gt=0, le=10)


class PainPolicy(_Strict):
    """Pain monitoring thresholds (COACHING.md 18)."""

    lingering_above: int = Field(ge=0, le=10)
    session_above: int = Field(ge=0, le=10)
    load_drop_pct: float = Field(ge=5, le=50)

    @model_validator(mode="after")
    def _order(self) -> PainPolicy:
        if self.lingering_above > self.session_above:
            raise ValueError("lingering_above must not be above session_above")
        return self


class MileagePolicy(_Strict):
    """The weekly-mileage jump that warns and holds progression (COACHING.md 19)."""

    jump_pct: float = Field(gt=0, le=100)


class LevelUpPolicy(_Strict):
    """When the next block offers the next level: every criterion must hold over the block."""

    done_share: float = Field(ge=0, le=1)
    min_sessions: int = Field(ge=1, le=12)
    top_share: float = Field(ge=0, le=1)
    max_pain: int = Field(ge=0, le=10)


MESSAGES = ("load_up", "load_up_easy", "top_unloaded", "ahead", "hold", "lighter", "partly", "pain_lower",
            "pain_swap", "pain_hold", "niggle_swap", "sharp", "sharp_swap", "sharp_drop", "swap_kept", "moved",
            "dropped", "mileage", "logged_load", "level_up", "carried", "carried_up", "rotated")
RULE_IDS = ("check-in-progression", "check-in-pain", "check-in-sharp-pain", "check-in-skip", "check-in-mileage",
            "check-in-next-block")


class AdaptationPolicy(_Strict):
    """rules/adaptation.yaml: how check-ins change the rest of a block and shape the next one."""

    progression: ProgressionPolicy
    pain: PainPolicy
    mileage: MileagePolicy
    sharp_pain_rule: str = Field(min_length=1)
    level_up: LevelUpPolicy
    rotation: dict[str, list[str]] = Field(default_factory=dict)
    messages: dict[str, str]
    descriptions: dict[str, str]

    @model_validator(mode="after")
    def _complete(self) -> AdaptationPolicy:
        missing = [key for key in MESSAGES if key not in self.messages]
        missing += [key for key in RULE_IDS if key not in self.descriptions]
        if missing:
            raise ValueError("missing wording for: " + ", ".join(missing))
        return self


def load_adaptation(rules_dir: Path, catalog: Catalog | None = None) -> AdaptationPolicy:
    """rules/adaptation.yaml validated whole (with the catalogue, its rotation too); every fault at once."""
    path = rules_dir / "adaptation.yaml"
    data, node = read_yaml(path)
    try:
        policy = AdaptationPolicy.model_validate(data)
    except ValidationError as exc:
        raise DataFileError(describe_errors(exc, str(path), node, [], label="adaptation policy")) from None
    problems: list[str] = []
    for key, variants in (policy.rotation.items() if catalog else ()):
        if key not in catalog.exercises:
            problems.append(f"{path}: rotation: unknown exercise '{key}'")
            continue
        trained = set(catalog.exercises[key].categories)
        for variant in variants:
            ex = catalog.exercises.get(variant)
            if ex is None or variant == key:
                problems.append(f"{path}: rotation of '{key}': unknown exercise '{variant}'")
            elif not trained <= set(ex.categories) or ex.unit != catalog.exercises[key].unit:
                problems.append(f"{path}: rotation of '{key}': '{variant}' doesn't train what it trains "
                                f"({', '.join(sorted(c.value for c in trained))}) the same way")
    if problems:
        raise DataFileError(problems)
    return policy


@functools.lru_cache(maxsize=4)
def _ruleset(rules_dir: Path) -> RuleSet:
    from bot.engine import load_ruleset

    return load_ruleset(rules_dir)


@functools.lru_cache(maxsize=4)
def _policy(rules_dir: Path) -> AdaptationPolicy:
    return load_adaptation(rules_dir, _ruleset(rules_dir).catalog)


def pain_limits(rules_dir: Path | None = None) -> PainPolicy:
    """The pain scores that change an exercise (COACHING.md 18), from the rules folder's adaptation policy."""
    from bot.config import get_settings

    return _policy(rules_dir or get_settings().rules_dir).pain


@functools.lru_cache(maxsize=4)
def sharp_pain_advice(rules_dir: Path) -> str:
    """The see-a-professional warning of the sharp-pain rule the policy names (the plan's own wording)."""
    ruleset, policy = _ruleset(rules_dir), _policy(rules_dir)
    for rule in ruleset.rules:
        if rule.id == policy.sharp_pain_rule:
            for action in rule.then:
                warning = getattr(action, "warning", None)
                if warning:
                    return warning
    raise DataFileError([f"{rules_dir / 'adaptation.yaml'}: sharp_pain_rule: no rule '{policy.sharp_pain_rule}' "
                         "with a warning"])


# --------------------------------------------------------------------------------------------
# Reading check-ins


def _day(date: dt.date) -> str:
    return f"{date:%a} {date.day} {date:%b}"


def _ordered(plan: Plan, checkins: list[CheckIn]) -> list[CheckIn]:
    """The plan's check-ins, the latest report per session only, in the order they happened."""
    pid = plan_id(plan)
    mine = sorted((c for c in checkins if c.plan_id == pid), key=lambda c: (c.logged_at, c.session or dt.date.min))
    latest: dict[dt.date | None, CheckIn] = {}
    mileage: list[CheckIn] = []
    for checkin in mine:
        if checkin.session is None:
            mileage.append(checkin)
        else:
            latest[checkin.session] = checkin
    sessions = sorted(latest.values(), key=lambda c: (c.session, c.logged_at))
    return sorted([*sessions, *mileage], key=lambda c: (c.session or c.logged_at.date(), c.logged_at))


def met_target(log: ExerciseLog, target: Prescription, status: str | None) -> bool | None:
    """Whether every set reached the session's target reps; None when the report doesn't say."""
    if log.sets is not None and log.sets < target.sets:
        return False
    if log.hit is not None:
        return log.hit
    if log.reps is not None:
        return log.reps >= target.max_reps
    if log.feel is not None or log.rir is not None:
        return status == "done" or None
    return None


def effort(log: ExerciseLog, target: Prescription) -> str | None:
    """'easy', 'ok' or 'hard' against the target effort, from reps in reserve or the feel given."""
    if log.rir is not None:
        return "easy" if log.rir > target.rir_max else "hard" if log.rir < target.rir_min else "ok"
    return log.feel


# --------------------------------------------------------------------------------------------
# Adapting


@dataclass
class _Track:
    """What the check-ins say about one exercise so far."""

    shift: int = 0  # reps ahead (+) or behind (-) the plan
    pct: float = 0.0  # load change since the last load logged (or since the plan's load by feel)
    load_kg: float | None = None
    unit: str = "kg"
    frozen: bool = False  # no progression (pain)
    swap: str | None = None  # the exercise that takes its place from here on


@dataclass
class _Adapter:
    """One adaptation: the plan as made, the copy being changed, and what each check-in did."""

    plan: Plan
    today: dt.date
    policy: AdaptationPolicy
    ruleset: RuleSet
    rules_dir: Path
    weeks: list[Week] = field(default_factory=list)
    trace: list[TraceEntry] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    tracks: dict[str, _Track] = field(default_factory=dict)
    hold_all: bool = False
    sharp: bool = False
    ranges: dict[str, tuple[int, int]] = field(default_factory=dict)
    claims: list[tuple[TraceEntry, str, str | None]] = field(default_factory=list)
    _builder: object | None = None

    @property
    def catalog(self) -> Catalog:
        """The catalogue of the rules the plan was made with."""
        return self.ruleset.catalog

    def change(self, kind: str, text: str, note: bool = False, exercise: str | None = None) -> None:
        """One line of 'Why this plan?' (and of the plan's notes when `note`); the same line only once.

        A line about an `exercise` is kept only if the sessions ahead really changed for it (a change that
        didn't fit the minutes is not claimed).
        """
        if any(entry.rule_id == kind and entry.changes == [text] for entry in self.trace):
            return
        entry = TraceEntry(rule_id=kind, description=self.policy.descriptions[kind], status="applied",
                           changes=[text])
        self.trace.append(entry)
        if exercise is not None:
            self.claims.append((entry, exercise, text if note else None))
        if note and text not in self.notes:
            self.notes.append(text)

    def drop_untrue(self) -> None:
        """Leave out the lines about an exercise whose sessions ahead came out as planned."""
        before = {s.date: s.exercises for w in self.plan.weeks for s in w.sessions if s.date > self.today}
        changed: set[str] = set()
        for week in self.weeks:
            for session in week.sessions:
                planned = before.get(session.date)
                if planned is None or planned is session.exercises:
                    continue
                for old, new in zip(planned, session.exercises, strict=False):
                    if old != new:
                        changed.add(old.id)
                if len(planned) != len(session.exercises):
                    changed.update(e.id for e in planned)
        for entry, exercise, note in self.claims:
            if exercise not in changed:
                self.trace.remove(entry)
                if note in self.notes:
                    self.notes.remove(note)

    def say(self, key: str, **values: object) -> str:
        """A message of the policy with its fields filled in."""
        return self.policy.messages[key].format(**values)

    def future(self) -> list[Session]:
        """Sessions after today, in date order."""
        return sorted((s for w in self.weeks for s in w.sessions if s.date > self.today), key=lambda s: s.date)

    def next_of(self, ex_id: str, after: dt.date) -> Prescription | None:
        """The plan's prescription of an exercise at its next session after a date (as made)."""
        for week in self.plan.weeks:
            for session in week.sessions:
                if session.date > after:
                    for item in session.exercises:
                        if item.id == ex_id:
                            return item
        return None

    def upcoming(self, ex_id: str) -> bool:
        """Whether the exercise is still to come after today."""
        return any(item.id == ex_id for s in self.future() for item in s.exercises)

    # -- the check-ins -----------------------------------------------------------------------

    def run(self, checkins: list[CheckIn]) -> None:
        """Every check-in in order, then their effect on the sessions after today."""
        for checkin in checkins:
            if checkin.session is not None and checkin.status == "skipped" and checkin.session <= self.today:
                self.skip(checkin)
        for checkin in checkins:
            if checkin.session is None or checkin.session > self.today:
                continue
            session = planned_session(self.plan, checkin.session)
            if session is None:
                continue
            if checkin.sharp:
                self.sharp_pain(checkin.session)
            if checkin.status in ("done", "partly") or checkin.exercises:
                self.session_logs(checkin, session)
        self.mileage([c for c in checkins if c.weekly_km is not None])
        self.apply()
        self.drop_untrue()

    def skip(self, checkin: CheckIn) -> None:
        """Move a skipped session to the next day of its week that keeps every scheduling rule, or drop it."""
        day = checkin.session
        assert day is not None
        for week in self.weeks:
            for k, session in enumerate(week.sessions):
                if session.date != day:
                    continue
                end = week.start + dt.timedelta(days=6)
                first = max(day, self.today) + dt.timedelta(days=1)
                for offset in range((end - first).days + 1):
                    new = first + dt.timedelta(days=offset)
                    if self.free(new, session):
                        moved = session.model_copy(update={
                            "date": new, "day": DAYS[new.weekday()], "after_run": False,
                            "focus": session.focus.replace(AFTER_RUN, "")})
                        week.sessions = sorted([*week.sessions[:k], moved, *week.sessions[k + 1:]],
                                               key=lambda s: s.date)
                        self.change("check-in-skip", self.say("moved", date=_day(day), new=_day(new)), note=True)
                        return
                self.change("check-in-skip", self.say("dropped", date=_day(day)), note=True)
                return

    def free(self, day: dt.date, session: Session) -> bool:
        """Whether a session may move to `day` (COACHING.md 2, 11, 13, 23-25).

        Not a key-run day or the day before one, not the mobility day after the long run, no strength the day
        before or after, not in a race's run-in or recovery.
        """
        profile = self.plan.profile
        key = {DAYS.index(d) for d in profile.hard_days}
        if profile.long_run_day:
            key.add(DAYS.index(profile.long_run_day))
            if day.weekday() == (DAYS.index(profile.long_run_day) + 1) % 7:
                return False
        if day.weekday() in key or (day.weekday() + 1) % 7 in key:
            return False
        if any(m.date == day for w in self.weeks for m in w.mobility):
            return False
        if any(abs((s.date - day).days) <= 1 for w in self.weeks for s in w.sessions if s is not session):
            return False
        if profile.race_date is not None:
            races = self.catalog.races
            recovery = races.for_distance(profile.race_distance.value if profile.race_distance else None)
            to_race = (profile.race_date - day).days
            if -recovery.recovery_days <= to_race <= races.maintenance_days + 7:
                return False
        return True

    def session_logs(self, checkin: CheckIn, session: Session) -> None:
        """Progression and pain from one session's report."""
        assert checkin.session is not None
        date = _day(checkin.session)
        by_id = {item.id: item for item in session.exercises}
        logged = {log.exercise for log in checkin.exercises}
        for log in checkin.exercises:
            target = by_id.get(log.exercise)
            if target is None:
                continue
            track = self.tracks.setdefault(target.id, _Track())
            if log.load_kg is not None:
                track.load_kg, track.unit, track.pct = log.load_kg, log.load_unit or "kg", 0.0
                if self.loaded(target.id) and self.upcoming(target.id):
                    self.change("check-in-progression", self.say(
                        "logged_load", name=target.name, date=date, load=self.shown_load(log.load_kg, track.unit)),
                        exercise=target.id)
            if not self.pain(checkin, log, target, track):
                self.progress(checkin, log, target, track)
        if checkin.status == "partly":
            for target in session.exercises:
                if target.id not in logged:
                    self.hold(target, checkin.session, self.say("partly", name=target.name, date=date,
                                                                reps=target.max_reps))
        self.session_pain(checkin, session, logged)

    def _range(self, ex_id: str) -> tuple[int, int] | None:
        """The exercise's rep range over the block as the planner dosed it (reps only; jumps keep their count)."""
        if ex_id not in self.ranges:
            items = [e for w in self.plan.weeks for s in w.sessions if s.kind != "light" for e in s.exercises
                     if e.id == ex_id and e.unit == "reps" and "plyometric" not in e.categories]
            self.ranges[ex_id] = (min(e.min_reps for e in items), max(e.max_reps for e in items)) if items else None
        return self.ranges[ex_id]

    def loaded(self, ex_id: str) -> bool:
        """A lift done with added weight: kit to hold, counted in reps, not a jump (as the planner has it)."""
        ex = self.catalog.exercises.get(ex_id)
        return bool(ex and ex.equipment and ex.unit == "reps" and not ex.is_plyometric())

    def load_text(self, track: _Track, pct: float) -> str:
        """', to about 42 kg' in the member's unit when they logged one, else nothing."""
        if track.load_kg is None:
            return ""
        return f", to {self.shown_load(track.load_kg * (1 + pct / 100), track.unit)}"

    def shown_load(self, kg: float, unit: str) -> str:
        """A load in the member's unit, rounded to a step they can load."""
        step = self.policy.progression.round_lb if unit == "lb" else self.policy.progression.round_kg
        amount = kg * LB_PER_KG if unit == "lb" else kg
        return f"about {round(amount / step) * step:g} {unit}"

    def _hold_at(self, target: Prescription, day: dt.date, track: _Track) -> None:
        """Reps behind the plan so the next time repeats the target's reps."""
        upcoming = self.next_of(target.id, day)
        if upcoming is not None:
            track.shift = min(track.shift, 0, target.max_reps - upcoming.max_reps)

    def hold(self, target: Prescription, day: dt.date, text: str) -> None:
        """The reps stay at the target's until every set gets there (reps behind the plan by the difference)."""
        track = self.tracks.setdefault(target.id, _Track())
        upcoming = self.next_of(target.id, day)
        if upcoming is None or not self.upcoming(target.id) or self._range(target.id) is None:
            return
        shift = min(0, target.max_reps - upcoming.max_reps)
        if shift != track.shift or shift < 0:
            track.shift = shift
            self.change("check-in-progression", text, exercise=target.id)

    def progress(self, checkin: CheckIn, log: ExerciseLog, target: Prescription, track: _Track) -> None:
        """Double progression from one exercise's report (COACHING.md 7, 29)."""
        assert checkin.session is not None
        met, feel = met_target(log, target, checkin.status), effort(log, target)
        if met is None or not self.upcoming(target.id):
            return
        step = self.policy.progression
        reps_range = self._range(target.id)
        date, name = _day(checkin.session), target.name
        if not met:
            if log.reps is not None and reps_range and log.reps < reps_range[0] and self.loaded(target.id):
                track.pct -= step.short_load_drop_pct
                self.hold(target, checkin.session, self.say(
                    "lighter", name=name, got=log.reps, date=date, pct=f"{step.short_load_drop_pct:g}",
                    load=self.load_text(track, track.pct), reps=target.max_reps))
                return
            got = f"{log.reps} of {target.max_reps} reps" if log.reps is not None else "not every set reached " \
                f"{target.max_reps} reps"
            self.hold(target, checkin.session, self.say("hold", name=name, why=got, date=date, reps=target.max_reps))
            return
        if feel == "hard":
            self.hold(target, checkin.session, self.say("hold", name=name, why="the reps were a grind", date=date,
                                                        reps=target.max_reps))
            return
        if track.frozen or reps_range is None:
            return
        at_top = target.max_reps >= reps_range[1]
        if at_top and self.loaded(target.id):
            pct = step.easy_load_step_pct if feel == "easy" else step.load_step_pct
            track.pct = (1 + track.pct / 100) * (1 + pct / 100) * 100 - 100
            track.shift = 0
            key = "load_up_easy" if feel == "easy" else "load_up"
            self.change("check-in-progression", self.say(key, name=name, reps=target.max_reps, date=date,
                                                         pct=f"{pct:g}", load=self.load_text(track, track.pct)),
                        exercise=target.id)
        elif at_top:
            self.change("check-in-progression", self.say("top_unloaded", name=name, reps=target.max_reps, date=date))
        elif feel == "easy" and step.easy_reps_ahead:
            upcoming = self.next_of(target.id, checkin.session)
            ahead = step.easy_reps_ahead if upcoming is None else max(
                step.easy_reps_ahead, target.max_reps + step.easy_reps_ahead - upcoming.max_reps)
            if ahead != track.shift:
                track.shift = ahead
                self.change("check-in-progression", self.say("ahead", name=name, date=date, top=reps_range[1]),
                            exercise=target.id)
        else:
            track.shift = max(track.shift, 0)

    def triggered(self, pain: int | None, checkin: CheckIn) -> bool:
        """Pain that changes the plan: above the session limit, or above the lingering limit and still there."""
        if pain is None:
            return False
        limits = self.policy.pain
        return pain > limits.session_above or (pain > limits.lingering_above and bool(checkin.lingering))

    def pain(self, checkin: CheckIn, log: ExerciseLog, target: Prescription, track: _Track) -> bool:
        """An exercise that hurt: swapped when it doesn't suit where it hurt, else lighter; True when it did."""
        assert checkin.session is not None
        pain = log.pain
        if not self.triggered(pain, checkin) or not self.upcoming(target.id):
            return False
        when = "that lingered to the next morning" if checkin.lingering else "during the session"
        date, where = _day(checkin.session), checkin.pain_where
        sub = self.substitute(target.id, where.value if where else None) if where else None
        if sub is not None:
            track.swap, track.frozen = sub.id, True
            self.change("check-in-pain", self.say("pain_swap", name=target.name, pain=pain, where=where.value,
                                                  when=when, date=date, sub=sub.name), note=True, exercise=target.id)
            return True
        track.frozen = True
        self._hold_at(target, checkin.session, track)
        drop = self.policy.pain.load_drop_pct
        load = ""
        if self.loaded(target.id):
            track.pct -= drop
            load = self.load_text(track, track.pct)
        self.change("check-in-pain", self.say("pain_lower", name=target.name, pain=pain, when=when, date=date,
                                              pct=f"{drop:g}", load=load), note=True)
        return True

    def session_pain(self, checkin: CheckIn, session: Session, logged: set[str]) -> None:
        """Pain reported for the session as a whole: exercises that don't suit that spot give way; none progress."""
        assert checkin.session is not None
        if not self.triggered(checkin.pain, checkin) or any(log.pain is not None for log in checkin.exercises):
            return
        when = "that lingered to the next morning" if checkin.lingering else "during the session"
        date = _day(checkin.session)
        where = checkin.pain_where
        if where is not None:
            for ex_id in sorted({e.id for s in self.future() for e in s.exercises}):
                ex = self.catalog.exercises.get(ex_id)
                track = self.tracks.get(ex_id)
                if ex is None or where not in ex.unsuitable_for or (track and track.swap):
                    continue
                sub = self.substitute(ex_id, where.value)
                if sub is not None:
                    self.tracks.setdefault(ex_id, _Track()).swap = sub.id
                    self.change("check-in-pain", self.say("niggle_swap", name=ex.name, where=where.value,
                                                          pain=checkin.pain, date=date, sub=sub.name), note=True,
                                exercise=ex_id)
        for target in session.exercises:
            track = self.tracks.setdefault(target.id, _Track())
            track.frozen, track.pct = True, min(track.pct, 0.0)
            self._hold_at(target, checkin.session, track)
        self.change("check-in-pain", self.say("pain_hold", pain=checkin.pain, when=when, date=date,
                                              where=f" ({where.value})" if where else ""), note=True)

    def sharp_pain(self, day: dt.date) -> None:
        """Sharp pain: no heavy lifts, jumps or added load from here on, and the see-a-professional advice."""
        if self.sharp:
            return
        self.sharp = True
        advice = sharp_pain_advice(self.rules_dir)
        self.change("check-in-sharp-pain", self.say("sharp", date=_day(day), advice=advice), note=True)
        if advice not in self.warnings:
            self.warnings.append(advice)

    def mileage(self, updates: list[CheckIn]) -> None:
        """The latest weekly mileage update: more than the policy's jump above the profile's warns and holds."""
        if not updates:
            return
        latest = updates[-1]
        assert latest.weekly_km is not None
        profile = self.plan.profile
        if profile.weekly_km <= 0:
            return
        pct = (latest.weekly_km / profile.weekly_km - 1) * 100
        if pct <= self.policy.mileage.jump_pct:
            return
        unit = latest.weekly_unit or profile.unit
        new = f"{latest.weekly_km / 1.609344:.0f} mi" if unit == "mi" else f"{latest.weekly_km:g} km"
        text = self.say("mileage", new=new, old=profile.mileage_text, pct=f"{pct:.0f}")
        self.hold_all = True
        self.change("check-in-mileage", text, note=True)
        if text not in self.warnings:
            self.warnings.append(text)

    # -- swaps -------------------------------------------------------------------------------

    def builder(self) -> object:
        """The planner's view of this runner (what each exercise is blocked by), made once when a swap needs it."""
        if self._builder is None:
            from bot.planner import Builder

            outcome = self.ruleset.evaluate(self.plan.profile, self.plan.start)
            self._builder = Builder(self.plan.profile, self.catalog, outcome, self.plan.start)
        return self._builder

    def substitute(self, ex_id: str, where: str | None, calm: bool = False,
                   taken: frozenset[str] = frozenset()) -> Exercise | None:
        """The first catalogue substitute (breadth first) that suits the runner and where it hurt.

        It trains what the exercise trained (heavy and jumps aside), adds no heavy lift or jump the exercise
        didn't have (none at all when `calm`), and the planner would give it to this runner.
        """
        if ex_id not in self.catalog.exercises:
            return None
        builder = self.builder()
        ex = self.catalog.exercises[ex_id]
        trained = {c for c in ex.categories if c.value not in ("heavy", "plyometric")}
        for sub in builder.substitutes(ex_id):  # type: ignore[attr-defined]
            if sub.id in taken or (where and where in {n.value for n in sub.unsuitable_for}):
                continue
            if not trained <= set(sub.categories) or builder.blocked(sub) is not None:  # type: ignore[attr-defined]
                continue
            heavier = (sub.is_heavy() and not ex.is_heavy()) or (sub.is_plyometric() and not ex.is_plyometric())
            if heavier or (calm and (sub.is_heavy() or sub.is_plyometric())):
                continue
            return sub
        return None

    def prescribe(self, sub: Exercise, like: Prescription) -> Prescription:
        """A substitute in place of a prescription: the same sets and effort, its own unit, tempo and rest."""
        from bot.planner import _effort, _reps_text

        low, high = like.min_reps, like.max_reps
        # A heavy lift swapped for another heavy lift keeps the heavy reps: the session stays the heavy day its
        # label, order and load by feel say it is (COACHING.md 25, 27, 29).
        heavy_for_heavy = sub.is_heavy() and "heavy" in like.categories and like.unit == "reps"
        if sub.unit == "seconds":
            low, high = self.catalog.dosing.hold(low, high) if like.unit == "seconds" else (
                (self.catalog.dosing.hold_default_seconds,) * 2)
        elif not heavy_for_heavy and (like.unit != "reps" or high <= 6 or "plyometric" in like.categories):
            low, high = 8, 10
        if sub.caps.reps:
            low, high = min(low, sub.caps.reps), min(high, sub.caps.reps)
        sets = min(like.sets, sub.caps.sets) if sub.caps.sets else like.sets
        profile = self.plan.profile
        rir = (like.rir_min, like.rir_max)
        load = like.load
        if self.loaded(sub.id) and not load:  # COACHING.md 29: a new lift comes with a starting load by feel
            progression = self.catalog.progressions.get(self.plan.progression) or self.catalog.progressions["build"]
            load = progression.start_load(sub, low, high, rir)
        return Prescription(id=sub.id, name=sub.name, sets=sets, reps=_reps_text(low, high), min_reps=low,
                            max_reps=high, per_side=sub.per_side, unit=sub.unit, tempo=sub.tempo,
                            rest_seconds=sub.rest_seconds, rir_min=rir[0], rir_max=rir[1], effort=_effort(sub, rir),
                            categories=[c.value for c in sub.categories],
                            cue=sub.cue_for(profile.available_equipment(), set(profile.niggles)),
                            load=load if self.loaded(sub.id) else "")

    # -- writing the changes into the sessions after today ------------------------------------

    def apply(self) -> None:
        """Write every exercise's track, the holds and the sharp-pain limits into the sessions after today."""
        last_week = self.plan.weeks[-1].week
        held = self._last_done_reps() if self.hold_all else {}
        for week in self.weeks:
            sessions = []
            for session in week.sessions:
                if session.date <= self.today:
                    sessions.append(session)
                    continue
                sessions.append(self._adapted(session, week.week == last_week, held))
            week.sessions = sessions

    def _last_done_reps(self) -> dict[str, int]:
        """Each exercise's reps at its last session up to today (where a mileage hold keeps it)."""
        reps: dict[str, int] = {}
        for week in self.plan.weeks:
            for session in week.sessions:
                if session.date <= self.today:
                    for item in session.exercises:
                        reps[item.id] = item.max_reps
        return reps

    def _adapted(self, session: Session, last_week: bool, held: dict[str, int]) -> Session:
        """One session after today with the tracks written in, within the level's minutes.

        When the change doesn't fit the minutes, the extra reps go first, then the swaps (the exercise stays,
        held), then after sharp pain the calmer swaps (heavy lifts and jumps are left out instead); failing
        that the session stays as planned.
        """
        raise_ok = not last_week and session.kind != "light"
        tries = [(raise_ok, "full", True), (False, "full", True), (False, "low", True), (False, "none", True)] + (
            [(False, "none", False)] if self.sharp else [])
        if session.kind == "light":  # a primer or recovery session: nothing new comes in (COACHING.md 23, 24)
            tries = [(False, "none", False)]
        for allow_raise, allow_swap, calm_swap in tries:
            new, _ = self._exercises(session, allow_raise, allow_swap, held, calm_swap)
            if not new or new == session.exercises:
                return session  # unchanged, or nothing calm enough to keep: never an empty session
            changed = session.model_copy(update={"exercises": new})
            minutes = self._minutes(session, changed)
            if minutes is not None:
                if allow_swap == "none":
                    self._swaps_kept(session)
                return self._relabelled(changed.model_copy(update={"minutes": minutes}))
        self._swaps_kept(session)
        return session

    def _swaps_kept(self, session: Session) -> None:
        """Say where a swap didn't happen: the exercise stays there, held (and lighter), and why."""
        for item in session.exercises:
            track = self.tracks.get(item.id)
            if track is not None and track.swap:
                sub = self.catalog.exercises[track.swap]
                why = ("nothing new comes into a light or race-week session" if session.kind == "light"
                       else f"{sub.name} doesn't fit that session's minutes")
                self.change("check-in-pain", self.say("swap_kept", name=item.name, why=why,
                                                      date=_day(session.date)), note=True)

    def _exercises(self, session: Session, allow_raise: bool, allow_swap: str, held: dict[str, int],
                   calm_swap: bool = True) -> tuple[list[Prescription], bool]:
        """The session's exercises with swaps, sharp-pain limits, reps and loads; True when reps went up."""
        new: list[Prescription] = []
        raised = False
        taken = {item.id for item in session.exercises}
        for item in session.exercises:
            track = self.tracks.get(item.id, _Track())
            current = item
            if track.swap and track.swap not in taken and allow_swap != "none":
                sub = self.catalog.exercises[track.swap]
                current = self.prescribe(sub, item)
                reps_range = self._range(item.id)
                if allow_swap == "low" and reps_range and current.unit == "reps" and current.max_reps > reps_range[0]:
                    from bot.planner import _reps_text  # the substitute at the bottom of the range fits the minutes

                    low = reps_range[0]
                    current = current.model_copy(update={"min_reps": low, "max_reps": low,
                                                         "reps": _reps_text(low, low)})
                taken.add(sub.id)
            if self.sharp and ("heavy" in current.categories or "plyometric" in current.categories):
                calm = self.substitute(current.id, None, calm=True, taken=frozenset(taken)) if calm_swap else None
                if calm is None:
                    self.change("check-in-sharp-pain", self.say("sharp_drop", name=current.name))
                    continue
                self.change("check-in-sharp-pain", self.say("sharp_swap", name=current.name, sub=calm.name))
                current = self.prescribe(calm, current)
                taken.add(calm.id)
            current, up = self._dosed(current, track, not allow_raise, held)
            raised |= up
            new.append(current)
        return new, raised

    def _dosed(self, item: Prescription, track: _Track, no_raise: bool,
               held: dict[str, int]) -> tuple[Prescription, bool]:
        """The prescription with the track's reps and load; True when reps went up."""
        update: dict[str, object] = {}
        raised = False
        reps_range = self._range(item.id)
        if reps_range is not None and item.unit == "reps" and "plyometric" not in item.categories:
            shift = track.shift
            if shift > 0 and (no_raise or track.frozen or self.hold_all or self.sharp):
                shift = 0
            low, high = reps_range
            lo, hi = (max(low, min(high, item.min_reps + shift)), max(low, min(high, item.max_reps + shift)))
            if self.hold_all and item.id in held:
                lo, hi = min(lo, held[item.id]), min(hi, held[item.id])
            if (lo, hi) != (item.min_reps, item.max_reps):
                from bot.planner import _reps_text

                update.update(min_reps=lo, max_reps=hi, reps=_reps_text(lo, hi))
                raised = hi > item.max_reps
        if self.loaded(item.id):
            pct = track.pct
            if track.frozen or self.hold_all or self.sharp:
                pct = min(pct, 0.0)
            if track.load_kg is not None:
                update["load"] = self.shown_load(track.load_kg * (1 + pct / 100), track.unit)
            elif pct:
                update["load"] = f"about {abs(pct):.0f}% {'heavier' if pct > 0 else 'lighter'} than you last used"
        return (item.model_copy(update=update) if update else item), raised

    def _work_seconds(self, session: Session) -> float:
        dosing = self.catalog.dosing
        seconds = sum(item.sets * dosing.set_seconds(item.unit, item.tempo, item.max_reps, item.per_side,
                                                     item.rest_seconds) for item in session.exercises)
        return seconds + dosing.changeover_seconds * max(0, len(session.exercises) - 1)

    def _minutes(self, before: Session, after: Session) -> int | None:
        """The session's minutes after a change (never shown shorter than the work); None when over the band."""
        extra = (self._work_seconds(after) - self._work_seconds(before)) / 60
        if extra <= 0:
            return before.minutes
        minutes = math.ceil(before.minutes + extra - 1e-9)
        high = self.catalog.templates[self.plan.template].minutes[1]
        return None if before.kind != "light" and minutes > high else minutes

    def _relabelled(self, session: Session) -> Session:
        """COACHING.md 27: the focus says what the session holds after a swap."""
        held = session.categories
        placement = self.catalog.placement
        focus = session.focus.replace(AFTER_RUN, "")
        kind = session.kind
        if kind != "light":
            kind = "power" if "plyometric" in held else "strength"
        if not placement.focus_holds(focus, held):
            focus = placement.focus_for(held)
        focus += AFTER_RUN if session.after_run else ""
        if (focus, kind) == (session.focus, session.kind):
            return session
        return session.model_copy(update={"focus": focus, "kind": kind})

    def true_notes(self, notes: list[str]) -> list[str]:
        """COACHING.md 27: a rule's note that a swap made untrue of the plan is left out, and why is said."""
        exercises = [e for w in self.weeks for s in w.sessions for e in s.exercises]
        ids = {e.id for e in exercises}
        categories = {c for e in exercises for c in e.categories}
        untrue: set[str] = set()
        for entry in self.plan.trace:
            claim = self.catalog.claims.notes.get(entry.rule_id)
            if claim is None or claim.untrue(ids, categories) is None:
                continue
            for change in entry.changes:
                if change.startswith("note: ") and change.removeprefix("note: ") in notes:
                    untrue.add(change.removeprefix("note: "))
                    self.change("check-in-pain", f"left out the note of rule '{entry.rule_id}': "
                                f"{claim.untrue(ids, categories)}")
        return [note for note in notes if note not in untrue]


def _true_summaries(weeks: list[Week], catalog: Catalog) -> list[Week]:
    """Week summaries still true after the changes (COACHING.md 27), e.g. no "same exercises" after a swap."""
    if_new = {step.summary: step.summary_if_new for progression in catalog.progressions.values()
              for step in progression.weeks if step.summary_if_new}
    out, seen = [], set()
    for week in weeks:
        ids = {p.id for session in week.sessions for p in session.exercises}
        if week.summary in if_new and seen and ids - seen:
            week = week.model_copy(update={"summary": if_new[week.summary]})
        seen |= ids
        out.append(week)
    return out


def _as_the_planner_would(weeks: list[Week], catalog: Catalog, today: dt.date, progression: str) -> list[Week]:
    """Sessions after today, after swaps and moves, ordered and dosed as the planner would (COACHING.md 25, 29, 30)."""
    # The planner's order (bot/planner.py fresh_first): the heavy lift, then jumps, then the rest; and an exercise
    # new to the block comes in below full effort (dosing.yaml first_time_rir), its load by feel worked out from
    # the reps and effort it ends up with.
    from bot.planner import _effort

    floor = catalog.dosing.first_time_rir
    pattern = catalog.progressions.get(progression) or catalog.progressions["build"]
    by_feel = tuple(text.split("{")[0] for text in (pattern.load_start, pattern.band_start) if text.split("{")[0])
    done: set[str] = set()
    out = []
    for week in weeks:
        sessions = []
        for session in sorted(week.sessions, key=lambda s: s.date):
            items = list(session.exercises)
            if session.date > today:  # the planner's own order (bot/planner.py fresh_first), stable for the rest
                ex = catalog.exercises
                items.sort(key=lambda p: 0 if ex[p.id].is_heavy() else 1 if ex[p.id].is_plyometric() else 2)
            for i, item in enumerate(items):
                if item.id not in done and item.rir_min < floor[0] and session.date > today:
                    rir = (max(item.rir_min, floor[0]), max(item.rir_max, floor[1]))
                    item = items[i] = item.model_copy(update={"rir_min": rir[0], "rir_max": rir[1],
                                                              "effort": _effort(catalog.exercises[item.id], rir)})
                if session.date > today and by_feel and item.load.startswith(by_feel):
                    load = pattern.start_load(catalog.exercises[item.id], item.min_reps, item.max_reps,
                                              (item.rir_min, item.rir_max))
                    if load != item.load:
                        items[i] = item.model_copy(update={"load": load})
            done |= {item.id for item in items}
            sessions.append(session if items == session.exercises else session.model_copy(update={"exercises": items}))
        out.append(week.model_copy(update={"sessions": sessions}))
    return out


def adapt(plan: Plan, checkins: list[CheckIn], today: dt.date) -> Plan:
    """The plan adapted to the check-ins: only sessions after `today` change, each change with its reason."""
    if plan.withheld or not plan.weeks:
        return plan
    ordered = _ordered(plan, checkins)
    if not ordered:
        return plan
    rules_dir = get_settings().rules_dir
    adapter = _Adapter(plan=plan, today=today, policy=_policy(rules_dir), ruleset=_ruleset(rules_dir),
                       rules_dir=rules_dir)
    adapter.weeks = [week.model_copy(update={"sessions": list(week.sessions)}) for week in plan.weeks]
    adapter.run(ordered)
    if not adapter.trace:
        return plan
    notes = adapter.true_notes(list(plan.notes))
    return plan.model_copy(update={
        "weeks": _true_summaries(_as_the_planner_would(adapter.weeks, adapter.catalog, today, plan.progression),
                                 adapter.catalog),
        "trace": [*plan.trace, *adapter.trace],
        "notes": notes + adapter.notes,
        "warnings": [*plan.warnings, *(w for w in adapter.warnings if w not in plan.warnings)],
        "progression": "hold" if adapter.sharp else plan.progression,
    })


def new_changes(before: Plan, after: Plan) -> list[str]:
    """What an adaptation changed that an earlier one had not: the check-in trace lines new in `after`."""
    seen = {change for entry in before.trace if entry.rule_id.startswith("check-in") for change in entry.changes}
    return [change for entry in after.trace if entry.rule_id.startswith("check-in")
            for change in entry.changes if change not in seen]


# --------------------------------------------------------------------------------------------
# The next block


@dataclass
class BlockSummary:
    """What a block's check-ins add up to: sessions done, exercises at the top of their range, pain."""

    planned: int
    done: int
    checked: int
    logged: int  # exercises logged at least once
    top: int  # of those, how many reached the top of their range at the target effort
    worst_pain: int
    sharp: bool
    mastered: set[str]
    last_load: dict[str, tuple[float, str, bool]]  # exercise -> (kg, unit, reached the top at the target effort)


def summarise(plan: Plan, checkins: list[CheckIn]) -> BlockSummary:
    """The block's check-ins in figures (the next block's level-up criteria and carried loads)."""
    ordered = [c for c in _ordered(plan, checkins) if c.session is not None]
    planned = sum(len(w.sessions) for w in plan.weeks)
    done = sum(c.status in ("done", "partly") for c in ordered)
    worst = 0
    sharp = False
    good: dict[str, int] = {}
    hurt: set[str] = set()
    logged: set[str] = set()
    reached: set[str] = set()
    loads: dict[str, tuple[float, str]] = {}
    tops = {}
    for week in plan.weeks:
        for session in week.sessions:
            for item in session.exercises:
                tops[item.id] = max(tops.get(item.id, 0), item.max_reps)
    for checkin in ordered:
        sharp |= checkin.sharp
        worst = max(worst, checkin.pain or 0, *(log.pain or 0 for log in checkin.exercises))
        session = planned_session(plan, checkin.session) if checkin.session else None
        if session is None:
            continue
        by_id = {item.id: item for item in session.exercises}
        for log in checkin.exercises:
            target = by_id.get(log.exercise)
            if target is None:
                continue
            logged.add(target.id)
            on_target = bool(met_target(log, target, checkin.status)) and effort(log, target) != "hard"
            if on_target and target.max_reps >= tops[target.id]:
                reached.add(target.id)
            if log.pain:
                hurt.add(target.id)
            if on_target:
                good[target.id] = good.get(target.id, 0) + 1
            if log.load_kg is not None:
                loads[target.id] = (log.load_kg, log.load_unit or "kg")
    mastered = {ex for ex, count in good.items() if count >= 2 and ex not in hurt}
    last_load = {ex: (kg, unit, ex in reached and ex not in hurt) for ex, (kg, unit) in loads.items()}
    return BlockSummary(planned=planned, done=done, checked=len(ordered), logged=len(logged), top=len(reached),
                        worst_pain=worst, sharp=sharp, mastered=mastered, last_load=last_load)


def ready_to_level_up(summary: BlockSummary, level: Level, policy: LevelUpPolicy) -> Level | None:
    """The next level when the block's figures meet every level-up criterion, else None."""
    order = list(Level)
    if level is order[-1] or summary.sharp or summary.planned == 0:
        return None
    if (summary.checked < policy.min_sessions or summary.done < policy.done_share * summary.planned
            or summary.logged == 0 or summary.top < policy.top_share * summary.logged
            or summary.worst_pain > policy.max_pain):
        return None
    return order[order.index(level) + 1]


def next_block(plan: Plan, checkins: list[CheckIn], coach: Coach, start: dt.date) -> Plan:
    """The four weeks after `plan`: the planner's new block (races included), continued from the logs.

    Loads the member logged carry over (a step up where every set reached the top of the range), exercises
    done well all block rotate to a catalogue variant, and a level-up is suggested when the figures say so.
    """
    fresh = coach.plan(plan.profile, start)
    if fresh.withheld or not fresh.weeks:
        return fresh
    rules_dir = get_settings().rules_dir
    policy = _policy(rules_dir)
    adapter = _Adapter(plan=fresh, today=fresh.start - dt.timedelta(days=1), policy=policy,
                       ruleset=coach.ruleset, rules_dir=rules_dir)
    adapter.weeks = [week.model_copy(update={"sessions": list(week.sessions)}) for week in fresh.weeks]
    summary = summarise(plan, checkins)
    _rotate(adapter, summary, policy)
    _carry_loads(adapter, summary)
    level = ready_to_level_up(summary, plan.profile.level, policy.level_up)
    if level is not None and not summary.sharp:
        adapter.change("check-in-next-block", adapter.say(
            "level_up", level=level.value, done=summary.done, planned=summary.planned,
            top=f"{summary.top} of {summary.logged}", pain=policy.level_up.max_pain), note=True)
    if summary.sharp:
        adapter.sharp_pain(plan.weeks[-1].start)
    adapter.apply()
    if not adapter.trace:
        return fresh
    notes = adapter.true_notes(list(fresh.notes))
    return fresh.model_copy(update={
        "weeks": _true_summaries(_as_the_planner_would(adapter.weeks, adapter.catalog, fresh.start
                                                       - dt.timedelta(days=1), fresh.progression), adapter.catalog),
        "trace": [*fresh.trace, *adapter.trace],
        "notes": notes + adapter.notes,
        "warnings": [*fresh.warnings, *(w for w in adapter.warnings if w not in fresh.warnings)],
        "progression": "hold" if summary.sharp else fresh.progression,
    })


def _rotate(adapter: _Adapter, summary: BlockSummary, policy: AdaptationPolicy) -> None:
    """Exercises done well all block give way to their first suitable variant (rules/adaptation.yaml)."""
    claimed = {ex_id for entry in adapter.plan.trace for claim in [adapter.catalog.claims.notes.get(entry.rule_id)]
               if claim is not None for ex_id in claim.has_ids}
    present = {e.id for w in adapter.weeks for s in w.sessions for e in s.exercises}
    builder = adapter.builder()
    for ex_id in sorted(summary.mastered & present - claimed):
        for variant in policy.rotation.get(ex_id, []):
            ex = adapter.catalog.exercises[variant]
            if variant in present or builder.blocked(ex) is not None:  # type: ignore[attr-defined]
                continue
            adapter.tracks.setdefault(ex_id, _Track()).swap = variant
            present.add(variant)
            name = adapter.catalog.exercises[ex_id].name
            adapter.change("check-in-next-block", adapter.say("rotated", name=name, sub=ex.name), note=True)
            break


def _carry_loads(adapter: _Adapter, summary: BlockSummary) -> None:
    """Loads the member logged carry over; a step up where every set reached the top at the target effort."""
    step = adapter.policy.progression.load_step_pct
    for ex_id, (kg, unit, reached) in sorted(summary.last_load.items()):
        if not adapter.loaded(ex_id) or not adapter.upcoming(ex_id):
            continue
        track = adapter.tracks.setdefault(ex_id, _Track())
        track.load_kg, track.unit, track.pct = kg, unit, step if reached else 0.0
        name = adapter.catalog.exercises[ex_id].name
        load = adapter.shown_load(kg * (1 + track.pct / 100), unit)
        adapter.change("check-in-next-block", adapter.say("carried_up" if reached else "carried", name=name,
                                                          load=load))
