"""The write door: sign rules, reversals, append-only storage, the hash chain, month totals."""

import sqlite3
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from ledger_text import ACCOUNTS, ledger_from_text

from vosbench.ledger import database, guards, manual_entry, setup, tables, verification

AT = datetime(2026, 10, 5, 9, 30, tzinfo=UTC)


@pytest.fixture
def engine(tmp_path):
    return ledger_from_text(tmp_path, accounts=ACCOUNTS)


def payment_count(engine) -> int:
    with engine.connect() as connection:
        return connection.scalar(sa.select(sa.func.count()).select_from(tables.payments))


def test_record_appends_exact_amount_and_chains_it(engine):
    payment_id = manual_entry.record(engine, account="C1", kind="deposit", amount="100.1234", occurred_at=AT,
                               operator="alice", channel="admin", method="bank_wire", reference="BR-1")
    with engine.connect() as connection:
        row = connection.execute(sa.select(tables.payments).where(tables.payments.c.id == payment_id)).one()
    assert (row.amount, row.kind, row.reference) == (1001234, "deposit", "BR-1")
    assert row.occurred_at == datetime(2026, 10, 5, 9, 30)
    assert verification.verify(engine).ok


@pytest.mark.parametrize("fields, message", [
    (dict(account="NOPE", kind="deposit", amount="1"), "account 'NOPE' is unknown"),
    (dict(account="C1", kind="deposit", amount="0"), "amount is zero"),
    (dict(account="C1", kind="deposit", amount="-5"), "deposit amount must be positive"),
    (dict(account="C1", kind="withdrawal", amount="5"), "withdrawal amount must be negative"),
    (dict(account="C1", kind="bonus", amount="-5"), "bonus amount must be positive"),
    (dict(account="C1", kind="auto_recharge", amount="-5"), "auto_recharge amount must be positive"),
    (dict(account="C1", kind="adjustment", amount="-5"), "adjustment needs a reason"),
    (dict(account="C1", kind="commission", amount="5"), "commission is paid to agent or reseller"),
    (dict(account="C1", kind="gift", amount="5"), "kind: unknown value 'gift'"),
    (dict(account="C1", kind="deposit", amount="5", channel="fax"), "channel: unknown value 'fax'"),
    (dict(account="C1", kind="deposit", amount="1.23456"), "more than 4 decimal places"),
    (dict(account="C1", kind="deposit", amount="5", operator=" "), "operator is required"),
])
def test_bad_entries_are_refused_and_nothing_is_written(engine, fields, message):
    entry = {"operator": "alice", "occurred_at": AT, **fields}
    with pytest.raises(manual_entry.LedgerError, match=message):
        manual_entry.record(engine, **entry)
    assert payment_count(engine) == 0


def test_naive_time_is_refused(engine):
    with pytest.raises(manual_entry.LedgerError, match="no time zone"):
        manual_entry.record(engine, account="C1", kind="deposit", amount="5", operator="a",
                      occurred_at=datetime(2026, 10, 5))


def test_adjustment_with_reason_may_take_either_sign(engine):
    for amount in ("-2.50", "7.00"):
        manual_entry.record(engine, account="C1", kind="adjustment", amount=amount, occurred_at=AT,
                      operator="alice", reason="rating error on ticket T-17")
    assert payment_count(engine) == 2


def test_commission_goes_to_agents_and_resellers(engine):
    manual_entry.record(engine, account="A1", kind="commission", amount="12.00", occurred_at=AT, operator="sys",
                  channel="automatic")
    manual_entry.record(engine, account="R1", kind="commission", amount="3.00", occurred_at=AT, operator="sys",
                  channel="automatic")
    assert payment_count(engine) == 2


def test_reverse_offsets_exactly_once(engine):
    original = manual_entry.record(engine, account="C1", kind="deposit", amount="40.0001", occurred_at=AT,
                             operator="alice", method="cash")
    reversal = manual_entry.reverse(engine, original, reason="cheque bounced", operator="bob", occurred_at=AT)
    with engine.connect() as connection:
        row = connection.execute(sa.select(tables.payments).where(tables.payments.c.id == reversal)).one()
        month = connection.execute(sa.select(tables.account_months)).one()
    assert (row.amount, row.reverses_id, row.kind, row.reason) == (-400001, original, "deposit", "cheque bounced")
    assert (month.deposit, month.closing, month.payment_count) == (0, 0, 2)
    with pytest.raises(manual_entry.LedgerError, match="already reversed"):
        manual_entry.reverse(engine, original, reason="again", operator="bob")
    with pytest.raises(manual_entry.LedgerError, match="needs a reason"):
        manual_entry.reverse(engine, reversal, reason="", operator="bob")
    with pytest.raises(manual_entry.LedgerError, match="payment 999 does not exist"):
        manual_entry.reverse(engine, 999, reason="x", operator="bob")


