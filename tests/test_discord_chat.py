"""Chat intake end to end: mention or DM, one question at a time, confirm, restart, expiry, FAQ."""

from __future__ import annotations

import datetime as dt

from discord_helpers import (
    BOT_ID,
    CHANNEL_ID,
    DEFERRED,
    MEMBER_ID,
    Harness,
    open_core,
    start_harness,
    stop_harness,
    user_payload,
)

from bot.exts.chat import CONFIRM_TITLE, EXPIRED, GONE, NOT_YOURS, SMALLTALK, conversation_key

KEY = conversation_key(MEMBER_ID, CHANNEL_ID, is_dm=False)


def last_reply(h):
    """The bot's latest new message: a reply to a message, or an answer to a button or select."""
    created = [c for c in h.fake.calls if c.method == "POST" and (
        c.route == "/channels/{channel_id}/messages" or c.type == 4
        or c.route == "/webhooks/{webhook_id}/{webhook_token}")]
    return created[-1]


async def answer_all(h, dm=False):
    """Answer every remaining question with its first option (or skip), until the confirm card."""
    for _ in range(15):
        reply = last_reply(h)
        if reply.embeds and reply.embeds[0]["title"] == CONFIRM_TITLE:
            return reply
        picks = [c for c in reply.components if c.get("custom_id", "").startswith("chat:pick:")]
        skips = [c for c in reply.components if c.get("custom_id", "").startswith("chat:skip:")]
        if picks:
            pick = picks[0]
            value = "no" if "sharp_pain" in pick["custom_id"] else pick["options"][0]["value"]
            await h.select(pick["custom_id"], [value], guild=not dm)
        elif skips:
            await h.click(skips[0]["custom_id"], guild=not dm)
        else:
            await h.message("30 km", dm=dm)
    raise AssertionError("never reached the confirm card")


async def test_mention_with_facts_asks_the_next_question(harness):
    """A mention with some facts replies (without pinging) asking the first missing thing."""
    await harness.message("I run 40 km a week and I'm new to lifting")
    reply = last_reply(harness)
    assert int(reply.json["message_reference"]["channel_id"]) == CHANNEL_ID
    assert reply.allowed_mentions == {"parse": [], "replied_user": False}
    assert "strength work help you with" in reply.content
    assert reply.custom_ids[0] == f"chat:pick:goals:{MEMBER_ID}"


async def test_message_without_mention_in_a_server_is_ignored(harness):
    """A server message that doesn't mention the bot (and no conversation) gets no reply."""
    await harness.message("I run 40 km a week", mention=False)
    assert harness.fake.channel_messages() == []


async def test_smalltalk_gets_a_pointer(harness):
    """A greeting gets a short pointer to what the bot does."""
    await harness.message("hello there")
    assert last_reply(harness).content == SMALLTALK


async def test_question_by_dm_goes_to_the_faq(harness):
    """A DM that is a question is answered from the FAQ."""
    await harness.message("how many strength sessions a week should I do?", dm=True)
    reply = last_reply(harness)
    assert reply.embeds or "Did you mean" in (reply.content or "")


async def test_conversation_reaches_confirm_and_delivers_privately(harness):
    """Answering each question leads to the summary; Looks right sends the plan privately."""
    await harness.message("I run 40 km a week, beginner, want to get faster")
    card = await answer_all(harness)
    assert [b["label"] for b in card.components if b["type"] == 2] == ["Looks right", "Change"]
    run = await harness.click(f"chat:confirm:{MEMBER_ID}")
    assert run.response.type == DEFERRED and run.response.ephemeral
    assert run.edits[-1].embeds[0]["title"] == "Your 4-week leg strength plan"
    assert harness.bot.storage.profiles.get(MEMBER_ID).weekly_km == 40
    assert harness.bot.storage.conversations.get(KEY) is None


