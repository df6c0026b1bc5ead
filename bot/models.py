"""The core's data: a runner's profile, the vocabulary it draws on, and the plan made for it."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, field_validator

from bot.errors import LegDayError

KM_PER_MILE = 1.609344
MAX_WEEKLY_KM = 250.0

DAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_NAMES = {
    "mon": "Monday", "tue": "Tuesday", "wed": "Wednesday", "thu": "Thursday",
    "fri": "Friday", "sat": "Saturday", "sun": "Sunday",
}
Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


class Level(StrEnum):
    """How much strength training a runner has done; it sets the default session template."""

    BEGINNER = "beginner"
    INTERMEDIATE = "intermediate"
    ADVANCED = "advanced"


class Goal(StrEnum):
    """What a runner wants strength work to help with; each goal shifts sets and reps by category."""

    SPEED = "speed"
    ENDURANCE = "endurance"
    HILLS = "hills"
    INJURY_RESILIENCE = "injury-resilience"
    POWER = "power"
    GENERAL = "general"


class Equipment(StrEnum):
    """Kit a runner can use; an exercise needing kit they lack is swapped for a substitute or left out."""

    NONE = "none"
    DUMBBELLS = "dumbbells"
    KETTLEBELL = "kettlebell"
    BARBELL = "barbell"
    BOX = "box"
    BANDS = "bands"
    GYM = "gym"


class Niggle(StrEnum):
    """A niggle or old injury to plan around; exercises and items that don't suit it are swapped or left out."""

    ACHILLES = "achilles"
    CALF = "calf"
    KNEE = "knee"
    IT_BAND = "it-band"
    HAMSTRING = "hamstring"
    HIP = "hip"
    SHIN = "shin"
    FOOT = "foot"
    LOWER_BACK = "lower-back"


class RaceDistance(StrEnum):
    """How long a key race is; it sets how many rest and recovery days follow the race."""

    FIVE_K = "5k"
    TEN_K = "10k"
    HALF = "half"
    MARATHON = "marathon"
    ULTRA = "ultra"


class Category(StrEnum):
    """A kind of exercise or item, used for coverage, fatigue, emphasis, focus labels and rules."""

    STRENGTH = "strength"
    SINGLE_LEG = "single-leg"
    ECCENTRIC = "eccentric"
    HEAVY = "heavy"
    PLYOMETRIC = "plyometric"
    HIP = "hip"
    CORE = "core"
    CALF = "calf"
    MOBILITY = "mobility"
    WARM_UP = "warm-up"
    COOL_DOWN = "cool-down"


# One human line per choice, shared by every front-end (CLI help, Discord selects, console prompts).
GOAL_LABELS = {
    Goal.SPEED: "Faster race times",
    Goal.ENDURANCE: "Longer races, holding form when tired",
    Goal.HILLS: "Hills, trails and uneven ground",
    Goal.INJURY_RESILIENCE: "Fewer injuries and niggles",
    Goal.POWER: "Sprints and a finishing kick",
    Goal.GENERAL: "General strength for running",
}
LEVEL_LABELS = {
    Level.BEGINNER: "New to lifting, or not lifted for a while",
    Level.INTERMEDIATE: "Lift regularly with good form",
    Level.ADVANCED: "Comfortable with heavy barbell work and jumps",
}
EQUIPMENT_LABELS = {
    Equipment.NONE: "Nothing (bodyweight)",
    Equipment.DUMBBELLS: "Dumbbells",
    Equipment.KETTLEBELL: "Kettlebell",
    Equipment.BARBELL: "Barbell and rack",
    Equipment.BOX: "Box or sturdy step",
    Equipment.BANDS: "Resistance bands",
    Equipment.GYM: "A full gym",
}
NIGGLE_LABELS = {
    Niggle.ACHILLES: "Achilles",
    Niggle.CALF: "Calf",
    Niggle.KNEE: "Knee",
    Niggle.IT_BAND: "IT band",
    Niggle.HAMSTRING: "Hamstring",
    Niggle.HIP: "Hip",
    Niggle.SHIN: "Shin",
    Niggle.FOOT: "Foot",
    Niggle.LOWER_BACK: "Lower back",
}

