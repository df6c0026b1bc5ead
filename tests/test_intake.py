"""Tests of the chat reader (bot.intake): each kind of fact, negations, bad input, and the labelled set."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.commands.parse import evaluate, print_evaluation
from bot.intake import MAX_CHARS, classify_message, parse_message
from bot.models import KM_PER_MILE, Profile

TODAY = dt.date(2026, 2, 10)
LABELLED = Path(__file__).parent / "data" / "intake_labelled.yaml"
BLIND = Path(__file__).parent / "data" / "intake_blind2.yaml"  # spent: development data since 2026-12-01
# Held out once by the lead (2026-12-02), spent since: development data.
SPENT_BLIND3 = Path(__file__).parent / "data" / "intake_blind3.yaml"
# The held-out set written without sight of the reader or the sets above, run once (2026-12-02); never tune on it.
HELD_OUT = Path(__file__).parent / "data" / "intake_blind4.yaml"
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
     ("to build up to marathon distance", "endurance"), ("not fade late", "endurance"), ("trail races", "hills"),
     ("the fells", "hills"),
     ("stop getting hurt", "injury-resilience"), ("stay healthy", "injury-resilience"),
     ("a finishing kick", "power"), ("sprint finish", "power"), ("get stronger", "general")],
)
def test_goal_synonyms(text, goal):
    """Each goal is found from the words runners use for it."""
    assert goal in fields(f"I want {text}")["goals"]


def test_a_race_named_in_passing_is_its_distance_not_a_goal():
    """'training for the Tokyo marathon' books a marathon; it says nothing about what they want from lifting."""
    got = fields("training for the tokyo marathon in march, 50 mpw")
    assert got["race_distance"] == "marathon"
    assert "goals" not in got
    assert "race_distance" not in fields("want a faster half, my pr is 1:52")


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


def test_labelled_set_accuracy():
    """On the dev set: >= 90% of messages with every field right, <= 3% with a field silently wrong."""
    result = evaluate(LABELLED)
    print_evaluation(result)
    assert result.total >= 100
    assert result.rate(result.all_right) >= 0.90
    assert result.rate(result.silently_wrong) <= 0.03
    assert result.rate(result.kinds_right) >= 0.90


def test_dev_sets_cross_validated():
    """All three dev files, gate fitted on 4 folds and scored on the fifth: a floor under the README's figures
    (90.0 % every field right, 3.5 % a field silently wrong on the 550)."""
    from bot.commands.parse import DEV_FILES, cross_validate, read_samples

    result = cross_validate(read_samples([ROOT / path for path in DEV_FILES]))
    assert result.total >= 550
    assert result.rate(result.all_right) >= 0.88
    assert result.rate(result.silently_wrong) <= 0.04


def test_spent_held_out_set_floor():
    """intake_blind3 (held out once, 2026-12-02: 60.0 % right, 21.3 % silently wrong; now dev data): the
    figures the reader reached on it after it was spent, as a floor (README: 91.3 % / 4.7 %)."""
    result = evaluate(SPENT_BLIND3)
    print_evaluation(result, verbose=False)
    assert result.total == 150
    assert result.rate(result.all_right) >= 0.88
    assert result.rate(result.silently_wrong) <= 0.055


@pytest.mark.xfail(strict=True, reason="targets not met: the one held-out run of tests/data/intake_blind4.yaml "
                   "(2026-12-02) read 60.7% of 150 messages with every field right and 16.0% with a field "
                   "silently wrong (23.3% asked); issue 10 stays open; strict, so meeting it shows")
def test_held_out_set_targets():
    """Issue 10's targets on the new held-out set: >= 90 % every field right, <= 3 % a field silently wrong."""
    result = evaluate(HELD_OUT)
    print_evaluation(result)
    assert result.rate(result.all_right) >= 0.90
    assert result.rate(result.silently_wrong) <= 0.03


def test_evaluation_counts_wrong_extra_and_asked(tmp_path):
    """The evaluator tells a wrong value and an unlisted field (silently wrong) from a field left to ask."""
    path = tmp_path / "set.yaml"
    path.write_text(
        "today: 2026-02-10\n"
        "messages:\n"
        "  - {text: 'I run 30 km a week, beginner', expect: {weekly: 30 km, level: beginner}, kind: intake}\n"
        "  - {text: 'I run 30 km a week, beginner', expect: {weekly: 30 km, level: advanced}, kind: intake}\n"
        "  - {text: 'I run 30 km a week, beginner', expect: {weekly: 30 km}, kind: intake}\n"
        "  - {text: 'I run 30 km a week', expect: {weekly: 30 km, goals: [speed]}, kind: intake}\n"
        "  - {text: 'no race planned, 30 km a week', expect: {weekly: 30 km, race_date: none}, kind: intake}\n",
        encoding="utf-8",
    )
    result = evaluate(path)
    assert (result.total, result.all_right, result.silently_wrong, result.asked) == (5, 2, 2, 1)
    assert result.fields["level"].wrong == 1
    assert result.fields["level"].extra == 1
    assert result.fields["goals"].missing == 1
    assert result.fields["level"].confusion[("advanced", "beginner")] == 1


