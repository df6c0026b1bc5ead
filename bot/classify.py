"""Text classification learned from labelled examples: the machinery the FAQ matcher and the chat reader share.

A classifier is trained at load time from example texts and their labels (FAQ entry ids, strength levels,
goals...), so what it knows lives in data files, not in code. Texts are folded through the shared vocabulary
first ("hammies" is "hamstring" for both readers), then represented by TF-IDF over words and character
n-grams (which tolerates typos) and, when an embedder is given, by static word embeddings too (which know
that "pull-ups" and "chin ups" are alike although they share few letters). Two scores come out:

- `probabilities` / `rank`: a linear model, its scores as shares of 1. Two kinds: `svm` (one-vs-rest linear
  SVM, classes weighted by how few examples they have, so a label with three examples is not drowned by one
  with fifty; margins turned into shares), the FAQ's; and `logistic` (logistic regression, whose
  probabilities are calibrated against each other), the chat reader's level and goal classifiers;
- `similarities`: for each label, the cosine similarity of the text to that label's closest example, which
  does not care how many examples a label has (what a moderator's new three-example FAQ entry needs).
"""

from __future__ import annotations

import functools
import importlib.util
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion
from sklearn.svm import LinearSVC

from bot.vocabulary import Vocabulary

# Margin regularisation of the linear model, chosen by cross-validation on the FAQ's labelled questions
# (bench/faq_calibrate.py): smaller trusts the examples less.
_C = 0.5
# The logistic model's regularisation: enough that a label with a handful of examples still generalises
# (the chat reader's labelled messages, tests/test_intake.py).
_LOGISTIC_C = 10.0
# Margins are turned into shares with a softmax at this temperature (margins live in about -1.5..1.5).
_TEMPERATURE = 0.1
# The embedding block weighs 1.5 times each TF-IDF block in the joint feature vector (5-fold CV: 1.5 beat
# 1.0 on top-1, off-topic answered and moderator paraphrases).
_EMBEDDING_WEIGHT = 1.5
# wordllama's 256-dimension "l2_supercat" vectors, shipped inside its wheel.
_CACHE_LIMIT = 50000  # texts whose vectors are kept
_EMBEDDING_FILES = ("weights/l2_supercat_256.safetensors", "tokenizers/l2_supercat_tokenizer_config.json")


class Embedder:
    """Static word embeddings from the `wordllama` wheel: a text is the mean of its token vectors, unit length.

    The files are read straight from the installed package (never from a model hub), without importing the
    package itself, whose import configures the root logger.
    """

    def __init__(self, matrix: np.ndarray, tokenizer: object) -> None:
        """Wrap an embedding matrix (tokens x dimensions) and a `tokenizers.Tokenizer`."""
        self.matrix = np.ascontiguousarray(matrix, dtype=np.float32)
        self.tokenizer = tokenizer
        self._cache: dict[str, np.ndarray] = {}

    @classmethod
    def from_package(cls) -> Embedder:
        """Load the vectors shipped in the installed `wordllama` package; raises FileNotFoundError if absent."""
        from safetensors import safe_open
        from tokenizers import Tokenizer

        spec = importlib.util.find_spec("wordllama")
        if spec is None or not spec.submodule_search_locations:
            raise FileNotFoundError("the wordllama package is not installed")
        root = Path(next(iter(spec.submodule_search_locations)))
        weights, tokenizer_file = (root / name for name in _EMBEDDING_FILES)
        with safe_open(str(weights), framework="np") as handle:
            matrix = handle.get_tensor("embedding.weight")
        tokenizer = Tokenizer.from_file(str(tokenizer_file))
        tokenizer.no_padding()
        tokenizer.no_truncation()
        return cls(matrix, tokenizer)

    @property
    def dimensions(self) -> int:
        """How many numbers a text's vector has."""
        return int(self.matrix.shape[1])

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """One unit-length row per text (a text without known tokens gets a zero row); cached per text."""
        missing = [text for text in dict.fromkeys(texts) if text not in self._cache]
        if len(self._cache) + len(missing) > _CACHE_LIMIT:
            self._cache.clear()  # a bound on memory; the next texts are embedded again
            missing = list(dict.fromkeys(texts))
        if missing:
            encoded = self.tokenizer.encode_batch(missing, add_special_tokens=False)
            for text, encoding in zip(missing, encoded, strict=True):
                ids = np.clip(np.asarray(encoding.ids, dtype=np.int64), 0, len(self.matrix) - 1)
                vector = self.matrix[ids].mean(axis=0) if len(ids) else np.zeros(self.dimensions, np.float32)
                norm = float(np.linalg.norm(vector))
                self._cache[text] = vector / norm if norm > 0 else vector
        if not texts:
            return np.zeros((0, self.dimensions), dtype=np.float32)
        return np.stack([self._cache[text] for text in texts])


