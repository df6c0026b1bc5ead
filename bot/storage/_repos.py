"""The repository interface: what callers may ask of storage, whatever database is behind it.

Each collection is a `typing.Protocol`. The TinyDB implementation in `_collections.py` is the only one
today; a server database (for several shard processes) can implement the same calls later without
any caller changing. Every method is a plain synchronous call: implementations must keep them cheap
and free of blocking I/O, so the Discord event loop can call them directly.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
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


@runtime_checkable
class AuditRepository(Protocol):
    """The moderators' audit log: entries per server, each with a change id that increases per server."""

    def append(self, guild_id: int, entry: JSONDict) -> int: ...
    def list(self, guild_id: int, limit: int = 20, before: int | None = None) -> list[JSONDict]: ...
    def get(self, guild_id: int, change_id: int) -> JSONDict | None: ...
