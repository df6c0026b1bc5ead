"""Check-ins, reminders and the data export through discord.py's own objects, with a controllable clock.

The bot's clock (`bot.clock`) is set by each test; reminders are sent by `bot.reminders_once()` (one tick of
the background task) so nothing waits for real time, except the one test of the task itself.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import sys

import pytest
from discord_helpers import (
    CLOSED_DMS,
    EPHEMERAL,
    MEMBER_ID,
    MODAL,
    UPDATE,
    Harness,
    make_settings,
    open_core,
    start_harness,
    stop_harness,
)

from bot.checkins import plan_id
from bot.exts import checkin as checkin_ext
from bot.models import Profile, TraceEntry
from bot.reminders import due_at, session_days

PROFILE = Profile(weekly_km=40, level="intermediate", goals=["speed"], long_run_day="sun", hard_days=["tue"])
START = dt.date(2026, 11, 30)
DST_START = dt.date(2026, 10, 19)  # the clocks go back in London on Sunday 25 October 2026


@pytest.fixture
async def h(tmp_path):
    harness = await start_harness(tmp_path, reminders_loop=False)
    yield harness
    await stop_harness(harness)


def at(day: dt.date, hour: int = 12, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=dt.UTC)


def give_plan(h: Harness, start: dt.date = START):
    """Save a plan for the member straight into storage; return it as stored."""
    h.bot.storage.plans.save(MEMBER_ID, h.bot.coach.plan(PROFILE, start))
    return h.bot.storage.plans.latest(MEMBER_ID)


def stored_checkins(h: Harness) -> list[dict]:
    return h.bot.storage.checkins.list(MEMBER_ID)


def dms(h: Harness) -> list:
    """Messages the bot posted itself (DMs: the harness has no other channel messages here)."""
    return h.fake.channel_messages()


# ------------------------------------------------------------------------------------------------
# /checkin


async def walk_exercises(h: Harness, pains: dict[int, int] | None = None) -> None:
    """Answer every exercise question the flow asks: target hit, 'OK' effort, and the given pain."""
    pains = pains or {}
    index = 0
    while True:
        await h.select("checkin:hit", ["yes"])
        await h.select("checkin:effort", ["ok"])
        await h.select("checkin:pain", [str(pains.get(index, 0))])
        run = await h.click("checkin:next")
        index += 1
        if "checkin:next" not in run.response.custom_ids:
            return


async def test_checkin_flow_stores_every_answer_privately(h):
    """/checkin: latest session first, done, per exercise hit/effort/pain, where it hurt, the next run; saved."""
    plan = give_plan(h)
    h.bot.clock = lambda: at(dt.date(2026, 12, 9))
    opened = await h.command("checkin")
    assert opened.response.flags == EPHEMERAL
    options = opened.response.component("checkin:session")["options"]
    past = [d for d in session_days(plan) if d <= dt.date(2026, 12, 9)]
    assert [o["value"] for o in options] == [d.isoformat() for d in reversed(past)] + ["mileage"]
    chosen = past[-1]
    status = await h.select("checkin:session", [chosen.isoformat()])
    assert status.response.custom_ids == ["checkin:status:done", "checkin:status:partly", "checkin:status:skipped"]
    first = await h.click("checkin:status:done")
    assert "Exercise 1 of" in first.response.content
    await walk_exercises(h, pains={0: 4})
    wrap = await h.select("checkin:where", ["knee"])
    assert "pain up to 4/10" in wrap.response.content
    await h.select("checkin:pain-kind", ["lingering"])
    await h.select("checkin:run", ["good"])
    saved = await h.click("checkin:save")
    assert saved.response.type == UPDATE  # an edit of the private message
    # Pain 4/10 that lingered to the next morning: that exercise is swapped or lightened (COACHING.md 18).
    assert "Logged" in saved.response.content and "Pain monitoring" in saved.response.content
    [stored] = stored_checkins(h)
    session = next(s for w in plan.weeks for s in w.sessions if s.date == chosen)
    assert stored["session"] == chosen.isoformat() and stored["status"] == "done"
    assert stored["plan_id"] == plan_id(plan) and stored["source"] == "form"
    assert [e["exercise"] for e in stored["exercises"]] == [item.id for item in session.exercises]
    assert stored["exercises"][0] == {"exercise": session.exercises[0].id, "hit": True, "reps": None, "sets": None,
                                      "rir": 2, "feel": "ok", "load_kg": None, "pain": 4, "load_unit": None}
    assert (stored["pain"], stored["pain_where"], stored["lingering"], stored["sharp"]) == (4, "knee", True, False)
    assert stored["next_run"] == "good"
    # Nothing of it went anywhere public: every message of the flow was ephemeral or an edit of one.
    assert not [c for c in h.fake.calls if c.route == "/channels/{channel_id}/messages"]


async def test_saving_shows_the_adapted_plans_check_in_trace_entries(h, monkeypatch):
    """What adapt() changed (its "check-in" trace entries) is what the member is told; other entries are not."""
    give_plan(h)
    h.bot.clock = lambda: at(dt.date(2026, 12, 9))

    def adapted(plan, checkins, today):
        assert len(checkins) == 1 and checkins[0].status == "skipped"
        return plan.model_copy(update={"trace": [*plan.trace, TraceEntry(
            rule_id="check-in-missed", description="A missed session moved", status="applied",
            changes=["Thursday's session moves to Friday"]), TraceEntry(
            rule_id="goal-speed", description="not about the check-in", status="applied")]})

    # discord.py's load_extension executes the extension afresh: patch the module the bot runs.
    monkeypatch.setattr(sys.modules["bot.exts.checkin"], "adapt", adapted)
    opened = await h.command("checkin")
    await h.select("checkin:session", [opened.response.component("checkin:session")["options"][0]["value"]])
    await h.click("checkin:status:skipped")
    saved = await h.click("checkin:save")
    assert "A missed session moved: Thursday's session moves to Friday" in saved.response.content
    assert "not about the check-in" not in saved.response.content
    assert stored_checkins(h)[0]["exercises"] == []


async def test_checkin_without_a_plan_is_refused_kindly(h):
    run = await h.command("checkin")
    assert run.response.content == checkin_ext.NO_PLAN and run.response.flags == EPHEMERAL


async def test_checkin_for_a_replaced_plan_is_refused_and_changes_nothing(h):
    """The plan is replaced while the flow is open: saving is refused politely, nothing is stored."""
    give_plan(h)
    h.bot.clock = lambda: at(dt.date(2026, 12, 9))
    opened = await h.command("checkin")
    await h.select("checkin:session", [opened.response.component("checkin:session")["options"][0]["value"]])
    await h.click("checkin:status:skipped")
    give_plan(h, dt.date(2026, 12, 7))
    refused = await h.click("checkin:save")
    assert "plan you have since replaced" in refused.response.content
    assert "Nothing was saved" in refused.response.content and refused.response.flags == EPHEMERAL
    assert stored_checkins(h) == []


@pytest.mark.parametrize(("typed", "says"), [("900 km", "more than LegDay plans for"),
                                             ("lots", "couldn't read 'lots'"), ("-5km", "can't be negative")])
async def test_impossible_mileage_gets_the_friendly_message_and_changes_nothing(h, typed, says):
    give_plan(h)
    h.bot.clock = lambda: at(dt.date(2026, 12, 9))
    await h.command("checkin")
    modal = await h.select("checkin:session", ["mileage"])
    assert modal.response.type == MODAL
    refused = await h.submit(modal.response, {"checkin:mileage": typed})
    assert says in refused.response.content and "Nothing was saved" in refused.response.content
    assert stored_checkins(h) == []


async def test_a_mileage_update_alone_is_stored(h):
    give_plan(h)
    h.bot.clock = lambda: at(dt.date(2026, 12, 9))
    await h.command("checkin")
    modal = await h.select("checkin:session", ["mileage"])
    saved = await h.submit(modal.response, {"checkin:mileage": "30mi"})
    assert "Logged your weekly mileage" in saved.response.content
    [stored] = stored_checkins(h)
    assert stored["session"] is None and stored["weekly_km"] == pytest.approx(48.28, abs=0.01)


async def test_log_this_session_on_a_week_page_opens_the_flow_for_that_week(h):
    """The plan's week pages carry "Log this session" (the overview does not); it opens the same private flow."""
    plan = h.bot.coach.plan(PROFILE, START)
    h.bot.storage.plans.save(MEMBER_ID, plan)
    h.bot.clock = lambda: at(dt.date(2026, 12, 12))
    from discord_helpers import user_payload

    from bot.exts.plans._pages import PlanView

    view = PlanView(MEMBER_ID, plan, h.bot.coach.renderer.pages(plan), can_share=True)
    assert "plan:log" not in [item.custom_id for item in view.children]
    view.page = 1
    view._refresh()
    assert "plan:log" in [item.custom_id for item in view.children]
    # Through the real /plan pages: use the saved profile, flip to week 1, press the button.
    h.bot.storage.profiles.save(MEMBER_ID, PROFILE)
    await h.command("plan")
    await h.click("plan:use")
    stored = h.bot.storage.plans.latest(MEMBER_ID)
    h.bot.clock = lambda: at(stored.weeks[0].sessions[-1].date, 20)
    week = await h.click("plan:next-page")
    assert "plan:log" in week.response.custom_ids
    logged = await h.click("plan:log", user=user_payload())
    assert logged.response.flags == EPHEMERAL
    sessions = stored.weeks[0].sessions
    if len(sessions) == 1:
        assert logged.response.custom_ids[:1] == ["checkin:status:done"]
    else:
        values = [o["value"] for o in logged.response.component("checkin:session")["options"]]
        assert values[:-1] == [s.date.isoformat() for s in reversed(sessions)]
        await h.select("checkin:session", [values[0]])
    await h.click("checkin:status:skipped")
    await h.click("checkin:save")
    [stored_checkin] = stored_checkins(h)
    assert stored_checkin["source"] == "button" and stored_checkin["plan_id"] == plan_id(stored)


