"""Reading a check-in from a chat message ("did tuesday's session, squats felt easy", "knee 4/10 on the lunges").

The words are data: rules/checkin_reading.yaml (how members say done, skipped, easy, lingering...) and
rules/exercise_names.yaml (what they call each exercise, in the shared vocabulary's format); the shared
vocabulary folds slang first, the profile reader's public helpers read days, body parts, sharp pain and
mileage. The method is general: the message is cut into clauses, each exercise named takes the facts of its
own part of the clause, and what belongs to no exercise belongs to the session.

What the reader is unsure of it leaves out rather than guesses: a confidence gate (rules/checkin_confidence.yaml,
see `gate`) weighs the evidence for each read and drops the doubtful ones; the confirm step shows the rest.

`python -m bot.checkin_reader --evaluate FILE` scores the reader on a labelled file
(tests/data/checkin_labelled.yaml is the development set); `--cv` cross-validates the gate, `--calibrate` refits it.
"""

from __future__ import annotations

import argparse
import bisect
import datetime as dt
import functools
import itertools
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from rapidfuzz import fuzz, process
from text_to_num import alpha2digit

from bot import intake
from bot.checkins import CheckIn, CheckInError, make_checkin, planned_session
from bot.config import get_settings
from bot.models import DAYS, KM_PER_MILE, NIGGLE_LABELS, MileageError, Niggle, Plan, Profile, parse_mileage
from bot.vocabulary import Vocabulary, load_vocabulary
from bot.yamlio import DataFileError, describe_errors, read_yaml

if TYPE_CHECKING:
    from bot.catalog import Exercise

MAX_CHARS = 2000
LB_PER_KG = 2.2046226


# --------------------------------------------------------------------------------------------
# The data: rules/checkin_reading.yaml and rules/exercise_names.yaml


def _compiled(patterns: list[str]) -> list[re.Pattern[str]]:
    out = []
    for pattern in patterns:
        try:
            out.append(re.compile(pattern))
        except re.error as exc:
            raise ValueError(f"'{pattern[:60]}' isn't a valid regular expression ({exc})") from None
    return out


Patterns = list[str]


