"""Progress through a block, from check-ins built directly and stored: counts, trends, the text and the chart."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from PIL import Image

from bot.checkins import CheckIn, ExerciseLog, load_checkins, plan_id
from bot.models import Profile
from bot.progress import NO_CHECKINS, STATES, progress_png, summarise, summary_text
from bot.storage import Storage
from tests.conftest import START

RUNNER = Profile(weekly_km=48.28, unit="mi", level="intermediate", goals=["speed"], days_per_week=2,
                 long_run_day="sun", hard_days=["tue"])


@pytest.fixture(scope="module")
def plan(coach):
    return coach.plan(RUNNER, START)


def sessions(plan):
    return [s for w in plan.weeks for s in w.sessions]


def checkin(plan, session, *, at_hour=19, **fields):
    return CheckIn(plan_id=plan_id(plan), session=session.date, **fields,
                   logged_at=dt.datetime.combine(session.date, dt.time(at_hour), tzinfo=dt.UTC))


@pytest.fixture
def history(plan):
    """Five sessions logged: loads rising, a skipped one, pain up then down, two distance updates."""
    planned = sessions(plan)
    lift = planned[0].exercises[0].id
    return [
        checkin(plan, planned[0], status="done", pain=1,
                exercises=(ExerciseLog(exercise=lift, reps=8, load_kg=20, hit=False),)),
        checkin(plan, planned[1], status="done", weekly_km=50,
                exercises=(ExerciseLog(exercise=lift, reps=10, load_kg=20, hit=True),)),
        checkin(plan, planned[2], status="partly", pain=4, pain_where="knee", lingering=True,
                exercises=(ExerciseLog(exercise=lift, reps=8, load_kg=22, pain=5),)),
        checkin(plan, planned[3], status="skipped"),
        checkin(plan, planned[4], status="done", pain=2, weekly_km=70,
                exercises=(ExerciseLog(exercise=lift, reps=9, load_kg=22, hit=False),)),
    ]


def test_states_count_done_partly_skipped_unlogged_and_ahead(plan, history):
    """Each planned session is done, partly, skipped, not logged (past) or ahead, by today's date."""
    planned = sessions(plan)
    today = planned[6].date  # sessions 0-4 logged, 5 past and unlogged, 6 today and the rest ahead
    progress = summarise(plan, history, today)
    assert (progress.count("done"), progress.count("partly"), progress.count("skipped")) == (3, 1, 1)
    assert progress.count("not logged") == 1
    assert progress.count("ahead") == len(planned) - 6
    assert progress.checkins == 5


def test_loads_reps_and_pain_over_time(plan, history):
    """One exercise's loads and reps come back in date order; pain takes the session's highest score."""
    progress = summarise(plan, history, plan.start + dt.timedelta(days=27))
    (lift,) = progress.exercises
    assert lift.name == sessions(plan)[0].exercises[0].name
    assert [kg for _d, kg in lift.loads] == [20, 20, 22, 22]
    assert [n for _d, n in lift.reps] == [8, 10, 8, 9]
    assert [p.pain for p in progress.pain] == [1, 5, 2]  # the 5/10 on an exercise beats the session's 4
    assert progress.pain[1].where == "Knee" and progress.pain[1].lingering
    assert progress.pain_trend == "easing"
    assert [km for _d, km in progress.mileage] == [50, 70]


def test_latest_checkin_of_a_session_wins(plan, history):
    """A session checked in twice counts once, as the later check-in says."""
    again = checkin(plan, sessions(plan)[3], at_hour=21, status="done")
    progress = summarise(plan, [*history, again], plan.start + dt.timedelta(days=27))
    assert progress.count("skipped") == 0 and progress.count("done") == 4


def test_checkins_of_another_plan_are_left_out(coach, plan, history):
    """Check-ins naming a different plan (one since replaced) don't count towards this one."""
    other = coach.plan(Profile.model_validate({**RUNNER.model_dump(), "level": "beginner"}), START)
    assert plan_id(other) != plan_id(plan)
    progress = summarise(other, history, START + dt.timedelta(days=27))
    assert progress.checkins == 0 and not progress.has_chart
    assert summary_text(progress) == NO_CHECKINS