def test_a_reversal_can_itself_be_reversed(engine):
    original = manual_entry.record(engine, account="C1", kind="deposit", amount="10", occurred_at=AT, operator="a")
    reversal = manual_entry.reverse(engine, original, reason="mistake", operator="b", occurred_at=AT)
    manual_entry.reverse(engine, reversal, reason="reversed in error", operator="c", occurred_at=AT)
    with engine.connect() as connection:
        assert connection.scalar(sa.select(tables.account_months.c.closing)) == 100000


@pytest.mark.parametrize("statement", [
    "UPDATE payments SET amount = 1",
    "DELETE FROM payments",
    "INSERT OR REPLACE INTO payments SELECT * FROM payments WHERE id = 1",
    "UPDATE charges SET call_fee = 0",
    "DELETE FROM balance_snapshots",
])
def test_database_refuses_edits_to_the_journal(tmp_path, statement):
    engine = ledger_from_text(tmp_path, accounts=ACCOUNTS, payments="""
        source_key,account,kind,amount,occurred_at,operator,channel,method
        k1,C1,deposit,10.00,2026-10-01T00:00:00Z,alice,admin,cash
    """, charges="""
        account,day,call_fee,agent_fee,other_fee,calls
        C1,2026-10-01,1.00,0,0,3
    """, balances="""
        account,as_of,balance
        C1,2026-10-02T00:00:00Z,9.00
    """)
    with engine.connect() as connection:
        with pytest.raises(sa.exc.IntegrityError, match="append-only"):
            connection.exec_driver_sql(statement)
    assert verification.verify(engine).ok


def _tamper(engine, statement: str) -> None:
    """Edit a row behind the guards' back: drop the trigger, change, restore."""
    with engine.begin() as connection:
        connection.exec_driver_sql("DROP TRIGGER payments_no_update")
        connection.exec_driver_sql("DROP TRIGGER payments_no_delete")
        connection.exec_driver_sql(statement)
        for ddl in guards.append_only_ddl("sqlite"):
            connection.exec_driver_sql(ddl)


def test_verify_names_the_first_edited_record(engine):
    ids = [manual_entry.record(engine, account="C1", kind="deposit", amount=str(n), occurred_at=AT, operator="a")
           for n in (1, 2, 3, 4)]
    assert verification.verify(engine).ok
    _tamper(engine, f"UPDATE payments SET amount = 999 WHERE id = {ids[1]}")
    result = verification.verify(engine)
    assert not result.ok
    assert result.breaks[0].row_id == ids[1]
    assert "changed after it was recorded" in result.breaks[0].message
    assert any("C1" in mismatch for mismatch in result.total_mismatches)


def test_verify_notices_a_deleted_record(engine):
    for n in (1, 2, 3):
        manual_entry.record(engine, account="C1", kind="deposit", amount=str(n), occurred_at=AT, operator="a")
    _tamper(engine, "DELETE FROM payments WHERE id = 3")
    result = verification.verify(engine)
    assert [b.row_id for b in result.breaks] == [3]  # named by the last id the chain head recorded
    assert "the last 1 rows were removed (through id 3)" in result.breaks[0].message


def test_month_totals_follow_the_ledger_time_zone(tmp_path):
    # 2026-09-30T21:00Z is 2026-10-01 01:00 in Dubai (UTC+4): an October record there.
    engine = ledger_from_text(tmp_path, timezone="Asia/Dubai", accounts=ACCOUNTS, payments="""
        source_key,account,kind,amount,occurred_at,operator,channel,method
        k1,C1,deposit,10.00,2026-09-30T19:59:59Z,alice,admin,cash
        k2,C1,deposit,5.00,2026-09-30T21:00:00Z,alice,admin,cash
    """)
    with engine.connect() as connection:
        months = connection.execute(sa.select(tables.account_months.c.month, tables.account_months.c.deposit,
                                              tables.account_months.c.closing)
                                    .order_by(tables.account_months.c.month)).all()
    assert months == [("2026-09", 100000, 100000), ("2026-10", 50000, 150000)]


