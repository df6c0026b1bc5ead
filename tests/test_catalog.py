"""The shipped data files load, and a broken one is reported with file, line and field, never half-loaded."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from bot.catalog import load_catalog
from bot.config import ROOT
from bot.engine import load_ruleset
from bot.yamlio import DataFileError


@pytest.fixture
def rules_copy(tmp_path: Path) -> Path:
    target = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", target)
    return target


def test_shipped_files_load_with_every_article_exercise():
    """The shipped catalogue has the article's exercises, three level templates and the three progressions."""
    catalog = load_catalog(ROOT / "rules")
    for ex in ("goblet-squat", "reverse-lunge", "calf-raise-slow", "glute-bridge", "bulgarian-split-squat",
               "single-leg-rdl", "box-jump", "step-up-drive", "nordic-hamstring", "hamstring-curl", "back-squat",
               "front-squat", "weighted-step-up", "bounding", "depth-jump", "eccentric-calf-lower", "clamshell",
               "banded-lateral-walk", "dead-bug", "split-squat", "step-up"):
        assert ex in catalog.exercises
    for item in ("leg-swings", "strides", "foam-roll", "ankle-dorsiflexion", "hip-flexor-release", "thoracic-rotation"):
        assert item in catalog.items
    assert {t.level.value: t.minutes for t in catalog.templates.values()} == {
        "beginner": (20, 30), "intermediate": (30, 40), "advanced": (40, 50)}
    assert set(catalog.progressions) == {"build", "maintain", "hold"}


def test_every_shipped_rule_file_is_valid_and_big_enough():
    """All shipped rule files load together (any broken file would be listed) with at least 25 rules."""
    ruleset = load_ruleset(ROOT / "rules")
    assert len(ruleset.rules) >= 25
    tags = {tag for rule in ruleset.rules for tag in rule.tags}
    assert {"level", "volume", "goals", "race", "niggles", "equipment", "scheduling", "safety"} <= tags


def test_typo_in_exercise_field_names_file_line_and_field(rules_copy):
    """A mistyped field in exercises.yaml is reported with its file, line, exercise id and field."""
    path = rules_copy / "exercises.yaml"
    text = path.read_text().replace("    rest_seconds: 75\n    cue: Hold",
                                    "    rest_secnds: 75\n    cue: Hold", 1)
    path.write_text(text)
    with pytest.raises(DataFileError) as info:
        load_catalog(rules_copy)
    line = text.splitlines().index("    rest_secnds: 75") + 1
    assert any(f"exercises.yaml:{line}: 'goblet-squat' field 'rest_secnds'" in p for p in info.value.problems)


def test_unknown_substitute_and_template_exercise_are_both_reported(rules_copy):
    """Broken references in two files are all reported in one go."""
    ex = rules_copy / "exercises.yaml"
    ex.write_text(ex.read_text().replace("substitutes: [box-squat, bodyweight-squat]", "substitutes: [box-sqat]"))
    ses = rules_copy / "sessions.yaml"
    ses.write_text(ses.read_text().replace("{id: glute-bridge, sets: 2", "{id: glute-brige, sets: 2", 1))
    with pytest.raises(DataFileError) as info:
        load_catalog(rules_copy)
    text = str(info.value)
    assert "unknown exercise 'box-sqat'" in text
    assert "unknown exercise 'glute-brige'" in text


def test_yaml_syntax_error_gives_the_line(rules_copy):
    """A YAML syntax error names the file and line."""
    path = rules_copy / "progressions.yaml"
    lines = path.read_text().splitlines()
    at = next(i for i, line in enumerate(lines) if "{label:" in line)
    lines[at] = lines[at].replace("}", "")  # an unclosed flow mapping
    path.write_text("\n".join(lines))
    with pytest.raises(DataFileError, match=r"progressions.yaml:\d+: YAML syntax error"):
        load_catalog(rules_copy)


def test_effort_targets_never_reach_failure(rules_copy):
    """A progression with 0 reps in reserve (training to failure) is rejected."""
    path = rules_copy / "progressions.yaml"
    path.write_text(path.read_text().replace("rir: [1, 2]", "rir: [0, 2]", 1))
    with pytest.raises(DataFileError, match="reps in reserve, each from 1 to 4"):
        load_catalog(rules_copy)


def test_race_policy_faults_are_reported_with_lines(rules_copy):
    """races.yaml: a recovery shorter than the rest days after a race is named with file and line."""
    path = rules_copy / "races.yaml"
    path.write_text(path.read_text().replace("half: {rest_days: 2, recovery_days: 7}",
                                             "half: {rest_days: 5, recovery_days: 2}"))
    with pytest.raises(DataFileError) as info:
        load_catalog(rules_copy)
    assert re.search(r"races.yaml:\d+: race policy field 'distances.half': recovery_days must be at least",
                     str(info.value))


