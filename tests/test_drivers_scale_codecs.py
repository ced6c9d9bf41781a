"""Scale codecs: every protocol's replies, status and error frames, and garbage."""

import contextlib
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from station.drivers.scales.codecs import PROTOCOLS, make_codec
from station.drivers.scales.mt_continuous import checksum
from station.drivers.scales.reading import Ack, Reading, ScaleError, ScaleFault, Status

D = Decimal
LB = D("453.59237")


def continuous(swa: int, swb: int, swc: int, weight: bytes, tare: bytes = b"000000") -> bytes:
    body = bytes([0x02, swa, swb, swc]) + weight + tare + b"\r"
    return body + bytes([checksum(body)])


def hid(report: str, grams: Decimal, stable: bool) -> tuple:
    frame = bytes.fromhex(report)
    return ("hid-pos", None, frame, Reading(grams, stable, frame))


# (protocol, unit, frame, expected reply or the exception type)
CASES = [
    # MT-SICS
    ("mt-sics", None, b"S S     100.00 g", Reading(D("100.00"), True, b"S S     100.00 g")),
    ("mt-sics", None, b"S D    -12.5 kg", Reading(D("-12500.0"), False, b"S D    -12.5 kg")),
    ("mt-sics", None, b"S S       1.25 lb", Reading(D("1.25") * LB, True, b"S S       1.25 lb")),
    ("mt-sics", None, b"S I", ScaleFault),
    ("mt-sics", None, b"S +", ScaleFault),
    ("mt-sics", None, b"S -", ScaleFault),
    ("mt-sics", None, b"Z A", Ack("Z", b"Z A")),
    ("mt-sics", None, b"ZI D", Ack("Z", b"ZI D")),
    ("mt-sics", None, b"Z I", ScaleFault),
    ("mt-sics", None, b"Z +", ScaleFault),
    ("mt-sics", None, b"Z -", ScaleFault),
    ("mt-sics", None, b"T S     250.0 g", Ack("T", b"T S     250.0 g", D("250.0"))),
    ("mt-sics", None, b"T I", ScaleFault),
    ("mt-sics", None, b"T +", ScaleFault),
    ("mt-sics", None, b"T -", ScaleFault),
    ("mt-sics", None, b"ES", ScaleFault),
    ("mt-sics", None, b"ET", ScaleFault),
    ("mt-sics", None, b"EL", ScaleFault),
    ("mt-sics", None, b'I4 A "B123456789"', Ack("I4", b'I4 A "B123456789"')),
    ("mt-sics", None, b"S S", ScaleError),
    ("mt-sics", None, b"S S  12.3 furlong", ScaleError),
    ("mt-sics", None, b"S S  1.2.3 g", ScaleError),
    # NCI
    ("nci", None, b"\n  1.234LB\r\nS00\r", Reading(D("1.234") * LB, True, b"\n  1.234LB\r\nS00\r")),
    ("nci", None, b"\n  0.500KG\r\nS10\r", Reading(D("500.000"), False, b"\n  0.500KG\r\nS10\r")),
    ("nci", None, b"\n 12.50 OZ\r\nS00\r", Reading(D("12.50") * D("28.349523125"), True,
                                                    b"\n 12.50 OZ\r\nS00\r")),
    ("nci", None, b"\nS10\r", Status(True, b"\nS10\r")),
    ("nci", None, b"\nS20\r", Status(False, b"\nS20\r", ("at zero",))),
    ("nci", None, b"\nS00\r", Status(False, b"\nS00\r")),
    ("nci", None, b"\nS40\r", ScaleFault),  # RAM error
    ("nci", None, b"\nS80\r", ScaleFault),  # EEPROM error ('8' = 0x38)
    ("nci", None, b"\nS01\r", ScaleFault),  # under capacity
    ("nci", None, b"\nS02\r", ScaleFault),  # over capacity
    ("nci", None, b"\nS04\r", ScaleFault),  # ROM error
    ("nci", None, b"\nS08\r", ScaleFault),  # faulty calibration
    ("nci", None, b"\n^^^^^^\r\nS00\r", ScaleFault),
    ("nci", None, b"\n______\r\nS00\r", ScaleFault),
    ("nci", None, b"\n------\r\nS00\r", ScaleFault),
    ("nci", None, b"\nS\x01\x00\r", ScaleError),
    ("nci", None, b"\n  1.2\r\nS00\r", ScaleError),
    # Toledo 8213 (lb by default) and 8217 (kg)
    ("toledo-8213", None, b"\x02002.50", Reading(D("2.50") * LB, True, b"\x02002.50")),
    ("toledo-8213", "kg", b"\x02001.25", Reading(D("1250"), True, b"\x02001.25")),
    ("toledo-8213", None, b"\x02?a", Status(True, b"\x02?a")),  # 0x61: motion
    ("toledo-8213", None, b"\x02?p", Status(False, b"\x02?p", ("center of zero",))),
    ("toledo-8213", None, b"\x02?h", Status(False, b"\x02?h", ("outside zero-capture range",))),
    ("toledo-8213", None, b"\x02?b", ScaleFault),  # over capacity
    ("toledo-8213", None, b"\x02?d", ScaleFault),  # under zero
    ("toledo-8213", None, b"\x02?\x01", ScaleError),
    ("toledo-8217", None, b"\x02  1.250", Reading(D("1250.000"), True, b"\x02  1.250")),
    ("toledo-8217", None, b"\x02  1.250N", Reading(D("1250.000"), True, b"\x02  1.250N")),
    ("toledo-8217", None, b"\x02E", Ack("E", b"\x02E")),
    ("toledo-8217", None, b"\x02?\xe1", Status(True, b"\x02?\xe1")),  # parity bit set
    ("toledo-8217", None, b"1.250", ScaleError),
    # Mettler Toledo continuous
    ("mt-continuous", None, continuous(0x25, 0x30, 0x20, b"001250"),
     Reading(D("1.250") * 1000, True, continuous(0x25, 0x30, 0x20, b"001250"))),
    ("mt-continuous", None, continuous(0x24, 0x38, 0x20, b"001250"),
     Reading(D("12.50") * 1000, False, continuous(0x24, 0x38, 0x20, b"001250"))),
    ("mt-continuous", None, continuous(0x24, 0x22, 0x20, b"000250"),
     Reading(-D("2.50") * LB, True, continuous(0x24, 0x22, 0x20, b"000250"))),
    ("mt-continuous", None, continuous(0x23, 0x20, 0x21, b"012345"),
     Reading(D("1234.5"), True, continuous(0x23, 0x20, 0x21, b"012345"))),
    ("mt-continuous", None, continuous(0x20, 0x30, 0x20, b"000012"),
     Reading(D("1200000"), True, continuous(0x20, 0x30, 0x20, b"000012"))),
    ("mt-continuous", None, continuous(0x24, 0x34, 0x20, b"999999"), ScaleFault),
    ("mt-continuous", None, continuous(0x24, 0x30, 0x25, b"001250"), ScaleError),  # unit
    ("mt-continuous", None, continuous(0x04, 0x30, 0x20, b"001250"), ScaleError),  # bit 5
    ("mt-continuous", None, continuous(0x24, 0x30, 0x20, b"00x250"), ScaleError),
    ("mt-continuous", None, continuous(0x24, 0x30, 0x20, b"001250")[:-1] + b"\x00", ScaleError),
    # generic ASCII, A&D, CAS
    ("ascii", None, b"ST,GS,+00012.34kg", Reading(D("12340.00"), True, b"ST,GS,+00012.34kg")),
    ("ascii", None, b"US,NT,-00001.50kg", Reading(D("-1500.00"), False, b"US,NT,-00001.50kg")),
    ("ascii", None, b"ST,+00081.72  g", Reading(D("81.72"), True, b"ST,+00081.72  g")),
    ("ascii", None, b"ST,GS,\x01\xb0,  1.250 kg",
     Reading(D("1250.000"), True, b"ST,GS,\x01\xb0,  1.250 kg")),
    ("ascii", None, b"ST,GS,+0005.00lb", Reading(D("5.00") * LB, True, b"ST,GS,+0005.00lb")),
    ("ascii", "g", b"ST,GS,+00012", Reading(D("12"), True, b"ST,GS,+00012")),
    ("ascii", None, b"ST,GS,+00012", ScaleError),
    ("ascii", None, b"OL,GS,+99999.99kg", ScaleFault),
    ("ascii", None, b"QT,+00000012 PC", ScaleError),
    ("ascii", None, b"XX,GS,+00012.34kg", ScaleError),
    ("ascii", None, b"hello", ScaleError),
    # USB HID POS
    hid("030402 00e803", D(1000), True),
    hid("03040b ff6400", D("10.0") * D("28.349523125"), True),
    hid("030203 000000", D(0), True),
    hid("03030c fe3200", D("0.50") * LB, False),
    ("hid-pos", None, bytes.fromhex("030102 000000"), ScaleFault),
    ("hid-pos", None, bytes.fromhex("030502 000000"), ScaleFault),
    ("hid-pos", None, bytes.fromhex("030602 000000"), ScaleFault),
    ("hid-pos", None, bytes.fromhex("030702 000000"), ScaleFault),
    ("hid-pos", None, bytes.fromhex("030802 000000"), ScaleFault),
    ("hid-pos", None, bytes.fromhex("030902 000000"), ScaleError),
    ("hid-pos", None, bytes.fromhex("030404 000000"), ScaleError),  # carats
    ("hid-pos", None, bytes.fromhex("040402 00e803"), ScaleError),
    ("hid-pos", None, bytes.fromhex("0304"), ScaleError),
]


