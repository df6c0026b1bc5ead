"""/plan: the intake form, then the paginated plan. Only setup() lives here; the parts are in _modules."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.exts.plans._cog import Plans

if TYPE_CHECKING:
    from bot.client import LegDayBot


async def setup(bot: LegDayBot) -> None:
    """Add the plans cog."""
    await bot.add_cog(Plans(bot))
