"""Storage against a plain-dict model: any sequence of operations reads back the same, before and after reopen."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.models import Profile
from bot.storage import Storage

USERS = [111_000_000_000_000_001, 222_000_000_000_000_002, 333_000_000_000_000_003]
GUILD = 444_000_000_000_000_004

operations = st.lists(
    st.one_of(
        st.tuples(st.just("save"), st.sampled_from(USERS), st.integers(0, 250)),
        st.tuples(st.just("delete"), st.sampled_from(USERS), st.just(0)),
        st.tuples(st.just("checkin"), st.sampled_from(USERS), st.integers(0, 10)),
        st.tuples(st.just("forget"), st.sampled_from(USERS), st.just(0)),
        st.tuples(st.just("guild"), st.just(GUILD), st.integers(0, 5)),
        st.tuples(st.just("flush"), st.just(0), st.just(0)),
    ),
    max_size=30,
)


def profile(km: int) -> Profile:
    return Profile(weekly_km=km, level="beginner", goals=["general"])


def check(storage: Storage, profiles: dict, checkins: dict, guild: int) -> None:
    for user in USERS:
        assert storage.profiles.get(user) == profiles.get(user)
        assert storage.checkins.list(user) == checkins.get(user, [])
    assert storage.profiles.count() == len(profiles)
    assert storage.guilds.get(GUILD).get("total", 0) == guild


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(operations)
def test_storage_matches_a_dict_model_across_reopen(ops):
    """After any sequence of saves, deletes, check-ins, forgets and guild updates, reads match the model."""
    profiles: dict[int, Profile] = {}
    checkins: dict[int, list] = {}
    guild = 0
    with tempfile.TemporaryDirectory() as folder:
        data = Path(folder)
        with Storage.open(data, flush_interval=3600, backup_count=0) as storage:
            for op, who, value in ops:
                if op == "save":
                    storage.profiles.save(who, profile(value))
                    profiles[who] = profile(value)
                elif op == "delete":
                    assert storage.profiles.delete(who) == (profiles.pop(who, None) is not None)
                elif op == "checkin":
                    storage.checkins.add(who, {"v": value})
                    checkins.setdefault(who, []).append({"v": value})
                elif op == "forget":
                    storage.forget_member(who)
                    profiles.pop(who, None)
                    checkins.pop(who, None)
                elif op == "guild":
                    storage.guilds.update(who, lambda g, v=value: {**g, "total": g.get("total", 0) + v})
                    guild += value
                else:
                    storage.flush()
            check(storage, profiles, checkins, guild)
        with Storage.open(data, flush_interval=3600, backup_count=0) as storage:
            check(storage, profiles, checkins, guild)
