"""The hub's TOML configuration, validated at start-up (same rules as the station's)."""

import ipaddress
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

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
    # "site": a warehouse's own hub (the default). "central": a company's central hub,
    # which keeps every [[sites]] site's stock from its movements (docs/multi-site.md).
    mode: Literal["site", "central"] = "site"
    # A demonstration (scripts/demo): the README's well-known password and API token are
    # allowed, and the web page may listen on the loopback address only.
    demo: bool = False


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
    # The address of the reverse proxy that serves HTTPS (nginx: 127.0.0.1). Its
    # X-Forwarded-Proto and X-Forwarded-For are believed; anyone else's are dropped.
    trusted_proxy: str | None = None
    # How the pages write times and money: the site's IANA time zone and currency code.
    timezone: str = "UTC"
    currency: Annotated[str, Meta(pattern="^[A-Z]{3}$")] = "EUR"

    def __post_init__(self) -> None:
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            # msgspec reports a ValueError here with the key's path, as for any other key.
            raise ValueError(
                f"unknown time zone {self.timezone!r} (an IANA name, e.g. 'Europe/Berlin')"
            ) from None


# install-hub makes 32-character tokens; a short one can be guessed over the LAN.
MIN_TOKEN = 16
DEMO_TOKENS = frozenset({"demo"})


class ApiSection(_Section):
    tokens: list[Annotated[str, Meta(min_length=1, max_length=512)]] = []


class IngestSection(_Section):
    max_batch: Annotated[int, Meta(ge=1, le=100_000)] = 1000
    # Ask a station to resend when a gap has not filled by itself for this long.
    resync_after_s: Annotated[float, Meta(gt=0, le=3600)] = 2.0
    # With several ingest workers: a worker silent this long loses its stations to the
    # others (docs/scaling.md). Renewed three times per lease.
    lease_s: Annotated[float, Meta(ge=1, le=300)] = 5.0
    # Received and not yet applied, at most (hub.inbox): beyond it the hub stops reading
    # from the broker, which holds the rest. Bounds the hub's memory after an outage.
    inbox_messages: Annotated[int, Meta(ge=10, le=1_000_000)] = 5000


class DeadLetterSection(_Section):
    """Dead letters are kept for a supervisor to look at, within these bounds; what the
    caps drop is still counted (Alerts page)."""

    per_source: Annotated[int, Meta(ge=1, le=1_000_000)] = 1000  # per station (or intake...)
    total: Annotated[int, Meta(ge=1, le=10_000_000)] = 10_000
    keep_days: Annotated[int, Meta(ge=1, le=3650)] = 30


class HealthSection(_Section):
    # A loop (ingest, outbox, housekeeping, web) that has not finished a turn for this long
    # is stalled: /healthz answers 503 and the systemd watchdog is no longer fed.
    stall_after_s: Annotated[float, Meta(gt=0, le=3600)] = 60.0


class CentreSection(_Section):
    """A site of a company: the central broker its own broker bridges to. Read by
    scripts/broker-config (the bridge's `connection` block); the hub shows the link."""

    host: str
    username: str  # bridge_{site}: the site's credential on the central broker
    password: Annotated[str, Meta(min_length=1)]
    port: Port = 8883
    tls_ca: str | None = None


class TransfersSection(_Section):
    """Transfers between sites: a transfer not shipped, or in transit and not received,
    this many days on is alerted (`transfer_late`)."""

    late_days: Annotated[int, Meta(ge=1, le=365)] = 7


class SiteEntry(_Section):
    """One site a central hub follows."""

    id: SiteId
    # The site hub's web address and an API token of it: `python -m hub check --site`.
    api: str | None = None
    token: str | None = None


class DatabaseSection(_Section):
    """Where the ledger is: without `url`, the SQLite file `ledger.db` in [hub] data_dir;
    with a `postgresql://user:password@host/dbname` URL, that PostgreSQL database
    (docs/scaling.md)."""

    url: Annotated[str, Meta(pattern="^postgres(ql)?://")] | None = None

    def target(self, data_dir: str | Path) -> str:
        """What `store.connect` opens: the URL, or the SQLite file's path."""
        return self.url if self.url is not None else str(Path(data_dir) / "ledger.db")


class HubConfig(_Section):
    hub: HubSection = msgspec.field(default_factory=HubSection)
    mqtt: MqttSection = msgspec.field(default_factory=MqttSection)
    web: WebSection = msgspec.field(default_factory=WebSection)
    api: ApiSection = msgspec.field(default_factory=ApiSection)
    ingest: IngestSection = msgspec.field(default_factory=IngestSection)
    dead_letters: DeadLetterSection = msgspec.field(default_factory=DeadLetterSection)
    health: HealthSection = msgspec.field(default_factory=HealthSection)
    centre: CentreSection | None = None
    sites: list[SiteEntry] = []
    database: DatabaseSection = msgspec.field(default_factory=DatabaseSection)
    transfers: TransfersSection = msgspec.field(default_factory=TransfersSection)


def load(path: str | Path) -> HubConfig:
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
    config = parse_config(text, HubConfig, str(path))
    _check_demo(config, str(path))
    _check_proxy(config.web, str(path))
    _check_sites(config, str(path))
    return config


def _check_sites(config: HubConfig, where: str) -> None:
    central = config.hub.mode == "central"
    if central and not config.sites:
        raise ConfigError(f"{where}: [hub] mode = \"central\" needs [[sites]] (one per site)")
    if not central and config.sites:
        raise ConfigError(f"{where}: [[sites]] is for a central hub ([hub] mode = \"central\")")
    if central and config.centre is not None:
        raise ConfigError(f"{where}: [centre] is for a site hub, not the central one")
    ids = [site.id for site in config.sites]
    if len(set(ids)) != len(ids) or config.hub.site in ids:
        raise ConfigError(f"{where}: [[sites]] id: each site once, none the centre's own "
                          f"[hub] site ({config.hub.site!r})")  # fmt: skip
    if config.centre is not None and config.centre.username != f"bridge_{config.hub.site}":
        raise ConfigError(f"{where}: [centre] username: must be "
                          f"'bridge_{config.hub.site}' (the site's bridge user)")  # fmt: skip


def _check_proxy(web: WebSection, where: str) -> None:
    if web.trusted_proxy is None:
        return
    try:
        ipaddress.ip_address(web.trusted_proxy)
    except ValueError:
        raise ConfigError(
            f"{where}: [web] trusted_proxy: {web.trusted_proxy!r} is not an IP address "
            '(the proxy\'s own, e.g. "127.0.0.1" for nginx on this machine)'
        ) from None


def _check_demo(config: HubConfig, where: str) -> None:
    """What only a demonstration may do: rules across keys that a schema cannot say."""
    demo = config.hub.demo
    for token in config.api.tokens:
        if len(token) < MIN_TOKEN and not (demo and token in DEMO_TOKENS):
            raise ConfigError(
                f"{where}: [api] tokens: a token must have at least {MIN_TOKEN} characters "
                "(python3 -c 'import secrets; print(secrets.token_urlsafe(24))' makes one)"
            )
    if demo and config.web.host not in ("127.0.0.1", "::1", "localhost"):
        raise ConfigError(
            f"{where}: [hub] demo = true allows well-known passwords: [web] host must then be "
            f"the loopback address, not {config.web.host!r}"
        )
