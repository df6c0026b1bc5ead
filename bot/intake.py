"""Reading a runner's plain-words message into profile fields, and telling intake from questions and chat."""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import math
import re
from typing import Any, Literal

from pydantic import BaseModel, Field
from text_to_num import alpha2digit

from bot.classify import TextClassifier
from bot.config import get_settings
from bot.models import DAYS, FIELDS, KM_PER_MILE, MileageError, parse_mileage
from bot.vocabulary import Vocabulary, load_vocabulary
from bot.yamlio import read_yaml

# Discord's longest message; reading one this long stays within 10 ms (bench/bench_intake.py).
MAX_CHARS = 4000
REQUIRED = ("weekly_km", "level", "goals")

MessageKind = Literal["intake", "question", "smalltalk"]


class ParseResult(BaseModel):
    """What the reader found in one message: fields (Profile names and types), what is missing, problems."""

    fields: dict[str, Any] = Field(default_factory=dict)
    missing: list[str] = Field(default_factory=list)
    problems: list[str] = Field(default_factory=list)
    # How sure the reader is of each field it kept (0-1, from rules/intake_confidence.yaml); below a field's
    # threshold the field is left out, so the conversation asks instead of guessing.
    confidence: dict[str, float] = Field(default_factory=dict)


# --------------------------------------------------------------------------------------------
# Shared pieces


@functools.lru_cache(maxsize=1)
def words() -> dict[str, Any]:
    """The chat reader's word lists (rules/intake_words.yaml): days, months, time markers, race cues."""
    data, _ = read_yaml(get_settings().rules_dir / "intake_words.yaml")
    return data


def _alternation(phrases: Any) -> str:
    """A regex alternative of plain phrases, longest first, each matched as whole words."""
    return "|".join(re.escape(p).replace(r"\ ", r"\s+") for p in sorted(set(phrases), key=len, reverse=True))


_DAY_WORDS = {form: day for day, forms in words()["days"].items() for form in forms}
_DAY_RE = re.compile(r"\b(" + _alternation(_DAY_WORDS) + r")\b")
_MONTHS = {name: int(number) for number, names in words()["months"].items() for name in names}
_MONTH = "(" + _alternation(_MONTHS) + r")\.?"


@functools.lru_cache(maxsize=1)
def vocabulary() -> Vocabulary:
    """The shared runner vocabulary (rules/vocabulary.yaml) that the FAQ matcher folds words with too."""
    return load_vocabulary(get_settings().rules_dir / "vocabulary.yaml")


def _words_re(key: str) -> str:
    """A non-capturing alternative of one rules/intake_words.yaml phrase list, each phrase as whole words."""
    return "(?:" + _alternation(words()[key]) + ")"


_APPROX = _words_re("approximately")
_ISH_RE = re.compile(r"(\d(?:\s*(?:km|k|miles|mi))?)\s*-?ish\b")  # "50-ish miles", "5k-ish"
# "twice a week": the count as a digit, as text2num writes "three times a week".
_TIMES_WORD_RE = re.compile(
    r"\b(" + _alternation(words()["times_words"]) + r")(?=\s+(?:a|per|each|every)\s+(?:week|wk)\b)")
_SMALL_COUNT_RE = re.compile(
    r"\b(" + _alternation(words()["small_numbers"]) + r")(?=\s+(?:strength\s+|gym\s+|lifting\s+)?"
    r"(?:sessions?|days?|runs?|times)\b)")
# "mpw: 15", "kpw = 40": the label before its number is the unit after it.
_LABEL_FIRST_RE = re.compile(
    r"\b((?:miles|mi|km|kms|kilometres|kilometers)\s+(?:per|a)\s+(?:week|wk)|mpw|kpw)\s*[:=]\s*(\d+(?:[.,]\d+)?)\b")
_TIMES_GLUED_RE = re.compile(r"\b(\d)x(\d)")
# "between 30 and 40 k" is the range 30-40 k.
_BETWEEN_RE = re.compile(r"\bbetween\s+(\d+(?:[.,]\d+)?)\s*(?:and|&)\s*(\d+(?:[.,]\d+)?)\b")


def _deletions(word: str) -> set[str]:
    return {word[:i] + word[i + 1:] for i in range(len(word))}


@functools.lru_cache(maxsize=1)
def _spelling_index() -> dict[str, str]:
    """Each word of intake_words.yaml `spelling`, and each of it with one letter left out, to the word."""
    index: dict[str, str] = {}
    for word in words()["spelling"]:
        for form in _deletions(word) | {word}:
            index.setdefault(form, word)
    return index


_LONG_WORD_TOKEN_RE = re.compile(r"[a-z]{7,}")


def _spelt(match: re.Match[str]) -> str:
    """A long word one letter away from a word the reader looks for, as that word (see `spelling`)."""
    token = match.group(0)
    index = _spelling_index()
    if index.get(token) == token or index.get(token.removesuffix("s")) == token.removesuffix("s"):
        return token
    for form in itertools.chain((token,), _deletions(token)):
        if (word := index.get(form)) and abs(len(word) - len(token)) <= 1:
            return word
    return token


@functools.lru_cache(maxsize=256)
def _normalise(text: str) -> str:
    """Lower-case; plain quotes and dashes; slang folded by the shared vocabulary; spelt-out numbers as digits.

    Cached, because every reader below starts from the same folded text of the same message.
    """
    text = text.lower()
    for fancy, plain in (("’", "'"), ("‘", "'"), ("–", "-"), ("—", " - "), ("“", '"'), ("”", '"')):
        text = text.replace(fancy, plain)
    text = _ISH_RE.sub(r"\1", _LONG_WORD_TOKEN_RE.sub(_spelt, vocabulary().normalise(text)))  # "50-ish" is 50
    # "thirty miles", "twenty five km": text2num writes them as digits ("one"/"a" are left alone).
    text = _BETWEEN_RE.sub(r"\1-\2", alpha2digit(text, "en"))
    text = _TIMES_WORD_RE.sub(lambda m: f"{words()['times_words'][m.group(1)]} times", text)
    text = _SMALL_COUNT_RE.sub(lambda m: str(words()["small_numbers"][m.group(1)]), text)
    text = _LABEL_FIRST_RE.sub(r"\2 \1", text)
    return _TIMES_GLUED_RE.sub(r"\1 x \2", text)  # "3x4 miles" is 3 x 4 miles


_SENTENCE_END_RE = re.compile(r"(?<!\d)[.!?;\n]+|[.!?;\n]+(?!\d)")
_CLAUSE_END_RE = re.compile(r",|\bbut\b|\s-\s|\(|\)")
_PART_END_RE = re.compile(rf"{_SENTENCE_END_RE.pattern}|{_CLAUSE_END_RE.pattern}")


@functools.lru_cache(maxsize=256)
def _split_sentences(text: str) -> tuple[str, ...]:
    # A full stop inside a number ("27.5", "1.5x") is not a sentence end.
    return tuple(part for part in _SENTENCE_END_RE.split(text) if part.strip())


def _sentences(text: str) -> list[str]:
    return list(_split_sentences(text))


@functools.lru_cache(maxsize=256)
def _split_clauses(text: str) -> tuple[str, ...]:
    parts: list[str] = []
    for sentence in _split_sentences(text):
        parts.extend(p for p in _CLAUSE_END_RE.split(sentence) if p.strip())
    return tuple(parts)


def _clauses(text: str) -> list[str]:
    """Comma, 'but' and sentence boundaries: the span within which a word describes its neighbour."""
    return list(_split_clauses(text))


# --------------------------------------------------------------------------------------------
# Weekly mileage: a small grammar over distances found in the text
#
# Every distance in the message is a candidate; words around it say whether it is the week's total
# ("a week", "total", "mpw"), one run of several ("5k three times a week", "6 miles every day"),
# a day of a day-by-day list, the long run, a race ("a faster 10k"), or the past ("ran 70k at uni, now 25k").

_NUM = r"\d{1,3}(?:_\d{3})+|\d+(?:[.,]\d+)?"
_UNIT = r"kilometres|kilometers|kilometre|kilometer|miles|mile|kms|km|mpw|kpw|mi|ks|k"
# A dash glued to the number after a space is a minus sign ("-5km"); after a word it is a hyphen ("sub-20").
_DISTANCE_RE = re.compile(
    rf"(?:(?P<sign>(?<![\w-])-)|(?<![\w.,-]))(?P<num>{_NUM})\+?(?:\s*(?:-|to)\s*(?P<num2>{_NUM}))?\s*"
    rf"(?P<unit>{_UNIT})\b"
)
_WEEK_AFTER_RE = re.compile(rf"^\s*{_words_re('per_week')}(?![a-z])")
_TOTAL_AFTER_RE = re.compile(r"^\s*(?:total\b|in total|all up|altogether|overall)")
_VERB_BEFORE_RE = re.compile(
    r"(?:\brun|\bruns|\brunning|\bdo|\bdoing|\bat|\baverag\w*|\bcover\w*|\blog\w*|\btotal\w*|\bmileage"
    r"|\bvolume|\bweek:?|\bcurrently|\bnow|\bup to|\bis)\s*:?\s*" + rf"(?:{_APPROX})?\s*$"
)
_APPROX_BEFORE_RE = re.compile(rf"{_APPROX}\s*$")
_RACE_BEFORE_RE = re.compile(
    r"(?:\ba|\ban|\bthe|\bmy|\bfor|\bfaster|\bquicker|\bsub[- ]?\d[\d:]*|\bfirst|\blast|\d|\bof)\s*$"
)
# "faster at 10k", "a PR over 5k": a race word just before the distance makes it a race, not a week.
_RACE_WORD_NEAR_RE = re.compile(r"\b(?:faster|quicker|pb|pr|personal best|sub|race|racing)\b[\w\s]{0,6}$")
_RACE_AFTER_RE = re.compile(r"^\s*(?:-?\s*)?(?:ultra|race|pb|pr|time|run\b|runner|trail|marathon|er\b|r\b)")
_NOW_RE = re.compile(r"\b(?:" + _alternation(words()["markers"]["now"]) + r")\b")
# "back in 2019" is the past however it is worded; the rest are the words in rules/intake_words.yaml.
_PAST_RE = re.compile(r"\b(?:" + _alternation(words()["markers"]["past"]) + r"|back in \d{4})\b")
# The long run's words, then up to four words of the same clause ("longest run so far is 13 miles", "long run
# saturdays is usually 30k").
_LONG_BEFORE_RE = re.compile(
    rf"\b{_words_re('long_run')}(?:\s+(?!(?:and|but|then|plus|or)\b)[a-z'~]+){{0,4}}\s*$"
)
_LONG_AFTER_RE = re.compile(r"^\s*(?:long\b|longest\b|for (?:my|the) long)")
_FROM_BEFORE_RE = re.compile(r"\bfrom\s*$")
_SPAN_END_RE = re.compile(r"[.!?;\n]")
# One run, several times: "5k three times a week", "6 miles 4x a week", "5 miles every day", "10k on weekdays".
# A word may sit between ("a 10k loop four days a week", "2 miles like 3 times a week"), but not one that
# splits a total over the runs ("30 km in 4 runs a week").
_TIMES_AFTER_RE = re.compile(
    rf"^\s*,?\s*(?:(?!{_words_re('split_words')}\b)[a-z]+\s+)?(?:{_APPROX}\s+)?(?:each\s+)?"
    r"(?:(?P<n>\d+)\s*(?:x|times|days|runs?|sessions?)\s*(?:a|per|/|each|every)\s*(?:week|wk)\b"
    r"|x\s*(?P<days>[2-7])\s*(?:days|runs)\b)"  # "8 miles x 5 days"
)
# A count of runs anywhere in the sentence, for a distance written as one run's length ("12 km per run,
# 4 runs a week").
_RUN_COUNT_RE = re.compile(
    r"\b(?P<n>[2-7])\s*(?:x|times|days|runs?|sessions?)\s*(?:a|per|/|each|every)\s*(?:week|wk)\b")
