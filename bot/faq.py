"""LegDay's FAQ: a validated knowledge base of short answers, and matching of free-text questions to it.

Matching in brief: a question is normalised (runner slang folded to one word, a light stemmer), each
word not in the knowledge base's vocabulary is corrected to its closest vocabulary word with rapidfuzz,
and every entry is scored on how much of the question's information (IDF-weighted words) it covers,
both over the entry's whole vocabulary and over its single closest phrasing. Words the knowledge base
has never seen count against a match, which is what makes "recommend a running watch" off-topic.
"""

from __future__ import annotations

import functools
import hashlib
import math
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml
from jinja2 import StrictUndefined, TemplateSyntaxError, meta
from jinja2.sandbox import ImmutableSandboxedEnvironment
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from rapidfuzz import fuzz, process, utils
from rapidfuzz.distance import OSA

from bot.config import get_settings
from bot.models import DAY_NAMES, DAYS, Profile
from bot.text import CONTENT_LIMIT, escape_user_text, neutralise_mentions, truncate

# Only the first characters of a question are matched: enough for any real question, and it keeps a
# pasted essay from costing more than a normal question.
MAX_QUESTION_CHARS = 300
# An answer is shown under its question's heading, so the answer alone must leave room for it.
ANSWER_LIMIT = 1700
AUTOCOMPLETE_LIMIT = 25
AUTOCOMPLETE_NAME_LIMIT = 100

# Calibrated on the dev half of tests/data/faq_labelled.yaml (see tests/test_faq.py), never on the
# test half that the accuracy figures are reported on.
ANSWER_THRESHOLD = 0.55
OFF_TOPIC_THRESHOLD = 0.35
# Matched weight below which a match counts as thin evidence (a rare word weighs about 3.4 with the
# shipped entries, a word in a third of them about 1.4).
_EVIDENCE_WEIGHT = 2.5
_PREFIX_CERTAINTY = 0.85
_TYPO_SIMILARITY = 0.79  # one edit in five letters is exactly 0.8; leave room for rounding

# The variables an answer template may use; each is None or empty when the member has no profile.
ANSWER_VARIABLES: dict[str, str] = {
    "has_profile": "true when the member has a profile",
    "level": "strength level: beginner, intermediate or advanced",
    "weekly_km": "weekly running distance in km (a number)",
    "weekly_mi": "weekly running distance in miles (a number)",
    "unit": "the unit the runner uses: km or mi",
    "mileage": "weekly distance as text in the runner's unit, e.g. '30 mi'",
    "goals": "list of goal ids, e.g. ['speed', 'hills']",
    "long_run_day": "long-run day as a short id, e.g. 'sun' (or None)",
    "long_run_day_name": "long-run day in full, e.g. 'Sunday' (or None)",
    "hard_days": "list of hard-run day ids, e.g. ['tue', 'thu']",
    "niggles": "list of niggle ids, e.g. ['achilles']",
}

MatchStatus = Literal["answer", "unsure", "off-topic"]


class FaqError(ValueError):
    """A FAQ file or entry that cannot be used; the message names the file, the entry and the field."""


# --------------------------------------------------------------------------------------------
# Entries


_ID_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


def _clean_lines(values: list[Any]) -> list[Any]:
    return [value.strip() if isinstance(value, str) else value for value in values]


