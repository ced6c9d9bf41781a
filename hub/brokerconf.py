"""Writes a Mosquitto configuration with authentication and per-station ACLs.

Used by the demo, the tests, the hub installer and `scripts/provision-station`, so that
what runs everywhere is the same secured broker: no anonymous clients, one credential per
station, the client id tied to the username, and a station confined to its own topics.

Files in `BrokerLayout.dir`: `mosquitto.conf`, `passwd` (mosquitto_passwd hashes), `acl`
(generated from `roles` and `site`), `roles` (one "name role" line per user: the source of
the ACL), `site` (the one site whose topics this broker carries: every right is pinned to it).

Several sites (docs/multi-site.md): a site's broker gets a `connection` block (`bridge`)
that forwards what the centre needs to the central broker and brings back what the centre
sends the site; the central broker has a `central` user (the central hub) and one
`bridge` user per site, `bridge_{site}`, who may write only that site's part of the tree.
"""

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, get_args

Role = Literal["hub", "station", "reader", "integration", "central", "bridge"]
ROLES: tuple[Role, ...] = get_args(Role)

# A station's username is its station id, the same rule as protocol.types.StationId.
STATION_NAME = re.compile(r"^[a-z0-9-]{1,64}$")
# Other users need a "_", which no station id has: with use_username_as_clientid a reader
# named like a station would take over that station's connection, and the hub refuses
# station topics whose id is not a station id. CVE-2017-7650: no + # / or whitespace in
# any name, so a username cannot widen a rule or the ACL file.
OTHER_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
SITE_NAME = re.compile(r"^[a-z0-9-]{1,64}$")
DEFAULT_SITE = "main"
# A site's bridge logs in to the central broker as this plus the site id.
BRIDGE_PREFIX = "bridge_"
BRIDGE_NAME = re.compile(r"^bridge_[a-z0-9-]{1,57}$")

# protocol.envelope.MAX_PAYLOAD_BYTES, written out: scripts/broker-config runs this module
# with the system python3 before any venv (no msgspec). A test keeps the two equal.
MAX_PAYLOAD_BYTES = 256 * 1024
# A whole MQTT packet may be this much bigger than its payload: fixed header, topic (ours
# are under 200 bytes), packet id, MQTT 5 properties.
PACKET_HEADROOM_BYTES = 1024
MAX_PACKET_BYTES = MAX_PAYLOAD_BYTES + PACKET_HEADROOM_BYTES

# Each user's rights, written out per user with {site} (the broker's one site) and {name}
# (the username) filled in. No `pattern` lines: those apply to every user, which gave the
# reader and integration roles a station's rights. docs/protocol.md lists the same rights,
# and protocol/topics.py's channel table says who sends and reads each topic; the tests
# hold all three together against the real broker.
ROLE_RULES: dict[Role, tuple[str, ...]] = {
    "hub": ("topic readwrite wh/v1/{site}/#",),
    "station": (
        "topic write wh/v1/{site}/station/{name}/events",
        "topic write wh/v1/{site}/station/{name}/status",
        "topic read wh/v1/{site}/station/{name}/applied",
        "topic read wh/v1/{site}/station/{name}/cmd/#",
        "topic read wh/v1/{site}/station/{name}/count-tasks/#",
        "topic read wh/v1/{site}/orders/#",
        "topic read wh/v1/{site}/purchase-orders/#",
        "topic read wh/v1/{site}/catalog/#",
        "topic read wh/v1/{site}/returnable/#",
        "topic read wh/v1/{site}/hub/status",
    ),
    # Dashboards and monitors run by the site's own staff: everything, read only.
    "reader": ("topic read wh/v1/{site}/#",),
    # Other companies' systems (an ERP, a shop, a supplier): stock, movements and alerts,
    # dropship orders; they write sales orders. No customer data of other orders, no
    # catalog, no station topics.
    "integration": (
        "topic read wh/v1/{site}/stock/#",
        "topic read wh/v1/{site}/alerts",
        "topic read wh/v1/{site}/movements",
        "topic read wh/v1/{site}/hub/status",
        "topic read wh/v1/{site}/dropship/#",
        "topic read wh/v1/{site}/returns",
        "topic write wh/v1/{site}/intake/orders",
    ),
}


