"""Account details that change: each change is a new version, the current one is what queries show."""

from __future__ import annotations

import sqlite3
import textwrap

import pytest
from ledger_text import ACCOUNTS, ledger_from_text, write_ledger_files

from vosbench.analysis import explore
from vosbench.analysis.filters import PaymentFilter
from vosbench.commands import main
from vosbench.ledger import queries, setup
from vosbench.ledger.write_door import ImportRejected
from vosbench.sources import csv_import

PAYMENTS = """
    source_key,account,kind,amount,occurred_at,operator,channel,method,reference,memo
    p1,C1,deposit,100.00,2026-09-05T10:00:00Z,ann,admin,cash,R-1,first
"""
CHANGED = """
    account,name,kind,parent,credit_limit,currency,timezone
    R1,North Reseller,reseller,,0,USD,UTC
    A2,Agent Beta,agent,R1,0,USD,UTC
    A1,Agent Alpha,agent,R1,0,USD,UTC
    C1,Acme Trading Ltd,customer,A2,75.00,USD,UTC
    C2,Acme Trading,customer,A1,0,USD,UTC
"""


def _import(engine, tmp_path, name: str, **files: str):
    return csv_import.import_paths(engine, [write_ledger_files(tmp_path / name, **files)])


@pytest.fixture
def engine(tmp_path):
    engine = ledger_from_text(tmp_path, accounts=ACCOUNTS, payments=PAYMENTS)
    yield engine
    engine.dispose()


def _current(engine) -> dict:
    with engine.connect() as connection:
        frame = queries.frame(connection, "accounts")
    return {row.account: (row.name, row.parent, row.currency) for row in frame.itertuples()}


def test_changed_details_are_a_new_version_and_queries_show_the_latest(engine, tmp_path, capsys):
    _import(engine, tmp_path, "second", accounts=CHANGED)
    assert _current(engine)["C1"] == ("Acme Trading Ltd", "A2", "USD")
    assert _current(engine)["A2"] == ("Agent Beta", "R1", "USD")
    with engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT count(*) FROM account_versions").scalar() == 1
        assert connection.exec_driver_sql("SELECT count(*) FROM accounts").scalar() == 5
    # the subtree of A2 now holds C1's payment; A1's no longer does
    moved = explore.query_all(engine, PaymentFilter(accounts=("A2",), include_sub_accounts=True))
    assert list(moved["account"]) == ["C1"]
    assert explore.query_all(engine, PaymentFilter(accounts=("A1",), include_sub_accounts=True)).empty
    # importing the same file again adds nothing: the latest version is what it is compared with
    again = _import(engine, tmp_path, "third", accounts=CHANGED)
    assert all(result.added == 0 for result in again)
    url = str(engine.url)
    assert main.main(["account-history", "C1", "--db", url]) == 0
    out = capsys.readouterr().out
    assert "version 1" in out and "'Acme Trading'" in out and "parent A1" in out
    assert "version 2" in out and "'Acme Trading Ltd'" in out and "parent A2" in out and "by csv" in out
    for unknown in ("NOPE", "Acme Trading"):  # a name is no number
        assert main.main(["account-history", unknown, "--db", url]) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"vosbench account-history: account '{unknown}' is not in the ledger; give an account number")
    assert main.main(["verify", "--db", url]) == 0


@pytest.mark.parametrize("row, reason", [
    ("C1,Acme,agent,A1,0,USD,UTC", "kind and time zone never change"),
    ("C1,Acme,customer,A1,0,USD,Asia/Dubai", "kind and time zone never change"),
    ("A1,Agent Alpha,agent,C9,0,USD,UTC", "parent 'C9' is unknown"),
])
def test_changes_no_version_may_make_are_refused(engine, tmp_path, row, reason):
    text = "account,name,kind,parent,credit_limit,currency,timezone\n" + row
    with pytest.raises(ImportRejected, match=reason):
        _import(engine, tmp_path, "bad", accounts=text)


def test_an_account_cannot_move_below_itself(tmp_path):
    accounts = textwrap.dedent("""
        account,name,kind,parent,credit_limit,currency,timezone
        R1,North Reseller,reseller,,0,USD,UTC
        A1,Agent Alpha,agent,R1,0,USD,UTC
        A2,Agent Beta,agent,A1,0,USD,UTC
    """)
    engine = ledger_from_text(tmp_path, accounts=accounts)
    with pytest.raises(ImportRejected, match="cannot move under 'A2', which sits below it"):
        _import(engine, tmp_path, "loop", accounts="account,name,kind,parent,credit_limit,currency,timezone\n"
                                                   "A1,Agent Alpha,agent,A2,0,USD,UTC")
    engine.dispose()


def test_a_schema_3_ledger_gains_versions_and_keeps_verifying(engine, tmp_path, capsys):
    path = tmp_path / "ledger.sqlite"
    engine.dispose()
    with sqlite3.connect(path) as raw:
        raw.execute("DROP VIEW current_accounts")
        for (name,) in raw.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' "
                                   "AND tbl_name = 'account_versions'").fetchall():
            raw.execute(f"DROP TRIGGER {name}")
        raw.execute("DROP TABLE account_versions")
        raw.execute("DELETE FROM chain_heads WHERE name = 'account_versions'")
        raw.execute("UPDATE ledger_meta SET value = '3' WHERE key = 'schema_version'")
    raw.close()
    url = f"sqlite:///{path}"
    assert main.main(["verify", "--db", url]) == 1
    assert "table account_versions is missing" in capsys.readouterr().out
    reopened = setup.open_ledger(url)
    _import(reopened, tmp_path, "second", accounts=CHANGED)
    reopened.dispose()
    assert main.main(["verify", "--db", url]) == 0
    assert "account_versions: 1 rows" in capsys.readouterr().out