RACE_DISTANCE_LABELS = {
    RaceDistance.FIVE_K: "5 km",
    RaceDistance.TEN_K: "10 km",
    RaceDistance.HALF: "Half marathon",
    RaceDistance.MARATHON: "Marathon",
    RaceDistance.ULTRA: "Ultra",
}

_MILEAGE_RE = re.compile(
    r"^\s*(?P<num>[+-]?(?:\d{1,3}(?:_\d{3})+|\d+(?:[.,]\d+)?))\s*(?P<unit>km|kms|k|kilometers?|kilometres?|mi|mis|miles?|m)?\s*"
    r"(?:/\s*(?:wk|week)|a week|per week|pw)?\s*$",
    re.IGNORECASE,
)
MILEAGE_HELP = (
    "Give your weekly running distance as a number with a unit, like `30mi`, `45 km` or `45k` "
    f"(0 to {MAX_WEEKLY_KM:.0f} km, which is {MAX_WEEKLY_KM / KM_PER_MILE:.0f} mi)."
)


class MileageError(LegDayError):
    """A weekly mileage a runner typed that we cannot use; the message says what is accepted."""


def parse_mileage(text: str | float | int, default_unit: str | None = None) -> tuple[float, str]:
    """Read '30mi', '45 km', '45k' or a plain number (with default_unit) into (km, unit)."""
    if isinstance(text, bool):
        raise MileageError(f"That isn't a distance. {MILEAGE_HELP}")
    if isinstance(text, int | float):
        raw, unit = float(text), default_unit
    else:
        shown = str(text).strip()
        if len(shown) > 40:
            shown = shown[:37] + "..."
        match = _MILEAGE_RE.match(str(text))
        if not match:
            raise MileageError(f"I couldn't read '{shown}' as a distance. {MILEAGE_HELP}")
        # "1_000" is Python's way of writing 1000; "27,5" is a decimal comma.
        raw = float(match["num"].replace("_", "").replace(",", "."))
        unit = match["unit"] or default_unit
    raw += 0.0  # -0.0 becomes 0.0, so nothing ever shows "-0 km"
    if raw < 0:
        raise MileageError(f"Weekly mileage can't be negative ({raw:g}). {MILEAGE_HELP}")
    if unit is None:
        raise MileageError(
            f"Is {raw:g} in kilometres or miles? Add the unit, like `{raw:g}km` or `{raw:g}mi`."
        )
    unit = "mi" if unit.lower().startswith("m") else "km"
    km = raw * KM_PER_MILE if unit == "mi" else raw
    if km > MAX_WEEKLY_KM:
        raise MileageError(
            f"{raw:g} {unit} a week is more than LegDay plans for. {MILEAGE_HELP}"
        )
    return round(km, 2), unit


def _split_list(value: Any) -> Any:
    """Accept 'a,b c' as well as lists, so every front-end can pass what the runner typed."""
    if value is None:
        return []
    if isinstance(value, str):
        return [part for part in re.split(r"[\s,;/]+", value.strip().lower()) if part]
    return value


def _lower(value: Any) -> Any:
    return value.strip().lower() if isinstance(value, str) else value


def _dedupe_sorted(values: list[Any], order: list[Any]) -> list[Any]:
    """Remove repeats and keep the vocabulary's order, so equal profiles compare and hash equal."""
    seen = set(values)
    return [item for item in order if item in seen]


DayField = Annotated[Day, BeforeValidator(lambda v: _lower(v)[:3] if isinstance(v, str) else v)]


