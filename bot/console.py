"""The terminal front-end: the same intake conversation as Discord, then the plan, with no token needed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bot.conversation import Conversation, Question
from bot.intake import classify_message
from bot.models import Plan, Profile

# The brief asked for user id 0, but storage only accepts Discord-style ids (positive); 1 is no real account.
CONSOLE_USER_ID = 1
CONSOLE_KEY = f"console:{CONSOLE_USER_ID}"

GREETING = (
    "LegDay: leg strength plans for runners.",
    "Tell me about your running in your own words, for example:",
    '  "I run 30 km a week, new to lifting, want a faster 10k, long run on Sundays"',
    "Ask a question any time (\"will squats make me bulky?\"). Type `quit` to leave.",
)
HELP_LINE = (
    "Tell me about your running (weekly distance, lifting experience, goals) and I'll build a 4-week "
    "leg strength plan, or ask me a question about strength work for runners."
)
PLAN_HELP = (
    "Type `next` or `week 1`-`week 4` to read a week, `overview`, `why` for the reasons, "
    "`save FILE.md` to save the plan, `new` for a new plan, or `quit`."
)
_QUIT = {"quit", "exit", "q", "bye", ":q"}
_RESTART = {"new", "restart", "start over", "reset"}


class _Session:
    """One terminal session: the conversation in progress, then the plan being read."""

    def __init__(self, output: Callable[[str], Any], coach: Any, storage: Any, today: dt.date | None) -> None:
        self.say = output
        self.coach = coach
        self.storage = storage
        self.today = today
        self.conversation: Conversation | None = None
        self.profile: Profile | None = None
        self.plan: Plan | None = None
        self.week = 1

    def now(self) -> dt.datetime:
        if self.today is not None:
            return dt.datetime.combine(self.today, dt.time(9, 0), tzinfo=dt.UTC)
        return dt.datetime.now(dt.UTC)

    # ------------------------------------------------------------------ storage

    def resume(self) -> None:
        """Pick up a conversation left in storage by an earlier run, unless it has expired."""
        repo = getattr(self.storage, "conversations", None)
        state = repo.get(CONSOLE_KEY) if repo is not None else None
        if not state:
            return
        try:
            conversation = Conversation.model_validate(state)
        except ValueError:
            repo.delete(CONSOLE_KEY)
            return
        if conversation.is_expired(self.now()) or conversation.stage == "done":
            repo.delete(CONSOLE_KEY)
            return
        self.conversation = conversation
        self.say("Picking up where we left off. So far I have:")
        self.say(conversation.summary())
        self.prompt()

    def keep(self) -> None:
        repo = getattr(self.storage, "conversations", None)
        if repo is None:
            return
        try:
            self._keep(repo)
        except (ValueError, OSError) as exc:
            self.say(f"I couldn't keep this conversation for next time: {exc}")

    def _keep(self, repo: Any) -> None:
        if self.conversation is None or self.conversation.stage == "done":
            repo.delete(CONSOLE_KEY)
        else:
            repo.save(CONSOLE_KEY, self.conversation.model_dump(mode="json"))

    # ------------------------------------------------------------------ showing

    def show_question(self, question: Question) -> None:
        lines = [question.prompt]
        for number, option in enumerate(question.options, start=1):
            same = option.label.lower() == option.value.lower()
            lines.append(f"  {number}. {option.label}" + ("" if same else f" (`{option.value}`)"))
        if question.options:
            lines.append("Type the number or the words" + (", several if you like" if question.multi else "")
                         + ("; `skip` to skip." if question.optional else "."))
        elif question.optional:
            lines.append("Or type `skip`.")
        self.say("\n".join(lines))

    def prompt(self) -> None:
        """Say what the conversation needs next: a question, or the summary to confirm."""
        conversation = self.conversation
        if conversation is None:
            return
        question = conversation.next_question()
        if question is not None:
            self.show_question(question)
        elif conversation.stage == "confirming":
            self.say("Here's what I have:\n" + conversation.summary())
            self.say("Looks right? Type `yes`, or `change` and what to change (like `change mileage`).")

    def answer_question(self, text: str) -> None:
        try:
            faq = self.coach.faq
        except Exception as exc:  # a broken FAQ file must not end the session
            self.say(f"I can't answer questions right now: {exc}")
            return
        self.say(faq.answer(text, self.profile).text)

    # ------------------------------------------------------------------ turns

    def handle(self, text: str) -> None:
        if self.plan is not None:
            self.handle_plan(text)
        elif self.conversation is None:
            self.handle_opening(text)
        else:
            self.handle_answer(text)
        self.keep()

    def handle_opening(self, text: str) -> None:
        kind = classify_message(text)
        if kind == "question":
            self.answer_question(text)
            return
        if kind == "smalltalk":
            self.say(HELP_LINE)
            return
        self.conversation = Conversation.start(CONSOLE_KEY, text, self.now())
        for note in self.conversation.notes:
            self.say(note)
        found = [name for name in self.conversation.fields if name != "unit"]
        if found:
            self.say("Thanks! I read:\n" + self.conversation.summary())
        self.after_answer()

    def handle_answer(self, text: str) -> None:
        conversation = self.conversation
        assert conversation is not None
        if text.lower() in _RESTART:
            self.conversation = None
            self.say("Starting over. " + HELP_LINE)
            return
        error = conversation.answer(text, self.now())
        if error is not None:
            if classify_message(text) == "question":
                self.answer_question(text)
                self.prompt()
            else:
                self.say(error)
            return
        self.after_answer()

    def after_answer(self) -> None:
        conversation = self.conversation
        assert conversation is not None
        if conversation.stage == "done":
            self.deliver(conversation.to_profile())
        else:
            self.prompt()

    def deliver(self, profile: Profile) -> None:
        self.profile = profile
        self.conversation = None
        if self.storage is not None:
            try:
                self.storage.profiles.save(CONSOLE_USER_ID, profile)
            except (ValueError, OSError) as exc:  # the plan still matters more than keeping the profile
                self.say(f"I couldn't keep your profile ({exc}), but here is your plan.")
        start = self.today + dt.timedelta(days=1) if self.today is not None else None
        self.plan = self.coach.plan(profile, start)
        self.week = 1
        renderer = self.coach.renderer
        if self.plan.withheld:
            self.say(renderer.markdown(self.plan))
            self.say("Type `new` to start again, ask a question, or `quit`.")
            return
        self.say(renderer.overview_text(self.plan))
        self.show_week(1)
        self.say(PLAN_HELP)

    def show_week(self, week: int) -> None:
        plan = self.plan
        assert plan is not None
        self.week = week
        data = plan.weeks[week - 1]
        self.say(f"**Week {week} of {len(plan.weeks)} · {data.label}**\n" + self.coach.renderer.week_text(plan, week))

    def handle_plan(self, text: str) -> None:
        plan = self.plan
        assert plan is not None
        renderer = self.coach.renderer
        command, _, rest = text.strip().partition(" ")
        command = command.lower()
        weeks = len(plan.weeks)
        if text.lower() in _RESTART:
            self.plan = None
            self.say("Let's make a new plan. " + HELP_LINE)
        elif command in ("next", "n", "prev", "previous", "back") and weeks:
            step = 1 if command in ("next", "n") else -1
            if not 1 <= self.week + step <= weeks:
                self.say(f"That's the {'last' if step > 0 else 'first'} week. " + PLAN_HELP)
                return
            self.show_week(self.week + step)
        elif command == "week" and weeks:
            if not rest.strip().isdigit() or not 1 <= int(rest) <= weeks:
                self.say(f"Choose a week from 1 to {weeks}, like `week 2`.")
                return
            self.show_week(int(rest))
        elif command == "overview":
            self.say(renderer.overview_text(plan) if weeks else renderer.markdown(plan))
        elif command == "why":
            self.say(renderer.why_text(plan))
        elif command == "save":
            self.save(rest.strip())
        elif command in ("help", "?"):
            self.say(PLAN_HELP)
        elif classify_message(text) == "question":
            self.answer_question(text)
        else:
            self.say("I didn't understand that. " + PLAN_HELP)

    def save(self, name: str) -> None:
        if not name:
            self.say("Give a file name, like `save plan.md`.")
            return
        path = Path(name).expanduser()
        if path.suffix.lower() != ".md":
            path = path.with_name(path.name + ".md")
        try:
            path.write_text(self.coach.renderer.markdown(self.plan), encoding="utf-8")
        except OSError as exc:
            self.say(f"I couldn't save to {path}: {exc.strerror or exc}. Try another file name.")
            return
        self.say(f"Saved your plan to {path}.")


def run_console(
    input_fn: Callable[..., str] = input,
    output_fn: Callable[[str], Any] = print,
    coach: Any = None,
    storage: Any = None,
    today: dt.date | None = None,
) -> int:
    """Hold the intake conversation in the terminal, then show the plan; 0 on quit or end of input."""
    if coach is None:
        from bot.coach import Coach
        from bot.config import get_settings

        try:
            coach = Coach.load(get_settings())
        except Exception as exc:  # a broken rules folder gets one readable line, not a traceback
            output_fn(f"LegDay couldn't load its rules and templates: {exc}")
            return 1
    session = _Session(output_fn, coach, storage, today)
    output_fn("\n".join(GREETING))
    session.resume()
    while True:
        try:
            line = input_fn("> ")
        except (EOFError, KeyboardInterrupt):
            output_fn("Bye!")
            return 0
        text = str(line or "").strip()
        if not text:
            continue
        if text.lower() in _QUIT:
            output_fn("Bye!")
            return 0
        session.handle(text)
