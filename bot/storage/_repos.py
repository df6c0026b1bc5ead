"""The repository interface: what callers may ask of storage, whatever database is behind it.

Each collection is a `typing.Protocol`, implemented over TinyDB (`_collections.py`, the default)
and over PostgreSQL (`_postgres.py`, when DATABASE_URL is set). Member writes honour the write origin
below: once a member is forgotten, a write begun before that moment is refused (MemberForgotten).
The TinyDB calls are plain synchronous calls that touch only memory, so the event loop can call them
directly.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from bot.models import Plan, Profile

JSONDict = dict[str, Any]

# The value that replaces a forgotten member's id in audit entries they authored.
FORGOTTEN_USER = "forgotten-user"

# Per-server settings every guild has, so a read never fails on a missing key.
GUILD_DEFAULTS: JSONDict = {
    "mod_role_id": None,
    "rule_overrides": {},
    "faq_overrides": {},
    "rules_version": None,
}


# When the work now writing began: the interaction or the message a view sits on (set by the Discord
# layer). A member write whose origin is not after the member's forget is refused (MemberForgotten).
_WRITE_ORIGIN: ContextVar[dt.datetime | None] = ContextVar("legday_write_origin", default=None)


def set_write_origin(moment: dt.datetime | None) -> None:
    """Declare when the work in this task (and tasks it starts) began; naive times are taken as UTC."""
    if moment is not None and moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    _WRITE_ORIGIN.set(moment)


def write_origin() -> dt.datetime | None:
    """When the current work began, if the caller said (see `set_write_origin`)."""
    return _WRITE_ORIGIN.get()


@contextlib.contextmanager
def writes_from(moment: dt.datetime | None) -> Iterator[None]:
    """Within the block, member writes count as begun at `moment` (for callbacks that outlive their task)."""
    token = _WRITE_ORIGIN.set(moment if moment is None or moment.tzinfo else moment.replace(tzinfo=dt.UTC))
    try:
        yield
    finally:
        _WRITE_ORIGIN.reset(token)


def is_stale(origin: dt.datetime | None, forgotten_at: dt.datetime | None) -> bool:
    """Whether work begun at `origin` predates the member's forget (unknown origins count as new)."""
    return forgotten_at is not None and origin is not None and origin <= forgotten_at


EXPORT_FORMAT = 1


def export_document(user_id: int, *, profile: JSONDict | None, servers: list[int], plan: JSONDict | None,
                    checkins: list[JSONDict], reminders: JSONDict | None,
                    conversations: list[JSONDict]) -> JSONDict:
    """A member's data export in the one shape both backends give (`Storage.export_member`)."""
    return {
        "export_format": EXPORT_FORMAT,
        "user_id": str(user_id),
        "exported_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "profile": profile,
        "servers": [str(guild) for guild in sorted(servers)],
        "plan": plan,
        "checkins": checkins,
        "reminders": reminders,
        "conversations": sorted(conversations, key=lambda item: item["key"]),
    }


@dataclass(frozen=True)
class ForgetReceipt:
    """What one forget removed, and when: what the member is told, word for word."""

    forgotten_at: dt.datetime
    profiles: int = 0
    plans: int = 0
    checkins: int = 0
    conversations: int = 0
    audit_entries_anonymised: int = 0
    backups_rewritten: int = 0
    reminders: int = 0

    def counts(self) -> dict[str, int]:
        """The numbers alone, by kind."""
        return {"profiles": self.profiles, "plans": self.plans, "checkins": self.checkins,
                "conversations": self.conversations, "audit_entries_anonymised": self.audit_entries_anonymised,
                "backups_rewritten": self.backups_rewritten, "reminders": self.reminders}

    def summary(self) -> str:
        """A plain sentence: each kind that was deleted with its number, and the UTC time."""

        def many(n: int, one: str, more: str) -> str:
            return f"{n} {one if n == 1 else more}"

        parts = []
        if self.profiles:
            parts.append("your profile")
        if self.plans:
            parts.append("your plan")
        if self.checkins:
            parts.append(many(self.checkins, "check-in", "check-ins"))
        if self.reminders:
            parts.append("your reminder schedule")
        if self.conversations:
            parts.append(many(self.conversations, "conversation in progress", "conversations in progress"))
        what = ", ".join(parts) if parts else "nothing (I had nothing stored about you)"
        text = f"At {self.forgotten_at:%H:%M:%S} UTC on {self.forgotten_at:%d %b %Y} I deleted {what}."
        if self.backups_rewritten:
            text += f" I also removed you from {many(self.backups_rewritten, 'backup', 'backups')}."
        if self.audit_entries_anonymised:
            text += (f" Your id was replaced by '{FORGOTTEN_USER}' in "
                     f"{many(self.audit_entries_anonymised, 'moderator log entry', 'moderator log entries')}.")
        return text + " Nothing started before this moment can save it back."


