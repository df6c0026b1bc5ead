"""Tests of the intake conversation (bot.conversation): order of questions, answers, confirm, storage, expiry."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.conversation import ORDER, Conversation
from bot.models import Profile

NOW = dt.datetime(2026, 2, 10, 9, 0, tzinfo=dt.UTC)
FULL = (
    "I run 30 km a week, new to lifting, want a faster 10k, long run on Sundays, intervals tue and thu, "
    "no equipment, no injuries"
)


def start(text: str = "") -> Conversation:
    return Conversation.start("user-1", text, NOW)


def answer_all(conversation: Conversation, answers: dict[str, str]) -> None:
    while (question := conversation.next_question()) is not None:
        error = conversation.answer(answers[question.field], NOW)
        assert error is None, (question.field, error)


ANSWERS = {
    "weekly_km": "30km", "level": "beginner", "goals": "speed", "long_run_day": "sunday", "hard_days": "none",
    "equipment": "none", "niggles": "none", "sharp_pain": "no", "days_per_week": "2", "race_date": "in 8 weeks",
    "race_distance": "half",
}


def test_empty_start_asks_required_fields_first():
    """With nothing known, the questions come mileage, level, goals, then the rest in order."""
    conversation = start("hello")
    asked = []
    while (question := conversation.next_question()) is not None:
        asked.append(question.field)
        conversation.answer(ANSWERS[question.field], NOW)
    assert asked == list(ORDER)


def test_fields_from_the_first_message_are_not_asked_again():
    """What the opening message said is kept; only what is missing is asked."""
    conversation = start(FULL)
    assert conversation.fields["weekly_km"] == 30
    assert conversation.next_question().field == "sharp_pain"


def test_sharp_pain_is_always_asked():
    """Even 'no pain anywhere' in the first message does not skip the safety question."""
    conversation = start(FULL + ", no pain anywhere")
    assert conversation.next_question().field == "sharp_pain"


def test_sharp_pain_stated_is_not_asked_again():
    """A runner who said they have sharp pain is not asked again; the flag is kept."""
    conversation = start(FULL + ". sharp pain in my knee when I squat")
    assert conversation.fields["sharp_pain"] is True
    assert conversation.next_question().field == "days_per_week"


def test_questions_carry_options_in_the_vocabulary():
    """Level, goals, equipment and niggles offer the models' option values."""
    conversation = start()
    conversation.answer("30km", NOW)
    level = conversation.next_question()
    assert [o.value for o in level.options] == ["beginner", "intermediate", "advanced"]
    assert level.multi is False
    conversation.answer("beginner", NOW)
    goals = conversation.next_question()
    assert goals.multi is True
    assert {o.value for o in goals.options} == {"speed", "endurance", "hills", "injury-resilience", "power", "general"}


def test_mileage_question_is_free_text():
    """The mileage question has no options and cannot be skipped."""
    question = start().next_question()
    assert question.field == "weekly_km"
    assert question.options == []
    assert question.optional is False


def test_optional_questions_can_be_skipped():
    """Days per week and race date accept 'skip' and move on."""
    conversation = start(FULL)
    conversation.answer("no", NOW)
    assert conversation.next_question().optional is True
    assert conversation.answer("skip", NOW) is None
    assert conversation.next_question().field == "race_date"
    assert conversation.answer("none", NOW) is None
    assert conversation.stage == "confirming"


def test_required_question_cannot_be_skipped():
    """'skip' on the mileage question gets a friendly error and the question stays."""
    conversation = start()
    error = conversation.answer("skip", NOW)
    assert error and "need" in error
    assert conversation.pending == "weekly_km"


def test_bad_mileage_says_what_is_accepted():
    """Nonsense for mileage is refused with the accepted forms, and the question stays."""
    conversation = start()
    error = conversation.answer("lots", NOW)
    assert "30mi" in error
    assert conversation.pending == "weekly_km"


