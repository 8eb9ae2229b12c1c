"""A closed month is closed in the database itself: a payment or charge dated into it is refused whoever sends it.

The write door refuses such records with its line (tests/test_month_close.py); here a clerk's own login on
PostgreSQL and MariaDB, and plain SQL on the SQLite file, insert them directly, as psql or sqlite3 would. The
month's cut is the ledger's zone's (each close records its month's UTC instants in ``month_spans``), a reopen
lifts the refusal, and a ledger closed before schema 8 gets its months' instants when it is opened.
"""

from __future__ import annotations

import re
import sqlite3
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from ledger_text import ACCOUNTS, ledger_from_text
from raw_rows import insert_linked
from team_ledger import login_engine

from vosbench.ledger import database, guards, hashchain, month_close, setup, tables, thresholds, verification

AFTER = datetime(2026, 11, 2)
"""When the closes are made: after September and October ended."""


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _payment(key: str, occurred_at: datetime) -> dict:
    """A small deposit to C1 as a raw client writes it (its hash made up: `verify` would name it, the guard is first)."""
    now = _now()
    return {"account_id": 1, "kind": "deposit", "amount": 10_000, "occurred_at": occurred_at, "recorded_at": now,
            "operator": "ann", "channel": "admin", "method": "cash", "reference": "", "memo": "", "reason": "",
            "approved_by": "", "source": "raw", "source_key": key, "hash": "0" * 64}


def _charge(day: str) -> dict:
    return {"account_id": 1, "day": datetime.strptime(day, "%Y-%m-%d").date(), "call_fee": 10_000, "agent_fee": 0,
            "other_fee": 0, "calls": 1, "source": "raw", "hash": "0" * 64}


def _insert(engine, table: sa.Table, row: dict) -> None:
    with engine.begin() as connection:
        if table.name in hashchain.CHAINED_TABLES:  # linked to its chain head, as the database requires
            insert_linked(connection, table, row)
        else:
            connection.execute(table.insert().values(**row))


def _refused(engine, table: sa.Table, row: dict) -> None:
    with pytest.raises(sa.exc.DBAPIError, match=re.escape(guards.CLOSED_MONTH_REFUSALS[table.name])):
        _insert(engine, table, row)


def by_two(url: str, month: str, action: str = "close", reason: str = "") -> None:
    """``action`` ``month`` as bob, confirmed by cy: on a server bob requests it and cy confirms under her login."""
    bob, cy = login_engine(url, "bob"), login_engine(url, "cy")
    with bob.connect() as connection:
        two_logins = month_close.confirming_login(connection) is not None
    if two_logins:
        month_close.request(bob, month, action, by="bob", reason=reason, at=AFTER)
        month_close.confirm(cy, month, action, at=AFTER)
    elif action == "close":
        month_close.close(bob, month, by="bob", second="cy", at=AFTER)
    else:
        month_close.reopen(bob, month, by="bob", second="cy", reason=reason, at=AFTER)
    bob.dispose()
    cy.dispose()


def _closed_september(url: str) -> None:
    """The team ledger with thresholds a clerk's small entry passes, and September closed by bob, confirmed by cy."""
    thresholds.set_threshold(login_engine(url, "bob"), currency="USD", kind="deposit", amount="5000.00",
                             operator="bob", reason="first")
    by_two(url, "2026-09")


def test_a_clerk_cannot_insert_a_payment_or_charge_into_a_closed_month_by_plain_sql(team_url):
    _closed_september(team_url)
    clerk = login_engine(team_url, "ann")
    _refused(clerk, tables.payments, _payment("sept-mid", datetime(2026, 9, 15, 10)))
    _refused(clerk, tables.payments, _payment("sept-first", datetime(2026, 9, 1)))  # the month's first instant
    _refused(clerk, tables.payments, _payment("sept-last", datetime(2026, 9, 30, 23, 59, 59, 999_999)))
    _refused(clerk, tables.charges, _charge("2026-09-30"))
    # August never closed (it held nothing), but a record there would change September's openings: refused too
    _refused(clerk, tables.payments, _payment("aug-mid", datetime(2026, 8, 15, 10)))
    _refused(clerk, tables.charges, _charge("2026-08-20"))
    # a stray span cannot close a month either: only a close's own, for that close
    with pytest.raises(sa.exc.DBAPIError, match=re.escape(guards.CLOSED_MONTH_REFUSALS["month_spans"])):
        _insert(clerk, tables.month_spans, {"close_id": 1, "month": "2026-10", "starts_at": datetime(2026, 10, 1),
                                            "ends_at": datetime(2026, 11, 1)})
    # the months beside it are open
    _insert(clerk, tables.payments, _payment("oct-first", datetime(2026, 10, 1)))
    _insert(clerk, tables.charges, _charge("2026-10-01"))

    by_two(team_url, "2026-09", "reopen", reason="late wire")
    _insert(clerk, tables.payments, _payment("sept-mid", datetime(2026, 9, 15, 10)))  # a reopen lifts it
    _insert(clerk, tables.charges, _charge("2026-09-30"))
    _insert(clerk, tables.payments, _payment("aug-mid", datetime(2026, 8, 15, 10)))  # and the months before it
    _insert(clerk, tables.charges, _charge("2026-08-20"))
    with clerk.connect() as connection:
        assert connection.scalar(sa.select(sa.func.count()).select_from(tables.payments)) == 3


