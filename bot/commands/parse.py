"""`python -m bot parse "…"`: show what the chat reader finds in a message; `--evaluate FILE` scores a labelled set."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.commands._profile_args import iso_date
from bot.intake import classify_message, parse_message
from bot.models import FIELD_LABELS, MileageError, parse_mileage
from bot.yamlio import DataFileError, read_yaml

# A labelled message's `expect` keys: the chat reader's fields, with weekly_km + unit written as one "weekly".
EXPECT_KEYS = ("weekly", "level", "goals", "long_run_day", "hard_days", "equipment", "niggles", "sharp_pain",
               "days_per_week", "race_date", "race_distance")


def register(subparsers: Any) -> None:
    """Add the `parse` subcommand."""
    parser = subparsers.add_parser(
        "parse", help="show what the chat reader extracts from a message, or score a labelled file",
        description="Read a message as the bot would in chat: the fields found, what is missing, and problems. "
                    "With --evaluate FILE, score the reader on a labelled YAML file instead.",
    )
    parser.add_argument("text", nargs="?", help="the message, in quotes")
    parser.add_argument("--json", action="store_true", help="print JSON: fields, missing, problems, kind")
    parser.add_argument("--today", type=iso_date, default=None,
                        help="the date to read relative dates from (YYYY-MM-DD)")
    parser.add_argument("--evaluate", metavar="FILE", type=Path,
                        help="a labelled file (today:, messages: [{text, expect, kind}]) to score the reader on")
    parser.set_defaults(func=handle)


# --------------------------------------------------------------------------------------------
# Evaluation


@dataclass
class FieldScore:
    """One field's outcomes over a labelled set, and the (expected, read) pairs it got wrong."""

    right: int = 0
    wrong: int = 0
    extra: int = 0
    missing: int = 0
    confusion: Counter[tuple[str, str]] = field(default_factory=Counter)


@dataclass
class Evaluation:
    """How the chat reader did on a labelled set: per message and per field."""

    total: int = 0
    all_right: int = 0
    silently_wrong: int = 0
    asked: int = 0
    kinds_right: int = 0
    fields: dict[str, FieldScore] = field(default_factory=dict)
    misses: list[str] = field(default_factory=list)

    def rate(self, count: int) -> float:
        """`count` as a share of the messages scored; 0.0 when there were none."""
        return count / self.total if self.total else 0.0


