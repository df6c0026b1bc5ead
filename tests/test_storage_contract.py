"""The storage contract, run over both backends (TinyDB and a real PostgreSQL): one suite, not two copies.

TinyDB's calls are plain calls and PostgreSQL's are coroutines; `call()` awaits whichever it gets.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import inspect

import pytest

from bot.models import Profile
from bot.storage import FORGOTTEN_USER, MemberForgotten, writes_from

ALICE = 180_000_000_000_000_001
BOB = 280_000_000_000_000_002
GUILD = 900_000_000_000_000_009
OTHER_GUILD = 900_000_000_000_000_010
PROFILE = Profile(weekly_km=40, level="beginner", goals=["speed"], long_run_day="sun")


async def call(value):
    """The result of a storage call, awaited when the backend is asynchronous."""
    return await value if inspect.isawaitable(value) else value


async def listed(value) -> list:
    """`profiles.all()` as a list, from a plain or an async iterator."""
    if hasattr(value, "__aiter__"):
        return [item async for item in value]
    return list(value)


def make_plan():
    from test_storage import make_plan as plan

    return plan(PROFILE)


async def test_profile_round_trip_and_delete(any_storage):
    """A saved profile reads back equal; delete says whether there was one."""
    s = any_storage
    assert await call(s.profiles.get(ALICE)) is None
    await call(s.profiles.save(ALICE, PROFILE))
    assert await call(s.profiles.get(ALICE)) == PROFILE
    assert await call(s.profiles.count()) == 1
    assert await call(s.profiles.delete(ALICE)) is True
    assert await call(s.profiles.delete(ALICE)) is False


async def test_member_servers_accumulate_and_filter_all(any_storage):
    """Saving with a server adds it; later saves keep it; all(guild) lists only that server's members."""
    s = any_storage
    await call(s.profiles.save(ALICE, PROFILE, guild_id=GUILD))
    await call(s.profiles.save(ALICE, PROFILE, guild_id=OTHER_GUILD))
    await call(s.profiles.save(ALICE, PROFILE))
    await call(s.profiles.save(BOB, PROFILE, guild_id=OTHER_GUILD))
    assert [uid for uid, _ in await listed(s.profiles.all(GUILD))] == [ALICE]
    assert sorted(uid for uid, _ in await listed(s.profiles.all(OTHER_GUILD))) == [ALICE, BOB]
    assert len(await listed(s.profiles.all())) == 2


async def test_plan_round_trip(any_storage):
    """The latest plan reads back equal, with its rule-set version."""
    s = any_storage
    plan = make_plan()
    await call(s.plans.save(ALICE, plan))
    assert await call(s.plans.latest(ALICE)) == plan
    assert await call(s.plans.delete(ALICE)) is True
    assert await call(s.plans.latest(ALICE)) is None


async def test_checkins_keep_order(any_storage):
    """Check-ins come back oldest first; delete returns how many went."""
    s = any_storage
    for week in range(1, 4):
        await call(s.checkins.add(ALICE, {"week": week}))
    assert await call(s.checkins.list(ALICE)) == [{"week": 1}, {"week": 2}, {"week": 3}]
    assert await call(s.checkins.delete(ALICE)) == 3
    assert await call(s.checkins.list(ALICE)) == []


async def test_conversations_save_expire_and_delete_for_user(any_storage):
    """Conversations by key; expire drops old ones; delete_for_user drops a member's."""
    s = any_storage
    old = (dt.datetime.now(dt.UTC) - dt.timedelta(days=2)).isoformat()
    await call(s.conversations.save(f"dm:{ALICE}", {"step": "goals", "updated_at": old}))
    await call(s.conversations.save(f"555:{ALICE}", {"step": "level"}))
    await call(s.conversations.save(f"dm:{BOB}", {"step": "level"}))
    assert (await call(s.conversations.get(f"dm:{BOB}")))["step"] == "level"
    assert await call(s.conversations.expire(dt.datetime.now(dt.UTC) - dt.timedelta(days=1))) == 1
    assert await call(s.conversations.delete_for_user(ALICE)) == 1
    assert await call(s.conversations.get(f"555:{ALICE}")) is None
    assert await call(s.conversations.delete(f"dm:{BOB}")) is True


