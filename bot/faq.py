"""LegDay's FAQ: a validated knowledge base of short answers, and matching of free-text questions to it.

Matching in brief: a question is normalised (contractions and chat spellings spelt out, runner and gym
phrases folded to one concept word: "hit the weights" and "leg day" are both "strength", "3x a week" is
"frequency", "race on Saturday" and "the last two weeks before a marathon" are "race week", every race
distance is "race"; slang folded to one word: "hammies" is "hamstring", "DOMS" is "sore"; a light
stemmer), each word not in the knowledge base's vocabulary is corrected to its closest vocabulary word
with rapidfuzz, and every entry is scored on how much of the question's information (IDF-weighted words)
it covers, both over the entry's whole vocabulary and over its single closest phrasing. Words the
knowledge base has never seen count against a match, which is what makes "recommend a running watch"
off-topic (shopping words and the upper body count twice). Words every runner uses (run, marathon, pace,
week...) count half, and a confident answer also needs words about the entry's own subject, so "how do
I pace my long run" is never answered with the scheduling entry just because both talk about long runs.
Question frames ("how often", "how long", "which day", a level word) rank entries, at half weight once
the question names a subject word at least as rare ("more protein now I lift twice a week" is about
protein), but count as their subject only when the question also names something the knowledge base
knows ("how often should I lift", not "how often should I do speedwork"), and a question about running
with no word of strength work ("I missed three runs this week") is not confidently answered with an
entry about strength work.
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
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from rapidfuzz import fuzz, process, utils
from rapidfuzz.distance import OSA

from bot.answers import ANSWER_LIMIT as ANSWER_LIMIT  # re-exported: callers know the limit as bot.faq's
from bot.answers import AnswerVariant, answer_problems
from bot.answers import render as render_answer_text
from bot.config import get_settings
from bot.errors import LegDayError
from bot.models import Profile
from bot.text import CONTENT_LIMIT, escape_user_text, neutralise_mentions, truncate
from bot.yamlio import DataFileError, StrictLoader, read_text

# Only the first characters of a question are matched: enough for any real question, and it keeps a
# pasted essay from costing more than a normal question.
MAX_QUESTION_CHARS = 300
AUTOCOMPLETE_LIMIT = 25
AUTOCOMPLETE_NAME_LIMIT = 100

# Calibrated on tests/data/faq_labelled.yaml (development data, the first two blind sets included); the
# accuracy targets are measured on tests/data/faq_blind3.yaml, written without seeing the entries or the
# matcher.
ANSWER_THRESHOLD = 0.6
OFF_TOPIC_THRESHOLD = 0.35
# Matched weight below which a match counts as thin evidence (a rare word weighs about 3.4 with the
# shipped entries, a word in a third of them about 1.4).
_EVIDENCE_WEIGHT = 2.5
# Matched weight of words that are not mere running context (_CONTEXT_TEXT) below which the best
# match's confidence is scaled down in proportion; with none at all the question is off-topic ("how do
# I pace my long run" shares only running words with the scheduling entry).
_ANCHOR_WEIGHT = 2.0
# Running-context words also count less when entries are ranked ("half marathon" should not outvote
# "how many sessions a week").
_CONTEXT_FACTOR = 0.5
# Question frames count less when ranking too, once the question names a subject word at least as rare
# as the frame: the subject decides the topic, the frame only what is asked about it.
_FRAME_FACTOR = 0.5
# A question that is not about the best entry's subject scales its confidence by this, which keeps it
# below ANSWER_THRESHOLD (at best a "did you mean"): a question frame with running words only ("how
# often should I do speedwork", _FRAME_TEXT), or running without strength work for an entry about
# strength work ("I missed three runs this week", _RUNNING_TEXT).
_OFF_SUBJECT_FACTOR = 0.5
_PREFIX_CERTAINTY = 0.85
_TYPO_SIMILARITY = 0.79  # one edit in five letters is exactly 0.8; leave room for rounding

MatchStatus = Literal["answer", "unsure", "off-topic"]


class FaqError(LegDayError):
    """A FAQ file or entry that cannot be used; the message names the file, the entry and the field."""


# --------------------------------------------------------------------------------------------
# Entries


_ID_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


def _clean_lines(values: list[Any]) -> list[Any]:
    return [value.strip() if isinstance(value, str) else value for value in values]


class FaqEntry(BaseModel):
    """One question LegDay can answer: its stable id, how people ask it, and its answer (bot/answers.py)."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    id: str = Field(min_length=2, max_length=40, pattern=_ID_RE.pattern)
    question: str = Field(min_length=5, max_length=AUTOCOMPLETE_NAME_LIMIT)
    phrasings: list[str] = Field(min_length=1, max_length=40)
    tags: list[str] = Field(default_factory=list, max_length=30)
    answer: str = Field(min_length=1, max_length=4000)  # its rendered length is checked against ANSWER_LIMIT
    variants: list[AnswerVariant] = Field(default_factory=list)
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
# Text normalisation for matching

_RACE = r"(?:race|marathon|half marathon|half|10k|5k|10 ?miler|ultra|event|parkrun)"
# A race coming up on a given day; parkrun is every Saturday, so it is not one.
_A_RACE = r"(?:race|marathon|half marathon|half|10k|5k|10 ?miler|ultra|event)"
_DAY_NAMES = r"(?:mon|tues?|wednes|thurs?|fri|satur|sun)(?:day)?s?|wed|thu|sat"

