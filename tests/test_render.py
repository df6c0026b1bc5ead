"""Rendering through the Jinja templates: Discord's limits, escaping of people's text, Markdown and .ics."""

from __future__ import annotations

import datetime as dt

import icalendar
import pytest
from jinja2 import UndefinedError

from bot.catalog import load_catalog
from bot.engine import RuleSet, parse_rules
from bot.models import Profile
from bot.planner import Planner
from bot.render import Renderer
from bot.text import embed_problems
from tests.conftest import START

RUNNER = Profile(weekly_km=48.28, unit="mi", level="advanced", goals=["speed", "hills", "endurance"],
                 days_per_week=3, long_run_day="sun", hard_days=["wed"], equipment=["gym"], niggles=["knee"])


def test_pages_are_an_overview_then_one_per_week(coach):
    """A plan renders as an overview page and four week pages, each a valid embed."""
    plan = coach.plan(RUNNER, START)
    pages = coach.renderer.pages(plan)
    assert [p["title"] for p in pages] == ["Your 4-week leg strength plan"] + [
        f"Week {n} of 4 · {w.label}" for n, w in enumerate(plan.weeks, 1)]
    assert all(embed_problems(p) == [] for p in pages)
    week2 = pages[2]["description"]
    first = plan.weeks[1].sessions[0]
    assert first.exercises[0].name in week2 and f"{first.minutes} min" in week2


def test_moderator_text_cannot_ping_or_break_layout(ruleset, settings):
    """A note with @everyone, a role mention and markdown is shown inert in every rendering."""
    rules = parse_rules({"rules": [{"id": "evil", "description": "**bold** <@&123>",
                                    "then": [{"note": "@everyone ping <@&42> __under__ # heading"}]}]}, "t")
    plan = Planner(RuleSet(rules, ruleset.catalog)).make_plan(RUNNER, START)
    renderer = Renderer(settings.templates_dir)
    for text in (renderer.overview_embed(plan)["description"], renderer.why_text(plan), renderer.markdown(plan)):
        assert "@everyone" not in text and "<@&42>" not in text and "<@&123>" not in text
        assert "\\_\\_under\\_\\_" in text or "evil" in text


def test_why_text_explains_rules_and_safeguards(coach):
    """The why-trace names the rules that fired and the safeguards that acted, within one embed."""
    plan = coach.plan(RUNNER, START)
    why = coach.renderer.why_text(plan)
    assert "niggle-knee" in why and "level-advanced" in why and "🛡️" in why
    assert len(why) <= 4096


def test_markdown_has_every_week_and_the_cues(coach):
    """The download holds the profile, all four weeks with coaching cues, and the why-trace."""
    plan = coach.plan(RUNNER, START)
    text = coach.renderer.markdown(plan)
    for n in range(1, 5):
        assert f"## Week {n}:" in text
    assert "## Why this plan" in text and plan.rules_version in text
    cue = plan.weeks[0].sessions[0].exercises[0].cue
    assert cue in text


def test_calendar_has_one_event_per_session_and_parses_back(coach):
    """The .ics has one event per strength session on the right dates, and icalendar reads it back."""
    plan = coach.plan(RUNNER, START)
    cal = icalendar.Calendar.from_ical(coach.renderer.ics(plan))
    events = [c for c in cal.walk("VEVENT")]
    sessions = [s for w in plan.weeks for s in w.sessions]
    assert len(events) == len(sessions)
    assert sorted(e.decoded("dtstart") for e in events) == sorted(s.date for s in sessions)
    assert len({str(e["uid"]) for e in events}) == len(events)


def test_withheld_plan_renders_the_safety_message(coach):
    """A withheld plan shows only the see-a-professional page, in every format."""
    plan = coach.plan(RUNNER.model_copy(update={"sharp_pain": True}), START)
    pages = coach.renderer.pages(plan)
    assert len(pages) == 1 and "physio" in pages[0]["description"]
    assert "physio" in coach.renderer.markdown(plan)
    assert coach.renderer.ics(plan).count(b"BEGIN:VEVENT") == 0


