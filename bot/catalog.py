"""The exercise catalogue, session templates and progression patterns, loaded from rules/ and validated."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, field_validator, model_validator

from bot.models import Category, Equipment, Goal, Level, Niggle
from bot.yamlio import DataFileError, describe_errors, line_of, read_yaml

_ID = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
P = TypeVar("P", bound=BaseModel)
_REPS = re.compile(r"^(\d+)(?:-(\d+))?$")


@lru_cache(maxsize=1024)
def parse_reps(text: str) -> tuple[int, int]:
    """'8' -> (8, 8); '6-8' -> (6, 8); anything else is a ValueError with what is accepted."""
    match = _REPS.match(str(text).strip())
    if not match:
        raise ValueError(f"reps must look like '8' or '6-8', not {text!r}")
    low = int(match[1])
    high = int(match[2] or match[1])
    if not 1 <= low <= high <= 60:
        raise ValueError(f"reps {text!r} must be between 1 and 60, the smaller number first")
    return low, high


def reps_text(low: int, high: int) -> str:
    """(8, 8) -> '8'; (6, 8) -> '6-8': the inverse of parse_reps."""
    return str(low) if low == high else f"{low}-{high}"


def start_load_text(pattern: str, low: int, high: int, rir: tuple[int, int]) -> str:
    """A load-by-feel pattern filled in with one formula: the reps a load allows = reps + reps in reserve."""
    return pattern.format(capacity=reps_text(low + rir[0], high + rir[1]), reps=reps_text(low, high))


def _checked_reps(value: Any) -> str:
    parse_reps(str(value))
    return str(value)


# Reps as written in YAML ("8", "6-8"; a bare number is fine), checked wherever a dose is given.
Reps = Annotated[str, BeforeValidator(_checked_reps)]


class Strict(BaseModel):
    """Base for catalogue models: unknown fields are refused and instances are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Caps(Strict):
    """Hard dose limits for one exercise (COACHING.md 15-16), enforced after every rule."""

    sets: int | None = Field(default=None, ge=1)
    reps: int | None = Field(default=None, ge=1)
    per_week_in_maintenance: int | None = Field(default=None, ge=1)


class NextStep(Strict):
    """Where an exercise moves on to in a block when a niggle allows (the tendon path: hold, slow, eccentric)."""

    id: str = Field(pattern=_ID)
    from_week: int = Field(ge=2, le=4)
    reps: Reps
    niggles: list[Niggle] = Field(min_length=1)


class CueVariant(Strict):
    """A cue for runners with some kit or a niggle (COACHING.md 26, 27): the first that fits is shown."""

    kit: list[Equipment] = Field(default_factory=list)  # any one of these (a gym has them all); empty: any kit
    niggles: list[Niggle] = Field(default_factory=list)  # any one of these; empty: with or without a niggle
    text: str = Field(min_length=1, max_length=200)

    def fits(self, have: set[str], niggles: set[Niggle]) -> bool:
        """Whether this cue is true for a runner with this kit and these niggles."""
        return ((not self.kit or any(k.value in have for k in self.kit))
                and (not self.niggles or bool(set(self.niggles) & niggles)))


