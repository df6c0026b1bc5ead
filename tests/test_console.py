"""Tests of the terminal console (bot.console) driven by scripted input, with the real Coach."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

import pytest

from bot.coach import Coach
from bot.config import Settings
from bot.console import CONSOLE_KEY, CONSOLE_USER_ID, run_console
from bot.conversation import Conversation
from bot.storage import Storage

ROOT = Path(__file__).resolve().parent.parent
TODAY = dt.date(2026, 2, 10)
OPENING = "I run 25-30 miles a week, new to lifting, want a faster 10k, long run on Sundays"
TO_PLAN = [OPENING, "tue and thu", "dumbbells", "none", "no", "2", "skip", "yes"]


@pytest.fixture(scope="module")
def coach() -> Coach:
    return Coach.load(Settings())


def script(lines: Iterable[str], eof: type[BaseException] = EOFError):
    feed = iter(lines)

    def read(prompt: str = "") -> str:
        try:
            return next(feed)
        except StopIteration:
            raise eof from None

    return read


def run(coach, lines, **kwargs) -> tuple[int, str]:
    out: list[str] = []
    code = run_console(script(lines, kwargs.pop("eof", EOFError)), out.append, coach=coach, today=TODAY, **kwargs)
    return code, "\n".join(out)


def test_greeting_then_end_of_input_exits_zero(coach):
    """With no input at all, the console greets and exits cleanly with status 0."""
    code, out = run(coach, [])
    assert code == 0
    assert "LegDay" in out.splitlines()[0]


def test_ctrl_c_exits_zero(coach):
    """Ctrl-C at the prompt ends the session with status 0."""
    code, out = run(coach, ["hello"], eof=KeyboardInterrupt)
    assert code == 0
    assert out.endswith("Bye!")


def test_quit_exits_zero(coach):
    """Typing quit ends the session with status 0."""
    code, out = run(coach, ["quit", "this is never read"])
    assert code == 0
    assert out.endswith("Bye!")


def test_question_goes_to_the_faq(coach):
    """A question with no profile facts is answered from the FAQ."""
    _, out = run(coach, ["will squats make me bulky?"])
    expected = coach.faq.answer("will squats make me bulky?").text
    first_words = " ".join(expected.replace("*", "").split()[:4])
    assert first_words in " ".join(out.split())
    assert "**" not in out


def test_smalltalk_gets_the_help_line(coach):
    """A greeting gets a short line on what to say."""
    _, out = run(coach, ["hi"])
    assert "Tell me about your running in a sentence" in out


def test_full_conversation_prints_the_plan(coach):
    """Answering every question and confirming prints the plan's overview and week 1."""
    _, out = run(coach, TO_PLAN)
    assert "Your 4-week leg strength plan" in out
    assert "Week 1 of 4" in out
    assert "27.5 mi" in out


def test_one_question_at_a_time_with_numbered_options(coach):
    """After the opening message, the next question is shown with numbered options."""
    _, out = run(coach, [OPENING])
    assert "Which days are your hard runs" in out
    assert "  2. Tuesday (tue)" in out
    assert "How far do you run" not in out


def test_bad_answer_shows_what_is_accepted_and_stays(coach):
    """An answer that doesn't fit the question gets the accepted choices, then the same question works."""
    _, out = run(coach, ["I run 30km a week", "wizard", "beginner"])
    assert "I couldn't match 'wizard'" in out
    assert "What should strength work help you with?" in out


def test_question_mid_conversation_is_answered_and_the_question_repeated(coach):
    """A FAQ question in the middle of intake is answered, then the pending question is asked again."""
    _, out = run(coach, ["I run 30km a week", "should I lift before or after my run?"])
    assert out.count("How much strength training have you done?") == 2


def test_plan_commands(coach, tmp_path):
    """next, week N, why and save work once the plan is shown."""
    target = tmp_path / "myplan"
    _, out = run(coach, [*TO_PLAN, "next", "week 4", "week 9", "why", f"save {target}"])
    assert "Week 2 of 4" in out
    assert "Week 4 of 4" in out
    assert "Choose a week from 1 to 4" in out
    assert "These rules shaped your plan" in out
    saved = tmp_path / "myplan.md"
    assert saved.read_text(encoding="utf-8").startswith("# Your 4-week leg strength plan")


