"""Moderator commands through discord.py: the gate, /rules, /faq-admin, /settings, previews, audit, revert."""

from __future__ import annotations

import asyncio
import threading

import discord
import pytest
import yaml
from discord_helpers import (
    AUTOCOMPLETE_RESULT,
    DEFERRED_UPDATE,
    GUILD_ID,
    MEMBER_ID,
    MEMBER_PERMISSIONS,
    MODAL,
    OWNER_ID,
    UPDATE,
    Harness,
    start_harness,
    stop_harness,
    user_payload,
)

from bot.engine import parse_rules
from bot.exts.moderation._checks import NOT_ADMIN, NOT_MODERATOR, NOT_OWNER
from bot.exts.moderation._rules import BUSY
from bot.exts.moderation._settings import EVERYONE_REFUSED
from bot.exts.moderation._views import CANCELLED
from bot.exts.plans._pages import PLAN_READY
from bot.models import Profile
from bot.text import CONTENT_LIMIT, embed_problems
from bot.tuning import StaleChange, rule_to_yaml

MOD_ID = 1500000000000000050
ADMIN_ID = 1500000000000000060
ROLE_ID = 1700000000000000001
MODERATOR = discord.Permissions(MEMBER_PERMISSIONS.value | discord.Permissions(manage_guild=True).value)
ADMIN = discord.Permissions(MEMBER_PERMISSIONS.value | discord.Permissions(administrator=True).value)
MOD_USER = user_payload(MOD_ID, "marta")
ADMIN_USER = user_payload(ADMIN_ID, "ade")
MEMBER_USER = user_payload(MEMBER_ID, "river")

SPEEDY = Profile(weekly_km=40, level="intermediate", goals=["speed"])
EASY = Profile(weekly_km=30, level="beginner", goals=["general"])
HILLY = Profile(weekly_km=50, level="intermediate", goals=["hills"])

CLUB_RULE = """\
id: club-hills
description: Our trail club wants a note about Saturday hill reps.
priority: 310
tags: [club]
when: "'hills' in goals"
then:
  - note: Join the club's Saturday hill reps; count them as a hard day.
"""

CLUB_ENTRY = """\
id: club-gym
question: Where does the club lift together?
phrasings:
  - where does the club do strength work
  - club gym session
answer: The club lifts on Wednesdays at 7pm in the leisure centre gym.
"""


def become(h: Harness, user: dict, permissions: discord.Permissions, roles: tuple[int, ...] = ()) -> None:
    """From now on every interaction the harness sends comes from `user`, with these permissions and roles."""

    def payload(kind, data, **kwargs):
        if kwargs.get("user") is None:
            kwargs["user"] = user
        kwargs.setdefault("permissions", permissions)
        built = Harness.interaction_payload(h, kind, data, **kwargs)
        if "member" in built:
            built["member"]["roles"] = [str(role) for role in roles]
        return built

    h.interaction_payload = payload


def add_role(h: Harness, role_id: int = ROLE_ID, name: str = "Coaches") -> dict:
    role = {"id": str(role_id), "name": name, "permissions": "0", "position": 1, "color": 0, "hoist": False,
            "managed": False, "mentionable": False, "flags": 0}
    h.bot._connection.parse_guild_role_create({"guild_id": str(GUILD_ID), "role": role})
    return role


def audit(h: Harness) -> list[dict]:
    return h.bot.storage.audit.list(GUILD_ID, 50)


def overrides(h: Harness) -> dict:
    return h.bot.storage.guilds.get(GUILD_ID)["rule_overrides"]


@pytest.fixture
async def harness(tmp_path):
    h = await start_harness(tmp_path)
    become(h, MOD_USER, MODERATOR)
    yield h
    await stop_harness(h)


# ---- the gate ----------------------------------------------------------------------------------

MODERATOR_COMMANDS = [
    ("rules list", {}), ("rules show", {"rule": "goal-speed"}), ("rules enable", {"rule": "goal-speed"}),
    ("rules disable", {"rule": "goal-speed"}), ("rules add", {}), ("rules edit", {"rule": "goal-speed"}),
    ("rules test", {"mileage": "30mi", "level": "beginner", "goals": "speed"}),
    ("rules impact", {"rule": "goal-speed"}), ("rules history", {}), ("rules revert", {"change": 1}),
    ("rules export", {}), ("rules reset", {}), ("faq-admin list", {}), ("faq-admin history", {}),
    ("faq-admin add", {}), ("faq-admin edit", {"entry": "x"}), ("faq-admin remove", {"entry": "x"}),
]


