"""Opt-in reminders: a DM on each session day at the member's local time, and the schedule behind it.

No discord here and no real waiting: every function takes the time it works at, and `ReminderService`
reads an injected clock. The Discord layer (bot/exts/checkin.py) asks `tick()` what to send, sends it,
and reports closed DMs back (`dm_closed`).

The rules, stated (README "Reminders"):

- A member's reminder for a session is due at their chosen local time (`at`, in `zone`) on the session's
  date, converted to UTC with the zone's rules for that date, so it follows daylight-saving changes. A time
  that does not exist that day (skipped by a spring-forward change) is read with the offset before the change
  (02:30 becomes 03:30); a time that happens twice is the first one.
- The sessions are those of the member's plan as adapted to their check-ins (`adapt`), from today on. A
  session they already checked in is not reminded about.
- Catch-up: a reminder found late (the bot was down at its time) is still sent if it is less than `CATCH_UP`
  late; otherwise it is skipped. Either way it is then marked handled.
- Never twice, at most once: the schedule is moved past a reminder (`last_sent`, the next `next_due`) and
  that write is committed, as a compare-and-set on the old due time (`reminders.claim`), and made durable
  (TinyDB's journal flushed), BEFORE the DM is sent. A crash between the two loses that one reminder rather
  than sending it twice: right for a DM.
- A DM refused because the member's DMs are closed (Discord error 50007) turns reminders off, and the member
  is told once, in their next interaction with the bot, where to turn them back on.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import inspect
import logging
import re
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from bot.adapt import adapt
from bot.checkins import load_checkins, plan_id
from bot.errors import LegDayError
from bot.models import Plan

log = logging.getLogger("legday.reminders")

REMINDER_SCHEMA = 1
DEFAULT_TIME = dt.time(18, 0)
DEFAULT_ZONE = "UTC"
# A reminder found later than this after its time (the bot was down) is skipped, not sent.
CATCH_UP = dt.timedelta(hours=2)
# The background task never sleeps longer than this, so changes made by other processes are seen.
MAX_SLEEP = 60.0
# How many due reminders one tick takes.
BATCH = 200
# The short choice of zones offered in /reminders timezone; anything else is typed (a city or an IANA name).
COMMON_ZONES: tuple[tuple[str, str], ...] = (
    ("UK and Ireland (London)", "Europe/London"),
    ("Central Europe (Berlin, Paris)", "Europe/Berlin"),
    ("Eastern Europe (Helsinki, Athens)", "Europe/Helsinki"),
    ("US Eastern (New York)", "America/New_York"),
    ("US Central (Chicago)", "America/Chicago"),
    ("US Mountain (Denver)", "America/Denver"),
    ("US Pacific (Los Angeles)", "America/Los_Angeles"),
    ("India (Kolkata)", "Asia/Kolkata"),
    ("Japan (Tokyo)", "Asia/Tokyo"),
    ("Australia East (Sydney)", "Australia/Sydney"),
    ("New Zealand (Auckland)", "Pacific/Auckland"),
    ("UTC", "UTC"),
)
# Snooze choices: a delay, or "tomorrow" (the member's reminder time on the next day).
SNOOZES: dict[str, dt.timedelta | None] = {
    "1h": dt.timedelta(hours=1), "2h": dt.timedelta(hours=2), "4h": dt.timedelta(hours=4), "tomorrow": None,
}


class ReminderError(LegDayError):
    """A reminder setting that can't be used (an unknown zone, a time that isn't one); says what is accepted."""


class Schedule(BaseModel):
    """One member's reminder settings and where their schedule stands (stored as its JSON dump)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    schema_version: int = REMINDER_SCHEMA
    enabled: bool = False
    at: dt.time = DEFAULT_TIME  # local time of day
    zone: str = DEFAULT_ZONE
    plan_id: str | None = None  # the plan the schedule was worked out from
    session: dt.date | None = None  # the session the next reminder is about
    next_due: dt.datetime | None = None  # when it is due, UTC
    last_sent: dt.date | None = None  # the latest session reminded about (or skipped as too late)
    snoozed_until: dt.datetime | None = None
    dm_closed: bool = False  # the last DM bounced (50007), so reminders were turned off
    notice_due: bool = False  # ... and the member has not been told yet

    def dump(self) -> dict[str, Any]:
        """The stored form (JSON values; "next_due" is what storage indexes)."""
        return self.model_dump(mode="json")


