"""LegDay's FAQ: a validated knowledge base of short answers, and matching of free-text questions to it.

Matching is learned from data, at load time: every entry's question, example questions (`phrasings`), tags
and answer sentences are labelled examples of that entry, and the questions in rules/faq_off_topic.yaml are
examples of what LegDay does not answer (one more label, OFF_TOPIC). bot/classify.py turns each text, folded
through the shared vocabulary (rules/vocabulary.yaml), into TF-IDF words, character n-grams and static word
embeddings, and trains a linear model on them (cached between runs by a hash of what it learned from). For a
question it gives each label the model's margin, the similarity to the label's closest example and the
similarity of its embedding to the mean embedding of the label's examples (meaning, not shared words); small
models calibrated by cross-validation (bench/faq_calibrate.py) turn those, with each entry's number of
examples, into a ranking of the entries (so a server's new entry with three examples is judged as an entry
of its size, not against one with fifty) and a decision: answered when the best entry's blended score is
clear or its calibrated chance of being right is high enough, offered as "did you mean" when that chance is
middling, off-topic below. There are no word lists or weights per word in the code: to teach the matcher,
add example questions or vocabulary.
"""

from __future__ import annotations

import functools
import hashlib
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import yaml
from pydantic import AliasChoices, BaseModel, ConfigDict, Field, ValidationError, field_validator
from rapidfuzz import fuzz, process, utils

from bot.answers import ANSWER_LIMIT as ANSWER_LIMIT  # re-exported: callers know the limit as bot.faq's
from bot.answers import AnswerVariant, answer_problems
from bot.answers import render as render_answer_text
from bot.classify import TextClassifier, default_embedder
from bot.config import get_settings
from bot.errors import LegDayError
from bot.models import Profile
from bot.text import CONTENT_LIMIT, escape_user_text, neutralise_mentions, truncate
from bot.vocabulary import Vocabulary, load_vocabulary
from bot.yamlio import DataFileError, StrictLoader, describe_errors, read_text, read_yaml

# Only the first characters of a question are matched: enough for any real question, and it keeps a
# pasted essay from costing more than a normal question.
MAX_QUESTION_CHARS = 300
AUTOCOMPLETE_LIMIT = 25
AUTOCOMPLETE_NAME_LIMIT = 100

# The label of questions LegDay does not answer (no entry id can be empty).
OFF_TOPIC = ""
# The decision, calibrated by cross-validation (bench/faq_calibrate.py fits and prints these numbers): in each
# of 5 folds a fifth of the labelled questions is held out and a fifth of the entries is cut down to its
# question and 2-3 example questions, as a moderator's new entry would be; the spent moderator files'
# paraphrases (tests/data/faq_moderator*.yaml, their entries added as a server would) are rows too, and
# leave-one-file-out calibration measures what this gains on a file it did not see. PAIR_WEIGHTS rank the entries for
# a question (a choice model over `pair_features`, which know how many examples each entry has, so a new
# three-example entry is judged as an entry of its size); the best one is answered when its score is clear
# (`clear_score`) or when ANSWER_WEIGHTS (a logistic model over `answer_features`) give it a chance of being
# right of at least ANSWER_THRESHOLD; "did you mean" when its blended score reaches UNSURE_THRESHOLD (or its
# chance UNSURE_CHANCE); refused below. The off-topic features' weights came out zero (they only shift every
# entry alike).
PAIR_WEIGHTS = (-0.06914, 3.841, 1.142, 1.376, 1.142, 0.6545, -1.828, 1.026, 0.1217, 0.0, 0.0, 0.5362, -0.469, 0.0,
                1.552, 0.4092, 1.552, -0.3019)
ANSWER_WEIGHTS = (0.6855, 0.06113, 0.9147, -0.8654, 0.5157, -0.3866, 0.7148, 1.673, 0.09482, -0.5663, -0.4923, -0.4587,
                  -0.1991, 0.7152, -0.5666, 2.198, 1.271, -0.03206, 0.09468, -0.5421)
