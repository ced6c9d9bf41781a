"""systemd's notify protocol (READY=1, WATCHDOG=1), for both services: one datagram to $NOTIFY_SOCKET."""

import os
import socket


def notify(state: str) -> bool:
    """Send `state` to systemd; False (and nothing done) when not run by systemd."""
    address = os.environ.get("NOTIFY_SOCKET")
    if not address:
        return False
    if address.startswith("@"):  # an abstract socket
        address = "\0" + address[1:]
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.sendto(state.encode(), address)
    return True


def watchdog_interval() -> float | None:
    """Half the unit's WatchdogSec, in seconds, or None when there is no watchdog."""
    usec = os.environ.get("WATCHDOG_USEC")
    return int(usec) / 2_000_000 if usec and usec.isdigit() else None
