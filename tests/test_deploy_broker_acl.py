"""The generated Mosquitto config, proven against the real broker with paho 2.x clients.

"Nothing arrives" is shown without timing: the offender publishes the forbidden message and
then an allowed marker on the same connection; QoS 1 keeps their order, so once the hub has
the marker, anything forbidden that got through would already be in its queue. A refused
publish is also answered with PUBACK reason 135 (not authorized), checked per topic.

Each role's rights are tested against the rights docs/protocol.md and the AsyncAPI documents
state (protocol/topics.py's may_publish / may_read), topic by topic, on the real broker.
"""

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import msgspec
import pytest

from hub import brokerconf
from protocol import topics as topic_tree
from protocol.types import StationId
from tests.broker import connect, start_broker

ROOT = Path(__file__).resolve().parents[1]
USERS = {
    "hub": ("hub-pw", "hub"),
    "pack-1": ("pack-pw", "station"),
    "pack-2": ("pack2-pw", "station"),
    "erp_main": ("erp-pw", "integration"),
    "dash_1": ("dash-pw", "reader"),
}
ROLE_USER = {"hub": "hub", "station": "pack-1", "integration": "erp_main", "reader": "dash_1"}

pytestmark = pytest.mark.skipif(
    shutil.which("mosquitto") is None, reason="mosquitto is not installed (scripts/test does it)"
)


@pytest.fixture
def broker(tmp_path):
    broker = start_broker(tmp_path / "broker", USERS, site="main")
    yield broker
    broker.stop()


@pytest.fixture
def hub_sees(broker):
    """A hub client subscribed to everything; yields the probe."""
    hub = connect(broker.port, "hub", "hub-pw")
    hub.subscribe("wh/v1/#")
    yield hub
    hub.close()


def received_until_marker(probe, marker: str) -> list[str]:
    topics = []
    while True:
        topic, _ = probe.next_message()
        topics.append(topic)
        if topic == marker:
            return topics


def as_user(broker, name):
    probe = connect(broker.port, name, USERS[name][0])
    assert probe.connected
    return probe


def concrete(channel: topic_tree.Channel, station: str = "pack-1", site: str = "main") -> str:
    """One real topic of `channel`, with `station` in its {station} level."""
    ids = {"station": station, "name": "identify", "task": "CT-1", "order": "SO-1",
           "po": "PO-1", "sku": "SKU-1", "id": "SO-1", "transfer": "T-1"}  # fmt: skip
    return topic_tree.Topics(site).address(
        channel, **{k: v for k, v in ids.items() if "{" + k + "}" in channel.path}
    )


def documented_publish(role: str, topic_station: str, channel) -> bool:
    own = "{station}" not in channel.path or topic_station == "pack-1" or role == "hub"
    return topic_tree.may_publish(role, channel) and own


def documented_read(role: str, topic_station: str, channel) -> bool:
    own = "{station}" not in channel.path or topic_station == "pack-1" or role != "station"
    return topic_tree.may_read(role, channel) and own


CASES = [(channel, station) for channel in topic_tree.CHANNELS
         for station in (("pack-1", "pack-2") if "{station}" in channel.path else ("pack-1",))]  # fmt: skip


@pytest.mark.parametrize("role", topic_tree.SITE_ROLES)
def test_deploy_each_role_publishes_exactly_what_the_documents_say(broker, role):
    client = as_user(broker, ROLE_USER[role])
    refused = {concrete(c, s): client.publish_reason(concrete(c, s)) == 135 for c, s in CASES}
    expected = {concrete(c, s): not documented_publish(role, s, c) for c, s in CASES}
    # The site is pinned: no role writes any topic of another site.
    other_site = {concrete(c, s, "other"): client.publish_reason(concrete(c, s, "other")) == 135
                  for c, s in CASES}  # fmt: skip
    client.close()
    assert refused == expected
    assert all(other_site.values())