ANSWER_THRESHOLD = 0.7875
UNSURE_THRESHOLD = 0.725  # offered with the right entry first to 38% of the questions not answered, 2.3% of off-topic
# A best entry at least as likely right as not is offered as "did you mean" whatever its blended score.
UNSURE_CHANCE = 0.5
# An entry whose blended score (half the linear model's share, half the closest example's similarity) and
# lead over every other label clear these is answered whatever ANSWER_WEIGHTS say: the thresholds the
# previous 5-fold calibration chose, which answer most questions to entries with many examples rightly.
SCORE_ANSWER = 0.625
SCORE_LEAD = 0.475
# The linear model's margins become shares at this temperature (the score blends a share and a similarity).
SHARE_TEMPERATURE = 0.1
# Answer sentences of at least this many words are examples of their entry too (an answer says what its
# entry is about in words members use), at most _ANSWER_SENTENCES of them.
_SENTENCE_WORDS = 3
_ANSWER_SENTENCES = 12
# An off-topic example at least this similar (cosine, in the matcher's features) to an entry's example is
# covered by that entry and left out of training; a server's own example (one the off-topic list was not
# written against) claims the off-topic examples as close as _CLAIMED (calibrated on the moderator dev set).
_COVERED = 0.8
_CLAIMED = 0.5
# Training texts at most (a server of 200 entries with 80 examples each would take minutes to train), and
# the examples every entry keeps however many entries there are.
_MAX_EXAMPLES = 6000
_MIN_SHARE = 8
OFF_TOPIC_FILE = "faq_off_topic.yaml"
VOCABULARY_FILE = "vocabulary.yaml"

MatchStatus = Literal["answer", "unsure", "off-topic"]


class FaqError(LegDayError):
    """A FAQ file or entry that cannot be used; the message names the file, the entry and the field."""


# --------------------------------------------------------------------------------------------
# Entries


_ID_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


def _clean_lines(values: list[Any]) -> list[Any]:
    return [value.strip() if isinstance(value, str) else value for value in values]


class FaqEntry(BaseModel):
    """One question LegDay can answer: its stable id, how people ask it, and its answer (bot/answers.py)."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    id: str = Field(min_length=2, max_length=40, pattern=_ID_RE.pattern)
    question: str = Field(min_length=5, max_length=AUTOCOMPLETE_NAME_LIMIT)
    # Example questions the matcher learns the entry from; `examples` is accepted as another name.
    phrasings: list[str] = Field(min_length=1, max_length=80, validation_alias=AliasChoices("phrasings", "examples"))
    tags: list[str] = Field(default_factory=list, max_length=30)
    answer: str = Field(min_length=1, max_length=4000)  # its rendered length is checked against ANSWER_LIMIT
    variants: list[AnswerVariant] = Field(default_factory=list)
    sources: list[str] = Field(default_factory=list, max_length=10)

    @field_validator("phrasings", "tags", "sources", mode="before")
    @classmethod
    def _strip_items(cls, value: Any) -> Any:
        return _clean_lines(value) if isinstance(value, list) else value

    @field_validator("phrasings")
    @classmethod
    def _phrasings(cls, value: list[str]) -> list[str]:
        for text in value:
            if not 3 <= len(text) <= 200:
                raise ValueError(f"each phrasing needs 3 to 200 characters, not {len(text)}: {text[:40]!r}")
        return value

    @field_validator("tags")
    @classmethod
    def _tags(cls, value: list[str]) -> list[str]:
        for text in value:
            if not 1 <= len(text) <= 40:
                raise ValueError(f"each tag needs 1 to 40 characters: {text[:40]!r}")
        return value

    @field_validator("sources")
    @classmethod
    def _sources(cls, value: list[str]) -> list[str]:
        for text in value:
            if not 1 <= len(text) <= 120:
                raise ValueError(f"each source needs 1 to 120 characters: {text[:40]!r}")
        return value

    def render(self, profile: Profile | None = None) -> str:
        """The answer as Markdown, personalised when a profile is given; within Discord's limits."""
        return render_answer_text(self.answer, self.variants, profile)


# --------------------------------------------------------------------------------------------
# Matching


def example_questions(entry: FaqEntry) -> list[str]:
    """The texts the matcher learns an entry from: its question, its example questions, its tags together."""
    return _examples(entry.question, entry.phrasings, entry.tags)


def _examples(question: str, phrasings: Sequence[str], tags: Sequence[str]) -> list[str]:
    return [question, *phrasings, *([", ".join(tags)] if tags else [])]


_PLACEHOLDER_RE = re.compile(r"\{[a-z_]+\}")
_MARKUP_RE = re.compile(r"[*_`#>|\[\]()]+|\{\{|\}\}")
_SENTENCE_END_RE = re.compile(r"(?<=[.!?])\s+|\s*\n+\s*")


