"""The shared vocabulary: variants fold to their term, files are validated, servers can extend it."""

from pathlib import Path

import pytest

from bot.vocabulary import Vocabulary, load_vocabulary
from bot.yamlio import DataFileError

RULES = Path(__file__).resolve().parents[1] / "rules"


def test_shipped_vocabulary_folds_slang_to_terms():
    """Slang, typos and abbreviations in the shipped file become LegDay's own words."""
    vocabulary = load_vocabulary(RULES / "vocabulary.yaml")
    assert vocabulary.normalise("Hammies sore, 30 MPW, noob") == "hamstring sore, 30 miles per week, beginner"


def test_variants_match_whole_words_only():
    """A variant inside a longer word is left alone ("db" is not rewritten inside "dbx")."""
    vocabulary = Vocabulary.from_mapping({"dumbbells": ["db"]})
    assert vocabulary.normalise("db or dbx") == "dumbbells or dbx"


def test_a_variant_of_two_terms_is_refused():
    """One variant can mean only one thing; the error names both terms."""
    with pytest.raises(DataFileError, match="both 'knee' and 'shin'"):
        Vocabulary.from_mapping({"knee": ["sore bit"], "shin": ["sore bit"]})


def test_a_server_can_add_its_own_words():
    """A server's words extend the shipped vocabulary without changing it."""
    base = Vocabulary.from_mapping({"strength": ["lifting"]})
    server = base.merged({"strength": ["leg day"], "hill": ["fell"]})
    assert server.normalise("leg day on the fell") == "strength on the hill"
    assert base.normalise("leg day") == "leg day"


def test_a_broken_file_names_the_file(tmp_path):
    """A file of the wrong shape is a DataFileError naming the file."""
    path = tmp_path / "vocabulary.yaml"
    path.write_text("terms: [not, a, mapping]\n")
    with pytest.raises(DataFileError, match=r"vocabulary\.yaml"):
        load_vocabulary(path)
