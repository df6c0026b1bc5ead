"""TinyDB mode: one process per data folder; a second refuses with a message naming the first."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from bot.storage import DataDirBusy, Storage

ROOT = Path(__file__).resolve().parent.parent

HOLDER = textwrap.dedent("""
    import sys, time
    from bot.storage import Storage
    storage = Storage.open(sys.argv[1], flush_interval=0.05, backup_count=0)
    print("ready", flush=True)
    if sys.argv[2] == "write":
        for n in range(1, 1001):
            from bot.models import Profile
            storage.profiles.save(n, Profile(weekly_km=10, level="beginner", goals=["speed"], long_run_day="sun"))
        storage.flush()
        print("saved", flush=True)
    time.sleep(60)
""")


def start_holder(data_dir: Path, mode: str = "hold") -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(data_dir), mode], cwd=ROOT,
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready"
    return proc


def test_second_process_on_the_same_folder_is_refused_by_name(tmp_path):
    """While one process holds DATA_DIR, opening it elsewhere raises DataDirBusy naming the holder."""
    holder = start_holder(tmp_path)
    try:
        with pytest.raises(DataDirBusy) as refused:
            Storage.open(tmp_path, backup_count=0)
        message = str(refused.value)
        assert f"process {holder.pid}" in message
        assert "DATABASE_URL" in message
    finally:
        holder.kill()
        holder.wait()


def test_lock_is_released_when_the_holder_is_killed(tmp_path):
    """kill -9 of the holder frees the folder at once (an OS lock, not a stale file), with nothing lost."""
    holder = start_holder(tmp_path, "write")
    assert holder.stdout.readline().strip() == "saved"
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()
    with Storage.open(tmp_path, backup_count=0) as storage:
        assert storage.profiles.count() == 1000


def test_second_storage_in_one_process_is_refused_and_close_frees_it(tmp_path):
    """The lock also holds within one process; closing the first storage lets the folder open again."""
    first = Storage.open(tmp_path, backup_count=0)
    with pytest.raises(DataDirBusy, match=f"process {os.getpid()}"):
        Storage.open(tmp_path, backup_count=0)
    first.close()
    Storage.open(tmp_path, backup_count=0).close()


def test_cli_refuses_a_busy_folder_with_the_message_and_no_traceback(tmp_path):
    """`python -m bot console` (which keeps what it is told) on a folder a bot holds prints the refusal, exit 1."""
    holder = start_holder(tmp_path)
    try:
        env = {**os.environ, "DATA_DIR": str(tmp_path), "DISCORD_TOKEN": ""}
        run = subprocess.run([sys.executable, "-m", "bot", "console"], cwd=ROOT, env=env, input="",
                             capture_output=True, text=True, timeout=60)
    finally:
        holder.kill()
        holder.wait()
    assert run.returncode == 1, run.stderr
    assert "already in use by process" in run.stderr and "Traceback" not in run.stderr
    assert "console --no-save" in run.stderr  # the way to talk to LegDay meanwhile