# ------------------------------------------------------------------------------------------------
# /reminders


async def test_reminders_on_time_zone_status_and_off(h):
    give_plan(h, DST_START)
    h.bot.clock = lambda: at(DST_START, 6)
    on = await h.command("reminders on")
    assert "Reminders are on" in on.last.content and on.last.ephemeral
    assert [c.content for c in dms(h)] == ["Reminders are on. I'll DM you here on your session days."]
    timed = await h.command("reminders time", when="6:30pm")
    assert "18:30 (UTC)" in timed.response.content
    zoned = await h.command("reminders timezone", zone="london")
    first = session_days(h.bot.storage.plans.latest(MEMBER_ID))[0]
    assert "18:30 (Europe/London)" in zoned.response.content
    assert f"Next: {checkin_ext.day_text(first)} at 18:30" in zoned.response.content
    assert h.bot.storage.reminders.next_due() == due_at(first, dt.time(18, 30), "Europe/London")
    status = await h.command("reminders status")
    assert status.response.content == zoned.response.content
    off = await h.command("reminders off")
    assert off.response.content == checkin_ext.REMINDERS_OFF
    assert h.bot.storage.reminders.next_due() is None


@pytest.mark.parametrize(("command", "options", "says"), [
    ("reminders time", {"when": "25:61"}, "24-hour clock"),
    ("reminders timezone", {"zone": "Atlantis"}, "I don't know the time zone 'Atlantis'"),
    ("reminders snooze", {"until": "2h"}, "no reminder to snooze"),
])
async def test_bad_reminder_settings_are_refused_kindly(h, command, options, says):
    run = await h.command(command, **options)
    assert says in run.response.content and run.response.flags == EPHEMERAL
    assert h.bot.storage.reminders.get(MEMBER_ID) is None


