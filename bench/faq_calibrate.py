"""Calibrate the FAQ matcher by cross-validation on its labelled examples. Run by hand (about a minute).

    .venv/bin/python bench/faq_calibrate.py

The labelled questions are the entries' example questions (rules/faq.yaml `phrasings`: most of them were the
development sets' member-voice questions) and the off-topic examples (rules/faq_off_topic.yaml). Each of 5
folds holds a fifth of them out (an entry's canonical question and tags always stay in), trains the matcher
on the rest and scores the held-out ones; the moderator-style entries of tests/data/faq_moderator_dev.yaml are
then added to the full FAQ and asked their own questions and paraphrases. For each blend of the linear
model's share and the closest example's similarity, it prints the thresholds that answer the most on-topic
questions right with at most 2% of off-topic ones answered (and every moderator own question answered), and
the figures they give: these are the constants at the top of bot/faq.py.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.faq import OFF_TOPIC, FaqBase, default_faq_path, load_faq
from bot.faq_eval import read_moderator, with_moderator_entries

ROOT = Path(__file__).resolve().parent.parent
FOLDS = 5
BLENDS = (0.0, 0.3, 0.4, 0.5, 0.6, 0.7, 1.0)
OFF_TOPIC_LIMIT = 0.02


def components(base: FaqBase, questions: list[str]) -> tuple[tuple[str, ...], np.ndarray, np.ndarray]:
    """The labels, the linear model's shares and the closest-example similarities for some questions."""
    classifier = base._classifier
    return classifier.labels, classifier.probabilities(questions), classifier.similarities(questions)


def folds(base: FaqBase, seed: int = 0) -> list[tuple[str, str]]:
    """Out-of-fold rows: (question, expected label) for every example, in fold order."""
    rng = random.Random(seed)
    items = [(text, entry.id) for entry in base.entries for text in entry.phrasings]
    items += [(text, OFF_TOPIC) for text in base.off_topic]
    rng.shuffle(items)
    return [(q, label, number % FOLDS) for number, (q, label) in enumerate(items)]


def cross_validate(base: FaqBase) -> list[tuple[str, tuple[str, ...], np.ndarray, np.ndarray]]:
    rows = folds(base)
    out = []
    for fold in range(FOLDS):
        held = {(q, label) for q, label, k in rows if k == fold}
        entries = []
        for entry in base.entries:
            kept = [t for t in entry.phrasings if (t, entry.id) not in held]
            entries.append(entry.model_copy(update={"phrasings": kept or [entry.question]}))
        off = [t for t in base.off_topic if (t, OFF_TOPIC) not in held]
        trained = FaqBase(entries, "fold", off, base.vocabulary)
        questions = [q for q, _ in held]
        labels, shares, closest = components(trained, questions)
        out += [(label, labels, shares[i], closest[i]) for i, (_, label) in enumerate(held)]
        print(f"  fold {fold + 1}/{FOLDS}: {len(held)} held out", flush=True)
    return out


def decide(labels, blended, answer, margin):
    order = np.argsort(-blended)
    best, second = order[0], order[1]
    ranked = [labels[i] for i in order if labels[i] != OFF_TOPIC]
    confident = labels[best] != OFF_TOPIC and blended[best] >= answer and blended[best] - blended[second] >= margin
    return (labels[best] if confident else None), ranked[0]


def figures(rows, blend, answer, margin):
    on = right = wrong = top1 = off = off_answered = 0
    for expected, labels, shares, closest in rows:
        answered, first = decide(labels, blend * shares + (1 - blend) * closest, answer, margin)
        if expected == OFF_TOPIC:
            off += 1
            off_answered += answered is not None
        else:
            on += 1
            top1 += first == expected
            right += answered == expected
            wrong += answered is not None and answered != expected
    return top1 / on, right / on, wrong / on, off_answered / off


def moderator_rows(base: FaqBase, entries):
    server = with_moderator_entries(base, entries)
    asks = [(str(e.get("own") or e["question"]), e["id"], "own") for e in entries]
    asks += [(str(p), e["id"], "paraphrase") for e in entries for p in e.get("paraphrases") or []]
    labels, shares, closest = components(server, [q for q, _, _ in asks])
    return [(expected, kind, labels, shares[i], closest[i]) for i, (_, expected, kind) in enumerate(asks)]


def moderator_figures(rows, blend, answer, margin):
    own = para = own_n = para_n = 0
    for expected, kind, labels, shares, closest in rows:
        answered, _ = decide(labels, blend * shares + (1 - blend) * closest, answer, margin)
        if kind == "own":
            own_n += 1
            own += answered == expected
        else:
            para_n += 1
            para += answered == expected
    return own / own_n, para / para_n


def main() -> None:
    base = load_faq(default_faq_path())
    entries = read_moderator(ROOT / "tests" / "data" / "faq_moderator_dev.yaml")
    print(f"{len(base)} entries, {sum(len(e.phrasings) for e in base.entries)} example questions, "
          f"{len(base.off_topic)} off-topic examples; {FOLDS}-fold cross-validation")
    rows = cross_validate(base)
    mod = moderator_rows(base, entries)
    for blend in BLENDS:
        best = None
        for answer in np.arange(0.2, 0.95, 0.025):
            for margin in np.arange(0.0, 0.6, 0.025):
                top1, right, wrong, off = figures(rows, blend, answer, margin)
                own, para = moderator_figures(mod, blend, answer, margin)
                if off > OFF_TOPIC_LIMIT or own < 1.0:
                    continue
                key = right + para / 4 - 2 * wrong
                if best is None or key > best[0]:
                    best = (key, answer, margin, top1, right, wrong, off, own, para)
        if best is None:
            print(f"blend {blend:.1f}: no thresholds meet the limits")
            continue
        _, answer, margin, top1, right, wrong, off, own, para = best
        print(f"blend {blend:.1f}: answer >= {answer:.3f}, margin >= {margin:.3f}: top-1 {top1:.1%}, answered "
              f"right {right:.1%}, wrong {wrong:.1%}, off-topic answered {off:.1%}; moderator own {own:.0%}, "
              f"paraphrases {para:.0%}")


if __name__ == "__main__":
    main()