@pytest.mark.parametrize("role", topic_tree.SITE_ROLES)
def test_deploy_each_role_receives_exactly_what_the_documents_say(broker, role):
    client = as_user(broker, ROLE_USER[role])
    client.subscribe("wh/v1/#")  # granted by Mosquitto 2.0; the ACL filters each message
    hub = as_user(broker, "hub") if role != "hub" else client
    topics = [concrete(c, s) for c, s in CASES]
    for topic in topics:
        hub.publish(topic, b"probe")
    hub.publish("wh/v1/main/hub/status", b"marker")  # every role reads hub/status
    seen = []
    while (message := client.next_message()) != ("wh/v1/main/hub/status", b"marker"):
        seen.append(message[0])
    if hub is not client:
        hub.close()
    client.close()
    assert seen == [concrete(c, s) for c, s in CASES if documented_read(role, s, c)]


def test_deploy_reader_and_integration_cannot_make_a_phantom_station(broker, hub_sees):
    for name in ("dash_1", "erp_main"):
        client = as_user(broker, name)
        for topic in (f"station/{name}/status", f"station/{name}/events", "station/pack-9/status"):
            assert client.publish_reason(f"wh/v1/main/{topic}") == 135, (name, topic)
        client.close()


def test_deploy_broker_refuses_anonymous_clients(broker):
    probe = connect(broker.port, None, None)
    assert not probe.connected


def test_deploy_broker_refuses_a_wrong_password(broker):
    probe = connect(broker.port, "pack-1", "not-the-password")
    assert not probe.connected


def test_deploy_station_publishes_its_own_events(broker, hub_sees):
    station = as_user(broker, "pack-1")
    station.publish("wh/v1/main/station/pack-1/events", b"{}")
    assert hub_sees.next_message() == ("wh/v1/main/station/pack-1/events", b"{}")
    station.close()


def test_deploy_station_cannot_publish_as_another_station(broker, hub_sees):
    station = as_user(broker, "pack-1")
    station.publish("wh/v1/main/station/pack-2/events", b"forged")
    station.publish("wh/v1/main/station/pack-2/status", b"forged")
    station.publish("wh/v1/main/station/pack-1/status", b"marker")
    marker = "wh/v1/main/station/pack-1/status"
    assert received_until_marker(hub_sees, marker) == [marker]
    station.close()


def test_deploy_station_cannot_publish_on_hub_topics(broker, hub_sees):
    station = as_user(broker, "pack-1")
    for topic in ("hub/status", "station/pack-1/applied", "station/pack-2/cmd/resync",
                  "orders/SO-1", "catalog/SKU-1", "stock/SKU-1", "movements", "alerts"):  # fmt: skip
        station.publish(f"wh/v1/main/{topic}", b"forged")
    marker = "wh/v1/main/station/pack-1/events"
    station.publish(marker, b"marker")
    assert received_until_marker(hub_sees, marker) == [marker]
    station.close()


def test_deploy_station_reads_only_its_own_commands(broker):
    station = as_user(broker, "pack-1")
    station.subscribe("wh/v1/main/station/+/cmd/#")
    hub = as_user(broker, "hub")
    hub.publish("wh/v1/main/station/pack-2/cmd/resync", b"not for pack-1")
    hub.publish("wh/v1/main/station/pack-1/cmd/resync", b"marker")
    assert station.next_message() == ("wh/v1/main/station/pack-1/cmd/resync", b"marker")
    hub.close()
    station.close()


def test_deploy_integration_reads_stock_and_writes_only_intake(broker, hub_sees):
    erp = as_user(broker, "erp_main")
    erp.subscribe("wh/v1/main/stock/#")
    for topic in ("station/erp_main/status", "stock/SKU-1", "orders/SO-1"):
        erp.publish(f"wh/v1/main/{topic}", b"forged")
    erp.publish("wh/v1/main/intake/orders", b"order")
    assert received_until_marker(hub_sees, "wh/v1/main/intake/orders") == [
        "wh/v1/main/intake/orders"
    ]
    hub_sees.publish("wh/v1/main/stock/SKU-1", b"5")
    assert erp.next_message() == ("wh/v1/main/stock/SKU-1", b"5")
    erp.close()


def test_deploy_integration_names_can_never_be_station_ids(tmp_path):
    layout = brokerconf.BrokerLayout(tmp_path)
    brokerconf.write_config(layout)
    for role in ("integration", "reader"):
        with pytest.raises(ValueError, match="at least one _"):
            brokerconf.add_user(layout, "pack-3", "pw", role)
    # What a "_" user may still write under the station patterns is not a station's topic.
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert("erp_main", StationId)
    assert brokerconf.users(layout) == {}


