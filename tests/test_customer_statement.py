"""Customer statements: the running balance as a plain CSV, an xlsx and an A4 PDF fit to send."""

import csv
import os
import shutil
import subprocess
from datetime import date
from decimal import Decimal

import openpyxl
import pandas as pd
import pytest

from vosbench.commands import main, options
from vosbench.outputs import customer_statement as cs

ACCOUNTS = """
    account,name,kind,parent,credit_limit,currency,timezone
    R1,North Reseller,reseller,,0,EUR,Asia/Dubai
    A1,Agent Alpha,agent,R1,0,EUR,Asia/Dubai
    C1,Acme Trading,customer,A1,0,EUR,Asia/Dubai
    C2,Other Ltd,customer,A1,0,EUR,Asia/Dubai
"""
# C1: 100 in on 1 Oct (local), 2.5001 of calls on 2 Oct, a deposit the switch did not add, then its reversal.
PAYMENTS = """
    source_key,account,kind,amount,occurred_at,channel,method,reference,balance_after,reverses
    p0,C1,deposit,10.00,2026-09-20T08:00:00Z,admin,cash,RCPT-0,10.00,
    p1,C1,deposit,100.00,2026-09-30T21:00:00Z,admin,bank_wire,FT-1,110.00,
    p2,C1,deposit,50.00,2026-10-03T08:00:00Z,web,gateway,=cmd|' /C calc'!A0,107.4999,
    p3,C1,deposit,-50.00,2026-10-04T08:00:00Z,web,gateway,REV-2,57.4999,p2
"""
CHARGES = """
    account,day,call_fee,agent_fee,other_fee,calls
    C1,2026-10-02,2.5001,0,0,9
"""


@pytest.fixture
def engine(inline_ledger):
    return inline_ledger(accounts=ACCOUNTS, payments=PAYMENTS, charges=CHARGES)


def _need(tool: str) -> str:
    found = shutil.which(tool)
    if found is None:
        reason = f"{tool} is not installed (bash .ci/setup --test installs it)"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    return found


def test_lines_read_as_the_holder_reads_them(engine):
    document = cs.build(engine, "C1", date(2026, 10, 1), date(2026, 10, 31))
    lines = document.lines()
    assert list(lines["description"]) == ["Payment received", "Call charges of 2026-10-02 (9 calls)",
                                          "Payment received", "Reversal of payment 3"]
    assert list(lines["time"]) == ["2026-10-01 01:00:00 +04:00", "2026-10-03 00:00:00 +04:00",
                                   "2026-10-03 12:00:00 +04:00", "2026-10-04 12:00:00 +04:00"]
    assert list(lines["balance"]) == [1_100_000, 1_074_999, 1_574_999, 1_074_999]
    assert (document.statement.opening, document.statement.closing) == (100_000, 1_074_999)
    assert (document.money_in, document.money_out) == (1_500_000, 525_001)
    assert document.places == 4  # 2.5001 of charges: nothing is rounded away
    assert list(lines["note"] != "") == [False, False, True, True]  # the switch showed 50.00 less
    assert "differs by -50.0000" in lines["note"].iloc[2]


def test_csv_is_plain_with_opening_and_closing_rows_and_exact_money(engine, tmp_path):
    document = cs.build(engine, "C1", date(2026, 10, 1), date(2026, 10, 31))
    path = cs.write(document, tmp_path / "s.csv", "csv")
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    assert path.read_text(encoding="utf-8").splitlines()[0].startswith("time (Asia/Dubai),description")
    assert rows[0]["description"] == "Opening balance" and rows[0]["balance"] == "10.0000"
    assert rows[-1]["description"] == "Closing balance" and rows[-1]["balance"] == "107.4999"
    assert [row["money_out"] for row in rows[1:-1]] == ["", "2.5001", "", "50.0000"]
    assert rows[3]["reference"].startswith("'=")  # a spreadsheet shows it, never runs it


def test_amounts_past_float_precision_stay_exact(inline_ledger, tmp_path):
    # 900 trillion out of an account (within the ledger's 64-bit range, far past a float's 2**53 minor units)
    engine = inline_ledger(accounts=ACCOUNTS, payments=PAYMENTS + (
        "    p4,C2,deposit,1.00,2026-10-05T08:00:00Z,admin,cash,RCPT-9,,\n"
        "    p5,C2,withdrawal,-900000000000000.0001,2026-10-06T08:00:00Z,admin,bank_wire,FT-9,,\n"))
    document = cs.build(engine, "C2", date(2026, 10, 1), date(2026, 10, 31))
    assert document.lines()["money_out"].tolist() == [pd.NA, 9_000_000_000_000_000_001]
    rows = list(csv.DictReader(cs.write(document, tmp_path / "s.csv", "csv").open(encoding="utf-8")))
    assert rows[2]["money_out"] == "900000000000000.0001" and rows[-1]["balance"] == "-899999999999999.0001"


def test_xlsx_has_the_summary_lines_and_disagreements(engine, tmp_path):
    document = cs.build(engine, "C1", date(2026, 10, 1), date(2026, 10, 31))
    book = openpyxl.load_workbook(cs.write(document, tmp_path / "s.xlsx", "xlsx"))
    assert book.sheetnames == ["Statement", "Lines", "Disagreements"]
    summary = {row[0]: row[1] for row in book["Statement"].iter_rows(min_row=2, values_only=True)}
    assert summary["currency"] == "EUR" and summary["closing balance"] == "107.4999"
    header = [cell.value for cell in book["Lines"][1]]
    assert Decimal(str(book["Lines"].cell(3, header.index("money_out") + 1).value)) == Decimal("2.5001")
    assert book["Disagreements"].max_row == 3


def test_pdf_is_a4_with_page_numbers_and_the_figures(engine, tmp_path):
    pdftotext = _need("pdftotext")
    document = cs.build(engine, "C1", date(2026, 10, 1), date(2026, 10, 31))
    path = cs.write(document, tmp_path / "s.pdf", "pdf")
    assert path.read_bytes().startswith(b"%PDF")
    text = subprocess.run([pdftotext, str(path), "-"], capture_output=True, text=True, check=True).stdout
    text = " ".join(text.split())  # a cell's text may wrap over lines
    for expected in ("Account statement", "C1", "Acme Trading", "EUR", "Page 1 of 1", "107.4999",
                     "Reversal of payment 3", "differs by -50.0000", "fingerprint"):
        assert expected in text
    info = subprocess.run([_need("pdfinfo"), str(path)], capture_output=True, text=True, check=True).stdout
    assert "(A4)" in info


def test_command_writes_one_statement_per_account_of_a_subtree(engine, tmp_path, capsys):
    code = main.main(["statement", "--db", str(engine.url), "--subtree", "A1", "--from", "2026-10-01",
                      "--to", "2026-10-31", "--format", "csv", "--out", str(tmp_path / "out")])
    out = capsys.readouterr().out
    assert code == options.EXIT_OK
    assert sorted(path.name for path in (tmp_path / "out").iterdir()) == [
        "statement-A1-2026-10-01-2026-10-31.csv", "statement-C1-2026-10-01-2026-10-31.csv",
        "statement-C2-2026-10-01-2026-10-31.csv"]
    assert "3 statements written" in out


def test_unknown_subtree_and_bad_day_name_the_fix(engine):
    with pytest.raises(cs.StatementScopeError, match="'Z9' is not in the ledger"):
        cs.subtree(engine, "Z9", date(2026, 10, 31))
    from vosbench.commands import finance

    with pytest.raises(finance.BadDate, match="YYYY-MM-DD"):
        finance._day("2026-13-01", "--from")
