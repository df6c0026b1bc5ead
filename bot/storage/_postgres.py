"""The PostgreSQL implementation of the repository interface, for several bot processes (DATABASE_URL).

Same collections and calls as the TinyDB storage, as coroutines (asyncpg). What holds across
processes, by construction rather than by care at each call site:

- each call is one transaction; `guilds.change` applies a server change and appends its audit entry
  in the same transaction, the guild row locked (`SELECT ... FOR UPDATE`), so two processes editing
  one server run one after the other and neither change is lost;
- the servers a member planned in are rows (`member_guilds`), added with `ON CONFLICT DO NOTHING`,
  never a list read, changed and written back;
- every member write and `forget_member` take the member's transaction advisory lock first and check
  the tombstone under it, so a forget and a stale write cannot interleave: forget is one transaction,
  and nothing begun before it can write the member back;
- check-ins are rows appended, profiles and plans whole-document upserts: no read-modify-write.

A database that cannot be reached raises DatabaseUnavailable (a StorageError with a member-friendly
"try again" message); `PostgresStorage.open` retries with backoff before giving up.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import datetime as dt
import json
import logging
import zlib
from collections.abc import AsyncIterator, Callable
from typing import Any

import asyncpg
from pydantic import ValidationError

from bot.models import Plan, Profile
from bot.storage._changes import bump
from bot.storage._collections import (
    AUDIT_PERSON_FIELDS,
    _parse_time,
    check_conversation_key,
    reminder_due,
    tombstone_id,
    user_from_key,
)
from bot.storage._pgschema import migrate
from bot.storage._repos import (
    FORGOTTEN_USER,
    GUILD_DEFAULTS,
    ForgetReceipt,
    JSONDict,
    export_document,
    is_stale,
    write_origin,
)
from bot.storage._store import DatabaseUnavailable, MemberForgotten, StorageError, check_id, encode

log = logging.getLogger("bot.storage.postgres")

# Errors that mean "the server is not there (now)", as opposed to a bug in a query. InternalClientError is
# what asyncpg raises on a pooled connection whose server end was cut in the middle of an operation.
UNREACHABLE = (OSError, asyncio.TimeoutError, asyncpg.PostgresConnectionError, asyncpg.InterfaceError,
               asyncpg.CannotConnectNowError, asyncpg.TooManyConnectionsError, asyncpg.InternalClientError)
BIGINT_MAX = (1 << 63) - 1
# Discord: one IDENTIFY per bucket (shard_id % max_concurrency) every 5 seconds, across all processes.
IDENTIFY_SPACING = 5.0
IDENTIFY_LOCK = 0x4C6567446964 << 8


def db_id(value: Any, what: str = "user id") -> int:
    """A Discord id that fits PostgreSQL's bigint (every snowflake until the 2080s)."""
    number = check_id(value, what)
    if number > BIGINT_MAX:
        raise ValueError(f"A Discord {what} above 2^63 cannot be stored in PostgreSQL: {number}.")
    return number


def redact(url: str) -> str:
    """The database URL without its password, for messages and logs."""
    if "@" not in url or "://" not in url:
        return url
    scheme, rest = url.split("://", 1)
    credentials, host = rest.rsplit("@", 1)
    user = credentials.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}" if ":" in credentials else f"{scheme}://{user}@{host}"


async def _init_connection(conn: asyncpg.Connection) -> None:
    for name in ("jsonb", "json"):
        await conn.set_type_codec(name, encoder=lambda v: json.dumps(v, allow_nan=False), decoder=json.loads,
                                  schema="pg_catalog")