async def test_guild_defaults_and_update(any_storage):
    """A new server reads the defaults; update's changes persist."""
    s = any_storage
    assert (await call(s.guilds.get(GUILD)))["rule_overrides"] == {}
    await call(s.guilds.update(GUILD, lambda g: {**g, "mod_role_id": 7}))
    assert (await call(s.guilds.get(GUILD)))["mod_role_id"] == 7


async def test_guild_change_and_audit_entry_land_together_or_not_at_all(any_storage):
    """change() writes the settings and the audit entry as one step; a failing change writes neither."""
    s = any_storage

    def disable(settings):
        settings["rule_overrides"] = {"r1": {"enabled": False}}
        return {"actor_id": ALICE, "action": "rule.disable"}

    settings, change_id = await call(s.guilds.change(GUILD, disable))
    assert change_id == 1 and settings["rule_overrides"] == {"r1": {"enabled": False}}
    assert (await call(s.audit.get(GUILD, 1)))["action"] == "rule.disable"

    def broken(settings):
        settings["mod_role_id"] = 99
        raise RuntimeError("refused")

    with pytest.raises(RuntimeError):
        await call(s.guilds.change(GUILD, broken))
    assert (await call(s.guilds.get(GUILD)))["mod_role_id"] is None
    assert await call(s.audit.get(GUILD, 2)) is None


async def test_concurrent_guild_updates_lose_nothing(any_storage):
    """Fifty concurrent increments of one server's counter all count."""
    s = any_storage

    def increment(g):
        g["counter"] = g.get("counter", 0) + 1

    await asyncio.gather(*[call(s.guilds.update(GUILD, increment)) for _ in range(50)])
    assert (await call(s.guilds.get(GUILD)))["counter"] == 50


async def test_audit_ids_increase_per_server_and_page_back(any_storage):
    """Change ids count 1, 2, 3 per server; list is newest first and pages with before."""
    s = any_storage
    for n in range(5):
        await call(s.audit.append(GUILD, {"n": n}))
    assert await call(s.audit.append(OTHER_GUILD, {"n": 0})) == 1
    newest = await call(s.audit.list(GUILD, limit=2))
    assert [e["change_id"] for e in newest] == [5, 4]
    assert [e["change_id"] for e in await call(s.audit.list(GUILD, limit=10, before=3))] == [2, 1]


async def test_forget_removes_everything_and_is_final(any_storage):
    """Forget deletes every kind, anonymises audit, reports counts; stale writes are refused after."""
    s = any_storage
    began = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=5)
    await call(s.profiles.save(ALICE, PROFILE, guild_id=GUILD))
    await call(s.plans.save(ALICE, make_plan()))
    await call(s.checkins.add(ALICE, {"week": 1}))
    await call(s.reminders.save(ALICE, {"enabled": True, "next_due": "2026-12-01T18:00:00+00:00"}))
    await call(s.conversations.save(f"dm:{ALICE}", {"step": "goals"}))
    await call(s.audit.append(GUILD, {"actor_id": ALICE, "action": "faq.edit"}))
    await call(s.profiles.save(BOB, PROFILE, guild_id=GUILD))
    receipt = s.forget_member(ALICE)
    receipt = await call(receipt)
    assert (receipt.profiles, receipt.plans, receipt.checkins, receipt.conversations,
            receipt.audit_entries_anonymised, receipt.reminders) == (1, 1, 1, 1, 1, 1)
    assert await call(s.reminders.get(ALICE)) is None and await call(s.reminders.next_due()) is None
    assert "your reminder schedule" in receipt.summary()
    assert (await call(s.audit.get(GUILD, 1)))["actor_id"] == FORGOTTEN_USER
    assert await call(s.profiles.get(ALICE)) is None
    assert [uid for uid, _ in await listed(s.profiles.all(GUILD))] == [BOB]
    with writes_from(began):
        with pytest.raises(MemberForgotten):
            await call(s.profiles.save(ALICE, PROFILE))
        with pytest.raises(MemberForgotten):
            await call(s.conversations.save(f"dm:{ALICE}", {"step": "goals"}))
        await call(s.profiles.save(BOB, PROFILE))
    await call(s.profiles.save(ALICE, PROFILE))  # new work after the forget
    assert await call(s.profiles.get(ALICE)) == PROFILE


