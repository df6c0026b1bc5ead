"""The intake conversation: what a runner told us, what to ask next, one question at a time.

The same conversation runs in Discord (buttons and selects) and in the terminal, so it is plain data:
a pydantic model that is stored as JSON between messages and survives a restart.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError, field_validator
from rapidfuzz import fuzz, process

from bot import intake
from bot.adapt import adapt, new_changes
from bot.checkin_reader import CheckinReading, exercise_name, read_checkin
from bot.checkins import CheckIn, CheckInError, check_against
from bot.models import (
    FIELD_ACCEPTS,
    FIELD_LABELS,
    FIELDS,
    MILEAGE_HELP,
    MileageError,
    Plan,
    Profile,
    friendly_errors,
    parse_mileage,
)

Stage = Literal["collecting", "confirming", "done", "checkin"]

# The order questions are asked in: what a plan cannot do without first, then the safety question.
ORDER: tuple[str, ...] = (
    "weekly_km", "level", "goals", "long_run_day", "hard_days", "equipment", "niggles", "sharp_pain",
    "days_per_week", "race_date", "race_distance",
)
OPTIONAL = frozenset({"days_per_week", "race_date", "race_distance"})
MULTI = frozenset({"goals", "hard_days", "equipment", "niggles"})
DEFAULT_TTL = dt.timedelta(minutes=30)

_SKIP_WORDS = {"skip", "none", "no", "n/a", "na", "pass", "-", "nope", "nah", "no race", "not sure", "dunno"}
_NONE_WORDS = {"none", "no", "nothing", "nope", "nah", "n/a", "na", "-", "no niggles", "no injuries",
               "nothing at all", "none at all", "bodyweight", "bodyweight only", "no equipment", "varies",
               "no fixed day", "no long run", "not really"}
_YES_WORDS = {"yes", "y", "yeah", "yep", "yup", "sometimes", "true", "i do", "it does", "ya", "aye", "often"}
_NO_WORDS = {"no", "n", "nope", "nah", "never", "false", "not really", "none", "i don't", "no pain"}
_CONFIRM_WORDS = {"yes", "y", "yep", "yeah", "looks right", "looks good", "correct", "confirm", "ok", "okay",
                  "right", "that's right", "thats right", "good", "sure", "perfect", "all good", "go", "👍"}

# Loose words a runner may use for a field when they ask to change it ("change my mileage").
_FIELD_WORDS = {
    "weekly_km": ("mileage", "distance", "weekly", "km", "miles", "volume"),
    "level": ("level", "experience", "lifting"),
    "goals": ("goal", "goals", "aim"),
    "long_run_day": ("long run", "long"),
    "hard_days": ("hard", "hard days", "workouts", "intervals", "speed"),
    "equipment": ("equipment", "kit", "gym"),
    "niggles": ("niggle", "niggles", "injury", "injuries"),
    "sharp_pain": ("pain", "sharp", "sharp pain"),
    "days_per_week": ("days", "sessions", "days per week", "strength days"),
    "race_date": ("race", "race date", "date"),
    "race_distance": ("race distance", "distance of the race", "how far"),
}


class Option(BaseModel):
    """One choice for a question: the vocabulary value stored, and the label shown."""

    value: str
    label: str


class Question(BaseModel):
    """The next thing to ask: free text when `options` is empty; `optional` ones can be skipped."""

    field: str
    prompt: str
    options: list[Option] = Field(default_factory=list)
    multi: bool = False
    optional: bool = False


def _options(field: str) -> list[Option]:
    """The question's choices, from the field registry, with its 'none' choice last."""
    spec = FIELDS[field]
    options = [Option(value=value, label=label) for value, label in spec.choices]
    if spec.none_label:
        options.append(Option(value="none", label=spec.none_label))
    return options


def _clean(text: str) -> str:
    return re.sub(r"\s+", " ", str(text).strip().lower().strip(".!"))


