"""Months that close: who may close and reopen, what a close refuses, and where closes show."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime

import pytest
from ledger_text import ACCOUNTS, ledger_from_text, write_ledger_files
from tamper_sql import behind_guards

from vosbench.commands import main
from vosbench.ledger import manual_entry, month_close, setup
from vosbench.ledger.write_door import ImportRejected
from vosbench.outputs import audit
from vosbench.sources import csv_import

PAYMENTS = """
    source_key,account,kind,amount,occurred_at,operator,channel,method
    p1,C1,deposit,100.00,2026-09-05T10:00:00Z,ann,admin,cash
    p2,C2,deposit,40.00,2026-09-30T21:00:00Z,ann,admin,cash
"""
CHARGES = """
    account,day,call_fee,agent_fee,other_fee,calls
    C1,2026-09-10,10.00,0,0,10
"""
OPERATORS = """
    login,name,role,timezone,shift_start,shift_end,working_days
    ann,Ann Lee,clerk,UTC,09:00,17:00,12345
    sue,Sue Park,supervisor,UTC,08:00,16:00,12345
"""
AFTER = datetime(2026, 11, 2, tzinfo=UTC).replace(tzinfo=None)


@pytest.fixture
def engine(tmp_path):
    # Dubai (UTC+4): p2 at 21:00 UTC on 30 September is 1 October there, in the open month
    return ledger_from_text(tmp_path, timezone="Asia/Dubai", accounts=ACCOUNTS, payments=PAYMENTS, charges=CHARGES)


@pytest.fixture
def staffed(tmp_path):
    return ledger_from_text(tmp_path, accounts=ACCOUNTS, payments=PAYMENTS, operators=OPERATORS)


def run(capsys, *argv) -> tuple[int, str]:
    code = main.main([str(arg) for arg in argv])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return code, captured.out + captured.err


def append(engine, tmp_path, **files) -> list:
    folder = tmp_path / f"batch{len(list(tmp_path.iterdir()))}"  # a new folder: only these files are imported
    return csv_import.import_paths(engine, [write_ledger_files(folder, **files)])


def test_a_close_records_heads_and_closings_and_refuses_records_dated_into_the_month(engine, tmp_path):
    event = month_close.close(engine, "2026-09", by="sue", at=AFTER)
    assert event.receipt["closings"] == {"C1": 900000}  # 100.00 paid, 10.00 charged
    assert event.receipt["heads"]["payments"]["rows"] == 2
    with pytest.raises(ImportRejected, match=r"payments.csv:2: 2026-09 is closed \(by sue"):
        append(engine, tmp_path, payments="""
            source_key,account,kind,amount,occurred_at,operator,channel,method
            p3,C1,deposit,1.00,2026-09-29T10:00:00Z,ann,admin,cash
        """)
    with pytest.raises(ImportRejected, match="2026-09 is closed"):
        append(engine, tmp_path, charges="""
            account,day,call_fee,agent_fee,other_fee,calls
            C1,2026-09-11,1.00,0,0,1
        """)
    with pytest.raises(manual_entry.LedgerError, match="2026-09 is closed"):
        manual_entry.record(engine, account="C1", kind="deposit", amount="5", operator="ann",
                            occurred_at=datetime(2026, 9, 15, tzinfo=UTC))
    # the open month next to it, and the closed month's records imported again, are fine
    manual_entry.record(engine, account="C1", kind="deposit", amount="5", operator="ann",
                        occurred_at=datetime(2026, 10, 1, tzinfo=UTC))
    (again,) = append(engine, tmp_path, payments=PAYMENTS)
    assert (again.added, again.skipped) == (0, 2)


def test_a_reopened_month_takes_records_again_and_shows_in_the_audit(engine, tmp_path):
    month_close.close(engine, "2026-09", by="sue", at=AFTER)
    with pytest.raises(month_close.CloseError, match="needs? .*reason|say why"):
        month_close.reopen(engine, "2026-09", by="sue", second="ann", reason=" ")
    with pytest.raises(month_close.CloseError, match="second person, other than sue"):
        month_close.reopen(engine, "2026-09", by="sue", second="sue", reason="late deposit")
    month_close.reopen(engine, "2026-09", by="sue", second="ann", reason="late bank deposit of C1")
    manual_entry.record(engine, account="C1", kind="deposit", amount="5", operator="ann",
                        occurred_at=datetime(2026, 9, 15, tzinfo=UTC))
    rows = dict(audit.MonthlyAudit.compute(engine, "2026-10").provenance.rows())
    assert rows["month 2026-09"].startswith("reopened") and "confirmed by ann: late bank deposit of C1" in \
        rows["month 2026-09"]
    month_close.close(engine, "2026-09", by="sue", at=AFTER)
    with engine.connect() as connection:
        assert [event.action for event in month_close.history(connection)] == ["close", "reopen", "close"]
        assert list(month_close.closed_months(connection)) == ["2026-09"]


@pytest.mark.parametrize("month, by, second, message", [
    ("2026-09", "ann", "sue", "'ann' is not a registered supervisor"),
    ("2026-09", "sue", None, "a second registered operator, other than sue, must confirm it"),
    ("2026-09", "sue", "sue", "a second person, other than sue"),
    ("2026-09", "", "ann", "say who does it"),
    ("2026-13", "sue", "ann", "is not a month"),
])
def test_where_there_are_identities_a_supervisor_closes_and_another_operator_confirms(staffed, month, by, second,
                                                                                      message):
    with pytest.raises(ValueError, match=message):
        month_close.close(staffed, month, by=by, second=second, at=AFTER)
    month_close.close(staffed, "2026-09", by="sue", second="ann", at=AFTER)


def test_a_month_closes_once_and_only_after_it_ended(engine):
    with pytest.raises(month_close.CloseError, match="2026-09 has not ended yet"):
        month_close.close(engine, "2026-09", by="sue", at=datetime(2026, 9, 30, 12))
    month_close.close(engine, "2026-09", by="sue", at=AFTER)
    with pytest.raises(month_close.CloseError, match="already closed"):
        month_close.close(engine, "2026-09", by="sue", at=AFTER)
    with pytest.raises(month_close.CloseError, match="2026-08 is not closed"):
        month_close.reopen(engine, "2026-08", by="sue", second="ann", reason="x")


def test_months_close_in_order_and_reopen_latest_first(engine, tmp_path, capsys):
    engine.dispose()
    db = f"sqlite:///{tmp_path / 'ledger.sqlite'}"

    def close(month: str) -> tuple[int, str]:
        return run(capsys, "close", "--month", month, "--by", "sue", "--db", db, "--receipt", tmp_path / f"close-{month}.json")

    def reopen(month: str) -> tuple[int, str]:
        return run(capsys, "reopen", "--month", month, "--by", "sue", "--second", "ann", "--reason", "late deposit",
                   "--db", db)

    code, said = close("2026-10")  # September holds p1 and is open: a September record would change October's opening
    assert code == 2 and "2026-09 is still open and holds records; close 2026-09 first" in said
    assert not (tmp_path / "close-2026-10.json").exists()
    assert close("2026-09")[0] == 0 and close("2026-10")[0] == 0
    code, said = close("2026-10")
    assert code == 2 and "already closed; reopen it first to change it (`vosbench reopen --month 2026-10 " in said
    code, said = reopen("2026-09")
    assert code == 2 and "reopen: 2026-10 is closed after 2026-09; reopen 2026-10 first" in said
    assert reopen("2026-10")[0] == 0 and reopen("2026-09")[0] == 0
    assert close("2026-10")[0] == 2  # closing again goes in order too


def test_a_receipt_that_cannot_be_written_leaves_the_month_open(engine, tmp_path, capsys):
    engine.dispose()
    db = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    close = ["close", "--month", "2026-09", "--by", "sue", "--db", db, "--receipt"]
    code, said = run(capsys, *close, "/proc/close-2026-09.json")  # /proc takes no new files, even from root
    assert code == 2 and "--receipt /proc/close-2026-09.json: cannot be written" in said and "2026-09 was not closed" in said
    code, said = run(capsys, *close, tmp_path / "close-2026-09.json")  # the month was left open: it closes now
    assert code == 0 and json.loads((tmp_path / "close-2026-09.json").read_text())["month"] == "2026-09"


def test_a_record_dated_before_a_closed_month_is_refused_even_where_no_close_named_its_month(staffed, tmp_path, capsys):
    month_close.close(staffed, "2026-09", by="sue", second="ann", at=AFTER)  # 2026-08 holds no records and was never closed
    staffed.dispose()
    db = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    code, said = run(capsys, "record", "--account", "C2", "--kind", "deposit", "--amount", "900", "--operator", "ann",
                     "--at", "2026-08-20T14:00:00+04:00", "--db", db)
    assert code == 2 and "2026-08 lies before 2026-09, which is closed (by sue" in said
    code, said = run(capsys, "reconcile", "--month", "2026-09", "--account", "C2", "--db", db)
    assert "900" not in said
    assert run(capsys, "verify", "--db", db)[0] == 0


@pytest.mark.parametrize("ledger, message", [
    ("engine", "a second person, other than sue, must confirm it (--second LOGIN)"),
    ("staffed", "a second registered operator, other than sue, must confirm it (--second LOGIN)"),
])
def test_a_reopen_without_a_second_person_says_one_is_required(request, ledger, message):
    engine = request.getfixturevalue(ledger)
    month_close.close(engine, "2026-09", by="sue", second="ann", at=AFTER)
    with pytest.raises(month_close.CloseError) as refused:
        month_close.reopen(engine, "2026-09", by="sue", second="", reason="late deposit")
    assert str(refused.value) == message


def test_verify_names_a_closed_month_whose_closings_its_records_no_longer_make(engine, tmp_path, capsys):
    # what an older version let happen: 2026-10 closed while 2026-09 was open, then a September deposit recorded.
    # The close is made on a twin of the ledger and copied in, as the older version would have written it.
    engine.dispose()
    path, twin = tmp_path / "ledger.sqlite", tmp_path / "twin.sqlite"
    shutil.copy(path, twin)
    twin_engine = setup.open_ledger(f"sqlite:///{twin}")
    month_close.close(twin_engine, "2026-09", by="sue", at=AFTER)
    month_close.close(twin_engine, "2026-10", by="sue", at=AFTER)
    twin_engine.dispose()
    engine = setup.open_ledger(f"sqlite:///{path}")
    manual_entry.record(engine, account="C2", kind="deposit", amount="900", operator="ann",
                        occurred_at=datetime(2026, 9, 20, 10, tzinfo=UTC))
    engine.dispose()
    db = f"sqlite:///{path}"
    assert run(capsys, "verify", "--db", db)[0] == 0
    behind_guards(path, f"ATTACH DATABASE '{twin}' AS twin",
                  "INSERT INTO month_closes (month, action, closed_by, second, reason, recorded_at, receipt, receipt_sha256) "
                  "SELECT month, action, closed_by, second, reason, recorded_at, receipt, receipt_sha256 "
                  "FROM twin.month_closes WHERE month = '2026-10'")
    code, said = run(capsys, "verify", "--db", db)
    assert code == 1
    assert ("[month closings] 2026-10 was closed (close record 1) with C2 closing at 40.00; its records now make "
            "940.00: a record dated before the end of 2026-10 came in after it closed") in said


def test_verify_against_an_old_receipt_names_the_reopening_that_changed_its_closings(engine, tmp_path, capsys):
    engine.dispose()
    db = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    first, again = tmp_path / "close-1.json", tmp_path / "close-2.json"
    assert run(capsys, "close", "--month", "2026-09", "--by", "sue", "--db", db, "--receipt", first)[0] == 0
    assert run(capsys, "reopen", "--month", "2026-09", "--by", "sue", "--second", "ann", "--reason", "late wire",
               "--db", db)[0] == 0
    assert run(capsys, "verify", "--db", db, "--anchor", first)[0] == 0  # reopened, but nothing changed yet
    engine = setup.open_ledger(db)
    manual_entry.record(engine, account="C1", kind="deposit", amount="900", operator="ann",
                        occurred_at=datetime(2026, 9, 20, 10, tzinfo=UTC))
    engine.dispose()
    assert run(capsys, "close", "--month", "2026-09", "--by", "sue", "--db", db, "--receipt", again)[0] == 0
    code, said = run(capsys, "verify", "--db", db, "--anchor", first)
    assert code == 1 and "2026-09 was reopened" in said and "by sue (late wire) after this receipt" in said
    assert "the closings of 1 account(s) now differ from it: C1 90.00 → 990.00" in said
    assert run(capsys, "verify", "--db", db, "--anchor", again)[0] == 0  # the latest close's receipt holds


def test_a_refusal_names_its_command_once(engine, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the receipt goes to ./close-2026-09.json: here, never into the checkout
    assert main.main(["close", "--db", str(engine.url), "--month", "2026-09", "--by", "sue"]) == 0
    assert (tmp_path / "close-2026-09.json").is_file()
    capsys.readouterr()
    code = main.main(["close", "--db", str(engine.url), "--month", "2026-09", "--by", "sue"])  # closed already
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("vosbench close: ") and "close: close:" not in err and "Traceback" not in err


def test_a_receipt_damaged_behind_the_guards_is_reported_by_the_audit_not_raised(engine, tmp_path):
    """The report lists each close from its own columns, and verification, unable to read the receipt back,
    trusts no anchor: it verifies the whole ledger and names the receipt, and every other section still runs."""
    month_close.close(engine, "2026-09", by="sue", at=AFTER)
    behind_guards(engine.url.database, "UPDATE month_closes SET receipt = '{not json' WHERE month = '2026-09'",
                  tables=("month_closes",))
    report = audit.MonthlyAudit.compute(engine, "2026-10")
    assert dict(report.provenance.rows())["month 2026-09"].startswith("closed")
    assert not report.verification.ok and not report.verification.scope  # the whole ledger, not from an anchor
    assert any("month_closes" in str(problem) for problem in report.verification.problems), report.verification.problems


@pytest.mark.parametrize("receipt, damage", [("x", "it is not JSON"), ("{}", "it is no close receipt of 2026-10"),
                                             ("[1]", "it is no JSON object")])
def test_a_close_appended_behind_the_write_door_with_a_damaged_receipt_is_named_in_one_line_with_the_fix(
        staffed, tmp_path, capsys, monkeypatch, receipt, damage):
    """An insider's plain SQL appends a close whose receipt is no receipt (the table is append-only: it stays).
    Before, every later `record` and `close` failed with only "Expecting value: line 1 column 1 (char 0)", and verify
    said "JSONDecodeError" (or, of '{}', "records no chain heads; give a close receipt, a work")."""
    import sqlite3

    from vosbench.ledger import hashchain

    monkeypatch.chdir(tmp_path)  # where a close writes its receipt
    month_close.close(staffed, "2026-09", by="sue", second="ann", at=AFTER)
    staffed.dispose()
    path = tmp_path / "ledger.sqlite"
    with sqlite3.connect(path) as raw:
        raw.create_function(hashchain.LINK_FUNCTION, 2, hashchain.link)
        raw.execute("INSERT INTO month_closes (month, action, closed_by, second, reason, recorded_at, receipt, "
                    "receipt_sha256) VALUES ('2026-10', 'close', 'sue', 'ann', '', '2026-11-03 09:00:00.000000', ?, ?)",
                    (receipt, "0" * 64))
    raw.close()
    db = f"sqlite:///{path}"
    named = f"month close record 2 (close of 2026-10 by sue) holds a damaged receipt ({damage})"
    deposit = ("record", "--account", "C1", "--kind", "deposit", "--amount", "5.00", "--operator", "ann", "--at",
               "2026-11-20T10:00:00Z", "--db", db)
    for argv in (deposit, ("close", "--month", "2026-11", "--by", "sue", "--second", "ann", "--db", db)):
        code, said = run(capsys, *argv)
        assert code == 2 and len(said.strip().splitlines()) == 1, said
        assert named in said and "closes and archives are refused while it is the month's latest close; reopen " \
                                 "2026-10 (`vosbench reopen --month 2026-10" in said, said
    code, said = run(capsys, "verify", "--db", db)
    assert code == 1 and f"FAILED [anchor] {named}: vosbench never writes one" in said
    assert "reopen 2026-10 and close it again, or restore the ledger from a backup" in said
    assert "Error" not in said and "give a close receipt" not in said
    # the fix the message gives: reopened and closed again, the month is trusted and recording goes on
    assert run(capsys, "reopen", "--month", "2026-10", "--by", "sue", "--second", "ann", "--reason", "damaged close",
               "--db", db)[0] == 0
    assert run(capsys, "close", "--month", "2026-10", "--by", "sue", "--second", "ann", "--db", db)[0] == 0
    code, said = run(capsys, *deposit)
    assert code == 0, said
    code, said = run(capsys, "verify", "--db", db)  # the row stays, append-only, and is named as refusing nothing
    assert code == 1 and f"{named}: vosbench never writes one" in said
    assert "it refuses nothing (a later record of 2026-10 took its place)" in said