class Exercise(Strict):
    """One working exercise in the catalogue (rules/exercises.yaml): what it trains, needs and avoids."""

    id: str = Field(pattern=_ID)
    name: str = Field(min_length=1, max_length=80)
    categories: list[Category] = Field(min_length=1)
    equipment: list[Equipment] = Field(default_factory=list)
    unsuitable_for: list[Niggle] = Field(default_factory=list)
    substitutes: list[str] = Field(default_factory=list)
    per_side: bool = False
    unit: Literal["reps", "seconds", "metres"] = "reps"
    tempo: str | None = None
    rest_seconds: int = Field(ge=0, le=600)
    caps: Caps = Caps()
    cue: str = Field(min_length=1, max_length=200)
    loading: Literal["weight", "band"] = "weight"  # what makes it harder: a weight held, or a band's tension
    not_early_for: list[Niggle] = Field(default_factory=list)  # with these niggles only as a next step, later
    next_step: NextStep | None = None
    gentle_for: list[Niggle] = Field(default_factory=list)  # a niggle's own work: easy effort all block
    cues: list[CueVariant] = Field(default_factory=list)  # kit- or niggle-specific cues, before `cue`
    patterns: list[Literal["squat", "hinge"]] = Field(default_factory=list)  # movement patterns besides categories

    def trains(self) -> set[str]:
        """The movement patterns the exercise trains: its categories and its `patterns`."""
        return {c.value for c in self.categories} | set(self.patterns)

    def cue_for(self, have: set[str], niggles: set[Niggle]) -> str:
        """The cue that is true for this runner's kit and niggles: the first variant that fits, else `cue`."""
        return next((v.text for v in self.cues if v.fits(have, niggles)), self.cue)

    def is_heavy(self) -> bool:
        """Whether the exercise is a heavy lift (the `heavy` category)."""
        return Category.HEAVY in self.categories

    def is_plyometric(self) -> bool:
        """Whether the exercise is a jump (the `plyometric` category)."""
        return Category.PLYOMETRIC in self.categories


class ItemDef(Strict):
    """One warm-up, cool-down or mobility item in the catalogue, and its substitute for a niggle."""

    id: str = Field(pattern=_ID)
    name: str = Field(min_length=1, max_length=100)
    categories: list[Category] = Field(min_length=1)
    dose: str = Field(min_length=1, max_length=60)
    unsuitable_for: list[Niggle] = Field(default_factory=list)
    substitute: str | None = None
    fast: bool = False  # quick running work: swapped for the substitute in a race's recovery window

    @model_validator(mode="after")
    def _swap(self) -> ItemDef:
        if (self.unsuitable_for or self.fast) and self.substitute is None:
            raise ValueError("an item unsuitable for a niggle, or fast, needs a substitute")
        return self




class Slot(Strict):
    """One exercise in a session template, at its week-2 dose."""

    id: str = Field(pattern=_ID)
    sets: int = Field(ge=2, le=6)
    reps: Reps


class SessionDef(Strict):
    """One session of a template: its letter key, focus, kind and exercises at their week-2 dose."""

    key: str = Field(pattern=r"^[A-Z]$")
    focus: str = Field(min_length=1, max_length=60)
    kind: Literal["strength", "power"]
    exercises: list[Slot] = Field(min_length=2, max_length=8)


class Block(Strict):
    """A template's warm-up or cool-down: its minutes and the items done in it."""

    minutes: int = Field(ge=0, le=20)
    items: list[str] = Field(min_length=1)


class Template(Strict):
    """One level's session template (rules/sessions.yaml): minutes band, warm-up, cool-down and sessions."""

    id: str = Field(pattern=_ID)
    level: Level
    minutes: tuple[int, int]
    warm_up: Block
    cool_down: Block
    sessions: list[SessionDef] = Field(min_length=1, max_length=3)

    @model_validator(mode="after")
    def _band(self) -> Template:
        low, high = self.minutes
        if not 10 <= low <= high <= 90:
            raise ValueError("minutes must be [shortest, longest], between 10 and 90")
        return self


class WeekStep(Strict):
    """One week of a progression pattern: its change to sets, reps in reserve and place in the rep range."""

    label: str = Field(min_length=1, max_length=30)
    sets: int = Field(default=0, ge=-2, le=2)
    sets_factor: float | None = Field(default=None, gt=0, lt=1)
    rir: tuple[int, int]
    reps: Literal["bottom", "middle", "top", "range"] = "range"
    summary: str = Field(min_length=1, max_length=200)
    summary_if_new: str | None = Field(default=None, min_length=1, max_length=200)  # the week brings in new work

    @field_validator("rir")
    @classmethod
    def _rir(cls, value: tuple[int, int]) -> tuple[int, int]:
        # COACHING.md 8: every set has an effort target of 1-4 reps in reserve; nothing to failure.
        if not 1 <= value[0] <= value[1] <= 4:
            raise ValueError("rir must be [fewest, most] reps in reserve, each from 1 to 4")
        return value


