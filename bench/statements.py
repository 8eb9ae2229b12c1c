"""Benchmark: match one month of a 1M-payment ledger against a 50,000-line statement.

    .venv/bin/python bench/statements.py [--source bench/results/ledger-1000000.sqlite] [--month 2026-10]
                                         [--lines 50000] [--reuse]

The source ledger (built by bench/run.py) is copied to bench/results/ and never changed.
The copy gets the month's statements as the demo makes them (every bank wire, gateway
and card payment, IVR recharge and crypto deposit of the month, with the demo's planted
cases), padded with bank credits nobody recorded up to ``--lines``; they are imported
through the same door as a user's files. Then the month is matched (loading, all rules,
the wrong-account check, the result tables) and timed; the target is < 10 s on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import sqlalchemy as sa
from run import RESULTS, print_table  # bench/run.py: the same machine facts and table

from vosbench.analysis.matching import review
from vosbench.ledger import database, setup, tables
from vosbench.sources.bankfiles import importing
from vosbench.sources.demo import statements as demo_statements
from vosbench.sources.demo import timeline


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=RESULTS / "ledger-1000000.sqlite",
                        help="a demo ledger built by bench/run.py (read, never changed)")
    parser.add_argument("--month", default="2026-10")
    parser.add_argument("--lines", type=int, default=50_000, help="statement lines in the month in all")
    parser.add_argument("--reuse", action="store_true", help="reuse the copy with its statements if present")
    args = parser.parse_args()
    if not args.source.is_file():
        print(f"no ledger at {args.source}; build it with `.venv/bin/python bench/run.py` or give --source",
              file=sys.stderr)
        return 2
    copy = RESULTS / f"{args.source.stem}-statements.sqlite"
    url = f"sqlite:///{copy}"
    rows = []
    if not (args.reuse and copy.is_file()):
        RESULTS.mkdir(parents=True, exist_ok=True)
        for leftover in (copy, Path(f"{copy}-wal"), Path(f"{copy}-shm")):
            leftover.unlink(missing_ok=True)
        started = time.perf_counter()
        shutil.copyfile(args.source, copy)
        rows.append(("copy the source ledger", f"{time.perf_counter() - started:.1f} s", str(args.source)))
        engine = setup.open_ledger(url)
        seconds, count = _import_statements(engine, args.source, copy, args.month, args.lines)
        rows.append((f"import {count:,} statement lines", f"{seconds:.1f} s",
                     "OFX + gateway/IVR/crypto CSVs + padding CSV, all-or-nothing, keyed"))
    engine = setup.open_ledger(url)
    with engine.connect() as connection:
        period_lines = connection.scalar(sa.select(sa.func.count()).select_from(tables.statement_lines))
    timings = []
    for _ in range(3):
        started = time.perf_counter()
        run = review.run_month(engine, args.month)
        items = run.items()
        timings.append(time.perf_counter() - started)
    statuses = Counter(group.status for group in run.groups)
    payments = sum(len(group.payments) for group in run.groups)
    lines = sum(len(group.lines) for group in run.groups)
    rows.append((f"match {args.month}: {lines:,} lines vs {payments:,} records", f"{min(timings):.2f} s",
                 f"best of 3 (all: {', '.join(f'{t:.2f}' for t in timings)} s); target < 10 s"))
    rows.append(("items by result", "", ", ".join(f"{s} {statuses.get(s, 0):,}" for s in review.STATUSES)))
    rows.append(("items by rule", "", ", ".join(f"{rule or 'unpaired'} {n:,}" for rule, n in
                                                sorted(Counter(items["rule"]).items()))))
    print_table(rows, copy, heading=f"statement matching ({period_lines:,} lines stored)")
    return 0


def _import_statements(engine, source: Path, copy: Path, month: str, total: int) -> tuple[float, int]:
    key_path = source.with_suffix(".answer-key.json")
    key = json.loads(key_path.read_text()) if key_path.is_file() else {"anomalies": [], "seed": 1}
    anomalies = [SimpleNamespace(**a) for a in key["anomalies"]]
    with engine.connect() as connection:
        zone = database.ledger_timezone(connection)
    months = timeline.months_ending(month, 1, zone)
    folder = copy.with_name(f"{copy.stem}.statements")
    started = time.perf_counter()
    demo_statements.make_and_import(engine, months, folder, anomalies, key.get("seed", 1), zone)
    with engine.connect() as connection:
        count = connection.scalar(sa.select(sa.func.count()).select_from(tables.statement_lines))
    padding = folder / f"unrecorded-{month}.csv"
    rng = random.Random(7)
    days = months[0].days
    with padding.open("w", encoding="utf-8") as handle:
        handle.write("Date,Value date,Amount,Reference,Counterparty,Description,Transaction ID\n")
        for n in range(max(0, total - count)):
            day = days[rng.randrange(len(days))]
            handle.write(f"{day},{day + timedelta(days=1)},{rng.randrange(10, 5_000)}.{rng.randrange(100):02d}37,"
                         f"X{n:07d},Unknown payer {n % 997},Credit without a record,PAD{n:07d}\n")
    importing.import_file(engine, padding, profile="generic-bank-csv")
    with engine.connect() as connection:
        count = connection.scalar(sa.select(sa.func.count()).select_from(tables.statement_lines))
    return time.perf_counter() - started, count


if __name__ == "__main__":
    sys.exit(main())
