"""The command tree as Discord receives it on sync: every command, option, description and permission."""

from __future__ import annotations

import discord
import pytest
from discord_helpers import APP_ID, GUILD_ID, Harness, make_settings

from bot.client import EXTENSIONS, build_intents

# name -> (description, default_member_permissions, {option: (type, required)})
SUB, STRING = 1, 3
EXPECTED = {
    "help": ("What LegDay does and the commands to use.", None, {}),
    "plan": ("Get your personal 4-week leg strength plan.", None, {}),
    "progress": ("See how your block is going: sessions, loads and pain.", None, {}),
    "faq": ("Quick answers about leg strength for runners.", None, {"topic": (STRING, True)}),
    "ask": ("Ask a question about leg strength in your own words.", None, {"question": (STRING, True)}),
    "profile": ("See, edit or forget what LegDay knows about you.", None,
                {"show": (SUB, False), "edit": (SUB, False), "forget": (SUB, False), "export": (SUB, False)}),
    "checkin": ("Log how a session went (only you see it).", None, {}),
    "reminders": ("Opt-in DMs on your session days.", None,
                  {name: (SUB, False) for name in ("on", "off", "time", "timezone", "snooze", "status")}),
    "sync": ("Owner only: publish LegDay's slash commands.", discord.Permissions(administrator=True).value,
             {"scope": (STRING, False)}),
    "rules": ("Moderators: see, test and tune the rules LegDay plans with here.",
              discord.Permissions(manage_guild=True).value,
              {name: (SUB, False) for name in ("list", "show", "history", "export", "test", "impact", "enable",
                                               "disable", "add", "edit", "revert", "reset", "reload")}),
    "faq-admin": ("Moderators: add, edit and remove this server's FAQ answers.",
                  discord.Permissions(manage_guild=True).value,
                  {name: (SUB, False) for name in ("list", "history", "add", "edit", "remove")}),
    "settings": ("Administrators: LegDay's settings for this server.", discord.Permissions(administrator=True).value,
                 {"modrole": (SUB, False)}),
}
MODERATOR_GROUPS = ("rules", "faq-admin", "settings")


async def synced_payload(harness):
    await harness.bot.tree.sync()
    puts = [c for c in harness.fake.calls if c.method == "PUT" and c.route == "/applications/{application_id}/commands"]
    return {command["name"]: command for command in puts[-1].json}


async def test_exactly_the_intended_commands_are_registered(harness):
    """The global sync publishes exactly the commands we intend, no more."""
    commands = await synced_payload(harness)
    assert set(commands) == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
async def test_command_description_and_permissions(harness, name):
    """Each command has its description and default permission hint."""
    description, permissions, _ = EXPECTED[name]
    command = (await synced_payload(harness))[name]
    assert command["description"] == description
    assert command["default_member_permissions"] == permissions


@pytest.mark.parametrize("name", sorted(EXPECTED))
async def test_command_options(harness, name):
    """Each command has exactly its options, with their types and required flags, each described."""
    _, _, options = EXPECTED[name]
    command = (await synced_payload(harness))[name]
    got = {o["name"]: (o["type"], o.get("required", False)) for o in command.get("options", [])}
    assert got == options
    assert all(o["description"] and o["description"] != "…" for o in command.get("options", []))


async def test_sync_choice_lists_are_offered(harness):
    """/sync offers its two scopes as choices, so nothing else can be typed."""
    command = (await synced_payload(harness))["sync"]
    assert [c["value"] for c in command["options"][0]["choices"]] == ["global", "this server"]


async def test_no_sync_at_start_without_dev_guild(harness):
    """Starting without DEV_GUILD_ID publishes nothing: global sync only happens on purpose."""
    assert not [c for c in harness.fake.calls if c.route.endswith("/commands")]


async def test_start_syncs_only_to_the_dev_guild(tmp_path):
    """With DEV_GUILD_ID set, start-up syncs every command to that server only."""
    h = await Harness.start(make_settings(tmp_path, dev_guild_id=GUILD_ID), coach=None, storage=None)
    try:
        puts = [c for c in h.fake.calls if c.method == "PUT"]
        assert [c.path for c in puts] == [f"/applications/{APP_ID}/guilds/{GUILD_ID}/commands"]
        assert {cmd["name"] for cmd in puts[0].json} == set(EXPECTED)
    finally:
        await h.close()


def test_intents_are_minimal():
    """Only guilds, guild messages and DMs; no members, presences or message content by default."""
    intents = build_intents()
    assert intents == discord.Intents(guilds=True, guild_messages=True, dm_messages=True)
    assert not intents.message_content


def test_message_content_only_when_asked():
    """The privileged message content intent is requested only when the setting enables it."""
    assert build_intents(message_content=True).message_content


async def test_every_extension_loads(harness):
    """Every extension listed for start-up is loaded."""
    assert set(harness.bot.extensions) == set(EXTENSIONS)


async def test_client_never_pings_by_default(harness):
    """The client-wide allowed mentions ping nobody."""
    assert harness.bot.allowed_mentions.to_dict() == {"parse": []}


async def test_faq_topic_uses_autocomplete(harness):
    """/faq's topic option is autocompleted, so members see the topics as they type."""
    command = (await synced_payload(harness))["faq"]
    assert command["options"][0]["autocomplete"] is True


async def test_ask_question_is_length_limited(harness):
    """/ask accepts a question of 1 to 300 characters."""
    option = (await synced_payload(harness))["ask"]["options"][0]
    assert (option["min_length"], option["max_length"]) == (1, 300)


@pytest.mark.parametrize("name", MODERATOR_GROUPS)
async def test_moderator_groups_are_server_only(harness, name):
    """The moderator groups are offered in servers only, never in DMs."""
    command = (await synced_payload(harness))[name]
    assert command["contexts"] == [0]


@pytest.mark.parametrize("name", MODERATOR_GROUPS)
async def test_every_moderator_subcommand_checks_at_run_time(harness, name):
    """Each moderator subcommand carries a run-time check, since the permission hint can be changed."""
    group = harness.bot.tree.get_command(name)
    assert all(command.checks for command in group.walk_commands())
