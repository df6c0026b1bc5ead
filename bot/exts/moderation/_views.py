"""Moderator UI pieces: paged embeds, Confirm / Cancel, and the YAML modal that can be reopened."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence

import discord

from bot.client import respond
from bot.errors import LegDayError
from bot.exts._ui import LegDayModal, OwnedView, Paginator
from bot.exts.moderation._checks import NOT_MODERATOR, is_moderator
from bot.exts.moderation._format import NOT_SAVED, problems_message

log = logging.getLogger("legday.discord.moderation")

YAML_LIMIT = 4000  # a modal text input holds at most 4,000 characters
CANCELLED = "Cancelled. Nothing was changed."

# Called with the submitting interaction and the text typed into the modal.
Submit = Callable[[discord.Interaction, str], Awaitable[None]]


class PagesView(Paginator):
    """A moderator's list or history as pages (the one paginator of bot/exts/_ui.py)."""

    def __init__(self, owner_id: int, embeds: Sequence[discord.Embed], command_hint: str) -> None:
        super().__init__(owner_id, embeds, prefix="mod")
        self.command_hint = command_hint


async def send_pages(interaction: discord.Interaction, embeds: Sequence[discord.Embed], command_hint: str) -> None:
    """Answer privately with the first page and its buttons (none when there is one page)."""
    view = PagesView(interaction.user.id, embeds, command_hint)
    view.interaction = interaction
    await respond(interaction, embed=view.embed(), view=view if view.children else None)


class ConfirmView(OwnedView):
    """Confirm / Cancel for one moderator change, exposing its outcome (Red's ConfirmView is the model).

    `result` is None until a button is pressed, then False (cancelled), the change's number, or the
    LegDayError that refused it; `message` is what the moderator was told. The change itself is `change`:
    given the confirming moderator's id, it makes the change (in a worker thread) and returns its number.
    The moderator check runs again on Confirm, since time has passed.
    """

    def __init__(self, owner_id: int, command_hint: str, change: Callable[[int], int],
                 saved: Callable[[int], str], refused: str = NOT_SAVED) -> None:
        super().__init__(owner_id)
        self.command_hint = command_hint
        self.change, self.saved, self.refused = change, saved, refused
        self.result: int | bool | LegDayError | None = None
        self.message: str | None = None

    @discord.ui.button(label="Confirm", style=discord.ButtonStyle.danger, custom_id="mod:confirm")
    async def confirm(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        if not is_moderator(interaction):
            await interaction.response.send_message(NOT_MODERATOR, ephemeral=True)
            return
        self.stop()
        await interaction.response.defer()
        try:
            self.result = await asyncio.to_thread(self.change, interaction.user.id)
        except LegDayError as error:
            self.result, self.message = error, problems_message(error, self.refused)
        else:
            log.info("change %s made with %s in guild=%s by user=%s", self.result, self.command_hint,
                     interaction.guild_id, interaction.user.id)
            self.message = self.saved(self.result)
        await interaction.edit_original_response(content=self.message, view=None)

    @discord.ui.button(label="Cancel", style=discord.ButtonStyle.secondary, custom_id="mod:cancel")
    async def cancel(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        self.stop()
        self.result, self.message = False, CANCELLED
        await interaction.response.edit_message(content=CANCELLED, view=None)


class YamlModal(LegDayModal):
    """One paragraph input holding the YAML of a rule or a FAQ entry."""

    def __init__(self, title: str, label: str, submit: Submit, *, text: str = "", placeholder: str = "") -> None:
        super().__init__(title=title[:45], custom_id="mod:yaml", timeout=None)
        self.submit = submit
        self.text: discord.ui.TextInput = discord.ui.TextInput(
            label=label[:45], custom_id="mod:yaml:text", style=discord.TextStyle.paragraph,
            default=text[:YAML_LIMIT] or None, placeholder=placeholder[:100] or None,
            required=True, max_length=YAML_LIMIT,
        )
        self.add_item(self.text)

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await self.submit(interaction, self.text.value)


class ReopenView(OwnedView):
    """After a validation error: one button that opens the modal again holding what was typed."""

    def __init__(self, owner_id: int, reopen: Callable[[], YamlModal], command_hint: str) -> None:
        super().__init__(owner_id)
        self.reopen = reopen
        self.command_hint = command_hint

    @discord.ui.button(label="Edit the YAML again", style=discord.ButtonStyle.primary, custom_id="mod:reopen")
    async def again(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        self.stop()
        await interaction.response.send_modal(self.reopen())
