"""Each control check on a small ledger written inline: one case it must flag, one it must not.

October 2026 in UTC; the header below is shared, so a row reads as
source_key, account, kind, amount, occurred_at, operator, channel, method, reference, memo,
reason, balance_after, reverses, approved_by.
"""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime

import pandas as pd
import pytest
import sqlalchemy as sa
from ledger_text import ACCOUNTS, TEAM, ledger_from_text, write_ledger_files
from tamper_sql import behind_guards

from vosbench.commands import main
from vosbench.controls import CHECKS, ControlSettings, SettingsError, annotations, commission, runner
from vosbench.controls.texts import as_read
from vosbench.core.money import UNIT
from vosbench.ledger import approvals, identity, policy, tables
from vosbench.ledger.guards import MANUAL_SOURCE
from vosbench.ledger.policy import COMMISSION_BASES, from_mapping

HEADER = ("source_key,account,kind,amount,occurred_at,operator,channel,method,reference,memo,reason,"
          "balance_after,reverses,approved_by")
RULES = from_mapping({"approval_thresholds": {"USD": {"deposit": "10000.00", "adjustment": "1000.00"}}})


def ledger(tmp_path, rows: str, accounts: str = ACCOUNTS, **files):
    return ledger_from_text(tmp_path, accounts=accounts, payments=HEADER + "\n" + textwrap.dedent(rows).strip(),
                            **files)


def found(engine, check: str, rules: ControlSettings = RULES, month: str = "2026-10"):
    return runner.run(engine, month, rules, [check]).findings


def add_reference(engine, table: str, rows: list[dict]) -> None:
    with engine.begin() as connection:
        connection.execute(tables.metadata.tables[table].insert(), rows)


def account_id(engine, account: str) -> int:
    with engine.connect() as connection:
        return connection.scalar(sa.select(tables.accounts.c.id).where(tables.accounts.c.account == account))


def test_adjustments_need_a_reason_and_a_link(tmp_path):
    engine = ledger(tmp_path, """
        p1,C1,adjustment,5.00,2026-10-02T10:00:00Z,ann,admin,other,,,,,,
        p2,C1,adjustment,6.00,2026-10-03T10:00:00Z,ann,admin,other,,,goodwill,,,
        p3,C1,adjustment,7.00,2026-10-04T10:00:00Z,ann,admin,other,,,failed calls ticket #48213,,,
        p4,C2,adjustment,-2.00,2026-10-05T10:00:00Z,ann,admin,other,CDR 881234567,,rate correction,,,
        p5,C2,adjustment,3.00,2026-10-06T10:00:00Z,ann,admin,other,,,\u200b\u00a0,,,
    """)
    findings = {f.payment_ids[0]: f for f in found(engine, "adjustment_without_reason_or_link")}
    assert sorted(findings) == [1, 2, 5]
    assert findings[5].severity == "high" and "no reason and link" in findings[5].explanation  # it shows nothing
    assert findings[1].severity == "high" and "no reason and link" in findings[1].explanation
    assert findings[2].severity == "medium" and "no link" in findings[2].explanation


def test_manual_entries_above_the_threshold_need_a_second_operator(tmp_path):
    engine = ledger(tmp_path, """
        p1,C1,deposit,12000.00,2026-10-02T10:00:00Z,ann,admin,bank_wire,FT1,,,,,
        p2,C1,deposit,12000.00,2026-10-03T10:00:00Z,ann,admin,bank_wire,FT2,,,,,bob
        p3,C2,deposit,15000.00,2026-10-03T10:00:00Z,web,web,gateway,ch_1,,,,,
        p4,C2,deposit,9999.99,2026-10-04T10:00:00Z,ann,admin,bank_wire,FT3,,,,,
    """)
    (finding,) = found(engine, "unapproved_above_threshold")
    assert finding.payment_ids == (1,) and finding.severity == "high" and "10,000.00 USD" in finding.explanation


def test_a_manual_entry_in_a_currency_without_a_threshold_needs_a_second_operator_whatever_its_size(tmp_path):
    """The audit fails closed as the write door does: no JPY threshold is set, so every JPY deposit needs approval."""
    engine = ledger(tmp_path, """
        p1,J1,deposit,5000,2026-10-02T10:00:00Z,ann,admin,cash,,,,,,
        p2,J1,deposit,7000,2026-10-03T10:00:00Z,ann,admin,cash,,,,,,bob
        p3,J1,auto_recharge,1000,2026-10-03T11:00:00Z,sys,automatic,card,,,,,,
    """, accounts=ACCOUNTS.rstrip() + """
        J1,Kyaku,customer,A1,0,JPY,UTC
    """)
    (finding,) = found(engine, "unapproved_above_threshold")
    assert finding.payment_ids == (1,) and "no JPY deposit threshold is set, so every one needs a second operator" \
        in finding.explanation


def test_an_approval_by_the_maker_is_no_approval(tmp_path):
    engine = ledger(tmp_path, """
        p1,C1,deposit,12000.00,2026-10-02T10:00:00Z,ann,admin,bank_wire,FT1,,,,,Ann
        p2,C1,deposit,12000.00,2026-10-03T10:00:00Z,ann,admin,bank_wire,FT2,,,,,bob
    """)
    (finding,) = found(engine, "approved_by_maker")
    assert finding.payment_ids == (1,)


