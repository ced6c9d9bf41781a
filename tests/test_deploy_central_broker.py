"""The central broker's generated ACL on the real Mosquitto, and a site broker's bridge
block: each site's bridge writes only its own site's subtree, the central hub reads what
the sites send and writes only the resend requests; the bridge's topics are protocol's."""

import shutil

import pytest

from hub import brokerconf
from protocol import topics as topic_tree
from tests.broker import connect, start_broker

pytestmark = pytest.mark.skipif(
    shutil.which("mosquitto") is None, reason="mosquitto is not installed (scripts/test does it)"
)
USERS = {
    "central": ("central-pw", "central"),
    "bridge_s1": ("s1-pw", "bridge"),
    "bridge_s2": ("s2-pw", "bridge"),
}


@pytest.fixture
def broker(tmp_path):
    broker = start_broker(tmp_path / "central-broker", USERS, site="centre")
    yield broker
    broker.stop()


def refused(broker, user: str, topic: str) -> bool:
    client = connect(broker.port, user, USERS[user][0])
    assert client.connected
    try:
        return client.publish_reason(topic) == 135
    finally:
        client.close()


def test_a_sites_bridge_writes_only_its_own_sites_topics(broker):
    for path in brokerconf.BRIDGE_OUT + (brokerconf.CENTRE_LINK,):
        topic = path.replace("+", "x-1")
        assert not refused(broker, "bridge_s1", f"wh/v1/s1/{topic}"), topic
        assert refused(broker, "bridge_s1", f"wh/v1/s2/{topic}"), topic
        assert refused(broker, "bridge_s1", f"wh/v1/centre/{topic}"), topic
    for topic in ("wh/v1/s1/centre/resend", "wh/v1/s1/orders/SO-1", "wh/v1/s1/catalog/A",
                  "wh/v1/s1/station/pack-1/events", "wh/v1/s1/intake/orders"):  # fmt: skip
        assert refused(broker, "bridge_s1", topic), topic


def test_the_central_hub_reads_every_site_and_writes_only_resend_requests(broker):
    assert not refused(broker, "central", "wh/v1/s1/centre/resend")
    assert not refused(broker, "central", "wh/v1/s2/centre/resend")
    assert not refused(broker, "central", "wh/v1/centre/hub/status")  # its own site
    for topic in ("wh/v1/s1/movements", "wh/v1/s1/stock/A", "wh/v1/s2/orders/SO-1"):
        assert refused(broker, "central", topic), topic
    central = connect(broker.port, "central", "central-pw")
    central.subscribe("wh/v1/#")
    bridge = connect(broker.port, "bridge_s2", "s2-pw")
    bridge.publish("wh/v1/s2/movements", b"m")
    bridge.publish("wh/v1/s2/centre/link", b"1")
    assert central.next_message() == ("wh/v1/s2/movements", b"m")
    assert central.next_message() == ("wh/v1/s2/centre/link", b"1")
    bridge.close()
    central.close()


def test_bridge_topics_are_the_channels_the_centre_uses():
    """brokerconf writes them out (it runs before any venv): the same as protocol's table."""

    def filter_of(channel: topic_tree.Channel) -> str:
        return "/".join("+" if p.startswith("{") else p for p in channel.path.split("/"))

    out = {filter_of(c) for c in topic_tree.CHANNELS
           if "central" in c.readers and c is not topic_tree.CENTRE_LINK}  # fmt: skip
    sent = {filter_of(c) for c in topic_tree.CHANNELS if c.sender == "central"}
    assert set(brokerconf.BRIDGE_OUT) == out
    assert set(brokerconf.BRIDGE_IN) == sent
    assert topic_tree.CENTRE_LINK.path == brokerconf.CENTRE_LINK


def test_a_bridge_block_names_its_site_and_refuses_another_sites_user(tmp_path):
    bridge = brokerconf.CentreBridge("central.example", 8883, "bridge_s1", "pw",
                                     cafile=tmp_path / "ca.crt")  # fmt: skip
    layout = brokerconf.BrokerLayout(tmp_path / "b", site="s1", bridge=bridge)
    brokerconf.write_config(layout)
    text = layout.conf.read_text()
    for line in ("connection centre", "address central.example:8883", "cleansession false",
                 "local_clientid bridge_s1_local", f"bridge_cafile {tmp_path / 'ca.crt'}",
                 "notification_topic wh/v1/s1/centre/link", "topic wh/v1/s1/movements out 1",
                 "topic wh/v1/s1/centre/resend in 1"):  # fmt: skip
        assert line in text.splitlines(), line
    assert "#" not in " ".join(line for line in text.splitlines() if line.startswith("topic"))
    assert layout.conf.stat().st_mode & 0o777 == 0o640  # it holds the bridge's password
    wrong = brokerconf.BrokerLayout(tmp_path / "c", site="s2", bridge=bridge)
    with pytest.raises(ValueError, match="bridge_s2"):
        brokerconf.write_config(wrong)
