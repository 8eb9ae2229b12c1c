"""VOS3000 payment-record exports (.xls, .xlsx, .csv) generated here, imported through the write door."""

from __future__ import annotations

import csv
from datetime import UTC, datetime

import openpyxl
import pytest
import xlwt

from vosbench.commands import main
from vosbench.core.model import AccountKind, Channel, Kind, Method
from vosbench.ledger import setup
from vosbench.ledger.write_door import ImportRejected, NewAccount, NewPayment, append_batch
from vosbench.sources.vos3000 import client_exports, state

HEADER = ["Serial", "Account", "Amount", "Balance after", "Type", "Time", "Mode", "Operator", "Memo", "Agent"]
RECORDS = [  # as the VOS3000 client shows them: deductions with a positive amount
    [9001, "C1", 100.0, 100.0, "Account opening", "2026-10-01 09:00:00", "Cash", "admin", "", "A1"],
    [9002, "C1", 20.5, 79.5, "Deduction", "2026-10-02 10:00:00", "Others", "admin", "refund", "A1"],
    [9003, "C1", 0.1, 79.6, "Payment", "2026-10-03 11:00:00", "Recharge card", "web", "", "A1"],
]


def _ledger(tmp_path):
    ledger = setup.open_ledger(f"sqlite:///{tmp_path / 'l.sqlite'}", create=True)
    append_batch(ledger, "accounts", [NewAccount("C1", "One", AccountKind.CUSTOMER, "", 0, "USD", "UTC")],
                 source="test", file="accounts")
    return ledger


def _write(path, rows):
    if path.suffix == ".csv":
        with open(path, "w", newline="") as handle:
            csv.writer(handle).writerows(rows)
    elif path.suffix == ".xlsx":
        book = openpyxl.Workbook()
        for row in rows:
            book.active.append(row)
        book.save(path)
    else:
        book = xlwt.Workbook()
        sheet = book.add_sheet("Payment records")
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                sheet.write(r, c, value)
        book.save(str(path))


@pytest.mark.parametrize("suffix", [".xls", ".xlsx", ".csv"])
def test_an_export_lands_once_with_signs_from_the_balances(tmp_path, suffix):
    ledger = _ledger(tmp_path)
    path = tmp_path / f"payments{suffix}"
    _write(path, [["Payment records of 2026-10"], HEADER, *RECORDS])
    headers = client_exports.load_headers()
    result = client_exports.import_export(ledger, path, headers=headers)
    assert result.added == 3
    with ledger.connect() as connection:
        rows = connection.exec_driver_sql(
            "SELECT source_key, kind, amount, method, balance_after FROM payments ORDER BY id").all()
    assert [tuple(r) for r in rows] == [("9001", "adjustment", 1_000_000, "cash", 1_000_000),
                                        ("9002", "withdrawal", -205_000, "other", 795_000),
                                        ("9003", "deposit", 1_000, "recharge_card", 796_000)]
    assert client_exports.import_export(ledger, path, headers=headers).added == 0


def test_an_exported_record_of_a_pay_deposit_is_not_added_again(tmp_path):
    ledger = _ledger(tmp_path)  # record 9003 is the switch's record of a deposit `--pay` made 30 s before it
    asked = datetime(2026, 10, 3, 10, 59, 30)
    append_batch(ledger, "payments", [NewPayment(f"pay/C1/{int(asked.replace(tzinfo=UTC).timestamp() * 1000)}", "C1",
                                                 Kind.DEPOSIT, 1_000, asked, "ops", Channel.API, Method.GATEWAY,
                                                 balance_after=796_000)], source="vos3000-api", file="Pay")
    path = tmp_path / "payments.csv"
    _write(path, [HEADER, *RECORDS])
    result = client_exports.import_export(ledger, path, headers=client_exports.load_headers())
    assert (result.added, result.skipped) == (2, 1)
    assert [(flag.source_key, flag.code) for flag in state.flags(ledger, "vos3000-export")] == [("9003", "pay_recorded")]


