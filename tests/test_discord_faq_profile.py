"""/faq, /ask and /profile through discord.py: exact answers, autocomplete, buttons, forget."""

from __future__ import annotations

from discord_helpers import AUTOCOMPLETE_RESULT, MEMBER_ID, MODAL, UPDATE

from bot.exts.faq import GENERAL_FOOTER, PERSONAL_FOOTER
from bot.exts.profile import FORGET_ASK, FORGOTTEN, KEPT, NO_PROFILE
from bot.models import Profile

PROFILE = Profile(weekly_km=40, level="beginner", goals=["speed"], long_run_day="sun")


def first_topic(h):
    return h.bot.coach.faq.topics()[0]


async def test_faq_autocomplete_lists_topics(harness):
    """Typing in /faq's topic offers matching topics as choices (at most 25)."""
    run = await harness.autocomplete("faq", "topic", "")
    assert run.response.type == AUTOCOMPLETE_RESULT
    choices = run.response.json["data"]["choices"]
    assert 0 < len(choices) <= 25
    assert choices[0] == {"name": first_topic(harness)[1][:100], "value": first_topic(harness)[0]}


async def test_faq_topic_answers_with_embed_and_related_buttons(harness):
    """/faq with a topic id answers privately with that entry and buttons for close topics."""
    entry_id, question = first_topic(harness)
    run = await harness.command("faq", topic=entry_id)
    assert run.response.ephemeral
    embed = run.response.embeds[0]
    assert embed["title"] == question
    assert embed["description"] == harness.bot.coach.faq.render_answer(entry_id, None)
    assert embed["footer"]["text"] == GENERAL_FOOTER
    assert all(cid.startswith("faq:topic:") for cid in run.response.custom_ids)
    assert f"faq:topic:{entry_id}" not in run.response.custom_ids


async def test_faq_answer_is_personalised_with_a_profile(harness):
    """With a saved profile the answer is rendered for it and says so."""
    harness.bot.storage.profiles.save(MEMBER_ID, PROFILE)
    entry_id, _ = first_topic(harness)
    run = await harness.command("faq", topic=entry_id)
    assert run.response.embeds[0]["description"] == harness.bot.coach.faq.render_answer(entry_id, PROFILE)
    assert run.response.embeds[0]["footer"]["text"] == PERSONAL_FOOTER


async def test_topic_button_answers_that_topic(harness):
    """Pressing a related-topic button answers that topic."""
    entry_id, _ = first_topic(harness)
    run = await harness.command("faq", topic=entry_id)
    other = run.response.custom_ids[0].removeprefix("faq:topic:")
    pressed = await harness.click(f"faq:topic:{other}")
    assert pressed.response.embeds[0]["title"] == harness.bot.coach.faq.get(other).question


async def test_ask_off_topic_is_a_polite_no(harness):
    """/ask with something off-topic gets the FAQ's polite refusal, not an error."""
    run = await harness.command("ask", question="what is the capital of France?")
    reply = harness.bot.coach.faq.answer("what is the capital of France?")
    assert run.response.content == reply.text


async def test_profile_show_without_profile(harness):
    """/profile show with nothing saved points to /plan."""
    run = await harness.command("profile show")
    assert run.response.content == NO_PROFILE and run.response.ephemeral


async def test_profile_show_lists_the_profile(harness):
    """/profile show shows each part of the saved profile."""
    harness.bot.storage.profiles.save(MEMBER_ID, PROFILE)
    run = await harness.command("profile show")
    fields = {f["name"]: f["value"] for f in run.response.embeds[0]["fields"]}
    assert fields["Weekly mileage"] == "40 km"
    assert fields["Long-run day"] == "Sunday"


async def test_profile_edit_opens_prefilled_modal(harness):
    """/profile edit opens the form with the saved answers."""
    harness.bot.storage.profiles.save(MEMBER_ID, PROFILE)
    run = await harness.command("profile edit")
    assert run.response.type == MODAL
    assert run.response.component("plan:form:mileage")["value"] == "40 km"


async def test_profile_forget_asks_then_deletes_everything(harness):
    """/profile forget asks first; confirming deletes the profile and says so."""
    harness.bot.storage.profiles.save(MEMBER_ID, PROFILE)
    ask = await harness.command("profile forget")
    assert ask.response.content == FORGET_ASK
    done = await harness.click("profile:forget")
    assert done.response.type == UPDATE
    assert done.response.content.startswith("Done. At ") and "I deleted your profile." in done.response.content
    assert done.response.content.endswith(FORGOTTEN.split("}")[-1])
    assert done.response.components == []
    assert harness.bot.storage.profiles.get(MEMBER_ID) is None


async def test_profile_forget_keep_deletes_nothing(harness):
    """Choosing Keep it leaves the profile in place."""
    harness.bot.storage.profiles.save(MEMBER_ID, PROFILE)
    await harness.command("profile forget")
    kept = await harness.click("profile:keep")
    assert kept.response.content == KEPT
    assert harness.bot.storage.profiles.get(MEMBER_ID) == PROFILE