_PER_RUN_BEFORE_RE = re.compile(rf"\b{_words_re('per_run_before')}\s*(?:{_APPROX}\s*)?(?:about\s+)?$")
_VAGUE_COUNT_RE = re.compile(rf"\b{_words_re('vague_counts')}\b|\b\d\s*-\s*\d\s*(?:runs|times|days)\b")
_DAILY_AFTER_RE = re.compile(r"^\s*(?:every\s?day|a day|per day|daily|each day)\b")
_DAYS_A_WEEK_RE = re.compile(r"^[\s,]*(?:and\s+|for\s+)?(?P<n>\d)\s*(?:days|x|times)\s*(?:a|per|/)\s*(?:week|wk)\b")
# "10k every other day": runs of this length, but how many a week is a guess; ask instead.
_SOME_DAYS_AFTER_RE = re.compile(
    r"^\s*(?:every (?:other|second|few|couple of) days?|most (?:days|mornings|evenings|nights)|some days|a few times)"
)
_N_X_BEFORE_RE = re.compile(r"\b(?P<n>\d)\s*x\s*$")
_DAYS_A_WEEK_BEFORE_RE = re.compile(r"\b(?P<n>\d)\s*days?\s*(?:a|per|/)\s*(?:week|wk)\b")
_TIMES_RIGHT_BEFORE_RE = re.compile(r"\b(?P<n>[2-7])\s*(?:x|times|runs)\s*(?:a|per|/)\s*(?:week|wk)\s+$")
_DAILY_BEFORE_RE = re.compile(rf"\b(?:every ?day|daily|each day)\s*,?\s*(?:for\s+)?(?:{_APPROX})?\s*$")
_WEEKDAYS_AFTER_RE = re.compile(r"^\s*(?:on\s+|every\s+|each\s+)?weekdays?\b")
_TIMES_BEFORE_RE = re.compile(
    r"(?P<n>\d+)\s*(?:x|times|days|runs?|sessions?)\s*(?:a|per|/|each|every)\s*(?:week|wk)\b"
    rf"[\s,]*(?:of|at|for)?\s*(?:{_APPROX})?\s*$"
)
_EACH_AFTER_RE = re.compile(rf"^\s*{_words_re('per_run_after')}\b")
_AT_BEFORE_RE = re.compile(rf"\b(?:at|of)\s*(?:{_APPROX})?\s*$")
_UNITLESS_WEEKLY_RE = re.compile(
    rf"(?:\brun\w*|\bdo\w*|\baverag\w*|\bat)\s+(?:{_APPROX})?\s*(?P<num>{_NUM})\s*"
    r"(?:a week|per week|/\s*week|pw|weekly)\b"
)
_DAY_DISTANCE_RE = re.compile(
    rf"\b(?P<day>{_DAY_RE.pattern[3:-3]})\b\s*[:=-]?\s*(?P<num>\d+(?:[.,]\d+)?)\s*(?P<unit>{_UNIT})?\b"
)
PAST = -100
# "12 k on tuesdays", "a 22 k long run on sundays", and after one with its unit, "4 tue, 3 wed".
_DISTANCE_DAY_RE = re.compile(
    rf"(?<![\w.,:-])(?P<num>\d+(?:[.,]\d+)?)\s*(?P<unit>{_UNIT})?\s+(?:{_words_re('long_run')}\s+)?(?:on\s+)?"
    rf"(?P<day>{_DAY_RE.pattern[3:-3]})\b"
)
_DAYS_AFTER_RE = re.compile(
    rf"^\s*(?:on\s+|every\s+)?{_DAY_RE.pattern}(?:\s*(?:,|/|&|\+)?\s*(?:\band\b)?\s*{_DAY_RE.pattern})+"
)
_UNITLESS_LONG_RE = re.compile(
    r"\b(?P<num>\d+(?:[.,]\d+)?)\s+long(?:er)?\s+(?:one|run)\b"
    r"|\blong(?:er)?\s+(?:one|run)\s+(?:of\s+)?(?:about\s+|around\s+|~)?(?P<num2>\d+(?:[.,]\d+)?)\b"
    rf"(?!\s*(?:[.,]\d|{_UNIT}))"
)
_ROUND_TRIP_AFTER_RE = re.compile(r"^\s*(?:" + _alternation(words()["round_trip"]) + r")\b")
_NOT_A_DISTANCE_RE = re.compile(r"\b(?:" + _alternation(words()["not_distances"]) + r")\b")
_LIST_OF_RUNS_RE = re.compile(
    rf"(?P<list>(?:{_NUM})(?:\s*(?:,|\band\b|&|\+)\s*(?:{_NUM}))+)\s*(?P<unit>{_UNIT})\b"
)
_COUNT_BEFORE_RE = re.compile(r"\b(?P<n>\d)\s+$")
# Runs that add to a week of repeated runs ("10 km 3 times a week + a 15k long one on sat"): the long run,
# or a run given its day.
_LONG_WORD_RE = re.compile(rf"\b{_words_re('long_run')}\b")
_REPLACING_RE = re.compile(rf"\b{_words_re('replacing')}\b")
_DAY_LIST = rf"{_DAY_RE.pattern}(?:\s*(?:,|/|&|\+)?\s*(?:\band\b)?\s*{_DAY_RE.pattern})*"
_UNITLESS_DAYS_RE = re.compile(
    rf"(?:{_words_re('joiners')}|,)\s+(?P<num>\d+(?:[.,]\d+)?)\s+(?:on\s+)?(?P<days>{_DAY_LIST})"
)
_EXTRA_RUN_AFTER_RE = re.compile(rf"^\s*(?:\w+\s+){{0,2}}?(?:long\b|longer\b|on\s+{_DAY_RE.pattern}|{_DAY_RE.pattern})")
# A number said to be now, with no unit and no count after it ("now back to about 25", "like 60 atm"); the
# "now" markers and fillers are rules/intake_words.yaml's, as in _NOW_RE.
_NOT_A_WEEK_AFTER = (r"(?!\s*(?:x\b|times|runs?|days?|sessions?|weeks?|months?|years?|yrs|kg|kgs|lbs?|min\w*"
                     rf"|hours?|hrs?|sec\w*|reps?|sets?|y/?o|{_UNIT})\b|\s*(?:[-%/:]|[.,]\d))")
_NOW_NUMBER_RE = re.compile(
    r"\b(?:" + _alternation(words()["markers"]["now"]) + r")\s+"
    rf"(?:{_words_re('now_fillers')}\s+){{0,3}}(?P<num>{_NUM})\b{_NOT_A_WEEK_AFTER}"
    rf"|(?:\b(?:at|doing|running)\s+|\b{_APPROX}\s+)(?:{_APPROX}\s+)?(?P<num_now>{_NUM})\s+"
    r"(?:" + _alternation(words()["markers"]["now"]) + r")\b"
)
# "3 runs a week", and a count of runs or days before a colon that lists them ("i run 4 days: 4 mi, 5 mi...").
_RUNS_A_WEEK_RE = re.compile(
    r"\b(?P<n>[2-7])\s*(?:(?:runs?|x)\s*(?:a|per|/)\s*(?:week|wk)\b|(?:runs?|days|x)(?:\s*(?:a|per|/)\s*(?:week|wk))?\s*:)")
# Distances weighed per message: a real message names a handful; a bound on the cost of "5k 5k 5k ...".
MAX_DISTANCES = 16
# A distance with no word around it ("48km, beginner") is the week when it is too far for one everyday run.
_STANDALONE_MIN_KM = 15.0


def _number(text: str) -> float:
    return float(text.replace("_", "").replace(",", "."))


def _unit(word: str) -> str:
    return "mi" if word.startswith("m") else "km"


def _span(text: str, start: int, end: int) -> tuple[str, str]:
    """The words before and after a match, up to the sentence's end on either side."""
    before = text[max(0, start - 40): start]
    cut = max((m.end() for m in _SPAN_END_RE.finditer(before)), default=0)
    after = text[end: end + 30]
    stop = _SPAN_END_RE.search(after)
    return before[cut:], after[: stop.start()] if stop else after


def _clause_around(text: str, start: int, end: int) -> tuple[str, str]:
    """The clause's words before and after a match (commas, 'but' and sentence ends bound a clause)."""
    before, after = _span(text, start, end)
    cut = max((m.end() for m in re.finditer(r",|\bbut\b|\band\b|\(|\)", before)), default=0)
    stop = re.search(r",|\bbut\b|\(|\)", after)
    return before[cut:], after[: stop.start()] if stop else after


