"""/progress: the block so far, privately (pain is a health detail): a short summary and a chart."""

from __future__ import annotations

import asyncio
import io
import logging
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.checkins import load_checkins
from bot.client import maybe_await, respond
from bot.exts._ui import bot_of, member_cooldown
from bot.progress import progress_png, summarise, summary_text
from bot.text import EMBED_DESCRIPTION_LIMIT, truncate

if TYPE_CHECKING:
    from bot.client import LegDayBot

log = logging.getLogger("legday.discord.progress")

NO_PLAN = "You don't have a plan yet, so there's no progress to show. Make one with /plan."
CHART_FILE = "legday-progress.png"
EMBED_COLOUR = 0x009E73


class ProgressCog(commands.Cog):
    """The /progress command."""

    def __init__(self, bot: LegDayBot) -> None:
        self.bot = bot

    @app_commands.command(name="progress", description="See how your block is going: sessions, loads and pain.")
    @member_cooldown()
    async def progress(self, interaction: discord.Interaction) -> None:
        """/progress: the member's sessions, loads and pain so far, only to them."""
        await interaction.response.defer(ephemeral=True, thinking=True)
        storage = bot_of(interaction).storage
        plan = await maybe_await(storage.plans.latest(interaction.user.id)) if storage is not None else None
        if plan is None:
            await respond(interaction, NO_PLAN)
            return
        stored = await maybe_await(storage.checkins.list(interaction.user.id))
        from bot.exts.checkin import member_now

        today = (await member_now(bot_of(interaction), interaction.user.id)).date()  # the member's own date
        summary = summarise(plan, load_checkins(stored), today)
        text = truncate(summary_text(summary), EMBED_DESCRIPTION_LIMIT)
        embed = discord.Embed(title="Your progress", description=text, colour=EMBED_COLOUR)
        if not summary.has_chart:
            await respond(interaction, embed=embed)
            return
        # Drawing the chart takes tens to hundreds of milliseconds: off the event loop.
        png = await asyncio.to_thread(progress_png, summary)
        embed.set_image(url=f"attachment://{CHART_FILE}")
        log.info("progress user=%s checkins=%s", interaction.user.id, summary.checkins)
        await respond(interaction, embed=embed, file=discord.File(io.BytesIO(png), filename=CHART_FILE))


async def setup(bot: LegDayBot) -> None:
    """Add the progress cog."""
    await bot.add_cog(ProgressCog(bot))
