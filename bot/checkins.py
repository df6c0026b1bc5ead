"""Check-ins: what a member reports after a session, validated, and the plan it belongs to.

This module is the contract between the front-ends (Discord form and buttons, chat, console), storage (each
check-in is stored as `CheckIn.model_dump(mode="json")` in the `checkins` collection) and the adaptation of the
rest of a block (bot/adapt.py). A check-in names its plan by `plan_id(plan)`, so a check-in for a plan that has
since been replaced can be refused (`check_against`), while the history stays for progress and the next block.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bot.errors import LegDayError
from bot.models import Niggle, Plan, Session

CHECKIN_SCHEMA = 1

Status = Literal["done", "partly", "skipped"]
Feel = Literal["easy", "ok", "hard"]
RunFeel = Literal["good", "ok", "bad"]


class CheckInError(LegDayError):
    """A check-in that can't be stored: impossible values, a session that doesn't exist, a replaced plan."""


class ExerciseLog(BaseModel):
    """What a member reports for one exercise of a session; every field but the id is optional."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    exercise: str = Field(min_length=1, max_length=64)
    hit: bool | None = None  # reached the top of the prescribed rep range on every set
    reps: int | None = Field(default=None, ge=0, le=100)  # reps (or seconds for holds) on the last set
    sets: int | None = Field(default=None, ge=0, le=20)
    rir: int | None = Field(default=None, ge=0, le=5)  # reps in reserve on the last set
    feel: Feel | None = None
    load_kg: float | None = Field(default=None, ge=0, le=500)
    pain: int | None = Field(default=None, ge=0, le=10)
    load_unit: Literal["kg", "lb"] | None = None  # the unit the member gave the load in (shown back in it)


class CheckIn(BaseModel):
    """One report on one planned session (or a weekly mileage update when `session` is None)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    schema_version: int = CHECKIN_SCHEMA
    plan_id: str
    session: dt.date | None  # the planned session's date; None for a mileage-only update
    logged_at: dt.datetime
    status: Status | None = None
    exercises: tuple[ExerciseLog, ...] = ()
    pain: int | None = Field(default=None, ge=0, le=10)  # the highest pain of the session, 0-10
    pain_where: Niggle | None = None
    lingering: bool | None = None  # still there the next morning (COACHING.md 18)
    sharp: bool = False
    next_run: RunFeel | None = None
    weekly_km: float | None = Field(default=None, ge=0, le=250)
    source: Literal["form", "button", "chat", "console", "reminder"] = "form"
    weekly_unit: Literal["km", "mi"] | None = None  # the unit the member gave the weekly mileage in


# What each field accepts, in a member's words: the second half of every "what was wrong" message.
ACCEPTS = {
    "pain": "Pain is 0-10: 0 is none, 10 the worst you can imagine.",
    "reps": "Reps are 0-100 for a set (seconds for a hold).",
    "sets": "Sets are 0-20.",
    "rir": "Reps in reserve are 0-5: how many more you could have done.",
    "load_kg": "A load is 0-500 kg (about 1,100 lb).",
    "weekly_km": "Weekly mileage is 0-250 km (about 155 mi).",
    "status": "A session is done, partly done or skipped.",
    "feel": "An exercise felt easy, ok or hard.",
    "next_run": "The next run felt good, ok or bad.",
    "pain_where": "Where it hurt is one of: " + ", ".join(n.value for n in Niggle) + ".",
    "exercise": "Name an exercise of the session.",
    "session": "Give the session's date, like 2026-12-01, or a day like tuesday.",
    "logged_at": "A time like 2026-12-01T18:00.",
    "lingering": "Say yes or no.",
    "sharp": "Say yes or no.",
    "hit": "Say yes or no.",
    "load_unit": "Give a load in kg or lb.",
    "weekly_unit": "Give mileage in km or mi.",
}
LABELS = {"load_kg": "Load", "weekly_km": "Weekly mileage", "pain_where": "Where it hurt", "rir": "Reps in reserve",
          "next_run": "The next run", "logged_at": "The time logged", "load_unit": "The load's unit",
          "weekly_unit": "The mileage's unit"}


def checkin_problems(error: ValidationError) -> list[str]:
    """Turn pydantic's error about a check-in into lines a member understands: what was wrong, what is accepted."""
    lines: list[str] = []
    for item in error.errors():
        loc = [part for part in item["loc"] if isinstance(part, str)]
        field = loc[-1] if loc else ""
        label = LABELS.get(field, field.replace("_", " ").capitalize() or "The check-in")
        given = item.get("input")
        shown = f" ({given:g})" if isinstance(given, int | float) and not isinstance(given, bool) else (
            f" ('{given[:30]}')" if isinstance(given, str) else "")
        if item["type"] == "extra_forbidden":
            line = f"'{field}' isn't something a check-in holds."
        elif item["type"] == "missing":
            line = f"{label} is missing. {ACCEPTS.get(field, '')}".strip()
        else:
            line = f"{label}{shown} isn't possible. {ACCEPTS.get(field, item['msg'])}".strip()
        if line not in lines:
            lines.append(line)
    return lines


