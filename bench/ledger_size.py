"""The SQLite ledger's size per object and its import speed, two checkouts of vosbench side by side on the same files.

    .venv/bin/python bench/ledger_size.py --csv bench/results/scale-1000000/csv \\
        --code main=/work/main --code branch=. [--rounds 2]

Each checkout (``NAME=PATH``: a vosbench source tree, put first on the import path of its commands) imports, through
``vosbench import`` as a user runs it, the accounts.csv of ``--csv`` (untimed), then its payments.csv and charges.csv
(timed: records/s, the CPU time of the command and its workers a record, which a shared machine's load
moves less than the wall clock, and the process's peak memory), into a new ledger in bench/results/ (git-ignored). The checkouts
take turns round by round, so the shared machine's load falls on each alike; the file size and each table's and
index's size (SQLite's dbstat) are the last round's, and the import speed is each round's. The CSVs are those
``bench/scale.py --payments N --keep`` leaves.
"""

from __future__ import annotations

import argparse
import os
import resource
import sqlite3
import subprocess
import sys
from pathlib import Path

from run import RESULTS, machine  # bench/run.py: the results folder and the machine facts
from scale import measured  # bench/scale.py: a command under /usr/bin/time -v

VOSBENCH = "import sys; from vosbench.commands.main import main; sys.exit(main())"


def imported(code: Path, csv: Path, ledger: Path) -> tuple[float, float, int]:
    """Import ``csv``'s files into a new ``ledger`` with the vosbench of ``code``: (wall seconds, CPU seconds of the
    command and its workers, peak KiB) of the payments and charges."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{ledger}{suffix}").unlink(missing_ok=True)
    path = str(code.resolve())

    def vosbench(*arguments: str) -> list[str]:
        # -P: not the current folder first on the path, which would import the vosbench of whatever folder it is
        return ["env", f"PYTHONPATH={path}", sys.executable, "-P", "-c", VOSBENCH, *arguments,
                "--db", f"sqlite:///{ledger}"]

    done = subprocess.run(vosbench("import", str(csv / "accounts.csv"), "--timezone", "UTC"), capture_output=True,
                          text=True)
    if done.returncode != 0:
        sys.exit(f"the accounts import with {code} failed:\n{done.stderr[-3000:]}")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    seconds, peak = measured(vosbench("import", str(csv / "payments.csv"), str(csv / "charges.csv")))
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return seconds, after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime, peak


def objects(ledger: Path) -> dict[str, float]:
    """MB per table and index (dbstat), the file's free pages as ``(free pages)``."""
    with sqlite3.connect(ledger) as raw:
        sizes = {name: size / 1e6 for name, size in raw.execute("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name")}
        page_size = raw.execute("PRAGMA page_size").fetchone()[0]
        sizes["(free pages)"] = raw.execute("PRAGMA freelist_count").fetchone()[0] * page_size / 1e6
    return sizes


def records(csv: Path) -> int:
    """The payment and charge records of ``csv``'s files (their lines after the header)."""
    total = 0
    for name in ("payments.csv", "charges.csv"):
        with open(csv / name, "rb") as lines:
            total += sum(1 for _ in lines) - 1
    return total


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csv", type=Path, default=RESULTS / "scale-1000000" / "csv")
    parser.add_argument("--code", action="append", required=True, help="NAME=PATH of a vosbench checkout")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    codes = dict(code.split("=", 1) for code in args.code)
    count = records(args.csv)
    speeds: dict[str, list[float]] = {name: [] for name in codes}
    cpu: dict[str, list[float]] = {name: [] for name in codes}
    peaks: dict[str, list[int]] = {name: [] for name in codes}
    ledgers = {name: RESULTS / f"ledger-size-{name}.sqlite" for name in codes}
    for round_ in range(args.rounds):
        for name, code in codes.items():
            seconds, used, peak = imported(Path(code), args.csv, ledgers[name])
            speeds[name].append(count / seconds)
            cpu[name].append(used * 1e6 / count)
            peaks[name].append(peak)
            print(f"  round {round_ + 1}, {name}: {seconds:.1f} s, {count / seconds:,.0f} records/s, "
                  f"{used * 1e6 / count:.1f} µs CPU a record, peak {peak / 1024:,.0f} MiB", file=sys.stderr, flush=True)
    sizes = {name: objects(ledger) for name, ledger in ledgers.items()}

    for key, value in machine().items():
        print(f"{key:>10}: {value}")
    print(f"{'files':>10}: {args.csv} ({count:,} payment and charge records)")
    print(f"{'load':>10}: {os.getloadavg()[0]:.1f} (1-minute load average at the end; the machine is shared)\n")
    names = list(codes)
    print(f"{'':<34}" + "".join(f"{name:>16}" for name in names))
    print(f"{'file size (MB)':<34}" + "".join(f"{ledgers[name].stat().st_size / 1e6:>16,.1f}" for name in names))
    for round_ in range(args.rounds):
        print(f"{f'import, round {round_ + 1} (records/s)':<34}" + "".join(f"{speeds[name][round_]:>16,.0f}"
                                                                      for name in names))
        print(f"{f'  CPU a record, round {round_ + 1} (µs)':<34}" + "".join(f"{cpu[name][round_]:>16.1f}"
                                                                         for name in names))
    print(f"{'import peak memory (MiB)':<34}" + "".join(f"{max(peaks[name]) / 1024:>16,.0f}" for name in names))
    print("\nper object (MB, dbstat), largest first:")
    every = sorted({key for found in sizes.values() for key in found}, key=lambda key: -max(
        found.get(key, 0.0) for found in sizes.values()))
    for key in every:
        if max(found.get(key, 0.0) for found in sizes.values()) >= 0.5:
            print(f"  {key:<32}" + "".join(f"{sizes[name][key]:>16,.1f}" if key in sizes[name] else f"{'-':>16}"
                                           for name in names))
    return 0


if __name__ == "__main__":
    sys.exit(main())