def answer_sentences(answer: str) -> list[str]:
    """The sentences of an answer that the matcher also learns its entry from (placeholders and Markdown out)."""
    text = _MARKUP_RE.sub(" ", _PLACEHOLDER_RE.sub(" ", answer))
    sentences = [" ".join(part.split()) for part in _SENTENCE_END_RE.split(text)]
    return [s[:200] for s in sentences if len(s.split()) >= _SENTENCE_WORDS][:_ANSWER_SENTENCES]


def matcher_texts(entry: FaqEntry) -> list[str]:
    """Everything the matcher learns an entry from: its example questions, then its answer's sentences."""
    return [*example_questions(entry), *answer_sentences(entry.answer)]


class OffTopicFile(BaseModel):
    """rules/faq_off_topic.yaml: `off_topic`, questions LegDay does not answer (the matcher's off-topic label)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    off_topic: list[str] = Field(min_length=1, max_length=5000)

    @field_validator("off_topic")
    @classmethod
    def _questions(cls, value: list[str]) -> list[str]:
        for text in value:
            if not 3 <= len(text) <= 200:
                raise ValueError(f"each question needs 3 to 200 characters, not {len(text)}: {text[:40]!r}")
        return value


def load_off_topic(path: Path) -> tuple[str, ...]:
    """Read the off-topic examples; every fault is a FaqError naming the file (and line, for YAML)."""
    try:
        data, node = read_yaml(Path(path))
        parsed = OffTopicFile.model_validate(data if data is not None else {})
    except DataFileError as exc:
        raise FaqError(str(exc)) from None
    except ValidationError as exc:
        raise FaqError("\n".join(describe_errors(exc, str(path), node))) from None
    return tuple(parsed.off_topic)


def _matching_data(rules_dir: Path) -> tuple[tuple[str, ...], Vocabulary]:
    """The off-topic examples and the vocabulary in a rules folder (either may be absent: none, then)."""
    off_path, vocabulary_path = rules_dir / OFF_TOPIC_FILE, rules_dir / VOCABULARY_FILE
    off_topic = load_off_topic(off_path) if off_path.exists() else ()
    try:
        vocabulary = load_vocabulary(vocabulary_path) if vocabulary_path.exists() else Vocabulary({})
    except DataFileError as exc:
        raise FaqError(str(exc)) from None
    return off_topic, vocabulary


@functools.lru_cache(maxsize=1)
def _shipped_matching_data() -> tuple[tuple[str, ...], Vocabulary, frozenset[str]]:
    """The shipped off-topic examples and vocabulary, and the example texts of the shipped FAQ file."""
    rules_dir = get_settings().rules_dir
    off_topic, vocabulary = _matching_data(rules_dir)
    try:
        raw = yaml.safe_load((rules_dir / "faq.yaml").read_text(encoding="utf-8")) or {}
        known = frozenset(
            text for item in raw.get("entries") or [] if isinstance(item, Mapping)
            for text in [*_examples(str(item.get("question", "")), [str(t) for t in item.get("phrasings") or []],
                                    [str(t) for t in item.get("tags") or []]),
                         *answer_sentences(str(item.get("answer", "")))]
        )
    except (OSError, yaml.YAMLError, AttributeError, TypeError):
        known = frozenset()
    return off_topic, vocabulary, known


def model_cache_dir() -> Path:
    """Where trained matchers are cached between runs (keyed by a hash of what they were trained from)."""
    return get_settings().data_dir / "models"


PAIR_FEATURES = ("share", "margin", "closest", "closest_lead", "closest_over_off", "margin_lead", "log_examples",
                 "closest_x_log_examples", "margin_x_log_examples", "off_share", "off_closest", "blend",
                 "blend_lead", "bias", "centroid", "centroid_lead", "centroid_over_off", "centroid_x_log_examples")


def pair_features(margins: np.ndarray, closest: np.ndarray, counts: np.ndarray,
                  labels: Sequence[str], centroid: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """What the matcher measured for one question, per entry: (entry columns, entries x PAIR_FEATURES).

    From the linear model's margins, the closest-example similarities and (when given) the centroid
    similarities of every label (the off-topic one included) and each label's number of examples: each
    entry's own values, its lead over the best other entry and over the off-topic label, and how many
    examples it has (log), with their products.
    """
    is_off = np.array([label == OFF_TOPIC for label in labels])
    entries = np.flatnonzero(~is_off)
    scaled = margins / SHARE_TEMPERATURE
    shares = np.exp(scaled - scaled.max())
    shares /= shares.sum()
    blend = 0.5 * shares + 0.5 * closest
    off = np.flatnonzero(is_off)
    off_share, off_closest, off_margin, off_blend = (
        (float(shares[off[0]]), float(closest[off[0]]), float(margins[off[0]]), float(blend[off[0]]))
        if len(off) else (0.0, 0.0, -1.0, 0.0))

    def lead(values: np.ndarray, floor: float) -> np.ndarray:
        """Each entry's value minus the best of the other entries' (and `floor`)."""
        own = values[entries]
        if len(own) < 2:
            return own - floor
        first, second = np.sort(own)[-1], np.sort(own)[-2]
        return own - np.maximum(np.where(own == first, second, first), floor)

    n = np.log(np.maximum(counts[entries], 1.0))
    c, m = closest[entries], margins[entries]
    centroid = np.zeros_like(closest) if centroid is None else centroid
    g, off_centroid = centroid[entries], float(centroid[off[0]]) if len(off) else 0.0
    features = np.stack([
        shares[entries], m, c, lead(closest, 0.0), c - off_closest, lead(margins, off_margin), n, c * n, m * n,
        np.full_like(c, off_share), np.full_like(c, off_closest), blend[entries], lead(blend, off_blend),
        np.ones_like(c), g, lead(centroid, off_centroid), g - off_centroid, g * n,
    ], axis=1)
    return entries, features


def answer_features(pair_scores: np.ndarray, features: np.ndarray) -> np.ndarray:
    """The best entry's pair score, its lead over the runner-up's, and its pair features (ANSWER_WEIGHTS')."""
    order = np.argsort(-pair_scores, kind="stable")
    best = order[0]
    lead = pair_scores[best] - pair_scores[order[1]] if len(order) > 1 else 5.0
    return np.r_[pair_scores[best], lead, features[best]]


def clear_score(features: np.ndarray) -> bool:
    """Whether an entry's blended score and its lead over every other label clear SCORE_ANSWER and SCORE_LEAD."""
    return bool(features[_BLEND] >= SCORE_ANSWER and features[_BLEND_LEAD] >= SCORE_LEAD)


_BLEND, _BLEND_LEAD = PAIR_FEATURES.index("blend"), PAIR_FEATURES.index("blend_lead")


def _sigmoid(value: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(min(value, 50.0), -50.0)))


