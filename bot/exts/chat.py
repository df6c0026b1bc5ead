"""Chat intake: mention the bot or DM it in plain words; questions go to the FAQ, facts start a plan.

The conversation itself lives in the core (`bot.conversation`) and in storage between messages, and
its buttons are dynamic items that find it again by the member and channel, so a conversation in
progress carries on after a restart.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
from collections import Counter
from typing import TYPE_CHECKING, Any

import discord
from discord.ext import commands, tasks

from bot.checkins import CheckIn, load_checkins
from bot.client import friendly_message, maybe_await, report_failure
from bot.conversation import CHECKIN_CONFIRM, DEFAULT_TTL, Conversation, Question, Reply, respond, step
from bot.exts._ui import MemberCooldown, bot_of
from bot.exts.faq import faq_for, message_reply
from bot.exts.plans._pages import PlanView, deliver_plan, make_plan
from bot.intake import warm_up
from bot.models import FIELD_LABELS, Plan, Profile

if TYPE_CHECKING:
    from bot.client import LegDayBot

log = logging.getLogger("legday.discord.chat")

SMALLTALK = (
    "Hi! Tell me about your running in a sentence, like *\"I run 30 km a week, new to lifting, want to "
    "get faster\"*, and I'll build you a leg strength plan. Or ask me a question. /help shows more."
)
EXPIRED = "Our last chat went quiet, so I started fresh."
MOVED_TO_DM = "I've sent you a DM, so we can carry on in private."
DMS_CLOSED = ("I'd like to carry on in private, but I can't DM you. Use /plan for a private form, or allow "
              "DMs from server members and mention me again.")
# Messages a member may have waiting while an earlier one is read: far more than anyone answering types
# ahead; beyond this they are spam, not answers.
MAX_QUEUED = 20
# The longest a paced message waits for its turn (the member's cooldown).
MAX_WAIT_SECONDS = 10.0
CONFIRM_TITLE = "Is this right?"
CHECKIN_TITLE = "Log this check-in?"
PLAN_SENT = "Your plan is ready; I've shown it to you privately."
NOT_YOURS = "This conversation belongs to someone else. Mention me or DM me to start your own."
GONE = "That conversation has ended. Mention me or DM me to start a new one."
EXPIRE_EVERY_MINUTES = 5
MENTION_RE = re.compile(r"<@!?\d+>")


def conversation_key(user_id: int, channel_id: int | None, is_dm: bool) -> str:
    """The storage key: one conversation per member per channel, or per member in DMs."""
    return f"dm:{user_id}" if is_dm else f"{channel_id}:{user_id}"


def key_for(interaction: discord.Interaction) -> str:
    """The storage key of the conversation an interaction belongs to."""
    return conversation_key(interaction.user.id, interaction.channel_id, interaction.guild_id is None)


async def load(bot: LegDayBot, key: str) -> Conversation | None:
    """The stored conversation under `key`, or None (always None without storage)."""
    if bot.storage is None:
        return None
    state = await maybe_await(bot.storage.conversations.get(key))
    return Conversation.model_validate(state) if state else None


async def save(bot: LegDayBot, conversation: Conversation) -> None:
    """Store the conversation under its key (nothing without storage)."""
    if bot.storage is not None:
        await maybe_await(bot.storage.conversations.save(conversation.key, conversation.model_dump(mode="json")))


async def forget(bot: LegDayBot, key: str) -> None:
    """Delete the conversation under `key` from storage (nothing without storage)."""
    if bot.storage is not None:
        await maybe_await(bot.storage.conversations.delete(key))


def render(reply: Reply, user_id: int) -> dict[str, Any]:
    """Discord message arguments for one of the core's replies (question, confirm card or help line)."""
    if reply.kind == "question" and reply.question is not None:
        content = f"{reply.lead}\n{reply.question.prompt}".strip()
        return {"content": content, "view": question_view(reply.question, user_id)}
    if reply.kind == "confirm":
        description = "\n".join(f"**{label}:** {value}" for label, value in reply.summary) or "Nothing yet."
        embed = discord.Embed(title=CONFIRM_TITLE, description=description, colour=discord.Colour.teal())
        view = discord.ui.View(timeout=None)
        view.add_item(ConfirmButton(user_id))
        view.add_item(ChangeButton(user_id))
        return {"content": reply.lead or None, "embed": embed, "view": view}
    if reply.kind == "checkin":
        description = "\n".join(f"**{label}:** {value}" for label, value in reply.summary) or "Nothing yet."
        embed = discord.Embed(title=CHECKIN_TITLE, description=description, colour=discord.Colour.teal())
        embed.set_footer(text=CHECKIN_CONFIRM.replace("`", ""))
        view = discord.ui.View(timeout=None)
        view.add_item(CheckinButton("ok", user_id))
        view.add_item(CheckinButton("cancel", user_id))
        return {"content": reply.lead or None, "embed": embed, "view": view}
    if reply.kind in ("logged", "message"):
        return {"content": reply.text[:2000]}
    return {"content": f"{reply.lead}\n{SMALLTALK}".strip()}


