"""The TinyDB-backed repositories: each collection's calls, over the in-memory document store.

Every call here touches only memory (a dict lookup and a small JSON encode or decode), so it is
safe to call from the event loop; the disk is written by the flusher thread.
"""

from __future__ import annotations

import bisect
import copy
import datetime as dt
import heapq
import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from bot.models import Plan, Profile
from bot.storage._migrations import pack, unpack_bytes
from bot.storage._repos import FORGOTTEN_USER, GUILD_DEFAULTS, JSONDict, is_stale, write_origin
from bot.storage._store import MAIN_FILE, DocumentStore, MemberForgotten, check_id, encode, key_doc_id
from bot.storage._tinydb import AtomicJSONStorage

log = logging.getLogger("bot.storage")

MAX_KEY_LENGTH = 200


def check_conversation_key(key: Any) -> str:
    """A conversation key as both backends store it: text of 1 to MAX_KEY_LENGTH characters."""
    if not isinstance(key, str) or not key or len(key) > MAX_KEY_LENGTH:
        raise ValueError(f"A conversation key is text of 1 to {MAX_KEY_LENGTH} characters, like 'dm:<user id>'.")
    return key


# Entry fields that name a member; "forget me" replaces the member's id in these with FORGOTTEN_USER.
AUDIT_PERSON_FIELDS = ("user_id", "actor_id", "author_id", "moderator_id", "member_id")


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")


def _check_dict(value: Any, what: str) -> JSONDict:
    if not isinstance(value, dict):
        raise ValueError(f"A {what} must be a dict of JSON values, not {type(value).__name__}.")
    return value


def _parse_time(value: Any) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def tombstone_id(user_id: int) -> int:
    """The tombstone's doc id: a hash, so the tombstone does not keep the member's id in clear."""
    return key_doc_id(f"forgotten:{user_id}")


class Tombstones:
    """When each forgotten member asked to be forgotten, so work begun earlier cannot write them back."""

    def __init__(self, store: DocumentStore) -> None:
        self._store = store

    def forgotten_at(self, user_id: int) -> dt.datetime | None:
        doc = self._store.get(self._store.main, "tombstones", tombstone_id(user_id))
        return None if doc is None else _parse_time(doc.get("at"))

    def mark(self, user_id: int, at: dt.datetime) -> None:
        self._store.put(self._store.main, "tombstones", tombstone_id(user_id), {"at": at.isoformat()})

    def guard(self, user_id: int, *origins: dt.datetime | None) -> None:
        """Raise MemberForgotten when this write began before the member's forget (call under the lock)."""
        at = self.forgotten_at(user_id)
        if at is not None and any(is_stale(origin, at) for origin in (write_origin(), *origins)):
            raise MemberForgotten(at)


class ProfileRepo:
    """Profiles in the member files, one document per Discord user id."""

    def __init__(self, store: DocumentStore) -> None:
        self._store = store
        self._tombstones = Tombstones(store)

    def get(self, user_id: int) -> Profile | None:
        user_id = check_id(user_id)
        doc = self._store.get(self._store.member_file(user_id), "profiles", user_id)
        if doc is None:
            return None
        try:
            return Profile.model_validate(doc["profile"])
        except (ValidationError, KeyError) as exc:
            # A profile that no longer fits the vocabulary: the member is asked again, not crashed on.
            log.warning("Stored profile of %s no longer validates: %s", user_id, exc)
            return None

    def save(self, user_id: int, profile: Profile, guild_id: int | None = None) -> None:
        """Store a member's profile; `guild_id` adds a server they made a plan in (kept across saves).

        Moderators' impact previews count a server's members only, through `all(guild_id)`.
        """
        user_id = check_id(user_id)
        if not isinstance(profile, Profile):
            raise ValueError(f"profiles.save takes a Profile, not {type(profile).__name__}.")
        if guild_id is not None:
            guild_id = check_id(guild_id, "server id")
        path = self._store.member_file(user_id)
        with self._store.mutating():
            self._tombstones.guard(user_id)
            old = self._store.get(path, "profiles", user_id) or {}
            guilds = set(old.get("guilds", []))
            if guild_id is not None:
                guilds.add(guild_id)
            doc = {"profile": profile.model_dump(mode="json"), "saved_at": now_iso(), "guilds": sorted(guilds)}
            self._store.put(path, "profiles", user_id, doc)

    def delete(self, user_id: int) -> bool:
        user_id = check_id(user_id)
        return self._store.remove(self._store.member_file(user_id), "profiles", user_id)

    def all(self, guild_id: int | None = None) -> Iterator[tuple[int, Profile]]:
        """Every stored profile, or those of members who planned in `guild_id`.

        Read from a snapshot taken file by file, so it is safe while others write.
        """
        for user_id, doc in self._store.iter_table("profiles"):
            if guild_id is not None and guild_id not in doc.get("guilds", ()):
                continue
            try:
                yield user_id, Profile.model_validate(doc["profile"])
            except (ValidationError, KeyError) as exc:
                log.warning("Skipping stored profile of %s that no longer validates: %s", user_id, exc)

    def count(self) -> int:
        return self._store.count("profiles")


