"""/profile show, edit and forget: what LegDay stored about a member, under their control."""

from __future__ import annotations

import asyncio
import inspect
import logging
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.client import maybe_await, respond
from bot.exts._ui import OwnedView, bot_of, member_cooldown, profile_embed, saved_profile
from bot.exts.plans._form import FormState
from bot.exts.plans._pages import deliver_plan
from bot.storage import ForgetReceipt, writes_from

if TYPE_CHECKING:
    from bot.client import LegDayBot
    from bot.models import Profile

log = logging.getLogger("legday.discord.profile")

NO_PROFILE = "You haven't saved a profile yet. Use /plan to make one (it takes about a minute)."
SAVED = "Saved your profile. Want a fresh plan from it?"
FORGET_ASK = (
    "This deletes everything LegDay stored about you: your profile, your plan, check-ins, reminders and any "
    "conversation in progress. It can't be undone. Delete it all?"
)
FORGOTTEN = "Done. {receipt} You can start again any time with /plan."
KEPT = "Nothing was deleted."
EXPORTED = ("Here is everything LegDay stores about you, as JSON: profile, servers you planned in, plan, "
            "check-ins, reminders and any conversation in progress. Only you can see this.")
NO_STORAGE = "I have no database open right now, so there is nothing stored to export."


class RebuildView(OwnedView):
    """After an edit: offer a fresh plan from the saved profile."""

    command_hint = "/profile edit"

    def __init__(self, owner_id: int, profile: Profile) -> None:
        super().__init__(owner_id)
        self.profile = profile

    @discord.ui.button(label="Build my plan", style=discord.ButtonStyle.success, custom_id="profile:rebuild")
    async def rebuild(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        """Deliver a fresh plan from the saved profile."""
        self.stop()
        await deliver_plan(interaction, self.profile)


class ForgetView(OwnedView):
    """Confirm before deleting a member's data."""

    command_hint = "/profile forget"

    @discord.ui.button(label="Delete everything", style=discord.ButtonStyle.danger, custom_id="profile:forget")
    async def forget(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        """Delete everything stored about the member and show the receipt."""
        self.stop()
        storage = bot_of(interaction).storage
        if storage is None:
            await interaction.response.edit_message(content=FORGOTTEN.format(receipt=ForgetReceipt(
                forgotten_at=discord.utils.utcnow()).summary()), view=None)
            return
        # Rewrites the member's database file and the backups (tens of ms) before answering, so the
        # answer is true on disk when the member reads it.
        forget = storage.forget_member
        receipt = (await forget(interaction.user.id) if inspect.iscoroutinefunction(forget)
                   else await asyncio.to_thread(forget, interaction.user.id))
        log.info("forget user=%s removed=%s", interaction.user.id, receipt.counts())
        await interaction.response.edit_message(content=FORGOTTEN.format(receipt=receipt.summary()), view=None)

    @discord.ui.button(label="Keep it", style=discord.ButtonStyle.secondary, custom_id="profile:keep")
    async def keep(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        """Delete nothing, and say so."""
        self.stop()
        await interaction.response.edit_message(content=KEPT, view=None)


async def save_edit(interaction: discord.Interaction, profile: Profile) -> None:
    """Finish /profile edit: save the profile and offer a fresh plan."""
    storage = bot_of(interaction).storage
    if storage is not None:
        await maybe_await(storage.profiles.save(interaction.user.id, profile))
    view = RebuildView(interaction.user.id, profile)
    view.interaction = interaction
    await interaction.response.edit_message(content=SAVED, embed=profile_embed(profile), view=view)


class ProfileCog(commands.Cog):
    """The /profile group."""

    group = app_commands.Group(name="profile", description="See, edit or forget what LegDay knows about you.")

    def __init__(self, bot: LegDayBot) -> None:
        self.bot = bot

    @group.command(name="show", description="See the profile your plans are made from.")
    @member_cooldown()
    async def show(self, interaction: discord.Interaction) -> None:
        """/profile show: the saved profile, privately, or how to make one."""
        profile = await saved_profile(interaction)
        if profile is None:
            await respond(interaction, NO_PROFILE)
            return
        await respond(interaction, embed=profile_embed(profile))

    @group.command(name="edit", description="Change your saved profile.")
    @member_cooldown()
    async def edit(self, interaction: discord.Interaction) -> None:
        """/profile edit: open the form on the saved profile; a forget since it opened makes the save stale."""
        profile = await saved_profile(interaction)
        if profile is None:
            await respond(interaction, NO_PROFILE)
            return
        began = interaction.created_at

        async def save_if_not_forgotten(submitted: discord.Interaction, edited: Profile) -> None:
            # The form was opened by this command: a forget in between makes the save stale.
            with writes_from(began):
                await save_edit(submitted, edited)

        state = FormState(interaction.user.id, save_if_not_forgotten, profile, finish_label="Save")
        await interaction.response.send_modal(state.modal())

    @group.command(name="export", description="Get everything LegDay stored about you, as a JSON file.")
    @member_cooldown()
    async def export(self, interaction: discord.Interaction) -> None:
        """/profile export: the member's data as a private JSON file."""
        if self.bot.storage is None:
            await respond(interaction, NO_STORAGE)
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        from bot.exts.checkin import export_file

        await respond(interaction, EXPORTED, file=await export_file(self.bot, interaction.user.id))

    @group.command(name="forget", description="Delete everything LegDay stored about you.")
    @member_cooldown()
    async def forget(self, interaction: discord.Interaction) -> None:
        """/profile forget: ask to confirm before deleting the member's data."""
        view = ForgetView(interaction.user.id)
        view.interaction = interaction
        await respond(interaction, FORGET_ASK, view=view)


async def setup(bot: LegDayBot) -> None:
    """Add the profile cog."""
    await bot.add_cog(ProfileCog(bot))