def _score_distance(text: str, match: re.Match[str]) -> tuple[int, float, str, int] | None:
    """(score, weekly amount, unit, runs it was multiplied by) for one distance; None for a race or the long run."""
    before, after = _span(text, match.start(), match.end())
    clause_before, clause_after = _clause_around(text, match.start(), match.end())
    unit_word = match["unit"]
    low = _number(match["num"])
    high = _number(match["num2"]) if match["num2"] else low
    amount = high if match["num2"] and _FROM_BEFORE_RE.search(before) else (low + high) / 2
    if match["sign"]:
        amount = -amount
    weekly = unit_word in ("mpw", "kpw") or bool(_WEEK_AFTER_RE.match(after))
    # (a plain substring test first: the long-run pattern is costly to search for at every position)
    long_before = ("long" in clause_before or "lr" in clause_before) and _LONG_BEFORE_RE.search(clause_before)
    if (long_before and not weekly) or _LONG_AFTER_RE.match(after) \
            or _SOME_DAYS_AFTER_RE.match(after):
        return None
    score = 0
    if weekly:
        score += 3
    if _TOTAL_AFTER_RE.match(after):
        score += 1
    if _VERB_BEFORE_RE.search(before):
        score += 2
    elif _APPROX_BEFORE_RE.search(before):
        score += 1
    times = None if weekly else _TIMES_AFTER_RE.match(after)  # a week's total is never multiplied
    factor = 1
    def sentence() -> str:
        return _around(text, match.start(), match.end(), _SENTENCE_END_RE)

    # A vague count anywhere in the message is looked for once; only then in this distance's sentence.
    vague = _has_vague_count(text) and bool(_VAGUE_COUNT_RE.search(sentence()))
    if times:
        factor = int(times["n"] or times["days"])
    elif daily := _DAILY_AFTER_RE.match(after):
        # "8 miles a day, six days a week": the days named, else every day.
        days = _DAYS_A_WEEK_RE.match(after[daily.end():]) or _DAYS_A_WEEK_BEFORE_RE.search(before)
        factor = int(days["n"]) if days and 1 <= int(days["n"]) <= 7 else 7
    elif (times_before := _N_X_BEFORE_RE.search(before)) and 2 <= int(times_before["n"]) <= 7:
        factor = int(times_before["n"])  # "4 x 8k a week"
    elif _DAILY_BEFORE_RE.search(before):
        factor = 7
    elif _WEEKDAYS_AFTER_RE.match(after):
        factor = 5
    elif (each := _TIMES_BEFORE_RE.search(before)) and (_EACH_AFTER_RE.match(after) or _AT_BEFORE_RE.search(before)):
        factor = int(each["n"])
    elif not weekly and (_EACH_AFTER_RE.match(after) or ("run" in clause_before
                                                          and _PER_RUN_BEFORE_RE.search(clause_before))):
        # One run's length: times the runs a week the sentence gives, or the days it names; else not the week.
        around = sentence()
        count = _RUN_COUNT_RE.search(around)
        days = [len(_DAY_RE.findall(g.group(0))) for g in _DAY_GROUP_RE.finditer(around)]
        if count and not vague:
            factor = int(count["n"])
        elif days and max(days) >= 2 and not vague:
            factor = max(days)
        else:
            return None
    elif adjacent := _TIMES_RIGHT_BEFORE_RE.search(before):
        factor = int(adjacent["n"])  # "2x a week 3 miles": the runs, then the distance of each
    elif (group := _DAYS_AFTER_RE.match(after)) and len(found := _DAY_RE.findall(group.group(0))) >= 2:
        factor = len(found)  # "7 mi mon wed fri", "8km on mon, tue, thu and fri": one run on each day named
    elif unit_word == "ks" and (count := _COUNT_BEFORE_RE.search(before)) and 2 <= int(count["n"]) <= 7:
        factor = int(count["n"])  # "three 10ks a week"
    if factor == 1 and not weekly and vague:
        return None  # "a few times a week, about 3 miles": how many runs is a guess; ask the week instead
    if _ROUND_TRIP_AFTER_RE.match(after):
        amount *= 2  # "7km each way": a run there and a run back
    if factor > 1:
        amount *= factor
        score += 3
    raced = _RACE_BEFORE_RE.search(before) and not _VERB_BEFORE_RE.search(before) and factor == 1
    if raced or _RACE_WORD_NEAR_RE.search(before[-14:]) or _RACE_AFTER_RE.match(after):
        return None
    if _PAST_RE.search(clause_before + " " + clause_after) and not _NOW_RE.search(clause_before):
        score = PAST  # what they used to run is not this week's running, however it is worded
    elif _NOW_RE.search(clause_before):
        score += 2
    return score, amount, _unit(unit_word), factor


# A typical week of the runners LegDay coaches; how far a read is from it is evidence for the gate.
_TYPICAL_WEEK_KM = 40.0


def _week_evidence(text: str, chosen: tuple[float, str], match: re.Match[str] | None, factor: int,
                   now_number: bool) -> dict[str, float]:
    """Evidence that predicts a wrong weekly read, for the confidence gate.

    The distance sits by a long-run, race or past word, was multiplied, is far from a typical week, or the
    message says 'now' beside another number.
    """
    km = chosen[0] * KM_PER_MILE if chosen[1] == "mi" else chosen[0]
    found = {"atypical": min(abs(math.log(max(km, 1.0) / _TYPICAL_WEEK_KM)), 3.0),
             "multiplied": float(factor > 1), "now-number": float(now_number)}
    if match is not None:
        sentence = _around(text, match.start(), match.end(), _SENTENCE_END_RE)
        found["near-long"] = float(bool(_LONG_WORD_RE.search(sentence)))
        found["near-race"] = float(bool(_RACE_WORD_RE.search(sentence)))
        found["near-past"] = float(bool(_PAST_RE.search(sentence)))
        found["explicit"] = float(_explicitly_weekly(text, match))
    return found


def _explicitly_weekly(text: str, match: re.Match[str]) -> bool:
    """True when the words right after a distance mark it as the week's total ('a week', 'mpw', 'in total')."""
    return match["unit"] in ("mpw", "kpw") or bool(_WEEK_AFTER_RE.match(_span(text, match.start(), match.end())[1]))


@functools.lru_cache(maxsize=128)
def _has_vague_count(text: str) -> bool:
    """True when the message has a vague count of runs anywhere ('a few times a week'); cached per message."""
    return bool(_VAGUE_COUNT_RE.search(text))


def _extra_runs(text: str, repeated: re.Match[str], unit: str) -> tuple[float, bool]:
    """Runs written after a repeated run that add to its week: the long run, or a run given its day.

    Also says whether one of them replaces a repeat ("10k each day except sunday, my 20k long run").
    """
    extra = 0.0
    replaces = False
    for match in itertools.islice(_DISTANCE_RE.finditer(text, repeated.end()), MAX_DISTANCES):
        if match["sign"] or match["unit"] in ("mpw", "kpw"):
            continue
        before, after = _span(text, match.start(), match.end())
        clause_before, clause_after = _clause_around(text, match.start(), match.end())
        if _WEEK_AFTER_RE.match(after) or _RACE_WORD_NEAR_RE.search(before[-14:]):
            continue
        if _PAST_RE.search(clause_before + " " + clause_after) and not _NOW_RE.search(clause_before):
            continue
        # Between the repeated run and this one, in one sentence: "... and a longer one on sunday, usually 16-18k".
        between = text[repeated.end(): match.start()]
        same_sentence = not _SPAN_END_RE.search(between)
        if re.search(r"\blong", clause_before) or _EXTRA_RUN_AFTER_RE.match(after) or (
                same_sentence and _LONG_WORD_RE.search(between)):
            low = _number(match["num"])
            amount = (low + _number(match["num2"])) / 2 if match["num2"] else low
            if _unit(match["unit"]) != unit:
                amount = amount * KM_PER_MILE if unit == "km" else amount / KM_PER_MILE
            extra += amount
            replaces = replaces or bool(same_sentence and _REPLACING_RE.search(between))
    # "+ a 15 long one", "a longer run of ten": the long run's number without its unit is in the week's unit.
    for match in itertools.islice(_UNITLESS_LONG_RE.finditer(text, repeated.end()), 2):
        extra += _number(match["num"] or match["num2"])
    # "7 miles mon, wed, fri and 4 on tue & thu": a number without its unit, once on each day named.
    rest = text[repeated.end(): repeated.end() + 120]
    stop = _SPAN_END_RE.search(rest)
    rest = rest[: stop.start()] if stop else rest
    for match in itertools.islice(_UNITLESS_DAYS_RE.finditer(rest), 4):
        extra += _number(match["num"]) * len(_DAY_RE.findall(match["days"]))
    return extra, replaces


def _day_by_day(text: str) -> tuple[float, str, str] | None:
    """A week written day by day ('mon 5k, wed 8k, sun 12k'): (total, unit, day of the longest run)."""
    pairs = [(m["day"], _number(m["num"]), m["unit"]) for m in _DAY_DISTANCE_RE.finditer(text)]
    after = [(m["day"], _number(m["num"]), m["unit"]) for m in _DISTANCE_DAY_RE.finditer(text)]
    pairs = after if len(after) > len(pairs) else pairs  # "5km monday, 10km wednesday, ..."
    if len(pairs) < 3 or not any(unit for _, _, unit in pairs):
        return None
    unit = _unit(next(unit for _, _, unit in pairs if unit))
    longest = max(pairs, key=lambda pair: pair[1])
    if sum(1 for pair in pairs if pair[1] == longest[1]) > 1:
        return sum(p[1] for p in pairs), unit, ""
    return sum(p[1] for p in pairs), unit, _DAY_WORDS[longest[0]]


