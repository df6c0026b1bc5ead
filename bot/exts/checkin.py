"""/checkin, the plan pages' "Log this session", /reminders and the reminder DMs with their buttons.

Every answer is private (ephemeral, or the member's own DMs): a check-in holds health details. The core does
the work: bot/checkins.py validates and refuses (`check_against`), bot/adapt.py adapts the plan,
bot/reminders.py keeps the schedule; this module only asks and shows.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import json
import logging
import re
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands
from pydantic import ValidationError

from bot.adapt import adapt, next_block
from bot.checkins import CheckIn, CheckInError, ExerciseLog, check_against, load_checkins, plan_id
from bot.client import bind_write_origin, maybe_await, report_failure, respond
from bot.exts._ui import LegDayModal, OwnedView, bot_of, member_cooldown
from bot.models import NIGGLE_LABELS, MileageError, Plan, Session, friendly_errors, parse_mileage
from bot.reminders import COMMON_ZONES, SNOOZES, ReminderError, ReminderService, local_now, read_time, read_zone

if TYPE_CHECKING:
    from bot.client import LegDayBot

log = logging.getLogger("legday.discord.checkin")

NO_PLAN = "You don't have a plan yet, so there is nothing to check in. Make one with /plan."
NO_STORED_PLAN = "You don't have a plan saved any more. Make one with /plan."
NO_SESSIONS = "None of your plan's sessions has come round yet; check in once you've done (or skipped) one."
NO_STORAGE = "I can't store check-ins right now (no database is open), so nothing was saved."
PICK_SESSION = "Which session are you checking in? (Only you can see this.)"
MILEAGE_ONLY = "mileage"
SAVED = "Logged {what}."
NO_CHANGE = "No change to your plan: it stays as it is."
DMS_CLOSED_NOTICE = ("I couldn't DM your last reminder (your DMs look closed), so I turned reminders off. "
                     "Allow DMs from this server's members, then turn them back on with `/reminders on`.")
REMINDERS_ON = "Reminders are on: a DM on each session day at {at} ({zone}). {next}"
REMINDERS_OFF = "Reminders are off. Turn them on again any time with `/reminders on`."
ON_DM_CLOSED = ("I couldn't DM you (your DMs look closed), so reminders stay off. Allow DMs from this "
                "server's members, then try `/reminders on` again.")
REMINDER_INTRO = "It's a strength day: **{focus}** today, about {minutes} min ({day})."
EXPORT_NAME = "legday-my-data.json"

STATUS_LABELS = {"done": "Done", "partly": "Partly", "skipped": "Skipped"}
# How hard it felt, as reps left in reserve on the last set (RIR) and the easy / ok / hard word.
EFFORTS: dict[str, tuple[str, int, str]] = {
    "easy": ("Easy: 3 or more reps left", 3, "easy"),
    "ok": ("OK: about 2 reps left", 2, "ok"),
    "hard": ("Hard: 1 rep left", 1, "hard"),
    "max": ("Very hard: no reps left", 0, "hard"),
}
HIT = {"yes": "Hit the target reps on every set", "no": "Fell short of the target reps"}
PAIN_KINDS = {"gone": "Gone by the next morning", "lingering": "Still there the next morning",
              "sharp": "Sharp or stabbing pain"}
RUN_FEELS = {"good": "Next run felt good", "ok": "Next run felt OK", "bad": "Next run felt bad"}


def now_of(bot: Any) -> dt.datetime:
    """The bot's clock (tests replace `bot.clock`)."""
    return getattr(bot, "clock", discord.utils.utcnow)()


def day_text(day: dt.date) -> str:
    """A date as members read it: 'Tue 1 Dec'."""
    return f"{day:%a} {day.day} {day:%b}"


async def member_now(bot: Any, user_id: int) -> dt.datetime:
    """Now on the member's clock: their reminder zone if they set one, else UTC."""
    now = now_of(bot)
    service: ReminderService | None = getattr(bot, "reminders", None)
    if service is None:
        return now
    return local_now(now, (await service.get(user_id)).zone)


