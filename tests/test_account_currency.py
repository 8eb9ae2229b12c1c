"""An account's currency is fixed once it holds money: its records carry none of their own.

A payment, a day's charges or a balance is read in its account's currency, so a USD account
relabelled EUR would add its dollars to euros. The write door refuses the new version with the
account, both currencies and the fix; the database refuses the same row sent by plain SQL, on
SQLite, PostgreSQL and MariaDB; a ledger made before the guard gets it when it is opened.
"""

from __future__ import annotations

import sqlite3
from datetime import date, datetime

import pytest
import sqlalchemy as sa

from vosbench.commands import main
from vosbench.core.model import AccountKind, Channel, Kind, Method
from vosbench.ledger import database, guards, setup, tables, verification
from vosbench.ledger.write_door import ImportRejected, NewAccount, NewCharge, NewPayment, NewSnapshot, append_batch

WHEN = datetime(2026, 10, 5, 10, 0)


def _accounts(currency: str, *numbers: str) -> list[NewAccount]:
    return [NewAccount(number, f"Customer {number}", AccountKind.CUSTOMER, "", 0, currency, "UTC", line=n)
            for n, number in enumerate(numbers, start=2)]


def _ledger(url: str):
    """C1 holds a deposit, C2 a day's charges, C3 a balance; C4 nothing yet. All in USD."""
    engine = setup.open_ledger(url, create=True)
    append_batch(engine, "accounts", _accounts("USD", "C1", "C2", "C3", "C4"), source="test", file="accounts.csv")
    append_batch(engine, "payments", [NewPayment("p1", "C1", Kind.DEPOSIT, 1_000_000, WHEN, "ann", Channel.ADMIN,
                                                 Method.CASH)], source="test", file="payments.csv")
    append_batch(engine, "charges", [NewCharge("C2", date(2026, 10, 5), 50_000, 0, 0, 3)], source="test",
                 file="charges.csv")
    append_batch(engine, "balances", [NewSnapshot("C3", WHEN, 70_000)], source="test", file="balances.csv")
    return engine


def _currencies(engine) -> dict[str, str]:
    accounts = tables.current_accounts
    with engine.connect() as connection:
        return dict(connection.execute(sa.select(accounts.c.account, accounts.c.currency)).all())


def _version(engine, account: str, currency: str) -> dict:
    """An ``account_versions`` row giving ``account`` another currency, as plain SQL would insert it."""
    with engine.connect() as connection:
        account_id = connection.scalar(sa.select(tables.accounts.c.id).where(tables.accounts.c.account == account))
    return {"account_id": account_id, "name": f"Customer {account}", "parent_id": None, "credit_limit": 0,
            "currency": currency, "changed_by": "psql", "changed_at": WHEN, "batch_id": None}


def test_a_new_currency_for_an_account_holding_money_is_refused_by_the_door_and_the_database(any_ledger_url):
    engine = _ledger(any_ledger_url)
    with pytest.raises(ImportRejected) as raised:
        append_batch(engine, "accounts", _accounts("EUR", "C1", "C2", "C3"), source="test", file="accounts.csv")
    assert [str(rejection) for rejection in raised.value.rejections] == [
        f"accounts.csv:{line}: account '{account}' holds {held} in USD: changing its currency to EUR would read "
        f"them as EUR; keep USD, or open a new account number for EUR"
        for line, account, held in ((2, "C1", "payments"), (3, "C2", "charges"), (4, "C3", "balance snapshots"))]
    for account in ("C1", "C2", "C3"):  # whatever client or SQL sends the version, the database refuses it
        with pytest.raises(sa.exc.DBAPIError, match="keeps its currency"), engine.begin() as connection:
            connection.execute(tables.account_versions.insert().values(**_version(engine, account, "EUR")))
    with engine.begin() as connection:  # another name, the same currency: still a version like any other
        connection.execute(tables.account_versions.insert().values(**_version(engine, "C1", "USD")))
    # an account with no money yet may still change, through the door as by SQL
    append_batch(engine, "accounts", _accounts("EUR", "C4"), source="test", file="accounts.csv")
    assert _currencies(engine) == {"C1": "USD", "C2": "USD", "C3": "USD", "C4": "EUR"}
    append_batch(engine, "payments", [NewPayment("p2", "C4", Kind.DEPOSIT, 20_000, WHEN, "ann", Channel.ADMIN,
                                                 Method.CASH)], source="test", file="payments.csv")
    with pytest.raises(sa.exc.DBAPIError, match="keeps its currency"), engine.begin() as connection:
        connection.execute(tables.account_versions.insert().values(**_version(engine, "C4", "USD")))
    assert verification.verify(engine).ok
    engine.dispose()


