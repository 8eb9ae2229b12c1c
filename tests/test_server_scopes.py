"""Scoped logins on PostgreSQL and MariaDB: a reseller or agent sees its own subtree in everything, and cannot escape it.

The demo is put on each server, a reseller and an agent get logins, and everything they
can ask for is compared with what the owner sees of their subtree: reconciliations,
queries with accounts outside the scope, text search, exports, statements. Raw SQL that
asks for every row still gets only the subtree, and so does the audit notebook given the
reseller's URL as its ledger: the server enforces it (PostgreSQL's row-level security,
MariaDB's definer views; on MariaDB the ledger's own tables refuse the login outright).
"""

from __future__ import annotations

import contextlib
import csv
import io
import re

import openpyxl
import pandas as pd
import pytest
import sqlalchemy as sa
from db_servers import fresh_database

from vosbench.analysis import reconcile
from vosbench.commands import main
from vosbench.ledger import database, identity, scopes, tables
from vosbench.outputs import report
from vosbench.sources.demo.build import build_demo
from vosbench.sources.demo.scale import DemoScale

PASSWORD = "scoped-pw"


@pytest.fixture(scope="module", params=["postgresql", "mariadb"])
def scoped(request):
    """(owner URL, reseller URL, agent URL) on a small demo, on each server in turn."""
    url = fresh_database(request.getfixturevalue(request.param), "scoped")
    build_demo(url, DemoScale(customers=40, months=3), progress=False)
    with contextlib.redirect_stdout(io.StringIO()):
        assert main.main(["server", "init", "--db", url]) == 0
    engine = database.make_engine(url)
    identity.register(engine, "res.one", "reseller:R0001", password=PASSWORD)
    identity.register(engine, "agent.two", "agent:A0002", password=PASSWORD)
    with engine.connect() as connection:
        views = scopes.login_database(connection, "reseller:R0001")
    engine.dispose()

    def login(name):
        return sa.make_url(url).set(username=name, password=PASSWORD, database=views).render_as_string(
            hide_password=False)

    return url, login("res.one"), login("agent.two")


def _subtree(url: str, root: str) -> set[str]:
    return set(reconcile.reconcile(database.make_engine(url), "2026-10", subtree=root).accounts["account"])