def test_templates_fail_loudly_on_undefined_names(settings, tmp_path):
    """Templates use StrictUndefined: a misspelt variable is an error, never a silent blank."""
    (tmp_path / "week.md.j2").write_text("{{ week.sumary }}")
    for name in ("overview.md.j2", "why.md.j2", "plan.md.j2", "withheld.md.j2", "exercise.md.j2", "session.md.j2"):
        (tmp_path / name).write_text("x")
    renderer = Renderer(tmp_path)
    plan = Planner(RuleSet([], load_catalog(settings.rules_dir))).make_plan(RUNNER, START)
    with pytest.raises(UndefinedError):
        renderer.week_text(plan, 1)


def test_dates_in_pages_match_the_block(coach):
    """Week pages show the real dates of the block (a Monday start)."""
    plan = coach.plan(RUNNER, START)
    first = plan.weeks[0].sessions[0]
    assert first.date >= START and first.date < START + dt.timedelta(days=7)
    assert f"{first.date.day} {first.date:%b}" in coach.renderer.week_embed(plan, 1)["description"]


def test_rest_periods_are_shown_on_pages_markdown_and_console(coach):
    """COACHING.md 28: every exercise line says how long to rest, on Discord pages, Markdown and console text."""
    plan = coach.plan(RUNNER, START)
    first = plan.weeks[1].sessions[0].exercises[0]
    line = f"rest {first.rest_seconds} s"
    week_page = coach.renderer.pages(plan)[2]["description"]
    assert line in week_page
    assert line in coach.renderer.markdown(plan)
    assert line in coach.renderer.week_text(plan, 2)
    assert week_page.count("· rest ") == sum(len(s.exercises) for s in plan.weeks[1].sessions)


def test_overview_tells_the_block_as_its_weeks_are(coach):
    """COACHING.md 27: a race block's overview names its real weeks, not the build pattern it didn't follow."""
    build = coach.renderer.overview_text(coach.plan(RUNNER, START))
    assert "introduce, build, peak, deload" in build
    race = coach.plan(RUNNER.model_copy(update={"race_date": START + dt.timedelta(days=9)}), START)
    text = coach.renderer.overview_text(race)
    assert "introduce, build, peak, deload" not in text
    assert ", ".join(w.label.lower() for w in race.weeks) in text
    assert "up to 2 strength sessions a week" in text


def test_the_header_counts_the_sessions_the_weeks_hold(coach):
    """COACHING.md 27: '1 strength session a week' when every week holds one (maintenance before a race)."""
    profile = Profile(weekly_km=30, level="beginner", goals=["speed"], long_run_day="sat", hard_days=["tue"],
                      equipment=["dumbbells"], niggles=["foot"], race_date=dt.date(2027, 3, 27), race_distance="5k")
    plan = coach.plan(profile, dt.date(2027, 3, 1))
    counts = {len(w.sessions) for w in plan.weeks}
    most = max(counts)
    said = f"{'up to ' if len(counts) > 1 else ''}{most} strength session{'s' if most != 1 else ''} a week"
    assert plan.sessions_per_week != most  # the template's count is not what the weeks hold
    for text in (coach.renderer.markdown(plan), coach.renderer.overview_embed(plan)["description"]):
        assert said in text


def test_a_renderer_shared_by_many_plans_renders_each_as_a_fresh_one_would(coach, settings):
    """The renderer caches exercise lines and session bodies across plans; every page of every plan must still
    be what a fresh renderer gives (a calm tempo or a kit-specific cue makes the same exercise, sets and reps
    a different line)."""
    import random

    from bench.bench_plan import random_profile

    shared = Renderer(settings.templates_dir)
    for seed in range(120):
        plan = coach.plan(random_profile(random.Random(seed)), START)
        fresh = Renderer(settings.templates_dir)
        assert shared.pages(plan) == fresh.pages(plan)
        assert shared.markdown(plan) == fresh.markdown(plan)
