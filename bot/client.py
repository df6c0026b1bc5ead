"""The discord.py Bot subclass: intents, extensions, the tree-level error handler and command sync."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import inspect
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands, tasks
from pydantic import ValidationError

from bot.errors import LegDayError
from bot.models import MileageError, friendly_errors
from bot.reminders import ReminderService
from bot.storage import DatabaseUnavailable, MemberForgotten, set_write_origin
from bot.tuning import Tuning

if TYPE_CHECKING:
    from bot.coach import Coach
    from bot.config import Settings
    from bot.storage import Storage

log = logging.getLogger("legday.discord")

# Loaded in this order at start-up; each is a discord.py extension with a setup() coroutine.
EXTENSIONS: tuple[str, ...] = (
    "bot.exts.help",
    "bot.exts.owner",
    "bot.exts.plans",
    "bot.exts.faq",
    "bot.exts.profile",
    "bot.exts.checkin",
    "bot.exts.chat",
    "bot.exts.moderation",
    "bot.exts.progress",  # /progress (pictures branch)
)

HEARTBEAT_FILE = "heartbeat"
# The change topic a `/rules reload` announces, so every process reloads the shipped rules.
RULES_RELOADED = "rules:reload"
HEARTBEAT_SECONDS = 30.0

# Discord error codes that mean the interaction token can no longer be used (expired or already gone).
EXPIRED_TOKEN_CODES = frozenset({10062, 10015, 50027})

GENERIC_FAILURE = (
    "Sorry, something went wrong on my side. It has been logged; please try again in a moment."
)


class FriendlyError(app_commands.AppCommandError):
    """An error whose message is written for the member and can be shown as it is."""


def build_intents(message_content: bool = False) -> discord.Intents:
    """Only what LegDay uses: servers, messages in servers and DMs; message content only when asked for.

    Without the privileged message content intent Discord still sends the text of DMs and of messages
    that mention the bot, which is all chat intake needs; the intent lets members answer follow-up
    questions in a channel without mentioning the bot again.
    """
    intents = discord.Intents.none()
    intents.guilds = True
    intents.guild_messages = True
    intents.dm_messages = True
    intents.message_content = message_content
    return intents


def describe_interaction(interaction: discord.Interaction) -> str:
    """One log-friendly line of who did what where, to find a member's report in the logs."""
    command = interaction.command.qualified_name if interaction.command else None
    custom_id = (interaction.data or {}).get("custom_id") if interaction.data else None
    parts = [
        f"interaction={interaction.id}",
        f"type={interaction.type.name}",
        f"command={command}" if command else "",
        f"custom_id={custom_id}" if custom_id else "",
        f"user={interaction.user.id}",
        f"guild={interaction.guild_id}",
        f"channel={interaction.channel_id}",
    ]
    return " ".join(part for part in parts if part)


def interaction_origin(interaction: discord.Interaction) -> dt.datetime:
    """When the work behind an interaction began: the message its button or form sits on, else itself.

    A button pressed on a message from before the member's forget is stale work, however late it is
    pressed; storage refuses its member writes (see bot.storage.set_write_origin).
    """
    message = interaction.message
    if message is not None and interaction.type in (discord.InteractionType.component,
                                                    discord.InteractionType.modal_submit):
        return message.created_at
    return interaction.created_at


def bind_write_origin(interaction: discord.Interaction) -> None:
    """Mark the current task's storage writes as begun when this interaction's work began."""
    set_write_origin(interaction_origin(interaction))


def _token_gone(error: discord.HTTPException) -> bool:
    return isinstance(error, discord.NotFound) or error.code in EXPIRED_TOKEN_CODES


async def respond(
    interaction: discord.Interaction,
    content: str | None = None,
    *,
    ephemeral: bool = True,
    **kwargs: Any,
) -> bool:
    """Answer an interaction by its response if still open, else by a follow-up; False when too late.

    An interaction token lives 15 minutes; past that (or if Discord already dropped the interaction)
    nothing can be sent, so it is logged rather than raised into a second error.
    """
    sent = {key: value for key, value in kwargs.items() if value is not None}
    if content is not None:
        sent["content"] = content
    if interaction.is_expired():
        log.warning("token expired, answer dropped: %s", describe_interaction(interaction))
        return False
    try:
        if interaction.response.is_done():
            await interaction.followup.send(ephemeral=ephemeral, **sent)
        else:
            await interaction.response.send_message(ephemeral=ephemeral, **sent)
    except discord.HTTPException as error:
        if not _token_gone(error):
            raise
        log.warning(
            "interaction gone (code %s), answer dropped: %s", error.code, describe_interaction(interaction)
        )
        return False
    return True