async def test_time_zone_autocomplete_offers_common_zones_then_matches(h):
    empty = await h.autocomplete("reminders timezone", "zone", "")
    names = [c["value"] for c in empty.response.json["data"]["choices"]]
    assert "Europe/London" in names and "America/New_York" in names
    typed = await h.autocomplete("reminders timezone", "zone", "lisb")
    assert [c["value"] for c in typed.response.json["data"]["choices"]] == ["Europe/Lisbon"]


async def test_reminders_on_with_closed_dms_stays_off(h):
    give_plan(h)
    h.fake.fail("POST", "/channels/", CLOSED_DMS)
    run = await h.command("reminders on")
    assert run.last.content == checkin_ext.ON_DM_CLOSED
    assert h.bot.storage.reminders.get(MEMBER_ID) is None


async def turn_on(h: Harness, clock: dt.datetime, at_text: str = "07:30", zone: str = "London") -> None:
    h.bot.clock = lambda: clock
    await h.command("reminders on")
    await h.command("reminders time", when=at_text)
    await h.command("reminders timezone", zone=zone)


async def test_reminders_arrive_at_the_local_time_across_the_dst_change(h):
    """07:30 London: 06:30 UTC before the clocks go back, 07:30 UTC after; one DM per session, with buttons."""
    plan = give_plan(h, DST_START)
    await turn_on(h, at(DST_START, 5))
    before = len(dms(h))
    for day in session_days(plan)[:4]:
        due = due_at(day, dt.time(7, 30), "Europe/London")
        assert due.hour == (6 if day < dt.date(2026, 10, 25) else 7)
        h.bot.clock = lambda due=due: due - dt.timedelta(minutes=1)
        await h.bot.reminders_once()
        assert len(dms(h)) == before
        h.bot.clock = lambda due=due: due
        await h.bot.reminders_once()
        await h.bot.reminders_once()
        assert len(dms(h)) == before + 1
        sent = dms(h)[-1]
        assert checkin_ext.day_text(day) in sent.content
        stamp = f"{day:%Y%m%d}:{plan_id(plan)}"
        assert sent.custom_ids == [f"rem:{a}:{stamp}" for a in ("done", "skipped", "move", "snooze")]
        before += 1


