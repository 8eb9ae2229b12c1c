"""Month reconciliation on a small hand-built ledger in Asia/Dubai (UTC+4, no DST).

October 2026 in Dubai runs from 2026-09-30T20:00Z to 2026-10-31T20:00Z; the month-end
snapshot instant is 2026-11-01T00:00+04:00. One customer per classification:

    C1 agrees               C2 balance not updated   C3 carried over (since 2026-08)
    C4 snapshot disagrees   C5 no snapshot           C6 unexplained
    A1 agent with commission; R1 reseller (no activity), A2 agent (no activity)

Tree: R1 → A1 → {C1, C2};  R1 → A2 → C3;  C4, C5, C6 have no parent.
"""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import pytest

from vosbench.analysis.reconcile import (
    AGREES,
    BALANCE_NOT_UPDATED,
    CARRIED_OVER,
    CLASSIFICATIONS,
    COLUMNS,
    MONEY_COLUMNS,
    NO_SNAPSHOT,
    SNAPSHOT_DISAGREES,
    UNEXPLAINED,
    ReconcileError,
    reconcile,
)
from vosbench.ledger import queries

U = 10_000  # minor units per currency unit

ACCOUNTS = """
    account,name,kind,parent
    R1,Reseller One,reseller,
    A1,Agent One,agent,R1
    A2,Agent Two,agent,R1
    C1,Customer One,customer,A1
    C2,Customer Two,customer,A1
    C3,Customer Three,customer,A2
    C4,Customer Four,customer,
    C5,Customer Five,customer,
    C6,Customer Six,customer,
"""

PAYMENTS = """
    source_key,account,kind,amount,occurred_at,balance_after
    c1-sep,C1,deposit,100.00,2026-09-10T08:00:00+04:00,100.00
    c1-oct,C1,deposit,50.00,2026-10-01T01:00:00+04:00,140.00
    c1-nov,C1,deposit,30.00,2026-11-01T01:00:00+04:00,144.00
    c2-sep,C2,deposit,200.00,2026-09-05T10:00:00+04:00,200.00
    c2-oct,C2,deposit,100.00,2026-10-10T12:00:00+04:00,185.00
    c2-out,C2,withdrawal,-20.00,2026-10-20T09:00:00+04:00,165.00
    c3-jul,C3,deposit,300.00,2026-07-05T10:00:00+04:00,300.00
    c4-sep,C4,deposit,80.00,2026-09-08T10:00:00+04:00,80.00
    c4-oct,C4,deposit,20.00,2026-10-08T10:00:00+04:00,100.00
    c5-oct,C5,deposit,40.00,2026-10-12T10:00:00+04:00,40.00
    c6-sep,C6,deposit,60.00,2026-09-12T10:00:00+04:00,60.00
    a1-oct,A1,commission,5.00,2026-10-31T10:00:00+04:00,5.00
"""

CHARGES = """
    account,day,call_fee,agent_fee,other_fee,calls
    C1,2026-09-20,10.00,0,0,4
    C1,2026-10-15,20.00,0,5.00,7
    C1,2026-10-31,0,0,1.00,0
    C2,2026-10-03,15.00,0,0,5
    C4,2026-10-09,10.00,0,0,3
"""

BALANCES = """
    account,as_of,balance
    C1,2026-10-01T00:00:00+04:00,90.00
    C1,2026-11-01T00:00:00+04:00,114.00
    C2,2026-10-01T00:00:00+04:00,200.00
    C2,2026-11-01T00:00:00+04:00,165.00
    C3,2026-08-01T00:00:00+04:00,300.00
    C3,2026-09-01T00:00:00+04:00,250.00
    C3,2026-10-01T00:00:00+04:00,250.00
    C3,2026-11-01T00:00:00+04:00,250.00
    C4,2026-10-01T00:00:00+04:00,80.00
    C4,2026-11-01T00:00:00+04:00,95.00
    C6,2026-10-01T00:00:00+04:00,70.00
    C6,2026-11-01T00:00:00+04:00,73.00
    A1,2026-11-01T00:00:00+04:00,5.00
"""