# What crosses a site's bridge, written out as protocol/topics.py's channel table has it
# (scripts/broker-config runs this module before any venv; a test keeps the two equal):
# out, what the central hub reads (the bridge itself writes its notification topic,
# CENTRE_LINK); in, what the central hub sends a site. Listed one by one, never `#`:
# nothing secret leaves the site.
BRIDGE_OUT: tuple[str, ...] = (
    "station/+/status", "hub/status", "stock/+", "alerts", "movements", "centre/order-state",
    "transfers/+",
)  # fmt: skip
BRIDGE_IN: tuple[str, ...] = ("centre/resend", "centre/orders", "centre/transfers/+")
CENTRE_LINK = "centre/link"
# Rights on the central broker. The central hub: its own site's tree, and what it reads
# and sends at every site. A site's bridge ({bridged}: the site in its name): its own
# site's outgoing topics and its notification, and read what comes in.
ROLE_RULES["central"] = (
    "topic readwrite wh/v1/{site}/#",
    *(f"topic read wh/v1/+/{path}" for path in (*BRIDGE_OUT, CENTRE_LINK)),
    *(f"topic write wh/v1/+/{path}" for path in BRIDGE_IN),
)
ROLE_RULES["bridge"] = (
    *(f"topic write wh/v1/{{bridged}}/{path}" for path in BRIDGE_OUT),
    f"topic write wh/v1/{{bridged}}/{CENTRE_LINK}",
    *(f"topic read wh/v1/{{bridged}}/{path}" for path in BRIDGE_IN),
)


@dataclass(frozen=True)
class CentreBridge:
    """The site broker's bridge to the central broker (the site hub's [centre] section)."""

    host: str
    port: int
    username: str  # bridge_{site}, a user of the central broker
    password: str
    cafile: Path | None = None  # TLS to the central broker, trusting this CA


@dataclass(frozen=True)
class TlsListener:
    """A second listener with TLS (certificates from `scripts/make-ca`)."""

    cafile: Path
    certfile: Path
    keyfile: Path
    port: int = 8883
    host: str = ""  # "" listens on every interface


@dataclass(frozen=True)
class BrokerLayout:
    """Where one broker's files live, and where it listens.

    `dir` and `data_dir` are the paths as the running broker sees them. `root`, when set,
    is where that filesystem is being assembled (an installer's `--root`): files are
    written below it while the configuration names the real paths.
    """

    dir: Path
    port: int = 1883
    host: str = "127.0.0.1"  # "" listens on every interface
    data_dir: Path | None = None  # persistence; default `dir/data`
    tls: TlsListener | None = None
    root: Path | None = None
    site: str | None = None  # None: the site recorded in `dir/site` (else DEFAULT_SITE)
    bridge: CentreBridge | None = None  # a site of a company: its link to the centre

    @property
    def conf(self) -> Path:
        return self.local(self.dir / "mosquitto.conf")

    @property
    def passwd(self) -> Path:
        return self.local(self.dir / "passwd")

    @property
    def acl(self) -> Path:
        return self.local(self.dir / "acl")

    @property
    def roles(self) -> Path:
        return self.local(self.dir / "roles")

    @property
    def site_file(self) -> Path:
        return self.local(self.dir / "site")

    @property
    def data(self) -> Path:
        return self.local(self.persistence_dir)

    @property
    def persistence_dir(self) -> Path:
        return self.data_dir if self.data_dir is not None else self.dir / "data"

    def local(self, path: Path) -> Path:
        """Where `path` (as the broker sees it) is on the filesystem being written."""
        if self.root is None:
            return Path(path)
        return self.root / Path(path).relative_to(Path(path).anchor)


def render_config(
    layout: BrokerLayout,
    *,
    run_as_root: bool = False,
    log_file: Path | None = None,
    site: str = DEFAULT_SITE,
) -> str:
    """The text of mosquitto.conf for `layout` (`site`: the broker's site, for a bridge)."""
    listen = f"listener {layout.port} {layout.host}".rstrip()
    lines = [
        "# Generated by hub/brokerconf.py (scripts/broker-config): edit the generator, not this.",
        "per_listener_settings false",
        listen,
        "allow_anonymous false",
        f"password_file {layout.dir / 'passwd'}",
        f"acl_file {layout.dir / 'acl'}",
        # The client id is the username, so no client can take over another's session.
        "use_username_as_clientid true",
        "persistence true",
        f"persistence_location {layout.persistence_dir}/",
        # A crash loses what came after the last snapshot; the stations' resend covers it.
        "autosave_interval 30",
        # The default (1000 per client) silently drops a backlog; the hub may fall behind,
        # and a site's bridge queues here all that waits for the centre while it is down.
        "max_queued_messages 1000000",
        "max_inflight_messages 100",
        # A packet bigger than the protocol allows closes its sender's connection before
        # the broker reads it, so no client can make the broker, or the hub's paho, hold
        # it (the hub dead-letters a payload over the limit that fits the headroom).
        # Not message_size_limit: 2.0.11 answers with a PUBACK reason code that paho
        # rejects as malformed, which also ends the connection, and deprecates it.
        f"max_packet_size {MAX_PACKET_BYTES}",
        "persistent_client_expiration 14d",
        "set_tcp_nodelay true",
        "log_type error",
        "log_type warning",
        "log_type notice",
        f"log_dest {'file ' + str(log_file) if log_file else 'stderr'}",
    ]
    if layout.tls:
        tls = layout.tls
        lines += [
            f"listener {tls.port} {tls.host}".rstrip(),
            f"cafile {tls.cafile}",
            f"certfile {tls.certfile}",
            f"keyfile {tls.keyfile}",
        ]
    if run_as_root:
        # Started as root, mosquitto drops to user "mosquitto", which cannot read files in a
        # private temporary folder: the demo and the tests keep root.
        lines.append("user root")
    if layout.bridge:
        lines += render_bridge(layout.bridge, site)
    return "\n".join(lines) + "\n"