def test_backdated_record_updates_later_closings(engine):
    manual_entry.record(engine, account="C1", kind="deposit", amount="10", operator="a",
                  occurred_at=datetime(2026, 10, 1, tzinfo=UTC))
    manual_entry.record(engine, account="C1", kind="deposit", amount="1", operator="a",
                  occurred_at=datetime(2026, 8, 1, tzinfo=UTC))
    with engine.connect() as connection:
        closings = connection.execute(sa.select(tables.account_months.c.month, tables.account_months.c.closing)
                                      .order_by(tables.account_months.c.month)).all()
    assert closings == [("2026-08", 10000), ("2026-10", 110000)]
    assert verification.verify(engine).ok


def test_verify_detects_month_totals_that_drift_from_raw_rows(engine):
    manual_entry.record(engine, account="C1", kind="deposit", amount="10", occurred_at=AT, operator="a")
    with engine.begin() as connection:
        connection.execute(tables.account_months.update().values(deposit=1))
    result = verification.verify(engine)
    assert result.breaks == []
    assert len(result.total_mismatches) == 1 and "C1" in result.total_mismatches[0]


def test_non_sqlite_dialects_are_refused_until_guarded():
    with pytest.raises(database.StoreError, match="not implemented for .oracle."):
        guards.append_only_ddl("oracle")


def test_unknown_ledger_and_bad_urls_say_what_to_do(tmp_path):
    with pytest.raises(database.StoreError, match="vosbench demo"):
        setup.open_ledger(f"sqlite:///{tmp_path / 'none.sqlite'}")
    with pytest.raises(database.StoreError, match="not a database URL"):
        setup.open_ledger("not a url")
    with pytest.raises(database.StoreError, match="time zone 'Mars/Base'"):
        setup.open_ledger(f"sqlite:///{tmp_path / 'tz.sqlite'}", create=True, timezone="Mars/Base")


