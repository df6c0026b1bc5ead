"""Reminders through the core: reading zones and times, due times across DST, the catch-up rule, and the
schedule over real TinyDB files with a controllable clock, including a restart in the middle of it."""

from __future__ import annotations

import asyncio
import datetime as dt
import zoneinfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.checkins import CheckIn, plan_id
from bot.models import Profile
from bot.reminders import (
    CATCH_UP,
    ReminderError,
    ReminderService,
    Schedule,
    due_at,
    read_time,
    read_zone,
    reschedule,
    session_days,
)
from bot.storage import Storage

USER = 150_000_000_000_000_001
PROFILE = Profile(weekly_km=40, level="intermediate", goals=["speed"], long_run_day="sun", hard_days=["tue"])
START = dt.date(2026, 10, 19)  # a Monday; Europe's clocks go back on Sunday 25 October 2026


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.mark.parametrize(("typed", "zone"), [
    ("Europe/Lisbon", "Europe/Lisbon"), ("lisbon", "Europe/Lisbon"), ("  New   York ", "America/New_York"),
    ("utc", "UTC"), ("america/los_angeles", "America/Los_Angeles"), ("Sydney", "Australia/Sydney"),
])
def test_zones_from_a_city_or_an_iana_name(typed, zone):
    assert read_zone(typed) == zone


@pytest.mark.parametrize("typed", ["Atlantis", "", "Europe/", "x" * 300])
def test_unknown_zone_says_what_is_accepted(typed):
    with pytest.raises(ReminderError, match="city such as 'Lisbon'"):
        read_zone(typed)


@pytest.mark.parametrize(("typed", "expected"), [
    ("18:30", dt.time(18, 30)), ("6pm", dt.time(18)), ("6:30 pm", dt.time(18, 30)), ("07:05", dt.time(7, 5)),
    ("12am", dt.time(0)), ("12pm", dt.time(12)), ("7", dt.time(7)), ("19.45", dt.time(19, 45)),
])
def test_times_of_day(typed, expected):
    assert read_time(typed) == expected


@pytest.mark.parametrize("typed", ["25:00", "13pm", "soon", "18:75", "0pm", ""])
def test_impossible_times_are_refused(typed):
    with pytest.raises(ReminderError, match="24-hour clock"):
        read_time(typed)


def test_due_times_follow_daylight_saving():
    """18:00 in London is 17:00 UTC in summer time and 18:00 UTC after the clocks go back."""
    assert due_at(dt.date(2026, 10, 24), dt.time(18), "Europe/London") == dt.datetime(2026, 10, 24, 17, tzinfo=dt.UTC)
    assert due_at(dt.date(2026, 10, 26), dt.time(18), "Europe/London") == dt.datetime(2026, 10, 26, 18, tzinfo=dt.UTC)
    # New York changes a week later (1 November 2026).
    assert due_at(dt.date(2026, 10, 31), dt.time(7), "America/New_York").hour == 11
    assert due_at(dt.date(2026, 11, 2), dt.time(7), "America/New_York").hour == 12
    # 01:30 does not exist in London on 29 March 2026: read with the offset before the change (GMT).
    assert due_at(dt.date(2026, 3, 29), dt.time(1, 30), "Europe/London") == dt.datetime(2026, 3, 29, 1, 30,
                                                                                     tzinfo=dt.UTC)


def test_reschedule_skips_sent_and_too_late_sessions():
    """The next reminder is the first session after last_sent whose time is less than CATCH_UP ago."""
    days = [dt.date(2026, 12, 1), dt.date(2026, 12, 3), dt.date(2026, 12, 5)]
    on = Schedule(enabled=True, at=dt.time(18), zone="UTC")
    at_six = dt.datetime(2026, 12, 1, 18, tzinfo=dt.UTC)
    assert reschedule(on, days, at_six - dt.timedelta(hours=5), "p").next_due == at_six
    # A little late (the bot was down): still this session; too late: the next one.
    assert reschedule(on, days, at_six + CATCH_UP - dt.timedelta(minutes=1), "p").session == days[0]
    assert reschedule(on, days, at_six + CATCH_UP + dt.timedelta(minutes=1), "p").session == days[1]
    sent = on.model_copy(update={"last_sent": days[1]})
    assert reschedule(sent, days, at_six, "p").session == days[2]
    assert reschedule(on.model_copy(update={"enabled": False}), days, at_six, "p").next_due is None
    assert reschedule(on, [], at_six, None).next_due is None


