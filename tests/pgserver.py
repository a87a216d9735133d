"""A private PostgreSQL server a test may stop, restart and kill: the shared one stays up for the rest.

Debian's server binaries (what ../shared/services/pg-up installs), a fresh cluster under /tmp (the
server runs as the `postgres` user, which cannot enter pytest's private folders), trust
authentication, and listening on the addresses given (loopback, or a veth address for the hosts
of tests/hosts.py).
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PrivatePostgres:
    def __init__(self, listen: str = "127.0.0.1") -> None:
        from tests.conftest import require

        found = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"))
        require(bool(found), "PostgreSQL server binaries (../shared/services/pg-up installs them)")
        self.bin = Path(found[-1]).parent
        self.port = free_port()
        self.listen = listen
        self.base = Path(tempfile.mkdtemp(prefix="bodycam-pg-"))
        self.data = self.base / "data"
        if os.geteuid() == 0:
            shutil.chown(self.base, "postgres")
        self._as_pg(str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
                    "--locale=C.UTF-8")
        with (self.data / "pg_hba.conf").open("a") as f:
            f.write("host all all 0.0.0.0/0 trust\n")  # the test hosts' veth addresses
        self.start()
        self.psql("CREATE ROLE bodycam LOGIN SUPERUSER")
        self.psql("CREATE DATABASE bodycam OWNER bodycam")

    def url(self, host: str | None = None) -> str:
        return f"postgresql+psycopg://bodycam@{host or self.listen.split(',')[0]}:{self.port}/bodycam"

    def _as_pg(self, *args: str) -> None:
        cmd = ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else list(args)
        subprocess.run(cmd, check=True, capture_output=True, timeout=120)

    def psql(self, sql: str) -> None:
        self._as_pg(str(self.bin / "psql"), "-h", str(self.base), "-p", str(self.port), "-U", "postgres", "-qtAX",
                    "-c", sql)

    def start(self) -> None:
        self._as_pg(str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.base / "server.log"), "-w",
                    "-t", "60", "-o", f"-c listen_addresses={self.listen} -p {self.port} -k {self.base} "
                    "-c fsync=off -c max_connections=200", "start")

    def stop(self, mode: str = "fast") -> None:
        """``fast``: a restart's first half (sessions ended, a clean shutdown); ``immediate``: a crash."""
        self._as_pg(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")

    def destroy(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self.stop("immediate")
        shutil.rmtree(self.base, ignore_errors=True)
