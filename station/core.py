"""The station core: the one owner of station state, fed by one queue of inputs.

For each input, in this order: the bench decides (pure), the events are committed to the
journal, and only then the packer hears and sees the verdict. A scan whose events could
not be journaled gets the error pattern and "Not recorded", and changes nothing.
"""

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any, Protocol

import msgspec

from protocol.messages import Applied
from protocol.topics import Topics
from station.cache import Cache
from station.inputs import DeviceState, HubMessage, Input, Tick, Touch
from station.ledger.journal import TRIM_STEP, Journal, JournalError
from station.snapshot import SnapshotBoard
from station.workflows import bench
from station.workflows.base import Label, Outcome, verdict

log = logging.getLogger(__name__)

TICK_SECONDS = 0.5
# The journal is trimmed on idle ticks: step after step while a backlog of old acknowledged
# events is there, otherwise it looks again this often.
TRIM_EVERY_S = 60.0


class FeedbackSink(Protocol):
    def show(self, pattern: str) -> None: ...


class LabelSink(Protocol):
    """Returns None, or why the label will not be printed (shown on the kiosk)."""

    def submit(self, label: Label) -> str | None: ...

    def reprint_last(self, printer: str | None = None) -> str | None: ...


class UplinkPort(Protocol):
    connected: bool

    @property
    def unacked(self) -> int: ...

    def notify(self) -> None: ...

    def publish_status(self) -> None: ...