class Profile(BaseModel):
    """What a runner told us: everything a plan is made from."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    weekly_km: float = Field(ge=0, le=MAX_WEEKLY_KM)
    unit: Literal["km", "mi"] = "km"
    level: Level
    goals: list[Goal] = Field(min_length=1)
    days_per_week: int | None = Field(default=None, ge=1, le=3)
    long_run_day: DayField | None = None
    hard_days: list[DayField] = Field(default_factory=list)
    equipment: list[Equipment] = Field(default_factory=list)
    niggles: list[Niggle] = Field(default_factory=list)
    sharp_pain: bool = False
    race_date: dt.date | None = None
    race_distance: RaceDistance | None = None

    @field_validator("level", "race_distance", mode="before")
    @classmethod
    def _level(cls, value: Any) -> Any:
        return _lower(value)

    @field_validator("goals", "hard_days", "equipment", "niggles", mode="before")
    @classmethod
    def _lists(cls, value: Any) -> Any:
        return _split_list(value)

    @field_validator("goals")
    @classmethod
    def _goals(cls, value: list[Goal]) -> list[Goal]:
        return _dedupe_sorted(value, list(Goal))

    @field_validator("equipment")
    @classmethod
    def _equipment(cls, value: list[Equipment]) -> list[Equipment]:
        value = [item for item in value if item is not Equipment.NONE]
        return _dedupe_sorted(value, list(Equipment))

    @field_validator("niggles")
    @classmethod
    def _niggles(cls, value: list[Niggle]) -> list[Niggle]:
        return _dedupe_sorted(value, list(Niggle))

    @field_validator("hard_days")
    @classmethod
    def _hard_days(cls, value: list[str]) -> list[str]:
        return _dedupe_sorted(value, list(DAYS))

    @property
    def weekly_mi(self) -> float:
        """The weekly mileage in miles, to one decimal place."""
        return round(self.weekly_km / KM_PER_MILE, 1)

    @property
    def mileage_text(self) -> str:
        """The runner's mileage in the unit they gave it."""
        amount = self.weekly_mi if self.unit == "mi" else self.weekly_km
        return f"{amount:g} {self.unit}"

    def available_equipment(self) -> set[str]:
        """Everything the runner can use; a gym has it all."""
        have = {item.value for item in self.equipment}
        if Equipment.GYM.value in have:
            have |= {item.value for item in Equipment}
        return have


@dataclass(frozen=True)
class FieldSpec:
    """One profile field as every front-end names, asks, offers and shows it: the field registry's entry.

    The slash form, the chat reader's conversation, the console, the CLI and the profile card all take
    their labels, questions, choices and wording from here, so a field is described once.
    """

    name: str
    label: str
    question: str
    accepts: str
    choices: tuple[tuple[str, str], ...] = ()
    multi: bool = False
    optional: bool = False
    none_label: str | None = None  # the choice that says "none of these", for fields where none is an answer
    none_shown: str = "none"

    def shown(self, value: Any, unit: str | None = None) -> str:
        """The value as a runner reads it ('27.5 mi (44 km)', 'Tuesday, Thursday', 'Sat 14 Feb 2026')."""
        if value is None or value == []:
            return self.none_shown
        if self.name == "weekly_km":
            km = float(value)
            return f"{km / KM_PER_MILE:.1f} mi ({km:.0f} km)" if unit == "mi" else f"{km:g} km"
        if self.name == "sharp_pain":
            return "yes: the plan will stay gentle, and please see a professional" if value else "no"
        if self.name == "days_per_week":
            return f"{value} a week"
        if isinstance(value, dt.date) or self.name == "race_date":
            day = value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))
            return day.strftime("%a %d %b %Y")
        labels = dict(self.choices)
        values = value if isinstance(value, list | tuple) else [value]
        return ", ".join(labels.get(str(getattr(v, "value", v)), str(getattr(v, "value", v))) for v in values)


def _choices(labels: dict[Any, str]) -> tuple[tuple[str, str], ...]:
    return tuple((str(getattr(key, "value", key)), label) for key, label in labels.items())


