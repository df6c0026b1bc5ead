"""The /plan intake form: a modal for the typed answers, then two pages of select menus."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import discord
from pydantic import ValidationError

from bot.client import respond
from bot.exts._ui import LegDayModal, OwnedView, profile_embed
from bot.intake import read_date
from bot.models import (
    FIELDS,
    MileageError,
    Profile,
    friendly_errors,
    parse_mileage,
)

log = logging.getLogger("legday.discord.plans")

# Called with the finished profile: builds the plan (or saves the edit) and answers the interaction.
Finish = Callable[[discord.Interaction, Profile], Awaitable[None]]

NONE = "none"
DEFAULT_DAYS = 2
TYPED_FIELDS = ("mileage", "days", "race_date")
TYPED_LABELS = {
    "mileage": "Weekly running distance",
    "days": "Strength days a week (1, 2 or 3)",
    "race_date": "Race date (optional)",
}
TYPED_HINTS = {
    "mileage": "e.g. 30mi, 45 km or 45k",
    "days": "2",
    "race_date": "e.g. 2027-05-16, May 16 or in 8 weeks; or leave empty",
}
TYPED_ACCEPTS = {
    "days": "Strength days a week: use 1, 2 or 3 (2 suits most runners).",
    "race_date": f"Race date: {FIELDS['race_date'].accepts} Leave it empty if there's no race.",
}
PAGE_ONE = "**Your plan, step 2 of 3.** Pick your strength level and goals, and your key running days."
PAGE_TWO = "**Your plan, step 3 of 3.** What you can train with, any niggles, and one safety question."
MISSING_CHOICES = "Please choose {what} first, then press {button}."


def _options(field: str) -> list[tuple[str, str]]:
    """A select's (value, label) choices from the field registry, its 'none' choice last."""
    spec = FIELDS[field]
    return list(spec.choices) + ([(NONE, spec.none_label)] if spec.none_label else [])


def read_typed(values: dict[str, str], today: dt.date) -> tuple[dict[str, Any], dict[str, str]]:
    """Check the typed answers; return (fields for the profile, {input: what was wrong})."""
    fields: dict[str, Any] = {}
    problems: dict[str, str] = {}
    if "mileage" in values:
        try:
            fields["weekly_km"], fields["unit"] = parse_mileage(values["mileage"])
        except MileageError as error:
            problems["mileage"] = str(error)
    if "days" in values:
        raw = values["days"].strip()
        if not raw:
            fields["days_per_week"] = DEFAULT_DAYS
        elif raw in ("1", "2", "3"):
            fields["days_per_week"] = int(raw)
        else:
            problems["days"] = TYPED_ACCEPTS["days"]
    if "race_date" in values:
        raw = values["race_date"].strip()
        if not raw:
            fields["race_date"] = None
        else:
            # The one date reader every front-end shares: ISO, "May 16", "in 8 weeks", "next saturday".
            race, found = read_date(raw, today, loose=True)
            if race is None:
                problems["race_date"] = f"{found[0]} {TYPED_ACCEPTS['race_date']}" if found else TYPED_ACCEPTS[
                    "race_date"]
            else:
                fields["race_date"] = race
    return fields, problems


class FormState:
    """What the member has answered so far; the form pages read and write it."""

    def __init__(self, owner_id: int, finish: Finish, start: Profile | None = None,
                 finish_label: str = "Build my plan") -> None:
        self.owner_id = owner_id
        self.finish = finish
        self.finish_label = finish_label
        self.fields: dict[str, Any] = start.model_dump() if start is not None else {}
        self.typed: dict[str, str] = {}
        if start is not None:
            amount = start.weekly_mi if start.unit == "mi" else start.weekly_km
            self.typed = {
                "mileage": f"{amount:g} {start.unit}",
                "days": str(start.days_per_week or DEFAULT_DAYS),
                "race_date": start.race_date.isoformat() if start.race_date else "",
            }

    def modal(self, only: tuple[str, ...] = TYPED_FIELDS) -> RunningModal:
        return RunningModal(self, only)


