"""Forget is final: stale views, in-flight /plan and pending conversations cannot bring a member back."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import threading

import pytest

from bot.models import Profile
from bot.storage import FORGOTTEN_USER, MemberForgotten, Storage, set_write_origin, writes_from
from bot.storage._tinydb import list_backups

ALICE = 180_000_000_000_000_001
BOB = 280_000_000_000_000_002
GUILD = 900_000_000_000_000_009
PROFILE = Profile(weekly_km=40, level="beginner", goals=["speed"], long_run_day="sun")


def open_storage(data_dir, **options) -> Storage:
    options.setdefault("flush_interval", 3600)
    options.setdefault("backup_count", 0)
    return Storage.open(data_dir, **options)


def before(seconds: float = 5) -> dt.datetime:
    return dt.datetime.now(dt.UTC) - dt.timedelta(seconds=seconds)


def test_write_begun_before_forget_is_refused_for_every_kind(tmp_path):
    """Profile, plan, check-in and conversation writes that began before the forget are all refused."""
    from test_storage import make_plan

    with open_storage(tmp_path) as storage:
        storage.profiles.save(ALICE, PROFILE)
        began = before()
        storage.forget_member(ALICE)
        with writes_from(began):
            for write in (lambda: storage.profiles.save(ALICE, PROFILE, guild_id=GUILD),
                          lambda: storage.plans.save(ALICE, make_plan(PROFILE)),
                          lambda: storage.checkins.add(ALICE, {"week": 1}),
                          lambda: storage.conversations.save(f"dm:{ALICE}", {"step": "goals"})):
                with pytest.raises(MemberForgotten, match="You asked me to forget you at"):
                    write()
        assert storage.profiles.get(ALICE) is None
        assert storage.plans.latest(ALICE) is None
        assert storage.checkins.list(ALICE) == []
        assert storage.conversations.get(f"dm:{ALICE}") is None


def test_work_begun_after_forget_saves_as_usual(tmp_path):
    """A member who starts again after forgetting gets a normal profile; other members are untouched."""
    with open_storage(tmp_path) as storage:
        storage.profiles.save(ALICE, PROFILE)
        storage.forget_member(ALICE)
        with writes_from(dt.datetime.now(dt.UTC) + dt.timedelta(milliseconds=1)):
            storage.profiles.save(ALICE, PROFILE)
            storage.profiles.save(BOB, PROFILE)
        with writes_from(before()):
            storage.profiles.save(BOB, PROFILE)  # BOB never asked to be forgotten
        assert storage.profiles.get(ALICE) == PROFILE
        assert storage.profiles.get(BOB) == PROFILE


def test_pending_conversation_started_before_forget_cannot_be_saved_back(tmp_path):
    """A conversation held in memory since before the forget is refused by its own start time."""
    with open_storage(tmp_path) as storage:
        started = before().isoformat()
        storage.conversations.save(f"dm:{ALICE}", {"step": "goals", "created_at": started})
        storage.forget_member(ALICE)
        with pytest.raises(MemberForgotten):
            storage.conversations.save(f"dm:{ALICE}", {"step": "level", "created_at": started})
        fresh = dt.datetime.now(dt.UTC).isoformat()
        storage.conversations.save(f"dm:{ALICE}", {"step": "goals", "created_at": fresh})
        assert storage.conversations.get(f"dm:{ALICE}")["created_at"] == fresh


def test_tombstone_survives_a_restart_without_the_id_in_clear(tmp_path):
    """After reopening, stale writes are still refused; the files hold no trace of the member's id."""
    with open_storage(tmp_path) as storage:
        storage.profiles.save(ALICE, PROFILE)
        storage.forget_member(ALICE)
    with open_storage(tmp_path) as storage, writes_from(before()), pytest.raises(MemberForgotten):
        storage.profiles.save(ALICE, PROFILE)
    for path in tmp_path.rglob("*"):
        if path.is_file() and not path.name.startswith(".legday.lock"):
            assert str(ALICE) not in path.read_text(errors="replace"), path


def test_forget_rewrites_every_backup_without_the_member(tmp_path):
    """Backups taken before the forget lose the member's profile, plan, conversations and audit id."""
    from test_storage import make_plan

    with open_storage(tmp_path, backup_count=3) as storage:
        for user in (ALICE, BOB):
            storage.profiles.save(user, PROFILE)
            storage.plans.save(user, make_plan(PROFILE))
            storage.conversations.save(f"dm:{user}", {"step": "goals"})
        storage.audit.append(GUILD, {"actor_id": ALICE, "action": "rule.disable"})
        storage.backup()
        storage.backup()
        receipt = storage.forget_member(ALICE)
        assert receipt.backups_rewritten == 2
    backups = list_backups(tmp_path)
    assert len(backups) == 2
    for folder in backups:
        text = "".join(p.read_text() for p in folder.rglob("*.json"))
        assert str(ALICE) not in text
        assert str(BOB) in text and FORGOTTEN_USER in text
        for path in folder.rglob("*.json"):
            json.loads(path.read_text())  # still complete, loadable files


