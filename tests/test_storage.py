"""Storage: round trips, durability (atomic writes, close, corrupt files), migrations, concurrency, forgetting."""

from __future__ import annotations

import asyncio
import builtins
import datetime as dt
import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest
from tinydb import TinyDB

import bot.storage._tinydb as tinyfile
from bot.config import Settings
from bot.models import Item, Plan, Prescription, Profile, Session, TraceEntry, Week
from bot.storage import (
    FORGOTTEN_USER,
    MIGRATIONS,
    SCHEMA,
    AuditRepository,
    CheckinRepository,
    ConversationRepository,
    GuildRepository,
    PlanRepository,
    ProfileRepository,
    Storage,
    StorageError,
)
from bot.storage._journal import encode_line
from bot.storage._store import JOURNAL_DIR, MAIN_FILE, MEMBERS_DIR, DocumentStore
from bot.storage._tinydb import AtomicJSONStorage

ROOT = Path(__file__).resolve().parent.parent
ALICE = 180_000_000_000_000_001
BOB = 280_000_000_000_000_002
GUILD = 900_000_000_000_000_009


def make_profile(**changes) -> Profile:
    values = dict(weekly_km=48, unit="km", level="intermediate", goals=["speed", "hills"],
                  days_per_week=2, long_run_day="sun", hard_days=["tue"], equipment=["dumbbells"],
                  niggles=["achilles"], race_date=dt.date(2027, 3, 14))
    values.update(changes)
    return Profile(**values)


def make_plan(profile: Profile, rules_version: str = "rules-2026.11-a1b2c3") -> Plan:
    """A small but complete plan, built by hand (the planner is not needed to test storage)."""
    start = dt.date(2026, 11, 30)
    warm = [Item(id="leg-swings", name="Leg swings", dose="10 each way")]
    weeks = []
    for number in range(1, 5):
        monday = start + dt.timedelta(weeks=number - 1)
        exercise = Prescription(
            id="split-squat", name="Split squat", sets=2 + min(number, 3) - (number == 4), reps="8-10",
            min_reps=8, max_reps=10, per_side=True, rest_seconds=90, rir_min=2, rir_max=3,
            effort="RIR 2-3", categories=["single-leg"], cue="Knee tracks over the toes.",
        )
        session = Session(day="mon", date=monday, focus="Single-leg strength", kind="strength",
                          minutes=35, warm_up=warm, exercises=[exercise], cool_down=[])
        weeks.append(Week(week=number, start=monday, label=f"Week {number}", summary="Build",
                          sessions=[session]))
    return Plan(profile=profile, start=start, template="intermediate-2x", level=profile.level,
                sessions_per_week=2, progression="double-progression", weeks=weeks,
                fired_rules=["achilles-care"],
                trace=[TraceEntry(rule_id="achilles-care", description="Go easy on the Achilles",
                                  status="applied", changes=["removed depth jumps"])],
                notes=["Lift after easy runs."], warnings=[], rules_version=rules_version)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


def open_quiet(data_dir: Path, **options) -> Storage:
    """A storage whose flusher will not write during the test, so only explicit flushes and close do."""
    options.setdefault("flush_interval", 3600)
    options.setdefault("backup_count", 0)
    return Storage.open(data_dir, **options)


def crash(storage: Storage) -> None:
    """Abandon a storage as a killed process would: the kernel releases its folder lock, nothing is written."""
    storage._lock.release()


def write_raw(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))


def member_file(data_dir: Path, user_id: int) -> Path:
    return DocumentStore(data_dir).member_file(user_id).storage.path


# ------------------------------------------------------------------------------------------------
# Round trips and closing


def test_profile_round_trips_through_the_file(data_dir):
    """A saved Profile comes back equal after close and reopen."""
    profile = make_profile()
    with open_quiet(data_dir) as storage:
        storage.profiles.save(ALICE, profile)
    with open_quiet(data_dir) as storage:
        assert storage.profiles.get(ALICE) == profile


def test_plan_round_trips_with_its_rules_version(data_dir):
    """A saved Plan comes back equal after reopen, rule-set version included."""
    plan = make_plan(make_profile())
    with open_quiet(data_dir) as storage:
        storage.plans.save(ALICE, plan)
    with open_quiet(data_dir) as storage:
        again = storage.plans.latest(ALICE)
    assert again == plan
    assert again.rules_version == "rules-2026.11-a1b2c3"