def test_save_to_an_unwritable_place_is_friendly(coach, tmp_path):
    """Saving into a folder that doesn't exist says so and keeps the session going."""
    _, out = run(coach, [*TO_PLAN, f"save {tmp_path / 'nowhere' / 'plan.md'}", "next"])
    assert "couldn't save" in out
    assert "Week 2 of 4" in out


def test_sharp_pain_withholds_the_plan(coach):
    """Answering yes to sharp pain shows the see-a-professional message instead of sessions."""
    lines = [OPENING, "tue and thu", "dumbbells", "knee", "yes", "2", "skip", "yes"]
    _, out = run(coach, lines)
    assert "physio" in out or "professional" in out
    assert "Week 1 of 4" not in out


def test_profile_saved_and_unfinished_conversation_resumed(coach, tmp_path):
    """With storage, an unfinished conversation survives a restart and the finished profile is saved."""
    with Storage.open(tmp_path, flush_interval=0.1) as storage:
        run(coach, [OPENING, "tue and thu"], storage=storage)
        kept = Conversation.model_validate(storage.conversations.get(CONSOLE_KEY))
        assert kept.fields["hard_days"] == ["tue", "thu"]
    with Storage.open(tmp_path, flush_interval=0.1) as storage:
        _, out = run(coach, ["dumbbells", "none", "no", "2", "skip", "yes"], storage=storage)
        assert "Picking up where we left off" in out
        assert "Week 1 of 4" in out
        profile = storage.profiles.get(CONSOLE_USER_ID)
        assert profile is not None and profile.hard_days == ["tue", "thu"]
        assert storage.conversations.get(CONSOLE_KEY) is None


def test_console_command_runs_without_a_token():
    """`python -m bot console` holds the conversation on piped input and exits 0 at the end."""
    done = subprocess.run(
        [sys.executable, "-m", "bot", "console", "--today", "2026-02-10"],
        input="hello\nwill squats make me bulky?\n", capture_output=True, text=True, cwd=ROOT, timeout=120,
        env={"PATH": "/usr/bin:/bin", "DISCORD_TOKEN": "", "DATA_DIR": os.environ["DATA_DIR"]},
    )
    assert done.returncode == 0, done.stderr
    assert "bulky" in done.stdout.lower()


def test_console_command_keeps_the_plan_between_runs_unless_told_not_to(tmp_path):
    """`python -m bot console` keeps the profile and plan in DATA_DIR, so a later run can check in against
    them (as `make run` is used); `--no-save` keeps nothing."""
    answers = "\n".join([*TO_PLAN, "quit"]) + "\n"

    def console(folder, *flags):
        return subprocess.run(
            [sys.executable, "-m", "bot", "console", "--today", "2026-12-02", *flags], input=answers,
            capture_output=True, text=True, cwd=ROOT, timeout=120,
            env={"PATH": "/usr/bin:/bin", "DISCORD_TOKEN": "", "DATA_DIR": str(folder)})

    done = console(tmp_path / "kept")
    assert done.returncode == 0 and "Week 1 of 4" in done.stdout, done.stdout + done.stderr
    with Storage.open(tmp_path / "kept", backup_count=0) as storage:
        assert storage.plans.latest(CONSOLE_USER_ID) is not None
    done = console(tmp_path / "not-kept", "--no-save")
    assert done.returncode == 0 and "Week 1 of 4" in done.stdout
    assert not (tmp_path / "not-kept").exists() or not any((tmp_path / "not-kept").iterdir())


class _RefusingProfiles:
    def save(self, user_id, profile):
        raise ValueError("the disk is read-only")


class _RefusingStorage:
    profiles = _RefusingProfiles()


def test_storage_failure_still_shows_the_plan(coach):
    """If the profile can't be stored, the runner is told and still gets the plan."""
    _, out = run(coach, TO_PLAN, storage=_RefusingStorage())
    assert "couldn't keep your profile" in out
    assert "Week 1 of 4" in out


def test_terminal_text_has_no_raw_markdown(coach):
    """The whole conversation to the plan is shown as terminal text: no `**` anywhere."""
    _, out = run(coach, [*TO_PLAN, "why"])
    assert "**" not in out
    assert "Weekly mileage:" in out


def test_greeting_says_no_token_is_needed_and_how_to_add_one(coach):
    """A newcomer learns the console runs without a Discord token, and where the token goes."""
    _, out = run(coach, [])
    assert "needs no Discord token" in out
    assert "DISCORD_TOKEN" in out and ".env" in out


