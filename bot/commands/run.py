"""`python -m bot run`: start the Discord bot, and shut it down cleanly on SIGTERM or Ctrl+C."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from typing import Any

from bot.config import Settings, get_settings

log = logging.getLogger("legday.run")

NO_TOKEN_HELP = """\
LegDay needs a Discord bot token to run, and none is set.

To get one:
  1. Open https://discord.com/developers/applications and create (or pick) an application.
  2. Go to Bot -> Reset Token, and copy the token (Discord shows it once).
  3. Put it in a file named .env next to pyproject.toml:  DISCORD_TOKEN=<your token>
     (or set the DISCORD_TOKEN environment variable). Keep it secret; never commit it.
  4. For chat intake in channels without mentioning the bot, also enable
     Bot -> Privileged Gateway Intents -> Message Content Intent, and set MESSAGE_CONTENT=true.

To try LegDay without Discord, run the same conversation in your terminal:
  python -m bot console
"""

BAD_TOKEN_HELP = """\
Discord refused the token (it may have been reset or pasted incompletely).
Get a fresh one under Bot -> Reset Token in the Developer Portal and update DISCORD_TOKEN.
Or try LegDay in the terminal: python -m bot console
"""


def register(subparsers: Any) -> None:
    """Add the `run` subcommand."""
    parser = subparsers.add_parser(
        "run", help="start the Discord bot (needs DISCORD_TOKEN)",
        description="Start the Discord bot. Settings come from the environment or a .env file.",
    )
    parser.set_defaults(func=handle)


def has_token(settings: Settings) -> bool:
    """True when a token is set; otherwise print how to get one (never the token itself)."""
    if settings.discord_token is None or not settings.discord_token.get_secret_value().strip():
        print(NO_TOKEN_HELP, file=sys.stderr)
        return False
    return True


def handle(args: argparse.Namespace) -> int:
    """Run the bot until it is stopped; 2 when no token is set, 1 when Discord refuses it."""
    settings = get_settings()
    if not has_token(settings):
        return 2
    import discord

    discord.utils.setup_logging(level=logging.getLevelName(settings.log_level.upper()), root=True)
    from bot.logsafe import install

    install()  # ids only in the log at every level: no tokens, no members' words (bot/logsafe.py)
    try:
        return asyncio.run(serve(settings))
    except discord.LoginFailure:
        print(BAD_TOKEN_HELP, file=sys.stderr)
        return 1


async def serve(settings: Settings, stop: asyncio.Event | None = None) -> int:
    """Open the core, run the bot until `stop` is set (by SIGTERM/SIGINT), then close the bot and storage."""
    from bot.client import LegDayBot
    from bot.coach import Coach
    from bot.storage import close_storage, open_storage

    token = settings.discord_token.get_secret_value().strip() if settings.discord_token else ""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)

    # TinyDB in DATA_DIR, or PostgreSQL when DATABASE_URL is set (retried with backoff while unreachable).
    storage = await open_storage(settings)
    try:
        coach = Coach.load(settings)
        bot = LegDayBot(settings=settings, coach=coach, storage=storage)
        async with bot:
            runner = asyncio.create_task(bot.start(token), name="legday-bot")
            stopper = asyncio.create_task(stop.wait(), name="legday-stop")
            done, _ = await asyncio.wait({runner, stopper}, return_when=asyncio.FIRST_COMPLETED)
            if stopper in done:
                log.info("stop signal received; closing")
            else:
                stopper.cancel()
            await bot.close()
            if runner.done() and not runner.cancelled() and runner.exception() is not None:
                raise runner.exception()  # type: ignore[misc]
            runner.cancel()
    finally:
        # Flushes everything still in memory, so a SIGTERM from `docker stop` loses nothing.
        await close_storage(storage)
        log.info("storage closed")
    return 0