class _Lexicon(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    @field_validator("*", mode="after")
    @classmethod
    def _valid(cls, value: Any) -> Any:
        lists = value.values() if isinstance(value, dict) else [value] if isinstance(value, list) else []
        for patterns in lists:
            if isinstance(patterns, list):
                _compiled(patterns)
        return value


class StatusWords(_Lexicon):
    """How members say a session was done, partly done or skipped."""

    partly: Patterns = Field(min_length=1)
    skipped: Patterns = Field(min_length=1)
    done: Patterns = Field(min_length=1)


class FeelWords(_Lexicon):
    """How an exercise felt."""

    easy: Patterns = Field(min_length=1)
    ok: Patterns = Field(min_length=1)
    hard: Patterns = Field(min_length=1)


class YesNo(_Lexicon):
    """Phrases that say yes, and phrases that say no."""

    says_yes: Patterns = Field(min_length=1)
    says_no: Patterns = Field(min_length=1)


class RunWords(_Lexicon):
    """Words for a run, words tying it to the session, and how it felt."""

    words: Patterns = Field(min_length=1)
    after: Patterns = Field(min_length=1)
    good: Patterns = Field(min_length=1)
    ok: Patterns = Field(min_length=1)
    bad: Patterns = Field(min_length=1)


class CheckinWords(_Lexicon):
    """rules/checkin_reading.yaml: the phrases of a check-in."""

    status: StatusWords
    feel: FeelWords
    hit: YesNo
    lingering: YesNo
    run: RunWords
    pain: Patterns = Field(min_length=1)
    session: Patterns = Field(min_length=1)
    weekly: Patterns = Field(min_length=1)
    history: Patterns = Field(min_length=1)
    question: Patterns = Field(min_length=1)
    left_out: Patterns = Field(min_length=1)
    stopped: Patterns = Field(min_length=1)


@dataclass(frozen=True)
class Lexicon:
    """The check-in phrases compiled, and the exercise names with the pattern that finds them."""

    words: CheckinWords
    names: dict[str, str]  # a name as read (after the shared vocabulary) -> exercise id
    names_re: re.Pattern[str]
    fuzzy_names: list[str]  # the names long enough to match a close misspelling of

    def any(self, patterns: list[str], text: str) -> re.Match[str] | None:
        """The earliest match of any of the patterns in the text (at one place, the first pattern listed)."""
        return _joined(tuple(patterns)).search(text)


@functools.lru_cache(maxsize=256)
def _cached(patterns: tuple[str, ...]) -> list[re.Pattern[str]]:
    return _compiled(list(patterns))


@functools.lru_cache(maxsize=256)
def _joined(patterns: tuple[str, ...]) -> re.Pattern[str]:
    """The patterns as one alternation: one scan of a text instead of one per pattern, the same earliest match."""
    _compiled(list(patterns))  # each one valid on its own (a clear error naming it)
    return re.compile("|".join(f"(?:{p})" for p in patterns))


def load_lexicon(rules_dir: Path, vocabulary: Vocabulary | None = None) -> Lexicon:
    """The reader's data from a rules folder, validated (file, line and field in every error)."""
    path = rules_dir / "checkin_reading.yaml"
    data, node = read_yaml(path)
    try:
        words = CheckinWords.model_validate(data)
    except ValidationError as exc:
        raise DataFileError(describe_errors(exc, str(path), node, [], label="check-in words")) from None
    names_vocabulary = load_vocabulary(rules_dir / "exercise_names.yaml")
    load_confidence(rules_dir)  # the gate's file is the reader's data too: validated with the rest
    fold = (vocabulary or intake.vocabulary()).normalise
    names: dict[str, str] = {}
    for ex_id, variants in names_vocabulary.terms.items():
        for name in (ex_id.replace("-", " "), *variants):
            names.setdefault(fold(name), ex_id)
    ordered = sorted(names, key=len, reverse=True)  # "split squat" before "squat"
    names_re = re.compile(r"(?<![\w])(" + "|".join(re.escape(n) for n in ordered) + r")(?:e?s)?(?![\w])")
    return Lexicon(words=words, names=names, names_re=names_re, fuzzy_names=[n for n in names if len(n) >= 5])


@functools.lru_cache(maxsize=4)
def lexicon(rules_dir: Path | None = None) -> Lexicon:
    """The reader's data from the configured rules folder, loaded once."""
    return load_lexicon(rules_dir or get_settings().rules_dir)


# --------------------------------------------------------------------------------------------
# What was read


class ExerciseRead(BaseModel):
    """What a message says about one exercise."""

    exercise: str
    hit: bool | None = None
    feel: str | None = None
    load_kg: float | None = None
    load_unit: str | None = None
    reps: int | None = None
    sets: int | None = None
    pain: int | None = None


class CheckinReading(BaseModel):
    """A chat message read as a check-in (kind 'checkin') or not ('other'), with what it said."""

    kind: str = "other"
    status: str | None = None
    day: dt.date | None = None  # the day the message names; None when it names none
    exercises: list[ExerciseRead] = Field(default_factory=list)
    pain: int | None = None
    pain_where: Niggle | None = None
    lingering: bool | None = None
    sharp: bool | None = None
    next_run: str | None = None
    weekly_km: float | None = None
    weekly_unit: str | None = None
    problems: list[str] = Field(default_factory=list)
    # How sure the confidence gate was of each read it kept or dropped (0-1, rules/checkin_confidence.yaml)
    confidence: dict[str, float] = Field(default_factory=dict)

    def session_day(self, plan: Plan | None, today: dt.date) -> dt.date | None:
        """The session meant: the day named, else the latest one up to today holding the exercises named."""
        if self.day is not None or plan is None:
            return self.day
        if self.status is None and not self.exercises and self.pain is None and self.next_run is None and (
                self.weekly_km is not None):
            return None  # a mileage update alone is about the week, not a session
        past = [s for w in plan.weeks for s in w.sessions if s.date <= today]
        wanted = {e.exercise for e in self.exercises}
        holding = [s for s in past if wanted and wanted <= {e.id for e in s.exercises}]
        chosen = (holding or past)[-1:] if (holding or past) else []
        return chosen[0].date if chosen else None

    def to_checkin(self, plan: Plan | None, now: dt.datetime, source: str = "chat") -> CheckIn:
        """The check-in this reading gives for the member's plan; CheckInError says what doesn't fit.

        Exercises the session doesn't hold are left out (the reply says so): the rest of the report stands.
        """
        day = self.session_day(plan, now.date())
        logged_as = self.logged_as(plan, now.date())
        logs = [{**{k: v for k, v in e.model_dump().items() if v is not None}, "exercise": logged_as[e.exercise]}
                for e in self.exercises if e.exercise in logged_as]
        fields: dict[str, Any] = {
            "session": day, "status": self.status or ("done" if logs and day else None), "exercises": logs,
            "pain": self.pain, "pain_where": self.pain_where, "lingering": self.lingering,
            "sharp": bool(self.sharp), "next_run": self.next_run, "weekly_km": self.weekly_km,
            "weekly_unit": self.weekly_unit, "source": source,
        }
        return make_checkin(plan, now, **fields)

    def logged_as(self, plan: Plan | None, today: dt.date) -> dict[str, str]:
        """Each exercise read -> the session's exercise it is logged as; those the session lacks are absent.

        A name the session doesn't hold stands for the session's one exercise that is a catalogue substitute
        of it (or it of that one) with the same movement pattern (rules/exercises.yaml `substitutes`,
        `patterns`): "squats" (the goblet squat) on a back-squat day are the back squat, but "rdls" on a Nordic
        day are not the Nordic. The confirm step shows the session's name, so a member can put it right.
        """
        day = self.session_day(plan, today)
        session = planned_session(plan, day) if plan is not None and day is not None else None
        held = [e.id for e in session.exercises] if session else []
        related = _catalog_relatives()
        out: dict[str, str] = {}
        for e in self.exercises:
            if e.exercise in held:
                out[e.exercise] = e.exercise
                continue
            same = [h for h in held if h in related.get(e.exercise, ())]
            if len(same) == 1 and same[0] not in out.values():
                out[e.exercise] = same[0]
        return out

    def left_out(self, plan: Plan | None, today: dt.date) -> list[str]:
        """Names of exercises the message mentions that the session doesn't hold (not logged)."""
        logged_as = self.logged_as(plan, today)
        return [e.exercise for e in self.exercises if e.exercise not in logged_as]

    def labels(self, today: dt.date) -> dict[str, Any]:
        """What was read in the labelled file's format (tests/data/checkin_labelled.yaml)."""
        out: dict[str, Any] = {}
        if self.status:
            out["status"] = self.status
        if self.day is not None:
            out["day"] = DAYS[self.day.weekday()] if 0 <= (today - self.day).days < 7 else self.day.isoformat()
        if self.exercises:
            out["exercises"] = [_exercise_labels(e) for e in self.exercises]
        for name in ("pain", "lingering", "sharp", "next_run"):
            if getattr(self, name) is not None:
                out[name] = getattr(self, name)
        if self.pain_where is not None:
            out["pain_where"] = self.pain_where.value
        if self.weekly_km is not None:
            out["weekly"] = _distance(self.weekly_km, self.weekly_unit or "km")
        return out

    def rows(self, plan: Plan | None, today: dt.date) -> list[tuple[str, str]]:
        """(label, value) lines of what was read, for the member to confirm."""
        rows: list[tuple[str, str]] = []
        day = self.session_day(plan, today)
        left_out = set(self.left_out(plan, today)) if plan is not None else set()
        logged_as = self.logged_as(plan, today) if plan is not None else {}
        if day is not None:
            rows.append(("Session", f"{day:%A} {day.day} {day:%B}"))
        if self.status:
            rows.append(("How it went", {"done": "done", "partly": "partly done", "skipped": "skipped"}[self.status]))
        for e in self.exercises:
            if e.exercise in left_out:
                continue
            bits = []
            if e.sets and e.reps is not None:
                bits.append(f"{e.sets} x {e.reps}")
            elif e.reps is not None:
                bits.append(f"{e.reps} reps")
            if e.load_kg is not None:
                bits.append(_load(e.load_kg, e.load_unit or "kg"))
            if e.hit is not None:
                bits.append("every rep" if e.hit else "missed some reps")
            if e.feel:
                bits.append(f"felt {e.feel}")
            if e.pain is not None:
                bits.append(f"pain {e.pain}/10")
            rows.append((exercise_name(logged_as.get(e.exercise, e.exercise)), ", ".join(bits) or "mentioned"))
        if self.pain is not None or self.pain_where is not None:
            where = f" ({NIGGLE_LABELS[self.pain_where].lower()})" if self.pain_where else ""
            lingering = {True: ", still there the next morning", False: ", gone by the next morning"}.get(
                self.lingering, "") if self.lingering is not None else ""
            rows.append(("Pain", f"{self.pain if self.pain is not None else '?'}/10{where}{lingering}"))
        if self.sharp:
            rows.append(("Sharp pain", "yes"))
        if self.next_run:
            rows.append(("Next run", self.next_run))
        if self.weekly_km is not None:
            rows.append(("Weekly mileage", _distance(self.weekly_km, self.weekly_unit or "km")))
        return rows


def _exercise_labels(e: ExerciseRead) -> dict[str, Any]:
    out: dict[str, Any] = {"exercise": e.exercise}
    for name in ("hit", "feel", "reps", "sets", "pain"):
        if getattr(e, name) is not None:
            out[name] = getattr(e, name)
    if e.load_kg is not None:
        out["load"] = _load(e.load_kg, e.load_unit or "kg", about=False)
    return out


def _load(kg: float, unit: str, about: bool = False) -> str:
    amount = kg * LB_PER_KG if unit == "lb" else kg
    return f"{'about ' if about else ''}{round(amount, 1):g} {unit}"


def _distance(km: float, unit: str) -> str:
    return f"{round(km / KM_PER_MILE, 1):g} mi" if unit == "mi" else f"{round(km, 1):g} km"


@functools.lru_cache(maxsize=1)
def _exercises() -> dict[str, Exercise]:
    """The catalogue's exercises (rules/exercises.yaml), loaded once for names and relatives."""
    from bot.catalog import load_catalog

    return load_catalog(get_settings().rules_dir).exercises


@functools.lru_cache(maxsize=1)
def _catalog_names() -> dict[str, str]:
    return {key: ex.name for key, ex in _exercises().items()}


@functools.lru_cache(maxsize=1)
def _catalog_relatives() -> dict[str, frozenset[str]]:
    """Each catalogue exercise -> what a name of it may stand for in a session (see `logged_as`)."""
    exercises = _exercises()
    out: dict[str, set[str]] = {key: set() for key in exercises}
    for key, ex in exercises.items():
        for sub in ex.substitutes:
            if sub in exercises and set(ex.patterns) & set(exercises[sub].patterns):
                out[key].add(sub)
                out[sub].add(key)
    return {key: frozenset(value) for key, value in out.items()}


def exercise_name(ex_id: str) -> str:
    """An exercise's name in the catalogue (its id when the catalogue has no such exercise)."""
    return _catalog_names().get(ex_id, ex_id)


# --------------------------------------------------------------------------------------------
# Reading

_SPLIT_RE = re.compile(r"[.!?;\n]+(?!\d)|,|\bbut\b|\s[-/|]\s|\(|\)|:")
_SETS_RE = re.compile(  # "3x8", "2 x 30s"; not "2 x 10 kg" (two dumbbells)
    r"\b(\d{1,3})\s*(?:x|×|\*)\s*(\d{1,3})\s*(?:s|sec|secs|seconds)?\b(?!\s*(?:kg|kgs|kilo|lb|pound))")
_HOLD_RE = re.compile(r"\b(\d{1,3})\s*(?:s|sec|secs|seconds)\b")
_SETS_OF_RE = re.compile(r"\b(\d{1,2})\s*sets?\s*(?:of|x)\s*(\d{1,3})\b")
_ONLY_RE = re.compile(r"\bonly (?:got|managed|did|do|get)\s*(\d{1,3})\b")
# "managed 4 reps per set", "got 12 reps on the last set": the reps done (not "2 reps left in the tank")
_GOT_REPS_RE = re.compile(r"\b(?:got|managed|did|hit|finished)\s+(?:all\s+)?(\d{1,3})\s*reps?\b"
                          r"(?!\s*(?:left|in reserve|in the tank))")
_EACH_RE = re.compile(r"\b(\d{1,3})\s*(?:reps? )?(?:each|a|per) (?:leg|side)\b")
_ROUNDS_RE = re.compile(r"\b(\d{1,2})\s*(?:rounds|sets)\b")
_X_RE = re.compile(r"(?<![\w.])x\s?(\d{1,3})\b")  # "air squats x20 x3", "20s each side x3"
# What the rest of the session was like ("rest of it was fine") is not about the exercise named before it.
_THE_REST_RE = re.compile(r"\s*(?:the )?(?:rest|everything else|all else|otherwise|others?\b|the other)")
_LOAD_RE = re.compile(r"(\d{1,3}(?:[.,]\d{1,2})?)\s*(kg|kgs|kilos?|kilograms?|lbs?|pounds?)\b")
_PAIN_RE = re.compile(r"(?<!rpe )\b(\d{1,3})\s*(?:/|out of)\s*10\b(?!\s*(?:effort|rpe|intensity|exertion))"
                      r"|\bpain (?:of |at |was |level )?(\d{1,2})\b")
_NO_PAIN_RE = re.compile(r"\bno (?:\w+ )?pain\b|\bpain[- ]free\b|\bnothing hurt\w*|\bdidn't hurt\b|\bzero pain\b")
_TODAY_RE = re.compile(r"\b(?:today|tonight|this (?:morning|afternoon|evening)|earlier)\b|\btoday's\b")
_YESTERDAY_RE = re.compile(r"\b(?:yesterday|last night)\b")
_ISO_RE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
_NTH_RE = re.compile(r"\b(?:on )?the (\d{1,2})(?:st|nd|rd|th)\b|\b(\d{1,2})(?:st|nd|rd|th) (?:of )?(?:dec|nov)\w*\b"
                     r"|\b(?:mon|tue|wed|thu|fri|sat|sun)\w* (\d{1,2})(?:st|nd|rd|th)\b")
_ALL_RE = re.compile(r"\b(?:all|everything|both|each one|every exercise)\b")
_ASKS_RE = re.compile(r"(?:should|can|could|would|will|is|are|do|does|how|what|why|when|which|where|what's)\b")
_SHARP_RE = re.compile(r"\b(?:sharp|stabbing|shooting)\b")
_FUZZY_WORD_RE = re.compile(r"[a-z][a-z'-]+")
_OWN_DAY_RE = re.compile(r"\b(?:mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun)(?:day|nesday|sday|urday)?'s\b"
                         r"|\b(?:today|tonight|yesterday)'s\b")
_NEGATION_RE = re.compile(r"\b(?:not|no|never|nothing|without)\b|n't\b")
_NEGATED_BEFORE_RE = re.compile(r"(?:\b(?:not|never|no)|n'?t)\s+(?:\w+\s+)?$")


def _normalise(text: str) -> str:
    text = text.lower()
    for fancy, plain in (("’", "'"), ("‘", "'"), ("–", "-"), ("—", " - "), ("“", '"'), ("”", '"')):
        text = text.replace(fancy, plain)
    return alpha2digit(intake.vocabulary().normalise(text), "en")


@dataclass
class _Mention:
    exercise: str
    start: int
    end: int
    fuzzy: float = 0.0  # the close-spelling score (0-1) when the name was not written as listed


@dataclass
class _Clause:
    text: str
    start: int
    mentions: list[_Mention] = field(default_factory=list)


def _mentions(lex: Lexicon, text: str) -> list[_Mention]:
    """Exercise names in the text: exact names first, then close spellings of the words left over."""
    found = [_Mention(lex.names[m.group(1)], m.start(), m.end()) for m in lex.names_re.finditer(text)]
    starts = [m.start for m in found]  # sorted, not overlapping (one finditer)
    words = []
    for m in _FUZZY_WORD_RE.finditer(text):
        k = bisect.bisect_right(starts, m.start()) - 1
        if k < 0 or m.start() >= found[k].end:
            words.append((m.start(), m.end(), m.group()))
    # Every window of 1-3 adjacent words scored against every name in one call (rapidfuzz's cdist, in C):
    # a long message costs one matrix, not a Python loop over names per window.
    windows: dict[tuple[int, int], str] = {}
    # joined[k]: words k and k+1 are next to each other (a name's words are: not across a comma or a number)
    joined = [not text[a[1]:b[0]].strip(" -") for a, b in itertools.pairwise(words)]
    for k in range(len(words)):
        for size in (3, 2, 1):
            window = words[k:k + size]
            if len(window) < size or not all(joined[k:k + size - 1]):
                continue
            phrase = " ".join(w for _, _, w in window)
            if len(phrase) >= 5:
                windows[(k, size)] = phrase
    phrases = sorted({p.rstrip("s") for p in windows.values()})
    names = lex.fuzzy_names
    best: dict[str, tuple[str, float]] = {}
    if phrases and names:
        scores = process.cdist(phrases, names, scorer=fuzz.ratio, score_cutoff=84, workers=1)
        for row, phrase in enumerate(phrases):
            column = int(scores[row].argmax())
            best[phrase] = (names[column], float(scores[row, column]))
    k = 0
    while k < len(words):
        hit = None
        for size in (3, 2, 1):
            phrase = windows.get((k, size))
            if phrase is None:
                continue
            name, score = best.get(phrase.rstrip("s"), ("", 0.0))
            if score >= (88 if len(phrase) < 8 else 84):
                hit = (size, name, score / 100)
                break
        if hit:
            size, name, ratio = hit
            found.append(_Mention(lex.names[name], words[k][0], words[k + size - 1][1], fuzzy=ratio))
            k += size
        else:
            k += 1
    found.sort(key=lambda m: m.start)
    out: list[_Mention] = []
    for mention in found:  # the same exercise named twice in a row is one mention
        if not out or out[-1].exercise != mention.exercise or mention.start - out[-1].end > 40:
            out.append(mention)
    return out


def _clauses(text: str, mentions: list[_Mention]) -> list[_Clause]:
    clauses, start = [], 0
    for m in _SPLIT_RE.finditer(text):
        if m.start() > start:
            clauses.append(_Clause(text[start:m.start()], start))
        start = m.end()
    if start < len(text):
        clauses.append(_Clause(text[start:], start))
    starts = [clause.start for clause in clauses]
    for mention in mentions:  # each name to the clause it starts in (none when it starts on a separator)
        k = bisect.bisect_right(starts, mention.start) - 1
        if k >= 0 and mention.start < clauses[k].start + len(clauses[k].text):
            clauses[k].mentions.append(mention)
    return clauses


def _feel(lex: Lexicon, text: str) -> str | None:
    feels = lex.words.feel
    hits = [(m.start(), name) for name, patterns in (("ok", feels.ok), ("hard", feels.hard), ("easy", feels.easy))
            if (m := lex.any(patterns, text))]
    return min(hits)[1] if hits else None


def _facts(lex: Lexicon, text: str) -> dict[str, Any]:
    """The facts of one exercise's part of a clause: sets x reps, load, effort, whether every rep was done, pain."""
    facts: dict[str, Any] = {}
    sets = _SETS_RE.search(text) or _SETS_OF_RE.search(text)
    if sets:
        facts["sets"], facts["reps"] = int(sets.group(1)), int(sets.group(2))
    only = _ONLY_RE.search(text)
    got = _GOT_REPS_RE.search(text)
    if got and "reps" not in facts:
        facts["reps"] = int(got.group(1))
    times = _X_RE.findall(text)
    if "sets" not in facts and len(times) == 2:
        facts["reps"], facts["sets"] = int(times[0]), int(times[1])
    elif "sets" not in facts and len(times) == 1 and (_HOLD_RE.search(text) or "reps" in facts or re.search(
            r"\b\d{1,3}\s*(?:reps?|each|a side|per side)\b", text)):
        facts["sets"] = int(times[0])
    if only:
        facts["reps"] = int(only.group(1))
    hold = _HOLD_RE.search(text)
    if hold and "reps" not in facts:
        facts["reps"] = int(hold.group(1))
    each = _EACH_RE.search(text)  # "10 each leg", "3 rounds"
    if each and "reps" not in facts:
        facts["reps"] = int(each.group(1))
    rounds = _ROUNDS_RE.search(text)
    if rounds and "sets" not in facts:
        facts["sets"] = int(rounds.group(1))
    load = _LOAD_RE.search(text)
    if load:
        amount = float(load.group(1).replace(",", "."))
        unit = "lb" if load.group(2).startswith(("lb", "pound")) else "kg"
        facts["load_kg"], facts["load_unit"] = round(amount / LB_PER_KG if unit == "lb" else amount, 2), unit
    hit = lex.words.hit
    no, yes = lex.any(hit.says_no, text), lex.any(hit.says_yes, text)
    if no or yes:
        facts["hit"] = not no
    if only:
        facts["hit"] = False
    feel = _feel(lex, _without_lingering(lex, _PAIN_RE.sub(" ", text)))  # "fine by morning" is about the pain
    if feel:
        facts["feel"] = feel
    pain = _PAIN_RE.search(text)
    if pain:
        facts["pain"] = int(pain.group(1) or pain.group(2))
    return facts


def _without_lingering(lex: Lexicon, text: str) -> str:
    """The text with what it says about pain the next morning blanked (same length, so positions hold)."""
    if not lex.any(lex.words.lingering.says_no + lex.words.lingering.says_yes, text):
        return text  # most clauses say nothing about the next morning: one scan decides
    for patterns in (lex.words.lingering.says_no, lex.words.lingering.says_yes):
        for pattern in _cached(tuple(patterns)):
            text = pattern.sub(lambda m: " " * len(m.group()), text)
    return text


def _add(read: ExerciseRead, facts: dict[str, Any], origins: dict[tuple[str, str], str] | None = None,
         origin: str = "own") -> None:
    """Facts for an exercise, keeping what was read first (and, in `origins`, where each fact came from)."""
    for key, value in facts.items():
        if getattr(read, key) is None:
            setattr(read, key, value)
            if origins is not None:
                origins[(read.exercise, key)] = origin


def _segments(clause: _Clause) -> list[tuple[_Mention, str]]:
    """Each exercise's part of a clause: from its name to the next one; words before the first go to the first.

    A part with no facts of its own that is joined to the next by 'and' shares the next one's ("dead bugs and
    glute bridges both easy").
    """
    text, parts = clause.text, []
    marks = clause.mentions
    for k, mention in enumerate(marks):
        begin = 0 if k == 0 else marks[k].start - clause.start
        end = marks[k + 1].start - clause.start if k + 1 < len(marks) else len(text)
        parts.append((mention, text[begin:end]))
    return parts


def _day_named(lex: Lexicon, text: str, clauses: list[_Clause], today: dt.date) -> tuple[dt.date | None, list[str]]:
    """The day the message names: a weekday (the latest one up to today), today, yesterday or a date."""
    problems: list[str] = []
    candidates: list[tuple[int, dt.date, bool]] = []
    for clause in clauses:
        days = intake.read_days(clause.text)
        if days:
            words = [(m.start(), d) for d in days for m in re.finditer(rf"\b{d}\w*", clause.text)]
            first = min(words)[1] if words else days[0]
            back = (today.weekday() - DAYS.index(first)) % 7
            if re.search(rf"\b(?:next|this coming|coming)\s+{first}", clause.text):
                problems.append(f"{first.capitalize()}'s session is still ahead; check it in once it's done.")
            at = min(words)[0] if words else 0
            # "the long run on sunday felt heavy after thursday's session": the session's day is the one
            # the session words follow, or the one named as the session's own ("half of tuesday's")
            for start, day in sorted(words):
                if lex.any(lex.words.session, clause.text[start: start + 25]) or re.match(
                        r"\w*'s\b", clause.text[start + len(day):]):
                    at, back, first = start - 1000, (today.weekday() - DAYS.index(day)) % 7, day
                    break
            if re.search(rf"\b{first}\w* (?:before last|last week)|\blast week'?s? {first}", clause.text) or (
                    back == 0 and re.search(rf"\blast {first}", clause.text)):  # "last thursday" on a Thursday
                back += 7
            candidates.append((clause.start + at, today - dt.timedelta(days=back), True))
    plain = _without_lingering(lex, text)  # "still sore this morning" isn't the session's day
    for regex, date in ((_TODAY_RE, today), (_YESTERDAY_RE, today - dt.timedelta(days=1))):
        m = regex.search(plain)
        if m is None:
            continue
        after = lex.any(lex.words.session, text[m.end(): m.end() + 20])
        tied = (after is not None and after.start() <= 8) or text[m.end():m.end() + 2] == "'s"  # "today's session"
        if tied or not lex.any(lex.words.run.after, text[max(0, m.start() - 25): m.end() + 5]):
            candidates.append((m.start() - (1000 if tied else 0), date, tied))
    m = _ISO_RE.search(text)
    if m:
        try:
            candidates.append((m.start() - 2000, dt.date(int(m[1]), int(m[2]), int(m[3])), True))
        except ValueError:
            problems.append(f"'{m.group()}' isn't a date I can read. Use a day like tuesday, or 2026-12-01.")
    m = _NTH_RE.search(text)
    if m:
        number = int(m.group(1) or m.group(2) or m.group(3))
        try:
            day = today.replace(day=number)
            if day > today:
                day = (today.replace(day=1) - dt.timedelta(days=1)).replace(day=number)
            candidates.append((m.start() - 2000, day, True))  # "tues 24th": the date is the more precise
        except ValueError:
            pass
    named = [c for c in candidates if c[2]] or candidates  # a weekday or a date before "today" ("sore today
    return (min(named)[1] if named else None), problems  # from tuesday's session" is about Tuesday)


_DISTANCE_RE = re.compile(r"\b(\d{1,3}(?:[.,]\d)?)\s*(km|kms|k|kilomet\w*|mi|miles?)\b")


def _weekly(lex: Lexicon, text: str) -> tuple[float, str] | None:
    """A weekly mileage update: a distance and words that make it this week's, not the usual in a profile."""
    said = lex.any(lex.words.weekly, text)
    if not said:
        return None
    found, _ = intake.read_mileage(text, loose=True)
    distances = [(abs(m.start() - said.start()), m) for m in _DISTANCE_RE.finditer(text)]
    if found and len(distances) > 1:
        # "ran 10k today, that's 38k for the week": of several distances, the week's is the one in the sentence
        # of the weekly words, nearest them ("the odd 10k. this week: ..." names none)
        singles = {}
        for _, m in distances:
            try:
                singles[m.start()] = parse_mileage(f"{m.group(1)}{m.group(2)}")
            except MileageError:
                continue
        if found in singles.values():
            same = [(gap, m) for gap, m in distances if not re.search(
                r"[.!?\n]", text[min(m.end(), said.start()):max(m.start(), said.end())])]
            if not same:
                return None
            return singles.get(min(same, key=lambda item: item[0])[1].start(), found)
    if found:
        return found
    m = re.search(r"\b(\d{1,3}(?:[.,]\d)?)\s*(km|kms|k|kilomet\w*|mi|miles?)\b", text)
    amount, unit = (m.group(1), m.group(2)) if m else (None, None)
    if m is None:  # "miles this week: 31"
        m = re.search(r"\b(km|kms|kilomet\w*|mi|miles?)\b[^\d]{0,15}?(\d{1,3}(?:[.,]\d)?)\b", text)
        if m is None:
            return None
        amount, unit = m.group(2), m.group(1)
    try:
        return parse_mileage(f"{amount}{unit}")
    except MileageError:
        return None


def read_checkin(text: str, today: dt.date, rules_dir: Path | None = None) -> CheckinReading:
    """Read a chat message as a check-in; kind 'other' for questions, profiles, small talk and run-only reports.

    Fields the confidence gate (rules/checkin_confidence.yaml) is unsure of are left out: the confirm step
    shows the rest and the member adds what is missing, rather than the reader guessing.
    """
    reading, evidence = read_with_evidence(text, today, rules_dir)
    return gate(reading, evidence)


def read_with_evidence(text: str, today: dt.date, rules_dir: Path | None = None
                       ) -> tuple[CheckinReading, dict[str, dict[str, float]]]:
    """Everything the reader finds, before the confidence gate, and the evidence for each read (see `gate`)."""
    lex = lexicon(rules_dir)
    words = lex.words
    norm = _normalise(str(text or "")[:MAX_CHARS])
    reading = CheckinReading()
    evidence: dict[str, dict[str, float]] = {}
    if not norm.strip():
        return reading, evidence
    mentions = _mentions(lex, norm)
    clauses = _clauses(norm, mentions)
    # A session named as a day's ("did tuesday's", "got today's done") or a bare "done" is about strength too.
    strength = bool(mentions) or bool(lex.any(words.session, norm)) or bool(_OWN_DAY_RE.search(norm)) or bool(
        re.match(r"\W*(?:done|did it|did the lot)\b(?! with)", norm))
    run_report = bool(lex.any(words.run.words, norm))
    question = bool(lex.any(words.question, norm.strip()))

    # Exercises, each with the facts of its own part of its clause; a clause naming no exercise, day or session
    # adds to the exercise before it ("goblet squats 3x8 @ 16kg, felt ok").
    reads: dict[str, ExerciseRead] = {}
    origins: dict[tuple[str, str], str] = {}  # (exercise, fact) -> where the fact was read: the gate weighs it
    pending: list[str] = []
    last: str | None = None
    for clause in clauses:
        parts = _segments(clause)
        if not parts:
            if reads and _ALL_RE.search(clause.text):  # "..., all felt ok": every exercise named
                facts = {k: v for k, v in _facts(lex, clause.text).items() if k in ("feel", "hit")}
                for read in reads.values():
                    _add(read, facts, origins, "all")
            elif last is not None and not _THE_REST_RE.match(clause.text) and not lex.any(words.session, clause.text) \
                    and not intake.read_days(clause.text) and not lex.any(words.run.words, clause.text):
                _add(reads[last], _facts(lex, clause.text), origins, "after")
            continue
        for index, (mention, part) in enumerate(parts):
            facts = _facts(lex, part)
            read = reads.setdefault(mention.exercise, ExerciseRead(exercise=mention.exercise))
            _add(read, facts, origins, "own" if index else "first")
            last = mention.exercise
            if facts:
                for earlier in pending:  # "dead bugs and glute bridges both easy": the facts are shared
                    _add(reads[earlier], {k: v for k, v in facts.items() if k in ("feel", "hit")}, origins, "shared")
                pending = []
            elif re.search(r"\b(?:and|&|\+)\s*$", part):
                pending.append(mention.exercise)
            else:
                pending = []
    for mention in _left_out(lex, norm, mentions):  # "skipped the side planks", "nordics ... stopped there"
        if reads[mention.exercise].hit is None:
            reads[mention.exercise].hit = False
            origins[(mention.exercise, "hit")] = "left-out"
    reading.exercises = list(reads.values())

    # The session as a whole.
    pains = [int(m.group(1) or m.group(2)) for m in _PAIN_RE.finditer(norm)]
    pains = [p for p in pains if p <= 10] or pains
    if pains:
        reading.pain = max(pains)
        if len(reading.exercises) == 1 and reading.exercises[0].pain is None and len(pains) == 1 and pains[0]:
            reading.exercises[0].pain = pains[0]
    elif no_pain := _NO_PAIN_RE.search(norm):
        reading.pain = 0
        said_in = next((c for c in clauses if c.start <= no_pain.start() < c.start + len(c.text)), None)
        if len(reading.exercises) == 1 and reading.exercises[0].pain is None and said_in and said_in.mentions:
            reading.exercises[0].pain = 0  # "knee didn't hurt once during the lunges": that exercise's pain
    body = norm  # body parts are read with the exercise names blanked ("calf raises" is no calf niggle)
    for mention in reversed(mentions):
        body = body[:mention.start] + " " * (mention.end - mention.start) + body[mention.end:]
    singular = re.sub(r"\b(\w{4,}[^s'])s\b", r"\1", body)  # "hamstrings", "knees": the profile reader's words
    niggles = intake.read_niggles(body) or intake.read_niggles(singular) or []
    if not niggles and (pains or _SHARP_RE.search(norm) or lex.any(words.pain, body)):
        niggles = [n for n, pattern in intake.NIGGLE_PATTERNS.items()
                   if re.search(pattern, body) or re.search(pattern, singular)]
    if reading.pain == 0 and not _SHARP_RE.search(norm):
        niggles = []  # "no achilles pain this time": where it did not hurt is no niggle to log
    reading.pain_where = Niggle(niggles[0]) if niggles else None
    if _SHARP_RE.search(norm):
        reading.sharp = intake.read_sharp_pain(norm)
    if (reading.pain or reading.pain_where is not None or reading.sharp) and not (
            reading.pain == 0 and not reading.sharp):  # no pain at all: nothing to linger
        no, yes = lex.any(words.lingering.says_no, norm), lex.any(words.lingering.says_yes, norm)
        if no or yes:
            reading.lingering = not no
    status, status_source = _status(lex, norm, clauses)
    weekly = _weekly(lex, norm)
    if weekly:
        reading.weekly_km, reading.weekly_unit = weekly
    tied_run = run_report and status != "skipped" and (lex.any(words.session, norm) or lex.any(words.run.after, norm))
    if tied_run:
        reading.next_run = _run_feel(lex, norm, clauses)
    if run_report and not strength and not reading.next_run:
        status = None  # "did 10k easy", "intervals went well": a run report, not a session
    reading.status = status
    reading.day, reading.problems = _day_named(lex, norm, clauses, today)
    if reading.weekly_km is not None and not strength and reading.status is None:
        reading.day = None  # "mon 8k, wed 10k, sat 20k this week": days of runs, not of a session

    said = (reading.status or reading.exercises or reading.pain is not None or reading.weekly_km is not None
            or reading.next_run or reading.sharp or reading.pain_where)
    numbers = any(e.sets or e.reps or e.load_kg or e.pain is not None or e.hit is not None for e in reading.exercises)
    whole = _facts(lex, norm)
    logged = numbers or "sets" in whole or "load_kg" in whole
    if question and not (reading.status or logged or pains or any(e.feel for e in reading.exercises)):
        said = None  # a question about an exercise or a pain is for the FAQ
    if _ASKS_RE.match(norm.strip()) and (not reading.status or norm.strip().endswith("?")):
        said = logged = None  # "is 3/10 pain ok to train through?", "what did I do last week?"
    if lex.any(words.history, norm) and not (logged or pains or reading.day):
        said = None  # "I did strength training for years": a profile, not a session
    felt = any(e.feel for e in reading.exercises)
    session_felt = ((strength or intake.read_days(norm)) and not question  # "tuesday's session was a struggle"
                    and _feel(lex, norm) is not None)
    if not (said or logged or session_felt) or (run_report and not strength and reading.weekly_km is None
                                                 and not reading.next_run):
        return CheckinReading(kind="other"), {}
    if not (reading.status or logged or felt or reading.pain is not None or reading.weekly_km or reading.next_run
            or reading.sharp or session_felt
            or (reading.pain_where and (strength or reading.day or reading.lingering is not None))):
        return CheckinReading(kind="other"), {}  # "should I do squats" without a report
    reading.kind = "checkin"
    shared = {"chars": min(len(norm), 1000) / 200, "clauses": min(len(clauses), 20) / 5, "question": float(question),
              "exercises": len(reading.exercises) / 3, "run": float(run_report),
              "negation": float(bool(_NEGATION_RE.search(norm))), "days": len(intake.read_days(norm)) / 2}
    evidence = _evidence(lex, norm, reading, mentions, origins, status_source, pains, niggles)
    for found in evidence.values():
        for key, number in shared.items():
            found.setdefault(key, number)
    return reading, evidence


def _status(lex: Lexicon, norm: str, clauses: list[_Clause]) -> tuple[str | None, str]:
    """done, partly or skipped, and which rule said so; skipping one exercise of a done session is 'partly'.

    When several sessions are reported ("tue: done. thu: skipped"), the first day named with its own
    status word decides.
    """
    named = [c for c in clauses if intake.read_days(c.text)]
    if len({day for c in named for day in intake.read_days(c.text)}) > 1:
        for clause in named:
            following = next((c for c in clauses if c.start > clause.start), None)
            own = clause.text + (" " + following.text if following and not intake.read_days(following.text) else "")
            found, source = _status_of(lex, own, [clause])
            if found:
                return found, "several-days:" + source
    return _status_of(lex, norm, clauses)


def _negated(text: str, match: re.Match[str] | None) -> bool:
    """A status word with a negation just before it ("didn't skip anything", "never missed")."""
    return match is not None and bool(_NEGATED_BEFORE_RE.search(text[max(0, match.start() - 16):match.start()]))


def _status_of(lex: Lexicon, norm: str, clauses: list[_Clause]) -> tuple[str | None, str]:
    """The status words of one text (partly first, then skipped, then done), and which rule decided."""
    status = lex.words.status
    if lex.any(status.partly, norm):
        return "partly", "partly-words"
    only = re.search(r"\b(?:only|just) (?:did|managed|got through|got to|had time for)\b", norm)
    if only and any(m.start - only.end() < 12 and m.start >= only.end() for c in clauses for m in c.mentions):
        return "partly", "only-did"  # "only did the squats and bridges"
    skipped = lex.any(status.skipped, norm)
    done = lex.any(status.done, norm)
    if _negated(norm, skipped):
        return ("done", "negated-skip") if done or not re.search(r"\bskip|\bmiss", norm[skipped.end():]) else (
            None, "negated-skip")
    clause = next((c for c in clauses if c.start <= skipped.start() < c.start + len(c.text)), None) if skipped else None
    if skipped and done:
        if clause is not None and clause.mentions:
            return "partly", "skipped-exercise-and-done"
        # "did the strength bits but skipped the plyo stuff": what was skipped is a part, not a session or day
        what = norm[skipped.end():skipped.end() + 25]
        whole = lex.any(lex.words.session, what) or intake.read_days(what) or re.match(r"\W*(?:it|today|all)\b", what)
        return ("skipped", "skipped-and-done") if whole or done.start() > skipped.start() else (
            "partly", "skipped-part-and-done")
    if clause is not None and clause.mentions and not lex.any(status.done + lex.words.session, norm) \
            and not intake.read_days(norm):
        return "partly", "skipped-exercise"  # "couldn't do the side planks": one exercise left out of a session
    verb = done is not None and not re.match(r"(?:done|complete|got it done)\b", done.group())  # not "done - rdls"
    about = [m for c in clauses for m in c.mentions if verb and 0 <= m.start - done.end() <= 30
             and not re.search(r"[.!?;\n]", norm[done.end():m.start])]
    if done and not skipped and about and not (
            lex.any(lex.words.session, norm) or _OWN_DAY_RE.search(norm) or intake.read_days(norm)):
        # "did the wall calf holds 3x45s": a report on exercises, not on the session (which the check-in then
        # takes as done, see CheckinReading.to_checkin)
        return None, "done-exercise"
    return ("skipped", "skipped-words") if skipped else ("done", "done-words") if done else (None, "none")


def _left_out(lex: Lexicon, norm: str, mentions: list[_Mention]) -> list[_Mention]:
    """The exercises named as left out or stopped: their reps were not all done.

    A `left_out` phrase covers the names after it in its sentence, up to 45 characters on, unless a word for
    doing comes between ("skipped the lunges but did the squats"); a `stopped` phrase covers the last name
    before it in its sentence ("foot pain on the pogos so i stopped them").
    """
    words = lex.words
    out = []
    for k, mention in enumerate(mentions):
        before = re.split(r"[.!?;\n]", norm[max(0, mention.start - 45):mention.start])[-1]
        said = list(_joined(tuple(words.left_out)).finditer(before))
        if said and not lex.any(words.status.done, before[said[-1].end():]):
            out.append(mention)
            continue
        end = mentions[k + 1].start if k + 1 < len(mentions) else len(norm)
        after = norm[mention.end:end]
        sentence_end = re.search(r"[.!?;\n]\s*[a-z]", after)
        stopped = lex.any(words.stopped, after)
        if stopped and (sentence_end is None or stopped.start() < sentence_end.start() + 40):
            out.append(mention)
    return out


def _run_feel(lex: Lexicon, norm: str, clauses: list[_Clause]) -> str | None:
    """How the run after the session felt: from the clause naming the run, or the one after it naming no exercise.

    "then ran 8k after work, legs were dead": the feel is in the clause after the run's.
    """
    run = lex.words.run
    for k, clause in enumerate(clauses):
        if lex.any(run.words, clause.text):
            following = clauses[k + 1: k + 2]
            for text in [clause.text] + [c.text for c in following if not c.mentions]:
                for name, patterns in (("ok", run.ok), ("bad", run.bad), ("good", run.good)):
                    if lex.any(patterns, text):
                        return name
    return None


# --------------------------------------------------------------------------------------------
# The confidence gate
#
# Each read (the status, the day, the pain, each exercise named and each fact about it) comes with evidence:
# which rule found it, whether a name was spelt as listed or only close, where an exercise's fact was read
# (its own words, the clause after it, shared with "both"), how long the message is, whether it negates. A
# logistic model per kind of read, fitted on the labelled messages (`python -m bot.checkin_reader
# --calibrate`, the chat reader's fitting: bot/commands/parse.py `fit_gate`), turns the evidence into the
# probability that the read is right; a read below its threshold is left out, so the confirm step shows
# less rather than something wrong. The same logistic form as the chat reader's (bot/intake.py
# `field_confidence`).

CONFIDENCE_FILE = "checkin_confidence.yaml"
SESSION_FIELDS = ("status", "day", "pain", "pain_where", "lingering", "sharp", "next_run", "weekly")
EXERCISE_FACTS = ("hit", "feel", "load_kg", "reps", "sets", "pain")
_INSTANCE_RE = re.compile(r"\[\d+\]")


def _evidence(lex: Lexicon, norm: str, reading: CheckinReading, mentions: list[_Mention],
              origins: dict[tuple[str, str], str], status_source: str, pains: list[int], niggles: list[str]
              ) -> dict[str, dict[str, float]]:
    """The evidence for each read, keyed like the gate's reads: 'status', 'exercises[0]', 'exercises[0].feel'."""
    out: dict[str, dict[str, float]] = {}
    if reading.status is not None:
        out["status"] = {f"source={status_source}": 1.0, f"value={reading.status}": 1.0,
                         "session_named": float(bool(lex.any(lex.words.session, norm) or _OWN_DAY_RE.search(norm)
                                                     or intake.read_days(norm) or _TODAY_RE.search(norm))),
                         "logged": float(any(e.sets or e.reps or e.load_kg or e.hit is not None
                                             for e in reading.exercises))}
    # The day is not gated: a day left out would be guessed (the latest session), not asked.
    if reading.pain is not None:
        out["pain"] = {"numbers": len(pains) / 2, "source=" + ("number" if pains else "no-pain-words"): 1.0}
    if reading.pain_where is not None:
        out["pain_where"] = {"niggles": len(niggles) / 2, "pain_number": float(bool(pains)),
                             "no_pain": float(bool(_NO_PAIN_RE.search(norm) or re.search(r"\bno \w+ pain", norm))),
                             f"value={reading.pain_where.value}": 1.0}
    if reading.lingering is not None:
        both = lex.any(lex.words.lingering.says_no, norm) and lex.any(lex.words.lingering.says_yes, norm)
        out["lingering"] = {f"value={reading.lingering}": 1.0, "both": float(bool(both))}
    if reading.sharp is not None:
        out["sharp"] = {f"value={reading.sharp}": 1.0}
    if reading.next_run is not None:
        out["next_run"] = {f"value={reading.next_run}": 1.0}
    if reading.weekly_km is not None:
        out["weekly"] = {f"unit={reading.weekly_unit}": 1.0, "status": float(reading.status is not None)}
    hold = float(bool(_HOLD_RE.search(norm)))
    for index, read in enumerate(reading.exercises):
        named = [m for m in mentions if m.exercise == read.exercise]
        first = named[0]
        said = norm[first.start:first.end]
        out[f"exercises[{index}]"] = {"fuzzy": first.fuzzy, "exact": float(not first.fuzzy),
                                      "one_word": float(" " not in said.strip()), "mentions": len(named) / 2}
        for fact in EXERCISE_FACTS:
            value = getattr(read, fact)
            if value is None:
                continue
            found = {f"origin={origins.get((read.exercise, fact), 'own')}": 1.0, "fuzzy": first.fuzzy,
                     "hold": hold}
            if isinstance(value, bool | str):
                found[f"value={value}"] = 1.0
            out[f"exercises[{index}].{fact}"] = found
    return out


class GateModel(BaseModel):
    """One kind of read's fitted model: the logistic intercept and weights, and the threshold it must reach."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    intercept: float
    weights: dict[str, float] = Field(default_factory=dict)
    threshold: float = Field(ge=0, le=1)
    reads: int | None = None  # how many reads it was fitted on, and how many of them were right
    right: int | None = None


class GateFile(BaseModel):
    """rules/checkin_confidence.yaml."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    silent_cost: float = Field(gt=0)
    fields: dict[str, GateModel]


@functools.lru_cache(maxsize=4)
def confidence_model(rules_dir: Path | None = None) -> dict[str, Any]:
    """Per kind of read: intercept, weights by evidence name, threshold ({} when the file is absent)."""
    return load_confidence(rules_dir or get_settings().rules_dir)


def load_confidence(rules_dir: Path) -> dict[str, Any]:
    """rules/checkin_confidence.yaml validated (file, line and field in every error); {} when absent.

    load_lexicon checks it too, so a hand edit gone wrong is reported by `python -m bot rules check`, not
    met halfway through reading a member's message.
    """
    path = rules_dir / CONFIDENCE_FILE
    if not path.exists():
        return {}
    data, node = read_yaml(path)
    try:
        gate_file = GateFile.model_validate(data)
    except ValidationError as exc:
        raise DataFileError(describe_errors(exc, str(path), node, [], label="check-in confidence gate")) from None
    return {name: model.model_dump() for name, model in gate_file.fields.items()}


def gate(reading: CheckinReading, evidence: dict[str, dict[str, float]],
         models: dict[str, Any] | None = None) -> CheckinReading:
    """The reading with every read the gate is unsure of left out (an unsure exercise with all its facts)."""
    models = confidence_model() if models is None else models
    if reading.kind != "checkin" or not models:
        return reading
    kept = reading.model_copy(deep=True)
    confidence: dict[str, float] = {}
    dropped: set[str] = set()
    for key, found in evidence.items():
        model = models.get(_INSTANCE_RE.sub("", key))
        if model is None:
            continue
        confidence[key] = round(intake.field_confidence(model, found), 3)
        if confidence[key] < float(model.get("threshold", 0.0)):
            dropped.add(key)
    for name in SESSION_FIELDS:
        if name in dropped:
            if name == "weekly":
                kept.weekly_km = kept.weekly_unit = None
            else:
                setattr(kept, name, None)
    exercises = []
    for index, read in enumerate(kept.exercises):
        if f"exercises[{index}]" in dropped:
            continue
        for fact in EXERCISE_FACTS:
            if f"exercises[{index}].{fact}" in dropped:
                setattr(read, fact, None)
                if fact == "load_kg":
                    read.load_unit = None
        exercises.append(read)
    kept.exercises = exercises
    kept.confidence = confidence
    return kept


def outcomes(reading: CheckinReading, expect: dict[str, Any], today: dt.date) -> dict[str, bool]:
    """Whether each read of `reading` (before the gate) was right, for the reads its label can judge."""
    got = reading.labels(today)
    out: dict[str, bool] = {}
    for name in SESSION_FIELDS:
        if name not in got:
            continue
        if name == "day":
            if "day" in expect:
                out[name] = _as_day(expect["day"], today) == reading.day
        elif name == "weekly":
            want = str(expect.get("weekly")).replace(" ", "").lower() if "weekly" in expect else None
            out[name] = want == str(got[name]).replace(" ", "").lower()
        else:
            out[name] = expect.get(name) == got[name]
    want = _norm_exercises(expect.get("exercises"))
    for index, read in enumerate(got.get("exercises", [])):
        listed = want.get(read["exercise"])
        out[f"exercises[{index}]"] = listed is not None
        if listed is None:
            continue
        have = _norm_exercises([read])[read["exercise"]]
        for fact in EXERCISE_FACTS:
            label = "load" if fact == "load_kg" else fact
            if label in have:
                out[f"exercises[{index}].{fact}"] = listed.get(label) == have[label]
    return out


@dataclass
class _Labelled:
    """One labelled message read once, before the gate."""

    text: str
    expect: dict[str, Any]
    kind: str
    today: dt.date
    reading: CheckinReading
    evidence: dict[str, dict[str, float]]


def _labelled(paths: list[Path]) -> list[_Labelled]:
    out = []
    for path in paths:
        labelled = _load_labelled(path)
        for message in labelled.messages:
            reading, evidence = read_with_evidence(message.text, labelled.today)
            out.append(_Labelled(message.text, message.expect, message.kind, labelled.today, reading, evidence))
    return out


def fit_confidence(samples: list[_Labelled], silent_cost: float) -> dict[str, Any]:
    """Fit each kind of read's model and threshold with the chat reader's fitting (intake.fit_confidence_models)."""
    rows: dict[str, tuple[list[dict[str, float]], list[int]]] = {}  # per kind of read: evidence, read == expected
    for sample in samples:
        if sample.kind != "checkin" or sample.reading.kind != "checkin":
            continue
        for key, right in outcomes(sample.reading, sample.expect, sample.today).items():
            if key not in sample.evidence:
                continue
            xs, ys = rows.setdefault(_INSTANCE_RE.sub("", key), ([], []))
            xs.append(sample.evidence.get(key, {}))
            ys.append(int(bool(right)))
    return intake.fit_confidence_models(rows, silent_cost)


def cross_validated(samples: list[_Labelled], silent_cost: float, folds: int = 5) -> dict[str, Any]:
    """Fit the gate on all folds but one, score the held-out fold, for each fold: the pooled figures.

    `folds=0` scores the reader without any gate. 'wrong' counts, per field, the messages silently wrong in it.
    """
    from collections import Counter

    from bot.coach import Coach

    plan = Coach.load().plan(EVAL_PROFILE, EVAL_START)
    all_right = silent = 0
    wrong: Counter[str] = Counter()
    for fold in range(max(folds, 1)):
        models = fit_confidence([s for i, s in enumerate(samples) if i % folds != fold], silent_cost) if folds else {}
        for sample in samples[fold::max(folds, 1)]:
            reading = gate(sample.reading, sample.evidence, models) if models else sample.reading
            result = score(reading, sample.expect, sample.kind, sample.today, plan)
            all_right += all(v == "right" for v in result.values())
            silent += any(v == "wrong" for v in result.values())
            wrong.update(name for name, v in result.items() if v == "wrong")
    return {"all_right": all_right / len(samples), "silently_wrong": silent / len(samples), "wrong": dict(wrong)}


def write_confidence(models: dict[str, Any], path: Path, sources: list[Path], silent_cost: float) -> None:
    """Write the fitted gate as rules/checkin_confidence.yaml, with a header saying how it was made."""
    import yaml

    header = (
        "# The check-in reader's confidence gate (bot/checkin_reader.py `gate`): per kind of read, a logistic model\n"
        "# of 'this read is right' over the reader's evidence, and the probability below which the read is left out\n"
        "# (the member adds it at the confirm step). Written by `python -m bot.checkin_reader --calibrate` from\n"
        f"# {', '.join(str(p) for p in sources)} (a read silently wrong costs {silent_cost:g} left out).\n"
        "# Do not edit by hand: calibrate again.\n"
    )
    path.write_text(header + yaml.safe_dump({"silent_cost": silent_cost, "fields": models}, sort_keys=True),
                    encoding="utf-8")


# --------------------------------------------------------------------------------------------
# The evaluation: `python -m bot.checkin_reader --evaluate FILE`

EVAL_PROFILE = Profile(weekly_km=40, level="beginner", goals=["general"], days_per_week=2, long_run_day="sun",
                       equipment=["dumbbells"])
EVAL_START = dt.date(2026, 11, 23)
# The labelled messages the gate learns from: the dev set and the spent held-out set (now development data).
DEV_FILES = (Path("tests/data/checkin_labelled.yaml"), Path("tests/data/checkin_blind1.yaml"))
# A read silently wrong costs this many reads left out (the member adds those at the confirm step).
SILENT_COST = 4.0
FIELDS = ("kind", "status", "day", "exercises", "pain", "pain_where", "lingering", "sharp", "next_run", "weekly")


class LabelledFile(BaseModel):
    """A labelled file of chat check-ins: today's date and messages with what they should read as."""

    model_config = ConfigDict(extra="forbid")

    today: dt.date
    messages: list[LabelledMessage] = Field(min_length=1)


class LabelledMessage(BaseModel):
    """One labelled message."""

    model_config = ConfigDict(extra="forbid")

    text: str
    expect: dict[str, Any] = Field(default_factory=dict)
    kind: str = Field(pattern="^(checkin|other)$")


LabelledFile.model_rebuild()


def _as_day(value: Any, today: dt.date) -> dt.date | None:
    if value is None:
        return None
    if isinstance(value, dt.date):
        return value
    text = str(value).lower()[:3]
    if text in DAYS:
        return today - dt.timedelta(days=(today.weekday() - DAYS.index(text)) % 7)
    return dt.date.fromisoformat(str(value))


def _norm_exercises(items: list[dict[str, Any]] | None) -> dict[str, dict[str, Any]]:
    out = {}
    for item in items or []:
        values = {k: (str(v).replace(" ", "").lower() if k == "load" else v) for k, v in item.items()}
        out[str(item.get("exercise"))] = values
    return out


def score(reading: CheckinReading, expect: dict[str, Any], kind: str, today: dt.date,
          plan: Plan | None = None) -> dict[str, str]:
    """Each field: 'right', 'wrong' (read, but not as labelled: silently wrong), or 'missed' (not read)."""
    got = reading.labels(today) if reading.kind == "checkin" else {}
    result: dict[str, str] = {"kind": "right" if reading.kind == kind else "wrong"}
    if kind != "checkin" or reading.kind != "checkin":
        return result
    for name in FIELDS[1:]:
        want, have = expect.get(name), got.get(name)
        if name == "day":
            if want is None:
                continue  # a day the message doesn't name isn't labelled; the latest session is used
            want, have = _as_day(want, today), reading.session_day(plan, today) if plan else _as_day(have, today)
        if name == "exercises":
            want, have = _norm_exercises(want), _norm_exercises(have)
            want, have = want or None, have or None
        if name == "weekly":
            want = str(want).replace(" ", "").lower() if want is not None else None
            have = str(have).replace(" ", "").lower() if have is not None else None
        if want is None and have is None:
            continue
        result[name] = "right" if want == have else "missed" if have is None else "wrong"
        if name == "exercises" and want and have and want != have:
            missing_only = all(k in want and all(want[k].get(f) == v for f, v in have[k].items()) for k in have)
            result[name] = "missed" if missing_only else "wrong"
    return result


def _load_labelled(path: Path) -> LabelledFile:
    """A labelled file, validated (file, line and field in every error)."""
    data, node = read_yaml(path)
    try:
        return LabelledFile.model_validate(data)
    except ValidationError as exc:
        raise DataFileError(describe_errors(exc, str(path), node, [], label="labelled check-ins")) from None


def evaluate(path: Path, out: Any = sys.stdout) -> dict[str, float]:
    """Score the reader on a labelled file; print per-field and overall figures; return the overall ones."""
    labelled = _load_labelled(path)
    from bot.coach import Coach

    plan = Coach.load().plan(EVAL_PROFILE, EVAL_START)
    today = labelled.today
    all_right = silent = 0
    per_field: dict[str, list[str]] = {}
    failures: list[str] = []
    for message in labelled.messages:
        reading = read_checkin(message.text, today)
        result = score(reading, message.expect, message.kind, today, plan)
        for name, verdict in result.items():
            per_field.setdefault(name, []).append(verdict)
        if all(v == "right" for v in result.values()):
            all_right += 1
        else:
            wrong = [n for n, v in result.items() if v != "right"]
            failures.append(f"  {message.text[:70]!r}: {', '.join(f'{n} {result[n]}' for n in wrong)}"
                            f" (read {reading.labels(today) if reading.kind == 'checkin' else 'other'})")
        silent += any(v == "wrong" for v in result.values())
    n = len(labelled.messages)
    print(f"{n} messages: all fields right {100 * all_right / n:.1f}%, a field silently wrong {100 * silent / n:.1f}%",
          file=out)
    for name in FIELDS:
        verdicts = per_field.get(name, [])
        if verdicts:
            right = 100 * verdicts.count("right") / len(verdicts)
            print(f"  {name:<11} {len(verdicts):>4} labelled or read: right {right:5.1f}%"
                  f", wrong {verdicts.count('wrong')}, missed {verdicts.count('missed')}", file=out)
    if failures and getattr(out, "isatty", lambda: False)():
        print("not all right:", *failures, sep="\n", file=out)
    return {"all_right": all_right / n, "silently_wrong": silent / n, "failures": failures}  # type: ignore[dict-item]


def main(argv: list[str] | None = None) -> int:
    """`python -m bot.checkin_reader --evaluate FILE [--show]` or `python -m bot.checkin_reader TEXT`."""
    parser = argparse.ArgumentParser(prog="python -m bot.checkin_reader", description=__doc__.splitlines()[0])
    parser.add_argument("text", nargs="?", help="a message to read (today's date as today)")
    parser.add_argument("--evaluate", type=Path, metavar="FILE", help="score a labelled file")
    parser.add_argument("--show", action="store_true", help="with --evaluate, list the messages not all right")
    parser.add_argument("--calibrate", type=Path, nargs="*", metavar="FILE",
                        help=f"fit the confidence gate on labelled files (default: {', '.join(map(str, DEV_FILES))})"
                        f" and write rules/{CONFIDENCE_FILE}")
    parser.add_argument("--cv", type=Path, nargs="*", metavar="FILE",
                        help="print 5-fold cross-validated figures of the gate on labelled files")
    parser.add_argument("--silent-cost", type=float, default=SILENT_COST,
                        help=f"how many reads left out a read silently wrong costs (default {SILENT_COST:g})")
    args = parser.parse_args(argv)
    try:
        if args.calibrate is not None or args.cv is not None:
            if not 0 < args.silent_cost <= 100:
                print("--silent-cost must be a number above 0 and at most 100", file=sys.stderr)
                return 2
            sources = list(args.calibrate or args.cv or DEV_FILES)
            samples = _labelled(sources)
            if args.calibrate is not None:
                path = get_settings().rules_dir / CONFIDENCE_FILE
                write_confidence(fit_confidence(samples, args.silent_cost), path, sources, args.silent_cost)
                print(f"Wrote {path} from {len(samples)} messages.")
                return 0
            ungated = cross_validated(samples, args.silent_cost, folds=0)
            figures = cross_validated(samples, args.silent_cost)
            print(f"{len(samples)} messages. Without the gate: all fields right {ungated['all_right']:.1%}, "
                  f"a field silently wrong {ungated['silently_wrong']:.1%}")
            print(f"With the gate, 5-fold cross-validated: all fields right {figures['all_right']:.1%}, "
                  f"a field silently wrong {figures['silently_wrong']:.1%}")
            print("Messages silently wrong, by field (without / with the gate): " + ", ".join(
                f"{name} {ungated['wrong'].get(name, 0)}/{figures['wrong'].get(name, 0)}" for name in FIELDS))
            return 0
        if args.evaluate:
            figures = evaluate(args.evaluate)
            if args.show:
                print("not all right:", *figures["failures"], sep="\n")  # type: ignore[arg-type]
            return 0
        if args.text:
            reading = read_checkin(args.text, dt.date.today())
            print(reading.kind, reading.labels(dt.date.today()), *reading.problems)
            return 0
    except DataFileError as exc:
        print("\n".join(exc.problems), file=sys.stderr)
        return 2
    except (FileNotFoundError, IsADirectoryError, PermissionError) as exc:
        print(f"Can't read {exc.filename}: {exc.strerror}.", file=sys.stderr)
        return 2
    except CheckInError as exc:
        print(exc, file=sys.stderr)
        return 2
    parser.print_usage(sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