@dataclass(frozen=True, slots=True)
class FaqMatch:
    """The outcome of matching one question: the confident entry (or None), and the closest others."""

    entry_id: str | None
    confidence: float
    alternatives: list[str]
    status: MatchStatus

    @property
    def best_id(self) -> str | None:
        """The closest entry whether or not the match is confident."""
        return self.entry_id or (self.alternatives[0] if self.alternatives else None)


@dataclass(frozen=True, slots=True)
class FaqReply:
    """A match plus the Markdown message to show for it (within Discord's 2,000 characters)."""

    match: FaqMatch
    text: str
    question: str | None = None

    @property
    def status(self) -> MatchStatus:
        """The match's status: answer, unsure or off-topic."""
        return self.match.status

    @property
    def entry_id(self) -> str | None:
        """The confidently matched entry's id, or None."""
        return self.match.entry_id


class FaqBase:
    """A validated set of FAQ entries, indexed for matching. Build with `load_faq` or `from_entries`."""

    def __init__(self, entries: Sequence[FaqEntry], source: str, off_topic: Sequence[str] | None = None,
                 vocabulary: Vocabulary | None = None, known_examples: Iterable[str] | None = None) -> None:
        """Train the matcher on already-validated entries; use `from_entries` for raw data from a person.

        `off_topic` (questions LegDay does not answer) and `vocabulary` default to the shipped ones.
        `known_examples` are the example texts the off-topic list was written against (by default: the
        shipped FAQ's when the off-topic list is the shipped one, else these entries'); any other example
        is a server's own, and claims the off-topic examples as close to it as _CLAIMED.
        """
        self.source = source
        self._entries: tuple[FaqEntry, ...] = tuple(entries)
        self._by_id = {entry.id: entry for entry in self._entries}
        self._index = {entry.id: number for number, entry in enumerate(self._entries)}
        shipped = _shipped_matching_data() if off_topic is None or vocabulary is None else None
        self.off_topic: tuple[str, ...] = tuple(off_topic if off_topic is not None else shipped[0])
        self.vocabulary: Vocabulary = vocabulary if vocabulary is not None else shipped[1]
        if known_examples is None:
            known_examples = shipped[2] if off_topic is None else (
                text for entry in self._entries for text in matcher_texts(entry))
        self.known_examples: frozenset[str] = frozenset(known_examples)
        self._train()
        self._topic_keys = [f"{entry.id.replace('-', ' ')} {entry.question}" for entry in self._entries]

    # ---- building

    @classmethod
    def from_entries(cls, entries: Iterable[Mapping[str, Any] | FaqEntry], source: str,
                     off_topic: Sequence[str] | None = None, vocabulary: Vocabulary | None = None,
                     known_examples: Iterable[str] | None = None) -> FaqBase:
        """Validate entries (raw dicts or FaqEntry) and index them; raises FaqError listing every problem."""
        checked: list[FaqEntry] = []
        problems: list[str] = []
        seen: dict[str, int] = {}
        for number, raw in enumerate(entries, start=1):
            try:
                entry = raw if isinstance(raw, FaqEntry) else validate_entry(raw, source, number)
            except FaqError as exc:
                problems.append(str(exc))
                continue
            if entry.id in seen:
                problems.append(
                    f"{source}: entry '{entry.id}' (#{number}), field 'id': duplicate id, "
                    f"already used by entry #{seen[entry.id]}"
                )
                continue
            seen[entry.id] = number
            checked.append(entry)
        if not checked and not problems:
            problems.append(f"{source}: field 'entries': the list is empty; add at least one entry")
        if problems:
            raise FaqError("\n".join(problems))
        return cls(checked, source, off_topic, vocabulary, known_examples)

    def _train(self) -> None:
        self._classifier: TextClassifier | None = None
        self._labels: tuple[str, ...] = ()
        if not self._entries:  # nothing to answer (a server that removed every entry is refused elsewhere)
            return
        texts: list[str] = []
        labels: list[str] = []
        # A bound on training time whatever a server saves: past _MAX_EXAMPLES texts, each entry keeps its
        # first share of them (its question and first example questions).
        share = max(_MIN_SHARE, _MAX_EXAMPLES // (len(self._entries) + 1))
        for entry in self._entries:
            for text in matcher_texts(entry)[:share]:
                texts.append(text)
                labels.append(entry.id)
        texts.extend(text for text in dict.fromkeys(self.off_topic) if text.strip())
        labels.extend([OFF_TOPIC] * (len(texts) - len(labels)))
        if len(set(labels)) < 2:  # one entry and no off-topic examples: an empty text stands for "anything else"
            texts.append("")
            labels.append(OFF_TOPIC)
        # An off-topic example as close as _COVERED to an entry's example (as _CLAIMED to a server's own
        # example) is left out: the entry covers it, so a server's entry on easy-run pace is not outvoted
        # by the shipped off-topic "what pace should my easy runs be".
        limits = [_COVERED if text in self.known_examples else _CLAIMED for text in texts]
        self._classifier = TextClassifier.fit(texts, labels, self.vocabulary, default_embedder(),
                                              background=OFF_TOPIC, covered=limits, cache_dir=model_cache_dir())
        self._labels = self._classifier.labels

    # ---- reading

    @property
    def entries(self) -> tuple[FaqEntry, ...]:
        """Every entry, in file order."""
        return self._entries

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, entry_id: object) -> bool:
        return entry_id in self._by_id

    def get(self, entry_id: str) -> FaqEntry | None:
        """The entry with this id, or None."""
        return self._by_id.get(entry_id)

    @functools.cached_property
    def version(self) -> str:
        """A short hash of the entries, so a stored answer can say which knowledge base it came from."""
        blob = "\n".join(entry.model_dump_json() for entry in self._entries)
        return hashlib.sha256(blob.encode()).hexdigest()[:12]

    def topics(self) -> list[tuple[str, str]]:
        """(id, canonical question) for every entry, in file order."""
        return [(entry.id, entry.question) for entry in self._entries]

    def search_topics(self, prefix_or_words: str, limit: int = AUTOCOMPLETE_LIMIT) -> list[tuple[str, str]]:
        """Topics for autocomplete: (id, name ≤100 characters), best first, at most 25."""
        limit = max(0, min(limit, AUTOCOMPLETE_LIMIT))
        text = str(prefix_or_words or "")[:MAX_QUESTION_CHARS].strip().lower()
        if not text:
            chosen = list(range(len(self._entries)))[:limit]
        else:
            by_id = [n for n, entry in enumerate(self._entries) if entry.id.startswith(text)]
            scored = process.extract(
                text, self._topic_keys, scorer=fuzz.WRatio, processor=utils.default_process,
                limit=limit + len(by_id), score_cutoff=50,
            )
            chosen = by_id + [index for _, _, index in scored if index not in by_id]
            if not chosen:
                # Fall back to the matcher, which knows slang and typos.
                found = self.match(text)
                chosen = [self._index[i] for i in ([found.entry_id] if found.entry_id else []) +
                          found.alternatives]
        return [
            (self._entries[n].id, truncate(self._entries[n].question, AUTOCOMPLETE_NAME_LIMIT))
            for n in chosen[:limit]
        ]

    # ---- matching

    def _measure(self, question: str) -> tuple[np.ndarray, np.ndarray]:
        """The entries (label columns) and their calibrated scores as the answer to a question."""
        margins, closest, centroid = self._classifier.all_parts([question[:MAX_QUESTION_CHARS]])
        entries, features = pair_features(margins[0], closest[0], self._classifier.counts, self._labels, centroid[0])
        return entries, features

    def scores(self, text: str) -> list[tuple[str, float]]:
        """Every entry with its calibrated score (0-1) as the answer to a question, best first."""
        if self._classifier is None or not str(text or "").strip():
            return []
        entries, features = self._measure(str(text))
        pair = features @ np.asarray(PAIR_WEIGHTS)
        order = np.argsort(-pair, kind="stable")
        return [(self._labels[entries[i]], _sigmoid(float(pair[i]))) for i in order]

    def match(self, text: str) -> FaqMatch:
        """The entry a free-text question asks about, with a confidence; see the module docstring."""
        question = str(text or "").strip()
        if not question or self._classifier is None:
            return FaqMatch(None, 0.0, [], "off-topic")
        entries, features = self._measure(question)
        if not len(entries):
            return FaqMatch(None, 0.0, [], "off-topic")
        pair = features @ np.asarray(PAIR_WEIGHTS)
        order = np.argsort(-pair, kind="stable")
        ids = [self._labels[entries[i]] for i in order[:4]]
        confidence = round(_sigmoid(float(answer_features(pair, features) @ np.asarray(ANSWER_WEIGHTS))), 3)
        if clear_score(features[order[0]]):
            confidence = max(confidence, round(float(features[order[0], _BLEND]), 3))
            return FaqMatch(ids[0], confidence, ids[1:4], "answer")
        if confidence >= ANSWER_THRESHOLD:
            return FaqMatch(ids[0], confidence, ids[1:4], "answer")
        unsure = features[order[0], _BLEND] >= UNSURE_THRESHOLD or confidence >= UNSURE_CHANCE
        return FaqMatch(None, confidence, ids[:3], "unsure" if unsure else "off-topic")

    # ---- answering

    def render_answer(self, entry_id: str, profile: Profile | None = None) -> str:
        """An entry's answer as Markdown, personalised when a profile is given; within Discord's limits."""
        entry = self._by_id.get(entry_id)
        if entry is None:
            raise KeyError(f"No FAQ entry with id '{entry_id}'.")
        return entry.render(profile)

    def _topic_line(self, ids: Iterable[str]) -> str:
        return "\n".join(
            f"- {neutralise_mentions(self._by_id[i].question)} (`{i}`)" for i in ids if i in self._by_id
        )

    def answer(self, text: str, profile: Profile | None = None) -> FaqReply:
        """Match a question and build the message to show: the answer, a 'did you mean', or a polite no."""
        question = str(text or "").strip()
        if not question:
            some = ", ".join(f"`{entry_id}`" for entry_id, _ in self.topics()[:6])
            message = f"Ask me a question about leg strength for running, for example about {some}."
            return FaqReply(FaqMatch(None, 0.0, [], "off-topic"), message, None)
        found = self.match(question)
        if found.status == "answer" and found.entry_id is not None:
            heading = neutralise_mentions(self._by_id[found.entry_id].question)
            message = f"**{heading}**\n{self.render_answer(found.entry_id, profile)}"
        elif found.status == "unsure":
            message = (
                "I'm not sure which of these you mean. Did you mean:\n"
                + self._topic_line(found.alternatives)
                + "\nAsk again with one of them, or use its id."
            )
        else:
            known = ", ".join(f"`{entry_id}`" for entry_id, _ in self.topics())
            message = (
                "Sorry, I can't help with that: I only answer questions about leg strength work for "
                f"runners. Topics I know: {known}."
            )
        shown = escape_user_text(question[:MAX_QUESTION_CHARS])
        return FaqReply(found, truncate(message, CONTENT_LIMIT), shown)


