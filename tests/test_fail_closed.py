"""Maker-checker fails closed, and direct SQL cannot slip past it: each hole a hostile review found, tried.

A currency with no threshold holds every person's entry; a kind in another case or an amount
that is no integer is refused whoever writes it; one open request cannot approve another
account, amount or kind, nor twice; a threshold raised without a reason is refused by the
database itself; and a ledger whose guards are of the earlier form gets these when it is
opened. On a real SQLite file and on private PostgreSQL and MariaDB servers (``team_url``),
each as the login a person would use.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from ledger_text import ACCOUNTS, write_ledger_files
from team_ledger import as_login, login_engine

from vosbench.commands import main
from vosbench.core.money import UNIT
from vosbench.ledger import approvals, database, guards, setup, tables, thresholds, verification
from vosbench.ledger.policy import ControlSettings
from vosbench.sources import csv_import

NO_FILE = ControlSettings()
AT = datetime(2026, 10, 5, 10, 0, tzinfo=UTC)
PLN_ACCOUNTS = ACCOUNTS.rstrip() + "\n    P1,Warsaw Trading,customer,A1,0,PLN,UTC\n"
"""The test accounts and one in złoty, a currency the default controls file sets no threshold for."""

INSERT_PAYMENT = sa.text(
    "INSERT INTO payments (account_id, kind, amount, occurred_at, recorded_at, operator, channel, method, reference, "
    "memo, reason, approved_by, source, source_key, hash) VALUES ((SELECT id FROM accounts WHERE account = :account), "
    ":kind, :amount, :at, :at, :operator, 'admin', 'cash', '', '', '', :approved_by, :source, :key, :hash)",
).bindparams(sa.bindparam("at", type_=tables.UtcTime))
INSERT_SETTING = sa.text(
    "INSERT INTO approval_thresholds (currency, kind, amount, set_by, set_at, reason) "
    "VALUES (:currency, 'deposit', :amount, :set_by, :at, :reason)").bindparams(sa.bindparam("at", type_=tables.UtcTime))
REFUSED = "approval threshold in force is refused"


def _post(engine, *, amount, account: str = "C1", kind: str = "deposit", approved_by: str = "",
          operator: str = "ann", source: str = "vosbench", key: str = "") -> None:
    """A payment row written with plain SQL, as someone with their own client would."""
    with engine.begin() as connection:
        connection.execute(INSERT_PAYMENT, {
            "account": account, "kind": kind, "amount": amount, "at": AT.replace(tzinfo=None), "operator": operator,
            "approved_by": approved_by, "source": source, "key": key or f"{account}-{kind}-{amount!r}-{approved_by}",
            "hash": "0" * 64})


def _set(engine, *, currency: str = "USD", amount: int, reason: str, set_by: str = "bob") -> None:
    with engine.begin() as connection:
        connection.execute(INSERT_SETTING, {"currency": currency, "amount": amount, "set_by": set_by,
                                            "at": AT.replace(tzinfo=None), "reason": reason})


def _payments(engine) -> list:
    with engine.connect() as connection:
        return connection.execute(sa.select(tables.payments).order_by(tables.payments.c.id)).all()


def _with_pln_account(url: str, folder) -> None:
    owner = setup.open_ledger(url)  # the owner's import of accounts: no person's entry
    csv_import.import_paths(owner, [write_ledger_files(folder, accounts=PLN_ACCOUNTS)], default_tz="UTC")
    owner.dispose()


def test_a_currency_without_a_threshold_holds_every_persons_entry(team_url, tmp_path, capsys):
    _with_pln_account(team_url, tmp_path / "pln")
    clerk, supervisor = login_engine(team_url, "ann"), login_engine(team_url, "bob")

    big = approvals.submit(clerk, NO_FILE, account="P1", kind="deposit", amount="900000.00", operator="ann",
                           occurred_at=AT)
    small = approvals.submit(clerk, NO_FILE, account="P1", kind="deposit", amount="1.00", operator="ann",
                             occurred_at=AT)
    assert (big.status, big.threshold, small.status) == ("pending", guards.NO_THRESHOLD, "pending")
    assert "no PLN deposit approval threshold is set" in big.why
    # a client's controls file cannot open what the ledger keeps closed
    generous = ControlSettings(approval_thresholds={"PLN": {"deposit": 1_000_000 * UNIT}})
    assert approvals.submit(clerk, generous, account="P1", kind="deposit", amount="5.00", operator="ann",
                            occurred_at=AT).status == "pending"
    assert main.main(["record", "--db", as_login(team_url, "ann"), "--account", "P1", "--kind", "bonus", "--amount",
                      "10.00", "--operator", "ann"]) == 0
    out = capsys.readouterr().out
    assert "pending approval: request 4 (no PLN bonus approval threshold is set" in out
    assert "`vosbench thresholds set --currency PLN --kind bonus --amount AMOUNT --reason TEXT --operator NAME`" in out
    assert _payments(clerk) == []

    approvals.approve(supervisor, big.id, checker="bob")  # the approved way still posts
    with pytest.raises(thresholds.ThresholdError, match=r"raising the PLN deposit threshold from none \(every entry "
                                                        r"waits\) to 50,000.00 needs a reason"):
        thresholds.set_threshold(supervisor, currency="PLN", kind="deposit", amount="50000.00", operator="bob")
    thresholds.set_threshold(supervisor, currency="PLN", kind="deposit", amount="50000.00", operator="bob",
                             reason="the Warsaw desk's usual deposits")
    assert approvals.submit(clerk, NO_FILE, account="P1", kind="deposit", amount="100.00", operator="ann",
                            occurred_at=AT).status == "recorded"
    assert [(row.amount, row.approved_by) for row in _payments(clerk)] == [(900_000 * UNIT, "bob"), (100 * UNIT, "")]
    assert verification.verify(setup.open_ledger(team_url)).ok


def test_the_database_holds_a_persons_own_sql_in_a_currency_without_a_threshold(team_url, tmp_path):
    _with_pln_account(team_url, tmp_path / "pln")
    clerk = login_engine(team_url, "ann")
    for amount in (900_000 * UNIT, 1):  # however small
        with pytest.raises(sa.exc.DBAPIError, match=REFUSED):
            _post(clerk, account="P1", amount=amount)
    assert _payments(clerk) == []


def test_history_in_a_currency_without_a_threshold_still_imports(team_url, tmp_path):
    _with_pln_account(team_url, tmp_path / "pln")
    payments = ("source_key,account,kind,amount,occurred_at,operator,channel,method,reference,memo,reason,"
                "balance_after,reverses,approved_by\nh1,P1,deposit,900000.00,2026-10-02T10:00:00Z,ann,admin,cash,,,,,,")
    owner = setup.open_ledger(team_url)
    csv_import.import_paths(owner, [write_ledger_files(tmp_path / "history", accounts=PLN_ACCOUNTS,
                                                       payments=payments)], default_tz="UTC")
    assert [row.amount for row in _payments(owner)] == [900_000 * UNIT]


def test_a_kind_or_amount_the_ledger_never_writes_is_refused_whoever_writes_it(team_url):
    clerk, owner = login_engine(team_url, "ann"), database.make_engine(team_url)
    on_sqlite = clerk.dialect.name == "sqlite"
    for kind in ("DEPOSIT", "Deposit", "deposit ", "gift"):  # 1 minor unit: below every threshold there is
        for engine, source in ((clerk, "vosbench"), (owner, "vos3000")):
            with pytest.raises(sa.exc.DBAPIError, match="the kind of a record is one of deposit, withdrawal"):
                _post(engine, kind=kind, amount=1, source=source)
    if on_sqlite:  # SQLite keeps what its column cannot read as an integer as it is: text, a blob, a fraction
        for amount in ("0x2540BE400", b"\x01\x02", 9_000_000_000.5, "12000.00 USD"):
            with pytest.raises(sa.exc.DBAPIError, match="its amount a whole number of minor units"):
                _post(clerk, amount=amount)
    else:  # a server makes the value a BIGINT first, which the threshold then holds
        with pytest.raises(sa.exc.DBAPIError, match=REFUSED):
            _post(clerk, amount="900000000000")
    assert _payments(owner) == []
    assert verification.verify(setup.open_ledger(team_url)).ok


def test_an_open_request_approves_its_own_entry_once_and_nothing_else(team_url):
    clerk, supervisor = login_engine(team_url, "ann"), login_engine(team_url, "bob")
    done = approvals.submit(clerk, NO_FILE, account="C1", kind="deposit", amount="12000.00", operator="ann",
                            occurred_at=AT)
    claimed = dict(approved_by="bob", key=guards.request_key(done.id))
    # the supervisor's login posting for the clerk (on SQLite anyone holding the file) under the open request
    for other in (dict(account="C2"), dict(amount=12_000 * UNIT + 1), dict(kind="bonus"), dict(key="mine-1"),
                  dict(key=guards.request_key(done.id + 1))):
        with pytest.raises(sa.exc.DBAPIError, match=REFUSED):
            _post(supervisor, **{"amount": 12_000 * UNIT, **claimed, **other})
    assert _payments(clerk) == []

    payment_id = approvals.approve(supervisor, done.id, checker="bob")
    (posted,) = _payments(clerk)
    assert (posted.id, posted.source_key, posted.approved_by) == (payment_id, guards.request_key(done.id), "bob")
    for key in (guards.request_key(done.id), "mine-2"):  # decided: it approves nothing more
        with pytest.raises(sa.exc.DBAPIError):
            _post(supervisor, amount=12_000 * UNIT, approved_by="bob", key=key)
    reversal = approvals.submit_reversal(clerk, NO_FILE, payment_id, reason="paid twice", operator="ann")
    assert reversal.status == "pending"
    approvals.approve(supervisor, reversal.id, checker="bob")
    assert [row.amount for row in _payments(clerk)] == [12_000 * UNIT, -12_000 * UNIT]
    assert verification.verify(setup.open_ledger(team_url)).ok


def test_the_database_refuses_a_threshold_raised_without_a_reason(team_url):
    supervisor = login_engine(team_url, "bob")
    for reason in ("", "   ", "\t\n"):
        with pytest.raises(sa.exc.DBAPIError, match="raising an approval threshold .* needs a reason"):
            _set(supervisor, amount=20_000 * UNIT, reason=reason)
        with pytest.raises(sa.exc.DBAPIError, match="raising an approval threshold .* needs a reason"):
            _set(supervisor, currency="PLN", amount=1 * UNIT, reason=reason)  # a pair's first: from none
    _set(supervisor, amount=5_000 * UNIT, reason="")  # lowering one needs none
    _set(supervisor, amount=20_000 * UNIT, reason="bigger wires since October")
    with supervisor.connect() as connection:
        assert thresholds.in_force(connection)["USD"]["deposit"] == 20_000 * UNIT
    assert verification.verify(setup.open_ledger(team_url)).ok


_EARLIER_FORM = {  # a threshold guard as an earlier vosbench made it: it lets a currency without one through
    "sqlite": ["DROP TRIGGER payments_threshold",
               "CREATE TRIGGER payments_threshold BEFORE INSERT ON payments WHEN NEW.source = 'vosbench' AND "
               "ABS(NEW.amount) >= (SELECT t.amount FROM approval_thresholds t WHERE t.kind = NEW.kind AND t.currency = "
               "(SELECT a.currency FROM accounts a WHERE a.id = NEW.account_id) ORDER BY t.id DESC LIMIT 1) "
               f"BEGIN SELECT RAISE(ABORT, '{guards.THRESHOLD_REFUSAL}'); END"],
    "mysql": ["DROP TRIGGER payments_threshold",
              "CREATE TRIGGER payments_threshold BEFORE INSERT ON payments FOR EACH ROW SET @vosbench_earlier = 1"],
    "postgresql": ["CREATE OR REPLACE FUNCTION vosbench_threshold_entry() RETURNS trigger LANGUAGE plpgsql "
                   "AS $$BEGIN RETURN NEW; END$$"],
}


def test_a_ledger_with_the_earlier_guards_gets_these_when_opened_and_verifies(team_url, tmp_path, capsys):
    _with_pln_account(team_url, tmp_path / "pln")
    clerk = login_engine(team_url, "ann")
    waiting = approvals.submit(clerk, NO_FILE, account="C1", kind="deposit", amount="12000.00", operator="ann",
                               occurred_at=AT)
    owner = database.make_engine(team_url)
    with owner.begin() as connection:
        for statement in _EARLIER_FORM["mysql" if owner.dialect.name == "mariadb" else owner.dialect.name]:
            connection.exec_driver_sql(statement)
        database.set_meta(connection, "schema_version", "4")
    owner.dispose()
    assert main.main(["verify", "--db", team_url]) == 1
    out = capsys.readouterr().out
    assert f"the ledger is schema 4, this vosbench expects {tables.SCHEMA_VERSION}: open it once with this version" in out
    assert "payments_threshold" in out or "vosbench_threshold_entry" in out
    code = main.main(["approvals", "list", "--db", as_login(team_url, "ann")])  # a clerk opens it first
    err = capsys.readouterr().err
    if owner.dialect.name == "sqlite":  # whoever holds the file upgrades it
        assert code == 0
    else:  # a server's login other than its owner cannot change its guards: told who can, and how
        assert code == 2 and f"the ledger is schema 4, this vosbench {tables.SCHEMA_VERSION}, and this login may not upgrade it" in err
        assert "`vosbench info --db OWNER-URL`" in err and len(err.strip().splitlines()) == 1

    upgraded = setup.open_ledger(team_url)
    with upgraded.connect() as connection:
        present = guards.present_guards(connection)
    assert all(present.get(guard.name) == guard.catalogued for guard in guards.threshold_guards(upgraded.dialect.name))
    with pytest.raises(sa.exc.DBAPIError, match=REFUSED):
        _post(clerk, account="P1", amount=1)
    approvals.approve(login_engine(team_url, "bob"), waiting.id, checker="bob")  # a request from before posts
    assert main.main(["verify", "--db", team_url]) == 0


def test_the_earlier_guards_let_through_what_these_refuse(tmp_path):
    """The earlier form of the SQLite guard really had the hole the upgrade closes (so the test above tries it)."""
    path = tmp_path / "ledger.sqlite"
    setup.open_ledger(f"sqlite:///{path}", create=True).dispose()
    csv_import.import_paths(setup.open_ledger(f"sqlite:///{path}"),
                            [write_ledger_files(tmp_path / "pln", accounts=PLN_ACCOUNTS)], default_tz="UTC")
    with sqlite3.connect(path) as raw:
        for statement in _EARLIER_FORM["sqlite"]:
            raw.execute(statement)
    raw.close()
    _post(database.make_engine(f"sqlite:///{path}"), account="P1", amount=900_000 * UNIT)
