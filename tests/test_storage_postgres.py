"""PostgreSQL specifics on a real server: migrations, several processes, and an unreachable database."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
from pathlib import Path

import asyncpg
import pytest

from bot.models import Profile
from bot.storage import StorageError
from bot.storage._pgschema import LATEST, current_version, migrate, migrations
from bot.storage._postgres import DatabaseUnavailable, PostgresStorage, redact

ROOT = Path(__file__).resolve().parent.parent
PROFILE = Profile(weekly_km=40, level="beginner", goals=["speed"], long_run_day="sun")
GUILD = 900_000_000_000_000_009


async def test_migrations_apply_in_order_and_record_versions(pg_url):
    """An empty database goes to the latest version; a second run applies nothing."""
    conn = await asyncpg.connect(pg_url)
    try:
        assert await current_version(conn) == 0
        applied = await migrate(conn)
        assert applied == [m.name for m in migrations()]
        assert await current_version(conn) == LATEST
        assert await migrate(conn) == []
        rows = await conn.fetch("SELECT version FROM schema_version ORDER BY version")
        assert [r["version"] for r in rows] == list(range(1, LATEST + 1))
    finally:
        await conn.close()


async def test_upgrade_from_an_older_schema_keeps_the_data(pg_url):
    """Data written at schema 1 is still there, and usable, after migrating to the latest."""
    conn = await asyncpg.connect(pg_url)
    try:
        await migrate(conn, target=1)
        assert await current_version(conn) == 1
        await conn.execute("INSERT INTO profiles (user_id, profile, saved_at) VALUES ($1, $2::jsonb, now())",
                           42, PROFILE.model_dump_json())
    finally:
        await conn.close()
    storage = await PostgresStorage.open(pg_url)
    try:
        assert await storage.profiles.get(42) == PROFILE
        receipt = await storage.forget_member(42)  # needs the tombstones table of migration 2
        assert receipt.profiles == 1
    finally:
        await storage.close()


async def test_processes_starting_together_migrate_once(pg_url):
    """Four processes opening an empty database at once: one applies each migration, none fails."""
    script = textwrap.dedent("""
        import asyncio, sys
        import asyncpg
        from bot.storage._pgschema import migrate
        async def main():
            conn = await asyncpg.connect(sys.argv[1])
            print(len(await migrate(conn)))
            await conn.close()
        asyncio.run(main())
    """)
    procs = [await asyncio.create_subprocess_exec(sys.executable, "-c", script, pg_url, cwd=ROOT,
                                                  stdout=asyncio.subprocess.PIPE) for _ in range(4)]
    outputs = [int((await p.communicate())[0]) for p in procs]
    assert all(p.returncode == 0 for p in procs)
    assert sorted(outputs) == [0, 0, 0, LATEST]


WRITER = textwrap.dedent("""
    import asyncio, sys
    from bot.models import Profile
    from bot.storage._postgres import PostgresStorage
    async def main():
        storage = await PostgresStorage.open(sys.argv[1])
        me = int(sys.argv[2])
        def bump(g):
            g["counter"] = g.get("counter", 0) + 1
        profile = Profile(weekly_km=10, level="beginner", goals=["speed"], long_run_day="sun")
        for n in range(200):
            await storage.guilds.update(900000000000000009, bump)
            await storage.checkins.add(7, {"writer": me, "n": n})
            await storage.profiles.save(7, profile, guild_id=1000 + me * 1000 + n % 10)
        await storage.close()
    asyncio.run(main())