class _Repo:
    """Shared plumbing: one transaction per call, unreachable-server errors turned into StorageErrors."""

    def __init__(self, owner: PostgresStorage) -> None:
        self._owner = owner

    @contextlib.asynccontextmanager
    async def _tx(self) -> AsyncIterator[asyncpg.Connection]:
        pool = self._owner.pool
        try:
            conn = await pool.acquire()
        except (*UNREACHABLE, asyncpg.PostgresError) as exc:
            # No connection to be had, whatever the reason the server gave: the database is unavailable.
            raise DatabaseUnavailable(f"{type(exc).__name__}: {exc}") from exc
        try:
            async with conn.transaction():
                yield conn
        except UNREACHABLE as exc:
            raise DatabaseUnavailable(f"{type(exc).__name__}: {exc}") from exc
        finally:
            await pool.release(conn)

    @staticmethod
    async def _lock_member(conn: asyncpg.Connection, user_id: int) -> None:
        """Serialise this transaction with others on the same member (forget included)."""
        await conn.execute("SELECT pg_advisory_xact_lock($1)", tombstone_id(user_id))

    @staticmethod
    async def _guard(conn: asyncpg.Connection, user_id: int, *origins: dt.datetime | None) -> None:
        at = await conn.fetchval("SELECT forgotten_at FROM tombstones WHERE member_hash = $1", tombstone_id(user_id))
        if at is not None and any(is_stale(origin, at) for origin in (write_origin(), *origins)):
            raise MemberForgotten(at)


class PgProfileRepo(_Repo):
    """Profiles, one row per member; the servers they planned in as rows beside it."""

    async def get(self, user_id: int) -> Profile | None:
        user_id = db_id(user_id)
        async with self._tx() as conn:
            raw = await conn.fetchval("SELECT profile FROM profiles WHERE user_id = $1", user_id)
        if raw is None:
            return None
        try:
            return Profile.model_validate(raw)
        except ValidationError as exc:
            log.warning("Stored profile of %s no longer validates: %s", user_id, exc)
            return None

    async def save(self, user_id: int, profile: Profile, guild_id: int | None = None) -> None:
        """Store a member's profile; `guild_id` adds a server they planned in (a row, kept across saves)."""
        user_id = db_id(user_id)
        if not isinstance(profile, Profile):
            raise ValueError(f"profiles.save takes a Profile, not {type(profile).__name__}.")
        if guild_id is not None:
            guild_id = db_id(guild_id, "server id")
        async with self._tx() as conn:
            await self._lock_member(conn, user_id)
            await self._guard(conn, user_id)
            await conn.execute(
                "INSERT INTO profiles (user_id, profile, saved_at) VALUES ($1, $2, now()) "
                "ON CONFLICT (user_id) DO UPDATE SET profile = EXCLUDED.profile, saved_at = EXCLUDED.saved_at, "
                "revision = profiles.revision + 1", user_id, profile.model_dump(mode="json"))
            if guild_id is not None:
                await conn.execute("INSERT INTO member_guilds VALUES ($1, $2) ON CONFLICT DO NOTHING",
                                   user_id, guild_id)

    async def delete(self, user_id: int) -> bool:
        user_id = db_id(user_id)
        async with self._tx() as conn:
            await conn.execute("DELETE FROM member_guilds WHERE user_id = $1", user_id)
            return await conn.execute("DELETE FROM profiles WHERE user_id = $1", user_id) != "DELETE 0"

    async def all(self, guild_id: int | None = None) -> AsyncIterator[tuple[int, Profile]]:
        """Every stored profile, or those of members who planned in `guild_id`, read in batches."""
        query = "SELECT user_id, profile FROM profiles ORDER BY user_id"
        args: tuple[Any, ...] = ()
        if guild_id is not None:
            query = ("SELECT p.user_id, p.profile FROM profiles p JOIN member_guilds g USING (user_id) "
                     "WHERE g.guild_id = $1 ORDER BY p.user_id")
            args = (db_id(guild_id, "server id"),)
        async with self._tx() as conn:
            async for row in conn.cursor(query, *args, prefetch=1000):
                try:
                    yield row["user_id"], Profile.model_validate(row["profile"])
                except ValidationError as exc:
                    log.warning("Skipping stored profile of %s that no longer validates: %s", row["user_id"], exc)

    async def count(self) -> int:
        async with self._tx() as conn:
            return await conn.fetchval("SELECT count(*) FROM profiles")