# Multi-word expressions runners use, folded to one token before words are split, so "warm up",
# "warm-up" and "warmup" are the same thing and "long run" is not just "long" + "run". The text they
# run on is lower-case, with every character but letters, digits, % and & turned into a space.
# Earlier patterns win where two could start at the same word, so longer ones come first. No pattern
# may hold a capturing group (the replacement is found by the number of the group that matched).
_PHRASES: dict[str, str] = {
    # Ways of saying "lifting": all one word, so no entry owns one of them by accident.
    r"hit(?:ting)? the (?:gym|weights|iron|weight ?room)": "strength",
    r"pump(?:ing)? iron": "strength",
    r"(?:strength|weight|weights|resistance|gym) ?(?:training|train|work)": "strength",
    r"s ?(?:and|n|&) ?c": "strength",
    r"leg ?days?": "strength",
    r"leg(?= (?:workouts?|exercises?|sessions?|training|work|routines?|moves|strength))|"
    r"train(?:ing)? (?:my |your |the )?legs": "leg strength",
    r"weight ?room": "strength",
    # How often. A phrase that names lifting keeps it ("how many gym days": "frequency strength"), and
    # "number of" leaves the words after it alone, so a frame never swallows the question's subject.
    r"how (?:often|frequently|regularly)": "frequency",
    r"how many (?:leg days|gym days|gym sessions|lifting sessions)": "frequency strength",
    r"how many (?:times|sessions|workouts|sesh\w*)": "frequency",
    r"(?:number|amount|no) of(?= (?:\w+ ){0,2}?(?:sessions|workouts|days|times|leg days))": "frequency",
    r"(?:once|twice|thrice|\d+ ?x|(?:\d+|one|two|three|four|five) times?) ?(?:a|per|each|every|in a)? ?(?:week|wk)":
        "frequency",
    r"(?:leg days|gym days) (?:a|per|each|every|in a) (?:week|wk)": "frequency strength",
    r"(?:times|sessions?|workouts?|sesh\w*|days) (?:a|per|each|every|in a) (?:week|wk)": "frequency",
    r"every single (?:week|wk)|now and (?:then|again)|every other week": "frequency",
    r"weekly(?! (?:mileage|distance|kms?|miles|volume|long ?runs?|mpw))": "frequency",
    # The 10% rule and how fast mileage grows.
    r"(?:10|ten) ?(?:%|percent|per cent|pc)": "tenpercent",
    # Timing in the week. A choice between two kinds of day ("easy days or hard days") asks which day.
    r"(?:which|what) (?:days?|day of the week|weekdays?|part of the week)|best (?:days?|weekdays?)"
    r"(?: of the week)? (?:to|for)": "schedule",
    r"(?:(?:my|the|on|an?) )?(?:easy|hard|rest|run|running|off|workout|speed|quality|recovery|long run|lifting|gym) "
    r"(?:running |run )?days? (?:or|vs|versus) (?:(?:my|the|on|an?) )?(?:easy|hard|rest|run|running|off|workout|"
    r"speed|quality|recovery|long run|lifting|gym) (?:running |run )?days?": "schedule",
    r"fit\w* (?:\w+ ){0,6}?(?:in|into|around) (?:my |a |the )?(?:week|schedule|training|runs|plan)|"
    r"(?:in|into|around) my (?:training |running )?(?:week|schedule|calendar)|"
    r"(?:when|where) in (?:the|my|a) (?:training |running )?week|"
    r"(?:go|goes|belong|belongs|fit|fits|slot|put|place|stack|pair|do (?:it|them|lifting|strength|legs))"
    r" (?:with|on|onto|into|alongside) (?:my |the |a |an )?(?:hard|easy|rest|run|running|off|workout|speed|quality|"
    r"recovery|long run|non ?running) (?:running |run )?days?": "schedule",
    # "Tempo" after "the day before my" is a tempo run, not a lifting tempo.
    r"(?:the )?(?:day|night|evening|morning|afternoon) (?:before|prior to) (?:an?|my|the) tempo\b": "daybefore hardrun",
    r"(?:the )?(?:day|morning) after (?:an?|my|the) tempo\b": "dayafter hardrun",
    r"(?:the )?(?:day|night|evening|morning|afternoon) (?:before|prior)": "daybefore",
    r"(?:the )?(?:day|morning) after": "dayafter",
    # Run-then-lift order on one day.
    r"(?:before|after) or (?:before|after)|(?:before|after) (?:my |the |a |an )?(?:easy |long |recovery |morning |"
    r"evening )?(?:run|runs|running|jog|lifting|lift|gym|squats?|strength|session|workout) or (?:before|after)":
        "order",
    r"which (?:comes |goes |should come |should go |one )?first": "order",
    r"(?:the )?other way (?:round|around)|vice versa|the reverse": "order",
    r"same day|same session|double days?|two a days?": "sameday",
    r"(?:right|just|straight|directly|immediately) (?:before|after)": "straight",
    r"mess(?:es|ing)? (?:up|with)|screw(?:s|ing)? (?:up|with)": "ruin",
    r"in the am|in the mornings?": "morning",
    r"in the pm|in the evenings?|after work": "eve",
    r"(?:(?:easy|long|recovery|short|my|the|an?) )*(?:run|runs|running|ran|jog|jogging|lift|lifting|gym|weights|"
    r"squats?|squatting|strength|leg day|treadmill)(?: first)?,? (?:and )?(?:then|followed by) "
    r"(?:(?:easy|long|recovery|short|my|the|an?) )*(?:run|runs|running|jog|jogging|lift|lifting|"
    r"gym|weights|squats?|squatting|strength|leg day|treadmill)": "order strength run",
    r"how (?:fast|quickly|quick|slow|slowly) (?:should|do|to|can|must) (?:i |you |we )?(?:go|lift|move|lower|raise|"
    r"push|do (?:my |the |each )?reps?)": "tempo",
    # Runs that matter, not to be confused with a lifting tempo or a "workout" in the gym.
    r"tempo (?:runs?|run day|efforts?|intervals?|pace|sessions?)": "hardrun",
    r"(?:speed|track|interval|quality|key|hard|threshold|hill|workout) (?:running |run |training )?"
    r"(?:sessions?|workouts?|runs?|days?)|(?:speed|track|interval|threshold|hill) (?:work|reps)|"
    r"(?:hill|track|mile|\d+ ?(?:m|k|km|s)?) repeats": "hardrun",
    r"long ?runs?": "longrun",
    # A race coming up (in race week, or on a day this week), a goal time, a result that will not move.
    _RACE + r"\w* (?:is )?(?:in|next) (?:\d+|a|one|two|three|a few|a couple of) ?(?:days?|weeks?)|"
    + _A_RACE + r"\w* (?:is )?(?:on |this |next |coming up |at the )*(?:" + _DAY_NAMES + r"|weekend|tomorrow)|"
    r"(?:this|next) (?:" + _DAY_NAMES + r"|weekend)s? " + _A_RACE + r"|(?:last|final) (?:\d+ |one |two |three |"
    r"few |couple of |couple )?(?:days?|weeks?) (?:before|leading up to|prior to|out from)(?: (?:a|the|my|your) "
    + _RACE + r"\w*)?|(?:week|weeks|days?|night) (?:of|before|leading up to|prior to|out from) (?:a|the|my|your) "
    + _RACE + r"\w*|race ?weeks?|days out": "race raceweek",
    r"(?:break|breaking|go under|get under|sub) ?\d+(?: ?(?:hours?|hrs?|h|minutes?|mins?))?": "pb",
    r"(?:until|till|til) (?:you|i) (?:can not|cannot|cant) (?:lift|do|move|manage|get)\w*(?: (?:it|the weight|"
    r"another rep|any ?more|one more))?|(?:can not|cannot|cant) do (?:another|one more|any ?more)(?: reps?)?":
        "failure",
    # A plan level: a level word alone is a frame ("a good 5k time for a beginner"), but choosing one, or
    # naming two of them, is about LegDay's levels.
    r"(?:start|go|begin|pick|choose|put myself|sign up|be) (?:at|as|with|in|on|for) (?:the )?"
    r"(?:beginner|intermediate|advanced)|(?:beginner|intermediate|advanced) (?:level|plan|programme|program)|"
    r"(?:beginner|intermediate|advanced),? (?:or|and|vs|versus|to) (?:an? |the )?(?:beginner|intermediate|advanced)":
        "level",
    r"lose (?:speed|pace)|slows? (?:me |you |us |runners )?down|slowing (?:me |you )?down|"
    r"make (?:me|you|us|runners?|my legs) (?:slow|slower|sluggish|heavy|heavier)": "slow bulk",
    r"(?:pre ?race|race|running) warm ?ups?|warm(?:ing)? ?ups? (?:before|for|pre) (?:a |the |my |an )?"
    r"(?:race|run|runs|running|marathon|half|5k|10k|parkrun|track|interval|tempo|long ?run|jog)\w*": "runwarmup",
    r"(?:do not|dont|does not|doesnt|have not|havent|never) (?:have|own|got) (?:any |a |access to (?:a |any )?)?"
    r"(?:weights|equipment|gym|dumbbells|kit|barbell|kettlebells?)|(?:have|got) no (?:weights|equipment|gym|"
    r"dumbbells|kit|barbell)": "home",
    # Lifting-specific words.
    r"warm(?:ing)? ?ups?(?: sets?)?|ramp(?:ing)? ?up sets?|(?:light|lighter|easy|feeler) sets? (?:first|before)":
        "warmup",
    r"cool(?:ing)? ?downs?": "cooldown",
    r"cross ?train(?:ing|s|er|ers)?|aqua ?jog\w*|deep water running|pool running|stair ?master|ski ?erg":
        "crosstrain",
    r"single ?leg(?:ged)?|one ?legged|on one leg|one leg at a time|1 leg": "singleleg",
    r"(?:left|right|one|weaker|stronger|weak|strong) (?:leg|side) (?:is )?(?:weaker|stronger)|"
    r"(?:left|right) (?:leg|side)|(?:weaker|stronger) (?:leg|side)|left right|(?:weaker|stronger) than "
    r"(?:the other|my (?:left|right|other))|one (?:of my )?(?:legs?|sides?|glutes?|calf|calves|quads?|"
    r"hamstrings?|hips?) (?:is )?(?:weaker|stronger)": "imbalance",
    r"(?:on the |the )?way down|going down|lowering phase|the descent|down phase": "lower",
    r"\d \d \d(?: \d)?|\d (?:secs? |seconds? )?(?:down|up)": "tempo",
    r"(?:secs?|seconds?) (?:down|up|lowering|lifting|pause)": "tempo",
    r"time under tension": "tempo",
    r"(?:tree ?trunks?|thunder ?thighs)(?: legs?)?|bulk(?:ing)? up|body ?build(?:er|ers|ing)?": "bulk",
    r"(?:big|bigger|huge|massive|thick|thicker|chunky|heavier) (?:legs|thighs|quads|calves|glutes|bum)|"
    r"(?:legs|thighs|quads|calves|glutes|bum|i|me) (?:will |would )?(?:get|getting|go|become|look|end up) "
    r"(?:too |really |so )?(?:massive|huge|big|bigger|bulky|thick|jacked|swole|muscly)": "bulk",
    r"(?:put|putting|gain|gaining|add|adding|pack) on (?:too much |a lot of |lots of |loads of |some |more |extra )?"
    r"(?:weight|size|muscle|mass|bulk|kilos|pounds)": "bulk",
    r"(?:gain|gaining|gains in) (?:too much |a lot of |lots of |loads of |some |more |extra )?"
    r"(?:weight|size|muscle|mass|kilos|pounds|lbs|kg)|"
    r"(?:muscle|weight|size|mass) (?:gain|gains|growth)": "bulk",
    r"(?:how soon|how long (?:until|till|til|before i|before you|before it|to see|to notice|does it take to see))":
        "result",
    r"(?:start|starts|begin|begins|starting) (?:to )?work(?:ing)?(?! out)|kick(?:s)? in|pay(?:s)? off|"
    r"see (?:any |no |much |a |little |some )?(?:results?|a difference|difference|improvements?|gains|change)|"
    r"show(?:s|ing)? up|start(?:s|ing)? (?:to )?show(?:ing)?|"
    r"(?:no|any|not much|little) (?:difference|change|improvement)(?: yet)?|(?:not|nothing) (?:changed|improved)|"
    r"(?:no|not any|not|none) (?:faster|stronger|quicker|better|different)(?: yet)?|when will":
        "result",
    r"how much time|how long": "duration",
    r"half an hour|an hour|1 hour|(?:\d+|twenty|thirty|forty|fifteen|ten) ?(?:mins?|minutes?)": "minute",
    r"how (?:hard|tough|difficult)": "effort",
    r"(?:to|until|till|til) failure|(?:left )?in the tank|(?:totally|completely|fully|absolutely|be|feel|feeling|"
    r"get|am|is|are) (?:spent|gassed|cooked|fried|smoked|empty|toast)|nothing left|all out|"
    r"(?:stop|finish|end|quit)(?:ping)? (?:\w+ )?(?:before|short of) (?:that|failure|the end|my limit|i fail)":
        "failure",
    r"rep(?:s|etitions)? in reserve": "rir",
    r"(?:one|1) ?rep ?max|1 ?rm|max(?:ing)? out|rep max|max attempts?|testing (?:my )?max": "max",
    r"(?:low|lower) reps?": "lowrep",
    r"(?:high|higher) reps?": "highrep",
    r"progressive ?overload|add(?:ing)? (?:more )?weight|go(?:ing)? up in weight|up the weight|over time|"
    r"over the (?:weeks|months|years|long term)|week (?:on|after|by|to) week|as (?:i|you|we) get stronger|"
    r"keep (?:getting|making) (?:\w+ )?(?:stronger|progress)|(?:harder|tougher|more challenging) (?:each|every) "
    r"(?:week|time|session)|"
    r"increase the (?:weight|load)|(?:go|going|move|moving|lift|lifting) heavier": "overload",
    r"(?:increas\w*|upp?ing|up|ramp\w*|build\w*|jump\w*|add\w*|more|big|bigger|huge|high|higher|massive|"
    r"peak|heavy|lots of|tons of|loads of) (?:(?:my|the|in|weekly|running|training|total) )*(?:mileage|miles|kms?|"
    r"kilometres|kilometers|volume|distance|mpw)|(?:mileage|miles|volume|distance|kms?|mpw)(?: is| are)? "
    r"(?:going up|gone up|increasing|huge|jumping|rising|ramping|climbing|high|big|way up)|"
    r"peak (?:block|phase|weeks?|mileage|training|volume)": "mileageup",
    r"(?:gone|going|go|goes|went) up|(?:not|no longer) (?:improving|progressing|increasing|budging|moving)":
        "increase",
    r"(?:down|easy|easier|lighter|light|recovery|cut ?back|cutback|step ?back|rest) weeks?": "deload",
    r"(?:week|wk) (?:4|four)|(?:fourth|4th) week|every (?:4|four)(?:th)? weeks?": "deload",
    r"back(?:ing)? off": "deload",
    r"fell off|fall(?:en)? off|falling off|back on track|back on the wagon|get back into it|"
    r"make ?up(?: for)?|catch ?up|double up|time off|took (?:a )?(?:week|weeks|month|break) off": "missed",
    r"no (?:equipment|gym|weights|kit|dumbbells|barbell|access|gym access|gym membership)|"
    r"without (?:a |any )?(?:gym|equipment|weights|kit|dumbbells)|at home|home ?gym|living room|hotel room|"
    r"body ?weight only|just (?:my )?body ?weight": "home",
    r"(?:\d+(?: \d+)? ?x|twice|double|one and a half) (?:my )?body ?weight|"
    r"(?:squat|deadlift|lift) (?:my |your )?(?:own )?body ?weight": "strongstandard",
    r"body ?weight": "bodyweight",
    r"new to (?:lifting|the gym|weights|strength)|never (?:lifted|been to a gym|done weights)|"
    r"first time (?:lifting|in the gym)|never (?:touched|used|done|tried) "
    r"(?:a |any )?(?:barbell|weights?|dumbbells?|kettlebells?|strength \w+|lifting)": "beginner strength",
    r"new to this|complete beginner|total beginner": "beginner",
    r"foam ?roll(?:ing|er|ers)?|massage gun|theragun|lacrosse ball": "foamroll",
    r"range of (?:motion|movement)": "mobility",
    r"hip ?flexors?": "hipflexor",
    r"(?:recover\w*|coming back|come back|comeback|returning|return\w*|back|rehabb?\w*) (?:from|after)"
    r"(?= (?:an? |my |the |this |some )?(?:\w+ )?(?:injur|strain|niggle|shin|knee|achilles|it ?band|itb|plantar|"
    r"stress|tendin|surgery|pulled|torn|sprain|hamstring|calf|hip|foot|ankle|back|broken))": "rehab",
    # Is it soreness or an injury: the question soreness-vs-pain answers.
    r"(?:injur\w*|strain\w*|pulled|torn|tear|hurt|pain|damage\w*|serious|something worse) or (?:just |only |"
    r"normal |regular |simply |plain )?(?:sore\w*|doms|tight\w*|stiff\w*|aching|achy)|(?:sore\w*|doms|tight\w*|"
    r"stiff\w*|aching|achy|normal) or (?:an? |actually |something |am i |i am |im )?(?:injur\w*|strain\w*|pulled|"
    r"torn|tear|hurt|serious|worse|damage\w*|pain)": "sore injury sorevspain",
    r"(?:come|comes|coming|came) back|comeback": "return",
    r"(?:playing|play|plays|played|acting|act|acts|flaring|flare|flares|flared) up": "niggle",
    r"shin ?splints?": "shin",
    r"it ?band|itb|itbs|iliotibial": "itband",
    r"runners? knee|jumpers? knee|patellar? \w+|pfps": "knee",
    r"plantar ?fasc\w*|plantar": "plantar",
    r"stress fractures?|stress reaction": "injury",
    r"back ?to ?back|(?:two|2) days? in a row|in a row": "consecutive",
    r"race ?days?|half ?marathons?": "race",
    r"personal (?:best|record)s?|(?:race|finish|finishing|marathon|half|5k|10k|parkrun) times?|race results?": "pb",
    r"running economy": "economy",
    r"dead ?bugs?": "deadbug",
    r"calf raises?": "calfraise",
    r"heel drops?|calf lower(?:s|ing)?|slow lowers?": "eccentric calf",
    r"box jumps?|depth jumps?|jump squats?|pogo(?:s| jumps| hops)?|jump training": "plyometric",
    r"skipping (?:drills?|ropes?)|jump(?:ing)? ropes?|[ab] ?skips?": "skipdrill",
    r"on top of|as well as|in addition to|carry(?:ing)? on|keep going": "plus",
    r"(?:pull|push|press|chin) ?ups?|bench ?press\w*|(?:overhead|military|chest) press\w*|upper ?body|"
    r"shoulders?(?: press\w*)?":
        "upperbody",
    r"pre ?(?:race|marathon)": "race raceweek",
    r"(?:after|post) (?:an? |the |my |your )?" + _RACE + r"\w*": "race postrace",
    r"fasted|fasting|empty stomach|before (?:eating|breakfast)|without (?:eating|breakfast)": "nofood",
    r"(?:bulgarian|rear foot elevated|split) (?:split )?squats?|bss|rfess": "splitsquat",
    r"step ?ups?": "stepup",
    r"(?:glute|hip) (?:bridges?|thrusts?)": "bridge",
    r"(?:monster|band|banded|crab|lateral|side) walks?": "lateralwalk",
    r"dead (?:butt|bum)|glute amnesia|lazy glutes|hips? (?:drop|drops|dropping|dropped|dip|dips|dipping|sag|"
    r"sags|sagging)": "hipdrop",
    r"bird ?dogs?": "birddog",
    r"dead legs?|heavy legs?|tired legs?|legs? (?:still |so |really |are |feel |feeling |felt |have been )*"
    r"(?:dead|heavy|flat|trashed|toast|shot|tired|like lead|like bricks)": "tiredlegs",
    r"ice baths?|cold (?:plunge|water)": "icebath",
    r"(?:cant|can not|cannot|barely) (?:walk|sit|get up)|killing me": "sore",
    r"rest days?": "restday",
    r"easy (?:runs?|days?|miles)|recovery runs?": "easyrun",
}
# Tried only where a word starts (twice as fast as at every word boundary).
_PHRASE_RE = re.compile(r"(?<![a-z0-9%&])(?:" + "|".join(f"({p})" for p in _PHRASES) + r")\b")
_PHRASE_OUT = list(_PHRASES.values())