@pytest.mark.parametrize(("name", "options"), MODERATOR_COMMANDS, ids=[n for n, _ in MODERATOR_COMMANDS])
async def test_ordinary_member_is_refused_politely(harness, name, options):
    """A member without Manage Server or the moderator role gets the polite refusal, privately."""
    become(harness, MEMBER_USER, MEMBER_PERMISSIONS)
    run = await harness.command(name, **options)
    assert run.response.content == NOT_MODERATOR
    assert run.response.ephemeral


async def test_refused_disable_changes_nothing(harness):
    """An ordinary member's /rules disable leaves the server's rules and audit log untouched."""
    become(harness, MEMBER_USER, MEMBER_PERMISSIONS)
    await harness.command("rules disable", rule="goal-speed")
    assert overrides(harness) == {}
    assert audit(harness) == []


async def test_commands_in_dms_are_refused(harness):
    """Moderator commands in a DM say they work in a server."""
    run = await harness.command("rules list", guild=False)
    assert "works in a server" in run.response.content


async def test_moderator_role_opens_the_commands(harness):
    """A member with the server's moderator role (but no Manage Server) may use /rules."""
    add_role(harness)
    harness.bot.tuning.set_mod_role(GUILD_ID, ADMIN_ID, ROLE_ID)
    become(harness, MEMBER_USER, MEMBER_PERMISSIONS, roles=(ROLE_ID,))
    run = await harness.command("rules list")
    assert run.response.embeds[0]["title"] == "This server's rules"


async def test_a_different_role_does_not_open_them(harness):
    """Having some other role is not enough."""
    add_role(harness)
    add_role(harness, ROLE_ID + 1, "Runners")
    harness.bot.tuning.set_mod_role(GUILD_ID, ADMIN_ID, ROLE_ID)
    become(harness, MEMBER_USER, MEMBER_PERMISSIONS, roles=(ROLE_ID + 1,))
    run = await harness.command("rules list")
    assert run.response.content == NOT_MODERATOR


async def test_autocomplete_offers_nothing_to_ordinary_members(harness):
    """Rule-id autocomplete is empty for a member who is not a moderator."""
    become(harness, MEMBER_USER, MEMBER_PERMISSIONS)
    run = await harness.autocomplete("rules show", "rule", "goal")
    assert run.response.json["data"]["choices"] == []


async def test_autocomplete_offers_matching_rule_ids(harness):
    """Moderators typing part of a rule id get matching ids as choices."""
    run = await harness.autocomplete("rules show", "rule", "goal-sp")
    assert run.response.type == AUTOCOMPLETE_RESULT
    values = [choice["value"] for choice in run.response.json["data"]["choices"]]
    assert values and all("goal-sp" in value for value in values)


# ---- /settings modrole ---------------------------------------------------------------------------

async def modrole(h, role):
    data = h.command_data("settings modrole", {"role": str(role["id"])})
    data["resolved"] = {"roles": {role["id"]: role}}
    return await h.dispatch(h.interaction_payload(2, data))


async def test_admin_sets_the_moderator_role(harness):
    """An administrator's /settings modrole stores the role and records who did it."""
    role = add_role(harness)
    become(harness, ADMIN_USER, ADMIN)
    run = await modrole(harness, role)
    assert run.response.ephemeral
    assert harness.bot.storage.guilds.get(GUILD_ID)["mod_role_id"] == ROLE_ID
    entry = audit(harness)[0]
    assert (entry["actor_id"], entry["before"], entry["after"]) == (ADMIN_ID, None, ROLE_ID)


async def test_moderator_cannot_set_the_role(harness):
    """Manage Server without administrator is refused and nothing is stored."""
    role = add_role(harness)
    run = await modrole(harness, role)
    assert run.response.content == NOT_ADMIN
    assert harness.bot.storage.guilds.get(GUILD_ID)["mod_role_id"] is None


async def test_everyone_cannot_be_the_moderator_role(harness):
    """@everyone is refused as the moderator role, with the reason."""
    become(harness, ADMIN_USER, ADMIN)
    everyone = {"id": str(GUILD_ID), "name": "@everyone", "permissions": "0", "position": 0, "color": 0,
                "hoist": False, "managed": False, "mentionable": False, "flags": 0}
    run = await modrole(harness, everyone)
    assert run.response.content == EVERYONE_REFUSED


