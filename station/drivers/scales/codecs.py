"""The scale protocols by their configuration name, and what a codec provides."""

from typing import Protocol

from station.drivers.scales.ascii_indicator import AsciiIndicatorCodec
from station.drivers.scales.hid_pos import HidPosCodec
from station.drivers.scales.mt_continuous import MtContinuousCodec
from station.drivers.scales.mt_sics import MtSicsCodec
from station.drivers.scales.nci import NciCodec
from station.drivers.scales.reading import Reply
from station.drivers.scales.toledo import toledo_8213, toledo_8217

PROTOCOLS = ("mt-sics", "nci", "toledo-8213", "toledo-8217", "mt-continuous", "ascii", "hid-pos")


class ScaleCodec(Protocol):
    poll: bytes | None  # the weight request of demand-mode protocols; None: the scale streams
    zero: bytes | None
    tare: bytes | None

    def split(self, buffer: bytearray) -> list[bytes]:
        """Cut whole frames (and garbage, to be reported) off the front of `buffer`."""
        ...

    def decode(self, frame: bytes) -> Reply:
        """One frame -> a reply; raises `ScaleError` (or `ScaleFault`) and nothing else."""
        ...


def make_codec(protocol: str, unit: str | None = None) -> ScaleCodec:
    """A codec for `protocol`; `unit` is for protocols whose frames carry none."""
    if protocol == "mt-sics":
        return MtSicsCodec()
    if protocol == "nci":
        return NciCodec()
    if protocol == "toledo-8213":
        return toledo_8213(unit or "lb")
    if protocol == "toledo-8217":
        return toledo_8217(unit or "kg")
    if protocol == "mt-continuous":
        return MtContinuousCodec()
    if protocol == "ascii":
        return AsciiIndicatorCodec(unit)
    if protocol == "hid-pos":
        return HidPosCodec()
    raise ValueError(f"unknown scale protocol {protocol!r}; one of {', '.join(PROTOCOLS)}")


def serial_settings(codec: ScaleCodec) -> dict[str, object]:
    """Byte size and parity the protocol fixes (7E1 for Toledo), else pyserial's 8N1."""
    return dict(getattr(codec, "serial_settings", {}))
