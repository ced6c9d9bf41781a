"""The whole bench as one pure state machine: mode, operator, scale, and each workflow.

The core calls exactly these: `initial_state`, `handle`, `view` (and
`settings_from_config` at start-up). Each mode keeps its own state, so a mode switch
(a barcode, a kiosk button or the hub) never loses an order or a count in progress.
"""

from dataclasses import dataclass, field, replace
from decimal import Decimal
from types import ModuleType

from protocol.events import Scan
from protocol.labels import MODES
from protocol.messages import ScanRead
from station.barcodes import (
    GS,
    Command,
    Item,
    Meaning,
    Operator,
    Quantity,
    Unknown,
    interpret,
    read_of,
)
from station.config import StationConfig
from station.inputs import Input, Scanned, Touch, Weighed
from station.workflows import count, move, pack, receive
from station.workflows.base import Context, Lookups, Outcome, Verdict, WorkflowSettings, verdict
from station.workflows.count import CountState
from station.workflows.move import MoveState
from station.workflows.pack import PackState
from station.workflows.receive import ReceiveState

WORKFLOWS: dict[str, ModuleType] = {
    "pack": pack,
    "receive": receive,
    "count": count,
    "move": move,
    "adjust": move,
}
# Commands a workflow handles; the bench handles mode, tare and weigh itself.
WORKFLOW_COMMANDS = ("done", "undo", "cancel", "override", "short", "reason", "task")
# Weigh-counting refuses a reading this far from a whole number of units.
COUNT_SLACK = Decimal("0.25")
MAX_CODE = 500


@dataclass(frozen=True, kw_only=True)
class BenchSettings(WorkflowSettings):
    """What the bench needs from the station config."""

    station: str
    mode: str = "pack"
    gs_separators: tuple[str, ...] = (GS,)


def settings_from_config(config: StationConfig) -> BenchSettings:
    substitutes = tuple(s.gs_substitute for s in config.scanners if s.gs_substitute)
    return BenchSettings(
        station=config.station.id,
        mode=config.station.mode,
        dock_location=config.station.dock_location,
        bench_location=config.pack.location,
        weight_tolerance_g=config.pack.weight_tolerance_g,
        weight_tolerance_pct=config.pack.weight_tolerance_pct,
        default_packaging_g=config.pack.default_packaging_g,
        # A bench without a scale cannot weigh: its orders ship when the last item is packed.
        verify_weight=config.pack.verify_weight and bool(config.scales),
        over_receipt_tolerance_pct=config.receive.over_receipt_tolerance_pct,
        gs_separators=(GS, *substitutes),
    )


@dataclass(frozen=True)
class BenchState:
    settings: BenchSettings
    mode: str
    operator: str | None = None
    pack: PackState = field(default_factory=PackState)
    receive: ReceiveState = field(default_factory=ReceiveState)
    count: CountState = field(default_factory=CountState)
    move: MoveState = field(default_factory=lambda: MoveState("move"))
    adjust: MoveState = field(default_factory=lambda: MoveState("adjust"))
    last_verdict: Verdict | None = None
    last_code: str | None = None
    last_read: ScanRead | None = None  # what last_code was read as, for the status
    scale_g: Decimal | None = None
    scale_stable: bool = False
    tare_g: Decimal = Decimal(0)
    next_qty: int | None = None  # a QTY: label multiplies the next item
    weigh_next: bool = False  # the next item's quantity comes from the scale


def initial_state(settings: BenchSettings) -> BenchState:
    return BenchState(settings=settings, mode=settings.mode)


def handle(state: BenchState, event: Input, lookups: Lookups) -> Outcome:
    """One input from a scanner, scale or button; hub messages never come here."""
    if isinstance(event, Scanned):
        return _scanned(state, event, lookups)
    if isinstance(event, Touch):
        outcome = _touched(state, event, lookups)
        return replace(outcome, state=replace(outcome.state, last_verdict=outcome.verdict))
    if isinstance(event, Weighed):
        return _weighed(state, event, lookups)
    return Outcome(state)


# --- scans -------------------------------------------------------------------------------


def _scanned(state: BenchState, event: Scanned, lookups: Lookups) -> Outcome:
    meaning = interpret(event.code, event.symbology, lookups, state.settings.gs_separators)
    outcome = _meaning(state, meaning, lookups)
    decided = outcome.verdict or verdict("ok", "")
    new = replace(outcome.state, last_verdict=decided, last_code=event.code,
                  last_read=read_of(meaning))  # fmt: skip
    scan = Scan(
        code=event.code[:MAX_CODE],
        verdict=decided.name,
        mode=state.mode,
        order=_order(state, new),
        po=_po(state, new),
        sku=meaning.sku if isinstance(meaning, Item) else None,
        operator=new.operator,
    )
    return Outcome(new, (scan, *outcome.events), decided, outcome.labels)


def _meaning(state: BenchState, meaning: Meaning, lookups: Lookups) -> Outcome:
    if isinstance(meaning, Unknown):
        return _say(state, "unknown_barcode", f"Unknown barcode: {meaning.reason}")
    if isinstance(meaning, Operator):
        return _say(replace(state, operator=meaning.operator), "ok", f"Hello {meaning.operator}")
    if isinstance(meaning, Quantity):
        return _say(
            replace(state, next_qty=meaning.qty, weigh_next=False),
            "ok",
            f"Next scan × {meaning.qty}",
        )
    if isinstance(meaning, Command):
        return _command(state, meaning.name, meaning.arg, lookups)
    if isinstance(meaning, Item):
        counted = _with_quantity(state, meaning, lookups)
        state = replace(state, next_qty=None, weigh_next=False)
        if not isinstance(counted, Item):
            return _say(state, counted.name, counted.message)
        meaning = counted
    return _run(state, lookups, lambda flow, work, ctx: flow.scan(work, meaning, ctx))


