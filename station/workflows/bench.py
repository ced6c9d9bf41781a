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
    Unreadable,
    interpret,
    read_of,
)
from station.config import StationConfig
from station.inputs import Input, Scanned, Touch, Weighed
from station.workflows import assemble, count, move, pack, receive, returns
from station.workflows.assemble import AssembleState
from station.workflows.base import Context, Lookups, Outcome, Verdict, WorkflowSettings, verdict
from station.workflows.count import CountState
from station.workflows.move import MoveState
from station.workflows.pack import PackState
from station.workflows.receive import ReceiveState
from station.workflows.returns import ReturnsState

WORKFLOWS: dict[str, ModuleType] = {
    "pack": pack,
    "receive": receive,
    "count": count,
    "move": move,
    "adjust": move,
    "returns": returns,
    "assemble": assemble,
}
# Commands a workflow handles; the bench handles mode, tare and weigh itself.
WORKFLOW_COMMANDS = ("done", "undo", "cancel", "override", "short", "reason", "task",
                     "condition", "return", "apart")  # fmt: skip
# Weigh-counting refuses a reading this far from a whole number of units.
COUNT_SLACK = Decimal("0.25")
MAX_CODE = 500


@dataclass(frozen=True, kw_only=True)
class BenchSettings(WorkflowSettings):
    """What the bench needs from the station config."""

    station: str
    mode: str = "pack"
    gs_separators: tuple[str, ...] = (GS,)
    # The badges (OP: values) that may override what is held for a supervisor.
    supervisors: frozenset[str] = frozenset()


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
        quarantine_location=config.returns.quarantine_location,
        returns_location=config.returns.returns_location,
        return_reasons=tuple(config.returns.reasons),
        gs_separators=(GS, *substitutes),
        supervisors=frozenset(config.station.supervisors),
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
    returns: ReturnsState = field(default_factory=ReturnsState)
    assemble: AssembleState = field(default_factory=AssembleState)
    last_verdict: Verdict | None = None
    last_code: str | None = None
    last_read: ScanRead | None = None  # what last_code was read as, for the status
    scale_g: Decimal | None = None
    scale_stable: bool = False
    tare_g: Decimal = Decimal(0)
    next_qty: int | None = None  # a QTY: label multiplies the next item
    weigh_next: bool = False  # the next item's quantity comes from the scale
    # Override was asked by someone who is not a supervisor: a supervisor's badge scanned
    # next carries it out (the packer's own badge or button cannot).
    awaiting_supervisor: bool = False


def initial_state(settings: BenchSettings) -> BenchState:
    return BenchState(settings=settings, mode=settings.mode)


def handle(state: BenchState, event: Input, lookups: Lookups) -> Outcome:
    """One input from a scanner, scale or button; hub messages never come here."""
    if isinstance(event, Scanned):
        outcome = _scanned(state, event, lookups)
    elif isinstance(event, Touch):
        outcome = _touched(state, event, lookups)
        outcome = replace(outcome, state=replace(outcome.state, last_verdict=outcome.verdict))
    elif isinstance(event, Weighed):
        outcome = _weighed(state, event, lookups)
    else:
        return Outcome(state)
    if outcome.state.awaiting_supervisor and not _held(outcome.state):
        # Nothing is held any more (cancelled, weighed again): a later hold asks anew.
        outcome = replace(outcome, state=replace(outcome.state, awaiting_supervisor=False))
    return outcome


# --- scans -------------------------------------------------------------------------------