def _run_by_run(text: str) -> tuple[float, str] | None:
    """'3 runs a week: 5k, 5k and a 10k long run': the week is the runs listed, when there are that many."""
    for match in itertools.islice(_RUNS_A_WEEK_RE.finditer(text), MAX_DISTANCES):
        rest = text[match.end(): match.end() + 120]
        stop = re.search(r"[.!?;\n]", rest)
        rest = rest[: stop.start()] if stop else rest
        runs = list(itertools.islice(_DISTANCE_RE.finditer(rest), 8))
        if len(runs) == int(match["n"]) and not any(run["sign"] or run["num2"] for run in runs):
            return sum(_number(run["num"]) for run in runs), _unit(runs[0]["unit"])
        # "3 runs a week, 5, 5 and 10 miles": the numbers listed, the unit written once at the end.
        if (listed := _LIST_OF_RUNS_RE.search(rest)) and len(
                numbers := re.findall(_NUM, listed["list"])) == int(match["n"]):
            return sum(_number(n) for n in numbers), _unit(listed["unit"])
    return None


def read_mileage(text: str, loose: bool = False) -> tuple[tuple[float, str] | None, list[str]]:
    """Find the weekly running distance: ((km, unit) or None, problems). `loose` takes any distance given."""
    found, problems, _ = _mileage(_normalise(text), loose)
    return found, problems


def _mileage(text: str, loose: bool) -> tuple[tuple[float, str] | None, list[str], dict[str, float]]:
    """read_mileage on folded text, with the evidence for its choice (the confidence gate weighs it)."""
    # "couch to 5k" names a programme, not a run: blanked out, the same length, so positions hold.
    text = _NOT_A_DISTANCE_RE.sub(lambda m: " " * len(m.group(0)), text)
    distances = list(itertools.islice(_DISTANCE_RE.finditer(text), MAX_DISTANCES))
    scored = [(found, m) for m in distances if (found := _score_distance(text, m)) is not None]
    best = max(((s, i) for i, (s, _) in enumerate(scored) if s[0] + loose >= 1), default=None,
               key=lambda pair: (pair[0][0], -pair[1]))
    chosen: tuple[float, str] | None = None
    source = ""
    # "4 runs a week: 5k tues, 5k thurs, 8k sat and a 12k long one": the runs listed, unless a distance is
    # marked as the week's own total.
    explicit = best is not None and (best[0][3] > 1 or _explicitly_weekly(text, scored[best[1]][1]))
    if not explicit and (runs := _run_by_run(text)):
        chosen, source = runs, "run-by-run"
    if chosen is None and (best is None or best[0][0] < 3):
        week = _day_by_day(text)
        if week is not None:
            chosen, source = (week[0], week[1]), "day-by-day"
    if chosen is None and best is not None:
        chosen, source = (best[0][1], best[0][2]), f"score-{min(best[0][0], 8)}"
        if best[0][3] > 1 and (extra := _extra_runs(text, scored[best[1]][1], best[0][2]))[0]:
            # A run that replaces one of the repeats takes that repeat's place in the week.
            repeats = chosen[0] * (best[0][3] - 1) / best[0][3] if extra[1] else chosen[0]
            chosen, source = (repeats + extra[0], chosen[1]), "composed"
    past = [s for s, _ in scored if s[0] == PAST]
    # The 'now' number is looked for only where it could change the read (it searches the whole message).
    could_be_now = (chosen is None and past) or (best is not None and source.startswith("score") and best[0][3] == 1)
    now = _NOW_NUMBER_RE.search(text) if could_be_now else None
    if chosen is None and past and now:
        # "used to do 60 miles a week, now just 15": the number now, in the unit of the one before.
        chosen, source = (_number(now["num"] or now["num_now"]), past[0][2]), "now-number"
    elif now and best is not None and source.startswith("score") and best[0][3] == 1 and not _NOW_RE.search(
            _clause_around(text, *scored[best[1]][1].span())[0]) and now.start() > scored[best[1]][1].end() \
            and _number(now["num"] or now["num_now"]) < best[0][1] \
            and not _LONG_WORD_RE.search(_around(text, *now.span(), _PART_END_RE)):
        # "100k weeks in a build but i'm down at like 60 atm", "40 miles a week in summer, about 25 now":
        # the number said to be now, written after, beats a week not said to be now.
        chosen, source = (_number(now["num"] or now["num_now"]), best[0][2]), "now-number"
    if chosen is None and (runs := _run_by_run(text)):
        chosen, source = runs, "run-by-run"
    if chosen is None:
        # "48km, beginner", "45 miles.": the only distance there is, and too far for one everyday run.
        # Not in a sentence about the long run ("LR saturdays, 18-20 miles"): that is one run, however far.
        plain = [s for s, m in scored
                 if s[0] >= 0 and (s[1] * KM_PER_MILE if s[2] == "mi" else s[1]) >= _STANDALONE_MIN_KM
                 and not re.search(_LONG_KW, _around(text, m.start(), m.end(), _SENTENCE_END_RE))]
        if len(plain) == 1:
            chosen, source = (plain[0][1], plain[0][2]), "standalone"
    evidence = {f"source={source}": 1.0, "distances": min(len(distances), 8) / 4, "dropped": (
        len(distances) - len(scored)) / 4, "past": float(bool(past)), "candidates": len(
        {s[1] for s, _ in scored if s[0] >= 0}) / 4}
    if chosen is not None:
        picked = scored[best[1]][1] if best is not None and source.startswith(("score", "composed")) else None
        evidence.update(_week_evidence(text, chosen, picked, best[0][3] if picked else 1, bool(now)))
        try:
            return parse_mileage(f"{chosen[0]:g}{chosen[1]}"), [], evidence
        except MileageError as exc:
            return None, [str(exc)], evidence
    unitless = _UNITLESS_WEEKLY_RE.search(text)
    if unitless is None and loose:
        unitless = re.fullmatch(rf"\s*(?:{_APPROX})?\s*(?P<num>{_NUM})\s*", text)
    if unitless:
        try:
            parse_mileage(unitless["num"].replace("_", ""))
        except MileageError as exc:
            return None, [str(exc)], evidence
    return None, [], evidence


# --------------------------------------------------------------------------------------------
# Strength level

_NEGATED = r"(?:not|n't|never)\s+(?:a|an|really|quite|exactly|totally|complete(?:ly)?)?\s*"
_LEVEL_PATTERNS: dict[str, list[str]] = words()["patterns"]["level"]


@functools.lru_cache(maxsize=1)
def _classifier() -> TextClassifier:
    """One classifier over 'level:<level>', 'goals:<goal>' and 'none', trained from rules/intake_examples.yaml.

    One model for both fields, so a message costs one pass over its clauses (bench/bench_intake.py).
    """
    data, _ = read_yaml(get_settings().rules_dir / "intake_examples.yaml")
    texts: list[str] = []
    labels: list[str] = []
    for name in ("level", "goals"):
        for label, examples in data[name].items():
            texts.extend(examples)
            labels.extend(["none" if label == "none" else f"{name}:{label}"] * len(examples))
    return TextClassifier.fit(texts, labels, vocabulary(), kind="logistic")


@functools.lru_cache(maxsize=128)
def _clause_rows(text: str) -> tuple[tuple[float, ...], ...]:
    """The classifier's probabilities of every label for each clause that has words (cached per message)."""
    # A clause needs a word to describe lifting or a goal: "5k 5k 5k" or "40" is left to the extractors.
    clauses = [c.strip()[:MAX_CLAUSE_CHARS] for c in _clauses(text) if _WORD_RE.search(c[:MAX_CLAUSE_CHARS])]
    clauses = clauses[:MAX_CLAUSES]
    if not clauses:
        return ()
    return tuple(tuple(float(p) for p in row) for row in _classifier().probabilities(clauses))


def _clause_labels(text: str) -> tuple[tuple[str, float], ...]:
    """Each clause's most likely label other than `none`, with its probability."""
    labels = _classifier().labels
    found: list[tuple[str, float]] = []
    for row in _clause_rows(text):
        best = max(range(len(row)), key=lambda i: row[i])
        if labels[best] != "none":
            found.append((labels[best], row[best]))
    return tuple(found)


# A clause must make its label this likely before the reader takes it; below, the conversation asks.
LEVEL_CONFIDENCE = 0.55
GOAL_CONFIDENCE = 0.5
# Clauses a message is judged on: enough for any real message, and a bound on the cost of a long one.
MAX_CLAUSES = 24
MAX_CLAUSE_CHARS = 200
_WORD_RE = re.compile(r"[a-z]{3,}")


def _classified(name: str, text: str, confidence: float) -> list[tuple[str, float]]:
    """The clauses' labels for one field ('level' or 'goals') that the classifier is `confidence` sure of."""
    prefix = f"{name}:"
    return [(label.removeprefix(prefix), p) for label, p in _clause_labels(text)
            if label.startswith(prefix) and p >= confidence]


def read_level(text: str) -> str | None:
    """The runner's strength level from what they say, minding 'not a beginner'; None when nothing says."""
    return _level(_normalise(text))[0]


def _level(text: str) -> tuple[str | None, dict[str, float]]:
    """read_level on folded text, with the evidence for it: which reader found it and how sure it was."""
    found = _read_level_words(text)
    if found is not None:
        # Words for more than one level ("lifted seriously in college, now a beginner again") make it less sure.
        named = sum(1 for level in ("beginner", "intermediate", "advanced") if _LEVEL_RES[level].search(text))
        return found, {"source=words": 1.0, "p": 1.0, "levels-named": max(named - 1, 0)}
    # Descriptions ("never touched a barbell", "bench 100kg"): the classifier's most confident clause.
    hits = _classified("level", text, LEVEL_CONFIDENCE)
    if len({level for level, _ in hits}) != 1:
        return None, {}  # nothing said, or clauses that disagree: ask rather than guess
    return hits[0][0], {"source=classifier": 1.0, "p": max(p for _, p in hits)}


_NOT_BEGINNER_RE = re.compile(_NEGATED + r"(?:beginner|novice|new to (?:lifting|the gym|strength))")
_NEGATED_BEFORE_RE = re.compile(_NEGATED + r"$")
_LEVEL_RES = {level: re.compile("|".join(f"(?:{p})" for p in patterns)) for level, patterns in _LEVEL_PATTERNS.items()}
# Patterns that describe a level without naming it ("comfortable with heavy squats"): with "not a beginner"
# they tell advanced from intermediate.
_LEVEL_RES["advanced-described"] = re.compile(
    "|".join(f"(?:{p})" for p in _LEVEL_PATTERNS["advanced"] if "advanced" not in p))


