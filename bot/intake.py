"""Reading a runner's plain-words message into profile fields, and telling intake from questions and chat."""

from __future__ import annotations

import calendar
import datetime as dt
import re
from typing import Any, Literal

from pydantic import BaseModel, Field

from bot.models import DAYS, MileageError, parse_mileage

MAX_CHARS = 1000
REQUIRED = ("weekly_km", "level", "goals")

MessageKind = Literal["intake", "question", "smalltalk"]


class ParseResult(BaseModel):
    """What the reader found in one message: fields (Profile names and types), what is missing, problems."""

    fields: dict[str, Any] = Field(default_factory=dict)
    missing: list[str] = Field(default_factory=list)
    problems: list[str] = Field(default_factory=list)


# --------------------------------------------------------------------------------------------
# Shared pieces

_DAY_WORDS = {
    "mon": "mon", "mons": "mon", "monday": "mon", "mondays": "mon",
    "tue": "tue", "tues": "tue", "tuesday": "tue", "tuesdays": "tue",
    "wed": "wed", "weds": "wed", "wednesday": "wed", "wednesdays": "wed",
    "thu": "thu", "thur": "thu", "thurs": "thu", "thursday": "thu", "thursdays": "thu",
    "fri": "fri", "fris": "fri", "friday": "fri", "fridays": "fri",
    "sat": "sat", "sats": "sat", "saturday": "sat", "saturdays": "sat",
    "sun": "sun", "suns": "sun", "sunday": "sun", "sundays": "sun",
}
_DAY_RE = re.compile(r"\b(" + "|".join(sorted(_DAY_WORDS, key=len, reverse=True)) + r")\b")

_MONTHS = {
    "jan": 1, "january": 1, "feb": 2, "february": 2, "mar": 3, "march": 3, "apr": 4, "april": 4,
    "may": 5, "jun": 6, "june": 6, "jul": 7, "july": 7, "aug": 8, "august": 8, "sep": 9, "sept": 9,
    "september": 9, "oct": 10, "october": 10, "nov": 11, "november": 11, "dec": 12, "december": 12,
}
_MONTH = "(" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_SMALL_NUMBERS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
                  "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12}


def _normalise(text: str) -> str:
    """Lower-case, with curly quotes and long dashes made plain so one pattern covers each phrase."""
    text = text.lower()
    for fancy, plain in (("’", "'"), ("‘", "'"), ("–", "-"), ("—", " - "), ("“", '"'), ("”", '"')):
        text = text.replace(fancy, plain)
    return text


def _sentences(text: str) -> list[str]:
    # A full stop inside a number ("27.5", "1.5x") is not a sentence end.
    return [part for part in re.split(r"(?<!\d)[.!?;\n]+|[.!?;\n]+(?!\d)", text) if part.strip()]


def _clauses(text: str) -> list[str]:
    """Comma, 'but' and sentence boundaries: the span within which a word describes its neighbour."""
    parts: list[str] = []
    for sentence in _sentences(text):
        parts.extend(p for p in re.split(r",|\bbut\b|\s-\s|\(|\)", sentence) if p.strip())
    return parts


# --------------------------------------------------------------------------------------------
# Weekly mileage