def test_bad_rows_are_all_reported_and_nothing_is_written(tmp_path):
    ledger = _ledger(tmp_path)
    path = tmp_path / "payments.csv"
    _write(path, [HEADER, RECORDS[0], [9004, "C1", 5, 105, "Gift", "2026-10-04 09:00:00", "Cash", "a", "", ""],
                  [9005, "C1", 5, 110, "Payment", "yesterday", "Cash", "a", "", ""]])
    with pytest.raises(ImportRejected) as raised:
        client_exports.import_export(ledger, path, headers=client_exports.load_headers())
    reasons = [str(r) for r in raised.value.rejections]
    assert len(reasons) == 2 and "'Gift' is not a known word" in reasons[0] and "'yesterday'" in reasons[1]
    assert state.flags(ledger, "vos3000-export") == []
    with ledger.connect() as connection:
        assert connection.exec_driver_sql("SELECT COUNT(*) FROM payments").scalar() == 0


def test_a_memo_spanning_lines_stays_one_record_and_a_quote_left_open_refuses_the_file(tmp_path):
    ledger = _ledger(tmp_path)
    path = tmp_path / "payments.csv"
    memo = RECORDS[1][:8] + ["refund\nline two\u2028line three", "A1"]  # a cell holding line breaks
    _write(path, [HEADER, RECORDS[0], memo, RECORDS[2]])
    assert client_exports.import_export(ledger, path, headers=client_exports.load_headers()).added == 3
    with ledger.connect() as connection:
        assert connection.exec_driver_sql("SELECT memo FROM payments WHERE source_key = '9002'").scalar() == (
            "refund\nline two\u2028line three")
    opened = tmp_path / "opened.csv"  # the memo's quote never closes: the third record would vanish into it
    opened.write_text(",".join(HEADER) + "\n9101,C1,1,80.6,Payment,2026-10-04 09:00:00,Cash,web,\"oops,A1\n"
                      "9102,C1,1,81.6,Payment,2026-10-05 09:00:00,Cash,web,,A1\n")
    with pytest.raises(client_exports.ExportError, match=r'opened.csv: the quote \(\"\) opened in the record on line 2'):
        client_exports.import_export(ledger, opened, headers=client_exports.load_headers())


def _refused(tmp_path, name, row):
    """The one reason an export of the header and ``row`` (the cells after it given left empty) is refused for;
    asserts nothing was written."""
    ledger = _ledger(tmp_path)
    path = tmp_path / name
    _write(path, [HEADER, row + [""] * (len(HEADER) - len(row))])
    with pytest.raises(ImportRejected) as raised:
        client_exports.import_export(ledger, path, headers=client_exports.load_headers())
    with ledger.connect() as connection:
        assert connection.exec_driver_sql("SELECT COUNT(*) FROM payments").scalar() == 0
    assert state.flags(ledger, "vos3000-export") == []
    [reason] = [str(r) for r in raised.value.rejections]
    return reason


@pytest.mark.parametrize("cut, named", [
    (RECORDS[0][:6], "6 cells where the header has 10"),  # Mode, Operator, Memo and Agent missing
    ([*RECORDS[0], "extra"], "11 cells where the header has 10"),  # one too many: every later cell moved along
])
def test_a_csv_row_with_a_cell_too_few_or_too_many_is_refused_not_read_shifted(tmp_path, cut, named):
    ledger = _ledger(tmp_path)
    path = tmp_path / "payments.csv"
    _write(path, [["Payment records of 2026-10"], HEADER, RECORDS[1], cut, RECORDS[2]])
    with pytest.raises(ImportRejected) as raised:
        client_exports.import_export(ledger, path, headers=client_exports.load_headers())
    assert [str(r) for r in raised.value.rejections] == [
        f"payments.csv:4: {named}: a cell is missing or a separator sits unquoted inside one"]
    with ledger.connect() as connection:
        assert connection.exec_driver_sql("SELECT COUNT(*) FROM payments").scalar() == 0


@pytest.mark.parametrize("amount, balance", [("1,5", "1.5"), ("1.000,00", "1000"), ("12,34", "12.34"),
                                             ("1,0", "1"), ("1,000.00", "1000"), ("1.5", "1,5")])