def _accepts(field: str) -> str:
    if field == "weekly_km":
        return MILEAGE_HELP
    options = _options(field)
    if not options:
        return FIELD_ACCEPTS.get(field, "")
    values = ", ".join(f"`{option.value}`" for option in options)
    some = "one or more of" if field in MULTI else "one of"
    return f"Answer with {some}: {values} (or the option's number)."


def _tokens(text: str) -> list[str]:
    return [part for part in re.split(r"\s*(?:,|/|&|\+|\band\b|;)\s*|\s+", text) if part]


def _match_options(field: str, text: str) -> list[str] | None:
    """Option values named by the answer: numbers, values, labels, or a close spelling; None if none fit."""
    options = [o for o in _options(field) if o.value != "none"]
    words = _tokens(text)
    if words and all(word.isdigit() for word in words):
        numbers = [int(word) for word in words]
        if field == "days_per_week":
            return [str(n) for n in numbers]
        if all(1 <= n <= len(_options(field)) for n in numbers):
            return [_options(field)[n - 1].value for n in numbers]
        return None
    for option in options:
        if text in (option.value, option.label.lower()):
            return [option.value]
    choices = {option.value: option.value for option in options}
    choices.update({option.label.lower(): option.value for option in options})
    found: list[str] = []
    for word in words:
        hit = process.extractOne(word, list(choices), scorer=fuzz.ratio, score_cutoff=80)
        if hit is None:
            return None
        found.append(choices[hit[0]])
    return found or None


def _json_value(field: str, value: Any) -> Any:
    """Values as JSON keeps them, so a stored conversation loads back equal."""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list):
        return [getattr(item, "value", item) for item in value]
    return getattr(value, "value", value)