# ---- reading the rules -----------------------------------------------------------------------------

async def test_rules_list_pages_are_limited_and_disabled_at_the_ends(harness):
    """/rules list is a private paged embed whose Previous is disabled on the first page."""
    run = await harness.command("rules list")
    assert run.response.ephemeral
    assert run.response.custom_ids == ["mod:prev", "mod:page", "mod:next"]
    assert run.response.component("mod:prev")["disabled"] is True
    pages = len(harness.bot.tuning.rows(GUILD_ID)) // 10 + 1
    for _ in range(pages - 1):
        last = await harness.click("mod:next")
    assert last.response.type == UPDATE
    assert last.response.component("mod:next")["disabled"] is True


async def test_rules_list_marks_changed_and_server_rules(harness):
    """A disabled default shows as off and changed here; an added rule as this server's own."""
    harness.bot.tuning.set_enabled(GUILD_ID, MOD_ID, "goal-speed", False)
    harness.bot.tuning.save_rule(GUILD_ID, MOD_ID, CLUB_RULE)
    goals = (await harness.command("rules list", tag="goals")).response.text
    club = (await harness.command("rules list", tag="club")).response.text
    assert "`goal-speed` · priority 300 · **off** · changed here" in goals
    assert "`goal-hills` · priority 300 · on · default" in goals
    assert "`club-hills` · priority 310 · on · this server's own" in club


async def test_rules_list_filters_by_tag(harness):
    """With a tag, only rules carrying that tag are listed."""
    run = await harness.command("rules list", tag="goals")
    ids = [line.split("`")[1] for line in run.response.embeds[0]["description"].split("\n\n")]
    assert ids and all("goals" in harness.bot.coach.ruleset.by_id[i].tags for i in ids)


async def test_rules_list_flags_saved_changes_that_no_longer_apply(harness):
    """A stored rule that stopped validating is skipped and flagged on the list for moderators."""
    broken = yaml.safe_load(CLUB_RULE) | {"then": [{"add_exercise": {"id": "moon-squats"}}]}
    harness.bot.storage.guilds.update(GUILD_ID, lambda s: s | {"rule_overrides": {"club-hills": {"rule": broken}}})
    run = await harness.command("rules list")
    field = run.response.embeds[0]["fields"][0]
    assert field["name"].startswith("1 saved change(s) no longer apply")
    assert "moon-squats" in field["value"]


async def test_someone_else_cannot_page_the_list(harness):
    """Another moderator pressing Next on my list is told to use the command themselves."""
    await harness.command("rules list")
    become(harness, ADMIN_USER, ADMIN)
    run = await harness.click("mod:next")
    assert "/rules list" in run.response.content
    assert run.response.type != UPDATE


async def test_rules_show_gives_the_yaml_in_a_code_block(harness):
    """/rules show answers with the rule's YAML, which parses back to the same rule."""
    run = await harness.command("rules show", rule="goal-speed")
    body = run.response.embeds[0]["description"]
    assert body.startswith("```yaml\n") and body.endswith("\n```")
    parsed = parse_rules([yaml.safe_load(body[8:-4].replace("`\u200b", "`"))], "shown")[0]
    assert parsed == harness.bot.coach.ruleset.by_id["goal-speed"]


async def test_unknown_rule_suggests_the_closest(harness):
    """A mistyped rule id is answered with the closest real id."""
    run = await harness.command("rules show", rule="goal-sped")
    assert "`goal-speed`" in run.response.content


# ---- enable / disable with the impact preview --------------------------------------------------------

def seed_profiles(h, profiles):
    for number, profile in enumerate(profiles):
        h.bot.storage.profiles.save(1800000000000000000 + number, profile, guild_id=GUILD_ID)


async def test_disable_previews_the_impact_on_saved_profiles(harness):
    """Disabling a rule first shows how many saved profiles get a different plan, and saves nothing."""
    seed_profiles(harness, [SPEEDY, SPEEDY.model_copy(update={"weekly_km": 55.0}), EASY])
    run = await harness.command("rules disable", rule="goal-speed")
    preview = run.followups[-1]
    assert "**2 of 3** members who made a plan in this server" in preview.embeds[0]["description"]
    assert preview.embeds[0]["fields"][0]["value"].startswith("```diff\n")
    assert preview.custom_ids == ["mod:confirm", "mod:cancel"]
    assert overrides(harness) == {}


