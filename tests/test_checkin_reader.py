"""The chat check-in reader: messages to check-ins against the member's plan, its data files and its evaluation."""

from __future__ import annotations

import datetime as dt
import io
import shutil
from pathlib import Path

import pytest

from bot.checkin_reader import (
    EVAL_PROFILE,
    EVAL_START,
    confidence_model,
    evaluate,
    gate,
    load_lexicon,
    main,
    read_checkin,
    read_with_evidence,
)
from bot.checkins import CheckInError
from bot.yamlio import DataFileError

TODAY = dt.date(2026, 12, 3)
DEV_SET = Path(__file__).parent / "data" / "checkin_labelled.yaml"
# The first held-out set, spent (run once on 2026-12-02: 56.4% / 31.4%); development data since, tuned on.
SPENT_BLIND = Path(__file__).parent / "data" / "checkin_blind1.yaml"
# The held-out set the lead is having written: never read while the reader is worked on.
HELD_OUT = Path(__file__).parent / "data" / "checkin_blind2.yaml"


@pytest.fixture(scope="module")
def plan(coach):
    return coach.plan(EVAL_PROFILE, EVAL_START)


def test_the_briefs_example_reads_field_by_field():
    """Status, day, per-exercise feel and pain, and where it hurt, from one sentence."""
    reading = read_checkin("did tuesday's sesh, squats felt easy but knee was like 4/10 on the lunges", TODAY)
    assert reading.kind == "checkin"
    assert reading.labels(TODAY) == {
        "status": "done", "day": "tue", "pain": 4, "pain_where": "knee",
        "exercises": [{"exercise": "goblet-squat", "feel": "easy"}, {"exercise": "reverse-lunge", "pain": 4}]}


@pytest.mark.parametrize(("text", "expect"), [
    ("skipped thursday", {"status": "skipped", "day": "thu"}),
    ("gobblet squats 3x10 @ 12kg, felt ok", {"exercises": [{"exercise": "goblet-squat", "sets": 3, "reps": 10,
                                                             "load": "12 kg", "feel": "ok"}]}),
    ("rdls with 25 lb felt heavy, only got 6 on the last set",
     {"exercises": [{"exercise": "single-leg-rdl", "load": "25 lb", "feel": "hard", "reps": 6, "hit": False}]}),
    ("achilles 5/10, still sore this morning", {"pain": 5, "pain_where": "achilles", "lingering": True}),
    ("ran 30 miles this week", {"weekly": "30 mi"}),
    ("did the session on the 1st, legs were dead on my run the next day",
     {"status": "done", "day": "tue", "next_run": "bad"}),
])
def test_messages_read_as_checkins(text, expect):
    """Typos, nicknames, loads in either unit, lingering pain, mileage updates and the next run."""
    reading = read_checkin(text, TODAY)
    assert reading.kind == "checkin" and reading.labels(TODAY) == expect


@pytest.mark.parametrize("text", [
    "should I do squats if my knee hurts?", "I run 40 km a week and I'm new to lifting", "hi", "did 10k easy today",
    "what does rir mean?", "", "x" * 5000,
])
def test_questions_profiles_smalltalk_and_runs_are_not_checkins(text):
    """Questions go to the FAQ, profiles to intake; a run report or small talk is not a check-in."""
    assert read_checkin(text, TODAY).kind == "other"


def test_a_reading_becomes_a_checkin_of_the_plan(plan):
    """The day named picks the session; an exercise the session lacks is left out, not stored."""
    reading = read_checkin("did tuesday, squats easy, nordics hard", TODAY)
    checkin = reading.to_checkin(plan, dt.datetime(2026, 12, 3, 20), source="chat")
    assert checkin.session == dt.date(2026, 12, 1) and checkin.status == "done"
    assert [log.exercise for log in checkin.exercises] == ["goblet-squat"]
    assert reading.left_out(plan, TODAY) == ["nordic-hamstring"]
    unnamed = read_checkin("step ups felt hard", TODAY).to_checkin(plan, dt.datetime(2026, 12, 3, 20))
    assert unnamed.session == dt.date(2026, 12, 3)  # the latest session holding step-ups
    with pytest.raises(CheckInError, match="no strength session on Wednesday"):
        read_checkin("did yesterday's session", TODAY).to_checkin(plan, dt.datetime(2026, 12, 3, 20))
    with pytest.raises(CheckInError, match=r"Pain .* isn't possible"):
        read_checkin("knee pain 15/10 on the lunges", TODAY).to_checkin(plan, dt.datetime(2026, 12, 3, 20))


def test_dev_set_figures():
    """Development-set figures (tuned on it): every field right for 90%+, a field silently wrong for 3% or less."""
    out = io.StringIO()
    figures = evaluate(DEV_SET, out)
    assert figures["all_right"] >= 0.9 and figures["silently_wrong"] <= 0.03
    assert "all fields right" in out.getvalue() and "exercises" in out.getvalue()


def test_spent_blind_set_floor():
    """Development data now (tuned on): a floor under today's 82.9% all right / 7.9% silently wrong, so a change
    that reads these 140 messages worse shows."""
    figures = evaluate(SPENT_BLIND, io.StringIO())
    assert figures["all_right"] >= 0.8 and figures["silently_wrong"] <= 0.09


@pytest.mark.skipif(not HELD_OUT.exists(), reason="tests/data/checkin_blind2.yaml, the next held-out set, is being "
                    "written by someone who has seen neither the reader nor its data; it is scored once it lands")
def test_held_out_set_targets():
    """The chat reader's targets (issue 10's, kept for check-ins): >= 90% every field right, <= 3% silently wrong."""
    figures = evaluate(HELD_OUT, io.StringIO())
    assert figures["all_right"] >= 0.9 and figures["silently_wrong"] <= 0.03


