"""The `Storage` facade: opens the database, runs the write-behind flusher, and closes it safely.

Durability, stated: every call returns once memory holds the change; the flusher thread appends the
changes to the journal and fsyncs it every `flush_interval` seconds (default 0.5 s, at most 1 s in
the bot's settings). A hard kill therefore loses at most the changes of the last flush window:
`flush_interval` plus one journal append (milliseconds, and proportional to the changes, not to the
database; see bench/). The compactor thread folds the journal into the database files every
`compact_interval` seconds, or sooner when the journal grows past `COMPACT_BYTES`. `close()`,
leaving a `with` block, normal interpreter exit (atexit) and SIGTERM (after `close_on_sigterm()`)
lose nothing and leave the files complete with an empty journal.

Both workers are `threading.Thread`s, not asyncio tasks, so synchronous callers (the terminal
console, the CLI) get the same behaviour as the Discord bot.
"""

from __future__ import annotations

import atexit
import datetime as dt
import json
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
    ReminderRepo,
    Tombstones,
    scrub_backup,
)
from bot.storage._lock import DataDirBusy, DataDirLock
from bot.storage._migrations import unpack_bytes
from bot.storage._repos import ForgetReceipt, JSONDict, export_document
from bot.storage._store import DocumentStore, StorageError, check_id
from bot.storage._tinydb import BACKUP_DIR, list_backups, make_backup

if TYPE_CHECKING:
    from bot.config import Settings

log = logging.getLogger("bot.storage")

