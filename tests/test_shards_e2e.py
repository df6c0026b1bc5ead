"""Two bot processes (shards 0 and 1 of 2) on one PostgreSQL, each with the offline Discord layer.

A plan made through one is seen by the other, a rule change on one is used by the other, and a kill -9
of one loses nothing it acknowledged.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


class Shard:
    """A bot process driven by JSON lines (tests/shard_process.py)."""

    def __init__(self, tmp_path: Path, url: str, index: int) -> None:
        data = tmp_path / f"cluster-{index}"
        data.mkdir()
        self.proc = subprocess.Popen([sys.executable, str(ROOT / "tests" / "shard_process.py"), str(data), url,
                                      str(index), "2"], cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True)
        self.hello = self._read()

    def _read(self) -> dict:
        line = self.proc.stdout.readline()
        if not line:
            pytest.fail(f"the shard process ended (exit {self.proc.wait()})")
        return json.loads(line)

    def ask(self, **command) -> dict:
        self.proc.stdin.write(json.dumps(command) + "\n")
        self.proc.stdin.flush()
        return self._read()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def test_two_shard_processes_share_plans_rules_and_survive_a_kill(tmp_path, pg_url, coach):
    """Shard 0 makes a plan, shard 1 shows it; a rule disabled on 0 changes 1's plans; kill -9 loses nothing."""
    a = Shard(tmp_path, pg_url, 0)
    b = Shard(tmp_path, pg_url, 1)
    try:
        assert a.hello == {"ready": True, "shards": [0], "primary": True}
        assert b.hello == {"ready": True, "shards": [1], "primary": False}
        built = a.ask(op="plan")
        assert built["content"].startswith("Here's your plan")
        shown = b.ask(op="show")
        assert shown["embeds"], shown  # the profile made through shard 0, read by shard 1
        before = b.ask(op="version")["rules_version"]
        rule_id = next(iter(coach.ruleset.by_id))
        assert a.ask(op="disable", rule=rule_id)["change"] == 1
        after_a, after_b = a.ask(op="version")["rules_version"], b.ask(op="version")["rules_version"]
        assert after_b != before and after_b == after_a
        assert a.ask(op="save", user=4242)["saved"] == 4242  # acknowledged...
        os.kill(a.proc.pid, signal.SIGKILL)  # ...then the process dies at once
        a.proc.wait()
        assert b.ask(op="show", user=4242)["embeds"], "an acknowledged save was lost"
    finally:
        a.stop()
        b.stop()