def test_evaluate_command_prints_figures_and_refuses_a_bad_file(tmp_path):
    """`parse --evaluate FILE` prints the figures; a file of the wrong shape exits 2 with what is expected."""
    done = _run_parse("--evaluate", str(LABELLED))
    assert done.returncode == 0, done.stderr
    assert "every field right" in done.stdout and "silently wrong" in done.stdout and "Per field" in done.stdout
    bad = tmp_path / "bad.yaml"
    bad.write_text("messages: 3\n", encoding="utf-8")
    done = _run_parse("--evaluate", str(bad))
    assert done.returncode == 2
    assert "messages" in done.stderr and "Traceback" not in done.stderr


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


# ------------------------------------------------------------------ issue 10/12: the grammar, negations, crashes


@pytest.mark.parametrize(
    ("text", "weekly"),
    [("i do about thirty miles most weeks", (30, "mi")), ("twenty five km a week", (25, "km")),
     ("5k three times a week", (15, "km")), ("6 miles 4x a week", (24, "mi")), ("I run 5 miles every day", (35, "mi")),
     ("run 3 times a week, 8k each time", (24, "km")), ("only running 2x a week at 6 miles", (12, "mi")),
     ("ran 70k/wk at uni, now 25k", (25, "km")), ("dropped from 45 to 30 mpw", (30, "mi")),
     ("my long run is 20 miles on sundays, about 50 miles a week all up", (50, "mi")),
     ("48km, beginner", (48, "km")), ("45 miles. never lifted", (45, "mi")),
     ("mon 5k, wed 8k, fri 5k, sun 12k", (30, "km")), ("5km monday, 10km wednesday, 8km sunday", (23, "km")),
     ("10 km 3 times a week + a 15 long one on sat", (45, "km")), ("run 7 mi mon wed fri", (21, "mi")),
     ("I run four 8ks a week and a long run on Sunday of 16k", (48, "km")),
     ("3 days a week, about 5 miles each, plus a 10 mile long run", (25, "mi")),
     ("usually somewhere between 30 and 40 k a week", (35, "km"))],
)
def test_weekly_volume_grammar(text, weekly):
    """Spelt-out numbers, per-run and per-day distances multiplied out, now over used-to, a total over a long run."""
    got = fields(text)
    amount = got["weekly_km"] / KM_PER_MILE if got["unit"] == "mi" else got["weekly_km"]
    assert (round(amount, 1), got["unit"]) == weekly


@pytest.mark.parametrize(
    ("text", "weekly"),
    [("i jog twelve k twice a week plus an eighteen k long run", (42, "km")),
     ("about 6 miles per run and 4 runs a week", (24, "mi")),
     ("3 runs a week, maybe 4-6 km each", (15, "km")),
     ("4 runs a week: 6k mon, 6k wed, 10k fri and a 15k on sunday", (37, "km")),
     ("5x a week: 6km, 8km, 6km, 8km and a 20km long run", (48, "km")),
     ("a 7k route three days a week and a longer one on saturday, normally 14-16k", (36, "km")),
     ("6 miles on tuesday, thursday, and saturday, and a 12 mile long run sunday", (30, "mi")),
     ("8 km every day except saturday when i do a 16 km long run", (64, "km")),
     ("5 miles mon, wed, fri and 3 on tue & thu", (21, "mi")),
     ("5 miles mon, 3 tue, 6 wed, rest thu, 4 fri, 9 sat", (27, "mi")),
     ("10 k on mondays, 6 k wednesdays, and a 16 k long run on saturdays", (32, "km")),
     ("mpw: 22. beginner", (22, "mi")),
     ("7 miles x 4 days most weeks", (28, "mi")),
     ("90k weeks last season but i'm down at about 50 at the moment", (50, "km")),
     ("30 miles a week over the summer, about 20 now work is busy", (20, "mi")),
     ("was at fifty miles a week in the spring, now back to around thirty", (30, "mi"))],
)
def test_weekly_volume_grammar_per_run_lists_and_now(text, weekly):
    """Counts in words, one run's length times the runs a week, runs listed, a long run added (or replacing a
    repeat), numbers without their unit on named days, a label before its number, and now over then."""
    got = fields(text)
    amount = got["weekly_km"] / KM_PER_MILE if got["unit"] == "mi" else got["weekly_km"]
    assert (round(amount, 1), got["unit"]) == weekly