def test_amounts_just_under_the_threshold_are_grouped_per_operator(tmp_path):
    engine = ledger(tmp_path, """
        p1,C1,deposit,9800.00,2026-10-02T10:00:00Z,ann,admin,bank_wire,FT1,,,,,
        p2,C2,deposit,9990.00,2026-10-03T10:00:00Z,ann,admin,bank_wire,FT2,,,,,
        p3,C2,deposit,9700.00,2026-10-04T10:00:00Z,ann,admin,bank_wire,FT3,,,,,
        p4,C1,deposit,9000.00,2026-10-05T10:00:00Z,bob,admin,bank_wire,FT4,,,,,
    """)
    (finding,) = found(engine, "just_under_threshold")
    assert finding.operator == "ann" and finding.payment_ids == (1, 2, 3) and finding.severity == "medium"
    assert finding.amount == (9800 + 9990 + 9700) * UNIT


def test_amounts_just_under_a_threshold_are_grouped_per_currency_and_read_in_its_places(tmp_path):
    """Each currency has its own thresholds: ann's yen and dollars just under theirs are two findings, never one
    summing both under the dollars' limit; yen amounts read without cents."""
    rules = from_mapping({"approval_thresholds": {"USD": {"deposit": "10000.00"}, "JPY": {"deposit": "1000000"}}})
    engine = ledger(tmp_path, """
        p1,C1,deposit,9800.00,2026-10-02T10:00:00Z,ann,admin,bank_wire,FT1,,,,,
        p2,J1,deposit,990000,2026-10-03T10:00:00Z,ann,admin,cash,,,,,,
        p3,J1,deposit,960000,2026-10-04T10:00:00Z,ann,admin,cash,,,,,,
    """, accounts=ACCOUNTS.rstrip() + """
        J1,Kyaku,customer,A1,0,JPY,UTC
    """)
    by_ids = {f.payment_ids: f for f in found(engine, "just_under_threshold", rules)}
    assert sorted(by_ids) == [(1,), (2, 3)]
    assert by_ids[(2, 3)].amount == 1_950_000 * UNIT and by_ids[(2, 3)].explanation == (
        "ann entered 2 deposit(s) just under the 1,000,000 JPY approval threshold (within 5%): 990,000, 960,000")
    assert by_ids[(1,)].amount == 9800 * UNIT and "the 10,000.00 USD approval threshold" in by_ids[(1,)].explanation


def test_duplicates_by_reference_and_by_minutes(tmp_path):
    engine = ledger(tmp_path, """
        p1,C1,deposit,500.00,2026-10-02T09:00:00Z,ann,admin,bank_wire,FT1,,,,,
        p2,C1,deposit,500.00,2026-10-02T15:00:00Z,bob,import,bank_wire,FT1,,,,,
        p3,C2,deposit,80.00,2026-10-03T10:00:00Z,ann,admin,cash,R-1,,,,,
        p4,C2,deposit,80.00,2026-10-03T10:04:00Z,ann,admin,cash,R-2,,,,,
        p5,C2,deposit,80.00,2026-10-03T11:00:00Z,ann,admin,cash,R-3,,,,,
        p6,C1,deposit,5.00,2026-10-04T10:00:00Z,web,web,gateway,ch_1,,,,,
        p7,C1,deposit,5.00,2026-10-04T10:01:00Z,web,web,gateway,ch_2,,,,,
    """)
    by_severity = {f.severity: f for f in found(engine, "duplicate")}
    assert set(by_severity) == {"high", "medium"}
    assert by_severity["high"].payment_ids == (1, 2) and "FT1" in by_severity["high"].explanation
    assert by_severity["medium"].payment_ids == (3, 4)


def test_reversals_say_who_what_and_when_and_catch_reversed_reversals(tmp_path):
    engine = ledger(tmp_path, """
        p1,C1,deposit,300.00,2026-10-02T09:00:00Z,ann,admin,bank_wire,FT1,,,,,
        p2,C1,deposit,-300.00,2026-10-02T09:40:00Z,ann,admin,bank_wire,FT1,,entered in error,,p1,
        p3,C1,deposit,300.00,2026-10-05T09:40:00Z,bob,admin,bank_wire,FT1,,the wire did arrive,,p2,
        p4,C2,deposit,50.00,2026-10-06T09:00:00Z,ann,admin,cash,R-1,,,,,
        p5,C2,deposit,-50.00,2026-10-08T09:00:00Z,bob,admin,cash,R-1,,customer cancelled,,p4,
        p6,C2,deposit,20.00,2026-10-20T09:00:00Z,ann,admin,cash,R-2,,,,,
        p7,C2,deposit,-20.00,2026-10-19T08:00:00Z,bob,admin,cash,R-2,,customer cancelled,,p6,
    """)
    findings = {f.payment_ids: f for f in found(engine, "reversal")}
    assert findings[(1, 2)].severity == "medium" and "40 minutes later" in findings[(1, 2)].explanation
    assert "reversed their own entry" in findings[(1, 2)].explanation
    assert findings[(2, 3)].severity == "high" and "itself a reversal of #1" in findings[(2, 3)].explanation
    assert findings[(4, 5)].severity == "low" and "2 days later" in findings[(4, 5)].explanation
    assert findings[(6, 7)].severity == "high" and "yet is dated 25 hours before it" in findings[(6, 7)].explanation
    assert "back-dated" in findings[(6, 7)].explanation


