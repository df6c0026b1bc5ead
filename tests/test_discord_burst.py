"""A burst of 300 /plan interactions at once goes through the real path and every one is answered."""

from __future__ import annotations

from discord_helpers import MESSAGE, MODAL, user_payload

from bot.models import Profile

BURST = 300


async def test_burst_of_plan_commands_all_answered(harness):
    """300 members run /plan at the same moment (half with saved profiles); each gets exactly one answer."""
    profile = Profile(weekly_km=30, level="beginner", goals=["general"])
    users = [user_payload(1700000000000000000 + n, f"runner{n}") for n in range(BURST)]
    for user in users[::2]:
        harness.bot.storage.profiles.save(int(user["id"]), profile)
    runs = []
    for user in users:
        payload = harness.interaction_payload(2, harness.command_data("plan", {}), user=user)
        runs.append(await harness.dispatch(payload, settle=False))
    await harness.settle()
    kinds = [run.response.type for run in runs]
    assert kinds[::2] == [MESSAGE] * (BURST // 2)
    assert kinds[1::2] == [MODAL] * (BURST // 2)
