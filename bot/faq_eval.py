"""Measure the FAQ matcher on a labelled file: `python -m bot.faq_eval FILE [--moderator FILE2] [--faq PATH]`.

FILE has `on_topic: [[question, id], ...]` and `off_topic: [question, ...]`; FILE2 has
`entries: [{id, question, examples, answer, own, paraphrases}]`, a server's own entries added to the FAQ with
how members ask them. Prints top-1, answered right / wrong, off-topic answered confidently, own question and
paraphrases answered, and every miss with what it was taken for. Exit 0, or 2 for a file that can't be used.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.faq import FaqBase, FaqError, FaqMatch, default_faq_path, load_faq

MODERATOR_FIELDS = ("id", "question", "examples", "answer")  # required of each moderator entry
ENTRY_FIELDS = ("id", "question", "examples", "phrasings", "tags", "answer", "sources")  # what FaqEntry takes


@dataclass
class Figures:
    """What a labelled set measures: counts, and the misses as (question, expected, got, status, confidence)."""

    on_topic: int = 0
    off_topic: int = 0
    top1: int = 0
    answered_right: int = 0
    answered_wrong: int = 0
    off_topic_answered: int = 0
    misses: list[tuple[str, str | None, str | None, str, float]] = field(default_factory=list)

    def share(self, name: str) -> float:
        """A count as a share of its questions (off_topic_answered of off-topic ones, the rest of on-topic)."""
        total = self.off_topic if name == "off_topic_answered" else self.on_topic
        return getattr(self, name) / total if total else 0.0

    def lines(self, title: str) -> list[str]:
        """The figures and the confusion of the misses, as text."""
        out = [
            f"{title}: {self.on_topic} on-topic, {self.off_topic} off-topic",
            f"  top-1 {self.share('top1'):.1%} ({self.top1}/{self.on_topic}); answered right "
            f"{self.share('answered_right'):.1%}, answered wrong {self.share('answered_wrong'):.1%}; off-topic "
            f"answered confidently {self.share('off_topic_answered'):.1%} ({self.off_topic_answered}/{self.off_topic})",
        ]
        pairs = Counter((expected or "off-topic", got or "-") for _, expected, got, _, _ in self.misses)
        if pairs:
            out.append("  confusion of misses (expected -> taken for: count): " + ", ".join(
                f"{e} -> {g}: {n}" for (e, g), n in pairs.most_common()))
        for question, expected, got, status, confidence in self.misses:
            out.append(f"    {question!r}: expected {expected or 'off-topic'}, got {got} ({status} {confidence})")
        return out


def evaluate(base: FaqBase, on_topic: Sequence[tuple[str, str]], off_topic: Sequence[str]) -> Figures:
    """Match every question: on-topic ones must rank their entry first, off-topic ones must not be answered."""
    figures = Figures(on_topic=len(on_topic), off_topic=len(off_topic))
    for question, expected in on_topic:
        found = base.match(question)
        figures.top1 += found.best_id == expected
        figures.answered_right += found.status == "answer" and found.entry_id == expected
        figures.answered_wrong += found.status == "answer" and found.entry_id != expected
        if found.best_id != expected or found.status != "answer":
            figures.misses.append(_miss(question, expected, found))
    for question in off_topic:
        found = base.match(question)
        if found.status == "answer":
            figures.off_topic_answered += 1
            figures.misses.append(_miss(question, None, found))
    return figures


def _miss(question: str, expected: str | None, found: FaqMatch) -> tuple[str, str | None, str | None, str, float]:
    return question, expected, found.best_id, found.status, found.confidence


@dataclass
class ModeratorFigures:
    """Moderators' entries: own questions and paraphrases answered with the right entry, of how many."""

    own: int = 0
    own_total: int = 0
    paraphrases: int = 0
    paraphrase_total: int = 0
    paraphrases_first: int = 0  # paraphrases whose entry was ranked first, answered or not
    misses: list[tuple[str, str, str | None, str, float]] = field(default_factory=list)

    def lines(self) -> list[str]:
        """The figures and every miss, as text."""
        out = [f"moderator entries: own question answered {self.own}/{self.own_total}, paraphrases answered "
               f"{self.paraphrases}/{self.paraphrase_total} (their entry ranked first: "
               f"{self.paraphrases_first}/{self.paraphrase_total})"]
        out += [f"    {q!r}: expected {e}, got {g} ({s} {c})" for q, e, g, s, c in self.misses]
        return out


