"""A period's subtree is the tree as it stood at the period's end: a closed month's subtree figures stay put.

The rule: an account belongs, for a whole period, to the subtree it sat in when the period
ended — a move the ledger recorded before the end counts for the whole period (a move in
the middle of October moves the account's whole October), one recorded after it counts
from the next period on. The ledger below has two resellers; C1 moves from R1 to R2 on
5 October (after September closed), C2 on 3 November (after October ended). What a
reseller's login may see is a separate matter: the tree as it is now (tests/test_server_scopes.py).
"""

from __future__ import annotations

import contextlib
import io
from datetime import date, datetime

import pytest
import sqlalchemy as sa
from db_servers import fresh_database
from ledger_text import write_ledger_files

from vosbench.analysis import reconcile, report_scope
from vosbench.analysis.filters import PaymentFilter
from vosbench.analysis.saved_views import SavedView
from vosbench.commands import main
from vosbench.core import periods
from vosbench.core.model import AccountKind
from vosbench.ledger import database, identity, month_close, scopes, setup
from vosbench.ledger.write_door import NewAccount, append_batch
from vosbench.outputs import audit, customer_statement
from vosbench.outputs.finance import FinanceSummary
from vosbench.sources import csv_import

ACCOUNTS = """
    account,name,kind,parent,credit_limit,currency,timezone
    R1,North Reseller,reseller,,0,USD,UTC
    R2,South Reseller,reseller,,0,USD,UTC
    A1,Agent Alpha,agent,R1,0,USD,UTC
    A2,Agent Beta,agent,R2,0,USD,UTC
    C1,Acme Trading,customer,A1,0,USD,UTC
    C2,Bolt Ltd,customer,A1,0,USD,UTC
    C3,Cobalt Inc,customer,A2,0,USD,UTC
"""
PAYMENTS = """
    source_key,account,kind,amount,occurred_at,operator,channel,method
    p1,C1,deposit,100.00,2026-09-05T10:00:00Z,ann,admin,cash
    p2,C2,deposit,40.00,2026-09-06T10:00:00Z,ann,admin,cash
    p3,C3,deposit,7.00,2026-09-07T10:00:00Z,ann,admin,cash
    p4,C1,deposit,30.00,2026-10-10T10:00:00Z,ann,admin,cash
    p5,C2,deposit,20.00,2026-10-12T10:00:00Z,ann,admin,cash
"""
SEPTEMBER_CLOSED = datetime(2026, 10, 2)
C1_MOVES = datetime(2026, 10, 5, 9)  # in October, after September closed
C2_MOVES = datetime(2026, 11, 3, 9)  # after October ended


def _move(engine, account: str, name: str, parent: str, at: datetime) -> None:
    """Put ``account`` under ``parent`` as an import recorded at ``at`` would (a new version of it)."""
    append_batch(engine, "accounts", [NewAccount(account, name, AccountKind.CUSTOMER, parent, 0, "USD", "UTC", 2)],
                 source="test", file="accounts.csv", recorded_at=at)


def _figures(engine, month: str, root: str) -> dict[str, tuple[int, int, int]]:
    """Each account of ``root``'s subtree in ``month``: (opening, payments, expected closing)."""
    frame = reconcile.reconcile(engine, month, subtree=root).accounts
    return {row.account: (row.opening, row.payments, row.expected_closing) for row in frame.itertuples()}


@pytest.fixture
def engine(any_ledger_url, tmp_path):
    engine = setup.open_ledger(any_ledger_url, create=True)
    csv_import.import_paths(engine, [write_ledger_files(tmp_path / "in", accounts=ACCOUNTS, payments=PAYMENTS)])
    yield engine
    engine.dispose()


def test_a_move_after_a_month_closed_leaves_its_subtree_figures_and_the_next_month_follows_it(engine):
    month_close.close(engine, "2026-09", by="sue", at=SEPTEMBER_CLOSED)
    september = {root: _figures(engine, "2026-09", root) for root in ("R1", "R2", "A1")}
    assert september["R1"] == {"C1": (0, 1000000, 1000000), "C2": (0, 400000, 400000)}  # R1 and A1 hold nothing
    _move(engine, "C1", "Acme Trading", "A2", C1_MOVES)
    _move(engine, "C2", "Bolt Ltd", "A2", C2_MOVES)
    assert {root: _figures(engine, "2026-09", root) for root in ("R1", "R2", "A1")} == september
    for month, parent in (("2026-09", "A1"), ("2026-10", "A2")):  # the parent column is the month's too
        for rows in (reconcile.reconcile(engine, month).accounts, reconcile.reconcile(engine, month, subtree="R1" if
                                                                                        parent == "A1" else "R2").accounts):
            assert dict(zip(rows["account"], rows["parent"]))["C1"] == parent
    # October: C1 moved on the 5th, so its whole October (opening included) is R2's; C2 moved after October ended
    october_r1, october_r2 = _figures(engine, "2026-10", "R1"), _figures(engine, "2026-10", "R2")
    assert october_r1 == {"C2": (400000, 200000, 600000)}
    assert october_r2 == {"C1": (1000000, 300000, 1300000), "C3": (70000, 0, 70000)}
    # November: both moved
    assert _figures(engine, "2026-11", "R1") == {}
    assert set(_figures(engine, "2026-11", "A2")) == {"C1", "C2", "C3"}


