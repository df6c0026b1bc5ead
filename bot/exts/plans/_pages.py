"""The delivered plan: one embed page per week, previous/next, Why, Download and Share in channel."""

from __future__ import annotations

import asyncio
import io
import logging
from typing import TYPE_CHECKING, Any

import discord

from bot.client import describe_interaction, maybe_await, respond
from bot.exts._ui import Paginator, bot_of, member_name
from bot.pictures import calendar_png

if TYPE_CHECKING:
    from bot.models import Plan, Profile

log = logging.getLogger("legday.discord.plans")

DM_SENT = "Sent to your DMs: your plan as a Markdown file and a calendar file to import."
DM_CLOSED = (
    "I couldn't DM you (your DMs from server members look closed), so here are your files. "
    "Import `legday-plan.ics` into your calendar for one event per session."
)
SHARED = "Shared this page in the channel."
SHARE_INTRO = "{name} shared their LegDay plan:"
PLAN_READY = "Here's your plan. Flip through the weeks below; it's saved, so /plan brings it back."
CALENDAR_FILE = "legday-calendar.png"


def plan_files(bot: Any, plan: Plan) -> list[discord.File]:
    """The Download attachments: the plan as Markdown and as a calendar."""
    renderer = bot.coach.renderer
    return [
        discord.File(io.BytesIO(renderer.markdown(plan).encode("utf-8")), filename="legday-plan.md"),
        discord.File(io.BytesIO(renderer.ics(plan)), filename="legday-plan.ics"),
    ]


