"""`python -m station probe scanner --port PATH | --input PATH`: print each code as JSON.

Runs the station's own scanner driver (serial, or evdev keyboard wedge) and prints one
JSON line per decoded code (`code`, `symbology`) until Ctrl-C, `--count N` codes or
`--seconds S`. Device state changes go to stderr. `--input` also takes a FIFO carrying
packed input events, to replay a capture.
"""

import argparse
import json
import queue
import sys
import time
from functools import partial

from station.drivers.input_devices import open_input
from station.drivers.keymaps import LAYOUTS
from station.drivers.serial_scanner import SerialScanner
from station.drivers.supervisor import Supervised
from station.drivers.wedge_scanner import WedgeScanner
from station.inputs import DeviceState, Input, Scanned


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="station probe scanner", description=__doc__)
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--port", help="serial scanner: /dev/serial/by-id/... or pyserial URL")
    source.add_argument("--input", help="keyboard wedge: /dev/input/by-id/...-event-kbd")
    source.add_argument("--match", help='keyboard wedge: "vendor:product" or name')
    parser.add_argument("--baudrate", type=int, default=9600)
    parser.add_argument("--layout", choices=sorted(LAYOUTS), default="us")
    parser.add_argument("--gs-substitute", help="printable character the scanner types for GS")
    parser.add_argument("--idle-gap-ms", type=int, default=100)
    parser.add_argument("--count", type=int, help="stop after N codes")
    parser.add_argument("--seconds", type=float, help="stop after S seconds")
    return parser.parse_args(argv)


def make_scanner(args: argparse.Namespace, emit: queue.SimpleQueue[Input]) -> Supervised:
    idle_gap = args.idle_gap_ms / 1000
    if args.port:
        return SerialScanner("scanner", emit.put, args.port, args.baudrate, idle_gap)
    opener = partial(open_input, args.input, args.match)
    return WedgeScanner(
        "scanner", emit.put, opener, LAYOUTS[args.layout], args.gs_substitute, idle_gap
    )


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    inputs: queue.SimpleQueue[Input] = queue.SimpleQueue()
    scanner = make_scanner(args, inputs)
    deadline = None if args.seconds is None else time.monotonic() + args.seconds
    codes = 0
    scanner.start()
    try:
        while deadline is None or time.monotonic() < deadline:
            try:
                item = inputs.get(timeout=0.1)
            except queue.Empty:
                continue
            if isinstance(item, DeviceState):
                print(f"scanner: {item.state}", file=sys.stderr, flush=True)
            elif isinstance(item, Scanned):
                print(json.dumps({"code": item.code, "symbology": item.symbology}), flush=True)
                codes += 1
                if args.count is not None and codes >= args.count:
                    break
    except KeyboardInterrupt:
        pass
    finally:
        scanner.stop()
    return 0
