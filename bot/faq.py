"""LegDay's FAQ: a validated knowledge base of short answers, and matching of free-text questions to it.

Matching is learned from data, at load time: every entry's question, example questions (`phrasings`) and
tags are labelled examples of that entry, and the questions in rules/faq_off_topic.yaml are examples of
what LegDay does not answer (one more label, OFF_TOPIC). bot/classify.py turns each text, folded through
the shared vocabulary (rules/vocabulary.yaml), into TF-IDF words, character n-grams and static word
embeddings, and trains a linear model on them. A question's score for a label blends the model's share
with its similarity to that label's closest example, so a server's new entry with three examples is found
as readily as a shipped one with fifty. The best label is answered when its score and its lead over the
runner-up clear thresholds calibrated by cross-validation on the labelled questions (bench/faq_calibrate.py);
a weaker best entry is offered as "did you mean"; off-topic otherwise. There are no word lists or weights
per word in the code: to teach the matcher, add example questions or vocabulary.
"""

from __future__ import annotations

import functools
import hashlib
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
# Calibrated by 5-fold cross-validation on the labelled questions (bench/faq_calibrate.py, which prints
# them): how much of a score is the linear model's share (the rest is the closest example's similarity),
# the score and the lead over the runner-up (the off-topic label included) a confident answer needs, and
# the best entry's score below which even "did you mean" is not offered (0.4: offered with the right entry
# first to 67% of the on-topic questions not answered, and to 5% of the off-topic ones).
BLEND = 0.5
# Closest-example similarities may be turned into shares at a temperature (None: used as they are), and a
# label with n examples may trust the linear model only n / (n + EXAMPLES_PRIOR) as much as BLEND says;
# cross-validation tried 0.02 and 0.05, and priors of 5 and 15, and chose neither.
SIMILARITY_TEMPERATURE: float | None = None
EXAMPLES_PRIOR = 0.0
ANSWER_THRESHOLD = 0.625
ANSWER_MARGIN = 0.475
UNSURE_THRESHOLD = 0.4
# An off-topic example at least this similar (cosine, in the matcher's features) to an entry's example is
# covered by that entry and left out of training; a server's own example (one the off-topic list was not
# written against) claims the off-topic examples as close as _CLAIMED (calibrated on the moderator dev set).
_COVERED = 0.8
_CLAIMED = 0.5
# Training texts at most (a server of 200 entries with 60 examples each would take minutes to train), and
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
    phrasings: list[str] = Field(min_length=1, max_length=60, validation_alias=AliasChoices("phrasings", "examples"))
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
            for text in _examples(str(item.get("question", "")), [str(t) for t in item.get("phrasings") or []],
                                  [str(t) for t in item.get("tags") or []])
        )
    except (OSError, yaml.YAMLError, AttributeError, TypeError):
        known = frozenset()
    return off_topic, vocabulary, known


def blend_scores(shares: np.ndarray, closest: np.ndarray, counts: np.ndarray, blend: float | None = None,
                 temperature: float | bool | None = False, prior: float | None = None) -> np.ndarray:
    """Scores (texts x labels) from the linear model's shares and the closest-example similarities.

    The parameters default to the calibrated BLEND, SIMILARITY_TEMPERATURE and EXAMPLES_PRIOR.
    """
    blend = BLEND if blend is None else blend
    temperature = SIMILARITY_TEMPERATURE if temperature is False else temperature
    prior = EXAMPLES_PRIOR if prior is None else prior
    if temperature:
        scaled = closest / temperature
        scaled = np.exp(scaled - scaled.max(axis=1, keepdims=True))
        closest = scaled / scaled.sum(axis=1, keepdims=True)
    weight = blend * counts / (counts + prior)
    return weight * shares + (1 - weight) * closest


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
                text for entry in self._entries for text in example_questions(entry))
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
            for text in example_questions(entry)[:share]:
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
                                              background=OFF_TOPIC, covered=limits)
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

    def scores(self, text: str) -> list[tuple[str, float]]:
        """Every label (entry ids, and OFF_TOPIC) with its score for a question, best first.

        A score blends the linear model's share with the similarity to the label's closest example
        (weights calibrated by cross-validation: bench/faq_calibrate.py).
        """
        if self._classifier is None:
            return []
        question = str(text or "")[:MAX_QUESTION_CHARS]
        shares, closest = self._classifier.scores([question])
        blended = blend_scores(shares, closest, self._classifier.counts)[0]
        order = np.argsort(-blended, kind="stable")
        return [(self._labels[i], float(blended[i])) for i in order]

    def match(self, text: str) -> FaqMatch:
        """The entry a free-text question asks about, with a confidence; see the module docstring."""
        question = str(text or "").strip()
        if not question:
            return FaqMatch(None, 0.0, [], "off-topic")
        ranked = self.scores(question)
        entries = [(label, score) for label, score in ranked if label != OFF_TOPIC]
        ids = [label for label, _ in entries[:4]]
        if not entries:
            return FaqMatch(None, 0.0, [], "off-topic")
        (best, best_score), (_, second_score) = ranked[0], ranked[1] if len(ranked) > 1 else ("", 0.0)
        confidence = round(min(max(entries[0][1], 0.0), 1.0), 3)
        if best != OFF_TOPIC and best_score >= ANSWER_THRESHOLD and best_score - second_score >= ANSWER_MARGIN:
            return FaqMatch(best, confidence, ids[1:4], "answer")
        status: MatchStatus = "unsure" if entries[0][1] >= UNSURE_THRESHOLD and best != OFF_TOPIC else "off-topic"
        return FaqMatch(None, confidence, ids[:3], status)


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
