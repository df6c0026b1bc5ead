"""/help: what LegDay does, in a few lines."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

if TYPE_CHECKING:
    from bot.client import LegDayBot

HELP_TITLE = "LegDay: leg strength for runners"
HELP_TEXT = (
    "I build you a 4-week leg strength plan that fits around your running, "
    "and answer quick questions about strength work for runners.\n\n"
    "**/plan** make your plan (it takes about a minute)\n"
    "**/faq** or **/ask** get a quick answer\n"
    "**/checkin** tell me how a session went, and the rest of your block adapts\n"
    "**/progress** your block so far, with a chart\n"
    "**/reminders** a DM on your session days, at a time you choose\n"
    "**/profile** see, edit, export or forget what you told me\n\n"
    "You can also mention me or send me a DM in plain words, "
    "like *\"I run 40 km a week, new to lifting, racing a half in May\"*, "
    "or after a session, *\"did tuesday's, squats felt easy\"*.\n"
    "I never change your running, only where the strength work goes. "
    "Sharp joint pain is a reason to see a professional, not to train through it."
)
HELP_COLOUR = discord.Colour.green()


def help_embed() -> discord.Embed:
    """Build the help card, the same wherever it is shown."""
    return discord.Embed(title=HELP_TITLE, description=HELP_TEXT, colour=HELP_COLOUR)


class Help(commands.Cog):
    """The /help command."""

    def __init__(self, bot: LegDayBot) -> None:
        self.bot = bot

    @app_commands.command(name="help", description="What LegDay does and the commands to use.")
    async def help(self, interaction: discord.Interaction) -> None:
        """/help: show the help card privately."""
        await interaction.response.send_message(embed=help_embed(), ephemeral=True)


async def setup(bot: LegDayBot) -> None:
    """Add the help cog."""
    await bot.add_cog(Help(bot))