def sessions_until(plan: Plan, today: dt.date, week: int | None = None) -> list[Session]:
    """The plan's sessions up to today (of one week when given), latest first."""
    weeks = plan.weeks if week is None else [w for w in plan.weeks if w.week == week]
    found = [s for w in weeks for s in w.sessions if s.date <= today]
    return sorted(found, key=lambda s: s.date, reverse=True)


def changes_text(plan: Plan, checkins: list[CheckIn], today: dt.date) -> tuple[Plan, str]:
    """The adapted plan and what the check-ins changed (its "check-in" trace entries), or "no change"."""
    adapted = adapt(plan, checkins, today)
    entries = [t for t in adapted.trace if t.rule_id.startswith("check-in")]
    if not entries:
        return adapted, NO_CHANGE
    lines = ["What changed in your plan:"]
    for entry in entries:
        lines.append(f"- {entry.description}" + (f": {'; '.join(entry.changes)}" if entry.changes else ""))
    return adapted, "\n".join(lines)


async def store_checkin(bot: Any, user_id: int, checkin: CheckIn, now: dt.datetime) -> str:
    """Refuse or store one check-in, refresh reminders, and say what changed in the plan."""
    storage = bot.storage
    if storage is None:
        raise CheckInError(NO_STORAGE)
    plan = await maybe_await(storage.plans.latest(user_id))
    check_against(checkin, plan, now)
    await maybe_await(storage.checkins.add(user_id, checkin.model_dump(mode="json")))
    checkins = load_checkins(await maybe_await(storage.checkins.list(user_id)))
    _, text = await asyncio.to_thread(changes_text, plan, checkins, now.date())
    service: ReminderService | None = getattr(bot, "reminders", None)
    if service is not None:
        await service.refresh(user_id)
    log.info("checkin user=%s session=%s status=%s source=%s", user_id, checkin.session, checkin.status,
             checkin.source)
    return text


def build_checkin(**fields: Any) -> CheckIn:
    """A CheckIn, with impossible values turned into the friendly CheckInError."""
    try:
        return CheckIn(**fields)
    except ValidationError as error:
        raise CheckInError("I can't log that: " + " ".join(friendly_errors(error))) from None


# ------------------------------------------------------------------------------------------------
# The check-in flow: session -> status -> each exercise -> pain and the next run -> save


class MileageModal(LegDayModal):
    """The weekly mileage update: one text field."""

    def __init__(self, flow: CheckinFlow) -> None:
        super().__init__(title="Weekly mileage", custom_id="checkin:mileage-form")
        self.flow = flow
        self.mileage = discord.ui.TextInput(label="Distance this week", placeholder="e.g. 30mi or 48 km",
                                            custom_id="checkin:mileage", max_length=40)
        self.add_item(self.mileage)

    async def on_submit(self, interaction: discord.Interaction) -> None:
        """Read the distance (a friendly refusal when it can't be one), then save or go back to the flow."""
        bind_write_origin(interaction)
        try:
            km, _unit = parse_mileage(self.mileage.value)
        except MileageError as error:
            await respond(interaction, f"{error.user_message} Nothing was saved.")
            return
        self.flow.weekly_km = km
        if self.flow.session is None:
            await self.flow.save(interaction)
            return
        await interaction.response.edit_message(content=self.flow.render(), view=self.flow)