@pytest.mark.parametrize(
    "text",
    ["i run a few times a week, usually about 4 miles", "runs are normally 6-9k, between 3 and 5 runs a week",
     "my longest run so far is 14 miles", "long run saturdays is usually 25k+", "about 12 km per run"],
)
def test_one_runs_length_without_a_count_is_asked_not_weekly(text):
    """A run's length with no (or a vague) count of runs, or the long run, is not read as the week."""
    assert "weekly_km" not in fields(text)


def test_a_week_total_is_never_multiplied_by_a_strength_count():
    """'40mpw, strength 2x/wk': the count belongs to the gym, and a weekly total is not one run."""
    assert fields("45mpw, strength 2x/wk")["weekly_km"] == pytest.approx(45 * KM_PER_MILE, abs=0.1)


def test_now_with_an_age_after_it_is_not_the_week():
    """'now 40 and ...' after a weekly figure is not a smaller 'now' week; the week said stays."""
    got = fields("about 30 miles/wk, lifted a lot in my 20s, now 40 and out of practice")
    assert got["weekly_km"] == pytest.approx(30 * KM_PER_MILE, abs=0.1)


@pytest.mark.parametrize(
    ("text", "niggles"),
    [("hamstirng is tight", ["hamstring"]), ("achiles and calves always sore", ["achilles", "calf"]),
     ("my hamstrig has been niggly", ["hamstring"])],
)
def test_one_letter_typos_of_the_readers_words_are_read(text, niggles):
    """A long word one letter away from a word in intake_words.yaml `spelling` is read as that word."""
    assert fields(text)["niggles"] == niggles


def test_short_words_are_never_spelling_corrected():
    """Only words of 7+ letters are corrected: 'calves' is not turned into anything else, 'halves' stays."""
    from bot.intake import _normalise

    assert _normalise("halves and calves, internal") == "halves and calves, internal"


@pytest.mark.parametrize(
    ("text", "days"),
    [("intermediate lifter, can do 2 sessions a week max", 2),
     ("could probably squeeze in 1 strength session", 1),
     ("40 mpw. intermediate. gym. 3 days.", 3),
     ("25km/wk, beginner, 2x per week, long run sat", 2)],
)
def test_strength_days_offered_or_listed(text, days):
    """A count the runner offers ('can do 2 sessions') or lists alone among their facts is strength days."""
    assert fields(text)["days_per_week"] == days


def test_a_lifting_count_in_a_history_sentence_is_not_strength_days():
    """'been lifting 4 yrs, 3x/wk': what they have done, not what they can fit in now."""
    assert "days_per_week" not in fields("been lifting 4 yrs, 3x/wk, form is good. 30 mpw")


@pytest.mark.parametrize(
    ("text", "hard"),
    [("mon 6k easy, tue 9k w/ intervals, thu 11k tempo, sun 18k long", ["tue", "thu"]),
     ("wed 10k with 5x1000, fri easy 6k", ["wed"]), ("speed work on weekends, easy runs otherwise", ["sat", "sun"]),
     ("tuesdays are intervels", ["tue"])],
)
def test_hard_days_from_day_by_day_lists_reps_and_weekends(text, hard):
    """A keyword after its day in a day-by-day list, track reps ('5x1000'), 'weekends', a typo'd keyword."""
    assert fields(text)["hard_days"] == hard


def test_long_run_on_the_weekend_asks_which_day():
    """'a long run on the weekend' names two days: the long-run day is asked, not guessed."""
    assert "long_run_day" not in fields("30 km a week with a long run on the weekend")


@pytest.mark.parametrize(
    ("text", "level"),
    [("squat like 1.6x bw", "advanced"), ("deadlift 150kg at 80kg bodyweight", "advanced"),
     ("squat 70 at 80kg bodyweight", "intermediate"), ("pretty experienced with the barbell", "advanced"),
     ("can do heavy deadlifts no problem", "advanced"), ("lifted consistently for 2 years", "intermediate")],
)
def test_level_from_strength_ratios_and_experience(text, level):
    """Bodyweight ratios written as 'Nx bw' or as two weights, and experience described in words."""
    assert fields(text)["level"] == level


