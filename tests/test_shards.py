"""Sharding settings, the bot's shard set-up, and IDENTIFYs spaced across processes through PostgreSQL."""

from __future__ import annotations

import asyncio
import itertools
import time

import pytest
from pydantic import ValidationError

from bot.config import Settings


def make(**values) -> Settings:
    return Settings(_env_file=None, **values)


def test_clusters_split_the_shards_round_robin():
    """Cluster i of n takes every n-th shard starting at i; cluster 0 is the primary."""
    assert make(cluster_index=0, cluster_count=2, shard_count=5).shards() == ([0, 2, 4], 5)
    assert make(cluster_index=1, cluster_count=2, shard_count=5).shards() == ([1, 3], 5)
    assert make(cluster_index=1, cluster_count=2).shards() == ([1], 2)
    assert make(cluster_index=0, cluster_count=2).is_primary
    assert not make(cluster_index=1, cluster_count=2).is_primary
    assert make().shards() == (None, None) and make().is_primary


def test_shard_ids_from_the_environment(monkeypatch):
    """SHARD_IDS=1,3 with SHARD_COUNT=4 runs shards 1 and 3 (not the primary)."""
    monkeypatch.setenv("SHARD_IDS", "1,3")
    monkeypatch.setenv("SHARD_COUNT", "4")
    settings = Settings(_env_file=None)
    assert settings.shards() == ([1, 3], 4) and not settings.is_primary


@pytest.mark.parametrize(("values", "message"), [
    ({"cluster_index": 0}, "go together"),
    ({"cluster_index": 2, "cluster_count": 2}, "below CLUSTER_COUNT"),
    ({"shard_ids": [0]}, "needs SHARD_COUNT"),
    ({"shard_ids": [4], "shard_count": 4}, "from 0 to 3"),
    ({"cluster_index": 0, "cluster_count": 3, "shard_count": 2}, "at least CLUSTER_COUNT"),
])
def test_bad_shard_settings_say_what_is_accepted(values, message):
    """Each inconsistent combination is refused with a message naming the settings involved."""
    with pytest.raises(ValidationError, match=message):
        make(**values)


def test_bot_runs_its_clusters_shards_with_its_own_heartbeat(tmp_path, coach):
    """The bot is an AutoShardedBot with the cluster's shards, and a heartbeat file named for the cluster."""
    from bot.client import LegDayBot

    settings = make(cluster_index=1, cluster_count=2, shard_count=4, data_dir=tmp_path)
    bot = LegDayBot(settings=settings, coach=coach, storage=None)
    assert bot.shard_ids == [1, 3] and bot.shard_count == 4
    assert bot.heartbeat_path == tmp_path / "heartbeat-1"
    assert not bot.is_primary
    single = LegDayBot(settings=make(data_dir=tmp_path), coach=coach, storage=None)
    assert single.heartbeat_path == tmp_path / "heartbeat" and single.is_primary


async def test_identify_turns_are_spaced_across_processes(pg_url):
    """Two storages (as two processes) taking IDENTIFY turns: consecutive turns at least `spacing` apart."""
    from bot.storage._postgres import PostgresStorage

    a, b = await PostgresStorage.open(pg_url), await PostgresStorage.open(pg_url)
    times: list[float] = []

    async def turn(storage):
        await storage.identify_turn(0, spacing=0.3)
        times.append(time.monotonic())

    try:
        await asyncio.gather(turn(a), turn(b), turn(a), turn(b))
    finally:
        await a.close()
        await b.close()
    times.sort()
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    assert all(gap >= 0.25 for gap in gaps), gaps