def test_number_then_unit_completes_the_mileage():
    """'40' asks for the unit; a following 'miles' completes it."""
    conversation = start()
    assert "kilometres or miles" in conversation.answer("40", NOW)
    assert conversation.answer("miles", NOW) is None
    assert conversation.fields["unit"] == "mi"


def test_loose_words_are_accepted():
    """'never lifted', 'PR and trails', 'Sunday', 'weds' are read as option values."""
    conversation = start()
    conversation.answer("45k", NOW)
    conversation.answer("never lifted", NOW)
    conversation.answer("a PR and trails", NOW)
    conversation.answer("Sunday", NOW)
    conversation.answer("weds", NOW)
    assert conversation.fields["level"] == "beginner"
    assert conversation.fields["goals"] == ["speed", "hills"]
    assert conversation.fields["long_run_day"] == "sun"
    assert conversation.fields["hard_days"] == ["wed"]


def test_option_numbers_are_accepted():
    """The console's numbers pick options: '2' is intermediate."""
    conversation = start("30km a week")
    assert conversation.answer("2", NOW) is None
    assert conversation.fields["level"] == "intermediate"


def test_unknown_option_is_refused_with_the_choices():
    """A level that is not in the vocabulary is refused, listing the options."""
    conversation = start("30km a week")
    error = conversation.answer("wizard", NOW)
    assert "`beginner`" in error
    assert conversation.pending == "level"


def test_single_choice_refuses_two():
    """The long-run day is one day, so two days get 'pick just one'."""
    conversation = start("30km a week, beginner, speed")
    error = conversation.answer("sat and sun", NOW)
    assert "just one" in error


def test_strength_days_out_of_range_are_refused():
    """Five strength days a week is outside 1-3 and says so."""
    conversation = start(FULL)
    conversation.answer("no", NOW)
    assert "1 to 3" in conversation.answer("5", NOW)


def test_past_race_date_is_refused():
    """A race date that has passed is refused and the question stays."""
    conversation = start(FULL + ", can lift twice a week")
    conversation.answer("no", NOW)
    error = conversation.answer("2025-06-01", NOW)
    assert "passed" in error
    assert conversation.pending == "race_date"


def test_an_answer_can_volunteer_other_facts():
    """Answering mileage with '40k, and I'm a beginner' also fills the level."""
    conversation = start()
    conversation.answer("40k, and I'm a beginner", NOW)
    assert conversation.fields["level"] == "beginner"
    assert conversation.next_question().field == "goals"


def test_set_field_from_a_select():
    """A select's list of values is accepted as it comes from the Discord layer."""
    conversation = start("30km a week, beginner")
    assert conversation.set_field("goals", ["speed", "hills"]) is None
    assert conversation.fields["goals"] == ["speed", "hills"]
    assert conversation.next_question().field == "long_run_day"


def test_set_field_refuses_values_outside_the_vocabulary():
    """A value that is no option is refused with the choices."""
    conversation = start()
    assert conversation.set_field("equipment", ["rowing machine"]) is not None
    assert "equipment" not in conversation.fields


def test_set_field_bool_for_the_safety_question():
    """The yes/no buttons set sharp_pain as a bool."""
    conversation = start(FULL)
    assert conversation.set_field("sharp_pain", True) is None
    assert conversation.fields["sharp_pain"] is True


def test_summary_lists_what_was_read():
    """The confirm card shows mileage in the runner's unit and days in full."""
    conversation = start("I run 25-30 miles a week, long run on Sundays")
    summary = conversation.summary()
    assert "27.5 mi" in summary
    assert "Sunday" in summary


def test_confirm_finishes_and_builds_the_profile():
    """After all answers and 'looks right', the conversation is done and gives a Profile."""
    conversation = start(FULL)
    answer_all(conversation, ANSWERS)
    assert conversation.stage == "confirming"
    assert conversation.answer("looks right", NOW) is None
    assert conversation.stage == "done"
    profile = conversation.to_profile()
    assert isinstance(profile, Profile)
    assert profile.hard_days == ["tue", "thu"]
    assert profile.days_per_week == 2