def test_entries_outside_the_operators_shift_in_their_time_zone(tmp_path):
    engine = ledger(tmp_path, """
        p1,C1,deposit,10.00,2026-10-05T06:30:00Z,ann,admin,cash,R-1,,,,,
        p2,C1,deposit,11.00,2026-10-05T22:30:00Z,ann,admin,cash,R-2,,,,,
        p3,C1,deposit,12.00,2026-10-10T06:30:00Z,ann,admin,cash,R-3,,,,,
        p4,C1,deposit,13.00,2026-10-05T22:30:00Z,web,web,gateway,ch_1,,,,,
    """)
    assert found(engine, "outside_working_hours") == []  # no operators configured: nothing to read
    add_reference(engine, "operators", [dict(login="ann", name="Ann", role="clerk", timezone="Asia/Dubai",
                                             shift_start=9 * 60, shift_end=17 * 60, working_days="12345")])
    findings = found(engine, "outside_working_hours")
    # Monday 10:30 Dubai is in the shift; 02:30 Tuesday is not; Saturday is not a working day.
    assert sorted(f.payment_ids for f in findings) == [(2,), (3,)]


def test_a_findings_amount_is_in_its_records_currency_and_never_a_sum_across_currencies(tmp_path):
    """ann's off-shift night spans a dollar and a yen account: the finding names both records in their own money
    but has no amount at stake (5,000 yen and 11 dollars add up to nothing); one currency's finding carries it,
    and the findings table shows yen without cents."""
    from vosbench.outputs.export import Table, styled

    engine = ledger(tmp_path, """
        p1,C1,deposit,11.00,2026-10-05T22:30:00Z,ann,admin,cash,R-1,,,,,
        p2,J1,deposit,5000,2026-10-05T22:40:00Z,ann,admin,cash,R-2,,,,,
        p3,J1,deposit,7000,2026-10-10T06:30:00Z,ann,admin,cash,R-3,,,,,
    """, accounts=ACCOUNTS.rstrip() + """
        J1,Kyaku,customer,A1,0,JPY,UTC
    """)
    add_reference(engine, "operators", [dict(login="ann", name="Ann", role="clerk", timezone="Asia/Dubai",
                                             shift_start=9 * 60, shift_end=17 * 60, working_days="12345")])
    result = runner.run(engine, "2026-10", RULES, ["outside_working_hours"])
    by_ids = {f.payment_ids: f for f in result.findings}
    assert sorted(by_ids) == [(1, 2), (3,)]
    assert (by_ids[(1, 2)].currency, by_ids[(1, 2)].amount) == ("", None)
    assert "#1" in by_ids[(1, 2)].explanation and "#2" in by_ids[(1, 2)].explanation
    assert (by_ids[(3,)].currency, by_ids[(3,)].amount) == ("JPY", 7000 * UNIT)
    html = styled(Table("Findings", "Findings", result.frame(), ("amount",))).to_html()
    assert ">7,000<" in html and "7,000.00" not in html


def test_a_night_shift_belongs_to_the_day_it_starts_on(tmp_path):
    engine = ledger(tmp_path, """
        p1,C1,deposit,10.00,2026-10-05T21:45:00Z,ann,admin,cash,R-1,,,,,
        p2,C1,deposit,11.00,2026-10-06T03:00:00Z,ann,admin,cash,R-2,,,,,
        p3,C1,deposit,12.00,2026-10-06T07:30:00Z,ann,admin,cash,R-3,,,,,
        p4,C1,deposit,13.00,2026-10-06T12:00:00Z,ann,admin,cash,R-4,,,,,
        p5,C1,deposit,14.00,2026-10-05T03:00:00Z,ann,admin,cash,R-5,,,,,
        p6,C1,deposit,15.00,2026-10-10T23:00:00Z,ann,admin,cash,R-6,,,,,
    """)
    add_reference(engine, "operators", [dict(login="ann", name="Ann", role="clerk", timezone="UTC",
                                             shift_start=22 * 60, shift_end=6 * 60, working_days="12345")])
    findings = found(engine, "outside_working_hours")
    # Monday 21:45 is in the 30-minute grace and Tuesday 03:00 in Monday's night shift; Tuesday 07:30
    # and noon are after it; Monday 03:00 belongs to Sunday's shift and Saturday 23:00 to Saturday's,
    # and neither Sunday nor Saturday is a working day.
    assert sorted(f.payment_ids for f in findings) == [(3, 4), (5,), (6,)]
    assert "outside their shift (22:00–06:00 UTC, MoTuWeThFr)" in findings[0].explanation


