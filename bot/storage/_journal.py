"""The write-ahead journal: each flush appends only the documents that changed, so it costs what changed.

Rewriting a database file is proportional to its size (at 100,000 members with plans, rewriting every
file takes seconds), which would stretch the crash-loss window with the database. Instead the flusher
appends one line per flush to a journal segment and fsyncs it; compaction later folds the journal
into the TinyDB files (atomically, file by file) and deletes the segments it covered.

A line is ``<crc32 hex> <JSON array of [file index, table, doc id, document or null]>`` and a newline. A line
whose checksum fails can only be the tail of a write cut short by a crash (appends are sequential
and fsynced), so replay stops there; a bad line followed by good ones means real damage.
"""

from __future__ import annotations

import contextlib
import json
import os
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

from bot.storage._tinydb import fsync_dir

SUFFIX = ".log"


class JournalError(ValueError):
    """A journal segment damaged somewhere other than its last line."""

    def __init__(self, path: Path, message: str) -> None:
        super().__init__(f"{path.name}: {message}")
        self.path = path


def encode_line(ops_json: list[str]) -> bytes:
    """One flush's operations (each already a JSON array) as a checksummed journal line."""
    body = ("[" + ",".join(ops_json) + "]").encode()
    return b"%08x " % zlib.crc32(body) + body + b"\n"


def decode_line(line: bytes) -> list[list[Any]] | None:
    """The operations of a line, or None when it is incomplete or fails its checksum."""
    if not line.endswith(b"\n") or len(line) < 10 or line[8:9] != b" ":
        return None
    body = line[9:-1]
    try:
        if int(line[:8], 16) != zlib.crc32(body):
            return None
        ops = json.loads(body)
    except ValueError:
        return None
    return ops if isinstance(ops, list) else None


class Journal:
    """Numbered segment files in one folder; appends go to the newest segment."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.seq = 1
        self.bytes_since_rotate = 0
        self._handle: BinaryIO | None = None

    def segments(self) -> list[tuple[int, Path]]:
        if not self.folder.is_dir():
            return []
        found = []
        for path in self.folder.glob(f"*{SUFFIX}"):
            with contextlib.suppress(ValueError):
                found.append((int(path.stem), path))
        return sorted(found)

    def replay(self) -> Iterator[tuple[Path, list[Any]]]:
        """Every operation in every segment with the segment it came from, oldest first.

        Also moves the next segment number past every existing one.
        """
        for seq, path in self.segments():
            self.seq = max(self.seq, seq + 1)
            lines = path.read_bytes().splitlines(keepends=True)
            for index, line in enumerate(lines):
                ops = decode_line(line)
                if ops is None:
                    if index != len(lines) - 1:
                        raise JournalError(path, f"line {index + 1} of {len(lines)} is damaged")
                    break  # the torn tail of a write a crash cut short: never acknowledged as durable
                for op in ops:
                    yield path, op

    def append(self, line: bytes) -> None:
        """Append one line and make it durable before returning."""
        if self._handle is None:
            self.folder.mkdir(parents=True, exist_ok=True)
            path = self.folder / f"{self.seq:012d}{SUFFIX}"
            is_new = not path.exists()
            self._handle = open(path, "ab")  # noqa: SIM115 - kept open across flushes, closed in rotate()
            if is_new:
                fsync_dir(self.folder)
        self._handle.write(line)
        self._handle.flush()
        os.fsync(self._handle.fileno())
        self.bytes_since_rotate += len(line)

    def rotate(self) -> int:
        """Start a new segment for later appends; returns the number of the last closed one."""
        if self._handle is not None:
            self._handle.close()
            self._handle = None
        closed = self.seq
        self.seq += 1
        self.bytes_since_rotate = 0
        return closed

    def drop_through(self, seq: int) -> None:
        """Delete segments up to and including `seq`: compaction has put their content in the files."""
        for number, path in self.segments():
            if number <= seq:
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()
        if self.folder.is_dir():
            fsync_dir(self.folder)

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None
