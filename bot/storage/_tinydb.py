"""TinyDB's file format on disk, written so that a crash can never leave a half-written database.

`AtomicJSONStorage` is a `tinydb.storages.Storage`: stock `TinyDB(path, storage=AtomicJSONStorage)`
opens our files for ad-hoc scripts. Every write goes to a temporary file in the same folder, is
flushed and fsynced, then `os.replace`d over the old file, and the folder is fsynced so the rename
itself survives a power cut. A reader therefore sees either the old complete file or the new one.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import shutil
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from tinydb.storages import Storage as TinyStorage

TEMP_SUFFIX = ".tmp"
BACKUP_DIR = "backups"


def utc_stamp(now: dt.datetime | None = None) -> str:
    """A UTC timestamp that sorts as text and is safe in a file name: 20260525T141600Z."""
    return (now or dt.datetime.now(dt.UTC)).strftime("%Y%m%dT%H%M%SZ")


def fsync_dir(folder: Path) -> None:
    """Make a rename in `folder` durable; a no-op where folders cannot be opened (Windows)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(path: Path, chunks: Iterable[bytes]) -> None:
    """Replace `path` with `chunks` so that the file is always either the old or the new content."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=TEMP_SUFFIX)
    try:
        with os.fdopen(fd, "wb") as handle:
            for chunk in chunks:
                handle.write(chunk)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    fsync_dir(path.parent)


def remove_stale_temps(folder: Path) -> list[Path]:
    """Delete temporary files a killed writer left behind: they are incomplete by construction."""
    removed = []
    for tmp in folder.glob(f".*{TEMP_SUFFIX}"):
        with contextlib.suppress(OSError):
            tmp.unlink()
            removed.append(tmp)
    return removed


def move_aside(path: Path, now: dt.datetime | None = None) -> Path:
    """Rename a bad file to `<name>.corrupt-<UTC timestamp>`, never over an earlier one."""
    target = path.with_name(f"{path.name}.corrupt-{utc_stamp(now)}")
    counter = 1
    while target.exists():
        target = path.with_name(f"{path.name}.corrupt-{utc_stamp(now)}-{counter}")
        counter += 1
    os.replace(path, target)
    fsync_dir(path.parent)
    return target


def encode_tables(tables: Mapping[str, Iterable[str]]) -> Iterable[bytes]:
    """TinyDB's JSON layout, {table: {doc_id: doc}}, assembled from ready-made `"doc_id":doc` fragments.

    Documents are kept encoded in memory, so a flush only joins strings: it never re-serialises the
    whole database in one long call that would hold the GIL and stall the event loop.
    """
    yield b"{"
    for index, (name, fragments) in enumerate(tables.items()):
        head = ("," if index else "") + json.dumps(name) + ":{"
        yield head.encode()
        yield ",".join(fragments).encode()
        yield b"}"
    yield b"}"


class AtomicJSONStorage(TinyStorage):
    """A TinyDB storage over one JSON file that is replaced atomically on every write."""

    def __init__(self, path: str | Path, create_dirs: bool = True, **kwargs: Any) -> None:
        super().__init__()
        self.path = Path(path)
        if create_dirs:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self.kwargs = kwargs

    def read(self) -> dict[str, dict[str, Any]] | None:
        """The whole database, or None for a missing or empty file (TinyDB's 'empty' signal)."""
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return None
        if not raw.strip():
            return None
        return json.loads(raw)

    def write(self, data: dict[str, dict[str, Any]]) -> None:
        text = json.dumps(data, separators=(",", ":"), **self.kwargs)
        atomic_write(self.path, [text.encode()])

    def write_fragments(self, tables: Mapping[str, Iterable[str]]) -> None:
        """Write tables given as `"doc_id":<json>` fragments (the flusher's fast path)."""
        atomic_write(self.path, encode_tables(tables))


def make_backup(data_dir: Path, files: Iterable[Path], keep: int, now: dt.datetime | None = None) -> Path | None:
    """Copy the database files into backups/<UTC timestamp>/ and keep only the newest `keep` copies.

    The copy is assembled under a temporary name and renamed into place, so a backup folder that
    exists is complete.
    """
    if keep <= 0:
        return None
    root = data_dir / BACKUP_DIR
    root.mkdir(parents=True, exist_ok=True)
    stamp = utc_stamp(now)
    final = root / stamp
    counter = 1
    while final.exists():
        final = root / f"{stamp}-{counter}"
        counter += 1
    staging = Path(tempfile.mkdtemp(dir=root, prefix=".staging-"))
    try:
        for source in files:
            if not source.exists():
                continue
            target = staging / source.relative_to(data_dir)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
        os.replace(staging, final)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    fsync_dir(root)
    for old in list_backups(data_dir)[:-keep]:
        shutil.rmtree(old, ignore_errors=True)
    return final


def list_backups(data_dir: Path) -> list[Path]:
    """Complete backup folders, oldest first."""
    root = data_dir / BACKUP_DIR
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))

