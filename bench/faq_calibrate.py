"""Calibrate the FAQ matcher's decision by cross-validation on its labelled examples. Run by hand (about a minute).

    .venv/bin/python bench/faq_calibrate.py

The labelled questions are the entries' example questions (rules/faq.yaml `phrasings`) and the off-topic
examples (rules/faq_off_topic.yaml). In each of 5 folds a fifth of them is held out and a fifth of the entries
(every fifth, a different set each fold) is cut down to its question and 2 or 3 of its example questions,
as a moderator's new entry would be (its other example questions are held out too, and it counts as a
server's own entry, so it claims the off-topic examples close to it); the matcher is trained on the rest and
scores every held-out question. From these rows it fits:

- PAIR_WEIGHTS: a choice model ranking the entries for a question (softmax over `bot.faq.pair_features`);
- ANSWER_WEIGHTS: the chance that the best entry so ranked is right, from `bot.faq.answer_features`
  (logistic regression), fitted on the questions whose best entry's score is not already clear
  (`bot.faq.clear_score`: the earlier calibrated blend and lead);

then picks ANSWER_THRESHOLD (the most questions answered right, wrong answers counted twice, with at most
2.5% of the held-out off-topic examples answered) and UNSURE_THRESHOLD.

The moderator files (MODERATOR_FILES: entries a server adds with 2-3 example questions, and how members ask
them) add rows too: each file's entries are added to the FAQ as a server would, and their own questions and
paraphrases are measured. First it prints the honest figure for them, leave one file out: for each file the
decision is calibrated on the CV rows and the other files' rows only, then scored on that file. Then it fits
on everything and prints the numbers to paste into bot/faq.py, with the figures they give.

Environment knobs for trying alternatives (the defaults are what is shipped): NEW_ENTRY_WEIGHT,
MODERATOR_WEIGHT, CLAIMED (bot.faq._CLAIMED), EMBEDDING_WEIGHT (bot.classify._EMBEDDING_WEIGHT).
"""

from __future__ import annotations

import os
import random
import sys
from pathlib import Path

import numpy as np
from scipy.optimize import minimize
from sklearn.linear_model import LogisticRegression

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import bot.faq as faq
from bot.faq import OFF_TOPIC, FaqBase, answer_features, clear_score, default_faq_path, load_faq, matcher_texts
from bot.faq_eval import read_moderator, with_moderator_entries

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
FOLDS = 5
OFF_TOPIC_LIMIT = 0.025
UNSURE_OFF_TOPIC_LIMIT = 0.1
# How much a question to a new (2-3 example) entry counts against one to an entry with many examples, in
# the ranking fit and the threshold choice: most questions a server gets are about the shipped entries.
NEW_ENTRY_WEIGHT = float(os.environ.get("NEW_ENTRY_WEIGHT", "0.25"))
MODERATOR_FILES = ("faq_moderator_dev.yaml", "faq_moderator.yaml", "faq_moderator2.yaml")
# How much a moderator file's paraphrase counts in the fits and the threshold choice (a kind's rows share it).
MODERATOR_WEIGHT = float(os.environ.get("MODERATOR_WEIGHT", "0.5"))
KIND_WEIGHT = {"entry": 1.0, "new entry": NEW_ENTRY_WEIGHT, "paraphrase": MODERATOR_WEIGHT}


def collect(base: FaqBase) -> list[tuple[str, str, np.ndarray, np.ndarray]]:
    """Out-of-fold rows: (kind, expected label, entry labels, pair features) for every held-out question."""
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
        trained = FaqBase(entries, "fold", off, base.vocabulary, known)
        for question, expected, kind in tests:
            columns, features = trained._measure(question)
            rows.append((kind, expected, np.array([trained._labels[i] for i in columns], dtype=object), features))
        print(f"  fold {fold + 1}/{FOLDS}: {len(tests)} questions", flush=True)
    return rows