def _run(argv: list[str], url: str) -> tuple[int, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        code = main.main([argv[0], "--db", url, *argv[1:]])
    return code, out.getvalue()


@pytest.mark.parametrize("who, root", [(1, "R0001"), (2, "A0002")])
def test_a_scoped_reconciliation_is_the_owners_view_of_that_subtree(scoped, who, root):
    owner, login = scoped[0], scoped[who]
    mine = reconcile.reconcile(database.make_engine(login), "2026-10")
    theirs = reconcile.reconcile(database.make_engine(owner), "2026-10", subtree=root).accounts
    theirs.loc[theirs["account"] == root, "parent"] = ""  # the account above the subtree is outside it
    pd.testing.assert_frame_equal(mine.accounts, theirs)
    everyone = reconcile.reconcile(database.make_engine(owner), "2026-10").accounts
    assert 0 < len(mine.accounts) < len(everyone)


def test_accounts_outside_the_scope_do_not_exist_for_the_login(scoped):
    owner, reseller, agent = scoped
    outside = sorted(_subtree(owner, "R0002") - _subtree(owner, "R0001"))[0]
    code, out = _run(["query", "--account", outside], reseller)
    assert code == 2 and f"{outside!r}" in out and "Traceback" not in out
    code, out = _run(["reconcile", "--month", "2026-10", "--subtree", "R0002"], reseller)
    assert code == 2 and "'R0002' is not in the ledger" in out
    code, out = _run(["reconcile", "--month", "2026-10", "--subtree", "R0001"], agent)
    assert code == 2 and "'R0001' is not in the ledger" in out


def test_text_search_and_exports_stay_inside(scoped, tmp_path):
    owner, reseller, _agent = scoped
    inside = _subtree(owner, "R0001")
    export = tmp_path / "all.csv"
    assert _run(["query", "--text", "welcome", "--format", "csv", "--out", str(export)], reseller)[0] == 0
    with export.open(encoding="utf-8") as handle:
        accounts = {row["account"] for row in csv.DictReader(line for line in handle if not line.startswith("#"))}
    assert accounts and accounts <= inside
    assert _run(["query", "--format", "json"], owner)[1] != _run(["query", "--format", "json"], reseller)[1]


def test_raw_sql_sees_only_the_subtree_and_none_of_the_back_office(scoped):
    owner, reseller, _agent = scoped
    inside = _subtree(owner, "R0001")
    engine = database.make_engine(reseller)
    with engine.connect() as connection:
        seen = set(connection.scalars(sa.text(
            "SELECT DISTINCT a.account FROM payments p JOIN accounts a ON a.id = p.account_id WHERE 1 = 1 OR true")))
        assert seen and seen <= inside
        assert set(connection.scalars(sa.text("SELECT account FROM accounts"))) == inside
        for table in ("statement_lines", "approval_requests", "finding_annotations", "match_decisions"):
            assert connection.scalar(sa.text(f"SELECT count(*) FROM {table}")) == 0, table
        assert list(connection.scalars(sa.text("SELECT login FROM operators"))) == ["res.one"]
        assert connection.scalar(sa.text("SELECT count(*) FROM charges WHERE account_id NOT IN "
                                         "(SELECT id FROM accounts)")) == 0
    engine.dispose()
    owner_engine = database.make_engine(owner)
    with owner_engine.connect() as connection:
        assert connection.scalar(sa.text("SELECT count(*) FROM statement_lines")) > 0
    owner_engine.dispose()


def test_every_table_has_a_scope_policy():
    covered = {*scopes.BY_ACCOUNT, *scopes.OPEN, *scopes.HIDDEN, "accounts", "operators"}
    assert covered == set(tables.metadata.tables)


def _statements_refused(url: str, statements: list[str]) -> dict[str, str]:
    """Each statement run on the login's own connection → the server's answer (``ACCEPTED`` if none)."""
    engine = database.make_engine(url)
    answers = {}
    with engine.connect() as connection:
        for statement in statements:
            try:
                connection.exec_driver_sql(statement)
            except (sa.exc.OperationalError, sa.exc.ProgrammingError, sa.exc.InternalError) as error:
                answers[statement] = str(error.orig)
            else:
                answers[statement] = "ACCEPTED"
            connection.rollback()
    engine.dispose()
    return answers


def test_a_scoped_login_can_change_nothing_and_reach_no_table_outside_its_views(scoped):
    owner, reseller, _agent = scoped
    if owner.startswith("mysql"):
        ledger = sa.make_url(owner).database
        tried = [f"SELECT count(*) FROM {ledger}.payments", f"SELECT account FROM {ledger}.accounts",
                 f"SELECT * FROM {ledger}.statement_lines", "UPDATE payments SET amount = 0",
                 "DELETE FROM accounts", "INSERT INTO ledger_meta (`key`, value) VALUES ('x', 'y')",
                 "CREATE OR REPLACE VIEW payments AS SELECT 1 AS id", "DROP VIEW payments",
                 f"CREATE OR REPLACE SQL SECURITY DEFINER VIEW everything AS SELECT * FROM {ledger}.payments",
                 f"GRANT SELECT ON {ledger}.* TO CURRENT_USER", f"SHOW CREATE TABLE {ledger}.payments"]
    else:  # PostgreSQL: the login reads the tables under row-level security, and may write nothing
        tried = ["UPDATE payments SET amount = 0", "DELETE FROM accounts", "TRUNCATE payments",
                 "INSERT INTO ledger_meta (key, value) VALUES ('x', 'y')", "ALTER TABLE payments DISABLE ROW LEVEL SECURITY",
                 "DROP POLICY vosbench_scope ON payments", "CREATE TABLE everything AS SELECT * FROM payments",
                 "SET row_security = off; SELECT count(*) FROM payments"]
    answers = _statements_refused(reseller, tried)
    assert "ACCEPTED" not in answers.values(), answers
    if owner.startswith("mysql"):
        with pytest.raises(sa.exc.DatabaseError):
            with database.make_engine(sa.make_url(reseller).set(database=ledger)).connect():
                pass  # the ledger's own database refuses the connection itself
    print("\n".join(f"{statement} -> {answer}" for statement, answer in answers.items()))


@pytest.mark.slow
def test_the_audit_notebook_run_as_a_reseller_reports_its_subtree_only(scoped, tmp_path):
    owner, reseller, _agent = scoped
    inside = _subtree(owner, "R0001")
    outputs = report.run_audit("2026-10", overrides={"write_png": "false"}, out_dir=tmp_path, db_url=reseller,
                               progress=False)
    named = {value for sheet in openpyxl.load_workbook(outputs.xlsx) for row in sheet.iter_rows(values_only=True)
             for value in row if isinstance(value, str) and re.fullmatch(r"[CAR]\d{4,5}", value)}
    assert "R0001" in named and named <= inside


def test_checks_of_the_whole_ledger_say_they_are_not_made_by_a_scoped_login(scoped, tmp_path):
    """A reseller's login sees its subtree, no chain head and no threshold: verify found every other row missing and
    the controls every manual entry unapproved. Now `verify` says it verifies nothing under that login and why (exit
    2), the threshold check is not run, and the audit's Verification sheet says 'not made' without failing the run;
    the owner's verification and findings are unchanged."""
    from vosbench import controls
    from vosbench.ledger import verification

    owner, reseller, _agent = scoped
    code, said = _run(["verify"], reseller)
    assert code == 2 and "nothing verified: this login (reseller:R0001) sees its subtree only" in said
    assert "FAILED" not in said and "Traceback" not in said
    assert verification.verify(database.make_engine(owner)).ok
    assert verification.verify(database.make_engine(reseller)).unmade
    found = controls.run(database.make_engine(reseller), "2026-10")
    assert "unapproved_above_threshold" in found.not_run
    assert not [finding for finding in found.findings if finding.check == "unapproved_above_threshold"]
    assert "unapproved_above_threshold" not in controls.run(database.make_engine(owner), "2026-10").not_run
    code, said = _run(["audit", "--month", "2026-10", "--out", str(tmp_path), "-p", "write_png=false"], reseller)
    assert code == 0 and "FAILED" not in said, said
    rows = list(openpyxl.load_workbook(tmp_path / "2026-10" / "monthly-audit-2026-10.xlsx")["Verification"]
                .iter_rows(values_only=True))
    assert rows[1][:2] == ("verification", "not made") and "sees its subtree only" in rows[1][2]
