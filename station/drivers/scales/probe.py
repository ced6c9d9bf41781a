"""`python -m station probe scale --port PATH --protocol NAME`: print each reading as JSON.

For the technician at the bench: talks to one scale with the station's own codec and
transport and prints one JSON line per frame (`grams`, `stable`, `raw`, or `error`),
unfiltered, until Ctrl-C, `--count N` readings or `--seconds S`.
"""

import argparse
import json
import sys
import time

from station.drivers.scales.codecs import PROTOCOLS, make_codec, serial_settings
from station.drivers.scales.link import open_link
from station.drivers.scales.reading import Ack, Reading, Reply, ScaleError, ScaleFault
from station.drivers.scales.session import ScaleSession
from station.drivers.supervisor import DeviceMissing


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="station probe scale", description=__doc__)
    parser.add_argument("--port", required=True, help="serial port, pyserial URL or /dev/hidraw*")
    parser.add_argument("--protocol", required=True, choices=PROTOCOLS)
    parser.add_argument("--baudrate", type=int, default=9600)
    parser.add_argument("--unit", choices=["g", "kg", "lb", "oz"], help="for unit-less frames")
    parser.add_argument("--poll-ms", type=int, default=200, help="demand-mode poll interval")
    parser.add_argument("--count", type=int, help="stop after N weight readings")
    parser.add_argument("--seconds", type=float, help="stop after S seconds")
    return parser.parse_args(argv)


def describe(frame: bytes, result: Reply | ScaleError) -> dict[str, object]:
    line: dict[str, object] = {"raw": frame.decode("latin-1")}
    if isinstance(result, Reading):
        line.update(grams=str(result.grams), stable=result.stable)
    elif isinstance(result, ScaleError):
        kind = "fault" if isinstance(result, ScaleFault) else "error"
        line.update({kind: str(result)})
    elif isinstance(result, Ack):
        line.update(ack=result.command, grams=None if result.grams is None else str(result.grams))
    else:
        line.update(status="motion" if result.motion else "still", flags=list(result.flags))
    return line


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    codec = make_codec(args.protocol, args.unit)
    try:
        link = open_link(args.protocol, args.port, args.baudrate, serial_settings(codec))
    except (DeviceMissing, OSError) as exc:
        print(f"cannot open {args.port}: {exc}", file=sys.stderr)
        return 2
    session = ScaleSession(link, codec, args.poll_ms / 1000)
    deadline = None if args.seconds is None else time.monotonic() + args.seconds
    readings = 0
    try:
        while deadline is None or time.monotonic() < deadline:
            for frame, result in session.exchange(time.monotonic()):
                print(json.dumps(describe(frame, result)), flush=True)
                readings += isinstance(result, Reading)
                if args.count is not None and readings >= args.count:
                    return 0
    except KeyboardInterrupt:
        return 0
    except OSError as exc:  # includes serial.SerialException: the scale went away
        print(f"{args.port}: {exc}", file=sys.stderr)
        return 1
    finally:
        link.close()
    return 0