@runtime_checkable
class ProfileRepository(Protocol):
    """Members' profiles, keyed by Discord user id."""

    def get(self, user_id: int) -> Profile | None: ...
    def save(self, user_id: int, profile: Profile, guild_id: int | None = None) -> None: ...
    def delete(self, user_id: int) -> bool: ...
    def all(self, guild_id: int | None = None) -> Iterator[tuple[int, Profile]]: ...
    def count(self) -> int: ...


@runtime_checkable
class PlanRepository(Protocol):
    """Each member's latest plan; a plan records the rule-set version it came from."""

    def latest(self, user_id: int) -> Plan | None: ...
    def save(self, user_id: int, plan: Plan) -> None: ...
    def delete(self, user_id: int) -> bool: ...


@runtime_checkable
class CheckinRepository(Protocol):
    """Members' check-ins (plain JSON dicts), oldest first."""

    def add(self, user_id: int, checkin: JSONDict) -> None: ...
    def list(self, user_id: int) -> list[JSONDict]: ...
    def delete(self, user_id: int) -> int: ...


@runtime_checkable
class ReminderRepository(Protocol):
    """Each member's reminder schedule (a JSON dict holding "next_due", an ISO UTC time or None).

    `next_due()` and `due(until)` find the earliest schedules without reading every member: an in-memory
    heap over TinyDB, an index on the `next_due` column in PostgreSQL. `claim` is a compare-and-set: it
    writes only while the stored "next_due" is still `expected`, so one reminder is sent at most once,
    whichever process (or retry) tries to take it.
    """

    def get(self, user_id: int) -> JSONDict | None: ...
    def save(self, user_id: int, reminder: JSONDict) -> None: ...
    def delete(self, user_id: int) -> bool: ...
    def next_due(self) -> dt.datetime | None: ...
    def due(self, until: dt.datetime, limit: int = 100) -> list[tuple[int, JSONDict]]: ...
    def claim(self, user_id: int, expected: dt.datetime, reminder: JSONDict) -> bool: ...
    def count(self) -> int: ...


@runtime_checkable
class ConversationRepository(Protocol):
    """Ongoing conversations, keyed by a string such as "dm:<user_id>" or "<channel_id>:<user_id>"."""

    def get(self, key: str) -> JSONDict | None: ...
    def save(self, key: str, state: JSONDict) -> None: ...
    def delete(self, key: str) -> bool: ...
    def expire(self, older_than: dt.datetime) -> int: ...
    def delete_for_user(self, user_id: int) -> int: ...


@runtime_checkable
class GuildRepository(Protocol):
    """Per-server settings and overrides, with registered defaults merged into every read."""

    def get(self, guild_id: int) -> JSONDict: ...
    def update(self, guild_id: int, fn: Callable[[JSONDict], JSONDict | None]) -> JSONDict: ...
    def change(self, guild_id: int, fn: Callable[[JSONDict], JSONDict]) -> tuple[JSONDict, int]: ...


@runtime_checkable
class AuditRepository(Protocol):
    """The moderators' audit log: entries per server, each with a change id that increases per server."""

    def append(self, guild_id: int, entry: JSONDict) -> int: ...
    def list(self, guild_id: int, limit: int = 20, before: int | None = None) -> list[JSONDict]: ...
    def get(self, guild_id: int, change_id: int) -> JSONDict | None: ...