@pytest.fixture
def plan(coach):
    return coach.plan(PROFILE, START)


def open_storage(path):
    return Storage.open(path, flush_interval=3600, backup_count=0)


async def test_a_reminder_is_sent_once_at_its_local_time_across_dst(tmp_path, plan):
    """Enabled at 18:00 London: each session's reminder comes at 18:00 local, once, before and after DST."""
    storage = open_storage(tmp_path)
    storage.plans.save(USER, plan)
    days = session_days(plan)
    assert days[0] < dt.date(2026, 10, 25) < days[-1]
    clock = Clock(dt.datetime(2026, 10, 19, 8, tzinfo=dt.UTC))
    service = ReminderService(storage, clock)
    schedule = await service.update(USER, enabled=True, at=dt.time(18), zone="Europe/London")
    assert schedule.session == days[0] and schedule.plan_id == plan_id(plan)
    sent_at = []
    for day in days:
        due = due_at(day, dt.time(18), "Europe/London")
        assert due.hour == (17 if day < dt.date(2026, 10, 25) else 18)
        assert await service.next_due() == due
        clock.now = due - dt.timedelta(seconds=1)
        assert await service.tick() == []
        clock.now = due
        taken = await service.tick()
        assert [(t.user_id, t.session) for t in taken] == [(USER, day)]
        assert await service.tick() == []  # never twice
        sent_at.append(clock.now)
    assert await service.next_due() is None
    storage.close()


async def test_restart_in_the_middle_catches_up_within_the_rule_and_never_repeats(tmp_path, plan):
    """Storage and service closed and reopened between reminders: a reminder claimed before the crash is not
    sent again; one missed by less than CATCH_UP is sent on restart; one missed by more is skipped."""
    days = session_days(plan)
    storage = open_storage(tmp_path)
    storage.plans.save(USER, plan)
    clock = Clock(dt.datetime(2026, 10, 19, 6, tzinfo=dt.UTC))
    await ReminderService(storage, clock).update(USER, enabled=True, at=dt.time(7), zone="UTC")
    clock.now = due_at(days[0], dt.time(7), "UTC")
    claimed = await ReminderService(storage, clock).tick()
    assert [t.session for t in claimed] == [days[0]]
    # The claim is already in the fsynced journal when tick() hands the reminder over for sending, so a
    # hard kill now (nothing more written) cannot send it again after the restart.
    assert not storage.pending()
    storage.close()  # "crashed" after the claim, before (or while) sending

    # Down until an hour after the second session's time: within the catch-up window.
    storage = open_storage(tmp_path)
    clock.now = due_at(days[1], dt.time(7), "UTC") + dt.timedelta(hours=1)
    service = ReminderService(storage, clock)
    assert [t.session for t in await service.tick()] == [days[1]]
    assert await service.tick() == []
    storage.close()

    # Down until five hours after the third session's time: beyond CATCH_UP, skipped; the fourth comes on time.
    storage = open_storage(tmp_path)
    clock.now = due_at(days[2], dt.time(7), "UTC") + dt.timedelta(hours=5)
    service = ReminderService(storage, clock)
    assert await service.tick() == []
    assert await service.next_due() == due_at(days[3], dt.time(7), "UTC")
    clock.now = due_at(days[3], dt.time(7), "UTC")
    assert [t.session for t in await service.tick()] == [days[3]]
    storage.close()


async def test_checked_in_sessions_and_new_plans_change_the_schedule(tmp_path, coach, plan):
    """A session already checked in gets no reminder; a new plan moves the schedule to its sessions."""
    days = session_days(plan)
    storage = open_storage(tmp_path)
    storage.plans.save(USER, plan)
    clock = Clock(dt.datetime(2026, 10, 19, 6, tzinfo=dt.UTC))
    service = ReminderService(storage, clock)
    await service.update(USER, enabled=True, at=dt.time(20), zone="UTC")
    checkin = CheckIn(plan_id=plan_id(plan), session=days[0], logged_at=clock.now, status="done")
    storage.checkins.add(USER, checkin.model_dump(mode="json"))
    assert (await service.refresh(USER)).session == days[1]
    storage.plans.save(USER, coach.plan(PROFILE, dt.date(2026, 11, 2)))
    newer = storage.plans.latest(USER)
    # Even without a refresh, the tick notices the plan changed and sends nothing for the old one.
    clock.now = due_at(days[1], dt.time(20), "UTC")
    assert await service.tick() == []
    assert (await service.get(USER)).session == session_days(newer)[0]
    assert (await service.refresh(USER)).plan_id == plan_id(newer)
    storage.close()