def test_confirm_too_early_says_what_is_missing():
    """Confirming before the required answers lists what is still needed."""
    conversation = start("30km a week")
    error = conversation.confirm()
    assert "strength level" in error
    assert conversation.stage == "collecting"


def test_change_asks_that_field_again_then_returns_to_confirm():
    """'change mileage' re-asks only the mileage, then goes back to confirming."""
    conversation = start(FULL)
    answer_all(conversation, ANSWERS)
    assert conversation.answer("change mileage", NOW) is None
    assert conversation.next_question().field == "weekly_km"
    conversation.answer("50km", NOW)
    assert conversation.stage == "confirming"
    assert conversation.fields["weekly_km"] == 50


def test_change_of_unknown_field_is_refused():
    """Changing something that isn't asked about lists what can be changed."""
    conversation = start(FULL)
    answer_all(conversation, ANSWERS)
    assert "mileage" in conversation.answer("change my shoes", NOW).lower()
    assert conversation.stage == "confirming"


def test_round_trip_through_json_mid_conversation():
    """A conversation stored as JSON and loaded back continues where it was."""
    conversation = start("I run 30 km a week, race on Jan 17")
    stored = json.loads(json.dumps(conversation.model_dump(mode="json")))
    loaded = Conversation.model_validate(stored)
    assert loaded == conversation
    assert loaded.next_question() == conversation.next_question()
    assert loaded.fields["race_date"] == "2027-01-17"


def test_expiry():
    """A conversation idle for longer than the time-to-live is expired; an active one is not."""
    conversation = start()
    assert not conversation.is_expired(NOW + dt.timedelta(minutes=29))
    assert conversation.is_expired(NOW + dt.timedelta(minutes=31))
    conversation.answer("30km", NOW + dt.timedelta(minutes=25))
    assert not conversation.is_expired(NOW + dt.timedelta(minutes=50))


def test_answer_after_done_is_a_friendly_note():
    """Answering a finished conversation does not change it."""
    conversation = start(FULL)
    answer_all(conversation, ANSWERS)
    conversation.confirm()
    assert conversation.answer("60km", NOW) is not None
    assert conversation.fields["weekly_km"] == 30


@settings(max_examples=40, deadline=None)
@given(st.lists(st.text(max_size=40), max_size=12))
def test_any_replies_never_crash_and_keep_a_valid_state(replies):
    """Whatever is typed, answer() returns None or a message, and the stage stays consistent."""
    conversation = start()
    for reply in replies:
        result = conversation.answer(reply, NOW)
        assert result is None or (isinstance(result, str) and result)
        assert conversation.stage in ("collecting", "confirming", "done")
        if conversation.stage == "collecting":
            assert conversation.pending is not None


@pytest.mark.parametrize("field", ["weekly_km", "level", "goals"])
def test_to_profile_refuses_while_required_missing(field):
    """to_profile raises while a required field is missing."""
    conversation = start(FULL)
    conversation.fields.pop(field)
    with pytest.raises(ValueError):
        conversation.to_profile()


def test_race_distance_asked_only_after_a_race_date():
    """Skipping the race date, or saying there is no race, asks no distance."""
    for race_answer in ("skip", "no race planned"):
        conversation = start("hello")
        while (question := conversation.next_question()) is not None:
            conversation.answer(race_answer if question.field == "race_date" else ANSWERS[question.field], NOW)
        assert "race_distance" not in conversation.fields
        assert conversation.stage == "confirming"


def test_race_distance_from_words():
    """'a half marathon' or '10k' answers the distance question."""
    conversation = start("hello")
    answer_all(conversation, {**ANSWERS, "race_distance": "a half marathon"})
    assert conversation.to_profile().race_distance == "half"


def test_service_answers_a_question_mid_conversation_and_keeps_it():
    """respond(): a question typed instead of an answer gives an faq reply, then the pending question again."""
    from bot.conversation import respond

    conversation, replies = respond(None, "k", "I run 30 km a week", NOW)
    assert [r.kind for r in replies] == ["question"] and replies[0].question.field == "level"
    conversation, replies = respond(conversation, "k", "should I lift before or after my run?", NOW)
    assert [r.kind for r in replies] == ["faq", "question"]
    assert replies[1].question.field == "level" and conversation.fields["weekly_km"] == 30


