"""`python -m bot rules check|schema`: validate a rule folder, or print the rule format's JSON Schema."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from bot.yamlio import DataFileError


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("rules", help="check rule files, or print their JSON Schema")
    actions = parser.add_subparsers(dest="rules_command", metavar="ACTION", required=True)
    check = actions.add_parser("check", help="validate a rules folder (default: the configured one)")
    check.add_argument("folder", nargs="?", type=Path, help="folder holding exercises.yaml, sessions.yaml, "
                       "progressions.yaml and rules/*.yaml")
    check.set_defaults(func=run_check)
    schema = actions.add_parser("schema", help="print the JSON Schema of a rule file")
    schema.set_defaults(func=run_schema)


def run_check(args: argparse.Namespace) -> int:
    from bot.config import get_settings
    from bot.engine import load_ruleset

    folder = args.folder or get_settings().rules_dir
    if not folder.is_dir():
        print(f"error: {folder} is not a folder")
        return 2
    try:
        ruleset = load_ruleset(folder)
    except DataFileError as exc:
        print(f"{len(exc.problems)} problem(s) in {folder}:")
        for line in exc.problems:
            print(f"  {line}")
        return 1
    catalog = ruleset.catalog
    enabled = sum(rule.enabled for rule in ruleset.rules)
    print(f"OK: {len(ruleset.rules)} rules ({enabled} enabled), {len(catalog.exercises)} exercises, "
          f"{len(catalog.templates)} templates, {len(catalog.progressions)} progressions; "
          f"rule set version {ruleset.version}")
    return 0


def run_schema(args: argparse.Namespace) -> int:
    from bot.engine import rule_schema

    print(json.dumps(rule_schema(), indent=2))
    return 0
