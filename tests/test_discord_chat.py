"""Chat intake end to end: mention or DM, one question at a time, confirm, restart, expiry, FAQ."""

from __future__ import annotations

import asyncio
import datetime as dt

from discord_helpers import (
    BOT_ID,
    CHANNEL_ID,
    CLOSED_DMS,
    DEFERRED,
    MEMBER_ID,
    Harness,
    dm_channel_payload,
    open_core,
    start_harness,
    stop_harness,
    user_payload,
)

from bot.exts._ui import MemberCooldown
from bot.exts.chat import (
    CONFIRM_TITLE,
    DMS_CLOSED,
    EXPIRED,
    GONE,
    MOVED_TO_DM,
    NOT_YOURS,
    SMALLTALK,
    conversation_key,
)

# A conversation started in a server channel lives in the member's DM, so health questions stay private.
KEY = conversation_key(MEMBER_ID, None, is_dm=True)
DM_ID = int(dm_channel_payload(user_payload())["id"])


def last_reply(h):
    """The bot's latest new message: a reply to a message, or an answer to a button or select.

    The channel's "I've sent you a DM" note is skipped: the conversation goes on in the DM.
    """
    created = [c for c in h.fake.calls if c.method == "POST" and (
        c.route == "/channels/{channel_id}/messages" or c.type == 4
        or c.route == "/webhooks/{webhook_id}/{webhook_token}") and c.content != MOVED_TO_DM]
    return created[-1]


async def answer_all(h, dm=True):
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


async def test_mention_with_facts_moves_the_questions_to_dm(harness):
    """A mention with some facts gets a short reply in the channel (no ping); the next question comes by DM."""
    await harness.message("I run 40 km a week and I'm new to lifting")
    [in_channel] = harness.fake.channel_messages(CHANNEL_ID)
    assert int(in_channel.json["message_reference"]["channel_id"]) == CHANNEL_ID
    assert in_channel.allowed_mentions == {"parse": [], "replied_user": False}
    assert in_channel.content == MOVED_TO_DM
    question = harness.fake.channel_messages(DM_ID)[-1]
    assert "strength work help you with" in question.content
    assert question.custom_ids[0] == f"chat:pick:goals:{MEMBER_ID}"
    assert harness.bot.storage.conversations.get(KEY)["fields"]["level"] == "beginner"


async def test_health_details_never_reach_the_channel(harness):
    """Niggles and sharp pain told in a channel mention are asked about and summed up in DM only."""
    await harness.message("I run 40 km a week, beginner, want to get faster, sore knee and sharp pain when I squat")
    await answer_all(harness)
    for call in harness.fake.channel_messages(CHANNEL_ID):
        shown = (call.content or "") + str(call.embeds)
        assert "knee" not in shown.lower() and "sharp" not in shown.lower()
    summary = str(last_reply(harness).embeds[0]).lower()
    assert [call.content for call in harness.fake.channel_messages(CHANNEL_ID)] == [MOVED_TO_DM]
    assert "knee" in summary and "sharp" in summary


async def test_closed_dms_point_to_the_private_form(harness):
    """When the member's DMs are closed, the channel reply points to /plan and nothing is kept."""
    harness.fake.fail("POST", f"/channels/{DM_ID}/messages", CLOSED_DMS)
    await harness.message("I run 40 km a week, sore knee, new to lifting")
    reply = harness.fake.channel_messages(CHANNEL_ID)[-1]
    assert reply.content == DMS_CLOSED
    assert harness.bot.storage.conversations.get(KEY) is None


async def test_fast_answers_are_all_taken_with_no_slow_down(harness):
    """A member answering briskly (several answers within a second) has every answer read, in order."""
    await harness.message("I run 40 km a week, beginner, want to get faster, long run sunday", dm=True)
    await asyncio.gather(*(harness.message(text, dm=True) for text in
                           ("tue and thu", "dumbbells", "no niggles", "no", "2", "no race planned")))
    replies = [c.content or "" for c in harness.fake.channel_messages(DM_ID)]
    assert not any("Easy there" in text for text in replies)
    assert last_reply(harness).embeds[0]["title"] == CONFIRM_TITLE
    fields = harness.bot.storage.conversations.get(KEY)["fields"]
    assert fields["hard_days"] == ["tue", "thu"] and fields["days_per_week"] == 2
    assert fields["equipment"] == ["dumbbells"] and fields["niggles"] == [] and fields["race_date"] is None