def friendly_message(error: Exception) -> str | None:
    """Return the member-facing message for an error we expect; None for anything else (a bug to log)."""
    if isinstance(error, app_commands.CommandInvokeError):
        error = error.original
    elif isinstance(error, app_commands.TransformerError) and isinstance(
        error.__cause__, FriendlyError | MileageError | LegDayError | ValidationError
    ):
        # A transformer that validated with our own rules already wrote the member-facing message.
        error = error.__cause__
    if isinstance(error, DatabaseUnavailable):
        log.warning("database unreachable: %s", error.detail)
        return str(error)
    if isinstance(error, LegDayError):  # the core's errors carry their reader's message (bot/errors.py)
        return error.user_message
    if isinstance(error, FriendlyError | MileageError | MemberForgotten):
        return str(error)
    if isinstance(error, ValidationError):
        return "\n".join(friendly_errors(error))
    if isinstance(error, app_commands.CommandOnCooldown):
        wait = max(1, round(error.retry_after))
        return f"Easy there! You can use that again in {wait} second{'s' if wait != 1 else ''}."
    if isinstance(error, app_commands.MissingPermissions):
        needed = ", ".join(name.replace("_", " ") for name in error.missing_permissions)
        return f"That needs the {needed} permission in this server."
    if isinstance(error, app_commands.BotMissingPermissions):
        needed = ", ".join(name.replace("_", " ") for name in error.missing_permissions)
        return f"I need the {needed} permission here to do that. A server admin can grant it."
    if isinstance(error, app_commands.NoPrivateMessage):
        return "That command works in a server, not in DMs."
    if isinstance(error, app_commands.CheckFailure):
        return "That command isn't available to you here."
    if isinstance(error, app_commands.TransformerError):
        shown = str(error.value)[:40]
        return f"I couldn't read '{discord.utils.escape_mentions(shown)}' for that option. Please check it."
    if isinstance(error, app_commands.CommandNotFound | app_commands.CommandSignatureMismatch):
        return "That command has changed since Discord last loaded it. Please try again in a minute."
    return None


async def report_failure(interaction: discord.Interaction, error: Exception) -> None:
    """Answer the member with a short friendly message and log anything unexpected with context."""
    original = getattr(error, "original", error)
    if isinstance(original, discord.HTTPException) and _token_gone(original):
        # Discord dropped the interaction (too slow, or over 15 minutes): nothing can be sent to it.
        log.warning(
            "interaction gone (code %s) while answering: %s", original.code, describe_interaction(interaction)
        )
        return
    message = friendly_message(error)
    if message is None:
        log.error(
            "unhandled error: %s",
            describe_interaction(interaction),
            exc_info=(type(original), original, original.__traceback__),
        )
        message = GENERIC_FAILURE
    else:
        log.info("refused: %s reason=%s", describe_interaction(interaction), type(error).__name__)
    try:
        await respond(interaction, message, ephemeral=True)
    except discord.HTTPException:
        log.exception("could not send the error message: %s", describe_interaction(interaction))


class LegDayTree(app_commands.CommandTree):
    """The command tree, with one error handler that turns every failure into a friendly answer."""

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        """Let every interaction through, after marking its task's storage writes as begun when it began."""
        # Runs in the task that runs the command, so the origin covers everything the command saves.
        bind_write_origin(interaction)
        return True

    async def on_error(self, interaction: discord.Interaction, error: app_commands.AppCommandError) -> None:
        """Answer a failed command through the one error handler, `report_failure`."""
        await report_failure(interaction, error)