def test_a_ledger_from_an_earlier_version_gains_the_newer_tables_and_guards(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    older = [table for table in tables.metadata.sorted_tables if table.name != "balance_snapshots"]
    with database.make_engine(url).begin() as connection:
        tables.metadata.create_all(connection, tables=older)
        connection.execute(tables.ledger_meta.insert().values(key="timezone", value="Asia/Dubai"))

    engine = setup.open_ledger(url)

    assert setup.missing_tables(engine) == set()
    with engine.connect() as connection:
        assert database.ledger_timezone(connection) == "Asia/Dubai"
        triggers = set(connection.scalars(sa.text("SELECT name FROM sqlite_master WHERE type = 'trigger'")))
    assert {"balance_snapshots_no_update", "balance_snapshots_no_delete"} <= triggers


def test_deferred_indexes_are_built_again_however_the_bulk_append_ends(engine):
    deferred = {index.name for index in tables.payments.indexes}
    with database.indexes_deferred(engine, tables.payments, defer=True):
        assert setup.missing_indexes(engine) == deferred
        manual_entry.record(engine, account="C1", kind="deposit", amount="10", occurred_at=AT, operator="a")
    assert setup.missing_indexes(engine) == set()
    with pytest.raises(RuntimeError), database.indexes_deferred(engine, tables.payments, defer=True):
        raise RuntimeError("the sync failed")
    assert setup.missing_indexes(engine) == set()
    with database.indexes_deferred(engine, tables.payments, defer=False):
        assert setup.missing_indexes(engine) == set()
    # a process killed inside the block leaves them out: the next open builds them
    with engine.begin() as connection:
        connection.exec_driver_sql("DROP INDEX ix_payments_kind_amount")
    assert setup.missing_indexes(engine) == {"ix_payments_kind_amount"}
    assert setup.missing_indexes(setup.open_ledger(str(engine.url))) == set()
    assert payment_count(engine) == 1 and verification.verify(engine).ok


def test_deferred_indexes_are_sorted_in_a_smaller_page_cache_which_connections_get_back(engine):
    """SQLite's sorter keeps runs as large as the page cache: the build of a 2M-payment table's indexes held
    520 MiB beside the cache itself."""
    caches = []

    @sa.event.listens_for(engine, "before_cursor_execute")
    def note(connection, cursor, statement, parameters, context, executemany):
        if statement.startswith("CREATE INDEX"):
            caches.append(connection.exec_driver_sql("PRAGMA cache_size").scalar())

    with database.indexes_deferred(engine, tables.payments, defer=True):
        pass
    sa.event.remove(engine, "before_cursor_execute", note)
    assert set(caches) == {database.SORTING_CACHE_SIZE} and len(caches) == len(tables.payments.indexes)
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA cache_size").scalar() == database.CACHE_SIZE


def test_a_ledger_of_schema_1_gains_the_explore_indexes_and_kind_counts_on_open(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    engine = setup.open_ledger(url, create=True)
    # what vosbench wrote before schema 2: no explore indexes, no per-kind counts
    with engine.begin() as connection:
        connection.exec_driver_sql("INSERT INTO accounts (account, name, kind, credit_limit, currency, timezone) "
                                   "VALUES ('C1', 'One', 'customer', 0, 'USD', 'UTC')")
    for day, kind, amount in ((1, "deposit", "10"), (2, "deposit", "5"), (3, "withdrawal", "-2")):
        manual_entry.record(engine, account="C1", kind=kind, amount=amount, operator="a",
                      occurred_at=datetime(2026, 10, day, tzinfo=UTC))
    engine.dispose()
    with sqlite3.connect(tmp_path / "old.sqlite") as raw:
        raw.execute("DROP INDEX ix_payments_kind_amount")
        for name in tables.KIND_COUNT_COLUMNS:
            raw.execute(f"ALTER TABLE account_months DROP COLUMN {name}")
        raw.execute("UPDATE ledger_meta SET value = '1' WHERE key = 'schema_version'")

    engine = setup.open_ledger(url)

    with engine.connect() as connection:
        assert database.get_meta(connection, "schema_version") == tables.SCHEMA_VERSION
        indexes = set(connection.scalars(sa.text("SELECT name FROM sqlite_master WHERE type = 'index'")))
        row = connection.execute(sa.select(tables.account_months)).one()
    assert "ix_payments_kind_amount" in indexes
    assert (row.deposit_count, row.withdrawal_count, row.bonus_count, row.payment_count) == (2, 1, 0, 3)
    assert verification.verify(engine).ok
    with sqlite3.connect(tmp_path / "old.sqlite") as raw:
        raw.execute("UPDATE account_months SET deposit_count = 5")
    result = verification.verify(engine)
    assert len(result.total_mismatches) == 1 and "deposit_count" in result.total_mismatches[0]


def test_an_upgrade_fills_the_explore_tables_again_only_from_a_schema_that_kept_them_otherwise(tmp_path, monkeypatch):
    """Filling them took minutes at 10M records on every schema change, even one that only added guards."""
    url = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    engine = setup.open_ledger(url, create=True)
    with engine.begin() as connection:
        connection.exec_driver_sql("INSERT INTO accounts (account, name, kind, credit_limit, currency, timezone) "
                                   "VALUES ('C1', 'One', 'customer', 0, 'USD', 'UTC')")
    manual_entry.record(engine, account="C1", kind="deposit", amount="10", operator="a",
                        occurred_at=datetime(2026, 10, 1, tzinfo=UTC))
    with engine.connect() as connection:
        kept = connection.scalar(sa.select(sa.func.count()).select_from(tables.payment_rollup))
    engine.dispose()

    def reopened_from(version: str) -> int:
        """The payment rollup's rows after opening the ledger as of ``version`` with its rows removed."""
        with sqlite3.connect(tmp_path / "ledger.sqlite") as raw:
            raw.execute("DELETE FROM payment_rollup")
            raw.execute("UPDATE ledger_meta SET value = ? WHERE key = 'schema_version'", (version,))
        reopened = setup.open_ledger(url)
        with reopened.connect() as connection:
            assert database.get_meta(connection, "schema_version") == setup.SCHEMA_VERSION
            rows = connection.scalar(sa.select(sa.func.count()).select_from(tables.payment_rollup))
        reopened.dispose()
        return rows

    monkeypatch.setattr(setup, "SCHEMA_VERSION", str(int(setup.DERIVED_KEPT_SINCE) + 1))  # a later vosbench
    assert reopened_from(str(int(setup.DERIVED_KEPT_SINCE) - 1)) == kept > 0  # an older schema's: filled again
    assert reopened_from(setup.DERIVED_KEPT_SINCE) == 0  # kept as now: left alone (verify names what is wrong)
    result = verification.verify(setup.open_ledger(url))
    assert not result.ok and result.total_mismatches  # the emptied rollup
