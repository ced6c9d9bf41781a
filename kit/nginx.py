"""nginx in a folder of its own, unprivileged, in front of a hub on loopback ports: the
HTTPS the installed hub gets (hub/webproxy.py writes both configurations)."""

import os
import pwd
import shutil
import signal
import subprocess
from pathlib import Path

from hub.webproxy import WebProxy, standalone
from kit.ports import wait_for_port

NGINX = "/usr/sbin/nginx"


def nginx_binary() -> str | None:
    return shutil.which("nginx") or (NGINX if os.access(NGINX, os.X_OK) else None)


class Nginx:
    def __init__(self, folder: Path, proxy: WebProxy) -> None:
        self.folder = folder
        self.proxy = proxy
        self.process: subprocess.Popen | None = None

    def start(self) -> "Nginx":
        binary = nginx_binary()
        if binary is None:
            raise FileNotFoundError("nginx is not installed (apt-get install nginx)")
        self.folder.mkdir(parents=True, exist_ok=True)
        conf = self.folder / "nginx.conf"
        conf.write_text(standalone(self.proxy, self.folder, pwd.getpwuid(os.getuid()).pw_name))
        log = open(self.folder / "nginx.out", "ab")  # noqa: SIM115 - owned by the child
        self.process = subprocess.Popen(
            [binary, "-p", str(self.folder), "-c", str(conf), "-e", str(self.folder / "error.log")],
            stdout=log, stderr=log, start_new_session=True,
        )  # fmt: skip
        for port in (self.proxy.https_port, self.proxy.http_port) if self.proxy.tls else (
                self.proxy.http_port,):  # fmt: skip
            wait_for_port(port)
        return self

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGQUIT)  # finish open requests, then stop
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