# "squat 1.5x bodyweight": strong enough for heavy work from 1.5x (squat) or 1.75x (deadlift); below, regular lifting.
_BODYWEIGHT_LIFT_RE = re.compile(
    rf"\b(?P<lift>squat|deadlift|dead lift|bench|press)\w*\s+(?:(?:{_APPROX}|over|nearly|almost)\s*)?"
    r"(?P<times>\d+(?:\.\d+)?)\s*x\s*(?:my\s+)?(?:bodyweight|body weight|bw)"
)
# "squat 140 at 75kg bodyweight", "deadlift 180kg at 70kg bw": the same ratio, from the two weights.
_KG_LIFT_RE = re.compile(
    rf"\b(?P<lift>squat|deadlift|dead lift|bench|press)\w*\s+(?:(?:{_APPROX}|over|nearly|almost)\s*)?"
    r"(?P<lifted>\d+(?:\.\d+)?)\s*(?:kg|kgs|lbs?)?\b[^.;]{0,16}?\b(?P<weight>\d+(?:\.\d+)?)\s*(?:kg|kgs|lbs?)?\s*"
    r"(?:bodyweight|body weight|bw)"
)
_ADVANCED_MULTIPLE = {"squat": 1.5, "deadlift": 1.75, "dead lift": 1.75, "bench": 1.25, "press": 0.75}


def _read_level_words(text: str) -> str | None:
    if lift := _BODYWEIGHT_LIFT_RE.search(text):
        return "advanced" if float(lift["times"]) >= _ADVANCED_MULTIPLE[lift["lift"]] else "intermediate"
    if (lift := _KG_LIFT_RE.search(text)) and float(lift["weight"]) > 0:
        ratio = float(lift["lifted"]) / float(lift["weight"])
        return "advanced" if ratio >= _ADVANCED_MULTIPLE[lift["lift"]] else "intermediate"
    if _NOT_BEGINNER_RE.search(text):
        return "advanced" if _LEVEL_RES["advanced-described"].search(text) else "intermediate"
    for match in _LEVEL_RES["advanced"].finditer(text):
        if not _NEGATED_BEFORE_RE.search(text[max(0, match.start() - 40): match.start()]) and not _in_past(text, match):
            return "advanced"
    if _LEVEL_RES["beginner"].search(text):
        return "beginner"
    if any(not _in_past(text, match) for match in _LEVEL_RES["intermediate"].finditer(text)):
        return "intermediate"
    return None


def _in_past(text: str, match: re.Match[str]) -> bool:
    """True when the clause around a match tells the past ('lifted 3x a week in college')."""
    clause = _around(text, match.start(), match.end(), _PART_END_RE)
    return bool(_PAST_RE.search(clause)) and not _NOW_RE.search(clause)


# --------------------------------------------------------------------------------------------
# Goals

_GOAL_RES: dict[str, list[str]] = words()["patterns"]["goals"]
_GOAL_ORDER = list(_GOAL_RES)
_GOAL_COMPILED = {goal: re.compile("|".join(f"(?:{p})" for p in patterns)) for goal, patterns in _GOAL_RES.items()}


def read_goals(text: str) -> list[str]:
    """Goal ids named or implied ('PR' is speed, 'fells' is hills, 'break 50 min' is speed), in vocabulary order."""
    return _goals(_normalise(text))[0]


def _goals(text: str) -> tuple[list[str], dict[str, float]]:
    """read_goals on folded text, with the evidence for them (which reader, how sure, how many)."""
    # "used to play soccer and did loads of sprint stuff": a goal named in their past is not a goal now.
    found = {goal for goal, pattern in _GOAL_COMPILED.items()
             if any(not _in_past(text, match) for match in itertools.islice(pattern.finditer(text), 8))}
    evidence = {"source=words": 1.0, "p": 1.0}
    if not found:
        hits = _classified("goals", text, GOAL_CONFIDENCE)
        found = {goal for goal, _ in hits}
        evidence = {"source=classifier": 1.0, "p": min((p for _, p in hits), default=0.0)}
    goals = [goal for goal in _GOAL_ORDER if goal in found]
    return goals, {**evidence, "items": len(goals) / 3}


# --------------------------------------------------------------------------------------------
# Days: long run, hard sessions, strength days

_LONG_KW = r"\blong(?:er)?(?:\s+(?:runs?|ones?))?\b|\blr\b"
_HARD_KW = (
    r"intervals?|\btrack\b|tempo|\bhills\b|hill (?:reps|repeats|sprints)"
    r"|speed ?work|\bspeed\b|workouts?|sessions?|hill reps|\breps\b|fartlek|threshold"
    r"|hard (?:runs?|days?|sessions?|efforts?)|\bhard\b|quality|parkrun|club (?:nights?|runs?)|race pace|repeats"
    r"|\b\d+ ?x ?\d{3,4}m?\b|\bvo2\w*"  # "6x800", "5 x 1000m": reps on the track
)
_STRENGTH_KW = r"strength|\blift\w*|\bgym\b|weights|\bsquat\w*|\bdeadlift\w*"
_OTHER_KW = r"\brest\b|\boff\b|\beasy\b|recovery|\brace\b"
_FILLER = {"on", "is", "are", "usually", "normally", "every", "my", "a", "the", "=", ":", "-", "mornings", "morning"}
_DAY_GROUP_RE = re.compile(
    rf"(?:{_DAY_RE.pattern})(?:(?:\s*(?:,|/|&|\+|\band\b|\bor\b)\s*|\s+)(?:{_DAY_RE.pattern}))*"
)


_NEAR = 60
_DAY_GROUP_WORDS_RE = re.compile(r"\b(" + _alternation(words()["day_groups"]) + r")\b")


def _gap_cost(gap: str) -> int:
    # A comma costs more than two words: "tue 8k w/ intervals, thu 10k tempo" puts the intervals on tuesday.
    cost = 3 * len(re.findall(r"[,.]", gap))
    cost += sum(1 for word in re.findall(r"[\w'=:-]+", gap) if word not in _FILLER)
    return cost


def read_days(text: str) -> list[str]:
    """Every day named, in week order ('tue and thu', 'weds', 'Sundays')."""
    found = {_DAY_WORDS[m.group(1)] for m in _DAY_RE.finditer(_normalise(text))}
    return [day for day in DAYS if day in found]


def _day_roles(text: str) -> dict[str, list[list[str]]]:
    """Group the days of each sentence and give each group to the nearest keyword: long, hard, strength."""
    roles: dict[str, list[list[str]]] = {"long": [], "hard": [], "strength": []}
    text = _DAY_GROUP_WORDS_RE.sub(lambda m: " & ".join(words()["day_groups"][m.group(1)]), text)
    kinds = (("long", _LONG_KW), ("hard", _HARD_KW), ("strength", _STRENGTH_KW), ("other", _OTHER_KW))
    long_costs: list[int] = []
    for sentence in _sentences(text):
        groups = list(_DAY_GROUP_RE.finditer(sentence))
        if not groups:
            continue
        keywords = [(kind, m) for kind, pattern in kinds for m in re.finditer(pattern, sentence)]
        chosen: list[tuple[int, int, str, int, list[str]]] = []  # (cost, side, kind, keyword start, days)
        for group in groups:
            days = [_DAY_WORDS[m.group(1)] for m in _DAY_RE.finditer(group.group(0))]
            best: tuple[int, int, str, int] | None = None
            for kind, kw in keywords:
                if kw.end() < group.start() - _NEAR or kw.start() > group.end() + _NEAR:
                    continue  # too far to describe this day: more than a few words between them
                if kw.end() <= group.start():
                    cost, side = _gap_cost(sentence[kw.end(): group.start()]), 0
                elif kw.start() >= group.end():
                    cost, side = _gap_cost(sentence[group.end(): kw.start()]), 1
                else:
                    continue
                if best is None or (cost, side) < best[:2]:
                    best = (cost, side, kind, kw.start())
            if best is not None and best[0] <= 4:
                chosen.append((*best, days))
        # A keyword between two day groups describes the nearer ("wed 8k tempo, fri 5k": the tempo is on
        # wednesday); one before or after a list describes every group of it ("hard days are tue n sat").
        nearest: dict[int, int] = {}
        for start in {entry[3] for entry in chosen}:
            sides = {entry[1] for entry in chosen if entry[3] == start}
            nearest[start] = min(e[0] for e in chosen if e[3] == start) if len(sides) == 2 else 99
        for cost, _, kind, start, days in chosen:
            if kind in roles and cost <= nearest[start]:
                roles[kind].append(days)
                if kind == "long":
                    long_costs.append(cost)
    # The long run is on the day written nearest its keyword ("7 mi mon wed fri and a 12 mile long run sun").
    roles["long"] = [days for _, days in sorted(zip(long_costs, roles["long"], strict=True), key=lambda p: p[0])]
    return roles


# --------------------------------------------------------------------------------------------
# Strength days per week

_FREQ_RE = re.compile(
    r"\b(?P<freq>once|twice|three times|thrice|four times"
    r"|(?P<n>\d+)\s*(?:x|times|(?:(?:strength|lifting|gym|weights?)\s+)?(?:sessions?|days?)))"
    r"\s*(?:(?:a|per|/|each|every)?\s*(?:week|wk)\b|weekly\b)"
)
_FREQ_WORDS = {"once": 1, "twice": 2, "three times": 3, "thrice": 3, "four times": 4}


_HISTORY_RE = re.compile(r"for (?:years|\d+ years|a long time|ages)|used to|\bbeen\b|\byears of\b")