def test_one_operator_entering_nearly_all_of_an_accounts_credits_beyond_chance(tmp_path):
    # 25 manual credits: ann 5 (20% of the desk), all on C1; bob 16 (64%) and cy 4, on C2 and A1.
    rows = [f"p{n},C1,deposit,{20 + n}.00,2026-10-{n + 1:02d}T10:00:00Z,ann,admin,cash,R-{n},,,,," for n in range(1, 6)]
    for account in ("C2", "A1"):
        rows += [f"{account}-{n},{account},deposit,{30 + n}.00,2026-10-{n + 1:02d}T11:00:00Z,"
                 f"{'bob' if n <= 8 else 'cy'},admin,cash,{account}-{n},,,,," for n in range(1, 11)]
    engine = ledger(tmp_path, "\n".join(rows))
    (finding,) = found(engine, "operator_concentration")
    # ann: 5 of 5 at a 20% share happens by chance 0.2^5 = 0.03% of the time; bob's 8 of 10 on C2 and A1
    # at a 64% share happens about a quarter of the time: the busiest clerk, not a sign.
    assert finding.accounts == ("C1",) and finding.operator == "ann" and len(finding.payment_ids) == 5
    assert "they entered 20% of all manual credits, so chance gives this many on one account 0.03%" in \
        finding.explanation
    assert {f.accounts for f in found(engine, "operator_concentration", from_mapping({"concentration_chance": "1"}))} \
        == {("C1",), ("C2",), ("A1",)}  # the share alone (80%) would report the busiest clerk's accounts too


def test_the_binomial_tail_is_exact_at_the_edges():
    from vosbench.controls.operators import chance_of_at_least

    assert chance_of_at_least(5, 5, 0.2) == pytest.approx(0.2 ** 5)
    assert chance_of_at_least(0, 7, 0.3) == pytest.approx(1.0)
    assert chance_of_at_least(4, 5, 0.5) == pytest.approx(6 / 32)


def test_an_operator_crediting_an_account_they_manage(tmp_path):
    engine = ledger(tmp_path, """
        p1,C1,deposit,40.00,2026-10-02T10:00:00Z,ann,admin,cash,R-1,,,,,
        p2,C2,deposit,40.00,2026-10-02T10:00:00Z,ann,admin,cash,R-2,,,,,
        p3,C1,withdrawal,-10.00,2026-10-03T10:00:00Z,ann,admin,cash,R-3,,,,,
    """)
    add_reference(engine, "operators", [dict(login="ann", name="Ann", role="clerk", timezone="UTC",
                                             shift_start=0, shift_end=1440, working_days="1234567")])
    add_reference(engine, "operator_accounts", [dict(login="ann", account_id=account_id(engine, "C1"),
                                                     relation="owns")])
    (finding,) = found(engine, "self_dealing")
    assert finding.payment_ids == (1,) and "an account linked to them (owns)" in finding.explanation
    assert finding.accounts == ("C1",) and finding.severity == "high"


def test_clusters_of_round_manual_amounts(tmp_path):
    engine = ledger(tmp_path, """
        p1,C1,deposit,2000.00,2026-10-02T10:00:00Z,ann,admin,cash,R-1,,,,,
        p2,C1,deposit,3000.00,2026-10-04T10:00:00Z,bob,admin,cash,R-2,,,,,
        p3,C1,deposit,1000.00,2026-10-08T10:00:00Z,ann,admin,cash,R-3,,,,,
        p4,C2,deposit,2000.00,2026-10-02T10:00:00Z,ann,admin,cash,S-1,,,,,
        p5,C2,deposit,3000.00,2026-10-20T10:00:00Z,ann,admin,cash,S-2,,,,,
        p6,C2,deposit,1500.00,2026-10-21T10:00:00Z,ann,admin,cash,S-3,,,,,
    """)
    (finding,) = found(engine, "round_amount_cluster")
    assert finding.accounts == ("C1",) and finding.payment_ids == (1, 2, 3)


BENFORD_COUNTS = {1: 30, 2: 18, 3: 12, 4: 10, 5: 8, 6: 7, 7: 6, 8: 5, 9: 4}


def test_first_digits_per_operator_against_benford(tmp_path):
    rows, n = [], 0
    for digit, count in BENFORD_COUNTS.items():
        for k in range(count):
            n += 1
            rows.append(f"b{n},C1,deposit,{digit}{k % 10}.{n % 100:02d},2026-10-02T10:{n % 60:02d}:00Z,bob,admin,"
                        f"cash,B-{n},,,,,")
    for k in range(100):
        rows.append(f"a{k},C2,deposit,9{k % 10}.{k:02d},2026-10-03T10:{k % 60:02d}:00Z,ann,admin,cash,A-{k},,,,,")
    engine = ledger(tmp_path, "\n".join(rows))
    (finding,) = found(engine, "benford_first_digit")
    assert finding.operator == "ann" and "digit 9 at 100.0%" in finding.explanation
    assert "Caveat" in finding.explanation
    small = from_mapping({"benford_min_sample": 101})
    assert found(engine, "benford_first_digit", small) == []  # too few entries: not tested


def test_a_desk_that_deviates_alike_is_not_flagged_but_a_lone_operator_meets_the_plain_limit(tmp_path):
    # round top-ups: every clerk's first digits are 1, 2 and 5 — far from Benford, and alike
    menu = ["10.00", "20.00", "50.00", "100.00", "25.00"]
    rows = [f"{who}{k},C1,deposit,{menu[k % 5]},2026-10-0{1 + k % 9}T10:{k % 60:02d}:00Z,{who},admin,cash,{who}-{k},,,,,"
            for who in ("ann", "bob", "cy") for k in range(120)]
    engine = ledger(tmp_path, "\n".join(rows))
    assert found(engine, "benford_first_digit") == []

    alone = ledger(tmp_path / "alone", "\n".join(row for row in rows if ",ann," in row))
    (finding,) = found(alone, "benford_first_digit")
    assert finding.operator == "ann" and "no other operator has a sample" in finding.explanation
    with pytest.raises(SettingsError, match="benford_desk_ratio.*at least 1"):
        from_mapping({"benford_desk_ratio": "0.5"})


