"""Command-line input that used to crash gives a clear message and exit 2, and masked links are inert."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.cli import main
from bot.text import escape_user_text, neutralise_links

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("day", ["9999-12-31", "9999-12-20", "0001-01-01"])
def test_preview_start_outside_the_calendar_exits_2(day, capsys):
    """A block that would run past the last date Python knows is refused with the accepted range."""
    with pytest.raises(SystemExit) as exit_info:
        main(["preview", "--start", day])
    assert exit_info.value.code == 2
    assert "outside the dates a plan can use" in capsys.readouterr().err


def test_preview_near_the_end_of_the_calendar_still_plans(capsys):
    """The latest accepted start still gives a whole plan."""
    assert main(["preview", "--start", "9998-12-01"]) == 0
    assert "4-week" in capsys.readouterr().out


def test_faq_file_that_is_a_device_exits_2_without_reading_it(capsys):
    """`--file /dev/zero` would be read for ever; it is refused at once."""
    assert main(["faq", "how often", "--file", "/dev/zero"]) == 2
    assert "isn't a regular file" in capsys.readouterr().err


@pytest.mark.parametrize("content", [b"rules:\n  - id: \xff\xfe\n", b"rules: " + b"[" * 5000 + b"]" * 5000 + b"\n"])
def test_rules_check_on_a_file_that_isnt_yaml_text_exits_2(tmp_path, capsys, content):
    """A non-UTF-8 or absurdly nested rule file is named with what is wrong, no traceback, exit 2."""
    folder = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", folder)
    (folder / "rules" / "99-bad.yaml").write_bytes(content)
    assert main(["rules", "check", str(folder)]) == 2
    out = capsys.readouterr().out
    assert "99-bad.yaml" in out and ("isn't UTF-8" in out or "nested too deeply" in out)


def test_duplicate_key_in_a_rule_file_is_refused_with_its_line(tmp_path, capsys):
    """Two `priority:` keys in one rule are an error naming the file and line, not a silent last-wins."""
    folder = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", folder)
    (folder / "rules" / "99-dup.yaml").write_text(
        "rules:\n  - id: dup\n    description: d\n    priority: 1\n    priority: 900\n    then: [{note: x}]\n")
    assert main(["rules", "check", str(folder)]) == 1
    assert "99-dup.yaml:5: YAML syntax error: key 'priority' appears twice" in capsys.readouterr().out


def test_rules_migrate_converts_a_jinja_rule_file_in_place(tmp_path, capsys):
    """`rules migrate` rewrites only the `when:` values; the folder then passes `rules check`."""
    folder = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", folder)
    path = folder / "rules" / "99-new.yaml"
    path.write_text("# a rule written in the old syntax\nrules:\n  - id: new-rule\n    description: d\n"
                    "    when: \"'hills' in goals and niggles | length == 0\"\n    then: [{note: hills}]\n")
    assert main(["rules", "migrate", str(folder)]) == 0
    assert path.read_text() == ("# a rule written in the old syntax\nrules:\n  - id: new-rule\n    description: d\n"
                                "    when: \"'hills' in goals && size(niggles) == 0\"\n    then: [{note: hills}]\n")
    assert main(["rules", "check", str(folder)]) == 0
    assert main(["rules", "migrate", str(folder)]) == 0  # nothing left to convert
    assert "converted 0 condition(s)" in capsys.readouterr().out


@pytest.mark.parametrize("text", ["[click](https://x.example/a)", "[a [b]](https://x.example)",
                                  "[x]( https://x.example )", "[x](<https://x.example>)"])
def test_masked_links_are_neutralised(text):
    """Neither an answer nor an echo of a member's text can hide an address behind other words."""
    for shown in (neutralise_links(text), escape_user_text(text)):
        assert "](" not in shown.replace("\\]", "]").replace("]\u200b(", "")
        assert "x.example" in shown
