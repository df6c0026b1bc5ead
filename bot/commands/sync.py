"""`python -m bot sync [--guild ID]`: publish the slash commands to Discord, on purpose, then exit."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from typing import Any

from bot.config import Settings, get_settings

log = logging.getLogger("legday.sync")


def register(subparsers: Any) -> None:
    """Add the `sync` subcommand."""
    parser = subparsers.add_parser(
        "sync", help="publish the slash commands to Discord (globally, or to one server)",
        description=(
            "Publish LegDay's slash commands. Global sync can take a few minutes to show everywhere "
            "and is rate limited, so it is done on purpose rather than at every start."
        ),
    )
    parser.add_argument("--guild", type=int, metavar="ID",
                        help="sync only to this server id (instant; handy while developing)")
    parser.set_defaults(func=handle)


def handle(args: argparse.Namespace) -> int:
    """Log in with the token, sync, print what was published; 2 without a token, 1 if refused."""
    from bot.commands.run import has_token

    settings = get_settings()
    if not has_token(settings):
        return 2
    import discord

    discord.utils.setup_logging(level=logging.WARNING)
    try:
        names = asyncio.run(sync_commands(settings, args.guild))
    except discord.LoginFailure:
        from bot.commands.run import BAD_TOKEN_HELP

        print(BAD_TOKEN_HELP, file=sys.stderr)
        return 1
    where = f"to server {args.guild}" if args.guild else "globally (may take a few minutes to appear)"
    print(f"Synced {len(names)} commands {where}: {', '.join('/' + name for name in names)}")
    return 0


async def sync_commands(settings: Settings, guild_id: int | None, token: str | None = None) -> list[str]:
    """Log in over HTTP only (no gateway connection), load the commands, sync them; return their names."""
    import discord

    from bot.client import LegDayBot
    from bot.coach import Coach

    token = token or (settings.discord_token.get_secret_value().strip() if settings.discord_token else "")
    # No storage: syncing must not open the database a running bot may be using.
    bot = LegDayBot(settings=settings, coach=Coach.load(settings), storage=None, sync_on_start=False)
    async with bot:
        await bot.login(token)
        if guild_id:
            guild = discord.Object(id=guild_id)
            bot.tree.copy_global_to(guild=guild)
            synced = await bot.tree.sync(guild=guild)
        else:
            synced = await bot.tree.sync()
    return [command.name for command in synced]
