"""Benchmark: payment imports through the write door on SQLite, PostgreSQL and MariaDB, one and several writers.

    .venv/bin/python bench/servers.py [--records 20000] [--writers 4] [--batch 5000]

Starts a private PostgreSQL and MariaDB (as the tests do) beside an SQLite file, gives
each a ledger with a few accounts, then times (1) one process appending ``--records``
payments in batches of ``--batch`` and (2) ``--writers`` processes appending as many each
at the same moment (they queue on the chain head: one hash chain per table). Each
ledger is verified afterwards. Prints the machine's specs and records/s per dialect.
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import machine  # noqa: E402  (the same machine facts as the other benchmarks)

from vosbench.core.model import AccountKind, Channel, Kind, Method  # noqa: E402
from vosbench.core.sandbox import LocalMariaDB, LocalPostgreSQL  # noqa: E402
from vosbench.ledger import database, setup, verification  # noqa: E402
from vosbench.ledger.write_door import NewAccount, NewPayment, append_batch  # noqa: E402

CUSTOMERS = 200
START = datetime(2026, 1, 1)


def _accounts() -> list[NewAccount]:
    return [NewAccount("R1", "Reseller", AccountKind.RESELLER, "", 0, "USD", "UTC"),
            *(NewAccount(f"C{n:04d}", f"Customer {n}", AccountKind.CUSTOMER, "R1", 0, "USD", "UTC")
              for n in range(CUSTOMERS))]


def _payments(tag: str, count: int) -> list[NewPayment]:
    return [NewPayment(source_key=f"{tag}-{n}", account=f"C{n % CUSTOMERS:04d}", kind=Kind.DEPOSIT,
                       amount=(n % 991 + 1) * 1_000, occurred_at=START + timedelta(seconds=97 * n),
                       operator="bench", channel=Channel.WEB, method=Method.CARD, reference=f"{tag} {n}")
            for n in range(count)]


def _append(url: str, tag: str, count: int, batch: int, barrier=None) -> None:
    rows = _payments(tag, count)
    engine = database.make_engine(url)
    if barrier is not None:
        barrier.wait()
    for start in range(0, count, batch):
        append_batch(engine, "payments", rows[start:start + batch], source="bench", file=tag)
    engine.dispose()


def measure(url: str, records: int, writers: int, batch: int) -> tuple[float, float, bool]:
    """(records/s of one writer, records/s of all writers together, verify ok)."""
    engine = setup.open_ledger(url, create=True)
    append_batch(engine, "accounts", _accounts(), source="bench", file="accounts")
    engine.dispose()
    started = time.perf_counter()
    _append(url, "single", records, batch)
    single = records / (time.perf_counter() - started)
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(writers + 1)
    processes = [context.Process(target=_append, args=(url, f"w{n}", records, batch, barrier)) for n in range(writers)]
    for process in processes:
        process.start()
    barrier.wait()
    started = time.perf_counter()
    for process in processes:
        process.join()
    together = writers * records / (time.perf_counter() - started)
    engine = database.make_engine(url)
    ok = verification.verify(engine).ok and all(process.exitcode == 0 for process in processes)
    engine.dispose()
    return single, together, ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=20_000, help="payments per writer")
    parser.add_argument("--writers", type=int, default=4)
    parser.add_argument("--batch", type=int, default=5_000, help="payments per append (one transaction)")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as folder, LocalPostgreSQL() as postgresql, LocalMariaDB() as mariadb:
        urls = {"SQLite": f"sqlite:///{Path(folder) / 'ledger.sqlite'}",
                "PostgreSQL": postgresql.create_database("bench"), "MariaDB": mariadb.create_database("bench")}
        for name, url in urls.items():
            single, together, ok = measure(url, args.records, args.writers, args.batch)
            rows.append((name, f"{single:,.0f}", f"{together:,.0f}", "yes" if ok else "NO"))
            print(f"{name}: done", file=sys.stderr)
    print(" ".join(f"{key} {value};" for key, value in machine().items()))
    header = ("dialect", "1 writer rec/s", f"{args.writers} writers rec/s", "verify ok")
    print(f"{args.records:,} payments per writer, batches of {args.batch:,}")
    print(" | ".join(header))
    for row in rows:
        print(" | ".join(row))


if __name__ == "__main__":
    main()