class FaqEntry(BaseModel):
    """One question LegDay can answer: its stable id, how people ask it, and the answer template."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    id: str = Field(min_length=2, max_length=40, pattern=_ID_RE.pattern)
    question: str = Field(min_length=5, max_length=AUTOCOMPLETE_NAME_LIMIT)
    phrasings: list[str] = Field(min_length=1, max_length=40)
    tags: list[str] = Field(default_factory=list, max_length=30)
    answer: str = Field(min_length=1, max_length=4000)
    sources: list[str] = Field(default_factory=list, max_length=10)

    @field_validator("phrasings", "tags", "sources", mode="before")
    @classmethod
    def _strip_items(cls, value: Any) -> Any:
        return _clean_lines(value) if isinstance(value, list) else value

    @field_validator("phrasings")
    @classmethod
    def _phrasings(cls, value: list[str]) -> list[str]:
        for text in value:
            if not 3 <= len(text) <= 200:
                raise ValueError(f"each phrasing needs 3 to 200 characters, not {len(text)}: {text[:40]!r}")
        return value

    @field_validator("tags")
    @classmethod
    def _tags(cls, value: list[str]) -> list[str]:
        for text in value:
            if not 1 <= len(text) <= 40:
                raise ValueError(f"each tag needs 1 to 40 characters: {text[:40]!r}")
        return value

    @field_validator("sources")
    @classmethod
    def _sources(cls, value: list[str]) -> list[str]:
        for text in value:
            if not 1 <= len(text) <= 120:
                raise ValueError(f"each source needs 1 to 120 characters: {text[:40]!r}")
        return value


# --------------------------------------------------------------------------------------------
# Answer templates


def _day_name(day: Any) -> str:
    return DAY_NAMES.get(str(day), str(day))


def _day_before(day: Any) -> str:
    text = str(day)
    return DAYS[DAYS.index(text) - 1] if text in DAYS else text


def _environment() -> ImmutableSandboxedEnvironment:
    env = ImmutableSandboxedEnvironment(
        undefined=StrictUndefined, autoescape=False, trim_blocks=True, lstrip_blocks=True
    )
    env.filters["day_name"] = _day_name
    env.filters["day_before"] = _day_before
    return env


_ENV = _environment()


def answer_context(profile: Profile | None) -> dict[str, Any]:
    """The variables an answer template sees, for a profile or for no profile."""
    if profile is None:
        return {
            "has_profile": False, "level": None, "weekly_km": None, "weekly_mi": None, "unit": None,
            "mileage": None, "goals": [], "long_run_day": None, "long_run_day_name": None,
            "hard_days": [], "niggles": [],
        }
    return {
        "has_profile": True,
        "level": profile.level.value,
        "weekly_km": profile.weekly_km,
        "weekly_mi": profile.weekly_mi,
        "unit": profile.unit,
        "mileage": profile.mileage_text,
        "goals": [goal.value for goal in profile.goals],
        "long_run_day": profile.long_run_day,
        "long_run_day_name": DAY_NAMES[profile.long_run_day] if profile.long_run_day else None,
        "hard_days": list(profile.hard_days),
        "niggles": [niggle.value for niggle in profile.niggles],
    }


# Profiles every answer is rendered with at load time, chosen to walk each kind of branch an answer
# may take: no profile, each level, both units, with and without days and niggles.
_CHECK_PROFILES: tuple[Profile | None, ...] = (
    None,
    Profile(weekly_km=20, level="beginner", goals=["general"]),
    Profile(weekly_km=48.28, unit="mi", level="intermediate", goals=["speed", "hills"], long_run_day="sun",
            hard_days=["tue", "thu"], niggles=["achilles", "knee"], equipment=["dumbbells"]),
    Profile(weekly_km=130, level="advanced", goals=["speed", "endurance", "hills", "injury-resilience",
            "power", "general"], long_run_day="mon", hard_days=["sun", "wed"],
            niggles=["achilles", "calf", "knee", "it-band", "hamstring", "hip", "shin", "foot", "lower-back"],
            sharp_pain=True),
    Profile(weekly_km=0, level="beginner", goals=["injury-resilience"], long_run_day="sat"),
)

_BLANK_LINES_RE = re.compile(r"\n{3,}")


def _tidy(text: str) -> str:
    lines = [line.rstrip() for line in text.strip().splitlines()]
    return _BLANK_LINES_RE.sub("\n\n", "\n".join(lines))


@functools.lru_cache(maxsize=2048)
def _checked_template(answer: str) -> tuple[Any, tuple[str, ...]]:
    """Compile an answer and render it for every check profile: (template, problems).

    Cached by text, so rebuilding a knowledge base from already-checked entries costs next to nothing.
    """
    try:
        parsed = _ENV.parse(answer)
    except TemplateSyntaxError as exc:
        return None, (f"template syntax error on answer line {exc.lineno}: {exc.message}",)
    unknown = sorted(meta.find_undeclared_variables(parsed) - set(ANSWER_VARIABLES))
    if unknown:
        hints = []
        for name in unknown:
            guess = process.extractOne(name, list(ANSWER_VARIABLES), scorer=fuzz.ratio, score_cutoff=70)
            hints.append(f"'{name}'" + (f" (did you mean '{guess[0]}'?)" if guess else ""))
        return None, (
            "unknown variable " + ", ".join(hints) + "; answers may use: " + ", ".join(ANSWER_VARIABLES),
        )
    template = _ENV.from_string(answer)
    problems: list[str] = []
    for profile in _CHECK_PROFILES:
        who = "without a profile" if profile is None else f"for a {profile.level.value} profile"
        try:
            text = _tidy(template.render(answer_context(profile)))
        except Exception as exc:  # any failure of a moderator's template is reported, never raised
            problems.append(f"fails to render {who}: {type(exc).__name__}: {exc}")
            continue
        if not text:
            problems.append(f"renders empty {who}")
        elif len(text) > ANSWER_LIMIT:
            problems.append(f"renders {len(text)} characters {who}; the limit is {ANSWER_LIMIT}")
    return template, tuple(problems)


# --------------------------------------------------------------------------------------------
# Text normalisation for matching

# Multi-word expressions runners use, folded to one token before words are split, so "warm up",
# "warm-up" and "warmup" are the same thing and "long run" is not just "long" + "run".
_PHRASES: dict[str, str] = {
    r"warm(?:ing)? ?ups?": "warmup",
    r"cool(?:ing)? ?downs?": "cooldown",
    r"cross ?train(?:ing|s)?": "crosstrain",
    r"long ?runs?": "longrun",
    r"leg ?days?": "strength",
    r"strength ?training": "strength",
    r"weight ?training": "strength",
    r"resistance ?training": "strength",
    r"s ?(?:and|n|&) ?c": "strength",
    r"single ?leg(?:ged)?": "singleleg",
    r"one ?legged": "singleleg",
    r"how often": "frequency",
    r"how many times": "frequency",
    r"how many (?:days|sessions|workouts)": "frequency",
    r"how frequently": "frequency",
    r"(?:once|twice|(?:\d+|one|two|three|four) ?(?:x|times)) ?(?:a|per|each|every)? ?(?:week|wk)": "frequency",
    r"times (?:a|per|each|every) (?:week|wk)": "frequency",
    r"how long": "duration",
    r"(?:10|ten) ?(?:%|percent|per cent|pc)": "tenpercent",
    r"foam ?roll(?:ing|er|ers)?": "foamroll",
    r"shin ?splints?": "shin",
    r"it ?band|itb|itbs": "itband",
    r"back ?to ?back": "consecutive",
    r"race ?(?:day|week)s?": "race",
    r"rep(?:s|etitions)? in reserve": "rir",
    r"personal (?:best|record)s?": "pb",
    r"time under tension": "tempo",
    r"dead ?bugs?": "deadbug",
    r"calf raises?": "calfraise",
}
_PHRASE_RE = re.compile(r"\b(?:" + "|".join(f"({p})" for p in _PHRASES) + r")\b")
_PHRASE_OUT = list(_PHRASES.values())

# Slang and spelling variants, folded before stemming.
_WORDS: dict[str, str] = {
    "doms": "sore", "achy": "sore", "aching": "sore", "sorer": "sore",
    "plyo": "plyometric", "plyos": "plyometric", "plyometrics": "plyometric",
    "gym": "strength", "lifting": "strength", "lift": "strength", "lifts": "strength",
    "lifted": "strength", "weights": "strength", "weightlifting": "strength", "lifter": "strength",
    "bulky": "bulk", "bulking": "bulk", "swole": "bulk", "hench": "bulk", "jacked": "bulk",
    "beefy": "bulk", "hypertrophy": "bulk",
    "pr": "pb", "prs": "pb", "pbs": "pb",
    "hammies": "hamstring", "hammy": "hamstring", "hams": "hamstring",
    "calves": "calf", "calfs": "calf", "quads": "quad", "glutes": "glute", "bum": "glute", "butt": "glute",
    "abs": "core", "achilles": "achilles", "physiotherapist": "physio", "physios": "physio",
    "sesh": "session", "seshes": "session", "wkout": "workout", "workouts": "workout",
    "mins": "minute", "min": "minute",
    "km": "mileage", "kms": "mileage", "kilometres": "mileage", "kilometers": "mileage",
    "miles": "mileage", "mi": "mileage", "mpw": "mileage", "distance": "mileage", "volume": "mileage",
    "u": "you", "ur": "your", "b4": "before", "wk": "week", "wks": "week", "tmrw": "tomorrow",
    "tmr": "tomorrow", "tapering": "taper", "tapered": "taper", "marathoner": "marathon",
    "unilateral": "singleleg", "bodyweight": "bodyweight", "nordics": "nordic",
    "reps": "rep", "repetitions": "rep", "protien": "protein",
    "muscly": "bulk", "muscular": "bulk", "legit": "real", "myth": "real",
    "monday": "weekday", "tuesday": "weekday", "wednesday": "weekday", "thursday": "weekday",
    "friday": "weekday", "saturday": "weekday", "sunday": "weekday", "weekend": "weekday",
    "routine": "workout", "routines": "workout", "athlete": "runner", "athletes": "runner",
}

# Filler that says nothing about which topic is meant, including question scaffolding ("tips", "point").
_STOPWORD_TEXT = """
    a about above after again all am an and any are as at be been being but by can could did do does
    doing done for from get gets getting got had has have having he her here hers him his how i if in
    into is it its just me might more most much my myself no nor not of off on once only or other our
    out over own really same she should so some such than that the their them then there these they this
    those through to too under until up very was we were what whats when where which while who whom why
    will with would you your yours yourself im ive id dont doesnt isnt wont cant shouldnt also anything
    something thing things stuff like kinda sorta ok okay yes yeah hey hi hello pls please thanks thank
    legday bot guys anyone someone need want go going gonna wanna gotta let lets mate folks everyone
    tell know think still even ever every way best good bad better till til time tip tips advice help
    question ideal purpose point issue issues problem idea mean means start vs versus super once twice
    one two three four five six seven eight nine ten times
