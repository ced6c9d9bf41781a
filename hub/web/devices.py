"""What a supervisor does about a station or a device that is not ready, in a few words
(docs/operations.md, "Common faults", has the longer story). A station reports each
device's state in its status: `ready`, `missing`, `offline` or `fault: <why>`."""

READY = frozenset({"ready", "ok"})


def advice(name: str, state: str) -> str | None:
    """None for a ready device; otherwise what to do about it."""
    if state in READY:
        return None
    if state == "missing":
        if name == "scanner" or name.startswith("scanner"):
            return f"Plug the {name} in again (check its cable): the station re-opens it by itself."
        return f"Check that the {name} is plugged in and switched on: it is re-opened by itself."
    if state == "offline":
        return f"Switch the {name} on and check its cable or network."
    if state.startswith("fault:"):
        why = state.removeprefix("fault:").strip()
        return f"Fix it at the bench ({why}); it is ready again with its next good reading."
    return f"Look at the {name} at the bench: it reports {state!r}."


def station_advice(row: dict) -> str | None:
    """None for an online station without a fault; otherwise what to do about it."""
    if row.get("fault"):
        return f"It records nothing ({row['fault']}): ask an admin, see docs/reliability.md."
    if row.get("state") == "offline":
        return "Check the station's power and network; it keeps scanning and sends later."
    return None
