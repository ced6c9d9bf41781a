"""The installers and the updater, run into a temporary root (--root) and as a dry run.

The scripts are real bash run as subprocesses; the resulting tree is what is checked. The
host itself is snapshotted around each run to show nothing is written outside the root.
"""

import hashlib
import os
import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

from station import config as station_config

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = ROOT / "scripts"
# What the installers would change on a real machine.
HOST_PATHS = [
    "/opt/warehouse", "/etc/warehouse", "/etc/systemd/system", "/etc/udev/rules.d",
    "/var/lib/warehouse-station", "/var/lib/warehouse-hub", "/var/backups/warehouse-hub",
    "/etc/chrony/conf.d", "/etc/systemd/timesyncd.conf.d", "/etc/passwd", "/etc/group",
    "/etc/nginx",
]  # fmt: skip

needs_mosquitto = pytest.mark.skipif(
    shutil.which("mosquitto_passwd") is None, reason="install-hub needs mosquitto_passwd"
)


def host_snapshot() -> dict[str, str]:
    """Names, modes and contents under HOST_PATHS: what a stray write would change."""
    seen = {}
    for top in map(Path, HOST_PATHS):
        paths = [top] if not top.is_dir() else [top, *sorted(top.rglob("*"))]
        for path in paths:
            if path.is_symlink():
                seen[str(path)] = "-> " + os.readlink(path)
            elif path.is_file():
                seen[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
            elif path.exists():
                seen[str(path)] = oct(path.stat().st_mode)
    return seen


def run(script: str, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    before = host_snapshot()
    done = subprocess.run([str(SCRIPTS / script), *args], input=stdin, capture_output=True,
                          text=True, check=False, cwd=ROOT)  # fmt: skip
    assert host_snapshot() == before, "the script changed the host"
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


def test_deploy_install_station_into_a_root(tmp_path):
    out = run("install-station", "--root", str(tmp_path), "--version", "1.0")
    opt = tmp_path / "opt/warehouse"
    assert os.readlink(opt / "current") == "1.0"
    release = opt / "1.0"
    assert (release / ".installed").exists()
    assert (release / "station/__main__.py").exists()
    assert (release / "protocol").is_dir() and not (release / ".venv").exists()
    assert (release / "VERSION").read_text() == "1.0\n"
    locked = (release / "requirements/station.txt").read_text()
    assert "pyserial==" in locked and "evdev==" in locked and "--hash=sha256:" in locked
    # A real install builds evdev: the compiler and headers come first (shown, not done).
    assert re.search(r"apt-get install .*gcc libc6-dev python3-dev", out.stdout)
    assert "--require-hashes -r /opt/warehouse/1.0/requirements/station.txt" in out.stdout
    toml = tmp_path / "etc/warehouse/station.toml"
    assert mode(toml) == 0o640
    station_config.load(toml)
    assert (tmp_path / "etc/systemd/system/warehouse-station.service").exists()
    rules = (tmp_path / "etc/udev/rules.d/99-warehouse.rules").read_text()
    assert 'ENV{ID_MM_DEVICE_IGNORE}="1"' in rules and 'ATTRS{idVendor}=="0922"' in rules
    assert mode(tmp_path / "var/lib/warehouse-station") == 0o750
    # What only a real machine gets is printed, not done.
    assert "usermod -G input,dialout,gpio,lp,plugdev warehouse" in out.stdout
    assert "(skipped with --root) python3 -m venv --system-site-packages" in out.stdout
    assert "systemctl enable warehouse-station.service" in out.stdout


def test_deploy_install_station_applies_the_provisioned_settings(tmp_path):
    block = ('[station]\nid = "dock-2"\nsite = "north"\n\n'
             '[mqtt]\nhost = "hub.local"\nport = 1883\nusername = "dock-2"\npassword = "s3cret"\n')  # fmt: skip
    run("install-station", "--root", str(tmp_path), "--version", "1.0", "--settings", "-",
        stdin=block)  # fmt: skip
    loaded = station_config.load(tmp_path / "etc/warehouse/station.toml")
    assert (loaded.station.id, loaded.station.site) == ("dock-2", "north")
    assert (loaded.mqtt.username, loaded.mqtt.password) == ("dock-2", "s3cret")


def test_deploy_install_station_again_keeps_the_config_and_release(tmp_path):
    run("install-station", "--root", str(tmp_path), "--version", "1.0")
    toml = tmp_path / "etc/warehouse/station.toml"
    toml.write_text(toml.read_text().replace('id = "pack-1"', 'id = "pack-9"'))
    marker = tmp_path / "opt/warehouse/1.0/.installed"
    made = marker.stat().st_mtime_ns
    again = run("install-station", "--root", str(tmp_path), "--version", "1.0")
    assert station_config.load(toml).station.id == "pack-9"
    assert marker.stat().st_mtime_ns == made
    assert "already installed" in again.stdout


def test_deploy_install_station_with_kiosk_and_time_from_the_hub(tmp_path):
    ca = tmp_path / "ca.crt"
    ca.write_text("-----BEGIN CERTIFICATE-----\n")
    target = tmp_path / "root"
    out = run("install-station", "--root", str(target), "--version", "1.0", "--kiosk",
              "--ntp", "hub.local", "--tls-ca", str(ca))  # fmt: skip
    # Plain Debian has no time client: the one configured is installed.
    assert re.search(r"apt-get install .*systemd-timesyncd", out.stdout)
    assert (target / "etc/systemd/system/warehouse-kiosk.service").exists()
    assert "KIOSK_URL=http://127.0.0.1:8081/" in (target / "etc/warehouse/kiosk.env").read_text()
    assert "NTP=hub.local" in (target / "etc/systemd/timesyncd.conf.d/warehouse.conf").read_text()
    loaded = station_config.load(target / "etc/warehouse/station.toml")
    assert loaded.mqtt.tls_ca == "/etc/warehouse/ca.crt"


@needs_mosquitto
def test_deploy_install_hub_into_a_root(tmp_path):
    out = run("install-hub", "--root", str(tmp_path), "--version", "2.0", "--site", "north")
    assert "-m hub user add admin --role admin --password-stdin" in out.stdout
    assert os.readlink(tmp_path / "opt/warehouse/current") == "2.0"
    # The hub reads no scanner: no evdev to build, no compiler on a 64-bit Pi.
    locked = (tmp_path / "opt/warehouse/2.0/requirements/hub.txt").read_text()
    assert "flask==" in locked and "evdev" not in locked and "gcc" not in out.stdout
    assert "--require-hashes -r /opt/warehouse/2.0/requirements/hub.txt" in out.stdout
    toml = tmp_path / "etc/warehouse/hub.toml"
    assert mode(toml) == 0o640
    hub = tomllib.loads(toml.read_text())
    assert hub["hub"]["site"] == "north"
    assert len(hub["mqtt"]["password"]) >= 24 and len(hub["api"]["tokens"][0]) >= 24
    broker = tmp_path / "etc/warehouse/mosquitto"
    conf = (broker / "mosquitto.conf").read_text().splitlines()
    assert "password_file /etc/warehouse/mosquitto/passwd" in conf
    assert "persistence_location /var/lib/mosquitto/" in conf
    assert "allow_anonymous false" in conf
    assert (broker / "roles").read_text() == "hub hub\n"
    assert (broker / "passwd").read_text().startswith("hub:")
    dropin = tmp_path / "etc/systemd/system/mosquitto.service.d/warehouse.conf"
    assert "-c /etc/warehouse/mosquitto/mosquitto.conf" in dropin.read_text()
    for unit in ("warehouse-hub.service", "warehouse-hub-backup.service",
                 "warehouse-hub-backup.timer", "warehouse-hub-ingest@.service",
                 "warehouse-hub-web@.service"):  # fmt: skip
        assert (tmp_path / "etc/systemd/system" / unit).exists()
    assert (tmp_path / "var/backups/warehouse-hub").is_dir()


@needs_mosquitto
def test_deploy_install_hub_again_keeps_its_credentials(tmp_path):
    run("install-hub", "--root", str(tmp_path), "--version", "2.0")
    toml = tmp_path / "etc/warehouse/hub.toml"
    first = toml.read_text()
    passwd = (tmp_path / "etc/warehouse/mosquitto/passwd").read_text()
    run("install-hub", "--root", str(tmp_path), "--version", "2.0")
    assert toml.read_text() == first
    assert (tmp_path / "etc/warehouse/mosquitto/passwd").read_text() == passwd


@needs_mosquitto
def test_deploy_install_hub_with_tls_makes_a_ca_and_a_tls_listener(tmp_path):
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    run("install-hub", "--root", str(tmp_path), "--version", "2.0", "--tls", "hub.local",
        "192.0.2.10")  # fmt: skip
    tls = tmp_path / "etc/warehouse/tls"
    assert {p.name for p in tls.iterdir()} >= {"ca.crt", "ca.key", "server.crt", "server.key"}
    conf = (tmp_path / "etc/warehouse/mosquitto/mosquitto.conf").read_text().splitlines()
    assert "listener 1883 127.0.0.1" in conf and "listener 8883" in conf
    assert "cafile /etc/warehouse/tls/ca.crt" in conf
    site = tmp_path / "etc/nginx/sites-available/warehouse-hub"
    assert "ssl_certificate /etc/warehouse/tls/server.crt;" in site.read_text()
    assert os.readlink(tmp_path / "etc/nginx/sites-enabled/warehouse-hub") == (
        "../sites-available/warehouse-hub"
    )
    web = tomllib.loads((tmp_path / "etc/warehouse/hub.toml").read_text())["web"]
    assert (web["host"], web["trusted_proxy"]) == ("127.0.0.1", "127.0.0.1")
    # The keys' folder is closed; the public CA certificate is published for scp.
    assert mode(tls) == 0o750
    published = tmp_path / "etc/warehouse/ca.crt"
    assert published.read_bytes() == (tls / "ca.crt").read_bytes()
    assert mode(published) == 0o644 and mode(tmp_path / "etc/warehouse") == 0o755


def test_deploy_operations_doc_fetches_the_ca_from_where_it_is_published():
    doc = (ROOT / "docs/operations.md").read_text()
    assert "scp <user>@hub.local:/etc/warehouse/ca.crt ." in doc
    assert "hub.local:/etc/warehouse/tls/" not in doc


def test_deploy_hardware_doc_quotes_the_installed_udev_rules():
    installed = (ROOT / "config/udev/99-warehouse.rules").read_text().splitlines()
    rules = [line for line in installed if line.strip() and not line.startswith("#")]
    doc = (ROOT / "docs/hardware.md").read_text()
    section = doc.split("## udev rules\n", 1)[1].split("\n## ", 1)[0]
    quoted = section.split("```\n", 2)[1].splitlines()
    assert "/etc/udev/rules.d/99-warehouse.rules" in section
    assert [line for line in quoted if not line.startswith("#")] == rules


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a file to another owner needs root")
def test_deploy_config_rewritten_keeps_its_owner_group_and_mode(tmp_path):
    # hub.toml is 0640 root:warehouse; rewritten as root:root the hub could not read it.
    toml = tmp_path / "hub.toml"
    toml.write_text("[web]\nport = 8080\n")
    os.chown(toml, 0, 65534)
    toml.chmod(0o640)
    tool = ROOT / "scripts/lib/toml_settings.py"
    subprocess.run(["python3", str(tool), str(toml), "--set", "web.port=9090"], check=True)
    assert tomllib.loads(toml.read_text())["web"]["port"] == 9090
    assert (toml.stat().st_uid, toml.stat().st_gid, mode(toml)) == (0, 65534, 0o640)


@pytest.mark.skipif(Path("/run/systemd/system").is_dir(), reason="systemd runs here: it would act")
def test_deploy_without_systemd_running_units_are_not_started_and_it_says_so():
    # A real install in a chroot (scripts/check-pi-install): restarting a unit would fail.
    script = "source scripts/lib/deploy.sh && unit_ctl restart warehouse-station.service && echo on"
    done = subprocess.run(["bash", "-c", script], cwd=ROOT, capture_output=True, text=True,
                          check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "- (no systemd running here, not done) systemctl restart warehouse-station.service",
        "on",
    ]


@pytest.mark.parametrize("script", ["install-station", "install-hub"])
def test_deploy_dry_run_prints_actions_and_changes_nothing(tmp_path, script):
    target = tmp_path / "root"
    into_root = run(script, "--dry-run", "--root", str(target), "--version", "3.0")
    on_host = run(script, "--dry-run", "--version", "3.0")
    assert not target.exists()
    for out in (into_root.stdout, on_host.stdout):
        assert "+ install -d -m 0755" in out and "/opt/warehouse/3.0" in out
        assert "systemctl daemon-reload" in out


def test_deploy_update_and_rollback_switch_releases_and_leave_the_data(tmp_path):
    run("install-station", "--root", str(tmp_path), "--version", "1.0")
    journal = tmp_path / "var/lib/warehouse-station/journal.db"
    journal.write_bytes(b"the journal")
    config = (tmp_path / "etc/warehouse/station.toml").read_bytes()
    opt = tmp_path / "opt/warehouse"

    run("update", "--root", str(tmp_path), "--version", "1.1")
    assert (os.readlink(opt / "current"), os.readlink(opt / "previous")) == ("1.1", "1.0")
    assert (opt / "1.1/.installed").exists()

    run("update", "--root", str(tmp_path), "--rollback")
    assert (os.readlink(opt / "current"), os.readlink(opt / "previous")) == ("1.0", "1.1")
    assert journal.read_bytes() == b"the journal"
    assert (tmp_path / "etc/warehouse/station.toml").read_bytes() == config


def test_deploy_update_keeps_only_the_newest_releases(tmp_path):
    run("install-station", "--root", str(tmp_path), "--version", "1.0")
    for minor in range(1, 6):
        run("update", "--root", str(tmp_path), "--version", f"1.{minor}", "--keep", "1")
    names = sorted(p.name for p in (tmp_path / "opt/warehouse").iterdir() if not p.is_symlink())
    assert names == ["1.3", "1.4", "1.5"]


def test_deploy_update_prints_the_restart_and_the_dry_run_changes_nothing(tmp_path):
    run("install-hub" if shutil.which("mosquitto_passwd") else "install-station",
        "--root", str(tmp_path), "--version", "1.0")  # fmt: skip
    before = sorted(str(p) for p in tmp_path.rglob("*"))
    out = run("update", "--root", str(tmp_path), "--version", "1.1", "--dry-run")
    assert sorted(str(p) for p in tmp_path.rglob("*")) == before
    assert "systemctl restart" in out.stdout


def test_deploy_rollback_without_a_previous_version_fails_clearly(tmp_path):
    run("install-station", "--root", str(tmp_path), "--version", "1.0")
    done = subprocess.run([str(SCRIPTS / "update"), "--root", str(tmp_path), "--rollback"],
                          capture_output=True, text=True, check=False)  # fmt: skip
    assert done.returncode == 2
    assert "no previous version" in done.stderr


def test_deploy_update_installs_the_units_of_the_version_it_runs(tmp_path):
    run("install-station", "--root", str(tmp_path), "--version", "1.0")
    unit = tmp_path / "etc/systemd/system/warehouse-station.service"
    release_unit = tmp_path / "opt/warehouse/1.0/systemd/warehouse-station.service"
    release_unit.write_text(release_unit.read_text() + "# as 1.0 had it\n")
    unit.write_text(release_unit.read_text())
    run("update", "--root", str(tmp_path), "--version", "1.1")
    assert unit.read_text() == (ROOT / "systemd/warehouse-station.service").read_text()
    run("update", "--root", str(tmp_path), "--rollback")
    assert unit.read_text().endswith("# as 1.0 had it\n")
