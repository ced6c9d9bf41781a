"""Builds the station's output devices from its configuration.

Every mistake in a `[[printers]]` or `[feedback]` entry becomes one `ConfigError` line
naming the key, at start-up, before any job is queued.
"""

from pathlib import Path
from typing import Any

from station.config import ConfigError, PrinterConfig, StationConfig
from station.drivers.feedback import Feedback
from station.drivers.printers.endpoint import parse_endpoint
from station.drivers.printers.links import make_link
from station.drivers.printers.spool import PrintSpool, SpoolPrinter
from station.inputs import Emit

LINK_TIMEOUT_S = 3.0  # connect, send and status replies; a printer answers in milliseconds


def build_print_spool(config: StationConfig, db_path: str | Path, emit: Emit) -> PrintSpool:
    """The spool for every configured printer (not started: call `start()`)."""
    printers: list[SpoolPrinter] = []
    for entry in config.printers:
        if any(p.name == entry.name for p in printers):
            raise ConfigError(f"[[printers]] name = {entry.name!r}: used twice")
        printers.append(build_printer(entry))
    return PrintSpool(db_path, printers, emit)


def build_printer(entry: PrinterConfig) -> SpoolPrinter:
    where = f"[[printers]] {entry.name}"
    try:
        endpoint = parse_endpoint(entry.url)
        link = make_link(endpoint, entry.language, LINK_TIMEOUT_S)
    except ValueError as exc:
        raise ConfigError(f"{where}: url: {exc}") from None
    if entry.language == "escpos":
        import station.drivers.printers.escpos  # noqa: F401 - load python-escpos now, see render
    if entry.profile is not None:
        if entry.language != "escpos":
            raise ConfigError(f"{where}: profile: only ESC/POS printers take a profile")
        _check_profile(where, entry.profile)
    return SpoolPrinter(entry.name, entry.language, link, entry.profile)


def _check_profile(where: str, profile: str) -> None:
    from escpos.capabilities import BARCODE_B, get_profile

    try:
        known = get_profile(profile)
    except KeyError:
        raise ConfigError(
            f"{where}: profile: unknown {profile!r} (see escpos-printer-db)"
        ) from None
    if not known.supports(BARCODE_B):
        raise ConfigError(f"{where}: profile: {profile!r} cannot print Code 128 barcodes")


def build_feedback(config: StationConfig, emit: Emit, pin_factory: Any = None) -> Feedback:
    """`pin_factory`: a gpiozero factory to use instead of `[feedback] pin_factory`."""
    try:
        return Feedback(config.feedback, emit, pin_factory)
    except ConfigError:
        raise
    except Exception as exc:  # noqa: BLE001 - gpiozero's pin errors: in use, invalid...
        raise ConfigError(f"[feedback]: {' '.join(str(exc).split())}") from None
