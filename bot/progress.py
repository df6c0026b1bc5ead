"""Progress through a block: what the check-ins say so far, as a short text and as a chart image.

`summarise` reads the stored check-ins of one plan (bot/checkins.py) against that plan: sessions done, partly
done, skipped, not logged or still ahead; loads and reps by exercise over time; the pain trend; the weekly
distance updates. `summary_text` words it, `progress_png` draws it with matplotlib's Agg backend. matplotlib is
imported only when a chart is drawn (it costs a few hundred milliseconds), so the bot's start-up never pays.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from bot.checkins import CheckIn, plan_id
from bot.models import KM_PER_MILE, NIGGLE_LABELS

if TYPE_CHECKING:
    from bot.models import Plan

SessionState = Literal["done", "partly", "skipped", "not logged", "ahead"]
STATES: tuple[SessionState, ...] = ("done", "partly", "skipped", "not logged", "ahead")
BLOCK_DAYS = 28
NO_CHECKINS = ("No check-ins for this plan yet. After each session, log how it went (done, partly or skipped, "
               "reps, effort and any pain) and your progress shows here.")


@dataclass(frozen=True)
class SessionProgress:
    """One planned session and where it stands: done, partly, skipped, not logged (past) or still ahead."""

    date: dt.date
    week: int
    focus: str
    state: SessionState


@dataclass(frozen=True)
class ExercisePoint:
    """What was logged for one exercise in one session."""

    date: dt.date
    load_kg: float | None
    reps: int | None
    sets: int | None
    rir: int | None
    hit: bool | None


@dataclass(frozen=True)
class ExerciseProgress:
    """One exercise's logs over the block, oldest first."""

    exercise: str
    name: str
    points: tuple[ExercisePoint, ...]

    @property
    def loads(self) -> list[tuple[dt.date, float]]:
        """(date, kg) for every log that gave a load."""
        return [(p.date, p.load_kg) for p in self.points if p.load_kg is not None]

    @property
    def reps(self) -> list[tuple[dt.date, int]]:
        """(date, reps on the last set) for every log that gave reps."""
        return [(p.date, p.reps) for p in self.points if p.reps is not None]


@dataclass(frozen=True)
class PainPoint:
    """The highest pain reported for one session (0-10), where, and whether it lingered or was sharp."""

    date: dt.date
    pain: int
    where: str | None
    lingering: bool
    sharp: bool


@dataclass(frozen=True)
class Progress:
    """The block so far, as plain values: what the text summary and the chart are made from."""

    start: dt.date
    today: dt.date
    unit: str
    withheld: bool
    checkins: int
    sessions: tuple[SessionProgress, ...]
    exercises: tuple[ExerciseProgress, ...]
    pain: tuple[PainPoint, ...]
    mileage: tuple[tuple[dt.date, float], ...]  # (date, km a week), the profile's figure first
    profile_km: float

    @property
    def end(self) -> dt.date:
        """The block's last day."""
        return self.start + dt.timedelta(days=BLOCK_DAYS - 1)

    def count(self, state: SessionState) -> int:
        """How many sessions are in that state."""
        return sum(1 for s in self.sessions if s.state == state)

    @property
    def has_chart(self) -> bool:
        """Whether there is anything to draw: at least one load, rep count or pain score."""
        return bool(self.pain) or any(e.loads or e.reps for e in self.exercises)

    @property
    def pain_trend(self) -> Literal["easing", "rising", "steady"] | None:
        """The latest pain against the one before it; None with fewer than two scores."""
        if len(self.pain) < 2:
            return None
        last, before = self.pain[-1].pain, self.pain[-2].pain
        return "easing" if last < before else "rising" if last > before else "steady"


def _logged_at(checkin: CheckIn) -> dt.datetime:
    # A time stored without a zone is taken as UTC, so old and new check-ins still sort together.
    return checkin.logged_at if checkin.logged_at.tzinfo else checkin.logged_at.replace(tzinfo=dt.UTC)


def _checkin_day(checkin: CheckIn) -> dt.date:
    return checkin.session or checkin.logged_at.date()


