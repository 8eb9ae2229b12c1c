"""Holes hostile insiders found, each closed in the database and tried again here by breaking in.

A clerk's own login (psql's rights, plain SQL) and sqlite3 on the file try: a row of the journal slipped in beside its
chain head (it stopped every later write), an archive or purged range recorded by someone other than the owner, a
balance dated into a closed month, a record dated by no time at all (it passed the closed-month guard as text), and
a close confirmed after its requester withdrew it, an operator registered by a clerk (a supervisor made up, the owner
made a reseller), the month totals deleted; a reseller's login looks for the whole ledger's row counts. The
database refuses each (or, for the row beside the head, keeps writing and lets ``verify`` name it), the command line
says so in one line, and a ledger made before these guards (schema 8, 9 or 10) gets them when its owner opens it.
"""

from __future__ import annotations

import re
import sqlite3
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from db_servers import fresh_database
from ledger_text import ACCOUNTS, ledger_from_text, write_ledger_files
from raw_rows import insert_linked
from team_ledger import PASSWORD, as_login, build, login_engine

from vosbench.commands import main
from vosbench.ledger import database, guards, hashchain, identity, manual_entry, month_close, scopes, tables, thresholds, verification
from vosbench.sources import csv_import

AFTER = datetime(2026, 11, 2)
"""When the closes are made: after September ended."""


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _payment(key: str, occurred_at, **changed) -> dict:
    """A small deposit to C1 as a raw client writes it, its hash made up."""
    return {"account_id": 1, "kind": "deposit", "amount": 10_000, "occurred_at": occurred_at, "recorded_at": _now(),
            "operator": "ann", "channel": "admin", "method": "cash", "reference": "", "memo": "", "reason": "",
            "approved_by": "", "source": "raw", "source_key": key, "hash": "f" * 64, **changed}


def _balance(as_of) -> dict:
    return {"account_id": 1, "as_of": as_of, "balance": 10_000, "source": "raw", "hash": "e" * 64}


def _september_closed(url: str) -> None:
    """A deposit threshold a clerk's small entry passes, and September closed by bob, confirmed by cy."""
    thresholds.set_threshold(login_engine(url, "bob"), currency="USD", kind="deposit", amount="5000.00",
                             operator="bob", reason="first")
    bob, cy = login_engine(url, "bob"), login_engine(url, "cy")
    with bob.connect() as connection:
        two_logins = month_close.confirming_login(connection) is not None
    if two_logins:
        month_close.request(bob, "2026-09", "close", by="bob", at=AFTER)
        month_close.confirm(cy, "2026-09", "close", at=AFTER)
    else:
        month_close.close(bob, "2026-09", by="bob", second="cy", at=AFTER)


def _refused(engine, table: sa.Table, row: dict, words: str) -> None:
    with pytest.raises(sa.exc.DBAPIError, match=re.escape(words)), engine.begin() as connection:
        insert_linked(connection, table, row)


def _head_moves_refused(engine, chain: str) -> None:
    """The server refuses ``engine``'s login every move of the head of ``chain`` (which holds rows) but forward: back
    onto ids taken, its hash changed with no row added, renamed, removed; nor may it add a head."""
    heads = tables.chain_heads
    this = heads.c.name == chain
    with engine.connect() as connection:
        assert connection.scalar(sa.select(heads.c.last_id).where(this)) > 0  # else there is no back to move it to
    for statement in (heads.update().where(this).values(last_id=0), heads.update().where(this).values(row_count=0),
                      heads.update().where(this).values(head_hash="0" * 64),
                      heads.update().where(this).values(name=f"{chain}_hidden"), heads.delete().where(this),
                      heads.insert().values(name=f"{chain}_forged", last_id=0, head_hash="0" * 64, row_count=0)):
        # a DELETE the writers' role may not make at all since schema 10 (PostgreSQL: "permission denied", MariaDB:
        # "command denied"); the rest its head guard refuses
        with pytest.raises(sa.exc.DBAPIError, match=re.escape(guards.HEAD_REFUSAL) + "|permission denied|command denied"):
            with engine.begin() as connection:
                connection.execute(statement)
    with engine.begin() as connection:  # the lock the write door takes, a no-op UPDATE, still passes
        hashchain.lock_head(connection, chain)