class PlanRepo:
    """Each member's latest plan, packed (deflated JSON) because a plan is 20-40 KB as plain JSON."""

    def __init__(self, store: DocumentStore) -> None:
        self._store = store
        self._tombstones = Tombstones(store)

    def latest(self, user_id: int) -> Plan | None:
        user_id = check_id(user_id)
        doc = self._store.get(self._store.member_file(user_id), "plans", user_id)
        if doc is None:
            return None
        try:
            return Plan.model_validate_json(unpack_bytes(doc["plan_z"]))
        except (ValidationError, KeyError, ValueError) as exc:
            log.warning("Stored plan of %s no longer validates: %s", user_id, exc)
            return None

    def save(self, user_id: int, plan: Plan) -> None:
        user_id = check_id(user_id)
        if not isinstance(plan, Plan):
            raise ValueError(f"plans.save takes a Plan, not {type(plan).__name__}.")
        doc = {"rules_version": plan.rules_version, "saved_at": now_iso(),
               "plan_z": pack(plan.model_dump(mode="json"))}
        with self._store.mutating():
            self._tombstones.guard(user_id)
            self._store.put(self._store.member_file(user_id), "plans", user_id, doc)

    def delete(self, user_id: int) -> bool:
        user_id = check_id(user_id)
        return self._store.remove(self._store.member_file(user_id), "plans", user_id)


class CheckinRepo:
    """Check-ins per member, one document per member holding a list, oldest first."""

    def __init__(self, store: DocumentStore) -> None:
        self._store = store
        self._tombstones = Tombstones(store)

    def add(self, user_id: int, checkin: JSONDict) -> None:
        user_id = check_id(user_id)
        item = copy.deepcopy(_check_dict(checkin, "check-in"))
        encode(item)  # refuse a value JSON cannot hold before anything changes
        db = self._store.member_file(user_id)
        with self._store.mutating():
            self._tombstones.guard(user_id)
            doc = self._store.get(db, "checkins", user_id) or {"items": []}
            doc["items"].append(item)
            self._store.put(db, "checkins", user_id, {"items": doc["items"]})

    def list(self, user_id: int) -> list[JSONDict]:
        user_id = check_id(user_id)
        doc = self._store.get(self._store.member_file(user_id), "checkins", user_id)
        return [] if doc is None else doc["items"]

    def delete(self, user_id: int) -> int:
        user_id = check_id(user_id)
        db = self._store.member_file(user_id)
        with self._store.mutating():
            count = len(self.list(user_id))
            self._store.remove(db, "checkins", user_id)
        return count


def reminder_due(reminder: JSONDict) -> dt.datetime | None:
    """The UTC time a stored schedule is next due ("next_due"), or None when nothing is scheduled."""
    return _parse_time(reminder.get("next_due"))