class Conversation(BaseModel):
    """One runner's intake in progress: stored as JSON between messages so it survives a restart."""

    key: str
    fields: dict[str, Any] = Field(default_factory=dict)
    pending: str | None = None
    stage: Stage = "collecting"
    created_at: dt.datetime
    updated_at: dt.datetime
    answered: list[str] = Field(default_factory=list)
    skipped: list[str] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)
    held_number: float | None = None
    checkin: dict[str, Any] | None = None  # a check-in read from chat, waiting for the member to confirm it

    @field_validator("fields")
    @classmethod
    def _json_fields(cls, value: dict[str, Any]) -> dict[str, Any]:
        return {name: _json_value(name, item) for name, item in value.items()}

    # ------------------------------------------------------------------ building

    @classmethod
    def start(cls, key: str, text: str, now: dt.datetime) -> Conversation:
        """Open a conversation from the runner's first message: keep what it says, then ask for the rest."""
        result = intake.parse_message(text, now.date())
        conversation = cls(key=key, fields=result.fields, created_at=now, updated_at=now, notes=result.problems)
        conversation._advance()
        return conversation

    def _needs(self, field: str) -> bool:
        if field == "sharp_pain":
            # The safety question is asked even when the opening message seemed to say "no pain".
            return field not in self.answered and self.fields.get(field) is not True
        if field == "race_distance":
            # Asked only about a race with a date; "no race" or a skipped date means no distance either.
            return bool(self.fields.get("race_date")) and field not in self.fields and field not in self.skipped
        if field in OPTIONAL:
            return field not in self.fields and field not in self.skipped
        return field not in self.fields

    def remaining(self) -> list[str]:
        """Fields still to ask about, in the order they will be asked."""
        return [field for field in ORDER if self._needs(field)]

    def _advance(self) -> None:
        if self.stage == "done":
            self.pending = None
            return
        remaining = self.remaining()
        self.pending = remaining[0] if remaining else None
        self.stage = "collecting" if remaining else "confirming"

    def next_question(self) -> Question | None:
        """The question to ask now, or None when there is nothing to ask (confirm, or done)."""
        if self.stage != "collecting" or self.pending is None:
            return None
        field = self.pending
        return Question(
            field=field,
            prompt=FIELDS[field].question,
            options=_options(field),
            multi=field in MULTI,
            optional=field in OPTIONAL,
        )

    # ------------------------------------------------------------------ answers

    def _store(self, field: str, value: Any) -> None:
        if field == "weekly_km":
            self.fields["weekly_km"], self.fields["unit"] = value
        else:
            self.fields[field] = _json_value(field, value)
        if field in self.skipped:
            self.skipped.remove(field)
        if field not in self.answered:
            self.answered.append(field)

    def _read(self, field: str, text: str, today: dt.date) -> tuple[Any, str | None]:
        """The value an answer gives `field`, or an error that says what is accepted."""
        cleaned = _clean(text)
        shown = cleaned if len(cleaned) <= 40 else cleaned[:37] + "..."
        if field == "weekly_km":
            return self._read_mileage(cleaned)
        if field == "sharp_pain":
            if cleaned in _YES_WORDS or cleaned.startswith("yes"):
                return True, None
            if cleaned in _NO_WORDS or cleaned.startswith("no"):
                return False, None
            return None, "Please answer yes or no: do you get sharp joint pain, not just soreness?"
        if field == "race_date":
            if intake.says_no_race(cleaned):
                return None, None
            found, problems = intake.read_race_date(cleaned, today, loose=True)
            if found:
                return found, None
            return None, problems[0] if problems else (
                f"I couldn't read '{shown}' as a date. Use a date like 2027-01-17, `Jan 17` or `in 6 weeks`, "
                "or say skip."
            )
        if cleaned in _NONE_WORDS and field in ("long_run_day", "hard_days", "equipment", "niggles"):
            return (None if field == "long_run_day" else []), None
        values = _match_options(field, cleaned)
        if values is None:
            values = self._read_loose(field, cleaned)
        if values and "none" in values:
            values = [value for value in values if value != "none"]
            if not values:
                return (None if field == "long_run_day" else []), None
        if not values:
            return None, f"I couldn't match '{shown}' to an answer. {_accepts(field)}"
        if field == "days_per_week":
            count = int(values[0])
            if len(values) > 1 or not 1 <= count <= 3:
                return None, f"LegDay plans 1 to 3 strength sessions a week. {FIELD_ACCEPTS[field]}"
            return count, None
        if field not in MULTI:
            if len(set(values)) > 1:
                return None, f"Pick just one. {_accepts(field)}"
            return values[0], None
        return values, None

    def _read_loose(self, field: str, cleaned: str) -> list[str] | None:
        """Synonyms the reader knows ('never lifted', 'PR', 'weds', 'dodgy knee') as option values."""
        match field:
            case "level":
                level = intake.read_level(cleaned)
                return [level] if level else None
            case "goals":
                return intake.read_goals(cleaned) or None
            case "long_run_day" | "hard_days":
                return intake.read_days(cleaned) or None
            case "equipment":
                return intake.read_equipment(cleaned) or None
            case "niggles":
                # Answering "which niggles?" a body part alone is enough; no "sore" needed.
                found = [n for n, pattern in intake.NIGGLE_PATTERNS.items() if re.search(pattern, cleaned)]
                return found or None
            case "race_distance":
                distance = intake.read_race_distance(cleaned)
                return [distance] if distance else None
            case "days_per_week":
                words = {"once": "1", "one": "1", "twice": "2", "two": "2", "three": "3", "thrice": "3"}
                hits = [words[w] for w in _tokens(cleaned) if w in words]
                digits = re.findall(r"\d+", cleaned)
                return hits[:1] or digits[:1] or None
        return None

    def _read_mileage(self, cleaned: str) -> tuple[Any, str | None]:
        unit_only = re.fullmatch(r"(?:in\s+)?(km|kms|k|kilometres?|kilometers?|mi|miles?)", cleaned)
        if self.held_number is not None and unit_only:
            unit = "mi" if unit_only[1].startswith("m") else "km"
            try:
                return parse_mileage(f"{self.held_number:g}{unit}"), None
            except MileageError as exc:
                return None, str(exc)
        found, problems = intake.read_mileage(cleaned, loose=True)
        if found:
            return found, None
        number = re.fullmatch(r"(?:about|around|~)?\s*(\d+(?:[.,]\d+)?)", cleaned)
        # Remember a bare number so a follow-up "miles" completes it.
        self.held_number = float(number[1].replace(",", ".")) if number else None
        if problems:
            return None, problems[0]
        shown = cleaned if len(cleaned) <= 40 else cleaned[:37] + "..."
        return None, f"I couldn't read '{shown}' as a weekly distance. {MILEAGE_HELP}"

    def answer(self, text: str, now: dt.datetime) -> str | None:
        """Take the runner's reply to the pending question; None when accepted, else what was wrong."""
        self.updated_at = now
        cleaned = _clean(text)
        if self.stage == "done":
            return "Your profile is complete. Start a new conversation to change it."
        if self.stage == "confirming":
            return self._answer_confirm(cleaned)
        field = self.pending
        if field is None:
            self._advance()
            return None
        if not cleaned:
            return f"I didn't catch an answer. {_accepts(field)}"
        if cleaned in _SKIP_WORDS and field in OPTIONAL:
            self.fields.pop(field, None)
            if field not in self.skipped:
                self.skipped.append(field)
            self._advance()
            return None
        if cleaned in ("skip", "pass") and field not in OPTIONAL:
            return f"I need this one to build your plan. {_accepts(field)}"
        value, error = self._read(field, text, now.date())
        if error:
            return error
        self.held_number = None
        self._store(field, value)
        self._merge_extras(text, now.date(), field)
        self._advance()
        return None

    def _merge_extras(self, text: str, today: dt.date, answered: str) -> None:
        """Keep other facts an answer volunteers ('40k, and I'm a beginner') without asking for them again."""
        extra = intake.parse_message(text, today).fields
        for name, value in extra.items():
            if name in (answered, "unit") or name in self.fields or name == "sharp_pain":
                continue
            if name == "weekly_km" and answered != "weekly_km":
                self.fields["weekly_km"], self.fields["unit"] = value, extra["unit"]
                continue
            self.fields[name] = _json_value(name, value)

    def _answer_confirm(self, cleaned: str) -> str | None:
        if cleaned in _CONFIRM_WORDS:
            return self.confirm()
        words = re.sub(r"^(?:change|edit|fix|no|wrong|update)\b[\s,:-]*(?:my|the)?\s*", "", cleaned)
        if words != cleaned or cleaned in ("change", "no"):
            if not words:
                return "What should I change? Say `change` and one of: " + self._field_list() + "."
            return self.change(words)
        return "Say `looks right` to get your plan, or `change` and what to change (" + self._field_list() + ")."

    @staticmethod
    def _field_list() -> str:
        return ", ".join(FIELD_LABELS[field].lower() for field in ORDER)

    def set_field(self, field: str, value: Any, now: dt.datetime | None = None) -> str | None:
        """Set a field from a button or select (values from the question's options); None, or what was wrong."""
        if now is not None:
            self.updated_at = now
        if field not in ORDER:
            return f"'{str(field)[:40]}' isn't something I ask about."
        if value is None or (isinstance(value, str) and _clean(value) in ("skip", "")):
            if field in OPTIONAL:
                self.fields.pop(field, None)
                if field not in self.skipped:
                    self.skipped.append(field)
                self._advance()
                return None
            if field == "long_run_day":
                value = "none"
            else:
                return f"I need an answer for {FIELD_LABELS[field].lower()}. {_accepts(field)}"
        if field == "weekly_km" and isinstance(value, int | float) and not isinstance(value, bool):
            value = f"{value}km"
        if isinstance(value, bool):
            value = "yes" if value else "no"
        elif isinstance(value, list | tuple | set):
            value = ", ".join(str(getattr(item, "value", item)) for item in value) or "none"
        elif isinstance(value, dt.date):
            value = value.isoformat()
        today = self.updated_at.date()
        parsed, error = self._read(field, str(getattr(value, "value", value)), today)
        if error:
            return error
        self._store(field, parsed)
        if self.stage != "done":
            self._advance()
        return None

    # ------------------------------------------------------------------ confirming

    def summary_rows(self) -> list[tuple[str, str]]:
        """(label, value shown) for each field read so far, in the order they are asked."""
        return [(FIELD_LABELS[field], self._shown(field)) for field in ORDER
                if field in self.fields or field in self.skipped]

    def summary(self) -> str:
        """Markdown lines of what I have read, for the confirm card."""
        rows = self.summary_rows()
        return "\n".join(f"**{label}:** {value}" for label, value in rows) if rows else "Nothing yet."

    def _shown(self, field: str) -> str:
        value = self.fields.get(field)
        if field in self.skipped:
            return "not given"
        return FIELDS[field].shown(value, self.fields.get("unit"))

    def confirm(self) -> str | None:
        """The runner agrees the summary is right: the conversation is done; else what is still needed."""
        remaining = self.remaining()
        if remaining:
            return "Not yet: I still need your " + ", ".join(FIELD_LABELS[f].lower() for f in remaining) + "."
        try:
            self.to_profile()
        except ValidationError as exc:
            return " ".join(friendly_errors(exc))
        self.stage = "done"
        self.pending = None
        return None

    def change(self, field: str) -> str | None:
        """Ask one field again (by its name, or a loose word like 'mileage'); None, or what is accepted."""
        wanted = _clean(field).replace(" ", "_") if _clean(field).replace(" ", "_") in ORDER else None
        if wanted is None:
            words = {w: f for f, ws in _FIELD_WORDS.items() for w in ws}
            words.update({FIELD_LABELS[f].lower(): f for f in ORDER})
            hit = process.extractOne(_clean(field), list(words), scorer=fuzz.WRatio, score_cutoff=80)
            wanted = words[hit[0]] if hit else None
        if wanted is None:
            return f"I can't change '{_clean(field)[:40]}'. Choose one of: {self._field_list()}."
        self.fields.pop(wanted, None)
        if wanted == "weekly_km":
            self.fields.pop("unit", None)
        for seen in (self.answered, self.skipped):
            if wanted in seen:
                seen.remove(wanted)
        self.stage = "collecting"
        self.pending = wanted
        return None

    def is_expired(self, now: dt.datetime, ttl: dt.timedelta = DEFAULT_TTL) -> bool:
        """True when the runner has said nothing for longer than `ttl`."""
        return now - self.updated_at > ttl

    def to_profile(self) -> Profile:
        """The finished profile; raises pydantic.ValidationError (a ValueError) while fields are missing."""
        return Profile.model_validate({k: v for k, v in self.fields.items() if k in Profile.model_fields})