class Progression(Strict):
    """A progression pattern (rules/progressions.yaml): how sets and effort move across the four weeks."""

    id: str
    description: str
    weeks: list[WeekStep] = Field(min_length=4, max_length=4)
    load_start: str = Field(default="", max_length=120)
    band_start: str = Field(default="", max_length=120)

    def start_load(self, ex: Exercise, low: int, high: int, rir: tuple[int, int]) -> str:
        """The starting load by feel for a prescription of `ex` (the band wording for a band exercise)."""
        return start_load_text(self.band_start if ex.loading == "band" else self.load_start, low, high, rir)


class DistancePolicy(Strict):
    """Days after a race of one distance: no strength at all, then no heavy, jumping or eccentric work."""

    rest_days: int = Field(ge=0, le=7)
    recovery_days: int = Field(ge=1, le=28)

    @model_validator(mode="after")
    def _order(self) -> DistancePolicy:
        if self.recovery_days < self.rest_days:
            raise ValueError("recovery_days must be at least rest_days")
        return self


class PrimerPolicy(Strict):
    """The one short primer allowed in a race's final week (COACHING.md 24)."""

    days_out: tuple[int, int]
    lift_sets: int = Field(ge=1, le=2)
    jump_sets: int = Field(ge=1, le=3)
    jump_reps: int = Field(ge=1, le=8)
    jumps: list[str] = Field(default_factory=list)
    rir: tuple[int, int]
    focus: str = Field(min_length=1, max_length=60)
    lift_categories: list[Category] = Field(default_factory=lambda: [Category.HEAVY, Category.STRENGTH,
                                                                     Category.SINGLE_LEG])

    @model_validator(mode="after")
    def _days(self) -> PrimerPolicy:
        if not 2 <= self.days_out[0] <= self.days_out[1] <= 6:
            raise ValueError("days_out must be [nearest, farthest], between 2 and 6 days before the race")
        if not 1 <= self.rir[0] <= self.rir[1] <= 4:
            raise ValueError("rir must be [fewest, most] reps in reserve, each from 1 to 4")
        return self


class WeekText(Strict):
    """The label and summary shown for a race, recovery or maintenance week."""

    label: str = Field(min_length=1, max_length=30)
    summary: str = Field(min_length=1, max_length=200)


class TaperVolume(Strict):
    """A taper week's working sets as fractions of the block's peak week (COACHING.md 6)."""

    low: float = Field(gt=0, le=1)
    target: float = Field(gt=0, le=1)
    high: float = Field(gt=0, le=1)

    @model_validator(mode="after")
    def _ordered(self) -> TaperVolume:
        if not self.low <= self.target <= self.high:
            raise ValueError("taper_volume needs low <= target <= high")
        return self


WEEK_TEXTS = ("race", "recover", "recover_rebuild", "maintain", "maintain_light", "no_room", "taper", "taper_light",
              "rebuild")


class RacePolicy(Strict):
    """How strength work fits around a key race, by days to it and its distance (rules/races.yaml)."""

    distances: dict[Literal["5k", "10k", "half", "marathon", "ultra", "unknown"], DistancePolicy]
    look_back_days: int = Field(ge=0, le=28)
    maintenance_days: int = Field(ge=7, le=42)
    last_full_session_days: tuple[int, int]
    primer: PrimerPolicy
    taper_window_days: int = Field(ge=0, le=28)
    taper_volume: TaperVolume
    maintenance_patterns: list[str] = Field(min_length=1)  # kept across maintenance weeks (an exercise's trains())
    weeks: dict[Literal[WEEK_TEXTS], WeekText]  # type: ignore[valid-type]
    recovery_focus: str = Field(min_length=1, max_length=60)

    @model_validator(mode="after")
    def _complete(self) -> RacePolicy:
        missing = {"5k", "10k", "half", "marathon", "ultra", "unknown"} - set(self.distances)
        if missing:
            raise ValueError(f"distances must cover {sorted(missing)} too")
        if set(self.weeks) != set(WEEK_TEXTS):
            raise ValueError(f"weeks must give {', '.join(WEEK_TEXTS)}")
        near, far = self.last_full_session_days
        if not self.primer.days_out[1] < near <= far <= 14:
            raise ValueError("last_full_session_days must be [nearest, farthest], after the primer and within 14")
        return self

    def for_distance(self, distance: str | None) -> DistancePolicy:
        """The policy for a race distance; no distance given means the conservative `unknown`."""
        return self.distances[distance or "unknown"]  # type: ignore[index]


