"""Open the storage the settings ask for: PostgreSQL when DATABASE_URL is set, else TinyDB in DATA_DIR."""

from __future__ import annotations

import asyncio
import functools
from typing import TYPE_CHECKING, Any

from bot.storage._facade import Storage

if TYPE_CHECKING:
    from bot.config import Settings


async def open_storage(settings: Settings) -> Any:
    """The process's storage: TinyDB's in-memory `Storage`, or `PostgresStorage` when DATABASE_URL is set.

    `Storage`'s calls are plain calls; `PostgresStorage`'s are coroutines, with `.sync` for blocking
    calls from code that is not async (see `_bridge.py`). Both have `.sync` (TinyDB's is itself);
    `close_storage` closes either.
    """
    if settings.database_url is None or not settings.database_url.get_secret_value().strip():
        return await asyncio.to_thread(functools.partial(Storage.from_settings, settings, recover=True))
    from bot.storage._bridge import SyncPostgres
    from bot.storage._changes import ChangeFeed
    from bot.storage._postgres import PostgresStorage

    url = settings.database_url.get_secret_value().strip()
    storage = await PostgresStorage.open(url)
    try:
        storage.sync = await asyncio.to_thread(SyncPostgres.open, url, max_size=4)
        storage.changes = ChangeFeed(url)
    except BaseException:
        await storage.close()
        raise
    return storage


async def close_storage(storage: Any) -> None:
    """Close what `open_storage` opened, writing or committing everything first."""
    if isinstance(storage, Storage):
        await asyncio.to_thread(storage.close)
        return
    if storage.changes is not None:
        await storage.changes.stop()
    await asyncio.to_thread(storage.sync.close)
    await storage.close()
