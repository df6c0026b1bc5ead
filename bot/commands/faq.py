"""`python -m bot faq "question"`: answer a runner's question from the FAQ, or list the topics."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from bot.commands._profile_args import add_profile_arguments, profile_from_args
from bot.faq import MAX_QUESTION_CHARS, FaqBase, FaqError, default_faq_path, load_faq

EXAMPLE = 'python -m bot faq "will squats make me bulky?" --level beginner --mileage 30mi --goal speed'


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `faq` subcommand."""
    parser = subparsers.add_parser(
        "faq",
        help="answer a question about leg strength for runners",
        description="Answer a question from LegDay's FAQ, personalised when you give your profile.",
        epilog=f"Example: {EXAMPLE}",
    )
    parser.add_argument("question", nargs="*", help="your question (quotes optional)")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument("--list", action="store_true", help="list the topics LegDay can answer")
    parser.add_argument("--file", type=Path, metavar="PATH",
                        help="a FAQ file to use instead of the shipped one (to check an edit)")
    add_profile_arguments(parser, required=False)
    parser.set_defaults(func=run)


def _print_json(value: Any) -> None:
    print(json.dumps(value, ensure_ascii=False, indent=2))


def _list(base: FaqBase, as_json: bool) -> int:
    topics = base.topics()
    if as_json:
        _print_json([{"id": entry_id, "question": question} for entry_id, question in topics])
    else:
        width = max(len(entry_id) for entry_id, _ in topics)
        for entry_id, question in topics:
            print(f"{entry_id:<{width}}  {question}")
    return 0


def run(args: argparse.Namespace) -> int:
    """Answer the question (or list topics); exit 0, 1 for a broken FAQ file, 2 for bad input."""
    path = args.file or default_faq_path()
    if args.file is not None and not path.is_file():
        what = "doesn't exist" if not path.exists() else "isn't a regular file (a device, a folder or a pipe)"
        print(f"error: --file {str(path)[:200]} {what}; give the path of a FAQ YAML file", file=sys.stderr)
        return 2
    try:
        base = load_faq(path)
    except FaqError as exc:
        print(f"error: the FAQ file has problems:\n{exc}", file=sys.stderr)
        return 1
    if args.list:
        return _list(base, args.json)
    question = " ".join(args.question).strip()
    if not question:
        print(
            "error: ask a question, for example:\n  " + EXAMPLE
            + "\nOr see the topics with: python -m bot faq --list",
            file=sys.stderr,
        )
        return 2
    if len(question) > MAX_QUESTION_CHARS:
        print(
            f"note: that's a long question ({len(question):,} characters); "
            f"I read only the first {MAX_QUESTION_CHARS}.",
            file=sys.stderr,
        )
    profile = profile_from_args(args)
    reply = base.answer(question, profile)
    found = reply.match
    if args.json:
        entry = base.get(found.entry_id) if found.entry_id else None
        _print_json({
            "id": found.entry_id,
            "status": found.status,
            "confidence": found.confidence,
            "question": entry.question if entry else None,
            "answer": base.render_answer(entry.id, profile) if entry else reply.text,
            "message": reply.text,
            "alternatives": found.alternatives,
            "sources": list(entry.sources) if entry else [],
            "personalised": profile is not None,
            "faq_version": base.version,
        })
    else:
        print(reply.text)
    return 0
