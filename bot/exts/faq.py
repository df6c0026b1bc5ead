"""Quick answers: /faq with topic autocomplete, /ask in your own words, buttons for the closest topics."""

from __future__ import annotations

import asyncio
import logging
import re
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.client import report_failure, respond
from bot.exts._ui import bot_of, member_cooldown, saved_profile
from bot.text import EMBED_TITLE_LIMIT, truncate

if TYPE_CHECKING:
    from bot.client import LegDayBot
    from bot.faq import FaqBase, FaqEntry
    from bot.models import Profile

log = logging.getLogger("legday.discord.faq")

MAX_TOPIC_BUTTONS = 3
BUTTON_LABEL_LIMIT = 80
ANSWER_COLOUR = discord.Colour.blurple()
PERSONAL_FOOTER = "Answer tailored to your saved profile."
GENERAL_FOOTER = "Tip: make a plan with /plan and answers will use your details."


def faq_for(bot: Any, guild_id: int | None) -> FaqBase:
    """The FAQ a server's members get: the defaults with the server's moderators' changes."""
    if getattr(bot, "tuning", None) is not None:
        return bot.tuning.faq_for(guild_id)
    return bot.coach.faq


async def faq_of(interaction: discord.Interaction) -> FaqBase:
    """The interaction's server FAQ, fetched off the event loop: a server's first use after a start trains it."""
    return await asyncio.to_thread(faq_for, bot_of(interaction), interaction.guild_id)


def answer_embed(faq: FaqBase, entry_id: str, profile: Profile | None) -> discord.Embed:
    """One FAQ answer as an embed: the question as title, the (personalised) answer as description."""
    entry = faq.get(entry_id)
    if entry is None:
        raise KeyError(f"No FAQ entry with id '{entry_id}'.")
    return entry_embed(entry, profile)


def entry_embed(entry: FaqEntry, profile: Profile | None) -> discord.Embed:
    """An entry's answer as an embed, without a matcher: what members see, also for a moderator's preview."""
    embed = discord.Embed(title=truncate(entry.question, EMBED_TITLE_LIMIT), description=entry.render(profile),
                          colour=ANSWER_COLOUR)
    embed.set_footer(text=PERSONAL_FOOTER if profile is not None else GENERAL_FOOTER)
    return embed


class TopicButton(discord.ui.DynamicItem[discord.ui.Button], template=r"faq:topic:(?P<entry>[a-z0-9-]+)"):
    """A button that answers one FAQ topic; it works on any message, also after a restart."""

    def __init__(self, entry_id: str, label: str | None = None) -> None:
        super().__init__(
            discord.ui.Button(
                label=truncate(label or entry_id, BUTTON_LABEL_LIMIT),
                style=discord.ButtonStyle.secondary,
                custom_id=f"faq:topic:{entry_id}",
            )
        )
        self.entry_id = entry_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str]
    ) -> TopicButton:
        """Rebuild the button from a clicked custom id, keeping its label."""
        return cls(match["entry"], item.label)

    async def callback(self, interaction: discord.Interaction) -> None:
        """Answer the button's topic privately."""
        try:
            await send_topic(interaction, self.entry_id)
        except Exception as error:
            await report_failure(interaction, error)


def topics_view(faq: FaqBase, entry_ids: list[str], exclude: str | None = None) -> discord.ui.View | None:
    """Buttons for up to three other topics; None when there are none to offer."""
    chosen = [i for i in entry_ids if i != exclude and faq.get(i) is not None][:MAX_TOPIC_BUTTONS]
    if not chosen:
        return None
    view = discord.ui.View(timeout=None)
    for entry_id in chosen:
        view.add_item(TopicButton(entry_id, faq.get(entry_id).question))  # type: ignore[union-attr]
    return view


def related_topics(faq: FaqBase, entry_id: str) -> list[str]:
    """The topics closest to one entry, judged by the matcher from that entry's own question."""
    entry = faq.get(entry_id)
    if entry is None:
        return []
    found = faq.match(entry.question)
    ranked = ([found.entry_id] if found.entry_id else []) + found.alternatives
    return [i for i in ranked if i != entry_id]


GONE = ("That topic (`{entry}`) isn't in this server's FAQ any more; a moderator may have removed it. "
        "Ask your question with /faq and I'll find the closest answer.")


async def send_topic(interaction: discord.Interaction, entry_id: str) -> None:
    """Answer one known topic, privately, with buttons for the closest others; a removed one is said so."""
    faq = await faq_of(interaction)
    if faq.get(entry_id) is None:  # an old button, from before a moderator removed or renamed the entry
        await respond(interaction, GONE.format(entry=entry_id[:40]))
        return
    profile = await saved_profile(interaction)
    embed = answer_embed(faq, entry_id, profile)
    await respond(interaction, embed=embed, view=topics_view(faq, related_topics(faq, entry_id), entry_id))


async def send_question(interaction: discord.Interaction, question: str) -> None:
    """Answer a question in the member's words: the answer, a 'did you mean', or a polite no."""
    faq = await faq_of(interaction)
    profile = await saved_profile(interaction)
    reply = faq.answer(question, profile)
    log.info("ask user=%s status=%s entry=%s", interaction.user.id, reply.status, reply.entry_id)
    if reply.status == "answer" and reply.entry_id is not None:
        await send_topic(interaction, reply.entry_id)
        return
    await respond(interaction, reply.text, view=topics_view(faq, reply.match.alternatives))


def message_reply(faq: FaqBase, question: str, profile: Profile | None) -> dict[str, Any]:
    """The keyword arguments for answering a question asked in a message (mention or DM)."""
    reply = faq.answer(question, profile)
    if reply.status == "answer" and reply.entry_id is not None:
        return {
            "embed": answer_embed(faq, reply.entry_id, profile),
            "view": topics_view(faq, related_topics(faq, reply.entry_id), reply.entry_id),
        }
    return {"content": reply.text, "view": topics_view(faq, reply.match.alternatives)}


class Faq(commands.Cog):
    """The /faq and /ask commands."""

    def __init__(self, bot: LegDayBot) -> None:
        self.bot = bot

    @app_commands.command(name="faq", description="Quick answers about leg strength for runners.")
    @app_commands.describe(topic="Start typing to see the topics.")
    @member_cooldown()
    async def faq(self, interaction: discord.Interaction, topic: str) -> None:
        """/faq: answer the picked topic, or treat typed text as a question."""
        faq = await faq_of(interaction)
        if faq.get(topic) is not None:
            await send_topic(interaction, topic)
        else:
            # Typed without picking a suggestion: treat it as a question.
            await send_question(interaction, topic)

    @faq.autocomplete("topic")
    async def faq_topics(self, interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        """The server's FAQ topics matching what the member has typed so far."""
        faq = await faq_of(interaction)
        return [app_commands.Choice(name=name, value=entry_id) for entry_id, name in faq.search_topics(current)]

    @app_commands.command(name="ask", description="Ask a question about leg strength in your own words.")
    @app_commands.describe(question="For example: will squats make my legs heavy for my long run?")
    @member_cooldown()
    async def ask(self, interaction: discord.Interaction, question: app_commands.Range[str, 1, 300]) -> None:
        """/ask: answer a question in the member's own words."""
        await send_question(interaction, question)


async def setup(bot: LegDayBot) -> None:
    """Add the FAQ cog and its restart-proof topic buttons."""
    bot.add_dynamic_items(TopicButton)
    await bot.add_cog(Faq(bot))
