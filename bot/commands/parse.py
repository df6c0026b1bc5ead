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
from bot.intake import classify_message, fit_confidence_models, parse_message
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
    parser.add_argument("--cv", metavar="FILE", type=Path, nargs="*",
                        help="cross-validate the confidence gate on labelled files (default: the dev files)")
    parser.add_argument("--calibrate", metavar="FILE", type=Path, nargs="*",
                        help="fit the confidence gate on labelled files (default: the dev files) and write "
                             "rules/intake_confidence.yaml")
    parser.add_argument("--silent-cost", type=float, default=SILENT_COST,
                        help=f"how many questions asked one silently wrong field costs (default {SILENT_COST:g})")
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


def labelled_messages(path: Path) -> list[tuple[str, dict[str, str], str | None, dt.date]]:
    """(text, expected fields as comparable strings, expected kind, today) per message of a labelled file."""
    data, _ = read_yaml(path)
    if not isinstance(data, dict) or not isinstance(data.get("messages"), list):
        raise DataFileError([f"{path}: expected `today:` and `messages: [{{text, expect, kind}}]`"])
    today = data.get("today") or dt.date.today()
    if isinstance(today, str):
        today = dt.date.fromisoformat(today)
    out = []
    for number, entry in enumerate(data["messages"], start=1):
        where = f"{path}: message {number}"
        if not isinstance(entry, dict) or not isinstance(entry.get("text"), str):
            raise DataFileError([f"{where}: each message needs `text` and `expect`"])
        out.append((entry["text"], _expected_fields(entry.get("expect") or {}, where), entry.get("kind"), today))
    return out


def evaluate(path: Path) -> Evaluation:
    """Read every message of a labelled file and score it field by field; DataFileError if the file is bad."""
    result = Evaluation()
    for text, expected, kind_wanted, today in labelled_messages(path):
        kind = classify_message(text)
        # As in chat: a message taken for a question goes to the FAQ, and nothing is read from it.
        got = _read_fields(parse_message(text, today).fields) if kind == "intake" else {}
        score_message(result, text, expected, got, kind_wanted == kind if kind_wanted else False)
    return result


def score_message(result: Evaluation, text: str, expected: dict[str, str], got: dict[str, str],
                  kind_right: bool) -> None:
    """Add one message's outcome to `result`: every field right, a field silently wrong, or asked."""
    result.total += 1
    result.kinds_right += kind_right
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
        result.misses.append(f"{tag} {text[:90]!r}\n    " + "\n    ".join(notes))


# --------------------------------------------------------------------------------------------
# Calibrating the confidence gate (bot/intake.py `gate`) on labelled messages, and cross-validating it

# The labelled messages the gate learns from: the dev set and the spent blind sets (now development data).
DEV_FILES = (Path("tests/data/intake_labelled.yaml"), Path("tests/data/intake_blind2.yaml"),
             Path("tests/data/intake_blind3.yaml"))
# A field read silently wrong costs this many questions asked: the gate keeps a field only when, at its
# probability, keeping it right pays for keeping it wrong this many times over (README: CV figures).
SILENT_COST = 4.0
FOLDS = 5


@dataclass
class Sample:
    """One labelled message read once, before the gate: what to compare, and each field's evidence."""

    text: str
    expected: dict[str, str]
    kind: str | None
    read: Any
    evidence: dict[str, dict[str, float]]


def read_samples(paths: tuple[Path, ...] | list[Path]) -> list[Sample]:
    """Every labelled message of `paths`, read by the chat reader without its gate."""
    from bot.intake import read_with_evidence

    samples = []
    for path in paths:
        for text, expected, kind, today in labelled_messages(path):
            read, evidence = read_with_evidence(text, today)
            samples.append(Sample(text, expected, kind, read, evidence))
    return samples