@pytest.fixture
def dubai_ledger(inline_ledger):
    return inline_ledger(accounts=ACCOUNTS, payments=PAYMENTS, charges=CHARGES, balances=BALANCES)


def by_account(result) -> dict[str, dict]:
    return {row["account"]: row for row in result.accounts.to_dict("records")}


def test_october_in_dubai_classifies_each_account(dubai_ledger):
    result = reconcile(dubai_ledger, "2026-10")
    rows = by_account(result)
    # R1 and A2 have no balance and no activity up to October's end: no row.
    assert sorted(rows) == ["A1", "C1", "C2", "C3", "C4", "C5", "C6"]
    assert {account: row["classification"] for account, row in rows.items()} == {
        "A1": AGREES, "C1": AGREES, "C2": BALANCE_NOT_UPDATED, "C3": CARRIED_OVER,
        "C4": SNAPSHOT_DISAGREES, "C5": NO_SNAPSHOT, "C6": UNEXPLAINED,
    }
    assert list(result.accounts.columns) == list(COLUMNS)
    assert set(result.accounts["classification"]) <= set(CLASSIFICATIONS)


def test_month_cut_in_the_ledger_time_zone(dubai_ledger):
    c1 = by_account(reconcile(dubai_ledger, "2026-10"))["C1"]
    # c1-oct at 01:00 on Oct 1 in Dubai (Sep 30 21:00 UTC) is October's; c1-nov (Nov 1 01:00) is not.
    # opening = 100 (Sep deposit) − 10 (Sep 20 charges) = 90
    # charges = 20 + 5 (Oct 15) + 1 (Oct 31) = 26; expected = 90 + 50 − 26 = 114 = reported.
    assert (c1["opening"], c1["deposit"], c1["payments"]) == (90 * U, 50 * U, 50 * U)
    assert (c1["call_fee"], c1["other_fee"], c1["charges"]) == (20 * U, 6 * U, 26 * U)
    assert (c1["expected_closing"], c1["recorded_closing"], c1["difference"]) == (114 * U, 114 * U, 0)
    assert c1["snapshot_as_of"] == pd.Timestamp("2026-10-31 20:00")


def test_the_same_month_cut_in_utc_sums_raw_rows(dubai_ledger):
    c1 = by_account(reconcile(dubai_ledger, "2026-10", timezone="UTC"))["C1"]
    # UTC October: c1-oct (Sep 30 21:00Z) falls in September, c1-nov (Oct 31 21:00Z) in October.
    # opening = 100 + 50 − 10 = 140; expected = 140 + 30 − 26 = 144.
    # The Dubai month-end report (Oct 31 20:00Z) is before the UTC month's end: expected there
    # = 144 − 30 (paid after it) + 0 (Oct 31's charges were already deducted) = 114 = reported.
    assert (c1["opening"], c1["deposit"], c1["expected_closing"]) == (140 * U, 30 * U, 144 * U)
    assert (c1["recorded_closing"], c1["difference"], c1["classification"]) == (114 * U, 0, AGREES)


def test_balance_not_updated_names_the_payment(dubai_ledger):
    result = reconcile(dubai_ledger, "2026-10")
    c2 = by_account(result)["C2"]
    # expected = 200 + 100 − 20 − 15 = 265; reported 165 → difference −100.
    # Chain: c2-oct expected 200 − 15 + 100 = 285, reported 185 → gap −100 (the only break).
    assert (c2["expected_closing"], c2["difference"]) == (265 * U, -100 * U)
    payment_id = int(result.breaks.loc[result.breaks["account"] == "C2", "payment_id"].item())
    assert f"payment {payment_id} (deposit of 100.00" in c2["explanation"]
    assert "gap -100.00" in c2["explanation"]
    assert result.breaks["account"].tolist() == ["C2"]


