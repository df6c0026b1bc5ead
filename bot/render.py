"""Rendering plans through the Jinja templates in templates/: Discord pages, Markdown, the why-trace, .ics."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from pathlib import Path
from types import BuiltinMethodType
from typing import Any

import icalendar
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from jinja2.runtime import Context

from bot.models import DAY_NAMES, DAYS, Plan
from bot.text import (
    EMBED_DESCRIPTION_LIMIT,
    EMBED_TITLE_LIMIT,
    escape_user_text,
    neutralise_mentions,
    truncate,
)

COLOURS = {"plan": 0x2E86DE, "week": 0x27AE60, "why": 0x8E44AD, "withheld": 0xE67E22}
PROGRESSION_TEXT = {
    "maintain": "steady maintenance while your running takes priority",
    "hold": "steady, with no load increases",
    "none": "no plan yet",
}


def progression_text(plan: Plan) -> str:
    """The block's shape as its weeks really are (COACHING.md 27): their labels, or the pattern's words."""
    if plan.progression in PROGRESSION_TEXT and plan.progression != "none" and all(
            w.label in ("Maintain", "Steady", "Ease off", "Deload") for w in plan.weeks):
        return PROGRESSION_TEXT[plan.progression]
    return ", ".join(w.label.lower() for w in plan.weeks) or PROGRESSION_TEXT["none"]


def sessions_text(plan: Plan) -> str:
    """How many strength sessions a week the weeks really hold (COACHING.md 27), e.g. 'up to 2 strength sessions'."""
    counts = [len(w.sessions) for w in plan.weeks] or [plan.sessions_per_week]
    most = max(counts)
    return f"{'up to ' if len(set(counts)) > 1 else ''}{most} strength session{'s' if most != 1 else ''}"


MAX_OVERVIEW_NOTES = 4
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _dayname(value: Any) -> str:
    if isinstance(value, dt.date):
        return DAY_NAMES[DAYS[value.weekday()]][:3]
    return DAY_NAMES.get(str(value), str(value))


def _dose(ex: Any) -> str:
    unit = {"seconds": " s", "metres": " m"}.get(ex.unit, "")
    return f"{ex.sets} × {ex.reps}{unit}{' per side' if ex.per_side else ''}"


def _itemlist(items: list[Any]) -> str:
    return ", ".join(f"{item.name} ({item.dose})" for item in items)


class PlanContext(Context):
    """Jinja's template context, calling a built-in method (`c.startswith("note: ")`) straight away.

    Jinja checks every call for a callable that wants the context passed in; a built-in method never
    does (it can't carry the marker), so skipping the checks gives the same result, several times faster.
    """

    def call(__self, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        """Call `__obj` as Jinja would (same result, same names as its Context.call)."""
        if type(__obj) is BuiltinMethodType and not kwargs:
            try:
                return __obj(*args)
            except StopIteration:  # as Jinja does
                return __self.environment.undefined("value was undefined because a callable raised a "
                                                    "StopIteration exception")
        return super().call(__obj, *args, **kwargs)


def _line_key(ex: Any) -> tuple:
    """Everything templates/exercise.md.j2 shows of a prescription: the key of its cached line.

    A calm tempo or a cue for the runner's kit makes the same exercise, sets and reps a different line.
    """
    return (ex.id, ex.name, ex.sets, ex.reps, ex.per_side, ex.unit, ex.effort, ex.tempo, ex.rest_seconds, ex.load,
            ex.cue)


def make_environment(templates_dir: Path) -> Environment:
    """The Jinja environment for plan text: strict, Markdown out, `user` to escape people's text.

    These templates are the project's own files and only ever receive data, so they don't need the
    sandbox (which costs ~4x here); text people write - rule conditions, FAQ answers - is sandboxed.
    """
    env = Environment(loader=FileSystemLoader(str(templates_dir)), undefined=StrictUndefined,
                               trim_blocks=False, lstrip_blocks=False, keep_trailing_newline=False,
                               autoescape=False)
    env.context_class = PlanContext
    env.filters["user"] = escape_user_text
    env.filters["dayname"] = _dayname
    env.filters["dose"] = _dose
    env.filters["itemlist"] = _itemlist
    env.filters["shortdate"] = lambda d: f"{d.day} {MONTHS[d.month - 1]}"  # strftime is ~10x slower
    env.filters["longdate"] = lambda d: f"{d.day} {d:%B %Y}"
    return env


_TRAILING_SPACE = re.compile(r"[ \t]+$", re.MULTILINE)
_BLANK_RUN = re.compile(r"\n{3,}")


def _tidy(text: str) -> str:
    """Collapse the blank lines template logic leaves behind, and make any stray mention inert."""
    text = text.strip()
    # Substring checks are far cheaper than a regex pass, and most pages need neither fix.
    if " \n" in text or "\t\n" in text:
        text = _TRAILING_SPACE.sub("", text)
    if "\n\n\n" in text:
        text = _BLANK_RUN.sub("\n\n", text)
    return neutralise_mentions(text)


class Renderer:
    """Turns a Plan into what members see. Templates are compiled once and reused."""

    def __init__(self, templates_dir: Path) -> None:
        self.env = make_environment(templates_dir)
        # Exercise lines repeat across weeks and runners (prescriptions are shared), so each distinct
        # line is rendered through its template once; the layout still lives in exercise.md.j2.
        self._lines: dict[tuple, str] = {}
        self.env.filters["exercise_line"] = self._exercise_line
        # Likewise a session's body (about 90% of bodies repeat across runners); its header, with the
        # date and focus, is rendered per plan in week.md.j2.
        self._bodies: dict[tuple, str] = {}
        self.env.filters["session_body"] = self._session_body
        # Rule descriptions, trace changes, notes and warnings repeat across plans: each distinct text is
        # escaped once (three regex passes) and then reused.
        self._escaped: dict[str, str] = {}
        self.env.filters["user"] = self._user
        self._templates = {name: self.env.get_template(name) for name in
                           ("week.md.j2", "overview.md.j2", "why.md.j2", "plan.md.j2", "withheld.md.j2",
                            "exercise.md.j2", "session.md.j2")}
        # Each template's globals (Jinja's `namespace`, `range`...) as one plain dict, copied once: Jinja's
        # own render merges its layered globals afresh for every call, a good part of a small page's time.
        self._globals = {name: dict(template.globals) for name, template in self._templates.items()}

    def _exercise_line(self, ex: Any, cues: bool) -> str:
        key = (_line_key(ex), cues)
        line = self._lines.get(key)
        if line is None:
            if len(self._lines) > 50_000:
                self._lines.clear()
            line = self._lines[key] = self._fill("exercise.md.j2", {"ex": ex, "cues": cues})
        return line

    def _user(self, text: Any) -> str:
        if type(text) is not str:
            return escape_user_text(text)
        escaped = self._escaped.get(text)
        if escaped is None:
            if len(self._escaped) > 20_000:
                self._escaped.clear()
            escaped = self._escaped[text] = escape_user_text(text)
        return escaped

    def _session_body(self, session: Any, cues: bool) -> str:
        key = (tuple(_line_key(e) for e in session.exercises),
               tuple(item.id for item in session.warm_up), tuple(item.id for item in session.cool_down), cues)
        body = self._bodies.get(key)
        if body is None:
            if len(self._bodies) > 20_000:
                self._bodies.clear()
            body = self._bodies[key] = self._fill("session.md.j2", {"s": session, "cues": cues})
        return body

    def _fill(self, name: str, context: dict[str, Any]) -> str:
        """What `Template.render(**context)` gives (Jinja 3.1's steps), with the globals merged once."""
        template, known = self._templates[name], self._globals[name]
        state = self.env.context_class(self.env, {**known, **context}, template.name, template.blocks,
                                       globals=known)
        try:
            return self.env.concat(template.root_render_func(state))  # type: ignore[attr-defined]
        except Exception:
            self.env.handle_exception()
            raise  # handle_exception always raises (a TemplateError with the template's line)

    def _render(self, name: str, **context: Any) -> str:
        return _tidy(self._fill(name, context))

    def _footer(self, plan: Plan, page: str) -> dict[str, str]:
        return {"text": f"LegDay · {page} · rules {plan.rules_version}"}

    # -- Discord pages (embed dicts, always within Discord's limits) --------------------------

    def overview_embed(self, plan: Plan) -> dict[str, Any]:
        """The overview page: the runner, the block's shape and each week's sessions (or the withheld page)."""
        if plan.withheld:
            return self.withheld_embed(plan)
        text = self._render("overview.md.j2", plan=plan, max_notes=MAX_OVERVIEW_NOTES,
                            progression_text=progression_text(plan), sessions_text=sessions_text(plan))
        return {"title": "Your 4-week leg strength plan", "description": truncate(text, EMBED_DESCRIPTION_LIMIT),
                "color": COLOURS["plan"], "footer": self._footer(plan, "Overview")}

    def week_text(self, plan: Plan, week: int) -> str:
        """One week (numbered from 1) as Markdown for a Discord page, without coaching cues."""
        return self._render("week.md.j2", week=plan.weeks[week - 1], cues=False, heading="**")

    def week_embed(self, plan: Plan, week: int) -> dict[str, Any]:
        """The page for one week (numbered from 1), or the withheld page."""
        if plan.withheld:
            return self.withheld_embed(plan)
        data = plan.weeks[week - 1]
        title = f"Week {week} of {len(plan.weeks)} · {data.label}"
        return {"title": truncate(title, EMBED_TITLE_LIMIT),
                "description": truncate(self.week_text(plan, week), EMBED_DESCRIPTION_LIMIT),
                "color": COLOURS["week"], "footer": self._footer(plan, f"Week {week}/{len(plan.weeks)}")}

    def pages(self, plan: Plan) -> list[dict[str, Any]]:
        """Every page a member can flip through: the overview, then one per week."""
        if plan.withheld:
            return [self.withheld_embed(plan)]
        return [self.overview_embed(plan)] + [self.week_embed(plan, n) for n in range(1, len(plan.weeks) + 1)]

    def why_text(self, plan: Plan) -> str:
        """The 'Why this plan?' text: the rules and safeguards that shaped the plan, no-effect ones left out."""
        entries = [t for t in plan.trace if t.status != "no-effect"]
        text = self._render("why.md.j2", plan=plan, entries=entries)
        return truncate(text, EMBED_DESCRIPTION_LIMIT)

    def why_embed(self, plan: Plan) -> dict[str, Any]:
        """The 'Why this plan?' page."""
        return {"title": "Why this plan?", "description": self.why_text(plan), "color": COLOURS["why"],
                "footer": self._footer(plan, "Why")}

    def withheld_embed(self, plan: Plan) -> dict[str, Any]:
        """The page shown instead of a withheld plan: the reason, any warnings and a medical disclaimer."""
        text = self._render("withheld.md.j2", plan=plan)
        return {"title": "Let's get that checked first", "description": truncate(text, EMBED_DESCRIPTION_LIMIT),
                "color": COLOURS["withheld"], "footer": self._footer(plan, "Safety")}

    # -- text and files ------------------------------------------------------------------------

    def overview_text(self, plan: Plan) -> str:
        """The overview page as message text: its bold title, then its body."""
        embed = self.overview_embed(plan)
        return f"**{embed['title']}**\n{embed['description']}"

    def markdown(self, plan: Plan) -> str:
        """The whole plan as one Markdown document (the 'Download' file)."""
        if plan.withheld:
            return "# LegDay\n\n" + self._render("withheld.md.j2", plan=plan) + "\n"
        entries = [t for t in plan.trace if t.status != "no-effect"]
        return self._render("plan.md.j2", plan=plan, entries=entries,
                            progression_text=progression_text(plan), sessions_text=sessions_text(plan)) + "\n"

    def ics(self, plan: Plan) -> bytes:
        """A calendar with one all-day event per strength session; stable UIDs so re-imports update."""
        cal = icalendar.Calendar()
        cal.add("prodid", "-//LegDay//Leg strength plan//EN")
        cal.add("version", "2.0")
        cal.add("x-wr-calname", "LegDay strength plan")
        stamp = dt.datetime.combine(plan.start, dt.time(0, 0), tzinfo=dt.UTC)
        seed = hashlib.sha256(plan.profile.model_dump_json().encode() + plan.rules_version.encode()).hexdigest()[:16]
        for week in plan.weeks:
            for session in week.sessions:
                event = icalendar.Event()
                event.add("uid", f"{seed}-{session.date.isoformat()}@legday")
                event.add("dtstamp", stamp)
                event.add("dtstart", session.date)
                event.add("dtend", session.date + dt.timedelta(days=1))
                event.add("summary", f"LegDay week {week.week}: {session.focus} ({session.minutes} min)")
                lines = [f"{ex.name}: {ex.sets} x {ex.reps}{' s' if ex.unit == 'seconds' else ''}"
                         f"{' per side' if ex.per_side else ''}, {ex.effort}, rest {ex.rest_seconds} s"
                         for ex in session.exercises]
                if session.after_run:
                    lines.insert(0, "Run first, lift afterwards.")
                event.add("description", "\n".join(lines))
                cal.add_component(event)
        return cal.to_ical()
