"""The plan as a calendar picture: decoded with Pillow, sized for a phone, each marker's colour in its day's cell."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from PIL import Image

from bot import pictures
from bot.models import DAYS, Profile
from tests.conftest import START

RACER = Profile(weekly_km=50, level="intermediate", goals=["speed"], long_run_day="sun", hard_days=["tue", "thu"],
                race_date=START + dt.timedelta(days=20), race_distance="half")
PROFILES = {
    "racer": RACER,
    "beginner": Profile(weekly_km=20, level="beginner", goals=["general"]),
    "advanced": Profile(weekly_km=48.28, unit="mi", level="advanced", goals=["speed", "hills", "endurance"],
                        days_per_week=3, long_run_day="sun", hard_days=["wed"], equipment=["gym"],
                        niggles=["knee"]),
    "race-in-week-1": Profile(weekly_km=70, level="advanced", goals=["endurance"], long_run_day="sat",
                              race_date=START + dt.timedelta(days=5), race_distance="marathon"),
    "withheld": Profile(weekly_km=30, level="beginner", goals=["general"], sharp_pain=True),
}


def decode(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    assert image.format == "PNG"
    return image.convert("RGB")


def cell_centre_colour(image: Image.Image, day: dt.date, start: dt.date) -> tuple[int, int, int]:
    """The most common colour of the body of a day's cell, located from the grid's geometry alone."""
    offset = (day - start).days
    row, column = offset // 7, day.weekday()
    left = pictures.GRID_LEFT + column * pictures.CELL_W
    top = pictures.GRID_TOP + row * pictures.CELL_H + pictures.DATE_H
    bottom = pictures.GRID_TOP + (row + 1) * pictures.CELL_H
    centre_x, centre_y = left + pictures.CELL_W // 2, (top + bottom) // 2
    region = image.crop((centre_x - 30, centre_y - 30, centre_x + 30, centre_y + 30))
    return max(region.getcolors(maxcolors=region.width * region.height))[1]


@pytest.fixture(scope="module")
def race_plan(coach):
    return coach.plan(RACER, START)


@pytest.fixture(scope="module")
def race_image(coach, race_plan):
    return decode(pictures.calendar_png(race_plan, coach.ruleset.catalog.races))


def test_picture_is_a_phone_sized_png(race_image):
    """The calendar decodes as a PNG about a phone screen wide, taller than wide enough to hold 4 rows."""
    width, height = race_image.size
    assert 1000 <= width <= 1200
    assert pictures.GRID_TOP + 4 * pictures.CELL_H < height < 1400


def test_strength_day_cell_has_its_kind_colour(race_plan, race_image):
    """A day with a session off a run day shows the colour of its kind (heavy, power or light)."""
    runs = {RACER.long_run_day, *RACER.hard_days}
    sessions = [s for w in race_plan.weeks for s in w.sessions if s.day not in runs]
    assert sessions, "the profile should have a session on a day without a run"
    for session in sessions:
        expected = pictures.MARKERS[pictures.KIND_MARKER[session.kind]].fill
        assert cell_centre_colour(race_image, session.date, race_plan.start) == expected, session.date


def test_long_run_and_race_cells_have_their_colours(race_plan, race_image):
    """The long-run day before the race shows the long-run colour; the race day shows the race colour."""
    long_run = START + dt.timedelta(days=DAYS.index("sun"))
    assert cell_centre_colour(race_image, long_run, race_plan.start) == pictures.MARKERS["long-run"].fill
    assert cell_centre_colour(race_image, RACER.race_date, race_plan.start) == pictures.MARKERS["race"].fill


def test_days_after_the_race_are_rest(race_plan, race_image, coach):
    """The race policy's rest days after the race are drawn as rest, unless the plan gives them mobility."""
    rest = coach.ruleset.catalog.races.for_distance("half").rest_days
    mobility = {m.date for w in race_plan.weeks for m in w.mobility}
    days = [RACER.race_date + dt.timedelta(days=n) for n in range(1, rest + 1)]
    assert [d for d in days if d not in mobility], "the profile should have a plain rest day after the race"
    for day in days:
        marker = "mobility" if day in mobility else "rest"
        assert cell_centre_colour(race_image, day, race_plan.start) == pictures.MARKERS[marker].fill


