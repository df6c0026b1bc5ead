"""The terminal front-end: the same intake conversation as Discord, then the plan, with no token needed."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.console import Console, Group, RenderableType
from rich.markdown import Markdown
from rich.table import Table
from rich.text import Text

from bot import conversation
from bot.checkins import load_checkins
from bot.conversation import Conversation, Question, Reply, respond
from bot.intake import classify_message, warm_up
from bot.models import Plan, Profile
from bot.progress import summarise, summary_text  # the `progress` command (with load_checkins)

# The brief asked for user id 0, but storage only accepts Discord-style ids (positive); 1 is no real account.
CONSOLE_USER_ID = 1
CONSOLE_KEY = f"console:{CONSOLE_USER_ID}"

GREETING = (
    "**LegDay**: leg strength plans for runners.",
    "This console needs no Discord token: everything runs here on your machine.",
    "To run LegDay as a Discord bot instead, put `DISCORD_TOKEN=your-token` in a `.env` file (or the "
    "environment) and run `python -m bot run`; see the README's setup section.",
    "Tell me about your running in your own words, for example:",
    '  "I run 30 km a week, new to lifting, want a faster 10k, long run on Sundays"',
    "Ask a question any time (\"will squats make me bulky?\"). Type `quit` to leave.",
)
HELP_LINE = conversation.HELP_LINE
PLAN_HELP = (
    "Type `next` or `week 1`-`week 4` to read a week, `overview`, `why` for the reasons, "
    "`save FILE.md` to save the plan, `new` for a new plan, or `quit`."
)
_QUIT = {"quit", "exit", "q", "bye", ":q"}
_RESTART = {"new", "restart", "start over", "reset"}
# Wide enough for a plan's tables, narrow enough for a laptop terminal.
WIDTH = 100


def terminal_text(renderable: RenderableType, *, colour: bool = False) -> str:
    """A rich renderable (Markdown, a table, styled text) as the terminal shows it: no raw `**`."""
    buffer = io.StringIO()
    Console(file=buffer, width=WIDTH, force_terminal=colour, color_system="standard" if colour else None,
            highlight=False, emoji=False, soft_wrap=False).print(renderable)
    # rich pads each line to the width; a script reading the text wants the words only.
    return "\n".join(line.rstrip() for line in buffer.getvalue().rstrip("\n").split("\n"))


def markdown(text: str) -> RenderableType:
    """The core's light markdown (**bold**, `code`, lists, headings) as terminal text, lines kept as written."""
    # Markdown joins single line breaks into one paragraph; each of our lines is meant as a line.
    return Group(*(Markdown(line, hyperlinks=False) if line.strip() else Text("") for line in text.split("\n")))


