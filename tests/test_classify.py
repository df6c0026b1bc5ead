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


def test_tfidf_is_scikit_learns():
    """The TF-IDF read at run time (no scikit-learn) equals TfidfVectorizer's, words 1-2 and char_wb 2-5."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    from bot.classify import TfidfBlock, _tfidf, char_grams, word_grams

    texts = [text for text, _ in EXAMPLES]
    probes = ["heavy  barbell\tsquats!", "", "a", "new to the gym, never lifted", "héllo wörld 1.5x bw"]
    for analyzer, options in ((word_grams, {"ngram_range": (1, 2)}),
                              (char_grams, {"analyzer": "char_wb", "ngram_range": (2, 5)})):
        ours = TfidfBlock.fit(analyzer, texts)
        theirs = TfidfVectorizer(sublinear_tf=True, **options).fit(texts)
        assert list(ours.terms) == list(theirs.get_feature_names_out())
        assert _tfidf([ours], probes).toarray() == pytest.approx(theirs.transform(probes).toarray())


def test_logistic_probabilities_are_scikit_learns():
    """rank's probabilities for the logistic kind equal LogisticRegression.predict_proba (3 and 2 labels)."""
    from sklearn.linear_model import LogisticRegression

    from bot.classify import _LOGISTIC_C

    for pairs in (EXAMPLES, [pair for pair in EXAMPLES if pair[1] != "intermediate"]):
        texts, labels = zip(*pairs, strict=True)
        ours = TextClassifier.fit(texts, labels, kind="logistic")
        model = LogisticRegression(C=_LOGISTIC_C, max_iter=2000).fit(ours._rows(texts).joint(), labels)
        probe = ["squats with a barbell", "new here"]
        assert ours.probabilities(probe) == pytest.approx(model.predict_proba(ours._rows(probe).joint()), abs=1e-4)


def test_a_cached_model_is_read_back_instead_of_trained(tmp_path, monkeypatch):
    """With a cache folder, the second fit of the same data reads the saved model (training is not called)
    and ranks alike; other data trains anew; a damaged file is retrained, never an error."""
    import bot.classify as classify

    texts, labels = zip(*EXAMPLES, strict=True)
    first = TextClassifier.fit(texts, labels, cache_dir=tmp_path)
    saved = list(tmp_path.glob("classifier-*.npz"))
    assert len(saved) == 1
    trained = []
    real_train = classify._train
    monkeypatch.setattr(classify, "_train", lambda *args: trained.append(1) or real_train(*args))
    second = TextClassifier.fit(texts, labels, cache_dir=tmp_path)
    assert trained == []
    for probe in ("heavy barbell work is my thing", "total beginner", ""):
        assert [label for label, _ in second.rank(probe)] == [label for label, _ in first.rank(probe)]
        assert second.similarities([probe]) == pytest.approx(first.similarities([probe]))
    TextClassifier.fit(texts, [*labels[:-1], "intermediate"], cache_dir=tmp_path)
    assert trained == [1] and len(list(tmp_path.glob("classifier-*.npz"))) == 2
    saved[0].write_bytes(b"not a model")
    third = TextClassifier.fit(texts, labels, cache_dir=tmp_path)
    assert trained == [1, 1] and third.rank("new to the gym")[0][0] == "beginner"
