"""Changes reach every process: NOTIFY wakes the listener, versions decide, reconnects refresh in full."""

from __future__ import annotations

import asyncio

from bot.storage._changes import ChangeFeed
from bot.storage._postgres import PostgresStorage


async def migrated(url: str) -> None:
    await (await PostgresStorage.open(url)).close()


async def wait_for(predicate, timeout: float = 10.0) -> bool:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        if predicate():
            return True
        await asyncio.sleep(0.02)
    return False


async def test_a_change_announced_by_one_process_reaches_another_quickly(pg_url):
    """With notifications on, a long poll interval does not delay the change."""
    await migrated(pg_url)
    seen: list[tuple[str, int]] = []

    async def record(topic: str, version: int) -> None:
        seen.append((topic, version))

    listener, sender = ChangeFeed(pg_url, poll_interval=60), ChangeFeed(pg_url)
    listener.subscribe("rules:", record)
    await listener.start()
    try:
        await asyncio.sleep(0.2)  # the listener connects and LISTENs
        assert await sender.announce("rules:reload") == 1
        assert await wait_for(lambda: seen == [("rules:reload", 1)], timeout=5)
        await sender.announce("faq:other")  # not subscribed: no callback
        await sender.announce("rules:reload")
        assert await wait_for(lambda: seen[-1] == ("rules:reload", 2), timeout=5)
        assert len(seen) == 2
    finally:
        await listener.stop()


async def test_without_notifications_the_version_poll_still_delivers(pg_url):
    """Correctness never depends on NOTIFY: with LISTEN off, the poll finds the change."""
    await migrated(pg_url)
    seen: list[int] = []

    async def record(topic: str, version: int) -> None:
        seen.append(version)

    listener = ChangeFeed(pg_url, poll_interval=0.2, listen=False)
    listener.subscribe("rules:", record)
    await listener.start()
    try:
        await ChangeFeed(pg_url).announce("rules:reload")
        assert await wait_for(lambda: seen == [1])
    finally:
        await listener.stop()


async def test_changes_made_while_the_listener_was_cut_off_arrive_after_reconnect(pg_url):
    """The listener's connection drops; a change made meanwhile is found by the reconnect's full refresh."""
    await migrated(pg_url)
    seen: list[int] = []

    async def record(topic: str, version: int) -> None:
        seen.append(version)

    listener = ChangeFeed(pg_url, poll_interval=60)
    listener.subscribe("guild:", record)
    await listener.start()
    try:
        assert await wait_for(lambda: listener.reconnects == 1)
        listener._conn.terminate()  # the connection is gone: no NOTIFY can reach this process now
        storage = await PostgresStorage.open(pg_url)
        try:
            await storage.guilds.update(900_000_000_000_000_009, lambda g: {**g, "mod_role_id": 1})
        finally:
            await storage.close()
        # The poll interval is a minute: only the reconnect's full refresh can deliver this in time.
        listener._wake.set()
        assert await wait_for(lambda: seen == [1], timeout=10), (seen, listener.reconnects)
        assert listener.reconnects == 2
    finally:
        await asyncio.wait_for(listener.stop(), 10)