async def test_confirm_saves_the_change(harness):
    """Confirm switches the rule off for this server and says which change it is."""
    await harness.command("rules disable", rule="goal-speed")
    run = await harness.click("mod:confirm")
    assert run.response.type == DEFERRED_UPDATE
    assert run.edits[-1].content.startswith("Saved as change #1.")
    assert run.edits[-1].components == []
    assert harness.bot.tuning.ruleset_for(GUILD_ID).by_id["goal-speed"].enabled is False


async def test_cancel_saves_nothing(harness):
    """Cancel says nothing changed, removes the buttons, and stores nothing."""
    await harness.command("rules disable", rule="goal-speed")
    run = await harness.click("mod:cancel")
    assert run.response.content == CANCELLED
    assert overrides(harness) == {} and audit(harness) == []


async def test_confirm_checks_the_moderator_again(harness):
    """If the moderator lost Manage Server before pressing Confirm, nothing is saved."""
    await harness.command("rules disable", rule="goal-speed")
    become(harness, MOD_USER, MEMBER_PERMISSIONS)
    run = await harness.click("mod:confirm")
    assert run.response.content == NOT_MODERATOR
    assert overrides(harness) == {}


async def test_enabling_an_enabled_rule_says_so(harness):
    """Enabling a rule that is already on explains that nothing would change."""
    run = await harness.command("rules enable", rule="goal-speed")
    assert "already enabled" in run.last.content


async def test_impact_counts_without_saving(harness):
    """/rules impact reports the count for switching the rule over, and changes nothing."""
    seed_profiles(harness, [HILLY, EASY])
    run = await harness.command("rules impact", rule="goal-hills")
    assert "**1 of 2** members who made a plan in this server" in run.last.embeds[0]["description"]
    assert run.last.custom_ids == []
    assert overrides(harness) == {}


async def test_a_second_preview_waits_for_the_first(harness, monkeypatch):
    """While one impact preview runs for a server, another is refused politely instead of piling up."""
    entered, release = threading.Event(), threading.Event()
    slow = harness.bot.tuning.preview_toggle

    def held(*args, **kwargs):
        entered.set()
        release.wait(5)
        return slow(*args, **kwargs)

    monkeypatch.setattr(harness.bot.tuning, "preview_toggle", held)
    first = await harness.command("rules impact", rule="goal-speed", settle=False)
    await asyncio.to_thread(entered.wait, 5)  # the first command is now inside its preview
    second = await harness.command("rules impact", rule="goal-hills")
    release.set()
    await harness.settle()
    assert second.last.content == BUSY
    assert "If goal-speed were disabled" in first.last.embeds[0]["title"]


# ---- add / edit through the modal --------------------------------------------------------------------

async def test_add_opens_an_empty_yaml_modal(harness):
    """/rules add opens a modal with one paragraph input of at most 4,000 characters."""
    run = await harness.command("rules add")
    assert run.response.type == MODAL
    field = run.response.component("mod:yaml:text")
    assert (field["style"], field["max_length"]) == (2, 4000)
    assert not field.get("value")


async def test_added_rule_is_previewed_then_saved(harness):
    """A valid rule shows its impact with Confirm; Confirm saves it as this server's rule."""
    seed_profiles(harness, [HILLY, EASY])
    opened = await harness.command("rules add")
    run = await harness.submit(opened.response, {"mod:yaml:text": CLUB_RULE})
    preview = run.followups[-1]
    assert preview.embeds[0]["title"] == "Add rule club-hills?"
    assert "**1 of 2**" in preview.embeds[0]["description"]
    await harness.click("mod:confirm")
    assert overrides(harness)["club-hills"]["rule"]["priority"] == 310


async def test_edit_prefills_the_rule(harness):
    """/rules edit opens the modal holding the rule's current YAML."""
    run = await harness.command("rules edit", rule="goal-hills")
    text = run.response.component("mod:yaml:text")["value"]
    assert yaml.safe_load(text)["id"] == "goal-hills"