def test_console_saves_profile_and_plan(coach, tmp_path):
    """With storage, the console keeps the profile and the plan, like Discord does."""
    with Storage.open(tmp_path, flush_interval=0.1) as storage:
        run(coach, TO_PLAN, storage=storage)
        assert storage.profiles.get(CONSOLE_USER_ID) is not None
        assert storage.plans.latest(CONSOLE_USER_ID) is not None


def test_no_race_answer_is_taken(coach):
    """'no race planned' answers the race question, and the summary says so."""
    lines = [OPENING, "tue and thu", "dumbbells", "none", "no", "2", "no race planned"]
    _, out = run(coach, lines)
    assert "no race planned" in out
    assert "Looks right?" in out


def test_race_distance_is_asked_after_a_race_date(coach):
    """With a race date, the console asks the race's distance next."""
    lines = [OPENING, "tue and thu", "dumbbells", "none", "no", "2", "in 8 weeks"]
    _, out = run(coach, lines)
    assert "How long is that race?" in out
    assert "Half marathon" in out


def _plan_then_later(coach, tmp_path, lines, days=10):
    """Make a plan in one run, then come back `days` later (after its first sessions) and type `lines`."""
    with Storage.open(tmp_path, flush_interval=0.1) as storage:
        run(coach, TO_PLAN, storage=storage)
    with Storage.open(tmp_path, flush_interval=0.1) as storage:
        out: list[str] = []
        run_console(script(lines), out.append, coach=coach, storage=storage, today=TODAY + dt.timedelta(days=days))
        return "\n".join(out), storage.checkins.list(CONSOLE_USER_ID), storage.plans.latest(CONSOLE_USER_ID)


def test_a_typed_checkin_is_confirmed_logged_and_shows_the_changes(coach, tmp_path):
    """Back with a stored plan: a plain report is read, confirmed with `yes`, stored, and its changes listed."""
    text, stored, _ = _plan_then_later(coach, tmp_path, ["squats felt easy last session, 3x8 at 12kg", "yes"])
    assert "Welcome back" in text and "Here's what I read:" in text and "Goblet squat:" in text
    assert "Logged, thanks." in text and "about 12 kg" in text
    [checkin] = stored
    assert checkin["source"] == "chat" and checkin["exercises"][0]["load_kg"] == 12


def test_guided_checkin_asks_one_question_at_a_time(coach, tmp_path):
    """`checkin`: the session, how it went, each exercise (Enter skips), pain and where, lingering, next run."""
    lines = ["checkin", "", "partly", "3x8 @ 12kg hard", "", "", "", "knee 4", "yes", "bad", "yes"]
    text, stored, _ = _plan_then_later(coach, tmp_path, lines)
    assert "Which session?" in text and "How did it go?" in text and "Any pain?" in text
    assert "Was it still there the next morning?" in text and "Log it?" in text
    [checkin] = stored
    assert checkin["status"] == "partly" and checkin["pain"] == 4 and checkin["pain_where"] == "knee"
    assert checkin["lingering"] is True and checkin["next_run"] == "bad" and checkin["source"] == "console"


def test_guided_checkin_refuses_impossible_pain_and_logs_nothing(coach, tmp_path):
    """Pain 15/10 gets the friendly message and nothing is stored."""
    lines = ["checkin", "", "done", "", "", "", "", "15", "no", "", "yes"]
    text, stored, _ = _plan_then_later(coach, tmp_path, lines)
    assert "Pain is 0-10" in text and stored == []


def test_next_block_continues_from_the_checkins(coach, tmp_path):
    """`next block` makes the four weeks after the plan, keeps it, and says what it carried over."""
    text, _, plan = _plan_then_later(coach, tmp_path, ["squats 3x8 at 12kg, easy", "yes", "next block"])
    assert "Your next block starts" in text and "about 12 kg carried over" in text
    assert plan is not None and plan.start == TODAY + dt.timedelta(days=6 + 28)


def test_plan_pages_keep_their_lines(coach):
    """The overview's week lines, each note and each exercise stay on lines of their own in the terminal
    (Markdown would join the lines of a page into one paragraph, a wall of text)."""
    _, out = run(coach, [*TO_PLAN, "why"])
    lines = [line.strip() for line in out.splitlines()]
    assert sum(line.startswith("Week ") and " — " in line for line in lines) == 4
    bullets = [line for line in lines if line.startswith("• ")]
    assert len(bullets) >= 6 and not any(line.count(" • ") for line in lines)
