"""The nginx configuration that serves the hub's web page and API over HTTPS.

Waitress, the hub's web server, does not speak TLS. nginx (Debian's package) does: it
answers HTTPS with the site's server certificate (made by scripts/make-ca, the one the
broker uses), sends every plain-HTTP request to the same address over HTTPS, and passes
requests to the hub on the loopback address with `X-Forwarded-Proto` and `X-Forwarded-For`.
The hub believes those headers from the proxy's address only (`[web] trusted_proxy`): from
anyone else they are dropped, so nobody on the LAN can claim a request came over HTTPS.

Several web processes of one hub (`--role web`, docs/scaling.md) are one address behind it:
nginx spreads the requests over them and skips one that does not answer. Without a
certificate it serves plain HTTP only (`scripts/demo --postgres` on loopback).

Used by scripts/install-hub (through scripts/web-proxy-config: the site file), and by the
tests and `scripts/demo --tls` (a whole nginx.conf for an unprivileged nginx in a folder).
Standard library only: the installer runs it with the system python3 before any venv.
"""

from dataclasses import dataclass
from pathlib import Path

# hub.web's MAX_CONTENT_LENGTH (a CSV import), so nginx does not refuse what the hub takes.
MAX_BODY = "8m"
# The live pages hold a request open until something changes.
READ_TIMEOUT_S = 3600


@dataclass(frozen=True)
class WebProxy:
    certfile: Path | None  # None: plain HTTP on http_port, no redirect
    keyfile: Path | None
    hub_port: int = 8080  # the hub's web port on 127.0.0.1
    https_port: int = 443
    http_port: int = 80
    # The addresses nginx listens on; empty: every interface (IPv4 and IPv6).
    listen: tuple[str, ...] = ()
    more_hub_ports: tuple[int, ...] = ()  # the web ports of the hub's other web processes

    @property
    def tls(self) -> bool:
        return self.certfile is not None


def site(proxy: WebProxy) -> str:
    """The hub's web processes as one upstream; HTTPS to it, and HTTP redirected to HTTPS
    (or, without a certificate, HTTP to it)."""
    servers = "\n".join(f"    server 127.0.0.1:{port};"
                        for port in (proxy.hub_port, *proxy.more_hub_ports))  # fmt: skip
    upstream = f"upstream warehouse_hub {{\n{servers}\n}}\n"
    if not proxy.tls:
        return f"""\
# Written by hub/webproxy.py: the hub's web page and API over plain HTTP.
{upstream}
server {{
{_listen(proxy, proxy.http_port, "")}
    server_name _;
{_location(proxy)}
}}
"""
    port = "" if proxy.https_port == 443 else f":{proxy.https_port}"
    return f"""\
# Written by scripts/install-hub (hub/webproxy.py): HTTPS for the hub's web page and API.
{upstream}
server {{
{_listen(proxy, proxy.http_port, "")}
    server_name _;
    return 301 https://$host{port}$request_uri;
}}

server {{
{_listen(proxy, proxy.https_port, " ssl")}
    server_name _;
    ssl_certificate {proxy.certfile};
    ssl_certificate_key {proxy.keyfile};
    ssl_protocols TLSv1.2 TLSv1.3;
{_location(proxy)}
}}
"""


def _location(proxy: WebProxy) -> str:
    return f"""\
    client_max_body_size {MAX_BODY};

    location / {{
        proxy_pass http://warehouse_hub;
        proxy_set_header Host $http_host;
        proxy_set_header X-Forwarded-Proto $scheme;
        # Replaced, not appended to: the hub trusts exactly one hop, this one.
        proxy_set_header X-Forwarded-For $remote_addr;
        proxy_set_header X-Forwarded-Host "";
        proxy_set_header X-Forwarded-Port "";
        proxy_set_header Forwarded "";
        proxy_http_version 1.1;
        proxy_buffering off;
        proxy_read_timeout {READ_TIMEOUT_S}s;
    }}"""


def standalone(proxy: WebProxy, folder: Path, user: str | None = None) -> str:
    """A whole nginx.conf keeping its pid, logs and temporary files in `folder`, for an
    nginx started by hand (`nginx -p folder -c nginx.conf`). `user`: the worker's user when
    nginx is started as root (else nginx's own default, nobody, cannot read `folder`)."""
    temp = "\n".join(
        f"    {kind}_temp_path {folder / (kind + '_temp')};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    body = "\n".join("    " + line if line else "" for line in site(proxy).splitlines())
    return f"""\
{f"user {user};" if user else ""}
daemon off;
worker_processes 1;
pid {folder / "nginx.pid"};
error_log {folder / "error.log"} warn;
events {{
    worker_connections 64;
}}
http {{
    access_log {folder / "access.log"};
{temp}
{body}
}}
"""


def _listen(proxy: WebProxy, port: int, ssl: str) -> str:
    addresses = proxy.listen or ("", "[::]:")
    lines = []
    for address in addresses:
        if address and not address.endswith(":"):
            address = (f"[{address}]" if ":" in address else address) + ":"
        lines.append(f"    listen {address}{port}{ssl};")
    return "\n".join(lines)