def test_an_empty_day_stays_white(race_plan, race_image):
    """A day with no session, run or mobility is drawn blank, so markers stand out."""
    marked = {d.date for d in pictures.calendar_days(race_plan) if d.markers}
    empty = [START + dt.timedelta(days=n) for n in range(28) if START + dt.timedelta(days=n) not in marked]
    assert empty
    assert cell_centre_colour(race_image, empty[0], race_plan.start) == pictures.WHITE


def test_markers_follow_the_plan_object(race_plan, coach):
    """Every session, mobility day, long run and hard day of the plan is marked on its own date."""
    days = {d.date: d.markers for d in pictures.calendar_days(race_plan, coach.ruleset.catalog.races)}
    assert len(days) == 28
    for week in race_plan.weeks:
        for session in week.sessions:
            assert pictures.KIND_MARKER[session.kind] in days[session.date]
        for mobility in week.mobility:
            assert "mobility" in days[mobility.date]
    assert days[RACER.race_date] == ("race",)
    before = RACER.race_date - dt.timedelta(days=7)
    assert "long-run" in days[before]
    assert "hard-run" in days[START + dt.timedelta(days=1)]


def test_markers_have_distinct_colours_and_letters():
    """Each marker differs from every other by colour and by letter, so it reads without colour."""
    assert len({m.fill for m in pictures.MARKERS.values()}) == len(pictures.MARKERS)
    assert len({m.letter for m in pictures.MARKERS.values()}) == len(pictures.MARKERS)
    assert pictures.WHITE not in {m.fill for m in pictures.MARKERS.values()}


@pytest.mark.parametrize("name", sorted(PROFILES))
def test_every_profile_renders(coach, name):
    """Plans from several profiles (a race week, a race in week 1, a withheld plan) all render."""
    plan = coach.plan(PROFILES[name], START)
    image = decode(pictures.calendar_png(plan, coach.ruleset.catalog.races))
    assert image.size == pictures.calendar_image_size(plan)
    if plan.withheld:
        # No strength markers at all on a withheld plan; the runs the member told us are still shown.
        days = pictures.calendar_days(plan)
        assert not any(set(d.markers) & {"heavy", "power", "light", "mobility"} for d in days)
        sample = next(d for d in days if not d.markers)
        assert cell_centre_colour(image, sample.date, plan.start) == pictures.WHITE


def test_week_labels_and_title_are_drawn(coach, race_plan):
    """Text is really drawn: the title band and the week column hold dark ink, not just the background."""
    image = decode(pictures.calendar_png(race_plan))
    title = image.crop((pictures.MARGIN, pictures.MARGIN, 600, pictures.MARGIN + 40))
    label = image.crop((pictures.MARGIN, pictures.GRID_TOP + 10, pictures.GRID_LEFT - 10, pictures.GRID_TOP + 40))
    for region in (title, label):
        assert any(sum(colour) < 150 for _count, colour in region.getcolors(maxcolors=region.width * region.height))


@hypothesis_settings(max_examples=15)
@given(race_in=st.none() | st.integers(-10, 40), long_run=st.none() | st.sampled_from(DAYS),
       hard=st.lists(st.sampled_from(DAYS), max_size=3, unique=True), days=st.none() | st.integers(1, 3))
def test_any_plan_has_at_most_two_markers_a_day(coach, race_in, long_run, hard, days):
    """Whatever the plan, every day gets at most two tiles and the race day shows only the race."""
    race = None if race_in is None else START + dt.timedelta(days=race_in)
    profile = Profile(weekly_km=40, level="intermediate", goals=["general"], long_run_day=long_run, hard_days=hard,
                      days_per_week=days, race_date=race, race_distance="10k" if race else None)
    plan = coach.plan(profile, START)
    marked = pictures.calendar_days(plan, coach.ruleset.catalog.races)
    assert all(len(d.markers) <= 2 for d in marked)
    for d in marked:
        if d.date == race:
            assert d.markers == ("race",)
