"""The durable print spool: jobs in the station's SQLite, one worker thread per printer.

A job's bytes are rendered when it is submitted and stored, so a restart, a reprint or a
printer that comes back an hour later prints exactly what was asked. States:

    queued -> sending -> printed | partial | failed

A job waits in `queued` while its printer is missing or reports a fault (paper out, head
open). A job whose send broke off, or after which the printer reported a fault, becomes
`partial` and is never sent again by itself: the packer may already hold half a label,
and a second copy of a shipping label is worse than none. Only `reprint(job_id)` or
`reprint_last()` (the hub's `cmd/reprint`) queue it again, as a new job.
"""

import logging
import sqlite3
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from station.drivers.printers.labels import Label
from station.drivers.printers.links import PrinterLink, PrinterMissing, SendFailed
from station.drivers.printers.render import render
from station.inputs import DeviceState, Emit, Input

log = logging.getLogger(__name__)

TABLE = "print_jobs"
FINAL_STATES = frozenset({"printed", "partial", "failed"})


@dataclass(frozen=True)
class SpoolPrinter:
    name: str
    language: str  # "escpos" or "zpl"
    link: PrinterLink
    profile: str | None = None  # python-escpos profile for rendering


@dataclass(frozen=True)
class Job:
    id: int
    printer: str
    kind: str
    title: str
    state: str
    error: str | None
    reprint_of: int | None
    created_at: str
    updated_at: str