async def test_reminder_buttons_log_the_session_even_after_a_restart(tmp_path):
    """Done on a reminder DM works after the bot and its storage were closed and reopened (persistent views)."""
    settings = make_settings(tmp_path, reminders_loop=False)
    coach, storage = await open_core(settings)
    h = await Harness.start(settings, coach=coach, storage=storage)
    plan = give_plan(h, DST_START)
    await turn_on(h, at(DST_START, 5))
    first = session_days(plan)[0]
    h.bot.clock = lambda: due_at(first, dt.time(7, 30), "Europe/London")
    await h.bot.reminders_once()
    reminder = h._message_with(f"rem:done:{first:%Y%m%d}:{plan_id(plan)}", None)
    await stop_harness(h)

    coach, storage = await open_core(settings)
    again = await Harness.start(settings, coach=coach, storage=storage)
    try:
        again.fake.messages[int(reminder["id"])] = reminder
        again.bot.clock = lambda: at(first, 19)
        await again.bot.reminders_once()
        assert again.fake.channel_messages() == []  # no duplicate after the restart
        done = await again.click(f"rem:done:{first:%Y%m%d}:{plan_id(plan)}", message=reminder, guild=False)
        assert f"Logged {checkin_ext.day_text(first)} as done." in done.response.content
        assert done.response.json["data"]["components"] == []  # the buttons go once used
        [stored] = again.bot.storage.checkins.list(MEMBER_ID)
        assert (stored["session"], stored["status"], stored["source"]) == (first.isoformat(), "done", "reminder")
        # The next reminder is the next session's (a checked-in session is never reminded about again).
        second = session_days(plan)[1]
        assert again.bot.storage.reminders.get(MEMBER_ID)["session"] == second.isoformat()
        # Its time passes while the bot is "down"; an hour late is inside the catch-up rule: sent once.
        again.bot.clock = lambda: due_at(second, dt.time(7, 30), "Europe/London") + dt.timedelta(hours=1)
        await again.bot.reminders_once()
        await again.bot.reminders_once()
        assert [checkin_ext.day_text(second) in c.content for c in again.fake.channel_messages()] == [True]
    finally:
        await stop_harness(again)


async def test_move_and_skipped_buttons_store_a_skip_and_say_what_happened(h):
    plan = give_plan(h, DST_START)
    await turn_on(h, at(DST_START, 5))
    first = session_days(plan)[0]
    h.bot.clock = lambda: due_at(first, dt.time(7, 30), "Europe/London")
    await h.bot.reminders_once()
    stamp = f"{first:%Y%m%d}:{plan_id(plan)}"
    # The same DM as an older plan's reminder would carry it (another plan id), for the refusal below.
    old_plan_dm = json.loads(json.dumps(h._message_with(f"rem:move:{stamp}", None)).replace(plan_id(plan), "0" * 10))
    moved = await h.click(f"rem:move:{stamp}", guild=False)
    # adapt() on this branch moves nothing, so the member is told it could not be moved.
    assert "couldn't move" in moved.response.content
    assert stored_checkins(h)[0]["status"] == "skipped"
    stale = await h.click(f"rem:skipped:{first:%Y%m%d}:{'0' * 10}", message=old_plan_dm, guild=False)
    assert "plan you have since replaced" in stale.response.content
    assert len(stored_checkins(h)) == 1


