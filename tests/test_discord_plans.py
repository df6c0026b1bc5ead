"""/plan end to end through discord.py: the form, bad answers, the plan pages and their buttons."""

from __future__ import annotations

import icalendar
import pytest
from discord_helpers import (
    CLOSED_DMS,
    DEFERRED,
    DEFERRED_UPDATE,
    EPHEMERAL,
    MESSAGE,
    MODAL,
    UPDATE,
    user_payload,
)

from bot.exts.plans._form import PAGE_ONE, PAGE_TWO
from bot.exts.plans._pages import DM_CLOSED, DM_SENT, PLAN_READY
from bot.models import Profile


async def fill_form(h, mileage="30mi", days="2", race="", sharp_pain="no"):
    """Walk the whole form the way a member taps through it; return the Build click's run."""
    opened = await h.command("plan")
    submitted = await h.submit(opened.response, {
        "plan:form:mileage": mileage, "plan:form:days": days, "plan:form:race_date": race,
    })
    await h.select("plan:level", ["intermediate"])
    await h.select("plan:goals", ["speed", "hills"])
    await h.select("plan:long_run_day", ["sun"])
    await h.select("plan:hard_days", ["tue", "thu"])
    await h.click("plan:next")
    await h.select("plan:equipment", ["dumbbells", "box"])
    await h.select("plan:niggles", ["none"])
    await h.select("plan:sharp_pain", [sharp_pain])
    return opened, submitted, await h.click("plan:build")


async def test_plan_without_profile_opens_the_modal(harness):
    """/plan for a new member answers with the modal asking distance, strength days and race date."""
    run = await harness.command("plan")
    assert run.response.type == MODAL
    ids = run.response.custom_ids
    assert ids == ["plan:form:mileage", "plan:form:days", "plan:form:race_date"]
    assert run.response.component("plan:form:mileage")["required"] is True
    assert run.response.component("plan:form:race_date")["required"] is False


async def test_modal_submit_shows_page_one_privately(harness):
    """A good modal answer leads to step 2: level, goals and run days, visible only to the member."""
    opened = await harness.command("plan")
    run = await harness.submit(opened.response, {"plan:form:mileage": "45 km"})
    assert run.response.type == MESSAGE
    assert run.response.flags == EPHEMERAL
    assert run.response.content == PAGE_ONE
    assert run.response.custom_ids == ["plan:level", "plan:goals", "plan:long_run_day", "plan:hard_days",
                                       "plan:next"]


@pytest.mark.parametrize("typed", ["lots", "-5", "900 km"])
async def test_bad_mileage_says_what_is_accepted(harness, typed):
    """Mileage like 'lots', '-5' or '900 km' gets a message saying what is accepted, and a fix button."""
    opened = await harness.command("plan")
    run = await harness.submit(opened.response, {"plan:form:mileage": typed})
    assert "30mi" in run.response.content  # the accepted form is shown
    assert run.response.custom_ids == ["plan:fix"]


async def test_fix_button_reopens_only_the_bad_field(harness):
    """The fix button opens a modal with just the field that was wrong, keeping what was typed."""
    opened = await harness.command("plan")
    await harness.submit(opened.response, {"plan:form:mileage": "lots", "plan:form:days": "2"})
    fix = await harness.click("plan:fix")
    assert fix.response.type == MODAL
    assert fix.response.custom_ids == ["plan:form:mileage"]
    assert fix.response.component("plan:form:mileage")["value"] == "lots"
    fixed = await harness.submit(fix.response, {"plan:form:mileage": "30mi"})
    assert fixed.response.content == PAGE_ONE


async def test_bad_days_and_past_race_date_are_both_reported(harness):
    """Several wrong answers are reported together, each with what is accepted."""
    opened = await harness.command("plan")
    run = await harness.submit(opened.response, {
        "plan:form:mileage": "30mi", "plan:form:days": "5", "plan:form:race_date": "2001-01-01",
    })
    assert "1, 2 or 3" in run.response.content
    assert "YYYY-MM-DD" in run.response.content
    fix = await harness.click("plan:fix")
    assert fix.response.custom_ids == ["plan:form:days", "plan:form:race_date"]


async def test_select_keeps_the_choice_visible(harness):
    """Choosing in a select updates the message with that option marked as chosen."""
    opened = await harness.command("plan")
    await harness.submit(opened.response, {"plan:form:mileage": "30mi"})
    run = await harness.select("plan:goals", ["speed", "hills"])
    assert run.response.type == UPDATE
    options = run.response.component("plan:goals")["options"]
    assert [o["value"] for o in options if o.get("default")] == ["speed", "hills"]


async def test_next_without_level_asks_for_it(harness):
    """Next before choosing a level and goal says what is still needed and stays on the page."""
    opened = await harness.command("plan")
    await harness.submit(opened.response, {"plan:form:mileage": "30mi"})
    run = await harness.click("plan:next")
    assert run.response.type == MESSAGE
    assert "your level and at least one goal" in run.response.content


async def test_full_form_delivers_the_plan_overview(harness):
    """After the last step the form message becomes the plan's first page with its buttons."""
    _, _, build = await fill_form(harness)
    assert build.response.type == DEFERRED_UPDATE
    page = build.edits[-1]
    assert page.content == PLAN_READY
    assert page.embeds[0]["title"] == "Your 4-week leg strength plan"
    assert page.custom_ids == ["plan:prev", "plan:page", "plan:next-page", "plan:why", "plan:download",
                               "plan:share"]
    assert page.component("plan:prev")["disabled"] is True


