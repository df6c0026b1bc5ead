"""Text classification learned from labelled examples: the machinery the FAQ matcher and the chat reader share.

A classifier is trained at load time from example texts and their labels (FAQ entry ids, strength levels,
goals...), so what it knows lives in data files, not in code. Texts are folded through the shared vocabulary
first ("hammies" is "hamstring" for both readers), then represented by TF-IDF over words and character
n-grams (which tolerates typos) and scored by a logistic regression.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion

from bot.vocabulary import Vocabulary

# Enough regularisation that a label with three examples still generalises to paraphrases.
_C = 10.0


@dataclass
class TextClassifier:
    """A trained classifier: `rank(text)` gives every label with its probability, best first."""

    features: FeatureUnion
    model: LogisticRegression
    vocabulary: Vocabulary | None = None

    @classmethod
    def fit(cls, texts: Sequence[str], labels: Sequence[str], vocabulary: Vocabulary | None = None) -> TextClassifier:
        """Train on example texts and their labels (at least two distinct labels)."""
        if len(texts) != len(labels):
            raise ValueError("every example text needs exactly one label")
        if len(set(labels)) < 2:
            raise ValueError("a classifier needs examples of at least two labels")
        features = FeatureUnion([
            ("words", TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=1)),
            ("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=1)),
        ])
        prepared = [cls._prepare(text, vocabulary) for text in texts]
        matrix = features.fit_transform(prepared)
        model = LogisticRegression(C=_C, max_iter=2000)
        model.fit(matrix, list(labels))
        return cls(features=features, model=model, vocabulary=vocabulary)

    @staticmethod
    def _prepare(text: str, vocabulary: Vocabulary | None) -> str:
        return vocabulary.normalise(text) if vocabulary is not None else text.lower()

    @property
    def labels(self) -> tuple[str, ...]:
        """The labels the classifier knows, in its own order."""
        return tuple(str(label) for label in self.model.classes_)

    def probabilities(self, texts: Sequence[str]) -> np.ndarray:
        """A row of label probabilities per text, columns in `labels` order."""
        matrix = self.features.transform([self._prepare(text, self.vocabulary) for text in texts])
        return self.model.predict_proba(matrix)

    def rank(self, text: str) -> list[tuple[str, float]]:
        """Every label with its probability for one text, most likely first."""
        row = self.probabilities([text])[0]
        order = np.argsort(-row)
        return [(self.labels[i], float(row[i])) for i in order]