_DAY_CHOICES = tuple(DAY_NAMES.items())
FIELDS: dict[str, FieldSpec] = {spec.name: spec for spec in (
    FieldSpec("weekly_km", "Weekly mileage",
              "How far do you run in a typical week? A number with km or mi, like `30mi` or `45km`.", MILEAGE_HELP),
    FieldSpec("level", "Strength level", "How much strength training have you done?",
              "Choose one of: " + ", ".join(level.value for level in Level) + ".", _choices(LEVEL_LABELS)),
    FieldSpec("goals", "Goals", "What should strength work help you with? Pick one or more.",
              "Choose one or more of: " + ", ".join(goal.value for goal in Goal) + ".", _choices(GOAL_LABELS),
              multi=True),
    FieldSpec("long_run_day", "Long-run day", "Which day is your long run?",
              "Use a day: " + ", ".join(DAYS) + ".", _DAY_CHOICES, none_label="No fixed long-run day",
              none_shown="no fixed day"),
    FieldSpec("hard_days", "Hard-run days",
              "Which days are your hard runs (intervals, tempo, races)? Pick any, or none.",
              "Use days: " + ", ".join(DAYS) + ".", _DAY_CHOICES, multi=True, none_label="No hard days"),
    FieldSpec("equipment", "Equipment", "What equipment can you use? Pick any, or none for bodyweight only.",
              "Choose from: " + ", ".join(item.value for item in Equipment) + ".", _choices(EQUIPMENT_LABELS),
              multi=True, none_shown="none (bodyweight)"),
    FieldSpec("niggles", "Niggles", "Any niggles or old injuries I should plan around? Pick any, or none.",
              "Choose from: " + ", ".join(item.value for item in Niggle) + ".", _choices(NIGGLE_LABELS),
              multi=True, none_label="No niggles"),
    FieldSpec("sharp_pain", "Sharp joint pain",
              "Do you get sharp joint pain (not just soreness) when you run or lift?", "Answer yes or no.",
              (("yes", "Yes, sharp pain"), ("no", "No"))),
    FieldSpec("days_per_week", "Strength days per week",
              "How many strength sessions a week can you fit in? Two suits most runners.",
              "Choose 1, 2 or 3 strength days a week.", tuple((str(n), f"{n} a week") for n in (1, 2, 3)),
              optional=True, none_shown="not given"),
    FieldSpec("race_date", "Race date",
              "Is there a key race coming up? Give its date, like 2027-01-17, `Jan 17` or `in 6 weeks`, "
              "or say `no race`.",
              "Use a date like 2027-01-17 (YYYY-MM-DD), `Jan 17`, `next saturday` or `in 6 weeks`.",
              optional=True, none_shown="no race planned"),
    FieldSpec("race_distance", "Race distance", "How long is that race?",
              "Choose one of: " + ", ".join(item.value for item in RaceDistance) + ".",
              _choices(RACE_DISTANCE_LABELS), optional=True, none_shown="not given"),
)}
FIELD_LABELS = {"unit": "Mileage unit", **{name: spec.label for name, spec in FIELDS.items()}}
FIELD_ACCEPTS = {"unit": "Use `km` or `mi`.", **{name: spec.accepts for name, spec in FIELDS.items()}}


def friendly_errors(error: ValidationError) -> list[str]:
    """Turn a pydantic error about a profile into lines a runner understands: what, and what is accepted."""
    lines: list[str] = []
    for item in error.errors():
        field = str(item["loc"][0]) if item["loc"] else ""
        label = FIELD_LABELS.get(field, field or "Profile")
        given = item.get("input")
        shown = repr(given) if not isinstance(given, dict) else ""
        if len(shown) > 40:
            shown = shown[:37] + "..."
        if item["type"] == "missing":
            lines.append(f"{label} is missing. {FIELD_ACCEPTS.get(field, '')}".strip())
        elif item["type"] == "extra_forbidden":
            lines.append(f"'{field}' isn't something a profile holds.")
        elif field == "goals" and item["type"] == "too_short":
            lines.append(f"{label}: pick at least one. {FIELD_ACCEPTS['goals']}")
        else:
            detail = f" ({shown})" if shown else ""
            lines.append(f"{label}{detail} isn't valid. {FIELD_ACCEPTS.get(field, item['msg'])}".strip())
    return lines


