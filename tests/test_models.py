"""The profile: mileage parsing, normalisation and runner-friendly validation errors."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from bot.models import MileageError, Profile, friendly_errors, parse_mileage


@pytest.mark.parametrize(("text", "km", "unit"), [
    ("30mi", 48.28, "mi"), ("30 miles", 48.28, "mi"), ("45 km", 45.0, "km"), ("45k", 45.0, "km"),
    ("45K", 45.0, "km"), ("0km", 0.0, "km"), ("12,5 km", 12.5, "km"), ("40km/week", 40.0, "km"),
])
def test_mileage_with_units(text, km, unit):
    """Distances with a unit are read and normalised to km, keeping the runner's unit."""
    assert parse_mileage(text) == (km, unit)


def test_plain_number_needs_a_unit():
    """A bare number asks which unit it is, unless a default unit is given."""
    with pytest.raises(MileageError, match="kilometres or miles"):
        parse_mileage("30")
    assert parse_mileage("30", "mi") == (48.28, "mi")


@pytest.mark.parametrize(("text", "words"), [
    ("-5", "can't be negative"), ("lots", "couldn't read 'lots'"), ("900 km", "more than LegDay plans for"),
    ("200mi", "more than LegDay plans for"), ("x" * 5000, "couldn't read"),
])
def test_bad_mileage_says_what_is_accepted(text, words):
    """Each invalid mileage is rejected with what was wrong and an example of what works."""
    with pytest.raises(MileageError) as info:
        parse_mileage(text)
    assert words in str(info.value)
    assert "30mi" in str(info.value) or "km" in str(info.value)
    assert len(str(info.value)) < 300


def test_profile_normalises_lists_and_days():
    """Comma strings, repeats, 'none' and full day names become the canonical vocabulary, in order."""
    profile = Profile(weekly_km=40, level="Beginner", goals="hills, speed, hills", hard_days="Thursday tue",
                      long_run_day="Sunday", equipment="none,box", niggles=["knee", "achilles"])
    assert [g.value for g in profile.goals] == ["speed", "hills"]
    assert profile.hard_days == ["tue", "thu"]
    assert profile.long_run_day == "sun"
    assert [e.value for e in profile.equipment] == ["box"]
    assert [n.value for n in profile.niggles] == ["achilles", "knee"]


def test_gym_means_every_piece_of_equipment():
    """A gym membership makes every piece of equipment available."""
    assert "barbell" in Profile(weekly_km=10, level="advanced", goals=["general"],
                                equipment=["gym"]).available_equipment()


def test_friendly_errors_name_each_field_and_the_choices():
    """Every invalid field gets one line naming the field, the bad value and what is accepted."""
    with pytest.raises(ValidationError) as info:
        Profile(weekly_km=400, level="pro", goals=["flying"], days_per_week=5, hard_days=["someday"])
    lines = friendly_errors(info.value)
    text = "\n".join(lines)
    assert len(lines) == 5
    assert "Weekly mileage" in text and "Strength level ('pro')" in text and "beginner, intermediate" in text
    assert "Goals ('flying')" in text and "Strength days per week" in text and "Hard-run days" in text


def test_missing_goals_are_explained():
    """An empty goal list asks for at least one goal."""
    with pytest.raises(ValidationError) as info:
        Profile(weekly_km=10, level="beginner", goals=[])
    assert friendly_errors(info.value) == [
        "Goals: pick at least one. Choose one or more of: speed, endurance, hills, injury-resilience, power, general."]


def test_negative_mileage_is_refused_not_made_positive():
    """'-5km' is an error that says negative, never 5 km."""
    with pytest.raises(MileageError, match="negative"):
        parse_mileage("-5km")


def test_underscore_thousands_are_read_as_the_number():
    """'1_000km' is 1000 km (refused as too much), never 0 km."""
    with pytest.raises(MileageError, match="1000 km a week is more than"):
        parse_mileage("1_000km")


def test_minus_zero_is_zero():
    """'-0km' is 0 km, shown as '0 km', not '-0 km'."""
    km, unit = parse_mileage("-0km")
    assert str(km) == "0.0"
    assert Profile(weekly_km=km, unit=unit, level="beginner", goals=["general"]).mileage_text == "0 km"
