"""Owner-only tools: the global command sync, done on purpose rather than at every start."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Literal, TypeVar

import discord
from discord import app_commands
from discord.ext import commands

from bot.client import respond

if TYPE_CHECKING:
    from bot.client import LegDayBot

log = logging.getLogger("legday.discord.owner")
T = TypeVar("T")


async def _is_owner(interaction: discord.Interaction) -> bool:
    return await interaction.client.is_owner(interaction.user)  # type: ignore[attr-defined]


def owner_only() -> Callable[[T], T]:
    """Hide the command from non-admins (a hint servers can change) and enforce the owner list."""

    def decorator(func: T) -> T:
        func = app_commands.default_permissions(administrator=True)(func)
        return app_commands.check(_is_owner)(func)

    return decorator


class Owner(commands.Cog):
    """Commands for the people who run the bot."""

    def __init__(self, bot: LegDayBot) -> None:
        self.bot = bot

    @app_commands.command(name="sync", description="Owner only: publish LegDay's slash commands.")
    @app_commands.describe(scope="Everywhere (global, can take a few minutes) or only this server.")
    @owner_only()
    async def sync(
        self, interaction: discord.Interaction, scope: Literal["global", "this server"] = "global"
    ) -> None:
        """/sync: publish the slash commands globally or to this server, and say how many."""
        await interaction.response.defer(ephemeral=True, thinking=True)
        if scope == "this server":
            if interaction.guild is None:
                await respond(interaction, "Use `this server` inside a server, or choose `global`.")
                return
            self.bot.tree.copy_global_to(guild=interaction.guild)
            synced = await self.bot.tree.sync(guild=interaction.guild)
            where = "to this server"
        else:
            synced = await self.bot.tree.sync()
            where = "globally; Discord can take a few minutes to show them everywhere"
        log.info("sync by %s: %d commands %s", interaction.user.id, len(synced), scope)
        await respond(interaction, f"Synced {len(synced)} commands {where}.")


async def setup(bot: LegDayBot) -> None:
    """Add the owner cog."""
    await bot.add_cog(Owner(bot))
