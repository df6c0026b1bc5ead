"""Calibrate the FAQ matcher by cross-validation on its labelled examples. Run by hand (about a minute).

    .venv/bin/python bench/faq_calibrate.py [--no-embeddings | --lr]

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

import itertools
import random
import sys
from collections import Counter
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import bot.classify
import bot.faq as faq
from bot.faq import OFF_TOPIC, FaqBase, blend_scores, default_faq_path, load_faq
from bot.faq_eval import read_moderator, with_moderator_entries

ROOT = Path(__file__).resolve().parent.parent
FOLDS = 5
TEMPERATURES = (0.1, 0.2)
BLENDS = (0.3, 0.5, 0.7)
SIMILARITY_TEMPERATURES = (None, 0.02, 0.05)
PRIORS = (0.0, 5.0, 15.0)
OFF_TOPIC_LIMIT = 0.02


def components(base: FaqBase, questions: list[str]):
    """The labels and their example counts, the linear model's margins and the closest-example similarities."""
    classifier = base._classifier
    margins, closest = classifier.parts(questions)
    return (classifier.labels, classifier.counts), margins, closest


def softmax(margins: np.ndarray, temperature: float) -> np.ndarray:
    scaled = margins / temperature
    scaled -= scaled.max(axis=1, keepdims=True)
    exp = np.exp(scaled)
    return exp / exp.sum(axis=1, keepdims=True)


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


def table(rows, temperature: float, blend: float, similarity_temperature=None, prior=0.0):
    """Per question: expected label, best label, best score, lead over the runner-up, best entry (not off-topic)."""
    out = []
    for expected, (labels, counts), margins, closest in rows:
        blended = blend_scores(softmax(margins[None, :], temperature), closest[None, :], counts, blend,
                               similarity_temperature, prior)[0]
        order = np.argsort(-blended)
        first = next(i for i in order if labels[i] != OFF_TOPIC)
        out.append((expected, labels[order[0]], blended[order[0]], blended[order[0]] - blended[order[1]],
                    labels[first], blended[first]))
    return out


def figures(table_rows, answer, margin):
    expected = np.array([r[0] for r in table_rows], dtype=object)
    best = np.array([r[1] for r in table_rows], dtype=object)
    score = np.array([r[2] for r in table_rows])
    lead = np.array([r[3] for r in table_rows])
    first = np.array([r[4] for r in table_rows], dtype=object)
    confident = (best != OFF_TOPIC) & (score >= answer) & (lead >= margin)
    on, off = expected != OFF_TOPIC, expected == OFF_TOPIC
    return ((first[on] == expected[on]).mean(), (confident & (best == expected))[on].mean(),
            (confident & (best != expected))[on].mean(), confident[off].mean())


def best_unsure(table_rows, answer, margin):
    """The 'did you mean' threshold: most unanswered on-topic questions offered their entry first, fewest
    off-topic ones offered anything (the difference of the two shares is largest)."""
    best = None
    for unsure in np.arange(0.1, 0.7, 0.025):
        on = off = on_n = off_n = 0
        for expected, label, score, lead, first, first_score in table_rows:
            if label != OFF_TOPIC and score >= answer and lead >= margin:
                continue  # answered
            offered = label != OFF_TOPIC and first_score >= unsure
            if expected == OFF_TOPIC:
                off_n += 1
                off += offered
            else:
                on_n += 1
                on += offered and first == expected
        figures = (unsure, on / max(on_n, 1), off / max(off_n, 1))
        if best is None or figures[1] - figures[2] > best[1] - best[2]:
            best = figures
    return best


def moderator_rows(base: FaqBase, entries):
    server = with_moderator_entries(base, entries)
    asks = [(str(e.get("own") or e["question"]), e["id"], "own") for e in entries]
    asks += [(str(p), e["id"], "paraphrase") for e in entries for p in e.get("paraphrases") or []]
    labels, margins, closest = components(server, [q for q, _, _ in asks])
    kinds = [kind for _, _, kind in asks]
    return kinds, [(expected, labels, margins[i], closest[i]) for i, (_, expected, _) in enumerate(asks)]