_NUM = r"\d+(?:[.,]\d+)?"
_UNIT = r"kilometres|kilometers|kilometre|kilometer|miles|mile|kms|km|mpw|kpw|mi|k"
_DISTANCE_RE = re.compile(rf"(?P<num>{_NUM})(?:\s*(?:-|to)\s*(?P<num2>{_NUM}))?\s*(?P<unit>{_UNIT})\b")
_WEEK_AFTER_RE = re.compile(
    r"^\s*(?:/\s*(?:wk|week|w)\b|a week|per week|p/?w\b|weekly|each week|every week|a wk|per wk|weeks\b"
    r"|total\b|in total|a wee?k)"
)
_VERB_BEFORE_RE = re.compile(
    r"(?:\brun|\bruns|\brunning|\bran|\bdo|\bdoing|\bat|\baverag\w*|\bcover\w*|\blog\w*|\btotal\w*|\bmileage"
    r"|\bvolume|\bweek:?|\bcurrently|\bnow|\bup to|\bis)\s*:?\s*(?:about|around|roughly|approx\w*|~|c\.)?\s*$"
)
_APPROX_BEFORE_RE = re.compile(r"(?:about|around|roughly|approx\w*|~|c\.)\s*$")
_RACE_BEFORE_RE = re.compile(
    r"(?:\ba|\ban|\bthe|\bmy|\bfor|\bfaster|\bquicker|\bsub[- ]?\d[\d:]*|\bfirst|\blast|\d|\bof)\s*$"
)
# "faster at 10k", "a PR over 5k": a race word just before the distance makes it a race, not a week.
_RACE_WORD_NEAR_RE = re.compile(r"\b(?:faster|quicker|pb|pr|sub|race|racing)\b[\w\s]{0,6}$")
_RACE_AFTER_RE = re.compile(r"^\s*(?:-?\s*)?(?:ultra|race|pb|pr|time|run\b|runner|trail|marathon|each\b|er\b|r\b)")
_UNITLESS_WEEKLY_RE = re.compile(
    rf"(?:\brun\w*|\bdo\w*|\baverag\w*|\bat)\s+(?:about|around|~)?\s*(?P<num>{_NUM})\s*"
    r"(?:a week|per week|/\s*week|pw|weekly)\b"
)

# "3 runs a week of 5k each": the week's total is the product.
_EACH_RUN_RE = re.compile(
    rf"\b(?P<runs>\d|two|three|four|five|six|seven)\s*(?:runs?|x)\s*(?:a|per)\s*week\s*(?:of|at)\s*(?:about|around|~)?\s*"
    rf"(?P<num>{_NUM})\s*(?P<unit>{_UNIT})\b\s*(?:each|apiece)"
)


def read_mileage(text: str, loose: bool = False) -> tuple[tuple[float, str] | None, list[str]]:
    """Find the weekly running distance: ((km, unit) or None, problems). `loose` takes any distance given."""
    text = _normalise(text)
    best: tuple[int, re.Match[str]] | None = None
    for match in _DISTANCE_RE.finditer(text):
        before, after = text[max(0, match.start() - 30): match.start()], text[match.end(): match.end() + 20]
        unit = match["unit"]
        score = 0
        if unit in ("mpw", "kpw") or _WEEK_AFTER_RE.match(after):
            score += 3
        if _VERB_BEFORE_RE.search(before):
            score += 2
        elif _APPROX_BEFORE_RE.search(before):
            score += 1
        raced = _RACE_BEFORE_RE.search(before) and not _VERB_BEFORE_RE.search(before)
        if raced or _RACE_WORD_NEAR_RE.search(before[-14:]):
            score -= 10
        if _RACE_AFTER_RE.match(after):
            score -= 10
        if loose:
            score += 1
        if score >= 1 and (best is None or score > best[0]):
            best = (score, match)
    if best is not None:
        match = best[1]
        low = float(match["num"].replace(",", "."))
        high = float(match["num2"].replace(",", ".")) if match["num2"] else low
        amount = (low + high) / 2
        unit = "mi" if match["unit"].startswith("m") else "km"
        try:
            return parse_mileage(f"{amount:g}{unit}"), []
        except MileageError as exc:
            return None, [str(exc)]
    if each := _EACH_RUN_RE.search(text):
        runs = _SMALL_NUMBERS.get(each["runs"]) or int(each["runs"])
        unit = "mi" if each["unit"].startswith("m") else "km"
        try:
            return parse_mileage(f"{runs * float(each['num'].replace(',', '.')):g}{unit}"), []
        except MileageError as exc:
            return None, [str(exc)]
    unitless = _UNITLESS_WEEKLY_RE.search(text)
    if unitless is None and loose:
        unitless = re.fullmatch(rf"\s*(?:about|around|~)?\s*(?P<num>{_NUM})\s*", text)
    if unitless:
        try:
            parse_mileage(unitless["num"])
        except MileageError as exc:
            return None, [str(exc)]
    return None, []


