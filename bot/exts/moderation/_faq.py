"""/faq-admin: moderators add, edit and remove this server's FAQ answers, with a history."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.client import FriendlyError, respond
from bot.exts.faq import entry_embed
from bot.exts.moderation._checks import MODERATOR_HINT, SERVER_ONLY, is_moderator, moderator_only, tuning_of
from bot.exts.moderation._format import MOD_COLOUR, code_block, history_pages, pages_of, problems_message
from bot.exts.moderation._rules import HISTORY_FETCH, MODERATOR_ERRORS
from bot.exts.moderation._views import YAML_LIMIT, ConfirmView, ReopenView, YamlModal, send_pages
from bot.faq import FaqBase
from bot.text import EMBED_DESCRIPTION_LIMIT, EMBED_FIELD_VALUE_LIMIT, escape_user_text, truncate
from bot.tuning import entry_to_yaml

if TYPE_CHECKING:
    from bot.client import LegDayBot
    from bot.faq import FaqEntry

log = logging.getLogger("legday.discord.moderation")

ENTRIES_PER_PAGE = 12
ENTRY_PLACEHOLDER = "id: club-gym\nquestion: Where does the club lift?\nphrasings: [...]\nanswer: ..."
FAQ_SAVED = "Saved as change #{change}. Members in this server see it from now on."
FAQ_PREVIEW = "Nothing is saved yet. This is how members in this server would see it; Confirm to save."


def _guild(interaction: discord.Interaction) -> int:
    assert interaction.guild_id is not None  # the moderator check refuses DMs first
    return interaction.guild_id


def _find_entry(faq: FaqBase, entry_id: str) -> FaqEntry:
    entry = faq.get(entry_id.strip())
    if entry is None:
        raise FriendlyError(f"There's no FAQ entry `{escape_user_text(entry_id)[:60]}` in this server. "
                            "/faq-admin list shows them all.")
    return entry


async def entry_choices(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
    """FAQ entries of this server matching what the moderator typed; nothing for non-moderators."""
    if not is_moderator(interaction) or getattr(interaction.client, "tuning", None) is None:
        return []
    faq = tuning_of(interaction).faq_for(interaction.guild_id)
    return [app_commands.Choice(name=f"{entry_id} · {name}"[:100], value=entry_id)
            for entry_id, name in faq.search_topics(current)]


def entry_pages(faq: FaqBase, base: FaqBase) -> list[discord.Embed]:
    """Every entry with its question and whether it is a default, changed here, or this server's own."""
    lines = []
    for entry in faq.entries:
        default = base.get(entry.id)
        origin = "default" if entry == default else ("changed here" if default else "this server's own")
        lines.append(f"`{entry.id}` · {origin}\n{truncate(escape_user_text(entry.question), 100)}")
    hidden = [entry.id for entry in base.entries if entry.id not in faq]
    chunks = pages_of(lines, ENTRIES_PER_PAGE)
    embeds = []
    for number, chunk in enumerate(chunks, start=1):
        text = "\n".join(chunk)
        if hidden and number == len(chunks):
            text += "\n\nRemoved here: " + ", ".join(f"`{entry_id}`" for entry_id in hidden)
        embed = discord.Embed(title="This server's FAQ", colour=MOD_COLOUR,
                              description=truncate(text, EMBED_DESCRIPTION_LIMIT))
        embed.set_footer(text=f"Page {number} of {len(chunks)} · {len(faq)} entries")
        embeds.append(embed)
    return embeds


