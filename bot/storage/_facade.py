"""The `Storage` facade: opens the database, runs the write-behind flusher, and closes it safely.

Durability, stated: every call returns once memory holds the change; the flusher thread writes the
changed files every `flush_interval` seconds (default 0.5 s, at most 1 s in the bot's settings). A
hard kill therefore loses at most the changes of the last flush window, that is `flush_interval`
plus the time of one flush (tens of milliseconds per file; see bench/). `close()`, leaving a `with`
block, normal interpreter exit (atexit) and SIGTERM (after `close_on_sigterm()`) lose nothing.

The flusher is a `threading.Thread`, not an asyncio task, so synchronous callers (the terminal
console, the CLI) get the same behaviour as the Discord bot.
"""

from __future__ import annotations

import atexit
import datetime as dt
import logging
import shutil
import signal
import threading
import time
from pathlib import Path
from types import FrameType, TracebackType
from typing import TYPE_CHECKING, Self

from bot.storage._collections import (
    AuditRepo,
    CheckinRepo,
    ConversationRepo,
    GuildRepo,
    PlanRepo,
    ProfileRepo,
)
from bot.storage._store import DocumentStore, StorageError, check_id
from bot.storage._tinydb import BACKUP_DIR, list_backups, make_backup

if TYPE_CHECKING:
    from bot.config import Settings

log = logging.getLogger("bot.storage")