def test_an_amount_with_a_comma_is_refused_not_guessed(tmp_path, amount, balance):
    reason = _refused(tmp_path, "payments.csv", [9001, "C1", amount, balance, "Payment", "2026-10-01 09:00:00"])
    column, text = ("Amount", amount) if "," in amount else ("Balance after", balance)
    assert reason.startswith(f"payments.csv:2: column '{column}': '{text}' has a comma")


@pytest.mark.parametrize("cell, text", [(1e20, "1e+20"), (9.2e18, "9.2e+18")])
@pytest.mark.parametrize("suffix", [".xls", ".xlsx"])
def test_a_number_cell_past_the_ledgers_range_is_refused(tmp_path, suffix, cell, text):
    reason = _refused(tmp_path, f"payments{suffix}", [9001, "C1", 1.5, cell, "Payment", "2026-10-01 09:00:00"])
    assert reason.startswith(f"payments{suffix}:2: column 'Balance after': {text} is ")


@pytest.mark.parametrize("suffix", [".xls", ".xlsx", ".csv"])
def test_doubles_past_4_places_are_read_by_the_syncs_rule_rounded_and_flagged(tmp_path, suffix):
    """VOS3000 adds doubles: 0.7 + 0.1 is 0.7999999999999999, which its client exports as it is."""
    ledger = _ledger(tmp_path)
    path = tmp_path / f"payments{suffix}"
    last = [9003, "C1", 0.7 + 0.1, 80.3, "Payment", "2026-10-03 11:00:00", "Recharge card", "web", "", "A1"]
    fine = [9004, "C1", 12.34567, 92.64567, "Payment", "2026-10-04 11:00:00", "Cash", "web", "", "A1"]
    _write(path, [HEADER, *RECORDS[:2], last, fine])
    assert client_exports.import_export(ledger, path, headers=client_exports.load_headers()).added == 4
    with ledger.connect() as connection:
        rows = connection.exec_driver_sql("SELECT source_key, amount, balance_after FROM payments ORDER BY id").all()
    assert [tuple(row) for row in rows[2:]] == [("9003", 8_000, 803_000), ("9004", 123_457, 926_457)]
    flagged = {(flag.source_key, flag.code) for flag in state.flags(ledger, "vos3000-export")}
    assert flagged == {(f"payments{suffix}:9003", "inexact_money"), (f"payments{suffix}:9004", "inexact_money")}


def test_the_import_command_recognizes_vos3000_export(tmp_path, capsys):
    _ledger(tmp_path)
    path = tmp_path / "payments.xlsx"
    _write(path, [HEADER, *RECORDS[:2], [*RECORDS[2][:3], 79.60000000000001, *RECORDS[2][4:]]])
    assert main.main(["import", "--db", f"sqlite:///{tmp_path / 'l.sqlite'}", "vos3000-export", str(path)]) == 0
    assert capsys.readouterr().out == (f"{path}: 3 added, 0 already present; 1 amount(s) with more than 4 decimal "
                                       "places rounded half-to-even, flagged inexact_money with the value read\n")
    assert main.main(["import", "--db", f"sqlite:///{tmp_path / 'l.sqlite'}", "vos3000-export",
                     str(tmp_path / "nope.xls")]) == 2


def test_the_import_line_says_how_many_rows_that_moved_no_money_were_left_out(tmp_path, capsys):
    _ledger(tmp_path)
    path = tmp_path / "payments.csv"
    nothing = [9004, "C1", 0, 79.6, "Payment", "2026-10-04 11:00:00", "Cash", "web", "", "A1"]  # the balance stays
    _write(path, [HEADER, *RECORDS, nothing])
    assert main.main(["import", "--db", f"sqlite:///{tmp_path / 'l.sqlite'}", "vos3000-export", str(path)]) == 0
    assert capsys.readouterr().out == (f"{path}: 3 added, 0 already present; 1 row(s) that moved no money left out "
                                       "(not payments), flagged zero_amount\n")