async def test_snooze_button_sends_the_reminder_again_two_hours_later(h):
    plan = give_plan(h, DST_START)
    await turn_on(h, at(DST_START, 5))
    first = session_days(plan)[0]
    due = due_at(first, dt.time(7, 30), "Europe/London")
    h.bot.clock = lambda: due
    await h.bot.reminders_once()
    count = len(dms(h))
    snoozed = await h.click(f"rem:snooze:{first:%Y%m%d}:{plan_id(plan)}", guild=False)
    assert "09:30" in snoozed.response.content  # on the member's clock: 2 h after 07:30 London time
    h.bot.clock = lambda: due + dt.timedelta(hours=2)
    await h.bot.reminders_once()
    await h.bot.reminders_once()
    assert len(dms(h)) == count + 1 and checkin_ext.day_text(first) in dms(h)[-1].content


async def test_closed_dms_stop_reminders_and_the_member_is_told_once(h):
    """A reminder DM bounced with 50007: reminders go off; the next command gets one private notice, once."""
    plan = give_plan(h, DST_START)
    await turn_on(h, at(DST_START, 5))
    first = session_days(plan)[0]
    h.bot.clock = lambda: due_at(first, dt.time(7, 30), "Europe/London")
    h.fake.fail("POST", "/channels/", CLOSED_DMS)
    await h.bot.reminders_once()
    schedule = h.bot.storage.reminders.get(MEMBER_ID)
    assert schedule["enabled"] is False and schedule["dm_closed"] is True and schedule["next_due"] is None
    told = await h.command("reminders status")
    assert [f.content for f in told.followups] == [checkin_ext.DMS_CLOSED_NOTICE]
    assert told.followups[0].ephemeral
    again = await h.command("reminders status")
    assert again.followups == []
    h.bot.clock = lambda: due_at(session_days(plan)[1], dt.time(7, 30), "Europe/London")
    sent = len(dms(h))
    await h.bot.reminders_once()
    assert len(dms(h)) == sent  # off means off


async def test_the_closed_dms_notice_also_comes_as_a_reply_to_a_mention(h):
    """Told once in the channel reply the member triggered (a mention), not again after."""
    plan = give_plan(h, DST_START)
    await turn_on(h, at(DST_START, 5))
    h.bot.clock = lambda: due_at(session_days(plan)[0], dt.time(7, 30), "Europe/London")
    h.fake.fail("POST", "/channels/", CLOSED_DMS)
    await h.bot.reminders_once()
    await h.message("hello coach")
    notices = [c for c in h.fake.channel_messages() if c.content == checkin_ext.DMS_CLOSED_NOTICE]
    assert len(notices) == 1 and notices[0].allowed_mentions["parse"] == []
    await h.message("hello again")
    assert len([c for c in h.fake.channel_messages() if c.content == checkin_ext.DMS_CLOSED_NOTICE]) == 1


async def test_the_background_task_sleeps_until_due_and_sends(tmp_path):
    """The client's own task (no manual tick): woken by a schedule change, it sends what is due."""
    h = await start_harness(tmp_path)
    try:
        plan = give_plan(h, DST_START)
        first = session_days(plan)[0]
        due = due_at(first, dt.time(7, 30), "Europe/London")
        await turn_on(h, due + dt.timedelta(minutes=5))
        for _ in range(500):  # up to 10 s on a busy machine; it normally takes one loop turn
            if any(checkin_ext.day_text(first) in (c.content or "") for c in dms(h)):
                break
            await asyncio.sleep(0.02)
        assert [checkin_ext.day_text(first) in (c.content or "") for c in dms(h)].count(True) == 1
    finally:
        await stop_harness(h)


# ------------------------------------------------------------------------------------------------
# /profile export and forget