def _rows(samples: list[Sample]) -> dict[str, tuple[list[dict[str, float]], list[int]]]:
    """Per field: the evidence of each read and whether that read was right (1) or silently wrong (0)."""
    rows: dict[str, tuple[list[dict[str, float]], list[int]]] = {}
    for sample in samples:
        got = _read_fields(sample.read.fields)
        for name in sample.read.fields:
            if name == "unit":
                continue
            shown = "weekly" if name == "weekly_km" else name
            xs, ys = rows.setdefault(name, ([], []))
            xs.append(sample.evidence.get(name, {}))
            ys.append(int(got.get(shown) == sample.expected.get(shown)))
    return rows


def fit_gate(samples: list[Sample], silent_cost: float = SILENT_COST) -> dict[str, Any]:
    """Fit each field's model of 'this read is right' and its threshold: rules/intake_confidence.yaml's content."""
    return fit_confidence_models(_rows(samples), silent_cost)


def gated_evaluation(samples: list[Sample], models: dict[str, Any]) -> Evaluation:
    """Score samples read through the gate with `models` (as evaluate() does, without reading them again)."""
    from bot.intake import gate, message_kind

    result = Evaluation()
    for sample in samples:
        kept = gate(sample.read, sample.evidence, models)
        kind = message_kind(sample.text, kept)
        got = _read_fields(kept.fields) if kind == "intake" else {}
        score_message(result, sample.text, sample.expected, got, bool(sample.kind) and sample.kind == kind)
    return result


def cross_validate(samples: list[Sample], silent_cost: float = SILENT_COST, folds: int = FOLDS) -> Evaluation:
    """Fit the gate on all folds but one and score the held-out fold, for each fold; the outcomes summed."""
    total = Evaluation()
    for fold in range(folds):
        train = [s for i, s in enumerate(samples) if i % folds != fold]
        test = [s for i, s in enumerate(samples) if i % folds == fold]
        part = gated_evaluation(test, fit_gate(train, silent_cost))
        total.total += part.total
        total.all_right += part.all_right
        total.silently_wrong += part.silently_wrong
        total.asked += part.asked
        total.kinds_right += part.kinds_right
        total.misses += part.misses
        for name, score in part.fields.items():
            into = total.fields.setdefault(name, FieldScore())
            into.right += score.right
            into.wrong += score.wrong
            into.extra += score.extra
            into.missing += score.missing
            into.confusion.update(score.confusion)
    return total


def write_gate(models: dict[str, Any], path: Path, sources: list[Path], silent_cost: float) -> None:
    """Write the fitted gate as rules/intake_confidence.yaml, with a header saying how it was made."""
    import yaml

    header = (
        "# The chat reader's confidence gate (bot/intake.py `gate`): per field, a logistic model of 'this read is\n"
        "# right' over the reader's evidence, and the probability below which the field is asked, not kept.\n"
        f"# Written by `python -m bot parse --calibrate` from {', '.join(str(p) for p in sources)}\n"
        f"# (a field silently wrong costs {silent_cost:g} questions asked). Do not edit by hand: calibrate again.\n"
    )
    path.write_text(header + yaml.safe_dump({"silent_cost": silent_cost, "fields": models}, sort_keys=True),
                    encoding="utf-8")


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
    if args.cv is not None or args.calibrate is not None:
        return _gate_command(args)
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


def _gate_command(args: argparse.Namespace) -> int:
    """--cv: print cross-validated figures with and without the gate; --calibrate: fit it and write it."""
    from bot.config import get_settings

    sources = list(args.cv or args.calibrate or DEV_FILES)
    if not 0 < args.silent_cost <= 100:
        print("error: --silent-cost must be a number above 0 and at most 100", file=sys.stderr)
        return 2
    try:
        samples = read_samples(sources)
    except (DataFileError, ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.calibrate is not None:
        path = get_settings().rules_dir / "intake_confidence.yaml"
        write_gate(fit_gate(samples, args.silent_cost), path, sources, args.silent_cost)
        print(f"Wrote {path} from {len(samples)} messages.")
        return 0
    print(f"Without the gate ({len(samples)} messages):")
    print_evaluation(gated_evaluation(samples, {}), verbose=False)
    print(f"\nWith the gate, {FOLDS}-fold cross-validation (fitted on 4 folds, scored on the fifth):")
    print_evaluation(cross_validate(samples, args.silent_cost), verbose=True)
    return 0
