"""Chat intake: mention the bot or DM it in plain words; questions go to the FAQ, facts start a plan.

The conversation itself lives in the core (`bot.conversation`) and in storage between messages, and
its buttons are dynamic items that find it again by the member and channel, so a conversation in
progress carries on after a restart.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any

import discord
from discord.ext import commands, tasks

from bot.client import maybe_await, report_failure
from bot.conversation import DEFAULT_TTL, Conversation, Question
from bot.exts._ui import MemberCooldown, bot_of
from bot.exts.faq import faq_for, message_reply
from bot.exts.plans._pages import deliver_plan
from bot.intake import classify_message
from bot.models import FIELD_LABELS

if TYPE_CHECKING:
    from bot.client import LegDayBot

log = logging.getLogger("legday.discord.chat")

SMALLTALK = (
    "Hi! Tell me about your running in a sentence, like *\"I run 30 km a week, new to lifting, want to "
    "get faster\"*, and I'll build you a leg strength plan. Or ask me a question. /help shows more."
)
EXPIRED = "Our last chat went quiet, so I started fresh."
SLOW_DOWN = "Easy there! Give me {wait} second{s} and try again."
CONFIRM_TITLE = "Is this right?"
PLAN_SENT = "Your plan is ready; I've shown it to you privately."
NOT_YOURS = "This conversation belongs to someone else. Mention me or DM me to start your own."
GONE = "That conversation has ended. Mention me or DM me to start a new one."
EXPIRE_EVERY_MINUTES = 5
MENTION_RE = re.compile(r"<@!?\d+>")


def conversation_key(user_id: int, channel_id: int | None, is_dm: bool) -> str:
    """The storage key: one conversation per member per channel, or per member in DMs."""
    return f"dm:{user_id}" if is_dm else f"{channel_id}:{user_id}"


def key_for(interaction: discord.Interaction) -> str:
    return conversation_key(interaction.user.id, interaction.channel_id, interaction.guild_id is None)


async def load(bot: LegDayBot, key: str) -> Conversation | None:
    if bot.storage is None:
        return None
    state = await maybe_await(bot.storage.conversations.get(key))
    return Conversation.model_validate(state) if state else None


async def save(bot: LegDayBot, conversation: Conversation) -> None:
    if bot.storage is not None:
        await maybe_await(bot.storage.conversations.save(conversation.key, conversation.model_dump(mode="json")))


async def forget(bot: LegDayBot, key: str) -> None:
    if bot.storage is not None:
        await maybe_await(bot.storage.conversations.delete(key))


def next_step(conversation: Conversation, user_id: int, lead: str = "") -> dict[str, Any]:
    """The message that moves the conversation on: the next question, or the summary to confirm."""
    question = conversation.next_question()
    if question is not None:
        content = f"{lead}\n{question.prompt}".strip()
        return {"content": content, "view": question_view(question, user_id)}
    embed = discord.Embed(title=CONFIRM_TITLE, description=conversation.summary(), colour=discord.Colour.teal())
    view = discord.ui.View(timeout=None)
    view.add_item(ConfirmButton(user_id))
    view.add_item(ChangeButton(user_id))
    return {"content": lead or None, "embed": embed, "view": view}


def question_view(question: Question, user_id: int) -> discord.ui.View | None:
    """A select for a question with options (and Skip when it may be skipped); None for typed answers."""
    if not question.options and not question.optional:
        return None
    view = discord.ui.View(timeout=None)
    if question.options:
        view.add_item(AnswerSelect(question.field, user_id, question))
    if question.optional:
        view.add_item(SkipButton(question.field, user_id))
    return view


class _Owned:
    """Checks shared by the conversation's dynamic items: right member, conversation still there."""

    user_id: int

    async def _conversation(self, interaction: discord.Interaction) -> Conversation | None:
        if interaction.user.id != self.user_id:
            await interaction.response.send_message(NOT_YOURS, ephemeral=True)
            return None
        conversation = await load(bot_of(interaction), key_for(interaction))
        if conversation is None or conversation.is_expired(discord.utils.utcnow()):
            await interaction.response.send_message(GONE, ephemeral=True)
            return None
        return conversation

    async def _reply(self, interaction: discord.Interaction, conversation: Conversation,
                     error: str | None) -> None:
        bot = bot_of(interaction)
        conversation.updated_at = discord.utils.utcnow()
        await save(bot, conversation)
        step = next_step(conversation, self.user_id, lead=error or "")
        await interaction.response.send_message(**{k: v for k, v in step.items() if v is not None})


