"""Benchmarks: build a large demo ledger, reconcile a month, run the audit end to end.

    .venv/bin/python bench/run.py [--payments 1000000] [--customers 20000] [--reuse]

Prints a table with the machine's cores, memory and CPU. The ledger is kept in
bench/results/ (git-ignored); --reuse skips the build when it is already there.
"""

from __future__ import annotations

import argparse
import os
import platform
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

from vosbench import __version__
from vosbench.analysis import reconcile
from vosbench.core.model import AccountKind, Channel, Kind, Method
from vosbench.ledger import setup, tables, write_door
from vosbench.outputs import report
from vosbench.sources import demo

RESULTS = Path(__file__).resolve().parent / "results"


def machine() -> dict[str, str]:
    meminfo = Path("/proc/meminfo").read_text().splitlines() if Path("/proc/meminfo").exists() else []
    total_kib = next((int(line.split()[1]) for line in meminfo if line.startswith("MemTotal")), 0)
    cpuinfo = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    model = next((line.split(":", 1)[1].strip() for line in cpuinfo.splitlines()
                  if line.startswith("model name")), platform.processor() or "unknown")
    return {"cores": str(os.cpu_count()), "memory": f"{total_kib / 1024 / 1024:.1f} GiB", "cpu": model,
            "python": platform.python_version(), "sqlite": sqlite3.sqlite_version, "vosbench": __version__}


def timed(action) -> tuple[float, object]:
    started = time.perf_counter()
    result = action()
    return time.perf_counter() - started, result


def reimport(engine) -> list[tuple[str, str, str]]:
    """Time the write door alone: the ledger's payments and charges appended again into a
    fresh ledger with the same accounts (validation, hashing, month totals), twice: in
    batches of 50k records (payments first, then charges back-filling every month) and
    one batch per file, as `vosbench import` appends a payments.csv and a charges.csv."""
    accounts = [write_door.NewAccount(r.account, r.name, AccountKind(r.kind), r.parent or "", r.credit_limit,
                                   r.currency, r.timezone)
                for r in _read(engine, "SELECT a.account, a.name, a.kind, p.account AS parent, a.credit_limit, "
                                       "a.currency, a.timezone FROM accounts a LEFT JOIN accounts p "
                                       "ON p.id = a.parent_id ORDER BY a.id")]
    payments = [write_door.NewPayment(r.source_key, r.account, Kind(r.kind), r.amount, r.occurred_at, r.operator,
                                   Channel(r.channel), Method(r.method), r.reference, r.memo, r.reason,
                                   r.balance_after, reverses=r.reverses or "", approved_by=r.approved_by)
                for r in _read(engine, "SELECT p.*, a.account, o.source_key AS reverses FROM payments p "
                                       "JOIN accounts a ON a.id = p.account_id "
                                       "LEFT JOIN payments o ON o.id = p.reverses_id ORDER BY p.id")]
    charges = [write_door.NewCharge(r.account, r.day, r.call_fee, r.agent_fee, r.other_fee, r.calls)
               for r in _read(engine, "SELECT c.*, a.account FROM charges c JOIN accounts a "
                                      "ON a.id = c.account_id ORDER BY c.id")]
    rows = []
    for batch_size, how in ((50_000, "batches of 50k"), (None, "one batch per file")):
        with tempfile.TemporaryDirectory() as folder:
            target = setup.open_ledger(f"sqlite:///{folder}/reimport.sqlite", create=True, timezone="Asia/Dubai")
            write_door.append_batch(target, "accounts", accounts, source="bench", file="accounts")
            seconds = {}
            for content, records in (("payments", payments), ("charges", charges)):
                size = batch_size or len(records)
                started = time.perf_counter()
                for start in range(0, len(records), size):
                    write_door.append_batch(target, content, records[start:start + size], source="bench",
                                         file=f"{content}-{start}")
                seconds[content] = time.perf_counter() - started
        total = sum(seconds.values())
        rows.append((f"import through the write door, {how}", f"{total:.1f} s",
                     f"{len(payments) / seconds['payments']:,.0f} payments/s, "
                     f"{len(charges) / seconds['charges']:,.0f} charge rows/s, "
                     f"{(len(payments) + len(charges)) / total:,.0f} records/s overall; target ≥ 50k records/s"))
    return rows


def _read(engine, sql: str):
    with engine.connect() as connection:
        return connection.execute(sa.text(sql).columns(occurred_at=sa.DateTime(), day=sa.Date())).all()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--payments", type=int, default=1_000_000, help="payment records in the ledger")
    parser.add_argument("--customers", type=int, default=5_000)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--month", default="2026-10", help="month to reconcile and audit")
    parser.add_argument("--reuse", action="store_true", help="reuse an existing ledger of this size")
    args = parser.parse_args()

    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"ledger-{args.payments}.sqlite"
    url = f"sqlite:///{path}"
    rows: list[tuple[str, str, str]] = []
    if not (args.reuse and path.exists()):
        for leftover in RESULTS.glob(f"{path.name}*"):
            leftover.unlink()
        scale = demo.DemoScale(customers=args.customers, months=args.months,
                               payments_per_month=args.payments // args.months)
        seconds, _ = timed(lambda: demo.build_demo(url, scale, progress=True))
        engine = setup.open_ledger(url)
        with engine.connect() as connection:
            payments = connection.scalar(sa.select(sa.func.count()).select_from(tables.payments))
            charges = connection.scalar(sa.select(sa.func.count()).select_from(tables.charges))
        rows.append(("demo build (simulation + import)", f"{seconds:.1f} s",
                     f"{payments / seconds:,.0f} payment records/s ({payments:,} payments, "
                     f"{charges:,} charge rows; {(payments + charges) / seconds:,.0f} rows/s)"))
    engine = setup.open_ledger(url)
    rows.extend(reimport(engine))

    samples = [timed(lambda: reconcile.reconcile(engine, args.month))[0] for _ in range(5)]
    accounts = len(reconcile.reconcile(engine, args.month).accounts)
    rows.append((f"reconcile {args.month} (median of 5)", f"{statistics.median(samples) * 1000:.0f} ms",
                 f"{accounts:,} accounts; target < 1 s"))

    with tempfile.TemporaryDirectory() as out:
        seconds, _ = timed(lambda: report.run_audit(args.month, out_dir=Path(out), db_url=url, progress=False))
    rows.append((f"vosbench audit {args.month} end to end", f"{seconds:.1f} s", "target < 60 s"))

    print_table(rows, path)
    return 0


def print_table(rows: list[tuple[str, str, str]], ledger: Path, heading: str = "measure") -> None:
    """The machine's facts, the ledger benchmarked, then one line per measure."""
    print()
    for key, value in machine().items():
        print(f"{key:>10}: {value}")
    print(f"{'ledger':>10}: {ledger} ({ledger.stat().st_size / 1e6:,.0f} MB)\n")
    width = max(len(heading), *(len(r[0]) for r in rows))
    print(f"{heading:<{width}}  {'time':>10}  notes")
    print(f"{'-' * width}  {'-' * 10}  {'-' * 40}")
    for name, value, note in rows:
        print(f"{name:<{width}}  {value:>10}  {note}")


if __name__ == "__main__":
    sys.exit(main())