class CheckinFlow(OwnedView):
    """One member's check-in, a step at a time, in one private message."""

    command_hint = "/checkin"

    def __init__(self, owner_id: int, plan: Plan, sessions: list[Session], *, source: str = "form") -> None:
        super().__init__(owner_id)
        self.plan = plan
        self.sessions = sessions[:24]
        self.source = source
        self.session: Session | None = None
        self.status: str | None = None
        self.logs: list[dict[str, Any]] = []
        self.index = 0
        self.pain_where: str | None = None
        self.pain_kind: str | None = None
        self.next_run: str | None = None
        self.weekly_km: float | None = None
        self.step = "session"

    # -- what is shown ------------------------------------------------------------------------
    def render(self) -> str:
        """Rebuild the components for the current step; return the message text."""
        self.clear_items()
        if self.step == "session":
            options = [discord.SelectOption(label=f"{day_text(s.date)} · {s.focus}"[:100], value=s.date.isoformat())
                       for s in self.sessions]
            options.append(discord.SelectOption(label="Only a weekly mileage update", value=MILEAGE_ONLY))
            self._select("checkin:session", "Pick the session", options, self._pick_session)
            return PICK_SESSION
        assert self.session is not None
        head = f"**{day_text(self.session.date)} · {self.session.focus}**"
        if self.step == "status":
            for status, label in STATUS_LABELS.items():
                self._button(f"checkin:status:{status}", label, self._pick_status,
                             discord.ButtonStyle.success if status == "done" else discord.ButtonStyle.secondary)
            return f"{head}\nHow did it go?"
        if self.step == "exercise":
            item = self.session.exercises[self.index]
            log_ = self.logs[self.index]
            self._select("checkin:hit", "Target reps?", [
                discord.SelectOption(label=label, value=value, default=log_.get("hit") == (value == "yes"))
                for value, label in HIT.items()], self._pick_hit)
            self._select("checkin:effort", "How hard?", [
                discord.SelectOption(label=label, value=value, default=log_.get("effort") == value)
                for value, (label, _, _) in EFFORTS.items()], self._pick_effort)
            self._select("checkin:pain", "Pain during it (0-10)?", [
                discord.SelectOption(label=f"Pain {n}/10" + (" (none)" if n == 0 else ""), value=str(n),
                                     default=log_.get("pain") == n) for n in range(11)], self._pick_pain)
            self._button("checkin:next", "Next" if self.index + 1 < len(self.logs) else "Done with exercises",
                         self._next_exercise, discord.ButtonStyle.primary)
            return (f"{head}\nExercise {self.index + 1} of {len(self.logs)}: **{item.name}**, "
                    f"{item.sets} × {item.reps} ({item.effort})")
        # wrap-up: where it hurt (only when it did), the next run, mileage, save
        lines = [head, "Nearly done."]
        if self.max_pain() > 0:
            self._select("checkin:where", "Where was the pain?", [
                discord.SelectOption(label=label, value=str(niggle.value), default=self.pain_where == niggle.value)
                for niggle, label in NIGGLE_LABELS.items()], self._pick_where)
            self._select("checkin:pain-kind", "What was it like?", [
                discord.SelectOption(label=label, value=value, default=self.pain_kind == value)
                for value, label in PAIN_KINDS.items()], self._pick_pain_kind)
            lines.append(f"You noted pain up to {self.max_pain()}/10: where, and what was it like?")
        self._select("checkin:run", "How did your next run feel?", [
            discord.SelectOption(label=label, value=value, default=self.next_run == value)
            for value, label in RUN_FEELS.items()], self._pick_run)
        self._button("checkin:add-mileage", "Add weekly mileage", self._ask_mileage, discord.ButtonStyle.secondary)
        self._button("checkin:save", "Save", self._save_clicked, discord.ButtonStyle.success)
        if self.weekly_km is not None:
            lines.append(f"Weekly mileage: {self.weekly_km:g} km.")
        return "\n".join(lines)

    def _select(self, custom_id: str, placeholder: str, options: list[discord.SelectOption], callback: Any) -> None:
        select: discord.ui.Select = discord.ui.Select(custom_id=custom_id, placeholder=placeholder, options=options)
        select.callback = lambda interaction: self._run(interaction, callback, select.values)  # type: ignore[method-assign]
        self.add_item(select)

    def _button(self, custom_id: str, label: str, callback: Any, style: discord.ButtonStyle) -> None:
        button: discord.ui.Button = discord.ui.Button(custom_id=custom_id, label=label, style=style)
        value = custom_id.rsplit(":", 1)[-1]
        button.callback = lambda interaction: self._run(interaction, callback, [value])  # type: ignore[method-assign]
        self.add_item(button)

    async def _run(self, interaction: discord.Interaction, callback: Any, values: list[str]) -> None:
        try:
            await callback(interaction, values[0] if values else "")
        except Exception as error:
            await report_failure(interaction, error)

    async def _show(self, interaction: discord.Interaction) -> None:
        await interaction.response.edit_message(content=self.render(), view=self)

    def max_pain(self) -> int:
        """The highest pain noted on any exercise (0 when none)."""
        return max([log_.get("pain") or 0 for log_ in self.logs], default=0)

    # -- answers ------------------------------------------------------------------------------
    async def _pick_session(self, interaction: discord.Interaction, value: str) -> None:
        if value == MILEAGE_ONLY:
            await interaction.response.send_modal(MileageModal(self))
            return
        chosen = [s for s in self.sessions if s.date.isoformat() == value]
        if not chosen:
            await respond(interaction, "That session isn't in your plan any more; run /checkin again.")
            return
        self.session = chosen[0]
        self.logs = [{"exercise": item.id} for item in self.session.exercises]
        self.step = "status"
        await self._show(interaction)

    async def _pick_status(self, interaction: discord.Interaction, value: str) -> None:
        self.status = value
        self.index = 0
        self.step = "exercise" if value != "skipped" and self.logs else "wrap-up"
        await self._show(interaction)

    async def _pick_hit(self, interaction: discord.Interaction, value: str) -> None:
        self.logs[self.index]["hit"] = value == "yes"
        await self._show(interaction)

    async def _pick_effort(self, interaction: discord.Interaction, value: str) -> None:
        self.logs[self.index]["effort"] = value
        await self._show(interaction)

    async def _pick_pain(self, interaction: discord.Interaction, value: str) -> None:
        self.logs[self.index]["pain"] = int(value)
        await self._show(interaction)

    async def _next_exercise(self, interaction: discord.Interaction, _value: str) -> None:
        self.index += 1
        if self.index >= len(self.logs):
            self.step = "wrap-up"
        await self._show(interaction)

    async def _pick_where(self, interaction: discord.Interaction, value: str) -> None:
        self.pain_where = value
        await self._show(interaction)

    async def _pick_pain_kind(self, interaction: discord.Interaction, value: str) -> None:
        self.pain_kind = value
        await self._show(interaction)

    async def _pick_run(self, interaction: discord.Interaction, value: str) -> None:
        self.next_run = value
        await self._show(interaction)

    async def _ask_mileage(self, interaction: discord.Interaction, _value: str) -> None:
        await interaction.response.send_modal(MileageModal(self))

    async def _save_clicked(self, interaction: discord.Interaction, _value: str) -> None:
        await self.save(interaction)

    # -- saving -------------------------------------------------------------------------------
    def checkin(self, now: dt.datetime) -> CheckIn:
        """The answers as a CheckIn (CheckInError for impossible values)."""
        exercises = []
        if self.status != "skipped":
            for entry in self.logs:
                effort = EFFORTS.get(entry.get("effort", ""))
                exercises.append(ExerciseLog(exercise=entry["exercise"], hit=entry.get("hit"),
                                             rir=effort[1] if effort else None, feel=effort[2] if effort else None,
                                             pain=entry.get("pain")))
        pain = self.max_pain() if self.session is not None and self.status != "skipped" else None
        return build_checkin(
            plan_id=plan_id(self.plan), session=None if self.session is None else self.session.date,
            logged_at=now, status=self.status, exercises=tuple(exercises), pain=pain,
            pain_where=self.pain_where if pain else None,
            lingering=None if not pain or self.pain_kind is None else self.pain_kind == "lingering",
            sharp=bool(pain) and self.pain_kind == "sharp", next_run=self.next_run, weekly_km=self.weekly_km,
            source=self.source)

    async def save(self, interaction: discord.Interaction) -> None:
        """Store the check-in (or refuse it, changing nothing) and show what changed in the plan."""
        bot = bot_of(interaction)
        now = await member_now(bot, interaction.user.id)
        try:
            text = await store_checkin(bot, interaction.user.id, self.checkin(now), now)
        except CheckInError as error:
            await respond(interaction, f"{error.user_message} Nothing was saved.")
            return
        self.stop()
        what = ("your weekly mileage" if self.session is None
                else f"{day_text(self.session.date)} as {STATUS_LABELS[self.status or 'done'].lower()}")
        content = SAVED.format(what=what) + "\n" + text
        if interaction.message is not None and interaction.type is discord.InteractionType.component:
            await interaction.response.edit_message(content=content, view=None)
        else:
            await respond(interaction, content)


