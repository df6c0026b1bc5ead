"""Moderator commands: /rules, /faq-admin and /settings. Only setup() lives here; the parts are in _modules."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.exts.moderation._faq import FaqAdmin
from bot.exts.moderation._rules import Rules
from bot.exts.moderation._settings import ServerSettings

if TYPE_CHECKING:
    from bot.client import LegDayBot


async def setup(bot: LegDayBot) -> None:
    """Add the moderator cogs."""
    await bot.add_cog(Rules(bot))
    await bot.add_cog(FaqAdmin(bot))
    await bot.add_cog(ServerSettings(bot))
