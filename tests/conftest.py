"""Shared fixtures: the shipped rules, catalogue and templates, loaded once per test session."""

from __future__ import annotations

import datetime as dt
import os

import pytest
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from bot.coach import Coach
from bot.config import Settings
from bot.engine import RuleSet
from bot.planner import Planner

# LEGDAY_EXAMPLES=5000 make test  runs the property tests much harder than the default.
hypothesis_settings.register_profile(
    "legday", max_examples=int(os.environ.get("LEGDAY_EXAMPLES", "200")), deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture])
hypothesis_settings.load_profile("legday")

START = dt.date(2026, 11, 30)  # a Monday; tests pass it explicitly so plans don't depend on today


@pytest.fixture(scope="session")
def settings() -> Settings:
    return Settings(_env_file=None)


@pytest.fixture(scope="session")
def coach(settings: Settings) -> Coach:
    return Coach.load(settings)


@pytest.fixture(scope="session")
def ruleset(coach: Coach) -> RuleSet:
    return coach.ruleset


@pytest.fixture(scope="session")
def planner(ruleset: RuleSet) -> Planner:
    return Planner(ruleset)


@pytest.fixture
async def harness(tmp_path):
    """The bot, logged in offline through discord.py with HTTP recorded (tests/discord_helpers.py)."""
    from discord_helpers import start_harness, stop_harness  # only Discord tests load discord

    h = await start_harness(tmp_path)
    yield h
    await stop_harness(h)
