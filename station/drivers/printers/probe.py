"""`python -m station probe printer --url URL --language escpos|zpl`: the technician's check.

Connects, prints the printer's status, sends a test label, asks the status again, and
writes each step as one JSON line on stdout. Exit status 0 when the label went out to a
printer with no fault, 1 otherwise, 2 for a wrong argument.
"""

import argparse
import json
import sys

from station.drivers.printers.endpoint import parse_endpoint
from station.drivers.printers.labels import probe_label
from station.drivers.printers.links import PrinterMissing, SendFailed, make_link
from station.drivers.printers.render import LANGUAGES, render
from station.drivers.printers.status import PrinterStatus


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="station probe printer", description=__doc__)
    parser.add_argument("--url", required=True, help="tcp://host:9100, usb://vid:pid, ...")
    parser.add_argument("--language", choices=LANGUAGES, default="escpos")
    parser.add_argument("--profile", help="python-escpos profile, e.g. TM-T88V")
    parser.add_argument("--timeout", type=float, default=3.0, help="seconds per step")
    parser.add_argument("--status-only", action="store_true", help="do not print a label")
    args = parser.parse_args(argv)
    try:
        endpoint = parse_endpoint(args.url)
        link = make_link(endpoint, args.language, args.timeout)
    except ValueError as exc:
        _say("error", error=str(exc))
        return 2
    try:
        link.open()
    except PrinterMissing as exc:
        _say("missing", url=str(endpoint), error=str(exc))
        return 1
    try:
        return _probe(link, args, str(endpoint))
    finally:
        link.close()


def _probe(link, args: argparse.Namespace, url: str) -> int:  # noqa: ANN001 - a PrinterLink
    try:
        before = link.status()
        _status("status", before, url)
        if args.status_only or before.problem:
            return 1 if before.problem else 0
        data = render(probe_label(url, args.language), args.language, args.profile)
        link.send(data)
        _say("sent", url=url, bytes=len(data))
        after = link.status()
    except (PrinterMissing, SendFailed) as exc:
        _say("lost", url=url, error=str(exc))
        return 1
    _status("status", after, url)
    return 1 if after.problem else 0


def _status(event: str, status: PrinterStatus, url: str) -> None:
    _say(
        event,
        url=url,
        state=status.device_state,
        known=status.known,
        online=status.online,
        paper_out=status.paper_out,
        paper_low=status.paper_low,
        head_open=status.head_open,
        paused=status.paused,
        ribbon_out=status.ribbon_out,
        note=status.note or None,
    )


def _say(event: str, **fields: object) -> None:
    print(json.dumps({"event": event, **fields}), file=sys.stdout, flush=True)