def test_receipt_says_exactly_what_was_deleted_and_when(tmp_path):
    """The member-facing summary lists each kind with its number and the UTC time of the deletion."""
    with open_storage(tmp_path) as storage:
        storage.profiles.save(ALICE, PROFILE)
        storage.checkins.add(ALICE, {"week": 1})
        storage.checkins.add(ALICE, {"week": 2})
        storage.conversations.save(f"dm:{ALICE}", {"step": "goals"})
        receipt = storage.forget_member(ALICE)
    at = receipt.forgotten_at
    assert receipt.summary().startswith(
        f"At {at:%H:%M:%S} UTC on {at:%d %b %Y} I deleted your profile, 2 check-ins, 1 conversation in progress.")
    assert "plan" not in receipt.summary().split(".")[0]


def test_concurrent_stale_writers_never_bring_the_member_back(tmp_path):
    """Threads hammering saves begun before the forget, racing it: after the forget nothing is stored."""
    with open_storage(tmp_path) as storage:
        began = before(1)
        go = threading.Event()
        refused = []

        def writer() -> None:
            set_write_origin(began)
            go.wait()
            for _ in range(300):
                try:
                    storage.profiles.save(ALICE, PROFILE)
                except MemberForgotten:
                    refused.append(1)

        threads = [threading.Thread(target=writer) for _ in range(4)]
        for thread in threads:
            thread.start()
        go.set()
        storage.forget_member(ALICE)
        for thread in threads:
            thread.join()
        assert storage.profiles.get(ALICE) is None
        assert refused


async def test_origin_set_in_a_task_does_not_leak_to_other_tasks(tmp_path):
    """The write origin is per task (a contextvar): one member's stale task does not affect another."""
    with open_storage(tmp_path) as storage:
        storage.forget_member(ALICE)

        async def stale() -> None:
            set_write_origin(before())
            with pytest.raises(MemberForgotten):
                storage.profiles.save(ALICE, PROFILE)

        await asyncio.create_task(stale())
        storage.profiles.save(ALICE, PROFILE)  # this task never declared an old origin
        assert storage.profiles.get(ALICE) == PROFILE


# ------------------------------------------------------------------------------------------------
# Through discord.py: the plan form's view, an in-flight plan build


async def walk_form_to_build(h):
    """The /plan form up to (not including) the Build button, as a member taps through it."""
    from test_discord_plans import fill_form

    real_click = h.click

    async def hold_build(custom_id, **kwargs):
        if custom_id == "plan:build":
            return None
        return await real_click(custom_id, **kwargs)

    h.click = hold_build
    try:
        await fill_form(h)
    finally:
        h.click = real_click


async def forget_through_discord(h):
    await h.command("profile forget")
    return await h.click("profile:forget")


async def test_stale_plan_form_cannot_recreate_a_forgotten_member(harness):
    """Build pressed on a form opened before /profile forget saves nothing and says why."""
    from discord_helpers import MEMBER_ID

    await walk_form_to_build(harness)
    harness.bot.storage.profiles.save(MEMBER_ID, PROFILE)  # saved elsewhere meanwhile
    done = await forget_through_discord(harness)
    assert "I deleted your profile" in done.response.content
    stale = await harness.click("plan:build")
    assert harness.bot.storage.profiles.get(MEMBER_ID) is None
    assert harness.bot.storage.plans.latest(MEMBER_ID) is None
    assert "You asked me to forget you at" in stale.last.content
    # Starting again after the forget works as for a new member.
    await walk_form_to_build(harness)
    await harness.click("plan:build")
    assert harness.bot.storage.plans.latest(MEMBER_ID) is not None


async def test_in_flight_plan_build_finishing_after_forget_saves_nothing(harness, monkeypatch):
    """A plan still being built when the member forgets is not saved when it finishes."""
    from discord_helpers import MEMBER_ID

    await walk_form_to_build(harness)
    started, release = threading.Event(), threading.Event()
    tuning = harness.bot.tuning
    real_plan_for = tuning.plan_for

    def slow_plan_for(*args, **kwargs):
        started.set()
        release.wait(10)
        return real_plan_for(*args, **kwargs)

    monkeypatch.setattr(tuning, "plan_for", slow_plan_for)
    message = harness._message_with("plan:build", None)
    data = {"custom_id": "plan:build", "component_type": 2}
    building = await harness.dispatch(harness.interaction_payload(3, data, message=message), settle=False)
    assert await asyncio.to_thread(started.wait, 10), "the plan build never started"
    receipt = await asyncio.to_thread(harness.bot.storage.forget_member, MEMBER_ID)
    release.set()
    await harness.settle()
    assert receipt.forgotten_at is not None
    assert harness.bot.storage.profiles.get(MEMBER_ID) is None
    assert harness.bot.storage.plans.latest(MEMBER_ID) is None
    assert "You asked me to forget you at" in building.last.content