class Core:
    def __init__(
        self,
        settings: bench.BenchSettings,
        journal: Journal,
        cache: Cache,
        topics: Topics,
        board: SnapshotBoard,
        feedback: FeedbackSink | None = None,
        labels: LabelSink | None = None,
    ) -> None:
        self.settings = settings
        self.journal = journal
        self.cache = cache
        self.topics = topics
        self.board = board
        self.feedback = feedback
        self.labels = labels
        self.uplink: UplinkPort | None = None
        # Set when the station must not journal (its journal is behind the hub's ack).
        self.fault: str | None = None
        self.state = bench.initial_state(settings)
        self.devices: dict[str, str] = {}
        # Why the last label will not print (no printer for its kind, bad data), or None.
        self.print_problem: str | None = None
        self.inputs: queue.SimpleQueue[Input] = queue.SimpleQueue()
        # Read by the uplink's thread for the retained status: replaced, never mutated.
        self.status_fields: dict[str, Any] = {}
        self._last_snapshot: dict[str, Any] = {}
        self._next_trim = 0.0
        self._refresh()

    def emit(self, item: Input) -> None:
        """Put one input on the queue; safe from any thread."""
        self.inputs.put(item)

    def run(self, stop: threading.Event, on_tick: Callable[[], None] | None = None) -> None:
        next_tick = time.monotonic() + TICK_SECONDS
        while not stop.is_set():
            try:
                item = self.inputs.get(timeout=max(0.0, next_tick - time.monotonic()))
            except queue.Empty:
                item = Tick(time.monotonic())
            if isinstance(item, Tick):
                next_tick = item.monotonic + TICK_SECONDS
                if on_tick:
                    on_tick()
            try:
                self.handle(item)
            except Exception:  # noqa: BLE001 - one bad input must not stop the bench
                log.exception("input %r failed", item)

    def handle(self, item: Input) -> None:
        if isinstance(item, HubMessage):
            self._hub_message(item)
        elif isinstance(item, DeviceState):
            self.devices = {**self.devices, item.device: item.state}
            self._refresh(status=True)
        elif isinstance(item, Tick):
            self._refresh()
            self._trim_journal(item.monotonic)
        else:
            self._bench_input(item)

    def _trim_journal(self, now: float) -> None:
        """Only on ticks, which come when no input is waiting: a scan never queues behind
        more than one short trim step."""
        if now < self._next_trim:
            return
        deleted = self.journal.trim()
        self._next_trim = now if deleted >= TRIM_STEP else now + TRIM_EVERY_S

    # --- bench inputs: decide, journal, then feedback ------------------------------
    def _bench_input(self, item: Input) -> None:
        outcome = bench.handle(self.state, item, self.cache)
        outcome = self._journal(outcome)
        self.state = outcome.state
        if outcome.verdict is not None:
            self._show(outcome.verdict.pattern)
        if self.labels is not None and outcome.labels:
            problems = [self._print(label) for label in outcome.labels]
            self.print_problem = next((p for p in problems if p), None)
        self._refresh(status=outcome.verdict is not None)

    # The movement is journaled by now: a failing output must cost neither the label nor
    # the screen, so each says what went wrong instead of raising.
    def _show(self, pattern: str) -> None:
        if self.feedback is None:
            return
        try:
            self.feedback.show(pattern)
        except Exception as exc:  # noqa: BLE001 - GPIO errors come in many types
            log.error("feedback failed: %s", exc)
            self.devices = {**self.devices, "feedback": f"fault: {exc}"}

    def _print(self, label: Label) -> str | None:
        try:
            return self.labels.submit(label)
        except Exception as exc:  # noqa: BLE001 - e.g. the spool's disk is full
            log.exception("%s label not queued", label.kind)
            return f"{label.kind.capitalize()} label not printed: {exc}"

    def _journal(self, outcome: Outcome) -> Outcome:
        if not outcome.events:
            return outcome
        try:
            if self.fault:
                raise JournalError(self.fault)
            self.journal.append(outcome.events)
        except JournalError as exc:
            log.error("not recorded: %s", exc)
            said = verdict("not_recorded", f"Not recorded: {exc}")
            # The state stays as it was: the scan did not happen as far as the books go.
            # Only the display moves on, so the kiosk and status say which scan failed.
            last_code = getattr(outcome.state, "last_code", None)
            last_read = getattr(outcome.state, "last_read", None)
            kept = replace(self.state, last_verdict=said, last_code=last_code,
                           last_read=last_read)  # fmt: skip
            return Outcome(kept, (), said)
        if self.uplink is not None:
            self.uplink.notify()
        return outcome

    # --- hub messages -------------------------------------------------------------
    def _hub_message(self, message: HubMessage) -> None:
        if self.cache.kind_of(message.topic):
            self.cache.apply(message.topic, message.payload)
            self._refresh()
            return
        levels = self.topics.leaf(message.topic)
        if levels[:3] == ["station", self.settings.station, "cmd"] and len(levels) == 4:
            self._command(levels[3], message.payload)
        elif levels == ["station", self.settings.station, "applied"]:
            self._applied(message.payload)
            self._refresh()

    def _applied(self, payload: bytes) -> None:
        """An ack beyond our own journal's head: the journal went back (restored from an
        older copy, or a card that lost writes). New events would reuse seqs the hub has
        already applied, and it would drop them as duplicates, so nothing more is recorded
        until a supervisor gives the station a new journal (a new epoch)."""
        try:
            applied = msgspec.json.decode(payload, type=Applied)
        except (msgspec.DecodeError, UnicodeDecodeError):
            return  # the uplink logs it
        if applied.epoch != self.journal.epoch or applied.seq <= self.journal.head:
            return
        if self.fault is None:
            acked, head = min(self.journal.acked(), applied.seq), self.journal.head
            at_risk = f"{acked + 1}..{head}" if acked < head else "none"
            log.error(
                "journal behind the hub: the hub applied seq %d of epoch %s, the journal ends "
                "at %d; seqs not acked when this journal was last written (%s) may repeat "
                "the hub's with other events. Recording stops: move %s* aside and restart "
                "for a new epoch",
                applied.seq, applied.epoch, head, at_risk, self.journal.path,
            )  # fmt: skip
        self.fault = (
            f"journal behind the hub (hub has seq {applied.seq}, journal {self.journal.head})"
        )
        said = verdict("journal_behind_hub", f"Not recorded: {self.fault}")
        self.state = replace(self.state, last_verdict=said)
        self._refresh(status=True)

    def _command(self, name: str, payload: bytes) -> None:
        """identify, reprint and mode; resync is the uplink's (it re-sends the journal)."""
        log.info("command from hub: %s", name)
        if name == "identify":
            self._identify()
        elif name == "reprint":
            self._reprint(_arg(payload, "printer"))
        elif name == "mode":
            mode = _arg(payload, "mode")
            if mode:
                self._bench_input(Touch("mode", mode))

    def _identify(self) -> None:
        """Beep and blink, and say so on the screen: someone at the hub looks for this bench."""
        self._show("attention")
        said = verdict("identify", "The hub is looking for this station", "attention")
        self.state = replace(self.state, last_verdict=said)
        self._refresh()

    def _reprint(self, printer: str | None) -> None:
        if self.labels is None:
            self.print_problem = "Reprint: this station has no printer"
        else:
            self.print_problem = self.labels.reprint_last(printer)
        if self.print_problem:
            log.warning("%s", self.print_problem)
        self._refresh()

    # --- what others see ----------------------------------------------------------
    def _refresh(self, status: bool = False) -> None:
        view = bench.view(self.state)
        uplink = self.uplink
        verdict = view.get("verdict") or {}
        self.status_fields = {
            "mode": view.get("mode"),
            "operator": view.get("operator"),
            "devices": dict(self.devices),
            "last_scan": view.get("last_code"),
            "last_verdict": verdict.get("name"),
            "last_read": self.state.last_read,
            "fault": self.fault,
        }
        snapshot = {
            **view,
            "station": self.settings.station,
            "devices": dict(self.devices),
            "connection": "online" if uplink and uplink.connected else "offline",
            "unacked": uplink.unacked if uplink else self.journal.head,
            "head": self.journal.head,
            "cached": self.cache.counts(),
            "fault": self.fault,
            "print_problem": self.print_problem,
        }
        if snapshot != self._last_snapshot:
            self._last_snapshot = snapshot
            self.board.publish(snapshot)
        if status and uplink is not None:
            uplink.publish_status()


def _arg(payload: bytes, key: str) -> str | None:
    try:
        data = msgspec.json.decode(payload) if payload else {}
    except (msgspec.DecodeError, UnicodeDecodeError):
        return None
    args = data.get("args", data) if isinstance(data, dict) else {}
    value = args.get(key) if isinstance(args, dict) else None
    return value if isinstance(value, str) else None
