"""A station's data directory on its own small tmpfs, to fill it up and free it again
(root only: elsewhere the tests that need it are skipped)."""

import contextlib
import os
import subprocess
from pathlib import Path


class SmallDisk:
    def __init__(self, path: Path, size: str = "2m") -> None:
        self.path = path
        self.size = size
        self.filler = path / "filler"

    @staticmethod
    def available() -> bool:
        return os.geteuid() == 0 and Path("/bin/mount").exists()

    def mount(self) -> "SmallDisk":
        self.path.mkdir(parents=True, exist_ok=True)
        subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={self.size}", "tmpfs",
                        str(self.path)], check=True, capture_output=True)  # fmt: skip
        return self

    def fill(self) -> None:
        """Write zeros until the disk is full (ENOSPC)."""
        with contextlib.suppress(OSError), open(self.filler, "ab", buffering=0) as out:
            while True:
                out.write(b"\0" * 4096)

    def free(self) -> None:
        self.filler.unlink(missing_ok=True)

    def remount(self, mode: str) -> None:
        """ "ro" or "rw" (with no file open for writing, or the kernel says busy)."""
        subprocess.run(["mount", "-o", f"remount,{mode}", str(self.path)], check=True,
                       capture_output=True)  # fmt: skip

    def unmount(self) -> None:
        subprocess.run(["umount", "-l", str(self.path)], check=False, capture_output=True)
