"""Which printer prints each label the workflows produce, and what the label says.

The rule: a label goes to the first `[[printers]]` entry, in the order of the config
file, whose `roles` name the label's kind (`shipping`, `putaway`, `bin`). A label no
printer takes is not printed, and the kiosk says so. So a bench with a 4x6 ZPL printer
for shipping labels and a receipt printer for put-away labels lists them as

    [[printers]] name = "parcel", roles = ["shipping"]
    [[printers]] name = "slips",  roles = ["putaway", "bin"]

The workflows describe a label as its kind and plain fields (`station.workflows.base`);
`printed_label` turns that into the printer's elements (`station.drivers.printers.labels`),
which the spool renders in the printer's language and keeps until it is printed.
"""

import logging
from collections.abc import Sequence
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Protocol

from station.config import PrinterConfig
from station.drivers.printers import labels as printed
from station.workflows.base import Label

log = logging.getLogger(__name__)


class Spool(Protocol):
    def submit(self, printer: str, label: printed.Label) -> int: ...

    def reprint_last(self, printer: str | None = None) -> int: ...


def printer_for(kind: str, printers: Sequence[PrinterConfig]) -> str | None:
    """The name of the first printer whose roles include `kind`, or None."""
    return next((p.name for p in printers if kind in p.roles), None)


def printed_label(label: Label) -> printed.Label:
    """The printer's label for a workflow's label; ValueError if it cannot be printed."""
    fields = label.fields
    if label.kind == "shipping":
        weight = fields.get("weight_g")
        return printed.shipping_label(
            fields["order"],
            fields.get("customer", ""),
            int(fields.get("lines") or 0),
            Decimal(weight) if weight else None,
            to_site=fields.get("to_site") or None,
        )
    if label.kind == "putaway":
        expiry = fields.get("expiry")
        return printed.putaway_label(
            fields["sku"],
            fields.get("name", ""),
            int(fields["qty"]),
            fields["location"],
            lot=fields.get("lot") or None,
            expiry=date.fromisoformat(expiry) if expiry else None,
        )
    if label.kind == "bin":
        return printed.bin_label(fields["location"])
    raise ValueError(f"no label layout for kind {label.kind!r}")


class LabelRouter:
    """Hands each label to its printer's spool; says why when a label cannot be printed."""

    def __init__(self, printers: Sequence[PrinterConfig], spool: Spool) -> None:
        self.printers = list(printers)
        self.spool = spool

    def submit(self, label: Label) -> str | None:
        """Queue `label`; returns None, or why it will not be printed (for the kiosk)."""
        printer = printer_for(label.kind, self.printers)
        if printer is None:
            problem = f"No printer takes {label.kind} labels: not printed"
            log.warning("%s (printers: %s)", problem, _roles(self.printers))
            return problem
        try:
            job = self.spool.submit(printer, printed_label(label))
        except (ValueError, KeyError, InvalidOperation) as exc:
            log.error("%s label %s not printed: %s", label.kind, label.fields, exc)
            return f"{label.kind.capitalize()} label not printed: {exc}"
        log.info("%s label queued on %s as job %d", label.kind, printer, job)
        return None

    def reprint_last(self, printer: str | None = None) -> str | None:
        """Print the newest label again (of `printer`, if named); None, or why not."""
        if printer is not None and printer not in {p.name for p in self.printers}:
            return f"Reprint: no printer {printer}"
        try:
            job = self.spool.reprint_last(printer)
        except KeyError as exc:
            return f"Reprint: {exc.args[0] if exc.args else exc}"
        log.info("reprint queued as job %d", job)
        return None


def _roles(printers: Sequence[PrinterConfig]) -> str:
    return ", ".join(f"{p.name}={'/'.join(p.roles)}" for p in printers) or "none"