def moderator_figures(kinds, table_rows, answer, margin):
    right = [r[1] == r[0] and r[2] >= answer and r[3] >= margin for r in table_rows]
    own = [ok for ok, kind in zip(right, kinds, strict=True) if kind == "own"]
    para = [ok for ok, kind in zip(right, kinds, strict=True) if kind != "own"]
    return sum(own) / len(own), sum(para) / len(para)


def compare(option: str) -> None:
    """Swap a part of the matcher for the comparison runs: `--no-embeddings` (TF-IDF only), `--lr` (TF-IDF
    and logistic regression alone, the classifier this module replaced: no embeddings, no similarity)."""
    global TEMPERATURES, BLENDS, SIMILARITY_TEMPERATURES, PRIORS
    if option in ("--no-embeddings", "--lr"):
        bot.classify.default_embedder = lambda: None
        faq.default_embedder = bot.classify.default_embedder
    if option == "--lr":
        from sklearn.linear_model import LogisticRegression

        bot.classify.LinearSVC = lambda **_: LogisticRegression(C=10.0, max_iter=2000)
        TEMPERATURES, BLENDS, SIMILARITY_TEMPERATURES, PRIORS = (1.0,), (1.0,), (None,), (0.0,)


def main() -> None:
    for option in sys.argv[1:]:
        compare(option)
    base = load_faq(default_faq_path())
    entries = read_moderator(ROOT / "tests" / "data" / "faq_moderator_dev.yaml")
    print(f"{len(base)} entries, {sum(len(e.phrasings) for e in base.entries)} example questions, "
          f"{len(base.off_topic)} off-topic examples; {FOLDS}-fold cross-validation")
    rows = cross_validate(base)
    kinds, mod = moderator_rows(base, entries)
    temperature = bot.classify._TEMPERATURE
    shipped = (temperature, faq.BLEND, faq.SIMILARITY_TEMPERATURE, faq.EXAMPLES_PRIOR)
    cv_table, mod_table = table(rows, *shipped), table(mod, *shipped)
    top1, right, wrong, off = figures(cv_table, faq.ANSWER_THRESHOLD, faq.ANSWER_MARGIN)
    own, para = moderator_figures(kinds, mod_table, faq.ANSWER_THRESHOLD, faq.ANSWER_MARGIN)
    print(f"at the constants of bot/faq.py: top-1 {top1:.1%}, answered right {right:.1%}, wrong {wrong:.1%}, "
          f"off-topic answered {off:.1%}; moderator own {own:.0%}, paraphrases {para:.0%}")
    unsure = best_unsure(cv_table, faq.ANSWER_THRESHOLD, faq.ANSWER_MARGIN)
    print(f"'did you mean' from a best-entry score of {unsure[0]:.3f}: offered with the right entry first for "
          f"{unsure[1]:.1%} of the on-topic questions not answered, to {unsure[2]:.1%} of the off-topic ones")
    misses = Counter((r[0], r[4]) for r in cv_table if r[0] != OFF_TOPIC and r[4] != r[0])
    print("confusion of top-1 misses (expected -> ranked first: count): "
          + ", ".join(f"{e} -> {g}: {n}" for (e, g), n in misses.most_common(25)))
    for config in itertools.product(TEMPERATURES, BLENDS, SIMILARITY_TEMPERATURES, PRIORS):
        cv_table, mod_table = table(rows, *config), table(mod, *config)
        best = None
        for answer in np.arange(0.2, 0.95, 0.025):
            for margin in np.arange(0.0, 0.6, 0.025):
                top1, right, wrong, off = figures(cv_table, answer, margin)
                own, para = moderator_figures(kinds, mod_table, answer, margin)
                if off > OFF_TOPIC_LIMIT or own < 1.0:
                    continue
                key = right + para / 4 - 2 * wrong
                if best is None or key > best[0]:
                    best = (key, answer, margin, top1, right, wrong, off, own, para)
        name = "temperature {}, blend {}, similarity temperature {}, prior {}".format(*config)
        if best is None:
            print(f"{name}: no thresholds meet the limits")
            continue
        _, answer, margin, top1, right, wrong, off, own, para = best
        print(f"{name}: answer >= {answer:.3f}, margin >= {margin:.3f}: top-1 {top1:.1%}, answered right "
              f"{right:.1%}, wrong {wrong:.1%}, off-topic answered {off:.1%}; moderator own {own:.0%}, "
              f"paraphrases {para:.0%}", flush=True)


if __name__ == "__main__":
    main()