class PlanView(Paginator):
    """Pages of a plan (overview, then a week a page), limited to its member, with Why, Download and Share."""

    def __init__(self, owner_id: int, plan: Plan, pages: list[dict[str, Any]], *, can_share: bool,
                 calendar: bytes | None = None, made: Plan | None = None) -> None:
        super().__init__(owner_id, pages, prefix="plan", next_id="next-page")
        self.plan = plan
        # The plan as made and stored, when `plan` is it adapted to check-ins: check-ins name that one.
        self.made = made or plan
        if not can_share:
            self.remove_item(self.share)
        # The calendar picture (PNG) is the overview page's image, attached only while that page shows.
        self.calendar = calendar
        if calendar is not None:
            self.pages[0].set_image(url=f"attachment://{CALENDAR_FILE}")

    def calendar_files(self) -> list[discord.File]:
        """The attachments the page shown now needs: the calendar on the overview, nothing on a week page."""
        if self.calendar is None or self.page != 0:
            return []
        return [discord.File(io.BytesIO(self.calendar), filename=CALENDAR_FILE)]

    async def _show(self, interaction: discord.Interaction, page: int) -> None:
        if self.calendar is None:
            await super()._show(interaction, page)
            return
        self.page = max(0, min(page, len(self.pages) - 1))
        self._refresh()
        await interaction.response.edit_message(embed=self.embed(), view=self, attachments=self.calendar_files())

    def counter_label(self) -> str:
        return "Overview" if self.page == 0 else f"Week {self.page} of {len(self.pages) - 1}"

    # Check-ins (bot/exts/checkin.py): "Log this session" on each week's page, for that week's sessions.
    def _refresh(self) -> None:
        super()._refresh()
        shown = self.log_session in self.children
        if self.page > 0 and not shown:
            self.add_item(self.log_session)
        elif self.page == 0 and shown:
            self.remove_item(self.log_session)

    @discord.ui.button(label="Log this session", style=discord.ButtonStyle.secondary, custom_id="plan:log", row=2)
    async def log_session(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        from bot.exts.checkin import open_checkin

        await open_checkin(interaction, self.made, week=self.page, source="button")

    @discord.ui.button(label="Why this plan?", style=discord.ButtonStyle.primary, custom_id="plan:why", row=1)
    async def why(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        embed = discord.Embed.from_dict(bot_of(interaction).coach.renderer.why_embed(self.plan))
        await respond(interaction, embed=embed)

    @discord.ui.button(label="Download", style=discord.ButtonStyle.secondary, custom_id="plan:download", row=1)
    async def download(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        bot = bot_of(interaction)
        try:
            await interaction.user.send(DM_SENT, files=plan_files(bot, self.plan))
        except discord.Forbidden:
            log.info("DMs closed, files sent in place: %s", describe_interaction(interaction))
            await respond(interaction, DM_CLOSED, files=plan_files(bot, self.plan))
            return
        await respond(interaction, DM_SENT)

    @discord.ui.button(label="Share in channel", style=discord.ButtonStyle.success, custom_id="plan:share",
                       row=1)
    async def share(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        # A public message has no view: the buttons stay with the member's private copy.
        await interaction.response.send_message(
            SHARE_INTRO.format(name=member_name(interaction.user)), embed=self.embed(), ephemeral=False,
            files=self.calendar_files(),
        )


def make_plan(bot: Any, guild_id: int | None, profile: Profile) -> Plan:
    """A plan with the server's effective rules (the defaults in DMs); it records their version."""
    tuning = getattr(bot, "tuning", None)
    if tuning is not None:
        return tuning.plan_for(guild_id, profile)
    return bot.coach.plan(profile)


async def deliver_plan(interaction: discord.Interaction, profile: Profile, *, in_place: bool = True) -> None:
    """Save the profile, build and save the plan, and show its first page.

    `in_place` replaces the message the button is on (the private form); otherwise the plan comes as
    a new private message (from a public chat message, say).
    """
    bot = bot_of(interaction)
    # Acknowledge now: building a plan can take longer than Discord's 3-second window under load.
    if in_place and interaction.type is discord.InteractionType.component:
        await interaction.response.defer()
    else:
        await interaction.response.defer(ephemeral=True, thinking=True)
    plan = await asyncio.to_thread(make_plan, bot, interaction.guild_id, profile)
    if bot.storage is not None:
        await maybe_await(bot.storage.profiles.save(interaction.user.id, profile, guild_id=interaction.guild_id))
        await maybe_await(bot.storage.plans.save(interaction.user.id, plan))
        bot.dispatch("plan_saved", interaction.user.id)  # reminders follow the new plan (bot/exts/checkin.py)
    log.info("plan user=%s template=%s withheld=%s rules=%s", interaction.user.id, plan.template,
             plan.withheld, plan.rules_version)
    failed = [entry.rule_id for entry in plan.trace if entry.status == "error"]
    if failed:
        # The member still got a plan; the rule's condition broke on their profile and was skipped.
        log.warning("rules skipped after failing: guild=%s rules=%s version=%s", interaction.guild_id,
                    ",".join(failed), plan.rules_version)
    await show_plan(interaction, plan)


async def show_plan(interaction: discord.Interaction, plan: Plan, *, made: Plan | None = None) -> None:
    """Show a plan's first page with its buttons, editing the deferred response (`made`: see PlanView)."""
    bot = bot_of(interaction)
    pages = bot.coach.renderer.pages(plan)
    calendar = await plan_calendar(bot, plan)
    view = PlanView(interaction.user.id, plan, pages, can_share=interaction.guild_id is not None, calendar=calendar,
                    made=made)
    view.interaction = interaction
    await interaction.edit_original_response(content=PLAN_READY, embed=view.embed(), view=view,
                                             attachments=view.calendar_files())


async def plan_calendar(bot: Any, plan: Plan) -> bytes | None:
    """The plan's calendar picture, drawn off the event loop; None for a withheld plan or if drawing fails."""
    if plan.withheld:
        return None
    try:
        return await asyncio.to_thread(calendar_png, plan, bot.coach.ruleset.catalog.races)
    except Exception:  # the plan pages matter more than their picture: log it and show them without
        log.exception("calendar picture failed: template=%s rules=%s", plan.template, plan.rules_version)
        return None
