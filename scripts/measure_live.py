"""Measures live updates under load: the real app in waitress, configured as the hub runs
it (`[web] threads`, its waiting room for live polls), on a loopback port. Opens N pages'
live connections (logged-in sessions, as browsers), then times `/healthz` from a fresh
connection while they are open, moves the ledger and counts how each poll was answered,
and times how many turned-away polls (answered at once) the server serves a second.

Usage: scripts/measure-live [--pages 200] [--sessions 50] [--threads 16] [--parked N]
(`--parked 100000` lets every poll wait, as the hub did before the waiting room.)
"""

import argparse
import json
import logging
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "scripts" / "lib")]

from web_client import Client, ensure_user  # noqa: E402

from hub import store  # noqa: E402
from hub.changes import ChangeFeed  # noqa: E402
from hub.config import WebSection  # noqa: E402
from hub.web import create_app  # noqa: E402
from hub.web.server import make_server, parked_poll_limit  # noqa: E402
from protocol.topics import Topics  # noqa: E402

USER, PASSWORD = "measure-live", "measure-live-password"


def _poll(client: Client, since: int, answers: list, i: int) -> None:
    try:
        status, body = client.request("GET", f"/changes?since={since}")
        answers[i] = (status, json.loads(body)) if status == 200 else (status, None)
    except OSError as exc:
        answers[i] = ("error", str(exc))


def _healthz_ms(port: int, n: int, timeout: float) -> list[float]:
    times = []
    for _ in range(n):
        client = Client(port, timeout=timeout)
        started = time.perf_counter()
        try:
            status, _ = client.request("GET", "/healthz")
        except OSError:
            status = "timeout"
        times.append((time.perf_counter() - started) * 1000 if status == 200 else float("inf"))
        client.close()
    return sorted(times)


def _answer_rate(port: int, sessions: list[Client], seconds: float, since: int) -> float:
    """Polls answered at once (what a turned-away poll costs) a second, 8 clients flat
    out."""
    done, stop = [0], time.monotonic() + seconds

    def hammer(cookie: str) -> None:
        client = Client(port)
        client.cookie = cookie
        while time.monotonic() < stop:
            client.request("GET", f"/changes?since={since}")
            done[0] += 1
        client.close()

    threads = [threading.Thread(target=hammer, args=(s.cookie,)) for s in sessions[:8]]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return done[0] / seconds


def measure(pages: int, sessions: int, threads: int, parked: int | None) -> dict:
    workdir = Path(tempfile.mkdtemp(prefix="measure-live-"))
    db = workdir / "ledger.db"
    conn = store.connect(db)
    store.create_schema(conn)
    ensure_user(conn, USER, PASSWORD)
    conn.close()
    feed = ChangeFeed()
    limit = parked if parked is not None else parked_poll_limit(threads)
    app = create_app(str(db), Topics("measure"), [], changes=feed, parked_polls=limit)
    server = make_server(app, WebSection(host="127.0.0.1", port=0, threads=threads))
    port = server.effective_port
    threading.Thread(target=server.run, daemon=True).start()
    try:
        logins = [Client(port, timeout=60) for _ in range(sessions)]
        for login in logins:
            login.login(USER, PASSWORD)
        clients = []
        for i in range(pages):
            client = Client(port, timeout=60)
            client.cookie = logins[i % sessions].cookie
            clients.append(client)
        answers: list = [None] * pages
        polls = [threading.Thread(target=_poll, args=(c, feed.version, answers, i))
                 for i, c in enumerate(clients)]  # fmt: skip
        for poll in polls:
            poll.start()
        time.sleep(1.0)  # every poll is in: parked or answered
        healthz = _healthz_ms(port, 10, timeout=30)
        feed.bump()
        for poll in polls:
            poll.join(60)
        rate = _answer_rate(port, logins, 3.0, feed.version - 1)
        for client in clients + logins:
            client.close()
    finally:
        server.close()
    statuses = [a[0] for a in answers if a]
    return {
        "pages": pages,
        "sessions": sessions,
        "threads": threads,
        "parked_limit": limit,
        "healthz_p50_ms": statistics.median(healthz),
        "healthz_max_ms": healthz[-1],
        "updated": sum(1 for a in answers if a and a[1] and "retry_after" not in a[1]),
        "retry_answers": sum(1 for a in answers if a and a[1] and "retry_after" in a[1]),
        "other": [s for s in statuses if s != 200],
        "unanswered": sum(1 for a in answers if a is None),
        "answers_at_once_per_s": rate,
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pages", type=int, default=200)
    parser.add_argument("--sessions", type=int, default=50)
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument(
        "--parked",
        type=int,
        default=None,
        help="polls allowed to wait (default: the hub's, half the threads)",
    )
    args = parser.parse_args()
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)  # "Task queue depth is n"
    result = measure(args.pages, args.sessions, args.threads, args.parked)
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
