"""Benchmark: every control check on one month of the 1M-payment demo ledger.

    .venv/bin/python bench/controls.py [--ledger bench/results/ledger-1000000.sqlite] [--month 2026-10]

Works on a copy (in bench/results/, git-ignored) so the source ledger is never changed:
the copy gains the controls' tables and the demo's back office (operators, a managed
account, commission rates, regenerated from the answer key's scale). Prints the
machine's facts, the median of 3 runs, each check's time and the answer-key score.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import time
from pathlib import Path

from run import RESULTS, print_table  # bench/run.py: the machine facts and the table

from vosbench import controls
from vosbench.controls import scoring
from vosbench.ledger import setup
from vosbench.sources import demo
from vosbench.sources.demo import reference


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ledger", type=Path, default=RESULTS / "ledger-1000000.sqlite")
    parser.add_argument("--month", default="2026-10")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    if not args.ledger.exists():
        print(f"no ledger at {args.ledger}; build it with `.venv/bin/python bench/run.py`", file=sys.stderr)
        return 2
    copy = RESULTS / f"controls-{args.ledger.name}"
    if not copy.exists() or copy.stat().st_mtime < args.ledger.stat().st_mtime:
        shutil.copyfile(args.ledger, copy)
    engine = setup.open_ledger(f"sqlite:///{copy}")  # adds the newer tables to the copy
    key = demo.answer_key(engine)
    if key:
        reference.write_for_existing(engine, key["scale"], key["timezone"])
    rules = controls.load_settings()
    runs = []
    for _ in range(args.runs):
        started = time.perf_counter()
        result = controls.run(engine, args.month, rules)
        runs.append((time.perf_counter() - started, result))
    seconds, result = sorted(runs, key=lambda run: run[0])[len(runs) // 2]
    records = len(controls.context.load(engine, args.month, rules).payments)
    rows = [(f"all controls, {args.month} (median of {args.runs})", f"{statistics.median(r[0] for r in runs):.2f} s",
             f"{records:,} payment records in the month, {len(result.findings)} findings; target < 15 s")]
    rows += [(f"  {name}", f"{value * 1000:.0f} ms", "") for name, value in result.seconds.items()]
    print_table(rows, copy)
    if key:
        table = scoring.score(result.findings, key, args.month)
        print("\nagainst the answer key:")
        print(table.to_string(index=False, na_rep="-", float_format=lambda v: f"{v:.2f}"))
        missed = scoring.missed(result.findings, key, args.month)
        print(f"missed: {[a['kind'] for a in missed] or 'none'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
