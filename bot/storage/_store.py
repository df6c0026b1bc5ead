"""The in-memory document store behind the repositories: TinyDB files loaded once, written behind.

Why not TinyDB's own `Table` API on the hot path: every `Table` write reads the whole table, rebuilds
its key map and rewrites the whole file (the 34 ms per upsert at 10,000 documents measured in the
issue), and it writes in place. So TinyDB supplies the file format and the `Storage` interface
(`AtomicJSONStorage`), and this module keeps the documents in memory in TinyDB's own layout,
``{table: {str(doc_id): document}}``, with Discord ids as doc ids. A read or a write is then one dict
lookup, whatever the number of members.

Layout on disk (all TinyDB files):

- ``legday.json``: ``_meta``, ``guilds``, ``audit``, ``conversations`` and ``tombstones`` (see `forget_member`);
- ``members/members-NN.json``: ``profiles``, ``plans``, ``checkins`` and ``reminders`` for the members whose id
  hashes to NN (``MEMBER_FILES`` files). Splitting members keeps a compaction proportional to what
  changed: a plan save rewrites one file of 1/64th of the members, not every member's plan. All of
  one member's documents live in the same file, so each member's state is written atomically;
- ``journal/NNNNNNNNNNNN.log``: changes not yet folded into the files (see below).

Documents are held encoded (compact JSON text): memory stays small, and a compaction only joins strings
(see `encode_tables`) instead of serialising the whole database in one GIL-holding call.

Write-behind, in two steps (threads in the facade):

- `flush()`, every `flush_interval` seconds: the documents changed since the last flush are appended
  to the journal (`_journal.py`) and fsynced. Its cost follows the number of changes, not the size of
  the database, which is what bounds the crash-loss window at any size.
- `compact()`, every `compact_interval` seconds or when the journal grows: each changed file is
  rewritten atomically from a snapshot, then the journal segments it covered are deleted.

Both take their snapshot under `lock` (a shallow copy: documents are immutable strings, so nothing is
ever seen half-updated) and do the disk work outside it, so callers never wait on the disk. Loading
reads the files, then replays the journal over them.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.storage._journal import Journal, JournalError, encode_line
from bot.storage._migrations import SCHEMA, MigrationError, migrate
from bot.storage._tinydb import AtomicJSONStorage, move_aside, remove_stale_temps

log = logging.getLogger("bot.storage")

MAIN_FILE = "legday.json"
MEMBERS_DIR = "members"
JOURNAL_DIR = "journal"
MEMBER_FILES = 64
MEMBER_TABLES = ("profiles", "plans", "checkins", "reminders")
MAIN_TABLES = ("_meta", "guilds", "audit", "conversations", "tombstones")
FORMAT = 1
# Fibonacci hashing: Discord snowflakes' low bits are a per-millisecond counter that is mostly 0, so
# `id % 64` would pile members into one file; the top bits of id * 2^64/phi spread them evenly.
_GOLDEN = 0x9E3779B97F4A7C15
_MASK64 = (1 << 64) - 1


class StorageError(RuntimeError):
    """The database cannot be opened or written; the message says what happened and what to do."""


class DatabaseUnavailable(StorageError):
    """The database server cannot be reached; str() is the polite message for members, `detail` the log's."""

    def __init__(self, detail: str) -> None:
        super().__init__("I can't reach my database right now, so nothing was saved. "
                         "Please try again in a minute.")
        self.detail = detail


class MemberForgotten(StorageError):
    """A write for a member that began before they asked to be forgotten: refused, so nothing comes back."""

    def __init__(self, forgotten_at: dt.datetime) -> None:
        self.forgotten_at = forgotten_at
        super().__init__(
            f"You asked me to forget you at {forgotten_at:%H:%M} UTC on {forgotten_at:%d %b %Y}, after this "
            "was started, so I didn't save it. Start again with /plan whenever you like."
        )


def encode(doc: dict[str, Any]) -> str:
    """One document as compact JSON; ASCII-only so any text a member typed can always be written."""
    try:
        return json.dumps(doc, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"Only JSON values can be stored (text, numbers, true/false, null, lists, dicts): {exc}"
        ) from None