def render_bridge(bridge: CentreBridge, site: str) -> list[str]:
    """Mosquitto's `connection` block of a site's bridge to the central broker."""
    if bridge.username != BRIDGE_PREFIX + site:
        raise ValueError(f"the bridge of site {site!r} logs in as {BRIDGE_PREFIX + site!r}, "
                         f"not {bridge.username!r}")  # fmt: skip
    if any(c in bridge.password for c in "\r\n") or not bridge.password:
        raise ValueError("the bridge password must be one non-empty line")
    base = f"wh/v1/{site}"
    lines = [
        "",
        "# The bridge to the central broker (docs/multi-site.md).",
        "connection centre",
        f"address {bridge.host}:{bridge.port}",
        "bridge_protocol_version mqttv50",
        f"remote_username {bridge.username}",
        f"remote_password {bridge.password}",
        f"remote_clientid {bridge.username}",
        # Its session on this broker: the "_" keeps it apart from every station's id.
        f"local_clientid {bridge.username}_local",
        # Both sessions persist: what is queued for the link survives a reconnect.
        "cleansession false",
        "bridge_attempt_unsubscribe false",
        # Mosquitto publishes 1 / 0 (0 is its last will on the central broker).
        "notifications true",
        f"notification_topic {base}/{CENTRE_LINK}",
        "keepalive_interval 30",
        "restart_timeout 1 30",
    ]
    if bridge.cafile is not None:
        lines += [f"bridge_cafile {bridge.cafile}", "bridge_insecure false"]
    lines += [f"topic {base}/{path} out 1" for path in BRIDGE_OUT]
    lines += [f"topic {base}/{path} in 1" for path in BRIDGE_IN]
    return lines


def bridge_from_hub_config(path: Path) -> tuple[str, CentreBridge | None]:
    """The site and its bridge from the site hub's TOML ([hub] site, [centre])."""
    import tomllib

    with open(path, "rb") as f:
        config = tomllib.load(f)
    site = config.get("hub", {}).get("site", DEFAULT_SITE)
    centre = config.get("centre")
    if not centre:
        return site, None
    cafile = centre.get("tls_ca")
    try:
        bridge = CentreBridge(host=centre["host"], port=int(centre.get("port", 8883)),
                              username=centre.get("username", BRIDGE_PREFIX + site),
                              password=centre["password"],
                              cafile=Path(cafile) if cafile else None)  # fmt: skip
    except KeyError as exc:
        raise ValueError(f"{path}: [centre] needs {exc.args[0]}") from None
    return site, bridge

def write_config(
    layout: BrokerLayout, *, run_as_root: bool = False, log_file: Path | None = None
) -> None:
    """Write mosquitto.conf (and empty passwd/roles if missing, the site, the ACL)."""
    site = _checked_site(layout.site or site_of(layout))
    layout.conf.parent.mkdir(parents=True, exist_ok=True)
    layout.data.mkdir(parents=True, exist_ok=True)
    # Without a bridge no secret is in it, and mosquitto re-reads it as user mosquitto on
    # SIGHUP: world-readable. A bridge's password makes it private to root and the group.
    text = render_config(layout, run_as_root=run_as_root, log_file=log_file, site=site)
    _replace(layout.conf, text, new_mode=0o640 if layout.bridge else 0o644)
    for path in (layout.passwd, layout.roles):
        if not path.exists():
            path.touch(mode=0o640 if path == layout.passwd else 0o600)
    _replace(layout.site_file, site + "\n", new_mode=0o644)
    _write_acl(layout)


def site_of(layout: BrokerLayout) -> str:
    """The site the ACL pins every right to: the one recorded by `write_config`.

    A layout naming another site is refused (only `write_config` changes the site), so a
    user added with the wrong site cannot re-pin every station's rights.
    """
    recorded = layout.site_file.read_text().strip() if layout.site_file.exists() else None
    if recorded is not None and layout.site is not None and layout.site != recorded:
        raise ValueError(
            f"this broker carries site {recorded!r}, not {layout.site!r} "
            "(broker-config write --site changes it)"
        )
    return _checked_site(recorded or layout.site or DEFAULT_SITE)


