"""One process per TinyDB folder: an exclusive lock on DATA_DIR held for the life of the storage.

TinyDB mode keeps the database in memory and writes it behind, so two processes on one folder would
each overwrite the other's files (the issue measured 1,000 profiles saved and about 500 found). The
lock is an OS file lock (`filelock`), so it is released by the kernel when the process dies, even
by kill -9: a stale lock file never blocks a restart. Who holds it is written beside it, so the
refusal can name the other process.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import socket
from pathlib import Path

from filelock import FileLock, Timeout

from bot.storage._store import StorageError

LOCK_FILE = ".legday.lock"
OWNER_FILE = ".legday.lock.owner"


class DataDirBusy(StorageError):
    """Another process holds the TinyDB folder; the message names it and points at DATABASE_URL."""


def _describe_owner(data_dir: Path) -> str:
    try:
        owner = json.loads((data_dir / OWNER_FILE).read_text())
        return (f"process {int(owner['pid'])} on {str(owner['host'])[:64]}, "
                f"started {str(owner['started'])[:20]}")
    except (OSError, ValueError, KeyError, TypeError):
        return "another process (its details could not be read)"


class DataDirLock:
    """The exclusive lock on one data folder; `acquire()` raises DataDirBusy when it is taken."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = Path(data_dir)
        self._lock = FileLock(self.data_dir / LOCK_FILE, timeout=0, thread_local=False)

    def acquire(self) -> None:
        """Take the lock now or refuse; never waits, so a second bot fails fast with a clear message."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        try:
            self._lock.acquire(timeout=0)
        except Timeout:
            raise DataDirBusy(
                f"The data folder {self.data_dir} is already in use by {_describe_owner(self.data_dir)}.\n"
                "TinyDB storage serves one process at a time (a second one would overwrite the first's "
                "data). Stop the other process, give this one its own DATA_DIR, or set DATABASE_URL to a "
                "PostgreSQL database to run several processes (README: Running several processes)."
            ) from None
        started = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
        owner = {"pid": os.getpid(), "host": socket.gethostname(), "started": started}
        with contextlib.suppress(OSError):
            (self.data_dir / OWNER_FILE).write_text(json.dumps(owner))

    def release(self) -> None:
        """Let another process open the folder (the kernel also does this when the process ends)."""
        if self._lock.is_locked:
            with contextlib.suppress(OSError):
                (self.data_dir / OWNER_FILE).unlink()
            self._lock.release(force=True)

    @property
    def held(self) -> bool:
        return self._lock.is_locked