def test_plans_keeps_the_latest(data_dir):
    """Saving a second plan replaces the first as the latest."""
    profile = make_profile()
    with open_quiet(data_dir) as storage:
        storage.plans.save(ALICE, make_plan(profile, "v1"))
        storage.plans.save(ALICE, make_plan(profile, "v2"))
        assert storage.plans.latest(ALICE).rules_version == "v2"


def test_unknown_member_reads_none(data_dir):
    """Reads for a member with nothing stored give None or empty, never an error."""
    with open_quiet(data_dir) as storage:
        assert storage.profiles.get(ALICE) is None
        assert storage.plans.latest(ALICE) is None
        assert storage.checkins.list(ALICE) == []


def test_close_flushes_everything(data_dir):
    """close() writes what the flusher has not yet written."""
    storage = open_quiet(data_dir)
    storage.profiles.save(ALICE, make_profile())
    assert not (data_dir / MAIN_FILE).exists() or storage.pending()
    storage.close()
    stored = json.loads(member_file(data_dir, ALICE).read_text())
    assert str(ALICE) in stored["profiles"]


def test_close_is_idempotent(data_dir):
    """A second close() does nothing and raises nothing."""
    storage = open_quiet(data_dir)
    storage.close()
    storage.close()
    assert storage.closed


def test_profiles_all_and_count(data_dir):
    """all() yields every stored (user id, Profile) and count() agrees."""
    with open_quiet(data_dir) as storage:
        storage.profiles.save(ALICE, make_profile())
        storage.profiles.save(BOB, make_profile(level="beginner"))
        assert dict(storage.profiles.all()) == {ALICE: make_profile(), BOB: make_profile(level="beginner")}
        assert storage.profiles.count() == 2


def test_file_opens_with_stock_tinydb(data_dir):
    """The files are TinyDB's own format: TinyDB finds a profile by its Discord id as doc_id."""
    with open_quiet(data_dir) as storage:
        storage.profiles.save(ALICE, make_profile())
    db = TinyDB(member_file(data_dir, ALICE), storage=AtomicJSONStorage)
    doc = db.table("profiles").get(doc_id=ALICE)
    assert Profile.model_validate(doc["profile"]) == make_profile()
    assert doc["schema"] == SCHEMA["profiles"]


def test_repositories_implement_the_protocols(data_dir):
    """Each TinyDB repository satisfies its repository protocol."""
    with open_quiet(data_dir) as storage:
        assert isinstance(storage.profiles, ProfileRepository)
        assert isinstance(storage.plans, PlanRepository)
        assert isinstance(storage.checkins, CheckinRepository)
        assert isinstance(storage.conversations, ConversationRepository)
        assert isinstance(storage.guilds, GuildRepository)
        assert isinstance(storage.audit, AuditRepository)


def test_members_spread_over_files():
    """Snowflakes whose low (per-millisecond counter) bits are all zero still spread over the member files."""
    store = DocumentStore(Path("unused"))
    snowflakes = [(1_600_000_000_000 + n * 7919) << 22 for n in range(2000)]
    used = {id(store.member_file(flake)) for flake in snowflakes}
    assert len(used) == len(store.members)


# ------------------------------------------------------------------------------------------------
# Atomic writes


def test_failed_replace_keeps_the_old_file(data_dir, monkeypatch):
    """If the final rename fails, the old file stays complete and the temp file is removed."""
    with open_quiet(data_dir) as storage:
        storage.profiles.save(ALICE, make_profile(weekly_km=30))
    storage = open_quiet(data_dir)
    storage.profiles.save(ALICE, make_profile(weekly_km=99))

    def broken_replace(src, dst):
        raise OSError("disk unplugged")

    monkeypatch.setattr(tinyfile.os, "replace", broken_replace)
    with pytest.raises(StorageError, match="disk unplugged"):
        storage.compact()
    monkeypatch.undo()
    path = member_file(data_dir, ALICE)
    assert list(path.parent.glob("*.tmp")) == []
    crash(storage)
    with open_quiet(data_dir) as reopened:
        assert reopened.profiles.get(ALICE).weekly_km == 30
    storage.close()