def _checked_site(site: str) -> str:
    if not SITE_NAME.match(site):
        raise ValueError(f"invalid site {site!r}: use a-z, 0-9 and -, 1-64 chars")
    return site


def check_name(name: str, role: Role) -> None:
    """Raise ValueError unless `name` is a safe username for `role`."""
    if role == "station":
        if not STATION_NAME.match(name):
            raise ValueError(f"invalid station name {name!r}: use a-z, 0-9 and -, 1-64 chars")
    elif role == "bridge":
        if not BRIDGE_NAME.match(name):
            raise ValueError(f"invalid bridge name {name!r}: {BRIDGE_PREFIX} and the site id")
    elif role in ("hub", "central"):
        if not OTHER_NAME.match(name):
            raise ValueError(f"invalid hub name {name!r}: use a-z, 0-9, _ and -, 1-64 chars")
    elif not (OTHER_NAME.match(name) and "_" in name):
        raise ValueError(
            f"invalid {role} name {name!r}: use a-z, 0-9, _ and -, with at least one _ "
            "(so it can never be taken for a station id)"
        )


def add_user(layout: BrokerLayout, name: str, password: str, role: Role) -> None:
    """Create one user's credential and role (or change its password), leaving the others."""
    if role not in ROLE_RULES:
        raise ValueError(f"unknown role {role!r}; allowed: {', '.join(ROLES)}")
    check_name(name, role)
    if not password or any(c in password for c in "\r\n"):
        raise ValueError("the password must be one non-empty line")
    roles = _read_roles(layout)
    if roles.get(name, role) != role:
        raise ValueError(f"user {name!r} exists with role {roles[name]}; remove it first")
    subprocess.run(
        [_mosquitto_passwd(), "-b", str(layout.passwd), name, password],
        check=True,
        capture_output=True,
    )
    roles[name] = role
    _write_roles(layout, roles)
    _write_acl(layout)


def remove_user(layout: BrokerLayout, name: str) -> bool:
    """Remove one user's credential and role; False if there was no such user."""
    roles = _read_roles(layout)
    known = name in roles
    subprocess.run(
        [_mosquitto_passwd(), "-D", str(layout.passwd), name], check=False, capture_output=True
    )
    roles.pop(name, None)
    _write_roles(layout, roles)
    _write_acl(layout)
    return known


def users(layout: BrokerLayout) -> dict[str, Role]:
    return _read_roles(layout)


def _mosquitto_passwd() -> str:
    for candidate in ("mosquitto_passwd", "/usr/bin/mosquitto_passwd"):
        found = shutil.which(candidate)
        if found:
            return found
    raise FileNotFoundError("mosquitto_passwd not found: install the mosquitto package")


def _read_roles(layout: BrokerLayout) -> dict[str, Role]:
    if not layout.roles.exists():
        return {}
    roles: dict[str, Role] = {}
    for number, line in enumerate(layout.roles.read_text().splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        name, _, role = line.partition(" ")
        if role not in ROLES:
            raise ValueError(f"{layout.roles}:{number}: unknown role {role!r}")
        roles[name] = role  # type: ignore[assignment]
    return roles


def _write_roles(layout: BrokerLayout, roles: dict[str, Role]) -> None:
    text = "".join(f"{name} {role}\n" for name, role in sorted(roles.items()))
    _replace(layout.roles, text, new_mode=0o600)


def render_acl(roles: dict[str, Role], site: str = DEFAULT_SITE) -> str:
    """The ACL file: one block per user, every topic under `wh/v1/{site}/`."""
    lines = [f"# Generated by hub/brokerconf.py from the roles file, for site {site}."]
    for name, role in sorted(roles.items()):
        lines.append(f"user {name}")
        bridged = name.removeprefix(BRIDGE_PREFIX)
        lines.extend(rule.format(site=site, name=name, bridged=bridged)
                     for rule in ROLE_RULES[role])  # fmt: skip
    return "\n".join(lines) + "\n"


def _write_acl(layout: BrokerLayout) -> None:
    _replace(layout.acl, render_acl(_read_roles(layout), site_of(layout)))


def _replace(path: Path, text: str, new_mode: int = 0o640) -> None:
    """Write `text` to `path` atomically, keeping the old file's mode and group.

    On the hub these files are root:mosquitto 0640, and mosquitto re-reads them as user
    mosquitto on SIGHUP: a replacement owned by root alone would lock it out.
    """
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    try:
        old = path.stat()
    except FileNotFoundError:
        tmp.chmod(new_mode)
    else:
        tmp.chmod(old.st_mode & 0o7777)
        if old.st_gid != tmp.stat().st_gid and os.geteuid() == 0:
            os.chown(tmp, -1, old.st_gid)
    os.replace(tmp, path)