CURRENT_PLAN = "My current plan"
NEXT_BLOCK = "Next block"
BLOCK_DAYS = 28
# The next block is offered once the last week has begun: early enough to plan ahead, late enough that the
# block's check-ins say what to carry over.
NEXT_BLOCK_FROM_DAY = 21


async def plan_buttons(bot: Any, user_id: int) -> list[tuple[str, str, Any]]:
    """The /plan buttons a member with a stored plan gets: the plan as it stands now, and the next block."""
    storage = bot.storage
    plan = None if storage is None else await maybe_await(storage.plans.latest(user_id))
    if plan is None or plan.withheld:
        return []
    buttons = [(CURRENT_PLAN, "plan:current", show_current_plan)]
    today = (await member_now(bot, user_id)).date()
    if (today - plan.start).days >= NEXT_BLOCK_FROM_DAY:
        buttons.append((NEXT_BLOCK, "plan:next-block", deliver_next_block))
    return buttons


async def _stored_block(interaction: discord.Interaction) -> tuple[Plan, list[CheckIn], dt.date] | None:
    """Acknowledge; then the stored plan, its check-ins and the member's today, or None once the plan is gone."""
    bot = bot_of(interaction)
    await interaction.response.defer()
    plan = await maybe_await(bot.storage.plans.latest(interaction.user.id))
    if plan is None:
        await interaction.edit_original_response(content=NO_STORED_PLAN, embed=None, view=None)
        return None
    made = plan_id(plan)
    items = await maybe_await(bot.storage.checkins.list(interaction.user.id))
    today = (await member_now(bot, interaction.user.id)).date()
    return plan, [c for c in load_checkins(items) if c.plan_id == made], today


