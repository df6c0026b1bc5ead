"""`python -m bot rules check|schema|migrate`: validate, print the JSON Schema, or convert Jinja `when:` to CEL."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from bot.yamlio import DataFileError, UnreadableFile


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `rules` subcommand and its check, schema and migrate actions."""
    parser = sub.add_parser("rules", help="check rule files, or print their JSON Schema")
    actions = parser.add_subparsers(dest="rules_command", metavar="ACTION", required=True)
    check = actions.add_parser("check", help="validate a rules folder (default: the configured one)")
    check.add_argument("folder", nargs="?", type=Path, help="folder holding exercises.yaml, sessions.yaml, "
                       "progressions.yaml and rules/*.yaml")
    check.set_defaults(func=run_check)
    schema = actions.add_parser("schema", help="print the JSON Schema of a rule file")
    schema.set_defaults(func=run_schema)
    migrate = actions.add_parser("migrate", help="convert Jinja `when:` conditions of rule files to CEL, in place")
    migrate.add_argument("target", type=Path, help="a rule file, a folder of rule files, or a rules folder "
                         "holding rules/*.yaml")
    migrate.add_argument("--dry-run", action="store_true", help="report what would change; write nothing")
    migrate.set_defaults(func=run_migrate)


def run_check(args: argparse.Namespace) -> int:
    """Validate a rules folder and print its counts; exit 0, 1 for problems, 2 for no folder or unreadable files."""
    from bot.config import get_settings
    from bot.engine import load_ruleset

    folder = args.folder or get_settings().rules_dir
    if not folder.is_dir():
        print(f"error: {folder} is not a folder")
        return 2
    try:
        ruleset = load_ruleset(folder)
        # The policy files the check-ins read are rules data too: a broken one is reported here, not at the
        # first check-in.
        from bot.adapt import load_adaptation
        from bot.checkin_reader import load_lexicon

        load_adaptation(folder, ruleset.catalog)
        load_lexicon(folder)
        faq_problems = _faq_problems(folder)
    except DataFileError as exc:
        print(f"{len(exc.problems)} problem(s) in {folder}:")
        for line in exc.problems:
            print(f"  {line}")
        return 2 if isinstance(exc, UnreadableFile) else 1  # 2: a file that isn't YAML text at all
    if faq_problems:
        print(f"{len(faq_problems)} problem(s) in {folder}:")
        for line in faq_problems:
            print(f"  {line}")
        return 1
    catalog = ruleset.catalog
    enabled = sum(rule.enabled for rule in ruleset.rules)
    print(f"OK: {len(ruleset.rules)} rules ({enabled} enabled), {len(catalog.exercises)} exercises, "
          f"{len(catalog.templates)} templates, {len(catalog.progressions)} progressions; "
          f"rule set version {ruleset.version}")
    return 0


def _faq_problems(folder: Path) -> list[str]:
    """Problems of the FAQ (loaded as the bot loads it) and of every other YAML file of the folder.

    A broken file is reported here, not when the bot starts or a member asks.
    """
    from bot.faq import FaqError, load_faq
    from bot.yamlio import read_yaml

    problems: list[str] = []
    if (folder / "faq.yaml").exists():
        try:
            load_faq(folder / "faq.yaml")
        except FaqError as exc:
            problems.extend(str(exc).splitlines())
    for path in sorted(folder.glob("*.yaml")):
        if path.name == "faq.yaml":  # loaded whole above
            continue
        try:
            read_yaml(path)
        except DataFileError as exc:
            problems.extend(line for line in exc.problems if line not in problems)
    return problems


def run_schema(args: argparse.Namespace) -> int:
    """Print the JSON Schema of a rule file; exit 0."""
    from bot.engine import rule_schema

    print(json.dumps(rule_schema(), indent=2))
    return 0


def run_migrate(args: argparse.Namespace) -> int:
    """Convert the target's Jinja `when:` conditions to CEL (--dry-run only reports); 1 for problems, 2 for no files."""
    from bot.engine import migrate_rule_files

    target: Path = args.target
    if target.is_file():
        paths = [target]
    elif target.is_dir():
        folder = target / "rules" if (target / "rules").is_dir() else target
        paths = sorted(folder.glob("*.yaml")) + sorted(folder.glob("*.yml"))
    else:
        print(f"error: {target} is neither a rule file nor a folder")
        return 2
    if not paths:
        print(f"error: no rule files (*.yaml) in {target}")
        return 2
    changed, problems = migrate_rule_files(paths, write=not args.dry_run)
    verb = "would convert" if args.dry_run else "converted"
    print(f"{verb} {changed} condition(s) to CEL in {len(paths)} file(s)")
    for line in problems:
        print(f"  {line}")
    return 1 if problems else 0