class ReminderRepo:
    """Reminder schedules in the member files, plus a heap of (next due, member) kept in memory.

    The heap is built once when the storage opens (one pass over the schedules) and kept up to date by
    every save, so the next due reminder is the heap's top: O(log n) per change, no scan per tick.
    Replaced entries stay in the heap until they surface and are dropped there (lazy deletion);
    `_due` says which entry is current.
    """

    def __init__(self, store: DocumentStore) -> None:
        self._store = store
        self._tombstones = Tombstones(store)
        self._due: dict[int, float] = {}
        self._heap: list[tuple[float, int]] = []
        for user_id, doc in store.iter_table("reminders"):
            due = reminder_due(doc.get("reminder", {}))
            if due is not None:
                self._due[user_id] = due.timestamp()
                self._heap.append((due.timestamp(), user_id))
        heapq.heapify(self._heap)

    def _index(self, user_id: int, due: dt.datetime | None) -> None:
        if due is None:
            self._due.pop(user_id, None)
            return
        self._due[user_id] = due.timestamp()
        heapq.heappush(self._heap, (due.timestamp(), user_id))
        if len(self._heap) > 2 * len(self._due) + 1024:
            # Mostly replaced entries: rebuild, so memory follows the members, not the number of changes.
            self._heap = [(when, uid) for uid, when in self._due.items()]
            heapq.heapify(self._heap)

    def _clean_top(self) -> None:
        heap = self._heap
        while heap and self._due.get(heap[0][1]) != heap[0][0]:
            heapq.heappop(heap)

    def get(self, user_id: int) -> JSONDict | None:
        user_id = check_id(user_id)
        doc = self._store.get(self._store.member_file(user_id), "reminders", user_id)
        return None if doc is None else doc["reminder"]

    def save(self, user_id: int, reminder: JSONDict) -> None:
        user_id = check_id(user_id)
        reminder = copy.deepcopy(_check_dict(reminder, "reminder schedule"))
        encode(reminder)
        due = reminder_due(reminder)
        with self._store.mutating():
            self._tombstones.guard(user_id)
            self._store.put(self._store.member_file(user_id), "reminders", user_id, {"reminder": reminder})
            self._index(user_id, due)

    def delete(self, user_id: int) -> bool:
        user_id = check_id(user_id)
        with self._store.mutating():
            self._index(user_id, None)
            return self._store.remove(self._store.member_file(user_id), "reminders", user_id)

    def next_due(self) -> dt.datetime | None:
        """The earliest due time of any schedule (the heap's top), or None when none is scheduled."""
        with self._store.lock:
            self._clean_top()
            return dt.datetime.fromtimestamp(self._heap[0][0], dt.UTC) if self._heap else None

    def due(self, until: dt.datetime, limit: int = 100) -> list[tuple[int, JSONDict]]:
        """Up to `limit` schedules due at or before `until`, earliest first (they stay scheduled)."""
        if not isinstance(until, dt.datetime):
            raise ValueError("due takes a datetime, like now.")
        cutoff = (until if until.tzinfo else until.replace(tzinfo=dt.UTC)).timestamp()
        found: list[tuple[float, int]] = []
        with self._store.lock:
            heap = self._heap
            while heap and len(found) < limit:
                self._clean_top()
                if not heap or heap[0][0] > cutoff:
                    break
                found.append(heapq.heappop(heap))
            for entry in found:
                heapq.heappush(heap, entry)
            return [(user_id, reminder) for _, user_id in found
                    if (reminder := self.get(user_id)) is not None]

    def claim(self, user_id: int, expected: dt.datetime, reminder: JSONDict) -> bool:
        """Save `reminder` only while the stored schedule is still due at `expected`; True when it was."""
        user_id = check_id(user_id)
        with self._store.mutating():
            current = self.get(user_id)
            if current is None or reminder_due(current) != expected:
                return False
            self.save(user_id, reminder)
            return True

    def count(self) -> int:
        return self._store.count("reminders")


def user_from_key(key: str, state: JSONDict) -> int | None:
    """The member a conversation belongs to: state["user_id"], else the key's last ':' part."""
    for candidate in (state.get("user_id"), key.rsplit(":", 1)[-1]):
        try:
            return check_id(candidate)
        except ValueError:
            continue
    return None