def test_failure_halfway_through_writing_keeps_the_old_file(data_dir, monkeypatch):
    """A write that dies after part of the new content leaves the old file loadable and unchanged."""
    with open_quiet(data_dir) as storage:
        storage.guilds.update(GUILD, lambda g: {**g, "mod_role_id": 1})
    before = (data_dir / MAIN_FILE).read_bytes()
    storage = open_quiet(data_dir)
    storage.guilds.update(GUILD, lambda g: {**g, "mod_role_id": 2})

    def dies_halfway(tables):
        yield b'{"guilds":{'
        raise OSError("killed mid-write")

    monkeypatch.setattr(tinyfile, "encode_tables", dies_halfway)
    with pytest.raises(StorageError, match="killed mid-write"):
        storage.compact()
    assert (data_dir / MAIN_FILE).read_bytes() == before
    monkeypatch.undo()
    storage.close()
    with open_quiet(data_dir) as reopened:
        assert reopened.guilds.get(GUILD)["mod_role_id"] == 2


def test_temp_file_left_by_a_killed_writer_is_cleared(data_dir):
    """A half-written temp file from a killed process is removed at open and does not affect the data."""
    with open_quiet(data_dir) as storage:
        storage.profiles.save(ALICE, make_profile())
    stale = data_dir / f".{MAIN_FILE}.abc123.tmp"
    stale.write_text('{"guilds":{"1":')
    with open_quiet(data_dir) as storage:
        assert storage.profiles.get(ALICE) == make_profile()
    assert not stale.exists()


# ------------------------------------------------------------------------------------------------
# Migrations


def test_old_profile_document_is_migrated_on_load(data_dir):
    """A bare profile dump from before schema versions loads, and is rewritten in the current shape."""
    profile = make_profile()
    write_raw(member_file(data_dir, ALICE), {"profiles": {str(ALICE): profile.model_dump(mode="json")}})
    with open_quiet(data_dir) as storage:
        assert storage.profiles.get(ALICE) == profile
    stored = json.loads(member_file(data_dir, ALICE).read_text())["profiles"][str(ALICE)]
    assert stored["schema"] == SCHEMA["profiles"]
    assert stored["profile"] == profile.model_dump(mode="json")


def test_old_plan_document_is_migrated_on_load(data_dir):
    """A bare plan dump from before schema versions loads as the same Plan."""
    plan = make_plan(make_profile())
    write_raw(member_file(data_dir, ALICE), {"plans": {str(ALICE): plan.model_dump(mode="json")}})
    with open_quiet(data_dir) as storage:
        assert storage.plans.latest(ALICE) == plan


def test_migrations_chain_step_by_step(data_dir, monkeypatch):
    """A version-0 guild document passes through every registered step up to the current version."""
    monkeypatch.setitem(SCHEMA, "guilds", 2)

    def rename_mod_role(doc):
        settings = dict(doc["settings"])
        settings["mod_role_id"] = settings.pop("moderator_role", None)
        return {**doc, "settings": settings}

    monkeypatch.setitem(MIGRATIONS["guilds"], 1, rename_mod_role)
    write_raw(data_dir / MAIN_FILE, {"guilds": {str(GUILD): {"moderator_role": 42}}})
    with open_quiet(data_dir) as storage:
        assert storage.guilds.get(GUILD)["mod_role_id"] == 42
    stored = json.loads((data_dir / MAIN_FILE).read_text())["guilds"][str(GUILD)]
    assert stored["schema"] == 2


def test_document_from_a_newer_version_is_refused_and_left_alone(data_dir):
    """A document with a schema newer than the code raises StorageError and the file is not moved."""
    path = data_dir / MAIN_FILE
    write_raw(path, {"guilds": {str(GUILD): {"schema": 99, "settings": {}}}})
    with pytest.raises(StorageError, match="newer"):
        Storage.open(data_dir)
    assert json.loads(path.read_text())["guilds"][str(GUILD)]["schema"] == 99


# ------------------------------------------------------------------------------------------------
# Corrupt files and backups


def test_corrupt_file_is_kept_aside_with_a_clear_error(data_dir):
    """A broken file raises StorageError naming it, and is renamed <name>.corrupt-<UTC time>, unchanged."""
    data_dir.mkdir()
    (data_dir / MAIN_FILE).write_text('{"guilds": {"1": {"sch')
    with pytest.raises(StorageError) as caught:
        Storage.open(data_dir)
    assert MAIN_FILE in str(caught.value) and "kept" in str(caught.value)
    kept = list(data_dir.glob(f"{MAIN_FILE}.corrupt-*"))
    assert len(kept) == 1
    assert kept[0].read_text() == '{"guilds": {"1": {"sch'
    assert kept[0].name[len(MAIN_FILE) + 9:].endswith("Z")


