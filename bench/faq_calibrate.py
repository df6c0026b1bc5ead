"""Calibrate the FAQ matcher's decision by cross-validation on its labelled examples. Run by hand (about a minute).

    .venv/bin/python bench/faq_calibrate.py

The labelled questions are the entries' example questions (rules/faq.yaml `phrasings`) and the off-topic
examples (rules/faq_off_topic.yaml). In each of 5 folds a fifth of them is held out and a fifth of the entries
(every fifth, a different set each fold) is cut down to its question and 2 or 3 of its example questions,
as a moderator's new entry would be (its other example questions are held out too, and it counts as a
server's own entry, so it claims the off-topic examples close to it); the matcher is trained on the rest and
scores every held-out question. The questions of tests/data/faq_blind4.yaml (a spent blind set, now
development data) are scored in every fold as well. From these rows it fits, with logistic regression:

- PAIR_WEIGHTS: the chance that an entry is a question's answer, from `bot.faq.pair_features`;
- ANSWER_WEIGHTS: the chance that the best entry so ranked is right, from `bot.faq.answer_features`;

then picks ANSWER_THRESHOLD (the most questions answered right, wrong answers counted twice, with at most 3%
of the held-out off-topic examples and 2% of the blind set's off-topic questions answered) and
UNSURE_THRESHOLD. It prints them (paste them into bot/faq.py) and the figures they give, then the
moderator-style files' figures (tests/data/faq_moderator_dev.yaml and the spent faq_moderator.yaml) with them.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import bot.faq as faq
from bot.faq import OFF_TOPIC, FaqBase, answer_features, default_faq_path, load_faq, matcher_texts
from bot.faq_eval import evaluate, evaluate_moderator, read_labelled, read_moderator

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
FOLDS = 5
OFF_TOPIC_LIMIT, BLIND_OFF_TOPIC_LIMIT = 0.03, 0.02
MODERATOR_FILES = ("faq_moderator_dev.yaml", "faq_moderator.yaml")
BLIND = DATA / "faq_blind4.yaml"


def collect(base: FaqBase) -> list[tuple[str, str, np.ndarray, np.ndarray]]:
    """Out-of-fold rows: (kind, expected label, entry labels, pair features) for every held-out question."""
    blind_on, blind_off = read_labelled(BLIND) if BLIND.exists() else ([], [])
    rng = random.Random(0)
    items = [(text, entry.id) for entry in base.entries for text in entry.phrasings]
    items += [(text, OFF_TOPIC) for text in base.off_topic]
    rng.shuffle(items)
    fold_of = {item: number % FOLDS for number, item in enumerate(items)}
    known_all = {text for entry in base.entries for text in matcher_texts(entry)}
    rows = []
    for fold in range(FOLDS):
        small = {entry.id for entry in base.entries[fold::FOLDS]}
        entries, tests, known = [], [], set(known_all)
        for number, entry in enumerate(base.entries):
            if entry.id in small:
                pick = random.Random(100 + number)
                keep = pick.sample(entry.phrasings, pick.choice([2, 3]))
                entries.append(entry.model_copy(update={"phrasings": keep, "tags": []}))
                known -= set(matcher_texts(entry))
                tests += [(text, entry.id, "new entry") for text in entry.phrasings if text not in keep]
            else:
                kept = [text for text in entry.phrasings if fold_of[(text, entry.id)] != fold]
                entries.append(entry.model_copy(update={"phrasings": kept or [entry.question]}))
                tests += [(text, entry.id, "entry") for text in entry.phrasings if fold_of[(text, entry.id)] == fold]
        off = [text for text in base.off_topic if fold_of[(text, OFF_TOPIC)] != fold]
        tests += [(text, OFF_TOPIC, "off-topic") for text in base.off_topic if fold_of[(text, OFF_TOPIC)] == fold]
        tests += [(q, label, "blind new entry" if label in small else "blind entry") for q, label in blind_on]
        tests += [(q, OFF_TOPIC, "blind off-topic") for q in blind_off]
        trained = FaqBase(entries, "fold", off, base.vocabulary, known)
        for question, expected, kind in tests:
            columns, features = trained._measure(question)
            rows.append((kind, expected, np.array([trained._labels[i] for i in columns], dtype=object), features))
        print(f"  fold {fold + 1}/{FOLDS}: {len(tests)} questions", flush=True)
    return rows


def fit(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Logistic regression weights (the features carry their own bias column)."""
    return LogisticRegression(C=1.0, max_iter=10000, fit_intercept=False).fit(x, y).coef_[0]


