"""PostgreSQL schema migrations: numbered plain-SQL files in `sql/`, applied once under an advisory lock.

`NNNN_what.sql` files are applied in number order, each in its own transaction together with its row
in `schema_version`, so a failed migration leaves the schema at the previous version. The runner
holds a session advisory lock while it works: N processes starting together queue on the lock, and
the first one migrates while the others find nothing left to do.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import asyncpg

SQL_DIR = Path(__file__).with_name("sql")
# An arbitrary constant that names "LegDay schema migration" among advisory locks.
MIGRATION_LOCK = 0x4C656744_6D696772 >> 1
_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


@dataclass(frozen=True)
class Migration:
    """One numbered SQL file."""

    version: int
    path: Path

    @property
    def name(self) -> str:
        return self.path.stem


def migrations(folder: Path = SQL_DIR) -> list[Migration]:
    """Every migration file, in order; a misnamed file or a gap in the numbers is a packaging error."""
    found = []
    for path in sorted(folder.glob("*.sql")):
        match = _NAME.match(path.name)
        if match is None:
            raise ValueError(f"{path.name}: migration files are named NNNN_what.sql (four digits).")
        found.append(Migration(int(match.group(1)), path))
    for expected, migration in enumerate(found, start=1):
        if migration.version != expected:
            raise ValueError(f"{migration.path.name}: expected migration {expected:04d} next.")
    return found


LATEST = migrations()[-1].version


async def current_version(conn: asyncpg.Connection) -> int:
    """The schema version of the database (0 for an empty one)."""
    exists = await conn.fetchval("SELECT to_regclass('schema_version') IS NOT NULL")
    if not exists:
        return 0
    return await conn.fetchval("SELECT coalesce(max(version), 0) FROM schema_version")


async def migrate(conn: asyncpg.Connection, target: int | None = None) -> list[str]:
    """Bring the schema up to `target` (default: the latest); returns the names applied here."""
    target = LATEST if target is None else target
    applied: list[str] = []
    await conn.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK)
    try:
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_version ("
            " version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"
        )
        version = await current_version(conn)
        if version > LATEST:
            raise RuntimeError(
                f"The database is at schema version {version}, newer than this LegDay knows ({LATEST}); "
                "upgrade LegDay rather than run an older one against it."
            )
        for migration in migrations():
            if version < migration.version <= target:
                async with conn.transaction():
                    await conn.execute(migration.path.read_text(encoding="utf-8"))
                    await conn.execute("INSERT INTO schema_version (version, name) VALUES ($1, $2)",
                                       migration.version, migration.name)
                applied.append(migration.name)
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK)
    return applied
