"""One bot process for the two-process test: the offline Discord layer over a shared PostgreSQL.

Run as `python tests/shard_process.py <data_dir> <database_url> <cluster_index> <cluster_count>`; reads one
JSON command per line on stdin and answers one JSON line on stdout (see test_shards_e2e.py).
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from discord_helpers import GUILD_ID, Harness, make_settings, user_payload

from bot.coach import Coach
from bot.models import Profile
from bot.storage import close_storage, open_storage

PROFILE = Profile(weekly_km=40, level="beginner", goals=["speed"], long_run_day="sun")


async def plan_flow(h: Harness, user: dict | None):
    """The /plan form walked as a member taps through it (as tests/test_discord_plans.py's fill_form)."""
    opened = await h.command("plan", user=user)
    await h.submit(opened.response, {"plan:form:mileage": "30mi", "plan:form:days": "2",
                                     "plan:form:race_date": ""}, user=user)
    for custom_id, values in (("plan:level", ["intermediate"]), ("plan:goals", ["speed", "hills"]),
                              ("plan:long_run_day", ["sun"]), ("plan:hard_days", ["tue", "thu"])):
        await h.select(custom_id, values, user=user)
    await h.click("plan:next", user=user)
    for custom_id, values in (("plan:equipment", ["dumbbells", "box"]), ("plan:niggles", ["none"]),
                              ("plan:sharp_pain", ["no"])):
        await h.select(custom_id, values, user=user)
    return await h.click("plan:build", user=user)


async def main() -> None:
    data_dir, url, index, count = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    settings = make_settings(Path(data_dir), database_url=url, cluster_index=index, cluster_count=count)
    storage = await open_storage(settings)
    harness = await Harness.start(settings, coach=Coach.load(settings), storage=storage)
    reader = asyncio.StreamReader()
    await asyncio.get_running_loop().connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    print(json.dumps({"ready": True, "shards": harness.bot.shard_ids, "primary": harness.bot.is_primary}),
          flush=True)
    while line := await reader.readline():
        command = json.loads(line)
        op, answer = command["op"], {}
        if op == "plan":
            user = user_payload(command["user"]) if "user" in command else None
            built = await plan_flow(harness, user)
            answer = {"content": built.last.content}
        elif op == "show":
            user = user_payload(command["user"]) if "user" in command else None
            run = await harness.command("profile show", user=user)
            answer = {"embeds": run.response.embeds, "content": run.response.content}
        elif op == "save":
            await storage.profiles.save(command["user"], PROFILE, guild_id=GUILD_ID)
            answer = {"saved": command["user"]}
        elif op == "disable":
            rule = command["rule"]
            change = await asyncio.to_thread(harness.bot.tuning.set_enabled, GUILD_ID, 7, rule, False)
            answer = {"change": change}
        elif op == "version":
            plan = await asyncio.to_thread(harness.bot.tuning.plan_for, GUILD_ID, PROFILE)
            answer = {"rules_version": plan.rules_version}
        print(json.dumps(answer), flush=True)
    await harness.close()
    await close_storage(storage)


if __name__ == "__main__":
    asyncio.run(main())
