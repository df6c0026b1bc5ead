"""Shared Discord UI pieces: views that answer only their member and disable themselves, cooldowns."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import discord
from discord import app_commands

from bot.client import bind_write_origin, describe_interaction, maybe_await, report_failure
from bot.text import escape_user_text

if TYPE_CHECKING:
    from bot.client import LegDayBot
    from bot.models import Profile

log = logging.getLogger("legday.discord.ui")
T = TypeVar("T")

# Views live a little under the 15 minutes an interaction token lasts, so they can still edit their
# message to disable themselves when they time out.
VIEW_TIMEOUT = 14 * 60.0
# Per member: a burst of 3, then one every 10 seconds. Generous for people, tight for spam.
COMMAND_RATE, COMMAND_PER = 3, 10.0
NOT_YOURS = "These buttons belong to someone else's answer. Use {command} to get your own."


def member_cooldown(rate: int = COMMAND_RATE, per: float = COMMAND_PER) -> Callable[[T], T]:
    """A per-member cooldown for an app command; the tree's error handler words the refusal."""
    return app_commands.checks.cooldown(rate, per, key=lambda interaction: interaction.user.id)


class MemberCooldown:
    """The same per-member limit for things that are not app commands (messages to the bot)."""

    def __init__(self, rate: int = COMMAND_RATE, per: float = COMMAND_PER) -> None:
        self.rate, self.per = rate, per
        self._buckets: dict[int, app_commands.Cooldown] = {}

    def retry_after(self, user_id: int) -> float | None:
        """Count one use; return the seconds to wait when over the limit, else None."""
        bucket = self._buckets.get(user_id)
        if bucket is None:
            if len(self._buckets) > 10_000:
                # Drop stale buckets so a long-running bot's memory does not grow with every member.
                self._buckets = {k: b for k, b in self._buckets.items() if b.get_tokens() < b.rate}
            bucket = self._buckets[user_id] = app_commands.Cooldown(self.rate, self.per)
        return bucket.update_rate_limit()


def bot_of(interaction: discord.Interaction) -> LegDayBot:
    return interaction.client  # type: ignore[return-value]


async def saved_profile(interaction: discord.Interaction) -> Profile | None:
    """The member's saved profile, or None (also when storage is not open)."""
    storage = bot_of(interaction).storage
    return await maybe_await(storage.profiles.get(interaction.user.id)) if storage is not None else None


def member_name(user: discord.abc.User) -> str:
    """A member's display name, safe to show (no markdown, no pings)."""
    return escape_user_text(user.display_name)[:64]


class OwnedView(discord.ui.View):
    """A view only its member can use; it disables itself on timeout and reports errors kindly."""

    command_hint = "/plan"

    def __init__(self, owner_id: int, *, timeout: float | None = VIEW_TIMEOUT) -> None:
        super().__init__(timeout=timeout)
        self.owner_id = owner_id
        # The latest interaction whose message carries this view: the one we can edit it through.
        self.interaction: discord.Interaction | None = None

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        if interaction.user.id == self.owner_id:
            self.interaction = interaction
            bind_write_origin(interaction)  # a view from before a forget cannot save the member back
            return True
        await interaction.response.send_message(NOT_YOURS.format(command=self.command_hint), ephemeral=True)
        return False

    def disable_all(self) -> None:
        for item in self.children:
            if hasattr(item, "disabled"):
                item.disabled = True  # type: ignore[attr-defined]

    async def on_timeout(self) -> None:
        self.disable_all()
        if self.interaction is None:
            return
        try:
            await self.interaction.edit_original_response(view=self)
        except discord.HTTPException as error:
            log.info("could not disable a timed-out view (%s): %s", error.code,
                     describe_interaction(self.interaction))

    async def on_error(self, interaction: discord.Interaction, error: Exception, item: Any) -> None:
        await report_failure(interaction, error)