LOOK_ALIKES = ACCOUNTS.rstrip() + """
    C3,Falcon Voice FZE,customer,A1,0,USD,UTC
    C4,Falcon Voice LLC,customer,A1,0,USD,UTC
"""


def test_a_deposit_whose_remittance_names_a_look_alike_account(tmp_path):
    engine = ledger(tmp_path, """
        p1,C4,deposit,700.00,2026-10-02T10:00:00Z,ann,admin,bank_wire,FT1,"Wire from Falcon Voice FZE, ref. C3",,,,
        p2,C4,deposit,700.00,2026-10-09T10:00:00Z,ann,admin,bank_wire,FT2,"Wire from Falcon Voice LLC, ref. C4",,,,
        p3,C3,deposit,100.00,2026-10-09T10:00:00Z,ann,admin,bank_wire,FT3,Wire from Falcon Voice FZE,,,,
    """, accounts=LOOK_ALIKES)
    (finding,) = found(engine, "look_alike_account")
    assert finding.payment_ids == (1,) and finding.accounts == ("C3", "C4")
    assert "(look-alike name)" in finding.explanation


def test_a_remittance_hiding_the_other_account_behind_invisible_characters_is_read_as_written(tmp_path):
    """A zero-width space inside the number or the name (or another letter case) names the same account to a reader."""
    engine = ledger(tmp_path, """
        p1,C4,deposit,700.00,2026-10-02T10:00:00Z,ann,admin,bank_wire,FT1,"Wire, ref. C\u200b3",,,,
        p2,C4,deposit,700.00,2026-10-09T10:00:00Z,ann,admin,bank_wire,FT2,"Wire from FALCON Voice F\u200bZE",,,,
        p3,C3,deposit,100.00,2026-10-09T10:00:00Z,ann,admin,bank_wire,FT3,Wire from Falcon Voice F\u200bZE,,,,
    """, accounts=LOOK_ALIKES)
    findings = {finding.payment_ids: finding.accounts for finding in found(engine, "look_alike_account")}
    assert findings == {(1,): ("C3", "C4"), (2,): ("C3", "C4")}


def test_commission_paid_against_traffic_and_rate(tmp_path):
    engine = ledger(tmp_path, """
        p1,A1,commission,5.00,2026-10-01T02:00:00Z,system,automatic,other,COMM-2026-09-A1,,,,,
        p2,R1,commission,1.50,2026-10-01T02:00:00Z,system,automatic,other,COMM-2026-09-R1,,,,,
    """, charges="""
        account,day,call_fee,agent_fee,other_fee,calls
        C1,2026-09-10,60.0000,0,0,10
        C2,2026-09-11,40.0000,0,0,5
        C1,2026-10-03,99.0000,0,0,5
    """)
    add_reference(engine, "commission_rates", [dict(account_id=account_id(engine, "A1"), rate="0.05"),
                                               dict(account_id=account_id(engine, "R1"), rate="0.01")])
    (finding,) = found(engine, "commission_mismatch")  # A1: 100.00 × 0.05 = 5.00 paid; R1: 1.00 due, 1.50 paid
    assert finding.accounts == ("R1",) and finding.payment_ids == (2,) and finding.amount == 5_000
    assert "100.00 × rate 0.01 = 1.00" in finding.explanation


def test_commission_never_adds_a_sub_accounts_fees_in_another_currency(tmp_path):
    """R1 (USD) has a EUR customer below A1: its 500.00 EUR of fees are not 500.00 USD of R1's base."""
    engine = ledger(tmp_path, """
        p1,A1,commission,5.00,2026-10-01T02:00:00Z,system,automatic,other,COMM-2026-09-A1,,,,,
        p2,R1,commission,1.00,2026-10-01T02:00:00Z,system,automatic,other,COMM-2026-09-R1,,,,,
    """, accounts=ACCOUNTS.rstrip() + """
        E1,Euro Kunde,customer,A1,0,EUR,UTC
        A2,Agent Euro,agent,R1,0,EUR,UTC
        E2,Euro Zwei,customer,A2,0,EUR,UTC
    """, charges="""
        account,day,call_fee,agent_fee,other_fee,calls
        C1,2026-09-10,60.0000,0,0,10
        C2,2026-09-11,40.0000,0,0,5
        E1,2026-09-12,500.0000,0,0,50
        E2,2026-09-12,30.0000,0,0,3
    """)
    add_reference(engine, "commission_rates", [dict(account_id=account_id(engine, account), rate=rate)
                                               for account, rate in (("A1", "0.05"), ("R1", "0.01"), ("A2", "0.05"))])
    by_account = {f.accounts: f for f in found(engine, "commission_mismatch")}
    # A1 and R1 (USD) hold EUR fees below them (R1: E1 and E2): not checked, said so; A2 (EUR): 30.00 × 0.05 = 1.50 due, none paid
    assert {account: f.severity for account, f in by_account.items()} == {("A1",): "low", ("R1",): "low", ("A2",): "high"}
    assert "not checked: 2 of its sub-accounts in other currencies were charged call fees" in by_account[("R1",)].explanation
    assert "30.00 × rate 0.05 = 1.50" in by_account[("A2",)].explanation