class RunningModal(LegDayModal):
    """Step 1: the answers that are typed (distance, strength days, race date)."""

    def __init__(self, state: FormState, only: tuple[str, ...]) -> None:
        title = "Your running" if len(only) == len(TYPED_FIELDS) else "Fix your answer"
        super().__init__(title=title, custom_id="plan:form:running", timeout=None)
        self.state = state
        self.inputs: dict[str, discord.ui.TextInput] = {}
        for name in only:
            text_input: discord.ui.TextInput = discord.ui.TextInput(
                label=TYPED_LABELS[name],
                custom_id=f"plan:form:{name}",
                placeholder=TYPED_HINTS[name],
                default=state.typed.get(name) or None,
                required=name == "mileage",
                max_length=10 if name == "days" else 30,
            )
            self.inputs[name] = text_input
            self.add_item(text_input)

    async def on_submit(self, interaction: discord.Interaction) -> None:
        values = {name: item.value for name, item in self.inputs.items()}
        self.state.typed.update(values)
        fields, problems = read_typed(values, dt.date.today())
        self.state.fields.update(fields)
        if problems:
            view = FixView(self.state, tuple(problems))
            view.interaction = interaction
            await respond(interaction, "\n".join(problems.values()), view=view)
            return
        view = PageOne(self.state)
        view.interaction = interaction
        await respond(interaction, PAGE_ONE, view=view)