@functools.lru_cache(maxsize=1)
def default_embedder() -> Embedder | None:
    """The shipped embedder, loaded once per process; None when wordllama is not installed."""
    try:
        return Embedder.from_package()
    except (FileNotFoundError, ImportError, OSError):
        return None


def _softmax(scores: np.ndarray) -> np.ndarray:
    scaled = scores / _TEMPERATURE
    scaled -= scaled.max(axis=1, keepdims=True)
    exp = np.exp(scaled)
    return exp / exp.sum(axis=1, keepdims=True)


@dataclass(frozen=True)
class _Rows:
    """Texts as features: TF-IDF (sparse) and embeddings (dense, or None), and each row's joint length."""

    tfidf: sp.csr_matrix
    dense: np.ndarray | None

    @functools.cached_property
    def norms(self) -> np.ndarray:
        squares = np.asarray(self.tfidf.multiply(self.tfidf).sum(axis=1)).ravel()
        if self.dense is not None:
            squares = squares + (self.dense * self.dense).sum(axis=1)
        return np.sqrt(np.maximum(squares, 1e-12))

    @functools.cached_property
    def columns(self) -> sp.csr_matrix:
        """The TF-IDF block transposed (features x rows), kept for comparing many texts with these rows."""
        return self.tfidf.T.tocsr()

    def __getitem__(self, rows: np.ndarray) -> _Rows:
        return _Rows(self.tfidf[rows], None if self.dense is None else self.dense[rows])

    def joint(self) -> sp.csr_matrix:
        """One sparse matrix, for training the linear model."""
        if self.dense is None:
            return self.tfidf
        return sp.hstack([self.tfidf, sp.csr_matrix(self.dense)], format="csr")

    def cosines(self, other: _Rows) -> np.ndarray:
        """Cosine similarity of every row here (rows) with every row of `other` (columns), in the joint space."""
        dots = (self.tfidf @ other.columns).toarray()
        if self.dense is not None and other.dense is not None:
            dots += self.dense @ other.dense.T
        return dots / self.norms[:, None] / other.norms[None, :]