def _last_backup_time(data_dir: Path) -> float:
    """When the newest backup was taken (epoch seconds), or 0 when there is none."""
    backups = list_backups(data_dir)
    if not backups:
        return 0.0
    try:
        stamp = dt.datetime.strptime(backups[-1].name[:16], "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.UTC)
    except ValueError:
        return backups[-1].stat().st_mtime
    return stamp.timestamp()


class Storage:
    """Everything the bot remembers: one object per process, opened at start-up, closed at shutdown.

    Repositories: `profiles`, `plans`, `checkins`, `conversations`, `guilds`, `audit` (see the
    protocols in `bot.storage._repos`). Their calls touch only memory and are safe on the event loop;
    `open()`, `flush()`, `backup()` and `close()` do disk I/O (call them at start-up, at shutdown,
    or through `asyncio.to_thread`).
    """

    def __init__(self, store: DocumentStore, *, flush_interval: float, backup_count: int,
                 backup_interval: float) -> None:
        self._store = store
        self.data_dir = store.data_dir
        self.flush_interval = flush_interval
        self.backup_count = backup_count
        self.backup_interval = backup_interval
        self.profiles = ProfileRepo(store)
        self.plans = PlanRepo(store)
        self.checkins = CheckinRepo(store)
        self.conversations = ConversationRepo(store)
        self.guilds = GuildRepo(store)
        self.audit = AuditRepo(store)
        self._stop = threading.Event()
        self._close_lock = threading.Lock()
        self._closed = False
        self._last_backup = _last_backup_time(self.data_dir)
        self.last_flush_error: str | None = None
        self._thread = threading.Thread(target=self._run, name="storage-flusher", daemon=True)

    @classmethod
    def open(cls, data_dir: Path, *, flush_interval: float = 0.5, backup_count: int = 5,
             backup_interval: float = 3600.0) -> Storage:
        """Load the database in `data_dir` (creating it if new) and start the flusher.

        Raises StorageError, after moving any unreadable file aside as `<name>.corrupt-<UTC time>`;
        opening again then starts those parts empty (and the caller should log that it did).
        """
        if not flush_interval > 0:
            raise ValueError("flush_interval is a number of seconds above 0 (the bot uses at most 1).")
        if isinstance(backup_count, bool) or not isinstance(backup_count, int) or backup_count < 0:
            raise ValueError("backup_count is a whole number of backups to keep, 0 to turn backups off.")
        if not backup_interval > 0:
            raise ValueError("backup_interval is a number of seconds above 0.")
        store = DocumentStore(Path(data_dir))
        store.load()
        staging = store.data_dir / BACKUP_DIR
        for leftover in staging.glob(".staging-*") if staging.is_dir() else ():
            shutil.rmtree(leftover, ignore_errors=True)
        storage = cls(store, flush_interval=flush_interval, backup_count=backup_count,
                      backup_interval=backup_interval)
        storage._thread.start()
        atexit.register(storage.close)
        return storage

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> Storage:
        """Open the database where the settings say, with their flush and backup choices."""
        if settings is None:
            from bot.config import get_settings

            settings = get_settings()
        return cls.open(settings.data_dir, flush_interval=settings.flush_interval,
                        backup_count=settings.backup_count, backup_interval=settings.backup_interval)

    # ----------------------------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        return self._closed

    def flush(self) -> int:
        """Write every changed file now (atomically); returns how many files were written."""
        return self._store.flush()

    def backup(self) -> Path | None:
        """Flush, then copy the database into backups/<UTC time>/, keeping the newest `backup_count`."""
        self.flush()
        made = make_backup(self.data_dir, self._store.paths(), self.backup_count)
        self._last_backup = time.time()
        if made is not None:
            log.info("Backed up the database to %s", made)
        return made

    def pending(self) -> bool:
        """Whether memory holds changes not yet on disk."""
        return self._store.dirty()

    def _run(self) -> None:
        # Back up before the first flush, so a file that a migration is about to rewrite is kept.
        self._maybe_backup()
        while not self._stop.wait(self.flush_interval):
            try:
                self.flush()
                self.last_flush_error = None
            except Exception as exc:
                # Keep running: the data is still in memory and the next tick retries the write.
                if str(exc) != self.last_flush_error:
                    log.error("Storage flush failed: %s", exc)
                self.last_flush_error = str(exc)
            self._maybe_backup()

    def _maybe_backup(self) -> None:
        if self.backup_count <= 0 or time.time() - self._last_backup < self.backup_interval:
            return
        if not self._store.paths():
            return
        try:
            self.backup()
        except Exception as exc:
            self._last_backup = time.time()
            log.error("Storage backup failed: %s", exc)

    def close(self) -> None:
        """Stop the flusher and write everything still in memory. Safe to call more than once."""
        with self._close_lock:
            if self._closed:
                return
            self._stop.set()
            if self._thread.is_alive() and self._thread is not threading.current_thread():
                self._thread.join()
            with self._store.lock:
                # From here on a change is refused rather than kept in memory and silently lost.
                self._store.closed = True
            self.flush()
            self._closed = True
            atexit.unregister(self.close)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def close_on_sigterm(self) -> None:
        """Turn SIGTERM into SystemExit, so `with` blocks and atexit close the storage (main thread only).

        Python's default for SIGTERM ends the process without running cleanup, which would lose the
        last flush window; SIGINT already raises KeyboardInterrupt and needs nothing.
        """

        def _exit(signum: int, frame: FrameType | None) -> None:
            raise SystemExit(128 + signum)

        signal.signal(signal.SIGTERM, _exit)

    # ----------------------------------------------------------------------------------------

    def forget_member(self, user_id: int) -> dict[str, int]:
        """Remove everything stored about one member; returns how much of each kind was removed.

        Deletes their profile, plan, check-ins and conversations. Audit entries they authored stay
        (a server needs its moderation history) but every field naming them is replaced by
        "forgotten-user". The change reaches the database file within one flush window; copies in
        backups/ age out as backups rotate (backup_count x backup_interval).
        """
        user_id = check_id(user_id)
        with self._store.lock:
            return {
                "profiles": int(self.profiles.delete(user_id)),
                "plans": int(self.plans.delete(user_id)),
                "checkins": self.checkins.delete(user_id),
                "conversations": self.conversations.delete_for_user(user_id),
                "audit_entries_anonymised": self.audit.anonymise(user_id),
            }


__all__ = ["Storage", "StorageError"]
