"""Latency of bursts through the real discord.py path (offline): run by hand, prints figures.

    PYTHONPATH=. .venv/bin/python bench/bench_discord.py [--burst 300]

Each scenario dispatches N interactions at once into the bot's ConnectionState (as the gateway
would deliver them) and measures, per interaction, the time until the bot's first answer reached
the HTTP layer (Discord's deadline is 3 s), and for plan delivery the time until the plan page was sent.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from discord_helpers import start_harness, stop_harness, user_payload

from bot.models import Profile

DEADLINE = 3.0


def figures(name: str, latencies: list[float], deadline: bool = True) -> None:
    ordered = sorted(latencies)

    def pct(p: float) -> float:
        return ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000

    late = sum(1 for x in ordered if x > DEADLINE)
    print(f"{name:<38} n={len(ordered):>4}  p50={pct(0.50):8.1f} ms  p95={pct(0.95):8.1f} ms  "
          f"p99={pct(0.99):8.1f} ms  max={ordered[-1] * 1000:8.1f} ms  mean={statistics.mean(ordered) * 1000:7.1f} ms"
          + (f"  over 3 s: {late}" if deadline else "  (after the ack; no deadline)"))


async def burst(harness, payloads):
    runs = [await harness.dispatch(p, settle=False) for p in payloads]
    await harness.settle(timeout=120)
    return runs


async def main(n: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        h = await start_harness(Path(folder))
        try:
            profile = Profile(weekly_km=45, level="intermediate", goals=["speed", "hills"], hard_days="tue thu",
                              long_run_day="sun", equipment="dumbbells box")
            users = [user_payload(1800000000000000000 + i, f"runner{i}") for i in range(n)]
            data = h.command_data("plan", {})

            t0 = time.perf_counter()
            runs = await burst(h, [h.interaction_payload(2, data, user=u) for u in users])
            figures("/plan, new members (modal)", [r.response.at - r.sent_at for r in runs])
            print(f"  wall time for the burst: {(time.perf_counter() - t0) * 1000:.0f} ms")

            for u in users:
                h.bot.storage.profiles.save(int(u["id"]), profile)
            runs = await burst(h, [h.interaction_payload(2, data, user=u) for u in users])
            figures("/plan, saved profile (choice card)", [r.response.at - r.sent_at for r in runs])

            # Each member presses "Use my saved profile" on their own card: the plan is built for all.
            clicks = []
            for r in runs:
                message = h.fake.messages[h.fake.originals[r.token]]
                clicks.append(h.interaction_payload(
                    3, {"custom_id": "plan:use", "component_type": 2}, user=users[runs.index(r)], message=message))
            t0 = time.perf_counter()
            runs = await burst(h, clicks)
            figures("Use my saved profile: acknowledgement", [r.response.at - r.sent_at for r in runs])
            figures("Use my saved profile: plan shown", [r.edits[-1].at - r.sent_at for r in runs], deadline=False)
            print(f"  wall time for {n} plans: {(time.perf_counter() - t0) * 1000:.0f} ms")
        finally:
            await stop_harness(h)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--burst", type=int, default=300)
    asyncio.run(main(parser.parse_args().burst))