class Paginator(OwnedView):
    """The one paginator: embeds to flip through with Previous and Next, disabled at the ends.

    For its member only. Plans and the moderators' lists both use it; subclasses add their own buttons
    after these. `prefix` names the buttons' custom ids (`<prefix>:prev`, `<prefix>:page`, `<prefix>:<next_id>`).
    """

    def __init__(self, owner_id: int, pages: Sequence[discord.Embed | dict[str, Any]], *, prefix: str,
                 next_id: str = "next") -> None:
        super().__init__(owner_id)
        self.pages = [page if isinstance(page, discord.Embed) else discord.Embed.from_dict(page) for page in pages]
        self.page = 0
        self.previous.custom_id, self.counter.custom_id = f"{prefix}:prev", f"{prefix}:page"
        self.next.custom_id = f"{prefix}:{next_id}"
        if len(self.pages) == 1:
            for item in (self.previous, self.counter, self.next):
                self.remove_item(item)
        self._refresh()

    def embed(self) -> discord.Embed:
        """The page shown now."""
        return self.pages[self.page]

    def counter_label(self) -> str:
        return f"{self.page + 1} / {len(self.pages)}"

    def _refresh(self) -> None:
        self.previous.disabled = self.page == 0
        self.next.disabled = self.page >= len(self.pages) - 1
        self.counter.label = self.counter_label()

    async def _show(self, interaction: discord.Interaction, page: int) -> None:
        self.page = max(0, min(page, len(self.pages) - 1))
        self._refresh()
        await interaction.response.edit_message(embed=self.embed(), view=self)

    @discord.ui.button(label="Previous", emoji="\N{BLACK LEFT-POINTING TRIANGLE}", custom_id="page:prev", row=0)
    async def previous(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        await self._show(interaction, self.page - 1)

    @discord.ui.button(label="1 / 1", custom_id="page:page", disabled=True, row=0)
    async def counter(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        """Only shows where the member is."""
        await interaction.response.defer()

    @discord.ui.button(label="Next", emoji="\N{BLACK RIGHT-POINTING TRIANGLE}", custom_id="page:next", row=0)
    async def next(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        await self._show(interaction, self.page + 1)


class LegDayModal(discord.ui.Modal):
    """A modal whose failures reach the member as a friendly message."""

    async def on_error(self, interaction: discord.Interaction, error: Exception) -> None:
        await report_failure(interaction, error)


def profile_lines(profile: Profile) -> list[tuple[str, str]]:
    """(label, value) for each part of a profile, in the words the form uses."""
    from bot.models import DAY_NAMES, EQUIPMENT_LABELS, FIELD_LABELS, GOAL_LABELS, LEVEL_LABELS, NIGGLE_LABELS

    race = profile.race_date.strftime("%a %d %b %Y") if profile.race_date else "none"
    return [
        (FIELD_LABELS["weekly_km"], profile.mileage_text),
        (FIELD_LABELS["level"], f"{profile.level.value}: {LEVEL_LABELS[profile.level]}"),
        (FIELD_LABELS["goals"], ", ".join(GOAL_LABELS[goal] for goal in profile.goals)),
        (FIELD_LABELS["days_per_week"], str(profile.days_per_week or "2 (the default)")),
        (FIELD_LABELS["long_run_day"], DAY_NAMES.get(profile.long_run_day or "", "no fixed day")),
        (FIELD_LABELS["hard_days"], ", ".join(DAY_NAMES[day] for day in profile.hard_days) or "none"),
        (FIELD_LABELS["equipment"],
         ", ".join(EQUIPMENT_LABELS[item] for item in profile.equipment) or "none (bodyweight)"),
        (FIELD_LABELS["niggles"], ", ".join(NIGGLE_LABELS[item] for item in profile.niggles) or "none"),
        (FIELD_LABELS["sharp_pain"], "yes" if profile.sharp_pain else "no"),
        (FIELD_LABELS["race_date"], race),
    ]


def profile_embed(profile: Profile, title: str = "Your LegDay profile") -> discord.Embed:
    """A profile as an embed with one inline field per part."""
    embed = discord.Embed(title=title, colour=discord.Colour.teal())
    for label, value in profile_lines(profile):
        embed.add_field(name=label, value=value, inline=True)
    return embed