# --------------------------------------------------------------------------------------------
# Loading


def _entry_label(raw: Any, number: int) -> str:
    entry_id = raw.get("id") if isinstance(raw, Mapping) else None
    return f"entry '{entry_id}' (#{number})" if isinstance(entry_id, str) and entry_id else f"entry #{number}"


def _field_path(loc: Sequence[Any]) -> str:
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "entry"


def validate_entry(raw: Mapping[str, Any] | Any, source: str, number: int = 1) -> FaqEntry:
    """One entry from a file or a moderator's edit, fully checked (answer template included)."""
    label = _entry_label(raw, number)
    if not isinstance(raw, Mapping):
        raise FaqError(f"{source}: {label}: each entry must be a mapping of fields, not {type(raw).__name__}")
    try:
        entry = FaqEntry.model_validate(dict(raw))
    except ValidationError as exc:
        lines = []
        for item in exc.errors():
            where = _field_path(item["loc"])
            if item["type"] == "missing":
                lines.append(f"{source}: {label}, field '{where}': missing (required)")
            elif item["type"] == "extra_forbidden":
                known = ", ".join(FaqEntry.model_fields)
                lines.append(f"{source}: {label}, field '{where}': not a known field (fields: {known})")
            else:
                lines.append(f"{source}: {label}, field '{where}': {item['msg']}")
        raise FaqError("\n".join(lines)) from None
    problems = answer_problems(entry.answer, entry.variants)
    if problems:
        raise FaqError("\n".join(f"{source}: {label}, field 'answer': {problem}" for problem in problems))
    return entry