def load_schedule(doc: dict[str, Any] | None) -> Schedule:
    """A stored schedule as a model; a missing or unreadable one is the default (reminders off)."""
    if doc is None:
        return Schedule()
    try:
        return Schedule.model_validate(doc)
    except ValidationError as exc:
        log.warning("stored reminder schedule no longer validates, reset: %s", exc)
        return Schedule()


# ------------------------------------------------------------------------------------------------
# Reading what members type


@functools.cache
def _zones() -> dict[str, str]:
    """Every IANA zone by lower-cased name, and by city (the last part, spaces for underscores)."""
    names = sorted(zoneinfo.available_timezones())
    by_key: dict[str, str] = {}
    for name in names:
        by_key[name.lower()] = name
    preferred = {zone for _, zone in COMMON_ZONES}
    for name in names:
        city = name.rsplit("/", 1)[-1].replace("_", " ").lower()
        # A city in two zones (Etc/ aliases and the like): the real region, then the common list, wins.
        if city not in by_key or name in preferred or by_key[city].startswith("Etc/"):
            by_key.setdefault(city, name)
            if name in preferred:
                by_key[city] = name
    return by_key


def read_zone(text: str) -> str:
    """An IANA zone from what a member typed: 'Europe/Lisbon', 'lisbon', 'New York', 'utc'."""
    cleaned = " ".join(str(text).strip().split())[:64]
    zones = _zones()
    found = zones.get(cleaned.lower()) or zones.get(cleaned.lower().replace(" ", "_"))
    if found is None:
        raise ReminderError(
            f"I don't know the time zone '{cleaned}'. Pick one from the list, or type a city such as "
            "'Lisbon' or 'New York', or a zone name such as 'Europe/Lisbon'.")
    return found


_TIME = re.compile(r"^(\d{1,2})(?:[:.h](\d{2}))?\s*(am|pm)?$")


def read_time(text: str) -> dt.time:
    """A time of day from '18:30', '6pm', '6.30 pm', '07:05' or '7'."""
    cleaned = str(text).strip().lower().replace(" ", "")[:16]
    match = _TIME.match(cleaned)
    problem = (f"I couldn't read '{cleaned}' as a time of day. Use the 24-hour clock like 18:30, "
               "or 6pm / 6:30pm.")
    if match is None:
        raise ReminderError(problem)
    hour, minute = int(match.group(1)), int(match.group(2) or 0)
    if match.group(3):
        if not 1 <= hour <= 12:
            raise ReminderError(problem)
        hour = hour % 12 + (12 if match.group(3) == "pm" else 0)
    if hour > 23 or minute > 59:
        raise ReminderError(problem)
    return dt.time(hour, minute)


# ------------------------------------------------------------------------------------------------
# The schedule, as plain functions of the time


def due_at(day: dt.date, at: dt.time, zone: str) -> dt.datetime:
    """When a reminder at local time `at` on `day` in `zone` happens, in UTC (DST rules for that date)."""
    local = dt.datetime.combine(day, at, tzinfo=zoneinfo.ZoneInfo(zone))
    return local.astimezone(dt.UTC)


def local_now(now: dt.datetime, zone: str) -> dt.datetime:
    """The moment `now` on the member's clock."""
    return now.astimezone(zoneinfo.ZoneInfo(zone))


def session_days(plan: Plan | None) -> list[dt.date]:
    """The dates of the plan's strength sessions, in order (none for a withheld plan)."""
    if plan is None or plan.withheld:
        return []
    return sorted(session.date for week in plan.weeks for session in week.sessions)