# Slang, jargon and spelling variants, one word each, folded before stemming. A typed word is looked up
# as it is, and again once stemmed ("hammies" and "hammy" both reach "hamstring").
_WORDS: dict[str, str] = {
    # lifting
    "gym": "strength", "lifting": "strength", "lift": "strength", "lifts": "strength", "lifted": "strength",
    "weights": "strength", "weightlifting": "strength", "lifter": "strength", "lifters": "strength",
    "iron": "strength", "strengthening": "strength", "resistance": "strength",
    "s&c": "strength", "sc": "strength", "weightroom": "strength", "powerlifting": "strength",
    "kettlebells": "kettlebell", "kb": "kettlebell", "kbs": "kettlebell", "db": "dumbbell", "dbs": "dumbbell",
    "dumbells": "dumbbell", "dumbbells": "dumbbell", "bb": "barbell", "barbells": "barbell",
    "sesh": "session", "seshes": "session", "wkout": "workout", "workouts": "workout", "routine": "workout",
    "routines": "workout", "program": "plan", "programme": "plan", "programs": "plan", "programmes": "plan",
    "scheduling": "schedule", "timetable": "schedule", "calendar": "schedule",
    # exercises named by their gym slang
    "squats": "squat", "squatting": "squat", "squatted": "squat", "deadlifts": "deadlift", "dl": "deadlift",
    "dls": "deadlift", "rdl": "deadlift", "rdls": "deadlift", "romanian": "deadlift", "lunging": "lunge",
    "bulgarians": "splitsquat", "bulgarian": "splitsquat", "pistols": "pistol", "stepups": "stepup",
    "nordics": "nordic", "eccentrics": "eccentric", "negatives": "eccentric", "negative": "eccentric",
    "plank": "core", "planks": "core", "planking": "core", "crunches": "core", "situps": "core",
    "abs": "core", "ab": "core", "trunk": "core", "midsection": "core",
    "clams": "clamshell",
    # body parts
    "hammies": "hamstring", "hammy": "hamstring", "hams": "hamstring", "hamstrings": "hamstring",
    "calves": "calf", "calfs": "calf", "quads": "quad", "quadriceps": "quad",
    "glutes": "glute", "glutei": "glute", "gluteus": "glute", "bum": "glute", "butt": "glute", "booty": "glute",
    "backside": "glute", "arse": "glute", "ass": "glute", "hips": "hip",
    "biceps": "upperbody", "bicep": "upperbody", "triceps": "upperbody", "tricep": "upperbody",
    "pecs": "upperbody", "lats": "upperbody", "arms": "upperbody", "chest": "upperbody",
    "pullups": "upperbody", "pushups": "upperbody",
    "tendons": "tendon", "ligaments": "tendon", "ankles": "ankle", "shins": "shin",
    # soreness and pain
    "doms": "sore", "achy": "sore", "aching": "sore", "ache": "sore", "aches": "sore", "sorer": "sore",
    "soreness": "sore", "wrecked": "sore", "destroyed": "sore", "stiffness": "stiff",
    "twinge": "pain", "twinges": "pain", "painful": "pain", "hurts": "pain", "hurt": "pain", "hurting": "pain",
    "stabbing": "sharp", "shooting": "sharp",
    "prevention": "prevent", "preventing": "prevent", "prevents": "prevent",
    "niggles": "niggle", "niggly": "niggle", "dodgy": "niggle", "crocked": "niggle",
    "injuries": "injury", "injured": "injury", "injure": "injury", "strain": "injury", "strained": "injury",
    "strains": "injury", "pulled": "injury", "tear": "injury", "torn": "injury", "rehabbing": "rehab",
    "sprain": "injury", "sprained": "injury", "sprains": "injury",
    "tendonitis": "tendinopathy", "tendinitis": "tendinopathy", "tendinosis": "tendinopathy",
    "physiotherapist": "physio", "physios": "physio",
    # recovery
    "knackered": "tired", "exhausted": "tired", "fatigued": "tired", "fatigue": "tired", "shattered": "tired",
    "drained": "tired", "recover": "recovery", "recovering": "recovery",
    "recovered": "recovery", "sleeping": "sleep", "slept": "sleep",
    # plyometrics
    "plyo": "plyometric", "plyos": "plyometric", "plyometrics": "plyometric", "jumps": "jump",
    "jumping": "jump", "hops": "hop", "hopping": "hop", "bounds": "bounding", "pogos": "plyometric",
    # size and speed
    "bulky": "bulk", "bulking": "bulk", "swole": "bulk", "hench": "bulk", "jacked": "bulk", "beefy": "bulk",
    "hypertrophy": "bulk", "muscly": "bulk", "bodybuilder": "bulk", "bodybuilding": "bulk",
    "thicc": "bulk", "buff": "bulk", "ripped": "bulk",
    "pr": "pb", "prs": "pb", "pbs": "pb", "quicker": "faster", "speedier": "faster",
    "economical": "economy", "efficiency": "economy", "efficient": "economy",
    # levels
    "newbie": "beginner", "noob": "beginner", "novice": "beginner", "newb": "beginner", "rookie": "beginner",
    "beginners": "beginner", "experienced": "advanced", "veteran": "advanced", "intermediates": "intermediate",
    # effort
    "rpe": "rir", "failing": "failure", "fail": "failure", "grinder": "grind",
    "grinding": "grind",
    # cross-training
    "cycling": "bike", "biking": "bike", "cycle": "bike", "bicycle": "bike", "peloton": "bike",
    "spinning": "spin", "swimming": "swim", "swims": "swim", "rower": "row", "rowing": "row", "erg": "row",
    "ellipticals": "elliptical", "hiking": "hike", "xt": "crosstrain",
    # food
    "protien": "protein", "whey": "protein", "macros": "protein", "grams": "protein", "carbs": "carbohydrate",
    "carb": "carbohydrate", "fueling": "fuel", "fuelling": "fuel", "eating": "eat", "ate": "eat",
    "foods": "food", "meals": "meal", "snacks": "snack", "supps": "supplement",
    "creatine": "supplement", "calorie": "calories", "kcal": "calories", "cals": "calories",
    # mobility
    "stretches": "stretch", "stretching": "stretch", "stretched": "stretch", "flexibility": "flexible",
    "mobilise": "mobility", "mobilize": "mobility", "pilates": "yoga",
    # running words
    "km": "mileage", "kms": "mileage", "kilometres": "mileage", "kilometers": "mileage",
    "miles": "mileage", "mi": "mileage", "mpw": "mileage", "distance": "mileage", "volume": "mileage",
    "kmpw": "mileage",
    "intervals": "hardrun", "interval": "hardrun", "speedwork": "hardrun", "fartlek": "hardrun",
    "fartleks": "hardrun", "threshold": "hardrun",
    "tapering": "taper", "tapered": "taper",
    # Race distances are all one race: which one a runner names says nothing about the topic.
    "races": "race", "racing": "race", "raceday": "race", "event": "race", "marathon": "race",
    "marathons": "race", "marathoner": "race", "marathoners": "race", "5k": "race", "10k": "race",
    "5ks": "race", "10ks": "race", "ultra": "race", "ultras": "race", "parkrun": "race", "parkruns": "race",
    "half": "race", "hm": "race", "halfmarathon": "race", "15k": "race", "21k": "race", "42k": "race",
    "50k": "race",
    "pre": "before", "post": "after",
    # A runner is who asks, not what the question is about: "runners" stays apart from "run".
    "runner": "athlete", "runners": "athlete", "athletes": "athlete", "jogger": "athlete",
    "joggers": "athlete",
    "unilateral": "singleleg", "reps": "rep", "repetitions": "rep", "sets": "set",
    "legit": "real", "myth": "real", "true": "real", "bs": "real", "overrated": "worth",
    "mins": "minute", "min": "minute", "minutes": "minute", "hour": "minute", "hours": "minute",
    "hr": "minute", "hrs": "minute",
    # days of the week
    "monday": "weekday", "tuesday": "weekday", "wednesday": "weekday", "thursday": "weekday",
    "friday": "weekday", "saturday": "weekday", "sunday": "weekday", "weekend": "weekday",
    "mon": "weekday", "tue": "weekday", "tues": "weekday", "wed": "weekday", "thu": "weekday",
    "thurs": "weekday", "fri": "weekday", "sat": "weekday", "sun": "weekday", "weekends": "weekday",
    "weekdays": "weekday", "evening": "eve", "evenings": "eve", "mornings": "morning",
    # wrecking a run
    "wreck": "ruin", "wrecks": "ruin", "ruins": "ruin", "ruined": "ruin", "sabotage": "ruin",
    "compromise": "ruin",
    # missing sessions
    "forgot": "miss", "forget": "miss", "forgotten": "miss",
    "skipped": "skip", "skipping": "skip", "missed": "miss", "missing": "miss", "ill": "sick",
    "illness": "sick", "flu": "sick", "covid": "sick", "vacation": "holiday",
    "travelling": "holiday", "traveling": "holiday",
}