# --------------------------------------------------------------------------------------------
# The plan


class Prescription(BaseModel):
    """One exercise as prescribed in one session of one week (immutable, so plans can share them)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    name: str
    sets: int = Field(ge=1)
    reps: str
    min_reps: int = Field(ge=1)
    max_reps: int = Field(ge=1)
    per_side: bool = False
    unit: Literal["reps", "seconds", "metres"] = "reps"
    tempo: str | None = None
    rest_seconds: int = Field(ge=0)
    rir_min: int = Field(ge=0, le=5)
    rir_max: int = Field(ge=0, le=5)
    effort: str
    categories: list[str]
    cue: str = ""
    load: str = ""  # a starting load by feel, in the first week (COACHING.md 29)


class Item(BaseModel):
    """A warm-up, cool-down or mobility item: done, not counted as working sets."""

    model_config = ConfigDict(frozen=True)

    id: str
    name: str
    dose: str


class Session(BaseModel):
    """One strength session on one day of a week: warm-up, exercises, cool-down and its minutes."""

    model_config = ConfigDict(extra="forbid")

    day: Day
    date: dt.date
    focus: str
    kind: Literal["strength", "power", "light"]
    minutes: int
    after_run: bool = False
    warm_up: list[Item]
    exercises: list[Prescription]
    cool_down: list[Item]
    key: str = ""  # the template session it comes from (A, B, C): what "Why this plan?" calls it

    @property
    def working_sets(self) -> int:
        """How many working sets the session's exercises add up to (warm-up and cool-down not counted)."""
        return sum(item.sets for item in self.exercises)

    @property
    def categories(self) -> set[str]:
        """Every category the session's exercises belong to."""
        return {cat for item in self.exercises for cat in item.categories}


class MobilityDay(BaseModel):
    """A mobility-only day of a week (after the long run or the race): its items and minutes."""

    day: Day
    date: dt.date
    minutes: int
    items: list[Item]


class Week(BaseModel):
    """One week of a plan: its label, summary, strength sessions, mobility days and any race day."""

    model_config = ConfigDict(extra="forbid")

    week: int = Field(ge=1, le=4)
    start: dt.date
    label: str
    summary: str
    sessions: list[Session]
    mobility: list[MobilityDay] = Field(default_factory=list)
    race_day: dt.date | None = None

    @property
    def working_sets(self) -> int:
        """How many working sets the week's sessions add up to."""
        return sum(session.working_sets for session in self.sessions)


class TraceEntry(BaseModel):
    """One line of 'why this plan?': a rule (or a built-in safeguard) and what it changed."""

    rule_id: str
    description: str
    status: Literal["applied", "overridden", "no-effect", "error", "safeguard"]
    changes: list[str] = Field(default_factory=list)


class Plan(BaseModel):
    """A runner's 4-week plan (or why it was withheld), with the rules that shaped it and their trace."""

    model_config = ConfigDict(extra="forbid")

    profile: Profile
    start: dt.date
    template: str
    level: Level
    sessions_per_week: int
    progression: str
    weeks: list[Week]
    fired_rules: list[str]
    trace: list[TraceEntry]
    notes: list[str]
    warnings: list[str]
    withheld: bool = False
    withheld_reason: str | None = None
    rules_version: str

    def to_json(self) -> dict[str, Any]:
        """The plan as plain JSON values, the shape scripts and the `--json` flag rely on."""
        return self.model_dump(mode="json")