def _scanned(state: BenchState, event: Scanned, lookups: Lookups) -> Outcome:
    meaning = interpret(event.code, event.symbology, lookups, state.settings.gs_separators)
    outcome = _meaning(state, meaning, lookups)
    decided = outcome.verdict or verdict("ok", "")
    code = meaning.shown if isinstance(meaning, Unreadable) else event.code
    new = replace(outcome.state, last_verdict=decided, last_code=code,
                  last_read=read_of(meaning))  # fmt: skip
    scan = Scan(
        code=code[:MAX_CODE],
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
    if isinstance(meaning, Unreadable):
        return _say(state, "unreadable_barcode",
                    f"Unreadable scan: the scanner sent {meaning.shown[:60]}")  # fmt: skip
    if isinstance(meaning, Operator):
        if state.awaiting_supervisor:
            return _supervisor_badge(state, meaning.operator, lookups)
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
            return Outcome(state, (), counted)
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
        return verdict("no_weight", "The scale has not settled")
    if unit is None or unit <= 0:
        return verdict("no_unit_weight", f"{item.sku} has no unit weight",
                       then=f"Scan a QTY label for the {item.sku} instead")  # fmt: skip
    exact = (state.scale_g - state.tare_g) / unit
    units = int(exact.to_integral_value())
    if units < 1:
        return verdict("nothing_on_scale", "Nothing on the scale (was the tote tared?)")
    if abs(exact - units) > COUNT_SLACK:
        return verdict("count_unclear", f"About {exact:.1f} × {item.sku} on the scale",
                       then=f"Count the {item.sku} by hand, then scan a QTY label")  # fmt: skip
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
    if name == "override" and _held(state) and state.operator not in state.settings.supervisors:
        return _say(replace(state, awaiting_supervisor=True), "supervisor_needed",
                    "Held for a supervisor", "attention")  # fmt: skip
    return _run(state, lookups, lambda flow, work, ctx: flow.command(work, name, arg, ctx))


def _supervisor_badge(state: BenchState, badge: str, lookups: Lookups) -> Outcome:
    """A badge scanned after an override was asked: a supervisor's carries it out (the
    packer stays the operator); anyone else's changes nothing."""
    if badge not in state.settings.supervisors:
        return _say(state, "not_a_supervisor", f"{badge} is not a supervisor")
    state = replace(state, awaiting_supervisor=False)
    return _run(state, lookups, lambda flow, work, ctx: flow.command(work, "override", None, ctx))


def _held(state: BenchState) -> bool:
    """Whether something waits for a supervisor: a weight mismatch, an over-receipt..."""
    return (
        (state.mode == "pack" and state.pack.phase == "held")
        or (
            state.mode == "receive"
            and state.receive.held is not None
            and state.receive.held.reason != "lot_required"
        )
        or (state.mode == "returns" and state.returns.held is not None)
    )


def _confirm(state: BenchState) -> str:
    """The bench's push button: the supervisor's override while something is held for
    one, otherwise Done."""
    return "override" if _held(state) else "done"


def _switch(state: BenchState, mode: str | None) -> Outcome:
    if mode not in MODES:
        return _say(state, "unknown_mode", f"No such mode: {mode}",
                    then=f"Scan one of {', '.join(MODES)}")  # fmt: skip
    new = replace(state, mode=mode, next_qty=None, weigh_next=False)
    return _say(new, "ok", f"{mode.capitalize()} mode")


def _tare(state: BenchState) -> Outcome:
    if state.scale_g is None or not state.scale_stable:
        return _say(state, "no_weight", "The scale has not settled",
                    then="Wait for a steady weight, then tare again")  # fmt: skip
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
    if old.mode == "returns":
        found = old.returns.returnable or new.returns.returnable
        return found.order if found else None
    return (old.pack.order or new.pack.order) if old.mode == "pack" else None


def _po(old: BenchState, new: BenchState) -> str | None:
    return (old.receive.po or new.receive.po) if old.mode == "receive" else None


def _say(
    state: BenchState,
    name: str,
    message: str,
    pattern: str | None = None,
    then: str | None = None,
) -> Outcome:
    return Outcome(state, (), verdict(name, message, pattern, then))


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
        else {"name": verdict_.name, "message": verdict_.message, "pattern": verdict_.pattern,
              "next_step": verdict_.next_step},
        "weight_g": None if state.scale_g is None else f"{state.scale_g}",
        "scale_stable": state.scale_stable,
        "tare_g": f"{state.tare_g}",
        "next_qty": state.next_qty,
        "weigh_next": state.weigh_next,
        "return_reasons": list(state.settings.return_reasons),
        "awaiting_supervisor": state.awaiting_supervisor,
    }
