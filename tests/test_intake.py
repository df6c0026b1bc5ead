"""Tests of the chat reader (bot.intake): each kind of fact, negations, bad input, and the labelled set."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.intake import MAX_CHARS, classify_message, parse_message
from bot.models import KM_PER_MILE, Profile, parse_mileage

TODAY = dt.date(2026, 2, 10)
LABELLED = Path(__file__).parent / "data" / "intake_labelled.yaml"
ROOT = Path(__file__).resolve().parent.parent


def fields(text: str) -> dict:
    return parse_message(text, TODAY).fields


# ------------------------------------------------------------------ mileage


def test_range_in_miles_reads_as_midpoint_in_km():
    """'25-30 miles a week' is 27.5 mi, stored in km with the unit kept."""
    got = fields("I run 25-30 miles a week")
    assert got["unit"] == "mi"
    assert got["weekly_km"] == pytest.approx(27.5 * KM_PER_MILE, abs=0.01)


@pytest.mark.parametrize(
    ("text", "km"),
    [("about 40k a week", 40), ("~50km/week", 50), ("running 45 K per week", 45), ("30 mpw", 30 * KM_PER_MILE),
     ("80km weeks", 80), ("15 mi/wk", 15 * KM_PER_MILE)],
)
def test_units_and_approximations(text, km):
    """km, k, K, mpw, mi/wk and 'about'/'~' all read as the weekly distance."""
    assert fields(text)["weekly_km"] == pytest.approx(km, abs=0.01)


def test_race_distance_is_not_weekly_mileage():
    """'a faster 10k' and 'sub-20 5k' are races, not the week's running."""
    got = fields("want a faster 10k, then a sub-20 5k")
    assert "weekly_km" not in got


def test_age_is_not_mileage():
    """A bare number with no unit ("I'm 52") is not read as a distance."""
    assert "weekly_km" not in fields("I'm 52 and new to lifting")


def test_too_much_mileage_is_a_problem_not_a_field():
    """900 km a week is refused with the model's friendly mileage message."""
    result = parse_message("I run 900 km a week", TODAY)
    assert "weekly_km" not in result.fields
    assert any("more than LegDay plans for" in problem for problem in result.problems)


def test_number_without_unit_asks_for_the_unit():
    """'40 a week' could be km or miles, so the problem asks which."""
    result = parse_message("running 40 a week", TODAY)
    assert "weekly_km" not in result.fields
    assert any("kilometres or miles" in problem for problem in result.problems)


def test_runs_times_distance_each_gives_the_total():
    """'3 runs a week of 5k each' is 15 km a week."""
    assert fields("3 runs a week of 5k each")["weekly_km"] == 15


# ------------------------------------------------------------------ level, goals


@pytest.mark.parametrize(
    ("text", "level"),
    [("never lifted", "beginner"), ("new to the gym", "beginner"), ("I've lifted twice a week for years",
     "intermediate"), ("comfortable with heavy squats", "advanced"), ("not a beginner", "intermediate"),
     ("I'm not a beginner but not advanced either", "intermediate")],
)
def test_level_synonyms_and_negation(text, level):
    """Level is read from everyday phrases, and 'not a beginner' is not a beginner."""
    assert fields(text)["level"] == level


@pytest.mark.parametrize(
    ("text", "goal"),
    [("a faster 10k", "speed"), ("new PR", "speed"), ("sub-20 5k", "speed"), ("my first marathon", "endurance"),
     ("an ultra", "endurance"), ("not fade late", "endurance"), ("trail races", "hills"), ("the fells", "hills"),
     ("stop getting hurt", "injury-resilience"), ("stay healthy", "injury-resilience"),
     ("a finishing kick", "power"), ("sprint finish", "power"), ("get stronger", "general")],
)
def test_goal_synonyms(text, goal):
    """Each goal is found from the words runners use for it."""
    assert goal in fields(f"I want {text}")["goals"]


# ------------------------------------------------------------------ days


def test_long_run_and_hard_days_are_told_apart():
    """Days go to the nearest keyword: intervals on tue/thu, long run on sunday."""
    got = fields("intervals tue and thu, long run sunday")
    assert got["hard_days"] == ["tue", "thu"]
    assert got["long_run_day"] == "sun"