def check_id(value: Any, what: str = "user id") -> int:
    """A Discord id as an int; anything else is refused with a message saying what is accepted."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError(f"A Discord {what} is a positive whole number, not {type(value).__name__}.")
    try:
        number = int(value)
    except ValueError:
        raise ValueError(f"A Discord {what} is a positive whole number, not {str(value)[:30]!r}.") from None
    if not 0 < number < 1 << 64:
        raise ValueError(f"A Discord {what} is a positive whole number below 2^64, not {number}.")
    return number


def key_doc_id(key: str) -> int:
    """A stable integer doc id for a string key (TinyDB doc ids are integers)."""
    return int.from_bytes(hashlib.blake2b(key.encode("utf-8", "surrogatepass"), digest_size=8).digest()) >> 1


def fragment(key: str, text: str) -> str:
    """A document as it appears inside its table in the file: `"<doc id>":<json>`.

    Holding documents in this form makes a compaction one `str.join` per table, with no per-document work.
    """
    return f'"{key}":{text}'


@dataclass
class DbFile:
    """One TinyDB file: its documents per table (as file fragments), and whether memory is ahead of disk."""

    index: int
    storage: AtomicJSONStorage
    tables: dict[str, dict[str, str]]
    dirty: bool = False


class DocumentStore:
    """Every stored document, in memory, with a journal of changes and atomic rewrites of each file."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = Path(data_dir)
        # `lock` guards every document; `_gate` lets a background flush cut in (see `exclusive`).
        self.lock = threading.RLock()
        self._gate = threading.Lock()
        self._depth = threading.local()
        self.closed = False
        self._journal_lock = threading.Lock()
        self._compact_lock = threading.Lock()
        self.journal = Journal(self.data_dir / JOURNAL_DIR)
        # (file index, table, doc id) of every document changed since the last flush, in order.
        self._pending: dict[tuple[int, str, str], None] = {}
        self.main = DbFile(0, AtomicJSONStorage(self.data_dir / MAIN_FILE), {t: {} for t in MAIN_TABLES})
        self.members = [
            DbFile(n + 1, AtomicJSONStorage(self.data_dir / MEMBERS_DIR / f"members-{n:02d}.json"),
                   {t: {} for t in MEMBER_TABLES})
            for n in range(MEMBER_FILES)
        ]
        self.files = [self.main, *self.members]

    @contextlib.contextmanager
    def mutating(self) -> Iterator[None]:
        """Hold the lock for a change (or a read-modify-write); nests within one thread."""
        depth = getattr(self._depth, "value", 0)
        if depth == 0:
            # Wait here while a background flush holds the gate, so it gets the lock next.
            with self._gate:
                pass
        with self.lock:
            self._depth.value = depth + 1
            try:
                yield
            finally:
                self._depth.value = depth

    @contextlib.contextmanager
    def exclusive(self) -> Iterator[None]:
        """The lock for the flusher and compactor: writers queue at the gate until it is theirs.

        Python's locks are not fair: a thread changing documents in a tight loop re-takes the lock
        before a waiting flusher wakes, and the measured crash-loss window stretched to a second.
        """
        with self._gate, self.lock:
            yield

    def member_file(self, user_id: int) -> DbFile:
        return self.members[((user_id * _GOLDEN) & _MASK64) >> 58]

    # ----------------------------------------------------------------------------------------
    # Loading

    def load(self) -> None:
        """Read every file, migrating old documents; bad files are moved aside and reported together."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        (self.data_dir / MEMBERS_DIR).mkdir(exist_ok=True)
        for folder in (self.data_dir, self.data_dir / MEMBERS_DIR):
            for tmp in remove_stale_temps(folder):
                log.info("Removed %s, left by a write that was interrupted", tmp.name)
        problems: list[str] = []
        for db in self.files:
            try:
                self._load_file(db)
            except MigrationError as exc:
                # The file is sound but this code cannot read it: keep it where it is, untouched.
                raise StorageError(f"{db.storage.path}: {exc}") from None
            except (OSError, ValueError, TypeError, AttributeError) as exc:
                problems.append(self._set_aside(db, exc))
        if not problems:
            try:
                self._replay_journal()
            except JournalError as exc:
                problems.append(self._set_journal_aside(exc))
        if problems:
            raise StorageError(
                "The database could not be loaded, so the bad files were kept aside and nothing was "
                "overwritten:\n" + "\n".join(problems) + "\nOpen the storage again to start those parts "
                f"empty, or copy a backup from {self.data_dir / 'backups'} back in place first."
            )
        meta = self.get(self.main, "_meta", 1)
        if meta is None:
            self.put(self.main, "_meta", 1, {"format": FORMAT, "member_files": MEMBER_FILES})
        elif meta.get("member_files") != MEMBER_FILES:
            raise StorageError(
                f"{self.data_dir} was written with {meta.get('member_files')} member files; "
                f"this LegDay uses {MEMBER_FILES}."
            )

    def _set_aside(self, db: DbFile, exc: BaseException) -> str:
        path = db.storage.path
        reason = f"{type(exc).__name__}: {exc}"[:300]
        try:
            moved = move_aside(path)
        except OSError as move_exc:
            raise StorageError(
                f"{path} could not be read ({reason}) nor moved aside ({move_exc}); "
                "fix or move it by hand, nothing was changed."
            ) from None
        log.error("Database file %s is unreadable (%s); kept it as %s", path, reason, moved.name)
        db.tables = {name: {} for name in db.tables}
        return f"- {path.name}: {reason}; kept as {moved}"

    def _set_journal_aside(self, exc: JournalError) -> str:
        try:
            moved = move_aside(exc.path)
        except OSError as move_exc:
            raise StorageError(f"{exc} and could not be moved aside ({move_exc}); nothing was changed.") from None
        log.error("Journal segment damaged (%s); kept it as %s", exc, moved.name)
        return f"- journal {exc}; kept as {moved}"

    def _replay_journal(self) -> None:
        """Apply the journal's changes over the loaded files; the files they touch await compaction."""
        replayed = 0
        for path, op in self.journal.replay():
            try:
                index, table, key, doc = op
                bad_doc = doc is not None and not isinstance(doc, dict)
                if not 0 <= index < len(self.files) or not isinstance(table, str) or bad_doc:
                    raise ValueError(f"entry {str(op)[:80]} does not fit this database")
                db = self.files[index]
                int(key)
                if doc is None:
                    db.tables.get(table, {}).pop(key, None)
                else:
                    if table in SCHEMA:
                        doc, _ = migrate(table, doc)
                    db.tables.setdefault(table, {})[key] = fragment(key, encode(doc))
            except MigrationError as exc:
                raise StorageError(f"{path}: {exc}") from None
            except (TypeError, ValueError) as exc:
                raise JournalError(path, f"an entry is malformed ({exc})") from None
            db.dirty = True
            replayed += 1
        if replayed:
            log.info("Replayed %d changes from the journal", replayed)

    def _load_file(self, db: DbFile) -> None:
        data = db.storage.read()
        if data is None:
            return
        if not isinstance(data, dict):
            raise ValueError(f"expected a JSON object of tables, found {type(data).__name__}")
        tables: dict[str, dict[str, str]] = {name: {} for name in db.tables}
        changed = False
        for name, docs in data.items():
            if not isinstance(docs, dict):
                raise ValueError(f"table {name!r} is not a JSON object")
            table = tables.setdefault(name, {})
            for doc_id, doc in docs.items():
                int(doc_id)  # TinyDB doc ids are integers; anything else means a damaged file
                if not isinstance(doc, dict):
                    raise ValueError(f"document {name}/{doc_id} is not a JSON object")
                if name in SCHEMA:
                    doc, migrated = migrate(name, doc)
                    changed = changed or migrated
                table[doc_id] = fragment(doc_id, encode(doc))
        db.tables = tables
        db.dirty = changed
        if changed:
            log.info("Migrated documents in %s to the current schema; they are rewritten at the next compaction",
                     db.storage.path.name)

    # ----------------------------------------------------------------------------------------
    # Documents (callers hold `lock` around read-modify-write sequences)

    def get(self, db: DbFile, table: str, doc_id: int) -> dict[str, Any] | None:
        key = str(doc_id)
        raw = db.tables[table].get(key)
        return None if raw is None else json.loads(raw[len(key) + 3:])

    def put(self, db: DbFile, table: str, doc_id: int, doc: dict[str, Any]) -> None:
        doc = {**doc, "schema": SCHEMA[table]}
        text = encode(doc)
        with self.mutating():
            self._check_open()
            db.tables[table][str(doc_id)] = fragment(str(doc_id), text)
            db.dirty = True
            self._pending[db.index, table, str(doc_id)] = None

    def remove(self, db: DbFile, table: str, doc_id: int) -> bool:
        with self.mutating():
            self._check_open()
            found = db.tables[table].pop(str(doc_id), None) is not None
            if found:
                db.dirty = True
                self._pending[db.index, table, str(doc_id)] = None
            return found

    def _check_open(self) -> None:
        if self.closed:
            raise StorageError("The storage is closed (the bot is shutting down); this change was not saved.")

    def snapshot(self, db: DbFile, table: str) -> list[tuple[int, str]]:
        """The table's documents (JSON text) at this moment, for iterating without holding the lock."""
        with self.lock:
            return [(int(key), raw[len(key) + 3:]) for key, raw in db.tables[table].items()]

    def iter_table(self, table: str) -> Iterator[tuple[int, dict[str, Any]]]:
        files = self.members if table in MEMBER_TABLES else [self.main]
        for db in files:
            for doc_id, raw in self.snapshot(db, table):
                yield doc_id, json.loads(raw)

    def count(self, table: str) -> int:
        files = self.members if table in MEMBER_TABLES else [self.main]
        with self.lock:
            return sum(len(db.tables[table]) for db in files)

    # ----------------------------------------------------------------------------------------
    # Writing

    def pending(self) -> bool:
        """Whether there are changes the journal does not hold yet."""
        with self.lock:
            return bool(self._pending)

    def flush(self) -> int:
        """Append every change since the last flush to the journal and fsync it; returns how many."""
        with self._journal_lock:
            with self.exclusive():
                if not self._pending:
                    return 0
                keys, self._pending = self._pending, {}
                ops = []
                for index, table, key in keys:
                    raw = self.files[index].tables.get(table, {}).get(key)
                    doc = "null" if raw is None else raw[len(key) + 3:]
                    ops.append(f'[{index},{json.dumps(table)},"{key}",{doc}]')
            try:
                self.journal.append(encode_line(ops))
            except Exception as exc:
                with self.exclusive():
                    # Put the keys back, ahead of anything changed meanwhile, for the next attempt.
                    self._pending = {**keys, **self._pending}
                raise StorageError(f"Could not write the journal (will retry): {type(exc).__name__}: {exc}") \
                    from None
        return len(ops)

    def journal_bytes(self) -> int:
        return self.journal.bytes_since_rotate

    def compact(self) -> int:
        """Rewrite every changed file atomically, then drop the journal they now contain; returns files written."""
        with self._compact_lock:
            with self._journal_lock, self.exclusive():
                covered = self.journal.rotate()
                work = [(db, {name: list(docs.values()) for name, docs in db.tables.items()})
                        for db in self.files if db.dirty]
                for db, _ in work:
                    db.dirty = False
            failures: list[str] = []
            for db, snapshot in work:
                try:
                    db.storage.path.parent.mkdir(parents=True, exist_ok=True)
                    db.storage.write_fragments(snapshot)
                except Exception as exc:
                    with self.exclusive():
                        db.dirty = True
                    failures.append(f"{db.storage.path.name}: {type(exc).__name__}: {exc}")
            if failures:
                # The journal still holds every change, so nothing is lost; the next compaction retries.
                raise StorageError("Could not rewrite database files (will retry): " + "; ".join(failures))
            self.journal.drop_through(covered)
        return len(work)

    def close_journal(self) -> None:
        with self._journal_lock:
            self.journal.close()

    def paths(self) -> list[Path]:
        """Files that exist on disk now (for backups)."""
        return [db.storage.path for db in self.files if db.storage.path.exists()]