def test_after_a_corrupt_file_the_next_open_starts_empty_without_touching_it(data_dir):
    """Opening again after the error starts that part empty; the kept-aside file is never overwritten."""
    data_dir.mkdir()
    (data_dir / MAIN_FILE).write_text("not json")
    with pytest.raises(StorageError):
        Storage.open(data_dir)
    with open_quiet(data_dir) as storage:
        assert storage.guilds.get(GUILD)["mod_role_id"] is None
        storage.guilds.update(GUILD, lambda g: {**g, "mod_role_id": 7})
    (kept,) = data_dir.glob(f"{MAIN_FILE}.corrupt-*")
    assert kept.read_text() == "not json"


def test_corrupt_member_file_loses_only_its_members(data_dir):
    """A damaged member file is set aside while members in other files load normally."""
    with open_quiet(data_dir) as storage:
        storage.profiles.save(ALICE, make_profile())
        storage.profiles.save(BOB, make_profile(level="beginner"))
    assert member_file(data_dir, ALICE) != member_file(data_dir, BOB)
    member_file(data_dir, ALICE).write_text("[1, 2")
    with pytest.raises(StorageError, match=member_file(data_dir, ALICE).name):
        Storage.open(data_dir)
    with open_quiet(data_dir) as storage:
        assert storage.profiles.get(ALICE) is None
        assert storage.profiles.get(BOB) == make_profile(level="beginner")


def test_wrong_shape_counts_as_corrupt(data_dir):
    """Valid JSON that is not a TinyDB database is treated as corrupt too."""
    write_raw(data_dir / MAIN_FILE, {"guilds": ["not", "a", "table"]})
    with pytest.raises(StorageError, match="not a JSON object"):
        Storage.open(data_dir)
    assert list(data_dir.glob(f"{MAIN_FILE}.corrupt-*"))


def test_backups_rotate(data_dir):
    """backup() copies every database file into backups/<time>/ and keeps only backup_count of them."""
    storage = open_quiet(data_dir, backup_count=2)
    made = []
    for km in (10, 20, 30):
        storage.profiles.save(ALICE, make_profile(weekly_km=km))
        made.append(storage.backup())
    storage.close()
    kept = sorted(p for p in (data_dir / "backups").iterdir())
    assert kept == made[1:]
    newest = json.loads((made[-1] / MEMBERS_DIR / member_file(data_dir, ALICE).name).read_text())
    assert newest["profiles"][str(ALICE)]["profile"]["weekly_km"] == 30
    assert (made[-1] / MAIN_FILE).exists()


def test_backup_count_zero_makes_none(data_dir):
    """With backup_count=0 no backup folder is made."""
    with open_quiet(data_dir, backup_count=0) as storage:
        storage.profiles.save(ALICE, make_profile())
        assert storage.backup() is None
    assert not (data_dir / "backups").exists() or not any((data_dir / "backups").iterdir())


# ------------------------------------------------------------------------------------------------
# Concurrency


def increment(settings: dict) -> dict:
    return {**settings, "counter": settings.get("counter", 0) + 1}


