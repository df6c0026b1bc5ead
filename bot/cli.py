"""The command-line entry point; each subcommand lives in its own module under bot/commands/."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

# Each module exposes `register(subparsers)` and sets `func` on its parser; see bot/commands/.
COMMAND_MODULES = ("run", "console", "preview", "faq", "parse", "rules", "sync", "storage", "launch")


class FriendlyParser(argparse.ArgumentParser):
    """An argparse parser whose errors say what to do, and exit with status 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        """Print the usage, then exit 2 with the message and a pointer to --help."""
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: {message}\nTry `{self.prog} --help` for the options.\n")


def build_parser() -> argparse.ArgumentParser:
    """The `python -m bot` parser, with a subcommand for each module of COMMAND_MODULES that is present."""
    parser = FriendlyParser(prog="python -m bot", description="LegDay: leg strength plans for runners.")
    sub = parser.add_subparsers(dest="command", parser_class=FriendlyParser, metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(f"bot.commands.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"bot.commands.{name}":
                raise
            continue
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; with none, run the main job (the bot with a token, otherwise the console)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        from bot.config import get_settings

        # The token may come from the environment or from .env: the settings read both.
        token = get_settings().discord_token
        command = "run" if token is not None and token.get_secret_value().strip() else "console"
        args = parser.parse_args([command])
    from bot.storage import StorageError

    try:
        return int(args.func(args) or 0)
    except StorageError as exc:
        # The database cannot be opened (busy folder, unreadable file): the message says what to do.
        print(f"{parser.prog}: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        # The reader went away (`... | head`): stop quietly, and keep Python from reporting the closed pipe
        # again when it flushes stdout at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
