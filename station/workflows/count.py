"""Counting, blind: a location (or a task from the hub), what is found there, submit.

The counter never sees the book quantity (the station does not even have it); each
product (and lot) found becomes a `Count` event, and the hub reconciles.
"""

from dataclasses import dataclass, replace

from protocol.events import Count
from protocol.messages import CountTask
from station.barcodes import Command, Item, Meaning
from station.barcodes import Location as LocationCode
from station.workflows.base import Context, Outcome, verdict


@dataclass(frozen=True)
class Found:
    sku: str
    units: int
    lot: str | None = None


@dataclass(frozen=True)
class CountState:
    location: str | None = None
    task: str | None = None
    task_sku: str | None = None  # the task counts only this product
    found: tuple[Found, ...] = ()


def scan(state: CountState, meaning: Meaning, ctx: Context) -> Outcome:
    if isinstance(meaning, LocationCode):
        return _location(state, meaning.location, ctx)
    if isinstance(meaning, Item):
        return _item(state, meaning, ctx)
    if isinstance(meaning, Command):
        return command(state, meaning.name, meaning.arg, ctx)
    return _say(state, "wrong_barcode", "Not a count barcode",
                then="Scan a location or an item")  # fmt: skip


def command(state: CountState, name: str, arg: str | None, ctx: Context) -> Outcome:
    if name == "done":
        return _submit(state, ctx)
    if name == "undo":
        if not state.found:
            return _say(state, "nothing_to_undo", "Nothing to undo")
        last = state.found[-1]
        return _say(replace(state, found=state.found[:-1]), "ok", f"Undone: {last.sku}")
    if name == "cancel":
        return _say(CountState(), "ok", "Count dropped")
    if name == "task":
        return _take_task(state, arg, ctx)
    return _say(state, "wrong_command", f"{name} means nothing when counting")


def _location(state: CountState, location: str, ctx: Context) -> Outcome:
    if ctx.operator is None:
        return _say(state, "no_operator", "No badge scanned")
    if state.found and location != state.location:
        return _say(state, "count_in_progress", f"The count of {state.location} is still open")
    task = next((t for t in ctx.lookups.count_tasks() if t.location == location), None)
    return _start(state, location, task)


def _take_task(state: CountState, task_id: str | None, ctx: Context) -> Outcome:
    if ctx.operator is None:
        return _say(state, "no_operator", "No badge scanned")
    if state.found:
        return _say(state, "count_in_progress", f"The count of {state.location} is still open")
    tasks = ctx.lookups.count_tasks()
    task = next((t for t in tasks if task_id in (None, t.task)), None)
    if task is None:
        return _say(
            state, "no_task", "No count task waiting" if task_id is None else f"No task {task_id}"
        )
    return _start(state, task.location, task)


def _start(state: CountState, location: str, task: CountTask | None) -> Outcome:
    new = CountState(
        location=location,
        task=task.task if task else None,
        task_sku=task.sku if task else None,
        found=state.found if location == state.location else (),
    )
    what = f"only {task.sku}" if task and task.sku else "every item"
    return _say(new, "ok", f"Counting {location}: scan {what}")


def _item(state: CountState, item: Item, ctx: Context) -> Outcome:
    if state.location is None:
        return _say(state, "no_location", "No location scanned")
    if state.task_sku is not None and item.sku != state.task_sku:
        return _say(state, "not_in_task", f"This task counts {state.task_sku} only",
                    then=f"Leave the {item.sku}: scan only {state.task_sku}")  # fmt: skip
    new = replace(state, found=(*state.found, Found(item.sku, item.units, item.lot)))
    return _say(new, "ok", f"{item.sku}: {_tally(new).get((item.sku, item.lot), 0)} counted")


def _tally(state: CountState) -> dict[tuple[str, str | None], int]:
    totals: dict[tuple[str, str | None], int] = {}
    for found in state.found:
        key = (found.sku, found.lot)
        totals[key] = totals.get(key, 0) + found.units
    return totals


def _submit(state: CountState, ctx: Context) -> Outcome:
    if state.location is None:
        return _say(state, "no_location", "No location scanned")
    totals = _tally(state)
    if state.task_sku is not None and not any(sku == state.task_sku for sku, _ in totals):
        totals[(state.task_sku, None)] = 0  # the task's product was not there: that is a count
    if not totals:
        return _say(state, "nothing_counted", "Nothing counted yet")
    events = tuple(
        Count(
            location=state.location,
            sku=sku,
            counted=qty,
            lot=lot,
            task=state.task,
            operator=ctx.operator,
        )
        for (sku, lot), qty in totals.items()
    )
    return Outcome(
        CountState(), events, verdict("ok", f"Count of {state.location} submitted", "complete")
    )


def view(state: CountState) -> dict:
    # Blind: only what this counter found, never a book quantity.
    return {
        "location": state.location,
        "task": state.task,
        "lines": [
            {"sku": sku, "lot": lot, "scanned": qty} for (sku, lot), qty in _tally(state).items()
        ],
    }


def _say(
    state: CountState,
    name: str,
    message: str,
    pattern: str | None = None,
    then: str | None = None,
) -> Outcome:
    return Outcome(state, (), verdict(name, message, pattern, then))