def test_service_done_carries_the_profile():
    """respond(): the confirming 'yes' ends the conversation with the finished profile."""
    from bot.conversation import respond

    conversation, _ = respond(None, "k", FULL, NOW)
    while conversation is not None and conversation.next_question() is not None:
        conversation, _ = respond(conversation, "k", ANSWERS[conversation.pending], NOW)
    conversation, replies = respond(conversation, "k", "yes", NOW)
    assert conversation is None
    assert replies[0].kind == "done" and replies[0].profile.weekly_km == 30


# --------------------------------------------------------------------------------------------
# Check-ins in the conversation service (a member with a plan)

from bot.checkin_reader import EVAL_PROFILE, EVAL_START  # noqa: E402
from bot.checkins import CheckIn  # noqa: E402
from bot.conversation import CHECKIN_AGAIN, CHECKIN_CANCELLED, respond  # noqa: E402

EVENING = dt.datetime(2026, 12, 3, 20, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def plan(coach):
    return coach.plan(EVAL_PROFILE, EVAL_START)


def test_a_report_is_read_as_a_checkin_and_confirmed_before_it_is_logged(plan):
    """What was read comes back to confirm (health flagged for DM); `looks right` gives the logged check-in."""
    state, [card] = respond(None, "dm:1", "skipped thursday, knee 6/10", EVENING, plan, [])
    assert card.kind == "checkin" and card.health and ("How it went", "skipped") in card.summary
    assert state is not None and state.stage == "checkin"
    restored = Conversation.model_validate(json.loads(json.dumps(state.model_dump(mode="json"))))
    state, [logged] = respond(restored, "dm:1", "looks right", EVENING, plan, [])
    assert state is None and logged.kind == "logged"
    checkin = CheckIn.model_validate(logged.checkin)
    assert checkin.session == dt.date(2026, 12, 3) and checkin.status == "skipped" and checkin.pain == 6
    assert any("skipped" in change for change in logged.changes)  # moved or dropped, with the reason
    assert "What changes in your plan:" in logged.text


def test_change_and_cancel_and_questions_while_confirming(plan):
    """`change` asks again and takes the new report; a question is answered; `cancel` drops it."""
    state, _ = respond(None, "dm:1", "did tuesday, squats easy", EVENING, plan, [])
    state, [again] = respond(state, "dm:1", "change", EVENING, plan, [])
    assert again.text == CHECKIN_AGAIN and state.checkin is None
    state, [card] = respond(state, "dm:1", "did tuesday, squats hard", EVENING, plan, [])
    assert ("Goblet squat", "felt hard") in card.summary
    state, replies = respond(state, "dm:1", "how heavy should my squats be?", EVENING, plan, [])
    assert [r.kind for r in replies] == ["faq", "message"] and state.stage == "checkin"
    state, [gone] = respond(state, "dm:1", "cancel", EVENING, plan, [])
    assert state is None and gone.text == CHECKIN_CANCELLED


def test_without_a_plan_or_with_a_question_the_intake_and_faq_carry_on(plan):
    """No plan: a report isn't a check-in; with a plan, a question still goes to the FAQ."""
    _, [reply] = respond(None, "dm:1", "how many sets should I do?", EVENING, plan, [])
    assert reply.kind == "faq"
    _, replies = respond(None, "dm:1", "did tuesday, squats easy", EVENING)
    assert all(r.kind != "checkin" for r in replies)


def test_a_checkin_that_does_not_fit_is_refused_with_the_reason(plan):
    """A day without a session, or a session still ahead: a plain message, nothing to confirm."""
    state, [reply] = respond(None, "dm:1", "did wednesday's session", EVENING, plan, [])
    assert state is None and reply.kind == "message" and "no strength session on Wednesday" in reply.text