class FocusPart(Strict):
    """One part a rebuilt session focus can name: a category the session holds and the words for it."""

    category: Category
    words: str = Field(min_length=1, max_length=30)


class FewerSessions(Strict):
    """The note a plan carries when it has fewer sessions a week than the runner asked for (COACHING.md 27)."""

    note: str = Field(min_length=1, max_length=300)
    rule: str = Field(min_length=1, max_length=200)
    template: str = Field(min_length=1, max_length=200)
    schedule: str = Field(min_length=1, max_length=200)


class LightSession(Strict):
    """What a light session on the day after the long run holds (COACHING.md 25, 27; rules/placement.yaml)."""

    rir: tuple[int, int]
    max_sets: int = Field(ge=1, le=3)  # sets of any one exercise
    max_working_sets: int = Field(ge=2, le=12)  # sets of the whole session
    focus: str = Field(min_length=1, max_length=80)  # {focus}: what the session holds

    @model_validator(mode="after")
    def _easy(self) -> LightSession:
        if not 3 <= self.rir[0] <= self.rir[1] <= 4:
            raise ValueError("a light session is done with 3-4 reps in reserve")
        return self


class PlacementPolicy(Strict):
    """How sessions are ranked by fatigue and labelled by content (rules/placement.yaml)."""

    fewer_sessions: FewerSessions
    fatigue_cost: dict[Category, float]
    default_cost: float = Field(gt=0, le=10)
    heavy_day_factor: float = Field(default=1, ge=1, le=5)
    focus_claims: dict[str, list[Category]]
    focus_parts: list[FocusPart] = Field(min_length=1)
    after_long_run_waits: list[Category] = Field(default_factory=lambda: [Category.HEAVY, Category.PLYOMETRIC])
    after_long_run_session: LightSession

    def set_cost(self, categories: list[Category], reps: int = 8) -> float:
        """Fatigue cost of one working set of an exercise: its costliest category (more for heavy triples)."""
        cost = max((self.fatigue_cost.get(c, self.default_cost) for c in categories), default=self.default_cost)
        return cost * self.heavy_day_factor if Category.HEAVY in categories and reps <= 5 else cost

    def focus_holds(self, focus: str, categories: set[str]) -> bool:
        """Whether every claiming word in a focus is true of a session holding these categories."""
        words = focus.lower().replace(",", " ").split()
        return all(any(c.value in categories for c in self.focus_claims[w]) for w in words
                   if w in self.focus_claims)

    def focus_for(self, categories: set[str]) -> str:
        """A focus built from what a session holds: its first two parts, e.g. 'Heavy strength and power'."""
        parts = [p.words for p in self.focus_parts if p.category.value in categories][:2]
        if not parts:
            return "Strength"
        text = " and ".join(parts)
        return text[0].upper() + text[1:]


_TEMPO_COUNTS = re.compile(r"^\s*([0-9xX]+)-([0-9xX]+)-([0-9xX]+)\s*$")
_TEMPO_SECONDS = re.compile(r"(\d+)(?:-(\d+))?\s*s\b")


class MileageBand(Strict):
    """How strength volume follows weekly running from `from_km` upwards (COACHING.md 30)."""

    from_km: float = Field(ge=0, le=250)
    jump_sets: int = Field(ge=-3, le=2)
    jump_reps_factor: float = Field(gt=0, le=1.5)
    accessory_sets: int = Field(ge=-3, le=2)
    accessory_reps: int = Field(ge=-4, le=6)