def _run(argv: list[str], capsys) -> tuple[int, str]:
    code = main.main(argv)
    captured = capsys.readouterr()
    return code, captured.out + captured.err


# --- 3. a row beside the chain head ---------------------------------------------------------------------------------

def test_a_raw_payment_beside_the_chain_head_no_longer_stops_every_later_write(team_url):
    _september_closed(team_url)
    clerk = login_engine(team_url, "ann")
    dialect = clerk.dialect.name
    manual_entry.record(clerk, account="C1", kind="deposit", amount="10.00", operator="ann")
    junk = _payment("junk-1", _now())
    with clerk.begin() as connection:  # a row the head passed already (a purged id, an id taken): refused everywhere
        last_id = connection.scalar(sa.select(tables.chain_heads.c.last_id).where(tables.chain_heads.c.name == "payments"))
    with pytest.raises(sa.exc.DBAPIError), clerk.begin() as connection:
        connection.execute(tables.payments.insert().values(id=last_id, **junk))
    if dialect == "postgresql":  # the next id, the head left behind: refused when the transaction commits
        with pytest.raises(sa.exc.DBAPIError, match=re.escape(guards.CHAIN_COVER_REFUSAL.format(table="payments"))):
            with clerk.begin() as connection:
                connection.execute(tables.payments.insert().values(id=last_id + 1, **junk))
    else:  # SQLite and MariaDB carry the head over it: it is the chain's next link, and writing goes on
        with clerk.begin() as connection:
            connection.execute(tables.payments.insert().values(id=last_id + 1, **junk))
    # before, the write door gave the next record the id the raw row had taken, and every later write failed
    entered = manual_entry.record(clerk, account="C1", kind="deposit", amount="11.00", operator="ann")
    assert entered == last_id + (1 if dialect == "postgresql" else 2)
    if dialect != "sqlite":  # nor can a login move the head back, onto ids taken (the same wedge), nor remove it
        _head_moves_refused(clerk, "payments")
    owner = database.make_engine(team_url)
    result = verification.verify(owner)
    breaks = [problem for problem in result.breaks]
    if dialect == "postgresql":
        assert result.ok, result.problems
    else:  # verify names the row whose hash does not link, and nothing after it
        assert [broken.row_id for broken in breaks] == [last_id + 1], breaks
    owner.dispose()
    clerk.dispose()


# --- 5. and 6. a balance in a closed month; a record dated by no time ------------------------------------------------

def test_a_balance_dated_into_or_before_a_closed_month_is_refused_by_the_database(team_url):
    _september_closed(team_url)
    clerk = login_engine(team_url, "ann")
    words = guards.CLOSED_MONTH_REFUSALS["balance_snapshots"]
    _refused(clerk, tables.balance_snapshots, _balance(datetime(2026, 9, 30, 23, 59)), words)
    _refused(clerk, tables.balance_snapshots, _balance(datetime(2026, 8, 15)), words)  # before the closed month too
    with clerk.begin() as connection:
        insert_linked(connection, tables.balance_snapshots, _balance(datetime(2026, 10, 1)))
    bob, cy = login_engine(team_url, "bob"), login_engine(team_url, "cy")
    with bob.connect() as connection:
        two_logins = month_close.confirming_login(connection) is not None
    if two_logins:
        month_close.request(bob, "2026-09", "reopen", by="bob", reason="late statement")
        month_close.confirm(cy, "2026-09", "reopen")
    else:
        month_close.reopen(bob, "2026-09", by="bob", second="cy", reason="late statement")
    with clerk.begin() as connection:  # a reopen lifts it
        insert_linked(connection, tables.balance_snapshots, _balance(datetime(2026, 9, 30, 23, 59)))
    clerk.dispose()