def test_carried_over_says_since_when(dubai_ledger):
    c3 = by_account(reconcile(dubai_ledger, "2026-10"))["C3"]
    # Expected 300 every month-end; reported 300 (Jul), then 250 (Aug, Sep, Oct): −50 since August.
    assert c3["difference"] == -50 * U
    assert "same difference as at the end of 2026-09; it has been the same since the end of 2026-08" in (
        c3["explanation"])


def test_snapshot_disagrees_and_unexplained(dubai_ledger):
    rows = by_account(reconcile(dubai_ledger, "2026-10"))
    # C4: 80 + 20 − 10 = 90 expected, 95 reported; September agreed (80 = 80).
    assert rows["C4"]["difference"] == 5 * U
    assert "off by 5.00 from the expected 90.00" in rows["C4"]["explanation"]
    # C6: 60 expected, 73 reported (+13); September was already off by +10, not the same.
    assert rows["C6"]["difference"] == 13 * U
    assert "end of 2026-09 had a difference of 10.00" in rows["C6"]["explanation"]
    assert pd.isna(rows["C5"]["recorded_closing"]) and pd.isna(rows["C5"]["difference"])


def test_totals_and_differences(dubai_ledger):
    result = reconcile(dubai_ledger, "2026-10")
    assert list(result.totals()) == ["USD"]
    totals = result.totals()["USD"]
    assert set(totals) == set(MONEY_COLUMNS)
    # opening 90 + 200 + 300 + 80 + 0 + 60 + 0 = 730; payments 50 + 80 + 0 + 20 + 40 + 0 + 5 = 195
    # charges 26 + 15 + 10 = 51; expected 730 + 195 − 51 = 874
    # reported 114 + 165 + 250 + 95 + 73 + 5 = 702 (C5 none); differences −100 − 50 + 5 + 13 = −132
    assert totals["opening"] == 730 * U and totals["payments"] == 195 * U
    assert totals["withdrawal"] == -20 * U and totals["commission"] == 5 * U
    assert totals["charges"] == 51 * U and totals["expected_closing"] == 874 * U
    assert totals["recorded_closing"] == 702 * U and totals["difference"] == -132 * U
    assert sorted(result.differences()["account"]) == ["C2", "C3", "C4", "C5", "C6"]
    for column in MONEY_COLUMNS[:-2]:
        assert result.accounts[column].dtype == "int64"


def test_totals_of_the_listed_differences_only(dubai_ledger):
    result = reconcile(dubai_ledger, "2026-10")
    listed = result.differences()
    totals = result.totals(listed)["USD"]
    assert totals["difference"] == -132 * U  # C2..C6: every difference is listed
    assert totals["opening"] == int(listed["opening"].sum()) < result.totals()["USD"]["opening"]


def test_subtree_takes_every_depth(dubai_ledger):
    # R1 → A1 → {C1, C2}, R1 → A2 → C3; R1 and A2 have nothing to reconcile.
    result = reconcile(dubai_ledger, "2026-10", subtree="R1")
    assert sorted(result.accounts["account"]) == ["A1", "C1", "C2", "C3"]
    assert result.totals()["USD"]["expected_closing"] == (5 + 114 + 265 + 300) * U
    assert sorted(reconcile(dubai_ledger, "2026-10", subtree="A1").accounts["account"]) == ["A1", "C1", "C2"]


def test_single_account(dubai_ledger):
    result = reconcile(dubai_ledger, "2026-10", account="C2")
    assert result.accounts["account"].tolist() == ["C2"]
    assert result.accounts["classification"].tolist() == [BALANCE_NOT_UPDATED]
    assert result.breaks["account"].tolist() == ["C2"]
    assert reconcile(dubai_ledger, "2026-10", account="C1").breaks.empty


def test_bad_requests_name_the_input(dubai_ledger):
    with pytest.raises(ReconcileError, match="'C99' is not in the ledger"):
        reconcile(dubai_ledger, "2026-10", account="C99")
    with pytest.raises(ReconcileError, match="not both"):
        reconcile(dubai_ledger, "2026-10", account="C1", subtree="R1")
    with pytest.raises(ValueError, match="'2026-13'"):
        reconcile(dubai_ledger, "2026-13")


