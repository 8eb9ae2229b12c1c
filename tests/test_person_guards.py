"""On a server a person's row is written under the login that sends it, whatever client or SQL sends it.

A clerk's own login, with plain SQL (as psql would), tries to write rows in other people's
names: a month closed by two supervisors, a request rejected by a supervisor, a finding
explained by an auditor, a matching decision and a shared view by someone else, a manual
entry under another clerk, a first threshold as the installer. The database refuses each, with
the table and the rule; the same rows under the clerk's own name and role pass where the role
allows them. The command line says so in one line before the database has to.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from db_servers import fresh_database
from team_ledger import as_login, build, login_engine

from vosbench.commands import main
from vosbench.ledger import approvals, database, guards, tables, text_index, thresholds, verification
from vosbench.ledger.policy import ControlSettings


def _now() -> datetime:
    """The server's clock's time, as naive UTC (a record's recorded_at must be within minutes of it)."""
    return datetime.now(UTC).replace(tzinfo=None)


@pytest.fixture(params=["postgresql", "mysql"])
def on_server(request, tmp_path):
    """The team ledger on a server, and the server: every operator a login (ann, alice clerks; bob, cy, dee, eve
    supervisors)."""
    server = request.getfixturevalue("postgresql" if request.param == "postgresql" else "mariadb")
    return build(fresh_database(server), tmp_path / "in"), server


@pytest.fixture
def server_team(on_server) -> str:
    return on_server[0]


def _refused(url: str, login: str, table: sa.Table, row: dict, rule: str) -> None:
    engine = login_engine(url, login)
    with pytest.raises(sa.exc.DBAPIError, match=re.escape(rule)), engine.begin() as connection:
        connection.execute(table.insert().values(**row))
    engine.dispose()


def _close(by: str, second: str) -> dict:
    return {"month": "2026-09", "action": "close", "closed_by": by, "second": second, "reason": "", "recorded_at": _now(),
            "receipt": "{}", "receipt_sha256": "0" * 64}


def test_a_clerk_cannot_write_a_persons_row_in_another_name_by_plain_sql(server_team):
    url, now = server_team, _now()
    supervisor = login_engine(url, "bob")
    thresholds.set_threshold(supervisor, currency="USD", kind="deposit", amount="5000.00", operator="bob")
    request = approvals.submit(login_engine(url, "ann"), ControlSettings(), account="C1", kind="deposit", amount="20000.00",
                               operator="ann", occurred_at=datetime(2026, 10, 5, 10, tzinfo=UTC))
    assert request.status == "pending"
    refusal = guards.PERSON_REFUSALS
    _refused(url, "ann", tables.month_closes, _close("bob", "cy"), refusal["month_closes"])
    _refused(url, "ann", tables.month_closes, _close("ann", "bob"), refusal["month_closes"])  # a clerk closes nothing
    _refused(url, "bob", tables.month_closes, _close("bob", "bob"), refusal["month_closes"])  # and no one alone
    decision = {"request_id": request.id, "decision": "rejected", "decided_at": now, "reason": "no", "payment_id": None}
    _refused(url, "ann", tables.approval_decisions, {**decision, "checker": "bob"}, refusal["approval_decisions"])
    _refused(url, "cy", tables.approval_decisions, {**decision, "checker": "bob"}, refusal["approval_decisions"])
    note = {"finding_id": "F-1", "status": "explained", "note": "fine", "annotated_at": now}
    _refused(url, "ann", tables.finding_annotations, {**note, "author": "bob"}, refusal["finding_annotations"])
    _refused(url, "ann", tables.finding_annotations, {**note, "author": "ann"}, refusal["finding_annotations"])
    _refused(url, "ann", tables.match_decisions, {"action": "confirm", "line_ids": "1", "payment_ids": "1",
                                                  "decided_by": "alice", "decided_at": now, "note": ""},
             refusal["match_decisions"])
    _refused(url, "ann", tables.saved_views, {"name": "v", "document": "kinds: deposit\n", "saved_by": "bob",
                                              "saved_at": now}, refusal["saved_views"])
    entry = {"account_id": 1, "kind": "deposit", "amount": 1_000_000, "occurred_at": now, "recorded_at": now,
             "operator": "alice", "channel": "admin", "method": "cash", "reference": "", "memo": "", "reason": "",
             "approved_by": "", "source": guards.MANUAL_SOURCE, "source_key": "forged-1", "hash": "0" * 64}
    _refused(url, "ann", tables.payments, entry, refusal["payments"])
    _refused(url, "ann", tables.approval_thresholds, {"currency": "GBP", "kind": "deposit", "amount": 999_999_990_000,
                                                      "set_by": "installer", "set_at": now, "reason": "seed"},
             guards.SETTER_REFUSAL)

    # under their own names and roles the same acts pass: a supervisor's decision, an annotation, a view
    checker = login_engine(url, "cy")
    with checker.begin() as connection:
        connection.execute(tables.approval_decisions.insert().values(**decision, checker="cy"))
        connection.execute(tables.finding_annotations.insert().values(**note, author="cy"))
        connection.execute(tables.saved_views.insert().values(name="v", document="kinds: deposit\n", saved_by="cy",
                                                              saved_at=now))
    checker.dispose()
    owner = database.make_engine(url)
    assert verification.verify(owner).ok
    owner.dispose()


def test_a_clerk_closing_or_reopening_in_supervisors_names_is_told_in_one_line(server_team, capsys):
    url = as_login(server_team, "ann")
    assert main.main(["close", "--db", url, "--month", "2026-09", "--by", "bob", "--second", "cy"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["vosbench close: you are connected as ann; --by bob differs. On a server ledger the person who "
                   "does it is the database login: give --by ann, or connect as bob"]
    assert main.main(["reopen", "--db", url, "--month", "2026-09", "--by", "bob", "--second", "cy",
                      "--reason", "late wire"]) == 2
    assert "you are connected as ann; --by bob differs" in capsys.readouterr().err


def test_adding_an_operator_never_resets_a_logins_password_nor_makes_the_owner_one(on_server, capsys, monkeypatch):
    """`operators add` of a login the server had reset its password and said "login created"; of the owner, made the
    owner a clerk. An existing login (a person's on another ledger) now keeps its password; the owner is refused."""
    url, server = on_server
    owner = sa.make_url(url).username
    monkeypatch.setenv("OTHER_PASSWORD", "taken-over")
    assert main.main(["operators", "--db", url, "add", owner, "--role", "clerk", "--password-env", "OTHER_PASSWORD"]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        f"vosbench operators: login {owner} is the one connected, the ledger's owner: the owner is no operator; "
        "register the people who work on the ledger under logins of their own"]
    other_url = fresh_database(server, "other")  # a second ledger on the same server
    assert main.main(["server", "init", "--db", other_url]) == 0
    assert main.main(["operators", "--db", other_url, "add", "bob", "--role", "clerk", "--password-env",
                      "OTHER_PASSWORD"]) == 0
    assert "login bob was on the server already and keeps its password (the one given was not used)" in \
        capsys.readouterr().out
    bob = login_engine(other_url, "bob")  # with the password it had (on MariaDB its default role is now this ledger's)
    with bob.connect() as connection:
        assert connection.scalar(sa.select(tables.operators.c.role).where(tables.operators.c.login == "bob")) == "clerk"
    bob.dispose()


def test_a_login_cannot_change_the_ledgers_time_zone_or_version_but_keeps_the_text_mark(server_team):
    """One UPDATE by a clerk recut every day and month of everyone's reports in another zone."""
    url = server_team
    clerk = login_engine(url, "ann")
    meta = tables.ledger_meta
    for statement in (meta.update().where(meta.c.key == "timezone").values(value="Pacific/Kiritimati"),
                      meta.delete().where(meta.c.key == "schema_version"),
                      meta.insert().values(key="demo_answer_key", value="{}")):
        with pytest.raises(sa.exc.DBAPIError, match=re.escape(guards.SETTINGS_REFUSAL)), clerk.begin() as connection:
            connection.execute(statement)
    with clerk.begin() as connection:  # what a login's writes keep up, as the text index does after an entry
        database.set_meta(connection, text_index.MARK_KEY, "0")
    with clerk.connect() as connection:
        assert database.ledger_timezone(connection) == "UTC"
        assert database.get_meta(connection, text_index.MARK_KEY) == "0"
    clerk.dispose()


def test_a_clerk_cannot_add_or_move_an_account_but_a_supervisor_can(server_team):
    """A clerk's own INSERT moved another reseller's customer under R1 (whose login then saw its payments), or raised
    a credit limit, naming a supervisor as the changer."""
    url = server_team
    owner = database.make_engine(url)
    with owner.connect() as connection:
        ids = dict(connection.execute(sa.select(tables.accounts.c.account, tables.accounts.c.id)).all())
    owner.dispose()
    moved = {"account_id": ids["C1"], "name": "Customer 1", "parent_id": ids["R1"], "credit_limit": 10**12,
             "currency": "USD", "changed_by": "bob", "changed_at": _now(), "batch_id": None}
    _refused(url, "ann", tables.account_versions, moved, guards.PERSON_REFUSALS["account_versions"])
    _refused(url, "ann", tables.accounts, {"account": "X9", "name": "Ghost", "kind": "customer", "parent_id": ids["R1"],
                                          "credit_limit": 0, "currency": "USD", "timezone": "UTC", "batch_id": None},
             guards.PERSON_REFUSALS["accounts"])
    supervisor = login_engine(url, "bob")
    with supervisor.begin() as connection:
        connection.execute(tables.account_versions.insert().values(**{**moved, "credit_limit": 0}))
    supervisor.dispose()
