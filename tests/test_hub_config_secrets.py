"""API tokens long enough not to be guessed over the LAN; the demo's well-known token only
on a demonstration hub, and a demonstration hub only on the loopback address."""

import pytest

from hub.config import ConfigError, load


def config(tmp_path, text: str):
    path = tmp_path / "hub.toml"
    path.write_text(text)
    return path


@pytest.mark.parametrize("token", ["demo", "abcd", "fifteen-chars-x"])
def test_a_short_api_token_stops_the_hub_with_the_key_named(tmp_path, token):
    with pytest.raises(ConfigError, match=r"\[api\] tokens: a token must have at least 16"):
        load(config(tmp_path, f'[api]\ntokens = ["{token}"]\n'))


def test_a_long_token_is_accepted(tmp_path):
    assert load(config(tmp_path, '[api]\ntokens = ["sixteen-chars-xx"]\n')).api.tokens


def test_the_demo_token_is_accepted_on_a_demonstration_hub_only(tmp_path):
    loaded = load(config(tmp_path, '[hub]\ndemo = true\n[api]\ntokens = ["demo"]\n'))
    assert loaded.hub.demo and loaded.api.tokens == ["demo"]
    with pytest.raises(ConfigError, match="at least 16"):
        load(config(tmp_path, '[hub]\ndemo = true\n[api]\ntokens = ["abcd"]\n'))


def test_a_demonstration_hub_listens_on_the_loopback_address_only(tmp_path):
    with pytest.raises(ConfigError, match=r"\[web\] host must then be the loopback"):
        load(config(tmp_path, '[hub]\ndemo = true\n[web]\nhost = "0.0.0.0"\n'))