class PgPlanRepo(_Repo):
    """Each member's latest plan, deflated JSON in a bytea column."""

    async def latest(self, user_id: int) -> Plan | None:
        user_id = db_id(user_id)
        async with self._tx() as conn:
            raw = await conn.fetchval("SELECT plan_z FROM plans WHERE user_id = $1", user_id)
        if raw is None:
            return None
        try:
            return Plan.model_validate_json(zlib.decompress(raw))
        except (ValidationError, ValueError, zlib.error) as exc:
            log.warning("Stored plan of %s no longer validates: %s", user_id, exc)
            return None

    async def save(self, user_id: int, plan: Plan) -> None:
        user_id = db_id(user_id)
        if not isinstance(plan, Plan):
            raise ValueError(f"plans.save takes a Plan, not {type(plan).__name__}.")
        packed = zlib.compress(plan.model_dump_json().encode(), 6)
        async with self._tx() as conn:
            await self._lock_member(conn, user_id)
            await self._guard(conn, user_id)
            await conn.execute(
                "INSERT INTO plans (user_id, rules_version, saved_at, plan_z) VALUES ($1, $2, now(), $3) "
                "ON CONFLICT (user_id) DO UPDATE SET rules_version = EXCLUDED.rules_version, "
                "saved_at = EXCLUDED.saved_at, plan_z = EXCLUDED.plan_z", user_id, plan.rules_version, packed)

    async def delete(self, user_id: int) -> bool:
        user_id = db_id(user_id)
        async with self._tx() as conn:
            return await conn.execute("DELETE FROM plans WHERE user_id = $1", user_id) != "DELETE 0"


class PgCheckinRepo(_Repo):
    """Check-ins, one row each, oldest first."""

    async def add(self, user_id: int, checkin: JSONDict) -> None:
        user_id = db_id(user_id)
        if not isinstance(checkin, dict):
            raise ValueError(f"A check-in must be a dict of JSON values, not {type(checkin).__name__}.")
        encode(checkin)
        async with self._tx() as conn:
            await self._lock_member(conn, user_id)
            await self._guard(conn, user_id)
            await conn.execute("INSERT INTO checkins (user_id, item) VALUES ($1, $2)", user_id, checkin)

    async def list(self, user_id: int) -> list[JSONDict]:
        user_id = db_id(user_id)
        async with self._tx() as conn:
            return [row["item"] for row in
                    await conn.fetch("SELECT item FROM checkins WHERE user_id = $1 ORDER BY id", user_id)]

    async def delete(self, user_id: int) -> int:
        user_id = db_id(user_id)
        async with self._tx() as conn:
            return int((await conn.execute("DELETE FROM checkins WHERE user_id = $1", user_id)).split()[-1])


class PgReminderRepo(_Repo):
    """Reminder schedules, one row per member; `next_due` is an indexed column (no scan for the next one)."""

    async def get(self, user_id: int) -> JSONDict | None:
        user_id = db_id(user_id)
        async with self._tx() as conn:
            return await conn.fetchval("SELECT reminder FROM reminders WHERE user_id = $1", user_id)

    @staticmethod
    def _checked(reminder: Any) -> JSONDict:
        if not isinstance(reminder, dict):
            raise ValueError(f"A reminder schedule must be a dict of JSON values, not {type(reminder).__name__}.")
        encode(reminder)
        return reminder

    async def save(self, user_id: int, reminder: JSONDict) -> None:
        user_id = db_id(user_id)
        reminder = self._checked(reminder)
        async with self._tx() as conn:
            await self._lock_member(conn, user_id)
            await self._guard(conn, user_id)
            await conn.execute(
                "INSERT INTO reminders (user_id, reminder, next_due) VALUES ($1, $2, $3) ON CONFLICT (user_id) "
                "DO UPDATE SET reminder = EXCLUDED.reminder, next_due = EXCLUDED.next_due",
                user_id, reminder, reminder_due(reminder))

    async def delete(self, user_id: int) -> bool:
        user_id = db_id(user_id)
        async with self._tx() as conn:
            return await conn.execute("DELETE FROM reminders WHERE user_id = $1", user_id) != "DELETE 0"

    async def next_due(self) -> dt.datetime | None:
        """The earliest due time of any schedule (one index lookup)."""
        async with self._tx() as conn:
            return await conn.fetchval("SELECT min(next_due) FROM reminders WHERE next_due IS NOT NULL")

    async def due(self, until: dt.datetime, limit: int = 100) -> list[tuple[int, JSONDict]]:
        """Up to `limit` schedules due at or before `until`, earliest first (they stay scheduled)."""
        if not isinstance(until, dt.datetime):
            raise ValueError("due takes a datetime, like now.")
        cutoff = until if until.tzinfo else until.replace(tzinfo=dt.UTC)
        async with self._tx() as conn:
            rows = await conn.fetch("SELECT user_id, reminder FROM reminders WHERE next_due <= $1 "
                                    "ORDER BY next_due, user_id LIMIT $2", cutoff, limit)
        return [(row["user_id"], row["reminder"]) for row in rows]

    async def claim(self, user_id: int, expected: dt.datetime, reminder: JSONDict) -> bool:
        """Save `reminder` only while the stored schedule is still due at `expected` (one UPDATE)."""
        user_id = db_id(user_id)
        reminder = self._checked(reminder)
        async with self._tx() as conn:
            await self._lock_member(conn, user_id)
            await self._guard(conn, user_id)
            done = await conn.execute("UPDATE reminders SET reminder = $2, next_due = $3 "
                                      "WHERE user_id = $1 AND next_due = $4",
                                      user_id, reminder, reminder_due(reminder), expected)
        return done != "UPDATE 0"

    async def count(self) -> int:
        async with self._tx() as conn:
            return await conn.fetchval("SELECT count(*) FROM reminders")