# --------------------------------------------------------------------------------------------
# Strength level

_NEGATED = r"(?:not|n't|never)\s+(?:a|an|really|quite|exactly|totally|complete(?:ly)?)?\s*"
_ADVANCED_RES = [
    r"\badvanced\b", r"comfortable with heavy", r"heavy (?:squats?|lifts?|deadlifts?|barbell\w*) (?:are|is) fine",
    r"\b(?:squat|lift|deadlift)\w*\s+heavy", r"experienced (?:lifter|in the gym|with (?:heavy|barbell))",
    r"(?:squat|deadlift|bench)\w*\s+[\d.]+\s*x\s*(?:my\s+)?(?:body ?weight|bw)", r"powerlift", r"olympic lift",
]
_INTERMEDIATE_RES = [
    r"\bintermediate\b", r"lift(?:ing|ed)? regularly", r"(?:some|a bit of|bit of) (?:gym|lifting|strength)",
    r"lifting for (?:a|\d+|a few|a couple|years|months)", r"lifted (?:for|twice|once|\d|on and off|regularly)",
    r"\b(?:i've been|been) lift(?:ing)?\b", r"\blift(?:ing)? weights\b", r"in the gym for", r"\bgym \d+ times",
    r"(?<!should )(?<!can )(?<!could )(?<!do )(?<!when )(?<!if )\bi lift\b",
]
_BEGINNER_RES = [
    r"\bbeginner\b", r"\bnovice\b", r"new to (?:lifting|the gym|gym|strength|weights|all this|lifting weights)",
    r"\bnever (?:really )?(?:lifted|done (?:any )?(?:strength|weights|lifting|gym)|been (?:to|in) (?:a|the) gym)",
    r"first[- ]time lifter", r"\bno (?:lifting|strength|gym|weights?) (?:background|experience)",
    r"\b(?:haven't|have not|not) (?:really )?lifted", r"nothing for years", r"lift(?:ed)? occasionally",
    r"occasionally lift", r"\bnever lift",
]


def read_level(text: str) -> str | None:
    """The runner's strength level from synonyms, minding 'not a beginner'; None when nothing says."""
    text = _normalise(text)
    if re.search(_NEGATED + r"(?:beginner|novice|new to (?:lifting|the gym|strength))", text):
        return "advanced" if any(re.search(p, text) for p in _ADVANCED_RES[1:]) else "intermediate"
    advanced = [m for p in _ADVANCED_RES for m in re.finditer(p, text)]
    advanced = [m for m in advanced if not re.search(_NEGATED + r"$", text[: m.start()])]
    if advanced:
        return "advanced"
    if any(re.search(p, text) for p in _BEGINNER_RES):
        return "beginner"
    if any(re.search(p, text) for p in _INTERMEDIATE_RES):
        return "intermediate"
    return None


# --------------------------------------------------------------------------------------------
# Goals

_GOAL_RES: dict[str, list[str]] = {
    "speed": [
        r"\bfaster\b", r"\bquicker\b", r"(?<!top-end )(?<!top end )\bspeed\b(?!\s*(?:work|sessions?|workouts?|day))",
        r"\bp[rb]s?\b", r"personal best", r"\bsub[- ]?\d", r"\bbq\b", r"time goal", r"\bspeedier\b",
    ],
    "endurance": [
        r"marathon", r"\bultras?\b", r"go(?:ing)? longer", r"longer (?:distances?|races?|runs?)",
        r"\bfad(?:e|es|ing)\b",
        r"hold (?:pace|form)", r"stamina", r"endurance", r"blow(?:ing)? up", r"hit(?:ting)? the wall",
    ],
    "hills": [
        r"\btrails?\b", r"\bfells?\b", r"hilly", r"hillier", r"\bhills?\b", r"mountain", r"elevation",
        r"\bclimb(?:s|ing)?\b", r"\buphills?\b", r"off[- ]road",
    ],
    "injury-resilience": [
        r"stop getting (?:hurt|injured)", r"stay(?:ing)? healthy",
        r"injury[- ]?(?:free|prevention|resilien\w*|resistan\w*|proof)",
        r"prevent(?:ing)? injur", r"avoid(?:ing)? injur", r"not get(?:ting)? (?:hurt|injured)",
        r"without getting (?:hurt|injured)",
        r"injury resistant", r"bullet ?proof", r"\brobust\b", r"durab", r"keep getting (?:hurt|injured)",
        r"fewer injuries", r"getting injured all the time", r"injury resilience",
    ],
    "power": [r"\bkick\b", r"\bsprint(?:s|ing|er)?\b", r"\bpower\b", r"explosiv\w*", r"top[- ]end speed"],
    "general": [
        r"\b(?:get|getting|be|become) stronger\b(?!\s+(?:on|up|uphill|for|at))", r"stronger (?:legs|runner)",
        r"general (?:strength|fitness)", r"\bgeneral\b", r"overall strength", r"stronger overall", r"all[- ]round",
    ],
}
_GOAL_ORDER = list(_GOAL_RES)