def test_the_database_cuts_the_closed_month_in_the_ledgers_zone_whatever_form_a_raw_time_takes(tmp_path):
    # Dubai (UTC+4): September there runs from 31 August 20:00 UTC to 30 September 20:00 UTC
    engine = ledger_from_text(tmp_path, timezone="Asia/Dubai", accounts=ACCOUNTS, payments="""
        source_key,account,kind,amount,occurred_at,operator,channel,method
        p1,C1,deposit,100.00,2026-09-05T10:00:00Z,ann,admin,cash
    """)
    month_close.close(engine, "2026-09", by="sue", at=AFTER)
    engine.dispose()
    columns = [name for name in tables.payments.columns.keys() if name not in ("id", "balance_after", "reverses_id",
                                                                                 "batch_id")]
    with sqlite3.connect(tmp_path / "ledger.sqlite") as raw:
        raw.create_function(hashchain.LINK_FUNCTION, 2, hashchain.link)

        def accepted(when: str) -> bool:
            row = {**_payment(f"raw-{when}", datetime(2026, 1, 1)), "occurred_at": when}
            row["recorded_at"] = str(row["recorded_at"])
            try:
                raw.execute(f"INSERT INTO payments ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
                            [row[name] for name in columns])
            except sqlite3.IntegrityError as error:
                assert guards.CLOSED_MONTH_REFUSALS["payments"] in str(error)
                return False
            return True

        assert not accepted("2026-08-31 20:00:00.000000")
        assert not accepted("2026-09-30 19:59:59.999999")
        assert not accepted("2026-09-30T19:59:59Z")  # another text of an instant inside it
        assert not accepted("2026-09-30 23:59:00+04:00")
        assert not accepted("2026-08-31T20:00:00")
        assert not accepted("2026-08-31 19:59:59.999999")  # 31 August in Dubai: before the closed month, refused too
        assert accepted("2026-09-30 20:00:00.000000")  # 1 October in Dubai
        raw.rollback()
    raw.close()


def _as_schema_7(url: str) -> None:
    """Make the ledger at ``url`` look as schema 7 left it: no month spans, nor the guards that read them."""
    owner = database.make_engine(url)
    dialect = "mysql" if owner.dialect.name == "mariadb" else owner.dialect.name
    with owner.begin() as connection:
        connection.exec_driver_sql("DROP TABLE month_spans")
        connection.execute(tables.chain_heads.delete().where(tables.chain_heads.c.name == "month_spans"))
        if dialect == "postgresql":
            connection.exec_driver_sql("DROP TRIGGER charges_closed_month ON charges")
            connection.exec_driver_sql("CREATE OR REPLACE FUNCTION vosbench_threshold_entry() RETURNS trigger "
                                       "LANGUAGE plpgsql AS $$BEGIN RETURN NEW; END$$")
        else:
            connection.exec_driver_sql("DROP TRIGGER charges_closed_month")
            connection.exec_driver_sql("DROP TRIGGER payments_threshold")
        database.set_meta(connection, "schema_version", "7")
    owner.dispose()


def test_a_ledger_closed_before_schema_8_gets_its_months_spans_and_guards_when_opened(team_url, monkeypatch):
    monkeypatch.setattr(month_close, "record_span", lambda *args: None)  # as schema 7 closed a month: no span
    _closed_september(team_url)
    by_two(team_url, "2026-10")
    by_two(team_url, "2026-10", "reopen", reason="late wire")
    monkeypatch.undo()
    _as_schema_7(team_url)
    clerk = login_engine(team_url, "ann")
    _insert(clerk, tables.payments, _payment("before-upgrade", datetime(2026, 9, 15)))  # what schema 7 let through

    upgraded = setup.open_ledger(team_url)
    with upgraded.connect() as connection:
        spans = connection.execute(sa.select(tables.month_spans.c.month, tables.month_spans.c.starts_at,
                                             tables.month_spans.c.ends_at)).all()
    assert spans == [("2026-09", datetime(2026, 9, 1), datetime(2026, 10, 1))]  # October is reopened: no span
    _refused(clerk, tables.payments, _payment("after-upgrade", datetime(2026, 9, 16)))
    _refused(clerk, tables.charges, _charge("2026-09-16"))
    _insert(clerk, tables.payments, _payment("october", datetime(2026, 10, 16)))
    problems = {problem.check for problem in verification.verify(upgraded).problems}
    assert problems <= {"hash chain", "month closings", "chain head"}  # the raw rows' made-up hashes and the moved month