@pytest.mark.parametrize("basis, due_text, difference", [
    ("sub_account_fees", None, None),  # 100.00 × 0.05 = 5.00, as paid
    ("agent_margin", "(sub-accounts' call fees 100.00 − its agent fees 70.00 = 30.00) × rate 0.05 = 1.50",
     3_5000),
    ("agent_fees", "its agent fees 70.00 × rate 0.05 = 3.50", 1_5000),
])
def test_the_commission_base_is_configurable(tmp_path, basis, due_text, difference):
    engine = ledger(tmp_path, "p1,A1,commission,5.00,2026-10-01T02:00:00Z,system,automatic,other,COMM-A1,,,,,",
                    charges="""
        account,day,call_fee,agent_fee,other_fee,calls
        C1,2026-09-10,60.0000,0,0,10
        C2,2026-09-11,40.0000,0,0,5
        A1,2026-09-10,0,42.0000,0,0
        A1,2026-09-11,0,28.0000,0,0
        A1,2026-10-02,0,99.0000,0,0
    """)
    add_reference(engine, "commission_rates", [dict(account_id=account_id(engine, "A1"), rate="0.05")])
    findings = found(engine, "commission_mismatch", from_mapping({"commission_base": basis}))
    if difference is None:
        assert findings == []
        return
    (finding,) = findings
    assert finding.accounts == ("A1",) and due_text in finding.explanation and finding.amount == difference


def test_commission_to_an_account_without_a_configured_rate_is_flagged(tmp_path):
    engine = ledger(tmp_path, "p1,R1,commission,2.00,2026-10-01T02:00:00Z,system,automatic,other,COMM-R1,,,,,",
                    charges="""
        account,day,call_fee,agent_fee,other_fee,calls
        C1,2026-09-10,60.0000,0,0,10
    """)
    add_reference(engine, "commission_rates", [dict(account_id=account_id(engine, "A1"), rate="0.05")])
    by_account = {f.accounts: f for f in found(engine, "commission_mismatch")}
    assert {accounts: f.severity for accounts, f in by_account.items()} == {("A1",): "high", ("R1",): "low"}
    assert "no configured rate" in by_account[("R1",)].explanation and by_account[("A1",)].amount == -3 * UNIT


def test_an_unknown_commission_base_is_refused_naming_the_choices():
    with pytest.raises(SettingsError, match="'margin' is not a commission base; use one of sub_account_fees, "
                                            "agent_margin, agent_fees"):
        from_mapping({"commission_base": "margin"})
    assert tuple(commission.BASES) == COMMISSION_BASES


def test_balance_drift_names_the_first_record_where_it_starts(tmp_path):
    engine = ledger(tmp_path, """
        p1,C1,deposit,100.00,2026-10-02T10:00:00Z,ann,admin,cash,R-1,,,100.00,,
        p2,C1,deposit,50.00,2026-10-05T10:00:00Z,ann,admin,cash,R-2,,,100.00,,
        p3,C1,deposit,10.00,2026-10-07T10:00:00Z,ann,admin,cash,R-3,,,110.00,,
        p4,C2,deposit,20.00,2026-10-02T10:00:00Z,ann,admin,cash,S-1,,,20.00,,
    """, balances="""
        account,as_of,balance
        C1,2026-11-01T00:00:00Z,110.00
        C2,2026-11-01T00:00:00Z,20.00
    """)
    (finding,) = found(engine, "balance_drift")
    assert finding.accounts == ("C1",) and finding.payment_ids == (2,) and finding.amount == -50 * UNIT
    assert "starts at record #2" in finding.explanation


def test_every_check_is_registered_and_runs_on_an_empty_month(tmp_path):
    engine = ledger(tmp_path, "p1,C1,deposit,1.00,2026-09-02T10:00:00Z,ann,admin,cash,R-1,,,,,")
    result = runner.run(engine, "2026-10", RULES)
    assert result.findings == [] and set(result.counts()["check"]) == set(CHECKS)
    assert set(result.not_run) == {"outside_working_hours", "unregistered_operator", "self_dealing", "commission_mismatch"}


def test_finding_ids_are_stable_and_annotations_come_back(tmp_path):
    engine = ledger(tmp_path, "p1,C1,adjustment,5.00,2026-10-02T10:00:00Z,ann,admin,other,,,,,,")
    first = runner.run(engine, "2026-10", RULES).frame()
    (finding_id,) = first["finding_id"]
    assert first["status"].tolist() == ["open"]
    identity.register(engine, "auditor", "auditor")
    annotations.annotate(engine, finding_id, month="2026-10", status="escalated", note="asked ann", author="auditor")
    annotations.annotate(engine, finding_id, month="2026-10", status="explained", note="ticket found", author="auditor")
    again = runner.run(engine, "2026-10", RULES).frame()
    # with an operator registered, ann (who never was) is named by the unregistered_operator check too
    assert again["check"].tolist() == ["adjustment_without_reason_or_link", "unregistered_operator"]
    again = again[again["check"] != "unregistered_operator"]
    assert again["finding_id"].tolist() == [finding_id]
    assert again[["status", "note"]].values.tolist() == [["explained", "ticket found"]]
    assert len(annotations.history(engine, finding_id)) == 2
    with engine.begin() as connection, pytest.raises(sa.exc.DatabaseError, match="append-only"):
        connection.execute(tables.finding_annotations.update().values(status="open"))


