"""`python -m bot console`: the intake conversation and the plan in the terminal, with no Discord token."""

from __future__ import annotations

import argparse
from typing import Any

from bot.commands._profile_args import iso_date


def register(subparsers: Any) -> None:
    """Add the `console` subcommand."""
    parser = subparsers.add_parser(
        "console", help="talk to LegDay in the terminal (no token needed)",
        description="Tell LegDay about your running in plain words, answer its questions, and read your plan.",
    )
    parser.add_argument("--today", type=iso_date, default=None, help="pretend today is this date (YYYY-MM-DD)")
    parser.add_argument("--no-save", action="store_true",
                        help="keep nothing: by default the profile, plan, check-ins and an unfinished "
                             "conversation are kept in the data folder, as the bot keeps them")
    parser.set_defaults(func=handle)


def handle(args: argparse.Namespace) -> int:
    """Run the terminal conversation, kept in the data folder's storage unless --no-save."""
    from bot.console import run_console

    if args.no_save:
        return run_console(today=args.today)
    import sys

    from bot.config import get_settings
    from bot.storage import DataDirBusy, Storage

    try:
        storage = Storage.from_settings(get_settings(), recover=True)
    except DataDirBusy as exc:  # the bot (or another console) holds the folder: say so, and the way round it
        print(f"{exc}\nOr talk to LegDay here without keeping anything: python -m bot console --no-save",
              file=sys.stderr)
        return 1
    with storage:
        return run_console(storage=storage, today=args.today)