def read_goals(text: str) -> list[str]:
    """Goal ids named or implied ('PR' is speed, 'fells' is hills), in the vocabulary's order."""
    text = _normalise(text)
    found = {goal for goal, patterns in _GOAL_RES.items() if any(re.search(p, text) for p in patterns)}
    return [goal for goal in _GOAL_ORDER if goal in found]


# --------------------------------------------------------------------------------------------
# Days: long run, hard sessions, strength days

_LONG_KW = r"\blong(?:\s+(?:runs?|ones?))?\b|\blr\b"
_HARD_KW = (
    r"intervals?|\btrack\b|tempo|speed ?work|\bspeed\b|workouts?|sessions?|hill reps|\breps\b|fartlek|threshold"
    r"|hard (?:runs?|days?|sessions?|efforts?)|quality|parkrun|club (?:nights?|runs?)|race pace|repeats"
)
_STRENGTH_KW = r"strength|\blift\w*|\bgym\b|weights"
_OTHER_KW = r"\brest\b|\boff\b|\beasy\b|recovery|\brace\b"
_FILLER = {"on", "is", "are", "usually", "normally", "every", "my", "a", "the", "=", ":", "-", "mornings", "morning"}
_DAY_GROUP_RE = re.compile(
    rf"(?:{_DAY_RE.pattern})(?:(?:\s*(?:,|/|&|\+|\band\b|\bor\b)\s*|\s+)(?:{_DAY_RE.pattern}))*"
)


def _gap_cost(gap: str) -> int:
    cost = 2 * len(re.findall(r"[,.]", gap))
    cost += sum(1 for word in re.findall(r"[\w'=:-]+", gap) if word not in _FILLER)
    return cost


def read_days(text: str) -> list[str]:
    """Every day named, in week order ('tue and thu', 'weds', 'Sundays')."""
    found = {_DAY_WORDS[m.group(1)] for m in _DAY_RE.finditer(_normalise(text))}
    return [day for day in DAYS if day in found]


def _day_roles(text: str) -> dict[str, list[list[str]]]:
    """Group the days of each sentence and give each group to the nearest keyword: long, hard, strength."""
    roles: dict[str, list[list[str]]] = {"long": [], "hard": [], "strength": []}
    kinds = (("long", _LONG_KW), ("hard", _HARD_KW), ("strength", _STRENGTH_KW), ("other", _OTHER_KW))
    for sentence in _sentences(text):
        keywords = [(kind, m) for kind, pattern in kinds for m in re.finditer(pattern, sentence)]
        for group in _DAY_GROUP_RE.finditer(sentence):
            days = [_DAY_WORDS[m.group(1)] for m in _DAY_RE.finditer(group.group(0))]
            best: tuple[int, int, str] | None = None
            for kind, kw in keywords:
                if kw.end() <= group.start():
                    cost, side = _gap_cost(sentence[kw.end(): group.start()]), 0
                elif kw.start() >= group.end():
                    cost, side = _gap_cost(sentence[group.end(): kw.start()]), 1
                else:
                    continue
                if best is None or (cost, side) < best[:2]:
                    best = (cost, side, kind)
            if best is not None and best[0] <= 4 and best[2] in roles:
                roles[best[2]].append(days)
    return roles