def test_track_on_weds():
    """'track on weds' makes Wednesday a hard day."""
    assert fields("track on weds")["hard_days"] == ["wed"]


def test_long_runs_sat():
    """'long runs sat' sets the long-run day to Saturday."""
    assert fields("long runs sat")["long_run_day"] == "sat"


def test_strength_frequency_sets_days_per_week():
    """'can lift twice a week' is two strength days."""
    assert fields("I can lift twice a week")["days_per_week"] == 2


def test_running_days_are_not_strength_days():
    """'I run 5 days a week' says nothing about strength days."""
    assert "days_per_week" not in fields("I run 5 days a week")


def test_too_many_strength_days_is_a_problem():
    """Five strength sessions is outside 1-3, so it is refused with what is accepted."""
    result = parse_message("I can lift 5 times a week", TODAY)
    assert "days_per_week" not in result.fields
    assert any("1 to 3" in problem for problem in result.problems)


# ------------------------------------------------------------------ equipment, niggles, pain


@pytest.mark.parametrize(
    ("text", "equipment"),
    [("no equipment", []), ("just a pair of dumbbells", ["dumbbells"]), ("gym membership", ["gym"]),
     ("resistance bands", ["bands"]), ("no gym, just a kettlebell", ["kettlebell"])],
)
def test_equipment(text, equipment):
    """Equipment phrases map to the vocabulary; 'no equipment' is an explicit empty list."""
    assert fields(f"I have {text}")["equipment"] == equipment


def test_it_band_is_not_resistance_bands():
    """A tight IT band is a niggle, not equipment."""
    got = fields("tight IT band")
    assert got["niggles"] == ["it-band"]
    assert "equipment" not in got


@pytest.mark.parametrize(
    ("text", "niggle"),
    [("dodgy knee", "knee"), ("shin splints", "shin"), ("plantar fasciitis", "foot"), ("tight IT band", "it-band"),
     ("sore achilles", "achilles")],
)
def test_niggles(text, niggle):
    """Niggles are read from a body area next to a word like sore, tight or a named condition."""
    assert fields(f"I have a {text}")["niggles"] == [niggle]


def test_no_injuries_is_an_explicit_empty_list():
    """'no injuries' says niggles are none, which differs from not saying."""
    assert fields("no injuries")["niggles"] == []


def test_body_part_without_complaint_is_not_a_niggle():
    """Wanting stronger hips is not a hip niggle."""
    assert "niggles" not in fields("I want stronger hips and calves")


def test_sharp_pain_with_its_place():
    """Sharp pain in the knee when squatting sets sharp_pain and the knee niggle."""
    got = fields("sharp pain in my knee when I squat")
    assert got["sharp_pain"] is True
    assert got["niggles"] == ["knee"]


def test_not_sharp_is_false():
    """'a dull ache, not sharp' reads as no sharp pain."""
    assert fields("a dull ache in my knee, not sharp")["sharp_pain"] is False


# ------------------------------------------------------------------ race date


@pytest.mark.parametrize(
    ("text", "date"),
    [("race on Jan 17", dt.date(2027, 1, 17)), ("half marathon on 2027-03-14", dt.date(2027, 3, 14)),
     ("10k in 6 weeks", dt.date(2026, 3, 24)), ("marathon on 14th March", dt.date(2026, 3, 14))],
)
def test_race_dates(text, date):
    """Race dates: month names roll to the next one, ISO dates, and weeks from today."""
    assert fields(text)["race_date"] == date


def test_past_race_date_is_a_problem():
    """A date that has passed is refused with a note."""
    result = parse_message("race on 2025-05-01", TODAY)
    assert "race_date" not in result.fields
    assert any("already passed" in problem for problem in result.problems)


def test_impossible_date_is_a_problem():
    """Feb 30 is not a date, and the reader says so."""
    result = parse_message("race on Feb 30", TODAY)
    assert "race_date" not in result.fields
    assert result.problems


def test_in_weeks_without_a_race_is_not_a_race_date():
    """'in 6 weeks' with no race named is not taken as a race date."""
    assert "race_date" not in fields("I want to get stronger in 6 weeks")