@pytest.mark.parametrize(("protocol", "unit", "frame", "expected"), CASES)
def test_codec_decodes_frame(protocol, unit, frame, expected):
    codec = make_codec(protocol, unit)
    if isinstance(expected, type):
        with pytest.raises(expected):
            codec.decode(frame)
    else:
        assert codec.decode(frame) == expected


@pytest.mark.parametrize(
    ("protocol", "stream", "frames"),
    [
        ("mt-sics", b"S S     1.00 g\r\nZ A\r\nS S", [b"S S     1.00 g", b"Z A"]),
        ("nci", b"\n 1.0KG\r\nS00\r\x03\nS10\r\x03\n", [b"\n 1.0KG\r\nS00\r", b"\nS10\r"]),
        ("toledo-8217", b"\x02 1.250\r\x02?a\r\x02", [b"\x02 1.250", b"\x02?a"]),
        ("ascii", b"ST,GS,+1.0kg\r\nUS,GS,+2", [b"ST,GS,+1.0kg"]),
        ("hid-pos", bytes.fromhex("030402 00e803 0304"), [bytes.fromhex("030402 00e803")]),
    ],
)
def test_codec_splits_a_byte_stream_into_frames(protocol, stream, frames):
    assert make_codec(protocol).split(bytearray(stream)) == frames


def test_continuous_stream_resyncs_after_a_partial_first_frame():
    frame = continuous(0x25, 0x30, 0x20, b"001250")
    codec = make_codec("mt-continuous")
    frames = codec.split(bytearray(frame[7:] + frame + frame[:5]))
    assert frames == [frame[7:], frame]
    with pytest.raises(ScaleError):
        codec.decode(frames[0])
    assert codec.decode(frames[1]).grams == Decimal(1250)


@pytest.mark.parametrize("protocol", PROTOCOLS)
@given(data=st.binary(max_size=300))
def test_random_bytes_raise_nothing_but_scale_error(protocol, data):
    codec = make_codec(protocol, "kg")
    buffer = bytearray(data)
    for frame in codec.split(buffer) + [data]:
        with contextlib.suppress(ScaleError):
            codec.decode(frame)
