"""The whole station app in one process, every configured part real or simulated at its
boundary: a serial scanner and an MT-SICS scale on pseudo-terminals, a loopback ZPL printer,
gpiozero's MockFactory for buzzer, LEDs and button, the kiosk on a free port, Mosquitto.

It checks that the parts meet: each shows in the retained status, the hub's commands
(identify, reprint, mode) reach the devices, the button reaches the bench, a verdict
reaches buzzer and LEDs, and a part that cannot start says why instead of stopping the
bench."""

import json
import socket
import threading
import urllib.request
from decimal import Decimal

import msgspec
import pytest
from gpiozero.pins.mock import MockFactory, MockPWMPin

from protocol.envelope import encode
from protocol.messages import Command, GtinUnits, Product, PurchaseOrder, PurchaseOrderLine
from protocol.topics import Topics
from station import config as station_config
from station.app import Station
from station.drivers.sim.printer import PrinterTwin
from station.drivers.sim.scales import SimMtSicsScale
from station.drivers.sim.serial_scanner import SimSerialScanner
from tests.conftest import PASSWORDS
from tests.harness import wait_until
from tests.mqtt_client import TestClient

TOPICS = Topics("test")
BUZZER, GREEN, RED, BUTTON = 17, 22, 23, 4
MUG = Product(sku="MUG-1", name="Mug", gtins=[GtinUnits(gtin="4006381333931")],
              unit_weight_g=Decimal(340))  # fmt: skip
PO = PurchaseOrder(po="PO-1", lines=[PurchaseOrderLine(sku="MUG-1", qty=10)])


def config_text(tmp_path, broker, scanner, scale, printer, feedback: str, kiosk_port=0) -> str:
    return f"""
[station]
id = "pack-1"
site = "test"
data_dir = "{tmp_path / "data"}"
[mqtt]
port = {broker.port}
username = "pack-1"
password = "{PASSWORDS["pack-1"]}"
[kiosk]
port = {kiosk_port}
[[scanners]]
name = "hand"
kind = "serial"
port = "{scanner.path}"
[[scales]]
name = "bench"
protocol = "mt-sics"
port = "{scale.path}"
poll_ms = 50
[[printers]]
name = "label"
url = "{printer.url}"
language = "zpl"
roles = ["shipping", "putaway"]
[feedback]
{feedback}
"""


FEEDBACK = f"""pin_factory = "mock"
buzzer = {BUZZER}
led_green = {GREEN}
led_red = {RED}
button = {BUTTON}
"""


@pytest.fixture
def parts(tmp_path):
    scanner = SimSerialScanner(str(tmp_path / "scanner"))
    scale = SimMtSicsScale(str(tmp_path / "scale"))
    printer = PrinterTwin().start()
    yield scanner, scale, printer
    scanner.close()
    scale.close()
    printer.stop()


class Running:
    """A Station running in a thread, and a hub-side MQTT client to talk to it."""

    def __init__(self, tmp_path, broker, text: str) -> None:
        path = tmp_path / "station.toml"
        path.write_text(text)
        self.factory = MockFactory(pin_class=MockPWMPin)
        self.station = Station(station_config.load(path), pin_factory=self.factory)
        self.thread = threading.Thread(target=self.station.run, daemon=True)
        self.thread.start()
        self.hub = TestClient(broker.port, "hub", PASSWORDS["hub"])
        self.hub.subscribe(TOPICS.station_status("pack-1"))
        self.status: dict = {}

    def close(self) -> None:
        self.hub.close()
        self.station.stop()
        self.thread.join(20)
        self.factory.reset()

    def latest_status(self) -> dict:
        while not self.hub.messages.empty():
            message = self.hub.messages.get()
            if message.topic == TOPICS.station_status("pack-1") and message.payload:
                self.status = json.loads(message.payload)
        return self.status

    def wait_devices(self, **expected: str) -> dict:
        def matches():
            devices = self.latest_status().get("devices", {})
            return all(devices.get(k) == v for k, v in expected.items()) and devices

        return wait_until(matches, 60, f"devices {expected} (last {self.status})")

    def command(self, name: str, **args: str) -> None:
        self.hub.publish(TOPICS.command("pack-1", name), encode(Command(args=args)))

    def publish(self, topic: str, message: msgspec.Struct) -> None:
        self.hub.publish(topic, encode(message), retain=True)

    def snapshot(self) -> dict:
        return self.station.board.latest()[1]

    def kiosk(self) -> dict:
        with urllib.request.urlopen(self.station.kiosk.url + "snapshot", timeout=10) as reply:
            return json.loads(reply.read())["snapshot"]

    def pin_went_high(self, pin: int) -> bool:
        return any(state.state for state in self.factory.pin(pin).states)

    def clear_pins(self) -> None:
        for pin in (BUZZER, GREEN, RED):
            self.factory.pin(pin).clear_states()


