"""Offline bundles: scripts/bundle's maker run against a package index on loopback (a
PEP 503 folder served over real HTTP, with wheels made here), and the installers given the
bundle into a temporary root. pip itself does the downloading, as on a connected machine."""

import hashlib
import http.server
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import threading
import zipfile
from pathlib import Path

import pytest

from tests.test_deploy_install import run

ROOT = Path(__file__).resolve().parents[1]
BUNDLE = ROOT / "scripts/lib/bundle.py"
RELEASE = ["station", "hub", "protocol", "scripts", "config", "systemd", "pyproject.toml"]


def make_wheel(folder: Path, name: str, version: str, tag: str) -> Path:
    """A minimal valid wheel: what pip reads of one when it downloads it."""
    path = folder / f"{name}-{version}-{tag}.whl"
    info = f"{name}-{version}.dist-info"
    with zipfile.ZipFile(path, "w") as whl:
        whl.writestr(f"{name}/__init__.py", "")
        whl.writestr(
            f"{info}/METADATA", f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
        )
        whl.writestr(f"{info}/WHEEL", f"Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: {tag}\n")
        whl.writestr(f"{info}/RECORD", "")
    return path


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class Index:
    """A simple-API index on 127.0.0.1 serving the wheels in `files`."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.files = folder / "files"
        self.files.mkdir(parents=True)
        handler = lambda *a: http.server.SimpleHTTPRequestHandler(*a, directory=str(folder))  # noqa: E731
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/simple/"

    def publish(self) -> None:
        projects: dict[str, list[Path]] = {}
        for path in self.files.iterdir():
            projects.setdefault(path.name.split("-")[0], []).append(path)
        for project, paths in projects.items():
            page = self.folder / "simple" / project
            page.mkdir(parents=True, exist_ok=True)
            links = "".join(f'<a href="../../files/{p.name}#sha256={sha(p)}">{p.name}</a>\n'
                            for p in paths)  # fmt: skip
            (page / "index.html").write_text(f"<html><body>\n{links}</body></html>\n")

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def lock_line(name: str, version: str, files: list[Path], marker: str = "") -> str:
    hashes = " \\\n".join(f"    --hash=sha256:{sha(p)}" for p in files)
    return f"{name}=={version}{' ; ' + marker if marker else ''} \\\n{hashes}\n"


@pytest.fixture
def site(tmp_path):
    """A release whose locks name a pure wheel, a binary one per Pi, and a Windows-only one;
    and the index serving them (the Windows one is not needed on a Pi, so not served)."""
    index = Index(tmp_path / "index")
    pure = make_wheel(index.files, "alpha", "1.0", "py3-none-any")
    binaries = {arch: make_wheel(index.files, "beta", "2.0", f"cp311-cp311-{tag}")
                for arch, tag in [("aarch64", "manylinux_2_17_aarch64.manylinux2014_aarch64"),
                                  ("x86_64", "manylinux_2_17_x86_64"),
                                  ("armv7l", "manylinux_2_31_armv7l")]}  # fmt: skip
    index.publish()
    source = tmp_path / "source"
    source.mkdir()
    for name in RELEASE:
        copy = shutil.copytree if (ROOT / name).is_dir() else shutil.copy
        copy(ROOT / name, source / name)
    requirements = source / "requirements"
    requirements.mkdir()
    lock = (lock_line("alpha", "1.0", [pure]) + lock_line("beta", "2.0", list(binaries.values()))
            + lock_line("gamma", "3.0", [pure], "sys_platform == 'win32'"))  # fmt: skip
    (requirements / "station.txt").write_text(lock)
    (requirements / "hub.txt").write_text(lock_line("alpha", "1.0", [pure]))
    yield index, source, binaries
    index.close()


def make_bundle(index, source: Path, output: Path, *archs: str) -> subprocess.CompletedProcess:
    # Only this index: not the machine's pip configuration (extra indexes, find-links).
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env["PIP_CONFIG_FILE"] = os.devnull
    args = [arg for arch in archs for arg in ("--arch", arch)]
    return subprocess.run([sys.executable, str(BUNDLE), "make", "--source", str(source),
                           "--index-url", index.url, "--output", str(output), *args],
                          capture_output=True, text=True, env=env, check=False)  # fmt: skip


def test_deploy_bundle_holds_every_locked_package_for_the_pi(site, tmp_path):
    index, source, binaries = site
    made = make_bundle(index, source, tmp_path / "b.tar")
    assert made.returncode == 0, made.stderr
    with tarfile.open(tmp_path / "b.tar") as tar:
        names = set(tar.getnames())
        manifest = json.load(tar.extractfile("bundle.json"))
        version = tar.extractfile("warehouse/VERSION").read().decode().strip()
    wheels = {n.split("/")[-1] for n in names if n.startswith("wheels/aarch64/")}
    assert wheels == {"alpha-1.0-py3-none-any.whl", binaries["aarch64"].name}
    assert manifest["arch"] == {"aarch64": {
        "station": {"alpha": "alpha-1.0-py3-none-any.whl", "beta": binaries["aarch64"].name},
        "hub": {"alpha": "alpha-1.0-py3-none-any.whl"}}}  # fmt: skip
    assert "warehouse/station/__main__.py" in names and version == manifest["version"]


def test_deploy_bundle_for_both_pis_holds_each_ones_wheels(site, tmp_path):
    index, source, binaries = site
    made = make_bundle(index, source, tmp_path / "b.tar", "aarch64", "armv7l")
    assert made.returncode == 0, made.stderr
    with tarfile.open(tmp_path / "b.tar") as tar:
        names = set(tar.getnames())
    assert f"wheels/armv7l/{binaries['armv7l'].name}" in names
    assert f"wheels/aarch64/{binaries['aarch64'].name}" in names
    assert not any(binaries["x86_64"].name in name for name in names)


def test_deploy_bundle_missing_a_locked_file_is_not_made(site, tmp_path):
    index, source, binaries = site
    binaries["aarch64"].unlink()
    shutil.rmtree(index.folder / "simple")
    index.publish()
    made = make_bundle(index, source, tmp_path / "b.tar")
    assert made.returncode == 2
    assert "beta" in made.stderr
    assert not (tmp_path / "b.tar").exists()
    assert not (tmp_path / "b.tar.partial").exists()


def test_deploy_install_from_a_bundle_uses_only_its_files(site, tmp_path):
    index, source, _ = site
    assert make_bundle(index, source, tmp_path / "b.tar").returncode == 0
    target = tmp_path / "root"
    out = run("install-station", "--root", str(target), "--bundle", str(tmp_path / "b.tar"))
    with tarfile.open(tmp_path / "b.tar") as tar:
        version = tar.extractfile("warehouse/VERSION").read().decode().strip()
    release = target / "opt/warehouse" / version
    # The code and its lock are the bundle's, not this checkout's.
    assert (release / "requirements/station.txt").read_text() == (
        source / "requirements/station.txt").read_text()  # fmt: skip
    pip = next(line for line in out.stdout.splitlines() if " -m pip install " in line)
    assert "--no-index --find-links " in pip and "/wheels/aarch64 --require-hashes -r" in pip
    unpacked = Path(pip.split("--find-links ")[1].split()[0]).parents[1]
    assert not unpacked.exists(), "the unpacked bundle is left behind"


def test_deploy_install_from_a_bundle_without_this_pis_wheels_fails_clearly(site, tmp_path):
    index, source, _ = site
    assert make_bundle(index, source, tmp_path / "b.tar", "armv7l").returncode == 0
    done = subprocess.run([str(ROOT / "scripts/install-hub"), "--root", str(tmp_path / "root"),
                           "--bundle", str(tmp_path / "b.tar")],
                          capture_output=True, text=True, check=False)  # fmt: skip
    assert done.returncode == 2
    assert "no wheels for aarch64 (it holds: armv7l)" in done.stderr
    assert not (tmp_path / "root/opt/warehouse").exists()


def test_deploy_install_refuses_a_file_that_is_no_bundle(tmp_path):
    bogus = tmp_path / "b.tar"
    with tarfile.open(bogus, "w") as tar:
        data = b"hello"
        info = tarfile.TarInfo("readme")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    done = subprocess.run([str(ROOT / "scripts/install-station"), "--dry-run", "--bundle",
                           str(bogus)], capture_output=True, text=True, check=False)  # fmt: skip
    assert done.returncode == 2
    assert "not a bundle made by scripts/bundle" in done.stderr
