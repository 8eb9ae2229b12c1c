"""The balance chain: r2.balance_after == r1.balance_after − charges between + r2.amount."""

from __future__ import annotations

from vosbench.analysis import balance_continuity
from vosbench.core import periods

U = 10_000  # minor units per currency unit


def chain_breaks(engine, month: str = "2026-10", timezone: str = "Asia/Dubai", **kwargs):
    with engine.connect() as connection:
        return balance_continuity.breaks(connection, periods.month(month, timezone), **kwargs)


def chain_steps(engine, month: str = "2026-10", timezone: str = "Asia/Dubai"):
    with engine.connect() as connection:
        return balance_continuity.steps(connection, periods.month(month, timezone))


def test_one_deposit_that_did_not_update_the_balance_is_the_only_break(inline_ledger):
    engine = inline_ledger(
        accounts="account,name,kind\nC1,One,customer\nC2,Two,customer",
        payments="""
            source_key,account,kind,amount,occurred_at,balance_after
            p1,C1,deposit,100.00,2026-09-20T10:00:00+04:00,100.00
            p2,C1,deposit,50.00,2026-10-03T10:00:00+04:00,145.00
            p3,C1,deposit,40.00,2026-10-04T10:00:00+04:00,145.00
            p4,C1,withdrawal,-10.00,2026-10-09T10:00:00+04:00,130.00
            p5,C2,deposit,10.00,2026-10-05T10:00:00+04:00,10.00
        """,
        charges="""
            account,day,call_fee,agent_fee,other_fee,calls
            C1,2026-09-25,2.00,1.00,2.00,3
            C1,2026-10-05,5.00,0,0,2
        """,
    )
    # p2: 100 (anchor p1, before October) − 5 (Sep 25, due Sep 26 00:00) + 50 = 145 ✓
    # p3: 145 − 0 + 40 = 185 expected, reported 145: the balance did not move → gap −40
    # p4: 145 (as reported by p3) − 5 (Oct 5) − 10 = 130 ✓ (the source carries on from its wrong balance)
    found = chain_breaks(engine)
    assert found["payment_id"].tolist() == [3]
    (row,) = found.to_dict("records")
    assert row["account"] == "C1" and row["kind"] == "deposit" and row["amount"] == 40 * U
    assert (row["previous_payment_id"], row["previous_balance_after"], row["charges_between"]) == (2, 145 * U, 0)
    assert (row["expected_balance_after"], row["reported_balance_after"], row["gap"]) == (185 * U, 145 * U, -40 * U)
    assert list(found.columns) == list(balance_continuity.COLUMNS)


def test_the_first_break_against_the_anchor(inline_ledger):
    engine = inline_ledger(
        accounts="account,name,kind\nC1,One,customer",
        payments="""
            source_key,account,kind,amount,occurred_at,balance_after
            p1,C1,deposit,100.00,2026-09-20T10:00:00+04:00,100.00
            p2,C1,deposit,50.00,2026-10-03T10:00:00+04:00,100.00
        """,
        charges="account,day,call_fee,agent_fee,other_fee,calls\nC1,2026-09-25,5.00,0,0,1",
    )
    # p2: 100 − 5 + 50 = 145 expected, reported 100 → gap −45; p1 is outside October.
    found = chain_breaks(engine)
    assert found[["payment_id", "previous_payment_id", "charges_between", "gap"]].values.tolist() == [
        [2, 1, 5 * U, -45 * U]]
    assert chain_breaks(engine, month="2026-09").empty


def test_charges_are_deducted_at_the_end_of_the_local_day(inline_ledger):
    engine = inline_ledger(
        accounts="account,name,kind\nC1,One,customer",
        payments="""
            source_key,account,kind,amount,occurred_at,balance_after
            p1,C1,deposit,100.00,2026-10-05T09:00:00+04:00,100.00
            p2,C1,deposit,10.00,2026-10-05T22:00:00+04:00,110.00
            p3,C1,deposit,10.00,2026-10-06T00:30:00+04:00,113.00
            p4,C1,deposit,10.00,2026-10-06T23:59:00+04:00,123.00
        """,
        charges="account,day,call_fee,agent_fee,other_fee,calls\nC1,2026-10-05,7.00,0,0,1",
    )
    # p1 → p2: same local day, Oct 5's charges are not yet deducted: 100 + 10 = 110
    # p2 → p3: 00:30 on Oct 6 in Dubai (Oct 5 20:30 UTC, still Oct 5 in UTC): 110 − 7 + 10 = 113
    # p3 → p4: 113 + 10 = 123
    steps = chain_steps(engine)
    assert steps["charges_between"].tolist() == [0, 0, 7 * U, 0]
    assert steps["gap"].tolist() == [0, 0, 0, 0]
    assert chain_breaks(engine).empty