def read_strength_days(text: str) -> tuple[int | None, list[str]]:
    """Strength sessions a week the runner can do ('can lift twice a week'), not running days."""
    text = _normalise(text)
    for clause in _clauses(text):
        for match in _FREQ_RE.finditer(clause):
            count = int(match["n"]) if match["n"] else _FREQ_WORDS[match["freq"]]
            near = clause[max(0, match.start() - 30): match.end() + 20]
            right_before = clause[max(0, match.start() - 12): match.start()]
            if not re.search(_STRENGTH_KW, near) or re.search(rf"\brun\w*\s*(?:{_APPROX})?\s*$", right_before):
                continue
            if re.search(r"\bruns?\b|running", clause[match.start(): match.end() + 3]):
                continue
            # "I've lifted twice a week for years" tells their history, not what they can fit in now.
            if _PAST_RE.search(clause) or _HISTORY_RE.search(clause):
                continue
            return _strength_count(count)
    # "can do 2 sessions a week max", and a clause that is only a count ("3 days.", "2x per week") in a list
    # of facts: the strength days, since running days come with running words.
    for sentence in _sentences(text):
        for clause in _CLAUSE_END_RE.split(sentence):
            offered = _AVAILABLE_COUNT_RE.search(clause) or _BARE_COUNT_RE.match(clause)
            # ...not a count in a sentence about their history ("been lifting 3 yrs, 3x/wk").
            if offered and not re.search(r"\bruns?\b|running", clause[offered.end(): offered.end() + 12]) \
                    and not (_PAST_RE.search(sentence) or _HISTORY_RE.search(sentence)):
                return _strength_count(int(offered["n"]))
    return None, []


def _strength_count(count: int) -> tuple[int | None, list[str]]:
    """A strength-days count the planner takes (1-3), or the problem with it."""
    if not 1 <= count <= 3:
        return None, [f"LegDay plans 1 to 3 strength sessions a week, so I can't plan {count}. Choose 1, 2 or 3."]
    return count, []


_COUNT_NOUN = r"(?:x|times|(?:(?:strength|lifting|gym|weights?)\s+)?(?:sessions?|days?))"
_AVAILABLE_COUNT_RE = re.compile(
    rf"\b{_words_re('availability')}\s+(?:{_APPROX}\s+)?(?P<n>\d)\s*{_COUNT_NOUN}(?!\s*(?:of\s+)?run)")
_BARE_COUNT_RE = re.compile(rf"^\s*(?P<n>\d)\s*{_COUNT_NOUN}(?:\s*(?:a|per|/)\s*(?:week|wk))?\s*$")


# --------------------------------------------------------------------------------------------
# Equipment

_EQUIPMENT_RES = {
    # Spellings and slang ("dumbells", "dbs", "kb") are folded to these terms by the shared vocabulary first.
    "dumbbells": r"\bdumbbells\b",
    "kettlebell": r"\bkettlebell\b",
    "barbell": r"\bbarbell\b|squat rack|power rack|\brack\b|olympic bar",
    "box": r"plyo box|\bbox(?:es)?\b(?!\s*jumps?)|\bstep\b(?!-|\s*ups?)",
    "bands": r"(?<!it )(?<!it-)\b(?:resistance |mini ?|loop )?bands?\b(?!\s*syndrome)|theraband",
    "gym": r"gym membership|full gym|gym access|access to a gym|(?:my|local|work|commercial) gym\b"
           r"|gym at (?:my )?(?:work|home|uni|school|college)|free gym|go to the gym"
           r"|(?<!newbie )(?<!beginner )(?<!new )at the gym"
           r"|^\s*(?:a |the )?gym\s*$|equipment:\s*gym",
}
_NO_EQUIPMENT_RE = re.compile(
    r"no equipment|nothing at home|body ?weight only|just body ?weight|no kit\b|no weights"
    r"|\bno (?:gym|weights) (?:and no|or) (?:weights|equipment|gym)\b"
    r"|don't have (?:any )?equipment|without equipment|equipment:\s*none"
)


# "no barbell", "never touched a barbell", "comfortable with barbell work": a mention, not a thing they have.
_NOT_HAVING_RE = re.compile(
    r"\b(?:no|not|without|don't have(?: a| any)?|never (?:touched|used|lifted|held)(?: a| an| the)?"
    r"|(?:comfortable|experience|experienced|familiar|confident) with(?: a| the)?)\s+(?:\w+\s+)?$"
)


_EQUIPMENT_COMPILED = {item: re.compile(pattern) for item, pattern in _EQUIPMENT_RES.items()}
_EQUIPMENT_ANY_RE = re.compile("|".join(f"(?:{pattern})" for pattern in _EQUIPMENT_RES.values()))


def read_equipment(text: str) -> list[str] | None:
    """Equipment the runner has; [] when they say they have none; None when they don't say."""
    text = _normalise(text)
    found: set[str] = set()
    said_none = False
    for clause in _clauses(text):
        if _NO_EQUIPMENT_RE.search(clause):
            said_none = True
        if not _EQUIPMENT_ANY_RE.search(clause):
            continue
        for item, pattern in _EQUIPMENT_COMPILED.items():
            for match in pattern.finditer(clause):
                if _NOT_HAVING_RE.search(clause[: match.start()]):
                    continue
                found.add(item)
    if "gym" in found:
        return ["gym"]  # a gym has the barbells, dumbbells and boxes: "a gym with barbells" is a gym
    if found:
        return [item for item in _EQUIPMENT_RES if item in found]
    return [] if said_none else None


# --------------------------------------------------------------------------------------------
# Niggles and sharp pain

# Body areas by the words runners use; the reader also wants a "sore"/"tight" cue next to them.
NIGGLE_PATTERNS = {
    "achilles": r"achilles",
    "calf": r"\bcal(?:f|ves)\b(?!\s*raises?)",
    "knee": r"\bknees?\b|patell\w*",
    "it-band": r"\bit[- ]?bands?\b|\bitbs\b|iliotibial",
    "hamstring": r"\bhamstring\b",
    "hip": r"\bhips?\b|hip flexors?",
    "shin": r"\bshins?\b",
    "foot": r"plantar|\bfoot\b|\bfeet\b|\bheels?\b|\barch(?:es)?\b",
    "lower-back": r"lower[- ]back|bad back|\bback (?:pain|issues?|problems?|injury|spasms?)|sore back",
}
_SYNDROME_RE = r"shin splints|plantar fasciitis|runner'?s knee|\bitbs\b|it band syndrome"
_CUE_RE = (
    r"dodgy|\bbad\b|sore|tight|niggl\w*|pain\w*|\bache\w*|achy|aching|hurt\w*|issues?|problems?|injur\w*"
    r"|strain\w*|tweak\w*|grumpy|cranky|tendin\w*|splints|fasciitis|syndrome|rehab\w*|flare\w*|twinge\w*"
    r"|playing up|\btear\b|torn|sprain\w*|gets? sore|killing|bothering|acting up|giving me grief|\bworse\b"
    rf"|\b{_words_re('niggle_cues')}\b"
)
_NO_NIGGLES_RE = re.compile(
    r"\bno (?:injuries|injury|niggles|issues|problems)\b|\bnot (?:currently )?injured\b"
    r"|niggles:\s*none|(?<!stay )(?<!be )"
    r"(?<!stay )injury[- ]free (?:at the moment|right now|currently)|currently injury[- ]free"
)


_NIGGLE_COMPILED = {niggle: re.compile(pattern) for niggle, pattern in NIGGLE_PATTERNS.items()}
_NIGGLE_ANY_RE = re.compile("|".join(f"(?:{pattern})" for pattern in NIGGLE_PATTERNS.values()))
_CUE_OR_SYNDROME_RE = re.compile(f"{_CUE_RE}|{_SYNDROME_RE}")
# "no knee pain", "stop getting shin splints": the body part is named, but there is no niggle now.
_NOT_A_NIGGLE_BEFORE_RE = re.compile(
    r"\bno\s+(?:\w+\s+)?$|\b(?:stop|avoid|prevent|not|never)\w*\s+(?:to\s+)?(?:get(?:ting)?\s+|having\s+)?(?:\w+\s+)?$"
)


def read_niggles(text: str) -> list[str] | None:
    """Body areas with a niggle ('dodgy knee', 'shin splints'); [] for 'no injuries'; None when not said."""
    text = _normalise(text)
    found: set[str] = set()
    for clause in _clauses(text):
        if not _NIGGLE_ANY_RE.search(clause) or not _CUE_OR_SYNDROME_RE.search(clause):
            continue
        for niggle, pattern in _NIGGLE_COMPILED.items():
            for match in pattern.finditer(clause):
                if _NOT_A_NIGGLE_BEFORE_RE.search(clause[: match.start()]):
                    continue
                found.add(niggle)
    if found:
        return [niggle for niggle in NIGGLE_PATTERNS if niggle in found]
    return [] if _NO_NIGGLES_RE.search(text) else None


def read_sharp_pain(text: str) -> bool | None:
    """True for sharp or stabbing pain, False when the runner says it isn't sharp or there is no pain."""
    text = _normalise(text)
    if re.search(r"(?:not|no|isn't|never|n't|nothing)\s+(?:\w+\s+)?sharp|\bno pain\b|pain[- ]free|nothing hurts", text):
        return False
    if re.search(r"\b(?:sharp|stabbing|shooting)\b", text):
        return True
    return None


# --------------------------------------------------------------------------------------------
# Race date and distance: the one reader of dates for every front-end
#
# The reader finds where a date is written (ISO, "Jan 17", "17th March", "in 6 weeks", "next saturday")
# and dateparser turns that short span into a date, offline (English only, no locale search) and bounded
# (a few short spans per message, amounts checked before any arithmetic).

