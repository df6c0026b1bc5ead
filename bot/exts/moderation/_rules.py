"""/rules: moderators see, test, preview and change the rules LegDay plans with in their server."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import difflib
import io
import logging
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.client import RULES_RELOADED, FriendlyError, respond
from bot.errors import LegDayError
from bot.exts.moderation._checks import (
    MODERATOR_HINT,
    SERVER_ONLY,
    is_moderator,
    moderator_only,
    owner_only,
    tuning_of,
)
from bot.exts.moderation._format import (
    MOD_COLOUR,
    change_title,
    change_value,
    code_block,
    fired_embed,
    history_pages,
    impact_embed,
    problems_message,
    rule_pages,
)
from bot.exts.moderation._views import YAML_LIMIT, ConfirmView, ReopenView, Submit, YamlModal, send_pages
from bot.models import Level, MileageError, Profile, parse_mileage
from bot.text import CONTENT_LIMIT, EMBED_DESCRIPTION_LIMIT, EMBED_FIELD_VALUE_LIMIT, escape_user_text
from bot.tuning import export_yaml, rule_to_yaml

if TYPE_CHECKING:
    from bot.client import LegDayBot
    from bot.engine import Rule, RuleSet

log = logging.getLogger("legday.discord.moderation")

# Errors a moderator's input can cause: each carries a message written for them (bot/errors.py).
MODERATOR_ERRORS = (LegDayError,)
HISTORY_FETCH = 50  # the newest changes /rules history pages through
CHOICES_LIMIT = 25
RULE_PLACEHOLDER = "id: trail-hills\ndescription: ...\npriority: 300\nwhen: \"'hills' in goals\"\nthen: [...]"
SAVED = "Saved as change #{change}. Plans made in this server from now on use it (rules {version})."
BUSY = "Another preview is still running for this server. Please try again in a few seconds."
RELOAD_FAILED = "The default rule files have problems, so nothing was changed:"

Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def _guild(interaction: discord.Interaction) -> int:
    # Every command here runs its moderator check first, which refuses DMs; this is for the type checker.
    assert interaction.guild_id is not None
    return interaction.guild_id


def _find_rule(ruleset: RuleSet, rule_id: str) -> Rule:
    rule = ruleset.by_id.get(rule_id.strip())
    if rule is None:
        close = difflib.get_close_matches(rule_id, list(ruleset.by_id), n=1)
        hint = f" Did you mean `{close[0]}`?" if close else ""
        raise FriendlyError(f"There's no rule `{escape_user_text(rule_id)[:60]}` in this server.{hint} "
                            "/rules list shows them all.")
    return rule


async def rule_choices(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
    """Rule ids matching what the moderator typed (by id or description); nothing for non-moderators."""
    if not is_moderator(interaction) or getattr(interaction.client, "tuning", None) is None:
        return []
    typed = current.strip().lower()
    rules = tuning_of(interaction).ruleset_for(interaction.guild_id).rules
    found = [r for r in rules if typed in r.id] + [r for r in rules if typed not in r.id and
                                                   typed in r.description.lower()]
    return [app_commands.Choice(name=f"{r.id} · {r.description}"[:100], value=r.id) for r in found[:CHOICES_LIMIT]]


async def tag_choices(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
    if not is_moderator(interaction) or getattr(interaction.client, "tuning", None) is None:
        return []
    rules = tuning_of(interaction).ruleset_for(interaction.guild_id).rules
    tags = sorted({tag for rule in rules for tag in rule.tags if current.strip().lower() in tag.lower()})
    return [app_commands.Choice(name=tag[:100], value=tag[:100]) for tag in tags[:CHOICES_LIMIT]]


async def change_choices(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[int]]:
    """The newest changes, to pick one to revert."""
    if not is_moderator(interaction) or getattr(interaction.client, "tuning", None) is None:
        return []
    entries = tuning_of(interaction).history(_guild(interaction), limit=CHOICES_LIMIT)
    typed = current.strip().lstrip("#")
    return [app_commands.Choice(name=change_title(entry)[:100], value=int(entry["change_id"]))
            for entry in entries if typed in str(entry["change_id"])]


def rule_modal(submit: Submit, title: str, text: str = "") -> YamlModal:
    return YamlModal(title, "The rule, as YAML", submit, text=text, placeholder=RULE_PLACEHOLDER)


def profile_from_options(
    mileage: str, level: Level, goals: str, days: int | None, long_run_day: str | None, hard_days: str | None,
    equipment: str | None, niggles: str | None, sharp_pain: bool, race_date: str | None,
) -> Profile:
    """A test profile from the options; bad values raise errors the tree words for the moderator."""
    weekly_km, unit = parse_mileage(mileage)
    race = None
    if race_date:
        try:
            race = dt.date.fromisoformat(race_date.strip())
        except ValueError:
            raise MileageError("Race date: use the form YYYY-MM-DD, like 2027-05-16.") from None
    return Profile.model_validate({
        "weekly_km": weekly_km, "unit": unit, "level": level, "goals": goals, "days_per_week": days,
        "long_run_day": long_run_day, "hard_days": hard_days or [], "equipment": equipment or [],
        "niggles": niggles or [], "sharp_pain": sharp_pain, "race_date": race,
    })


class Rules(commands.Cog):
    """The /rules group: list, show, test, preview and change this server's rules."""

    rules = app_commands.Group(
        name="rules", description="Moderators: see, test and tune the rules LegDay plans with here.",
        guild_only=True, allowed_contexts=SERVER_ONLY, default_permissions=MODERATOR_HINT,
    )

    def __init__(self, bot: LegDayBot) -> None:
        self.bot = bot
        self._previewing: set[int] = set()

    @contextlib.asynccontextmanager
    async def previewing(self, interaction: discord.Interaction) -> AsyncIterator[None]:
        """One impact preview at a time per server: each plans every saved profile twice (seconds of CPU)."""
        guild_id = _guild(interaction)
        if guild_id in self._previewing:
            raise FriendlyError(BUSY)
        self._previewing.add(guild_id)
        try:
            yield
        finally:
            self._previewing.discard(guild_id)

    # ---- reading

    @rules.command(name="list", description="Every rule in this server: priority, on or off, and where it comes from.")
    @app_commands.describe(tag="Only rules with this tag, e.g. goals or safety.")
    @app_commands.autocomplete(tag=tag_choices)
    @moderator_only()
    async def list_rules(self, interaction: discord.Interaction, tag: str | None = None) -> None:
        tuning = tuning_of(interaction)
        rows = tuning.rows(_guild(interaction), tag)
        version = tuning.ruleset_for(_guild(interaction)).version
        embeds = rule_pages(rows, tag, version)
        problems = tuning.problems(_guild(interaction))
        if problems:
            # A stored change that stopped validating (after a reload of the defaults) is skipped, not fatal:
            # moderators see it here so they can fix or revert it.
            embeds[0].add_field(name=f"{len(problems)} saved change(s) no longer apply and are skipped",
                                value=code_block("\n".join(problems), EMBED_FIELD_VALUE_LIMIT, language=""),
                                inline=False)
        await send_pages(interaction, embeds, "/rules list")

    @rules.command(name="show", description="One rule as YAML, as it applies in this server.")
    @app_commands.describe(rule="The rule's id; start typing to search.")
    @app_commands.autocomplete(rule=rule_choices)
    @moderator_only()
    async def show(self, interaction: discord.Interaction, rule: str) -> None:
        found = _find_rule(tuning_of(interaction).ruleset_for(_guild(interaction)), rule)
        embed = discord.Embed(title=f"Rule {found.id}", colour=MOD_COLOUR,
                              description=code_block(rule_to_yaml(found), EMBED_DESCRIPTION_LIMIT))
        await respond(interaction, embed=embed)

    @rules.command(name="history", description="Who changed what and when, with before and after.")
    @moderator_only()
    async def history(self, interaction: discord.Interaction) -> None:
        entries = tuning_of(interaction).history(_guild(interaction), limit=HISTORY_FETCH)
        shown = [entry for entry in entries if entry.get("kind") != "faq"]
        await send_pages(interaction, history_pages(shown, "Rule changes in this server"), "/rules history")

    @rules.command(name="export", description="This server's effective rules as a YAML file.")
    @moderator_only()
    async def export(self, interaction: discord.Interaction) -> None:
        ruleset = tuning_of(interaction).ruleset_for(_guild(interaction))
        data = export_yaml(ruleset).encode("utf-8")
        file = discord.File(io.BytesIO(data), filename=f"legday-rules-{ruleset.version}.yaml")
        await respond(interaction, f"This server's {len(ruleset.rules)} rules (version {ruleset.version}), "
                                   "in the same format as the rule files.", file=file)

    # ---- trying things out

    @rules.command(name="test", description="Make a plan for a made-up runner with this server's rules.")
    @app_commands.describe(
        mileage="Weekly running distance, e.g. 30mi or 45 km.", level="Strength level.",
        goals="One or more of: speed, endurance, hills, injury-resilience, power, general.",
        days="Strength days a week (1-3).", long_run_day="The long-run day.",
        hard_days="Hard-run days, e.g. tue, thu.", equipment="e.g. dumbbells, box (or gym).",
        niggles="e.g. achilles, knee.", sharp_pain="Sharp joint pain now?", race_date="Race date, YYYY-MM-DD.",
    )
    @moderator_only()
    async def test(
        self, interaction: discord.Interaction, mileage: app_commands.Range[str, 1, 40], level: Level,
        goals: app_commands.Range[str, 1, 200], days: app_commands.Range[int, 1, 3] | None = None,
        long_run_day: Day | None = None, hard_days: app_commands.Range[str, 0, 100] | None = None,
        equipment: app_commands.Range[str, 0, 200] | None = None,
        niggles: app_commands.Range[str, 0, 200] | None = None, sharp_pain: bool = False,
        race_date: app_commands.Range[str, 0, 10] | None = None,
    ) -> None:
        profile = profile_from_options(mileage, level, goals, days, long_run_day, hard_days, equipment, niggles,
                                       sharp_pain, race_date)
        await interaction.response.defer(ephemeral=True, thinking=True)
        tuning = tuning_of(interaction)
        plan = await asyncio.to_thread(tuning.plan_for, _guild(interaction), profile)
        overview = discord.Embed.from_dict(self.bot.coach.renderer.overview_embed(plan))
        overview.title = "Test plan (not saved)"
        await respond(interaction, embeds=[overview, fired_embed(plan.trace)])

    @rules.command(name="impact", description="How many plans would change if a rule were switched on or off.")
    @app_commands.describe(rule="The rule's id; start typing to search.")
    @app_commands.autocomplete(rule=rule_choices)
    @moderator_only()
    async def impact(self, interaction: discord.Interaction, rule: str) -> None:
        tuning = tuning_of(interaction)
        found = _find_rule(tuning.ruleset_for(_guild(interaction)), rule)
        await interaction.response.defer(ephemeral=True, thinking=True)
        async with self.previewing(interaction):
            result = await asyncio.to_thread(tuning.preview_toggle, _guild(interaction), found.id, not found.enabled)
        verb = "disabled" if found.enabled else "enabled"
        embed = impact_embed(f"If {found.id} were {verb}", result,
                             f"Nothing was changed. Use /rules {verb[:-1]} to do it.")
        await respond(interaction, embed=embed)

    # ---- changing things

    @rules.command(name="enable", description="Switch a rule on in this server (shows the impact first).")
    @app_commands.describe(rule="The rule's id; start typing to search.")
    @app_commands.autocomplete(rule=rule_choices)
    @moderator_only()
    async def enable(self, interaction: discord.Interaction, rule: str) -> None:
        await self._toggle(interaction, rule, True)

    @rules.command(name="disable", description="Switch a rule off in this server (shows the impact first).")
    @app_commands.describe(rule="The rule's id; start typing to search.")
    @app_commands.autocomplete(rule=rule_choices)
    @moderator_only()
    async def disable(self, interaction: discord.Interaction, rule: str) -> None:
        await self._toggle(interaction, rule, False)

    async def _toggle(self, interaction: discord.Interaction, rule_id: str, enabled: bool) -> None:
        tuning = tuning_of(interaction)
        guild_id = _guild(interaction)
        found = _find_rule(tuning.ruleset_for(guild_id), rule_id)
        seen = tuning.version_of(guild_id, "rule", found.id)  # saved only if still so on Confirm
        await interaction.response.defer(ephemeral=True, thinking=True)
        try:
            async with self.previewing(interaction):
                result = await asyncio.to_thread(tuning.preview_toggle, guild_id, found.id, enabled)
        except MODERATOR_ERRORS as error:
            await respond(interaction, str(error)[:CONTENT_LIMIT])
            return
        verb = "Enable" if enabled else "Disable"

        embed = impact_embed(f"{verb} {found.id}?", result, escape_user_text(found.description))
        view = ConfirmView(interaction.user.id, "/rules",
                           lambda actor: tuning.set_enabled(guild_id, actor, found.id, enabled, seen),
                           lambda change: SAVED.format(change=change, version=tuning.ruleset_for(guild_id).version))
        view.interaction = interaction
        await respond(interaction, embed=embed, view=view)

    @rules.command(name="add", description="Add a rule of this server's own, written in YAML.")
    @moderator_only()
    async def add(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_modal(self._modal("Add a rule"))

    @rules.command(name="edit", description="Change a rule for this server, in YAML.")
    @app_commands.describe(rule="The rule's id; start typing to search.")
    @app_commands.autocomplete(rule=rule_choices)
    @moderator_only()
    async def edit(self, interaction: discord.Interaction, rule: str) -> None:
        found = _find_rule(tuning_of(interaction).ruleset_for(_guild(interaction)), rule)
        text = rule_to_yaml(found)
        if len(text) > YAML_LIMIT:
            raise FriendlyError(f"Rule `{found.id}` is too long to edit in a Discord form "
                                f"({len(text):,} characters; the limit is {YAML_LIMIT:,}).")
        await interaction.response.send_modal(self._modal(f"Edit rule {found.id}", text))

    def _modal(self, title: str, text: str = "") -> YamlModal:
        async def submitted(interaction: discord.Interaction, typed: str) -> None:
            await self._preview(interaction, typed, title)

        return rule_modal(submitted, title, text)

    async def _preview(self, interaction: discord.Interaction, text: str, title: str) -> None:
        """A submitted rule: validate and show its impact with Confirm / Cancel; nothing is saved yet."""
        if not is_moderator(interaction):
            raise FriendlyError("Only moderators can change rules. Nothing was saved.")
        tuning = tuning_of(interaction)
        guild_id = _guild(interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)
        try:
            async with self.previewing(interaction):
                rule, result = await asyncio.to_thread(tuning.preview_rule, guild_id, text)
        except MODERATOR_ERRORS as error:
            view = ReopenView(interaction.user.id, lambda: self._modal(title, text), "/rules add")
            view.interaction = interaction
            await respond(interaction, problems_message(error), view=view)
            return
        exists = rule.id in tuning.ruleset_for(guild_id).by_id
        seen = tuning.version_of(guild_id, "rule", rule.id)  # saved only if still so on Confirm
        heading = f"{'Replace' if exists else 'Add'} rule {rule.id}?"

        embed = impact_embed(heading, result, escape_user_text(rule.description))
        view = ConfirmView(interaction.user.id, "/rules", lambda actor: tuning.save_rule(guild_id, actor, text, seen),
                           lambda change: SAVED.format(change=change, version=tuning.ruleset_for(guild_id).version))
        view.interaction = interaction
        await respond(interaction, embed=embed, view=view)

    @rules.command(name="revert", description="Undo one change from /rules history (a new change puts it back).")
    @app_commands.describe(change="The change number from /rules history, e.g. 12.")
    @app_commands.autocomplete(change=change_choices)
    @moderator_only()
    async def revert(self, interaction: discord.Interaction, change: app_commands.Range[int, 1, 10**9]) -> None:
        tuning = tuning_of(interaction)
        guild_id = _guild(interaction)
        entry = tuning.storage.audit.get(guild_id, change)
        if entry is None:
            raise FriendlyError(f"There's no change #{change} in this server. /rules history lists them.")
        seen = tuning.version_of(guild_id, str(entry.get("scope")), str(entry.get("target")))

        embed = discord.Embed(title=f"Undo change #{change}?", colour=MOD_COLOUR,
                              description="What was there before this change will be put back.")
        embed.add_field(name=change_title(entry), value=change_value(entry), inline=False)
        view = ConfirmView(interaction.user.id, "/rules", lambda actor: tuning.revert(guild_id, actor, change, seen),
                           lambda made: f"Change #{change} undone, recorded as change #{made}.",
                           "That change wasn't undone:")
        view.interaction = interaction
        await respond(interaction, embed=embed, view=view)

    @rules.command(name="reset", description="Drop all of this server's rule changes and use the defaults.")
    @moderator_only()
    async def reset(self, interaction: discord.Interaction) -> None:
        tuning = tuning_of(interaction)
        guild_id = _guild(interaction)
        changed = [row for row in tuning.rows(guild_id) if row.origin != "default"]
        if not changed:
            raise FriendlyError("This server already uses LegDay's default rules; there's nothing to reset.")
        seen = tuning.version_of(guild_id, "rules")

        names = ", ".join(f"`{row.id}`" for row in changed[:20]) + (" and more" if len(changed) > 20 else "")
        embed = discord.Embed(title="Reset this server's rules?", colour=MOD_COLOUR,
                              description=f"{len(changed)} rules changed or added here go back to the "
                                          f"defaults: {names}.")
        view = ConfirmView(interaction.user.id, "/rules", lambda actor: tuning.reset_rules(guild_id, actor, seen),
                           lambda made: f"Back to the default rules, recorded as change #{made}. "
                                        f"/rules revert {made} undoes it.", "Nothing was reset:")
        view.interaction = interaction
        await respond(interaction, embed=embed, view=view)

    @rules.command(name="reload", description="Bot owner only: re-read the default rule and FAQ files.")
    @owner_only()
    async def reload(self, interaction: discord.Interaction) -> None:
        tuning = tuning_of(interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)
        try:
            version = await asyncio.to_thread(tuning.reload_defaults)
        except MODERATOR_ERRORS as error:
            await respond(interaction, problems_message(error, RELOAD_FAILED))
            return
        log.info("defaults reloaded by user=%s: rules %s", interaction.user.id, version)
        await interaction.client.announce(RULES_RELOADED)  # every other process reloads too
        await respond(interaction, f"Reloaded the default rules and FAQ (rules {version}).")


__all__ = ["MODERATOR_ERRORS", "Rules", "rule_choices"]
