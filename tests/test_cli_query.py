"""`vosbench query`: the filter's options, its outputs and its errors."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal

import openpyxl
import pytest
from test_explore import ACCOUNTS, PAYMENTS

from vosbench.commands import main
from vosbench.core import config


@pytest.fixture
def ledger_url(inline_ledger, monkeypatch):
    engine = inline_ledger(accounts=ACCOUNTS, payments=PAYMENTS)
    url = engine.url.render_as_string(hide_password=False)
    monkeypatch.setenv(config.ENV_DB, url)
    return url


def run(capsys, *argv):
    code = main.main(["query", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_table_shows_the_page_the_count_and_the_totals(ledger_url, capsys):
    code, out, _ = run(capsys, "--from", "2026-10-01", "--to", "2026-10-31", "--page-size", "2", "--page", "2",
                       "--sort", "amount", "--asc")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == ("7 payment records; page 2 of 4 (rows 3–4), sorted by amount ascending; "
                        "times in Asia/Dubai")
    # amounts −20, −7.50 | 5, 25 | …: page 2 holds the bonus and the auto-recharge
    assert "bonus" in lines[2] and "5.0000" in lines[2] and "auto_recharge" in lines[3]
    total = next(line for line in lines if line.strip().startswith("TOTAL"))
    assert total.split()[-1] == "1082.5000"  # 1050 − 20 − 7.50 + 5 + 30 + 25
    code, out, _ = run(capsys, "--from", "2026-10-01", "--to", "2026-10-31", "--kind", "bonus")
    assert code == 0 and out.startswith("1 payment record; page 1 of 1 (rows 1–1)")


def test_a_filter_matching_nothing_says_so_once_with_the_fix(ledger_url, capsys):
    code, out, _ = run(capsys, "--from", "2030-01-01", "--to", "2030-01-31")
    assert code == 0
    assert out.splitlines() == ["no payment records match this filter (times in Asia/Dubai): "
                                "widen the dates or drop a filter"]


def test_filters_as_options(ledger_url, capsys):
    code, out, _ = run(capsys, "--account", "A1", "--sub-accounts", "--kind", "deposit", "--kind", "withdrawal",
                       "--min-amount", "20", "--max-amount", "100", "--format", "json")
    assert code == 0
    result = json.loads(out)
    # A1's tree: p1 100, p2 50, p3 −20 (p8 200 is above the range)
    assert result["total_count"] == 3 and result["filter"]["accounts"] == ["A1"]
    assert [row["amount"] for row in result["rows"]] == ["-20.0000", "50.0000", "100.0000"]
    assert result["totals_by_kind"] == [{"kind": "deposit", "currency": "USD", "count": 2, "amount": "150.0000"},
                                        {"kind": "withdrawal", "currency": "USD", "count": 1, "amount": "-20.0000"}]
    code, out, _ = run(capsys, "--operator", "alice", "--channel", "admin", "--method", "bank_wire",
                       "--text", "WIRE", "--timezone", "UTC", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert code == 0 and [row["reference"] for row in rows] == ["WIRE-100%"]
    assert rows[0]["occurred_at"] == "2026-09-30 20:30:00 +00:00"  # shown in UTC as asked, with the offset


def test_csv_file_holds_every_row_and_the_filter(ledger_url, capsys, tmp_path):
    path = tmp_path / "out" / "payments.csv"
    code, out, _ = run(capsys, "--from", "2026-10-01", "--to", "2026-10-31", "--page-size", "2",
                       "--format", "csv", "--out", str(path))
    assert code == 0 and str(path) in out
    text = path.read_text(encoding="utf-8")
    assert text.startswith("id,occurred_at,") and "\n#" not in text  # plain CSV: accounting tools take it as is
    described = dict(csv.reader((tmp_path / "out" / "payments.filter.csv").open(encoding="utf-8")))
    assert described["From (local day)"] == "2026-10-01" and described["Times shown in"] == "Asia/Dubai"
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 7  # every row, not the page of 2
    by_reference = {row["reference"]: row for row in rows}
    assert by_reference["FT-9_%"]["amount"] == "1000.0000"
    (adjustment,) = [row for row in rows if row["kind"] == "adjustment"]
    assert adjustment["memo"] == "'=SUM(A1:A9)" and adjustment["amount"] == "-7.5000"


def test_xlsx_file_has_payments_totals_and_filter_sheets(ledger_url, capsys, tmp_path):
    path = tmp_path / "payments.xlsx"
    code, _, _ = run(capsys, "--kind", "adjustment", "--kind", "deposit", "--format", "xlsx", "--out", str(path),
                     "--sort", "id", "--asc")
    assert code == 0
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["Payments", "Totals by kind", "Filter", "Fingerprint"]
    sheet = book["Payments"]
    header = [cell.value for cell in sheet[1]]
    rows = [dict(zip(header, (cell.value for cell in row))) for row in sheet.iter_rows(min_row=2, max_row=6)]
    # deposits p1, p2, p8, p9 and the adjustment p6, by id
    assert [row["amount"] for row in rows] == [100, 50, -7.5, 200, 1000]
    memo_cell = sheet.cell(row=4, column=header.index("memo") + 1)
    assert memo_cell.value == "=SUM(A1:A9)" and memo_cell.data_type == "s"  # text, never a formula
    assert sheet.cell(row=8, column=1).value == "Total USD"
    assert Decimal(str(sheet.cell(row=8, column=header.index("amount") + 1).value)) == Decimal("1342.5")
    totals = [[cell.value for cell in row] for row in book["Totals by kind"].iter_rows(min_row=2, max_row=3)]
    assert totals == [["deposit", "USD", 4, 1350], ["adjustment", "USD", 1, -7.5]]
    described = {row[0].value: row[1].value for row in book["Filter"].iter_rows(min_row=2)}
    assert described["Kinds"] == "adjustment, deposit" and described["Times shown in"] == "Asia/Dubai"
    assert described["Fingerprint payments"].startswith("9 rows, chain head ")
    # the export is an anchor: the ledger still holds and extends what it saw
    assert main.main(["verify", "--db", ledger_url, "--anchor", str(path)]) == 0


@pytest.mark.parametrize("argv, message", [
    (["--from", "2026-10-31", "--to", "2026-10-01"], "start 2026-10-31 is after end 2026-10-01"),
    (["--min-amount", "50", "--max-amount", "5"], "min_amount 50.0000 is above max_amount 5.0000"),
    (["--kind", "deposti"], "kinds: unknown value 'deposti'; use one of: deposit"),
    (["--account", "C11"], "account 'C11' is not in the ledger; did you mean C1 — Acme Trading (customer)"),
    (["--account", "Acme Trading"], "is a name, not an account number; it is the name of C1"),
    (["--operator", "alise"], "operator 'alise' has recorded no payment in this ledger; did you mean alice?"),
    (["--sort", "hash"], "sort: 'hash' is not a sortable column"),
    (["--format", "xlsx"], "--format xlsx writes a file: add --out FILE.xlsx"),
    (["--out", "x.csv"], "--out writes csv or xlsx: add --format csv or --format xlsx"),
    (["--sub-accounts"], "--sub-accounts widens --account A to A's subtree: add --account A"),
    (["--out", "y.csv", "--format", "xlsx"], "--out y.csv ends in .csv but --format is xlsx: name it y.xlsx or give --format csv"),
    (["--out", "y.XLSX", "--format", "csv"], "--out y.XLSX ends in .xlsx but --format is csv: name it y.csv or give --format xlsx"),
])
def test_bad_input_exits_2_with_the_fix(ledger_url, capsys, argv, message):
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    assert err.startswith("vosbench query: ") and message in err


@pytest.mark.parametrize("option", ["--kind", "--operator", "--channel", "--method", "--currency"])
def test_a_blank_filter_value_is_refused_not_dropped(ledger_url, capsys, option):
    """`--kind ""` (an unset shell variable) would otherwise select every kind without a word."""
    with pytest.raises(SystemExit) as refused:
        run(capsys, option, " ")
    out, err = capsys.readouterr()
    assert refused.value.code == 2 and out == ""
    assert f"argument {option}: empty; give a value (leave the option out for every value)" in err


def test_a_day_not_written_yyyy_mm_dd_is_refused_naming_the_option(ledger_url, capsys):
    with pytest.raises(SystemExit) as refused:  # argparse's refusal: usage and the message, exit status 2
        run(capsys, "--from", "01/10/2026")
    out, err = capsys.readouterr()
    assert refused.value.code == 2 and out == ""
    assert "argument --from: day: '01/10/2026' is not a day; give it as YYYY-MM-DD, e.g. 2026-10-01" in err


def test_every_time_printed_or_exported_carries_its_offset(ledger_url, capsys, tmp_path):
    """The ledger's zone is Asia/Dubai: each output says so, by the offset or (xlsx times) by the heading."""
    from datetime import datetime

    shown = "2026-10-02 09:00:00 +04:00"  # p5, the commission
    _, out, _ = run(capsys, "--kind", "commission", "--format", "csv")
    assert [row["occurred_at"] for row in csv.DictReader(io.StringIO(out))] == [shown]
    _, out, _ = run(capsys, "--kind", "commission", "--format", "json")
    assert [row["occurred_at"] for row in json.loads(out)["rows"]] == [shown]
    _, out, _ = run(capsys, "--kind", "commission")
    assert shown in out
    assert run(capsys, "--kind", "commission", "--format", "csv", "--out", str(tmp_path / "c.csv"))[0] == 0
    assert [row["occurred_at"] for row in csv.DictReader((tmp_path / "c.csv").open(encoding="utf-8"))] == [shown]
    assert run(capsys, "--kind", "commission", "--format", "xlsx", "--out", str(tmp_path / "c.xlsx"))[0] == 0
    header, row = list(openpyxl.load_workbook(tmp_path / "c.xlsx")["Payments"].iter_rows(max_row=2, values_only=True))
    assert header[1] == "occurred_at (Asia/Dubai)" and row[1] == datetime(2026, 10, 2, 9, 0)


def test_an_xlsx_out_in_a_missing_folder_makes_the_folder_as_csv_does(ledger_url, capsys, tmp_path):
    for name in ("x.xlsx", "x.csv"):
        code, out, err = run(capsys, "--format", name[2:], "--out", str(tmp_path / "missing" / name))
        assert code == 0 and (tmp_path / "missing" / name).is_file(), err


def test_an_out_the_system_will_not_write_is_one_line_not_a_traceback(ledger_url, capsys):
    code, out, err = run(capsys, "--format", "xlsx", "--out", "/proc/records.xlsx")  # /proc takes no new files, even from root
    assert code == 2 and err.startswith("vosbench query: /proc/records.xlsx: ") and "check that the path exists" in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