class PgConversationRepo(_Repo):
    """Ongoing conversations by key; `updated_at` is a column so expiry is one indexed DELETE."""

    _check_key = staticmethod(check_conversation_key)

    async def get(self, key: str) -> JSONDict | None:
        key = self._check_key(key)
        async with self._tx() as conn:
            return await conn.fetchval("SELECT state FROM conversations WHERE key = $1", key)

    async def save(self, key: str, state: JSONDict) -> None:
        key = self._check_key(key)
        if not isinstance(state, dict):
            raise ValueError(f"A conversation state must be a dict of JSON values, not {type(state).__name__}.")
        encode(state)
        user_id = user_from_key(key, state)
        if user_id is not None and user_id > BIGINT_MAX:
            user_id = None
        updated = _parse_time(state.get("updated_at")) or dt.datetime.now(dt.UTC)
        async with self._tx() as conn:
            if user_id is not None:
                await self._lock_member(conn, user_id)
                await self._guard(conn, user_id, _parse_time(state.get("created_at")))
            await conn.execute(
                "INSERT INTO conversations (key, user_id, state, updated_at) VALUES ($1, $2, $3, $4) "
                "ON CONFLICT (key) DO UPDATE SET user_id = EXCLUDED.user_id, state = EXCLUDED.state, "
                "updated_at = EXCLUDED.updated_at", key, user_id, state, updated)

    async def delete(self, key: str) -> bool:
        key = self._check_key(key)
        async with self._tx() as conn:
            return await conn.execute("DELETE FROM conversations WHERE key = $1", key) != "DELETE 0"

    async def expire(self, older_than: dt.datetime) -> int:
        """Remove conversations last updated before `older_than` (naive times are taken as UTC)."""
        if not isinstance(older_than, dt.datetime):
            raise ValueError("expire takes a datetime, like now - timedelta(hours=24).")
        cutoff = older_than if older_than.tzinfo else older_than.replace(tzinfo=dt.UTC)
        async with self._tx() as conn:
            return int((await conn.execute("DELETE FROM conversations WHERE updated_at < $1", cutoff)).split()[-1])

    async def delete_for_user(self, user_id: int) -> int:
        user_id = db_id(user_id)
        async with self._tx() as conn:
            return int((await conn.execute("DELETE FROM conversations WHERE user_id = $1", user_id)).split()[-1])