@pytest.fixture
def running(tmp_path, broker, parts):
    run = Running(tmp_path, broker, config_text(tmp_path, broker, *parts, FEEDBACK))
    yield run
    run.close()


def test_every_configured_part_is_in_the_retained_status(running):
    devices = running.wait_devices(hand="ready", bench="ready", label="ready",
                                   feedback="ready", kiosk="ready")  # fmt: skip
    assert set(devices) == {"hand", "bench", "label", "feedback", "kiosk"}
    assert running.kiosk()["devices"] == devices


def test_a_verdict_reaches_buzzer_and_leds(running, parts):
    scanner, _, _ = parts
    running.wait_devices(hand="ready")
    running.clear_pins()
    scanner.scan("NOT-A-THING")
    wait_until(lambda: running.pin_went_high(RED), what="red LED")
    wait_until(lambda: running.pin_went_high(BUZZER), what="buzzer")
    assert running.snapshot()["verdict"]["name"] == "unknown_barcode"
    assert not running.pin_went_high(GREEN)


def test_identify_beeps_blinks_and_shows_on_the_kiosk(running):
    running.wait_devices(feedback="ready")
    running.clear_pins()
    running.command("identify")
    wait_until(lambda: running.pin_went_high(BUZZER), what="buzzer")
    wait_until(lambda: running.pin_went_high(GREEN) and running.pin_went_high(RED), what="amber")
    # The core sounds the buzzer before it refreshes the kiosk: wait for that, too.
    wait_until(lambda: (running.kiosk().get("verdict") or {}).get("name") == "identify",
               what="kiosk")


def test_receipt_label_prints_and_the_hubs_reprint_sends_it_again(running, parts):
    scanner, _, printer = parts
    running.publish(TOPICS.product("MUG-1"), MUG)
    running.publish(TOPICS.purchase_order("PO-1"), PO)
    running.wait_devices(hand="ready", label="ready")
    wait_until(lambda: running.station.cache.purchase_order("PO-1"), what="PO cached")
    for code in ["OP:rita", "CMD:MODE:RECEIVE", "PO:PO-1", "LOC:A-01-1", "4006381333931"]:
        scanner.scan(code)
    (label,) = printer.wait_for_jobs(1)
    assert b"MUG-1" in label and b"A-01-1" in label
    running.command("reprint")
    jobs = printer.wait_for_jobs(2)
    assert jobs == [label, label]


def test_reprint_of_an_unknown_printer_is_shown_not_sent(running, parts):
    running.wait_devices(label="ready")
    running.command("reprint", printer="nope")
    wait_until(lambda: running.snapshot()["print_problem"], what="print problem")
    assert running.snapshot()["print_problem"] == "Reprint: no printer nope"
    assert parts[2].jobs() == []


def test_the_hubs_mode_command_switches_the_bench(running):
    running.wait_devices(kiosk="ready")
    running.command("mode", mode="count")
    wait_until(lambda: running.latest_status().get("mode") == "count", what="count mode")
    assert running.kiosk()["mode"] == "count"