def test_a_goal_named_in_the_past_is_not_a_goal():
    """'used to do sprint work at football' is history; the goal they name now is the goal."""
    assert fields("used to do loads of sprint work at football. want a faster 10k. 20 mpw")["goals"] == ["speed"]


def test_hill_sessions_on_a_day_are_not_a_hills_goal():
    """'hills sat' is a session on a day; the goal they give is the goal."""
    got = fields("30 km a week. tempo wed, hills sat. want to stop getting injured")
    assert got["goals"] == ["injury-resilience"] and got["hard_days"] == ["wed", "sat"]


def test_a_long_run_alone_is_not_weekly_mileage():
    """'long run of 16k on saturday' gives the long-run day and no weekly distance."""
    got = fields("long run of 16k on saturday")
    assert "weekly_km" not in got
    assert got["long_run_day"] == "sat"


def test_day_by_day_list_gives_the_long_run_day():
    """The longest day of a day-by-day week is the long run."""
    assert fields("mon 5k, wed 8k, fri 5k, sun 12k")["long_run_day"] == "sun"


@pytest.mark.parametrize(
    ("text", "level"),
    [("never touched a barbell", "beginner"), ("weights are new to me", "beginner"),
     ("bench 100kg and squat 140", "advanced"), ("lifting for 5 years", "intermediate")],
)
def test_level_from_descriptions(text, level):
    """Descriptions with no level word are read by the classifier trained on rules/intake_examples.yaml."""
    assert fields(text)["level"] == level


@pytest.mark.parametrize(
    ("text", "goal"),
    [("want to finally break 50 min for 10k", "speed"), ("i want to stop getting shin splints", "injury-resilience"),
     ("just want general fitness tbh", "general")],
)
def test_goals_from_descriptions(text, goal):
    """Goals described rather than named."""
    assert goal in fields(text)["goals"]


def test_stop_getting_shin_splints_is_a_goal_not_a_current_niggle():
    """Wanting to stop getting shin splints is a goal, not a shin niggle; 'no pain' answers sharp pain only."""
    got = fields("no pain. i want to stop getting shin splints")
    assert "niggles" not in got
    assert got["sharp_pain"] is False
    assert got["goals"] == ["injury-resilience"]
    assert fields("no niggles, no pain")["niggles"] == []


@pytest.mark.parametrize("text", ["no race planned", "nothing coming up race wise", "not racing this year"])
def test_no_race_is_read_as_an_answer(text):
    """Saying there is no race fills race_date with None (answered), unlike saying nothing."""
    got = fields(f"30 km a week, {text}")
    assert "race_date" in got and got["race_date"] is None


@pytest.mark.parametrize(
    ("text", "date", "distance"),
    [("marathon on jan 10", dt.date(2027, 1, 10), "marathon"),
     ("half marathon in 6 weeks!", dt.date(2026, 3, 24), "half"),
     ("10k race next saturday", dt.date(2026, 2, 14), "10k"), ("5k race on 2026-03-21", dt.date(2026, 3, 21), "5k")],
)
def test_race_date_and_distance(text, date, distance):
    """dateparser reads the date span; the distance is the one named with the date."""
    got = fields(text)
    assert (got["race_date"], got["race_distance"]) == (date, distance)


@pytest.mark.parametrize("text", ["race in 100000 months", "marathon in 999999999 weeks"])
def test_huge_relative_dates_are_a_friendly_problem(text):
    """Absurd amounts give a message, never an exception."""
    result = parse_message(text, TODAY)
    assert "race_date" not in result.fields
    assert any("three years" in problem for problem in result.problems)
    assert classify_message(text) == "intake"


def test_relative_date_near_the_end_of_time_is_friendly():
    """With today at 9999-12-20, 'marathon in 6 weeks' gives a problem, not an OverflowError."""
    result = parse_message("marathon in 6 weeks, 30km a week", dt.date(9999, 12, 20))
    assert "race_date" not in result.fields
    assert result.problems


@pytest.mark.parametrize(("text", "words"), [("-5km a week", "negative"), ("1_000km a week", "more than")])
def test_bad_mileage_in_chat_is_a_problem_not_a_wrong_number(text, words):
    """'-5km' is not 5 km and '1_000km' is not 0 km: each is a problem that says why."""
    result = parse_message(text, TODAY)
    assert "weekly_km" not in result.fields
    assert any(words in problem for problem in result.problems)


