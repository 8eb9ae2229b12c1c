"""Many writers on one ledger: four `vosbench import` processes of 20,000 payments each while readers read.

Each writer is the real command importing its own CSV file (the bulk path of each
dialect: COPY on PostgreSQL, multi-row INSERT on MariaDB, one transaction per file), and
two readers reconcile and page through the journal until the writers are done.
Afterwards every record is there once, the hash chain is intact and the month totals
agree with the raw rows (``verify``), on every dialect.
"""

from __future__ import annotations

import csv
import multiprocessing
import sqlite3
import subprocess
import sys
import time
import traceback
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from vosbench.analysis import explore, reconcile
from vosbench.analysis.filters import PaymentFilter
from vosbench.ledger import database, setup, tables, verification
from vosbench.sources import csv_import

WRITERS, PER_WRITER, READERS = 4, 20_000, 2
CUSTOMERS = 8
START = datetime(2026, 8, 1)
VOSBENCH = Path(sys.executable).parent / "vosbench"


def _payments(writer: int) -> list[dict]:
    return [{"source_key": f"w{writer}-{n}", "account": f"C{1 + (n + writer) % CUSTOMERS}", "kind": "deposit",
             "amount": f"{n % 97 + 1}.{writer:04d}",
             "occurred_at": (START + timedelta(seconds=307 * n + writer)).isoformat() + "Z",
             "operator": f"writer{writer}", "channel": "web", "method": "card", "reference": f"ref {n}"}
            for n in range(PER_WRITER)]


def _write_file(folder: Path, writer: int) -> Path:
    path = folder / f"writer{writer}" / "payments.csv"
    path.parent.mkdir(parents=True)
    rows = _payments(writer)
    with path.open("w", newline="", encoding="utf-8") as handle:
        out = csv.DictWriter(handle, fieldnames=list(rows[0]))
        out.writeheader()
        out.writerows(rows)
    return path


def _read(url: str, reader: int, done, results) -> None:
    """Reconcile a month and page through the journal, again and again, until the writers are done."""
    engine = database.make_engine(url)
    rounds = 0
    try:
        while not done.is_set() or rounds == 0:
            if reader % 2:
                explore.query_page(engine, PaymentFilter(), page_size=50)
            else:
                reconcile.reconcile(engine, "2026-09")
            rounds += 1
        results.put(("reader", reader, "ok"))
    except BaseException:  # noqa: BLE001  (reported to the test, which fails on it)
        results.put(("reader", reader, traceback.format_exc()))
    finally:
        engine.dispose()


@pytest.mark.slow
def test_four_importers_and_two_readers_lose_nothing(any_ledger_url, tmp_path):
    accounts = tmp_path / "accounts"
    accounts.mkdir()
    (accounts / "accounts.csv").write_text(
        "account,name,kind,parent\nR1,Reseller,reseller,\n"
        + "".join(f"C{n},Customer {n},customer,R1\n" for n in range(1, CUSTOMERS + 1)), encoding="utf-8")
    engine = setup.open_ledger(any_ledger_url, create=True)
    csv_import.import_paths(engine, [accounts], default_tz="UTC")
    engine.dispose()
    files = [_write_file(tmp_path, writer) for writer in range(WRITERS)]

    context = multiprocessing.get_context("fork")
    done, results = context.Event(), context.Queue()
    readers = [context.Process(target=_read, args=(any_ledger_url, reader, done, results)) for reader in range(READERS)]
    for reader in readers:
        reader.start()
    writers = [subprocess.Popen([str(VOSBENCH), "import", "--db", any_ledger_url, str(path)],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) for path in files]
    outputs = [writer.communicate(timeout=900)[0] for writer in writers]
    done.set()
    outcomes = [results.get(timeout=300) for _ in readers]
    for reader in readers:
        reader.join(timeout=60)
    assert [writer.returncode for writer in writers] == [0] * WRITERS, outputs
    assert all(f"{PER_WRITER} added, 0 already present" in output for output in outputs), outputs
    assert [outcome for outcome in outcomes if outcome[2] != "ok"] == []

    engine = database.make_engine(any_ledger_url)
    with engine.connect() as connection:
        keys = connection.scalars(sa.select(tables.payments.c.source_key)).all()
        total = connection.scalar(sa.select(sa.func.sum(tables.payments.c.amount)))
        batches = connection.scalar(sa.select(sa.func.count()).select_from(tables.import_batches)
                                    .where(tables.import_batches.c.content == "payments"))
    expected = [row for writer in range(WRITERS) for row in _payments(writer)]
    assert len(keys) == len(set(keys)) == WRITERS * PER_WRITER
    assert set(keys) == {row["source_key"] for row in expected}
    assert int(total) == sum(int(row["amount"].replace(".", "")) for row in expected)  # 4 places: minor units
    assert batches == WRITERS  # one all-or-nothing transaction per file
    result = verification.verify(engine)
    assert result.ok, (result.breaks, result.total_mismatches, result.problems)
    engine.dispose()


def test_two_importers_opening_look_alike_accounts_at_once_leave_one(tmp_path):
    """The look-alike check reads the accounts under the write lock: a rival committed meanwhile is seen."""
    url = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    setup.open_ledger(url, create=True, timezone="UTC")
    for attempt in range(3):
        files = []
        for number in (f"ZX{attempt}", f"zx{attempt}"):  # the same number to a reader, in two files
            folder = tmp_path / f"{number}-{attempt}"
            folder.mkdir()
            (folder / "accounts.csv").write_text(f"account,name,kind,parent\n{number},Race,customer,\n",
                                                 encoding="utf-8")
            files.append(folder / "accounts.csv")
        holder = sqlite3.connect(tmp_path / "ledger.sqlite")
        holder.execute("BEGIN IMMEDIATE")  # a third writer holds the lock until both importers are waiting on it
        racers = [subprocess.Popen([str(VOSBENCH), "import", "--db", url, str(path)], stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True) for path in files]
        time.sleep(4)
        holder.rollback()
        holder.close()
        outcomes = sorted(racer.wait() for racer in racers)
        assert outcomes == [0, 2]  # one opened, the other refused as its look-alike
        assert "reads as the existing account" in "".join(racer.stderr.read() for racer in racers)
    with database.make_engine(url).connect() as connection:
        opened = connection.scalars(sa.select(tables.accounts.c.account)).all()
    assert sorted(number.upper() for number in opened) == ["ZX0", "ZX1", "ZX2"]