def make_checkin(plan: Plan | None, now: dt.datetime, **fields: object) -> CheckIn:
    """A validated check-in for the member's current plan, or a CheckInError saying what was wrong and why.

    `fields` are CheckIn's fields (plan_id and logged_at default to the plan's and `now`); nothing is stored here.
    """
    if plan is None:
        raise CheckInError("You don't have a plan yet, so there is nothing to check in. Make one with /plan.")
    values = {"plan_id": plan_id(plan), "logged_at": now, **fields}
    try:
        checkin = CheckIn.model_validate(values)
    except ValidationError as exc:
        raise CheckInError(" ".join(checkin_problems(exc))) from None
    check_against(checkin, plan, now)
    return checkin


def session_dates(plan: Plan) -> list[dt.date]:
    """The dates of the plan's strength sessions, in order."""
    return sorted(session.date for week in plan.weeks for session in week.sessions)


def plan_id(plan: Plan) -> str:
    """A short, stable identity for a plan as made (before adaptation): its start, rules version and content."""
    # Keys sorted: a plan fresh from the planner (built without re-validation) dumps its fields in another
    # order than the same plan read back from storage, and both must have one identity.
    content = json.dumps(plan.model_dump(mode="json", exclude={"trace"}), sort_keys=True, separators=(",", ":"))
    digest = hashlib.blake2b(content.encode(), digest_size=8)
    return f"{plan.start.isoformat()}-{digest.hexdigest()}"


def planned_session(plan: Plan, day: dt.date) -> Session | None:
    """The plan's strength session on that date, if there is one."""
    for week in plan.weeks:
        for session in week.sessions:
            if session.date == day:
                return session
    return None


def check_against(checkin: CheckIn, plan: Plan | None, now: dt.datetime) -> None:
    """Refuse, with a friendly message, a check-in that doesn't fit the member's current plan."""
    if plan is None:
        raise CheckInError("You don't have a plan yet, so there is nothing to check in. Make one with /plan.")
    if checkin.plan_id != plan_id(plan):
        raise CheckInError("That session belongs to a plan you have since replaced, so I can't log it. "
                           "Check in a session of your current plan instead.")
    if checkin.session is None:
        return
    if checkin.session > now.date():
        raise CheckInError(f"{checkin.session:%A %-d %B} is still ahead; check in a session once you have done it "
                           "(or skipped it).")
    session = planned_session(plan, checkin.session)
    if session is None:
        raise CheckInError(f"Your plan has no strength session on {checkin.session:%A %-d %B}. "
                           "Pick one of your plan's session days.")
    known = {item.id for item in session.exercises}
    unknown = [log.exercise for log in checkin.exercises if log.exercise not in known]
    if unknown:
        raise CheckInError(f"That session has no {', '.join(unknown)}; it holds "
                           f"{', '.join(item.name for item in session.exercises)}.")


def load_checkins(items: list[dict]) -> list[CheckIn]:
    """Stored check-ins (JSON values) as models, skipping any that no longer validate (oldest first)."""
    out: list[CheckIn] = []
    for item in items:
        try:
            out.append(CheckIn.model_validate(item))
        except ValidationError:
            continue
    return out