# ------------------------------------------------------------------ result shape, bad input


def test_missing_lists_required_fields_not_found():
    """Only the required fields that were not found are listed as missing."""
    result = parse_message("I run 30 km a week", TODAY)
    assert result.missing == ["level", "goals"]


def test_long_message_is_capped_with_a_note():
    """A 5,000-character message is read only up to the cap, with a friendly note."""
    result = parse_message("I run 30 km a week. " + "blah " * 1000 + " new to lifting", TODAY)
    assert result.fields["weekly_km"] == 30
    assert "level" not in result.fields
    assert any(f"{MAX_CHARS:,}" in problem for problem in result.problems)


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=300))
def test_any_text_gives_fields_a_profile_accepts(text):
    """Whatever is typed, the fields found are valid Profile values (with the required ones filled in)."""
    found = parse_message(text, TODAY).fields
    base = {"weekly_km": 10, "level": "beginner", "goals": ["general"]}
    Profile.model_validate({**base, **found})


# ------------------------------------------------------------------ classify


@pytest.mark.parametrize(
    ("text", "kind"),
    [("will squats make me bulky?", "question"), ("should I lift before my long run?", "question"),
     ("hi there", "smalltalk"), ("", "smalltalk"), ("I run 30 miles a week and never lifted", "intake"),
     ("can you make me a plan?", "intake")],
)
def test_classify(text, kind):
    """Facts make intake, a question without facts goes to the FAQ, anything else is small talk."""
    assert classify_message(text) == kind


# ------------------------------------------------------------------ the labelled set


def _expected(entry: dict) -> dict:
    expected = dict(entry["expect"])
    if "weekly" in expected:
        expected["weekly_km"], expected["unit"] = parse_mileage(expected.pop("weekly").replace(" ", ""))
    if isinstance(expected.get("race_date"), str):
        expected["race_date"] = dt.date.fromisoformat(expected["race_date"])
    return expected


def _all_right(got: dict, expected: dict) -> bool:
    if set(got) != set(expected):
        return False
    return all(
        abs(got[k] - expected[k]) < 0.05 if k == "weekly_km" else got[k] == expected[k] for k in expected
    )


def test_labelled_set_accuracy():
    """At least 90% of the labelled messages have every field right (printed, with the misses)."""
    data = yaml.safe_load(LABELLED.read_text(encoding="utf-8"))
    today = data["today"]
    messages = data["messages"]
    assert len(messages) >= 60
    by_split: dict[str, list[bool]] = {}
    kinds_right = 0
    for entry in messages:
        got = parse_message(entry["text"], today).fields
        right = _all_right(got, _expected(entry))
        by_split.setdefault(entry["split"], []).append(right)
        kinds_right += classify_message(entry["text"]) == entry["kind"]
        if not right:
            print(f"MISS: {entry['text']!r}\n  expected {_expected(entry)}\n  got      {got}")
    total = sum(sum(v) for v in by_split.values())
    for split, results in sorted(by_split.items()):
        print(f"{split}: {sum(results)}/{len(results)} messages with every field right")
    print(f"all: {total}/{len(messages)} = {total / len(messages):.1%}; kinds right {kinds_right}/{len(messages)}")
    assert total / len(messages) >= 0.90
    assert kinds_right / len(messages) >= 0.90


# ------------------------------------------------------------------ CLI


def _run_parse(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bot", "parse", *args], capture_output=True, text=True, cwd=ROOT, timeout=60
    )


def test_parse_command_json():
    """`python -m bot parse … --json` prints fields, missing, problems and kind."""
    done = _run_parse("I run 30 km a week, long run on Sundays", "--json", "--today", "2026-02-10")
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["fields"]["weekly_km"] == 30
    assert out["fields"]["long_run_day"] == "sun"
    assert out["missing"] == ["level", "goals"]
    assert out["kind"] == "intake"


def test_parse_command_bad_today_is_friendly():
    """A --today that is not a date exits 2 with what is accepted, no traceback."""
    done = _run_parse("hello", "--today", "tomorrow")
    assert done.returncode == 2
    assert "YYYY-MM-DD" in done.stderr
    assert "Traceback" not in done.stderr
