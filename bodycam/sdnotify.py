"""The systemd notify protocol (Type=notify, WatchdogSec=): READY, STATUS, WATCHDOG, STOPPING.

A datagram to $NOTIFY_SOCKET, as sd_notify(3) sends it; without that variable (not under
systemd) every call does nothing. Standard library only: the protocol is one sendto.
"""

from __future__ import annotations

import os
import socket


def notify(*fields: str) -> bool:
    """Send 'KEY=value' lines to systemd; True if it was sent."""
    address = os.environ.get("NOTIFY_SOCKET")
    if not address or not fields:
        return False
    if address.startswith("@"):  # the abstract namespace
        address = "\0" + address[1:]
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
        try:
            sock.sendto("\n".join(fields).encode(), address)
        except OSError:
            return False
    return True


def watchdog_interval() -> float | None:
    """Seconds between keep-alive pings: half of what WatchdogSec= allows, or None without a watchdog."""
    usec = os.environ.get("WATCHDOG_USEC")
    pid = os.environ.get("WATCHDOG_PID")
    if not usec or (pid and pid != str(os.getpid())):
        return None
    try:
        return int(usec) / 1e6 / 2
    except ValueError:
        return None