def test_sqlite_refuses_a_record_dated_by_no_time_which_passed_the_closed_month_guard_as_text(tmp_path):
    engine = ledger_from_text(tmp_path, accounts=ACCOUNTS, payments="""
        source_key,account,kind,amount,occurred_at,operator,channel,method
        p1,C1,deposit,100.00,2026-09-05T10:00:00Z,ann,admin,cash
    """)
    month_close.close(engine, "2026-09", by="sue", at=AFTER)
    engine.dispose()
    with sqlite3.connect(tmp_path / "ledger.sqlite") as raw:
        raw.create_function(hashchain.LINK_FUNCTION, 2, hashchain.link)

        def refusal(table: str, row: dict) -> str | None:
            row = {key: str(value) if isinstance(value, datetime) else value for key, value in row.items()}
            try:
                raw.execute(f"INSERT INTO {table} ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                            list(row.values()))
            except sqlite3.IntegrityError as error:
                return str(error)
            finally:
                raw.rollback()
            return None

        no_time = guards.NOT_A_TIME_REFUSALS
        for when in ("not a time", "2026-13-05 10:00:00.000000", "2026-02-30 10:00:00.000000",
                     "2026-10-05 25:00:00.000000", "2026-10-05 10:00:00.12345x", "", 2461000.5):
            assert refusal("payments", _payment(f"k-{when}", when)) == no_time["payments"], when
            assert refusal("balance_snapshots", _balance(when)) == no_time["balance_snapshots"], when
        for day in ("not a day", "2026-02-30", "2026-10-5", 20261005):
            charge = {"account_id": 1, "day": day, "call_fee": 1, "agent_fee": 0, "other_fee": 0, "calls": 1,
                      "source": "raw", "hash": "d" * 64}
            assert refusal("charges", charge) == no_time["charges"], day
        # a time in another form is a time: put in the ledger's form, it is held to the closed month
        assert refusal("payments", _payment("t-sept", "2026-09-30T23:00:00Z")) == guards.CLOSED_MONTH_REFUSALS["payments"]
        assert refusal("payments", _payment("t-oct", "2026-10-05T10:00:00Z")) is None
        assert refusal("payments", _payment("t-oct2", "2026-10-05 10:00:00.123456")) is None
        assert refusal("balance_snapshots", _balance("2026-09-15 00:00:00.000000")) == \
            guards.CLOSED_MONTH_REFUSALS["balance_snapshots"]


# --- 2. archives and purged ranges: the owner's ----------------------------------------------------------------------

@pytest.fixture(params=["postgresql", "mysql"])
def server_team(request, tmp_path) -> str:
    """The team ledger on a server: ann and alice clerks; bob, cy, dee and eve supervisors, each a login."""
    server = request.getfixturevalue("postgresql" if request.param == "postgresql" else "mariadb")
    return build(fresh_database(server), tmp_path / "in")


ARCHIVE = {"before_month": "2026-09", "folder": "/tmp/fake", "archived_by": "bob", "archived_at": datetime(2026, 11, 2),
           "manifest": "{}", "manifest_sha256": "0" * 64}


def test_only_the_owner_records_an_archive_or_a_purged_range(server_team):
    for login in ("ann", "bob"):  # a clerk, a supervisor: the writers' role
        engine = login_engine(server_team, login)
        for table, row in ((tables.archives, ARCHIVE),
                           (tables.purged_ranges, {"archive_id": 1, "table_name": "payments", "first_id": 1,
                                                   "last_id": 1000, "previous_hash": "0" * 64, "last_hash": "0" * 64})):
            # PostgreSQL's privileges refuse it first; MariaDB's writers may INSERT into every table, its trigger refuses
            with pytest.raises(sa.exc.DBAPIError, match=re.escape(guards.OWNER_ONLY_REFUSALS[table.name])
                               + "|permission denied"), engine.begin() as connection:
                connection.execute(table.insert().values(**row))
        engine.dispose()
    owner = database.make_engine(server_team)
    with owner.connect() as connection, connection.begin() as transaction:  # the owner's purge may
        connection.execute(tables.archives.insert().values(**ARCHIVE))
        transaction.rollback()
    with owner.connect() as connection:
        assert connection.scalar(sa.select(sa.func.count()).select_from(tables.archives)) == 0
    owner.dispose()


# --- 8. the operators: the owner's ------------------------------------------------------------------------------------

NEW_OPERATORS = """
    login,name,role,timezone,shift_start,shift_end,working_days
    ghost.sup,Ghost,supervisor,UTC,00:00,24:00,1234567
"""


def _login_exists(url: str, login: str) -> bool:
    """Whether the server lets ``login`` in with the team's password (a login it holds, made by the test)."""
    engine = login_engine(url, login)
    try:
        with engine.connect():
            return True
    except sa.exc.DBAPIError:
        return False
    finally:
        engine.dispose()


def test_only_the_owner_registers_an_operator(server_team, tmp_path, capsys, monkeypatch):
    owner = database.make_engine(server_team)
    with owner.connect() as connection:
        owner_login = connection.scalar(sa.text("SELECT CURRENT_USER" if owner.dialect.name == "postgresql"
                                                else "SELECT SUBSTRING_INDEX(CURRENT_USER(), '@', 1)"))
        before = identity.operators(connection)
    for login in ("ann", "bob"):  # a clerk, a supervisor: the writers' role
        engine = login_engine(server_team, login)
        for row in ({"login": "ghost.sup", "role": "supervisor"}, {"login": owner_login, "role": "reseller:A1"}):
            # PostgreSQL's privileges refuse it first; MariaDB's writers may INSERT into every table, its trigger refuses
            with pytest.raises(sa.exc.DBAPIError, match=re.escape(guards.OWNER_ONLY_REFUSALS["operators"])
                               + "|permission denied"), engine.begin() as connection:
                connection.execute(tables.operators.insert().values(**row, name=row["login"], timezone="UTC",
                                                                    shift_start=0, shift_end=1440,
                                                                    working_days="1234567"))
        engine.dispose()
    folder = write_ledger_files(tmp_path / "people", operators=NEW_OPERATORS)
    code, said = _run(["import", str(folder), "--db", as_login(server_team, "ann")], capsys)
    assert code == 2 and len(said.strip().splitlines()) == 1, said  # one line, no database error
    assert "registering operators (ghost.sup) is the ledger owner's" in said
    assert "vosbench operators add LOGIN --role ROLE" in said
    with owner.connect() as connection:
        assert identity.operators(connection) == before
    monkeypatch.setenv("VOSBENCH_OPERATOR_PASSWORD", PASSWORD)
    code, said = _run(["operators", "add", "ghost.sup", "--role", "supervisor", "--db", as_login(server_team, "bob")],
                      capsys)
    assert code == 2 and "registering operators is the ledger owner's, not bob's" in said, said
    assert not _login_exists(server_team, "ghost.sup")
    code, said = _run(["import", str(folder), "--db", server_team], capsys)  # the owner's import registers them
    assert code == 0, said
    code, said = _run(["import", str(folder), "--db", as_login(server_team, "ann")], capsys)
    assert code == 0, said  # a clerk's import of operators already registered skips them, as before
    with owner.connect() as connection:
        assert identity.operators(connection)["ghost.sup"] == "supervisor"
    owner.dispose()


def test_an_operator_registered_with_another_role_gets_no_login(server_team, tmp_path, capsys, monkeypatch):
    nina = "nina.insider"  # logins are the server's: a name no other test makes
    folder = write_ledger_files(tmp_path / "people", operators=NEW_OPERATORS.replace("ghost.sup", nina))
    assert _run(["import", str(folder), "--db", server_team], capsys)[0] == 0  # the back office's file: no login yet
    monkeypatch.setenv("VOSBENCH_OPERATOR_PASSWORD", PASSWORD)
    code, said = _run(["operators", "add", nina, "--role", "clerk", "--db", server_team], capsys)
    assert code == 2 and f"operator {nina} is already registered as supervisor" in said, said
    assert not _login_exists(server_team, nina)  # MariaDB made the login before refusing, with the writers' role
    code, said = _run(["operators", "add", nina, "--role", "supervisor", "--db", server_team], capsys)
    assert code == 0, said  # the role it was registered with: the login is what was missing
    assert _login_exists(server_team, nina)


# --- 9. the month totals: updated, never deleted, by the writers ------------------------------------------------------

def test_the_writers_delete_no_month_totals(server_team):
    clerk = login_engine(server_team, "ann")
    manual_entry.record(clerk, account="C1", kind="deposit", amount="10.00", operator="ann")  # updates the totals
    for name in ("account_months", "payment_rollup", "amount_rollup", "chain_heads"):
        with clerk.connect() as connection:
            held = connection.scalar(sa.select(sa.func.count()).select_from(tables.metadata.tables[name]))
        assert held > 0, name  # else a DELETE refused would prove nothing
        # PostgreSQL: "permission denied"; MariaDB: "DELETE command denied"; chain_heads on MariaDB: its head guard
        with pytest.raises(sa.exc.DBAPIError, match="permission denied|command denied|" + re.escape(guards.HEAD_REFUSAL)):
            with clerk.begin() as connection:
                connection.execute(tables.metadata.tables[name].delete())
    manual_entry.record(clerk, account="C1", kind="deposit", amount="11.00", operator="ann")
    clerk.dispose()
    owner = database.make_engine(server_team)
    assert verification.verify(owner).ok
    owner.dispose()


# --- 4. a reseller's login ------------------------------------------------------------------------------------------

RESELLER = "res.insider"
"""The reseller's login here: a login is the server's, not one database's, and a server keeps the password a login
was first made with, so another test file's ``res.one`` (made with another password) would refuse this one's."""


def _reseller_engine(url: str):
    owner = database.make_engine(url)
    identity.register(owner, RESELLER, "reseller:A1", password=PASSWORD)
    with owner.connect() as connection:
        scoped_database = scopes.login_database(connection, "reseller:A1")
    owner.dispose()
    return database.make_engine(sa.make_url(as_login(url, RESELLER)).set(database=scoped_database)
                                .render_as_string(hide_password=False))


def test_a_reseller_sees_no_row_count_of_the_ledger_beyond_its_subtree(server_team, tmp_path):
    owner = database.make_engine(server_team)
    csv_import.import_paths(owner, [write_ledger_files(tmp_path / "more", payments="""
        source_key,account,kind,amount,occurred_at,operator,channel,method
        p1,C1,deposit,10.00,2026-10-05T10:00:00Z,ann,admin,cash
        p2,R1,deposit,10.00,2026-10-05T11:00:00Z,ann,admin,cash
    """)], default_tz="UTC")  # R1 is above the subtree of A1
    owner.dispose()
    reseller = _reseller_engine(server_team)
    with reseller.connect() as connection:
        seen = {name: connection.scalar(sa.select(sa.func.count()).select_from(table))
                for name, table in tables.metadata.tables.items()}
        assert seen["chain_heads"] == 0 and seen["import_batches"] == 0  # they held every table's and file's count
        assert seen["ledger_meta"] > 0 and seen["payments"] == 1 and seen["accounts"] == 3  # A1, C1, C2
        # every table it reads rows of is the subtree's, its own operator row, or the ledger's settings
        readable = {name for name, rows in seen.items() if rows}
        assert readable <= {*scopes.BY_ACCOUNT, "accounts", "operators", *scopes.OPEN}, readable
        assert set(scopes.OPEN) == {"ledger_meta"}
        assert hashchain.fingerprint(connection) == {}  # its reports carry no fingerprint of the whole ledger
    reseller.dispose()


# --- 7. a close request withdrawn ------------------------------------------------------------------------------------

def test_a_close_request_is_withdrawn_by_its_requester_and_then_cannot_be_confirmed(server_team, capsys, tmp_path,
                                                                                     monkeypatch):
    monkeypatch.chdir(tmp_path)  # where a confirmed close writes its receipt
    url = server_team
    thresholds.set_threshold(login_engine(url, "bob"), currency="USD", kind="deposit", amount="5000.00",
                             operator="bob", reason="first")
    bob, cy, ann = as_login(url, "bob"), as_login(url, "cy"), as_login(url, "ann")
    assert _run(["close", "--month", "2026-09", "--by", "bob", "--db", bob], capsys)[0] == 0
    # no one but its requester (or the owner) withdraws it, in one line
    for login in (cy, ann):
        code, said = _run(["close", "--month", "2026-09", "--withdraw", "--db", login], capsys)
        assert code == 2 and "requested by bob; only they (or the ledger's owner) withdraw it" in said, said
        assert len(said.strip().splitlines()) == 1 and "Traceback" not in said
    # nor by plain SQL: the database binds a withdrawal to the request's own login
    withdrawal = {"month": "2026-09", "action": guards.WITHDRAW, "requested_by": "cy", "reason": "", "requested_at": _now()}
    engine = login_engine(url, "cy")
    with pytest.raises(sa.exc.DBAPIError, match=re.escape(guards.PERSON_REFUSALS["close_requests"])):
        with engine.begin() as connection:
            connection.execute(tables.close_requests.insert().values(**withdrawal))
    engine.dispose()
    # hostile flags: one line each, exit 2
    for flags in (["--confirm"], ["--by", "bob"], ["--second", "cy"], ["--receipt", "x.json"]):
        code, said = _run(["close", "--month", "2026-09", "--withdraw", *flags, "--db", bob], capsys)
        assert code == 2 and "--withdraw withdraws" in said and len(said.strip().splitlines()) == 1, said
    code, said = _run(["close", "--month", "2026-13", "--withdraw", "--db", bob], capsys)
    assert code == 2 and len(said.strip().splitlines()) == 1 and "Traceback" not in said, said

    code, said = _run(["close", "--month", "2026-09", "--withdraw", "--db", bob], capsys)
    assert code == 0 and "withdrew the close of 2026-09" in said, said
    code, said = _run(["close", "--month", "2026-09", "--withdraw", "--db", bob], capsys)  # nothing waits any more
    assert code == 2 and "nothing to withdraw" in said, said
    code, said = _run(["close", "--month", "2026-09", "--confirm", "--db", cy], capsys)
    assert code == 2 and "was withdrawn by bob" in said and len(said.strip().splitlines()) == 1, said
    # and the database refuses a close confirming it, whatever client writes it
    close = {"month": "2026-09", "action": "close", "closed_by": "bob", "second": "cy", "reason": "",
             "recorded_at": _now(), "receipt": "{}", "receipt_sha256": "0" * 64}
    engine = login_engine(url, "cy")
    with pytest.raises(sa.exc.DBAPIError, match=re.escape(guards.PERSON_REFUSALS["month_closes"])):
        with engine.begin() as connection:
            connection.execute(tables.month_closes.insert().values(**close))
    engine.dispose()

    # requested again, it waits again and closes; a reopen request is withdrawn alike, and by the owner too
    assert _run(["close", "--month", "2026-09", "--by", "bob", "--db", bob], capsys)[0] == 0
    assert _run(["close", "--month", "2026-09", "--confirm", "--db", cy], capsys)[0] == 0
    assert _run(["reopen", "--month", "2026-09", "--by", "bob", "--reason", "late wire", "--db", bob], capsys)[0] == 0
    code, said = _run(["reopen", "--month", "2026-09", "--withdraw", "--reason", "wire found", "--db", url], capsys)
    assert code == 0 and "withdrew the reopen of 2026-09" in said, said
    code, said = _run(["reopen", "--month", "2026-09", "--confirm", "--db", cy], capsys)
    assert code == 2 and "(wire found)" in said, said
    owner = database.make_engine(url)
    with owner.connect() as connection:
        assert "2026-09" in month_close.closed_months(connection)
        actions = list(connection.scalars(sa.select(tables.close_requests.c.action).order_by(tables.close_requests.c.id)))
    assert actions == ["close", guards.WITHDRAW, "close", "reopen", guards.WITHDRAW]  # every step kept
    assert verification.verify(owner).ok
    owner.dispose()


def test_there_is_no_request_to_withdraw_on_sqlite(tmp_path, capsys):
    engine = ledger_from_text(tmp_path, accounts=ACCOUNTS)
    engine.dispose()
    code, said = _run(["close", "--month", "2026-09", "--withdraw", "--db", f"sqlite:///{tmp_path / 'ledger.sqlite'}"],
                      capsys)
    assert code == 2 and "no request to withdraw" in said and len(said.strip().splitlines()) == 1, said


# --- a ledger of schema 8 or 9, made by the vosbench before these guards, upgraded by its owner ----------------------

EARLIER_SCHEMAS = {"8": "f6451cc", "9": "e70657f", "10": "8d12cd4"}
"""The last commit of vosbench at schemas 8, 9 and 10: its own code makes the ledger the upgrade starts from."""

_MADE_BY_EARLIER_SCHEMA = '''
import sys
from datetime import datetime
from team_ledger import PASSWORD, build, login_engine
from vosbench.ledger import database, identity, month_close, tables, thresholds
from pathlib import Path
url, folder = sys.argv[1], Path(sys.argv[2])  # sys.argv[3]: the reseller's login, sys.argv[4]: the schema
build(url, folder)
assert tables.SCHEMA_VERSION == sys.argv[4]
thresholds.set_threshold(login_engine(url, "bob"), currency="USD", kind="deposit", amount="5000.00", operator="bob",
                         reason="first")
bob, cy = login_engine(url, "bob"), login_engine(url, "cy")
if bob.dialect.name == "sqlite":
    month_close.close(bob, "2026-09", by="bob", second="cy", at=datetime(2026, 11, 2))
else:
    identity.register(database.make_engine(url), sys.argv[3], "reseller:A1", password=PASSWORD)
    month_close.request(bob, "2026-09", "close", by="bob", at=datetime(2026, 11, 2))
    month_close.confirm(cy, "2026-09", "close", at=datetime(2026, 11, 2))
    month_close.request(bob, "2026-10", "close", by="bob", at=datetime(2026, 11, 2))
'''


def _earlier_ledger(url: str, tmp_path, schema: str) -> None:
    """Make, with the code of ``schema`` (:data:`EARLIER_SCHEMAS`) in a process of its own, the team ledger at ``url``
    with September closed (on a server also a reseller's login, and October's close requested)."""
    import os
    import subprocess
    import sys
    import tarfile
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    old = tmp_path / f"schema{schema}"
    old.mkdir()
    archive = subprocess.run(["git", "-C", str(root), "archive", "--format=tar", EARLIER_SCHEMAS[schema], "vosbench",
                              "queries", "parameters"], capture_output=True)
    if archive.returncode != 0:
        pytest.skip(f"the code of schema {schema} (commit {EARLIER_SCHEMAS[schema]}) is not in this checkout's history")
    (tmp_path / "earlier.tar").write_bytes(archive.stdout)
    with tarfile.open(tmp_path / "earlier.tar") as tar:
        tar.extractall(old, filter="data")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(old), str(root / "tests")])}
    made = subprocess.run([sys.executable, "-c", _MADE_BY_EARLIER_SCHEMA, url, str(tmp_path / "in"), RESELLER, schema],
                          env=env, cwd=tmp_path, capture_output=True, text=True)
    assert made.returncode == 0, made.stderr[-2000:]