@pytest.mark.parametrize("suffix", [".xlsx", ".xls"])
def test_a_file_that_is_no_workbook_is_refused_in_one_line(tmp_path, capsys, suffix):
    from vosbench.commands import main

    fake = tmp_path / f"payments{suffix}"
    fake.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(200))  # a picture saved under a workbook's name
    _ledger(tmp_path)
    code = main.main(["import", "vos3000-export", str(fake), "--db", f"sqlite:///{tmp_path / 'l.sqlite'}"])
    err = capsys.readouterr().err
    assert code == 2 and f"payments{suffix}: not a readable {suffix[1:].upper()} workbook" in err and "Traceback" not in err


def _new_york_ledger(tmp_path):
    ledger = setup.open_ledger(f"sqlite:///{tmp_path / 'l.sqlite'}", create=True, timezone="America/New_York")
    append_batch(ledger, "accounts", [NewAccount("C1", "One", AccountKind.CUSTOMER, "", 0, "USD", "")],
                 source="test", file="accounts")
    return ledger


def test_a_time_the_clocks_showed_twice_is_placed_by_the_serial_numbers(tmp_path):
    """New York, 2026-11-01: 01:00–01:59 shows first at −04:00, then again at −05:00.

    9102 at 01:30 then 9103 at 01:10 (a higher serial): 9103 is the second 01:10, 06:10Z, so the balances run
    10 → 11 → 12 and both are deposits of 1. Read as the first 01:10 (05:10Z), 9103 would come before 9102 and
    the balances would make 9102 a deduction of 1. Nothing places 9102, the hour's first record: it is read as
    the first 01:30 and flagged.
    """
    ledger = _new_york_ledger(tmp_path)
    path = tmp_path / "payments.csv"
    _write(path, [HEADER, [9101, "C1", 10, 10, "Payment", "2026-10-31 12:00:00", "Cash", "a", "", ""],
                  [9102, "C1", 1, 11, "Payment", "2026-11-01 01:30:00", "Cash", "a", "", ""],
                  [9103, "C1", 1, 12, "Payment", "2026-11-01 01:10:00", "Cash", "a", "", ""]])
    assert client_exports.import_export(ledger, path, headers=client_exports.load_headers()).added == 3
    with ledger.connect() as connection:
        rows = connection.exec_driver_sql("SELECT source_key, kind, amount, occurred_at FROM payments ORDER BY id").all()
    assert [(key, kind, amount, str(at)[:19]) for key, kind, amount, at in rows] == [
        ("9101", "deposit", 100_000, "2026-10-31 16:00:00"), ("9102", "deposit", 10_000, "2026-11-01 05:30:00"),
        ("9103", "deposit", 10_000, "2026-11-01 06:10:00")]
    assert [(flag.source_key, flag.code) for flag in state.flags(ledger, "vos3000-export")] == [
        ("payments.csv:9102", "ambiguous_time")]


def test_a_time_the_clocks_skipped_is_refused_not_moved(tmp_path):
    ledger = _new_york_ledger(tmp_path)
    path = tmp_path / "payments.csv"
    _write(path, [HEADER, [9101, "C1", 10, 10, "Payment", "2026-03-08 02:30:00", "Cash", "a", "", ""]])
    with pytest.raises(ImportRejected) as raised:
        client_exports.import_export(ledger, path, headers=client_exports.load_headers())
    [reason] = [str(r) for r in raised.value.rejections]
    assert "2026-03-08 02:30:00 never showed on the clocks of America/New_York (they skipped that hour)" in reason


def test_the_import_line_counts_the_times_it_read_as_the_first_of_two(tmp_path, capsys):
    _new_york_ledger(tmp_path)
    path = tmp_path / "payments.csv"
    _write(path, [HEADER, [9102, "C1", 1, 1, "Payment", "2026-11-01 01:30:00", "Cash", "a", "", ""]])
    assert main.main(["import", "--db", f"sqlite:///{tmp_path / 'l.sqlite'}", "vos3000-export", str(path)]) == 0
    assert capsys.readouterr().out == (f"{path}: 1 added, 0 already present; 1 time(s) in the hour the clocks went "
                                       "back that nothing placed, read as the first of the two, flagged ambiguous_time\n")
