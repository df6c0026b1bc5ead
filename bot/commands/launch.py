"""`python -m bot launch --clusters N`: run N bot processes on this machine and keep them running.

Each child is `python -m bot run` with CLUSTER_INDEX/CLUSTER_COUNT (and SHARD_COUNT) in its
environment, so it runs every N-th shard. A child that crashes is restarted after a delay that doubles
(up to a minute) while it keeps crashing quickly; one that exits 2 (a settings error) is not restarted,
since it would fail the same way again. SIGTERM or Ctrl+C stops every child (SIGTERM, then SIGKILL after
a grace period) and exits once all have closed their storage.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import Any

GRACE_SECONDS = 30.0
# A child that ran this long before crashing is restarted at once; quicker crashes back off.
HEALTHY_SECONDS = 60.0
MAX_BACKOFF = 60.0
CONFIG_ERROR = 2


def register(subparsers: Any) -> None:
    """Add the `launch` subcommand."""
    parser = subparsers.add_parser(
        "launch", help="run several bot processes (clusters) and restart them if they crash",
        description="Supervise N bot processes on this machine, each running its share of the shards. "
                    "Several processes need DATABASE_URL (PostgreSQL); see README: Running several processes.",
    )
    parser.add_argument("--clusters", type=int, required=True, help="how many processes, 1 or more")
    parser.add_argument("--shards", type=int, default=None,
                        help="total shards across the processes (default: SHARD_COUNT, else one per cluster)")
    # For tests: the command each child runs instead of `python -m bot run`.
    parser.add_argument("--child", nargs=argparse.REMAINDER, default=None, help=argparse.SUPPRESS)
    parser.set_defaults(func=handle)


@dataclass
class Child:
    """One supervised process and its restart bookkeeping."""

    index: int
    proc: subprocess.Popen | None = None
    started: float = 0.0
    backoff: float = 1.0
    restart_at: float = 0.0
    restarts: int = 0
    done: bool = False
    history: list[int] = field(default_factory=list)


def handle(args: argparse.Namespace) -> int:
    """Run until stopped; 2 for bad arguments, 1 when every child stopped on a settings error."""
    from bot.config import get_settings

    settings = get_settings()
    if args.clusters < 1 or args.clusters > 1000:
        print(f"--clusters is a number of processes from 1 to 1000, not {args.clusters}.", file=sys.stderr)
        return 2
    shards = args.shards or settings.shard_count or args.clusters
    if shards < args.clusters:
        print(f"--shards ({shards}) must be at least --clusters ({args.clusters}), so each process has a shard.",
              file=sys.stderr)
        return 2
    if args.clusters > 1 and settings.database_url is None:
        print("Several processes need a shared database: set DATABASE_URL to a PostgreSQL database "
              "(TinyDB's DATA_DIR serves one process). See README: Running several processes.", file=sys.stderr)
        return 2
    command = args.child or [sys.executable, "-m", "bot", "run"]
    return supervise(command, args.clusters, shards)


def supervise(command: list[str], clusters: int, shards: int, *, poll: float = 0.2) -> int:
    """Start the children, restart crashed ones, stop them all on SIGTERM/SIGINT; returns the exit status."""
    stopping = False

    def stop(signum: int, frame: Any) -> None:
        nonlocal stopping
        stopping = True

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    children = [Child(index) for index in range(clusters)]
    try:
        while not stopping:
            now = time.monotonic()
            for child in children:
                if child.done:
                    continue
                if child.proc is None:
                    if now >= child.restart_at:
                        env = {**os.environ, "CLUSTER_INDEX": str(child.index), "CLUSTER_COUNT": str(clusters),
                               "SHARD_COUNT": str(shards)}
                        env.pop("SHARD_IDS", None)
                        child.proc = subprocess.Popen(command, env=env)
                        child.started = now
                        print(f"launch: cluster {child.index} started (pid {child.proc.pid})", flush=True)
                    continue
                code = child.proc.poll()
                if code is None:
                    continue
                child.history.append(code)
                child.proc = None
                if code == CONFIG_ERROR:
                    child.done = True
                    print(f"launch: cluster {child.index} stopped on a settings error (exit 2); not restarting",
                          file=sys.stderr, flush=True)
                    continue
                ran = now - child.started
                child.backoff = 1.0 if ran >= HEALTHY_SECONDS else min(child.backoff * 2, MAX_BACKOFF)
                child.restart_at = now + (0.0 if ran >= HEALTHY_SECONDS else child.backoff)
                child.restarts += 1
                print(f"launch: cluster {child.index} exited with {code} after {ran:.0f}s; restarting in "
                      f"{child.restart_at - now:.0f}s", file=sys.stderr, flush=True)
            if all(child.done for child in children):
                return 1
            time.sleep(poll)
    finally:
        _stop_all(children)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0


def _stop_all(children: list[Child]) -> None:
    running = [c.proc for c in children if c.proc is not None and c.proc.poll() is None]
    for proc in running:
        proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + GRACE_SECONDS
    for proc in running:
        try:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    if running:
        print(f"launch: stopped {len(running)} cluster(s)", flush=True)
