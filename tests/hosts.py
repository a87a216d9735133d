"""Hosts on one machine: a Linux network namespace each, with its own hostname, behind a bridge.

Each host reaches the servers over its own veth link (10.77.0.0/24; the machine is 10.77.0.1),
never over loopback, and runs its bodycam processes in its own UTS namespace, so that
`socket.gethostname()`, which names claims and ingest sources, is the host's own. Killing a
host kills every process it started (one process group per host), with SIGKILL. Root only:
the tests that use it are skipped outside CI when not root, and fail in CI.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

BRIDGE = "bcbr0"
NET = "10.77.0"
MACHINE = f"{NET}.1"


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["ip", *args], check=check, capture_output=True, text=True, timeout=30)


@dataclass
class Host:
    name: str
    address: str
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def netns(self) -> str:
        return f"bc-{self.name}"

    def start(self, args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
        """Run ``args`` on this host (its network, its hostname), output to ``log``."""
        inner = f'hostname {self.name} && exec "$@"'
        cmd = ["ip", "netns", "exec", self.netns, "unshare", "--uts", "sh", "-c", inner, "sh", *args]
        with log.open("ab") as out:
            proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        self.procs.append(proc)
        return proc

    def kill(self) -> None:
        """The host dies whole: SIGKILL to every process it runs, nothing allowed to finish."""
        for proc in self.procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
        for proc in self.procs:
            proc.wait(timeout=30)
        self.procs.clear()

    def stop(self, timeout: float = 30) -> list[int]:
        """SIGTERM to each process; their exit codes."""
        for proc in self.procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        codes = [proc.wait(timeout=timeout) for proc in self.procs]
        self.procs.clear()
        return codes


class Network:
    """The bridge and the hosts on it; ``close`` removes every namespace and link it made."""

    def __init__(self) -> None:
        from tests.conftest import require

        require(os.geteuid() == 0 and shutil.which("ip") is not None and shutil.which("unshare") is not None,
                "root with iproute2 and unshare (network namespaces for the many-hosts test)")
        self.hosts: dict[str, Host] = {}
        self.close()  # what an earlier run killed before it could clean up
        _ip("link", "add", BRIDGE, "type", "bridge")
        _ip("addr", "add", f"{MACHINE}/24", "dev", BRIDGE)
        _ip("link", "set", BRIDGE, "up")

    def add(self, name: str) -> Host:
        host = Host(name, f"{NET}.{10 + len(self.hosts) + 1}")
        ns, outside = host.netns, f"bcv-{name}"[:15]
        _ip("netns", "add", ns)
        _ip("link", "add", outside, "type", "veth", "peer", "name", "eth0", "netns", ns)
        _ip("link", "set", outside, "master", BRIDGE, "up")
        for args in (("addr", "add", f"{host.address}/24", "dev", "eth0"), ("link", "set", "eth0", "up"),
                     ("link", "set", "lo", "up"), ("route", "add", "default", "via", MACHINE)):
            _ip("-n", ns, *args)
        self.hosts[name] = host
        return host

    def close(self) -> None:
        for host in self.hosts.values():
            host.kill()
        for line in _ip("netns", "list", check=False).stdout.splitlines():
            if line.startswith("bc-"):
                _ip("netns", "del", line.split()[0], check=False)
        _ip("link", "del", BRIDGE, check=False)
