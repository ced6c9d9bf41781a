"""The benchmark: every hot path of the project against the bare path of the same libraries,
on this machine, in this run. Prints a table; exits 1 when a target is missed.

Run through `scripts/bench` (which installs what is needed first):
    scripts/bench [--quick] [--only 1,3,5] [--keep DIR]
"""

import argparse
import importlib
import logging
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

from bench_report import Figure, missed, table

# Number -> module with `run(dir, quick) -> list[Figure]`; the order they run in.
MEASURES = {
    1: "bench_scan",
    2: "bench_ingest",
    3: "bench_latency",
    4: "bench_backlog",
    5: "bench_pages",
    6: "bench_memory",
    7: "bench_postgres",
}


def machine() -> str:
    cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
    meminfo = Path("/proc/meminfo").read_text().splitlines()
    cpu = next((line.split(":", 1)[1].strip() for line in cpuinfo
                if line.startswith("model name")), platform.processor())  # fmt: skip
    mem_kib = next(int(line.split()[1]) for line in meminfo if line.startswith("MemTotal"))
    return (f"{os.cpu_count()} CPUs ({cpu}), {mem_kib / 1024 / 1024:.1f} GiB RAM, "
            f"Python {platform.python_version()}, {platform.system()} {platform.release()}")


def parse_only(text: str | None) -> list[int]:
    if not text:
        return list(MEASURES)
    try:
        chosen = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise SystemExit(f"--only: numbers from {sorted(MEASURES)}, comma separated") from None
    unknown = [n for n in chosen if n not in MEASURES]
    if unknown:
        raise SystemExit(f"--only: no measurement {unknown}; there are {sorted(MEASURES)}")
    return chosen


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small counts: a fast look")
    parser.add_argument("--only", help="comma-separated measurement numbers (1-7)")
    parser.add_argument("--keep", type=Path, help="work in DIR and keep it (logs, databases)")
    args = parser.parse_args(argv)
    chosen = parse_only(args.only)
    work = args.keep or Path(tempfile.mkdtemp(prefix="bench-"))
    work.mkdir(parents=True, exist_ok=True)
    # The in-process parts (station cores, uplinks) log here, as the real processes do.
    logging.basicConfig(filename=work / "bench.log", level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")  # fmt: skip
    print(f"machine: {machine()}", flush=True)
    print(f"mode: {'quick' if args.quick else 'full'}; work dir: {work}", flush=True)
    figures: list[Figure] = []
    failed: list[str] = []
    try:
        for number in chosen:
            name = MEASURES[number]
            started = time.monotonic()
            print(f"-- {number}: {name} ...", flush=True)
            try:
                module = importlib.import_module(name)
                got = module.run(work / name, args.quick)
            except Exception as exc:  # noqa: BLE001 - report it and go on with the others
                failed.append(f"{number} ({name}): {type(exc).__name__}: {exc}")
                print(f"   failed: {exc}", flush=True)
                continue
            figures.extend(got)
            print(table(got), f"\n   ({time.monotonic() - started:.0f} s)", flush=True)
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    print("\n" + table(figures))
    for line in failed:
        print(f"FAILED to measure {line}")
    for figure in missed(figures):
        print(f"MISSED: {figure.name}: target {figure.target}")
    return 1 if failed or missed(figures) else 0


if __name__ == "__main__":
    sys.exit(main())