def decide(rows, pair_weights, answer_weights):
    """Per row: kind, expected, the best entry, and the chance it is right."""
    out = []
    for kind, expected, labels, features in rows:
        pair = features @ pair_weights
        best = labels[int(np.argmax(pair))]
        chance = 1 / (1 + np.exp(-(answer_features(pair, features) @ answer_weights)))
        out.append((kind, expected, best, chance))
    return out


def figures(decided, threshold):
    """Per kind of question: (top-1, answered right, answered wrong) or, for off-topic kinds, answered."""
    result = {}
    for kind in sorted({row[0] for row in decided}):
        chosen = [row for row in decided if row[0] == kind]
        if "off-topic" in kind:
            result[kind] = (np.mean([chance >= threshold for *_, chance in chosen]),)
        else:
            result[kind] = (np.mean([best == expected for _, expected, best, _ in chosen]),
                            np.mean([best == expected and chance >= threshold for _, expected, best, chance in chosen]),
                            np.mean([best != expected and chance >= threshold for _, expected, best, chance in chosen]))
    return result


def best_unsure(decided, threshold):
    """The 'did you mean' threshold: most unanswered on-topic questions offered their entry first, fewest
    off-topic ones offered anything (the difference of the two shares is largest)."""
    best = None
    for unsure in np.arange(0.05, threshold, 0.025):
        on = [best_ == expected and unsure <= chance for kind, expected, best_, chance in decided
              if kind in ("entry", "new entry") and chance < threshold]
        off = [unsure <= chance for kind, _, _, chance in decided if kind == "off-topic" and chance < threshold]
        score = (np.mean(on) if on else 0.0, np.mean(off) if off else 0.0)
        if best is None or score[0] - score[1] > best[1] - best[2]:
            best = (float(unsure), *score)
    return best


def main() -> None:
    faq.model_cache_dir = lambda: None  # every fold is trained once: nothing to cache
    base = load_faq(default_faq_path())
    print(f"{len(base)} entries, {sum(len(e.phrasings) for e in base.entries)} example questions, "
          f"{len(base.off_topic)} off-topic examples; {FOLDS}-fold cross-validation, a fifth of the entries "
          "cut to 2-3 examples in each fold")
    rows = collect(base)
    train = [row for row in rows if not row[0].startswith("blind")]
    x = np.vstack([features for *_, features in train])
    y = np.concatenate([labels == expected for _, expected, labels, _ in train])
    pair_weights = fit(x, y)
    tops = [(answer_features(features @ pair_weights, features), labels[int(np.argmax(features @ pair_weights))]
             == expected) for _, expected, labels, features in train]
    answer_weights = fit(np.vstack([t for t, _ in tops]), np.array([right for _, right in tops]))
    decided = decide(rows, pair_weights, answer_weights)
    best = None
    for threshold in np.arange(0.3, 0.99, 0.0125):
        result = figures(decided, threshold)
        if result["off-topic"][0] > OFF_TOPIC_LIMIT or result.get("blind off-topic", (0,))[0] > BLIND_OFF_TOPIC_LIMIT:
            continue
        key = sum(result[k][1] - 2 * result[k][2] for k in ("entry", "new entry"))
        if best is None or key > best[0]:
            best = (key, float(threshold))
    threshold = best[1]
    unsure = best_unsure(decided, threshold)
    print(f"PAIR_WEIGHTS = ({', '.join(f'{w:.4g}' for w in pair_weights)})")
    print(f"ANSWER_WEIGHTS = ({', '.join(f'{w:.4g}' for w in answer_weights)})")
    print(f"ANSWER_THRESHOLD = {threshold:.4g}")
    print(f"UNSURE_THRESHOLD = {unsure[0]:.4g}  # offered with the right entry first to {unsure[1]:.1%} of the "
          f"on-topic questions not answered, to {unsure[2]:.1%} of the off-topic ones")
    for kind, values in figures(decided, threshold).items():
        if len(values) == 1:
            print(f"  {kind:17} answered {values[0]:.1%}")
        else:
            print(f"  {kind:17} top-1 {values[0]:.1%}, answered right {values[1]:.1%}, wrong {values[2]:.1%}")
    faq.PAIR_WEIGHTS, faq.ANSWER_WEIGHTS = tuple(pair_weights), tuple(answer_weights)
    faq.ANSWER_THRESHOLD, faq.UNSURE_THRESHOLD = threshold, unsure[0]
    if BLIND.exists():
        print("\n".join(evaluate(base, *read_labelled(BLIND)).lines(f"{BLIND.name}, shipped FAQ")[:2]))
    for name in MODERATOR_FILES:
        if (DATA / name).exists():
            print(f"{name}: " + evaluate_moderator(base, read_moderator(DATA / name)).lines()[0])


if __name__ == "__main__":
    main()