async def show_current_plan(interaction: discord.Interaction) -> None:
    """The stored plan adapted to its check-ins up to today, as pages (check-ins still name the stored plan)."""
    from bot.exts.plans._pages import show_plan

    stored = await _stored_block(interaction)
    if stored is not None:
        plan, checkins, today = stored
        await show_plan(interaction, await asyncio.to_thread(adapt, plan, checkins, today), made=plan)


async def deliver_next_block(interaction: discord.Interaction) -> None:
    """Make, save and show the four weeks after the stored plan, continued from its check-ins."""
    from bot.exts.plans._pages import show_plan

    stored = await _stored_block(interaction)
    if stored is None:
        return
    bot, (plan, checkins, today) = bot_of(interaction), stored
    start = plan.start + dt.timedelta(days=BLOCK_DAYS)
    if start < today:  # a block that ended a while ago: start on the next Monday instead
        start = today + dt.timedelta(days=-today.weekday() % 7)
    tuning = getattr(bot, "tuning", None)  # the server's effective rules, as /plan uses (defaults in DMs)
    ruleset = tuning.ruleset_for(interaction.guild_id) if tuning is not None else None
    block = await asyncio.to_thread(next_block, plan, checkins, bot.coach, start, ruleset)
    await maybe_await(bot.storage.plans.save(interaction.user.id, block))
    bot.dispatch("plan_saved", interaction.user.id)
    log.info("next block user=%s start=%s", interaction.user.id, block.start)
    await show_plan(interaction, block)


async def open_checkin(interaction: discord.Interaction, plan: Plan | None, *, week: int | None = None,
                       source: str = "form") -> None:
    """Start the check-in flow privately: the sessions of `plan` (of one week when given) up to today."""
    if plan is None:
        await respond(interaction, NO_PLAN)
        return
    now = await member_now(bot_of(interaction), interaction.user.id)
    sessions = sessions_until(plan, now.date(), week)
    flow = CheckinFlow(interaction.user.id, plan, sessions, source=source)
    if week is not None and len(sessions) == 1:
        flow.session = sessions[0]
        flow.logs = [{"exercise": item.id} for item in sessions[0].exercises]
        flow.step = "status"
    elif week is not None and not sessions:
        await respond(interaction, NO_SESSIONS)
        return
    flow.interaction = interaction
    await respond(interaction, flow.render(), view=flow)


# ------------------------------------------------------------------------------------------------
# The reminder DM and its buttons (persistent: they work after a restart)