# --------------------------------------------------------------------------------------------
# Strength days per week

_FREQ_RE = re.compile(
    r"\b(?P<freq>once|twice|three times|thrice|four times"
    r"|(?P<n>\d+)\s*(?:x|times|(?:(?:strength|lifting|gym|weights?)\s+)?(?:sessions?|days?)))"
    r"\s*(?:a|per|/|each|every)?\s*(?:week|wk)\b"
)
_FREQ_WORDS = {"once": 1, "twice": 2, "three times": 3, "thrice": 3, "four times": 4}


def read_strength_days(text: str) -> tuple[int | None, list[str]]:
    """Strength sessions a week the runner can do ('can lift twice a week'), not running days."""
    text = _normalise(text)
    for clause in _clauses(text):
        for match in _FREQ_RE.finditer(clause):
            count = int(match["n"]) if match["n"] else _FREQ_WORDS[match["freq"]]
            near = clause[max(0, match.start() - 30): match.end() + 20]
            right_before = clause[max(0, match.start() - 12): match.start()]
            if not re.search(_STRENGTH_KW, near) or re.search(r"\brun\w*\s*$", right_before):
                continue
            if re.search(r"\bruns?\b|running", clause[match.start(): match.end() + 3]):
                continue
            if re.search(r"for (?:years|\d+ years|a long time|ages)|used to|\bbeen\b", clause):
                continue
            if not 1 <= count <= 3:
                return None, [f"LegDay plans 1 to 3 strength sessions a week, so I can't plan {count}. "
                              "Choose 1, 2 or 3."]
            return count, []
    return None, []


# --------------------------------------------------------------------------------------------
# Equipment

_EQUIPMENT_RES = {
    "dumbbells": r"dumb ?bells?|\bdbs?\b",
    "kettlebell": r"kettle ?bells?|\bkbs?\b",
    "barbell": r"barbells?|squat rack|power rack|\brack\b|olympic bar",
    "box": r"plyo box|\bbox(?:es)?\b(?!\s*jumps?)|\bstep\b(?!-|\s*ups?)",
    "bands": r"(?<!it )(?<!it-)\b(?:resistance |mini ?|loop )?bands?\b(?!\s*syndrome)|theraband",
    "gym": r"gym membership|full gym|gym access|access to a gym|(?:my|local|work|home|commercial) gym\b"
           r"|gym at (?:work|home)|go to the gym|at the gym|^\s*(?:a |the )?gym\s*$|equipment:\s*gym",
}
_NO_EQUIPMENT_RE = re.compile(
    r"no equipment|nothing at home|body ?weight only|just body ?weight|no kit\b|no weights|\bno gym\b(?! experience)"
    r"|don't have (?:any )?equipment|without equipment|equipment:\s*none"
)


def read_equipment(text: str) -> list[str] | None:
    """Equipment the runner has; [] when they say they have none; None when they don't say."""
    text = _normalise(text)
    found: set[str] = set()
    said_none = False
    for clause in _clauses(text):
        if _NO_EQUIPMENT_RE.search(clause):
            said_none = True
        for item, pattern in _EQUIPMENT_RES.items():
            for match in re.finditer(pattern, clause):
                if re.search(r"\b(?:no|not|without|don't have(?: a| any)?)\s+(?:\w+\s+)?$", clause[: match.start()]):
                    continue
                found.add(item)
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
    "it-band": r"\bit[- ]?bands?\b|\bitbs?\b|iliotibial",
    "hamstring": r"hamstrings?|\bhamm(?:y|ies)\b",
    "hip": r"\bhips?\b|hip flexors?",
    "shin": r"\bshins?\b",
    "foot": r"plantar|\bfoot\b|\bfeet\b|\bheels?\b|\barch(?:es)?\b",
    "lower-back": r"lower[- ]back|bad back|\bback (?:pain|issues?|problems?|injury|spasms?)|sore back",
}
_SYNDROME_RE = r"shin splints|plantar fasciitis|runner'?s knee|\bitbs\b|it band syndrome"
_CUE_RE = (
    r"dodgy|\bbad\b|sore|tight|niggl\w*|pain\w*|\bache\w*|achy|aching|hurt\w*|issues?|problems?|injur\w*"
    r"|strain\w*|tweak\w*|grumpy|cranky|tendin\w*|splints|fasciitis|syndrome|rehab\w*|flare\w*|twinge\w*"
    r"|playing up|\btear\b|torn|sprain\w*|gets? sore"
)
_NO_NIGGLES_RE = re.compile(
    r"\bno (?:injuries|injury|niggles|issues|pain|problems)\b|nothing hurts|niggles:\s*none|(?<!stay )(?<!be )"
    r"(?<!stay )injury[- ]free (?:at the moment|right now|currently)|currently injury[- ]free|\bno pain\b"
)


