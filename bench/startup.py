"""Start-up of the terminal commands: ``vosbench info``, ``verify``, ``query`` and ``reconcile`` as processes.

    .venv/bin/python bench/startup.py [--db URL] [--month YYYY-MM] [--runs 5]

Each command runs as a fresh process, once to warm the caches and then ``--runs`` times;
the best wall and CPU time and the peak memory are printed beside what every process pays
before vosbench does anything (the interpreter, ``import sqlalchemy``, ``import numpy``, both),
with the machine's facts and its load. Without ``--db`` the commands run on a one-account
ledger, so what is timed is the start-up, not the work; with it (e.g. the demo ledger) the
whole command. ``verify`` hashes every record: on a large ledger it measures the hashing.
``bench/scale.py`` prints the same start-up beside its other measures. The machine is
shared: compare figures of one run.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from run import machine  # bench/run.py: the machine's facts

TIME = "/usr/bin/time"
GOAL_SECONDS = 0.4
"""The start-up issue 18 asks of each terminal command."""


@dataclass(frozen=True)
class Timing:
    """One command's best wall and CPU seconds over the runs, and its peak resident memory."""

    wall: float
    cpu: float
    peak_kib: int


def commands(month: str) -> dict[str, list[str]]:
    """The terminal commands timed, by name: what an analyst types most."""
    return {"info": ["info"], "verify": ["verify"], "query": ["query", "--kind", "deposit", "--format", "csv"],
            "reconcile": ["reconcile", "--month", month, "--format", "csv"]}


def tiny_ledger(folder: Path, python: str) -> str:
    """A ledger holding one account, made with ``vosbench import`` in ``folder``: its URL."""
    (folder / "accounts.csv").write_text("account,name,kind,parent,credit_limit,currency\nC1,ACC-1,customer,,0,USD\n")
    url = f"sqlite:///{folder / 'ledger.sqlite'}"
    subprocess.run([vosbench(python), "import", str(folder / "accounts.csv"), "--timezone", "UTC", "--db", url],
                   check=True, stdout=subprocess.DEVNULL)
    return url


def vosbench(python: str) -> str:
    """The ``vosbench`` script beside ``python`` (the same virtual environment)."""
    return str(Path(python).with_name("vosbench"))


def timed(command: list[str], runs: int) -> Timing:
    """``command`` run once to warm up, then ``runs`` times under /usr/bin/time: the best of each measure.

    Byte-code caching is left on whatever the caller's environment says: a command that
    compiles its modules at every start is not what a user runs.
    """
    environment = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    walls, cpus, peaks = [], [], []
    with tempfile.NamedTemporaryFile("r", suffix=".time") as report:
        for run in range(runs + 1):
            subprocess.run([TIME, "-f", "%e %U %S %M", "-o", report.name, *command], check=True,
                           stdout=subprocess.DEVNULL, env=environment)
            wall, user, system, peak = report.read().split()[-4:]
            report.seek(0)
            if run:
                walls.append(float(wall))
                cpus.append(float(user) + float(system))
                peaks.append(int(peak))
    return Timing(min(walls), min(cpus), max(peaks))


def timings(url: str, python: str, month: str, runs: int = 5) -> dict[str, Timing]:
    """Each of :func:`commands` run as a process on the ledger at ``url``."""
    return {name: timed([vosbench(python), *arguments, "--db", url], runs) for name, arguments in commands(month).items()}


def floor(python: str, runs: int = 5) -> dict[str, Timing]:
    """What a process pays before vosbench runs: the interpreter alone, the library every command loads, and
    with numpy, which ``reconcile`` computes over (and ``verify`` once the ledger holds records): their floors."""
    return {f"python -c {code!r}": timed([python, "-c", code], runs)
            for code in ("pass", "import sqlalchemy", "import numpy", "import sqlalchemy, numpy")}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="the ledger to run them on (default: a one-account ledger made here)")
    parser.add_argument("--month", default="2026-10", metavar="YYYY-MM", help="the month reconciled")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = args.db or tiny_ledger(Path(folder), sys.executable)
        measured = {f"vosbench {name}": timing for name, timing in timings(url, sys.executable, args.month,
                                                                           args.runs).items()}
    measured.update(floor(sys.executable, args.runs))
    for key, value in {**machine(), "load": " ".join(f"{v:.2f}" for v in os.getloadavg()),
                       "ledger": args.db or "one account (start-up only)"}.items():
        print(f"{key:>10}: {value}")
    width = max(map(len, measured))
    print(f"\n{'':<{width}}  {'wall (best)':>11}  {'cpu (best)':>10}  {'peak':>8}")
    for name, timing in measured.items():
        mark = "  over the 0.4 s goal" if name.startswith("vosbench") and not args.db and timing.wall > GOAL_SECONDS else ""
        print(f"{name:<{width}}  {timing.wall:>9.3f} s  {timing.cpu:>8.3f} s  {timing.peak_kib / 1024:>4.0f} MiB{mark}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
