"""A simulated serial barcode scanner on a pseudo-terminal."""

from station.drivers.sim.pty import PtyDevice


class SimSerialScanner(PtyDevice):
    """`scan("0123456789012", symbology="]E0")` sends the code as the scanner would."""

    def __init__(self, path: str | None = None, suffix: bytes = b"\r\n") -> None:
        super().__init__(path)
        self.suffix = suffix

    def scan(self, code: str, symbology: str | None = None) -> None:
        self.write(((symbology or "") + code).encode("latin-1") + self.suffix)
