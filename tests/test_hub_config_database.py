"""`[database] url` selects PostgreSQL for the ledger; without it the ledger is the SQLite
file in the data folder; a URL of another kind stops the hub with the key named."""

import pytest

from hub.config import ConfigError, load


def config(tmp_path, text: str):
    path = tmp_path / "hub.toml"
    path.write_text(f'[hub]\ndata_dir = "{tmp_path}"\n{text}')
    return path


def test_without_a_url_the_ledger_is_the_sqlite_file_in_the_data_folder(tmp_path):
    loaded = load(config(tmp_path, ""))
    assert loaded.database.target(loaded.hub.data_dir) == str(tmp_path / "ledger.db")


@pytest.mark.parametrize("url", ["postgresql://hub:pw@db.lan/warehouse",
                                 "postgres://hub@/warehouse?host=/var/run/postgresql"])  # fmt: skip
def test_a_postgresql_url_is_the_ledger(tmp_path, url):
    loaded = load(config(tmp_path, f'[database]\nurl = "{url}"\n'))
    assert loaded.database.target(loaded.hub.data_dir) == url


@pytest.mark.parametrize("url", ["mysql://hub@db/warehouse", "/var/lib/ledger.db", ""])
def test_another_kind_of_url_stops_the_hub_with_the_key_named(tmp_path, url):
    with pytest.raises(ConfigError, match=r"database.*url"):
        load(config(tmp_path, f'[database]\nurl = "{url}"\n'))


def test_an_unknown_key_of_the_section_is_named(tmp_path):
    with pytest.raises(ConfigError, match="path"):
        load(config(tmp_path, '[database]\npath = "/tmp/x.db"\n'))