def test_summary_from_stored_checkins(tmp_path, plan, history):
    """Check-ins stored in TinyDB and read back give the same summary as the models they came from."""
    storage = Storage.open(tmp_path / "data", flush_interval=3600, backup_count=0)
    try:
        for item in history:
            storage.checkins.add(7, item.model_dump(mode="json"))
        stored = load_checkins(storage.checkins.list(7))
    finally:
        storage.close()
    today = plan.start + dt.timedelta(days=27)
    assert summary_text(summarise(plan, stored, today)) == summary_text(summarise(plan, history, today))


def test_summary_text_says_sessions_loads_pain_and_distance(plan, history):
    """The text gives where the block is, the counts, each exercise's trend, pain and distance in the runner's unit."""
    today = sessions(plan)[5].date
    text = summary_text(summarise(plan, history, today))
    lines = text.split("\n")
    assert lines[0].startswith(f"Week {(today - plan.start).days // 7 + 1} of 4")
    assert "3 done, 1 partly, 1 skipped" in lines[1]
    lift = sessions(plan)[0].exercises[0].name
    assert f"**{lift}**: 20 → 20 → 22 → 22 kg; 8 → 10 → 8 → 9 reps; top of the range 1 of 3 times" in text
    assert "latest 2/10" in text and "highest 5/10" in text and "easing" in text
    assert "30 mi → 31 mi → 43 mi (+40 %)" in text  # 48.28 km, 50 km, 70 km shown in miles


def test_sharp_pain_gets_see_a_professional(plan):
    """A sharp pain in the latest check-in brings the see-a-professional advice into the summary."""
    first = sessions(plan)[0]
    sharp = checkin(plan, first, status="partly", pain=6, sharp=True)
    text = summary_text(summarise(plan, [sharp], first.date))
    assert "physio or doctor" in text


def test_empty_history_is_friendly_and_has_no_chart(plan):
    """No check-ins: the friendly text, and nothing to chart."""
    progress = summarise(plan, [], START)
    assert summary_text(progress) == NO_CHECKINS
    assert not progress.has_chart and progress.pain_trend is None


def test_withheld_plan_has_its_own_answer(coach):
    """A withheld plan has no sessions, and the text says why there's nothing to show."""
    withheld = coach.plan(RUNNER.model_copy(update={"sharp_pain": True}), START)
    assert withheld.withheld
    progress = summarise(withheld, [], START)
    assert progress.sessions == ()
    assert "held back" in summary_text(progress)


