"""Append-only in the server itself: each application role's own connection tries to edit recorded rows.

A small demo is put on PostgreSQL and on MariaDB, ``vosbench server init`` gives it its
roles, and a login is made for each role. Every statement below is sent by each login
(and the edits by the owner too, whom the triggers stop as well); the server must refuse
each one, and afterwards the chains and month totals are exactly as before. The writer's
login must still be able to record through the write door.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from db_servers import fresh_database

from vosbench.commands import main
from vosbench.ledger import database, manual_entry, roles, verification
from vosbench.sources.demo.build import build_demo
from vosbench.sources.demo.scale import DemoScale

EDITS = {  # refused for everyone, the owner included: the triggers
    "postgresql": [
        "UPDATE payments SET amount = amount + 1 WHERE id = 1",
        "DELETE FROM payments WHERE id = 1",
        "TRUNCATE charges",
        "TRUNCATE payments CASCADE",
        "INSERT INTO payments SELECT * FROM payments WHERE id = 1 "
        "ON CONFLICT (id) DO UPDATE SET amount = EXCLUDED.amount + 1",
        "UPDATE balance_snapshots SET balance = 0",
        "DELETE FROM import_batches",
    ],
    "mysql": [
        "UPDATE payments SET amount = amount + 1 WHERE id = 1",
        "DELETE FROM payments WHERE id = 1",
        "REPLACE INTO payments SELECT * FROM payments WHERE id = 1",
        "INSERT INTO payments SELECT * FROM payments AS p WHERE p.id = 1 "
        "ON DUPLICATE KEY UPDATE amount = VALUES(amount) + 1",
        "UPDATE balance_snapshots SET balance = 0",
        "DELETE FROM import_batches",
    ],
}
SCHEMA_CHANGES = {  # refused to the application's roles: only the owner changes the schema
    "postgresql": [
        "TRUNCATE charges",
        "ALTER TABLE payments DISABLE TRIGGER ALL",
        "DROP TRIGGER payments_no_change ON payments",
        "DROP TABLE charges CASCADE",
        "CREATE TABLE payments_copy AS SELECT * FROM payments",
    ],
    "mysql": [
        "TRUNCATE charges",
        "DROP TRIGGER payments_no_update",
        "DROP TABLE charges",
        "ALTER TABLE payments ADD COLUMN note INT",
        "CREATE TABLE payments_copy AS SELECT * FROM payments",
    ],
}
LOGINS = {"clerk.one": "writer", "audit.one": "auditor", "agent.one": "reader"}
PASSWORD = "s3cret'\\pw"  # a quote and a backslash: the password is quoted by the dialect, never pasted raw


@pytest.fixture(scope="module", params=["postgresql", "mysql"])
def team_ledger(request):
    """A small demo on a server, with roles and one login per role: (dialect, owner URL, server)."""
    server = request.getfixturevalue("postgresql" if request.param == "postgresql" else "mariadb")
    url = fresh_database(server, "team")
    build_demo(url, DemoScale(customers=20, months=2), progress=False)
    assert main.main(["server", "init", "--db", url]) == 0
    assert main.main(["server", "init", "--db", url]) == 0  # idempotent
    engine = database.make_engine(url)
    with engine.begin() as connection:
        for login, kind in LOGINS.items():
            roles.create_login(connection, login, PASSWORD, kind)
    engine.dispose()
    return request.param, url, server


def _login_url(url: str, login: str) -> str:
    return sa.make_url(url).set(username=login, password=PASSWORD).render_as_string(hide_password=False)


def _state(url: str):
    engine = database.make_engine(url)
    try:
        result = verification.verify(engine)
        return result.ok, result.fingerprint
    finally:
        engine.dispose()


def _refused(url: str, statement: str) -> str:
    """Send ``statement`` on its own connection; the server's refusal (fails the test if it ran)."""
    engine = database.make_engine(url)
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql(statement)
    except sa.exc.DBAPIError as error:
        return str(error.orig).splitlines()[0]
    finally:
        engine.dispose()
    pytest.fail(f"the server accepted {statement!r}")


@pytest.mark.parametrize("login", ["owner", *LOGINS])
def test_recorded_rows_cannot_be_changed_by_anyone(team_ledger, login):
    dialect, url, _server = team_ledger
    before = _state(url)
    connect = url if login == "owner" else _login_url(url, login)
    for statement in EDITS[dialect]:
        if login == "owner" and statement.startswith("TRUNCATE payments"):
            continue  # the owner may drop the guards anyway; the chain is what catches an owner
        refusal = _refused(connect, statement)
        if login == "owner" or LOGINS[login] == "writer":
            assert "append-only" in refusal or "denied" in refusal, (statement, refusal)
    assert _state(url) == before


@pytest.mark.parametrize("login", list(LOGINS))
def test_application_roles_cannot_change_the_schema(team_ledger, login):
    dialect, url, _server = team_ledger
    before = _state(url)
    for statement in SCHEMA_CHANGES[dialect]:
        _refused(_login_url(url, login), statement)
    assert _state(url) == before


def test_the_writer_records_through_the_write_door_and_readers_cannot(team_ledger):
    _dialect, url, _server = team_ledger
    at = datetime(2026, 10, 5, 9, 0, tzinfo=UTC)
    for login, kind in LOGINS.items():
        engine = database.make_engine(_login_url(url, login))
        try:
            if kind == "writer":
                manual_entry.record(engine, account="C00001", kind="deposit", amount="5.00", occurred_at=at,
                                    operator=login, method="cash", reference=f"by {login}")
            else:
                with pytest.raises(sa.exc.DBAPIError, match="denied"):
                    manual_entry.record(engine, account="C00001", kind="deposit", amount="5.00",
                                        occurred_at=at, operator=login, method="cash")
        finally:
            engine.dispose()
    ok, fingerprint = _state(url)
    assert ok


def test_the_owner_sees_its_logins_and_current_login(team_ledger):
    _dialect, url, _server = team_ledger
    engine = database.make_engine(_login_url(url, "clerk.one"))
    with engine.connect() as connection:
        assert roles.current_login(connection) == "clerk.one"
    engine.dispose()