class FixView(OwnedView):
    """One button that reopens the modal with only the answers that were not accepted."""

    def __init__(self, state: FormState, bad: tuple[str, ...]) -> None:
        super().__init__(state.owner_id)
        self.state = state
        self.bad = bad
        label = "Fix it" if len(bad) == 1 else "Fix these"
        button: discord.ui.Button = discord.ui.Button(label=label, style=discord.ButtonStyle.primary,
                                                      custom_id="plan:fix")
        button.callback = self.fix  # type: ignore[method-assign]
        self.add_item(button)

    async def fix(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_modal(self.state.modal(self.bad))
        self.stop()


def _select(custom_id: str, placeholder: str, options: list[tuple[str, str]], chosen: list[str],
            *, multi: bool, row: int, optional: bool = False) -> discord.ui.Select:
    return discord.ui.Select(
        custom_id=custom_id,
        placeholder=placeholder,
        min_values=0 if optional else 1,
        max_values=len(options) if multi else 1,
        row=row,
        options=[
            discord.SelectOption(label=label[:100], value=value, default=value in chosen)
            for value, label in options
        ],
    )


class FormPage(OwnedView):
    """A page of select menus; each choice is kept and shown as selected."""

    def __init__(self, state: FormState) -> None:
        super().__init__(state.owner_id)
        self.state = state

    def add_select(self, select: discord.ui.Select, store: Callable[[list[str]], None]) -> None:
        async def chosen(interaction: discord.Interaction) -> None:
            store(select.values)
            for option in select.options:
                option.default = option.value in select.values
            await interaction.response.edit_message(view=self)

        select.callback = chosen  # type: ignore[method-assign]
        self.add_item(select)

    def add_button(self, label: str, custom_id: str, style: discord.ButtonStyle,
                   callback: Callable[[discord.Interaction], Awaitable[None]]) -> None:
        button: discord.ui.Button = discord.ui.Button(label=label, custom_id=custom_id, style=style, row=4)
        button.callback = callback  # type: ignore[method-assign]
        self.add_item(button)


class PageOne(FormPage):
    """Step 2: level, goals, long-run day, hard days."""

    def __init__(self, state: FormState) -> None:
        super().__init__(state)
        fields = state.fields
        level = fields.get("level")
        self.add_select(_select(
            "plan:level", "Your strength level", _options("level"),
            [str(getattr(level, "value", level))] if level else [], multi=False, row=0,
        ), lambda values: fields.__setitem__("level", values[0] if values else None))
        self.add_select(_select(
            "plan:goals", "Your goals (pick one or more)", _options("goals"),
            [str(getattr(g, "value", g)) for g in fields.get("goals") or []], multi=True, row=1,
        ), lambda values: fields.__setitem__("goals", list(values)))
        self.add_select(_select(
            "plan:long_run_day", "Your long-run day", _options("long_run_day"),
            [fields.get("long_run_day") or NONE] if "long_run_day" in fields else [], multi=False, row=2,
        ), lambda values: fields.__setitem__("long_run_day", None if values[:1] in ([], [NONE]) else values[0]))
        self.add_select(_select(
            "plan:hard_days", "Hard or speed-session days (optional)", _options("hard_days"),
            list(fields.get("hard_days") or []), multi=True, row=3, optional=True,
        ), lambda values: fields.__setitem__("hard_days", [v for v in values if v != NONE]))
        self.add_button("Next", "plan:next", discord.ButtonStyle.primary, self.next)

    async def next(self, interaction: discord.Interaction) -> None:
        missing = [what for what, key in (("your level", "level"), ("at least one goal", "goals"))
                   if not self.state.fields.get(key)]
        if missing:
            await respond(interaction, MISSING_CHOICES.format(what=" and ".join(missing), button="Next"))
            return
        self.stop()
        view = PageTwo(self.state)
        view.interaction = interaction
        await interaction.response.edit_message(content=PAGE_TWO, view=view)


class PageTwo(FormPage):
    """Step 3: equipment, niggles, sharp pain; then build."""

    def __init__(self, state: FormState) -> None:
        super().__init__(state)
        fields = state.fields
        self.add_select(_select(
            "plan:equipment", "Equipment you can use (optional)",
            _options("equipment"),
            [str(getattr(e, "value", e)) for e in fields.get("equipment") or []],
            multi=True, row=0, optional=True,
        ), lambda values: fields.__setitem__("equipment", list(values)))
        self.add_select(_select(
            "plan:niggles", "Niggles or old injuries (optional)",
            _options("niggles"),
            [str(getattr(n, "value", n)) for n in fields.get("niggles") or []],
            multi=True, row=1, optional=True,
        ), lambda values: fields.__setitem__("niggles", [v for v in values if v != NONE]))
        pain = fields.get("sharp_pain")
        self.add_select(_select(
            "plan:sharp_pain", "Any sharp joint pain when you run or lift?",
            [("no", "No sharp pain"), ("yes", "Yes, sharp pain in a joint")],
            [] if pain is None else ["yes" if pain else "no"], multi=False, row=2,
        ), lambda values: fields.__setitem__("sharp_pain", values[:1] == ["yes"]))
        if fields.get("race_date"):
            distance = fields.get("race_distance")
            self.add_select(_select(
                "plan:race_distance", "Race distance (optional)", _options("race_distance"),
                [str(getattr(distance, "value", distance))] if distance else [], multi=False, row=3, optional=True,
            ), lambda values: fields.__setitem__("race_distance", values[0] if values else None))
        self.add_button("Back", "plan:back", discord.ButtonStyle.secondary, self.back)
        self.add_button(state.finish_label, "plan:build", discord.ButtonStyle.success, self.build)

    async def back(self, interaction: discord.Interaction) -> None:
        self.stop()
        view = PageOne(self.state)
        view.interaction = interaction
        await interaction.response.edit_message(content=PAGE_ONE, view=view)

    async def build(self, interaction: discord.Interaction) -> None:
        if "sharp_pain" not in self.state.fields:
            await respond(interaction, MISSING_CHOICES.format(what="an answer to the sharp pain question",
                                                              button=self.state.finish_label))
            return
        try:
            profile = Profile.model_validate(
                {k: v for k, v in self.state.fields.items() if k in Profile.model_fields}
            )
        except ValidationError as error:
            await respond(interaction, "\n".join(friendly_errors(error)))
            return
        self.stop()
        await self.state.finish(interaction, profile)


class SavedProfileView(OwnedView):
    """/plan with a saved profile: use it as it is or update it first, or (with a plan) see it or its next block."""

    def __init__(self, owner_id: int, profile: Profile, finish: Finish,
                 extra: Sequence[tuple[str, str, Callable[[discord.Interaction], Awaitable[None]]]] = ()) -> None:
        super().__init__(owner_id)
        self.profile = profile
        self.finish = finish
        for label, custom_id, action in extra:  # e.g. "My current plan", "Next block" (bot/exts/checkin.py)
            button = discord.ui.Button(label=label, custom_id=custom_id, style=discord.ButtonStyle.primary)
            button.callback = self._stopping(action)
            self.add_item(button)

    def _stopping(self, action: Callable[[discord.Interaction], Awaitable[None]]
                  ) -> Callable[[discord.Interaction], Awaitable[None]]:
        async def callback(interaction: discord.Interaction) -> None:
            self.stop()
            await action(interaction)
        return callback

    @discord.ui.button(label="Use my saved profile", style=discord.ButtonStyle.success, custom_id="plan:use")
    async def use(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        self.stop()
        await self.finish(interaction, self.profile)

    @discord.ui.button(label="Update it", style=discord.ButtonStyle.secondary, custom_id="plan:update")
    async def update(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        self.stop()
        await interaction.response.send_modal(FormState(self.owner_id, self.finish, self.profile).modal())


def saved_profile_message(profile: Profile) -> discord.Embed:
    embed = profile_embed(profile, title="Use your saved profile?")
    embed.description = "I can build your plan from what you told me before, or you can update it first."
    return embed


__all__ = ["FormState", "PageOne", "PageTwo", "SavedProfileView", "read_typed", "saved_profile_message"]