async def test_change_asks_that_field_again(harness):
    """Change, then choosing a field, asks just that question again."""
    await harness.message("I run 40 km a week, beginner, want to get faster")
    await answer_all(harness)
    await harness.click(f"chat:change:{MEMBER_ID}")
    run = await harness.select(f"chat:field:{MEMBER_ID}", ["level"])
    assert "strength training have you done" in run.response.content


async def test_typed_bad_answer_says_what_is_accepted(harness):
    """A typed answer that can't be read gets what is accepted, and the same question stays open."""
    await harness.message("I'm a beginner and want to get faster")
    await harness.message("lots")
    assert "30mi" in last_reply(harness).content


async def test_someone_else_cannot_answer(harness):
    """Another member pressing a conversation's select is told it isn't theirs."""
    await harness.message("I run 40 km a week and I'm new to lifting")
    custom_id = last_reply(harness).custom_ids[0]
    run = await harness.select(custom_id, ["speed"], user=user_payload(1500000000000000009, "sam"))
    assert run.response.content == NOT_YOURS


async def test_conversation_survives_a_restart(tmp_path):
    """A conversation in progress carries on after the bot restarts, buttons included."""
    first = await start_harness(tmp_path)
    await first.message("I run 40 km a week and I'm new to lifting")
    custom_id = last_reply(first).custom_ids[0]
    message = list(first.fake.messages.values())[-1]  # the question, as Discord stored it
    await stop_harness(first)

    settings = first.bot.settings
    coach, storage = await open_core(settings)
    second = await Harness.start(settings, coach=coach, storage=storage)
    try:
        run = await second.select(custom_id, ["speed"], message=message)
        assert "Which day is your long run?" in run.response.content
        assert second.bot.storage.conversations.get(KEY)["fields"]["goals"] == ["speed"]
    finally:
        await stop_harness(second)


async def test_abandoned_conversation_expires_and_starts_fresh(harness):
    """A conversation left alone past its time is dropped; the next message starts fresh and says so."""
    await harness.message("I run 40 km a week and I'm new to lifting")
    state = harness.bot.storage.conversations.get(KEY)
    old = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=2)).isoformat()
    harness.bot.storage.conversations.save(KEY, dict(state, updated_at=old))
    await harness.message("I run 20 miles a week")
    assert last_reply(harness).content.startswith(EXPIRED)


async def test_expiry_task_removes_abandoned_conversations(harness):
    """The periodic clean-up removes conversations older than the time limit."""
    await harness.message("I run 40 km a week and I'm new to lifting")
    state = harness.bot.storage.conversations.get(KEY)
    old = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=2)).isoformat()
    harness.bot.storage.conversations.save(KEY, dict(state, updated_at=old))
    await harness.bot.get_cog("Chat").expire_old()
    assert harness.bot.storage.conversations.get(KEY) is None


async def test_button_on_expired_conversation_says_it_ended(harness):
    """Pressing a button of a conversation that has gone says so instead of failing."""
    await harness.message("I run 40 km a week and I'm new to lifting")
    custom_id = last_reply(harness).custom_ids[0]
    harness.bot.storage.conversations.delete(KEY)
    run = await harness.select(custom_id, ["speed"])
    assert run.response.content == GONE


async def test_spam_is_slowed_down(harness):
    """More than three messages in a few seconds gets a friendly slow-down reply."""
    for _ in range(4):
        await harness.message("hello")
    assert last_reply(harness).content.startswith("Easy there!")


async def test_member_text_cannot_ping(harness):
    """Member text with @everyone or a role mention is echoed without any ping allowed."""
    await harness.message("@everyone <@&123> hi")
    assert last_reply(harness).allowed_mentions["parse"] == []


async def test_bot_ignores_other_bots(harness):
    """Messages from bots never get a reply."""
    await harness.message("I run 40 km a week", user=user_payload(BOT_ID + 7, "otherbot", bot=True))
    assert harness.fake.channel_messages() == []