"""
_STOPWORDS = frozenset(_STOPWORD_TEXT.split())


def _strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(char for char in decomposed if not unicodedata.combining(char))


@functools.lru_cache(maxsize=8192)
def _stem(word: str) -> str:
    """Strip common English suffixes, crudely.

    Both sides of a match go through it, so it only needs to be consistent, not linguistically right
    ("lunges" and "lunge" both become "lung").
    """
    if len(word) <= 3 or not word.isalpha():
        return word
    if word.endswith("ies") and len(word) > 4:
        word = word[:-3] + "y"
    elif word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    for suffix, keep in (("ier", "y"), ("ing", ""), ("ed", ""), ("ness", ""), ("ly", ""), ("er", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3 and (suffix != "er" or len(word) > 5):
            word = word[: -len(suffix)] + keep
            if keep == "" and len(word) > 3 and word[-1] == word[-2] and word[-1] not in "ls":
                word = word[:-1]
            break
    if word.endswith("e") and len(word) > 3:
        word = word[:-1]
    return word


_NON_WORD_RE = re.compile(r"[^a-z0-9%&]+")


def normalise_words(text: str) -> list[str]:
    """The matching words of a text, in order: folded slang, no stop words, stemmed."""
    return list(_normalised(str(text)))


@functools.lru_cache(maxsize=16384)
def _normalised(text: str) -> tuple[str, ...]:
    # Cached because entry texts are normalised again whenever a server's FAQ is rebuilt.
    lowered = text.lower()
    lowered = lowered if lowered.isascii() else _strip_accents(lowered)
    lowered = lowered.replace("'", "").replace("’", "")
    spaced = _NON_WORD_RE.sub(" ", lowered)
    folded = _PHRASE_RE.sub(lambda m: _PHRASE_OUT[m.lastindex - 1], spaced)
    words = []
    for raw in folded.split():
        # Lone letters and bare numbers say nothing about the topic ("3 times", "what s").
        if len(raw) < 2 or raw.isdigit():
            continue
        word = _WORDS.get(raw, raw)
        if word in _STOPWORDS or raw in _STOPWORDS:
            continue
        words.append(_stem(word))
    return tuple(words)


# --------------------------------------------------------------------------------------------
# Matching


@dataclass(frozen=True, slots=True)
class FaqMatch:
    """The outcome of matching one question: the confident entry (or None), and the closest others."""

    entry_id: str | None
    confidence: float
    alternatives: list[str]
    status: MatchStatus

    @property
    def best_id(self) -> str | None:
        """The closest entry whether or not the match is confident."""
        return self.entry_id or (self.alternatives[0] if self.alternatives else None)


@dataclass(frozen=True, slots=True)
class FaqReply:
    """A match plus the Markdown message to show for it (within Discord's 2,000 characters)."""

    match: FaqMatch
    text: str
    question: str | None = None

    @property
    def status(self) -> MatchStatus:
        return self.match.status

    @property
    def entry_id(self) -> str | None:
        return self.match.entry_id


@dataclass(slots=True)
class _Doc:
    entry: int
    weight: float = 0.0
    words: frozenset[str] = field(default_factory=frozenset)


class FaqBase:
    """A validated set of FAQ entries, indexed for matching. Build with `load_faq` or `from_entries`."""

    def __init__(self, entries: Sequence[FaqEntry], source: str) -> None:
        """Index already-validated entries; use `from_entries` for raw data from a person."""
        self.source = source
        self._entries: tuple[FaqEntry, ...] = tuple(entries)
        self._by_id = {entry.id: entry for entry in self._entries}
        self._index = {entry.id: number for number, entry in enumerate(self._entries)}
        self._build_index()
        self._topic_keys = [f"{entry.id.replace('-', ' ')} {entry.question}" for entry in self._entries]

    # ---- building

    @classmethod
    def from_entries(cls, entries: Iterable[Mapping[str, Any] | FaqEntry], source: str) -> FaqBase:
        """Validate entries (raw dicts or FaqEntry) and index them; raises FaqError listing every problem."""
        checked: list[FaqEntry] = []
        problems: list[str] = []
        seen: dict[str, int] = {}
        for number, raw in enumerate(entries, start=1):
            try:
                entry = raw if isinstance(raw, FaqEntry) else validate_entry(raw, source, number)
            except FaqError as exc:
                problems.append(str(exc))
                continue
            if entry.id in seen:
                problems.append(
                    f"{source}: entry '{entry.id}' (#{number}), field 'id': duplicate id, "
                    f"already used by entry #{seen[entry.id]}"
                )
                continue
            seen[entry.id] = number
            checked.append(entry)
        if not checked and not problems:
            problems.append(f"{source}: field 'entries': the list is empty; add at least one entry")
        if problems:
            raise FaqError("\n".join(problems))
        return cls(checked, source)

    def _build_index(self) -> None:
        entry_words: list[set[str]] = []
        doc_words: list[tuple[int, frozenset[str]]] = []
        for number, entry in enumerate(self._entries):
            texts = [entry.question, *entry.phrasings, " ".join(entry.tags)]
            bag: set[str] = set()
            for text in texts:
                words = frozenset(normalise_words(text))
                if words:
                    doc_words.append((number, words))
                    bag |= words
            # The id's own words count too ("soreness-vs-pain").
            bag |= set(normalise_words(entry.id.replace("-", " ")))
            entry_words.append(bag)
        count = max(len(self._entries), 1)
        frequency: dict[str, int] = {}
        for bag in entry_words:
            for word in bag:
                frequency[word] = frequency.get(word, 0) + 1
        # Words in few entries tell entries apart; a word the base has never seen weighs like the
        # rarest, so a question full of unknown words cannot be covered well by any entry.
        self._weights = {word: math.log(1 + count / df) for word, df in frequency.items()}
        self._unknown_weight = math.log(1 + count)
        self._entry_postings: dict[str, list[int]] = {}
        for number, bag in enumerate(entry_words):
            for word in bag:
                self._entry_postings.setdefault(word, []).append(number)
        self._docs: list[_Doc] = []
        self._doc_postings: dict[str, list[int]] = {}
        for number, words in doc_words:
            doc_id = len(self._docs)
            self._docs.append(_Doc(number, sum(self._weights[w] for w in words), words))
            for word in words:
                self._doc_postings.setdefault(word, []).append(doc_id)
        # Typo correction looks only among words with the same first letter: typos rarely hit it, and
        # it keeps off-topic words ("watch") from being "corrected" into real ones ("match").
        self._buckets: dict[str, list[str]] = {}
        for word in list(self._weights) + [_stem(key) for key in _WORDS]:
            if word.isalpha() and len(word) >= 3:
                self._buckets.setdefault(word[0], []).append(word)
        self._fold = {_stem(key): _stem(value) for key, value in _WORDS.items()}
        self._corrections: dict[str, tuple[str | None, float]] = {}

    # ---- reading

    @property
    def entries(self) -> tuple[FaqEntry, ...]:
        return self._entries

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, entry_id: object) -> bool:
        return entry_id in self._by_id

    def get(self, entry_id: str) -> FaqEntry | None:
        return self._by_id.get(entry_id)

    @functools.cached_property
    def version(self) -> str:
        """A short hash of the entries, so a stored answer can say which knowledge base it came from."""
        blob = "\n".join(entry.model_dump_json() for entry in self._entries)
        return hashlib.sha256(blob.encode()).hexdigest()[:12]

    def topics(self) -> list[tuple[str, str]]:
        """(id, canonical question) for every entry, in file order."""
        return [(entry.id, entry.question) for entry in self._entries]

    def search_topics(self, prefix_or_words: str, limit: int = AUTOCOMPLETE_LIMIT) -> list[tuple[str, str]]:
        """Topics for autocomplete: (id, name ≤100 characters), best first, at most 25."""
        limit = max(0, min(limit, AUTOCOMPLETE_LIMIT))
        text = str(prefix_or_words or "")[:MAX_QUESTION_CHARS].strip().lower()
        if not text:
            chosen = list(range(len(self._entries)))[:limit]
        else:
            by_id = [n for n, entry in enumerate(self._entries) if entry.id.startswith(text)]
            scored = process.extract(
                text, self._topic_keys, scorer=fuzz.WRatio, processor=utils.default_process,
                limit=limit + len(by_id), score_cutoff=50,
            )
            chosen = by_id + [index for _, _, index in scored if index not in by_id]
            if not chosen:
                # Fall back to the matcher, which knows slang and typos.
                found = self.match(text)
                chosen = [self._index[i] for i in ([found.entry_id] if found.entry_id else []) +
                          found.alternatives]
        return [
            (self._entries[n].id, truncate(self._entries[n].question, AUTOCOMPLETE_NAME_LIMIT))
            for n in chosen[:limit]
        ]

    # ---- matching

    def _correct(self, word: str) -> tuple[str | None, float]:
        """The vocabulary word a typed word stands for, and how sure that is (1.0 when exact)."""
        if word in self._weights:
            return word, 1.0
        if word in self._fold:
            folded = self._fold[word]
            return (folded, 1.0) if folded in self._weights else (None, 0.0)
        cached = self._corrections.get(word)
        if cached is not None:
            return cached
        result: tuple[str | None, float] = (None, 0.0)
        # Four letters and fewer are too short to tell a typo from a different word ("sock", "sick").
        # OSA counts a swap of two letters as one edit, so "sqaut" is one edit from "squat" while
        # "music" stays two from "muscl"(e): at most one edit per five letters is a typo.
        if len(word) >= 5 and word.isalpha():
            found = process.extractOne(
                word, self._buckets.get(word[0], ()), scorer=OSA.normalized_similarity,
                score_cutoff=_TYPO_SIMILARITY,
            )
            if found is not None:
                target = self._fold.get(found[0], found[0])
                if target in self._weights:
                    result = (target, found[1])
            else:
                # Word forms the stemmer misses share a long start: "marathoners", "tendinopathy".
                for size in range(len(word) - 1, 4, -1):
                    if word[:size] in self._weights:
                        result = (word[:size], _PREFIX_CERTAINTY)
                        break
        if len(self._corrections) < 20000:
            self._corrections[word] = result
        return result

    def _scores(self, text: str) -> list[tuple[float, float, int]]:
        """(score, coverage, entry index) for every entry sharing a word with the text, best first."""
        weights: dict[str, float] = {}
        total = 0.0
        for raw in dict.fromkeys(_normalised.__wrapped__(text[:MAX_QUESTION_CHARS])):
            word, certainty = self._correct(raw)
            if word is None:
                total += self._unknown_weight
                continue
            weight = self._weights[word]
            total += weight
            # A corrected word counts a little less than one typed right.
            weights[word] = max(weights.get(word, 0.0), weight * certainty)
        if not weights or total <= 0:
            return []
        coverage: dict[int, float] = {}
        for word, weight in weights.items():
            for number in self._entry_postings.get(word, ()):
                coverage[number] = coverage.get(number, 0.0) + weight
        overlap: dict[int, float] = {}
        for word, weight in weights.items():
            for doc_id in self._doc_postings.get(word, ()):
                overlap[doc_id] = overlap.get(doc_id, 0.0) + weight
        closest: dict[int, float] = {}
        for doc_id, shared in overlap.items():
            doc = self._docs[doc_id]
            recall, precision = shared / total, shared / doc.weight
            # Recall counts double: a short question fully inside a long phrasing is a good match.
            f_score = 3 * recall * precision / (2 * precision + recall)
            if f_score > closest.get(doc.entry, 0.0):
                closest[doc.entry] = f_score
        results = []
        for number, covered in coverage.items():
            share = covered / total
            # One common word fully "covered" is weak evidence, however high its share.
            evidence = min(1.0, covered / _EVIDENCE_WEIGHT)
            score = (0.6 * share + 0.4 * closest.get(number, 0.0)) * evidence
            results.append((score, share, number))
        results.sort(key=lambda item: (-item[0], item[2]))
        return results

    def match(self, text: str) -> FaqMatch:
        """The entry a free-text question asks about, with a confidence; see the module docstring."""
        ranked = self._scores(str(text or ""))
        if not ranked:
            return FaqMatch(None, 0.0, [], "off-topic")
        score, share, _ = ranked[0]
        confidence = round(min(max(score, 0.0), 1.0), 3)
        ids = [self._entries[number].id for _, _, number in ranked[:4]]
        if confidence >= ANSWER_THRESHOLD:
            return FaqMatch(ids[0], confidence, ids[1:4], "answer")
        status: MatchStatus = "off-topic" if share < OFF_TOPIC_THRESHOLD else "unsure"
        return FaqMatch(None, confidence, ids[:3], status)

    # ---- answering

    def render_answer(self, entry_id: str, profile: Profile | None = None) -> str:
        """An entry's answer as Markdown, personalised when a profile is given; within Discord's limits."""
        entry = self._by_id.get(entry_id)
        if entry is None:
            raise KeyError(f"No FAQ entry with id '{entry_id}'.")
        template, problems = _checked_template(entry.answer)
        if template is None:
            raise FaqError(f"{self.source}: entry '{entry_id}', field 'answer': {problems[0]}")
        text = _tidy(template.render(answer_context(profile)))
        return truncate(neutralise_mentions(text), ANSWER_LIMIT)

    def _topic_line(self, ids: Iterable[str]) -> str:
        return "\n".join(
            f"- {neutralise_mentions(self._by_id[i].question)} (`{i}`)" for i in ids if i in self._by_id
        )

    def answer(self, text: str, profile: Profile | None = None) -> FaqReply:
        """Match a question and build the message to show: the answer, a 'did you mean', or a polite no."""
        question = str(text or "").strip()
        if not question:
            some = ", ".join(f"`{entry_id}`" for entry_id, _ in self.topics()[:6])
            message = f"Ask me a question about leg strength for running, for example about {some}."
            return FaqReply(FaqMatch(None, 0.0, [], "off-topic"), message, None)
        found = self.match(question)
        if found.status == "answer" and found.entry_id is not None:
            heading = neutralise_mentions(self._by_id[found.entry_id].question)
            message = f"**{heading}**\n{self.render_answer(found.entry_id, profile)}"
        elif found.status == "unsure":
            message = (
                "I'm not sure which of these you mean. Did you mean:\n"
                + self._topic_line(found.alternatives)
                + "\nAsk again with one of them, or use its id."
            )
        else:
            known = ", ".join(f"`{entry_id}`" for entry_id, _ in self.topics())
            message = (
                "Sorry, I can't help with that: I only answer questions about leg strength work for "
                f"runners. Topics I know: {known}."
            )
        shown = escape_user_text(question[:MAX_QUESTION_CHARS])
        return FaqReply(found, truncate(message, CONTENT_LIMIT), shown)