class DosingPolicy(Strict):
    """Hold doses, the arithmetic of session minutes and volume by mileage (rules/dosing.yaml)."""

    hold_seconds: tuple[int, int]
    hold_default_seconds: int = Field(ge=5, le=120)
    rep_seconds: float = Field(gt=0, le=10)
    changeover_seconds: int = Field(ge=0, le=180)
    mileage: list[MileageBand] = Field(min_length=1)
    heavy_reps: tuple[int, int] = (3, 5)
    max_weekly_rise: float = Field(default=0.3, gt=0, le=1)
    first_time_rir: tuple[int, int] = (2, 3)
    niggle_rir: tuple[int, int] = (3, 4)

    @model_validator(mode="after")
    def _holds(self) -> DosingPolicy:
        low, high = self.hold_seconds
        if not 5 <= low <= self.hold_default_seconds <= high <= 120:
            raise ValueError("hold_seconds must be [shortest, longest] with hold_default_seconds inside, 5-120 s")
        if not 1 <= self.heavy_reps[0] <= self.heavy_reps[1] <= 6:
            raise ValueError("heavy_reps must be [fewest, most] reps of a heavy set, between 1 and 6")
        starts = [band.from_km for band in self.mileage]
        if starts[0] != 0 or starts != sorted(set(starts)):
            raise ValueError("mileage bands must start at from_km 0 and go up, each from_km once")
        return self

    def band_for(self, weekly_km: float) -> MileageBand:
        """The mileage band a runner's weekly distance falls in."""
        return [band for band in self.mileage if band.from_km <= weekly_km][-1]

    def hold(self, low: int, high: int) -> tuple[int, int]:
        """A hold's seconds: kept when inside the range, else the default (a copied rep count never stays)."""
        lo, hi = self.hold_seconds
        return (low, high) if lo <= low <= high <= hi else (self.hold_default_seconds, self.hold_default_seconds)

    def seconds_per_rep(self, tempo: str | None) -> float:
        """Seconds one rep takes at a tempo."""
        if tempo:
            counts = _TEMPO_COUNTS.match(tempo)
            if counts:
                return float(sum(1 if c in "xX" else int(c) for c in counts.groups()))
            named = _TEMPO_SECONDS.search(tempo)
            if named:
                return float(int(named[2] or named[1]) + 2)
        return self.rep_seconds

    def set_seconds(self, unit: str, tempo: str | None, reps: int, per_side: bool, rest: int) -> float:
        """One set: its reps (or hold) at tempo, both sides when per side, then its rest."""
        per_rep = 1.0 if unit == "seconds" else self.seconds_per_rep(tempo)
        return reps * per_rep * (2 if per_side else 1) + rest


class Emphasis(Strict):
    """What one goal adds, by exercise category: sets, and reps to the range (COACHING.md 30)."""

    sets: dict[Category, int] = Field(default_factory=dict)
    reps: dict[Category, int] = Field(default_factory=dict)

    @field_validator("sets", "reps")
    @classmethod
    def _small(cls, value: dict[Category, int]) -> dict[Category, int]:
        if any(not -3 <= n <= 3 for n in value.values()):
            raise ValueError("each change must be between -3 and 3")
        return value


class EmphasisPolicy(Strict):
    """Each goal's emphasis (rules/emphasis.yaml)."""

    goals: dict[Goal, Emphasis]

    @model_validator(mode="after")
    def _every_goal(self) -> EmphasisPolicy:
        missing = [g.value for g in Goal if g not in self.goals]
        if missing:
            raise ValueError(f"goals must cover {missing} too")
        return self


class Claim(Strict):
    """What one note claims about the plan it comes with (COACHING.md 27)."""

    has_categories: list[Category] = Field(default_factory=list)
    has_ids: list[str] = Field(default_factory=list)
    no_categories: list[Category] = Field(default_factory=list)
    no_ids: list[str] = Field(default_factory=list)

    def untrue(self, ids: set[str], categories: set[str]) -> str | None:
        """Why the claim is untrue of a plan holding these exercises and categories, or None."""
        lacking = [c.value for c in self.has_categories if c.value not in categories]
        if lacking:
            return f"the plan has no {', '.join(lacking)} work"
        if self.has_ids and not set(self.has_ids) & ids:
            return f"the plan has none of {', '.join(self.has_ids)}"
        there = [c.value for c in self.no_categories if c.value in categories]
        if there:
            return f"the plan has {', '.join(there)} work"
        if set(self.no_ids) & ids:
            return f"the plan has {', '.join(sorted(set(self.no_ids) & ids))}"
        return None