def test_deploy_broker_rejects_names_that_could_widen_the_acl(tmp_path):
    layout = brokerconf.BrokerLayout(tmp_path)
    brokerconf.write_config(layout)
    for name in ("pack+", "pack/1", "#", "Pack-1", "pack 1", "pack-1\nuser hub", ""):
        with pytest.raises(ValueError):
            brokerconf.add_user(layout, name, "pw", "station")
    assert brokerconf.users(layout) == {}


def test_deploy_broker_user_keeps_its_role(tmp_path):
    layout = brokerconf.BrokerLayout(tmp_path)
    brokerconf.write_config(layout)
    brokerconf.add_user(layout, "hub", "pw", "hub")
    with pytest.raises(ValueError, match="exists with role hub"):
        brokerconf.add_user(layout, "hub", "pw2", "station")
    assert brokerconf.users(layout) == {"hub": "hub"}


def test_deploy_adding_a_station_leaves_the_others_untouched(tmp_path):
    layout = brokerconf.BrokerLayout(tmp_path)
    brokerconf.write_config(layout)
    brokerconf.add_user(layout, "hub", "pw", "hub")
    brokerconf.add_user(layout, "pack-1", "pw", "station")
    before = set(layout.passwd.read_text().splitlines())
    brokerconf.add_user(layout, "pack-2", "pw", "station")
    brokerconf.remove_user(layout, "pack-2")
    assert set(layout.passwd.read_text().splitlines()) == before
    assert brokerconf.users(layout) == {"hub": "hub", "pack-1": "station"}


def test_deploy_broker_files_keep_their_mode_when_rewritten(tmp_path):
    layout = brokerconf.BrokerLayout(tmp_path)
    brokerconf.write_config(layout)
    layout.acl.chmod(0o604)
    layout.passwd.chmod(0o604)
    brokerconf.add_user(layout, "pack-1", "pw", "station")
    assert layout.acl.stat().st_mode & 0o777 == 0o604
    assert layout.passwd.stat().st_mode & 0o777 == 0o604
    assert layout.roles.stat().st_mode & 0o777 == 0o600


def test_deploy_config_written_below_a_root_names_the_real_paths(tmp_path):
    layout = brokerconf.BrokerLayout(
        Path("/etc/warehouse/mosquitto"), host="", data_dir=Path("/var/lib/mosquitto"),
        root=tmp_path,
    )  # fmt: skip
    brokerconf.write_config(layout)
    conf = (tmp_path / "etc/warehouse/mosquitto/mosquitto.conf").read_text().splitlines()
    assert "password_file /etc/warehouse/mosquitto/passwd" in conf
    assert "persistence_location /var/lib/mosquitto/" in conf
    assert "listener 1883" in conf
    assert (tmp_path / "var/lib/mosquitto").is_dir()


def provision(broker, *args: str) -> subprocess.CompletedProcess:
    command = [sys.executable, str(ROOT / "scripts/provision-station"), *args,
               "--broker-dir", str(broker.layout.dir), "--mosquitto-pid", str(broker.process.pid),
               "--host", "127.0.0.1", "--port", str(broker.port), "--site", "main"]  # fmt: skip
    return subprocess.run(command, capture_output=True, text=True, check=False)


def connects_once_reloaded(broker, name: str, password: str, expected: bool) -> bool:
    """Mosquitto handles SIGHUP between network loops: try until the reload shows (bounded)."""
    for _ in range(100):
        probe = connect(broker.port, name, password)
        if probe.connected:
            probe.close()
        if probe.connected == expected:
            return expected
    return not expected


def test_deploy_provisioned_station_connects_and_removed_one_cannot(broker, hub_sees):
    made = provision(broker, "dock-7")
    assert made.returncode == 0, made.stderr
    settings = tomllib.loads(made.stdout)
    assert settings["station"] == {"id": "dock-7", "site": "main"}
    name, password = settings["mqtt"]["username"], settings["mqtt"]["password"]
    assert connects_once_reloaded(broker, name, password, expected=True)
    station = connect(broker.port, name, password)
    station.publish("wh/v1/main/station/dock-7/events", b"{}")
    assert hub_sees.next_message()[0] == "wh/v1/main/station/dock-7/events"
    station.close()

    removed = provision(broker, "dock-7", "--remove")
    assert removed.returncode == 0, removed.stderr
    assert not connects_once_reloaded(broker, name, password, expected=False)