# --------------------------------------------------------------------------------------------
# Loading


def _entry_label(raw: Any, number: int) -> str:
    entry_id = raw.get("id") if isinstance(raw, Mapping) else None
    return f"entry '{entry_id}' (#{number})" if isinstance(entry_id, str) and entry_id else f"entry #{number}"


def _field_path(loc: Sequence[Any]) -> str:
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "entry"


def validate_entry(raw: Mapping[str, Any] | Any, source: str, number: int = 1) -> FaqEntry:
    """One entry from a file or a moderator's edit, fully checked (answer template included)."""
    label = _entry_label(raw, number)
    if not isinstance(raw, Mapping):
        raise FaqError(f"{source}: {label}: each entry must be a mapping of fields, not {type(raw).__name__}")
    try:
        entry = FaqEntry.model_validate(dict(raw))
    except ValidationError as exc:
        lines = []
        for item in exc.errors():
            where = _field_path(item["loc"])
            if item["type"] == "missing":
                lines.append(f"{source}: {label}, field '{where}': missing (required)")
            elif item["type"] == "extra_forbidden":
                known = ", ".join(FaqEntry.model_fields)
                lines.append(f"{source}: {label}, field '{where}': not a known field (fields: {known})")
            else:
                lines.append(f"{source}: {label}, field '{where}': {item['msg']}")
        raise FaqError("\n".join(lines)) from None
    _, problems = _checked_template(entry.answer)
    if problems:
        raise FaqError("\n".join(f"{source}: {label}, field 'answer': {problem}" for problem in problems))
    return entry


