"""Start-up with a damaged database: the bot keeps the bad file aside, says so, and starts."""

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