@dataclass
class TextClassifier:
    """A trained classifier: `rank(text)` gives every label with its probability, best first."""

    features: FeatureUnion
    model: LinearSVC | LogisticRegression
    vocabulary: Vocabulary | None = None
    embedder: Embedder | None = None
    examples: _Rows | None = None  # the training examples, sorted by label
    starts: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))  # each label's first

    @classmethod
    def fit(cls, texts: Sequence[str], labels: Sequence[str], vocabulary: Vocabulary | None = None,
            embedder: Embedder | None = None, background: str | None = None,
            covered: float | Sequence[float] = 1.0, kind: Literal["svm", "logistic"] = "svm") -> TextClassifier:
        """Train on example texts and their labels (at least two distinct labels).

        `background` names a catch-all label (the FAQ's off-topic questions): its examples at least `covered`
        similar (cosine) to an example of another label are left out, since that label now covers them.
        `covered` may also be one similarity per text (those of background texts are not used).
        `kind` picks the linear model (see the module docstring).
        """
        if len(texts) != len(labels):
            raise ValueError("every example text needs exactly one label")
        if len(set(labels)) < 2:
            raise ValueError("a classifier needs examples of at least two labels")
        features = FeatureUnion([
            ("words", TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=1)),
            ("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=1)),
        ])
        prepared = [cls._prepare(text, vocabulary) for text in texts]
        rows = _Rows(sp.csr_matrix(features.fit_transform(prepared)), cls._dense(prepared, embedder))
        labels = list(labels)
        if background is not None:
            limits = np.broadcast_to(np.asarray(covered, dtype=float), (len(labels),))
            keep = cls._uncovered(rows, np.array([label == background for label in labels]), limits)
            if len({label for label, kept in zip(labels, keep, strict=True) if kept}) < 2:
                keep[:] = True  # every background example covered: keep them rather than have one label
            rows, labels = rows[keep], [label for label, kept in zip(labels, keep, strict=True) if kept]
        model = (LogisticRegression(C=_LOGISTIC_C, max_iter=2000) if kind == "logistic"
                 else LinearSVC(C=_C, class_weight="balanced"))
        model.fit(rows.joint(), labels)
        label_index = {label: number for number, label in enumerate(model.classes_)}
        example_labels = np.array([label_index[label] for label in labels], dtype=np.int64)
        # Examples sorted by label, so each label's closest example is one reduceat over a slice.
        order = np.argsort(example_labels, kind="stable")
        starts = np.flatnonzero(np.r_[True, np.diff(example_labels[order]) != 0])
        return cls(features=features, model=model, vocabulary=vocabulary, embedder=embedder,
                   examples=rows[order], starts=starts)

    @staticmethod
    def _uncovered(rows: _Rows, is_background: np.ndarray, limits: np.ndarray) -> np.ndarray:
        """Which rows to keep: all but background ones at least as close to another label's row as its limit."""
        keep = np.ones(len(is_background), dtype=bool)
        if is_background.any() and (~is_background).any():
            near = rows[is_background].cosines(rows[~is_background]) >= limits[~is_background][None, :]
            keep[np.flatnonzero(is_background)[near.any(axis=1)]] = False
        return keep

    @staticmethod
    def _prepare(text: str, vocabulary: Vocabulary | None) -> str:
        return vocabulary.normalise(text) if vocabulary is not None else text.lower()

    @staticmethod
    def _dense(prepared: Sequence[str], embedder: Embedder | None) -> np.ndarray | None:
        return None if embedder is None else embedder.embed(list(prepared)) * _EMBEDDING_WEIGHT

    def _rows(self, texts: Sequence[str]) -> _Rows:
        prepared = [self._prepare(text, self.vocabulary) for text in texts]
        return _Rows(sp.csr_matrix(self.features.transform(prepared)), self._dense(prepared, self.embedder))

    @property
    def labels(self) -> tuple[str, ...]:
        """The labels the classifier knows, in its own order."""
        return tuple(str(label) for label in self.model.classes_)

    @functools.cached_property
    def counts(self) -> np.ndarray:
        """How many training examples each label has (in `labels` order)."""
        return np.diff(np.r_[self.starts, self.examples.tfidf.shape[0]]).astype(float)

    def margins(self, texts: Sequence[str]) -> np.ndarray:
        """The linear model's margin per text and label (columns in `labels` order)."""
        return self._margins(self._rows(texts))

    def _margins(self, rows: _Rows) -> np.ndarray:
        scores = self.model.decision_function(rows.joint())
        if scores.ndim == 1:  # two labels: one margin, for the second
            scores = np.stack([-scores, scores], axis=1)
        return scores

    def probabilities(self, texts: Sequence[str]) -> np.ndarray:
        """A row of label shares per text (they sum to 1), columns in `labels` order."""
        return self._shares(self._rows(texts))

    def _shares(self, rows: _Rows) -> np.ndarray:
        if isinstance(self.model, LogisticRegression):
            return self.model.predict_proba(rows.joint())
        return _softmax(self._margins(rows))

    def similarities(self, texts: Sequence[str]) -> np.ndarray:
        """Per text and label, the cosine similarity to that label's closest example (columns in `labels`)."""
        return self._similarities(self._rows(texts))

    def _similarities(self, rows: _Rows) -> np.ndarray:
        return np.maximum.reduceat(rows.cosines(self.examples), self.starts, axis=1)

    def parts(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """`margins` and `similarities` together, reading the texts once."""
        rows = self._rows(texts)
        return self._margins(rows), self._similarities(rows)

    def scores(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """`probabilities` and `similarities` together, reading the texts once."""
        rows = self._rows(texts)
        return self._shares(rows), self._similarities(rows)

    def rank(self, text: str) -> list[tuple[str, float]]:
        """Every label with its probability for one text, most likely first."""
        row = self.probabilities([text])[0]
        order = np.argsort(-row)
        return [(self.labels[i], float(row[i])) for i in order]
