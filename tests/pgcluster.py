"""A throwaway PostgreSQL cluster in a temporary folder, for machines with the binaries but no server.

The suite prefers the server on 127.0.0.1:5432 (or ``NASHRA_TEST_PG``). When nothing answers there but
PostgreSQL's programs are installed (``/usr/lib/postgresql/*/bin`` on Debian/Ubuntu, or ``initdb`` on
PATH), ``tests/conftest.py`` starts one of these: ``initdb`` with trust authentication, then ``pg_ctl``
on a free loopback port with its Unix socket inside the folder (so it never collides with a system
cluster), and removes it all at the end of the session. This is what pytest-postgresql's executor does;
it is written out here because that executor refuses to run as root, and CI containers often are root:
as root the programs run as the ``postgres`` system user (initdb itself refuses root).

It does not tune the cluster, keep it between runs, or manage anything but its own folder.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

import psycopg

INSTALL_HINT = (
    "PostgreSQL is needed for the tests and none answers on 127.0.0.1:5432 nor is installed: "
    "install it (Debian/Ubuntu: apt-get install postgresql; macOS: brew install postgresql) "
    "or set NASHRA_TEST_PG to a server's DSN"
)


def find_bin_dir() -> Path | None:
    """The folder holding ``initdb`` and ``pg_ctl``: ``NASHRA_PG_BIN``, the newest Debian layout, PATH."""
    candidates: list[Path] = []
    if env := os.environ.get("NASHRA_PG_BIN"):
        candidates.append(Path(env))
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin"),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
        reverse=True,
    )
    candidates.extend(versions)
    if found := shutil.which("initdb"):
        candidates.append(Path(found).parent)
    for folder in candidates:
        if (folder / "initdb").is_file() and (folder / "pg_ctl").is_file():
            return folder
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def server_answers(dsn: str, timeout: int = 3) -> bool:
    try:
        with psycopg.connect(dsn, connect_timeout=timeout):
            return True
    except psycopg.OperationalError:
        return False


class ThrowawayCluster:
    """``initdb`` + ``pg_ctl start`` in a temporary folder; ``stop()`` stops it and deletes the folder."""

    def __init__(self, bin_dir: Path, *, port: int | None = None) -> None:
        self.bin_dir = bin_dir
        self.port = port or free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="nashra-pg-"))
        self.data = self.folder / "data"
        self._as_root = hasattr(os, "geteuid") and os.geteuid() == 0

    @property
    def dsn(self) -> str:
        return f"host=127.0.0.1 port={self.port} dbname=postgres user=postgres"

    def _run(self, *args: str) -> None:
        cmd = [str(self.bin_dir / args[0]), *args[1:]]
        if self._as_root:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        subprocess.run(cmd, check=True, capture_output=True, timeout=120)

    def start(self) -> ThrowawayCluster:
        if self._as_root:
            shutil.chown(self.folder, user="postgres")
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync")
        options = (
            f"-c listen_addresses=127.0.0.1 -c port={self.port} -c unix_socket_directories={self.folder}"
            " -c fsync=off -c max_connections=200"
        )
        log = str(self.folder / "log")
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", log, "-w", "start")
        deadline = time.monotonic() + 30
        while not server_answers(self.dsn, timeout=1):
            if time.monotonic() > deadline:
                raise RuntimeError(f"throwaway PostgreSQL did not start; see {self.folder / 'log'}")
            time.sleep(0.2)
        return self

    def stop(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError, FileNotFoundError):
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> ThrowawayCluster:
        return self.start()

    def __exit__(
        self, _t: type[BaseException] | None, _e: BaseException | None, _tb: TracebackType | None
    ) -> None:
        self.stop()
