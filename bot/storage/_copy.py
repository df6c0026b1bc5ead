"""One-shot copy of a TinyDB data folder into PostgreSQL, verified by counting both sides.

Everything is copied in one transaction and the counts are compared before it commits: a copy that
does not match leaves the PostgreSQL database as it was.
"""

from __future__ import annotations

import datetime as dt
import zlib
from dataclasses import dataclass, field

from bot.storage._collections import _parse_time, reminder_due
from bot.storage._facade import Storage
from bot.storage._migrations import unpack_bytes
from bot.storage._postgres import PostgresStorage, db_id
from bot.storage._store import StorageError

# Fixed table names, so the f-string SQL below never holds outside text.
TABLES = ("profiles", "member_guilds", "plans", "checkins", "reminders", "conversations", "guilds", "audit",
          "tombstones")


class CopyMismatch(StorageError):
    """The counts after copying differ from the source; nothing was committed."""


@dataclass
class CopyReport:
    """Rows per table: what the TinyDB folder holds and what PostgreSQL holds after the copy."""

    source: dict[str, int] = field(default_factory=dict)
    target: dict[str, int] = field(default_factory=dict)

    def lines(self) -> list[str]:
        """A small table for the terminal."""
        rows = [f"{'table':<15}{'TinyDB':>10}{'PostgreSQL':>12}"]
        rows += [f"{name:<15}{self.source.get(name, 0):>10}{self.target.get(name, 0):>12}" for name in TABLES]
        return rows


def _when(value: object) -> dt.datetime:
    return _parse_time(value) or dt.datetime.now(dt.UTC)


async def copy_tinydb_to_postgres(source: Storage, target: PostgresStorage) -> CopyReport:
    """Copy every document of `source` into an empty `target`; raises CopyMismatch if counts differ."""
    store = source._store
    rows: dict[str, list[tuple]] = {name: [] for name in TABLES}
    for user_id, doc in store.iter_table("profiles"):
        rows["profiles"].append((db_id(user_id), doc["profile"], _when(doc.get("saved_at"))))
        rows["member_guilds"] += [(user_id, db_id(g, "server id")) for g in sorted(set(doc.get("guilds", ())))]
    for user_id, doc in store.iter_table("plans"):
        rows["plans"].append((db_id(user_id), doc.get("rules_version"), _when(doc.get("saved_at")),
                              zlib.compress(unpack_bytes(doc["plan_z"]), 6)))
    for user_id, doc in store.iter_table("checkins"):
        rows["checkins"] += [(db_id(user_id), item) for item in doc.get("items", [])]
    for user_id, doc in store.iter_table("reminders"):
        reminder = doc.get("reminder", {})
        rows["reminders"].append((db_id(user_id), reminder, reminder_due(reminder)))
    for _, doc in store.iter_table("conversations"):
        state = doc["state"]
        rows["conversations"].append((doc["key"], doc.get("user_id"), state,
                                      _when(state.get("updated_at") or doc.get("saved_at"))))
    for guild_id, doc in store.iter_table("guilds"):
        rows["guilds"].append((db_id(guild_id, "server id"), doc["settings"]))
    for _, doc in store.iter_table("audit"):
        entry = {k: v for k, v in doc.items() if k != "schema"}
        rows["audit"].append((db_id(doc["guild_id"], "server id"), doc["change_id"], entry))
    for member_hash, doc in store.iter_table("tombstones"):
        rows["tombstones"].append((member_hash, _when(doc.get("at"))))
    report = CopyReport(source={name: len(items) for name, items in rows.items()})
    columns = {
        "profiles": ("user_id", "profile", "saved_at"), "member_guilds": ("user_id", "guild_id"),
        "plans": ("user_id", "rules_version", "saved_at", "plan_z"), "checkins": ("user_id", "item"),
        "reminders": ("user_id", "reminder", "next_due"),
        "conversations": ("key", "user_id", "state", "updated_at"), "guilds": ("guild_id", "settings"),
        "audit": ("guild_id", "change_id", "entry"), "tombstones": ("member_hash", "forgotten_at"),
    }
    async with target.pool.acquire() as conn, conn.transaction():
        for name in TABLES:
            if await conn.fetchval(f"SELECT count(*) FROM {name}"):
                raise StorageError(f"The PostgreSQL database already holds {name}; copy into an empty database "
                                   "(a fresh one, or drop LegDay's tables first). Nothing was copied.")
        for name in TABLES:
            cols = columns[name]
            marks = ", ".join(f"${n}" for n in range(1, len(cols) + 1))
            await conn.executemany(f"INSERT INTO {name} ({', '.join(cols)}) VALUES ({marks})",
                                   rows[name])
            report.target[name] = await conn.fetchval(f"SELECT count(*) FROM {name}")
        if report.target != report.source:
            raise CopyMismatch("The copy does not match the source, so it was rolled back:\n"
                               + "\n".join(report.lines()))
    return report