def test_concurrent_thread_updates_of_one_guild_are_all_kept(data_dir):
    """Many threads updating the same server at once lose none of each other's updates."""
    with open_quiet(data_dir) as storage:
        def worker():
            for _ in range(200):
                storage.guilds.update(GUILD, increment)

        threads = [threading.Thread(target=worker) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    with open_quiet(data_dir) as storage:
        assert storage.guilds.get(GUILD)["counter"] == 1600


async def test_concurrent_tasks_updating_one_guild_are_all_kept(data_dir):
    """Asyncio tasks (on the loop and through to_thread) updating one server lose no update."""
    storage = open_quiet(data_dir)

    async def on_loop():
        await asyncio.sleep(0)
        storage.guilds.update(GUILD, increment)

    async def in_thread():
        await asyncio.to_thread(storage.guilds.update, GUILD, increment)

    await asyncio.gather(*[on_loop() for _ in range(100)], *[in_thread() for _ in range(100)])
    await asyncio.to_thread(storage.close)
    with open_quiet(data_dir) as reopened:
        assert reopened.guilds.get(GUILD)["counter"] == 200


def test_concurrent_checkins_for_one_member_are_all_kept(data_dir):
    """Check-ins added from several threads for one member are all stored."""
    with open_quiet(data_dir) as storage:
        def worker(n):
            for i in range(100):
                storage.checkins.add(ALICE, {"thread": n, "i": i})

        threads = [threading.Thread(target=worker, args=(n,)) for n in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(storage.checkins.list(ALICE)) == 600


def test_flushes_during_a_storm_never_see_half_an_update(data_dir):
    """Flushing while threads write always yields a loadable file, and the last state wins."""
    storage = open_quiet(data_dir)
    stop = threading.Event()

    def flusher():
        while not stop.is_set():
            storage.flush()
            storage.compact()

    thread = threading.Thread(target=flusher)
    thread.start()
    for _ in range(300):
        storage.guilds.update(GUILD, increment)
        storage.checkins.add(ALICE, {"n": 1})
    stop.set()
    thread.join()
    storage.close()
    with open_quiet(data_dir) as reopened:
        assert reopened.guilds.get(GUILD)["counter"] == 300
        assert len(reopened.checkins.list(ALICE)) == 300


def test_failed_update_changes_nothing(data_dir):
    """If the update function raises, the server's settings stay as they were."""
    with open_quiet(data_dir) as storage:
        storage.guilds.update(GUILD, increment)

        def broken(settings):
            settings["counter"] = 99
            raise RuntimeError("moderator typo")

        with pytest.raises(RuntimeError):
            storage.guilds.update(GUILD, broken)
        assert storage.guilds.get(GUILD)["counter"] == 1


# ------------------------------------------------------------------------------------------------
# Forgetting a member


def fill_member(storage: Storage, user_id: int) -> None:
    storage.profiles.save(user_id, make_profile())
    storage.plans.save(user_id, make_plan(make_profile()))
    storage.checkins.add(user_id, {"week": 1, "done": True})
    storage.checkins.add(user_id, {"week": 2, "done": False})
    storage.reminders.save(user_id, {"enabled": True, "next_due": "2026-12-01T18:00:00+00:00"})
    storage.conversations.save(f"dm:{user_id}", {"step": "goals"})
    storage.conversations.save(f"555:{user_id}", {"step": "level"})


def test_forget_member_removes_everything_about_them(data_dir):
    """forget_member deletes profile, plan, check-ins and conversations and reports the counts."""
    with open_quiet(data_dir) as storage:
        fill_member(storage, ALICE)
        counts = storage.forget_member(ALICE).counts()
        assert counts == {"profiles": 1, "plans": 1, "checkins": 2, "conversations": 2,
                          "audit_entries_anonymised": 0, "backups_rewritten": 0, "reminders": 1}
    with open_quiet(data_dir) as storage:
        assert storage.profiles.get(ALICE) is None
        assert storage.plans.latest(ALICE) is None
        assert storage.checkins.list(ALICE) == []
        assert storage.conversations.get(f"dm:{ALICE}") is None
    assert str(ALICE) not in (data_dir / MAIN_FILE).read_text()
    assert str(ALICE) not in member_file(data_dir, ALICE).read_text()


def test_forget_member_leaves_other_members_alone(data_dir):
    """Forgetting one member keeps another member's data intact."""
    with open_quiet(data_dir) as storage:
        fill_member(storage, ALICE)
        fill_member(storage, BOB)
        storage.forget_member(ALICE)
        assert storage.profiles.get(BOB) == make_profile()
        assert len(storage.checkins.list(BOB)) == 2
        assert storage.conversations.get(f"dm:{BOB}") == {"step": "goals"}


def test_forget_member_keeps_their_audit_entries_with_a_tombstone(data_dir):
    """Audit entries the member authored stay, with their id replaced by the tombstone."""
    with open_quiet(data_dir) as storage:
        change = storage.audit.append(GUILD, {"actor_id": ALICE, "action": "rule.disable", "rule": "r1"})
        other = storage.audit.append(GUILD, {"actor_id": BOB, "action": "faq.edit"})
        assert storage.forget_member(ALICE).audit_entries_anonymised == 1
        entry = storage.audit.get(GUILD, change)
        assert entry["actor_id"] == FORGOTTEN_USER
        assert entry["action"] == "rule.disable"
        assert storage.audit.get(GUILD, other)["actor_id"] == BOB


# ------------------------------------------------------------------------------------------------
# Guilds, audit, conversations, check-ins


def test_unknown_guild_reads_the_defaults(data_dir):
    """A server never configured reads the registered defaults."""
    with open_quiet(data_dir) as storage:
        assert storage.guilds.get(GUILD) == {"mod_role_id": None, "rule_overrides": {},
                                             "faq_overrides": {}, "rules_version": None}


def test_registered_defaults_appear_in_reads(data_dir):
    """A default a feature registers shows up for servers that never set it."""
    with open_quiet(data_dir) as storage:
        storage.guilds.update(GUILD, lambda g: {**g, "mod_role_id": 3})
        storage.guilds.register_defaults({"faq_channel_id": None})
        assert storage.guilds.get(GUILD)["faq_channel_id"] is None
        assert storage.guilds.get(GUILD)["mod_role_id"] == 3


def test_editing_a_read_does_not_change_the_store(data_dir):
    """The dict get() returns is a copy: editing it without update() stores nothing."""
    with open_quiet(data_dir) as storage:
        storage.guilds.get(GUILD)["rule_overrides"]["r1"] = {"enabled": False}
        assert storage.guilds.get(GUILD)["rule_overrides"] == {}


def test_update_may_edit_in_place(data_dir):
    """An update function that edits the dict and returns None is stored too."""
    with open_quiet(data_dir) as storage:
        result = storage.guilds.update(GUILD, lambda g: g["faq_overrides"].update({"q": "a"}))
        assert result["faq_overrides"] == {"q": "a"}
        assert storage.guilds.get(GUILD)["faq_overrides"] == {"q": "a"}


def test_audit_change_ids_increase_per_guild(data_dir):
    """Change ids count 1, 2, 3 per server, independently, and survive reopen."""
    with open_quiet(data_dir) as storage:
        assert [storage.audit.append(GUILD, {"n": n}) for n in range(3)] == [1, 2, 3]
        assert storage.audit.append(GUILD + 1, {"n": 0}) == 1
    with open_quiet(data_dir) as storage:
        assert storage.audit.append(GUILD, {"n": 3}) == 4


def test_audit_list_is_newest_first_and_pages(data_dir):
    """list() returns newest first, honours limit, and `before` pages back."""
    with open_quiet(data_dir) as storage:
        for n in range(1, 8):
            storage.audit.append(GUILD, {"n": n})
        assert [e["change_id"] for e in storage.audit.list(GUILD, limit=3)] == [7, 6, 5]
        assert [e["change_id"] for e in storage.audit.list(GUILD, limit=3, before=5)] == [4, 3, 2]
        assert [e["change_id"] for e in storage.audit.list(GUILD, limit=3, before=2)] == [1]
        assert storage.audit.get(GUILD, 99) is None
        assert storage.audit.get(GUILD, 4)["n"] == 4


def test_conversations_expire_by_updated_at(data_dir):
    """expire() removes conversations updated before the cutoff and keeps newer ones."""
    now = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC)
    with open_quiet(data_dir) as storage:
        storage.conversations.save("dm:1", {"updated_at": (now - dt.timedelta(days=2)).isoformat()})
        storage.conversations.save("dm:2", {"updated_at": (now - dt.timedelta(minutes=5)).isoformat()})
        assert storage.conversations.expire(now - dt.timedelta(days=1)) == 1
        assert storage.conversations.get("dm:1") is None
        assert storage.conversations.get("dm:2") is not None


def test_conversation_expire_takes_naive_times_as_utc(data_dir):
    """A naive cutoff is read as UTC rather than raising."""
    with open_quiet(data_dir) as storage:
        storage.conversations.save("dm:1", {"updated_at": "2026-11-20T10:00:00+00:00"})
        assert storage.conversations.expire(dt.datetime(2026, 11, 21)) == 1


def test_checkins_list_in_order(data_dir):
    """Check-ins come back oldest first, as added."""
    with open_quiet(data_dir) as storage:
        for week in (1, 2, 3):
            storage.checkins.add(ALICE, {"week": week})
        assert [c["week"] for c in storage.checkins.list(ALICE)] == [1, 2, 3]


# ------------------------------------------------------------------------------------------------
# Bad input and the event loop


@pytest.mark.parametrize("bad", ["alice", -5, 0, 2**64, None, 3.5, True])
def test_bad_user_id_gets_a_friendly_error(data_dir, bad):
    """A user id that is not a Discord id is refused with a message saying what is accepted."""
    with open_quiet(data_dir) as storage, pytest.raises(ValueError, match="positive whole number"):
        storage.profiles.get(bad)


def test_checkin_that_is_not_json_is_refused_and_nothing_stored(data_dir):
    """A check-in holding a value JSON cannot store is refused, and the member's list is unchanged."""
    with open_quiet(data_dir) as storage:
        with pytest.raises(ValueError, match="JSON values"):
            storage.checkins.add(ALICE, {"when": dt.datetime.now()})
        with pytest.raises(ValueError, match="JSON values"):
            storage.checkins.add(ALICE, {"km": float("nan")})
        assert storage.checkins.list(ALICE) == []


def test_saving_a_dict_as_a_profile_is_refused(data_dir):
    """profiles.save wants a Profile; a plain dict gets a clear error."""
    with open_quiet(data_dir) as storage, pytest.raises(ValueError, match="takes a Profile"):
        storage.profiles.save(ALICE, {"weekly_km": 10})


def test_bad_conversation_key_is_refused(data_dir):
    """An empty or non-text conversation key gets a clear error."""
    with open_quiet(data_dir) as storage, pytest.raises(ValueError, match="conversation key"):
        storage.conversations.save("", {})


def test_text_any_member_types_can_be_written(data_dir):
    """Emoji, other scripts and even a lone surrogate in a check-in note flush without error."""
    note = "pb 🎉 — Привет \ud800"
    with open_quiet(data_dir) as storage:
        storage.checkins.add(ALICE, {"note": note})
    with open_quiet(data_dir) as storage:
        assert storage.checkins.list(ALICE) == [{"note": note}]


def test_repository_calls_do_not_touch_the_disk(data_dir, monkeypatch):
    """Saves and reads work with file opening and renaming forbidden: they are memory-only."""
    storage = open_quiet(data_dir)

    def forbidden(*args, **kwargs):
        raise AssertionError("disk I/O on the hot path")

    monkeypatch.setattr(builtins, "open", forbidden)
    monkeypatch.setattr(os, "replace", forbidden)
    monkeypatch.setattr(os, "fsync", forbidden)
    storage.profiles.save(ALICE, make_profile())
    storage.plans.save(ALICE, make_plan(make_profile()))
    storage.checkins.add(ALICE, {"week": 1})
    storage.guilds.update(GUILD, increment)
    storage.audit.append(GUILD, {"n": 1})
    storage.conversations.save("dm:1", {"step": 1})
    assert storage.profiles.get(ALICE) == make_profile()
    assert storage.plans.latest(ALICE) is not None
    monkeypatch.undo()
    storage.close()


def run_until_ready_then(data_dir: Path, stop: signal.Signals) -> None:
    """Start a writer that acknowledges 50 updates with no flush due, then stop it with `stop`."""
    script = textwrap.dedent(f"""
        import sys, time
        from pathlib import Path
        from bot.storage import Storage
        storage = Storage.open(Path({str(data_dir)!r}), flush_interval=3600, backup_count=0)
        storage.close_on_sigterm()
        for n in range(1, 51):
            storage.guilds.update({GUILD}, lambda g: {{**g, "counter": n}})
        print("ready", flush=True)
        time.sleep(60)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    assert proc.stdout.readline().strip() == "ready"
    proc.send_signal(stop)
    proc.wait(timeout=30)


def test_sigterm_loses_nothing(data_dir):
    """A process stopped by SIGTERM after close_on_sigterm() has written every acknowledged change."""
    run_until_ready_then(data_dir, signal.SIGTERM)
    with open_quiet(data_dir) as storage:
        assert storage.guilds.get(GUILD)["counter"] == 50


def test_sigint_loses_nothing(data_dir):
    """A process stopped by SIGINT (Ctrl-C) closes the storage at exit and loses nothing."""
    run_until_ready_then(data_dir, signal.SIGINT)
    with open_quiet(data_dir) as storage:
        assert storage.guilds.get(GUILD)["counter"] == 50


def test_changes_after_close_are_refused(data_dir):
    """A save after close() raises StorageError instead of being kept in memory and lost."""
    storage = open_quiet(data_dir)
    storage.close()
    with pytest.raises(StorageError, match="closed"):
        storage.profiles.save(ALICE, make_profile())


def test_audit_list_refuses_a_bad_before(data_dir):
    """A `before` that is not a change id gets a clear error."""
    with open_quiet(data_dir) as storage, pytest.raises(ValueError, match="change id"):
        storage.audit.list(GUILD, before="yesterday")


# ------------------------------------------------------------------------------------------------
# The journal


def journal_segments(data_dir: Path) -> list[Path]:
    return sorted((data_dir / JOURNAL_DIR).glob("*.log"))


def test_flush_appends_only_the_changes_to_the_journal(data_dir):
    """flush() writes the changed documents to the journal without rewriting the database files."""
    with open_quiet(data_dir) as storage:
        storage.flush()
        storage.compact()
        before = (data_dir / MAIN_FILE).read_bytes()
        storage.guilds.update(GUILD, increment)
        assert storage.flush() == 1
        assert (data_dir / MAIN_FILE).read_bytes() == before
        (segment,) = journal_segments(data_dir)
        assert str(GUILD) in segment.read_text()


def test_killed_process_recovers_flushed_changes_from_the_journal(data_dir):
    """After SIGKILL, changes that were flushed to the journal but never compacted are all there."""
    script = textwrap.dedent(f"""
        from pathlib import Path
        import time
        from bot.storage import Storage
        storage = Storage.open(Path({str(data_dir)!r}), flush_interval=3600, compact_interval=3600,
                               backup_count=0)
        for n in range(1, 101):
            storage.guilds.update({GUILD}, lambda g: {{**g, "counter": n}})
            storage.checkins.add({ALICE}, {{"n": n}})
        storage.flush()
        print("ready", flush=True)
        time.sleep(60)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready"
    proc.kill()
    proc.wait(timeout=30)
    assert journal_segments(data_dir)
    with open_quiet(data_dir) as storage:
        assert storage.guilds.get(GUILD)["counter"] == 100
        assert len(storage.checkins.list(ALICE)) == 100


def test_compaction_empties_the_journal(data_dir):
    """compact() folds the journal into the files and deletes the segments it covered."""
    with open_quiet(data_dir) as storage:
        storage.guilds.update(GUILD, increment)
        storage.flush()
        assert journal_segments(data_dir)
        storage.compact()
        assert journal_segments(data_dir) == []
        stored = json.loads((data_dir / MAIN_FILE).read_text())
        assert str(GUILD) in stored["guilds"]


def test_torn_journal_tail_is_ignored(data_dir):
    """A last journal line cut short by a crash is skipped; everything before it is replayed."""
    storage = open_quiet(data_dir)
    storage.guilds.update(GUILD, increment)
    storage.flush()
    storage._store.close_journal()
    crash(storage)
    (segment,) = journal_segments(data_dir)
    with segment.open("ab") as handle:
        handle.write(b'0badc0de [[0,"guilds","1",{"sett')
    with open_quiet(data_dir) as reopened:
        assert reopened.guilds.get(GUILD)["counter"] == 1


def test_damaged_journal_middle_is_kept_aside_with_a_clear_error(data_dir):
    """A journal line damaged before other good lines raises StorageError and the segment is kept aside."""
    storage = open_quiet(data_dir)
    for _ in range(3):
        storage.guilds.update(GUILD, increment)
        storage.flush()
    storage._store.close_journal()
    crash(storage)
    (segment,) = journal_segments(data_dir)
    lines = segment.read_bytes().splitlines(keepends=True)
    lines[1] = lines[1].replace(b"counter", b"cuonter")
    segment.write_bytes(b"".join(lines))
    with pytest.raises(StorageError, match="journal"):
        Storage.open(data_dir)
    assert list((data_dir / JOURNAL_DIR).glob("*.corrupt-*"))


def test_journal_entry_for_a_file_that_does_not_exist_is_refused(data_dir):
    """A checksummed but nonsensical journal entry is treated as damage, not replayed blindly."""
    (data_dir / JOURNAL_DIR).mkdir(parents=True)
    (data_dir / JOURNAL_DIR / "000000000001.log").write_bytes(encode_line(['[999,"guilds","1",{}]']))
    with pytest.raises(StorageError, match="does not fit"):
        Storage.open(data_dir)


def test_from_settings_opens_the_configured_folder(data_dir):
    """Storage.from_settings uses the data folder and intervals from Settings."""
    settings = Settings(data_dir=data_dir, flush_interval=0.25, backup_count=3, _env_file=None)
    with Storage.from_settings(settings) as storage:
        storage.profiles.save(ALICE, make_profile())
        assert (storage.data_dir, storage.flush_interval, storage.backup_count) == (data_dir, 0.25, 3)
    with open_quiet(data_dir) as storage:
        assert storage.profiles.get(ALICE) == make_profile()
