"""Shared fixtures: the shipped rules, catalogue and templates, loaded once per test session."""

from __future__ import annotations

import datetime as dt
import os
import tempfile

import pytest
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from bot.coach import Coach
from bot.config import Settings
from bot.engine import RuleSet
from bot.planner import Planner

# Whatever the core writes under the default data folder (the FAQ's trained-model cache, for one) goes to a
# throwaway folder, never into the checkout's data/ or a developer's DATA_DIR.
os.environ["DATA_DIR"] = tempfile.mkdtemp(prefix="legday-tests-")

# LEGDAY_EXAMPLES=5000 make test  runs the property tests much harder than the default.
# Under CI=true the examples are derandomized (the same every run), so a red CI is a regression, never the
# luck of the draw; developers' runs stay random and keep finding new cases (saved in .hypothesis/).
hypothesis_settings.register_profile(
    "legday", max_examples=int(os.environ.get("LEGDAY_EXAMPLES", "200")), deadline=None,
    derandomize=os.environ.get("CI", "").lower() in ("1", "true", "yes"),
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


# ------------------------------------------------------------------------------------------------
# A real PostgreSQL server, started once per session (tests/pg_server.py)


@pytest.fixture(scope="session")
def postgres_server():
    """The session's PostgreSQL server; in CI a missing server FAILS the tests that need it, never skips them."""
    import shutil

    from pg_server import NoPostgres, start_server

    try:
        server = start_server()
    except NoPostgres as exc:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL tests must run in CI, but: {exc}")
        pytest.skip(f"PostgreSQL tests skipped (CI is not set): {exc}")
    yield server
    server.stop()
    shutil.rmtree(server.root, ignore_errors=True)


@pytest.fixture
def pg_url(postgres_server):
    """A fresh, empty database on the session's server, dropped after the test."""
    import uuid

    name = f"t_{uuid.uuid4().hex[:12]}"
    postgres_server.sql(f'CREATE DATABASE "{name}"')
    yield postgres_server.url(name)
    postgres_server.sql(f'DROP DATABASE "{name}" WITH (FORCE)')


@pytest.fixture(params=["tinydb", "postgres"])
async def any_storage(request, tmp_path):
    """The storage contract's subject: the TinyDB storage, then the PostgreSQL one, behind the same calls."""
    if request.param == "tinydb":
        from bot.storage import Storage

        storage = Storage.open(tmp_path / "data", flush_interval=3600, backup_count=0)
        yield storage
        storage.close()
    else:
        from bot.storage._postgres import PostgresStorage

        url = request.getfixturevalue("pg_url")
        storage = await PostgresStorage.open(url)
        yield storage
        await storage.close()