class TraceWords(Strict):
    """How "Why this plan?" says what the weeks hold when a rule's line alone would be untrue (COACHING.md 27)."""

    calmed: str = Field(min_length=1, max_length=120)  # {day}: the session's day, where that work waits
    not_held: str = Field(min_length=1, max_length=120)
    session_unused: str = Field(min_length=1, max_length=120)  # a session none of the weeks holds
    weeks_hold: str = Field(min_length=1, max_length=120)  # {counts}: sessions in each week
    weeks_run: str = Field(min_length=1, max_length=120)  # {labels}: each week's label


class ClaimsPolicy(Strict):
    """Each rule's note claim, and the words for trace lines the plan doesn't keep as said (rules/claims.yaml)."""

    notes: dict[str, Claim]
    trace: TraceWords


@dataclass(frozen=True)
class Catalog:
    """Everything the planner draws from; immutable once loaded."""

    exercises: dict[str, Exercise]
    items: dict[str, ItemDef]
    templates: dict[str, Template]
    progressions: dict[str, Progression]
    races: RacePolicy
    placement: PlacementPolicy
    dosing: DosingPolicy
    emphasis: EmphasisPolicy
    claims: ClaimsPolicy

    def template_for(self, level: Level) -> Template:
        """The session template for a level (the first, if several share it); KeyError when there is none."""
        for template in self.templates.values():
            if template.level is level:
                return template
        raise KeyError(level)

    def canonical(self) -> dict[str, Any]:
        """Plain data for hashing into the rule-set version."""
        return {
            "exercises": {key: ex.model_dump(mode="json") for key, ex in self.exercises.items()},
            "items": {key: item.model_dump(mode="json") for key, item in self.items.items()},
            "templates": {key: t.model_dump(mode="json") for key, t in self.templates.items()},
            "progressions": {key: p.model_dump(mode="json") for key, p in self.progressions.items()},
            "races": self.races.model_dump(mode="json"),
            "placement": self.placement.model_dump(mode="json"),
            "dosing": self.dosing.model_dump(mode="json"),
            "emphasis": self.emphasis.model_dump(mode="json"),
            "claims": self.claims.model_dump(mode="json"),
        }


def _section(data: Any, key: str, source: str, node: Any) -> dict[str, Any]:
    if not isinstance(data, dict) or not isinstance(data.get(key), dict):
        raise DataFileError([f"{source}:{line_of(node, []) or 1}: expected a top-level mapping '{key}:'"])
    return data[key]


def _build(model: type[BaseModel], raw: dict[str, Any], key: str, source: str, node: Any,
           section: str, problems: list[str], **extra: Any) -> Any:
    if not isinstance(raw, dict):
        problems.append(f"{source}:{line_of(node, [section, key])}: '{key}' must be a mapping of fields")
        return None
    try:
        return model.model_validate({**raw, **extra})
    except ValidationError as exc:
        problems.extend(describe_errors(exc, source, node, [section, key], label=f"'{key}'"))
        return None


def _policy(model: type[P], path: Path, label: str, problems: list[str]) -> P | None:
    """One policy file (races, placement, dosing) validated whole; its faults go to problems."""
    data, node = read_yaml(path)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems.extend(describe_errors(exc, str(path), node, [], label=label))
        return None