async def test_snooze_brings_a_sent_reminder_back_once(tmp_path, plan):
    """Snoozing today's reminder (after it was sent) sends it again 2 hours later, and only once more."""
    days = session_days(plan)
    storage = open_storage(tmp_path)
    storage.plans.save(USER, plan)
    clock = Clock(due_at(days[0], dt.time(7), "UTC") - dt.timedelta(hours=1))
    service = ReminderService(storage, clock)
    await service.update(USER, enabled=True, at=dt.time(7), zone="UTC")
    clock.now += dt.timedelta(hours=1)
    assert len(await service.tick()) == 1
    snoozed = await service.snooze(USER, "2h")
    assert snoozed.next_due == clock.now + dt.timedelta(hours=2) and snoozed.session == days[0]
    clock.now += dt.timedelta(hours=2)
    assert [t.session for t in await service.tick()] == [days[0]]
    assert await service.tick() == []
    assert (await service.get(USER)).session == days[1]
    tomorrow = await service.snooze(USER, "tomorrow", days[1])
    assert tomorrow.next_due == due_at(days[0] + dt.timedelta(days=1), dt.time(7), "UTC")
    with pytest.raises(ReminderError, match="Snooze for"):
        await service.snooze(USER, "forever")
    storage.close()


async def test_closed_dms_turn_reminders_off_and_the_notice_is_given_once(tmp_path, plan):
    storage = open_storage(tmp_path)
    storage.plans.save(USER, plan)
    service = ReminderService(storage, Clock(dt.datetime(2026, 10, 19, 6, tzinfo=dt.UTC)))
    await service.update(USER, enabled=True)
    await service.dm_closed(USER)
    schedule = await service.get(USER)
    assert (schedule.enabled, schedule.next_due, schedule.dm_closed) == (False, None, True)
    assert await service.take_notice(USER) is True
    assert await service.take_notice(USER) is False
    storage.close()


async def test_the_heap_index_survives_reopening(tmp_path, plan):
    """Schedules of many members reopen into the index: the earliest is found without reading the others."""
    storage = open_storage(tmp_path)
    base = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
    for n in range(200):
        storage.reminders.save(USER + n, {"enabled": True, "next_due": (base + dt.timedelta(minutes=(n * 37) % 200))
                                          .isoformat()})
    storage.close()
    storage = open_storage(tmp_path)
    assert storage.reminders.next_due() == base
    # minutes (n * 37) % 200 are 0 for n = 0 and 1 for n = 173 (37 * 173 = 6401).
    assert [uid for uid, _ in storage.reminders.due(base + dt.timedelta(minutes=1))] == [USER, USER + 173]
    storage.close()


def test_a_stored_schedule_of_schema_zero_is_migrated(tmp_path):
    """A bare schedule written before envelopes (schema 0) loads as version 1."""
    from bot.storage._store import DocumentStore

    store = DocumentStore(tmp_path)
    store.load()
    db = store.member_file(USER)
    db.tables["reminders"][str(USER)] = f'"{USER}":{{"enabled":true,"next_due":null}}'
    db.storage.write_fragments({name: list(docs.values()) for name, docs in db.tables.items()})
    storage = open_storage(tmp_path)
    assert storage.reminders.get(USER) == {"enabled": True, "next_due": None}
    storage.close()


def test_service_runs_on_the_event_loop_without_waiting(tmp_path):
    """tick() is plain awaits over storage: a hundred ticks with nothing due finish at once (no sleeping)."""
    storage = open_storage(tmp_path)
    service = ReminderService(storage, Clock(dt.datetime(2026, 12, 1, tzinfo=dt.UTC)))

    async def ticks():
        return [await service.tick() for _ in range(100)]

    assert asyncio.run(asyncio.wait_for(ticks(), timeout=30)) == [[]] * 100
    storage.close()


