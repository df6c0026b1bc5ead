"""The terminal front-end: the same intake conversation as Discord, then the plan, with no token needed."""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.console import Console, Group, RenderableType
from rich.markdown import Markdown
from rich.table import Table
from rich.text import Text

from bot import conversation
from bot.adapt import adapt, next_block
from bot.checkin_reader import CheckinReading, ExerciseRead, read_checkin
from bot.checkins import CheckIn, CheckInError, load_checkins, make_checkin
from bot.conversation import Conversation, Question, Reply, log_checkin, respond
from bot.intake import classify_message, read_niggles, read_sharp_pain, warm_up
from bot.models import Plan, Profile
from bot.progress import summarise, summary_text  # the `progress` command (with load_checkins)

# The brief asked for user id 0, but storage only accepts Discord-style ids (positive); 1 is no real account.
CONSOLE_USER_ID = 1
CONSOLE_KEY = f"console:{CONSOLE_USER_ID}"

GREETING = (
    "**LegDay**: leg strength plans for runners.",
    "This console needs no Discord token: everything runs here on your machine.",
    "To run LegDay as a Discord bot instead, put `DISCORD_TOKEN=your-token` in a `.env` file (or the "
    "environment) and run `python -m bot run`; see 'Hosting on Discord' in README.md.",
    "Tell me about your running in your own words, for example:",
    '  "I run 30 km a week, new to lifting, want a faster 10k, long run on Sundays"',
    "Ask a question any time (\"will squats make me bulky?\"). Type `quit` to leave.",
)
HELP_LINE = conversation.HELP_LINE
PLAN_HELP = (
    "Type `next` or `week 1`-`week 4` to read a week, `overview`, `why` for the reasons, "
    "`checkin` to log a session (or just tell me how it went), `progress` for the block so far, "
    "`next block` for the four weeks after, "
    "`save FILE.md` to save the plan, `new` for a new plan, or `quit`."
)
GUIDED_STEPS = ("session", "status", "exercises", "pain", "lingering", "next_run", "confirm")
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
        self.plan: Plan | None = None  # the plan as made; what is shown is adapted to the check-ins
        self.checkins: list[CheckIn] = []
        self.guided: dict[str, Any] | None = None  # the guided check-in in progress
        self.week = 1

    def say(self, text: str | RenderableType) -> None:
        """Show core text (light markdown) or a rich renderable."""
        self.show(markdown(text) if isinstance(text, str) else text)

    def say_doc(self, text: str) -> None:
        """Show a whole Markdown document (the plan's Markdown export) with its headings and lists."""
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
            self.resume_plan()
            return
        try:
            conversation = Conversation.model_validate(state)
        except ValueError:
            repo.delete(CONSOLE_KEY)
            return
        if conversation.is_expired(self.now()) or conversation.stage in ("done", "checkin"):
            repo.delete(CONSOLE_KEY)
            self.resume_plan()
            return
        self.conversation = conversation
        self.say("Picking up where we left off. So far I have:")
        self.say(summary_table(conversation.summary_rows()))
        self.prompt()

    def resume_plan(self) -> None:
        """Pick up the plan an earlier run made, with its check-ins, so sessions can be logged against it."""
        try:
            plan = self.storage.plans.latest(CONSOLE_USER_ID) if self.storage is not None else None
            stored = self.storage.checkins.list(CONSOLE_USER_ID) if plan is not None else []
        except (AttributeError, ValueError, OSError):
            return
        if plan is None or plan.withheld:
            return
        self.plan, self.checkins = plan, load_checkins(stored)
        self.say(f"Welcome back: your plan started on {plan.start:%a %d %b %Y}. Tell me how a session went, or "
                 "type `checkin`. " + PLAN_HELP)

    def current(self) -> Plan:
        """The plan as the member follows it today: adapted to their check-ins."""
        assert self.plan is not None
        return adapt(self.plan, self.checkins, self.now().date())

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
            case "checkin":
                if reply.lead:
                    self.say(reply.lead)
                self.say("Here's what I read:")
                self.show(summary_table(reply.summary))
                self.say(conversation.CHECKIN_CONFIRM)
            case "logged":
                self.logged(reply)
            case "message":
                self.say(reply.lead)
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
        if self.guided is not None:
            self.guided_answer(text)
        elif self.plan is not None and self.conversation is not None and self.conversation.stage == "checkin":
            self.chat_checkin(text)
        elif self.plan is not None:
            self.handle_plan(text)
        else:
            self.conversation, replies = respond(self.conversation, CONSOLE_KEY, text, self.now())
            for reply in replies:
                self.render(reply)
        self.keep()

    def chat_checkin(self, text: str) -> None:
        """A report typed in plain words, read and confirmed by the same conversation as in Discord."""
        self.conversation, replies = respond(self.conversation, CONSOLE_KEY, text, self.now(), self.plan,
                                             self.checkins)
        for reply in replies:
            self.render(reply)

    def logged(self, reply: Reply) -> None:
        """Keep a confirmed check-in and show what it changed in the plan."""
        assert reply.checkin is not None
        self.checkins.append(CheckIn.model_validate(reply.checkin))
        if self.storage is not None:
            try:
                self.storage.checkins.add(CONSOLE_USER_ID, reply.checkin)
            except (ValueError, OSError, AttributeError) as exc:
                self.say(f"I couldn't keep this check-in for next time ({exc}).")
        self.say(reply.text)

    # ------------------------------------------------------------------ guided check-in

    def start_guided(self) -> None:
        """`checkin`: a few questions, one at a time, about the latest session (or one picked)."""
        plan = self.plan
        assert plan is not None
        today = self.now().date()
        past = [s for w in plan.weeks for s in w.sessions if s.date <= today][-4:]
        if not past:
            first = min((s.date for w in plan.weeks for s in w.sessions), default=None)
            when = f" The first is on {first:%A %d %B}." if first else ""
            self.say("None of your plan's sessions has come round yet, so there is nothing to check in." + when)
            return
        self.guided = {"step": "session", "past": [s.date.isoformat() for s in past], "fields": {}, "logs": [],
                       "exercise": 0}
        lines = [f"  {n}. {s.date:%a %d %b}: {s.focus}" for n, s in enumerate(past, start=1)]
        self.say("**Which session?** Press Enter for the latest, or type its number.\n" + "\n".join(lines))

    def guided_answer(self, text: str) -> None:
        """The answer to the guided check-in's current question; `cancel` stops it."""
        state = self.guided
        assert state is not None and self.plan is not None
        answer = text.strip().lower()
        if answer in ("cancel", "stop", "quit check-in"):
            self.guided = None
            self.say("Check-in cancelled; nothing logged.")
            return
        step = state["step"]
        fields = state["fields"]
        past = [dt.date.fromisoformat(day) for day in state["past"]]
        session = next(s for w in self.plan.weeks for s in w.sessions
                       if s.date == (fields.get("session") or past[-1]))
        if step == "session":
            if answer in ("", "latest") or (answer.isdigit() and 1 <= int(answer) <= len(past)):
                fields["session"] = past[int(answer) - 1] if answer.isdigit() else past[-1]
                return self.ask("status", "**How did it go?** `done`, `partly` or `skipped`.")
            return self.say(f"Type a number from 1 to {len(past)}, or press Enter for the latest.")
        if step == "status":
            status = {"d": "done", "done": "done", "p": "partly", "partly": "partly", "s": "skipped",
                      "skipped": "skipped"}.get(answer)
            if status is None:
                return self.say("Type `done`, `partly` or `skipped`.")
            fields["status"] = status
            if status == "skipped":
                return self.ask("confirm", self.guided_summary())
            return self.ask_exercise(session)
        if step == "exercises":
            item = session.exercises[state["exercise"]]
            if answer:
                reading = read_checkin(f"{item.name}: {text}", self.now().date())
                found = next((e for e in reading.exercises if e.exercise == item.id), None)
                if found is None or not any(v is not None for k, v in found.model_dump().items() if k != "exercise"):
                    return self.say("I couldn't read that. Try like `3x8 @ 16kg easy`, `hard`, `missed reps`, "
                                    "`pain 4`, or press Enter to skip this one.")
                state["logs"].append(found.model_dump(exclude_none=True))
            state["exercise"] += 1
            if state["exercise"] < len(session.exercises):
                return self.ask_exercise(session)
            return self.ask("pain", "**Any pain?** Give it 0-10 and where, like `knee 3`, or press Enter for none.")
        if step == "pain":
            if answer:
                number = re.search(r"\b(\d{1,3})\b", answer)
                where = (read_niggles(f"{answer} pain") or [None])[0]  # the profile reader's body parts
                sharp = bool(read_sharp_pain(answer))
                if number is None and where is None and not sharp:
                    return self.say("Give pain as 0-10 and where, like `knee 3` (10 is the worst), or press Enter.")
                fields.update(pain=int(number.group(1)) if number else None, pain_where=where, sharp=sharp)
                if fields["pain"]:
                    return self.ask("lingering", "**Was it still there the next morning?** `yes` or `no`.")
            return self.ask("next_run", "**How did your next run feel?** `good`, `ok`, `bad`, or Enter to skip.")
        if step == "lingering":
            if answer not in ("yes", "y", "no", "n"):
                return self.say("Type `yes` or `no`.")
            fields["lingering"] = answer.startswith("y")
            return self.ask("next_run", "**How did your next run feel?** `good`, `ok`, `bad`, or Enter to skip.")
        if step == "next_run":
            if answer and answer not in ("good", "ok", "bad"):
                return self.say("Type `good`, `ok` or `bad`, or press Enter to skip.")
            fields["next_run"] = answer or None
            return self.ask("confirm", self.guided_summary())
        if step == "confirm":
            if answer in ("yes", "y", "looks right", "ok"):
                self.guided = None
                try:
                    checkin = make_checkin(self.plan, self.now(), exercises=state["logs"], source="console",
                                           **{k: v for k, v in fields.items() if v is not None})
                except CheckInError as exc:
                    return self.say(f"{exc} Nothing logged; type `checkin` to try again.")
                return self.logged(log_checkin(checkin, self.plan, self.checkins, self.now()))
            return self.say("Type `yes` to log it, or `cancel`.")
        return None

    def ask(self, step: str, question: str) -> None:
        assert self.guided is not None
        self.guided["step"] = step
        self.say(question)

    def ask_exercise(self, session: Any) -> None:
        assert self.guided is not None
        item = session.exercises[self.guided["exercise"]]
        self.ask("exercises", f"**{item.name}** ({item.sets} x {item.reps}): how did it go? Like `3x8 @ 16kg easy`, "
                 "`hard`, `missed reps`, `pain 4`; Enter to skip.")

    def guided_summary(self) -> str:
        assert self.guided is not None and self.plan is not None
        fields, logs = self.guided["fields"], self.guided["logs"]
        reading = CheckinReading(kind="checkin", day=fields["session"], exercises=[ExerciseRead(**log) for log in logs],
                                 **{k: v for k, v in fields.items() if k != "session" and v is not None})
        rows = reading.rows(self.plan, self.now().date())
        return "\n".join([*(f"**{label}:** {value}" for label, value in rows), "Log it? `yes` or `cancel`."])

    def show_next_block(self) -> None:
        """`next block`: the four weeks after this plan, continued from the check-ins; it becomes the plan."""
        assert self.plan is not None
        start = self.plan.start + dt.timedelta(days=28)
        block = next_block(self.plan, self.checkins, self.coach, start)
        self.plan, self.checkins, self.week = block, [], 1
        if self.storage is not None:
            try:
                self.storage.plans.save(CONSOLE_USER_ID, block)
            except (ValueError, OSError, AttributeError) as exc:
                self.say(f"I couldn't keep the new block ({exc}), but here it is.")
        changes = [c for e in block.trace if e.rule_id.startswith("check-in") for c in e.changes]
        self.say(f"**Your next block starts {start:%a %d %b}.**" + "".join(f"\n- {c}" for c in changes))
        if block.withheld:
            self.say_doc(self.coach.renderer.markdown(block))
            return
        self.say(self.coach.renderer.overview_text(block))
        self.show_week(1)

    def deliver(self, profile: Profile) -> None:
        self.profile = profile
        self.conversation = None
        self.checkins = []
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
        self.say(renderer.overview_text(self.plan))
        self.show_week(1)
        self.say(PLAN_HELP)

    def show_week(self, week: int) -> None:
        plan = self.current()
        self.week = week
        data = plan.weeks[week - 1]
        self.say(f"**Week {week} of {len(plan.weeks)} · {data.label}**")
        self.say(self.coach.renderer.week_text(plan, week))

    def handle_plan(self, text: str) -> None:
        plan = self.current()
        renderer = self.coach.renderer
        command, _, rest = text.strip().partition(" ")
        command = command.lower()
        weeks = len(plan.weeks)
        if text.lower() in _RESTART:
            self.plan = None
            self.say("Let's make a new plan. " + HELP_LINE)
        elif text.strip().lower() in ("next block", "next-block", "nextblock"):
            self.show_next_block()
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
        elif command == "overview" and weeks:
            self.say(renderer.overview_text(plan))
        elif command == "overview":
            self.say_doc(renderer.markdown(plan))
        elif command == "why":
            self.say(renderer.why_text(plan))
        elif command == "save":
            self.save(rest.strip())
        elif command == "progress":
            self.show_progress()
        elif command in ("help", "?"):
            self.say(PLAN_HELP)
        elif text.strip().lower() in ("checkin", "check-in", "check in", "log"):
            self.start_guided()
        elif read_checkin(text, self.now().date()).kind == "checkin":
            self.chat_checkin(text)
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
            path.write_text(self.coach.renderer.markdown(self.current()), encoding="utf-8")
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
        if not text and session.guided is None:  # in a guided check-in, Enter means "skip" or "the latest"
            continue
        if text.lower() in _QUIT:
            show(Text("Bye!"))
            return 0
        session.handle(text)