async def test_bad_yaml_names_the_line_and_saves_nothing(harness):
    """Broken YAML is answered with the line at fault, and nothing is stored."""
    opened = await harness.command("rules add")
    broken = CLUB_RULE.replace("tags: [club]", "tags: [club")
    run = await harness.submit(opened.response, {"mod:yaml:text": broken})
    assert "Nothing was saved" in run.last.content
    assert ":5:" in run.last.content or ":6:" in run.last.content
    assert overrides(harness) == {}


async def test_bad_field_is_named(harness):
    """A wrong value names the field and why."""
    opened = await harness.command("rules add")
    run = await harness.submit(opened.response, {"mod:yaml:text": CLUB_RULE.replace("310", "5000")})
    assert "field 'priority'" in run.last.content


async def test_unknown_exercise_is_named(harness):
    """An action naming an exercise that doesn't exist is refused with the name."""
    opened = await harness.command("rules add")
    text = CLUB_RULE.replace("  - note: Join", "  - add_exercise: {id: moon-squats}\n  - note: Join")
    run = await harness.submit(opened.response, {"mod:yaml:text": text})
    assert "moon-squats" in run.last.content


async def test_reopen_button_brings_back_what_was_typed(harness):
    """After a validation error, the button reopens the modal with the moderator's text."""
    opened = await harness.command("rules add")
    broken = CLUB_RULE.replace("310", "5000")
    await harness.submit(opened.response, {"mod:yaml:text": broken})
    again = await harness.click("mod:reopen")
    assert again.response.type == MODAL
    assert again.response.component("mod:yaml:text")["value"] == broken


HOSTILE = ["'x' * 10**10", "range(10**9)|list", "goals.__class__", "goals.__class__.__mro__[1]",
           "(goals * 100000)|length > 1"]


@pytest.mark.parametrize("condition", HOSTILE)
async def test_hostile_condition_is_rejected_and_plans_still_work(harness, condition):
    """A condition that tries to allocate, loop or escape is refused when saved; /plan still answers."""
    opened = await harness.command("rules add")
    text = CLUB_RULE.replace("\"'hills' in goals\"", yaml.safe_dump(condition).splitlines()[0])
    # submit() waits for the bot with a time limit: a check that hung would fail the test there.
    run = await harness.submit(opened.response, {"mod:yaml:text": text})
    assert "Nothing was saved" in run.last.content
    assert "when" in run.last.content
    assert overrides(harness) == {}
    become(harness, MEMBER_USER, MEMBER_PERMISSIONS)
    harness.bot.storage.profiles.save(MEMBER_ID, HILLY)
    await harness.command("plan")
    used = await harness.click("plan:use")
    assert used.edits[-1].content == PLAN_READY


# ---- history, revert, export, reset ---------------------------------------------------------------------

async def test_history_shows_who_and_before_after(harness):
    """/rules history lists the change with its moderator, and the rule before and after."""
    harness.bot.tuning.set_enabled(GUILD_ID, MOD_ID, "goal-speed", False)
    run = await harness.command("rules history")
    field = run.response.embeds[0]["fields"][0]
    assert field["name"] == "#1 · rule disable · goal-speed"
    assert f"<@{MOD_ID}>" in field["value"]
    before, after = field["value"].split("**After**")
    assert "enabled: true" in before and "enabled: false" in after


async def test_revert_puts_the_rule_back(harness):
    """/rules revert with Confirm undoes a change and records the revert as a new change."""
    harness.bot.tuning.set_enabled(GUILD_ID, MOD_ID, "goal-speed", False)
    ask = await harness.command("rules revert", change=1)
    assert ask.response.embeds[0]["title"] == "Undo change #1?"
    done = await harness.click("mod:confirm")
    assert done.edits[-1].content == "Change #1 undone, recorded as change #2."
    assert harness.bot.tuning.ruleset_for(GUILD_ID).by_id["goal-speed"].enabled is True
    assert audit(harness)[0]["action"] == "revert"


async def test_revert_of_an_unknown_change(harness):
    """Reverting a change number that doesn't exist says so."""
    run = await harness.command("rules revert", change=99)
    assert "no change #99" in run.response.content


async def test_export_attaches_the_effective_rules(harness):
    """/rules export attaches a YAML rule file holding this server's version of each rule."""
    harness.bot.tuning.set_enabled(GUILD_ID, MOD_ID, "goal-speed", False)
    run = await harness.command("rules export")
    (name, content), = run.response.files.items()
    assert name.endswith(".yaml")
    rules = {rule.id: rule for rule in parse_rules(yaml.safe_load(content), name)}
    assert rules["goal-speed"].enabled is False
    assert len(rules) == len(harness.bot.coach.ruleset.rules)