async def test_messages_over_the_limit_wait_their_turn(harness):
    """New questions beyond the per-member pace are queued and answered, never refused."""
    harness.bot.get_cog("Chat").cooldown = MemberCooldown(rate=1, per=0.2)
    settle = harness.settle

    async def no_wait(timeout: float = 10.0) -> None:
        return None

    harness.settle = no_wait  # all three arrive while the first is still being read
    for _ in range(3):
        await harness.message("hello", dm=True)
    harness.settle = settle
    await harness.settle()
    replies = [c.content for c in harness.fake.channel_messages(DM_ID)]
    assert replies == [SMALLTALK] * 3


async def test_typed_looks_right_saves_profile_and_plan(harness):
    """Confirming by typing saves the profile and the plan and shows the plan in the DM."""
    await harness.message("I run 40 km a week, beginner, want to get faster", dm=True)
    await answer_all(harness)
    await harness.message("looks right", dm=True)
    assert last_reply(harness).embeds[0]["title"] == "Your 4-week leg strength plan"
    assert harness.bot.storage.profiles.get(MEMBER_ID).weekly_km == 40
    assert harness.bot.storage.plans.latest(MEMBER_ID) is not None
    assert harness.bot.storage.conversations.get(KEY) is None


async def test_question_mid_conversation_is_answered_and_the_question_asked_again(harness):
    """A question typed instead of an answer gets the FAQ's answer, then the pending question again."""
    await harness.message("I run 40 km a week and I'm new to lifting", dm=True)
    before = len(harness.fake.channel_messages(DM_ID))
    await harness.message("will squats make my legs bulky?", dm=True)
    new = harness.fake.channel_messages(DM_ID)[before:]
    assert len(new) == 2
    assert new[0].embeds or "Did you mean" in (new[0].content or "")
    assert "strength work help you with" in new[1].content


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
    run = await harness.click(f"chat:confirm:{MEMBER_ID}", guild=False)
    assert run.response.type == DEFERRED and run.response.ephemeral
    assert run.edits[-1].embeds[0]["title"] == "Your 4-week leg strength plan"
    assert harness.bot.storage.profiles.get(MEMBER_ID).weekly_km == 40
    assert harness.bot.storage.conversations.get(KEY) is None


async def test_change_asks_that_field_again(harness):
    """Change, then choosing a field, asks just that question again."""
    await harness.message("I run 40 km a week, beginner, want to get faster")
    await answer_all(harness)
    await harness.click(f"chat:change:{MEMBER_ID}", guild=False)
    run = await harness.select(f"chat:field:{MEMBER_ID}", ["level"], guild=False)
    assert "strength training have you done" in run.response.content


async def test_typed_bad_answer_says_what_is_accepted(harness):
    """A typed answer that can't be read gets what is accepted, and the same question stays open."""
    await harness.message("I'm a beginner and want to get faster", dm=True)
    await harness.message("lots", dm=True)
    assert "30mi" in last_reply(harness).content


async def test_someone_else_cannot_answer(harness):
    """Another member pressing a conversation's select is told it isn't theirs."""
    await harness.message("I run 40 km a week and I'm new to lifting")
    custom_id = last_reply(harness).custom_ids[0]
    run = await harness.select(custom_id, ["speed"], user=user_payload(1500000000000000009, "sam"), guild=False)
    assert run.response.content == NOT_YOURS


async def test_conversation_survives_a_restart(tmp_path):
    """A conversation in progress carries on after the bot restarts, buttons included."""
    first = await start_harness(tmp_path)
    await first.message("I run 40 km a week and I'm new to lifting")
    custom_id = last_reply(first).custom_ids[0]
    question = last_reply(first)
    message = next(m for m in first.fake.messages.values() if m["content"] == question.content)  # as stored
    await stop_harness(first)

    settings = first.bot.settings
    coach, storage = await open_core(settings)
    second = await Harness.start(settings, coach=coach, storage=storage)
    try:
        run = await second.select(custom_id, ["speed"], message=message, guild=False)
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
    await harness.message("I run 20 miles a week", dm=True)
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
    run = await harness.select(custom_id, ["speed"], guild=False)
    assert run.response.content == GONE


async def test_member_text_cannot_ping(harness):
    """Member text with @everyone or a role mention is echoed without any ping allowed."""
    await harness.message("@everyone <@&123> hi")
    assert last_reply(harness).allowed_mentions["parse"] == []


async def test_bot_ignores_other_bots(harness):
    """Messages from bots never get a reply."""
    await harness.message("I run 40 km a week", user=user_payload(BOT_ID + 7, "otherbot", bot=True))
    assert harness.fake.channel_messages() == []


