"""Benchmark the pictures: calendar and progress chart render times, import costs and install sizes.

Run by hand:  python bench/bench_pictures.py [--runs 40]
Prints the figures the README's "Progress and the calendar picture" section quotes. The calendar is drawn with
Pillow; for the choice of library it is also drawn once the same way with matplotlib (boxes and words), so the
two can be compared on this machine.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.metadata
import io
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.checkins import CheckIn, ExerciseLog, plan_id  # noqa: E402
from bot.coach import Coach  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.models import Profile  # noqa: E402

START = dt.date(2026, 11, 30)
PROFILES = [
    Profile(weekly_km=50, level="intermediate", goals=["speed"], long_run_day="sun", hard_days=["tue", "thu"],
            race_date=START + dt.timedelta(days=20), race_distance="half"),
    Profile(weekly_km=20, level="beginner", goals=["general"]),
    Profile(weekly_km=80, level="advanced", goals=["power", "hills"], days_per_week=3, long_run_day="sat",
            hard_days=["wed"], equipment=["gym"]),
]


def timed(fn, runs: int) -> tuple[float, float]:
    """(median, p99) CPU milliseconds of `runs` calls, after one warm-up call.

    CPU time of this process rather than wall time: the machine these figures come from is shared, and its
    other work would otherwise land in ours.
    """
    fn()
    times = []
    for _ in range(runs):
        began = time.process_time()
        fn()
        times.append((time.process_time() - began) * 1000)
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, int(len(times) * 0.99))]


def import_ms(statement: str, runs: int = 5) -> float:
    """The median CPU time of `statement` in a fresh interpreter (ms), imports included."""
    code = f"import time; t = time.process_time(); {statement}; print((time.process_time() - t) * 1000)"
    times = [float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                                  cwd=ROOT).stdout) for _ in range(runs)]
    return statistics.median(times)


def installed_mb(*names: str) -> float:
    """The installed size of distributions (their files as recorded by pip), in MB."""
    total = 0
    for name in names:
        for file in importlib.metadata.distribution(name).files or []:
            path = Path(file.locate())
            if path.is_file():
                total += path.stat().st_size
    return total / 1e6


def history(plan) -> list[CheckIn]:
    """Eight logged sessions: three exercises with loads or reps, pain, a distance update, one skipped."""
    sessions = [s for w in plan.weeks for s in w.sessions][:8]
    out = []
    for n, session in enumerate(sessions):
        logs = tuple(ExerciseLog(exercise=item.id, reps=8 + n % 3, load_kg=20 + 2 * n if i == 0 else None)
                     for i, item in enumerate(session.exercises[:3]))
        out.append(CheckIn(plan_id=plan_id(plan), session=session.date, status="skipped" if n == 5 else "done",
                           logged_at=dt.datetime.combine(session.date, dt.time(19), tzinfo=dt.UTC),
                           exercises=() if n == 5 else logs, pain=n % 4, weekly_km=50 + n if n % 3 == 0 else None))
    return out


def matplotlib_calendar(plan, races) -> bytes:
    """The same calendar drawn with matplotlib (for the comparison only): 28 boxed days with their tiles."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import Rectangle

    from bot import pictures

    width, height = pictures.calendar_image_size(plan)
    figure = Figure(figsize=(width / 100, height / 100), dpi=100)
    FigureCanvasAgg(figure)
    ax = figure.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, width)
    ax.set_ylim(height, 0)
    ax.axis("off")
    for day in pictures.calendar_days(plan, races):
        left, top, right, bottom = pictures.cell_box(day.week, day.column)
        ax.add_patch(Rectangle((left, top), right - left, bottom - top, fill=False, edgecolor="#bbbbbb"))
        ax.text(left + 8, top + 20, str(day.date.day), fontsize=16)
        for (x0, y0, x1, y1), key in zip(pictures.tile_boxes(day.week, day.column, len(day.markers)), day.markers,
                                         strict=True):
            marker = pictures.MARKERS[key]
            ax.add_patch(Rectangle((x0, y0), x1 - x0, y1 - y0, color=[c / 255 for c in marker.fill]))
            ax.text((x0 + x1) / 2, (y0 + y1) / 2, f"{marker.letter}\n{marker.word}", ha="center", va="center",
                    fontsize=14, fontweight="bold")
    out = io.BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=40)
    args = parser.parse_args()

    from bot.pictures import calendar_png
    from bot.progress import progress_png, summarise

    coach = Coach.load(Settings(_env_file=None))
    races = coach.ruleset.catalog.races
    plans = [coach.plan(profile, START) for profile in PROFILES]

    print("Import CPU cost in a fresh interpreter (median of 5):")
    for label, statement in (
        ("bot.checkins, the core's models (baseline)", "import bot.checkins"),
        ("bot.pictures + bot.progress (PIL and matplotlib lazy)", "import bot.checkins, bot.pictures, bot.progress"),
        ("Pillow: PIL.Image, ImageDraw, ImageFont", "import PIL.Image, PIL.ImageDraw, PIL.ImageFont"),
        ("matplotlib: Figure + Agg canvas", "import matplotlib.figure, matplotlib.backends.backend_agg"),
    ):
        print(f"  {label:55s} {import_ms(statement):7.0f} ms")

    print(f"\nRender CPU time ({args.runs} runs after a warm-up; median / p99):")
    for n, plan in enumerate(plans):
        median, p99 = timed(lambda p=plan: calendar_png(p, races), args.runs)
        size = len(calendar_png(plan, races))
        print(f"  calendar, Pillow, profile {n + 1}        {median:6.1f} / {p99:6.1f} ms   {size / 1024:5.0f} KiB")
    median, p99 = timed(lambda: matplotlib_calendar(plans[0], races), max(5, args.runs // 4))
    print(f"  calendar, matplotlib (comparison)   {median:6.1f} / {p99:6.1f} ms")
    plan = plans[0]
    progress = summarise(plan, history(plan), START + dt.timedelta(days=27))
    median, p99 = timed(lambda: progress_png(progress), max(5, args.runs // 2))
    size = len(progress_png(progress))
    print(f"  progress chart, matplotlib (8 check-ins) {median:6.1f} / {p99:6.1f} ms   {size / 1024:5.0f} KiB")
    one = summarise(plan, history(plan)[:1], START + dt.timedelta(days=1))
    median, p99 = timed(lambda: progress_png(one), max(5, args.runs // 2))
    print(f"  progress chart, matplotlib (1 check-in)  {median:6.1f} / {p99:6.1f} ms")

    print("\nInstalled size (pip's file records):")
    print(f"  pillow                                         {installed_mb('pillow'):6.1f} MB")
    print(f"  matplotlib + contourpy, cycler, fonttools, kiwisolver, pyparsing "
          f"{installed_mb('matplotlib', 'contourpy', 'cycler', 'fonttools', 'kiwisolver', 'pyparsing'):6.1f} MB")


if __name__ == "__main__":
    main()