class _StrictLoader(yaml.SafeLoader):
    """A safe YAML loader that refuses a key given twice in one mapping (the second would silently win)."""


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"key '{key}' appears twice in one mapping", key_node.start_mark
            )
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def load_faq(path: Path) -> FaqBase:
    """Load and validate a FAQ file (top-level key `entries:`); raises FaqError, never half-loads."""
    path = Path(path)
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FaqError(f"{source}: file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise FaqError(f"{source}: cannot read the file: {exc}") from None
    try:
        data = yaml.load(text, Loader=_StrictLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f", line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise FaqError(f"{source}{where}: YAML syntax error: {problem}") from None
    if not isinstance(data, Mapping) or "entries" not in data:
        raise FaqError(f"{source}: field 'entries': missing; the file must start with `entries:`")
    extra = sorted(str(key) for key in data if key != "entries")
    if extra:
        raise FaqError(f"{source}: field '{extra[0]}': unknown top-level key; only `entries:` is allowed")
    entries = data["entries"]
    if not isinstance(entries, list):
        raise FaqError(f"{source}: field 'entries': must be a list of entries")
    return FaqBase.from_entries(entries, source)


def default_faq_path() -> Path:
    """Where the shipped FAQ lives: the rules folder from Settings."""
    return get_settings().rules_dir / "faq.yaml"


@functools.lru_cache(maxsize=1)
def default_faq() -> FaqBase:
    """The shipped FAQ, loaded once per process (front-ends share it)."""
    return load_faq(default_faq_path())
