"""Make and check offline install bundles (scripts/bundle; the installers' --bundle).

A bundle is one tar file:
  warehouse/            the release files, as an installer copies them (with VERSION)
  wheels/<arch>/        every file the lock files need on that machine (uname -m), each one
                        of the locked files (hashes checked), and the build requirements of
                        the locked source distributions (evdev needs setuptools>=77)
  bundle.json           version, architectures, and which file stands for which package

  bundle.py make [--arch aarch64] [--arch armv7l] [--output FILE] [--source DIR]
                 [--index-url URL]
  bundle.py check FILE_OR_DIR --arch ARCH [--role station|hub]

`make` downloads with pip (from PyPI, or --index-url) and refuses to write a bundle that
misses a locked package; `check` is what the installers run on the machine before pip.
Standard library only, so the installers run it with the system python3.
"""

import argparse
import hashlib
import io
import json
import re
import subprocess
import sys
import tarfile
import tempfile
import tomllib
from dataclasses import dataclass
from pathlib import Path

ROLES = ("station", "hub")
RELEASE_FILES = ["station", "hub", "protocol", "scripts", "config", "systemd", "docs",
                 "requirements", "pyproject.toml", "README.md"]  # fmt: skip
# The Pis' machine types (uname -m). pip expands only the old manylinux2014 names into the
# older tags, so every manylinux_2_N a Debian 12 Pi runs (glibc 2.36) is listed.
ARCHS = ("aarch64", "armv7l")
GLIBC_MINOR = 36


def platform_tags(arch: str) -> list[str]:
    tags = [f"manylinux_2_{minor}_{arch}" for minor in range(GLIBC_MINOR, 16, -1)]
    return [*tags, f"manylinux2014_{arch}", f"linux_{arch}"]


PYTHON = "3.11"
REQUIREMENT = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)\s*(;[^\\]*)?")
HASH = re.compile(r"--hash=sha256:([0-9a-f]{64})")


class BundleError(Exception):
    """A bundle that cannot serve an install, with what is missing."""


@dataclass(frozen=True)
class Locked:
    name: str
    version: str
    marker: str
    hashes: frozenset[str]


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def read_lock(path: Path) -> list[Locked]:
    """The pinned packages of a lock file made by scripts/lock, with their hashes."""
    entries: list[Locked] = []
    text = path.read_text().replace("\\\n", " ")
    for line in text.splitlines():
        match = REQUIREMENT.match(line.strip())
        if match:
            marker = (match.group(3) or "").lstrip("; ").strip()
            entries.append(Locked(normalize(match.group(1)), match.group(2), marker,
                                  frozenset(HASH.findall(line))))  # fmt: skip
    if not entries:
        raise BundleError(f"{path}: no pinned packages")
    return entries


def applies_on_linux(marker: str) -> bool:
    """Markers scripts/lock writes that rule a package out on every Pi (Linux, CPython 3.11)."""
    return not re.search(r"sys_platform == '(win32|darwin|cygwin)'|platform_system == '(Windows|Darwin)'",
                         marker)  # fmt: skip


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def file_arch_ok(filename: str, arch: str) -> bool:
    """A source distribution or pure wheel fits every machine; a binary wheel only its own."""
    if not filename.endswith(".whl"):
        return True
    platform = filename[:-4].split("-")[-1]
    return platform == "any" or any(tag.endswith(f"_{arch}") for tag in platform.split("."))


def check_wheels(folder: Path, lock: Path, arch: str) -> dict[str, str]:
    """{package: file} for every package `lock` needs on `arch`, each a locked file."""
    by_hash = {sha256(path): path.name for path in folder.iterdir() if path.is_file()}
    chosen: dict[str, str] = {}
    missing = []
    for entry in read_lock(lock):
        if not applies_on_linux(entry.marker):
            continue
        names = [by_hash[h] for h in entry.hashes if h in by_hash]
        fitting = sorted(name for name in names if file_arch_ok(name, arch))
        if fitting:
            chosen[entry.name] = fitting[0]
        else:
            missing.append(f"{entry.name}=={entry.version}")
    if missing:
        raise BundleError(f"no locked file for {arch} of: {', '.join(missing)} "
                          f"(in {folder}, for {lock.name})")  # fmt: skip
    return chosen


def pip_download(dest: Path, arch: str, index: list[str], *args: str) -> None:
    platforms = [arg for tag in platform_tags(arch) for arg in ("--platform", tag)]
    command = [sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
               "--dest", str(dest), *platforms, "--python-version", PYTHON,
               "--implementation", "cp", *index, *args]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BundleError(f"pip download for {arch} failed:\n{done.stderr.strip()}")