def summarise(plan: Plan, checkins: list[CheckIn], today: dt.date) -> Progress:
    """The block so far from the plan and its check-ins (others' plans' check-ins are left out).

    When a session was checked in more than once, the latest check-in counts.
    """
    own = sorted((c for c in checkins if c.plan_id == plan_id(plan)), key=_logged_at)
    latest: dict[dt.date, CheckIn] = {}
    for checkin in own:
        if checkin.session is not None:
            latest[checkin.session] = checkin
    sessions = []
    names: dict[str, str] = {}
    for week in plan.weeks:
        for session in week.sessions:
            names.update({item.id: item.name for item in session.exercises})
            logged = latest.get(session.date)
            state: SessionState
            if logged is not None:
                state = logged.status or "done"
            else:
                state = "ahead" if session.date >= today else "not logged"
            sessions.append(SessionProgress(session.date, week.week, session.focus, state))

    by_exercise: dict[str, list[ExercisePoint]] = {}
    pain: list[PainPoint] = []
    for day, checkin in sorted(latest.items()):
        for log in checkin.exercises:
            by_exercise.setdefault(log.exercise, []).append(
                ExercisePoint(day, log.load_kg, log.reps, log.sets, log.rir, log.hit))
        scores = [checkin.pain, *(log.pain for log in checkin.exercises)]
        scores = [score for score in scores if score is not None]
        if scores:
            where = NIGGLE_LABELS[checkin.pain_where] if checkin.pain_where else None
            pain.append(PainPoint(day, max(scores), where, bool(checkin.lingering), checkin.sharp))
    exercises = tuple(
        ExerciseProgress(exercise, names.get(exercise, exercise.replace("-", " ").capitalize()), tuple(points))
        for exercise, points in by_exercise.items())
    mileage = tuple((_checkin_day(c), c.weekly_km) for c in own if c.weekly_km is not None)
    return Progress(
        start=plan.start, today=today, unit=plan.profile.unit, withheld=plan.withheld, checkins=len(own),
        sessions=tuple(sessions), exercises=exercises, pain=tuple(pain), mileage=mileage,
        profile_km=plan.profile.weekly_km,
    )


def _distance(km: float, unit: str) -> str:
    amount = km / KM_PER_MILE if unit == "mi" else km
    return f"{amount:.0f} {unit}"


def _numbers(values: list[float] | list[int], unit: str = "") -> str:
    shown = [f"{value:g}" for value in values]
    if len(shown) > 4:
        shown = [shown[0], "…", *shown[-2:]]
    return " → ".join(shown) + unit


def exercise_line(exercise: ExerciseProgress) -> str:
    """One exercise's trend in a line: its loads and reps, first to latest."""
    parts = []
    loads = [kg for _day, kg in exercise.loads]
    reps = [n for _day, n in exercise.reps]
    if loads:
        parts.append(_numbers(loads, " kg"))
    if reps:
        parts.append(_numbers(reps, " reps"))
    hits = [p.hit for p in exercise.points if p.hit is not None]
    if hits:
        parts.append(f"top of the range {sum(hits)} of {len(hits)} times")
    return f"**{exercise.name}**: " + ("; ".join(parts) if parts else "logged, no numbers yet")


def summary_text(progress: Progress) -> str:
    """The block so far in a few lines of light markdown, for Discord and the console."""
    if progress.withheld:
        return ("Your plan has no strength sessions yet (it was held back for your safety), so there is no "
                "progress to show. Make a new plan once you've had it checked.")
    if progress.checkins == 0:
        return NO_CHECKINS
    day = (progress.today - progress.start).days
    if day < 0:
        where = f"Your block starts {progress.start:%a %-d %b}."
    elif day >= BLOCK_DAYS:
        where = f"Your block ended {progress.end:%a %-d %b}."
    else:
        where = f"Week {day // 7 + 1} of 4 (day {day + 1} of {BLOCK_DAYS})."
    counts = [f"{progress.count(state)} {state}" for state in STATES if progress.count(state)]
    lines = [where, f"**Sessions**: {', '.join(counts)} (of {len(progress.sessions)})."]
    lines += [exercise_line(e) for e in progress.exercises]
    if progress.pain:
        last = progress.pain[-1]
        worst = max(progress.pain, key=lambda p: p.pain)
        text = f"**Pain**: latest {last.pain}/10" + (f" ({last.where})" if last.where else "")
        text += f" on {last.date:%a %-d %b}"
        if worst is not last:
            text += f"; highest {worst.pain}/10 on {worst.date:%a %-d %b}"
        if progress.pain_trend:
            text += f"; {progress.pain_trend}"
        if last.sharp:
            text += ". Sharp pain: please see a physio or doctor before more strength work"
        elif last.lingering:
            text += ". It lingered to the next morning, so go easier on that exercise"
        lines.append(text + ".")
    if progress.mileage:
        figures = [progress.profile_km, *(km for _day, km in progress.mileage)]
        shown = " → ".join(_distance(km, progress.unit) for km in figures[-4:])
        change = (figures[-1] - figures[-2]) / figures[-2] * 100 if figures[-2] else None
        lines.append(f"**Weekly distance**: {shown}" + (f" ({change:+.0f} %)." if change is not None else "."))
    if len(lines) == 2 and progress.count("done") + progress.count("partly") == 0:
        lines.append("Nothing logged to chart yet: log reps, loads or pain with your next session.")
    return "\n".join(lines)


# -- the chart ------------------------------------------------------------------------------

STATE_COLOURS = {"done": "#009E73", "partly": "#E69F00", "skipped": "#D55E00", "not logged": "#999999",
                 "ahead": "#FFFFFF"}