""")


async def test_two_processes_writing_the_same_member_and_server_lose_nothing(pg_url):
    """Two OS processes: 400 server increments, 400 check-ins and 20 member servers all kept."""
    (await PostgresStorage.open(pg_url)).pool.terminate()  # migrate first, so the writers only write
    procs = [await asyncio.create_subprocess_exec(sys.executable, "-c", WRITER, pg_url, str(me), cwd=ROOT)
             for me in (1, 2)]
    for p in procs:
        assert await p.wait() == 0
    storage = await PostgresStorage.open(pg_url)
    try:
        assert (await storage.guilds.get(GUILD))["counter"] == 400
        assert len(await storage.checkins.list(7)) == 400
        async with storage.pool.acquire() as conn:
            assert await conn.fetchval("SELECT count(*) FROM member_guilds WHERE user_id = 7") == 20
    finally:
        await storage.close()


async def test_wrong_url_is_refused_with_a_clear_message():
    """A URL that is not a PostgreSQL URL is refused at once, naming the expected form."""
    with pytest.raises(StorageError, match=r"postgresql://user:password@host:5432/dbname"):
        await PostgresStorage.open("mysql://root@localhost/legday")


async def test_unknown_database_is_refused_at_once(postgres_server):
    """A database that does not exist: a clear message, no retry loop."""
    with pytest.raises(StorageError, match="Check the user, password and database name"):
        await PostgresStorage.open(postgres_server.url("no_such_database"), attempts=3)


async def test_server_down_at_start_retries_then_says_try_again(caplog):
    """Nothing listening: retries with growing delays, then DatabaseUnavailable with the polite message."""
    from pg_server import free_port

    url = f"postgresql://legday:secret@127.0.0.1:{free_port()}/legday"
    with pytest.raises(DatabaseUnavailable) as failed:
        await PostgresStorage.open(url, attempts=3, first_delay=0.01)
    assert "try again" in str(failed.value)
    assert "secret" not in failed.value.detail and "after 3 attempts" in failed.value.detail
    assert sum("retrying" in r.message for r in caplog.records) == 2


async def test_server_gone_mid_run_gives_try_again_then_recovers(postgres_server, pg_url):
    """Connections cut mid-run: the call fails with DatabaseUnavailable; the next call works again."""
    storage = await PostgresStorage.open(pg_url)
    try:
        await storage.profiles.save(1, PROFILE)
        name = pg_url.rsplit("/", 1)[1]
        postgres_server.sql(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'")
        with pytest.raises(DatabaseUnavailable):
            for _ in range(3):  # the pool may hold several connections; each was cut
                await storage.profiles.get(1)
        assert await storage.profiles.get(1) == PROFILE
    finally:
        await storage.close()


def test_redact_hides_the_password():
    """Messages and logs show the URL without its password."""
    assert redact("postgresql://bot:hunter2@db:5432/legday") == "postgresql://bot:***@db:5432/legday"
    assert redact("postgresql://bot@db/legday") == "postgresql://bot@db/legday"


def test_migration_files_are_numbered_without_gaps():
    """The shipped SQL files are 0001, 0002, ...; the runner refuses anything else."""
    assert [m.version for m in migrations()] == list(range(1, LATEST + 1))
    assert subprocess.run([sys.executable, "-c", "import bot.storage._pgschema"], cwd=ROOT).returncode == 0


def test_migrate_to_postgres_copies_a_tinydb_folder_and_verifies_counts(tmp_path, pg_url):
    """The CLI copies every kind of document and prints matching counts; a second run refuses (exit 1)."""
    import datetime as dt

    from test_storage import make_plan

    from bot.storage import Storage

    with Storage.open(tmp_path, backup_count=0) as storage:
        for user in range(1, 51):
            storage.profiles.save(user, PROFILE, guild_id=GUILD if user % 2 else None)
            storage.checkins.add(user, {"week": 1})
        for user in (6, 7):
            storage.reminders.save(user, {"enabled": True, "next_due": f"2026-12-0{user - 4}T18:00:00+00:00"})
        storage.plans.save(3, make_plan(PROFILE))
        storage.conversations.save("dm:4", {"step": "goals", "updated_at": dt.datetime.now(dt.UTC).isoformat()})
        storage.guilds.change(GUILD, lambda g: {"actor_id": 5, "action": "rule.disable"})
        storage.forget_member(50)
    env_cmd = [sys.executable, "-m", "bot", "storage", "migrate-to-postgres", "--data-dir", str(tmp_path),
               "--database-url", pg_url]
    run = subprocess.run(env_cmd, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    table = {line.split()[0]: line.split()[1:] for line in run.stdout.splitlines()[1:10]}
    assert table["reminders"] == ["2", "2"]
    assert table["profiles"] == ["49", "49"] and table["member_guilds"] == ["25", "25"]
    assert table["checkins"] == ["49", "49"] and table["audit"] == ["1", "1"] and table["tombstones"] == ["1", "1"]

    async def check():
        storage = await PostgresStorage.open(pg_url)
        try:
            assert await storage.plans.latest(3) == make_plan(PROFILE)
            assert len([u async for u, _ in storage.profiles.all(GUILD)]) == 25
            assert (await storage.audit.get(GUILD, 1))["action"] == "rule.disable"
            assert await storage.reminders.next_due() == dt.datetime(2026, 12, 2, 18, tzinfo=dt.UTC)
            from bot.storage import MemberForgotten, writes_from

            with writes_from(dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)), pytest.raises(MemberForgotten):
                await storage.profiles.save(50, PROFILE)
        finally:
            await storage.close()

    asyncio.run(check())
    again = subprocess.run(env_cmd, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert again.returncode == 1 and "already holds profiles" in again.stderr and "Traceback" not in again.stderr


def test_migrate_to_postgres_without_a_url_exits_2(tmp_path):
    """No target named: exit 2 with what to pass."""
    run = subprocess.run([sys.executable, "-m", "bot", "storage", "migrate-to-postgres", "--data-dir",
                          str(tmp_path)], cwd=ROOT, capture_output=True, text=True, timeout=60,
                         env={"PATH": "/usr/bin:/bin", "DATABASE_URL": ""})
    assert run.returncode == 2 and "--database-url" in run.stderr


async def test_open_storage_picks_the_backend_from_the_settings(tmp_path, pg_url):
    """No DATABASE_URL: TinyDB in DATA_DIR (unchanged default); with it: PostgreSQL plus a blocking bridge."""
    from bot.config import Settings
    from bot.storage import Storage, close_storage, open_storage

    tiny = await open_storage(Settings(_env_file=None, data_dir=tmp_path / "data"))
    assert isinstance(tiny, Storage) and tiny.sync is tiny
    await close_storage(tiny)
    pg = await open_storage(Settings(_env_file=None, data_dir=tmp_path / "data", database_url=pg_url))
    try:
        assert isinstance(pg, PostgresStorage)
        await pg.profiles.save(11, PROFILE, guild_id=GUILD)
        # The blocking bridge works from a worker thread and from the event loop's own thread.
        assert await asyncio.to_thread(pg.sync.profiles.get, 11) == PROFILE
        assert [uid for uid, _ in pg.sync.profiles.all(GUILD)] == [11]
        pg.sync.guilds.update(GUILD, lambda g: {**g, "mod_role_id": 5})
        assert (await pg.guilds.get(GUILD))["mod_role_id"] == 5
    finally:
        await close_storage(pg)


async def test_the_bot_answers_try_again_while_the_database_is_down():
    """The tree's error handler turns DatabaseUnavailable into the polite message, not the generic one."""
    from bot.client import friendly_message
    from bot.storage import DatabaseUnavailable as Unavailable

    assert "try again in a minute" in friendly_message(Unavailable("ConnectionRefusedError"))


