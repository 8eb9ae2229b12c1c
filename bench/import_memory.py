"""Benchmark of ``vosbench import``'s peak memory against the size of the file: the slope that must be flat.

    .venv/bin/python bench/import_memory.py [--payments 500000,1000000,2000000] [--accounts 50000] [--seed 18]

For each number of payments, generates (deterministically from ``--seed``, kept in
``bench/results/import-memory-<payments>-<accounts>/``) the import files of ``bench/scale.py``
— payments over 24 months and about 1.09 charge rows per payment — imports accounts.csv into a
fresh ledger, then times ``vosbench import payments.csv charges.csv`` as a process under
``/usr/bin/time -v``: its wall and CPU time and its peak resident memory (the largest of the
importer and its parsing workers, as the kernel counts a process tree's peak). Prints one row
per size and the growth of the peak per million payments between consecutive sizes, with the
machine's facts and the load. Memory does not depend on the load; the times do, so compare
runs made back to back.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
from pathlib import Path

from run import RESULTS, machine  # bench/run.py: where results go and the machine's facts
from scale import generate, measured  # bench/scale.py: the files of a large operator, a process's peak


def peak_of_import(files: Path) -> tuple[float, float, int]:
    """(wall s, CPU s, peak KiB) of importing ``files``' payments and charges into a fresh ledger of its accounts."""
    vosbench = str(Path(sys.executable).with_name("vosbench"))
    with tempfile.TemporaryDirectory(dir=files.parent) as scratch:
        url = f"sqlite:///{Path(scratch) / 'ledger.sqlite'}"
        measured([vosbench, "import", str(files / "accounts.csv"), "--timezone", "UTC", "--db", url])
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        wall, peak = measured([vosbench, "import", str(files / "payments.csv"), str(files / "charges.csv"), "--db", url])
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return wall, cpu, peak


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--payments", default="500000,1000000,2000000", help="sizes, comma-separated")
    parser.add_argument("--accounts", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=18)
    args = parser.parse_args()
    sizes = sorted(int(size) for size in args.payments.split(","))
    for key, value in machine().items():
        print(f"{key:>10}: {value}")
    print(f"{'accounts':>10}: {args.accounts:,}; seed {args.seed}\n")
    print("| payments  | charge rows | wall s | CPU s | records/s | peak MiB | MiB per M payments since the last |")
    print("|-----------|-------------|--------|-------|-----------|----------|-----------------------------------|")
    last: tuple[int, float] | None = None
    for size in sizes:
        files = RESULTS / f"import-memory-{size}-{args.accounts}-{args.seed}" / "csv"
        if not (files / "charges.csv").exists():
            counts = generate(files, size, args.accounts, args.seed)
        else:
            with open(files / "charges.csv", "rb") as charges:
                counts = {"charges": sum(1 for _ in charges) - 1}
        load = os.getloadavg()[0]
        wall, cpu, peak = peak_of_import(files)
        mib = peak / 1024
        slope = f"{(mib - last[1]) / ((size - last[0]) / 1e6):+,.0f}" if last else "—"
        records = size + counts["charges"]
        print(f"| {size:>9,} | {counts['charges']:>11,} | {wall:6.1f} | {cpu:5.1f} | {records / wall:9,.0f} | "
              f"{mib:8,.0f} | {slope:>33} |  (load {load:.1f})", flush=True)
        last = (size, mib)
    return 0


if __name__ == "__main__":
    sys.exit(main())