def fit(x: np.ndarray, y: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """Logistic regression weights (the features carry their own bias column), rows weighted."""
    return LogisticRegression(C=1.0, max_iter=10000, fit_intercept=False).fit(x, y, sample_weight=weights).coef_[0]


def fit_choice(rows, penalty: float = 1.0) -> np.ndarray:
    """Weights of a choice model over the entries (conditional logit): for each on-topic question, the
    softmax of its entries' feature rows times the weights should pick its entry; fitted by L-BFGS with a
    small L2 penalty. This learns to rank, which a logistic model per entry (mostly easy negatives) does not."""
    chosen = [(features, int(np.flatnonzero(labels == expected)[0]), KIND_WEIGHT.get(kind, 1.0))
              for kind, expected, labels, features in rows
              if kind != "own" and expected != OFF_TOPIC and (labels == expected).any()]

    def loss(weights):
        total, gradient = penalty * weights @ weights / 2, penalty * weights
        for features, target, weight in chosen:
            scores = features @ weights
            scores -= scores.max()
            shares = np.exp(scores)
            shares /= shares.sum()
            total -= weight * np.log(shares[target] + 1e-300)
            gradient = gradient - weight * (features[target] - shares @ features)
        return total, gradient

    return minimize(loss, np.zeros(chosen[0][0].shape[1]), jac=True, method="L-BFGS-B").x


def decide(rows, pair_weights, answer_weights):
    """Per row: kind, expected, the best entry, and the chance it is right (1 when its score is clear)."""
    out = []
    for kind, expected, labels, features in rows:
        pair = features @ pair_weights
        top = int(np.argmax(pair))
        chance = 1.0 if clear_score(features[top]) else float(
            1 / (1 + np.exp(-(answer_features(pair, features) @ answer_weights))))
        out.append((kind, expected, labels[top], chance, float(features[top, faq.PAIR_FEATURES.index("blend")])))
    return out


def figures(decided, threshold):
    """Per kind of question: (top-1, answered right, answered wrong) or, for off-topic kinds, answered."""
    result = {}
    for kind in sorted({row[0] for row in decided}):
        chosen = [row for row in decided if row[0] == kind]
        if "off-topic" in kind:
            result[kind] = (np.mean([row[3] >= threshold for row in chosen]),)
        else:
            result[kind] = (np.mean([row[2] == row[1] for row in chosen]),
                            np.mean([row[2] == row[1] and row[3] >= threshold for row in chosen]),
                            np.mean([row[2] != row[1] and row[3] >= threshold for row in chosen]))
    return result


def best_unsure(decided, threshold):
    """The 'did you mean' threshold on the best entry's blended score (its chance reaching UNSURE_CHANCE
    offers it anyway): most unanswered on-topic questions
    offered their entry first, fewest off-topic ones offered anything (the difference of the shares is
    largest, with at most UNSURE_OFF_TOPIC_LIMIT of the off-topic ones offered)."""
    best = None
    for unsure in np.arange(0.05, 0.9, 0.025):
        even = faq.UNSURE_CHANCE
        on = [best_ == expected and (unsure <= blend or chance >= even) for kind, expected, best_, chance, blend
              in decided if kind in ("entry", "new entry", "paraphrase") and chance < threshold]
        off = [unsure <= blend or chance >= even for kind, _, _, chance, blend in decided
               if kind == "off-topic" and chance < threshold]
        score = (np.mean(on) if on else 0.0, np.mean(off) if off else 0.0)
        if score[1] <= UNSURE_OFF_TOPIC_LIMIT and (best is None or score[0] - score[1] > best[1] - best[2]):
            best = (float(unsure), *score)
    return best


def moderator_rows(base: FaqBase, name: str) -> list[tuple[str, str, np.ndarray, np.ndarray]]:
    """Rows for a moderator file: its entries added to the FAQ (as a server would), its own questions
    (kind 'own') and paraphrases (kind 'paraphrase') measured against that server's FAQ."""
    entries = read_moderator(DATA / name)
    server = with_moderator_entries(base, entries)
    rows = []
    for item in entries:
        asks = [(str(item.get("own") or item["question"]), "own")]
        asks += [(str(text), "paraphrase") for text in item.get("paraphrases") or []]
        for question, kind in asks:
            columns, features = server._measure(question)
            rows.append((kind, item["id"], np.array([server._labels[i] for i in columns], dtype=object), features))
    return rows


def calibrate(rows):
    """The decision fitted on rows: (pair weights, answer weights, answer threshold, unsure threshold)."""
    pair_weights = fit_choice(rows)
    tops = [(answer_features(features @ pair_weights, features),
             labels[int(np.argmax(features @ pair_weights))] == expected, KIND_WEIGHT.get(kind, 1.0))
            for kind, expected, labels, features in rows
            if kind != "own" and not clear_score(features[int(np.argmax(features @ pair_weights))])]
    answer_weights = fit(np.vstack([t for t, _, _ in tops]), np.array([right for _, right, _ in tops]),
                         np.array([weight for _, _, weight in tops]))
    decided = decide(rows, pair_weights, answer_weights)
    best = None
    for threshold in np.arange(0.3, 0.99, 0.0125):
        result = figures(decided, threshold)
        if result["off-topic"][0] > OFF_TOPIC_LIMIT:
            continue
        key = sum(KIND_WEIGHT[k] * (result[k][1] - 2 * result[k][2]) for k in KIND_WEIGHT if k in result)
        if best is None or key > best[0]:
            best = (key, float(threshold))
    if best is None:
        raise SystemExit(f"no answer threshold keeps the held-out off-topic questions answered under "
                         f"{OFF_TOPIC_LIMIT:.1%}: this matcher can't be calibrated to the off-topic limit")
    threshold = best[1]
    return pair_weights, answer_weights, threshold, best_unsure(decided, threshold)


def leave_one_file_out(rows, moderator: dict[str, list]) -> dict[str, dict[str, int]]:
    """Per moderator file: the decision calibrated on the CV rows and the other files' rows, then counted on
    this file's (own questions and paraphrases answered with their entry, ranked first, answered wrong)."""
    result = {}
    for name, held in moderator.items():
        train = rows + [row for other, more in moderator.items() if other != name for row in more]
        pair_weights, answer_weights, threshold, _ = calibrate(train)
        decided = decide(held, pair_weights, answer_weights)
        right = [kind for kind, expected, best, chance, _ in decided if best == expected and chance >= threshold]
        result[name] = {
            "own": right.count("own"), "own_total": sum(row[0] == "own" for row in held),
            "paraphrases": right.count("paraphrase"), "paraphrase_total": sum(row[0] == "paraphrase" for row in held),
            "first": sum(kind == "paraphrase" and best == expected for kind, expected, best, _, _ in decided),
            "wrong": sum(best != expected and chance >= threshold for _, expected, best, chance, _ in decided),
        }
    return result


def print_figures(decided, threshold) -> None:
    for kind, values in figures(decided, threshold).items():
        if len(values) == 1:
            print(f"  {kind:17} answered {values[0]:.1%}")
        else:
            print(f"  {kind:17} top-1 {values[0]:.1%}, answered right {values[1]:.1%}, wrong {values[2]:.1%}")


def main() -> None:
    faq.model_cache_dir = lambda: None  # every fold is trained once: nothing to cache
    if "EMBEDDING_WEIGHT" in os.environ:
        import bot.classify
        bot.classify._EMBEDDING_WEIGHT = float(os.environ["EMBEDDING_WEIGHT"])
    if "CLAIMED" in os.environ:
        faq._CLAIMED = float(os.environ["CLAIMED"])
    base = load_faq(default_faq_path())
    print(f"{len(base)} entries, {sum(len(e.phrasings) for e in base.entries)} example questions, "
          f"{len(base.off_topic)} off-topic examples; {FOLDS}-fold cross-validation, a fifth of the entries "
          "cut to 2-3 examples in each fold")
    rows = collect(base)
    moderator = {name: moderator_rows(base, name) for name in MODERATOR_FILES if (DATA / name).exists()}
    print("leave one moderator file out (decision fitted on the CV rows and the other files, scored on this one):")
    for name, counts in leave_one_file_out(rows, moderator).items():
        print(f"  {name}: own question answered {counts['own']}/{counts['own_total']}, paraphrases answered "
              f"{counts['paraphrases']}/{counts['paraphrase_total']} (ranked first {counts['first']}, answered "
              f"wrong {counts['wrong']})")
    everything = rows + [row for more in moderator.values() for row in more]
    pair_weights, answer_weights, threshold, unsure = calibrate(everything)
    print("fitted on everything (paste into bot/faq.py):")
    print(f"PAIR_WEIGHTS = ({', '.join(f'{w:.4g}' for w in pair_weights)})")
    print(f"ANSWER_WEIGHTS = ({', '.join(f'{w:.4g}' for w in answer_weights)})")
    print(f"ANSWER_THRESHOLD = {threshold:.4g}")
    print(f"UNSURE_THRESHOLD = {unsure[0]:.4g}  # offered with the right entry first to {unsure[1]:.1%} of the "
          f"on-topic questions not answered, to {unsure[2]:.1%} of the off-topic ones")
    print_figures(decide(everything, pair_weights, answer_weights), threshold)


if __name__ == "__main__":
    main()