def test_the_finance_summary_statements_and_a_view_read_the_months_tree(engine):
    def summary(month: str, *roots: str) -> FinanceSummary:
        return FinanceSummary.compute(engine, month, subtrees=roots)

    before = summary("2026-09", "R1")
    resellers_before = summary("2026-09").top_resellers()
    _move(engine, "C1", "Acme Trading", "A2", C1_MOVES)
    after = summary("2026-09", "R1")
    assert sorted(after.accounts["account"]) == ["C1", "C2"]
    assert after.headline().equals(before.headline())
    assert summary("2026-09").top_resellers().equals(resellers_before)
    assert dict(zip(resellers_before["reseller"], resellers_before["deposit"])) == {"R1": 1400000, "R2": 70000}
    october = summary("2026-10").top_resellers()
    assert dict(zip(october["reseller"], october["deposit"])) == {"R1": 200000, "R2": 300000}

    assert customer_statement.subtree(engine, "R1", date(2026, 9, 30)) == ["R1", "A1", "C1", "C2"]
    assert customer_statement.subtree(engine, "R1", date(2026, 10, 31)) == ["R1", "A1", "C2"]

    view = SavedView("r1-all", PaymentFilter(accounts=("R1",), include_sub_accounts=True))
    with engine.connect() as connection:
        for month, expected in (("2026-09", {"R1", "A1", "C1", "C2"}), ("2026-10", {"R1", "A1", "C2"})):
            scope = report_scope.for_month(view, periods.month(month, "UTC"))
            assert scope.account_numbers(connection) == expected
        september = report_scope.for_month(view, periods.month("2026-09", "UTC"))
        moved = audit.query_movements(connection, september.period, where=september.payment_conditions(connection))
        assert int(moved["money_in"].sum()) == 1400000  # C1's and C2's September deposits, C1 moved since


def test_an_unknown_subtree_is_still_named(engine):
    with pytest.raises(reconcile.ReconcileError, match="subtree 'Z9' is not in the ledger"):
        reconcile.reconcile(engine, "2026-09", subtree="Z9")
    view = SavedView("z9", PaymentFilter(accounts=("Z9",), include_sub_accounts=True))
    with engine.connect() as connection:  # an unknown root covers nothing, never every account
        assert report_scope.for_month(view, periods.month("2026-09", "UTC")).account_numbers(connection) == set()


@pytest.mark.parametrize("server", ["postgresql", "mariadb"])
def test_a_resellers_login_sees_its_subtree_as_it_is_now(request, server, tmp_path):
    """Access is the tree now: a past month's subtree as a reseller's login reads it is the month's subtree
    limited to what the login sees today (an account moved out is gone from it, one moved in shows its past)."""
    url = fresh_database(request.getfixturevalue(server), "asof")
    engine = setup.open_ledger(url, create=True)
    csv_import.import_paths(engine, [write_ledger_files(tmp_path / "in", accounts=ACCOUNTS, payments=PAYMENTS)])
    _move(engine, "C1", "Acme Trading", "A2", C1_MOVES)
    with contextlib.redirect_stdout(io.StringIO()):
        assert main.main(["server", "init", "--db", url]) == 0
    logins = {}
    for login, role in (("asof.north", "reseller:R1"), ("asof.south", "reseller:R2")):
        identity.register(engine, login, role, password="asof-pw")
        with engine.connect() as connection:
            views = scopes.login_database(connection, role)
        logins[role] = database.make_engine(sa.make_url(url).set(username=login, password="asof-pw", database=views)
                                            .render_as_string(hide_password=False))
    assert set(_figures(engine, "2026-09", "R1")) == {"C1", "C2"}  # the owner: September's tree
    north, south = logins["reseller:R1"], logins["reseller:R2"]
    assert set(_figures(north, "2026-09", "R1")) == {"C2"}  # C1 has left R1: its login no longer sees it
    assert set(_figures(south, "2026-09", "R2")) == {"C3"}  # C1 was not R2's in September
    moved_in = reconcile.reconcile(south, "2026-09", account="C1").accounts  # but R2 now sees C1's past
    assert list(moved_in["expected_closing"]) == [1000000]
    with pytest.raises(reconcile.ReconcileError, match="account 'C1' is not in the ledger"):
        reconcile.reconcile(north, "2026-09", account="C1")
    for each in (engine, north, south):
        each.dispose()
