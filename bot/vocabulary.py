"""One vocabulary of runner words, shared by the FAQ matcher and the chat reader, read from rules/vocabulary.yaml.

A term is the word LegDay uses ("hamstring"); its variants are the ways members write it ("hammies", "hams").
Both readers fold variants to their term before anything else, so a word known to one is known to the other,
and a server's moderators can add their own community's words without a code change.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from bot.yamlio import DataFileError, describe_errors, read_yaml

_SPACE_RE = re.compile(r"\s+")


def _clean(text: str) -> str:
    return _SPACE_RE.sub(" ", text.strip().lower())


class VocabularyFile(BaseModel):
    """The file's shape: `terms`, a mapping from each term to the variants members write for it."""

    model_config = ConfigDict(extra="forbid")

    terms: dict[str, list[str]]

    @field_validator("terms")
    @classmethod
    def _terms(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        cleaned: dict[str, list[str]] = {}
        owner: dict[str, str] = {}
        for term, variants in value.items():
            term = _clean(term)
            if not term:
                raise ValueError("a term can't be empty")
            for variant in map(_clean, variants):
                if not variant or variant == term:
                    continue
                if variant in owner and owner[variant] != term:
                    raise ValueError(f"'{variant}' is a variant of both '{owner[variant]}' and '{term}'")
                owner[variant] = term
                cleaned.setdefault(term, []).append(variant)
            cleaned.setdefault(term, [])
        return cleaned


@dataclass(frozen=True)
class Vocabulary:
    """Variants folded to their terms: `normalise` rewrites a text so every reader sees the same words."""

    terms: Mapping[str, tuple[str, ...]]

    @classmethod
    def from_mapping(cls, terms: Mapping[str, list[str]], source: str = "vocabulary") -> Vocabulary:
        """Validate a term -> variants mapping (a file's or a server's) into a Vocabulary."""
        try:
            parsed = VocabularyFile(terms=dict(terms))
        except ValidationError as exc:
            raise DataFileError(describe_errors(exc, source, None)) from None
        return cls({term: tuple(variants) for term, variants in parsed.terms.items()})

    def merged(self, extra: Mapping[str, list[str]], source: str = "server vocabulary") -> Vocabulary:
        """The vocabulary plus a server's own words (its variants may extend or add terms)."""
        combined = {term: list(variants) for term, variants in self.terms.items()}
        for term, variants in extra.items():
            combined.setdefault(_clean(term), []).extend(variants)
        return Vocabulary.from_mapping(combined, source)

    @functools.cached_property
    def variant_to_term(self) -> dict[str, str]:
        """Every variant, mapped to its term."""
        return {variant: term for term, variants in self.terms.items() for variant in variants}

    @functools.cached_property
    def _pattern(self) -> re.Pattern[str] | None:
        variants = sorted(self.variant_to_term, key=len, reverse=True)  # longest first: "hip flexor" before "hip"
        if not variants:
            return None
        return re.compile(r"(?<![\w'])(" + "|".join(map(re.escape, variants)) + r")(?![\w'])")

    def normalise(self, text: str) -> str:
        """Lower-case text with every variant replaced by its term ("my hammies r sore" -> "my hamstring r sore")."""
        lowered = text.lower()
        pattern = self._pattern
        if pattern is None:
            return lowered
        lookup = self.variant_to_term
        return pattern.sub(lambda match: lookup[match.group(1)], lowered)


def load_vocabulary(path: Path) -> Vocabulary:
    """Read and validate a vocabulary file; every fault is a DataFileError naming the file and line."""
    data, node = read_yaml(path)
    try:
        parsed = VocabularyFile.model_validate(data if data is not None else {})
    except ValidationError as exc:
        raise DataFileError(describe_errors(exc, str(path), node)) from None
    return Vocabulary({term: tuple(variants) for term, variants in parsed.terms.items()})