# --------------------------------------------------------------------------------------------
# The conversation service: one turn in, plain replies out, for Discord and the console alike.

ReplyKind = Literal["question", "confirm", "faq", "help", "done", "checkin", "logged", "message"]

HELP_LINE = (
    "Tell me about your running in a sentence, like \"I run 30 km a week, new to lifting, want to get faster\", "
    "and I'll build you a 4-week leg strength plan. Or ask me a question about strength work for runners."
)
EXPIRED = "Our last chat went quiet, so I started fresh."
RESTARTED = "Starting over."
_RESTART_WORDS = {"new", "restart", "start over", "reset", "new plan"}
# Fields whose answers are health details: a reply showing them is for the member's eyes only.
HEALTH_FIELDS = frozenset({"niggles", "sharp_pain"})


class Reply(BaseModel):
    """One message for a front-end to render: a question, the summary to confirm, an FAQ answer to give...

    Kinds: `question`, `confirm` (the summary), `faq` (answer `asked` from the FAQ), `help` (what to say),
    `done` (the finished profile: save it, make and save the plan, show it), `checkin` (a check-in read from
    chat, its summary to confirm), `logged` (the confirmed check-in: store `checkin`, then show the reply,
    whose `changes` are what it changed in the plan), `message` (just the lead).
    """

    kind: ReplyKind
    lead: str = ""
    question: Question | None = None
    summary: list[tuple[str, str]] = Field(default_factory=list)
    asked: str | None = None
    profile: Profile | None = None
    health: bool = False
    checkin: dict[str, Any] | None = None
    changes: list[str] = Field(default_factory=list)

    @property
    def text(self) -> str:
        """The reply as plain lines (light markdown: `code`, **bold**), for any front-end."""
        parts = [self.lead] if self.lead else []
        if self.question is not None:
            parts.append(self.question.prompt)
        if self.summary:
            parts.append("\n".join(f"**{label}:** {value}" for label, value in self.summary))
        if self.kind == "checkin":
            parts.append(CHECKIN_CONFIRM)
        if self.kind == "logged":
            parts.append("\n".join(["What changes in your plan:", *(f"- {change}" for change in self.changes)])
                         if self.changes else UNCHANGED)
        return "\n".join(parts)