def test_west_of_utc_the_local_day_can_be_the_utc_day_before(inline_ledger):
    engine = inline_ledger(
        timezone="America/Sao_Paulo",  # UTC−3, no DST
        accounts="account,name,kind\nC1,One,customer",
        payments="""
            source_key,account,kind,amount,occurred_at,balance_after
            p1,C1,deposit,100.00,2026-10-05T09:00:00-03:00,100.00
            p2,C1,deposit,50.00,2026-10-05T22:00:00-03:00,150.00
            p3,C1,deposit,10.00,2026-10-06T01:00:00-03:00,150.00
        """,
        charges="account,day,call_fee,agent_fee,other_fee,calls\nC1,2026-10-05,10.00,0,0,1",
    )
    # p2 at 22:00 local is Oct 6 01:00 UTC, but Oct 5's charges fall due only at local midnight:
    # 100 + 50 = 150. p3 after midnight: 150 − 10 + 10 = 150.
    steps = chain_steps(engine, timezone="America/Sao_Paulo")
    assert steps["charges_between"].tolist() == [0, 0, 10 * U]
    assert chain_breaks(engine, timezone="America/Sao_Paulo").empty


def test_a_record_without_balance_after_is_passed_through(inline_ledger):
    engine = inline_ledger(
        accounts="account,name,kind\nC1,One,customer",
        payments="""
            source_key,account,kind,amount,occurred_at,balance_after
            p1,C1,deposit,100.00,2026-10-02T10:00:00+04:00,100.00
            p2,C1,deposit,50.00,2026-10-03T10:00:00+04:00,
            p3,C1,deposit,25.00,2026-10-04T10:00:00+04:00,170.00
        """,
    )
    # p2 is not checked; the chain continues with its expected 150.
    # p3: 150 + 25 = 175 expected, reported 170 → gap −5, reported at p3 only.
    found = chain_breaks(engine)
    assert found[["payment_id", "previous_payment_id", "previous_balance_after", "expected_balance_after",
                  "gap"]].values.tolist() == [[3, 2, 150 * U, 175 * U, -5 * U]]


def test_the_chain_starts_at_the_last_known_balance_before_the_period(inline_ledger):
    engine = inline_ledger(
        accounts="account,name,kind\nC1,One,customer",
        payments="""
            source_key,account,kind,amount,occurred_at,balance_after
            p1,C1,deposit,100.00,2026-09-01T10:00:00+04:00,100.00
            p2,C1,deposit,50.00,2026-09-20T10:00:00+04:00,
            p3,C1,deposit,25.00,2026-10-03T10:00:00+04:00,170.00
        """,
        charges="account,day,call_fee,agent_fee,other_fee,calls\nC1,2026-09-10,3.00,0,0,1",
    )
    # The anchor is p1 (p2's balance is unknown): 100 − 3 (Sep 10) + 50 (p2) = 147 after p2;
    # p3: 147 + 25 = 172 expected, reported 170 → gap −2.
    found = chain_breaks(engine)
    assert found[["payment_id", "previous_payment_id", "previous_balance_after", "charges_between",
                  "expected_balance_after", "gap"]].values.tolist() == [[3, 2, 147 * U, 0, 172 * U, -2 * U]]


def test_without_any_known_balance_before_the_period_the_first_known_one_starts_the_chain(inline_ledger):
    engine = inline_ledger(
        accounts="account,name,kind\nC1,One,customer",
        payments="""
            source_key,account,kind,amount,occurred_at,balance_after
            p1,C1,deposit,100.00,2026-09-02T10:00:00+04:00,
            p2,C1,deposit,50.00,2026-10-03T10:00:00+04:00,999.00
            p3,C1,deposit,25.00,2026-10-04T10:00:00+04:00,1000.00
        """,
    )
    # Nothing is known before p2, so p2 cannot be checked; p3 follows p2: 999 + 25 = 1024 ≠ 1000.
    steps = chain_steps(engine)
    assert steps["expected_balance_after"].isna().tolist() == [True, False]
    assert chain_breaks(engine)["payment_id"].tolist() == [3]


def test_a_new_account_starts_at_zero_and_owes_its_earlier_charges(inline_ledger):
    engine = inline_ledger(
        accounts="account,name,kind\nN1,New,customer",
        payments="""
            source_key,account,kind,amount,occurred_at,balance_after
            n1,N1,deposit,50.00,2026-10-03T10:00:00+04:00,42.00
        """,
        charges="""
            account,day,call_fee,agent_fee,other_fee,calls
            N1,2026-09-28,3.00,0,0,1
            N1,2026-10-02,5.00,0,0,1
        """,
    )
    # No earlier record: 0 − 3 − 5 (consumed on credit) + 50 = 42.
    (step,) = chain_steps(engine).to_dict("records")
    assert (step["previous_balance_after"], step["charges_between"], step["gap"]) == (0, 8 * U, 0)


def test_breaks_of_some_accounts_only(inline_ledger):
    engine = inline_ledger(
        accounts="account,name,kind\nC1,One,customer\nC2,Two,customer",
        payments="""
            source_key,account,kind,amount,occurred_at,balance_after
            p1,C1,deposit,10.00,2026-10-03T10:00:00+04:00,1.00
            p2,C2,deposit,10.00,2026-10-03T10:00:00+04:00,2.00
        """,
    )
    assert chain_breaks(engine)["account"].tolist() == ["C1", "C2"]
    assert chain_breaks(engine, account_ids=[2])["account"].tolist() == ["C2"]
    assert chain_breaks(engine, account_ids=[])["account"].tolist() == []
