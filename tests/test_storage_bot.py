"""Storage as the bot uses it: recovery from a damaged file at start-up, and server membership of profiles."""

from __future__ import annotations

import logging

import pytest

from bot.config import Settings
from bot.models import Profile
from bot.storage import Storage, StorageError


def test_recover_keeps_the_bad_file_and_starts(tmp_path, caplog):
    """A corrupt main file: plain open raises; recover=True logs it, keeps it aside, and opens."""
    settings = Settings(_env_file=None, data_dir=tmp_path)
    with Storage.from_settings(settings) as storage:
        storage.guilds.update(7, lambda g: {**g, "mod_role_id": 9})
        storage.profiles.save(5, Profile(weekly_km=10, level="beginner", goals=["general"]))
    (tmp_path / "legday.json").write_text("{ not json")
    with pytest.raises(StorageError):
        Storage.from_settings(settings).close()
    (tmp_path / "legday.json").write_text("{ not json")
    with caplog.at_level(logging.ERROR), Storage.from_settings(settings, recover=True) as storage:
        assert storage.profiles.get(5) is not None  # member files were not damaged
    assert any("kept aside" in record.getMessage() for record in caplog.records)
    assert list(tmp_path.glob("legday.json.corrupt-*"))


def test_profiles_remember_the_servers_a_member_planned_in(tmp_path):
    """Saving with a guild id records it (and keeps earlier ones); all(guild_id) lists only those members."""
    profile = Profile(weekly_km=10, level="beginner", goals=["general"])
    with Storage.open(tmp_path) as storage:
        storage.profiles.save(1, profile, guild_id=100)
        storage.profiles.save(1, profile)  # a later save from DMs keeps the server
        storage.profiles.save(2, profile, guild_id=200)
        storage.profiles.save(3, profile)
        assert [uid for uid, _ in storage.profiles.all(guild_id=100)] == [1]
        assert sorted(uid for uid, _ in storage.profiles.all()) == [1, 2, 3]
    with Storage.open(tmp_path) as storage:
        assert [uid for uid, _ in storage.profiles.all(guild_id=200)] == [2]
