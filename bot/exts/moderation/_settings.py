"""/settings: server administrators choose LegDay's moderator role."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.client import FriendlyError, respond
from bot.exts.moderation._checks import ADMIN_HINT, SERVER_ONLY, admin_only, moderator_role_id, tuning_of
from bot.exts.moderation._rules import MODERATOR_ERRORS

if TYPE_CHECKING:
    from bot.client import LegDayBot

log = logging.getLogger("legday.discord.moderation")

EVERYONE_REFUSED = ("@everyone can't be the moderator role: every member would be able to change the rules. "
                    "Choose a role only your moderators have.")


class ServerSettings(commands.Cog):
    """The /settings group."""

    settings = app_commands.Group(
        name="settings", description="Administrators: LegDay's settings for this server.",
        guild_only=True, allowed_contexts=SERVER_ONLY, default_permissions=ADMIN_HINT,
    )

    def __init__(self, bot: LegDayBot) -> None:
        self.bot = bot

    @settings.command(name="modrole", description="Choose the role (besides Manage Server) that may tune LegDay.")
    @app_commands.describe(role="The moderators' role; leave it out to clear it.")
    @admin_only()
    async def modrole(self, interaction: discord.Interaction, role: discord.Role | None = None) -> None:
        tuning = tuning_of(interaction)
        assert interaction.guild_id is not None  # admin_only refuses DMs first
        if role is not None and role.id == interaction.guild_id:
            raise FriendlyError(EVERYONE_REFUSED)
        if (role.id if role else None) == moderator_role_id(interaction):
            raise FriendlyError("That is already the setting; nothing changed.")
        try:
            change = await asyncio.to_thread(tuning.set_mod_role, interaction.guild_id, interaction.user.id,
                                             role.id if role else None)
        except MODERATOR_ERRORS as error:
            raise FriendlyError(str(error)) from None
        log.info("modrole set to %s in guild=%s by user=%s (change %s)", role.id if role else None,
                 interaction.guild_id, interaction.user.id, change)
        if role is None:
            text = f"Cleared the moderator role (change #{change}): only members with Manage Server can tune LegDay."
        else:
            text = (f"Members with <@&{role.id}> can now tune LegDay here (change #{change}). Discord shows the "
                    "moderator commands to Manage Server members by default; to show them to this role too, "
                    "allow it under Server Settings → Integrations → LegDay.")
        await respond(interaction, text)
