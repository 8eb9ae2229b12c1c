"""Account statements: opening, every movement with a running balance, closing, discrepancies."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from vosbench.analysis import account_statement
from vosbench.analysis.filters import FilterError
from vosbench.ledger import setup
from vosbench.sources import demo

U = 10_000  # minor units per currency unit

ACCOUNTS = """
    account,name,kind
    C1,Acme Trading,customer
    C2,Acme Trading,customer
"""
# Dubai time (UTC+4). C1's deposit s3 was recorded but its balance did not move; the source
# then carries on from its wrong balance (s4). C2 was active in August only.
PAYMENTS = """
    source_key,account,kind,amount,occurred_at,balance_after
    s1,C1,deposit,100.00,2026-09-10T10:00:00+04:00,100.00
    s2,C1,deposit,50.00,2026-10-03T10:00:00+04:00,145.00
    s3,C1,deposit,40.00,2026-10-05T23:30:00+04:00,141.00
    s4,C1,withdrawal,-10.00,2026-10-08T12:00:00+04:00,129.00
    s5,C1,deposit,20.00,2026-10-11T00:00:00+04:00,145.00
    t1,C2,deposit,100.00,2026-08-10T10:00:00+04:00,100.00
    t2,C2,deposit,10.00,2026-10-04T10:00:00+04:00,
"""
# A day's charges are deducted at the end of the day: Oct 4's at Oct 5 00:00 Dubai.
CHARGES = """
    account,day,call_fee,agent_fee,other_fee,calls
    C1,2026-09-25,5.00,0,0,3
    C1,2026-10-04,3.00,0,1.00,4
    C1,2026-10-05,2.00,0,0,2
    C1,2026-10-10,4.00,0,0,5