@pytest.mark.parametrize("schema", sorted(EARLIER_SCHEMAS))
def test_an_earlier_ledger_gets_every_new_guard_when_its_owner_opens_it(schema, any_ledger_url, tmp_path, monkeypatch,
                                                                        capsys):
    from vosbench.ledger import explore_upkeep, setup

    url = any_ledger_url
    _earlier_ledger(url, tmp_path, schema)

    def refilled(*args, **kwargs):
        raise AssertionError(f"the upgrade from schema {schema} filled the explore tables again")

    monkeypatch.setattr(explore_upkeep, "fill", refilled)
    owner = setup.open_ledger(url)
    with owner.connect() as connection:
        assert database.get_meta(connection, "schema_version") == tables.SCHEMA_VERSION == "11"
    inspector = sa.inspect(owner)
    assert not {index["name"] for table, retired in tables.RETIRED_INDEXES.items()
                for index in inspector.get_indexes(table) if index["name"] in retired}  # schema 11 dropped them
    assert verification.verify(owner).ok  # every guard as this vosbench makes it, the renewed ones included
    monkeypatch.undo()
    clerk = login_engine(url, "ann")
    _refused(clerk, tables.balance_snapshots, _balance(datetime(2026, 9, 15)), guards.CLOSED_MONTH_REFUSALS["balance_snapshots"])
    with clerk.begin() as connection:
        insert_linked(connection, tables.balance_snapshots, _balance(datetime(2026, 10, 15)))
    if owner.dialect.name == "sqlite":
        with sqlite3.connect(owner.url.database) as raw, pytest.raises(sqlite3.IntegrityError,
                                                                        match=re.escape(guards.NOT_A_TIME_REFUSALS["charges"])):
            raw.execute("INSERT INTO charges (account_id, day, call_fee, agent_fee, other_fee, calls, source, hash) "
                        "VALUES (1, '2026-13-01', 1, 0, 0, 1, 'raw', 'x')")
    else:
        with pytest.raises(sa.exc.DBAPIError, match=re.escape(guards.OWNER_ONLY_REFUSALS["archives"])
                           + "|permission denied"), clerk.begin() as connection:
            connection.execute(tables.archives.insert().values(**ARCHIVE))
        with pytest.raises(sa.exc.DBAPIError, match=re.escape(guards.PERSON_REFUSALS["close_requests"])):
            with login_engine(url, "cy").begin() as connection:
                connection.execute(tables.close_requests.insert().values(
                    month="2026-10", action=guards.WITHDRAW, requested_by="cy", reason="", requested_at=_now()))
        _head_moves_refused(clerk, "balance_snapshots")  # schema 8 let the writers' role move a chain head anywhere
        with pytest.raises(sa.exc.DBAPIError, match=re.escape(guards.OWNER_ONLY_REFUSALS["operators"])
                           + "|permission denied"), clerk.begin() as connection:  # schema 9 let a clerk register one
            connection.execute(tables.operators.insert().values(login="ghost.sup", name="Ghost", role="supervisor",
                                                                timezone="UTC", shift_start=0, shift_end=1440,
                                                                working_days="1234567"))
        with pytest.raises(sa.exc.DBAPIError, match="permission denied|command denied"), clerk.begin() as connection:
            connection.execute(tables.account_months.delete())  # schema 9 let the writers delete the month totals
        code, said = _run(["close", "--month", "2026-10", "--withdraw", "--db", as_login(url, "bob")], capsys)
        assert code == 0, said  # the request the earlier schema recorded is withdrawn by its requester
        with owner.connect() as connection:
            scoped_database = scopes.login_database(connection, "reseller:A1")
        reseller = database.make_engine(sa.make_url(as_login(url, RESELLER)).set(database=scoped_database)
                                        .render_as_string(hide_password=False))
        with reseller.connect() as connection:
            assert connection.scalar(sa.select(sa.func.count()).select_from(tables.chain_heads)) == 0
            assert connection.scalar(sa.select(sa.func.count()).select_from(tables.import_batches)) == 0
        reseller.dispose()
    clerk.dispose()
    owner.dispose()