EARLY = """
    source_key,account,kind,amount,occurred_at,balance_after
    e-1,E1,deposit,100.00,2026-10-02T10:00:00+04:00,100.00
    e-2,E1,deposit,30.00,2026-10-22T10:00:00+04:00,113.00
"""


@pytest.mark.parametrize("as_of, balance", [
    # 21:00 on Oct 20 in Dubai: Oct 20's 7.00 not yet deducted → 100 − 10 = 90
    ("2026-10-20T21:00:00+04:00", "90.00"),
    # 01:00 on Oct 21 in Dubai (Oct 20 21:00 UTC): Oct 20's charges deducted → 100 − 10 − 7 = 83
    ("2026-10-21T01:00:00+04:00", "83.00"),
])
def test_a_report_before_month_end_is_compared_at_its_instant(inline_ledger, as_of, balance):
    engine = inline_ledger(
        accounts="account,name,kind\nE1,Early,customer",
        payments=EARLY,
        charges="""
            account,day,call_fee,agent_fee,other_fee,calls
            E1,2026-10-10,10.00,0,0,1
            E1,2026-10-20,7.00,0,0,1
            E1,2026-10-25,3.00,0,0,1
        """,
        balances=f"account,as_of,balance\nE1,{as_of},{balance}",
    )
    row = by_account(reconcile(engine, "2026-10"))["E1"]
    # expected closing = 100 + 30 − 20 = 110; at the report: minus the 30 paid after it,
    # plus the charges of the days ending after it.
    assert row["expected_closing"] == 110 * U
    assert (row["recorded_closing"], row["difference"], row["classification"]) == (
        int(balance.replace(".", "")) * 100, 0, AGREES)


def test_every_query_has_a_header_and_loads():
    assert "chain_steps" in queries.names() and "month_balances" in queries.names()
    for name in queries.names():
        text = queries.source(name)
        assert text.startswith(f"-- {name}:"), name
        assert "Returns" in text, name
        queries.load(name)
    with pytest.raises(queries.QueryError, match="use one of"):
        queries.load("no_such_query")


def test_a_wide_scope_is_fetched_whole_and_cut(dubai_ledger, monkeypatch):
    narrow = reconcile(dubai_ledger, "2026-10", subtree="R1").accounts
    monkeypatch.setattr(queries, "LISTED_ACCOUNTS_MAX", 1)
    wide = reconcile(dubai_ledger, "2026-10", subtree="R1").accounts
    pd.testing.assert_frame_equal(narrow, wide)
    assert datetime(2026, 10, 31, 20) == wide["snapshot_as_of"].max()


def test_every_account_read_packed_is_what_the_rows_say(dubai_ledger, monkeypatch):
    """The whole ledger's figures come packed into one row on SQLite (0 where missing, NULL openings kept as missing)."""
    with dubai_ledger.connect() as connection:
        found = queries.packed(connection, "month_balances", {"month": "2026-10"}, integers=("account_id", "opening"),
                               texts=("account", "parent"))
    assert found is not None
    opening = dict(zip(found["account"][0], zip(found["opening"][0].tolist(), found["opening"][1].tolist())))
    assert opening["C5"] == (0, True) and opening["C1"] == (90 * U, False) and opening["C4"] == (80 * U, False)
    packed = reconcile(dubai_ledger, "2026-10").accounts
    monkeypatch.setattr(queries, "packed", lambda *args, **kwargs: None)
    pd.testing.assert_frame_equal(packed, reconcile(dubai_ledger, "2026-10").accounts)


