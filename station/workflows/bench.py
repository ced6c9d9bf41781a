"""The whole bench as one pure state machine: mode, operator, and the current workflow.

The core calls exactly three things here: `initial_state`, `handle` and `view`.
"""

from dataclasses import dataclass, replace

from station.inputs import Input, Scanned, Touch, Weighed
from station.workflows import pack
from station.workflows.base import Lookups, Outcome, Verdict


@dataclass(frozen=True)
class BenchSettings:
    """What the workflows need from the station config."""

    station: str
    mode: str = "pack"
    bench_location: str = "PACK"
    dock_location: str = "DOCK"


@dataclass(frozen=True)
class BenchState:
    settings: BenchSettings
    mode: str
    pack: pack.PackState
    last_verdict: Verdict | None = None
    last_code: str | None = None


def initial_state(settings: BenchSettings) -> BenchState:
    return BenchState(
        settings=settings,
        mode=settings.mode,
        pack=pack.PackState(location=settings.bench_location),
    )


def handle(state: BenchState, event: Input, lookups: Lookups) -> Outcome:
    """One input from a scanner, scale or button; hub messages never come here."""
    if isinstance(event, Scanned):
        return _scanned(state, event, lookups)
    if isinstance(event, Weighed | Touch):
        return Outcome(state)
    return Outcome(state)


def _scanned(state: BenchState, event: Scanned, lookups: Lookups) -> Outcome:
    if state.mode != "pack":
        verdict = Verdict("wrong_mode", f"{state.mode} mode is not available yet", "error")
        return Outcome(replace(state, last_verdict=verdict, last_code=event.code), (), verdict)
    outcome = pack.scan(state.pack, event.code, lookups)
    new = replace(state, pack=outcome.state, last_verdict=outcome.verdict, last_code=event.code)
    return replace(outcome, state=new)


def view(state: BenchState) -> dict:
    """What the kiosk shows, as plain JSON-able data."""
    verdict = state.last_verdict
    return {
        "mode": state.mode,
        "operator": state.pack.operator,
        "order": state.pack.order,
        "lines": [
            {"sku": line.sku, "ordered": line.ordered, "scanned": line.scanned}
            for line in state.pack.lines
        ],
        "last_code": state.last_code,
        "verdict": None
        if verdict is None
        else {"name": verdict.name, "message": verdict.message, "pattern": verdict.pattern},
    }