async def test_the_service_over_postgresql_sends_once(pg_url, plan):
    """The same schedule over PostgreSQL: the indexed next_due, a reminder taken once, then the next session."""
    from bot.storage._postgres import PostgresStorage

    storage = await PostgresStorage.open(pg_url)
    try:
        days = session_days(plan)
        await storage.plans.save(USER, plan)
        clock = Clock(dt.datetime(2026, 10, 19, 6, tzinfo=dt.UTC))
        service = ReminderService(storage, clock)
        await service.update(USER, enabled=True, at=dt.time(7), zone="Europe/Oslo")
        due = due_at(days[0], dt.time(7), "Europe/Oslo")
        assert await service.next_due() == due
        clock.now = due
        assert [t.session for t in await service.tick()] == [days[0]]
        assert await service.tick() == []
        assert (await service.get(USER)).session == days[1]
    finally:
        await storage.close()


ZONES = ["UTC", "Europe/London", "America/New_York", "Australia/Sydney", "Asia/Kolkata", "Pacific/Auckland",
         "America/Sao_Paulo", "Europe/Berlin"]


@settings(max_examples=100)
@given(zone=st.sampled_from(ZONES), at=st.times(), start=st.dates(dt.date(2026, 1, 1), dt.date(2027, 12, 1)),
       gaps=st.lists(st.integers(1, 4), min_size=1, max_size=12), last=st.integers(-1, 11),
       late=st.integers(-48 * 60, 48 * 60))
def test_reschedule_never_repeats_and_never_goes_back(zone, at, start, gaps, last, late):
    """For any zone, time, sessions and moment: the next reminder is after last_sent, not beyond the catch-up
    window, is the earliest such session, and its due time is that session's local time."""
    days, day = [], start
    for gap in gaps:
        day += dt.timedelta(days=gap)
        days.append(day)
    last_sent = days[last] if 0 <= last < len(days) else None
    now = due_at(days[0], dt.time(12), "UTC") + dt.timedelta(minutes=late)
    schedule = reschedule(Schedule(enabled=True, at=at, zone=zone, last_sent=last_sent), days, now, "p")
    open_days = [d for d in days if (last_sent is None or d > last_sent) and due_at(d, at, zone) > now - CATCH_UP]
    if not open_days:
        assert schedule.session is None and schedule.next_due is None
        return
    assert schedule.session == open_days[0]
    assert schedule.next_due == due_at(open_days[0], at, zone)
    local = schedule.next_due.astimezone(zoneinfo.ZoneInfo(zone))
    assert local.date() == schedule.session or at.hour in (0, 1, 2, 3, 23)  # only a DST gap can shift it


CRASH_SCRIPT = """
import asyncio, datetime as dt, os, sys
from bot.reminders import ReminderService
from bot.storage import Storage
storage = Storage.open(sys.argv[1], flush_interval=3600, backup_count=0)
clock = lambda: dt.datetime.fromisoformat(sys.argv[2])
taken = asyncio.run(ReminderService(storage, clock).tick())
print(len(taken), flush=True)
os._exit(0)  # a hard crash the moment the reminders are handed over for sending: no close, no flush thread
"""


def test_a_hard_crash_after_the_claim_does_not_send_it_again(tmp_path, plan):
    """Claimed in a process killed right after tick(): the reopened storage has the claim, nothing repeats."""
    import subprocess
    import sys
    from pathlib import Path

    days = session_days(plan)
    storage = open_storage(tmp_path)
    storage.plans.save(USER, plan)
    asyncio.run(ReminderService(storage, Clock(dt.datetime(2026, 10, 19, 6, tzinfo=dt.UTC)))
                .update(USER, enabled=True, at=dt.time(7), zone="UTC"))
    storage.close()
    due = due_at(days[0], dt.time(7), "UTC")
    root = Path(__file__).resolve().parent.parent
    run = subprocess.run([sys.executable, "-c", CRASH_SCRIPT, str(tmp_path), due.isoformat()], cwd=root,
                         capture_output=True, text=True, timeout=120)
    assert run.stdout.strip() == "1", run.stderr
    storage = open_storage(tmp_path)
    try:
        service = ReminderService(storage, Clock(due + dt.timedelta(minutes=1)))
        assert asyncio.run(service.tick()) == []
        assert storage.reminders.get(USER)["session"] == days[1].isoformat()
    finally:
        storage.close()
