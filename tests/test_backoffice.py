"""The back office from CSV: operators, the accounts they manage, commission rates — and the controls use them."""

import pytest
import sqlalchemy as sa
from ledger_text import ACCOUNTS, ledger_from_text, write_ledger_files

from vosbench.controls import runner
from vosbench.ledger import tables
from vosbench.ledger.policy import from_mapping
from vosbench.ledger.write_door import ImportRejected
from vosbench.sources import csv_import

OPERATORS = """
    login,name,role,timezone,shift_start,shift_end,working_days
    ann,Ann Lee,clerk,Asia/Dubai,09:00,17:00,54321
    bob,Bob Ray,,,08:30,24:00,123456
"""
MANAGED = """
    login,account,relation
    ann,C2,owns
"""
RATES = """
    account,rate
    A1,0.05
    R1,0.010
"""
PAYMENTS = """
    source_key,account,kind,amount,occurred_at,operator,channel,method,reference
    p1,C2,deposit,100.00,2026-10-05T16:00:00Z,ann,admin,cash,R-1
    p2,A1,commission,4.00,2026-10-01T02:00:00Z,system,automatic,other,COMM-A1
"""
CHARGES = """
    account,day,call_fee,agent_fee,other_fee,calls
    C1,2026-09-10,100.00,0,0,10
"""


def rows(engine, table: str) -> list[tuple]:
    with engine.connect() as connection:
        return [tuple(row) for row in connection.execute(sa.select(tables.metadata.tables[table]))]


def test_the_back_office_imports_once_and_the_controls_read_it(tmp_path):
    engine = ledger_from_text(tmp_path, accounts=ACCOUNTS, payments=PAYMENTS, charges=CHARGES, operators=OPERATORS,
                              operator_accounts=MANAGED, commission_rates=RATES)
    assert rows(engine, "operators") == [("ann", "Ann Lee", "clerk", "Asia/Dubai", 540, 1020, "12345"),
                                         ("bob", "Bob Ray", "operator", "UTC", 510, 1440, "123456")]
    assert [(login, relation) for login, _id, relation in rows(engine, "operator_accounts")] == [("ann", "owns")]
    assert sorted(rate for _id, rate in rows(engine, "commission_rates")) == ["0.010", "0.05"]
    again = csv_import.import_paths(engine, [tmp_path / "in"])
    assert [(r.file, r.added, r.skipped) for r in again][-3:] == [
        ("operators.csv", 0, 2), ("operator_accounts.csv", 0, 1), ("commission_rates.csv", 0, 2)]

    result = runner.run(engine, "2026-10", from_mapping({}), ["outside_working_hours", "self_dealing",
                                                              "commission_mismatch"])
    by_check = {}
    for finding in result.findings:
        by_check.setdefault(finding.check, []).append(finding)
    (late,) = by_check["outside_working_hours"]  # 16:00 UTC is 20:00 in Dubai, after ann's 17:00 end
    assert "20:00" in late.explanation and "Asia/Dubai" in late.explanation
    (own,) = by_check["self_dealing"]
    assert own.accounts == ("C2",) and "an account linked to them (owns)" in own.explanation
    assert {f.accounts: f.amount for f in by_check["commission_mismatch"]} == {("A1",): -10_000, ("R1",): -10_000}
    assert not result.not_run  # every check had its reference data