class FaqAdmin(commands.Cog):
    """The /faq-admin group."""

    faq_admin = app_commands.Group(
        name="faq-admin", description="Moderators: add, edit and remove this server's FAQ answers.",
        guild_only=True, allowed_contexts=SERVER_ONLY, default_permissions=MODERATOR_HINT,
    )

    def __init__(self, bot: LegDayBot) -> None:
        self.bot = bot

    @faq_admin.command(name="list", description="Every FAQ entry in this server and where it comes from.")
    @moderator_only()
    async def list_entries(self, interaction: discord.Interaction) -> None:
        tuning = tuning_of(interaction)
        embeds = entry_pages(tuning.faq_for(_guild(interaction)), tuning.coach.faq)
        problems = tuning.faq_problems(_guild(interaction))
        if problems:  # stored entries that were switched off (an old answer that can't be converted, say)
            embeds[0].add_field(name=f"{len(problems)} saved entr(y/ies) left out", inline=False,
                                value=code_block("\n".join(problems), EMBED_FIELD_VALUE_LIMIT, language=""))
        await send_pages(interaction, embeds, "/faq-admin list")

    @faq_admin.command(name="history", description="Who changed the FAQ and when, with before and after.")
    @moderator_only()
    async def history(self, interaction: discord.Interaction) -> None:
        entries = tuning_of(interaction).history(_guild(interaction), limit=HISTORY_FETCH)
        shown = [entry for entry in entries if entry.get("kind") == "faq" or entry.get("scope") == "faq"]
        await send_pages(interaction, history_pages(shown, "FAQ changes in this server"), "/faq-admin history")

    @faq_admin.command(name="add", description="Add an FAQ answer of this server's own, written in YAML.")
    @moderator_only()
    async def add(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_modal(self._modal("Add an FAQ entry"))

    @faq_admin.command(name="edit", description="Change an FAQ answer for this server, in YAML.")
    @app_commands.describe(entry="The entry's id; start typing to search.")
    @app_commands.autocomplete(entry=entry_choices)
    @moderator_only()
    async def edit(self, interaction: discord.Interaction, entry: str) -> None:
        tuning = tuning_of(interaction)
        found = _find_entry(tuning.faq_for(_guild(interaction)), entry)
        text = entry_to_yaml(found, tuning.coach.faq)
        if len(text) > YAML_LIMIT:
            raise FriendlyError(f"Entry `{found.id}` is too long to edit in a Discord form ({len(text):,} "
                                f"characters; the limit is {YAML_LIMIT:,}). Remove it and add a shorter one.")
        await interaction.response.send_modal(self._modal(f"Edit FAQ {found.id}", text))

    def _modal(self, title: str, text: str = "") -> YamlModal:
        async def submitted(interaction: discord.Interaction, typed: str) -> None:
            await self._save(interaction, typed, title)

        return YamlModal(title, "The FAQ entry, as YAML", submitted, text=text, placeholder=ENTRY_PLACEHOLDER)

    async def _save(self, interaction: discord.Interaction, text: str, title: str) -> None:
        """A submitted entry: validate it and show it as members would see it, with Confirm / Cancel."""
        if not is_moderator(interaction):
            raise FriendlyError("Only moderators can change the FAQ. Nothing was saved.")
        tuning = tuning_of(interaction)
        guild_id = _guild(interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)
        try:
            entry = await asyncio.to_thread(tuning.preview_faq_entry, guild_id, text)
        except MODERATOR_ERRORS as error:
            view = ReopenView(interaction.user.id, lambda: self._modal(title, text), "/faq-admin add")
            view.interaction = interaction
            await respond(interaction, problems_message(error), view=view)
            return
        seen = tuning.version_of(guild_id, "faq", entry.id)  # saved only if still so on Confirm
        exists = entry.id in tuning.faq_for(guild_id)

        embed = entry_embed(entry, None)  # rendered only: training a matcher for a preview would block the loop
        embed.title = truncate(f"{'Replace' if exists else 'Add'} FAQ {entry.id}? · {entry.question}", 256)
        view = ConfirmView(interaction.user.id, "/faq-admin",
                           lambda actor: tuning.save_faq_entry(guild_id, actor, text, seen),
                           lambda change: FAQ_SAVED.format(change=change))
        view.interaction = interaction
        await respond(interaction, FAQ_PREVIEW, embed=embed, view=view)

    @faq_admin.command(name="remove", description="Remove an FAQ answer from this server.")
    @app_commands.describe(entry="The entry's id; start typing to search.")
    @app_commands.autocomplete(entry=entry_choices)
    @moderator_only()
    async def remove(self, interaction: discord.Interaction, entry: str) -> None:
        tuning = tuning_of(interaction)
        guild_id = _guild(interaction)
        found = _find_entry(tuning.faq_for(guild_id), entry)
        seen = tuning.version_of(guild_id, "faq", found.id)

        embed = discord.Embed(title=f"Remove FAQ entry {found.id}?", colour=MOD_COLOUR,
                              description=truncate(escape_user_text(found.question), 300))
        view = ConfirmView(interaction.user.id, "/faq-admin",
                           lambda actor: tuning.remove_faq_entry(guild_id, actor, found.id, seen),
                           lambda change: f"Removed `{found.id}`, recorded as change #{change}. "
                                          f"/rules revert {change} brings it back.", "Nothing was removed:")
        view.interaction = interaction
        await respond(interaction, embed=embed, view=view)