# Compact early when the journal holds this much, so replay at start-up stays quick.
COMPACT_BYTES = 16 * 1024 * 1024


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

    Repositories: `profiles`, `plans`, `checkins`, `reminders`, `conversations`, `guilds`, `audit` (see the
    protocols in `bot.storage._repos`). Their calls touch only memory and are safe on the event loop;
    `open()`, `flush()`, `compact()`, `backup()` and `close()` do disk I/O (call them at start-up, at shutdown,
    or through `asyncio.to_thread`).
    """

    def __init__(self, store: DocumentStore, *, flush_interval: float, backup_count: int,
                 backup_interval: float, compact_interval: float) -> None:
        self._store = store
        self.data_dir = store.data_dir
        self.flush_interval = flush_interval
        self.backup_count = backup_count
        self.backup_interval = backup_interval
        self.compact_interval = compact_interval
        self.profiles = ProfileRepo(store)
        self.plans = PlanRepo(store)
        self.checkins = CheckinRepo(store)
        self.reminders = ReminderRepo(store)
        self.conversations = ConversationRepo(store)
        self.audit = AuditRepo(store)
        self.guilds = GuildRepo(store, self.audit)
        self.tombstones = Tombstones(store)
        self._stop = threading.Event()
        self._close_lock = threading.Lock()
        self._closed = False
        self._last_backup = _last_backup_time(self.data_dir)
        self._lock: DataDirLock | None = None
        self.last_error: str | None = None
        self._compact_soon = threading.Event()
        self._flusher = threading.Thread(target=self._run_flusher, name="storage-flusher", daemon=True)
        self._compactor = threading.Thread(target=self._run_compactor, name="storage-compactor", daemon=True)

    @classmethod
    def open(cls, data_dir: Path, *, flush_interval: float = 0.5, backup_count: int = 5,
             backup_interval: float = 3600.0, compact_interval: float = 30.0) -> Storage:
        """Load the database in `data_dir` (creating it if new) and start the flusher.

        Takes the folder's exclusive lock first: a second process on the same folder gets DataDirBusy
        (a StorageError naming the other process). Raises StorageError, after moving any unreadable
        file aside as `<name>.corrupt-<UTC time>`;
        opening again then starts those parts empty (and the caller should log that it did).
        """
        if not flush_interval > 0:
            raise ValueError("flush_interval is a number of seconds above 0 (the bot uses at most 1).")
        if isinstance(backup_count, bool) or not isinstance(backup_count, int) or backup_count < 0:
            raise ValueError("backup_count is a whole number of backups to keep, 0 to turn backups off.")
        if not backup_interval > 0:
            raise ValueError("backup_interval is a number of seconds above 0.")
        if not compact_interval > 0:
            raise ValueError("compact_interval is a number of seconds above 0.")
        lock = DataDirLock(Path(data_dir))
        lock.acquire()
        try:
            store = DocumentStore(Path(data_dir))
            store.load()
        except BaseException:
            lock.release()
            raise
        staging = store.data_dir / BACKUP_DIR
        for leftover in staging.glob(".staging-*") if staging.is_dir() else ():
            shutil.rmtree(leftover, ignore_errors=True)
        storage = cls(store, flush_interval=flush_interval, backup_count=backup_count,
                      backup_interval=backup_interval, compact_interval=compact_interval)
        storage._lock = lock
        storage._flusher.start()
        storage._compactor.start()
        atexit.register(storage.close)
        return storage

    @classmethod
    def from_settings(cls, settings: Settings | None = None, *, recover: bool = False) -> Storage:
        """Open the database where the settings say, with their flush and backup choices.

        With `recover`, a damaged file (already moved aside by `open` with a timestamp) is reported in the
        log and the database starts without it, as a running bot should; anything else still raises.
        """
        if settings is None:
            from bot.config import get_settings

            settings = get_settings()

        def attempt() -> Storage:
            return cls.open(settings.data_dir, flush_interval=settings.flush_interval,
                            backup_count=settings.backup_count, backup_interval=settings.backup_interval,
                            compact_interval=settings.compact_interval)

        try:
            return attempt()
        except DataDirBusy:
            raise  # nothing is damaged: another process has the folder, and retrying cannot help
        except StorageError as exc:
            if not recover:
                raise
            logging.getLogger("legday.storage").error(
                "%s The damaged file was kept aside; starting without it (restore from backups/ if needed).", exc)
            return attempt()

    # ----------------------------------------------------------------------------------------

    backend = "tinydb"

    @property
    def sync(self) -> Storage:
        """Plain (blocking) calls: TinyDB's calls already are, so this is the storage itself."""
        return self

    @property
    def closed(self) -> bool:
        return self._closed

    def flush(self) -> int:
        """Make every change so far durable now (a journal append); returns how many documents."""
        return self._store.flush()

    def compact(self) -> int:
        """Rewrite the changed database files now and empty the journal; returns how many files."""
        return self._store.compact()

    def backup(self) -> Path | None:
        """Compact, then copy the database files into backups/<UTC time>/, keeping `backup_count`."""
        self.compact()
        made = make_backup(self.data_dir, self._store.paths(), self.backup_count)
        self._last_backup = time.time()
        if made is not None:
            log.info("Backed up the database to %s", made)
        return made

    def pending(self) -> bool:
        """Whether memory holds changes not yet durable on disk."""
        return self._store.pending()

    def _report(self, what: str, exc: Exception | None) -> None:
        # Keep running on errors (the data is in memory, the next tick retries); log each new one once.
        text = None if exc is None else f"{what} failed: {exc}"
        if text and text != self.last_error:
            log.error("Storage %s", text)
        self.last_error = text

    def _run_flusher(self) -> None:
        while not self._stop.wait(self.flush_interval):
            try:
                self.flush()
                self._report("flush", None)
            except Exception as exc:
                self._report("flush", exc)
            if self._store.journal_bytes() > COMPACT_BYTES:
                self._compact_soon.set()

    def _run_compactor(self) -> None:
        # Back up before the first compaction, so a file that a migration is about to rewrite is kept.
        self._maybe_backup()
        last = time.monotonic()
        while not self._stop.is_set():
            self._compact_soon.wait(min(1.0, self.compact_interval))
            if self._stop.is_set():
                return
            if self._compact_soon.is_set() or time.monotonic() - last >= self.compact_interval:
                self._compact_soon.clear()
                last = time.monotonic()
                try:
                    self.compact()
                except Exception as exc:
                    self._report("compaction", exc)
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
            self._compact_soon.set()
            for worker in (self._flusher, self._compactor):
                if worker.is_alive() and worker is not threading.current_thread():
                    worker.join()
            with self._store.exclusive():
                # From here on a change is refused rather than kept in memory and silently lost.
                self._store.closed = True
            self.flush()
            self.compact()
            self._store.close_journal()
            self._closed = True
            if self._lock is not None:
                self._lock.release()
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

    def forget_member(self, user_id: int) -> ForgetReceipt:
        """Remove everything stored about one member, on disk and in backups too; says what and when.

        Deletes their profile, plan, check-ins, reminder schedule and conversations and records a tombstone (a hash of
        their id and the time), so a write begun before this moment (a stale view, an in-flight /plan, a
        pending conversation) is refused with MemberForgotten instead of bringing the data back. Audit
        entries they authored stay (a server needs its moderation history) but every field naming them
        becomes "forgotten-user". Then the database files are rewritten and the journal emptied, and
        every backup is rewritten without them, before this returns: disk I/O, so call it off the
        event loop (`asyncio.to_thread`).
        """
        user_id = check_id(user_id)
        with self._store.mutating():
            at = dt.datetime.now(dt.UTC)
            self.tombstones.mark(user_id, at)
            counts = {
                "profiles": int(self.profiles.delete(user_id)),
                "plans": int(self.plans.delete(user_id)),
                "checkins": self.checkins.delete(user_id),
                "reminders": int(self.reminders.delete(user_id)),
                "conversations": self.conversations.delete_for_user(user_id),
                "audit_entries_anonymised": self.audit.anonymise(user_id),
            }
        self.compact()
        rewritten = sum(scrub_backup(folder, user_id, self._store.member_file(user_id).storage.path
                                     .relative_to(self.data_dir)) for folder in list_backups(self.data_dir))
        return ForgetReceipt(forgotten_at=at, backups_rewritten=rewritten, **counts)

    def export_member(self, user_id: int) -> JSONDict:
        """Everything stored about one member, as one JSON document (see `export_document`)."""
        user_id = check_id(user_id)
        store = self._store
        db = store.member_file(user_id)
        with store.lock:
            profile = store.get(db, "profiles", user_id)
            plan = store.get(db, "plans", user_id)
            conversations = [{"key": doc["key"], "state": doc["state"]}
                             for _, doc in store.iter_table("conversations") if doc.get("user_id") == user_id]
            return export_document(
                user_id,
                profile=None if profile is None else profile.get("profile"),
                servers=[] if profile is None else list(profile.get("guilds", [])),
                plan=None if plan is None else json.loads(unpack_bytes(plan["plan_z"])),
                checkins=self.checkins.list(user_id),
                reminders=self.reminders.get(user_id),
                conversations=conversations,
            )


__all__ = ["Storage", "StorageError"]