"""


@pytest.fixture
def engine(inline_ledger):
    return inline_ledger(accounts=ACCOUNTS, payments=PAYMENTS, charges=CHARGES)


def test_statement_with_running_balance_and_the_payment_that_did_not_move_the_balance(engine):
    found = account_statement.account_statement(engine, "C1", date(2026, 10, 4), date(2026, 10, 10))
    # opening at Oct 4 00:00: September's closing 100 − 5 = 95, plus October before the start: s2 +50
    assert (found.account, found.name, found.timezone) == ("C1", "Acme Trading", "Asia/Dubai")
    assert found.opening == 145 * U and found.reported_opening == 145 * U
    lines = found.lines
    assert list(lines.columns) == list(account_statement.LINE_COLUMNS)
    assert lines[["what", "amount", "running_balance", "reported_balance_after", "discrepancy"]].astype(
        object).where(lines.notna(), None).values.tolist() == [
        ["charges", -4 * U, 141 * U, None, None],       # Oct 4: 3.00 calls + 1.00 other, at Oct 5 00:00
        ["payment", 40 * U, 181 * U, 141 * U, -40 * U],  # s3: reported 141, the balance did not move
        ["charges", -2 * U, 179 * U, None, None],       # Oct 5, at Oct 6 00:00
        ["payment", -10 * U, 169 * U, 129 * U, -40 * U],  # s4: 141 − 2 − 10 = 129 reported
        ["charges", -4 * U, 165 * U, None, None],       # Oct 10, deducted at Oct 11 00:00: the period's end
    ]  # s5 at Oct 11 00:00 is after the period
    assert lines["at"].tolist() == [pd.Timestamp("2026-10-05 00:00"), pd.Timestamp("2026-10-05 23:30"),
                                    pd.Timestamp("2026-10-06 00:00"), pd.Timestamp("2026-10-08 12:00"),
                                    pd.Timestamp("2026-10-11 00:00")]
    assert lines["description"].iloc[0] == "charges of 2026-10-04: call fees 3.0000, other fees 1.0000 (4 calls)"
    assert found.closing == 165 * U
    # the difference began at s3 and carried on through s4
    assert found.discrepancies[["kind", "discrepancy", "change"]].values.tolist() == [
        ["deposit", -40 * U, -40 * U], ["withdrawal", -40 * U, 0]]
    assert found.discrepancies["payment_id"].tolist() == lines["payment_id"].dropna().tolist()


def test_charges_ending_at_the_start_belong_to_the_opening(engine):
    found = account_statement.account_statement(engine, "C1", date(2026, 10, 5), date(2026, 10, 5))
    # Oct 4's charges end at Oct 5 00:00 = the start: 100 − 5 + 50 − 4 = 141; the source agrees
    assert (found.opening, found.reported_opening) == (141 * U, 141 * U)
    # s3 and Oct 5's charges (at Oct 6 00:00, the end): 141 + 40 − 2 = 179
    assert found.lines["what"].tolist() == ["payment", "charges"] and found.closing == 179 * U


def test_a_difference_from_before_the_period_is_carried_not_new(engine):
    found = account_statement.account_statement(engine, "C1", date(2026, 10, 8), date(2026, 10, 8))
    # ledger at Oct 8 00:00: 100 − 5 + 50 − 4 + 40 − 2 = 179; the source's last report s3 141 − 2 = 139
    assert (found.opening, found.reported_opening) == (179 * U, 139 * U)
    assert found.discrepancies[["discrepancy", "change"]].values.tolist() == [[-40 * U, 0]]


def test_opening_from_an_earlier_month_row_and_a_payment_without_reported_balance(engine):
    found = account_statement.account_statement(engine, "C2", date(2026, 10, 1), date(2026, 10, 31))
    # C2 had no September row: the August closing (100) carries; t2 has no balance_after
    assert (found.opening, found.closing, found.reported_opening) == (100 * U, 110 * U, 100 * U)
    assert found.lines["reported_balance_after"].isna().all() and found.discrepancies.empty


def test_a_quiet_period_has_no_lines(engine):
    found = account_statement.account_statement(engine, "C2", date(2026, 9, 1), date(2026, 9, 30))
    assert (found.opening, found.closing) == (100 * U, 100 * U)
    assert found.lines.empty and found.discrepancies.empty
    assert list(found.discrepancies.columns) == list(account_statement.DISCREPANCY_COLUMNS)


def test_days_cut_in_another_zone(engine):
    found = account_statement.account_statement(engine, "C1", date(2026, 10, 5), date(2026, 10, 5), timezone="UTC")
    # Oct 5 UTC = Oct 5 04:00 .. Oct 6 04:00 Dubai: Oct 4's charges are before the start, Oct 5's
    # (at Oct 6 00:00 Dubai = Oct 5 20:00 UTC) and s3 (Oct 5 19:30 UTC) are inside
    assert found.opening == 141 * U and found.timezone == "UTC"
    assert found.lines["at"].tolist() == [pd.Timestamp("2026-10-05 19:30"), pd.Timestamp("2026-10-05 20:00")]


def test_bad_requests_name_the_fix(engine):
    with pytest.raises(FilterError, match="account 'C3' is not in the ledger; did you mean C1"):
        account_statement.account_statement(engine, "C3", date(2026, 10, 1), date(2026, 10, 31))
    with pytest.raises(FilterError, match="is a name, not an account number; it is the name of C1"):
        account_statement.account_statement(engine, "Acme Trading", date(2026, 10, 1), date(2026, 10, 31))
    with pytest.raises(FilterError, match="start 2026-10-31 is after end 2026-10-01"):
        account_statement.account_statement(engine, "C1", date(2026, 10, 31), date(2026, 10, 1))


def test_the_demo_deposit_that_did_not_update_the_balance(tmp_path):
    url = f"sqlite:///{tmp_path / 'demo.sqlite'}"
    key = demo.build_demo(url, demo.DemoScale(customers=40, months=2), progress=False)
    (planted,) = [a for a in key["anomalies"] if a["kind"] == "balance_not_updated"]
    engine = setup.open_ledger(url)
    year, month = map(int, planted["month"].split("-"))
    found = account_statement.account_statement(engine, planted["account"], date(year, month, 1), date(year, month, 28))
    breaks = found.discrepancies[found.discrepancies["change"] != 0]
    assert breaks["payment_id"].tolist() == planted["payment_ids"]
    (deposit,) = breaks.itertuples(index=False)
    assert deposit.kind == "deposit" and deposit.change == -deposit.amount
    # every later report is short by the same amount; the ledger's own closing includes the deposit
    assert (found.discrepancies["discrepancy"] == -deposit.amount).all()
    assert found.closing == found.opening + int(found.lines["amount"].sum())