def build_requirements(sdist: Path) -> list[str]:
    """[build-system] requires of a source distribution (setuptools when it has none)."""
    with tarfile.open(sdist) as tar:
        member = next((m for m in tar.getmembers()
                       if m.name.count("/") == 1 and m.name.endswith("/pyproject.toml")), None)  # fmt: skip
        if member is None:
            return ["setuptools>=40.8.0"]
        data = tomllib.loads(tar.extractfile(member).read().decode())
    return data.get("build-system", {}).get("requires", ["setuptools>=40.8.0"])


def download(source: Path, dest: Path, arch: str, index: list[str]) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    for role in ROLES:
        # --no-deps: the lock already names every package. Source distributions stay
        # allowed (evdev has no wheel at all); pip prefers a wheel where one fits.
        pip_download(dest, arch, index, "--no-deps", "--require-hashes",
                     "-r", str(source / "requirements" / f"{role}.txt"))  # fmt: skip
    for sdist in sorted(dest.glob("*.tar.gz")):
        for requirement in build_requirements(sdist):
            # What the bundle holds already (setuptools is locked) serves the build; only
            # what it lacks is fetched, as wheels: pip never hash-checks a build's own needs.
            try:
                pip_download(dest, arch, ["--no-index", "--find-links", str(dest)],
                             "--only-binary=:all:", requirement)  # fmt: skip
            except BundleError:
                pip_download(dest, arch, index, "--only-binary=:all:", requirement)


def release_version(source: Path) -> str:
    done = subprocess.run(["bash", "-c", 'source scripts/lib/deploy.sh && source_version'],
                          cwd=source, capture_output=True, text=True, check=True)  # fmt: skip
    return done.stdout.strip()


def make(source: Path, archs: list[str], output: Path | None, index: list[str]) -> Path:
    version = release_version(source)
    output = output or Path.cwd() / f"warehouse-{version}-bundle.tar"
    manifest: dict = {"version": version, "python": PYTHON, "arch": {}}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for arch in archs:
            folder = work / "wheels" / arch
            download(source, folder, arch, index)
            manifest["arch"][arch] = {
                role: check_wheels(folder, source / "requirements" / f"{role}.txt", arch)
                for role in ROLES
            }
        (work / "bundle.json").write_text(json.dumps(manifest, indent=2) + "\n")
        partial = output.with_name(output.name + ".partial")
        with tarfile.open(partial, "w") as tar:
            tar.add(work / "bundle.json", "bundle.json")
            for name in RELEASE_FILES:
                if (source / name).exists():
                    tar.add(source / name, f"warehouse/{name}", filter=_no_caches)
            tar.addfile(*_text_member("warehouse/VERSION", version + "\n"))
            tar.add(work / "wheels", "wheels")
        partial.rename(output)
    return output


def _no_caches(member: tarfile.TarInfo) -> tarfile.TarInfo | None:
    if "__pycache__" in member.name or member.name.endswith(".pyc"):
        return None
    member.uid = member.gid = 0
    member.uname = member.gname = "root"
    return member


def _text_member(name: str, text: str) -> tuple[tarfile.TarInfo, io.BytesIO]:
    data = text.encode()
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o644
    return info, io.BytesIO(data)


def check(unpacked: Path, arch: str, roles: list[str]) -> None:
    folder = unpacked / "wheels" / arch
    if not folder.is_dir():
        held = (
            sorted(p.name for p in (unpacked / "wheels").iterdir())
            if (unpacked / "wheels").is_dir()
            else []
        )
        raise BundleError(f"the bundle has no wheels for {arch} (it holds: {', '.join(held) or 'none'}); "
                          f"make one with scripts/bundle --arch {arch}")  # fmt: skip
    for role in roles:
        check_wheels(folder, unpacked / "warehouse" / "requirements" / f"{role}.txt", arch)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bundle", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    made = sub.add_parser("make")
    made.add_argument("--arch", action="append", choices=ARCHS)
    made.add_argument("--output", type=Path)
    made.add_argument("--source", type=Path, default=Path(__file__).resolve().parents[2])
    made.add_argument("--index-url", help="a PyPI mirror instead of pypi.org")
    checked = sub.add_parser("check")
    checked.add_argument("unpacked", type=Path, help="an unpacked bundle")
    checked.add_argument("--arch", required=True)
    checked.add_argument("--role", choices=ROLES, action="append")
    args = parser.parse_args(argv)
    try:
        if args.command == "make":
            index = ["--index-url", args.index_url] if args.index_url else []
            output = make(args.source.resolve(), args.arch or ["aarch64"], args.output, index)
            print(output)
        else:
            check(args.unpacked, args.arch, args.role or list(ROLES))
    except (BundleError, OSError, subprocess.CalledProcessError) as exc:
        print(f"bundle: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
