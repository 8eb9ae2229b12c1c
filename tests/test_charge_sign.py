"""A day's charges are never negative, whatever client writes them: the database refuses it as the write door does.

A modified client sending a call fee of -50,000.00 credited the account 50,000 with no second
person and no finding; plain SQL could do the same. Each figure is tried below zero on SQLite,
PostgreSQL and MariaDB; zero and more still pass.
"""

from __future__ import annotations

import re
from datetime import date

import pytest
import sqlalchemy as sa

from vosbench.core.model import AccountKind
from vosbench.ledger import guards, setup, tables
from vosbench.ledger.write_door import NewAccount, NewCharge, append_batch


def test_a_negative_fee_or_count_is_refused_by_the_database(any_ledger_url):
    engine = setup.open_ledger(any_ledger_url, create=True)
    append_batch(engine, "accounts", [NewAccount("C1", "Customer", AccountKind.CUSTOMER, "", 0, "USD", "UTC", line=2)],
                 source="test", file="accounts.csv")
    with engine.connect() as connection:
        account_id = connection.scalar(sa.select(tables.accounts.c.id))
    day = {"account_id": account_id, "day": date(2026, 10, 5), "call_fee": 0, "agent_fee": 0, "other_fee": 0,
           "calls": 0, "source": "psql", "batch_id": None, "hash": "0" * 64}
    for column in guards.CHARGE_COLUMNS:
        with pytest.raises(sa.exc.DBAPIError, match=re.escape(guards.CHARGE_REFUSAL)), engine.begin() as connection:
            connection.execute(tables.charges.insert().values(**{**day, column: -500_000_000}))
    append_batch(engine, "charges", [NewCharge("C1", date(2026, 10, 5), 50_000, 0, 0, 3)], source="test",
                 file="charges.csv")  # zero and more pass, through the door as ever
    with engine.connect() as connection:
        assert connection.execute(sa.select(tables.charges.c.call_fee, tables.charges.c.calls)).all() == [(50_000, 3)]
    engine.dispose()