def reschedule(schedule: Schedule, days: list[dt.date], now: dt.datetime, plan_ref: str | None) -> Schedule:
    """The schedule pointed at its next reminder: the first session not yet handled whose time is not too late.

    A snooze holds while it is still ahead and its session is still in the plan.
    """
    if not schedule.enabled:
        return schedule.model_copy(update={"session": None, "next_due": None, "snoozed_until": None,
                                           "plan_id": plan_ref})
    if (schedule.snoozed_until is not None and schedule.snoozed_until > now and schedule.session in days
            and (schedule.last_sent is None or schedule.session > schedule.last_sent)):
        return schedule.model_copy(update={"next_due": schedule.snoozed_until, "plan_id": plan_ref})
    for day in days:
        if schedule.last_sent is not None and day <= schedule.last_sent:
            continue
        due = due_at(day, schedule.at, schedule.zone)
        if due > now - CATCH_UP:
            return schedule.model_copy(update={"session": day, "next_due": due, "snoozed_until": None,
                                               "plan_id": plan_ref})
    return schedule.model_copy(update={"session": None, "next_due": None, "snoozed_until": None,
                                       "plan_id": plan_ref})


def snooze_until(schedule: Schedule, choice: str, now: dt.datetime) -> dt.datetime:
    """When a snoozed reminder comes back: after the chosen delay, or at the member's time tomorrow."""
    if choice not in SNOOZES:
        raise ReminderError(f"Snooze for {', '.join(SNOOZES)}; '{str(choice)[:20]}' isn't one of them.")
    delay = SNOOZES[choice]
    if delay is not None:
        return now + delay
    tomorrow = local_now(now, schedule.zone).date() + dt.timedelta(days=1)
    return due_at(tomorrow, schedule.at, schedule.zone)


# ------------------------------------------------------------------------------------------------
# The service: the schedule in storage, either backend


async def _call(value: Any) -> Any:
    # TinyDB's repositories answer at once, PostgreSQL's are coroutines.
    return await value if inspect.isawaitable(value) else value


@dataclass(frozen=True)
class Due:
    """A reminder to send now: to whom, about which session of which plan."""

    user_id: int
    session: dt.date
    plan: Plan
    schedule: Schedule