class ReminderButton(discord.ui.DynamicItem[discord.ui.Button],
                     template=r"rem:(?P<action>done|skipped|move|snooze):(?P<day>\d{8}):(?P<plan>[0-9a-f-]{1,40})"):
    """Done / Skipped / Move / Snooze on a reminder DM; the custom id names the session and its plan."""

    LABELS = {"done": "Done", "skipped": "Skipped", "move": "Move", "snooze": "Snooze 2 h"}

    def __init__(self, action: str, day: dt.date, plan_ref: str) -> None:
        style = discord.ButtonStyle.success if action == "done" else discord.ButtonStyle.secondary
        super().__init__(discord.ui.Button(label=self.LABELS[action], style=style,
                                           custom_id=f"rem:{action}:{day:%Y%m%d}:{plan_ref}"))
        self.action, self.day, self.plan_ref = action, day, plan_ref

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Button,
                             match: re.Match[str]) -> ReminderButton:
        """Rebuild the button from a pressed custom id."""
        return cls(match["action"], dt.datetime.strptime(match["day"], "%Y%m%d").date(), match["plan"])

    async def callback(self, interaction: discord.Interaction) -> None:
        """Log the session (done / skipped), move it, or snooze the reminder."""
        bind_write_origin(interaction)  # a reminder from before a forget cannot save the member back
        try:
            await self._act(interaction)
        except Exception as error:
            await report_failure(interaction, error)

    async def _act(self, interaction: discord.Interaction) -> None:
        bot = bot_of(interaction)
        if self.action == "snooze":
            schedule = await bot.reminders.snooze(interaction.user.id, "2h", self.day)
            when = local_now(schedule.next_due, schedule.zone) if schedule.next_due else None
            await respond(interaction, f"Snoozed: I'll remind you again at {when:%H:%M}." if when else
                          "Snoozed.")
            return
        now = await member_now(bot, interaction.user.id)
        status = "done" if self.action == "done" else "skipped"
        checkin = build_checkin(plan_id=self.plan_ref, session=self.day, logged_at=now, status=status,
                                source="reminder")
        try:
            text = await store_checkin(bot, interaction.user.id, checkin, now)
        except CheckInError as error:
            await respond(interaction, f"{error.user_message} Nothing was saved.")
            return
        head = f"Logged {day_text(self.day)} as {status}."
        if self.action == "move":
            head = await self._moved_text(bot, interaction.user.id, now)
        await interaction.response.edit_message(content=f"{head}\n{text}", view=None)

    async def _moved_text(self, bot: Any, user_id: int, now: dt.datetime) -> str:
        plan = await maybe_await(bot.storage.plans.latest(user_id))
        checkins = load_checkins(await maybe_await(bot.storage.checkins.list(user_id)))
        adapted = adapt(plan, checkins, now.date())
        before = {s.date for w in plan.weeks for s in w.sessions}
        moved = sorted(s.date for w in adapted.weeks for s in w.sessions if s.date not in before and s.date > self.day)
        if moved:
            return f"Moved {day_text(self.day)}'s session to {day_text(moved[0])}; I'll remind you that day."
        return (f"I couldn't move {day_text(self.day)}'s session to a later day without breaking your week's "
                "spacing (no strength on consecutive days or the day before a long run or hard session), so it "
                "is dropped and your plan carries on.")


def reminder_view(day: dt.date, plan_ref: str) -> discord.ui.View:
    """The row of buttons on a reminder DM (no timeout: they are persistent)."""
    view = discord.ui.View(timeout=None)
    for action in ReminderButton.LABELS:
        view.add_item(ReminderButton(action, day, plan_ref))
    return view


def reminder_text(plan: Plan, day: dt.date) -> str:
    """What the reminder says: the session's focus, minutes and exercises."""
    session = next(s for w in plan.weeks for s in w.sessions if s.date == day)
    lines = [REMINDER_INTRO.format(focus=session.focus, minutes=session.minutes, day=day_text(day))]
    lines += [f"- {item.name}: {item.sets} × {item.reps}" for item in session.exercises]
    lines.append("Tap a button when you're done (or if it isn't happening).")
    return "\n".join(lines)