def _shown(name: str, value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(str(getattr(v, "value", v)) for v in value) + "]"
    return str(getattr(value, "value", value)).lower()


def _read_fields(found: dict[str, Any]) -> dict[str, str]:
    """What the reader found, in the labelled file's terms (weekly as 'N unit'), as comparable strings."""
    out: dict[str, str] = {}
    for name, value in found.items():
        if name == "unit":
            continue
        if name == "weekly_km":
            unit = found.get("unit", "km")
            amount = value / 1.609344 if unit == "mi" else value
            out["weekly"] = f"{round(amount, 1):g} {unit}"
        else:
            out[name] = _shown(name, value)
    return out


def _expected_fields(expect: dict[str, Any], where: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in expect.items():
        if name not in EXPECT_KEYS:
            raise DataFileError([f"{where}: '{name}' isn't a field the reader fills. Use: {', '.join(EXPECT_KEYS)}"])
        if name == "weekly":
            try:
                km, unit = parse_mileage(str(value).replace(" ", ""))
            except MileageError as exc:
                raise DataFileError([f"{where}: weekly {value!r}: {exc}"]) from None
            amount = km / 1.609344 if unit == "mi" else km
            out["weekly"] = f"{round(amount, 1):g} {unit}"
        elif name == "race_date" and isinstance(value, str) and value.lower() != "none":
            out[name] = dt.date.fromisoformat(value).isoformat()
        elif isinstance(value, list):
            out[name] = _shown(name, sorted_like(name, value))
        else:
            out[name] = _shown(name, value)
    return out


def sorted_like(name: str, values: list[Any]) -> list[Any]:
    """A list field in the Profile's canonical order, so '[thu, tue]' and '[tue, thu]' compare equal."""
    from bot.models import DAYS, Equipment, Goal, Niggle

    order = {"goals": [g.value for g in Goal], "hard_days": list(DAYS), "equipment": [e.value for e in Equipment],
             "niggles": [n.value for n in Niggle]}.get(name)
    values = [str(getattr(v, "value", v)).lower() for v in values]
    return sorted(values, key=lambda v: order.index(v) if order and v in order else 99)


def evaluate(path: Path) -> Evaluation:
    """Read every message of a labelled file and score it field by field; DataFileError if the file is bad."""
    data, _ = read_yaml(path)
    if not isinstance(data, dict) or not isinstance(data.get("messages"), list):
        raise DataFileError([f"{path}: expected `today:` and `messages: [{{text, expect, kind}}]`"])
    today = data.get("today") or dt.date.today()
    if isinstance(today, str):
        today = dt.date.fromisoformat(today)
    result = Evaluation()
    for number, entry in enumerate(data["messages"], start=1):
        where = f"{path}: message {number}"
        if not isinstance(entry, dict) or not isinstance(entry.get("text"), str):
            raise DataFileError([f"{where}: each message needs `text` and `expect`"])
        expected = _expected_fields(entry.get("expect") or {}, where)
        kind = classify_message(entry["text"])
        # As in chat: a message taken for a question goes to the FAQ, and nothing is read from it.
        got = _read_fields(parse_message(entry["text"], today).fields) if kind == "intake" else {}
        result.total += 1
        if entry.get("kind") and kind == entry["kind"]:
            result.kinds_right += 1
        wrong = asked = False
        notes = []
        for name in sorted(set(expected) | set(got)):
            score = result.fields.setdefault(name, FieldScore())
            want, have = expected.get(name), got.get(name)
            if want == have:
                score.right += 1
                continue
            if have is None:
                score.missing += 1
                asked = True
            elif want is None:
                score.extra += 1
                wrong = True
            else:
                score.wrong += 1
                wrong = True
            score.confusion[(want or "-", have or "(asked)")] += 1
            notes.append(f"{name}: expected {want or '-'}, read {have or '(asked)'}")
        if wrong:
            result.silently_wrong += 1
        elif asked:
            result.asked += 1
        else:
            result.all_right += 1
        if notes:
            tag = "WRONG" if wrong else "ASKED"
            result.misses.append(f"{tag} {entry['text'][:90]!r}\n    " + "\n    ".join(notes))
    return result


def print_evaluation(result: Evaluation, verbose: bool = True) -> None:
    """The figures the lead reads: all right, silently wrong, asked, then per-field outcomes and confusion."""
    n = result.total
    print(f"Messages: {n}")
    print(f"  every field right:  {result.all_right:4d}  {result.rate(result.all_right):6.1%}")
    print(f"  a field silently wrong: {result.silently_wrong:d}  {result.rate(result.silently_wrong):6.1%}")
    print(f"  asked instead (missing, nothing wrong): {result.asked:d}  {result.rate(result.asked):6.1%}")
    print(f"  message kind right: {result.kinds_right:4d}  {result.rate(result.kinds_right):6.1%}")
    print("Per field:            right  wrong  extra  missing")
    for name, score in sorted(result.fields.items()):
        print(f"  {name:18s} {score.right:6d} {score.wrong:6d} {score.extra:6d} {score.missing:8d}")
    print("Confusion (expected -> read, count):")
    for name, score in sorted(result.fields.items()):
        for (want, have), count in score.confusion.most_common():
            print(f"  {name}: {want} -> {have}  x{count}")
    if verbose and result.misses:
        print("Misses:")
        for miss in result.misses:
            print("  " + miss)


# --------------------------------------------------------------------------------------------


def handle(args: argparse.Namespace) -> int:
    """Show what the reader finds in the message, or score the --evaluate file; exit 0, or 2 for bad input."""
    if args.evaluate is not None:
        try:
            result = evaluate(args.evaluate)
        except (DataFileError, ValueError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        print_evaluation(result)
        return 0
    if args.text is None:
        print("error: give a message to read, in quotes, or --evaluate FILE", file=sys.stderr)
        return 2
    today = args.today or dt.date.today()
    result = parse_message(args.text, today)
    kind = classify_message(args.text)
    if args.json:
        out = {**result.model_dump(mode="json"), "kind": kind}
        json.dump(out, sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
        return 0
    print(f"Kind: {kind}")
    if result.fields:
        print("Found:")
        for name, value in result.fields.items():
            shown = value.isoformat() if isinstance(value, dt.date) else value
            print(f"  {FIELD_LABELS.get(name, name)} ({name}): {shown}")
    else:
        print("Found: nothing")
    print("Missing: " + (", ".join(result.missing) if result.missing else "nothing"))
    for problem in result.problems:
        print(f"Problem: {problem}")
    return 0