async def test_a_flood_beyond_the_queue_is_ignored_not_answered(harness, monkeypatch):
    """Spam: messages beyond the per-member queue get no reply, and the queued ones are still answered."""
    import sys

    cog = harness.bot.get_cog("Chat")
    # The module discord.py loaded the extension from (it loads a fresh copy for each bot).
    monkeypatch.setattr(sys.modules[type(cog).__module__], "MAX_QUEUED", 2)
    cog.cooldown = MemberCooldown(rate=1, per=0.2)
    settle = harness.settle

    async def no_wait(timeout: float = 10.0) -> None:
        return None

    harness.settle = no_wait  # deliver all five before the bot has read any of them
    for _ in range(5):
        await harness.message("hello", dm=True)
    harness.settle = settle
    await harness.settle()
    assert [c.content for c in harness.fake.channel_messages(DM_ID)] == [SMALLTALK] * 2


async def test_database_unreachable_gets_the_polite_message_not_a_generic_error(harness, monkeypatch):
    """A chat message while the database is down is answered with what happened and what to do."""
    from bot.storage import DatabaseUnavailable

    def down(*_args, **_kwargs):
        raise DatabaseUnavailable("connection refused")

    monkeypatch.setattr(harness.bot.storage.conversations, "get", down)
    await harness.message("I run 30 km a week", dm=True)
    [reply] = [c.content for c in harness.fake.channel_messages(DM_ID)]
    assert "can't reach my database" in reply and "something went wrong" not in reply


# --------------------------------------------------------------------------------------------
# Check-ins in chat (a member with a plan reports on a session)

def _saved_plan(h):
    """A Tue/Thu plan that started the Monday before last, saved for the member: its first Tuesday is past."""
    from bot.checkin_reader import EVAL_PROFILE

    today = dt.date.today()
    plan = h.bot.coach.plan(EVAL_PROFILE, today - dt.timedelta(days=today.weekday() + 7))
    h.bot.storage.plans.save(MEMBER_ID, plan)
    return plan


async def test_a_checkin_by_dm_is_read_confirmed_logged_and_answered_with_the_changes(harness):
    """A plain report is shown back to confirm; 'looks right' stores it and says what changed in the plan."""
    from bot.exts.chat import CHECKIN_TITLE

    _saved_plan(harness)
    await harness.message("did tuesday's session, squats felt easy", dm=True)
    card = last_reply(harness)
    assert card.embeds[0]["title"] == CHECKIN_TITLE and "Goblet squat" in card.embeds[0]["description"]
    assert harness.bot.storage.checkins.list(MEMBER_ID) == []
    await harness.message("looks right", dm=True)
    [stored] = harness.bot.storage.checkins.list(MEMBER_ID)
    assert stored["status"] == "done" and stored["exercises"][0]["exercise"] == "goblet-squat"
    assert stored["source"] == "chat"
    assert last_reply(harness).content.startswith("Logged, thanks.")
    assert harness.bot.storage.conversations.get(KEY) is None


async def test_checkin_pain_told_in_a_channel_goes_to_dm_only(harness):
    """Pain in a mention is read and confirmed in DM; the channel only hears that the bot wrote privately."""
    _saved_plan(harness)
    await harness.message("knee was 6/10 on the lunges on tuesday")
    assert [call.content for call in harness.fake.channel_messages(CHANNEL_ID)] == [MOVED_TO_DM]
    card = harness.fake.channel_messages(DM_ID)[-1]
    assert "6/10" in card.embeds[0]["description"] and "knee" in card.embeds[0]["description"].lower()
    await harness.click(f"chat:checkin:ok:{MEMBER_ID}", guild=False)
    [stored] = harness.bot.storage.checkins.list(MEMBER_ID)
    assert stored["pain"] == 6 and stored["pain_where"] == "knee"
    assert "Reverse lunge" in last_reply(harness).content  # the change: lighter or swapped


async def test_a_checkin_that_does_not_fit_the_plan_says_why_and_stores_nothing(harness):
    """Impossible values or a day without a session get a clear message; nothing is stored; cancel drops it."""
    _saved_plan(harness)
    await harness.message("knee pain 15/10 on the lunges on tuesday", dm=True)
    assert "Pain is 0-10" in last_reply(harness).content
    await harness.message("skipped tuesday", dm=True)
    await harness.click(f"chat:checkin:cancel:{MEMBER_ID}", guild=False)
    assert "haven't logged it" in last_reply(harness).content
    assert harness.bot.storage.checkins.list(MEMBER_ID) == []


async def test_without_a_plan_a_report_is_not_taken_as_a_checkin(harness):
    """A member with no plan who writes about a session gets the usual intake or FAQ, no check-in card."""
    from bot.exts.chat import CHECKIN_TITLE

    await harness.message("did tuesday's session, squats felt easy", dm=True)
    reply = last_reply(harness)
    assert not reply.embeds or reply.embeds[0]["title"] != CHECKIN_TITLE
