"""The offline harness drives real discord.py objects: /help's exact answer, and failures made friendly."""

from __future__ import annotations

import datetime as dt
import logging

import discord
from discord import app_commands
from discord_helpers import (
    EPHEMERAL,
    INVALID_WEBHOOK_TOKEN,
    MESSAGE,
    OWNER_ID,
    UNKNOWN_INTERACTION,
    user_payload,
)

from bot.client import GENERIC_FAILURE, FriendlyError, respond
from bot.exts.help import HELP_TEXT, HELP_TITLE


def add_failing_command(harness, name, error):
    """Register a throwaway command that raises `error`, the way a bug or a validation would."""

    @app_commands.command(name=name, description="Fails on purpose.")
    async def failing(interaction: discord.Interaction) -> None:
        raise error

    harness.bot.tree.add_command(failing)


async def test_help_answers_with_one_ephemeral_embed(harness):
    """/help answers at once with the help embed, visible only to the member."""
    run = await harness.command("help")
    response = run.response
    assert response.type == MESSAGE
    assert response.flags == EPHEMERAL
    assert response.embeds == [
        {"title": HELP_TITLE, "description": HELP_TEXT, "color": discord.Colour.green().value, "type": "rich",
         "flags": 0}
    ]


async def test_help_names_every_member_command(harness):
    """Every command a member can use (no permission needed) is on the help card, so it can't go stale."""
    member_commands = [command.name for command in harness.bot.tree.get_commands()
                       if command.default_permissions is None and command.name != "help"]
    assert member_commands and all(f"**/{name}**" in HELP_TEXT for name in member_commands), member_commands


async def test_help_never_pings_anyone(harness):
    """Replies carry the client's allowed_mentions: nothing may ping."""
    run = await harness.command("help")
    assert run.response.allowed_mentions == {"parse": []}


async def test_help_works_in_dms(harness):
    """/help works in a DM with the bot too."""
    run = await harness.command("help", guild=False)
    assert run.response.embeds[0]["title"] == HELP_TITLE


async def test_unexpected_error_gets_a_friendly_message_not_a_traceback(harness, caplog):
    """A bug in a command answers with a short apology and logs the traceback with context."""
    add_failing_command(harness, "boom", KeyError("weekly_km"))
    with caplog.at_level(logging.ERROR, logger="legday.discord"):
        run = await harness.command("boom")
    assert run.response.content == GENERIC_FAILURE
    assert run.response.ephemeral
    assert "Traceback" not in run.response.content
    record = next(r for r in caplog.records if r.levelno == logging.ERROR)
    assert "command=boom" in record.getMessage()
    assert f"user={run.payload['member']['user']['id']}" in record.getMessage()
    assert record.exc_info[0] is KeyError


async def test_friendly_error_message_is_shown_as_written(harness):
    """Our own validation errors reach the member word for word."""
    add_failing_command(harness, "strict", FriendlyError("Pick a day from Monday to Sunday."))
    run = await harness.command("strict")
    assert run.response.content == "Pick a day from Monday to Sunday."


async def test_bad_mileage_error_says_what_is_accepted(harness):
    """A MileageError raised in a command becomes its own runner-facing message."""
    from bot.models import MileageError, parse_mileage

    try:
        parse_mileage("lots")
    except MileageError as exc:
        error = exc
    add_failing_command(harness, "mileage", error)
    run = await harness.command("mileage")
    assert run.response.content == str(error)
    assert "30mi" in run.response.content


async def test_cooldown_error_says_when_to_retry(harness):
    """A command on cooldown tells the member how long to wait."""

    @app_commands.command(name="slow", description="Once a minute.")
    @app_commands.checks.cooldown(1, 60.0, key=lambda i: i.user.id)
    async def slow(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("ok", ephemeral=True)

    harness.bot.tree.add_command(slow)
    first = await harness.command("slow")
    second = await harness.command("slow")
    assert first.response.content == "ok"
    assert second.response.content.startswith("Easy there! You can use that again in ")
    assert second.response.ephemeral


async def test_error_after_defer_is_sent_as_a_followup(harness):
    """When the command already deferred, the error message goes out as a follow-up."""

    @app_commands.command(name="deferred", description="Defers then fails.")
    async def deferred(interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        raise RuntimeError("planner crashed")

    harness.bot.tree.add_command(deferred)
    run = await harness.command("deferred")
    assert run.response.type == 5
    assert [f.content for f in run.followups] == [GENERIC_FAILURE]
    assert run.followups[0].ephemeral


async def test_expired_interaction_is_logged_not_raised(harness, caplog):
    """A reply to an interaction Discord has dropped is logged, and nothing else breaks."""
    harness.fake.fail("POST", "/callback", UNKNOWN_INTERACTION)
    with caplog.at_level(logging.WARNING, logger="legday.discord"):
        run = await harness.command("help")
    assert len(run.calls) == 1  # one attempt, no second error message sent
    assert any("10062" in r.getMessage() for r in caplog.records)


async def test_followup_after_token_expiry_is_not_attempted(harness, caplog):
    """An interaction older than 15 minutes is not answered; the attempt is logged."""
    captured = {}

    @app_commands.command(name="late", description="Answers too late.")
    async def late(interaction: discord.Interaction) -> None:
        captured["sent"] = await respond(interaction, "finally")

    harness.bot.tree.add_command(late)
    old = discord.utils.utcnow() - dt.timedelta(minutes=16)
    with caplog.at_level(logging.WARNING, logger="legday.discord"):
        run = await harness.command("late", at=old)
    assert captured["sent"] is False
    assert run.calls == []
    assert any("expired" in r.getMessage() for r in caplog.records)


async def test_invalid_webhook_token_on_followup_is_logged(harness):
    """Discord's 'invalid webhook token' on a follow-up counts as an expired interaction."""
    captured = {}

    @app_commands.command(name="twice", description="Defers then follows up.")
    async def twice(interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True)
        harness.fake.fail("POST", "/webhooks/", INVALID_WEBHOOK_TOKEN)
        captured["sent"] = await respond(interaction, "done")

    harness.bot.tree.add_command(twice)
    await harness.command("twice")
    assert captured["sent"] is False


async def test_sync_is_refused_to_a_non_owner(harness):
    """/sync answers a member who is not an owner with a refusal and syncs nothing."""
    run = await harness.command("sync")
    assert run.response.content == "That command isn't available to you here."
    assert not [c for c in harness.fake.calls if c.route.endswith("/commands")]


async def test_sync_by_owner_publishes_commands_globally(harness):
    """/sync by an owner defers, syncs globally and says how many commands went out."""
    run = await harness.command("sync", user=user_payload(OWNER_ID, "coach"))
    puts = [c for c in harness.fake.calls if c.method == "PUT" and c.route.endswith("/commands")]
    assert run.response.type == 5
    assert len(puts) == 1 and "/guilds/" not in puts[0].route
    names = {cmd["name"] for cmd in puts[0].json}
    assert {"help", "sync"} <= names
    assert run.followups[-1].content.startswith(f"Synced {len(puts[0].json)} commands globally")
