"""Many writers on one ledger: four processes import at once while another reads; nothing is lost.

Each writer appends its own payments in batches through the write door; a reader runs
reconciliations meanwhile. Afterwards every record is there once, the hash chain is
intact and the month totals agree with the raw rows (``verify``), on every dialect.
"""

from __future__ import annotations

import multiprocessing
import traceback
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from vosbench.analysis import reconcile
from vosbench.core.model import AccountKind, Channel, Kind, Method
from vosbench.ledger import database, setup, tables, verification
from vosbench.ledger.write_door import NewAccount, NewPayment, append_batch

WRITERS, PER_WRITER, BATCH = 4, 1_500, 250
ACCOUNTS = [NewAccount("R1", "Reseller", AccountKind.RESELLER, "", 0, "USD", "UTC"),
            *(NewAccount(f"C{n}", f"Customer {n}", AccountKind.CUSTOMER, "R1", 0, "USD", "UTC") for n in range(1, 9))]
START = datetime(2026, 8, 1)


def _payments(writer: int) -> list[NewPayment]:
    return [NewPayment(source_key=f"w{writer}-{n}", account=f"C{1 + (n + writer) % 8}", kind=Kind.DEPOSIT,
                       amount=(n % 97 + 1) * 10_000 + writer, occurred_at=START + timedelta(minutes=53 * n + writer),
                       operator=f"writer{writer}", channel=Channel.WEB, method=Method.CARD, reference=f"ref {n}")
            for n in range(PER_WRITER)]


def _write(url: str, writer: int, barrier, results) -> None:
    engine = database.make_engine(url)
    barrier.wait()
    try:
        rows = _payments(writer)
        for start in range(0, len(rows), BATCH):
            append_batch(engine, "payments", rows[start:start + BATCH], source="load", file=f"writer {writer}")
        results.put(("writer", writer, "ok"))
    except BaseException:  # noqa: BLE001  (reported to the test, which fails on it)
        results.put(("writer", writer, traceback.format_exc()))
    finally:
        engine.dispose()


def _read(url: str, barrier, results) -> None:
    engine = database.make_engine(url)
    barrier.wait()
    try:
        for _ in range(5):
            reconcile.reconcile(engine, "2026-09")
        results.put(("reader", 0, "ok"))
    except BaseException:  # noqa: BLE001
        results.put(("reader", 0, traceback.format_exc()))
    finally:
        engine.dispose()


@pytest.mark.slow
def test_four_writers_and_a_reader_lose_nothing(any_ledger_url):
    engine = setup.open_ledger(any_ledger_url, create=True)
    append_batch(engine, "accounts", ACCOUNTS, source="load", file="accounts")
    engine.dispose()
    context = multiprocessing.get_context("fork")
    barrier, results = context.Barrier(WRITERS + 1), context.Queue()
    workers = [context.Process(target=_write, args=(any_ledger_url, writer, barrier, results))
               for writer in range(WRITERS)]
    workers.append(context.Process(target=_read, args=(any_ledger_url, barrier, results)))
    for worker in workers:
        worker.start()
    outcomes = [results.get(timeout=600) for _ in workers]
    for worker in workers:
        worker.join(timeout=60)
    assert [outcome for outcome in outcomes if outcome[2] != "ok"] == []
    engine = database.make_engine(any_ledger_url)
    with engine.connect() as connection:
        keys = connection.scalars(sa.select(tables.payments.c.source_key)).all()
        total = connection.scalar(sa.select(sa.func.sum(tables.payments.c.amount)))
    expected = [row for writer in range(WRITERS) for row in _payments(writer)]
    assert sorted(keys) == sorted(row.source_key for row in expected)
    assert int(total) == sum(row.amount for row in expected)
    result = verification.verify(engine)
    assert result.ok, (result.breaks, result.total_mismatches)
    engine.dispose()