def step(conversation: Conversation, lead: str = "") -> Reply:
    """What the conversation needs next: its question, or its summary to confirm."""
    question = conversation.next_question()
    if question is not None:
        return Reply(kind="question", lead=lead, question=question)
    summary = conversation.summary_rows()
    health = any(conversation.fields.get(field) for field in HEALTH_FIELDS)
    return Reply(kind="confirm", lead=lead, summary=summary, health=health)


def respond(conversation: Conversation | None, key: str, text: str, now: dt.datetime, plan: Plan | None = None,
            checkins: list[CheckIn] | None = None) -> tuple[Conversation | None, list[Reply]]:
    """Take one message from a runner: the conversation afterwards (None when there is none) and the replies.

    A question asked in the middle of the conversation is answered (an `faq` reply) and the pending
    question asked again; nothing the runner said is dropped. With the member's `plan` (as made) and their
    stored `checkins`, a message reporting on a session is read as a check-in and confirmed before it is logged.
    """
    if conversation is not None and conversation.stage == "checkin":
        if not conversation.is_expired(now):
            return _checkin_turn(conversation, text, now, plan, checkins or [])
        conversation = None
    if conversation is None and plan is not None and not plan.withheld:
        reading = read_checkin(text, now.date())
        if reading.kind == "checkin":
            return _checkin_read(key, reading, now, plan)
    lead = ""
    if conversation is not None and (conversation.is_expired(now) or conversation.stage == "done"):
        conversation, lead = None, EXPIRED if conversation.stage != "done" else ""
    cleaned = _clean(text)
    if conversation is not None and cleaned in _RESTART_WORDS:
        return None, [Reply(kind="help", lead=RESTARTED, asked=None)]
    if conversation is None:
        kind = intake.classify_message(text)
        if kind == "question":
            return None, [Reply(kind="faq", lead=lead, asked=text)]
        if kind == "smalltalk":
            return None, [Reply(kind="help", lead=lead)]
        conversation = Conversation.start(key, text, now)
        notes = [lead, *conversation.notes]
        return conversation, [step(conversation, "\n".join(note for note in notes if note))]
    error = conversation.answer(text, now)
    if conversation.stage == "done":
        return None, [Reply(kind="done", profile=conversation.to_profile())]
    if error is None:
        return conversation, [step(conversation)]
    if intake.classify_message(text) == "question":
        return conversation, [Reply(kind="faq", asked=text), step(conversation)]
    return conversation, [step(conversation, error)]


