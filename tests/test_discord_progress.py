"""/progress and the plan overview's calendar picture, through discord.py's own objects and the real storage."""

from __future__ import annotations

import datetime as dt
import io
import mimetypes

import discord
from discord_helpers import DEFERRED, DEFERRED_UPDATE, MEMBER_ID, MESSAGE, UPDATE
from PIL import Image
from test_discord_plans import fill_form

from bot import pictures
from bot.checkins import CheckIn, ExerciseLog, plan_id
from bot.exts.plans._pages import CALENDAR_FILE
from bot.exts.progress import CHART_FILE, NO_PLAN
from bot.models import Profile
from bot.progress import NO_CHECKINS

RUNNER = Profile(weekly_km=40, level="intermediate", goals=["speed"], long_run_day="sun", hard_days=["tue"])


def decoded(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    assert image.format == "PNG"
    return image


def two_weeks_in(harness):
    """A plan saved for the member that started on the Monday two weeks before today, as storage gives it back."""
    today = discord.utils.utcnow().date()
    start = today - dt.timedelta(days=today.weekday() + 14)
    harness.bot.storage.plans.save(MEMBER_ID, harness.bot.coach.plan(RUNNER, start))
    # Check-ins name the stored plan (what /checkin reads back), so the test takes its id from there too.
    return harness.bot.storage.plans.latest(MEMBER_ID)


def log_session(harness, plan, session, **fields):
    checkin = CheckIn(plan_id=plan_id(plan), session=session.date, source="form",
                      logged_at=dt.datetime.combine(session.date, dt.time(19), tzinfo=dt.UTC), **fields)
    harness.bot.storage.checkins.add(MEMBER_ID, checkin.model_dump(mode="json"))
    return checkin


async def test_progress_without_a_plan_says_how_to_get_one(harness):
    """/progress before any plan answers privately, pointing to /plan, with no picture."""
    run = await harness.command("progress")
    assert run.response.type == DEFERRED and run.response.ephemeral
    answer = run.followups[-1]
    assert answer.content == NO_PLAN and answer.ephemeral
    assert answer.files == {}


async def test_progress_without_checkins_is_friendly_text_only(harness):
    """With a plan but no check-ins the answer explains how to log one and attaches no chart."""
    two_weeks_in(harness)
    run = await harness.command("progress")
    answer = run.followups[-1]
    assert answer.ephemeral
    assert NO_CHECKINS in answer.text
    assert answer.files == {} and "image" not in answer.embeds[0]


async def test_progress_shows_summary_and_chart_privately(harness):
    """Logged sessions give a private summary of states, loads and pain plus a PNG chart as the embed image."""
    plan = two_weeks_in(harness)
    first, second = plan.weeks[0].sessions[0], plan.weeks[1].sessions[0]
    lift = first.exercises[0]
    log_session(harness, plan, first, status="done", pain=2,
                exercises=(ExerciseLog(exercise=lift.id, reps=8, load_kg=20),))
    log_session(harness, plan, second, status="partly", pain=4, pain_where="knee",
                exercises=(ExerciseLog(exercise=lift.id, reps=10, load_kg=22.5),))
    run = await harness.command("progress")
    answer = run.followups[-1]
    assert answer.ephemeral  # pain is a health detail: never in the channel
    text = answer.text
    assert "1 done" in text and "1 partly" in text
    assert f"{lift.name}**: 20 → 22.5 kg" in text
    assert "latest 4/10 (Knee)" in text and "rising" in text
    assert list(answer.files) == [CHART_FILE]
    assert mimetypes.guess_type(CHART_FILE)[0] == "image/png"
    assert answer.embeds[0]["image"]["url"] == f"attachment://{CHART_FILE}"
    image = decoded(answer.files[CHART_FILE])
    assert image.width == 1000 and image.height > 300


async def test_progress_leaves_out_checkins_of_a_replaced_plan(harness):
    """Check-ins stored against an older plan don't count towards the current plan's progress."""
    old = harness.bot.coach.plan(RUNNER.model_copy(update={"weekly_km": 20}), dt.date(2026, 1, 5))
    log_session(harness, old, old.weeks[0].sessions[0], status="done", pain=3)
    two_weeks_in(harness)
    run = await harness.command("progress")
    assert NO_CHECKINS in run.followups[-1].text
    assert run.followups[-1].files == {}


async def test_plan_overview_carries_the_calendar_picture(harness):
    """The delivered overview page's embed shows the calendar PNG; the week pages drop it; Previous brings it back."""
    _, _, build = await fill_form(harness)
    assert build.response.type == DEFERRED_UPDATE
    page = build.edits[-1]
    assert page.embeds[0]["image"]["url"] == f"attachment://{CALENDAR_FILE}"
    image = decoded(page.files[CALENDAR_FILE])
    plan = harness.bot.storage.plans.latest(MEMBER_ID)
    assert image.size == pictures.calendar_image_size(plan)

    week = await harness.click("plan:next-page")
    assert week.response.type == UPDATE
    assert "image" not in week.response.embeds[0]
    assert week.response.data["attachments"] == []
    back = await harness.click("plan:prev")
    assert back.response.embeds[0]["image"]["url"] == f"attachment://{CALENDAR_FILE}"
    assert decoded(back.response.files[CALENDAR_FILE]).size == image.size


async def test_shared_overview_brings_its_picture(harness):
    """Sharing the overview in the channel attaches the calendar its embed points at."""
    await fill_form(harness)
    run = await harness.click("plan:share")
    assert run.response.type == MESSAGE and not run.response.ephemeral
    assert set(run.response.files) == {CALENDAR_FILE}


async def test_withheld_plan_has_no_calendar(harness):
    """A plan held back for sharp pain shows the safety page without a calendar picture."""
    _, _, build = await fill_form(harness, sharp_pain="yes")
    page = build.edits[-1]
    assert "image" not in page.embeds[0]
    assert page.files == {}


async def test_a_failing_picture_still_delivers_the_plan(harness, monkeypatch):
    """If drawing the calendar fails, the member still gets the plan pages, without the picture."""
    from bot.exts.plans import _pages

    def broken(*args, **kwargs):
        raise OSError("font file unreadable")

    monkeypatch.setattr(_pages, "calendar_png", broken)
    _, _, build = await fill_form(harness)
    page = build.edits[-1]
    assert page.embeds[0]["title"] == "Your 4-week leg strength plan"
    assert "image" not in page.embeds[0] and page.files == {}
