"""The web server the hub runs its app in (waitress), configured in one place for the hub
and the measurement scripts."""

from flask import Flask
from waitress.server import create_server

from hub.config import WebSection


def parked_poll_limit(threads: int) -> int:
    """Live polls that may wait at once: half the threads, so the other half always serves
    pages, the API and `/healthz` (docs/web.md: live updates)."""
    return max(1, threads // 2)


def make_server(app: Flask, web: WebSection):
    """A waitress server for `app` on `web.host:web.port` (port 0: a free one)."""
    return create_server(
        app,
        host=web.host,
        port=web.port,
        threads=web.threads,
        # Every open page keeps a connection (idle between its polls). Waitress stops
        # accepting beyond this, so a new request, /healthz too, would wait for a slot;
        # poll() rather than select(), which cannot watch file descriptors past 1024.
        connection_limit=web.connection_limit,
        asyncore_use_poll=True,
        ident="warehouse-hub",
    )