# Chat spellings, replaced word for word before anything else so phrases like "how often" still match.
_CHAT: dict[str, str] = {
    "u": "you", "ur": "your", "b4": "before", "wk": "week", "wks": "weeks", "tmrw": "tomorrow",
    "tmr": "tomorrow", "shld": "should", "hw": "how", "n": "and", "r": "are", "abt": "about", "w": "with",
    "wat": "what", "wot": "what", "thx": "thanks", "plz": "please", "prob": "probably", "probs": "probably",
    "howto": "how to", "howmany": "how many", "gud": "good", "bc": "because", "cuz": "because",
    "coz": "because", "wanna": "want to", "gonna": "going to", "shud": "should", "shd": "should",
    "wud": "would", "cud": "could", "ppl": "people", "sth": "something", "smth": "something", "b": "be",
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
    legday bot plus guys anyone someone need want go going gonna wanna gotta let lets mate folks everyone
    tell know think still even ever every way best good bad better till til time tip tips advice help
    question ideal purpose point issue issues problem idea mean means start vs versus super once twice
    one two three four five six seven eight nine ten times many put someone people probably because
    sensible reasonable optimal recommended proper make makes making made right keep keeping
    well now though actually always usually without extra hasnt havent didnt wasnt arent couldnt
    wouldnt youll youre youve theyre thats theres heres whos gain gains see number numbers come comes
    coming came completely totally entirely fully absolutely literally basically honestly definitely
    seriously pretty quite rather bit dumb stupid silly crazy couple lot lots bunch during
"""
_STOPWORDS = frozenset(_STOPWORD_TEXT.split())

# Words every runner uses whatever they ask about: running itself, races, distances, days, food and
# pain in general. They help tell entries apart, but a question made only of them ("how do I pace my
# long run", "is it ok to run every day") is about running, not leg strength, so it is never answered
# with confidence: that needs words about the entry's own subject (see _ANCHOR_WEIGHT). An injury, a
# knee or a shin is such a subject ("can I squat while injured"), though with no word of strength work
# ("can I run with a sore knee") it is still not answered (see _RUNNING_TEXT and _INJURY_TEXT).
_CONTEXT_TEXT = """
    run, runs, running, runner, jog, jogging, marathon, half marathon, ultra, 5k, 10k, parkrun, race, pace,
    mileage, miles, km, week, day, weekday, time, training, train, plan, workout, session, long run,
    easy run, hard run, tempo run, track, trail, hill, treadmill, taper, fast, faster, speed,
    pain, hurt, physio, eat, food, fuel, diet, calories, carbohydrate, hydration, sport, fitness,
    good, safe, normal, worth, ok, bad, real, body, life, health, start, stop, first, next, last,
    difference, between, replace, swap, instead, alternative, sick, ill, year, month, today, tomorrow,
    tonight, morning, evening, afternoon, cold, block, uphill, downhill, meal, snack, breakfast, vitamins,
    vegan, weather, heat, rain, rest day, runwarmup, form, technique, long, slow, slower, quick, stride, strides
"""

# Question frames: what kind of answer is wanted (how often, how long, when, in what order, how hard,
# how to improve, at which level), not what it is about. "How often should I do speedwork", "how long
# should my easy runs be" and "a good 5k time for a beginner" have a frame and running words, and are
# about running. A frame counts towards an entry only once the question also has a word about a
# subject the knowledge base knows (not running talk, not another frame): "how often should I lift".
_FRAME_TEXT = """
    how often, often, how long, how much time, minutes, hours, how soon, results, yet, which day,
    day before, day after, before or after, which first, same day, right after, back to back, before,
    how hard, hard, harder, effort, enough, improve, improvement, increase, progress, plateau, stuck,
    beginner, intermediate, advanced, novice, experienced, new, ready, prepare, take, feel
"""

# Running itself as the thing asked about (not "runners", who ask): with one of these and no word of
# strength work (_STRENGTH_TEXT), a question is about running ("I missed three runs this week", "can
# I run with a sore knee"), so an entry about strength work is not its confident answer (see
# FaqBase._about_strength).
_RUNNING_TEXT = """
    run, runs, running, ran, jog, jogging, marathon, half marathon, ultra, 5k, 10k, parkrun, race, pace,
    mileage, long run, easy run, hard run, tempo run, intervals, speedwork, track, trail, treadmill, taper,
    runwarmup, stride, mileageup
"""
# An injury as the thing asked about: with an injured place, or an injury or pain without the soreness
# that comes from training, and no word of strength work, a question is a medical one ("how long do shin
# splints last", "is ice good for a sore knee", "injury prevention tips"), so an entry about strength work
# is not its confident answer either; "how can I tell good soreness from bad pain" still is.
_INJURY_TEXT = "injury, pain, hurt, niggle, physio, rehab, sharp"
_INJURED_PLACE_TEXT = "knee, shin, achilles, it band, plantar, tendinopathy"
_SORE_TEXT = "sore, doms, aching, stiff"
# Words of strength work: lifting and its exercises, sets and reps, how hard and how heavy.
_STRENGTH_TEXT = """
    strength, lifting, gym, weights, leg day, squat, deadlift, lunge, split squat, step up, calf raise,
    hip thrust, glute bridge, nordic, eccentric, plyometrics, box jump, jump, hop, bounding, pistol, rep,
    set, exercise, barbell, dumbbell, kettlebell, bodyweight, resistance band, plank, core, clamshell,
    single leg, unilateral, progressive overload, failure, rir, one rep max
"""


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
    if word.endswith(("ies", "ied")) and len(word) > 4:
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
# Contractions spelt out, so "I'll" is not "ill" and "can't walk" reads as "can not walk".
_CONTRACTIONS = {
    "can't": "can not", "won't": "will not", "n't": " not", "'ll": " will", "'re": " are", "'ve": " have",
    "'m": " am", "'d": " would", "'s": "",
}
_CONTRACTION_RE = re.compile(r"(can[’']t|won[’']t|n[’']t|[’'](?:ll|re|ve|m|d|s))\b")


def normalise_words(text: str) -> list[str]:
    """The matching words of a text, in order: folded slang, no stop words, stemmed."""
    return list(_normalised(str(text)))


@functools.lru_cache(maxsize=16384)
def _normalised(text: str) -> tuple[str, ...]:
    # Cached because entry texts are normalised again whenever a server's FAQ is rebuilt.
    lowered = text.lower()
    lowered = lowered if lowered.isascii() else _strip_accents(lowered)
    lowered = _CONTRACTION_RE.sub(lambda m: _CONTRACTIONS[m.group(1).replace("’", "'")], lowered)
    lowered = lowered.replace("'", "").replace("’", "")
    spaced = " ".join(_CHAT.get(word, word) for word in _NON_WORD_RE.sub(" ", lowered).split())
    folded = _PHRASE_RE.sub(lambda m: _PHRASE_OUT[m.lastindex - 1], spaced)
    words = []
    for raw in folded.split():
        # Lone letters and bare numbers say nothing about the topic ("3 times", "what s").
        if len(raw) < 2 or raw.isdigit():
            continue
        word = _WORDS.get(raw, raw)
        if word in _STOPWORDS or raw in _STOPWORDS:
            continue
        stem = _stem(word)
        if stem not in _STOPWORDS:  # "ones" is "one"
            words.append(stem)
    return tuple(words)


_CONTEXT_WORDS = frozenset(
    word for phrase in _CONTEXT_TEXT.split(",") for word in _normalised(phrase.strip())
)
_FRAME_WORDS = frozenset(
    word for phrase in _FRAME_TEXT.split(",") for word in _normalised(phrase.strip())
) - _CONTEXT_WORDS
_RUNNING_WORDS = frozenset(
    word for phrase in _RUNNING_TEXT.split(",") for word in _normalised(phrase.strip())
)
_INJURY_WORDS = frozenset(
    word for phrase in _INJURY_TEXT.split(",") for word in _normalised(phrase.strip())
)
_INJURED_PLACE_WORDS = frozenset(
    word for phrase in _INJURED_PLACE_TEXT.split(",") for word in _normalised(phrase.strip())
)
_SORE_WORDS = frozenset(word for phrase in _SORE_TEXT.split(",") for word in _normalised(phrase.strip()))
_STRENGTH_WORDS = frozenset(
    word for phrase in _STRENGTH_TEXT.split(",") for word in _normalised(phrase.strip())
)

# Shopping and kit: LegDay never recommends products, so these count against a match twice as much
# as a word the knowledge base has never seen ("best protein powder brand"). So does the upper body:
# LegDay is about legs ("how do I train for a pull-up at home").
_SHOPPING_TEXT = """
    buy buying bought brand brands price prices cost costs cheap cheapest expensive shop shops store
    purchase review reviews discount deal deals sale model models product products upperbody
"""
_SHOPPING_WORDS = frozenset(_normalised(_SHOPPING_TEXT))

# Stop words of four letters or more, by first letter: targets for misspelt filler words (see _correct).
_STOPWORD_BUCKETS: dict[str, list[str]] = {}
for _word in sorted(_STOPWORDS):
    if _word.isalpha() and len(_word) >= 4:
        _STOPWORD_BUCKETS.setdefault(_word[0], []).append(_word)
_FILLER = ""  # what _correct gives for a misspelt stop word


def _slip(word: str, target: str) -> bool:
    """Whether `word` is `target` with one letter left out, added or swapped with its neighbour.

    A changed letter does not count: "shuld" and "thier" are slips of stop words, while "world" and
    "whole" are words of their own, one letter from "would" and "while".
    """
    if abs(len(word) - len(target)) > 1 or OSA.distance(word, target, score_cutoff=1) != 1:
        return False
    return len(word) != len(target) or sorted(word) == sorted(target)


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
            # The tags make one document, each normalised alone so no phrase spans two of them.
            tag_words = [word for tag in entry.tags for word in normalise_words(tag)]
            texts = [normalise_words(text) for text in (entry.question, *entry.phrasings)] + [tag_words]
            bag: set[str] = set()
            for text_words in texts:
                words = frozenset(text_words)
                if words:
                    doc_words.append((number, words))
                    bag |= words
            # The id's own words count too ("soreness-vs-pain").
            bag |= set(normalise_words(entry.id.replace("-", " ")))
            entry_words.append(bag)
        # An entry about strength work: most of its question and phrasings name some. Questions about
        # running alone are not confidently answered with one (mobility or cross-training may be).
        self._about_strength = [
            2 * sum(1 for text in (entry.question, *entry.phrasings)
                    if not _STRENGTH_WORDS.isdisjoint(normalise_words(text))) > 1 + len(entry.phrasings)
            for entry in self._entries
        ]
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
        self._entry_sets = {word: frozenset(numbers) for word, numbers in self._entry_postings.items()}
        self._docs: list[_Doc] = []
        self._doc_postings: dict[str, list[int]] = {}
        for number, words in doc_words:
            doc_id = len(self._docs)
            self._docs.append(_Doc(number, sum(self._weights[w] for w in words), words))
            for word in words:
                self._doc_postings.setdefault(word, []).append(doc_id)
        # Typo correction looks only among words with the same first letter: typos rarely hit it, and
        # it keeps off-topic words ("watch") from being "corrected" into real ones ("match"). Targets are
        # at least five letters long too: "music" is one letter from "musc" (the stem of "muscly").
        self._buckets: dict[str, list[str]] = {}
        for word in list(self._weights) + [_stem(key) for key in _WORDS]:
            if word.isalpha() and len(word) >= 5:
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
            elif any(_slip(word, stop) for stop in _STOPWORD_BUCKETS.get(word[0], ())):
                # A misspelt filler word ("shuld", "thier") says nothing, rather than counting against.
                result = (_FILLER, 1.0)
            else:
                # Word forms the stemmer misses share a long start: "marathoners", "tendinopathy".
                for size in range(len(word) - 1, 4, -1):
                    if word[:size] in self._weights:
                        result = (word[:size], _PREFIX_CERTAINTY)
                        break
        if len(self._corrections) < 20000:
            self._corrections[word] = result
        return result

    def _scores(self, text: str) -> tuple[list[tuple[float, float, int]], float]:
        """Entries sharing a word with the text, best first, and the best one's subject weight.

        Each entry is (score, coverage, entry index). The subject weight is that of the question's words
        about the best entry's own subject, not running context (question frames count only when the
        question names a subject); the best score already allows for it.
        """
        known: list[tuple[str, float]] = []
        total = 0.0
        running = lifting = injured = place = sore = False
        for raw in dict.fromkeys(_normalised.__wrapped__(text[:MAX_QUESTION_CHARS])):
            running = running or raw in _RUNNING_WORDS
            lifting = lifting or raw in _STRENGTH_WORDS
            if raw in _SHOPPING_WORDS:
                total += 2 * self._unknown_weight
                continue
            word, certainty = self._correct(raw)
            if word == _FILLER:
                continue
            if word is None:
                total += self._unknown_weight
                continue
            running = running or word in _RUNNING_WORDS
            lifting = lifting or word in _STRENGTH_WORDS
            injured = injured or word in _INJURY_WORDS
            place = place or word in _INJURED_PLACE_WORDS
            sore = sore or word in _SORE_WORDS
            known.append((word, certainty))
        # A question frame ranks entries at full weight only while the question names no subject word as
        # rare as it: "do I need more protein now I lift twice a week" is about protein, not how often.
        topical = max((self._weights[word] for word, _ in known
                       if word not in _FRAME_WORDS and word not in _CONTEXT_WORDS), default=0.0)
        weights: dict[str, float] = {}
        for word, certainty in known:
            weight = self._weights[word]
            if word in _CONTEXT_WORDS:
                weight *= _CONTEXT_FACTOR
            elif word in _FRAME_WORDS and topical >= weight:
                weight *= _FRAME_FACTOR
            total += weight
            # A corrected word counts a little less than one typed right.
            weights[word] = max(weights.get(word, 0.0), weight * certainty)
        if not weights or total <= 0:
            return [], 0.0
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
        anchor = 0.0
        if results:
            # Confidence in the best entry also needs words about its subject, not only running talk;
            # a question frame ("how often") is about a subject only when the question names one.
            score, share, number = results[0]
            subject = frame = 0.0
            named = False
            for word, weight in weights.items():
                if word in _FRAME_WORDS:
                    frame += weight if number in self._entry_sets[word] else 0.0
                elif word not in _CONTEXT_WORDS:
                    subject += weight if number in self._entry_sets[word] else 0.0
                    named = True
            anchor = subject + frame if named else frame
            factor = min(1.0, anchor / _ANCHOR_WEIGHT)
            # A frame without a subject, or running (or an injury) without strength work for an entry
            # about strength work, is at best a "did you mean".
            elsewhere = running or place or (injured and not sore)
            if not named or (elsewhere and not lifting and self._about_strength[number]):
                factor *= _OFF_SUBJECT_FACTOR
            results[0] = (score * factor, share, number)
        return results, anchor

    def match(self, text: str) -> FaqMatch:
        """The entry a free-text question asks about, with a confidence; see the module docstring."""
        ranked, anchor = self._scores(str(text or ""))
        if not ranked:
            return FaqMatch(None, 0.0, [], "off-topic")
        score, share, _ = ranked[0]
        confidence = round(min(max(score, 0.0), 1.0), 3)
        ids = [self._entries[number].id for _, _, number in ranked[:4]]
        if confidence >= ANSWER_THRESHOLD:
            return FaqMatch(ids[0], confidence, ids[1:4], "answer")
        # Running talk alone ("is it ok to run every day") is not about leg strength at all.
        status: MatchStatus = "off-topic" if share < OFF_TOPIC_THRESHOLD or anchor <= 0 else "unsure"
        return FaqMatch(None, confidence, ids[:3], status)

    # ---- answering

    def render_answer(self, entry_id: str, profile: Profile | None = None) -> str:
        """An entry's answer as Markdown, personalised when a profile is given; within Discord's limits."""
        entry = self._by_id.get(entry_id)
        if entry is None:
            raise KeyError(f"No FAQ entry with id '{entry_id}'.")
        return render_answer_text(entry.answer, entry.variants, profile)

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
    """One entry from a file or a moderator's edit, fully checked (answer and its variants included)."""
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
    problems = answer_problems(entry.answer, entry.variants)
    if problems:
        raise FaqError("\n".join(f"{source}: {label}, field 'answer': {problem}" for problem in problems))
    return entry


def load_faq(path: Path) -> FaqBase:
    """Load and validate a FAQ file (top-level key `entries:`); raises FaqError, never half-loads."""
    path = Path(path)
    source = str(path)
    try:
        text = read_text(path)
    except FileNotFoundError:
        raise FaqError(f"{source}: file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise FaqError(f"{source}: cannot read the file: {exc}") from None
    except DataFileError as exc:
        raise FaqError(str(exc)) from None
    try:
        data = yaml.load(text, Loader=StrictLoader)
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