class ReminderService:
    """Members' reminder schedules over storage, with an injected clock (a callable giving aware UTC now)."""

    def __init__(self, storage: Any, clock: Callable[[], dt.datetime]) -> None:
        self.storage = storage
        self.clock = clock

    async def get(self, user_id: int) -> Schedule:
        """The member's schedule (the default, off, when they never set one)."""
        return load_schedule(await _call(self.storage.reminders.get(user_id)))

    async def _plan_days(self, user_id: int, now: dt.datetime, zone: str) -> tuple[Plan | None, list[dt.date]]:
        plan = await _call(self.storage.plans.latest(user_id))
        if plan is None:
            return None, []
        checkins = load_checkins(await _call(self.storage.checkins.list(user_id)))
        today = local_now(now, zone).date()
        adapted = adapt(plan, checkins, today)
        logged = {c.session for c in checkins if c.session is not None and c.plan_id == plan_id(plan)}
        return plan, [day for day in session_days(adapted) if day not in logged]

    async def update(self, user_id: int, **changes: Any) -> Schedule:
        """Change settings (enabled, at, zone, ...) and save the schedule pointed at its next reminder."""
        now = self.clock()
        current = await self.get(user_id)
        changed = current.model_copy(update=changes)
        plan, days = await self._plan_days(user_id, now, changed.zone)
        schedule = reschedule(changed, days, now, None if plan is None else plan_id(plan))
        await _call(self.storage.reminders.save(user_id, schedule.dump()))
        return schedule

    async def refresh(self, user_id: int) -> Schedule | None:
        """Recompute after a plan or a check-in changed; nothing is written for members without reminders."""
        current = await self.get(user_id)
        if not current.enabled:
            return None
        return await self.update(user_id)

    async def snooze(self, user_id: int, choice: str, day: dt.date | None = None) -> Schedule:
        """Remind again later (see `snooze_until`) about `day`'s session.

        By default: today's reminder if it was sent, else the one waiting.
        """
        now = self.clock()
        current = await self.get(user_id)
        if day is None:
            sent_today = current.last_sent is not None and current.last_sent == local_now(now, current.zone).date()
            day = current.last_sent if sent_today else current.session
        if not current.enabled or day is None:
            raise ReminderError("There's no reminder to snooze. /reminders status shows your next one.")
        until = snooze_until(current, choice, now)
        # Snoozing a reminder already sent makes its session unsent again, for exactly one more reminder.
        last_sent = current.last_sent
        if last_sent is not None and last_sent >= day:
            last_sent = day - dt.timedelta(days=1)
        return await self.update(user_id, snoozed_until=until, session=day, last_sent=last_sent)

    async def dm_closed(self, user_id: int) -> None:
        """The member's DMs are closed: reminders off, and a note to tell them once."""
        await self.update(user_id, enabled=False, dm_closed=True, notice_due=True)

    async def take_notice(self, user_id: int) -> bool:
        """True once after reminders were stopped by closed DMs (the member is then told), else False."""
        doc = await _call(self.storage.reminders.get(user_id))
        if doc is None or not doc.get("notice_due"):
            return False
        schedule = load_schedule(doc).model_copy(update={"notice_due": False})
        await _call(self.storage.reminders.save(user_id, schedule.dump()))
        return True

    async def next_due(self) -> dt.datetime | None:
        """When the earliest reminder of anyone is due (the storage's index, never a scan)."""
        return await _call(self.storage.reminders.next_due())

    async def seconds_to_next(self) -> float:
        """How long the background task may sleep: until the next due reminder, at most MAX_SLEEP."""
        due = await self.next_due()
        if due is None:
            return MAX_SLEEP
        return max(0.0, min(MAX_SLEEP, (due - self.clock()).total_seconds()))

    async def tick(self) -> list[Due]:
        """Claim every reminder due now and return those to send (late ones beyond CATCH_UP are skipped).

        Each claim is committed before this returns, so the caller's send is at most once.
        """
        now = self.clock()
        out: list[Due] = []
        for user_id, doc in await _call(self.storage.reminders.due(now, limit=BATCH)):
            schedule = load_schedule(doc)
            expected = schedule.next_due
            if expected is None:
                continue
            plan, days = await self._plan_days(user_id, now, schedule.zone)
            ref = None if plan is None else plan_id(plan)
            if plan is None or ref != schedule.plan_id or schedule.session not in days:
                # The plan or its sessions changed since this was worked out: work it out again.
                fresh = reschedule(schedule, days, now, ref)
                if plan is None or fresh.session != schedule.session or fresh.next_due != expected:
                    await _call(self.storage.reminders.claim(user_id, expected, fresh.dump()))
                    continue
                schedule = fresh
            late = now - expected > CATCH_UP
            handled = schedule.model_copy(update={"last_sent": schedule.session, "snoozed_until": None})
            after = reschedule(handled, days, now, ref)
            if not await _call(self.storage.reminders.claim(user_id, expected, after.dump())):
                continue  # someone else (another process, a change by the member) got there first
            if late:
                log.info("reminder skipped, %s late: user=%s session=%s", now - expected, user_id, schedule.session)
                continue
            out.append(Due(user_id, schedule.session, plan, schedule))  # type: ignore[arg-type]
        flush = getattr(self.storage, "flush", None)
        if out and callable(flush):
            # TinyDB writes behind: make the claims durable (a journal append and fsync) before anything is
            # sent, so a crash right after a send cannot bring its reminder back. PostgreSQL already committed.
            await asyncio.to_thread(flush)
        return out
