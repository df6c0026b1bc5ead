"""Crash test: a writer process is killed with SIGKILL mid-storm; does the database load, and what was lost?

Run by hand: `.venv/bin/python bench/storage_crash.py [--rounds 20] [--members 1000]`.
Each round starts a writer that opens the storage (flush interval 0.5 s, the default) and updates,
as fast as it can, a guild counter, a random member's profile and a check-in, printing an
acknowledgement (sequence number, CLOCK_MONOTONIC time) after each update returns. The parent kills
it with SIGKILL at a random moment, then checks every file parses and the storage opens, and compares
the counter on disk with the acknowledgements: an acknowledged update missing from disk is "lost";
it should only ever be one acknowledged within the flush window before the kill.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.storage import Storage, StorageError  # noqa: E402

GUILD = 900_000_000_000_000_009
BASE_ID = 150_000_000_000_000_000
WINDOW_S = 1.0  # the documented bound: flush_interval (0.5 s) plus one flush

WRITER = """
import random, sys, time
from pathlib import Path
sys.path.insert(0, {root!r})
from bot.models import Profile
from bot.storage import Storage

storage = Storage.open(Path({data!r}), flush_interval={interval}, backup_count=2, backup_interval=0.7)
rng = random.Random()
profiles = [Profile(weekly_km=10 + n, level="beginner", goals=["general"]) for n in range(50)]
members = [{base} + (n * 7919 << 22) for n in range({members})]
out = sys.stdout
seq = 0
while True:
    seq += 1
    storage.guilds.update({guild}, lambda g: {{**g, "counter": seq}})
    member = rng.choice(members)
    storage.profiles.save(member, profiles[seq % 50])
    storage.checkins.add(member, {{"seq": seq}})
    out.write(f"{{seq}} {{time.monotonic()}}\\n")
    if seq % 50 == 0:
        out.flush()
"""


def all_files_parse(data: Path) -> list[str]:
    bad = []
    for path in sorted(data.rglob("*.json")):
        try:
            json.loads(path.read_bytes())
        except ValueError as exc:
            bad.append(f"{path.name}: {exc}")
    return bad


def one_round(folder: Path, members: int, interval: float, rng: random.Random) -> dict:
    data = folder / "data"
    code = WRITER.format(root=str(ROOT), data=str(data), interval=interval, base=BASE_ID,
                         members=members, guild=GUILD)
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, bufsize=1)
    acks: list[tuple[int, float]] = []

    def reader():
        for line in proc.stdout:
            seq, at = line.split()
            acks.append((int(seq), float(at)))

    thread = threading.Thread(target=reader, daemon=True)
    thread.start()
    time.sleep(rng.uniform(1.5, 4.0))
    killed_at = time.monotonic()
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    thread.join(timeout=5)

    bad_files = all_files_parse(data)
    try:
        storage = Storage.open(data, flush_interval=3600, backup_count=0)
    except StorageError as exc:
        return {"acks": len(acks), "load_failed": True, "bad": [*bad_files, str(exc)], "lost": 0,
                "lost_outside": 0, "oldest_lost_s": 0.0, "on_disk": 0}
    on_disk = storage.guilds.get(GUILD).get("counter", 0)
    storage.close()
    lost = [(seq, at) for seq, at in acks if seq > on_disk]
    # Acks the child flushed to the pipe are a lower bound on what it acknowledged; that is enough to
    # count losses, since every ack we have was really given.
    outside = [seq for seq, at in lost if killed_at - at > WINDOW_S]
    return {
        "acks": len(acks), "load_failed": bool(bad_files), "bad": bad_files, "on_disk": on_disk,
        "lost": len(lost), "lost_outside": len(outside),
        "oldest_lost_s": max((killed_at - at for _, at in lost), default=0.0),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--members", type=int, default=1000)
    parser.add_argument("--interval", type=float, default=0.5)
    args = parser.parse_args()
    rng = random.Random(4)
    results = []
    print(f"{args.rounds} rounds, {args.members} members, flush interval {args.interval} s, "
          f"window counted as {WINDOW_S} s")
    for n in range(1, args.rounds + 1):
        with tempfile.TemporaryDirectory() as folder:
            r = one_round(Path(folder), args.members, args.interval, rng)
        results.append(r)
        print(f"round {n:>2}: {r['acks']:>6} acks, on disk up to {r['on_disk']:>6}, lost {r['lost']:>5} "
              f"(oldest {r['oldest_lost_s'] * 1000:4.0f} ms before the kill), outside window "
              f"{r['lost_outside']}, load {'FAILED ' + '; '.join(r['bad']) if r['load_failed'] else 'ok'}",
              flush=True)
    failed = sum(r["load_failed"] for r in results)
    outside = sum(r["lost_outside"] for r in results)
    worst = max(r["oldest_lost_s"] for r in results)
    print(f"files that failed to load: {failed} of {len(results)} rounds; acknowledged updates lost "
          f"outside the {WINDOW_S} s window: {outside}; oldest lost ack: {worst * 1000:.0f} ms before the kill")


if __name__ == "__main__":
    main()