async def test_bad_values_are_refused_with_a_message(any_storage):
    """Ids and values outside the contract raise ValueError saying what is accepted."""
    s = any_storage
    with pytest.raises(ValueError, match="positive whole number"):
        await call(s.profiles.get(-1))
    with pytest.raises(ValueError, match="JSON"):
        await call(s.checkins.add(ALICE, {"when": dt.datetime.now()}))
    with pytest.raises(ValueError, match="conversation key"):
        await call(s.conversations.get(""))


def at(hour: int, day: int = 1) -> dt.datetime:
    return dt.datetime(2026, 12, day, hour, tzinfo=dt.UTC)


async def test_reminders_round_trip_and_next_due_in_order(any_storage):
    """Schedules read back; next_due is the earliest; due(until) lists those due, earliest first, and keeps them."""
    s = any_storage
    assert await call(s.reminders.next_due()) is None
    await call(s.reminders.save(ALICE, {"enabled": True, "next_due": at(18).isoformat(), "zone": "Europe/Oslo"}))
    await call(s.reminders.save(BOB, {"enabled": True, "next_due": at(7).isoformat()}))
    await call(s.reminders.save(300_000_000_000_000_003, {"enabled": False, "next_due": None}))
    assert (await call(s.reminders.get(ALICE)))["zone"] == "Europe/Oslo"
    assert await call(s.reminders.next_due()) == at(7)
    assert [uid for uid, _ in await call(s.reminders.due(at(12)))] == [BOB]
    assert [uid for uid, _ in await call(s.reminders.due(at(23)))] == [BOB, ALICE]
    assert [uid for uid, _ in await call(s.reminders.due(at(23), limit=1))] == [BOB]
    # Rescheduling BOB later moves him behind ALICE; deleting ALICE leaves BOB next.
    await call(s.reminders.save(BOB, {"enabled": True, "next_due": at(20).isoformat()}))
    assert await call(s.reminders.next_due()) == at(18)
    assert await call(s.reminders.delete(ALICE)) is True
    assert await call(s.reminders.next_due()) == at(20)
    assert await call(s.reminders.count()) == 2


async def test_reminder_claim_is_compare_and_set(any_storage):
    """claim writes only while the schedule is still due when the caller read it: a second claim loses."""
    s = any_storage
    await call(s.reminders.save(ALICE, {"enabled": True, "next_due": at(18).isoformat()}))
    sent = {"enabled": True, "next_due": at(18, day=3).isoformat(), "last_sent": "2026-12-01"}
    assert await call(s.reminders.claim(ALICE, at(18), sent)) is True
    assert await call(s.reminders.claim(ALICE, at(18), sent)) is False
    assert (await call(s.reminders.get(ALICE)))["last_sent"] == "2026-12-01"
    assert await call(s.reminders.claim(BOB, at(18), sent)) is False  # no schedule at all


async def test_export_holds_everything_about_the_member_and_nothing_else(any_storage):
    """export_member: profile, servers, plan, check-ins, reminders and conversations; another member's are not."""
    s = any_storage
    plan = make_plan()
    await call(s.profiles.save(ALICE, PROFILE, guild_id=GUILD))
    await call(s.plans.save(ALICE, plan))
    await call(s.checkins.add(ALICE, {"week": 1}))
    await call(s.checkins.add(ALICE, {"week": 2}))
    await call(s.reminders.save(ALICE, {"enabled": True, "next_due": None}))
    await call(s.conversations.save(f"dm:{ALICE}", {"step": "goals"}))
    await call(s.conversations.save(f"dm:{BOB}", {"step": "level"}))
    await call(s.checkins.add(BOB, {"week": 9}))
    export = await call(s.export_member(ALICE))
    assert export["user_id"] == str(ALICE)
    assert export["profile"] == PROFILE.model_dump(mode="json")
    assert export["servers"] == [str(GUILD)]
    assert export["plan"] == plan.model_dump(mode="json")
    assert export["checkins"] == [{"week": 1}, {"week": 2}]
    assert export["reminders"] == {"enabled": True, "next_due": None}
    assert export["conversations"] == [{"key": f"dm:{ALICE}", "state": {"step": "goals"}}]
    assert str(BOB) not in str(export)
    empty = await call(s.export_member(300_000_000_000_000_003))
    assert (empty["profile"], empty["plan"], empty["checkins"], empty["reminders"]) == (None, None, [], None)
