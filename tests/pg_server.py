"""A real PostgreSQL server for the tests: initdb + pg_ctl in a temporary folder, on 127.0.0.1.

initdb refuses to run as root, so as root the server runs as the unprivileged `nobody` user. The
server is stopped (pg_ctl stop -m fast) when the test session ends.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path


class NoPostgres(RuntimeError):
    """The PostgreSQL server binaries are not on this machine (see .ci/run, which installs them)."""


def find_bin_dir() -> Path:
    """The folder holding initdb and pg_ctl: PATH first, then Debian's /usr/lib/postgresql/<ver>/bin."""
    found = shutil.which("initdb")
    if found:
        return Path(os.path.realpath(found)).parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                        key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0)
    if candidates:
        return Path(candidates[-1]).parent
    raise NoPostgres("initdb was not found on PATH nor under /usr/lib/postgresql/*/bin "
                     "(apt-get install -y postgresql, or run .ci/run which does it).")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class PostgresServer:
    """One running server; `url(db)` is a DSN for a database on it."""

    bin_dir: Path
    root: Path
    port: int
    user: str | None

    @property
    def data(self) -> Path:
        return self.root / "data"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://legday@127.0.0.1:{self.port}/{database}"

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        kwargs = {"user": self.user} if self.user else {}
        return subprocess.run([str(self.bin_dir / args[0]), *args[1:]], check=check, capture_output=True,
                              text=True, timeout=120, cwd=self.root, **kwargs)

    def start(self) -> None:
        self._run("initdb", "-D", str(self.data), "-U", "legday", "--auth=trust", "-E", "UTF8", "--no-sync")
        options = (f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.root} -c fsync=off "
                   "-c max_connections=100 -c shared_buffers=64MB")
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.root / "server.log"), "-o", options,
                  "-w", "-t", "60", "start")

    def sql(self, statement: str) -> str:
        """Run one statement with psql on the `postgres` database; returns its output."""
        return subprocess.run([str(self.bin_dir / "psql"), "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1",
                               "-h", "127.0.0.1", "-p", str(self.port), "-U", "legday", "-d", "postgres",
                               "-c", statement], check=True, capture_output=True, text=True, timeout=60).stdout

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop", check=False)

    def log_tail(self) -> str:
        try:
            return (self.root / "server.log").read_text()[-2000:]
        except OSError:
            return ""


PREFIX = "legday-pg-"
OWNER_FILE = "owner.pid"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def reap_orphans(bin_dir: Path) -> None:
    """Stop and remove servers left by an earlier run that was killed before it could stop them."""
    for root in Path(tempfile.gettempdir()).glob(f"{PREFIX}*"):
        try:
            owner = int((root / OWNER_FILE).read_text())
        except (OSError, ValueError):
            continue
        if _alive(owner):
            continue
        if (root / "data" / "postmaster.pid").exists():
            user = root.owner() if os.geteuid() == 0 else None
            kwargs = {"user": user} if user and user != "root" else {}
            subprocess.run([str(bin_dir / "pg_ctl"), "-D", str(root / "data"), "-m", "immediate", "-w", "stop"],
                           capture_output=True, timeout=60, check=False, **kwargs)
        shutil.rmtree(root, ignore_errors=True)


def start_server() -> PostgresServer:
    """Start a throwaway server; the caller stops it (and removes `root`)."""
    bin_dir = find_bin_dir()
    reap_orphans(bin_dir)
    root = Path(tempfile.mkdtemp(prefix=PREFIX))
    (root / OWNER_FILE).write_text(str(os.getpid()))
    user = None
    if os.geteuid() == 0:
        user = "nobody"
        entry = pwd.getpwnam(user)
        os.chown(root, entry.pw_uid, entry.pw_gid)
    root.chmod(0o700)
    server = PostgresServer(bin_dir=bin_dir, root=root, port=free_port(), user=user)
    try:
        server.start()
    except subprocess.CalledProcessError as exc:
        shutil.rmtree(root, ignore_errors=True)
        raise NoPostgres(f"the test PostgreSQL server did not start: {exc.stderr or exc.stdout}") from None
    return server


@contextlib.contextmanager
def bench_database() -> Iterator[str]:
    """A database URL for a benchmark: DATABASE_URL when set, else a throwaway server's `bench` database."""
    url = os.environ.get("DATABASE_URL")
    if url:
        yield url
        return
    server = start_server()
    try:
        server.sql("CREATE DATABASE bench")
        yield server.url("bench")
    finally:
        server.stop()
        shutil.rmtree(server.root, ignore_errors=True)