STATE_MARKS = {"done": "o", "partly": "s", "skipped": "X", "not logged": "o", "ahead": "o"}
PAIN_COLOUR = "#CC3311"
CHART_WIDTH_PX = 1000
DPI = 100


def progress_png(progress: Progress) -> bytes:
    """The block so far as a chart (PNG bytes): loads, reps and pain by date, and each session's state.

    Only panels with data are drawn; the session strip is always there, so even one check-in gives a chart
    with the block's dates as its axis rather than a broken one.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # no display: draws into memory
    from matplotlib.dates import DateFormatter, date2num
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    from bot.adapt import pain_limits

    loads = [e for e in progress.exercises if e.loads]
    reps = [e for e in progress.exercises if e.reps and not e.loads]
    panels = [name for name, have in (("loads", loads), ("reps", reps), ("pain", progress.pain)) if have]
    heights = [3.0] * len(panels) + [1.1]
    # Margins in inches, set by hand: matplotlib's automatic layouts cost more than the drawing itself.
    top, bottom, left, right = 0.75, 1.05, 0.95, 0.55
    tall = sum(heights) + 0.35 * len(panels) + top + bottom
    width = CHART_WIDTH_PX / DPI
    figure = Figure(figsize=(width, tall), dpi=DPI)
    figure.subplots_adjust(left=left / width, right=1 - right / width, top=1 - top / tall, bottom=bottom / tall,
                           hspace=0.35 * len(heights) / sum(heights))
    axes = figure.subplots(len(heights), 1, sharex=True, height_ratios=heights, squeeze=False)[:, 0]
    FigureCanvasAgg(figure)
    figure.suptitle(f"Your block: {progress.start:%-d %b} to {progress.end:%-d %b}", fontsize=20,
                    fontweight="bold")
    for ax, name in zip(axes, panels, strict=False):
        if name == "loads":
            for exercise in loads:
                days, kg = zip(*exercise.loads, strict=True)
                ax.plot(days, kg, marker="o", linewidth=2.5, markersize=9, label=exercise.name)
            ax.set_ylabel("Load (kg)", fontsize=15)
        elif name == "reps":
            for exercise in reps:
                days, count = zip(*exercise.reps, strict=True)
                ax.plot(days, count, marker="s", linewidth=2.5, markersize=9, label=exercise.name)
            ax.set_ylabel("Reps (last set)", fontsize=15)
            ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        else:
            days = [p.date for p in progress.pain]
            ax.bar(days, [p.pain for p in progress.pain], width=0.8, color=PAIN_COLOUR, label="Pain (highest)")
            limits = pain_limits()  # the scores the adaptation acts on, so the chart and the plan agree
            ax.axhline(limits.lingering_above, color="#555555", linestyle="--", linewidth=1.5,
                       label=f"{limits.lingering_above}/10: eased if it lingers")
            ax.axhline(limits.session_above, color="#000000", linestyle=":", linewidth=1.5,
                       label=f"{limits.session_above}/10: eased")
            ax.set_ylim(0, 13)  # 10/10 stays under the legend
            ax.set_yticks(range(0, 11, 2))
            ax.set_ylabel("Pain (0-10)", fontsize=15)
        ax.grid(True, alpha=0.3)
        ax.tick_params(labelsize=13)
        ax.margins(y=0.3)  # head room, so the legend never sits on the latest point
        low, high = ax.get_ylim()
        if name != "pain" and high - low < 4:  # one value, or a few close ones: a sensible span, whole numbers
            middle = (low + high) / 2
            ax.set_ylim(max(0.0, middle - 2.5), max(0.0, middle - 2.5) + 5)
        ax.legend(fontsize=12, loc="upper left", ncols=2 if name != "pain" else 3, framealpha=0.9)

    strip = axes[-1]
    for state in STATES:
        days = [s.date for s in progress.sessions if s.state == state]
        if days:
            strip.scatter(days, [0] * len(days), s=260, marker=STATE_MARKS[state], c=STATE_COLOURS[state],
                          edgecolors="#333333", linewidths=1.5, label=f"{state} ({len(days)})", zorder=3)
    if progress.start <= progress.today <= progress.end:
        strip.axvline(progress.today, color="#0072B2", linewidth=2, label="today")
    strip.set_yticks([])
    strip.set_ylim(-1, 1)
    strip.set_ylabel("Sessions", fontsize=15)
    strip.legend(fontsize=12, loc="upper center", bbox_to_anchor=(0.5, -0.4), ncols=6, frameon=False)
    strip.set_xticks([progress.start + dt.timedelta(days=7 * n) for n in range(4)] + [progress.end])
    strip.set_xlim(date2num(progress.start) - 0.5, date2num(progress.start) + BLOCK_DAYS - 0.5)
    strip.xaxis.set_major_formatter(DateFormatter("%a %-d %b"))
    strip.tick_params(labelsize=13)
    out = io.BytesIO()
    figure.savefig(out, format="png", dpi=DPI)
    return out.getvalue()