class LegDayBot(commands.AutoShardedBot):
    """The LegDay bot: holds the coach, storage and settings its extensions translate to and from.

    Sharded: it runs the shards the settings name (SHARD_IDS/SHARD_COUNT or CLUSTER_INDEX/CLUSTER_COUNT),
    or, with none set, as many as Discord advises, all in this process (one shard for a small bot).
    """

    def __init__(
        self,
        *,
        settings: Settings,
        coach: Coach,
        storage: Storage | None,
        extensions: tuple[str, ...] = EXTENSIONS,
        sync_on_start: bool = True,
    ) -> None:
        shard_ids, shard_count = settings.shards() if hasattr(settings, "shards") else (None, None)
        super().__init__(
            shard_ids=shard_ids,
            shard_count=shard_count,
            # No text commands: members use slash commands, and mentions go to chat intake.
            command_prefix=commands.when_mentioned,
            help_command=None,
            intents=build_intents(bool(getattr(settings, "message_content", False))),
            allowed_mentions=discord.AllowedMentions.none(),
            tree_cls=LegDayTree,
        )
        self.settings = settings
        self.coach = coach
        self.storage = storage
        # Per-server rules and FAQ live in storage, so without it every server gets the defaults.
        self.tuning: Tuning | None = None
        if coach is not None and storage is not None:
            # Tuning's calls are plain calls, often in worker threads: it gets the blocking API.
            self.tuning = Tuning(coach, getattr(storage, "sync", None) or storage)
        self.extension_names = extensions
        self.sync_on_start = sync_on_start
        # One heartbeat file per cluster, so each process's health is checked on its own.
        cluster = getattr(settings, "cluster_index", None)
        self.heartbeat_path = Path(settings.data_dir) / (HEARTBEAT_FILE if cluster is None
                                                         else f"{HEARTBEAT_FILE}-{cluster}")
        # Syncs commands and runs the once-per-bot jobs; the other clusters only serve their shards.
        self.is_primary = bool(getattr(settings, "is_primary", True))
        self.started_at = time.monotonic()
        # The time everything member-facing reads (tests replace it: no real waiting for a reminder).
        self.clock: Callable[[], dt.datetime] = discord.utils.utcnow
        self.reminders: ReminderService | None = None
        if storage is not None and hasattr(storage, "reminders"):
            self.reminders = ReminderService(storage, lambda: self.clock())
        self._reminder_task: asyncio.Task[None] | None = None
        self._reminder_wake = asyncio.Event()

    async def setup_hook(self) -> None:
        """Load the extensions, start the heartbeat, follow rule reloads made elsewhere, sync the dev server if set."""
        for name in self.extension_names:
            await self.load_extension(name)
        self._heartbeat.start()
        # Reminders are DMs, so one process sends them all: the one holding shard 0 (the primary).
        if self.reminders is not None and self.is_primary and getattr(self.settings, "reminders_loop", True):
            self._reminder_task = asyncio.create_task(self._run_reminders(), name="legday-reminders")
        changes = getattr(self.storage, "changes", None)
        if changes is not None:
            # Another process's `/rules reload` reloads the shipped rules here too (see `announce`).
            changes.subscribe(RULES_RELOADED, self._reload_rules)
            await changes.start()
        guild_id = self.settings.dev_guild_id
        # Only the dev server is synced at start-up: global sync is rate limited and slow to spread,
        # so it is done on purpose (`python -m bot sync` or /sync), never on every start.
        if self.sync_on_start and guild_id and self.is_primary:
            guild = discord.Object(id=guild_id)
            self.tree.copy_global_to(guild=guild)
            synced = await self.tree.sync(guild=guild)
            log.info("synced %d commands to dev guild %s", len(synced), guild_id)

    async def on_message(self, message: discord.Message) -> None:
        """Text commands are off; the chat extension listens to messages itself."""

    async def announce(self, topic: str) -> None:
        """Tell every other process sharing the database about a change made here (no-op on TinyDB)."""
        changes = getattr(self.storage, "changes", None)
        if changes is not None:
            await changes.announce(topic)

    async def _reload_rules(self, topic: str, version: int) -> None:
        if self.tuning is not None:
            loaded = await asyncio.to_thread(self.tuning.reload_defaults)
            log.info("rules reloaded after a change elsewhere (change %s): %s", version, loaded)

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        """Space IDENTIFYs across every process sharing the database; one process alone uses discord.py's."""
        identify_turn = getattr(self.storage, "identify_turn", None)
        if identify_turn is None:
            await super().before_identify_hook(shard_id, initial=initial)
            return
        # One bucket (max_concurrency 1, every bot's default): one IDENTIFY per 5 s for the whole bot.
        try:
            await identify_turn(0)
        except DatabaseUnavailable as exc:
            # Without the database the turn cannot be shared: wait discord.py's own 5 s instead.
            log.warning("IDENTIFY spacing without the database (%s)", exc.detail)
            await super().before_identify_hook(shard_id, initial=False)

    async def is_owner(self, user: discord.abc.User) -> bool:
        """True for the settings' owner ids, otherwise discord.py's check (the application's owner or team)."""
        if user.id in self.settings.owner_ids:
            return True
        return await super().is_owner(user)

    async def close(self) -> None:
        """Stop the heartbeat and the reminder task, then close the bot."""
        self._heartbeat.cancel()
        if self._reminder_task is not None:
            self._reminder_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reminder_task
        await super().close()

    def wake_reminders(self) -> None:
        """A schedule changed here: let the reminder task look again now rather than after its sleep."""
        self._reminder_wake.set()

    async def reminders_once(self) -> float:
        """Send what is due now; return how long to sleep (to the next due reminder, at most a minute)."""
        from bot.exts.checkin import send_due_reminders

        assert self.reminders is not None
        await send_due_reminders(self)
        return await self.reminders.seconds_to_next()

    async def _run_reminders(self) -> None:
        # Sleeps until the next due reminder (bounded, so other processes' changes are seen), sends,
        # and carries on after any error: a failed tick is logged and retried after the bound.
        from bot.reminders import MAX_SLEEP

        while not self.is_closed():
            try:
                wait = await self.reminders_once()
            except Exception:
                log.exception("reminder tick failed; retrying in %.0fs", MAX_SLEEP)
                wait = MAX_SLEEP
            self._reminder_wake.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._reminder_wake.wait(), timeout=max(wait, 0.05))

    @tasks.loop(seconds=HEARTBEAT_SECONDS)
    async def _heartbeat(self) -> None:
        # The container's HEALTHCHECK reads this file's age: fresh only while connected to Discord.
        if self.is_ready() and not self.is_closed():
            await asyncio.to_thread(self._touch_heartbeat)

    def _touch_heartbeat(self) -> None:
        try:
            self.heartbeat_path.parent.mkdir(parents=True, exist_ok=True)
            self.heartbeat_path.touch()
        except OSError:
            log.warning("could not write the heartbeat file %s", self.heartbeat_path)


async def maybe_await(value: Any) -> Any:
    """Await a value if it is awaitable; lets us call storage methods that may be sync or async."""
    if inspect.isawaitable(value):
        return await value
    return value