async def send_due_reminders(bot: Any) -> int:
    """One tick: claim what is due (committed first: at most once), DM each; closed DMs stop reminders."""
    sent = 0
    for due in await bot.reminders.tick():
        try:
            channel = await bot.create_dm(discord.Object(id=due.user_id))
            await channel.send(reminder_text(due.plan, due.session), view=reminder_view(due.session, plan_id(due.plan)))
            sent += 1
        except discord.Forbidden as error:
            if error.code == 50007:
                log.info("DMs closed, reminders stopped: user=%s", due.user_id)
                await bot.reminders.dm_closed(due.user_id)
            else:
                log.warning("reminder refused (%s): user=%s", error.code, due.user_id)
        except discord.HTTPException as error:
            # At most once: the reminder was marked sent before this, so it is not retried.
            log.warning("reminder not delivered (%s): user=%s", error.code, due.user_id)
    return sent


# ------------------------------------------------------------------------------------------------
# The cog


def _zone_choices(current: str) -> list[app_commands.Choice[str]]:
    from bot.reminders import _zones

    typed = current.strip().lower()
    if not typed:
        return [app_commands.Choice(name=label, value=zone) for label, zone in COMMON_ZONES][:25]
    common = [app_commands.Choice(name=label, value=zone) for label, zone in COMMON_ZONES if typed in label.lower()]
    names = sorted({zone for key, zone in _zones().items() if typed in key})
    return (common + [app_commands.Choice(name=name, value=name) for name in names])[:25]


