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
  does not care how many examples a label has (what a moderator's new three-example FAQ entry needs);
- `all_parts` adds each label's centroid similarity: the text's embedding against the mean embedding of the
  label's examples.

Only training needs scikit-learn (imported when a model is fitted); reading a text is numpy and
scipy.sparse alone: TF-IDF computed here the way scikit-learn's TfidfVectorizer does, and the model kept
as a weight matrix with one row per feature, so a question costs its own features, not the whole
vocabulary. A trained model may be cached in a folder (`cache_dir`), keyed by a hash of everything it was
trained from, so a process that starts with the same data loads it instead of training (and importing
scikit-learn) again.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import itertools
import json
import math
import os
import re
import tempfile
import zipfile
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import scipy.sparse as sp

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
# Cached models kept in a cache folder (the newest; a shipped FAQ's is about 5 MB); bump _CACHE_FORMAT when
# what is trained or stored changes, so an old file is never read as a new one.
_CACHED_MODELS = 24
_CACHE_FORMAT = 1
# Products for at most this many texts are done without BLAS's threads (see _times).
_FEW_ROWS = 8

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

    @functools.cached_property
    def fingerprint(self) -> str:
        """A short hash of the vectors (a sample of rows and the shape), naming them in cache keys."""
        sample = self.matrix[:: max(1, len(self.matrix) // 512)]
        return f"{self.matrix.shape}-{hashlib.sha256(sample.tobytes()).hexdigest()[:16]}"

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


def _softmax(scores: np.ndarray, temperature: float = _TEMPERATURE) -> np.ndarray:
    scaled = scores / temperature
    scaled -= scaled.max(axis=1, keepdims=True)
    exp = np.exp(scaled)
    return exp / exp.sum(axis=1, keepdims=True)


# --------------------------------------------------------------------------------------------
# TF-IDF, as scikit-learn's TfidfVectorizer(sublinear_tf=True) computes it (tests/test_classify.py checks)

_TOKEN_RE = re.compile(r"(?u)\b\w\w+\b")
_SPACES_RE = re.compile(r"\s\s+")


def word_grams(text: str) -> list[str]:
    """Words of two or more characters, and each pair of neighbouring words (TfidfVectorizer's 'word', 1-2)."""
    tokens = _TOKEN_RE.findall(text)
    return tokens + [f"{first} {second}" for first, second in itertools.pairwise(tokens)]


def char_grams(text: str) -> list[str]:
    """Character 2- to 5-grams inside each space-padded word (TfidfVectorizer's 'char_wb', 2-5)."""
    grams: list[str] = []
    for word in _SPACES_RE.sub(" ", text).split():
        padded = f" {word} "
        size = len(padded)
        for n in range(2, 6):
            if size <= n:
                grams.append(padded)
                break
            grams.extend([padded[i:i + n] for i in range(size - n + 1)])
    return grams


@dataclass(frozen=True)
class TfidfBlock:
    """One block of TF-IDF features: an analyzer, its terms (column numbers) and their idf weights.

    A text's row is sublinear term frequency times idf, unit length.
    """

    analyzer: Callable[[str], list[str]]
    terms: dict[str, int]
    idf: np.ndarray

    @classmethod
    def fit(cls, analyzer: Callable[[str], list[str]], texts: Sequence[str]) -> TfidfBlock:
        """Learn the terms (sorted, as scikit-learn numbers them) and smoothed idf from texts."""
        frequency: Counter[str] = Counter()
        for text in texts:
            frequency.update(set(analyzer(text)))
        names = sorted(frequency)
        document_frequency = np.array([frequency[name] for name in names], dtype=np.float64)
        idf = np.log((1 + len(texts)) / (1 + document_frequency)) + 1
        return cls(analyzer, {name: number for number, name in enumerate(names)}, idf)

    def __len__(self) -> int:
        return len(self.terms)

    def transform(self, texts: Sequence[str]) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Per text, its columns (sorted) and unit-length weights."""
        columns, weights = [], []
        terms, idf = self.terms, self.idf
        for text in texts:
            counts = Counter(gram for gram in self.analyzer(text) if gram in terms)
            index = np.fromiter((terms[gram] for gram in counts), dtype=np.int64, count=len(counts))
            value = np.fromiter(counts.values(), dtype=np.float64, count=len(counts))
            order = np.argsort(index)
            index, value = index[order], (np.log(value[order]) + 1) * idf[index[order]]
            norm = math.sqrt(float(value @ value))
            columns.append(index)
            weights.append(value / norm if norm > 0 else value)
        return columns, weights


def _tfidf(blocks: Sequence[TfidfBlock], texts: Sequence[str]) -> sp.csr_matrix:
    """The blocks side by side (each block unit length), one sparse row per text."""
    parts = [block.transform(texts) for block in blocks]
    offsets = np.cumsum([0, *(len(block) for block in blocks)])
    indices, data, indptr = [], [], [0]
    for row in range(len(texts)):
        for (columns, weights), offset in zip(parts, offsets, strict=False):
            indices.append(columns[row] + offset)
            data.append(weights[row])
        indptr.append(indptr[-1] + sum(len(columns[row]) for columns, _ in parts))
    shape = (len(texts), int(offsets[-1]))
    if not texts:
        return sp.csr_matrix(shape, dtype=np.float64)
    return sp.csr_matrix((np.concatenate(data), np.concatenate(indices), np.asarray(indptr)), shape=shape)


_ANALYZERS: dict[str, Callable[[str], list[str]]] = {"words": word_grams, "chars": char_grams}


def _times(rows: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """The product of rows and a matrix; for a few rows (a question, a message's clauses) without BLAS.

    BLAS (OpenBLAS) splits a product across threads, and on a busy machine waiting for them made one
    question 10-15 times slower in wall-clock time (bench/bench_faq.py); einsum runs in this thread alone.
    """
    if len(rows) <= _FEW_ROWS:
        return np.einsum("ij,jk->ik", rows, matrix)
    return rows @ matrix


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
            dots += _times(self.dense, other.dense.T)
        return dots / self.norms[:, None] / other.norms[None, :]


@dataclass
class TextClassifier:
    """A trained classifier: `rank(text)` gives every label with its probability, best first."""

    blocks: tuple[TfidfBlock, ...]
    weights: np.ndarray  # features (TF-IDF blocks, then embedding dimensions) x labels, float32
    intercepts: np.ndarray  # one per label
    classes: tuple[str, ...]
    kind: Literal["svm", "logistic"] = "svm"
    vocabulary: Vocabulary | None = None
    embedder: Embedder | None = None
    examples: _Rows | None = None  # the training examples, sorted by label
    starts: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))  # each label's first

    @classmethod
    def fit(cls, texts: Sequence[str], labels: Sequence[str], vocabulary: Vocabulary | None = None,
            embedder: Embedder | None = None, background: str | None = None,
            covered: float | Sequence[float] = 1.0, kind: Literal["svm", "logistic"] = "svm",
            cache_dir: Path | None = None) -> TextClassifier:
        """Train on example texts and their labels (at least two distinct labels).

        `background` names a catch-all label (the FAQ's off-topic questions): its examples at least `covered`
        similar (cosine) to an example of another label are left out, since that label now covers them.
        `covered` may also be one similarity per text (those of background texts are not used).
        `kind` picks the linear model (see the module docstring). With `cache_dir`, a model trained from the
        same data before is read from there instead, and a newly trained one is saved there.
        """
        if len(texts) != len(labels):
            raise ValueError("every example text needs exactly one label")
        if len(set(labels)) < 2:
            raise ValueError("a classifier needs examples of at least two labels")
        key = _cache_key(texts, labels, vocabulary, embedder, background, covered, kind) if cache_dir else ""
        if cache_dir is not None:
            cached = _load_cached(Path(cache_dir), key, vocabulary, embedder)
            if cached is not None:
                return cached
        prepared = [cls._prepare(text, vocabulary) for text in texts]
        blocks = tuple(TfidfBlock.fit(analyzer, prepared) for analyzer in _ANALYZERS.values())
        rows = _Rows(_tfidf(blocks, prepared), cls._dense(prepared, embedder))
        labels = list(labels)
        if background is not None:
            limits = np.broadcast_to(np.asarray(covered, dtype=float), (len(labels),))
            keep = cls._uncovered(rows, np.array([label == background for label in labels]), limits)
            if len({label for label, kept in zip(labels, keep, strict=True) if kept}) < 2:
                keep[:] = True  # every background example covered: keep them rather than have one label
            rows, labels = rows[keep], [label for label, kept in zip(labels, keep, strict=True) if kept]
        weights, intercepts, classes = _train(rows.joint(), labels, kind)
        label_index = {label: number for number, label in enumerate(classes)}
        example_labels = np.array([label_index[label] for label in labels], dtype=np.int64)
        # Examples sorted by label, so each label's closest example is one reduceat over a slice.
        order = np.argsort(example_labels, kind="stable")
        starts = np.flatnonzero(np.r_[True, np.diff(example_labels[order]) != 0])
        trained = cls(blocks=blocks, weights=weights, intercepts=intercepts, classes=classes, kind=kind,
                      vocabulary=vocabulary, embedder=embedder, examples=rows[order], starts=starts)
        if cache_dir is not None:
            _save_cached(Path(cache_dir), key, trained)
        return trained

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
        return _Rows(_tfidf(self.blocks, prepared), self._dense(prepared, self.embedder))

    @property
    def labels(self) -> tuple[str, ...]:
        """The labels the classifier knows, in its own order."""
        return self.classes

    @functools.cached_property
    def counts(self) -> np.ndarray:
        """How many training examples each label has (in `labels` order)."""
        return np.diff(np.r_[self.starts, self.examples.tfidf.shape[0]]).astype(float)

    def margins(self, texts: Sequence[str]) -> np.ndarray:
        """The linear model's margin per text and label (columns in `labels` order)."""
        return self._margins(self._rows(texts))

    def _margins(self, rows: _Rows) -> np.ndarray:
        width = rows.tfidf.shape[1]
        # float32 on both sides: a float64 row would make scipy copy the whole weight matrix to float64.
        scores = np.asarray(rows.tfidf.astype(np.float32) @ self.weights[:width], dtype=np.float64) + self.intercepts
        if rows.dense is not None and len(self.weights) > width:
            scores += _times(rows.dense, self.weights[width:])
        return scores

    def probabilities(self, texts: Sequence[str]) -> np.ndarray:
        """A row of label shares per text (they sum to 1), columns in `labels` order."""
        return self._shares(self._rows(texts))

    def _shares(self, rows: _Rows) -> np.ndarray:
        # Logistic regression's probabilities are the softmax of its margins (binary: see _train).
        return _softmax(self._margins(rows), 1.0 if self.kind == "logistic" else _TEMPERATURE)

    def similarities(self, texts: Sequence[str]) -> np.ndarray:
        """Per text and label, the cosine similarity to that label's closest example (columns in `labels`)."""
        return self._similarities(self._rows(texts))

    def _similarities(self, rows: _Rows) -> np.ndarray:
        return np.maximum.reduceat(rows.cosines(self.examples), self.starts, axis=1)

    def parts(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """`margins` and `similarities` together, reading the texts once."""
        rows = self._rows(texts)
        return self._margins(rows), self._similarities(rows)

    @functools.cached_property
    def centroids(self) -> np.ndarray | None:
        """Each label's mean example embedding, unit length (labels x dimensions), or None without embeddings."""
        dense = self.examples.dense if self.examples is not None else None
        if dense is None:
            return None
        sums = np.add.reduceat(dense.astype(np.float64), self.starts, axis=0)
        norms = np.linalg.norm(sums, axis=1, keepdims=True)
        return np.ascontiguousarray(sums / np.maximum(norms, 1e-12), dtype=np.float32)

    def _centroid_similarities(self, rows: _Rows) -> np.ndarray:
        centroids = self.centroids
        if centroids is None or rows.dense is None:
            return np.zeros((rows.tfidf.shape[0], len(self.classes)))
        dense = rows.dense / np.maximum(np.linalg.norm(rows.dense, axis=1, keepdims=True), 1e-12)
        return np.asarray(_times(dense, centroids.T), dtype=np.float64)

    def all_parts(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """`margins`, `similarities` and each label's centroid similarity, reading the texts once.

        A centroid similarity is the cosine of a text's embedding with the mean embedding of a label's
        examples: meaning rather than shared words, and as fair to a label with three examples as to one
        with sixty (bench/faq_calibrate.py's leave-one-file-out figures chose it).
        """
        rows = self._rows(texts)
        return self._margins(rows), self._similarities(rows), self._centroid_similarities(rows)

    def scores(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """`probabilities` and `similarities` together, reading the texts once."""
        rows = self._rows(texts)
        return self._shares(rows), self._similarities(rows)

    def rank(self, text: str) -> list[tuple[str, float]]:
        """Every label with its probability for one text, most likely first."""
        row = self.probabilities([text])[0]
        order = np.argsort(-row)
        return [(self.labels[i], float(row[i])) for i in order]


def _train(features: sp.csr_matrix, labels: list[str], kind: str) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """Fit the linear model (scikit-learn, imported here only); its weights as features x labels."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.svm import LinearSVC

    model = (LogisticRegression(C=_LOGISTIC_C, max_iter=2000) if kind == "logistic"
             else LinearSVC(C=_C, class_weight="balanced"))
    model.fit(features, labels)
    coef, intercept = np.asarray(model.coef_, dtype=np.float64), np.asarray(model.intercept_, dtype=np.float64)
    if coef.shape[0] == 1:  # two labels: one margin, for the second
        # Logistic: P(second) = sigmoid(margin) = softmax([0, margin]); SVM: margins of -m and m, as before.
        first = np.zeros_like(coef) if kind == "logistic" else -coef
        coef, intercept = np.vstack([first, coef]), np.r_[0.0 if kind == "logistic" else -intercept[0], intercept]
    return np.ascontiguousarray(coef.T, dtype=np.float32), intercept, tuple(str(c) for c in model.classes_)


# --------------------------------------------------------------------------------------------
# The model cache: one .npz per trained model, named by the hash of what it was trained from


def _cache_key(texts: Sequence[str], labels: Sequence[str], vocabulary: Vocabulary | None,
               embedder: Embedder | None, background: str | None, covered: float | Sequence[float],
               kind: str) -> str:
    """A hash of everything a trained model depends on: data, vocabulary, embedder, settings, format."""
    covered_list = [float(covered)] if isinstance(covered, int | float) else [float(x) for x in covered]
    blob = json.dumps({
        "format": _CACHE_FORMAT, "texts": list(texts), "labels": list(labels), "kind": kind,
        "background": background, "covered": covered_list, "c": [_C, _LOGISTIC_C, _EMBEDDING_WEIGHT],
        "vocabulary": None if vocabulary is None else sorted((t, list(v)) for t, v in vocabulary.terms.items()),
        "embedder": None if embedder is None else embedder.fingerprint,
    }, ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:32]


def _cache_path(cache_dir: Path, key: str) -> Path:
    return cache_dir / f"classifier-{key}.npz"


def _save_cached(cache_dir: Path, key: str, model: TextClassifier) -> None:
    """Write the model (atomically); a folder that can't be written is no error, only slower next start."""
    examples = model.examples
    arrays = {
        "classes": np.array(model.classes, dtype=str), "kind": np.array(model.kind),
        "weights": model.weights, "intercepts": model.intercepts, "starts": model.starts,
        "examples_data": examples.tfidf.data, "examples_indices": examples.tfidf.indices,
        "examples_indptr": examples.tfidf.indptr, "examples_shape": np.array(examples.tfidf.shape),
        "examples_dense": examples.dense if examples.dense is not None else np.zeros((0, 0), np.float32),
    }
    for number, block in enumerate(model.blocks):
        arrays[f"block{number}_terms"] = np.array(list(block.terms), dtype=str)
        arrays[f"block{number}_idf"] = block.idf
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=cache_dir, suffix=".tmp")
        with os.fdopen(handle, "wb") as file:
            np.savez(file, **arrays)
        os.replace(temporary, _cache_path(cache_dir, key))
        kept = sorted(cache_dir.glob("classifier-*.npz"), key=lambda path: path.stat().st_mtime, reverse=True)
        for old in kept[_CACHED_MODELS:]:
            old.unlink(missing_ok=True)
    except OSError:
        return


def _load_cached(cache_dir: Path, key: str, vocabulary: Vocabulary | None,
                 embedder: Embedder | None) -> TextClassifier | None:
    """The cached model for this key, or None (absent, unreadable or of another shape: it is retrained)."""
    path = _cache_path(cache_dir, key)
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as archive:
            # Copies: arrays read from the archive may be unaligned, and BLAS then runs ten to a hundred
            # times slower on them.
            data = {name: np.array(archive[name]) for name in archive.files}
            blocks = tuple(
                TfidfBlock(analyzer, {term: n for n, term in enumerate(data[f"block{i}_terms"].tolist())},
                           data[f"block{i}_idf"])
                for i, analyzer in enumerate(_ANALYZERS.values()))
            dense = data["examples_dense"]
            examples = _Rows(sp.csr_matrix((data["examples_data"], data["examples_indices"],
                                            data["examples_indptr"]), shape=tuple(data["examples_shape"])),
                             dense if dense.size else None)
            model = TextClassifier(blocks=blocks, weights=data["weights"], intercepts=data["intercepts"],
                                   classes=tuple(data["classes"].tolist()), kind=str(data["kind"]),
                                   vocabulary=vocabulary, embedder=embedder, examples=examples,
                                   starts=data["starts"])
    except (OSError, KeyError, ValueError, TypeError, EOFError, zipfile.BadZipFile):
        return None
    width = sum(len(block) for block in blocks) + (0 if examples.dense is None else examples.dense.shape[1])
    if model.weights.shape != (width, len(model.classes)) or examples.tfidf.shape[1] != width - (
            0 if examples.dense is None else examples.dense.shape[1]):
        return None
    os.utime(path)  # recently used: kept when old models are cleared
    return model