async def test_bridge_update_with_its_audit_entry_commits_together_or_not_at_all(pg_url):
    """Through the blocking bridge, an audit entry appended inside update() joins its transaction."""
    from bot.storage._bridge import SyncPostgres

    bridge = await asyncio.to_thread(SyncPostgres.open, pg_url)
    try:
        def change(settings):
            settings["mod_role_id"] = 3
            bridge.audit.append(GUILD, {"actor_id": 1, "action": "settings.mod_role"})
            return settings

        def refused(settings):
            settings["mod_role_id"] = 4
            bridge.audit.append(GUILD, {"actor_id": 1, "action": "settings.mod_role"})
            raise ValueError("refused after the entry")

        await asyncio.to_thread(bridge.guilds.update, GUILD, change)
        with pytest.raises(ValueError, match="refused"):
            await asyncio.to_thread(bridge.guilds.update, GUILD, refused)
        assert (await asyncio.to_thread(bridge.guilds.get, GUILD))["mod_role_id"] == 3
        assert [e["change_id"] for e in await asyncio.to_thread(bridge.audit.list, GUILD)] == [1]
    finally:
        await asyncio.to_thread(bridge.close)


async def test_bridge_says_try_again_when_the_server_is_gone(postgres_server, pg_url):
    """Blocking calls while PostgreSQL refuses connections raise DatabaseUnavailable, not a hang or a crash."""
    from bot.storage._bridge import SyncPostgres

    bridge = await asyncio.to_thread(SyncPostgres.open, pg_url)
    try:
        name = pg_url.rsplit("/", 1)[1]
        postgres_server.sql(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS false')
        postgres_server.sql(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'")
        with pytest.raises(DatabaseUnavailable):
            for _ in range(12):  # every pooled connection was cut; new ones are refused
                await asyncio.to_thread(bridge.guilds.update, GUILD, lambda g: g)
        with pytest.raises(StorageError):
            await asyncio.to_thread(bridge.profiles.get, 1)
    finally:
        postgres_server.sql(f'ALTER DATABASE "{pg_url.rsplit("/", 1)[1]}" WITH ALLOW_CONNECTIONS true')
        await asyncio.to_thread(bridge.close)