def _fast_strict_loader() -> type | None:
    """StrictLoader's policy (a key given twice is an error) on libyaml's C parser, when PyYAML has it."""
    base = getattr(yaml, "CSafeLoader", None)
    if base is None:
        return None
    loader = type("FastStrictLoader", (base,), {})
    tag = yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG
    loader.add_constructor(tag, StrictLoader.yaml_constructors[tag])
    return loader


_FastStrictLoader = _fast_strict_loader()


def load_faq(path: Path) -> FaqBase:
    """Load and validate a FAQ file (top-level key `entries:`); raises FaqError, never half-loads."""
    path = Path(path)
    source = str(path)
    try:
        text = read_text(path)
    except FileNotFoundError:
        raise FaqError(f"{source}: file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise FaqError(f"{source}: cannot read the file: {exc}") from None
    except DataFileError as exc:
        raise FaqError(str(exc)) from None
    try:
        try:  # libyaml's parser when present (ten times faster); the pure-Python one names any fault
            data = yaml.load(text, Loader=_FastStrictLoader) if _FastStrictLoader else None
        except yaml.YAMLError:
            data = None
        if data is None:
            data = yaml.load(text, Loader=StrictLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f", line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise FaqError(f"{source}{where}: YAML syntax error: {problem}") from None
    if not isinstance(data, Mapping) or "entries" not in data:
        raise FaqError(f"{source}: field 'entries': missing; the file must start with `entries:`")
    extra = sorted(str(key) for key in data if key != "entries")
    if extra:
        raise FaqError(f"{source}: field '{extra[0]}': unknown top-level key; only `entries:` is allowed")
    entries = data["entries"]
    if not isinstance(entries, list):
        raise FaqError(f"{source}: field 'entries': must be a list of entries")
    off_topic, vocabulary = _matching_data(path.parent)
    return FaqBase.from_entries(entries, source, off_topic, vocabulary)


def default_faq_path() -> Path:
    """Where the shipped FAQ lives: the rules folder from Settings."""
    return get_settings().rules_dir / "faq.yaml"


@functools.lru_cache(maxsize=1)
def default_faq() -> FaqBase:
    """The shipped FAQ, loaded once per process (front-ends share it)."""
    return load_faq(default_faq_path())