class ConversationRepo:
    """Ongoing conversations, keyed by a string; the doc id is a stable hash of the key."""

    def __init__(self, store: DocumentStore) -> None:
        self._store = store
        self._tombstones = Tombstones(store)

    _check_key = staticmethod(check_conversation_key)

    def get(self, key: str) -> JSONDict | None:
        key = self._check_key(key)
        doc = self._store.get(self._store.main, "conversations", key_doc_id(key))
        return None if doc is None or doc.get("key") != key else doc["state"]

    def save(self, key: str, state: JSONDict) -> None:
        key = self._check_key(key)
        state = _check_dict(state, "conversation state")
        user_id = user_from_key(key, state)
        doc = {"key": key, "user_id": user_id, "state": state, "saved_at": now_iso()}
        with self._store.mutating():
            if user_id is not None:
                # A conversation begun before the member's forget is stale whoever saves it.
                self._tombstones.guard(user_id, _parse_time(state.get("created_at")))
            self._store.put(self._store.main, "conversations", key_doc_id(key), doc)

    def delete(self, key: str) -> bool:
        key = self._check_key(key)
        return self._store.remove(self._store.main, "conversations", key_doc_id(key))

    def expire(self, older_than: dt.datetime) -> int:
        """Remove conversations last updated before `older_than` (naive times are taken as UTC)."""
        if not isinstance(older_than, dt.datetime):
            raise ValueError("expire takes a datetime, like now - timedelta(hours=24).")
        cutoff = older_than if older_than.tzinfo else older_than.replace(tzinfo=dt.UTC)
        return self._remove_where(
            lambda doc: (_parse_time(doc["state"].get("updated_at")) or _parse_time(doc.get("saved_at"))
                         or cutoff) < cutoff
        )

    def delete_for_user(self, user_id: int) -> int:
        user_id = check_id(user_id)
        return self._remove_where(lambda doc: doc.get("user_id") == user_id)

    def _remove_where(self, test: Callable[[JSONDict], bool]) -> int:
        store = self._store
        with store.mutating():
            doomed = [doc_id for doc_id, doc in store.iter_table("conversations") if test(doc)]
            for doc_id in doomed:
                store.remove(store.main, "conversations", doc_id)
        return len(doomed)


class GuildRepo:
    """Per-server settings with registered defaults, so a read never fails on a missing key."""

    def __init__(self, store: DocumentStore, audit: AuditRepo) -> None:
        self._store = store
        self._audit = audit
        self._defaults: JSONDict = copy.deepcopy(GUILD_DEFAULTS)

    def register_defaults(self, defaults: JSONDict) -> None:
        """Add settings a feature needs, with the value a server has until a moderator changes it."""
        encode(_check_dict(defaults, "set of guild defaults"))
        self._defaults.update(copy.deepcopy(defaults))

    def get(self, guild_id: int) -> JSONDict:
        guild_id = check_id(guild_id, "server id")
        doc = self._store.get(self._store.main, "guilds", guild_id)
        merged = copy.deepcopy(self._defaults)
        if doc is not None:
            merged.update(doc["settings"])
        return merged

    def update(self, guild_id: int, fn: Callable[[JSONDict], JSONDict | None]) -> JSONDict:
        """Read-modify-write under the store's lock: `fn` gets the settings and returns (or edits) them.

        Concurrent updates of the same server run one after another, so none is lost. `fn` must be
        quick and must not wait on anything; if it raises, nothing is changed.
        """
        guild_id = check_id(guild_id, "server id")
        with self._store.mutating():
            current = self.get(guild_id)
            result = fn(current)
            settings = current if result is None else _check_dict(result, "guild settings")
            self._store.put(self._store.main, "guilds", guild_id, {"settings": settings})
            return copy.deepcopy(settings)

    def change(self, guild_id: int, fn: Callable[[JSONDict], JSONDict]) -> tuple[JSONDict, int]:
        """A moderator's change and its audit entry as one step, under the store's lock.

        `fn` edits the settings in place and returns the audit entry; returns the new settings and the
        entry's change id. If `fn` raises, neither is written.
        """
        with self._store.mutating():
            result: dict[str, int] = {}

            def apply(settings: JSONDict) -> JSONDict:
                entry = fn(settings)
                _check_dict(entry, "audit entry")
                encode(settings)
                result["change_id"] = self._audit.append(guild_id, entry)
                return settings

            return self.update(guild_id, apply), result["change_id"]