def read_niggles(text: str) -> list[str] | None:
    """Body areas with a niggle ('dodgy knee', 'shin splints'); [] for 'no injuries'; None when not said."""
    text = _normalise(text)
    found: set[str] = set()
    for clause in _clauses(text):
        has_cue = re.search(_CUE_RE, clause) or re.search(_SYNDROME_RE, clause)
        if not has_cue:
            continue
        for niggle, pattern in NIGGLE_PATTERNS.items():
            for match in re.finditer(pattern, clause):
                if re.search(r"\bno\s+(?:\w+\s+)?$", clause[: match.start()]):
                    continue
                found.add(niggle)
    if found:
        return [niggle for niggle in NIGGLE_PATTERNS if niggle in found]
    return [] if _NO_NIGGLES_RE.search(text) else None


def read_sharp_pain(text: str) -> bool | None:
    """True for sharp or stabbing pain, False when the runner says it isn't sharp or there is no pain."""
    text = _normalise(text)
    if re.search(r"(?:not|no|isn't|never|n't)\s+(?:\w+\s+)?sharp|\bno pain\b|pain[- ]free", text):
        return False
    if re.search(r"\b(?:sharp|stabbing|shooting)\b", text):
        return True
    return None


# --------------------------------------------------------------------------------------------
# Race date

_ISO_RE = re.compile(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b")
_DAY_MONTH_RE = re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH}\b(?:,?\s*(\d{{4}}))?")
_MONTH_DAY_RE = re.compile(rf"\b{_MONTH}\s+(\d{{1,2}})(?:st|nd|rd|th)?\b(?:,?\s*(\d{{4}}))?")
_RELATIVE_RE = re.compile(
    r"\bin\s+(?:about\s+|around\s+|~)?(\d+|" + "|".join(_SMALL_NUMBERS) + r")\s+(weeks?|days?|months?)\b"
    r"|\b(\d+|" + "|".join(_SMALL_NUMBERS) + r")\s+(weeks?|days?|months?)\s+(?:away|out|to go)\b"
    r"|\bin a (fortnight)\b"
)
_RACE_CONTEXT_RE = re.compile(r"race|racing|marathon|\bhalf\b|\d+\s*k\b|ultra|parkrun|event|\bp[rb]\b|\b10k|\b5k")


