"""The preview and rules commands, run through the real entry point."""

from __future__ import annotations

import json
import shutil

import pytest

from bot.cli import main
from bot.config import ROOT

ISSUE_EXAMPLE = ["preview", "--mileage", "30mi", "--level", "intermediate", "--goal", "speed", "--goal", "hills",
                 "--long-run", "sun", "--hard", "tue,thu", "--equipment", "dumbbells,box", "--niggle", "achilles",
                 "--race-date", "2027-01-17", "--start", "2026-11-30"]


def test_preview_json_has_the_documented_shape(capsys):
    """`preview --json` prints profile, 4 weeks of sessions with exercises, fired rules, notes and version."""
    assert main([*ISSUE_EXAMPLE, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert {"profile", "weeks", "fired_rules", "notes", "warnings", "withheld", "rules_version"} <= set(data)
    assert len(data["weeks"]) == 4 and data["profile"]["weekly_km"] == 48.28
    session = data["weeks"][0]["sessions"][0]
    assert {"day", "focus", "minutes", "exercises"} <= set(session)
    assert {"id", "sets", "reps"} <= set(session["exercises"][0])
    assert "niggle-achilles" in data["fired_rules"]


def test_preview_markdown_and_default_text(capsys):
    """`--markdown` prints the whole document; no flag prints the overview and week pages."""
    assert main([*ISSUE_EXAMPLE, "--markdown"]) == 0
    assert capsys.readouterr().out.startswith("# Your 4-week leg strength plan")
    assert main(["preview", "--start", "2026-11-30"]) == 0
    out = capsys.readouterr().out
    assert "Your 4-week leg strength plan" in out and "Week 4 of 4" in out


@pytest.mark.parametrize(("args", "message"), [
    (["--mileage", "lots", "--level", "beginner", "--goal", "speed"], "couldn't read 'lots'"),
    (["--mileage=-5km", "--level", "beginner", "--goal", "speed"], "can't be negative"),
    (["--mileage", "900km", "--level", "beginner", "--goal", "speed"], "more than LegDay plans for"),
    (["--mileage", "30km", "--level", "pro", "--goal", "speed"], "Strength level ('pro')"),
    (["--mileage", "30km", "--level", "beginner", "--goal", "flying"], "Goals ('flying')"),
    (["--mileage", "30km", "--level", "beginner", "--goal", "speed", "--race-date", "soon"], "isn't a date"),
    (["--mileage", "30km", "--level", "beginner", "--goal", "speed", "--days", "5"], "1, 2 or 3"),
    (["--start", "tomorrow"], "isn't a date"),
    (["--bogus"], "unrecognized arguments"),
])
def test_bad_arguments_exit_2_with_a_clear_message(capsys, args, message):
    """Each bad option exits with status 2 and says what is accepted."""
    with pytest.raises(SystemExit) as info:
        main(["preview", *args])
    assert info.value.code == 2
    assert message in capsys.readouterr().err


def test_rules_check_passes_on_shipped_rules(capsys):
    """`rules check` validates the shipped folder and prints the counts and version."""
    assert main(["rules", "check", str(ROOT / "rules")]) == 0
    assert capsys.readouterr().out.startswith("OK: ")


def test_rules_check_lists_every_problem(tmp_path, capsys):
    """`rules check` on a broken folder exits 1 and lists each problem with file and field."""
    folder = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", folder)
    path = folder / "rules" / "60-goals.yaml"
    path.write_text(path.read_text().replace("when: \"'speed' in goals && level != 'beginner'\"",
                                             "when: \"'sped' in goals\"").replace("priority: 300", "priority: x", 1))
    assert main(["rules", "check", str(folder)]) == 1
    out = capsys.readouterr().out
    assert "60-goals.yaml" in out and "'sped' is never a value of goals" in out and "field 'priority'" in out


def test_rules_schema_is_json(capsys):
    """`rules schema` prints a JSON Schema."""
    assert main(["rules", "schema"]) == 0
    assert json.loads(capsys.readouterr().out)["title"] == "LegDay rule file"


def test_main_job_picks_the_bot_when_dotenv_has_a_token(tmp_path, monkeypatch):
    """With no command, a token from .env (not only the environment) starts the bot, else the console."""
    from bot import cli
    from bot.config import get_settings

    chosen = []
    monkeypatch.setattr(cli, "build_parser", lambda real=cli.build_parser: _recording(real(), chosen))
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DISCORD_TOKEN", raising=False)
    get_settings.cache_clear()
    try:
        main([])
        (tmp_path / ".env").write_text("DISCORD_TOKEN=abc.def.ghi\n")
        get_settings.cache_clear()
        main([])
    finally:
        get_settings.cache_clear()
    assert chosen == ["console", "run"]


def _recording(parser, chosen):
    """Replace every subcommand's handler by one that records which command ran."""
    for action in parser._subparsers._group_actions:
        for name, sub in action.choices.items():
            sub.set_defaults(func=lambda args, name=name: chosen.append(name) or 0)
    return parser


def test_rules_check_validates_the_check_in_policy_files(tmp_path, capsys):
    """The adaptation policy is rules data too: `rules check` reports a broken value with its file."""
    folder = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", folder)
    path = folder / "adaptation.yaml"
    path.write_text(path.read_text().replace("  load_step_pct: 5\n", "  load_step_pct: 50\n", 1))
    assert main(["rules", "check", str(folder)]) == 1
    assert "adaptation.yaml" in capsys.readouterr().out


@pytest.mark.parametrize(("name", "old", "new", "expected"), [
    ("faq.yaml", "  - id: bulky\n", "  - id: Bulky Legs!\n", "faq.yaml"),
    ("vocabulary.yaml", "  quads: [quadriceps, quadricep]\n", "  quads: [quadriceps, glute]\n", "vocabulary.yaml"),
    ("intake_words.yaml", "", "key: [unclosed\n", "intake_words.yaml"),
])
def test_rules_check_reports_broken_faq_vocabulary_and_reader_files(tmp_path, capsys, name, old, new, expected):
    """A broken FAQ, vocabulary or any other YAML file of the folder fails `rules check` (exit 1 or 2) naming
    the file, rather than printing OK and leaving the bot to fail when it starts or a member asks."""
    folder = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", folder)
    path = folder / name
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1) if old else text + new)
    assert main(["rules", "check", str(folder)]) in (1, 2)
    out = capsys.readouterr().out
    assert expected in out and not out.startswith("OK")


def test_output_piped_into_a_reader_that_stops_early_ends_quietly():
    """`python -m bot preview --why | head -1`: the closed pipe ends the command with status 0, no traceback."""
    import subprocess
    import sys

    done = subprocess.run(f"{sys.executable} -m bot preview --why | head -c 10", shell=True, cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and len(done.stdout) == 10
    assert "Traceback" not in done.stderr and "BrokenPipe" not in done.stderr, done.stderr