def decode(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    assert image.format == "PNG"
    return image.convert("RGB")


def test_one_checkin_gives_a_whole_chart(plan):
    """A single check-in still draws a chart over the block's dates, with the session marked done."""
    first = sessions(plan)[0]
    one = checkin(plan, first, status="done", pain=3,
                  exercises=(ExerciseLog(exercise=first.exercises[0].id, reps=8, load_kg=15),))
    progress = summarise(plan, [one], first.date)
    assert progress.has_chart and progress.pain_trend is None
    image = decode(progress_png(progress))
    assert image.width == 1000 and 400 < image.height < 1400
    colours = {colour for _n, colour in image.getcolors(maxcolors=image.width * image.height)}
    assert (0, 158, 115) in colours  # the "done" marker's green
    assert (204, 51, 17) in colours  # the pain bar


def test_chart_panels_follow_the_data(plan, history):
    """A history with loads, reps-only exercises and pain draws taller than one with statuses alone."""
    full = decode(progress_png(summarise(plan, history, START + dt.timedelta(days=27))))
    statuses = [checkin(plan, s, status="skipped") for s in sessions(plan)[:2]]
    bare = summarise(plan, statuses, START + dt.timedelta(days=27))
    assert not bare.has_chart
    small = decode(progress_png(bare))
    assert full.width == small.width and full.height > small.height + 300


def test_console_progress_command_prints_the_summary(coach, tmp_path):
    """`progress` in the console prints the same summary from the check-ins stored for the console's plan."""
    from bot.console import CONSOLE_USER_ID, run_console
    from tests.test_console import TO_PLAN, TODAY, script

    storage = Storage.open(tmp_path / "data", flush_interval=3600, backup_count=0)
    try:
        out: list[str] = []
        run_console(script(TO_PLAN), out.append, coach=coach, storage=storage, today=TODAY)
        # The console's plan, made again from the saved profile: plans are deterministic.
        made = coach.plan(storage.profiles.get(CONSOLE_USER_ID), TODAY + dt.timedelta(days=1))
        first = sessions(made)[0]
        storage.checkins.add(CONSOLE_USER_ID, checkin(made, first, status="done", pain=2).model_dump(mode="json"))
        out.clear()
        run_console(script([*TO_PLAN, "progress"]), out.append, coach=coach, storage=storage, today=TODAY)
    finally:
        storage.close()
    printed = "\n".join(out)
    assert "Sessions: 1 done" in printed and "latest 2/10" in printed


def test_start_up_does_not_import_matplotlib_or_pillow():
    """Loading the bot's extensions leaves matplotlib and Pillow unimported: only a picture pulls them in."""
    import subprocess
    import sys

    code = ("import sys, bot.client, bot.exts.plans, bot.exts.progress, bot.console; "
            "print(sorted({'matplotlib', 'PIL'} & {name.split('.')[0] for name in sys.modules}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parent.parent)
    assert out.stdout.strip() == "[]"


@st.composite
def histories(draw, plan):
    """Random check-ins of a plan: any sessions, statuses, exercise logs and pain, in any order."""
    planned = sessions(plan)
    chosen = draw(st.lists(st.sampled_from(planned), max_size=len(planned) + 2))
    out = []
    for n, session in enumerate(chosen):
        logs = draw(st.lists(st.builds(
            ExerciseLog, exercise=st.sampled_from([item.id for item in session.exercises]),
            reps=st.none() | st.integers(0, 100), load_kg=st.none() | st.floats(0, 500, allow_nan=False),
            pain=st.none() | st.integers(0, 10), hit=st.none() | st.booleans()), max_size=3))
        out.append(checkin(plan, session, at_hour=n % 24, status=draw(st.none() | st.sampled_from(
            ["done", "partly", "skipped"])), exercises=tuple(logs), pain=draw(st.none() | st.integers(0, 10)),
            weekly_km=draw(st.none() | st.floats(0, 250, allow_nan=False))))
    return out


@hypothesis_settings(max_examples=40)
@given(data=st.data(), day=st.integers(-3, 31))
def test_any_history_adds_up(plan, data, day):
    """Whatever was logged, every planned session has exactly one state and the text names what was logged."""
    history = data.draw(histories(plan))
    progress = summarise(plan, history, START + dt.timedelta(days=day))
    assert sum(progress.count(state) for state in STATES) == len(sessions(plan))
    logged = {c.session for c in history}
    assert progress.count("ahead") + progress.count("not logged") == len(sessions(plan)) - len(logged)
    assert progress.has_chart == (bool(progress.pain) or any(e.loads or e.reps for e in progress.exercises))
    text = summary_text(progress)
    assert text and all(e.name in text for e in progress.exercises)


def test_checkins_with_and_without_a_time_zone_sort_together(plan):
    """A check-in stored with a zone-less time sorts as UTC among the others instead of breaking the summary."""
    first = sessions(plan)[0]
    aware = checkin(plan, first, status="skipped")
    naive = aware.model_copy(update={"logged_at": aware.logged_at.replace(tzinfo=None, hour=21), "status": "done"})
    progress = summarise(plan, [naive, aware], first.date)
    assert progress.count("done") == 1 and progress.count("skipped") == 0