class PgGuildRepo(_Repo):
    """Per-server settings with registered defaults; changes lock the row, so none is lost."""

    def __init__(self, owner: PostgresStorage) -> None:
        super().__init__(owner)
        self._defaults: JSONDict = copy.deepcopy(GUILD_DEFAULTS)

    def register_defaults(self, defaults: JSONDict) -> None:
        """Add settings a feature needs, with the value a server has until a moderator changes it."""
        if not isinstance(defaults, dict):
            raise ValueError("Guild defaults must be a dict of JSON values.")
        encode(defaults)
        self._defaults.update(copy.deepcopy(defaults))

    def _merged(self, stored: JSONDict | None) -> JSONDict:
        merged = copy.deepcopy(self._defaults)
        merged.update(stored or {})
        return merged

    async def get(self, guild_id: int) -> JSONDict:
        guild_id = db_id(guild_id, "server id")
        async with self._tx() as conn:
            return self._merged(await conn.fetchval("SELECT settings FROM guilds WHERE guild_id = $1", guild_id))

    async def _locked(self, conn: asyncpg.Connection, guild_id: int) -> JSONDict:
        await conn.execute("INSERT INTO guilds (guild_id, settings) VALUES ($1, '{}') ON CONFLICT DO NOTHING",
                           guild_id)
        stored = await conn.fetchval("SELECT settings FROM guilds WHERE guild_id = $1 FOR UPDATE", guild_id)
        return self._merged(stored)

    async def _write(self, conn: asyncpg.Connection, guild_id: int, settings: Any) -> JSONDict:
        if not isinstance(settings, dict):
            raise ValueError(f"Guild settings must be a dict of JSON values, not {type(settings).__name__}.")
        encode(settings)
        await conn.execute("UPDATE guilds SET settings = $2, revision = revision + 1 WHERE guild_id = $1",
                           guild_id, settings)
        return copy.deepcopy(settings)

    async def update(self, guild_id: int, fn: Callable[[JSONDict], JSONDict | None]) -> JSONDict:
        """Read-modify-write with the row locked: `fn` gets the settings and returns (or edits) them."""
        guild_id = db_id(guild_id, "server id")
        async with self._tx() as conn:
            current = await self._locked(conn, guild_id)
            result = fn(current)
            written = await self._write(conn, guild_id, current if result is None else result)
            await bump(conn, f"guild:{guild_id}")  # other processes drop what they cached of this server
            return written

    async def change(self, guild_id: int, fn: Callable[[JSONDict], JSONDict]) -> tuple[JSONDict, int]:
        """A moderator's change and its audit entry in one transaction.

        `fn` edits the settings in place and returns the audit entry; returns the new settings and the
        entry's change id.
        """
        guild_id = db_id(guild_id, "server id")
        async with self._tx() as conn:
            current = await self._locked(conn, guild_id)
            entry = fn(current)
            settings = await self._write(conn, guild_id, current)
            change_id = await self._owner.audit.append_in(conn, guild_id, entry)
            await bump(conn, f"guild:{guild_id}")
            return settings, change_id


