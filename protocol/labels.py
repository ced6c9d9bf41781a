"""The warehouse's own barcodes: `PREFIX:value` in plain Code 128, which the hub prints
and the stations read (station/barcodes.py). One vocabulary for both, so a printed sheet
never carries a command the stations do not know.

    OP:alice   ORD:SO-1   PO:PO-7   LOC:A-03-2   QTY:12   CMD:DONE   CMD:MODE:COUNT
    RMA:R-100 (a return label)   CMD:CONDITION:DAMAGED   CMD:RETURN:DEFECTIVE
"""

import re

from protocol import limits

MAX_QTY = limits.QTY_MAX  # a power of ten: label_pattern() relies on it
MODES = ("pack", "receive", "count", "move", "adjust", "returns", "assemble")
ADJUST_REASONS = ("damaged", "lost", "found", "expired")
# A returned item's condition, and the reason codes a station offers unless configured.
CONDITIONS = ("resellable", "damaged", "scrap")
RETURN_REASONS = ("not_wanted", "wrong_item", "defective", "damaged_in_transit", "other")
# Commands without an argument (short, task and return may take one), and those that need one.
COMMANDS = ("done", "undo", "cancel", "override", "tare", "weigh", "short", "task", "return",
            "apart")  # fmt: skip
ARG_COMMANDS = {"mode": MODES, "reason": ADJUST_REASONS, "condition": CONDITIONS}
# Commands whose argument is a free word (`REASON`): a short's reason, a return's reason code.
WORD_COMMANDS = ("short", "return")

# The value of an OP:, ORD:, PO: or LOC: label (and a task id).
CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
# A free word after CMD:SHORT: (lower case once read).
REASON = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")

PREFIXES = {"OP": "operator badge", "ORD": "sales order", "PO": "purchase order",
            "LOC": "location", "RMA": "return authorisation"}  # fmt: skip

# What the printed command sheet carries, with what each tells the station.
COMMAND_SHEET: tuple[tuple[str, str], ...] = (
    ("CMD:DONE", "Done: submit the count, close the received PO"),
    ("CMD:UNDO", "Undo the last item"),
    ("CMD:CANCEL", "Cancel: put the order, count or move aside"),
    ("CMD:SHORT", "Short: the next item scanned is short-shipped (out of stock)"),
    ("CMD:SHORT:damaged", "Short, damaged"),
    ("CMD:OVERRIDE", "Supervisor override"),
    ("CMD:TARE", "Tare the scale"),
    ("CMD:WEIGH", "Count the next item by weight"),
    ("CMD:TASK", "Take the next count task"),
    ("CMD:APART", "Assemble: take the next kit scanned apart"),
    *((f"CMD:MODE:{mode.upper()}", f"Mode: {mode}") for mode in MODES),
    *((f"CMD:REASON:{reason.upper()}", f"Adjust: {reason}") for reason in ADJUST_REASONS),
    *((f"CMD:CONDITION:{c.upper()}", f"Return: {c}") for c in CONDITIONS),
    *((f"CMD:RETURN:{r.upper()}", f"Return reason: {r.replace('_', ' ')}") for r in RETURN_REASONS),
)


def own_label(prefix: str, value: str) -> str:
    """The barcode text of a label naming `value`; ValueError if it cannot be one."""
    if prefix not in PREFIXES:
        raise ValueError(f"no label kind {prefix!r}: one of {', '.join(PREFIXES)}")
    if not CODE.match(value):
        raise ValueError(f"{value!r} cannot be on a label: letters, digits, . _ - (up to 64)")
    return f"{prefix}:{value}"


def is_own_label(code: str) -> bool:
    """Whether `code` is one of our labels as the hub prints them."""
    prefix, _, value = code.partition(":")
    if prefix in PREFIXES:
        return bool(CODE.match(value))
    if prefix == "QTY":
        return value.isascii() and value.isdigit() and 0 < int(value) <= MAX_QTY
    return prefix == "CMD" and code in {c for c, _ in COMMAND_SHEET}


def label_pattern() -> str:
    """`is_own_label` as one regular expression, for the JSON Schema of the API's document."""
    commands = "|".join(re.escape(code) for code, _ in COMMAND_SHEET)
    qty = rf"[1-9][0-9]{{0,{len(str(MAX_QTY)) - 2}}}|{MAX_QTY}"
    return rf"^(({'|'.join(PREFIXES)}):{CODE.pattern[1:-1]}|QTY:({qty})|{commands})$"