_ISO_RE = re.compile(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b")
_DAY_MONTH_RE = re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH}\b(?:,?\s*(\d{{4}}))?")
_MONTH_DAY_RE = re.compile(rf"\b{_MONTH}\s+(\d{{1,2}})(?:st|nd|rd|th)?\b(?:,?\s*(\d{{4}}))?")
_RELATIVE_RE = re.compile(
    r"\bin\s+(?:about\s+|around\s+|~)?(?P<n>\d+|a|an|one)\s+(?P<unit>weeks?|days?|months?|wks?)\b"
    r"|\b(?P<n2>\d+)\s+(?P<unit2>weeks?|days?|months?|wks?)\s+(?:away|out|to go|from now|time)\b"
    r"|\bin a (?P<fortnight>fortnight)\b"
)
_WEEKDAY_RE = re.compile(rf"\b(?:next|this|on|coming)\s+(?:{_DAY_RE.pattern[3:-3]})\b")
_RACE_CONTEXT_RE = re.compile(
    r"race|racing|marathon|\bhalf\b|\d+\s*k\b|ultra|parkrun|event|personal best|\b10k|\b5k|\bpb\b|\bpr\b"
)
# A weekday alone ("on saturday") is a race day only when a race is named, not a distance ("long run of 16k").
_RACE_WORD_RE = re.compile(r"\brac(?:e|es|ing)\b|marathon|\bultra|parkrun|\bevent\b|\b\d+\s*k race")
_NO_RACE_RE = re.compile(
    r"\bno (?:races?|racing|target race|race goal|events?)\b(?!\s+(?:pace|shoes|day))"
    r"|nothing (?:coming up|planned|booked|on the calendar)"
    r"|not (?:racing|training for (?:a|any) race)|no plans? to race|don'?t race|no upcoming race|race(?: date)?:\s*none"
)
_MAX_DAYS_AHEAD = 3 * 365
_DATE_SETTINGS: dict[str, Any] = {"PREFER_DATES_FROM": "future", "RETURN_AS_TIMEZONE_AWARE": False,
                                  "PARSERS": ["relative-time", "absolute-time"]}
DATE_HELP = FIELDS["race_date"].accepts

# (distance id, pattern) in the order rules/intake_words.yaml lists them: the first wins at one place.
RACE_DISTANCE_WORDS: tuple[tuple[str, str], ...] = tuple(words()["patterns"]["race_distances"].items())


def _parse_span(span: str, today: dt.date) -> dt.date | None:
    """Dateparser on one short span, relative to `today`; None when it is not a date."""
    import dateparser  # imported on first use: it loads its language data then (see warm_up)

    base = dt.datetime.combine(today, dt.time(12, 0))
    try:
        parsed = dateparser.parse(span[:40], languages=["en"], settings={**_DATE_SETTINGS, "RELATIVE_BASE": base})
    except (ValueError, OverflowError, TypeError):
        return None
    return parsed.date() if parsed else None


def _around(text: str, start: int, end: int, boundary: re.Pattern[str]) -> str:
    """The stretch of text around [start, end) up to the nearest `boundary` on each side."""
    before = text[max(0, start - 200): start]
    cut = max((m.end() for m in boundary.finditer(before)), default=0)
    after = text[end: end + 200]
    stop = boundary.search(after)
    return before[cut:] + text[start:end] + (after[: stop.start()] if stop else after)


_DAY_OF_MONTH_RE = re.compile(
    r"\bon the (?P<day>\d{1,2})(?:st|nd|rd|th)\b"  # "on the 13th of march" is read before, as a full date
    r"|\b(?:on\s+)?(?P<named>" + _alternation(words()["named_dates"]) + r")\b"
)


def _next_day_of(today: dt.date, month: int, day: int, yearly: bool) -> dt.date | None:
    """The first date from today on with this day (of this month, when `yearly`; else of this or next month)."""
    for step in range(13 if not yearly else 2):
        year, at = (today.year + step, month) if yearly else divmod(today.month - 1 + step, 12)
        if not yearly:
            year, at = today.year + year, at + 1
        try:
            found = dt.date(year, at, day)
        except ValueError:
            if yearly or day > 31:
                return None
            continue  # "the 31st" in a short month: the next month that has one
        if found >= today:
            return found
    return None


def _find_date(text: str, today: dt.date, loose: bool) -> tuple[dt.date | None, list[str], tuple[int, int]]:
    """The first date written in `text`, the problems with it, and where it was written."""
    where = (-1, -1)
    if match := _ISO_RE.search(text):
        try:
            return dt.date(int(match[1]), int(match[2]), int(match[3])), [], match.span()
        except ValueError:
            return None, [f"'{match.group(0)}' isn't a real date. {DATE_HELP}"], match.span()
    if (match := _DAY_MONTH_RE.search(text)) or (match := _MONTH_DAY_RE.search(text)):
        found = _parse_span(match.group(0), today)
        if found is None:
            return None, [f"'{match.group(0)}' isn't a real date. {DATE_HELP}"], match.span()
        return found, [], match.span()
    for match in itertools.islice(_RELATIVE_RE.finditer(text), MAX_CLAUSES):
        if not (loose or _RACE_CONTEXT_RE.search(_around(text, *match.span(), _SENTENCE_END_RE))):
            continue
        raw = match["n"] or match["n2"] or "2"
        unit = match["unit"] or match["unit2"] or "weeks"
        amount = 1 if raw in ("a", "an", "one") else int(raw)
        days = amount * (30 if unit.startswith("m") else 7 if unit.startswith("w") else 1)
        if days > _MAX_DAYS_AHEAD:
            return None, [f"'{match.group(0)}' is more than three years away. "
                          "Give a race date in the next year or two."], match.span()
        found = _parse_span(match.group(0) if not match["fortnight"] else "in 2 weeks", today)
        if found is None:
            return None, [f"I couldn't work out the date '{match.group(0)}' from today. {DATE_HELP}"], match.span()
        return found, [], match.span()
    # "a half on the 13th", "race a 10k on new years day": the next such day, when a race is named with it.
    for match in itertools.islice(_DAY_OF_MONTH_RE.finditer(text), MAX_CLAUSES):
        if not (loose or _RACE_CONTEXT_RE.search(_around(text, *match.span(), _SENTENCE_END_RE))):
            continue
        # "the hilly half in feb, its on the 7th": a month named in the sentence is the month.
        month_named = re.search(rf"\b{_MONTH}\b", _around(text, *match.span(), _SENTENCE_END_RE))
        if match["named"]:
            month, day = (int(part) for part in str(words()["named_dates"][match["named"]]).split("-"))
        else:
            month, day = (_MONTHS[month_named.group(1)] if month_named else today.month), int(match["day"])
        found = _next_day_of(today, month, day, yearly=bool(match["named"] or month_named))
        if found is None:
            return None, [f"'{match.group(0)}' isn't a real date. {DATE_HELP}"], match.span()
        return found, [], match.span()
    for match in itertools.islice(_WEEKDAY_RE.finditer(text), MAX_CLAUSES):
        if _RACE_WORD_RE.search(_around(text, *match.span(), _SENTENCE_END_RE)):
            span = match.group(0).replace("on ", "").replace("coming ", "next ")
            return _parse_span(span, today), [], match.span()
    return None, [], where


def _date_and_place(text: str, today: dt.date, loose: bool) -> tuple[dt.date | None, list[str], tuple[int, int]]:
    found, problems, where = _find_date(text, today, loose)
    if found is None:
        return None, problems, where
    try:
        limit = today + dt.timedelta(days=_MAX_DAYS_AHEAD)
    except OverflowError:
        limit = dt.date.max
    if found < today:
        return None, [f"{found.isoformat()} has already passed. Give the date of a race that's still to come."], where
    if found > limit:
        return None, [f"{found.isoformat()} is more than three years away. "
                      "Give a race date in the next year or two."], where
    return found, [], where


def read_date(text: str, today: dt.date, loose: bool = False) -> tuple[dt.date | None, list[str]]:
    """A future date written in a message or an answer; `loose` takes a relative date with no race named."""
    found, problems, _ = _date_and_place(_normalise(str(text or "")), today, loose)
    return found, problems


def read_race_date(text: str, today: dt.date, loose: bool = False) -> tuple[dt.date | None, list[str]]:
    """The race date a message gives (see read_date); the same reader serves chat, form, console and CLI."""
    return read_date(text, today, loose)


def says_no_race(text: str) -> bool:
    """True when the runner says there is no race ('no race planned', 'nothing coming up')."""
    return bool(_NO_RACE_RE.search(_normalise(str(text or ""))))


def read_race_distance(text: str) -> str | None:
    """The race's distance named in the text ('half', 'marathon', '10k'...), the first one named; else None."""
    text = _normalise(str(text or ""))
    hits = [(m.start(), name) for name, pattern in RACE_DISTANCE_WORDS for m in re.finditer(pattern, text)
            if not _WEEK_AFTER_RE.match(text[m.end(): m.end() + 20])]  # "10 km a week" is the week, not a race
    if not hits:
        return None
    # "half marathon" names both half and marathon at the same place: the longer phrase (half) comes first.
    return min(hits)[1]


_UPCOMING_BEFORE_RE = re.compile(r"\b(?:" + _alternation(words()["upcoming_race"]["before"]) + r")\b")
_UPCOMING_AFTER_RE = re.compile(r"\b(?:" + _alternation(words()["upcoming_race"]["after"]) + r")\b")


def _upcoming_race_distance(text: str) -> str | None:
    """The distance of a race the runner says is coming up ('a half in april'), when no date is given."""
    for part in _split_clauses(text)[:MAX_CLAUSES]:
        hits = sorted((m.start(), m.end(), name) for name, pattern in RACE_DISTANCE_WORDS
                      for m in itertools.islice(re.finditer(pattern, part), MAX_DISTANCES)
                      if not _WEEK_AFTER_RE.match(part[m.end(): m.end() + 20]))
        for start, end, name in hits:
            before, after = part[max(0, start - 40): start], part[end: end + 30]
            if _UPCOMING_BEFORE_RE.search(before) or _UPCOMING_AFTER_RE.search(after):
                return name
    return None


def warm_up() -> None:
    """Load the vocabulary, train the classifiers and load dateparser's data now, not on a member's message."""
    _classifier()
    confidence_model()
    _parse_span("in 1 week", dt.date(2026, 1, 1))
    _parse_span("jan 10", dt.date(2026, 1, 1))


# --------------------------------------------------------------------------------------------
# The reader and the classifier

# "Can lift twice a week" is a statement; "can I lift…" is a question: a leading verb needs its subject.
_QUESTION_START_RE = re.compile(
    r"^\s*(?:how|what|why|when|which|where|who|any tips)\b"
    r"|^\s*(?:should|can|could|will|would|does|do|is|are|am)\s+"
    r"(?:i|you|it|we|they|my|a|an|the|there|this|that|strength|lifting|squats?|runners?|heavy|\w+ing)\b"
)
_QUESTION_SPLIT_RE = re.compile(r"(?<=[.!?\n])\s+")
_FIRST_PERSON_RE = re.compile(r"\b(?:i|i'm|im|i've|ive|i'd|my|me)\b")


