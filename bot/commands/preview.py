"""`python -m bot preview`: a plan for a profile given as options, as text, Markdown or JSON."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys

from bot.commands._profile_args import add_profile_arguments, iso_date, profile_from_args
from bot.models import Profile
from bot.yamlio import DataFileError

EXAMPLE = Profile(weekly_km=48.28, unit="mi", level="intermediate", goals=["speed", "hills"], long_run_day="sun",
                  hard_days=["tue", "thu"], equipment=["dumbbells", "box"])


# A plan (and the race dates around it) must stay inside the calendar Python can count: leave a year's margin.
LATEST_START = dt.date.max - dt.timedelta(days=366)
EARLIEST_START = dt.date(1900, 1, 1)


def start_date(text: str) -> dt.date:
    """An argparse type for --start: a YYYY-MM-DD date a 4-week block can start on."""
    day = iso_date(text)
    if not EARLIEST_START <= day <= LATEST_START:
        raise argparse.ArgumentTypeError(
            f"'{text[:20]}' is outside the dates a plan can use; give a date from {EARLIEST_START} to {LATEST_START}")
    return day


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `preview` subcommand."""
    parser = sub.add_parser("preview", help="make a plan from profile options and print it",
                            description="Make a 4-week plan from a profile given as options. Without options, "
                                        "an example runner (30 mi a week, intermediate, speed and hills).")
    add_profile_arguments(parser)
    parser.add_argument("--start", metavar="YYYY-MM-DD", type=start_date,
                        help="first day of the block (moved to a Monday); default: next Monday")
    form = parser.add_mutually_exclusive_group()
    form.add_argument("--markdown", action="store_true", help="print the whole plan as Markdown")
    form.add_argument("--json", action="store_true", help="print the plan as JSON for scripts")
    form.add_argument("--why", action="store_true", help="print only the rules that shaped the plan")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print the plan for the options' profile (or the example runner); exit 0, or 1 for broken rule files."""
    from bot.coach import Coach

    profile = profile_from_args(args) or EXAMPLE
    try:
        coach = Coach.load()
    except DataFileError as exc:
        print("error: the rule files are broken:\n" + str(exc), file=sys.stderr)
        return 1
    plan = coach.plan(profile, args.start)
    if args.json:
        print(json.dumps(plan.to_json(), indent=2, ensure_ascii=False))
    elif args.markdown:
        print(coach.renderer.markdown(plan), end="")
    elif args.why:
        print(coach.renderer.why_text(plan))
    else:
        print(coach.renderer.overview_text(plan))
        for week in range(1, len(plan.weeks) + 1):
            embed = coach.renderer.week_embed(plan, week)
            print(f"\n**{embed['title']}**\n{embed['description']}")
    return 0
