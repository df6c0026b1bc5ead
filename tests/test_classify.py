"""The shared text classifier: learned from examples, tolerant of typos and slang through the vocabulary."""

import pytest

from bot.classify import TextClassifier
from bot.vocabulary import Vocabulary

EXAMPLES = [
    ("never lifted a weight in my life", "beginner"),
    ("new to the gym", "beginner"),
    ("just starting strength training", "beginner"),
    ("i lift twice a week with good form", "intermediate"),
    ("been doing squats regularly for a year", "intermediate"),
    ("comfortable with heavy barbell squats and box jumps", "advanced"),
    ("deadlift double bodyweight, years of heavy lifting", "advanced"),
]


def _classifier(vocabulary=None):
    texts, labels = zip(*EXAMPLES, strict=True)
    return TextClassifier.fit(texts, labels, vocabulary)


def test_ranks_every_label_best_first():
    """rank gives all labels, probabilities summing to one, the most likely first."""
    ranked = _classifier().rank("heavy barbell work is my thing")
    assert ranked[0][0] == "advanced"
    assert {label for label, _ in ranked} == {"beginner", "intermediate", "advanced"}
    assert sum(p for _, p in ranked) == pytest.approx(1.0)


def test_tolerates_typos():
    """Character n-grams carry a misspelt word to its label."""
    assert _classifier().rank("compfortable with hevy barbel squats")[0][0] == "advanced"


def test_vocabulary_folds_slang_before_learning():
    """A variant known to the shared vocabulary reads as its term."""
    vocabulary = Vocabulary.from_mapping({"new to the gym": ["total noob"]})
    assert _classifier(vocabulary).rank("total noob")[0][0] == "beginner"


def test_needs_two_labels():
    """One label is not a classification problem; the error says so."""
    with pytest.raises(ValueError, match="two labels"):
        TextClassifier.fit(["a", "b"], ["x", "x"])
