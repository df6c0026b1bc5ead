"""`python -m bot parse "…"`: show what the chat reader finds in a message, and what is still missing."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from typing import Any

from bot.commands._profile_args import iso_date
from bot.intake import classify_message, parse_message
from bot.models import FIELD_LABELS


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "parse", help="show what the chat reader extracts from a message",
        description="Read a message as the bot would in chat: the fields found, what is missing, and problems.",
    )
    parser.add_argument("text", help="the message, in quotes")
    parser.add_argument("--json", action="store_true", help="print JSON: fields, missing, problems, kind")
    parser.add_argument("--today", type=iso_date, default=None,
                        help="the date to read relative dates from (YYYY-MM-DD)")
    parser.set_defaults(func=handle)


def handle(args: argparse.Namespace) -> int:
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
