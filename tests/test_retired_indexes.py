"""The indexes schema 11 retired: a new ledger never gets them, and an older ledger loses them when opened.

On every dialect (an SQLite file, then each server): the explore panel's operator index and the month
index of the month totals cost a tenth of a 1M-payment ledger's file and their upkeep at every append,
and the payment columns and rollups answer what they served (bench/optional_indexes.py).
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from ledger_text import ACCOUNTS, write_ledger_files

from vosbench.analysis import explore
from vosbench.analysis.filters import FilterError, PaymentFilter
from vosbench.ledger import database, manual_entry, setup, tables, verification
from vosbench.sources import csv_import

RETIRED = {name for names in tables.RETIRED_INDEXES.values() for name in names}
RETIRED_SQL = {"ix_payments_operator_time": ("payments", "operator, occurred_at, kind, amount"),
               "ix_account_months_month": ("account_months", "month")}
"""How schema 10 made them (tables.py at schema 10)."""


def _indexes(engine) -> set[str]:
    inspector = sa.inspect(engine)
    return {index["name"] for table in ("payments", "account_months") for index in inspector.get_indexes(table)}


def _ledger(url: str, tmp_path):
    engine = setup.open_ledger(url, create=True)
    csv_import.import_paths(engine, [write_ledger_files(tmp_path / "in", accounts=ACCOUNTS)], default_tz="UTC")
    manual_entry.record(engine, account="C1", kind="deposit", amount="25", operator="ann",
                        occurred_at=datetime(2026, 10, 3, tzinfo=UTC))
    return engine


def test_a_new_ledger_has_none_of_the_retired_indexes_and_keeps_the_explore_one(any_ledger_url, tmp_path):
    engine = _ledger(any_ledger_url, tmp_path)
    present = _indexes(engine)
    assert not RETIRED & present
    assert {"ix_payments_kind_amount", "ix_payments_time", "ix_payments_account_time"} <= present
    assert setup.missing_indexes(engine) == set() and verification.verify(engine).ok
    engine.dispose()


def test_a_ledger_of_schema_10_loses_them_when_opened_and_still_verifies_and_appends(any_ledger_url, tmp_path):
    engine = _ledger(any_ledger_url, tmp_path)
    with engine.begin() as connection:  # what schema 10 made
        for name, (table, columns) in RETIRED_SQL.items():
            connection.exec_driver_sql(f"CREATE INDEX {name} ON {table} ({columns})")
        database.set_meta(connection, "schema_version", "10")
    assert RETIRED <= _indexes(engine)
    engine.dispose()

    engine = setup.open_ledger(any_ledger_url)

    with engine.connect() as connection:
        assert database.get_meta(connection, "schema_version") == tables.SCHEMA_VERSION == "11"
    assert not RETIRED & _indexes(engine)
    assert verification.verify(engine).ok
    manual_entry.record(engine, account="C2", kind="deposit", amount="5", operator="bob",
                        occurred_at=datetime(2026, 10, 4, tzinfo=UTC))
    assert explore.operators(engine) == ["ann", "bob"]  # from the payment rollup's operators' months
    engine.dispose()


def test_the_operators_filter_check_reads_the_rollup_and_still_names_close_matches(tmp_path):
    engine = _ledger(f"sqlite:///{tmp_path / 'ledger.sqlite'}", tmp_path)
    with engine.connect() as connection:
        PaymentFilter(operators=("ann",)).check(connection)
        with pytest.raises(FilterError, match="operator 'anne' has recorded no payment in this ledger; did you mean ann[?]"):
            PaymentFilter(operators=("anne",)).check(connection)
