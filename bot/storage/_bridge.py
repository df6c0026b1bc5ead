"""Blocking calls into PostgreSQL for code that is not async (rule previews in worker threads, the CLI).

`SyncPostgres` runs its own event loop on a private thread with its own connection pool, so a plain
call from any thread (even the bot's event-loop thread) waits only for its query, never for the bot's
loop. The bot's own hot paths await the async repositories instead; this keeps every older caller
working behind the same calls (a loopback query blocks its caller for about a millisecond).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import copy
import queue
import threading
import time
from collections.abc import Callable, Coroutine
from typing import Any

from bot.storage._changes import bump
from bot.storage._postgres import PostgresStorage, db_id
from bot.storage._repos import JSONDict
from bot.storage._store import DatabaseUnavailable

# How long a blocking call waits for its query before giving up (the pool retries connections).
CALL_TIMEOUT = 15.0


class _SyncRepo:
    """One repository's calls, each run to completion on the bridge's loop."""

    _SYNC = frozenset({"register_defaults"})

    def __init__(self, bridge: SyncPostgres, repo: Any) -> None:
        self._bridge = bridge
        self._repo = repo

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._repo, name)
        if name.startswith("_") or not callable(attr) or name in self._SYNC:
            return attr
        if name == "all":
            async def collect(*args: Any, **kwargs: Any) -> list[Any]:
                return [item async for item in attr(*args, **kwargs)]

            return lambda *args, **kwargs: iter(self._bridge.run(collect(*args, **kwargs)))
        return lambda *args, **kwargs: self._bridge.run(attr(*args, **kwargs))


class _SyncGuilds(_SyncRepo):
    """Guild updates whose `fn` runs in the caller's thread while the bridge holds the row lock.

    `fn` may record its audit entry (`audit.append`) as TinyDB callers do inside `update`: the entry
    then joins the same transaction, so the change and its entry commit together or not at all.
    """

    def update(self, guild_id: int, fn: Callable[[JSONDict], JSONDict | None]) -> JSONDict:
        return self._bridge.update_guild(guild_id, fn)


class _SyncAudit(_SyncRepo):
    """Audit calls; an append made inside a guild update joins that update's transaction."""

    def append(self, guild_id: int, entry: JSONDict) -> int:
        conn = getattr(self._bridge._local, "conn", None)
        if conn is None:
            return self._bridge.run(self._repo.append(guild_id, entry))
        return self._bridge.run(self._repo.append_in(conn, db_id(guild_id, "server id"), copy.deepcopy(entry)))


class SyncPostgres:
    """The PostgreSQL storage behind plain (blocking) calls: `sync.profiles.get(user_id)`, and so on."""

    backend = "postgres"

    def __init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="storage-pg-bridge", daemon=True)
        self._thread.start()
        self._storage: PostgresStorage | None = None
        # The connection of the guild update running in this thread, if any (see update_guild).
        self._local = threading.local()

    @classmethod
    def open(cls, url: str, **options: Any) -> SyncPostgres:
        """Connect (with PostgresStorage.open's retries) on the bridge's own loop."""
        bridge = cls()
        try:
            bridge._storage = bridge.run(PostgresStorage.open(url, **options), timeout=None)
        except BaseException:
            bridge._stop()
            raise
        for name in ("profiles", "plans", "checkins", "reminders", "conversations"):
            setattr(bridge, name, _SyncRepo(bridge, getattr(bridge._storage, name)))
        bridge.guilds = _SyncGuilds(bridge, bridge._storage.guilds)
        bridge.audit = _SyncAudit(bridge, bridge._storage.audit)
        return bridge

    def update_guild(self, guild_id: int, fn: Callable[[JSONDict], JSONDict | None]) -> JSONDict:
        """Lock the guild row on the bridge's loop, run `fn` here, then write and commit (or roll back)."""
        assert self._storage is not None
        repo = self._storage.guilds
        guild_id = db_id(guild_id, "server id")
        handoff: queue.Queue[tuple[Any, ...]] = queue.Queue()

        async def hold() -> JSONDict:
            reply: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
            async with repo._tx() as conn:
                current = await repo._locked(conn, guild_id)
                handoff.put((current, conn, reply))
                kind, value = await reply.get()
                if kind == "error":
                    raise value
                written = await repo._write(conn, guild_id, value)
                await bump(conn, f"guild:{guild_id}")
                return written

        future = asyncio.run_coroutine_threadsafe(hold(), self._loop)
        deadline = time.monotonic() + CALL_TIMEOUT
        while True:
            try:
                current, conn, reply = handoff.get(timeout=0.05)
                break
            except queue.Empty:
                if future.done():
                    future.result()  # raises what stopped the transaction (DatabaseUnavailable, ...)
                if time.monotonic() > deadline:
                    future.cancel()
                    raise DatabaseUnavailable(f"no answer from PostgreSQL within {CALL_TIMEOUT:.0f}s") from None
        self._local.conn = conn
        try:
            result = fn(current)
            outcome: tuple[str, Any] = ("ok", current if result is None else result)
        except BaseException as exc:
            outcome = ("error", exc)
        finally:
            self._local.conn = None
        self._loop.call_soon_threadsafe(reply.put_nowait, outcome)
        return future.result(CALL_TIMEOUT)

    def run(self, coro: Coroutine[Any, Any, Any], timeout: float | None = CALL_TIMEOUT) -> Any:
        """Run one coroutine on the bridge's loop and wait for its result (DatabaseUnavailable if too slow)."""
        future = asyncio.run_coroutine_threadsafe(coro, self._loop)
        try:
            return future.result(timeout)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise DatabaseUnavailable(f"no answer from PostgreSQL within {timeout:.0f}s") from None

    def forget_member(self, user_id: int) -> Any:
        assert self._storage is not None
        return self.run(self._storage.forget_member(user_id))

    def export_member(self, user_id: int) -> JSONDict:
        """Everything stored about one member (PostgresStorage.export_member, blocking)."""
        assert self._storage is not None
        return self.run(self._storage.export_member(user_id))

    @property
    def sync(self) -> SyncPostgres:
        return self

    def _stop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    def close(self) -> None:
        """Close the bridge's pool and stop its thread. Safe to call more than once."""
        if self._storage is not None:
            self.run(self._storage.close(), timeout=30)
            self._storage = None
        if self._thread.is_alive():
            self._stop()
