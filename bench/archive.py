"""Benchmark: retention — archive the older months of a large ledger, read them back, purge, and check.

    .venv/bin/python bench/archive.py [--payments 1000000] [--customers 5000] [--months 24] [--keep 6]

The demo ledger of that size (bench/run.py's, in bench/results/) is built when missing,
then copied; the copy's months before the last ``--keep`` are closed and archived. The
table gives the time of each step (write, read-back, purge in one transaction, VACUUM),
the sizes of the ledger before and after and of the archive, whether every kept month's
reconciliation is the same figure for figure before and after, and the cost of a full
`verify` of what remains.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from run import RESULTS, print_table  # bench/run.py: the same machine facts and table

from vosbench.analysis import reconcile
from vosbench.core import periods
from vosbench.ledger import archive, month_close, setup, tables, verification
from vosbench.outputs import archive_book
from vosbench.sources import demo


def _size(path: Path) -> int:
    return sum(Path(f"{path}{suffix}").stat().st_size for suffix in ("", "-wal") if Path(f"{path}{suffix}").exists())


def _figures(engine, months: list[str]) -> dict:
    return {month: reconcile.reconcile(engine, month).accounts[["account", *reconcile.MONEY_COLUMNS]]
            .astype(str).to_dict("records") for month in months}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--payments", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=5_000)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--keep", type=int, default=6, help="months kept in the ledger (the latest)")
    args = parser.parse_args()
    RESULTS.mkdir(parents=True, exist_ok=True)
    source = RESULTS / f"ledger-{args.payments}.sqlite"
    rows: list[tuple[str, str, str]] = []

    def timed(name: str, note: str, action):
        started = time.perf_counter()
        result = action()
        rows.append((name, f"{time.perf_counter() - started:.1f} s", note))
        return result

    if not source.exists():
        scale = demo.DemoScale(customers=args.customers, months=args.months,
                               payments_per_month=args.payments // args.months)
        timed("demo build", f"{args.payments:,} payments", lambda: demo.build_demo(f"sqlite:///{source}", scale))
    copy = RESULTS / f"{source.stem}-archive.sqlite"
    for leftover in RESULTS.glob(f"{copy.name}*"):
        leftover.unlink()
    shutil.copyfile(source, copy)
    folder = RESULTS / f"{source.stem}-archive"
    shutil.rmtree(folder, ignore_errors=True)
    engine = setup.open_ledger(f"sqlite:///{copy}")
    with engine.connect() as connection:
        months = sorted(connection.scalars(tables.account_months.select().with_only_columns(
            tables.account_months.c.month).distinct()))
        supervisors = connection.scalars(tables.operators.select().with_only_columns(tables.operators.c.login)
                                         .where(tables.operators.c.role == month_close.SUPERVISOR)).all()
        logins = connection.scalars(tables.operators.select().with_only_columns(tables.operators.c.login)).all()
    by = supervisors[0] if supervisors else "bench"
    second = next((login for login in logins if login != by), None)
    kept = months[-args.keep:]
    before = kept[0]
    now = datetime.now(UTC).replace(tzinfo=None)
    timed(f"close {months[0]}..{periods.shift_label(before, -1)}", "one close record per month",
          lambda: [month_close.close(engine, month, by=by, second=second, at=now)
                   for month in months if month < before])
    archive.compact(engine)
    size_before = _size(copy)
    figures_before = timed(f"reconcile the {len(kept)} kept months", "before", lambda: _figures(engine, kept))
    manifest = timed(f"archive write (before {before})", "Parquet + manifest",
                     lambda: archive.write(engine, before, folder, by=by))
    timed("people's workbook", "archive.xlsx (records only up to 200,000)",
          lambda: (archive_book.write(folder), archive.add_file(folder, archive_book.BOOK)))
    problems = timed("read-back", "files, counts, sums, every run re-hashed",
                     lambda: archive.verify_folder(folder))
    assert not problems, problems
    removed = timed("purge (one transaction; its own read-back first)", "",
                    lambda: archive.purge(engine, folder, by=by))
    timed("VACUUM", "space back to the disk", lambda: archive.compact(engine))
    figures_after = timed(f"reconcile the {len(kept)} kept months", "after", lambda: _figures(engine, kept))
    result = timed("verify (full, what remains)", "", lambda: verification.verify(engine))
    counts = ", ".join(f"{held['rows']:,} {name}" for name, held in manifest["tables"].items())
    rows += [
        ("archived", "", f"{len(manifest['months'])} months ({manifest['months'][0]}..{manifest['months'][-1]}): "
                         f"{counts}; {removed:,} rows purged"),
        ("ledger size", "", f"{size_before / 1e6:,.1f} MB before, {_size(copy) / 1e6:,.1f} MB after"),
        ("archive size", "", f"{archive.folder_size(folder) / 1e6:,.1f} MB ({folder.name})"),
        ("reconcile of the kept months", "", "the same before and after" if figures_after == figures_before
         else "DIFFERENT before and after"),
        ("verify after the purge", "", "ok" if result.ok else f"FAILED: {result.problems[:3]} {result.breaks[:3]}"),
    ]
    engine.dispose()
    print_table(rows, copy)
    return 0 if figures_after == figures_before and result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