def test_parse_command_far_today_exits_cleanly():
    """`parse --today 9999-12-20` never prints a traceback."""
    done = _run_parse("marathon in 6 weeks, I run 30km a week", "--today", "9999-12-20")
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr


def _run_preview(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bot", "preview", "--mileage", "30km", "--level", "beginner",
                           "--goal", "speed", *args], capture_output=True, text=True, cwd=ROOT, timeout=60)


def test_cli_race_date_uses_the_shared_reader_and_race_distance_is_checked():
    """`--race-date 'in 8 weeks' --race-distance half` is accepted; a bad distance or date exits 2, no traceback."""
    assert _run_preview("--race-date", "in 8 weeks", "--race-distance", "half").returncode == 0
    for bad in (("--race-distance", "3k"), ("--race-date", "tomorrowish"), ("--race-date", "in 100000 months")):
        done = _run_preview(*bad)
        assert done.returncode == 2, bad
        assert "Traceback" not in done.stderr and "error:" in done.stderr


def test_weekly_distance_is_not_the_race_distance():
    """'10 km a week, race on May 3' gives a race date and no race distance (10 km is the week)."""
    got = fields("I run 10 km a week, race on May 3, beginner")
    assert got["race_date"] == dt.date(2026, 5, 3)
    assert "race_distance" not in got


def test_race_distance_named_away_from_the_date():
    """'want to run a faster marathon. race day is oct 11': the one distance named is the race's."""
    assert fields("want to run a faster marathon. race day is oct 11")["race_distance"] == "marathon"


# ------------------------------------------------------------------ the confidence gate


def test_gate_drops_a_field_below_its_threshold_and_asks_for_it():
    """A read whose fitted probability is under the field's threshold is left out and listed as missing."""
    from bot.intake import gate, read_with_evidence

    read, evidence = read_with_evidence("I run 30 km a week, beginner", TODAY)
    sure = {"weekly_km": {"intercept": 3.0, "weights": {}, "threshold": 0.8}}
    unsure = {"weekly_km": {"intercept": 0.0, "weights": {"source=score-5": -2.0}, "threshold": 0.8}}
    kept = gate(read, evidence, sure)
    assert kept.fields["weekly_km"] == 30 and kept.confidence["weekly_km"] == pytest.approx(0.953, abs=0.001)
    dropped = gate(read, evidence, unsure)
    assert "weekly_km" not in dropped.fields and "unit" not in dropped.fields
    assert dropped.missing == ["weekly_km", "goals"]
    assert dropped.fields["level"] == "beginner"


def test_shipped_gate_is_fitted_for_every_field_and_reports_confidence():
    """rules/intake_confidence.yaml covers the fields the reader fills, and parse_message reports them."""
    from bot.intake import confidence_model

    models = confidence_model()
    assert {"weekly_km", "level", "goals", "race_distance"} <= set(models)
    assert all(0 < model["threshold"] < 1 for model in models.values())
    result = parse_message("I run 30 km a week, never lifted, want to get faster", TODAY)
    assert set(result.confidence) == {"weekly_km", "level", "goals"}
    assert all(0.8 <= p <= 1 for p in result.confidence.values())


def test_cross_validation_keeps_folds_apart(tmp_path):
    """CV fits the gate on other folds only: a fold's messages never train the gate that scores them."""
    from bot.commands import parse

    samples = parse.read_samples([LABELLED])[:40]
    seen: list[set[str]] = []
    real_fit = parse.fit_gate

    def recording_fit(train, silent_cost=parse.SILENT_COST):
        seen.append({sample.text for sample in train})
        return real_fit(train, silent_cost)

    parse.fit_gate, original = recording_fit, parse.fit_gate
    try:
        result = parse.cross_validate(samples, folds=4)
    finally:
        parse.fit_gate = original
    assert result.total == 40 and len(seen) == 4
    for fold, train in enumerate(seen):
        held_out = {s.text for i, s in enumerate(samples) if i % 4 == fold}
        assert not held_out & train


def test_cv_command_prints_both_tables_and_refuses_bad_cost():
    """`parse --cv FILE` prints the figures without and with the gate; a bad --silent-cost exits 2."""
    done = _run_parse("--cv", str(BLIND))
    assert done.returncode == 0, done.stderr
    assert "Without the gate" in done.stdout and "cross-validation" in done.stdout
    assert done.stdout.count("every field right") == 2
    done = _run_parse("--cv", str(BLIND), "--silent-cost", "0")
    assert done.returncode == 2 and "silent-cost" in done.stderr