class AnswerSelect(_Owned, discord.ui.DynamicItem[discord.ui.Select],
                   template=r"chat:pick:(?P<field>[a-z_]+):(?P<user>\d+)"):
    """The options of one question, as a select menu."""

    def __init__(self, field: str, user_id: int, question: Question | None = None) -> None:
        options = question.options if question else []
        super().__init__(discord.ui.Select(
            custom_id=f"chat:pick:{field}:{user_id}",
            placeholder=FIELD_LABELS.get(field, field),
            min_values=1,
            max_values=len(options) if question and question.multi else 1,
            options=[discord.SelectOption(label=o.label[:100], value=o.value) for o in options[:25]]
            or [discord.SelectOption(label="-", value="-")],
        ))
        self.field = field
        self.user_id = user_id

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Select,
                             match: re.Match[str]) -> AnswerSelect:
        made = cls(match["field"], int(match["user"]))
        made.item.options = item.options
        return made

    async def callback(self, interaction: discord.Interaction) -> None:
        try:
            conversation = await self._conversation(interaction)
            if conversation is None:
                return
            values = self.item.values  # type: ignore[attr-defined]
            value: Any = values if len(values) != 1 or self.field in ("goals", "hard_days", "equipment",
                                                                       "niggles") else values[0]
            error = conversation.set_field(self.field, value)
            await self._reply(interaction, conversation, error)
        except Exception as error:
            await report_failure(interaction, error)


