"""A moderator's slowest possible rule can't hold up other members: through the real bot and discord.py.

The probe is a condition that is cheap for the sample profiles checked when it is saved, and spends its
whole evaluation budget for one member (the attack of issue 12). That member and twenty others ask for
plans at the same moment; every one of them is answered well inside Discord's 3-second deadline.
"""

from __future__ import annotations

import time

from discord_helpers import GUILD_ID, MESSAGE, user_payload

from bot.models import Profile
from tests.hostile_corpus import rule_yaml
from tests.test_hostile import GATED, SLOW

DEADLINE = 3.0  # Discord's: an interaction not answered by then fails for the member
OTHERS = 20


async def test_members_are_answered_in_time_while_a_hostile_rule_burns_its_budget(harness):
    """The slow member's plan comes with the rule skipped and flagged; nobody waits past the deadline."""
    harness.bot.tuning.save_rule(GUILD_ID, 9001, rule_yaml(GATED))
    slow = user_payload(1710000000000000000, "slowpoke")
    others = [user_payload(1710000000000000001 + n, f"runner{n}") for n in range(OTHERS)]
    harness.bot.storage.profiles.save(int(slow["id"]), SLOW, guild_id=GUILD_ID)
    for user in others:
        harness.bot.storage.profiles.save(int(user["id"]), Profile(weekly_km=40, level="beginner",
                                                                   goals=["general"]), guild_id=GUILD_ID)
    runs = []
    began = time.perf_counter()
    for user in [slow, *others[:10], slow, *others[10:], slow]:
        payload = harness.interaction_payload(2, harness.command_data("plan", {}), user=user)
        runs.append(await harness.dispatch(payload, settle=False))
    await harness.settle()
    assert [run.response.type for run in runs] == [MESSAGE] * len(runs)
    latest = max(run.response.at for run in runs) - began
    assert latest < DEADLINE, f"the last member waited {latest:.2f} s"
    plan = harness.bot.tuning.plan_for(GUILD_ID, SLOW)
    assert [entry.status for entry in plan.trace if entry.rule_id == "hostile"] == ["error"]