async def test_reset_after_confirm_uses_the_defaults(harness):
    """/rules reset asks first, then drops every rule override."""
    harness.bot.tuning.set_enabled(GUILD_ID, MOD_ID, "goal-speed", False)
    ask = await harness.command("rules reset")
    assert "`goal-speed`" in ask.response.embeds[0]["description"]
    await harness.click("mod:confirm")
    assert overrides(harness) == {}


async def test_reset_with_nothing_to_reset(harness):
    """Reset on a server with the defaults says there's nothing to do."""
    run = await harness.command("rules reset")
    assert "nothing to reset" in run.response.content


async def test_reload_is_for_the_bot_owner(harness):
    """A moderator who doesn't run the bot is refused /rules reload."""
    run = await harness.command("rules reload")
    assert run.response.content == NOT_OWNER


async def test_owner_reloads_the_defaults(harness):
    """The bot owner's /rules reload re-reads the files and reports the version."""
    become(harness, user_payload(OWNER_ID, "coach"), MEMBER_PERMISSIONS)
    run = await harness.command("rules reload")
    assert run.last.content == f"Reloaded the default rules and FAQ (rules {harness.bot.coach.ruleset.version})."


# ---- /rules test ---------------------------------------------------------------------------------------

async def test_rules_test_shows_the_plan_and_fired_rules(harness):
    """/rules test shows the plan overview and which rules fired, with the server's own rules."""
    harness.bot.tuning.save_rule(GUILD_ID, MOD_ID, CLUB_RULE)
    run = await harness.command("rules test", mileage="50km", level="intermediate", goals="hills")
    overview, fired = run.last.embeds
    assert overview["title"] == "Test plan (not saved)"
    assert "`club-hills` (fired)" in fired["description"]


async def test_rules_test_bad_mileage_says_what_is_accepted(harness):
    """A mileage that can't be read is answered with the accepted forms."""
    run = await harness.command("rules test", mileage="lots", level="beginner", goals="speed")
    assert "30mi" in run.response.content


async def test_rules_test_bad_goal_lists_the_goals(harness):
    """An unknown goal is answered with the goals that exist."""
    run = await harness.command("rules test", mileage="30km", level="beginner", goals="flying")
    assert "injury-resilience" in run.response.content


# ---- plans use the server's rules ---------------------------------------------------------------------

async def test_plan_in_a_server_records_its_rules_version(harness):
    """A member's /plan in a server is made with, and records, that server's effective rules."""
    harness.bot.tuning.set_enabled(GUILD_ID, MOD_ID, "goal-speed", False)
    become(harness, MEMBER_USER, MEMBER_PERMISSIONS)
    harness.bot.storage.profiles.save(MEMBER_ID, SPEEDY)
    await harness.command("plan")
    await harness.click("plan:use")
    plan = harness.bot.storage.plans.latest(MEMBER_ID)
    assert plan.rules_version == harness.bot.tuning.ruleset_for(GUILD_ID).version
    assert plan.rules_version != harness.bot.coach.ruleset.version
    assert "goal-speed" not in plan.fired_rules


# ---- /faq-admin -----------------------------------------------------------------------------------------

async def test_faq_add_previews_then_saves_on_confirm_and_members_get_the_answer(harness):
    """An entry added through the modal is first shown as members would see it with Confirm / Cancel
    (nothing saved), then saved on Confirm and answered by /faq in this server."""
    opened = await harness.command("faq-admin add")
    run = await harness.submit(opened.response, {"mod:yaml:text": CLUB_ENTRY})
    assert run.last.content.startswith("Nothing is saved yet.")
    assert run.last.embeds[0]["title"] == "Add FAQ club-gym? · Where does the club lift together?"
    assert "Wednesdays at 7pm" in run.last.embeds[0]["description"]
    assert run.last.custom_ids == ["mod:confirm", "mod:cancel"]
    assert harness.bot.storage.guilds.get(GUILD_ID)["faq_overrides"] == {}
    confirmed = await harness.click("mod:confirm")
    assert confirmed.edits[-1].content.startswith("Saved as change #1.")
    become(harness, MEMBER_USER, MEMBER_PERMISSIONS)
    answer = await harness.command("faq", topic="club-gym")
    assert "Wednesdays at 7pm" in answer.response.embeds[0]["description"]


