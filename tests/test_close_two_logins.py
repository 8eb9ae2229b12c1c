"""On a server the second person of a close or reopen is a login, not a name the closer types.

A supervisor's login requests the close (``vosbench close --month M --by LOGIN``); another registered
operator, under their own login, confirms it (``--confirm``); only then is the ``month_closes`` row written,
and the database binds its ``second`` to the login writing it. Plain SQL tries the ways round it: a close
with no request, a second named by someone else, a request confirmed twice, a request in another's name.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from db_servers import fresh_database
from team_ledger import as_login, build, login_engine

from vosbench.commands import main
from vosbench.ledger import guards, month_close, tables


@pytest.fixture(params=["postgresql", "mysql"])
def server_team(request, tmp_path) -> str:
    server = request.getfixturevalue("postgresql" if request.param == "postgresql" else "mariadb")
    return build(fresh_database(server), tmp_path / "in")


def run(capsys, url: str, login: str, *argv: str) -> tuple[int, str]:
    code = main.main([*argv, "--db", as_login(url, login)])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return code, (captured.out + captured.err).strip()


def _events(url: str) -> list[tuple]:
    with login_engine(url, "bob").connect() as connection:
        table = tables.month_closes
        return connection.execute(sa.select(table.c.month, table.c.action, table.c.closed_by, table.c.second,
                                            table.c.reason).order_by(table.c.id)).all()


def test_a_close_and_a_reopen_take_the_requesting_supervisor_and_a_second_login(server_team, capsys, tmp_path,
                                                                                monkeypatch):
    monkeypatch.chdir(tmp_path)  # the receipts
    url = server_team
    code, said = run(capsys, url, "bob", "close", "--month", "2026-09", "--by", "bob", "--second", "cy")
    assert code == 2 and said.count("\n") == 0
    assert "the second person is a login, not a name typed here: leave --second out" in said
    code, said = run(capsys, url, "bob", "close", "--month", "2026-09", "--by", "bob")
    assert code == 0 and "it is recorded when another registered operator confirms it" in said
    assert "`vosbench close --month 2026-09 --confirm`" in said
    assert _events(url) == []  # nothing closed yet
    code, said = run(capsys, url, "bob", "close", "--month", "2026-09", "--confirm")
    assert code == 2 and "you (bob) requested the close of 2026-09; another registered operator confirms it" in said
    code, said = run(capsys, url, "cy", "close", "--month", "2026-09", "--by", "cy", "--confirm")
    assert code == 2 and "leave --by out" in said
    code, said = run(capsys, url, "cy", "close", "--month", "2026-09", "--confirm")
    assert code == 0 and said.startswith("closed 2026-09")
    assert _events(url) == [("2026-09", "close", "bob", "cy", "")]
    code, said = run(capsys, url, "cy", "close", "--month", "2026-09", "--confirm")  # a request is confirmed once
    assert code == 2 and "2026-09" in said

    code, said = run(capsys, url, "ann", "record", "--account", "C1", "--kind", "deposit", "--amount", "5",
                     "--operator", "ann", "--method", "cash", "--at", "2026-09-15T10:00:00Z")
    assert code == 2 and ("have the month reopened (`vosbench reopen --month 2026-09 --by LOGIN --reason TEXT`, then "
                          "`vosbench reopen --month 2026-09 --confirm` under another login)") in said  # not --second
    code, said = run(capsys, url, "bob", "reopen", "--month", "2026-09", "--by", "bob", "--reason", "late wire")
    assert code == 0 and "`vosbench reopen --month 2026-09 --confirm`" in said
    code, said = run(capsys, url, "ann", "reopen", "--month", "2026-09", "--confirm")  # a clerk may be the second
    assert code == 0 and said == "reopened 2026-09 (record 2): late wire"
    assert _events(url)[-1] == ("2026-09", "reopen", "bob", "ann", "late wire")


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _close_row(by: str, second: str, month: str = "2026-10", action: str = "close", reason: str = "") -> dict:
    return {"month": month, "action": action, "closed_by": by, "second": second, "reason": reason,
            "recorded_at": _now(), "receipt": "{}", "receipt_sha256": "0" * 64}


def _insert(url: str, login: str, table: sa.Table, row: dict) -> None:
    with login_engine(url, login).begin() as connection:
        connection.execute(table.insert().values(**row))


def _refused(url: str, login: str, table: sa.Table, row: dict) -> None:
    with pytest.raises(sa.exc.DBAPIError, match=re.escape(guards.PERSON_REFUSALS[table.name])):
        _insert(url, login, table, row)


def test_plain_sql_cannot_close_without_a_request_and_a_second_login(server_team):
    url = server_team
    _refused(url, "cy", tables.month_closes, _close_row("bob", "cy"))  # no request
    _refused(url, "ann", tables.close_requests, {"month": "2026-10", "action": "close", "requested_by": "ann",
                                                 "reason": "", "requested_at": _now()})  # a clerk requests nothing
    _refused(url, "ann", tables.close_requests, {"month": "2026-10", "action": "close", "requested_by": "bob",
                                                 "reason": "", "requested_at": _now()})  # nor in bob's name
    month_close.request(login_engine(url, "bob"), "2026-10", "close", by="bob", at=datetime(2026, 11, 2))
    _refused(url, "bob", tables.month_closes, _close_row("bob", "cy"))  # the requester names the second
    _refused(url, "bob", tables.month_closes, _close_row("bob", "bob"))
    _refused(url, "ann", tables.month_closes, _close_row("bob", "cy"))  # a second named by another login
    _refused(url, "cy", tables.month_closes, _close_row("dee", "cy"))  # not the requester
    _refused(url, "cy", tables.month_closes, _close_row("bob", "cy", action="reopen", reason="x"))  # not the action
    _insert(url, "cy", tables.month_closes, _close_row("bob", "cy"))  # the request, confirmed by cy's own login
    _refused(url, "dee", tables.month_closes, _close_row("bob", "dee"))  # and only once
    assert _events(url) == [("2026-10", "close", "bob", "cy", "")]


def test_close_through_is_requested_then_confirmed_month_by_month(server_team, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    url = server_team
    code, said = run(capsys, url, "bob", "close", "--through", "2026-10", "--by", "bob")
    assert code == 0 and said.count("requested the close of") == 1  # the team ledger holds no records: October alone
    code, said = run(capsys, url, "dee", "close", "--through", "2026-10", "--confirm")
    assert code == 0 and said.startswith("closed 2026-10")
    assert _events(url) == [("2026-10", "close", "bob", "dee", "")]


def test_an_auditors_login_is_told_its_role_may_not_confirm_a_close(server_team, capsys, tmp_path, monkeypatch):
    """Before, an auditor's `--confirm` ended in "permission denied for table chain_heads; check the --db URL and run
    vosbench verify": confirming writes the close, which only the writers' role (clerks, supervisors) may."""
    from team_ledger import PASSWORD

    from vosbench.ledger import database, identity

    monkeypatch.chdir(tmp_path)  # the receipt
    url = server_team
    owner = database.make_engine(url)
    identity.register(owner, "aud.one", "auditor", password=PASSWORD)
    owner.dispose()
    assert run(capsys, url, "bob", "close", "--month", "2026-09", "--by", "bob")[0] == 0
    code, said = run(capsys, url, "aud.one", "close", "--month", "2026-09", "--confirm")
    assert code == 2 and said.count("\n") == 0, said
    assert ("aud.one is a registered auditor, and that role may not confirm a close: confirming writes the close (its "
            "record, its chain heads), which only a clerk's or supervisor's login may; another clerk or supervisor "
            "confirms it under their own login (`vosbench close --month 2026-09 --confirm`)") in said, said
    assert _events(url) == []
    assert run(capsys, url, "cy", "close", "--month", "2026-09", "--confirm")[0] == 0
    assert _events(url) == [("2026-09", "close", "bob", "cy", "")]