def test_the_import_command_refuses_it_in_one_line_naming_account_currencies_and_fix(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    _ledger(url).dispose()
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "accounts.csv").write_text("account,name,kind,parent,credit_limit,currency,timezone\n"
                                         "C1,Customer C1,customer,,0,EUR,UTC\n")
    assert main.main(["import", "--db", url, str(folder)]) == 2
    err = capsys.readouterr().err
    assert ("accounts.csv:2: account 'C1' holds payments in USD: changing its currency to EUR would read them as "
            "EUR; keep USD, or open a new account number for EUR") in err
    assert "Traceback" not in err


def test_an_account_in_no_currency_of_money_is_refused_by_the_database_as_by_the_door(any_ledger_url):
    """Plain SQL sending an account, or a version of one, in gold or the test code: refused by the database, with
    the table and the fix; an ISO currency passes."""
    engine = _ledger(any_ledger_url)
    new = {"account": "X1", "name": "Gold", "kind": "customer", "parent_id": None, "credit_limit": 0, "timezone": "UTC",
           "batch_id": None}
    for currency in ("XAU", "XXX", "usd", "ZZZ"):
        with pytest.raises(sa.exc.DBAPIError, match="accounts: currency is no ISO 4217 currency of money"), \
                engine.begin() as connection:
            connection.execute(tables.accounts.insert().values(**new, currency=currency))
        with pytest.raises(sa.exc.DBAPIError, match="account_versions: currency is no ISO 4217"), \
                engine.begin() as connection:
            connection.execute(tables.account_versions.insert().values(**_version(engine, "C4", currency)))
    with engine.begin() as connection:
        connection.execute(tables.accounts.insert().values(**new, currency="KWD"))
    assert _currencies(engine)["X1"] == "KWD"
    engine.dispose()


@pytest.mark.parametrize("version, dropped", [("4", guards.account_currency_guards("sqlite") +
                                                    guards.currency_code_guards("sqlite")),
                                              ("6", guards.currency_code_guards("sqlite"))])
def test_a_ledger_made_before_the_guard_gets_it_when_opened_and_keeps_verifying(tmp_path, capsys, version, dropped):
    path = tmp_path / "ledger.sqlite"
    _ledger(f"sqlite:///{path}").dispose()
    with sqlite3.connect(path) as raw:  # as vosbench before schema 5 (or 7) left it
        for guard in dropped:
            raw.execute(f"DROP TRIGGER {guard.name}")
        raw.execute("UPDATE ledger_meta SET value = ? WHERE key = 'schema_version'", (version,))
    raw.close()
    url = f"sqlite:///{path}"
    older = database.make_engine(url)  # a vosbench of then, which took any code for a currency
    with older.begin() as connection:
        connection.execute(tables.accounts.insert().values(account="X1", name="Old gold", kind="customer", credit_limit=0,
                                                           currency="XAU", timezone="UTC"))
    older.dispose()
    assert main.main(["verify", "--db", url]) == 1
    out = capsys.readouterr().out
    assert all(f"guard {guard.name} on {guard.table} is missing" in out for guard in dropped)
    engine = setup.open_ledger(url)  # the upgrade installs them
    with pytest.raises(sa.exc.DBAPIError, match="keeps its currency"), engine.begin() as connection:
        connection.execute(tables.account_versions.insert().values(**_version(engine, "C1", "EUR")))
    with pytest.raises(sa.exc.DBAPIError, match="no ISO 4217"), engine.begin() as connection:
        connection.execute(tables.account_versions.insert().values(**_version(engine, "C4", "XAG")))
    assert _currencies(engine)["X1"] == "XAU"  # what the ledger held stays
    assert verification.verify(engine).ok
    engine.dispose()