def _add_months(day: dt.date, months: int) -> dt.date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def read_race_date(text: str, today: dt.date, loose: bool = False) -> tuple[dt.date | None, list[str]]:
    """A race date: ISO, 'Jan 17', '17th March', or 'in 6 weeks' when a race is named; next one if no year."""
    text = _normalise(text)
    problems: list[str] = []
    found: dt.date | None = None
    try:
        if match := _ISO_RE.search(text):
            found = dt.date(int(match[1]), int(match[2]), int(match[3]))
        elif (match := _DAY_MONTH_RE.search(text)) or (match := _MONTH_DAY_RE.search(text)):
            if match.re is _DAY_MONTH_RE:
                day, month, year = int(match[1]), _MONTHS[match[2]], match[3]
            else:
                day, month, year = int(match[2]), _MONTHS[match[1]], match[3]
            found = dt.date(int(year) if year else today.year, month, day)
            if not year and found < today:
                found = found.replace(year=today.year + 1)
    except ValueError:
        shown = match.group(0) if match else text[:20]
        return None, [f"'{shown}' isn't a real date. Use a date like 2027-01-17 or 'Jan 17'."]
    if found is None:
        for sentence in _sentences(text):
            match = _RELATIVE_RE.search(sentence)
            if match and (loose or _RACE_CONTEXT_RE.search(sentence)):
                if match[5]:
                    amount, unit = 2, "weeks"
                else:
                    raw, unit = (match[1], match[2]) if match[1] else (match[3], match[4])
                    amount = _SMALL_NUMBERS.get(raw) or int(raw)
                if unit.startswith("month"):
                    found = _add_months(today, amount)
                else:
                    found = today + dt.timedelta(days=amount * (7 if unit.startswith("week") else 1))
                break
    if found is not None and found < today:
        problems.append(f"{found.isoformat()} has already passed. Give the date of a race that's still to come.")
        found = None
    elif found is not None and found > today + dt.timedelta(days=3 * 365):
        problems.append(f"{found.isoformat()} is more than three years away. Give a race date in the next year or two.")
        found = None
    return found, problems


# --------------------------------------------------------------------------------------------
# The reader and the classifier

# "Can lift twice a week" is a statement; "can I lift…" is a question: a leading verb needs its subject.
_QUESTION_START_RE = re.compile(
    r"^\s*(?:how|what|why|when|which|where|who|any tips)\b"
    r"|^\s*(?:should|can|could|will|would|does|do|is|are|am)\s+"
    r"(?:i|you|it|we|they|my|a|an|the|there|this|that|strength|lifting|squats?|runners?|heavy|\w+ing)\b"
)
_FIRST_PERSON_RE = re.compile(r"\b(?:i|i'm|im|i've|ive|i'd|my|me)\b")


def _is_question(text: str) -> bool:
    return "?" in text or bool(_QUESTION_START_RE.match(text))


def parse_message(text: str, today: dt.date) -> ParseResult:
    """Read what a runner's message says about them into Profile fields, and say what is still missing."""
    problems: list[str] = []
    text = str(text or "")
    if len(text) > MAX_CHARS:
        problems.append(f"That's a long message, so I read the first {MAX_CHARS:,} characters.")
        text = text[:MAX_CHARS]
    norm = _normalise(text)
    fields: dict[str, Any] = {}
    # A general question ("should a beginner lift heavy?") describes nobody; only read facts about the writer.
    if _is_question(norm) and not _FIRST_PERSON_RE.search(norm):
        return ParseResult(fields={}, missing=list(REQUIRED), problems=problems)

    mileage, found_problems = read_mileage(norm)
    problems += found_problems
    if mileage:
        fields["weekly_km"], fields["unit"] = mileage
    if level := read_level(norm):
        fields["level"] = level
    if goals := read_goals(norm):
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
    if roles["long"]:
        fields["long_run_day"] = roles["long"][0][0]
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
    race, found_problems = read_race_date(norm, today)
    problems += found_problems
    if race:
        fields["race_date"] = race
    missing = [name for name in REQUIRED if name not in fields]
    return ParseResult(fields=fields, missing=missing, problems=problems)


_PLAN_REQUEST_RE = re.compile(r"\b(?:plan|programme|program|routine|get started|sign me up|start)\b")


def classify_message(text: str) -> MessageKind:
    """'intake' for a message with profile facts (or asking for a plan), 'question' for the FAQ, else 'smalltalk'."""
    norm = _normalise(str(text or ""))[:MAX_CHARS]
    if not norm.strip():
        return "smalltalk"
    facts = [name for name in parse_message(norm, dt.date.today()).fields if name != "unit"]
    question = _is_question(norm)
    if question and len(facts) < 2 and not _PLAN_REQUEST_RE.search(norm):
        return "question"
    if facts or _PLAN_REQUEST_RE.search(norm):
        return "intake"
    return "question" if question else "smalltalk"