class CheckinCog(commands.Cog):
    """/checkin, /reminders and the closed-DM notice."""

    reminders_group = app_commands.Group(name="reminders", description="Opt-in DMs on your session days.")

    def __init__(self, bot: LegDayBot) -> None:
        self.bot = bot

    def _service(self) -> ReminderService:
        service = getattr(self.bot, "reminders", None)
        if service is None:
            raise ReminderError("Reminders need the database, which isn't open right now.")
        return service

    @app_commands.command(name="checkin", description="Log how a session went (only you see it).")
    @member_cooldown()
    async def checkin(self, interaction: discord.Interaction) -> None:
        """/checkin: pick a session of the current plan, then answer a few private questions."""
        storage = self.bot.storage
        plan = None if storage is None else await maybe_await(storage.plans.latest(interaction.user.id))
        await open_checkin(interaction, plan)

    async def _status_text(self, user_id: int) -> str:
        schedule = await self._service().get(user_id)
        if not schedule.enabled:
            return REMINDERS_OFF
        if schedule.next_due is None:
            nxt = "No session is coming up in your plan, so nothing is scheduled."
        else:
            when = local_now(schedule.next_due, schedule.zone)
            nxt = f"Next: {day_text(when.date())} at {when:%H:%M}."
        return REMINDERS_ON.format(at=f"{schedule.at:%H:%M}", zone=schedule.zone, next=nxt)

    @reminders_group.command(name="on", description="A DM on each session day at your chosen time.")
    @member_cooldown()
    async def on(self, interaction: discord.Interaction) -> None:
        """/reminders on: check that a DM gets through, then switch them on."""
        await interaction.response.defer(ephemeral=True, thinking=True)
        try:
            channel = await self.bot.create_dm(interaction.user)
            await channel.send("Reminders are on. I'll DM you here on your session days.")
        except discord.Forbidden:
            await respond(interaction, ON_DM_CLOSED)
            return
        await self._service().update(interaction.user.id, enabled=True, dm_closed=False, notice_due=False)
        await respond(interaction, await self._status_text(interaction.user.id))
        self.bot.wake_reminders()

    @reminders_group.command(name="off", description="Stop reminder DMs.")
    @member_cooldown()
    async def off(self, interaction: discord.Interaction) -> None:
        """/reminders off."""
        await self._service().update(interaction.user.id, enabled=False)
        await respond(interaction, REMINDERS_OFF)

    @reminders_group.command(name="time", description="When on session days (your local time).")
    @app_commands.describe(when="like 18:30 or 6:30pm")
    @member_cooldown()
    async def time(self, interaction: discord.Interaction, when: str) -> None:
        """/reminders time: the local time of day."""
        await self._service().update(interaction.user.id, at=read_time(when))
        await respond(interaction, await self._status_text(interaction.user.id))
        self.bot.wake_reminders()

    @reminders_group.command(name="timezone", description="Your time zone: pick one or type a city.")
    @app_commands.describe(zone="a common zone, a city like Lisbon, or a name like Europe/Lisbon")
    @member_cooldown()
    async def timezone(self, interaction: discord.Interaction, zone: str) -> None:
        """/reminders timezone: validated with zoneinfo."""
        await self._service().update(interaction.user.id, zone=read_zone(zone))
        await respond(interaction, await self._status_text(interaction.user.id))
        self.bot.wake_reminders()

    @timezone.autocomplete("zone")
    async def _zone_autocomplete(self, interaction: discord.Interaction,
                                 current: str) -> list[app_commands.Choice[str]]:
        return _zone_choices(current)

    @reminders_group.command(name="snooze", description="Hold the waiting reminder until later.")
    @app_commands.choices(until=[app_commands.Choice(name=name.replace("h", " hours").replace("1 hours", "1 hour"),
                                                     value=name) for name in SNOOZES])
    @member_cooldown()
    async def snooze(self, interaction: discord.Interaction, until: str) -> None:
        """/reminders snooze: 1, 2 or 4 hours, or tomorrow."""
        schedule = await self._service().snooze(interaction.user.id, until)
        when = local_now(schedule.next_due, schedule.zone) if schedule.next_due else None
        await respond(interaction, f"Snoozed until {day_text(when.date())} {when:%H:%M}." if when else "Snoozed.")
        self.bot.wake_reminders()

    @reminders_group.command(name="status", description="Whether reminders are on, and the next one.")
    @member_cooldown()
    async def status(self, interaction: discord.Interaction) -> None:
        """/reminders status."""
        await respond(interaction, await self._status_text(interaction.user.id))

    @commands.Cog.listener()
    async def on_plan_saved(self, user_id: int) -> None:
        """A new plan: point the member's reminders at its sessions."""
        service = getattr(self.bot, "reminders", None)
        if service is not None:
            await service.refresh(user_id)
            self.bot.wake_reminders()

    @commands.Cog.listener()
    async def on_interaction(self, interaction: discord.Interaction) -> None:
        """Tell a member once, after their next command or button, that closed DMs stopped their reminders."""
        service = getattr(self.bot, "reminders", None)
        if service is None or interaction.type not in (discord.InteractionType.application_command,
                                                       discord.InteractionType.component):
            return
        try:
            if not await service.take_notice(interaction.user.id):
                return
            for _ in range(100):  # a follow-up needs the first answer sent: wait for it (at most ~5 s)
                if interaction.response.is_done():
                    break
                await asyncio.sleep(0.05)
            await respond(interaction, DMS_CLOSED_NOTICE)
        except Exception:
            log.exception("could not tell user=%s that reminders stopped", interaction.user.id)


    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        """The same one-time notice in reply to a message the member sent the bot (a DM or a mention)."""
        service = getattr(self.bot, "reminders", None)
        me = self.bot.user
        if service is None or message.author.bot or me is None:
            return
        if message.guild is not None and me not in message.mentions:
            return
        try:
            if await service.take_notice(message.author.id):
                await message.reply(DMS_CLOSED_NOTICE, mention_author=False)
        except Exception:
            log.exception("could not tell user=%s that reminders stopped", message.author.id)


async def export_file(bot: Any, user_id: int) -> discord.File:
    """Everything stored about the member as a JSON file (storage.export_member, either backend)."""
    storage = bot.storage
    export = storage.export_member
    if asyncio.iscoroutinefunction(export):
        data = await export(user_id)
    else:
        data = await asyncio.to_thread(export, user_id)
    raw = json.dumps(data, indent=2, ensure_ascii=False).encode("utf-8")
    return discord.File(io.BytesIO(raw), filename=EXPORT_NAME)


async def setup(bot: LegDayBot) -> None:
    """Add the check-in cog and the reminder buttons (persistent across restarts)."""
    bot.add_dynamic_items(ReminderButton)
    await bot.add_cog(CheckinCog(bot))