def test_deploy_provisioning_a_known_station_needs_rotate(broker):
    first = provision(broker, "pack-1")
    assert first.returncode == 2
    assert "already provisioned" in first.stderr
    rotated = provision(broker, "pack-1", "--rotate")
    assert rotated.returncode == 0, rotated.stderr
    assert tomllib.loads(rotated.stdout)["mqtt"]["password"] != USERS["pack-1"][0]


def test_deploy_broker_tls_listener_with_the_site_ca(tmp_path):
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    tls_dir = tmp_path / "tls"
    subprocess.run([str(ROOT / "scripts/make-ca"), str(tls_dir), "localhost", "127.0.0.1"],
                   check=True, capture_output=True)  # fmt: skip
    from kit.ports import free_port
    from tests.broker import Broker

    layout = brokerconf.BrokerLayout(
        tmp_path / "broker", port=free_port(),
        tls=brokerconf.TlsListener(tls_dir / "ca.crt", tls_dir / "server.crt",
                                   tls_dir / "server.key", port=free_port(), host="127.0.0.1"),
    )  # fmt: skip
    brokerconf.write_config(layout, run_as_root=os.geteuid() == 0)
    brokerconf.add_user(layout, "pack-1", "pw", "station")
    broker = Broker(layout).start()
    try:
        probe = connect(layout.tls.port, "pack-1", "pw", tls_ca=tls_dir / "ca.crt")
        assert probe.connected
        probe.close()
    finally:
        broker.stop()


def test_deploy_example_broker_config_matches_the_generator():
    layout = brokerconf.BrokerLayout(
        Path("/etc/warehouse/mosquitto"), host="", data_dir=Path("/var/lib/mosquitto")
    )
    example = ROOT / "config/mosquitto"
    assert (example / "mosquitto.conf").read_text() == brokerconf.render_config(layout)
    roles = {"hub": "hub", "pack-1": "station", "dock-1": "station", "erp_main": "integration",
             "dashboard_1": "reader"}  # fmt: skip
    assert (example / "acl").read_text() == brokerconf.render_acl(roles)


def test_deploy_broker_config_is_readable_after_privileges_drop(tmp_path):
    # mosquitto re-reads its config as user mosquitto on SIGHUP; passwords stay private.
    layout = brokerconf.BrokerLayout(tmp_path)
    brokerconf.write_config(layout)
    brokerconf.add_user(layout, "pack-1", "pw", "station")
    assert layout.conf.stat().st_mode & 0o777 == 0o644
    assert layout.passwd.stat().st_mode & 0o007 == 0
    assert layout.roles.stat().st_mode & 0o077 == 0


def test_deploy_provisioning_with_the_broker_down_still_prints_the_settings(tmp_path):
    layout = brokerconf.BrokerLayout(tmp_path / "broker")
    brokerconf.write_config(layout)
    gone = subprocess.Popen(["true"])
    gone.wait()
    command = [sys.executable, str(ROOT / "scripts/provision-station"), "pack-4",
               "--broker-dir", str(layout.dir), "--mosquitto-pid", str(gone.pid),
               "--host", "127.0.0.1", "--site", "main"]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    assert done.returncode == 1
    settings = tomllib.loads(done.stdout)
    assert settings["mqtt"]["username"] == "pack-4"
    assert "pack-4 is stored but Mosquitto did not re-read its users" in done.stderr
    assert brokerconf.users(layout)["pack-4"] == "station"


@pytest.mark.skipif(Path("/run/systemd/system").is_dir(), reason="systemd runs here")
def test_deploy_provisioning_without_systemd_prints_the_settings(tmp_path):
    # A chroot or container: no unit to reload; Mosquitto reads the user when it starts.
    layout = brokerconf.BrokerLayout(tmp_path / "broker")
    brokerconf.write_config(layout)
    command = [sys.executable, str(ROOT / "scripts/provision-station"), "pack-5",
               "--broker-dir", str(layout.dir), "--host", "127.0.0.1", "--site", "main"]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert tomllib.loads(done.stdout)["station"] == {"id": "pack-5", "site": "main"}
    assert "no systemd running here" in done.stderr
