"""The systemd units, the scripts' shell and the example configs, checked by their own tools."""

import re
import shutil
import subprocess
from pathlib import Path

import msgspec
import pytest

from station import config as station_config

ROOT = Path(__file__).resolve().parents[1]
UNITS = sorted((ROOT / "systemd").iterdir())
# Each service and its data directory (the hub's processes all share the hub's).
SERVICES = {"warehouse-station.service": "/var/lib/warehouse-station",
            "warehouse-hub.service": "/var/lib/warehouse-hub",
            "warehouse-hub-ingest@.service": "/var/lib/warehouse-hub",
            "warehouse-hub-web@.service": "/var/lib/warehouse-hub"}  # fmt: skip
# Paths only a real Pi has: the release venv (made by the installer), cage (--kiosk).
ABSENT_HERE = re.compile(
    r"Command (/opt/warehouse/current/venv/bin/python|/usr/bin/cage) is not executable"
)


def directives(unit: Path) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for line in unit.read_text().splitlines():
        if "=" in line and not line.startswith(("#", "[")):
            key, _, value = line.partition("=")
            found.setdefault(key.strip(), []).append(value.strip())
    return found


def test_deploy_units_pass_systemd_analyze_verify():
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed (no systemd on this machine)")
    done = subprocess.run(["systemd-analyze", "verify", "--man=no", *map(str, UNITS)],
                          capture_output=True, text=True, check=False)  # fmt: skip
    problems = [line for line in (done.stdout + done.stderr).splitlines()
                if line.strip() and not ABSENT_HERE.search(line)]  # fmt: skip
    assert problems == []


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_deploy_service_units_are_supervised_and_hardened(name):
    unit = directives(ROOT / "systemd" / name)
    data_dir = SERVICES[name]
    assert unit["Type"] == ["notify"] and unit["NotifyAccess"] == ["main"]
    assert int(unit["WatchdogSec"][0]) > 0
    assert unit["Restart"] == ["always"]
    assert unit["ProtectSystem"] == ["strict"]
    assert unit["ReadWritePaths"] == [data_dir]
    assert unit["WorkingDirectory"] == [data_dir]
    for flag in ("NoNewPrivileges", "PrivateTmp", "ProtectHome"):
        assert unit[flag] == ["true"], flag
    assert unit["User"] == ["warehouse"]


def test_deploy_station_unit_allows_only_the_devices_a_station_uses():
    unit = directives(ROOT / "systemd/warehouse-station.service")
    assert unit["DevicePolicy"] == ["closed"]
    allowed = {line.split()[0] for line in unit["DeviceAllow"]}
    assert allowed == {"char-input", "char-ttyACM", "char-ttyUSB", "char-ttyAMA", "char-ttyS",
                       "char-hidraw", "char-usb", "char-usb_device", "char-gpiochip"}  # fmt: skip
    assert unit["SupplementaryGroups"] == ["input dialout gpio lp plugdev"]
    assert "PrivateDevices" not in unit  # it would hide the scanners


def test_deploy_hub_unit_has_no_devices_and_no_groups():
    unit = directives(ROOT / "systemd/warehouse-hub.service")
    assert unit["PrivateDevices"] == ["true"]
    assert "SupplementaryGroups" not in unit and "DeviceAllow" not in unit


def shell_scripts() -> list[Path]:
    found = []
    for path in sorted((ROOT / "scripts").rglob("*")):
        if path.is_file() and (path.suffix == ".sh" or path.read_bytes().startswith(b"#!/usr/bin/env bash")):
            found.append(path)
    return found


def test_deploy_scripts_pass_shellcheck():
    if shutil.which("shellcheck") is None:
        pytest.skip("shellcheck is not installed (scripts/test installs it)")
    scripts = shell_scripts()
    assert {p.name for p in scripts} >= {"install-station", "install-hub", "update", "make-ca"}
    done = subprocess.run(["shellcheck", "--shell=bash", "--external-sources",
                           "--source-path=SCRIPTDIR", *map(str, scripts)],
                          capture_output=True, text=True, check=False)  # fmt: skip
    assert done.returncode == 0, done.stdout


def example_keys(path: Path) -> set[str]:
    """Every `key =` in the example, set or commented out."""
    return set(re.findall(r"^#? ?([a-z_]+) = ", path.read_text(), flags=re.M))


def struct_keys(struct: type) -> set[str]:
    keys = set()
    for field in msgspec.structs.fields(struct):
        keys.add(field.name)
        inner = field.type
        for candidate in (inner, *getattr(inner, "__args__", ())):
            if isinstance(candidate, type) and issubclass(candidate, msgspec.Struct):
                keys |= struct_keys(candidate)
    return keys


def top_level(struct: type) -> set[str]:
    return {f.name for f in msgspec.structs.fields(struct)}


def test_deploy_station_example_is_valid_and_documents_every_key():
    path = ROOT / "config/station.example.toml"
    station_config.load(path)
    missing = struct_keys(station_config.StationConfig) - top_level(station_config.StationConfig)
    assert missing - example_keys(path) == set()


def test_deploy_hub_example_is_valid_and_documents_every_key():
    hub_config = pytest.importorskip("hub.config", reason="hub/config.py is not written yet")
    path = ROOT / "config/hub.example.toml"
    hub_config.load(path)
    keys = struct_keys(hub_config.HubConfig) - top_level(hub_config.HubConfig)
    assert keys - example_keys(path) == set()