class AuditRepo:
    """The moderators' audit log: one document per entry, indexed in memory per server."""

    def __init__(self, store: DocumentStore) -> None:
        self._store = store
        # guild id -> change ids in increasing order, and (guild, change id) -> doc id
        self._changes: dict[int, list[int]] = {}
        self._doc_ids: dict[tuple[int, int], int] = {}
        self._next_doc_id = 1
        for doc_id, doc in store.iter_table("audit"):
            self._index(doc_id, doc)
        for changes in self._changes.values():
            changes.sort()

    def _index(self, doc_id: int, doc: JSONDict) -> None:
        guild_id, change_id = doc.get("guild_id"), doc.get("change_id")
        if not isinstance(guild_id, int) or not isinstance(change_id, int):
            log.warning("Audit document %s has no guild or change id; left out of the index", doc_id)
            return
        self._changes.setdefault(guild_id, []).append(change_id)
        self._doc_ids[guild_id, change_id] = doc_id
        self._next_doc_id = max(self._next_doc_id, doc_id + 1)

    def append(self, guild_id: int, entry: JSONDict) -> int:
        """Record a change; returns its change id (1, 2, 3, ... per server)."""
        guild_id = check_id(guild_id, "server id")
        entry = copy.deepcopy(_check_dict(entry, "audit entry"))
        with self._store.mutating():
            changes = self._changes.get(guild_id, [])
            change_id = changes[-1] + 1 if changes else 1
            doc = {**entry, "guild_id": guild_id, "change_id": change_id, "at": entry.get("at") or now_iso()}
            doc_id = self._next_doc_id
            self._store.put(self._store.main, "audit", doc_id, doc)
            self._next_doc_id += 1
            self._index(doc_id, doc)
        return change_id

    def list(self, guild_id: int, limit: int = 20, before: int | None = None) -> list[JSONDict]:
        """Newest first; `before` pages back from a change id (exclusive)."""
        guild_id = check_id(guild_id, "server id")
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
            raise ValueError("limit is a whole number of entries, 0 or more.")
        if before is not None and (isinstance(before, bool) or not isinstance(before, int)):
            raise ValueError("before is a change id (a whole number), or None for the newest entries.")
        with self._store.lock:
            changes = self._changes.get(guild_id, [])
            end = len(changes) if before is None else bisect.bisect_left(changes, before)
            wanted = changes[max(0, end - limit):end][::-1]
            return [self._load(guild_id, change_id) for change_id in wanted]

    def get(self, guild_id: int, change_id: int) -> JSONDict | None:
        guild_id = check_id(guild_id, "server id")
        with self._store.lock:
            if (guild_id, change_id) not in self._doc_ids:
                return None
            return self._load(guild_id, change_id)

    def _load(self, guild_id: int, change_id: int) -> JSONDict:
        doc = self._store.get(self._store.main, "audit", self._doc_ids[guild_id, change_id])
        assert doc is not None, "the audit index and the table disagree"
        doc.pop("schema", None)
        return doc

    def anonymise(self, user_id: int) -> int:
        """Replace a forgotten member's id in the entries that name them; returns how many changed."""
        changed = 0
        store = self._store
        with store.mutating():
            for doc_id, doc in store.iter_table("audit"):
                fields = [name for name in AUDIT_PERSON_FIELDS if str(doc.get(name)) == str(user_id)]
                if fields:
                    doc.update(dict.fromkeys(fields, FORGOTTEN_USER))
                    doc.pop("schema", None)
                    store.put(store.main, "audit", doc_id, doc)
                    changed += 1
        return changed


def scrub_backup(folder: Path, user_id: int, member_file: Path) -> bool:
    """Rewrite one backup folder without a forgotten member; True when it held anything about them.

    Their documents go from the member file, their conversations from the main file, and audit
    fields naming them become "forgotten-user", exactly as `forget_member` does to the live files.
    """
    changed_any = False
    member_path = folder / member_file
    data = AtomicJSONStorage(member_path, create_dirs=False).read() if member_path.exists() else None
    if data:
        changed = False
        for docs in data.values():
            if isinstance(docs, dict) and docs.pop(str(user_id), None) is not None:
                changed = True
        if changed:
            AtomicJSONStorage(member_path, create_dirs=False).write(data)
            changed_any = True
    main_path = folder / MAIN_FILE
    data = AtomicJSONStorage(main_path, create_dirs=False).read() if main_path.exists() else None
    if data:
        changed = False
        conversations = data.get("conversations", {})
        for doc_id in [k for k, doc in conversations.items() if doc.get("user_id") == user_id]:
            del conversations[doc_id]
            changed = True
        for doc in data.get("audit", {}).values():
            for name in AUDIT_PERSON_FIELDS:
                if str(doc.get(name)) == str(user_id):
                    doc[name] = FORGOTTEN_USER
                    changed = True
        if changed:
            AtomicJSONStorage(main_path, create_dirs=False).write(data)
            changed_any = True
    return changed_any