def with_moderator_entries(base: FaqBase, entries: Sequence[dict[str, Any]]) -> FaqBase:
    """The FAQ a server gets once its moderators add these entries (retrained, as tuning.effective_faq does)."""
    added = [{key: item[key] for key in ENTRY_FIELDS if key in item} for item in entries]
    kept = [entry for entry in base.entries if entry.id not in {item.get("id") for item in added}]
    return FaqBase.from_entries([*kept, *added], "server FAQ", base.off_topic, base.vocabulary,
                                base.known_examples)


def evaluate_moderator(base: FaqBase, entries: Sequence[dict[str, Any]]) -> ModeratorFigures:
    """Add the entries to the FAQ, then ask each one's own question and its paraphrases."""
    server = with_moderator_entries(base, entries)
    figures = ModeratorFigures()
    for item in entries:
        asks = [(str(item.get("own") or item["question"]), "own")]
        asks += [(str(text), "paraphrase") for text in item.get("paraphrases") or []]
        for question, kind in asks:
            found = server.match(question)
            right = found.status == "answer" and found.entry_id == item["id"]
            if kind == "own":
                figures.own_total += 1
                figures.own += right
            else:
                figures.paraphrase_total += 1
                figures.paraphrases += right
                figures.paraphrases_first += found.best_id == item["id"]
            if not right:
                figures.misses.append((question, item["id"], found.best_id, found.status, found.confidence))
    return figures


def read_labelled(path: Path) -> tuple[list[tuple[str, str]], list[str]]:
    """`on_topic` pairs and `off_topic` questions from a file; FaqError saying what is wrong otherwise."""
    data = _read(path)
    on, off = data.get("on_topic") or [], data.get("off_topic") or []
    if not isinstance(on, list) or not isinstance(off, list) or not (on or off):
        raise FaqError(f"{path}: needs `on_topic: [[question, id], ...]` and/or `off_topic: [question, ...]`")
    pairs = []
    for number, item in enumerate(on, start=1):
        if not (isinstance(item, list | tuple) and len(item) == 2 and all(isinstance(x, str) for x in item)):
            raise FaqError(f"{path}: on_topic item {number} must be [question, id], not {item!r:.60}")
        pairs.append((item[0], item[1]))
    if not all(isinstance(item, str) for item in off):
        raise FaqError(f"{path}: every off_topic item must be a question (text)")
    return pairs, list(off)


def read_moderator(path: Path) -> list[dict[str, Any]]:
    """The `entries` of a moderator file, each with id, question, examples and answer."""
    entries = _read(path).get("entries")
    if not isinstance(entries, list) or not entries:
        raise FaqError(f"{path}: needs `entries: [{{id, question, examples, answer, own, paraphrases}}, ...]`")
    for number, item in enumerate(entries, start=1):
        missing = [key for key in MODERATOR_FIELDS if not isinstance(item, dict)
                   or (key not in item and not (key == "examples" and "phrasings" in item))]
        if missing:
            raise FaqError(f"{path}: entry {number} lacks {', '.join(missing)}")
    return entries


def _read(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise FaqError(f"{path}: can't read the file ({exc})") from None
    except yaml.YAMLError as exc:
        raise FaqError(f"{path}: YAML syntax error: {exc}") from None
    if not isinstance(data, dict):
        raise FaqError(f"{path}: the file must be a mapping (on_topic/off_topic or entries)")
    return data


def main(argv: Sequence[str] | None = None) -> int:
    """Print the figures for a labelled file and, optionally, a moderator file; exit 2 for unusable input."""
    parser = argparse.ArgumentParser(prog="python -m bot.faq_eval", description=__doc__.splitlines()[0])
    parser.add_argument("file", type=Path, nargs="?", help="on_topic/off_topic file")
    parser.add_argument("--moderator", type=Path, help="moderator entries file")
    parser.add_argument("--faq", type=Path, default=None, help="FAQ file (default: the shipped one)")
    args = parser.parse_args(argv)
    if args.file is None and args.moderator is None:
        parser.print_usage(sys.stderr)
        print("error: give a labelled file, a --moderator file, or both", file=sys.stderr)
        return 2
    try:
        base = load_faq(args.faq or default_faq_path())
        if args.file is not None:
            on, off = read_labelled(args.file)
            print("\n".join(evaluate(base, on, off).lines(str(args.file))))
        if args.moderator is not None:
            print("\n".join(evaluate_moderator(base, read_moderator(args.moderator)).lines()))
    except FaqError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
