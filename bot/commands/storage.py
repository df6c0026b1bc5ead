"""`python -m bot storage migrate-to-postgres`: copy a TinyDB data folder into PostgreSQL, verified."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any


def register(subparsers: Any) -> None:
    """Add the `storage` subcommand and its migrate-to-postgres action."""
    parser = subparsers.add_parser("storage", help="storage maintenance (moving to PostgreSQL)",
                                   description="Storage maintenance.")
    sub = parser.add_subparsers(dest="storage_command", metavar="ACTION", required=True)
    copy = sub.add_parser(
        "migrate-to-postgres", help="copy a TinyDB data folder into an empty PostgreSQL database",
        description="Copy every profile, plan, check-in, conversation, server setting, audit entry and "
                    "tombstone from a TinyDB data folder into PostgreSQL in one transaction, then compare "
                    "the counts; a mismatch rolls it all back. Stop the bot first (it holds the folder).",
    )
    copy.add_argument("--data-dir", type=Path, default=None, help="the TinyDB folder (default: DATA_DIR)")
    copy.add_argument("--database-url", default=None, help="the target (default: DATABASE_URL)")
    copy.set_defaults(func=handle_copy)


def handle_copy(args: argparse.Namespace) -> int:
    """Exit 0 when the copy matches, 1 when it did not (rolled back), 2 when the arguments are wrong."""
    from bot.config import get_settings

    settings = get_settings()
    url = args.database_url or (settings.database_url.get_secret_value() if settings.database_url else "")
    if not url:
        print("Say where to copy to: --database-url postgresql://user:password@host:5432/db "
              "(or set DATABASE_URL).", file=sys.stderr)
        return 2
    data_dir = args.data_dir or settings.data_dir
    if not Path(data_dir).is_dir():
        print(f"{data_dir} is not a folder; --data-dir should name the TinyDB data folder.", file=sys.stderr)
        return 2
    return asyncio.run(_copy(Path(data_dir), url))


async def _copy(data_dir: Path, url: str) -> int:
    from bot.storage import Storage
    from bot.storage._copy import CopyMismatch, copy_tinydb_to_postgres
    from bot.storage._postgres import PostgresStorage

    source = Storage.open(data_dir, backup_count=0)
    try:
        target = await PostgresStorage.open(url)
        try:
            report = await copy_tinydb_to_postgres(source, target)
        except CopyMismatch as exc:
            print(exc, file=sys.stderr)
            return 1
        finally:
            await target.close()
    finally:
        source.close()
    print("\n".join(report.lines()))
    print(f"Copied {data_dir} into {target.url}; the counts match. Set DATABASE_URL to use it.")
    return 0
