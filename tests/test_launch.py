"""`python -m bot launch`: N supervised processes, restarted after a crash, all stopped cleanly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CHILD = textwrap.dedent("""
    import os, signal, sys, time
    from pathlib import Path
    folder = Path(sys.argv[1])
    index = os.environ["CLUSTER_INDEX"]
    log = folder / "log"
    with log.open("a") as f:
        f.write(f"start {index} {os.environ['CLUSTER_COUNT']} {os.environ['SHARD_COUNT']}\\n")
    marker = folder / f"crashed-{index}"
    if not marker.exists():
        marker.touch()
        sys.exit(1)
    def stop(signum, frame):
        with log.open("a") as f:
            f.write(f"stop {index}\\n")
        sys.exit(0)
    signal.signal(signal.SIGTERM, stop)
    while True:
        time.sleep(0.1)
""")


def wait_for(predicate, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def test_launch_restarts_a_crashed_cluster_and_stops_all_on_sigterm(tmp_path):
    """Each of two clusters crashes once and is restarted; SIGTERM stops both and the launcher exits 0."""
    env = {**os.environ, "DATABASE_URL": "postgresql://legday@127.0.0.1:1/unused"}
    launcher = subprocess.Popen(
        [sys.executable, "-m", "bot", "launch", "--clusters", "2", "--shards", "4", "--child", sys.executable,
         "-c", CHILD, str(tmp_path)], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    log = tmp_path / "log"
    try:
        assert wait_for(lambda: log.exists() and log.read_text().count("start") >= 4), \
            log.read_text() if log.exists() else "no child started"
        launcher.send_signal(signal.SIGTERM)
        out, err = launcher.communicate(timeout=40)
    finally:
        if launcher.poll() is None:
            launcher.kill()
    lines = log.read_text().splitlines()
    assert sorted(line for line in lines if line.startswith("start")) == [
        "start 0 2 4", "start 0 2 4", "start 1 2 4", "start 1 2 4"]
    assert {"stop 0", "stop 1"} <= set(lines)
    assert launcher.returncode == 0, err
    assert "exited with 1" in err and "stopped 2 cluster(s)" in out


def test_launch_refuses_several_clusters_without_a_database_url(tmp_path):
    """Two clusters on TinyDB would fight over DATA_DIR: refused with exit 2 and the way out."""
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    run = subprocess.run([sys.executable, "-m", "bot", "launch", "--clusters", "2"], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 2 and "DATABASE_URL" in run.stderr


def test_launch_rejects_fewer_shards_than_clusters():
    """--shards below --clusters would leave a process idle: exit 2 saying so."""
    run = subprocess.run([sys.executable, "-m", "bot", "launch", "--clusters", "3", "--shards", "2"], cwd=ROOT,
                         capture_output=True, text=True, timeout=60,
                         env={**os.environ, "DATABASE_URL": "postgresql://x@127.0.0.1/db"})
    assert run.returncode == 2 and "at least --clusters" in run.stderr