@pytest.mark.parametrize("call, message", [
    (dict(finding_id="nope", status="open", note="", author="a"), "not one"),
    (dict(finding_id="F-0123456789ab", status="done", note="", author="a"), "use one of"),
    (dict(finding_id="F-0123456789ab", status="explained", note=" ", author="a"), "needs a note"),
    (dict(finding_id="F-0123456789ab", status="open", note="", author="nobody"),
     r"operator 'nobody' is not registered \(known: ann, sue\)"),
    (dict(finding_id="F-0123456789ab", status="open", note="", author="ann"), "ann is a clerk; only an auditor or "),
    (dict(finding_id="F-0123456789ab", status="open", note="", author=" "), r"say who annotates findings \(--by"),
    # the right form, but no finding the month's controls find: a note nobody would ever see
    (dict(finding_id="F-0123456789ab", status="open", note="", author="sue"),
     r"^finding F-0123456789ab is not among the 0 findings the controls find in 2026-10; list them with "
     r"`vosbench controls --month 2026-10` and copy an id from there$"),
])
def test_bad_annotations_name_the_fix(tmp_path, call, message):
    engine = ledger(tmp_path, "p1,C1,deposit,1.00,2026-09-02T10:00:00Z,ann,admin,cash,R-1,,,,,")
    identity.register(engine, "ann", "clerk")
    identity.register(engine, "sue", "supervisor")
    finding_id = call.pop("finding_id")
    with pytest.raises(ValueError, match=message):
        annotations.annotate(engine, finding_id, month="2026-10", **call)
    assert annotations.latest(engine) == {}


@pytest.mark.parametrize("raw, message", [
    ({"thresholds": {}}, "unknown key"),
    ({"approval_thresholds": {"USD": {"deposit": 10000.0}}}, "quoted decimal text"),
    ({"approval_thresholds": {"USD": {"gift": "1.00"}}}, "unknown value 'gift'"),
    ({"just_under_share": "1.5"}, "between 0 and 1"),
    ({"link_pattern": "("}, "not a regular expression"),
])
def test_bad_settings_name_the_key_and_the_fix(raw, message):
    with pytest.raises(SettingsError, match=message):
        from_mapping(raw)


def test_the_shipped_controls_file_is_valid_and_its_thresholds_only_seed_a_ledger():
    assert policy.load().approval_thresholds == {}  # the ledger's govern once it has them
    rules = policy.seed_settings()
    assert rules.threshold("USD", "deposit") == 10_000 * UNIT and rules.threshold("EUR", "deposit") == 10_000 * UNIT
    assert rules.threshold("GBP", "deposit") is None
    assert rules.has_link("Credit for failed calls, ticket #48213") and not rules.has_link("goodwill")


def test_look_alikes_among_50000_code_like_names_compare_only_what_the_deposits_name(monkeypatch):
    """VOS3000 operators name accounts by code: ACC-000000 … ACC-049999 all share a prefix.

    The check must compare names only where a deposit's text names an account, so its
    work follows the month's deposits, not the square of the accounts (the old blocking
    by first letters put all 50,000 in one block: over a billion comparisons).
    """
    from vosbench.controls import lookalikes
    from vosbench.controls.context import MonthData
    from vosbench.core import periods

    accounts = pd.DataFrame({"account": [f"C{i:05d}" for i in range(50_000)],
                             "name": [f"ACC-{i:06d}" for i in range(50_000)]})
    accounts.loc[7, "name"], accounts.loc[8, "name"] = "Falcon Voice FZE", "Falcon Voice LLC"
    deposits = [(f"C{i * 37 % 50_000:05d}", f"wire for ACC-{i * 37 % 50_000:06d} ref ACC-{i % 977:06d}")
                for i in range(2_000)]
    deposits += [("C00008", "Wire from Falcon Voice FZE"), ("C00010", "top-up for C00009")]
    names = dict(zip(accounts["account"], accounts["name"]))
    payments = pd.DataFrame({
        "id": range(1, len(deposits) + 1), "account": [a for a, _ in deposits], "name": [names[a] for a, _ in deposits],
        "kind": "deposit", "amount": 1_000_000, "reverses_id": pd.array([None] * len(deposits), dtype="Int64"),
        "memo": [m for _, m in deposits], "reference": "", "operator": "ann", "currency": "USD"})
    data = MonthData(None, periods.month("2026-10", "UTC"), "UTC", RULES, payments, accounts,
                     pd.DataFrame(), pd.DataFrame(), 0)
    compared = []
    real_alike = lookalikes.alike
    monkeypatch.setattr(lookalikes, "alike", lambda *names: compared.append(names) or real_alike(*names))
    findings = {f.payment_ids[0]: f for f in lookalikes.look_alike_accounts(data)}

    assert len(compared) <= 3 * len(deposits)  # a few names per deposit text, never the whole ledger
    assert findings[2_001].accounts == ("C00007", "C00008") and "(look-alike name)" in findings[2_001].explanation
    assert findings[2_002].accounts == ("C00009", "C00010")  # named by its number
    # the code-named deposits name another account only by its name, which is no look-alike of the credited one
    assert all(pid > 2_000 for pid in findings)


