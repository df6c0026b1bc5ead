"""The /plan command: saved profile or the form, then the plan."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.exts._ui import member_cooldown, saved_profile
from bot.exts.plans._form import FormState, SavedProfileView, saved_profile_message
from bot.exts.plans._pages import deliver_plan

if TYPE_CHECKING:
    from bot.client import LegDayBot


class Plans(commands.Cog):
    """Personal 4-week leg strength plans."""

    def __init__(self, bot: LegDayBot) -> None:
        self.bot = bot

    @app_commands.command(name="plan", description="Get your personal 4-week leg strength plan.")
    @member_cooldown()
    async def plan(self, interaction: discord.Interaction) -> None:
        profile = await saved_profile(interaction)
        if profile is None:
            await interaction.response.send_modal(FormState(interaction.user.id, deliver_plan).modal())
            return
        from bot.exts.checkin import plan_buttons

        extra = await plan_buttons(self.bot, interaction.user.id)
        view = SavedProfileView(interaction.user.id, profile, deliver_plan, extra)
        view.interaction = interaction
        embed = saved_profile_message(profile)
        if extra:
            embed.description += " Or see your current plan, adapted to your check-ins."
        await interaction.response.send_message(embed=embed, view=view, ephemeral=True)