@pytest.mark.parametrize("files, messages", [
    (dict(operators="""
        login,name,shift_start,shift_end,working_days,timezone
        ann,Ann Lee,9am,17:00,12345,
        bob,Bob Ray,18:00,18:00,12345,
        cy,Cy Fox,09:00,17:00,Mon-Fri,
        di,Di Gale,09:00,17:00,12345,Mars/Base
        ,No Login,09:00,17:00,12345,
        ed,Ed Stone,09:00,17:00,12345,
        ed,Ed Stone,09:00,18:00,12345,
     """), ["operators.csv:2: shift_start: '9am' is not a local time of day",
            "operators.csv:3: shift_end 18:00 is shift_start; give a shift of less than a day",
            "operators.csv:4: working_days: 'Mon-Fri' is not ISO weekday digits",
            "operators.csv:5: timezone: 'Mars/Base' is not an IANA time zone",
            "operators.csv:6: login is empty",
            "operators.csv:8: 'ed' appears twice in this file"]),
    (dict(operator_accounts="""
        login,account
        zed,C1
        ann,ZZ
     """), ["operator_accounts.csv:2: operator 'zed' is unknown; add them to operators.csv first",
            "operator_accounts.csv:3: account 'ZZ' is unknown"]),
    (dict(commission_rates="""
        account,rate
        C1,0.05
        A1,5%
        R1,1.5
        XX,0.01
     """), ["commission_rates.csv:2: C1 is a customer; commission rates are for agents and resellers",
            "commission_rates.csv:3: rate: '5%' is not a share between 0 and 1",
            "commission_rates.csv:4: rate: '1.5' is not a share",
            "commission_rates.csv:5: account 'XX' is unknown"]),
])
def test_every_bad_row_is_reported_and_nothing_of_the_file_is_written(tmp_path, files, messages):
    engine = ledger_from_text(tmp_path, accounts=ACCOUNTS, operators="""
        login,name,shift_start,shift_end,working_days
        ann,Ann Lee,09:00,17:00,12345
    """)
    before = {table: rows(engine, table) for table in ("operators", "operator_accounts", "commission_rates")}
    with pytest.raises(ImportRejected) as raised:
        csv_import.import_paths(engine, [write_ledger_files(tmp_path / "bad", **files)])
    reported = [str(rejection) for rejection in raised.value.rejections]
    assert len(reported) == len(messages)
    for line, message in zip(reported, messages):
        assert line.startswith(message), (line, message)
    assert {table: rows(engine, table) for table in before} == before


def test_a_changed_operator_or_rate_is_refused_not_edited(tmp_path):
    engine = ledger_from_text(tmp_path, accounts=ACCOUNTS, operators=OPERATORS, commission_rates=RATES)
    changed = write_ledger_files(tmp_path / "changed", operators="""
        login,name,role,timezone,shift_start,shift_end,working_days
        ann,Ann Lee,clerk,Asia/Dubai,09:00,18:00,12345
    """, commission_rates="""
        account,rate
        A1,0.06
    """)
    for name in ("operators.csv", "commission_rates.csv"):
        with pytest.raises(ImportRejected, match="already configured with other values"):
            csv_import.import_paths(engine, [changed / name])
    assert ("ann", "Ann Lee", "clerk", "Asia/Dubai", 540, 1020, "12345") in rows(engine, "operators")


HISTORY = """
    source_key,account,kind,amount,occurred_at,operator,channel,method,reference,approved_by
    h1,C1,deposit,20000.00,2026-10-02T10:00:00Z,ann,admin,cash,R-1,old.boss
    h2,C2,deposit,15000.00,2026-10-03T10:00:00Z,ann,admin,cash,R-2,old.boss
    h3,C2,deposit,30.00,2026-10-04T10:00:00Z,zed,admin,cash,R-3,
    h4,C1,deposit,40.00,2026-10-04T11:00:00Z,bob,admin,cash,R-4,ann
    h5,A1,commission,4.00,2026-10-01T02:00:00Z,system,automatic,other,COMM-A1,
"""


def test_imported_records_of_names_no_operator_is_registered_under_are_one_finding_per_name(tmp_path):
    engine = ledger_from_text(tmp_path, accounts=ACCOUNTS, payments=HISTORY, operators=OPERATORS)  # accepted as they are
    result = runner.run(engine, "2026-10", from_mapping({}), ["unregistered_operator"])
    found = {(finding.operator, finding.severity): finding for finding in result.findings}
    assert sorted(found) == [("old.boss", "medium"), ("zed", "low")]  # 'system' enters on the automatic channel
    boss = found[("old.boss", "medium")]
    assert boss.accounts == ("C1", "C2") and len(boss.payment_ids) == 2 and boss.amount == 350_000_000
    assert boss.explanation.startswith("2 record(s) approved by 'old.boss', who is not a registered operator")
    assert "#" in found[("zed", "low")].explanation and "1 record(s) entered by 'zed'" in found[("zed", "low")].explanation
    without = ledger_from_text(tmp_path / "bare", accounts=ACCOUNTS, payments=HISTORY)
    assert runner.run(without, "2026-10", from_mapping({}), ["unregistered_operator"]).not_run == {
        "unregistered_operator": "the ledger's operators table is empty"}