def _ignore(_: Input) -> None:
    pass


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class PrintSpool:
    def __init__(
        self,
        db_path: str | Path,
        printers: Iterable[SpoolPrinter] = (),
        emit: Emit = _ignore,
        poll_s: float = 2.0,
    ) -> None:
        self.printers = {p.name: p for p in printers}
        self.emit = emit
        self.poll_s = poll_s  # how often an idle or waiting worker looks at its printer
        self.states: dict[str, str] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._wake = {name: threading.Event() for name in self.printers}
        self._threads: list[threading.Thread] = []
        # One connection shared under a lock: the workers write rarely and briefly.
        self._db = sqlite3.connect(str(db_path), check_same_thread=False)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._create_table()
        self._recover()

    # --- the table ------------------------------------------------------------------
    def _create_table(self) -> None:
        # The table and index sqlite-utils made when the spool used it: the same names, so
        # a station's existing spool is used as it is.
        with self._lock, self._db:
            self._db.execute(
                f"CREATE TABLE IF NOT EXISTS {TABLE} (id INTEGER PRIMARY KEY, "
                "printer TEXT NOT NULL, kind TEXT NOT NULL, title TEXT, language TEXT NOT NULL, "
                "data BLOB NOT NULL, state TEXT NOT NULL, error TEXT, reprint_of INTEGER, "
                "created_at TEXT, updated_at TEXT)"
            )
            self._db.execute(
                f"CREATE INDEX IF NOT EXISTS idx_{TABLE}_printer_state ON {TABLE} (printer, state)"
            )

    def _recover(self) -> None:
        # A job caught in `sending` by a crash or power cut may have printed in part.
        with self._lock, self._db:
            self._db.execute(
                f"UPDATE {TABLE} SET state = 'partial', error = ?, updated_at = ? "
                "WHERE state = 'sending'",
                ["the station stopped while sending", _now()],
            )

    def _set_state(self, job_id: int, state: str, error: str | None = None) -> None:
        with self._lock, self._db:
            self._db.execute(
                f"UPDATE {TABLE} SET state = ?, error = ?, updated_at = ? WHERE id = ?",
                (state, error, _now(), job_id),
            )

    def _insert(self, row: dict) -> int:
        now = _now()
        row = {**row, "state": "queued", "error": None, "created_at": now, "updated_at": now}
        columns = ", ".join(row)
        marks = ", ".join(f":{name}" for name in row)
        with self._lock, self._db:
            job_id = self._db.execute(
                f"INSERT INTO {TABLE} ({columns}) VALUES ({marks})", row
            ).lastrowid
        self._wake_worker(row["printer"])
        return int(job_id)

    # --- the station's calls ----------------------------------------------------------
    def submit(self, printer: str, label: Label) -> int:
        """Queue `label` for `printer`; returns the job id. Raises ValueError for an
        unknown printer or a label the printer's language cannot carry."""
        target = self.printers.get(printer)
        if target is None:
            raise ValueError(f"unknown printer {printer!r}; configured: {sorted(self.printers)}")
        data = render(label, target.language, target.profile)
        return self._insert(
            {
                "printer": printer,
                "kind": label.kind,
                "title": label.title,
                "language": target.language,
                "data": data,
                "reprint_of": None,
            }
        )

    def reprint(self, job_id: int) -> int:
        """Queue the same bytes again as a new job; returns its id."""
        with self._lock:
            rows = list(self._db.execute(f"SELECT * FROM {TABLE} WHERE id = ?", [job_id]))
        if not rows:
            raise KeyError(f"no print job {job_id}")
        old = rows[0]
        keep = ("printer", "kind", "title", "language", "data")
        return self._insert({**{k: old[k] for k in keep}, "reprint_of": job_id})

    def reprint_last(self, printer: str | None = None) -> int:
        """Reprint the newest job (of `printer`, if given)."""
        where, args = ("WHERE printer = ?", [printer]) if printer else ("", [])
        with self._lock:
            rows = list(
                self._db.execute(f"SELECT id FROM {TABLE} {where} ORDER BY id DESC LIMIT 1", args)
            )
        if not rows:
            raise KeyError("nothing has been printed yet")
        return self.reprint(rows[0]["id"])

    def job(self, job_id: int) -> Job:
        with self._lock:
            rows = list(self._db.execute(f"SELECT * FROM {TABLE} WHERE id = ?", [job_id]))
        if not rows:
            raise KeyError(f"no print job {job_id}")
        return _job(rows[0])

    def jobs(self, printer: str | None = None) -> list[Job]:
        where, args = ("WHERE printer = ?", [printer]) if printer else ("", [])
        with self._lock:
            return [
                _job(r)
                for r in self._db.execute(f"SELECT * FROM {TABLE} {where} ORDER BY id", args)
            ]

    def wait(self, job_id: int, timeout: float, states: frozenset[str] = FINAL_STATES) -> Job:
        """The job once it reaches one of `states`, or as it is when `timeout` runs out."""
        deadline = time.monotonic() + timeout
        while True:
            job = self.job(job_id)
            if job.state in states or time.monotonic() >= deadline:
                return job
            time.sleep(0.02)

    # --- the workers -------------------------------------------------------------------
    def start(self) -> None:
        for printer in self.printers.values():
            thread = threading.Thread(
                target=self._work, args=(printer,), name=f"printer-{printer.name}", daemon=True
            )
            thread.start()
            self._threads.append(thread)

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        for event in self._wake.values():
            event.set()
        for thread in self._threads:
            thread.join(timeout)
        self._threads.clear()
        with self._lock:
            self._db.close()

    def _wake_worker(self, printer: str) -> None:
        if printer in self._wake:
            self._wake[printer].set()

    def _next_job(self, printer: str) -> Job | None:
        with self._lock:
            rows = list(
                self._db.execute(
                    f"SELECT * FROM {TABLE} WHERE printer = ? AND state = 'queued' "
                    "ORDER BY id LIMIT 1",
                    [printer],
                )
            )
        return _job(rows[0]) if rows else None

    def _job_data(self, job_id: int) -> bytes:
        with self._lock:
            return self._db.execute(f"SELECT data FROM {TABLE} WHERE id = ?", [job_id]).fetchone()[
                0
            ]

    def _work(self, printer: SpoolPrinter) -> None:
        wake = self._wake[printer.name]
        while not self._stop.is_set():
            wake.clear()
            try:
                job = self._next_job(printer.name)
                done = self._print(printer, job) if job else self._look(printer)
            except Exception:  # noqa: BLE001 - a worker must outlive any one bad job
                log.exception("printer %s: worker error", printer.name)
                done = False
            if not (job and done):
                wake.wait(self.poll_s)

    def _report(self, printer: str, state: str) -> None:
        if self.states.get(printer) != state:
            self.states[printer] = state
            log.info("printer %s: %s", printer, state)
            self.emit(DeviceState(printer, state))

    def _look(self, printer: SpoolPrinter) -> bool:
        """Idle: open, ask the status, close, so the station shows an unplugged printer."""
        try:
            printer.link.open()
        except PrinterMissing:
            self._report(printer.name, "missing")
            return False
        try:
            self._report(printer.name, printer.link.status().device_state)
        except PrinterMissing:
            self._report(printer.name, "missing")
        finally:
            printer.link.close()
        return False

    def _print(self, printer: SpoolPrinter, job: Job) -> bool:
        """Try to print `job`; False if it must wait for the printer."""
        link = printer.link
        try:
            link.open()
        except PrinterMissing as exc:
            log.info("printer %s: job %d waits: %s", printer.name, job.id, exc)
            self._report(printer.name, "missing")
            return False
        try:
            return self._send(printer, job)
        finally:
            link.close()

    def _send(self, printer: SpoolPrinter, job: Job) -> bool:
        link = printer.link
        try:
            before = link.status()
        except PrinterMissing:
            self._report(printer.name, "missing")
            return False
        self._report(printer.name, before.device_state)
        if before.problem:
            return False
        self._set_state(job.id, "sending")
        try:
            link.send(self._job_data(job.id))
            # A sent job is not a printed job: ask again, on the same connection, so
            # a printer that dropped or faulted meanwhile shows up here.
            after = link.status()
        except (SendFailed, PrinterMissing) as exc:
            self._set_state(job.id, "partial", f"connection lost while printing: {exc}")
            self._report(printer.name, "missing")
            return True
        if after.problem:
            self._set_state(job.id, "partial", f"printer reported {after.problem} after the job")
        else:
            self._set_state(job.id, "printed")
        self._report(printer.name, after.device_state)
        return True


def _job(row: sqlite3.Row) -> Job:
    return Job(
        id=row["id"],
        printer=row["printer"],
        kind=row["kind"],
        title=row["title"],
        state=row["state"],
        error=row["error"],
        reprint_of=row["reprint_of"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )
