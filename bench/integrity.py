"""Benchmark: what checking a ledger costs — full verification, verification from an anchor, close, evidence pack.

    .venv/bin/python bench/integrity.py [--source bench/results/ledger-1000000.sqlite] [--month 2026-10]
                                        [--append 10000]

The source ledger (built by bench/run.py or `vosbench demo`) is copied and never changed.
On the copy: a full `verify` (every chain and month total recomputed), closing the month
before the last (its receipt is the anchor; the months before it are closed first, untimed), appending ``--append`` payments after it,
`verify --since-anchor` (only what came after the anchor), and the month's evidence pack
written and checked offline. Full verification grows with the history; verification from
the anchor with what was appended since.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from run import RESULTS, print_table  # bench/run.py: the same machine facts and table

from vosbench.core import periods
from vosbench.ledger import anchor, database, month_close, readonly, setup, verification
from vosbench.ledger.write_door import NewPayment, append_batch
from vosbench.outputs import evidence

KEY = b"bench-checkpoint-key-0123456789abcdef"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=RESULTS / "ledger-1000000.sqlite",
                        help="a demo ledger (read, never changed)")
    parser.add_argument("--month", default=None, help="the month to close (default: the one before the last)")
    parser.add_argument("--append", type=int, default=10_000, help="payments appended after the close")
    args = parser.parse_args()
    if not args.source.is_file():
        print(f"no ledger at {args.source}; build it with `.venv/bin/python bench/run.py` or give --source",
              file=sys.stderr)
        return 2
    RESULTS.mkdir(parents=True, exist_ok=True)
    copy = RESULTS / f"{args.source.stem}-integrity.sqlite"
    for leftover in (copy, Path(f"{copy}-wal"), Path(f"{copy}-shm")):
        leftover.unlink(missing_ok=True)
    shutil.copyfile(args.source, copy)
    url, rows = f"sqlite:///{copy}", []

    def timed(name: str, note: str, action):
        started = time.perf_counter()
        result = action()
        rows.append((name, f"{time.perf_counter() - started:.1f} s", note))
        return result

    engine = timed("open (upgrade to row chains)", "a ledger of an earlier schema is guarded and linked",
                   lambda: setup.open_ledger(url))
    with engine.connect() as connection:
        last = connection.exec_driver_sql("SELECT max(month) FROM account_months").scalar()
        zone = database.ledger_timezone(connection)
        payments = connection.exec_driver_sql("SELECT count(*) FROM payments").scalar()
        # the demo registers operators, so a supervisor closes and another operator confirms
        logins = connection.exec_driver_sql("SELECT login FROM operators ORDER BY role = 'supervisor' DESC, login")
        people = [login for (login,) in logins] or ["bench", "bench-second"]
    month = args.month or periods.previous(periods.month(last, zone)).label
    checker = readonly.open_read_only(url)
    full = timed("verify (full)", f"{payments:,} payments: every chain and month total",
                 lambda: verification.verify(checker))
    with engine.connect() as connection:  # months close in order: the ones before it first, not timed
        earlier = list(connection.exec_driver_sql(
            "SELECT DISTINCT month FROM account_months WHERE month < ? ORDER BY month", (month,)).scalars())
    for label in earlier:
        month_close.close(engine, label, by=people[0], second=people[-1], key=KEY)
    event = timed(f"close {month}", "heads and per-account closings",
                  lambda: month_close.close(engine, month, by=people[0], second=people[-1], key=KEY,
                                            at=datetime.now(UTC).replace(tzinfo=None)))
    receipt = RESULTS / f"close-{month}.json"
    receipt.write_text(anchor.canonical(event.receipt))
    start = periods.month(last, zone).start
    account = engine.connect().exec_driver_sql("SELECT account FROM accounts WHERE kind = 'customer' LIMIT 1").scalar()
    fresh = [NewPayment(source_key=f"bench-{n}", account=account, kind="deposit", amount=10_000,
                        occurred_at=start + timedelta(seconds=n), operator="bench", channel="admin", method="cash")
             for n in range(args.append)]
    timed(f"append {args.append:,} payments", "after the close", lambda: append_batch(
        engine, "payments", fresh, source="bench", file="bench"))
    since = timed("verify --since-anchor", f"only the {args.append:,} appended since the receipt",
                  lambda: verification.verify(checker, anchor=anchor.load(receipt), key=KEY, from_anchor=True))
    pack = RESULTS / f"evidence-{month}.zip"
    timed(f"evidence pack of {month}", "records, accounts, receipt, manifest",
          lambda: evidence.write(engine, month, pack, key=KEY))
    check = timed("evidence verify (offline)", f"{pack.stat().st_size / 1e6:,.1f} MB pack",
                  lambda: evidence.verify(pack, key=KEY))
    engine.dispose()
    checker.dispose()
    print_table(rows, copy)
    print(f"\nfull verify ok: {full.ok}; from the anchor ok: {since.ok}; pack ok: {check.ok}")
    return 0 if full.ok and since.ok and check.ok else 1


if __name__ == "__main__":
    sys.exit(main())
