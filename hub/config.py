"""The hub's TOML configuration, validated at start-up (same rules as the station's)."""

from pathlib import Path
from typing import Annotated

import msgspec
from msgspec import Meta

from protocol.tomlconfig import ConfigError, parse_config
from protocol.types import SiteId

__all__ = ["ConfigError", "HubConfig", "load"]


class _Section(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    pass


Port = Annotated[int, Meta(ge=0, le=65535)]


class HubSection(_Section):
    site: SiteId = "main"
    data_dir: str = "/var/lib/warehouse-hub"


class MqttSection(_Section):
    host: str = "127.0.0.1"
    port: Port = 1883
    username: str = "hub"
    password: str | None = None
    tls_ca: str | None = None
    keepalive: Annotated[int, Meta(ge=5, le=3600)] = 30
    # How long the broker keeps the hub's session (and queues its messages) while it is down.
    session_expiry_s: Annotated[int, Meta(ge=0)] = 7 * 24 * 3600
    # Reconnect attempts back off from 0.5 s, doubling up to this.
    reconnect_max_s: Annotated[float, Meta(ge=0.5, le=300)] = 10.0


class WebSection(_Section):
    host: str = "127.0.0.1"
    port: Port = 8080
    threads: Annotated[int, Meta(ge=2, le=256)] = 16
    # Open connections at once (each open page keeps one); beyond it new ones wait. With
    # the database and broker files it stays under systemd's default LimitNOFILE (1024).
    connection_limit: Annotated[int, Meta(ge=10, le=10000)] = 500
    # Signs the login cookie; without it a key is generated once and kept in the data dir.
    secret_key: Annotated[str, Meta(min_length=16)] | None = None


class ApiSection(_Section):
    tokens: list[Annotated[str, Meta(min_length=4)]] = []


class IngestSection(_Section):
    max_batch: Annotated[int, Meta(ge=1, le=100_000)] = 1000
    # Ask a station to resend when a gap has not filled by itself for this long.
    resync_after_s: Annotated[float, Meta(gt=0, le=3600)] = 2.0


class HubConfig(_Section):
    hub: HubSection = msgspec.field(default_factory=HubSection)
    mqtt: MqttSection = msgspec.field(default_factory=MqttSection)
    web: WebSection = msgspec.field(default_factory=WebSection)
    api: ApiSection = msgspec.field(default_factory=ApiSection)
    ingest: IngestSection = msgspec.field(default_factory=IngestSection)


def load(path: str | Path) -> HubConfig:
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
    return parse_config(text, HubConfig, str(path))
