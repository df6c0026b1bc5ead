"""Who may tune LegDay in a server: the moderator gate (a visibility hint plus a real run-time check)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import discord
from discord import app_commands

from bot.client import FriendlyError

if TYPE_CHECKING:
    from bot.tuning import Tuning

T = TypeVar("T")

# The hint Discord uses to decide who sees the commands. Server admins can change it in their
# integration settings, so it is never trusted on its own: every command checks again when it runs.
MODERATOR_HINT = discord.Permissions(manage_guild=True)
ADMIN_HINT = discord.Permissions(administrator=True)
# Offered in servers only; the checks refuse DMs too, for clients that still show an old command list.
SERVER_ONLY = app_commands.AppCommandContext(guild=True)

NOT_MODERATOR = (
    "Sorry, tuning LegDay is for this server's moderators: members with the Manage Server permission, "
    "or the moderator role an admin chose with /settings modrole. Nothing was changed."
)
NOT_ADMIN = "Sorry, only server administrators can choose LegDay's moderator role. Nothing was changed."
NOT_OWNER = "Sorry, only the people who run LegDay can reload its default rules. Nothing was changed."
NO_TUNING = "Moderator tools need LegDay's storage, which isn't open right now. Please try again later."


class ModeratorOnly(FriendlyError, app_commands.CheckFailure):
    """A member without the right to run a moderator command; the message is the polite refusal."""


def tuning_of(interaction: discord.Interaction) -> Tuning:
    """The bot's Tuning, or a friendly error when storage (and so tuning) is not available."""
    tuning = getattr(interaction.client, "tuning", None)
    if tuning is None:
        raise FriendlyError(NO_TUNING)
    return tuning


def moderator_role_id(interaction: discord.Interaction) -> int | None:
    """The server's moderator role, if an administrator set one."""
    storage = getattr(interaction.client, "storage", None)
    if storage is None or interaction.guild_id is None:
        return None
    role_id = storage.sync.guilds.get(interaction.guild_id).get("mod_role_id")
    return role_id if isinstance(role_id, int) else None


def is_moderator(interaction: discord.Interaction) -> bool:
    """Manage Server (or administrator) in this server, or the server's moderator role; never in DMs."""
    if interaction.guild_id is None:
        return False
    permissions = interaction.permissions
    if permissions.administrator or permissions.manage_guild:
        return True
    role_id = moderator_role_id(interaction)
    member = interaction.user
    return role_id is not None and isinstance(member, discord.Member) and member.get_role(role_id) is not None


async def check_moderator(interaction: discord.Interaction) -> bool:
    """The run-time check behind every moderator command; raises the polite refusal."""
    if interaction.guild_id is None:
        raise app_commands.NoPrivateMessage()
    if not is_moderator(interaction):
        raise ModeratorOnly(NOT_MODERATOR)
    return True


async def check_admin(interaction: discord.Interaction) -> bool:
    """Administrators only (choosing who counts as a moderator is above a moderator's pay grade)."""
    if interaction.guild_id is None:
        raise app_commands.NoPrivateMessage()
    if not interaction.permissions.administrator:
        raise ModeratorOnly(NOT_ADMIN)
    return True


async def check_owner(interaction: discord.Interaction) -> bool:
    """The bot's owners (settings.owner_ids or the application owner)."""
    client: Any = interaction.client
    if not await client.is_owner(interaction.user):
        raise ModeratorOnly(NOT_OWNER)
    return True


def moderator_only() -> Callable[[T], T]:
    """Decorate a moderator command: enforced at run time whatever the server's permission settings say."""
    return app_commands.check(check_moderator)


def admin_only() -> Callable[[T], T]:
    """Decorate an administrator command."""
    return app_commands.check(check_admin)


def owner_only() -> Callable[[T], T]:
    """Decorate a command for the bot's owners."""
    return app_commands.check(check_owner)