# --------------------------------------------------------------------------------------------
# Check-ins in chat: read, confirm, log, and say what changed in the plan

CHECKIN_CONFIRM = "Say `looks right` to log it, `change` to tell me again, or `cancel`."
CHECKIN_AGAIN = ("Tell me again how the session went, in one message, like \"did tuesday's session, squats "
                 "3x8 at 16 kg felt easy, knee 2/10 on the lunges\".")
CHECKIN_CANCELLED = "OK, I haven't logged it."
UNCHANGED = "Your plan carries on as it is."
_CANCEL_WORDS = {"cancel", "no", "nope", "stop", "forget it", "never mind", "nevermind", "wrong", "don't"}


def _checkin_read(key: str, reading: CheckinReading, now: dt.datetime, plan: Plan,
                  conversation: Conversation | None = None) -> tuple[Conversation | None, list[Reply]]:
    """A message read as a check-in: what was read, to confirm (or why it can't be logged)."""
    try:
        checkin = reading.to_checkin(plan, now, source="chat")
    except CheckInError as exc:
        if conversation is not None:
            return conversation, [Reply(kind="message", lead=f"{exc} {CHECKIN_AGAIN}")]
        return None, [Reply(kind="message", lead=str(exc))]
    left_out = reading.left_out(plan, now.date())
    lead = ""
    if left_out:
        names = ", ".join(exercise_name(ex_id) for ex_id in left_out)
        lead = f"That session has no {names}, so I left that out."
    state = conversation or Conversation(key=key, created_at=now, updated_at=now, stage="checkin")
    state.stage, state.updated_at, state.pending = "checkin", now, None
    state.checkin = checkin.model_dump(mode="json")
    rows = reading.rows(plan, now.date())
    health = checkin.pain is not None or checkin.sharp or checkin.pain_where is not None or any(
        log.pain is not None for log in checkin.exercises)
    return state, [Reply(kind="checkin", lead=lead, summary=rows, health=health)]


