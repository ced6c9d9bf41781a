"""`python -m station run --config FILE`, `devices`, and `probe scale|scanner|printer`."""

import argparse
import importlib
import logging
import sys

# The technician's probes, one module each; each has `main(argv) -> int`.
PROBES = {
    "scale": "station.drivers.scales.probe",
    "scanner": "station.drivers.scanner_probe",
    "printer": "station.drivers.printers.probe",
}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(prog="station", description="Warehouse scan station")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run the station")
    run.add_argument("--config", required=True, help="station TOML file")
    sub.add_parser("devices", help="list attached scanners, scales and printers")
    probe = sub.add_parser("probe", help="talk to one device and print what it says")
    probe.add_argument("kind", choices=sorted(PROBES))
    probe.add_argument("args", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)

    logging.basicConfig(
        level=logging.INFO, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )
    if args.command == "run":
        from station.app import run_from_config

        return run_from_config(args.config)
    if args.command == "devices":
        from station.drivers.listing import main as list_devices

        return list_devices([])
    return importlib.import_module(PROBES[args.kind]).main(args.args)


if __name__ == "__main__":
    sys.exit(main())