def test_a_negated_skip_is_a_session_done():
    """'didn't skip anything' says the session was done; 'skipped the plyo stuff' after doing the rest is partly."""
    assert read_checkin("did tuesday's, didnt skip anything. nothing hurt", TODAY).labels(TODAY) == {
        "status": "done", "day": "tue", "pain": 0}
    assert read_checkin("did the strength bits but skipped the plyo stuff", TODAY).status == "partly"


@pytest.mark.parametrize(("text", "expect"), [
    ("for the record the one on tues 24th i only did half of", {"status": "partly", "day": "2026-11-24"}),
    ("last thursday's sesh: did it all", {"status": "done", "day": "2026-11-26"}),
    ("car broke down on monday but got today's done", {"status": "done", "day": "thu"}),
    ("ran 10k today, that's 38k for the week", {"weekly": "38 km"}),
    ("cope planks 20s each side x3, brutal", {"exercises": [{"exercise": "copenhagen-plank", "reps": 20, "sets": 3,
                                                             "feel": "hard"}]}),
    ("nordics: managed 4 reps per set", {"exercises": [{"exercise": "nordic-hamstring", "reps": 4}]}),
    ("reverse lunges with a 12kg kb, 10 each leg, 3 rounds", {"exercises": [
        {"exercise": "reverse-lunge", "load": "12 kg", "reps": 10, "sets": 3}]}),
    ("did the sesh this morning then ran 8k after work, legs were dead", {"status": "done", "day": "thu",
                                                                          "next_run": "bad"}),
    ("did the session, no pain at all, a first since the achilles thing lingered for weeks",
     {"status": "done", "pain": 0}),
])
def test_dates_distances_and_reps_said_in_passing(text, expect):
    """The precise date over a weekday, the session named as a day's, the week's distance of several, 'x3' sets."""
    reading = read_checkin(text, TODAY)
    assert reading.kind == "checkin" and reading.labels(TODAY) == expect


@pytest.mark.parametrize(("text", "left_out"), [
    ("ran out of steam, skipped the side planks and the copenhagens at the end", ["side-plank", "copenhagen-plank"]),
    ("did the strength bits but skipped the plyo stuff (pogos, bounds)", ["pogo-hops", "bounding"]),
    ("foot pain 4/10 on the pogos so i stopped them", ["pogo-hops"]),
    ("skipped the lunges but did the squats", ["reverse-lunge"]),
])
def test_exercises_left_out_or_stopped_missed_their_reps(text, left_out):
    """A left-out or stopped exercise has hit false (its reps weren't all done); one done after 'but did' hasn't."""
    reading = read_checkin(text, TODAY)
    assert [e.exercise for e in reading.exercises if e.hit is False] == left_out
    assert all(e.hit is None for e in reading.exercises if e.exercise not in left_out)


def test_the_gate_leaves_out_what_it_is_unsure_of():
    """A read whose fitted chance of being right is below its threshold is left out; the rest stays."""
    reading, evidence = read_with_evidence("did tuesday's, squats 3x8 felt easy", TODAY)
    assert reading.status == "done" and reading.exercises[0].feel == "easy"
    unsure = {"status": {"intercept": -3.0, "weights": {}, "threshold": 0.8},
              "exercises.feel": {"intercept": 0.0, "weights": {"origin=first": -4.0}, "threshold": 0.8}}
    kept = gate(reading, evidence, unsure)
    assert kept.status is None and kept.exercises[0].feel is None
    assert kept.exercises[0].sets == 3 and kept.day == reading.day  # reads without a model are kept
    assert kept.confidence["status"] < 0.8
    unsure_name = {"exercises": {"intercept": -3.0, "weights": {}, "threshold": 0.8}}
    assert gate(reading, evidence, unsure_name).exercises == []  # an unsure exercise goes with all its facts
    assert set(confidence_model()) >= {"status", "exercises", "exercises.feel"}  # the shipped, fitted gate


def test_the_gate_is_fitted_and_cross_validated_from_the_command_line(capsys):
    """--cv prints the cross-validated figures; a silly silent cost or a missing file is refused with exit 2."""
    assert main(["--cv", str(DEV_SET)]) == 0
    assert "5-fold cross-validated" in capsys.readouterr().out
    assert main(["--cv", "--silent-cost", "0"]) == 2
    assert main(["--cv", "no/such/file.yaml"]) == 2


def test_data_files_are_validated_with_file_and_line(tmp_path, settings):
    """A broken pattern or a missing section names the file; the CLI exits 2 on a bad labelled file."""
    shutil.copy(settings.rules_dir / "exercise_names.yaml", tmp_path)
    text = (settings.rules_dir / "checkin_reading.yaml").read_text()
    (tmp_path / "checkin_reading.yaml").write_text(text.replace("'\\bhalf ?way", "'(half ?way"))
    with pytest.raises(DataFileError, match=r"checkin_reading.yaml.*isn't a valid regular expression"):
        load_lexicon(tmp_path)
    (tmp_path / "checkin_reading.yaml").write_text(text)
    gate_file = "silent_cost: 4\nfields: {status: {intercept: x, threshold: 2}}\n"
    (tmp_path / "checkin_confidence.yaml").write_text(gate_file)
    with pytest.raises(DataFileError, match=r"checkin_confidence.yaml.*threshold"):
        load_lexicon(tmp_path)
    (tmp_path / "bad.yaml").write_text("today: 2026-12-03\nmessages: [{text: hi, kind: maybe}]\n")
    assert main(["--evaluate", str(tmp_path / "bad.yaml")]) == 2