def test_the_button_reaches_the_bench_as_confirm(running, parts):
    scanner, _, _ = parts
    running.publish(TOPICS.product("MUG-1"), MUG)
    running.wait_devices(hand="ready", feedback="ready")
    wait_until(lambda: running.station.cache.product("MUG-1"), what="product cached")
    for code in ["OP:carl", "CMD:MODE:COUNT", "LOC:A-01-1", "4006381333931"]:
        scanner.scan(code)
    wait_until(lambda: running.snapshot().get("lines"), what="one item counted")
    button = running.factory.pin(BUTTON)
    button.drive_low()
    button.drive_high()
    wait_until(lambda: running.snapshot()["verdict"]["message"] == "Count of A-01-1 submitted",
               what="count submitted")  # fmt: skip
    assert running.station.journal.head == 5  # four scans and the count


def test_a_weight_on_the_scale_reaches_the_kiosk(running, parts):
    _, scale, _ = parts
    running.wait_devices(bench="ready")
    scale.place(Decimal(1234))
    wait_until(lambda: running.kiosk()["weight_g"] == "1234.00", what="weight on the kiosk")


def test_parts_that_cannot_start_say_why_and_the_bench_works_on(tmp_path, broker, parts):
    scanner = parts[0]
    clash = FEEDBACK.replace(f"led_red = {RED}", f"led_red = {GREEN}")  # one pin, two LEDs
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        text = config_text(tmp_path, broker, *parts, clash, kiosk_port=port)
        run = Running(tmp_path, broker, text)
        try:
            devices = run.wait_devices(hand="ready")
            wait_until(lambda: run.latest_status()["devices"].get("kiosk", "").startswith(
                "fault: cannot listen"), what="kiosk fault")  # fmt: skip
            assert run.latest_status()["devices"]["feedback"].startswith("fault: ")
            assert "22" in run.latest_status()["devices"]["feedback"]
            scanner.scan("OP:alice")
            wait_until(lambda: run.station.journal.head == 1, what="scan journaled")
            assert devices["hand"] == "ready"
        finally:
            run.close()


def test_the_kiosks_override_waits_for_a_supervisors_badge(tmp_path, broker, parts):
    # Through the kiosk's real HTTP server: the packer's Override press (a same-origin POST
    # /touch, as the page sends it) only asks; the supervisor's badge at the scanner decides.
    scanner, _, _ = parts
    text = config_text(tmp_path, broker, *parts, FEEDBACK)
    run = Running(tmp_path, broker, text.replace('site = "test"\n',
                                                 'site = "test"\nsupervisors = ["sue"]\n', 1))  # fmt: skip
    try:
        run.publish(TOPICS.product("MUG-1"), MUG)
        run.publish(TOPICS.purchase_order("PO-1"), PO)
        run.wait_devices(hand="ready", kiosk="ready")
        wait_until(lambda: run.station.cache.purchase_order("PO-1"), what="PO cached")
        for code in ["OP:rita", "CMD:MODE:RECEIVE", "PO:PO-1", "QTY:11", "4006381333931"]:
            scanner.scan(code)
        wait_until(lambda: verdict(run) == "over_receipt", what="held")
        touch = urllib.request.Request(
            run.station.kiosk.url + "touch", data=b'{"command": "override"}',
            headers={"Content-Type": "application/json",
                     "Origin": run.station.kiosk.url.rstrip("/")},
        )  # fmt: skip
        with urllib.request.urlopen(touch, timeout=10) as answer:
            assert answer.status == 202
        wait_until(lambda: verdict(run) == "supervisor_needed", what="asked")
        scanner.scan("OP:rita")
        wait_until(lambda: verdict(run) == "not_a_supervisor", what="refused")
        assert run.station.journal.head == 6  # six scans journaled, no receipt
        scanner.scan("OP:sue")
        wait_until(lambda: verdict(run) == "ok", what="overridden")
        assert run.station.journal.head == 8  # the badge's scan and the receipt
        assert run.kiosk()["operator"] == "rita"
    finally:
        run.close()


def verdict(run: Running) -> str | None:
    return (run.kiosk()["verdict"] or {}).get("name")
