"""Changes that every bot process must pick up (a rule reload, a server's new settings): versions + NOTIFY.

A change bumps its topic's version in `change_versions` and sends `NOTIFY legday_changes` in the same
transaction. Each process keeps a dedicated listening connection; a notification only wakes it early.
What it acts on is always the version table, read when woken, every `poll_interval` seconds anyway,
and in full after the listener reconnects. So a lost notification (the listener was down, the
connection dropped) delays a change by at most one poll, and never loses it: correctness never
depends on NOTIFY alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

import asyncpg

log = logging.getLogger("bot.storage.changes")

CHANNEL = "legday_changes"
Callback = Callable[[str, int], Awaitable[None]]


async def bump(conn: asyncpg.Connection, topic: str) -> int:
    """Raise `topic`'s version and notify listeners, inside the caller's transaction; returns the version."""
    version = await conn.fetchval(
        "INSERT INTO change_versions (topic, version) VALUES ($1, 1) ON CONFLICT (topic) "
        "DO UPDATE SET version = change_versions.version + 1 RETURNING version", topic)
    await conn.execute("SELECT pg_notify($1, $2)", CHANNEL, f"{topic}:{version}")
    return version


class ChangeFeed:
    """One process's view of the shared change versions, calling back when a watched topic moves on."""

    def __init__(self, url: str, *, poll_interval: float = 5.0, listen: bool = True) -> None:
        self.url = url
        self.poll_interval = poll_interval
        self.listen = listen
        self._callbacks: dict[str, list[Callback]] = {}
        self._known: dict[str, int] = {}
        self._wake = asyncio.Event()
        self._task: asyncio.Task | None = None
        self._conn: asyncpg.Connection | None = None
        self.reconnects = 0

    def subscribe(self, prefix: str, callback: Callback) -> None:
        """Call `callback(topic, version)` for each topic starting with `prefix` whose version changes."""
        self._callbacks.setdefault(prefix, []).append(callback)

    async def announce(self, topic: str) -> int:
        """Bump a topic from this process (its own callbacks run too, like everyone else's)."""
        conn = await asyncpg.connect(self.url, timeout=10)
        try:
            async with conn.transaction():
                return await bump(conn, topic)
        finally:
            await conn.close()

    async def start(self) -> None:
        """Read the current versions (nothing is called back for them) and start watching."""
        conn = await asyncpg.connect(self.url, timeout=10)
        try:
            self._known = await self._versions(conn)
        finally:
            await conn.close()
        self._task = asyncio.create_task(self._run(), name="legday-change-feed")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._close_conn()

    async def _close_conn(self) -> None:
        if self._conn is not None and not self._conn.is_closed():
            # terminate(), not close(): a connection whose server went away may never answer a goodbye.
            self._conn.terminate()
        self._conn = None

    @staticmethod
    async def _versions(conn: asyncpg.Connection) -> dict[str, int]:
        return {row["topic"]: row["version"] for row in
                await conn.fetch("SELECT topic, version FROM change_versions WHERE topic NOT LIKE 'identify:%'")}

    def _notified(self, conn: object, pid: int, channel: str, payload: str) -> None:
        self._wake.set()

    async def _run(self) -> None:
        delay = 0.5
        while True:
            try:
                if self._conn is None or self._conn.is_closed():
                    await self._close_conn()
                    self._conn = await asyncpg.connect(self.url, timeout=10)
                    if self.listen:
                        await self._conn.add_listener(CHANNEL, self._notified)
                    self.reconnects += 1
                    delay = 0.5
                    # (Re)connected: anything may have changed while nobody listened; compare everything.
                await self._refresh(self._conn)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.poll_interval)
                self._wake.clear()
            except asyncio.CancelledError:
                raise
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                log.warning("change feed lost its connection (%s); reconnecting in %.1fs", exc, delay)
                await self._close_conn()
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30.0)

    async def _refresh(self, conn: asyncpg.Connection) -> None:
        versions = await self._versions(conn)
        for topic, version in versions.items():
            if self._known.get(topic) == version:
                continue
            self._known[topic] = version
            for prefix, callbacks in self._callbacks.items():
                if topic.startswith(prefix):
                    for callback in callbacks:
                        try:
                            await callback(topic, version)
                        except Exception:
                            log.exception("change callback for %s failed", topic)
