"""The write door's column-by-column check agrees with its row-by-row validation.

A bulk append (a sync's chunk) is checked column by column; only a batch that fails that
check goes through the row-by-row validation, which words every rejection. The check
must never pass a batch the rows would refuse, and must pass the clean batches (else
every bulk append pays for the slow path). Batches are drawn with every kind of defect
the rules know.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vosbench.core.model import AccountKind, Channel, Kind, Method
from vosbench.ledger import hashchain, setup, tables, write_door

ACCOUNTS = {"C1": AccountKind.CUSTOMER, "C2": AccountKind.CUSTOMER, "A1": AccountKind.AGENT}
SIGNED = {Kind.DEPOSIT: 1, Kind.BONUS: 1, Kind.WITHDRAWAL: -1, Kind.COMMISSION: 1, Kind.ADJUSTMENT: 1}
START = datetime(2026, 10, 1)
RECORDED = START + timedelta(days=91)
"""When the drawn batches are recorded: after every good payment's date."""
PRESENT = write_door.NewPayment("present", "C1", Kind.DEPOSIT, 500, START, "ops", Channel.ADMIN, Method.CASH)


@pytest.fixture(scope="module")
def ledger(tmp_path_factory):
    """Accounts C1, C2 (customers) and A1 (agent), and one payment of source "s" (key "present")."""
    engine = setup.open_ledger(f"sqlite:///{tmp_path_factory.mktemp('door') / 'ledger.sqlite'}", create=True,
                               timezone="UTC")
    write_door.append_batch(engine, "accounts", [
        write_door.NewAccount("A1", "A1", AccountKind.AGENT, "", 0, "USD", "UTC"),
        *(write_door.NewAccount(name, name, kind, "A1", 0, "USD", "UTC") for name, kind in ACCOUNTS.items()
          if kind is AccountKind.CUSTOMER)], source="s", file="accounts")
    write_door.append_batch(engine, "payments", [PRESENT], source="s", file="present")
    return engine


@st.composite
def good_payment(draw, index: int):
    kind = draw(st.sampled_from(sorted(SIGNED, key=str)))
    account = "A1" if kind is Kind.COMMISSION else draw(st.sampled_from(sorted(ACCOUNTS)))
    return write_door.NewPayment(f"k{index}", account, kind, SIGNED[kind] * draw(st.integers(1, 10**9)),
                              START + timedelta(minutes=draw(st.integers(0, 90 * 24 * 60))), "ops",
                              Channel.ADMIN, Method.CASH, reason=draw(st.sampled_from(["", "fixed"])), line=index)


DEFECTS = {
    "empty key": lambda row, rows: row._replace(source_key=""),
    "repeated key": lambda row, rows: row._replace(source_key=rows[0].source_key),
    "unknown account": lambda row, rows: row._replace(account="NOBODY"),
    "zero amount": lambda row, rows: row._replace(amount=0),
    "sign against kind": lambda row, rows: row._replace(kind=Kind.WITHDRAWAL, amount=abs(row.amount)),
    "commission to a customer": lambda row, rows: row._replace(kind=Kind.COMMISSION, account="C2",
                                                                 amount=abs(row.amount)),
    "adjustment without reason": lambda row, rows: row._replace(kind=Kind.ADJUSTMENT, reason=""),
    "key present, same values": lambda row, rows: PRESENT._replace(line=row.line),
    "key present, other values": lambda row, rows: PRESENT._replace(amount=PRESENT.amount + 1, line=row.line),
    "reversal": lambda row, rows: row._replace(kind=Kind.DEPOSIT, account="C1", amount=-PRESENT.amount,
                                               reverses="present", reason="typo"),
    "dated after it is recorded": lambda row, rows: row._replace(occurred_at=RECORDED + timedelta(minutes=6)),
    "dated before 1970": lambda row, rows: row._replace(occurred_at=datetime(1969, 12, 31, 23, 59)),
}


@st.composite
def batches(draw):
    rows = [draw(good_payment(index)) for index in range(1, draw(st.integers(1, 12)) + 1)]
    defects = draw(st.lists(st.tuples(st.sampled_from(sorted(DEFECTS)), st.integers(0, 11)), max_size=3))
    for name, where in defects:
        position = where % len(rows)
        rows[position] = DEFECTS[name](rows[position], rows)
    return rows, [name for name, _ in defects], draw(st.booleans())


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(drawn=batches())
def test_the_column_check_passes_exactly_what_the_rows_accept_whole(ledger, drawn):
    rows, defects, strict = drawn
    with ledger.connect() as connection:
        batch = write_door._Batch(connection, "batch.csv", "s", strict, RECORDED)
        columns = write_door.PaymentColumns.of(rows)
        existing = batch.fetch_by(tables.payments.c.source_key, columns.source_key,
                                  tables.payments.c.source == "s")
        fast = write_door._all_new_and_valid(batch, columns, existing)
        accepted, skipped = write_door._validate_payment_rows(batch, rows, existing)
    whole = not batch.rejections and skipped == 0 and len(accepted) == len(rows)
    if fast:  # never a batch the rows would refuse, skip or trim
        assert whole, (defects, batch.rejections)
    if not defects:  # and every clean batch, in strict mode too when adjustments have reasons
        reasons_given = all(row.reason for row in rows if row.kind is Kind.ADJUSTMENT)
        assert fast == (reasons_given or not strict)


def test_payments_as_columns_and_as_rows_make_the_same_ledger(tmp_path):
    """The sync hands the door columns, an import hands it rows: the chain ends the same."""
    rows = [write_door.NewPayment(f"k{n}", "C1" if n % 2 else "C2", Kind.DEPOSIT, 100 * n, START + timedelta(hours=n),
                               "ops", Channel.ADMIN, Method.CASH, line=n) for n in range(1, 30)]
    heads = []
    for form in (rows, write_door.PaymentColumns.of(rows)):
        engine = setup.open_ledger(f"sqlite:///{tmp_path / f'{type(form).__name__}.sqlite'}", create=True,
                                   timezone="UTC")
        write_door.append_batch(engine, "accounts", [write_door.NewAccount(name, name, AccountKind.CUSTOMER, "", 0, "USD",
                                                                     "UTC") for name in ("C1", "C2")],
                             source="s", file="accounts", recorded_at=START)
        result = write_door.append_batch(engine, "payments", form, source="s", file="p", recorded_at=RECORDED)
        assert result.added == len(rows) and result.ids == list(range(1, len(rows) + 1))
        with engine.connect() as connection:
            heads.append(hashchain.fingerprint(connection)["payments"])
            assert hashchain.verify_chain(connection, "payments") == []
    assert heads[0] == heads[1] and heads[0]["rows"] == len(rows)


def test_columns_must_be_one_per_payment_field():
    with pytest.raises(ValueError, match="PaymentColumns need 16 columns"):
        write_door.PaymentColumns([[], []])