def _with_quantity(state: BenchState, item: Item, lookups: Lookups) -> Item | Verdict:
    """The item with the quantity a QTY: label or the scale gave it."""
    if state.next_qty is not None:
        return replace(item, units=item.units * state.next_qty)
    if not state.weigh_next:
        return item
    unit = pack.unit_weight_g(item.sku, lookups)
    if state.scale_g is None or not state.scale_stable:
        return verdict("no_weight", "Wait for the scale to settle, then scan again")
    if unit is None or unit <= 0:
        return verdict("no_unit_weight", f"{item.sku} has no unit weight: scan a QTY label")
    exact = (state.scale_g - state.tare_g) / unit
    units = int(exact.to_integral_value())
    if units < 1:
        return verdict("no_weight", "Nothing on the scale (did you tare?)")
    if abs(exact - units) > COUNT_SLACK:
        return verdict("count_unclear", f"About {exact:.1f} units: count them by hand")
    return replace(item, units=units)


# --- commands and buttons ----------------------------------------------------------------


def _touched(state: BenchState, event: Touch, lookups: Lookups) -> Outcome:
    if event.command == "short" and event.arg and state.mode == "pack":
        sku, _, reason = event.arg.partition(":")
        return _run(
            state,
            lookups,
            lambda flow, work, ctx: pack.short_line(
                work, sku, reason or pack.DEFAULT_SHORT_REASON, ctx
            ),
        )
    return _command(state, event.command, event.arg, lookups)


def _command(state: BenchState, name: str, arg: str | None, lookups: Lookups) -> Outcome:
    if name == "confirm":
        name = _confirm(state)
    if name == "mode":
        return _switch(state, arg)
    if name == "tare":
        return _tare(state)
    if name == "weigh":
        message = "Put the items on the scale, then scan one of them"
        return _say(replace(state, weigh_next=True, next_qty=None), "ok", message, "attention")
    if name not in WORKFLOW_COMMANDS:
        return _say(state, "unknown_command", f"Unknown command {name}")
    if name == "cancel":
        state = replace(state, next_qty=None, weigh_next=False)
    return _run(state, lookups, lambda flow, work, ctx: flow.command(work, name, arg, ctx))


def _confirm(state: BenchState) -> str:
    """The bench's push button: the supervisor's override while something is held for
    one (a weight mismatch, an over-receipt...), otherwise Done."""
    held = (state.mode == "pack" and state.pack.phase == "held") or (
        state.mode == "receive"
        and state.receive.held is not None
        and state.receive.held.reason != "lot_required"
    )
    return "override" if held else "done"


def _switch(state: BenchState, mode: str | None) -> Outcome:
    if mode not in MODES:
        return _say(state, "unknown_mode", f"No such mode: {mode} ({', '.join(MODES)})")
    new = replace(state, mode=mode, next_qty=None, weigh_next=False)
    return _say(new, "ok", f"{mode.capitalize()} mode")


def _tare(state: BenchState) -> Outcome:
    if state.scale_g is None or not state.scale_stable:
        return _say(state, "no_weight", "Wait for the scale to settle, then tare again")
    return _say(replace(state, tare_g=state.scale_g), "ok", f"Tare {state.scale_g} g")


# --- the scale ---------------------------------------------------------------------------


def _weighed(state: BenchState, event: Weighed, lookups: Lookups) -> Outcome:
    state = replace(state, scale_g=event.grams, scale_stable=event.stable)
    if not event.stable or state.mode != "pack":
        return Outcome(state)
    outcome = _run(state, lookups, lambda flow, work, ctx: pack.weighed(work, event.grams, ctx))
    if outcome.verdict is None:
        return outcome
    return replace(outcome, state=replace(outcome.state, last_verdict=outcome.verdict))


# --- plumbing ----------------------------------------------------------------------------


def _run(state: BenchState, lookups: Lookups, step) -> Outcome:
    """Run `step(module, mode state, context)` on the current mode's workflow."""
    flow = WORKFLOWS[state.mode]
    ctx = Context(lookups, state.operator, state.settings)
    outcome = step(flow, getattr(state, state.mode), ctx)
    return replace(outcome, state=replace(state, **{state.mode: outcome.state}))


def _order(old: BenchState, new: BenchState) -> str | None:
    return (old.pack.order or new.pack.order) if old.mode == "pack" else None


def _po(old: BenchState, new: BenchState) -> str | None:
    return (old.receive.po or new.receive.po) if old.mode == "receive" else None


def _say(state: BenchState, name: str, message: str, pattern: str | None = None) -> Outcome:
    return Outcome(state, (), verdict(name, message, pattern))


# --- what the kiosk shows ----------------------------------------------------------------


def view(state: BenchState) -> dict:
    """What the kiosk shows, as plain JSON-able data (the current mode's work flattened in)."""
    verdict_ = state.last_verdict
    work = WORKFLOWS[state.mode].view(getattr(state, state.mode))
    return {
        "order": None,
        "po": None,
        "location": None,
        **work,
        "mode": state.mode,
        "modes": list(MODES),
        "operator": state.operator,
        "last_code": None if state.last_code is None else state.last_code.replace(GS, "<GS>"),
        "verdict": None
        if verdict_ is None
        else {"name": verdict_.name, "message": verdict_.message, "pattern": verdict_.pattern},
        "weight_g": None if state.scale_g is None else f"{state.scale_g}",
        "scale_stable": state.scale_stable,
        "tare_g": f"{state.tare_g}",
        "next_qty": state.next_qty,
        "weigh_next": state.weigh_next,
    }