def test_an_approval_counts_only_from_a_registered_supervisor_other_than_the_maker(tmp_path, capsys):
    engine = ledger_from_text(tmp_path, accounts=ACCOUNTS, operators=TEAM)
    history = write_ledger_files(tmp_path / "history", payments=HEADER + "\n" + textwrap.dedent("""
        h1,C1,deposit,30000.00,2026-10-02T10:00:00Z,ann,admin,bank_wire,FT1,,,,,bob
        h2,C1,deposit,20000.00,2026-10-03T10:00:00Z,ann,admin,bank_wire,FT2,,,,,alice
        h3,C1,deposit,25000.00,2026-10-04T10:00:00Z,ann,admin,bank_wire,FT3,,,,,zed
        h4,C1,deposit,26000.00,2026-10-05T10:00:00Z,ann,admin,bank_wire,FT4,,,,,ANN
        h5,C1,deposit,27000.00,2026-10-06T10:00:00Z,alice,admin,bank_wire,FT5,,,,,Cy
        h6,C1,deposit,900.00,2026-10-07T10:00:00Z,ann,admin,bank_wire,FT6,,,,,alice
    """).strip())
    assert main.main(["--db", str(engine.url), "import", str(history)]) == 0
    findings = {f.payment_ids[0]: f for f in found(engine, "unapproved_above_threshold")}
    # imported history approved by a supervisor (any letter case) counts; a clerk's or a stranger's does not;
    # the maker's own is approved_by_maker's; below the threshold nobody's approval is needed
    assert sorted(findings) == [2, 3]
    assert "approved by alice, a clerk; deposits of 10,000.00 USD or more need a second operator, a supervisor" \
        in findings[2].explanation and findings[2].severity == "high"
    assert "approved by zed, not a registered operator" in findings[3].explanation
    assert [f.payment_ids for f in found(engine, "approved_by_maker")] == [(4,)]
    capsys.readouterr()
    main.main(["--db", str(engine.url), "controls", "--month", "2026-10", "--check", "unapproved_above_threshold",
               "--format", "csv"])
    assert "approved by alice, a clerk" in capsys.readouterr().out


def test_a_persons_entry_marked_approved_needs_its_request_approved(tmp_path):
    engine = ledger_from_text(tmp_path, accounts=ACCOUNTS, operators=TEAM)
    october = datetime(2026, 10, 5, 10, tzinfo=UTC)
    request = approvals.submit(engine, RULES, account="C1", kind="deposit", amount="20000.00", operator="ann",
                               occurred_at=october, method="bank_wire")
    approved = approvals.approve(engine, request.id, checker="bob")
    # a second request left open lets the door take a record naming bob as approver: nobody decided it
    approvals.submit(engine, RULES, account="C1", kind="deposit", amount="30000.00", operator="ann",
                     occurred_at=october, method="bank_wire")
    # the database refuses it now (no request of exactly this entry is open): written behind the guards
    behind_guards(tmp_path / "ledger.sqlite", "INSERT INTO payments (account_id, kind, amount, occurred_at, recorded_at, "
                  "operator, channel, method, reference, memo, reason, approved_by, source, source_key, hash) SELECT "
                  f"account_id, kind, {30000 * UNIT}, '2026-10-06 10:00:00.000000', recorded_at, operator, channel, "
                  f"method, reference, memo, reason, 'bob', '{MANUAL_SOURCE}', 'forged', hash FROM payments "
                  f"WHERE id = {approved}", tables=("payments",))
    (finding,) = found(engine, "unapproved_above_threshold")
    assert finding.payment_ids == (approved + 1,)
    assert "marked approved by bob with no request of it approved by bob" in finding.explanation


def test_a_reference_with_an_invisible_character_is_the_same_reference(tmp_path):
    engine = ledger_from_text(tmp_path, accounts=ACCOUNTS, operators=TEAM)
    entries = [("C1", "INV-20", "09:00"), ("C1", "INV\u200b-20", "13:00"), ("C1", "INV-21", "17:00"),
               ("C2", "FT-7", "09:00"), ("C2", "FT-7", "12:00"), ("C2", "ＦＴ-\u200d7 ", "15:00")]
    for account, reference, time in entries:
        assert main.main(["--db", str(engine.url), "record", "--account", account, "--kind", "deposit",
                          "--amount", "500", "--operator", "ann", "--method", "bank_wire", "--reference", reference,
                          "--at", f"2026-10-02T{time}:00+00:00"]) == 0
    findings = {f.accounts: f for f in found(engine, "duplicate")}
    assert findings[("C1",)].payment_ids == (1, 2) and findings[("C1",)].severity == "high"
    assert "written 'INV-20', 'INV\\u200b-20'" in findings[("C1",)].explanation
    assert findings[("C2",)].payment_ids == (4, 5, 6)  # the third, written apart, is named with the other two


def test_text_is_compared_as_read():
    texts = pd.Series(["INV-20", "INV\u200b-20", "ｉｎｖ-20 ", "\u0406NV-20", "INV-2O", "\u200b"])
    assert list(as_read(texts)) == ["inv-20"] * 4 + ["inv-2o", ""]
