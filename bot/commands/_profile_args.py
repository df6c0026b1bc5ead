"""Profile options shared by `preview`, `faq` and `rules test`: one spelling of each, one validation."""

from __future__ import annotations

import argparse
import datetime as dt
import sys

from pydantic import ValidationError

from bot.intake import read_date
from bot.models import (
    DAYS,
    FIELDS,
    Equipment,
    Goal,
    Level,
    MileageError,
    Niggle,
    Profile,
    RaceDistance,
    friendly_errors,
    parse_mileage,
)


def iso_date(text: str) -> dt.date:
    """An argparse type for YYYY-MM-DD dates, with a message that shows the accepted form."""
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text[:20]}' isn't a date; use YYYY-MM-DD, like 2027-01-17") from None


def add_profile_arguments(parser: argparse.ArgumentParser, *, required: bool = False) -> None:
    """Add --mileage, --level, --goal, ... to a parser; `required` makes mileage, level and goal mandatory."""
    group = parser.add_argument_group("runner profile")
    group.add_argument("--mileage", required=required, metavar="DISTANCE",
                       help="weekly running distance with a unit: 30mi, 45km, 45k (or a number with --unit)")
    group.add_argument("--unit", choices=("km", "mi"), help="unit for a plain --mileage number")
    group.add_argument("--level", required=required, metavar="LEVEL",
                       help="strength level: " + ", ".join(level.value for level in Level))
    group.add_argument("--goal", dest="goals", action="append", required=required, metavar="GOAL",
                       help="a goal (repeat or comma-separate): " + ", ".join(goal.value for goal in Goal))
    group.add_argument("--days", dest="days_per_week", metavar="N",
                       help="strength days a week, 1-3 (rules choose when absent)")
    group.add_argument("--long-run", dest="long_run_day", metavar="DAY", help="long-run day: " + ",".join(DAYS))
    group.add_argument("--hard", dest="hard_days", metavar="DAYS", help="hard/speed run days, e.g. tue,thu")
    group.add_argument("--equipment", metavar="LIST",
                       help="comma-separated: " + ",".join(item.value for item in Equipment))
    group.add_argument("--niggle", dest="niggles", action="append", metavar="NIGGLE",
                       help="a current niggle (repeat or comma-separate): " + ",".join(n.value for n in Niggle))
    group.add_argument("--sharp-pain", action="store_true", help="you have sharp joint pain right now")
    group.add_argument("--race-date", metavar="DATE",
                       help="date of your next key race: YYYY-MM-DD, 'May 16' or 'in 8 weeks'")
    group.add_argument("--race-distance", metavar="DISTANCE",
                       help="distance of that race: " + ", ".join(item.value for item in RaceDistance))


def _joined(values: list[str] | None) -> str | None:
    return ",".join(values) if values else None


def profile_from_args(args: argparse.Namespace) -> Profile | None:
    """The Profile the options describe, None when none were given; exits 2 with friendly lines if invalid."""
    given = [args.mileage, args.level, args.goals, args.days_per_week, args.long_run_day, args.hard_days,
             args.equipment, args.niggles, args.race_date, args.race_distance]
    if not any(given) and not args.sharp_pain:
        return None
    problems: list[str] = []
    data: dict[str, object] = {
        "level": args.level,
        "goals": _joined(args.goals),
        "hard_days": args.hard_days,
        "equipment": args.equipment,
        "niggles": _joined(args.niggles),
        "sharp_pain": args.sharp_pain,
        "long_run_day": args.long_run_day,
        "race_distance": args.race_distance,
    }
    if args.mileage is None:
        problems.append("--mileage is needed with the other profile options (e.g. --mileage 30mi).")
    else:
        try:
            data["weekly_km"], data["unit"] = parse_mileage(args.mileage, args.unit)
        except MileageError as exc:
            problems.append(str(exc))
    if args.days_per_week is not None:
        data["days_per_week"] = args.days_per_week
    if args.race_date is not None:
        # The one date reader every front-end shares (chat, console, the /plan form).
        race, found = read_date(args.race_date, dt.date.today(), loose=True)
        if race is None:
            shown = args.race_date[:30]
            problems.append(f"Race date '{shown}': {found[0]}" if found
                            else f"Race date '{shown}' isn't a date I can read. {FIELDS['race_date'].accepts}")
        else:
            data["race_date"] = race
    data = {key: value for key, value in data.items() if value is not None}
    if not problems:
        try:
            return Profile.model_validate(data)
        except ValidationError as exc:
            problems.extend(friendly_errors(exc))
    else:
        # Still validate the rest, so the runner sees every problem at once.
        data.setdefault("weekly_km", 0)
        try:
            Profile.model_validate(data)
        except ValidationError as exc:
            problems.extend(line for line in friendly_errors(exc) if not line.startswith("Weekly mileage"))
    for line in problems:
        print(f"error: {line}", file=sys.stderr)
    raise SystemExit(2)
