"""A central hub's and a site hub's configuration: a wrong combination stops the hub with
one line naming the key."""

import pytest

from hub import brokerconf
from hub.config import ConfigError, load

CENTRE = '[centre]\nhost = "central.example"\nusername = "bridge_s1"\npassword = "pw"\n'


def config(tmp_path, text: str):
    path = tmp_path / "hub.toml"
    path.write_text(text)
    return load(path)


def test_a_central_hub_needs_its_sites(tmp_path):
    with pytest.raises(ConfigError, match=r'mode = "central" needs \[\[sites\]\]'):
        config(tmp_path, '[hub]\nmode = "central"\n')
    loaded = config(tmp_path, '[hub]\nsite = "hq"\nmode = "central"\n[[sites]]\nid = "s1"\n'
                              '[[sites]]\nid = "s2"\napi = "http://s2:8080"\ntoken = "t"\n')  # fmt: skip
    assert [s.id for s in loaded.sites] == ["s1", "s2"]


def test_sites_are_for_the_central_hub_and_each_once(tmp_path):
    with pytest.raises(ConfigError, match=r"\[\[sites\]\] is for a central hub"):
        config(tmp_path, '[[sites]]\nid = "s1"\n')
    with pytest.raises(ConfigError, match="each site once"):
        config(tmp_path, '[hub]\nmode = "central"\n[[sites]]\nid = "s1"\n[[sites]]\nid = "s1"\n')
    with pytest.raises(ConfigError, match="each site once"):
        config(tmp_path, '[hub]\nsite = "s1"\nmode = "central"\n[[sites]]\nid = "s1"\n')
    with pytest.raises(ConfigError, match="sites"):
        config(tmp_path, '[hub]\nmode = "central"\n[[sites]]\nid = "S 1"\n')


def test_a_site_hubs_centre_names_its_own_bridge_user(tmp_path):
    with pytest.raises(ConfigError, match=r"\[centre\] username: must be 'bridge_s2'"):
        config(tmp_path, '[hub]\nsite = "s2"\n' + CENTRE)
    with pytest.raises(ConfigError, match=r"\[centre\] is for a site hub"):
        config(tmp_path, '[hub]\nsite = "hq"\nmode = "central"\n[[sites]]\nid = "s1"\n' + CENTRE)
    loaded = config(tmp_path, '[hub]\nsite = "s1"\n' + CENTRE)
    assert loaded.centre.port == 8883


def test_broker_config_reads_the_bridge_from_the_site_hubs_config(tmp_path):
    path = tmp_path / "hub.toml"
    path.write_text('[hub]\nsite = "s1"\n' + CENTRE + 'tls_ca = "/etc/warehouse/centre-ca.crt"\n')
    site, bridge = brokerconf.bridge_from_hub_config(path)
    assert site == "s1"
    assert (bridge.host, bridge.port, bridge.username) == ("central.example", 8883, "bridge_s1")
    assert str(bridge.cafile) == "/etc/warehouse/centre-ca.crt"
    path.write_text('[hub]\nsite = "s1"\n')
    assert brokerconf.bridge_from_hub_config(path) == ("s1", None)