def _checkin_turn(conversation: Conversation, text: str, now: dt.datetime, plan: Plan | None,
                  checkins: list[CheckIn]) -> tuple[Conversation | None, list[Reply]]:
    """The member's answer to a check-in's summary: log it, read it again, or drop it."""
    cleaned = _clean(text)
    if cleaned in _CANCEL_WORDS:
        return None, [Reply(kind="message", lead=CHECKIN_CANCELLED)]
    if conversation.checkin is not None and cleaned in _CONFIRM_WORDS:
        return None, [log_checkin(CheckIn.model_validate(conversation.checkin), plan, checkins, now)]
    if re.match(r"^(?:change|edit|fix|redo)\b", cleaned):
        conversation.checkin, conversation.updated_at = None, now
        return conversation, [Reply(kind="message", lead=CHECKIN_AGAIN)]
    if plan is not None:
        reading = read_checkin(text, now.date())
        if reading.kind == "checkin":
            return _checkin_read(conversation.key, reading, now, plan, conversation)
    conversation.updated_at = now
    if intake.classify_message(text) == "question":
        return conversation, [Reply(kind="faq", asked=text), Reply(kind="message", lead=CHECKIN_CONFIRM)]
    return conversation, [Reply(kind="message", lead=CHECKIN_CONFIRM if conversation.checkin else CHECKIN_AGAIN)]


def log_checkin(checkin: CheckIn, plan: Plan | None, checkins: list[CheckIn], now: dt.datetime) -> Reply:
    """A confirmed check-in, checked against the current plan: the `logged` reply with what it changes."""
    try:
        check_against(checkin, plan, now)
    except CheckInError as exc:
        return Reply(kind="message", lead=str(exc))
    assert plan is not None  # check_against refuses a check-in without a plan
    before = adapt(plan, checkins, now.date())
    after = adapt(plan, [*checkins, checkin], now.date())
    health = checkin.pain is not None or checkin.sharp or any(log.pain is not None for log in checkin.exercises)
    return Reply(kind="logged", lead="Logged, thanks.", checkin=checkin.model_dump(mode="json"),
                 changes=new_changes(before, after), health=health)