async def test_faq_answer_cannot_reach_beyond_its_variables(harness):
    """An answer reaching for Python internals through a placeholder is refused and nothing is saved."""
    opened = await harness.command("faq-admin add")
    text = CLUB_ENTRY.replace("answer: The club lifts", "answer: |\n  {level.__class__.__mro__} The club lifts")
    run = await harness.submit(opened.response, {"mod:yaml:text": text})
    assert "field 'answer'" in run.last.content
    assert harness.bot.storage.guilds.get(GUILD_ID)["faq_overrides"] == {}


async def test_faq_edit_prefills_the_entry(harness):
    """/faq-admin edit opens the modal holding the entry's YAML."""
    entry_id = harness.bot.coach.faq.entries[0].id
    run = await harness.command("faq-admin edit", entry=entry_id)
    assert yaml.safe_load(run.response.component("mod:yaml:text")["value"])["id"] == entry_id


async def test_faq_remove_hides_the_entry_in_this_server(harness):
    """Removing a default entry with Confirm hides it from this server's FAQ only."""
    entry_id = harness.bot.coach.faq.entries[0].id
    await harness.command("faq-admin remove", entry=entry_id)
    await harness.click("mod:confirm")
    assert harness.bot.tuning.faq_for(GUILD_ID).get(entry_id) is None
    assert harness.bot.tuning.faq_for(None).get(entry_id) is not None


async def test_faq_list_and_history_show_the_change(harness):
    """/faq-admin list marks the server's entry; /faq-admin history shows the change."""
    harness.bot.tuning.save_faq_entry(GUILD_ID, MOD_ID, CLUB_ENTRY)
    listed = await harness.command("faq-admin list")
    pages = [listed.response.embeds[0]["description"]]
    while not listed.last.component("mod:next").get("disabled"):
        listed = await harness.click("mod:next")
        pages.append(listed.response.embeds[0]["description"])
    assert "`club-gym` · this server's own" in "\n".join(pages)
    history = await harness.command("faq-admin history")
    assert history.response.embeds[0]["fields"][0]["name"] == "#1 · faq add · club-gym"


async def test_faq_autocomplete_for_moderators(harness):
    """/faq-admin edit suggests entry ids as the moderator types."""
    run = await harness.autocomplete("faq-admin edit", "entry", "")
    assert run.response.json["data"]["choices"]


def long_rule() -> str:
    notes = "".join(f"  - note: {'Hill reps build strength for the trails. ' * 9}({n})\n" for n in range(8))
    return CLUB_RULE.split("then:")[0] + "then:\n" + notes


async def test_long_rules_still_fit_discord_limits(harness):
    """A rule near the form's 4,000 characters is shown, listed and logged within Discord's limits."""
    text = long_rule()
    assert 3000 < len(text) <= 4000
    harness.bot.tuning.save_rule(GUILD_ID, MOD_ID, text)
    harness.bot.tuning.save_rule(GUILD_ID, MOD_ID, text.replace("(0)", "(changed)"))
    calls = [(await harness.command(name, **options)).last for name, options in (
        ("rules show", {"rule": "club-hills"}), ("rules history", {}), ("rules list", {}))]
    for call in calls:
        assert len(call.content or "") <= CONTENT_LIMIT
        assert all(embed_problems(embed) == [] for embed in call.embeds)


async def test_mentions_in_moderator_text_never_ping(harness):
    """Moderator text with @everyone is shown inert, and nothing sent allows mentions."""
    rule = CLUB_RULE.replace("description: Our trail club", "description: '@everyone our trail club")
    rule = rule.replace("hill reps.\n", "hill reps.'\n", 1)
    harness.bot.tuning.save_rule(GUILD_ID, MOD_ID, rule)
    run = await harness.command("rules list", tag="club")
    assert "@everyone" not in run.response.text
    assert run.response.allowed_mentions == {"parse": []}


# ---- optimistic concurrency ------------------------------------------------------------------------------

def stored(harness, run):
    """The message Discord stored for a run's last answer (a follow-up), to press its buttons."""
    call = run.last
    return next(m for m in reversed(list(harness.fake.messages.values()))
                if m["content"] == (call.content or "") and m["embeds"] == call.embeds)