class PgAuditRepo(_Repo):
    """The moderators' audit log: one row per entry, change ids increasing per server."""

    async def append_in(self, conn: asyncpg.Connection, guild_id: int, entry: JSONDict) -> int:
        """Append inside the caller's transaction (used by `guilds.change`)."""
        if not isinstance(entry, dict):
            raise ValueError(f"An audit entry must be a dict of JSON values, not {type(entry).__name__}.")
        # The guild's advisory lock orders appends, so change ids never collide across processes.
        await conn.execute("SELECT pg_advisory_xact_lock($1)", tombstone_id(-guild_id))
        change_id = await conn.fetchval(
            "SELECT coalesce(max(change_id), 0) + 1 FROM audit WHERE guild_id = $1", guild_id)
        doc = {**entry, "guild_id": guild_id, "change_id": change_id,
               "at": entry.get("at") or dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")}
        encode(doc)
        await conn.execute("INSERT INTO audit (guild_id, change_id, entry) VALUES ($1, $2, $3)",
                           guild_id, change_id, doc)
        return change_id

    async def append(self, guild_id: int, entry: JSONDict) -> int:
        """Record a change; returns its change id (1, 2, 3, ... per server)."""
        guild_id = db_id(guild_id, "server id")
        async with self._tx() as conn:
            return await self.append_in(conn, guild_id, copy.deepcopy(entry))

    async def list(self, guild_id: int, limit: int = 20, before: int | None = None) -> list[JSONDict]:
        """Newest first; `before` pages back from a change id (exclusive)."""
        guild_id = db_id(guild_id, "server id")
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
            raise ValueError("limit is a whole number of entries, 0 or more.")
        if before is not None and (isinstance(before, bool) or not isinstance(before, int)):
            raise ValueError("before is a change id (a whole number), or None for the newest entries.")
        async with self._tx() as conn:
            rows = await conn.fetch(
                "SELECT entry FROM audit WHERE guild_id = $1 AND ($2::int IS NULL OR change_id < $2) "
                "ORDER BY change_id DESC LIMIT $3", guild_id, before, limit)
        return [row["entry"] for row in rows]

    async def get(self, guild_id: int, change_id: int) -> JSONDict | None:
        guild_id = db_id(guild_id, "server id")
        async with self._tx() as conn:
            return await conn.fetchval("SELECT entry FROM audit WHERE guild_id = $1 AND change_id = $2",
                                       guild_id, change_id)


class PostgresStorage:
    """Everything the bot remembers, in PostgreSQL: the same repositories as `Storage`, as coroutines."""

    backend = "postgres"

    def __init__(self, pool: asyncpg.Pool, url: str) -> None:
        self.pool = pool
        self.url = redact(url)
        self.profiles = PgProfileRepo(self)
        self.plans = PgPlanRepo(self)
        self.checkins = PgCheckinRepo(self)
        self.reminders = PgReminderRepo(self)
        self.conversations = PgConversationRepo(self)
        self.guilds = PgGuildRepo(self)
        self.audit = PgAuditRepo(self)
        # Blocking calls for code that is not async (a SyncPostgres), and the change feed that tells this
        # process about other processes' changes (a ChangeFeed); both set by open_storage.
        self.sync: Any = None
        self.changes: Any = None

    @classmethod
    async def open(cls, url: str, *, attempts: int = 5, first_delay: float = 0.5, min_size: int = 1,
                   max_size: int = 10) -> PostgresStorage:
        """Connect (retrying with doubling delays while the server is unreachable) and migrate the schema.

        A URL that cannot be right (bad scheme, wrong password, unknown database) fails at once with a
        StorageError saying so; an unreachable server fails after `attempts` tries with DatabaseUnavailable.
        """
        if not url.startswith(("postgres://", "postgresql://")):
            raise StorageError(f"DATABASE_URL should look like postgresql://user:password@host:5432/dbname, "
                               f"not {redact(url)[:80]!r}.")
        delay = first_delay
        for attempt in range(1, attempts + 1):
            try:
                pool = await asyncpg.create_pool(url, min_size=min_size, max_size=max_size, init=_init_connection,
                                                 timeout=10, command_timeout=30)
                break
            except (asyncpg.InvalidPasswordError, asyncpg.InvalidAuthorizationSpecificationError,
                    asyncpg.InvalidCatalogNameError) as exc:
                raise StorageError(f"PostgreSQL at {redact(url)} refused the connection: {exc}. "
                                   "Check the user, password and database name in DATABASE_URL.") from None
            except (*UNREACHABLE, ValueError) as exc:
                if isinstance(exc, ValueError):
                    raise StorageError(f"DATABASE_URL {redact(url)} could not be read: {exc}") from None
                if attempt == attempts:
                    raise DatabaseUnavailable(
                        f"PostgreSQL at {redact(url)} is unreachable after {attempts} attempts: {exc}") from None
                log.warning("PostgreSQL at %s unreachable (%s); retrying in %.1fs", redact(url), exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30.0)
        async with pool.acquire() as conn:
            applied = await migrate(conn)
        if applied:
            log.info("Migrated the PostgreSQL schema: %s", ", ".join(applied))
        return cls(pool, url)

    async def identify_turn(self, bucket: int, spacing: float = IDENTIFY_SPACING) -> None:
        """Wait for this process's turn to IDENTIFY to Discord, spaced `spacing` seconds across processes.

        Discord allows one IDENTIFY per rate-limit bucket every 5 seconds for the whole bot, whichever
        process sends it; the bucket's advisory lock and its last time in `change_versions` enforce that.
        """
        topic = f"identify:{bucket}"
        async with self.profiles._tx() as conn:
            await conn.execute("SELECT pg_advisory_xact_lock($1)", IDENTIFY_LOCK + bucket)
            last = await conn.fetchval("SELECT version FROM change_versions WHERE topic = $1", topic)
            now_ms = int(await conn.fetchval("SELECT extract(epoch FROM clock_timestamp()) * 1000"))
            if last is not None and now_ms - last < spacing * 1000:
                await asyncio.sleep((spacing * 1000 - (now_ms - last)) / 1000)
                now_ms = int(await conn.fetchval("SELECT extract(epoch FROM clock_timestamp()) * 1000"))
            await conn.execute("INSERT INTO change_versions (topic, version) VALUES ($1, $2) "
                               "ON CONFLICT (topic) DO UPDATE SET version = EXCLUDED.version", topic, now_ms)

    async def close(self) -> None:
        """Close every connection; each change was already committed when its call returned."""
        await self.pool.close()

    async def forget_member(self, user_id: int) -> ForgetReceipt:
        """Everything about one member, deleted in one transaction with the tombstone; says what and when.

        Backups of a PostgreSQL database are the host's (pg_dump and the like) and are not rewritten here.
        """
        user_id = db_id(user_id)
        async with self.profiles._tx() as conn:
            await _Repo._lock_member(conn, user_id)
            at = await conn.fetchval(
                "INSERT INTO tombstones (member_hash, forgotten_at) VALUES ($1, clock_timestamp()) "
                "ON CONFLICT (member_hash) DO UPDATE SET forgotten_at = EXCLUDED.forgotten_at "
                "RETURNING forgotten_at", tombstone_id(user_id))

            async def deleted(sql: str) -> int:
                return int((await conn.execute(sql, user_id)).split()[-1])

            await deleted("DELETE FROM member_guilds WHERE user_id = $1")
            counts = {
                "profiles": await deleted("DELETE FROM profiles WHERE user_id = $1"),
                "plans": await deleted("DELETE FROM plans WHERE user_id = $1"),
                "checkins": await deleted("DELETE FROM checkins WHERE user_id = $1"),
                "reminders": await deleted("DELETE FROM reminders WHERE user_id = $1"),
                "conversations": await deleted("DELETE FROM conversations WHERE user_id = $1"),
            }
            anonymised = 0
            for field in AUDIT_PERSON_FIELDS:
                anonymised += int((await conn.execute(
                    "UPDATE audit SET entry = jsonb_set(entry, ARRAY[$2::text], to_jsonb($3::text)) "
                    "WHERE entry->>$2 = $1::text", str(user_id), field, FORGOTTEN_USER)).split()[-1])
        return ForgetReceipt(forgotten_at=at, audit_entries_anonymised=anonymised, **counts)

    async def export_member(self, user_id: int) -> JSONDict:
        """Everything stored about one member, read in one transaction (see `export_document`)."""
        user_id = db_id(user_id)
        async with self.profiles._tx() as conn:
            profile = await conn.fetchval("SELECT profile FROM profiles WHERE user_id = $1", user_id)
            servers = [row["guild_id"] for row in
                       await conn.fetch("SELECT guild_id FROM member_guilds WHERE user_id = $1", user_id)]
            plan_z = await conn.fetchval("SELECT plan_z FROM plans WHERE user_id = $1", user_id)
            checkins = [row["item"] for row in
                        await conn.fetch("SELECT item FROM checkins WHERE user_id = $1 ORDER BY id", user_id)]
            reminder = await conn.fetchval("SELECT reminder FROM reminders WHERE user_id = $1", user_id)
            conversations = [{"key": row["key"], "state": row["state"]} for row in
                             await conn.fetch("SELECT key, state FROM conversations WHERE user_id = $1", user_id)]
        return export_document(user_id, profile=profile, servers=servers,
                               plan=None if plan_z is None else json.loads(zlib.decompress(plan_z)),
                               checkins=checkins, reminders=reminder, conversations=conversations)