def test_race_policy_needs_every_distance(rules_copy):
    """Every race distance (and `unknown`) needs its recovery; a missing one is named."""
    path = rules_copy / "races.yaml"
    path.write_text(path.read_text().replace("  ultra: {rest_days: 4, recovery_days: 14}\n", ""))
    with pytest.raises(DataFileError, match=r"distances must cover \['ultra'\]"):
        load_catalog(rules_copy)


def test_race_policy_primer_must_come_after_the_last_full_session(rules_copy):
    """A primer window that overlaps the last full session's days is rejected with what is accepted."""
    path = rules_copy / "races.yaml"
    path.write_text(path.read_text().replace("last_full_session_days: [7, 10]", "last_full_session_days: [3, 10]"))
    with pytest.raises(DataFileError, match="last_full_session_days must be"):
        load_catalog(rules_copy)


def test_unknown_primer_jump_is_named(rules_copy):
    """A primer jump that is not in the catalogue is named with its line."""
    path = rules_copy / "races.yaml"
    path.write_text(path.read_text().replace("jumps: [pogo-hops,", "jumps: [pogo-hop,"))
    with pytest.raises(DataFileError, match=r"races.yaml:\d+: unknown exercise 'pogo-hop'"):
        load_catalog(rules_copy)


def test_dosing_and_placement_policies_are_validated(rules_copy):
    """A default hold outside its own range and an unknown focus category are both reported, with lines."""
    dosing = rules_copy / "dosing.yaml"
    dosing.write_text(dosing.read_text().replace("hold_default_seconds: 30", "hold_default_seconds: 90"))
    placement = rules_copy / "placement.yaml"
    placement.write_text(placement.read_text().replace("{category: core, words: core}", "{category: cor, words: core}"))
    with pytest.raises(DataFileError) as info:
        load_catalog(rules_copy)
    message = str(info.value)
    assert "dosing.yaml" in message and "hold_default_seconds inside" in message
    assert re.search(r"placement.yaml:\d+: placement policy field 'focus_parts.6.category'", message)


def test_unknown_item_substitute_is_named(rules_copy):
    """A warm-up item's substitute (for a niggle) must be a known item."""
    path = rules_copy / "exercises.yaml"
    path.write_text(path.read_text().replace("substitute: easy-jog,", "substitute: easy-jogg,"))
    with pytest.raises(DataFileError, match=r"'strides' field 'substitute': unknown item 'easy-jogg'"):
        load_catalog(rules_copy)


def test_claims_name_known_exercises(rules_copy):
    """A note claim about an exercise the catalogue doesn't have is reported."""
    path = rules_copy / "claims.yaml"
    path.write_text(path.read_text().replace("has_ids: [step-up]}", "has_ids: [step-upp]}"))
    with pytest.raises(DataFileError, match=r"claims.yaml: 'goal-hills': unknown exercise 'step-upp'"):
        load_catalog(rules_copy)


def test_emphasis_must_cover_every_goal(rules_copy):
    """Every goal needs an emphasis entry (general may be empty); a missing one is named."""
    path = rules_copy / "emphasis.yaml"
    path.write_text(path.read_text().replace("  general: {}\n", ""))
    with pytest.raises(DataFileError, match=r"goals must cover \['general'\] too"):
        load_catalog(rules_copy)


def test_calm_tempo_cuts_only_a_slow_lowering():
    """rules/dosing.yaml calm_lowering_seconds: a 3-second lowering becomes 2 s (the other counts kept); a tempo
    that already lowers in 2 s or less, an explosive one or an untimed one is left as it is (COACHING.md 23-25)."""
    dosing = load_catalog(ROOT / "rules").dosing
    assert dosing.calm_lowering_seconds == 2
    assert dosing.calm_tempo("3-1-1") == "2-1-1" and dosing.calm_tempo("3-0-1") == "2-0-1"
    assert dosing.calm_tempo("4 s down") == "2 s down"
    assert [dosing.calm_tempo(t) for t in ("2-0-1", "1-2-2", "X-0-1", "fast up, 2 s down", "slow", None)] == [
        "2-0-1", "1-2-2", "X-0-1", "fast up, 2 s down", "slow", None]
    assert dosing.seconds_per_rep(dosing.calm_tempo("3-1-1")) == 4  # the minutes follow the tempo shown (28)