async def test_page_two_follows_next(harness):
    """Next shows step 3 (equipment, niggles, sharp pain) in place of step 2."""
    opened = await harness.command("plan")
    await harness.submit(opened.response, {"plan:form:mileage": "30mi"})
    await harness.select("plan:level", ["beginner"])
    await harness.select("plan:goals", ["general"])
    run = await harness.click("plan:next")
    assert run.response.type == UPDATE
    assert run.response.content == PAGE_TWO
    assert run.response.custom_ids == ["plan:equipment", "plan:niggles", "plan:sharp_pain", "plan:back",
                                       "plan:build"]


async def test_profile_and_plan_are_saved(harness):
    """Building the plan saves the member's profile and plan."""
    _, _, build = await fill_form(harness)
    user_id = int(build.payload["member"]["user"]["id"])
    profile = harness.bot.storage.profiles.get(user_id)
    assert profile == Profile(weekly_km=48.28, unit="mi", level="intermediate", goals=["speed", "hills"],
                              days_per_week=2, long_run_day="sun", hard_days=["tue", "thu"],
                              equipment=["dumbbells", "box"], niggles=[], sharp_pain=False)
    assert harness.bot.storage.plans.latest(user_id).profile == profile


async def test_next_walks_weeks_and_disables_at_the_end(harness):
    """Next moves through the four weeks; on the last, Next is disabled and Previous enabled."""
    await fill_form(harness)
    for week in range(1, 5):
        run = await harness.click("plan:next-page")
        assert run.response.type == UPDATE
        assert run.response.embeds[0]["title"].startswith(f"Week {week} of 4")
    assert run.response.component("plan:next-page")["disabled"] is True
    assert run.response.component("plan:prev").get("disabled", False) is False


async def test_why_answers_with_the_trace(harness):
    """Why this plan? answers privately with the rules that shaped the plan."""
    await fill_form(harness)
    run = await harness.click("plan:why")
    assert run.response.type == MESSAGE and run.response.ephemeral
    assert run.response.embeds[0]["title"] == "Why this plan?"


async def test_download_sends_files_to_dms(harness):
    """Download sends the Markdown plan and a calendar that parses back, one event per session, by DM."""
    _, _, build = await fill_form(harness)
    run = await harness.click("plan:download")
    assert run.response.type == DEFERRED
    dm = harness.fake.channel_messages()[-1]
    assert set(dm.files) == {"legday-plan.md", "legday-plan.ics"}
    calendar = icalendar.Calendar.from_ical(dm.files["legday-plan.ics"])
    plan = harness.bot.storage.plans.latest(int(build.payload["member"]["user"]["id"]))
    sessions = sum(len(week.sessions) for week in plan.weeks)
    assert len(calendar.walk("VEVENT")) == sessions
    assert run.followups[-1].content == DM_SENT


async def test_download_with_closed_dms_sends_files_in_place(harness):
    """With DMs closed, Download says so where the member is and attaches the files there."""
    await fill_form(harness)
    harness.fake.fail("POST", "/channels/", CLOSED_DMS)
    run = await harness.click("plan:download")
    assert run.followups[-1].content == DM_CLOSED
    assert set(run.followups[-1].files) == {"legday-plan.md", "legday-plan.ics"}
    assert run.followups[-1].ephemeral


async def test_share_posts_the_page_publicly_without_buttons(harness):
    """Share in channel posts the current page for everyone, with no buttons and no pings."""
    await fill_form(harness)
    run = await harness.click("plan:share")
    assert run.response.type == MESSAGE
    assert not run.response.ephemeral
    assert run.response.components == []
    assert run.response.allowed_mentions == {"parse": []}
    assert run.response.content.endswith("shared their LegDay plan:")


async def test_someone_else_cannot_press_the_buttons(harness):
    """Another member pressing the plan's buttons is told to get their own and nothing changes."""
    await fill_form(harness)
    other = user_payload(1500000000000000009, "sam")
    run = await harness.click("plan:next-page", user=other)
    assert run.response.type == MESSAGE and run.response.ephemeral
    assert "/plan" in run.response.content


async def test_saved_profile_is_offered_on_next_plan(harness):
    """/plan with a saved profile offers to use it or update it, and (a plan being saved) to see the current plan."""
    await fill_form(harness)
    run = await harness.command("plan")
    assert run.response.type == MESSAGE and run.response.ephemeral
    assert run.response.custom_ids == ["plan:use", "plan:update", "plan:current"]
    used = await harness.click("plan:use")
    assert used.edits[-1].embeds[0]["title"] == "Your 4-week leg strength plan"


async def test_update_prefills_the_modal(harness):
    """Update it opens the modal with the saved answers filled in."""
    await fill_form(harness, mileage="30mi", days="3")
    await harness.command("plan")
    run = await harness.click("plan:update")
    assert run.response.type == MODAL
    assert run.response.component("plan:form:mileage")["value"] == "30 mi"
    assert run.response.component("plan:form:days")["value"] == "3"


async def test_sharp_pain_gives_the_safety_page_only(harness):
    """Sharp pain: the plan is a safety message page with no week paging."""
    _, _, build = await fill_form(harness, sharp_pain="yes")
    page = build.edits[-1]
    assert page.embeds[0]["title"] == "Let's get that checked first"
    assert "plan:next-page" not in page.custom_ids


async def test_view_timeout_disables_every_button(harness):
    """When the plan view times out it edits its message with every component disabled."""
    await fill_form(harness)
    from bot.exts.plans._pages import PlanView

    plan_views = [item.view for item in _stored_items(harness) if isinstance(item.view, PlanView)]
    assert plan_views
    await plan_views[-1].on_timeout()
    edit = harness.fake.calls[-1]
    assert edit.method == "PATCH"
    assert all(c.get("disabled") for c in edit.components if c["type"] == 2)


def _stored_items(harness):
    store = harness.bot._connection._view_store
    for per_message in store._views.values():
        yield from per_message.values()