class _Session:
    """One terminal session: the conversation in progress, then the plan being read."""

    def __init__(self, output: Callable[[RenderableType], Any], coach: Any, storage: Any,
                 today: dt.date | None) -> None:
        self.show = output
        self.coach = coach
        self.storage = storage
        self.today = today
        self.conversation: Conversation | None = None
        self.profile: Profile | None = None
        self.plan: Plan | None = None
        self.week = 1

    def say(self, text: str | RenderableType) -> None:
        """Show core text (light markdown) or a rich renderable."""
        self.show(markdown(text) if isinstance(text, str) else text)

    def say_doc(self, text: str) -> None:
        """Show a whole Markdown document (a plan page, the reasons) with its lists and tables."""
        self.show(Markdown(text, hyperlinks=False))

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
        self.say(summary_table(conversation.summary_rows()))
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

    def show_question(self, question: Question, lead: str = "") -> None:
        lines = Text()
        for number, option in enumerate(question.options, start=1):
            same = option.label.lower() == option.value.lower()
            lines.append(f"  {number}. {option.label}" + ("" if same else f" ({option.value})") + "\n")
        hint = ""
        if question.options:
            hint = ("Type the number or the words" + (", several if you like" if question.multi else "")
                    + ("; `skip` to skip." if question.optional else "."))
        elif question.optional:
            hint = "Or type `skip`."
        parts: list[RenderableType] = [markdown(lead)] if lead else []
        parts.append(markdown(f"**{question.prompt}**"))
        if question.options:
            lines.rstrip()
            parts.append(lines)
        if hint:
            parts.append(markdown(hint))
        self.show(Group(*parts))

    def prompt(self) -> None:
        """Say what the conversation needs next: a question, or the summary to confirm."""
        if self.conversation is not None:
            self.render(conversation.step(self.conversation))

    def render(self, reply: Reply) -> None:
        """Show one of the core's replies; `done` saves the profile and plan and shows it."""
        match reply.kind:
            case "question" if reply.question is not None:
                self.show_question(reply.question, reply.lead)
            case "confirm":
                if reply.lead:
                    self.say(reply.lead)
                self.say("Here's what I have:")
                self.show(summary_table(reply.summary))
                self.say("Looks right? Type `yes`, or `change` and what to change (like `change mileage`).")
            case "faq":
                if reply.lead:
                    self.say(reply.lead)
                self.answer_question(reply.asked or "")
            case "done" if reply.profile is not None:
                self.deliver(reply.profile)
            case _:
                self.say(f"{reply.lead}\n{HELP_LINE}".strip())

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
        else:
            self.conversation, replies = respond(self.conversation, CONSOLE_KEY, text, self.now())
            for reply in replies:
                self.render(reply)
        self.keep()

    def deliver(self, profile: Profile) -> None:
        self.profile = profile
        self.conversation = None
        start = self.today + dt.timedelta(days=1) if self.today is not None else None
        self.plan = self.coach.plan(profile, start)
        if self.storage is not None:
            # Kept like the Discord front-end keeps them: the profile and the plan made from it.
            try:
                self.storage.profiles.save(CONSOLE_USER_ID, profile)
                self.storage.plans.save(CONSOLE_USER_ID, self.plan)
            except (ValueError, OSError, AttributeError) as exc:  # the plan matters more than keeping it
                self.say(f"I couldn't keep your profile ({exc}), but here is your plan.")
        self.week = 1
        renderer = self.coach.renderer
        if self.plan.withheld:
            self.say_doc(renderer.markdown(self.plan))
            self.say("Type `new` to start again, ask a question, or `quit`.")
            return
        self.say_doc(renderer.overview_text(self.plan))
        self.show_week(1)
        self.say(PLAN_HELP)

    def show_week(self, week: int) -> None:
        plan = self.plan
        assert plan is not None
        self.week = week
        data = plan.weeks[week - 1]
        self.say(f"**Week {week} of {len(plan.weeks)} · {data.label}**")
        self.show(Markdown(self.coach.renderer.week_text(plan, week), hyperlinks=False))

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
            self.say_doc(renderer.overview_text(plan) if weeks else renderer.markdown(plan))
        elif command == "why":
            self.say_doc(renderer.why_text(plan))
        elif command == "save":
            self.save(rest.strip())
        elif command == "progress":
            self.show_progress()
        elif command in ("help", "?"):
            self.say(PLAN_HELP)
        elif classify_message(text) == "question":
            self.answer_question(text)
        else:
            self.say("I didn't understand that. " + PLAN_HELP)

    def show_progress(self) -> None:
        """The `progress` command: the block so far from the stored check-ins, as /progress words it."""
        repo = getattr(self.storage, "checkins", None)
        stored = repo.list(CONSOLE_USER_ID) if repo is not None else []
        self.say(summary_text(summarise(self.plan, load_checkins(stored), self.now().date())))

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


def summary_table(rows: list[tuple[str, str]]) -> Table:
    """What the conversation has read, as a two-column table."""
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold")
    table.add_column()
    for label, value in rows:
        table.add_row(f"{label}:", value)
    return table


def run_console(
    input_fn: Callable[..., str] = input,
    output_fn: Callable[[str], Any] | None = None,
    coach: Any = None,
    storage: Any = None,
    today: dt.date | None = None,
) -> int:
    """Hold the intake conversation in the terminal, then show the plan; 0 on quit or end of input.

    Text is rendered by rich (bold, lists, tables; no raw markdown). `output_fn` receives each block as
    plain terminal text instead of printing it, for scripts and tests.
    """
    if output_fn is None:
        show: Callable[[RenderableType], Any] = Console(highlight=False, emoji=False).print
    else:
        def show(renderable: RenderableType) -> None:
            output_fn(terminal_text(renderable))
    if coach is None:
        from bot.coach import Coach
        from bot.config import get_settings

        try:
            coach = Coach.load(get_settings())
        except Exception as exc:  # a broken rules folder gets one readable line, not a traceback
            show(Text(f"LegDay couldn't load its rules and templates: {exc}"))
            return 1
    warm_up()
    session = _Session(show, coach, storage, today)
    show(markdown("\n".join(GREETING)))
    session.resume()
    while True:
        try:
            line = input_fn("> ")
        except (EOFError, KeyboardInterrupt):
            show(Text("Bye!"))
            return 0
        text = str(line or "").strip()
        if not text:
            continue
        if text.lower() in _QUIT:
            show(Text("Bye!"))
            return 0
        session.handle(text)