async def test_second_confirm_on_a_rule_changed_since_its_preview_is_refused_with_the_newer_version(harness):
    """Two moderators preview edits of one rule; the first Confirm saves, the second is refused and is shown
    the version the first saved, instead of silently overwriting it."""
    rule = yaml.safe_load(rule_to_yaml(harness.bot.tuning.ruleset_for(GUILD_ID).by_id["goal-speed"]))
    first_text = yaml.safe_dump({**rule, "description": "First moderator's wording."})
    second_text = yaml.safe_dump({**rule, "description": "Second moderator's wording."})
    first = await harness.command("rules edit", rule="goal-speed")
    first_preview = await harness.submit(first.response, {"mod:yaml:text": first_text})
    second = await harness.command("rules edit", rule="goal-speed")
    second_preview = await harness.submit(second.response, {"mod:yaml:text": second_text})
    saved = await harness.click("mod:confirm", message=stored(harness, first_preview))
    assert saved.edits[-1].content.startswith("Saved as change #1.")
    refused = await harness.click("mod:confirm", message=stored(harness, second_preview))
    text = refused.edits[-1].content
    assert "was changed by someone else since your preview, so nothing was saved" in text
    assert "First moderator's wording." in text
    assert harness.bot.tuning.ruleset_for(GUILD_ID).by_id["goal-speed"].description == "First moderator's wording."
    assert len(harness.bot.tuning.history(GUILD_ID)) == 1


async def test_faq_confirm_after_another_edit_is_refused(harness):
    """The same holds for FAQ entries: a preview made before another moderator's save can't be confirmed."""
    opened = await harness.command("faq-admin add")
    preview = await harness.submit(opened.response, {"mod:yaml:text": CLUB_ENTRY})
    harness.bot.tuning.save_faq_entry(GUILD_ID, MOD_ID, CLUB_ENTRY.replace("Wednesdays", "Mondays"))
    refused = await harness.click("mod:confirm", message=stored(harness, preview))
    assert "since your preview" in refused.edits[-1].content and "Mondays" in refused.edits[-1].content
    assert "Mondays" in harness.bot.tuning.faq_for(GUILD_ID).render_answer("club-gym")


async def test_old_topic_button_for_a_removed_entry_gets_a_friendly_message(harness):
    """A topic button shown before a moderator removed its entry says the topic is gone, not an error."""
    run = await harness.command("faq", topic="how-often")
    offered = run.response.custom_ids[0].removeprefix("faq:topic:")
    harness.bot.tuning.remove_faq_entry(GUILD_ID, MOD_ID, offered)
    pressed = await harness.click(f"faq:topic:{offered}")
    assert pressed.last.content.startswith(f"That topic (`{offered}`) isn't in this server's FAQ any more")
    assert pressed.last.ephemeral


def test_every_core_error_reaches_the_member_through_one_handler():
    """The core's errors share LegDayError, so the Discord layer's one handler words them all."""
    from bot.client import friendly_message
    from bot.conditions import ConditionError
    from bot.errors import LegDayError
    from bot.faq import FaqError
    from bot.tuning import StaleChange, TuningError
    from bot.yamlio import DataFileError

    errors = [DataFileError(["rules.yaml:3: bad"]), FaqError("entry 'x': bad"), TuningError("no such rule"),
              ConditionError("'>' can't compare"), StaleChange("goal-speed", "id: goal-speed")]
    for error in errors:
        assert isinstance(error, LegDayError)
        assert friendly_message(error) == error.user_message == str(error)
    assert friendly_message(RuntimeError("a bug")) is None


async def test_confirm_view_exposes_its_result(harness):
    """The Confirm view's outcome is readable after the press: the change's number, or the refusal."""
    run = await harness.command("rules disable", rule="goal-speed")
    message = stored(harness, run)
    view = harness.bot._connection._view_store._synced_message_views[int(message["id"])]
    assert view.result is None
    await harness.click("mod:confirm", message=message)
    assert view.result == 1 and view.message.startswith("Saved as change #1.")
    again = await harness.command("rules enable", rule="goal-speed")
    message = stored(harness, again)
    view = harness.bot._connection._view_store._synced_message_views[int(message["id"])]
    harness.bot.tuning.set_enabled(GUILD_ID, MOD_ID, "goal-speed", True)  # another moderator was quicker
    await harness.click("mod:confirm", message=message)
    assert isinstance(view.result, StaleChange) and "since your preview" in view.message