def _is_question(text: str) -> bool:
    return "?" in text or bool(_QUESTION_START_RE.match(text))


def parse_message(text: str, today: dt.date) -> ParseResult:
    """Read what a runner's message says about them into Profile fields, and say what is still missing."""
    # Cached: the chat front-end classifies a message and then reads it; the work is done once.
    return _parse_message(str(text or ""), today).model_copy(deep=True)


@functools.lru_cache(maxsize=128)
def _parse_message(text: str, today: dt.date) -> ParseResult:
    read, evidence = read_with_evidence(text, today)
    return gate(read, evidence)


@functools.lru_cache(maxsize=128)
def read_with_evidence(text: str, today: dt.date) -> tuple[ParseResult, dict[str, dict[str, float]]]:
    """Everything the reader finds, before the confidence gate, and each field's evidence (features)."""
    problems: list[str] = []
    text = str(text or "")
    if len(text) > MAX_CHARS:
        problems.append(f"That's a long message, so I read the first {MAX_CHARS:,} characters.")
        text = text[:MAX_CHARS]
    norm = _normalise(text)
    fields: dict[str, Any] = {}
    # A general question ("should a beginner lift heavy?") describes nobody; only read facts about the writer.
    if _is_question(norm) and not _FIRST_PERSON_RE.search(norm):
        # ...but "Just finished couch to 5k! running 3x a week. What now?" tells facts around its question.
        norm = " . ".join(part for part in _QUESTION_SPLIT_RE.split(norm)
                          if part.strip() and not _is_question(part.strip()))
        if not norm:
            return ParseResult(fields={}, missing=list(REQUIRED), problems=problems), {}
    evidence: dict[str, dict[str, float]] = {}

    mileage, found_problems, evidence["weekly_km"] = _mileage(norm, loose=False)
    problems += found_problems
    if mileage:
        fields["weekly_km"], fields["unit"] = mileage
    level, evidence["level"] = _level(norm)
    if level:
        fields["level"] = level
    goals, evidence["goals"] = _goals(norm)
    if goals:
        fields["goals"] = goals
    per_week, found_problems = read_strength_days(norm)
    problems += found_problems
    roles = _day_roles(norm)
    if per_week is None and roles["strength"]:
        count = len(roles["strength"][0])
        if 1 <= count <= 3:
            per_week = count
    if per_week is not None:
        fields["days_per_week"] = per_week
    # The long run's one day; "long run on the weekend" names two, so which one is asked.
    if single := [days for days in roles["long"] if len(days) == 1]:
        fields["long_run_day"] = single[0][0]
    hard = {day for group in roles["hard"] for day in group}
    if hard:
        fields["hard_days"] = [day for day in DAYS if day in hard]
    equipment = read_equipment(norm)
    if equipment is not None:
        fields["equipment"] = equipment
    niggles = read_niggles(norm)
    if niggles is not None:
        fields["niggles"] = niggles
    sharp = read_sharp_pain(norm)
    if sharp is not None:
        fields["sharp_pain"] = sharp
    race, found_problems, where = _date_and_place(norm, today, loose=False)
    problems += found_problems
    if race:
        fields["race_date"] = race
        # The distance is the one named where the date is ("marathon on jan 10"), else in that sentence.
        distance = read_race_distance(_around(norm, *where, _PART_END_RE)) or read_race_distance(
            _around(norm, *where, _SENTENCE_END_RE))
        # ...else the one race distance the message names, if it names only one ("a faster marathon").
        # ("half marathon" names half and marathon at one place: the first listed, as read_race_distance does).
        at: dict[int, str] = {}
        for name, pattern in RACE_DISTANCE_WORDS:
            for m in itertools.islice(re.finditer(pattern, norm), MAX_DISTANCES):
                if not _WEEK_AFTER_RE.match(norm[m.end(): m.end() + 20]) and not any(
                        abs(m.start() - start) < 6 for start in at):
                    at[m.start()] = name
        named = set(at.values())
        distance = distance or (named.pop() if len(named) == 1 else None)
        if distance:
            fields["race_distance"] = distance
            evidence["race_distance"] = {"source=with-date": 1.0}
    elif says_no_race(norm):
        fields["race_date"] = None
    elif distance := _upcoming_race_distance(norm):
        fields["race_distance"] = distance  # "training for the Tokyo marathon": a race, its date still to ask
        evidence["race_distance"] = {"source=upcoming": 1.0}
    if (week := _day_by_day(norm)) and week[2] and "long_run_day" not in fields:
        fields["long_run_day"] = week[2]
    missing = [name for name in REQUIRED if name not in fields]
    # Long messages and messages that talk about their past are where a reader errs most.
    shared = {"question": float("?" in norm), "past": float(bool(_PAST_RE.search(norm))),
              "length": min(len(norm) / 400, 3.0), "sentences": min(len(_split_sentences(norm)), 12) / 4}
    for name, value in fields.items():
        found = evidence.setdefault(name, {"source=words": 1.0})
        if isinstance(value, list):
            found["items"] = len(value) / 3
        for key, number in shared.items():
            found.setdefault(key, number)
    return ParseResult(fields=fields, missing=missing, problems=problems), evidence


# --------------------------------------------------------------------------------------------
# The confidence gate
#
# Each field the reader finds comes with evidence (which reader found it, how sure a classifier was, how
# many distances or clauses the message has, past-tense words...). A logistic model per field, fitted on
# the labelled messages (`python -m bot parse --calibrate`), turns the evidence into the probability that
# the field is right; a field below its threshold is dropped and asked. Thresholds are chosen so that a
# field silently wrong costs several times a question asked (bot/commands/parse.py, CV figures in README).


@functools.lru_cache(maxsize=1)
def confidence_model() -> dict[str, Any]:
    """Per field: intercept, weights by evidence name, threshold (rules/intake_confidence.yaml; {} if absent)."""
    path = get_settings().rules_dir / "intake_confidence.yaml"
    if not path.exists():
        return {}
    data, _ = read_yaml(path)
    return dict(data.get("fields") or {})


def field_confidence(model: dict[str, Any], evidence: dict[str, float]) -> float:
    """The probability, under one field's fitted model, that a field read with this evidence is right."""
    score = float(model.get("intercept", 0.0))
    weights = model.get("weights") or {}
    score += sum(float(weights.get(name, 0.0)) * value for name, value in evidence.items())
    return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, score))))


def fit_confidence_models(rows: dict[str, tuple[list[dict[str, float]], list[int]]],
                          silent_cost: float) -> dict[str, Any]:
    """Each field's model of 'this read is right' (for `field_confidence`) and threshold (for `gate`).

    `rows` holds, per field, each read's evidence and whether it was right (1) or silently wrong (0).
    With calibrated probabilities, keeping a field pays when p > cost x (1 - p), so the threshold is
    cost / (1 + cost) for every field (0.8 at a cost of 4); no threshold is tuned to the data. Used by the chat
    reader's and the check-in reader's calibration alike.
    """
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.linear_model import LogisticRegression

    threshold = round(silent_cost / (1 + silent_cost), 4)
    models: dict[str, Any] = {}
    for name, (xs, ys) in sorted(rows.items()):
        if len(ys) - sum(ys) < 3 or sum(ys) < 3:
            # Too few of one outcome to learn from: the field's share of right reads (smoothed), no evidence.
            share = (sum(ys) + 1) / (len(ys) + 2)
            models[name] = {"intercept": round(math.log(share / (1 - share)), 4), "weights": {},
                            "threshold": threshold, "reads": len(ys), "right": sum(ys)}
            continue
        vectorizer = DictVectorizer(sparse=False)
        model = LogisticRegression(C=1.0, max_iter=1000).fit(vectorizer.fit_transform(xs), ys)
        weights = {feature: round(float(w), 4) for feature, w in zip(vectorizer.feature_names_, model.coef_[0],
                                                                       strict=True) if abs(w) > 1e-6}
        models[name] = {"intercept": round(float(model.intercept_[0]), 4), "weights": weights,
                        "threshold": threshold, "reads": len(ys), "right": sum(ys)}
    return models


def gate(read: ParseResult, evidence: dict[str, dict[str, float]],
         models: dict[str, Any] | None = None) -> ParseResult:
    """Keep the fields the reader is sure enough of; the rest become missing (asked), never guessed."""
    models = confidence_model() if models is None else models
    fields = dict(read.fields)
    confidence: dict[str, float] = {}
    for name in list(fields):
        if name == "unit" or name not in models:
            continue
        confidence[name] = round(field_confidence(models[name], evidence.get(name, {})), 3)
        if confidence[name] < float(models[name].get("threshold", 0.0)):
            del fields[name]
            if name == "weekly_km":
                fields.pop("unit", None)
    missing = [name for name in REQUIRED if name not in fields]
    return ParseResult(fields=fields, missing=missing, problems=list(read.problems), confidence=confidence)


_PLAN_REQUEST_RE = re.compile(r"\b(?:plan|programme|program|routine|get started|sign me up|start)\b")


def classify_message(text: str) -> MessageKind:
    """'intake' for a message with profile facts (or asking for a plan), 'question' for the FAQ, else 'smalltalk'."""
    if not _normalise(str(text or "")[:MAX_CHARS]).strip():
        return "smalltalk"
    return message_kind(text, parse_message(str(text or ""), dt.date.today()))


def message_kind(text: str, read: ParseResult) -> MessageKind:
    """The kind of a message (see classify_message) given what the reader kept from it."""
    norm = _normalise(str(text or "")[:MAX_CHARS])
    if not norm.strip():
        return "smalltalk"
    facts = [name for name in read.fields if name != "unit"]
    question = _is_question(norm)
    if read.problems and not question:
        return "intake"  # a fact we could not use ("race in 100000 months") is answered, not small-talked
    if question and len(facts) < 2 and not _PLAN_REQUEST_RE.search(norm):
        return "question"
    if facts or _PLAN_REQUEST_RE.search(norm):
        return "intake"
    return "question" if question else "smalltalk"