async def test_export_is_a_private_json_file_of_everything_stored(h):
    plan = give_plan(h, DST_START)
    h.bot.storage.profiles.save(MEMBER_ID, PROFILE, guild_id=1200000000000000001)
    await turn_on(h, at(DST_START, 5))
    h.bot.storage.checkins.add(MEMBER_ID, {"session": None, "weekly_km": 40})
    run = await h.command("profile export")
    answer = run.followups[-1]
    assert answer.ephemeral and answer.content == checkin_exports_text()
    data = json.loads(answer.files["legday-my-data.json"])
    assert data["user_id"] == str(MEMBER_ID) and data["servers"] == ["1200000000000000001"]
    assert data["profile"] == PROFILE.model_dump(mode="json")
    assert data["plan"]["start"] == plan.start.isoformat()
    assert data["checkins"] == [{"session": None, "weekly_km": 40}]
    assert data["reminders"]["zone"] == "Europe/London" and data["reminders"]["enabled"] is True


def checkin_exports_text() -> str:
    from bot.exts.profile import EXPORTED

    return EXPORTED


async def test_forget_deletes_reminders_and_checkins_too(h):
    plan = give_plan(h, DST_START)
    await turn_on(h, at(DST_START, 5))
    h.bot.storage.checkins.add(MEMBER_ID, {"session": None, "weekly_km": 40})
    await h.command("profile forget")
    done = await h.click("profile:forget")
    assert "your reminder schedule" in done.response.content and "1 check-in" in done.response.content
    assert h.bot.storage.reminders.get(MEMBER_ID) is None and h.bot.storage.reminders.next_due() is None
    h.bot.clock = lambda: due_at(session_days(plan)[0], dt.time(7, 30), "Europe/London")
    sent = len(dms(h))
    await h.bot.reminders_once()
    assert len(dms(h)) == sent
    export = await h.command("profile export")
    data = json.loads(export.followups[-1].files["legday-my-data.json"])
    assert (data["profile"], data["plan"], data["checkins"], data["reminders"]) == (None, None, [], None)


# ------------------------------------------------------------------------------------------------
# /plan with a stored plan: the plan as it stands after the check-ins, and the next block


async def test_plan_shows_the_stored_plan_adapted_to_its_checkins(h):
    """'My current plan' shows the stored plan through adapt(): its Why holds the check-in's reason, and a
    check-in from those pages still names the stored plan (so it is not refused as a replaced plan)."""
    from bot.adapt import adapt
    from bot.checkins import load_checkins

    stored = give_plan(h)
    h.bot.storage.profiles.save(MEMBER_ID, PROFILE)
    first = stored.weeks[0].sessions[0]
    h.bot.clock = lambda: at(first.date, 20)
    h.bot.storage.checkins.add(MEMBER_ID, {"plan_id": plan_id(stored), "session": first.date.isoformat(),
                                           "logged_at": at(first.date, 20).isoformat(), "status": "skipped"})
    expected = [t.description for t in adapt(stored, load_checkins(stored_checkins(h)), first.date).trace
                if t.rule_id.startswith("check-in")]
    assert expected  # a skipped session is moved or dropped, with its reason
    offer = await h.command("plan")
    assert "plan:current" in offer.response.custom_ids and "plan:next-block" not in offer.response.custom_ids
    await h.click("plan:current")
    why = await h.click("plan:why")
    assert all(reason in why.response.embeds[0]["description"] for reason in expected)
    await h.click("plan:next-page")
    logged = await h.click("plan:log")
    assert "replaced" not in str(logged.response.content or "")


async def test_next_block_is_offered_in_the_last_week_and_replaces_the_plan(h):
    """From the block's fourth week /plan offers the next block; it starts the day after the block and is saved."""
    stored = give_plan(h)
    h.bot.storage.profiles.save(MEMBER_ID, PROFILE)
    h.bot.clock = lambda: at(stored.start + dt.timedelta(days=10))
    assert "plan:next-block" not in (await h.command("plan")).response.custom_ids
    h.bot.clock = lambda: at(stored.start + dt.timedelta(days=23))
    offer = await h.command("plan")
    assert "plan:next-block" in offer.response.custom_ids
    await h.click("plan:next-block")
    block = h.bot.storage.plans.latest(MEMBER_ID)
    assert block.start == stored.start + dt.timedelta(days=28) and plan_id(block) != plan_id(stored)