def load_catalog(rules_dir: Path) -> Catalog:
    """Load and cross-check exercises, sessions, progressions, races and placement (YAML); every fault at once."""
    problems: list[str] = []
    ex_path, ses_path, prog_path = (rules_dir / name for name in
                                    ("exercises.yaml", "sessions.yaml", "progressions.yaml"))
    ex_data, ex_node = read_yaml(ex_path)
    ses_data, ses_node = read_yaml(ses_path)
    prog_data, prog_node = read_yaml(prog_path)
    race_path = rules_dir / "races.yaml"
    _, race_node = read_yaml(race_path)

    exercises = {
        key: ex for key, raw in _section(ex_data, "exercises", str(ex_path), ex_node).items()
        if (ex := _build(Exercise, raw, key, str(ex_path), ex_node, "exercises", problems, id=key))
    }
    items = {
        key: item for key, raw in (ex_data.get("items") or {}).items()
        if (item := _build(ItemDef, raw, key, str(ex_path), ex_node, "items", problems, id=key))
    }
    templates = {
        key: t for key, raw in _section(ses_data, "templates", str(ses_path), ses_node).items()
        if (t := _build(Template, raw, key, str(ses_path), ses_node, "templates", problems, id=key))
    }
    progressions = {
        key: p for key, raw in _section(prog_data, "progressions", str(prog_path), prog_node).items()
        if (p := _build(Progression, raw, key, str(prog_path), prog_node, "progressions", problems, id=key))
    }

    races = _policy(RacePolicy, race_path, "race policy", problems)
    placement = _policy(PlacementPolicy, rules_dir / "placement.yaml", "placement policy", problems)
    dosing = _policy(DosingPolicy, rules_dir / "dosing.yaml", "dosing policy", problems)
    emphasis = _policy(EmphasisPolicy, rules_dir / "emphasis.yaml", "emphasis policy", problems)
    claims = _policy(ClaimsPolicy, rules_dir / "claims.yaml", "claims policy", problems)
    for rule_id, claim in (claims.notes.items() if claims else []):
        for ex_id in [*claim.has_ids, *claim.no_ids]:
            if ex_id not in exercises:
                problems.append(f"{rules_dir / 'claims.yaml'}: '{rule_id}': unknown exercise '{ex_id}'")
    for i, jump in enumerate(races.primer.jumps if races else []):
        if jump not in exercises:
            problems.append(f"{race_path}:{line_of(race_node, ['primer', 'jumps', i])}: unknown exercise '{jump}'")

    overlap = set(exercises) & set(items)
    for key in sorted(overlap):
        problems.append(f"{ex_path}:{line_of(ex_node, ['items', key])}: '{key}' is both an exercise and an item")
    for key, ex in exercises.items():
        for i, sub in enumerate(ex.substitutes):
            if sub not in exercises or sub == key:
                problems.append(f"{ex_path}:{line_of(ex_node, ['exercises', key, 'substitutes', i])}: "
                                f"'{key}' field 'substitutes': unknown exercise '{sub}'")
        if ex.next_step is not None and (ex.next_step.id not in exercises or ex.next_step.id == key):
            problems.append(f"{ex_path}:{line_of(ex_node, ['exercises', key, 'next_step'])}: "
                            f"'{key}' field 'next_step': unknown exercise '{ex.next_step.id}'")
    for key, item in items.items():
        if item.substitute is not None and (item.substitute not in items or item.substitute == key):
            problems.append(f"{ex_path}:{line_of(ex_node, ['items', key])}: '{key}' field 'substitute': "
                            f"unknown item '{item.substitute}'")
    for key, template in templates.items():
        for block in ("warm_up", "cool_down"):
            for i, item in enumerate(getattr(template, block).items):
                if item not in items:
                    problems.append(f"{ses_path}:{line_of(ses_node, ['templates', key, block, 'items', i])}: "
                                    f"'{key}' field '{block}.items': unknown item '{item}'")
        for s, session in enumerate(template.sessions):
            for e, slot in enumerate(session.exercises):
                if slot.id not in exercises:
                    where = line_of(ses_node, ["templates", key, "sessions", s, "exercises", e])
                    problems.append(f"{ses_path}:{where}: '{key}' session {session.key}: unknown exercise "
                                    f"'{slot.id}'")
    for level in Level:
        if not any(t.level is level for t in templates.values()):
            problems.append(f"{ses_path}: no template for level '{level.value}'")
    for needed in ("build", "maintain", "hold"):
        if needed not in progressions:
            problems.append(f"{prog_path}: the progression pattern '{needed}' is missing")
    if problems:
        raise DataFileError(problems)
    assert races and placement and dosing and emphasis and claims  # None only with a problem, raised above
    return Catalog(exercises=exercises, items=items, templates=templates, progressions=progressions, races=races,
                   placement=placement, dosing=dosing, emphasis=emphasis, claims=claims)