class SkipButton(_Owned, discord.ui.DynamicItem[discord.ui.Button],
                 template=r"chat:skip:(?P<field>[a-z_]+):(?P<user>\d+)"):
    """Skip an optional question."""

    def __init__(self, field: str, user_id: int) -> None:
        super().__init__(discord.ui.Button(label="Skip", style=discord.ButtonStyle.secondary,
                                           custom_id=f"chat:skip:{field}:{user_id}"))
        self.field = field
        self.user_id = user_id

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Button,
                             match: re.Match[str]) -> SkipButton:
        return cls(match["field"], int(match["user"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        try:
            conversation = await self._conversation(interaction)
            if conversation is None:
                return
            await self._reply(interaction, conversation, conversation.set_field(self.field, None))
        except Exception as error:
            await report_failure(interaction, error)


class ConfirmButton(_Owned, discord.ui.DynamicItem[discord.ui.Button], template=r"chat:confirm:(?P<user>\d+)"):
    """'Looks right': finish the conversation and deliver the plan privately."""

    def __init__(self, user_id: int) -> None:
        super().__init__(discord.ui.Button(label="Looks right", style=discord.ButtonStyle.success,
                                           custom_id=f"chat:confirm:{user_id}"))
        self.user_id = user_id

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Button,
                             match: re.Match[str]) -> ConfirmButton:
        return cls(int(match["user"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        try:
            conversation = await self._conversation(interaction)
            if conversation is None:
                return
            error = conversation.confirm()
            if error:
                await self._reply(interaction, conversation, error)
                return
            await forget(bot_of(interaction), conversation.key)
            log.info("chat intake done user=%s key=%s", interaction.user.id, conversation.key)
            await deliver_plan(interaction, conversation.to_profile(), in_place=False)
        except Exception as error:
            await report_failure(interaction, error)


class ChangeButton(_Owned, discord.ui.DynamicItem[discord.ui.Button], template=r"chat:change:(?P<user>\d+)"):
    """'Change': pick which answer to give again."""

    def __init__(self, user_id: int) -> None:
        super().__init__(discord.ui.Button(label="Change", style=discord.ButtonStyle.secondary,
                                           custom_id=f"chat:change:{user_id}"))
        self.user_id = user_id

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Button,
                             match: re.Match[str]) -> ChangeButton:
        return cls(int(match["user"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        try:
            if await self._conversation(interaction) is None:
                return
            view = discord.ui.View(timeout=None)
            view.add_item(FieldSelect(self.user_id))
            await interaction.response.send_message("What should I change?", view=view, ephemeral=True)
        except Exception as error:
            await report_failure(interaction, error)


class FieldSelect(_Owned, discord.ui.DynamicItem[discord.ui.Select], template=r"chat:field:(?P<user>\d+)"):
    """Which answer to change."""

    def __init__(self, user_id: int) -> None:
        from bot.conversation import ORDER

        super().__init__(discord.ui.Select(
            custom_id=f"chat:field:{user_id}", placeholder="Choose what to change",
            options=[discord.SelectOption(label=FIELD_LABELS[f], value=f) for f in ORDER],
        ))
        self.user_id = user_id

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Select,
                             match: re.Match[str]) -> FieldSelect:
        return cls(int(match["user"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        try:
            conversation = await self._conversation(interaction)
            if conversation is None:
                return
            error = conversation.change(self.item.values[0])  # type: ignore[attr-defined]
            await self._reply(interaction, conversation, error)
        except Exception as error:
            await report_failure(interaction, error)


class Chat(commands.Cog):
    """Plain-words intake and questions by mention or DM."""

    def __init__(self, bot: LegDayBot) -> None:
        self.bot = bot
        self.cooldown = MemberCooldown()

    async def cog_load(self) -> None:
        self.expire_old.start()

    async def cog_unload(self) -> None:
        self.expire_old.cancel()

    @tasks.loop(minutes=EXPIRE_EVERY_MINUTES)
    async def expire_old(self) -> None:
        # Abandoned conversations are removed so storage does not keep half-told profiles forever.
        if self.bot.storage is not None and getattr(self.bot, "is_primary", True):
            removed = await maybe_await(self.bot.storage.conversations.expire(discord.utils.utcnow() - DEFAULT_TTL))
            if removed:
                log.info("expired %d abandoned conversations", removed)

    def _addressed(self, message: discord.Message) -> bool:
        if message.guild is None:
            return True
        return self.bot.user is not None and self.bot.user in message.mentions

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        if message.author.bot or self.bot.user is None:
            return
        is_dm = message.guild is None
        key = conversation_key(message.author.id, message.channel.id, is_dm)
        text = MENTION_RE.sub(" ", message.content).strip()
        addressed = self._addressed(message)
        ongoing = await load(self.bot, key) if (addressed or text) else None
        # Without a mention in a server, only a reply to an ongoing conversation is ours to read.
        if not addressed and ongoing is None:
            return
        wait = self.cooldown.retry_after(message.author.id)
        if wait is not None:
            seconds = max(1, round(wait))
            await self._send(message, content=SLOW_DOWN.format(wait=seconds, s="s" if seconds != 1 else ""))
            return
        try:
            await self._handle(message, key, text, ongoing)
        except Exception:
            log.exception("chat failed user=%s channel=%s", message.author.id, message.channel.id)
            await self._send(message, content="Sorry, something went wrong on my side. Please try again.")

    async def _handle(self, message: discord.Message, key: str, text: str, ongoing: Conversation | None) -> None:
        now = discord.utils.utcnow()
        user_id = message.author.id
        lead = ""
        if ongoing is not None and ongoing.is_expired(now):
            await forget(self.bot, key)
            ongoing, lead = None, EXPIRED
        if ongoing is not None:
            error = ongoing.answer(text, now)
            await save(self.bot, ongoing)
            await self._send(message, **next_step(ongoing, user_id, lead=error or ""))
            return
        kind = classify_message(text)
        log.info("chat user=%s kind=%s", user_id, kind)
        if kind == "question":
            profile = await maybe_await(self.bot.storage.profiles.get(user_id)) if self.bot.storage else None
            faq = faq_for(self.bot, message.guild.id if message.guild else None)
            await self._send(message, **message_reply(faq, text, profile))
            return
        if kind == "smalltalk":
            await self._send(message, content=f"{lead}\n{SMALLTALK}".strip())
            return
        conversation = Conversation.start(key, text, now)
        await save(self.bot, conversation)
        await self._send(message, **next_step(conversation, user_id, lead=lead))

    async def _send(self, message: discord.Message, **kwargs: Any) -> None:
        sent = {k: v for k, v in kwargs.items() if v is not None}
        try:
            await message.reply(mention_author=False, **sent)
        except discord.Forbidden:
            log.info("cannot reply in channel=%s user=%s", message.channel.id, message.author.id)


async def setup(bot: LegDayBot) -> None:
    """Add the chat cog and the conversation's restart-proof buttons."""
    bot.add_dynamic_items(AnswerSelect, SkipButton, ConfirmButton, ChangeButton, FieldSelect)
    await bot.add_cog(Chat(bot))