def next_step(conversation: Conversation, user_id: int, lead: str = "") -> dict[str, Any]:
    """The message that moves the conversation on: the next question, or the summary to confirm."""
    return render(step(conversation, lead), user_id)


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
        """Rebuild the select from a clicked custom id, keeping the clicked menu's options."""
        made = cls(match["field"], int(match["user"]))
        made.item.options = item.options
        return made

    async def callback(self, interaction: discord.Interaction) -> None:
        """Record the picked option(s) as the answer and send the next step."""
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
        """Rebuild the button from a clicked custom id."""
        return cls(match["field"], int(match["user"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        """Skip the question and send the next step."""
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
        """Rebuild the button from a clicked custom id."""
        return cls(int(match["user"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        """Finish the conversation and deliver the plan privately; if it can't finish yet, say what is still needed."""
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
        """Rebuild the button from a clicked custom id."""
        return cls(int(match["user"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        """Offer, privately, a select of the answers that can be given again."""
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
        """Rebuild the select from a clicked custom id."""
        return cls(int(match["user"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        """Clear the chosen answer and send its question again."""
        try:
            conversation = await self._conversation(interaction)
            if conversation is None:
                return
            error = conversation.change(self.item.values[0])  # type: ignore[attr-defined]
            await self._reply(interaction, conversation, error)
        except Exception as error:
            await report_failure(interaction, error)


async def member_plan(bot: LegDayBot, user_id: int) -> tuple[Plan | None, list[CheckIn]]:
    """The member's current plan (as made) and their stored check-ins; nothing without storage."""
    if bot.storage is None:
        return None, []
    plan = await maybe_await(bot.storage.plans.latest(user_id))
    if plan is None:
        return None, []
    return plan, load_checkins(await maybe_await(bot.storage.checkins.list(user_id)))


async def keep_checkin(bot: LegDayBot, user_id: int, reply: Reply) -> None:
    """Store a check-in the member confirmed (the `logged` reply's), before its reply is shown."""
    if reply.kind == "logged" and reply.checkin is not None and bot.storage is not None:
        await maybe_await(bot.storage.checkins.add(user_id, reply.checkin))
        log.info("check-in logged user=%s session=%s", user_id, reply.checkin.get("session"))


class CheckinButton(_Owned, discord.ui.DynamicItem[discord.ui.Button],
                    template=r"chat:checkin:(?P<action>ok|cancel):(?P<user>\d+)"):
    """'Log it' or 'Cancel' on a check-in read from chat: the same as typing `looks right` or `cancel`."""

    def __init__(self, action: str, user_id: int) -> None:
        label, style = ("Log it", discord.ButtonStyle.success) if action == "ok" else (
            "Cancel", discord.ButtonStyle.secondary)
        super().__init__(discord.ui.Button(label=label, style=style, custom_id=f"chat:checkin:{action}:{user_id}"))
        self.action = action
        self.user_id = user_id

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Button,
                             match: re.Match[str]) -> CheckinButton:
        """Rebuild the button from a clicked custom id."""
        return cls(match["action"], int(match["user"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        """Log (or drop) the check-in waiting in the conversation, and say what changed in the plan."""
        try:
            conversation = await self._conversation(interaction)
            if conversation is None:
                return
            bot = bot_of(interaction)
            plan, checkins = await member_plan(bot, self.user_id)
            text = "looks right" if self.action == "ok" else "cancel"
            conversation, replies = await asyncio.to_thread(respond, conversation, conversation.key, text,
                                                            discord.utils.utcnow(), plan, checkins)
            if conversation is None:
                await forget(bot, key_for(interaction))
            else:
                await save(bot, conversation)
            for reply in replies:
                await keep_checkin(bot, self.user_id, reply)
            shown = render(replies[0], self.user_id) if replies else {"content": GONE}
            await interaction.response.send_message(**{k: v for k, v in shown.items() if v is not None},
                                                    allowed_mentions=discord.AllowedMentions.none())
        except Exception as error:
            await report_failure(interaction, error)


class Chat(commands.Cog):
    """Plain-words intake and questions by mention or DM."""

    def __init__(self, bot: LegDayBot) -> None:
        self.bot = bot
        self.cooldown = MemberCooldown()
        # One turn at a time per member, in the order they typed: a fast answer waits, it is never dropped.
        self._turns: dict[int, asyncio.Lock] = {}
        self._queued: Counter[int] = Counter()

    async def cog_load(self) -> None:
        """Warm up the message reader off the event loop, then start expiring abandoned conversations."""
        # Train the reader's classifier and load dateparser now, not on the first member's message.
        await asyncio.to_thread(warm_up)
        self.expire_old.start()

    async def cog_unload(self) -> None:
        """Stop expiring abandoned conversations."""
        self.expire_old.cancel()

    @tasks.loop(minutes=EXPIRE_EVERY_MINUTES)
    async def expire_old(self) -> None:
        """Remove conversations not updated for DEFAULT_TTL (on the primary process only)."""
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
        """Take a DM, a mention, or a message carrying on the member's conversation, one turn at a time per member."""
        if message.author.bot or self.bot.user is None:
            return
        is_dm = message.guild is None
        key = conversation_key(message.author.id, message.channel.id, is_dm)
        text = MENTION_RE.sub(" ", message.content).strip()
        addressed = self._addressed(message)
        # Without a mention in a server, only a reply to an ongoing conversation is ours to read.
        if not addressed and (not text or await load(self.bot, key) is None):
            return
        user_id = message.author.id
        if self._queued[user_id] >= MAX_QUEUED:
            # Spam: more messages waiting than anyone types while answering; these are not answers we asked for.
            log.info("chat queue full user=%s", user_id)
            return
        self._queued[user_id] += 1
        lock = self._turns.setdefault(user_id, asyncio.Lock())
        try:
            async with lock:
                await self._turn(message, key, text)
        except Exception as error:
            # Expected errors (the database unreachable, a forgotten member's stale work) say what happened.
            known = friendly_message(error)
            if known is None:
                log.exception("chat failed user=%s channel=%s", user_id, message.channel.id)
            await self._send(message, content=known or "Sorry, something went wrong on my side. Please try again.")
        finally:
            self._queued[user_id] -= 1
            if self._queued[user_id] <= 0:
                del self._queued[user_id]
                self._turns.pop(user_id, None)

    async def _turn(self, message: discord.Message, key: str, text: str) -> None:
        """One message, read after the member's earlier ones: an answer goes straight in; new work is paced."""
        now = discord.utils.utcnow()
        ongoing = await load(self.bot, key)
        answering = ongoing is not None and not ongoing.is_expired(now)
        if not answering:
            # Starting a conversation or asking the FAQ is the expensive, spammable work: it is paced per
            # member, and a message over the limit waits its turn instead of being refused.
            wait = self.cooldown.retry_after(message.author.id)
            if wait is not None:
                await asyncio.sleep(min(wait, MAX_WAIT_SECONDS))
        if message.guild is not None:
            await self._in_server(message, key, text, ongoing, now)
            return
        # Reading a long message costs milliseconds of CPU: done off the event loop, one message per member
        # at a time (the member's lock above), so other members are never kept waiting behind it.
        plan, checkins = await self._plan_for(message.author.id, ongoing, now)
        conversation, replies = await asyncio.to_thread(respond, ongoing, key, text, now, plan, checkins)
        if conversation is None:
            await forget(self.bot, key)
        else:
            await save(self.bot, conversation)
        log.info("chat user=%s replies=%s", message.author.id, ",".join(r.kind for r in replies))
        for reply in replies:
            await self._deliver(message, reply, message)

    async def _in_server(self, message: discord.Message, key: str, text: str, ongoing: Conversation | None,
                         now: dt.datetime) -> None:
        """In a server channel: questions are answered there; an intake moves to DM, health questions and all."""
        dm_key = conversation_key(message.author.id, None, is_dm=True)
        if ongoing is not None:
            # A conversation begun in a channel before intake went private: carry it on in DM.
            await forget(self.bot, key)
        plan, checkins = await self._plan_for(message.author.id, ongoing, now)
        conversation, replies = await asyncio.to_thread(respond, ongoing, dm_key, text, now, plan, checkins)
        if conversation is None and all(reply.kind in ("faq", "help") for reply in replies):
            for reply in replies:
                await self._deliver(message, reply, message, public=True)
            return
        try:
            channel = await message.author.create_dm()
            for reply in replies:
                await self._deliver(message, reply, channel)
        except discord.Forbidden:
            log.info("dms closed user=%s", message.author.id)
            await self._send(message, content=DMS_CLOSED)
            return
        if conversation is not None:
            await save(self.bot, conversation)
        await self._send(message, content=MOVED_TO_DM)

    async def _plan_for(self, user_id: int, ongoing: Conversation | None,
                        now: dt.datetime) -> tuple[Plan | None, list[CheckIn]]:
        """The member's plan and check-ins when the message may be a check-in (not in the middle of intake)."""
        if ongoing is not None and not ongoing.is_expired(now) and ongoing.stage != "checkin":
            return None, []
        return await member_plan(self.bot, user_id)

    async def _deliver(self, message: discord.Message, reply: Reply, where: discord.abc.Messageable,
                       *, public: bool = False) -> None:
        """Send one reply: to the member's message (`where` is its channel) or into their DM channel."""
        user_id = message.author.id
        await keep_checkin(self.bot, user_id, reply)
        if reply.kind == "faq":
            # In a channel the answer is for everyone, so it is not shaped by the member's saved profile.
            profile = None
            if not public and self.bot.storage is not None:
                profile = await maybe_await(self.bot.storage.profiles.get(user_id))
            # Off the event loop: a server's first question after a start trains its FAQ (about a second).
            faq = await asyncio.to_thread(faq_for, self.bot, message.guild.id if message.guild else None)
            kwargs = message_reply(faq, reply.asked or "", profile)
        elif reply.kind == "done" and reply.profile is not None:
            await self._send_plan(message, reply.profile, where)
            return
        else:
            kwargs = render(reply, user_id)
        if where is message or where is message.channel:
            await self._send(message, **kwargs)
        else:
            await where.send(**{k: v for k, v in kwargs.items() if v is not None},
                             allowed_mentions=discord.AllowedMentions.none())

    async def _send_plan(self, message: discord.Message, profile: Profile, where: Any) -> None:
        """The runner confirmed by typing: save profile and plan, and show the plan privately (their DM)."""
        guild_id = message.guild.id if message.guild else None
        plan = await asyncio.to_thread(make_plan, self.bot, guild_id, profile)
        if self.bot.storage is not None:
            await maybe_await(self.bot.storage.profiles.save(message.author.id, profile, guild_id=guild_id))
            await maybe_await(self.bot.storage.plans.save(message.author.id, plan))
        pages = self.bot.coach.renderer.pages(plan)
        view = PlanView(message.author.id, plan, pages, can_share=False)
        target = where if where is not message else message.channel
        await target.send(embed=view.embed(), view=view, allowed_mentions=discord.AllowedMentions.none())

    async def _send(self, message: discord.Message, **kwargs: Any) -> None:
        sent = {k: v for k, v in kwargs.items() if v is not None}
        try:
            await message.reply(mention_author=False, **sent)
        except discord.Forbidden:
            log.info("cannot reply in channel=%s user=%s", message.channel.id, message.author.id)


async def setup(bot: LegDayBot) -> None:
    """Add the chat cog and the conversation's restart-proof buttons."""
    bot.add_dynamic_items(AnswerSelect, SkipButton, ConfirmButton, ChangeButton, FieldSelect, CheckinButton)
    await bot.add_cog(Chat(bot))

