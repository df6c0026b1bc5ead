"""Several bot processes on one PostgreSQL: cold start and /plan flows per second through 1, 2 and 4 processes.

Run by hand: `.venv/bin/python bench/bench_shards.py [--processes 1,2,4] [--plans 10]`. Each process is
tests/shard_process.py: the real bot (AutoShardedBot, its cluster's shards) behind the tests' offline
Discord layer, so a "/plan" is the whole member flow (command, modal, eight selects and buttons, plan
built and saved) with Discord's network replaced by in-process fakes. Starts its own PostgreSQL server
(tests/pg_server.py) unless DATABASE_URL is set. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))


def start(url: str, index: int, count: int, folder: Path) -> tuple[subprocess.Popen, float]:
    data = folder / f"cluster-{index}"
    data.mkdir()
    began = time.perf_counter()
    proc = subprocess.Popen([sys.executable, str(ROOT / "tests" / "shard_process.py"), str(data), url, str(index),
                             str(count)], cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    json.loads(proc.stdout.readline())
    return proc, time.perf_counter() - began


def drive(proc: subprocess.Popen, plans: int, first_user: int) -> None:
    for n in range(plans):
        # A new member each time: a member with a saved profile gets a shorter flow.
        proc.stdin.write(json.dumps({"op": "plan", "user": first_user + n}) + "\n")
        proc.stdin.flush()
        json.loads(proc.stdout.readline())


def run(url: str, counts: list[int], plans: int) -> None:
    for count in counts:
        with tempfile.TemporaryDirectory() as tmp:
            started = [start(url, index, count, Path(tmp)) for index in range(count)]
            colds = [cold for _, cold in started]
            threads = [threading.Thread(target=drive, args=(proc, plans, 10**15 * (count * 10 + index + 1)))
                       for index, (proc, _) in enumerate(started)]
            began = time.perf_counter()
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            elapsed = time.perf_counter() - began
            for proc, _ in started:
                proc.stdin.close()
                proc.wait(30)
            print(f"{count} process(es): cold start {min(colds):.2f}-{max(colds):.2f} s; "
                  f"{count * plans} /plan flows in {elapsed:.1f} s = {count * plans / elapsed:.1f} per second")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--processes", default="1,2,4")
    parser.add_argument("--plans", type=int, default=10)
    args = parser.parse_args()
    from pg_server import bench_database

    with bench_database() as url:
        run(url, [int(n) for n in args.processes.split(",")], args.plans)


if __name__ == "__main__":
    main()