def test_a_name_holding_the_packing_separator_is_read_as_rows(inline_ledger):
    """A text holding the packing's separator is never split into the wrong accounts: the rows are read instead."""
    engine = inline_ledger(accounts=ACCOUNTS.replace("Customer Five", "Unit\x1fSeparated"), payments=PAYMENTS)
    with engine.connect() as connection:
        assert queries.packed(connection, "month_balances", {"month": "2026-10"}, texts=("name",)) is None
        assert queries.packed(connection, "month_balances", {"month": "2026-10"}, texts=("account",)) is not None
    rows = by_account(reconcile(engine, "2026-10"))
    assert rows["C5"]["name"] == "Unit\x1fSeparated" and rows["C5"]["deposit"] == 40 * U
    assert rows["C6"]["name"] == "Customer Six" and rows["C6"]["opening"] == 60 * U


def test_a_packed_column_longer_than_sqlite_takes_is_read_as_rows(dubai_ledger):
    """SQLite refuses a string past its length limit (1 GB by default; 40 bytes here): no packing, no error."""
    import sqlite3

    with dubai_ledger.connect() as connection:
        driver = connection.connection.driver_connection
        assert queries.packed(connection, "month_balances", {"month": "2026-10"}, texts=("name",)) is not None
        driver.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, 40)
        try:
            assert queries.packed(connection, "month_balances", {"month": "2026-10"}, texts=("name",)) is None
            assert queries.packed(connection, "month_balances", {"month": "2026-10"}, texts=("kind",)) is None
        finally:
            driver.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, 1_000_000_000)


def test_a_kept_total_that_is_no_integer_is_not_packed(dubai_ledger):
    """A REAL written where a kept total belongs (by plain SQL) is not parsed into some integer."""
    with dubai_ledger.begin() as connection:
        connection.exec_driver_sql("UPDATE account_months SET deposit = 12.5 WHERE month = '2026-10'")
        assert queries.packed(connection, "month_balances", {"month": "2026-10"}, integers=("deposit",)) is None
        assert queries.packed(connection, "month_balances", {"month": "2026-10"}, integers=("withdrawal",)) is not None


def test_a_break_on_top_of_a_carried_difference(inline_ledger):
    engine = inline_ledger(
        accounts="account,name,kind\nD1,Dee,customer",
        payments="""
            source_key,account,kind,amount,occurred_at,balance_after
            d-aug,D1,deposit,100.00,2026-08-10T10:00:00+04:00,100.00
            d-oct,D1,deposit,40.00,2026-10-05T10:00:00+04:00,100.00
        """,
        balances="""
            account,as_of,balance
            D1,2026-09-01T00:00:00+04:00,100.00
            D1,2026-10-01T00:00:00+04:00,90.00
            D1,2026-11-01T00:00:00+04:00,90.00
        """,
    )
    # September ended 10 short (reported 90, expected 100). In October d-oct did not move
    # the reported balance (gap 100 − 140 = −40), and the month ends 50 short (90 vs 140):
    # the −40 gap on top of the −10 carried over.
    row = by_account(reconcile(engine, "2026-10"))["D1"]
    assert (row["difference"], row["classification"]) == (-50 * U, BALANCE_NOT_UPDATED)
    assert "on top of -10.00 carried over from the end of 2026-09" in row["explanation"]
    # September alone: no break, August agreed → only the reported balance is off.
    september = by_account(reconcile(engine, "2026-09"))["D1"]
    assert (september["difference"], september["classification"]) == (-10 * U, SNAPSHOT_DISAGREES)


def test_a_new_account_whose_first_report_is_off(inline_ledger):
    engine = inline_ledger(
        accounts="account,name,kind\nN1,New,customer",
        payments="source_key,account,kind,amount,occurred_at,balance_after\n"
                 "n-1,N1,deposit,10.00,2026-10-05T10:00:00+04:00,10.00",
        balances="account,as_of,balance\nN1,2026-11-01T00:00:00+04:00,12.50",
    )
    row = by_account(reconcile(engine, "2026-10"))["N1"]
    assert (row["difference"], row["classification"]) == (25_000, SNAPSHOT_DISAGREES)
    assert "the account is new" in row["explanation"]
