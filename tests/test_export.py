"""Writers: xlsx sheets that a spreadsheet reads exactly and never runs, safe CSV, HTML tables, charts."""

import io
import re
import zipfile
from datetime import datetime
from decimal import Decimal

import openpyxl
import pandas as pd
import pytest

from vosbench.outputs import charts, export
from vosbench.outputs.export import Table

HOSTILE = ["=HYPERLINK(\"http://evil.example\",\"click\")", "+1+2", "-2+3", "@SUM(A1)", "\tindent", "\rreturn"]


@pytest.fixture
def workbook_path(tmp_path):
    # Two accounts; amounts in minor units (scale 4): 12345000 = 1,234.5000 and -1 = -0.0001.
    accounts = pd.DataFrame({
        "account": ["C1", "=C2"],
        "memo": ["ok", "=HYPERLINK(\"http://evil.example\",\"click\")"],
        "opening": pd.Series([12_345_000, -1], dtype="int64"),
        "recorded_closing": pd.Series([5_000, pd.NA], dtype="Int64"),
        "snapshot_as_of": [datetime(2026, 10, 31, 20, 0), pd.NaT],
        "calls": [7, 0],
    })
    hostile = pd.DataFrame({"text": HOSTILE, "n": range(len(HOSTILE))})
    tables = [
        Table("Summary", "Headline", accounts, ("opening", "recorded_closing"),
              totals={"opening": 12_344_999, "recorded_closing": 5_000}),
        Table("Differences", "None", accounts.iloc[0:0], ("opening", "recorded_closing")),
        Table("Text", "Hostile text", hostile),
        Table("Provenance", "Where from", pd.DataFrame({"item": ["a"], "value": ["b"]})),
    ]
    return export.write_xlsx(tmp_path / "out.xlsx", tables)


def test_sheets_come_in_order_with_styled_frozen_filtered_headers(workbook_path):
    book = openpyxl.load_workbook(workbook_path)
    assert book.sheetnames == ["Summary", "Differences", "Text", "Provenance"]
    sheet = book["Summary"]
    assert [c.value for c in sheet[1]] == ["account", "memo", "opening", "recorded_closing",
                                           "snapshot_as_of", "calls"]
    assert sheet["A1"].font.bold and sheet["A1"].fill.fgColor.rgb.endswith("1F4E79")
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:F3"  # header + two data rows; the total row stays outside
    assert book["Differences"].auto_filter.ref == "A1:F1"  # an empty table still gets its header
    assert sheet.column_dimensions["B"].width > sheet.column_dimensions["F"].width  # the long memo is wider


def test_each_sheet_states_its_used_range_before_its_rows(workbook_path):
    """A streaming reader learns a sheet's size from its head: openpyxl's read-only mode (the audit command reads
    the Verification sheet back with it) otherwise parses every sheet whole, most of a minute at 50,000 accounts."""
    with zipfile.ZipFile(workbook_path) as book:
        heads = [book.read(f"xl/worksheets/sheet{number}.xml").decode()[:600] for number in range(1, 5)]
    used = [re.search(r'<dimension ref="([^"]+)"/>', head) for head in heads]
    assert [match.group(1) if match else None for match in used] == ["A1:F5", "A1:F1", "A1:B7", "A1:B2"]
    assert all(head.index("<dimension") < head.index("<sheetViews") for head in heads)  # where the schema puts it
    read = openpyxl.load_workbook(workbook_path, read_only=True)
    assert [(read[name].max_row, read[name].max_column) for name in read.sheetnames] == [(5, 6), (1, 6), (7, 2), (2, 2)]
    assert len(list(read["Summary"].iter_rows(values_only=True))) == 5  # header, two accounts, a blank, the totals


def test_money_is_exact_decimal_with_four_place_format(workbook_path):
    sheet = openpyxl.load_workbook(workbook_path)["Summary"]
    # 12_345_000 minor units = 1234.5; -1 minor unit = -0.0001 exactly (not a rounded float)
    assert Decimal(str(sheet["C2"].value)) == Decimal("1234.5")
    assert Decimal(str(sheet["C3"].value)) == Decimal("-0.0001")
    assert sheet["C2"].number_format == export.MONEY_FORMAT == "#,##0.0000"
    assert sheet["D3"].value is None  # a missing recorded closing stays empty, not 0
    assert sheet["E2"].value == datetime(2026, 10, 31, 20, 0)
    assert sheet["E2"].number_format == export.DATETIME_FORMAT
    # the totals row sits under a blank row: 12_344_999 minor = 1234.4999
    assert sheet["A5"].value == "Total" and Decimal(str(sheet["C5"].value)) == Decimal("1234.4999")
    assert sheet["A4"].value is None


def test_formula_looking_text_is_stored_as_text(workbook_path):
    book = openpyxl.load_workbook(workbook_path)
    sheet = book["Text"]
    for row, text in enumerate(HOSTILE, start=2):
        cell = sheet.cell(row=row, column=1)
        assert cell.data_type == "s", text
        assert cell.value == text.replace("\r", "\n")  # XML reads a stored CR back as LF
        assert cell.quotePrefix
    summary = book["Summary"]
    assert summary["A3"].value == "=C2" and summary["A3"].data_type == "s"
    assert summary["B3"].data_type == "s"
    assert summary["A2"].quotePrefix is False  # plain text is left alone


def test_formula_text_never_reaches_the_file_as_a_formula(workbook_path):
    import zipfile

    with zipfile.ZipFile(workbook_path) as archive:
        sheets = [archive.read(name).decode() for name in archive.namelist() if name.startswith("xl/worksheets/")]
    assert not any("<f>" in xml for xml in sheets)


def test_csv_prefixes_formula_like_text_and_keeps_money_exact():
    frame = pd.DataFrame({"account": ["C1", "=cmd|' /C calc'!A0", "@x"], "amount": [12_345, -1, 0]})
    stream = io.StringIO()
    export.write_csv(frame, stream, money_columns=["amount"])
    lines = stream.getvalue().splitlines()
    # 12_345 minor = 1.2345; -1 = -0.0001; money is never prefixed, text is
    assert lines == ["account,amount", "C1,1.2345", "'=cmd|' /C calc'!A0,-0.0001", "'@x,0.0000"]


def test_csv_accepts_display_frames_with_decimals(tmp_path):
    frame = pd.DataFrame({"memo": ["+44 20 7946 0000"], "amount": [Decimal("-5.0000")]})
    path = tmp_path / "out.csv"
    export.write_csv(frame, path)
    assert path.read_text(encoding="utf-8") == "memo,amount\n'+44 20 7946 0000,-5.0000\n"


def test_html_table_formats_money_escapes_text_and_adds_totals():
    frame = pd.DataFrame({"account": ["<b>C1</b>", "C2"], "amount": pd.Series([12_345_000, pd.NA], dtype="Int64")})
    html = export.styled(Table("Some table", "A caption", frame, ("amount",),
                               totals={"amount": 12_345_000})).to_html()
    assert "1,234.50" in html  # format_money: 2 places with grouping
    assert "&lt;b&gt;C1&lt;/b&gt;" in html and "<b>C1</b>" not in html
    assert "Total" in html and "A caption" in html
    assert "T_Some_table" in html  # stable ids: same data, same HTML


def test_html_table_shows_scores_to_two_places():
    frame = pd.DataFrame({"rule": ["reference"], "score": [0.85], "amount": [12_345_000]})
    html = export.styled(Table("Scores", "Scores", frame, ("amount",))).to_html()
    assert ">0.85<" in html and "0.850000" not in html
    assert "1,234.50" in html


def test_sheet_names_are_made_acceptable_to_excel():
    assert export.sheet_name("a/b:c*d?e[f]g\\h") == "a-b-c-d-e-f-g-h"
    assert len(export.sheet_name("x" * 40)) == 31


# --- charts ------------------------------------------------------------------------------------

MOVES = pd.DataFrame({
    "kind": ["deposit", "withdrawal", "bonus"],
    # deposit: 1,000.0000 in and a reversed 0.5000 out; withdrawal: 250.1234 out; bonus: 0.0001 in
    "money_in": pd.Series([10_000_000, 0, 1], dtype="int64"),
    "money_out": pd.Series([5_000, 2_501_234, 0], dtype="int64"),
})


def test_movement_bars_plot_the_exact_decimal_sums():
    figure = charts.movements_bar(MOVES, "kind", title="By kind", currency="USD")
    money_in, money_out = figure.data
    assert list(money_in.x) == ["deposit", "withdrawal", "bonus"]
    assert sum(money_in.y) == Decimal("1000.0001")  # 1,000.0000 + 0 + 0.0001
    assert sum(money_out.y) == Decimal("250.6234")  # 0.5000 + 250.1234
    assert all(isinstance(value, Decimal) for value in money_in.y)
    assert figure.layout.yaxis.title.text == "Amount (USD)"
    assert figure.layout.title.text == "By kind"
    assert money_in.marker.color == charts.MONEY_IN and money_out.marker.color == charts.MONEY_OUT
    # each bar is labelled with its amount to the unit, one under a unit exactly (a bar too small to see beside
    # 1,000 is still read), none where there is nothing
    assert list(money_in.text) == ["1,000", "", "0.0001"] and list(money_out.text) == ["0.5", "250", ""]


def test_trend_lines_carry_every_month_and_balance():
    trend = pd.DataFrame({
        "month": ["2026-09", "2026-10"],
        "deposit": [1_000_000, 2_000_000], "withdrawal": [-10_000, 0], "charges": [30_000, 40_000],
        "payments": [990_000, 2_000_000], "balances": [960_000, 2_920_000],
    })
    figure = charts.trend_lines(trend, title="Trend", currency="USD")
    by_name = {trace.name: trace for trace in figure.data}
    assert list(by_name["Deposits"].x) == ["2026-09", "2026-10"]
    assert list(by_name["Deposits"].y) == [Decimal("100"), Decimal("200")]
    assert list(by_name["Balances held"].y) == [Decimal("96"), Decimal("292")]
    assert sum(by_name["Charges"].y) == Decimal("7")  # 3.0000 + 4.0000


def test_classification_bar_counts_accounts_and_goes_log_when_skewed():
    results = pd.DataFrame({"classification": ["agrees", "no snapshot"], "accounts": [1990, 3]})
    figure = charts.classification_bar(results, title="Results")
    assert list(figure.data[0].y) == [1990, 3]
    assert figure.layout.yaxis.type == "log"  # 1990 >= 50 x 3
    assert not figure.layout.annotations
    # a log axis draws no bar of 0: the result's 0 is written on the axis, so "none" is not read as "not counted"
    results = pd.DataFrame({"classification": ["agrees", "no snapshot", "unexplained"], "accounts": [1990, 0, 3]})
    figure = charts.classification_bar(results, title="Results")
    assert [(note.x, note.text) for note in figure.layout.annotations] == [("no snapshot", "0")]


def test_text_xml_cannot_carry_escapes_and_overlong_cells_keep_the_workbook_readable(tmp_path):
    """Characters XML 1.0 forbids, text a spreadsheet would decode as ``_xHHHH_`` and text over a cell's limit."""
    frame = pd.DataFrame({"memo": ["REF\uffffX\ufffe", "_x0041_ stays", "y" * 40_000, "fine"]})
    path = export.write_xlsx(tmp_path / "hostile.xlsx", [Table("Hostile", "hostile text", frame)])
    sheet = openpyxl.load_workbook(path)["Hostile"]
    assert sheet["A2"].value == "REF\ufffdX\ufffd"
    # Excel decodes _xHHHH_ in cell text (ECMA-376's ST_Xstring), so the file escapes the underscore;
    # openpyxl reads the escape as it is written
    assert sheet["A3"].value == "_x005F_x0041_ stays"
    cut = sheet["A4"].value
    assert len(cut) == 32_767 and cut.endswith("[cut: 40,000 characters in all]") and cut.startswith("y" * 30_000)
    assert sheet["A5"].value == "fine"
    assert pd.read_excel(path)["memo"].tolist()[3] == "fine"


def test_columns_print_as_csv_exactly_as_the_csv_module_writes_them():
    """views.print_columns joins its CSV a column at a time; the text must still read as csv writes it."""
    import csv
    import io

    import numpy as np

    from vosbench.core import money
    from vosbench.outputs import views

    texts = np.array(["a\rb", "c\nd", "e,f", 'g"h', " i ", "", None, "=1+2", "-5", "plain", 'x,y\n"z"'], dtype=object)
    amounts = np.arange(len(texts), dtype=np.int64) * 12_345 - 30_000
    printed = io.StringIO()
    views.print_columns({"text": texts, "amount": amounts, "n": np.arange(len(texts))}, ["amount"], "csv",
                        stream=printed)
    expected = io.StringIO()
    writer = csv.writer(expected, lineterminator="\n")
    writer.writerow(["text", "amount", "n"])
    writer.writerows([("'" + t if t in ("=1+2", "-5") else t), str(money.to_decimal(int(a))), n]
                     for t, a, n in zip(texts, amounts, range(len(texts))))
    assert printed.getvalue() == expected.getvalue()
    alone = io.StringIO()
    views.print_columns({"text": np.array(["", "a"], dtype=object)}, [], "csv", stream=alone)
    assert alone.getvalue() == 'text\n""\na\n'  # a row of one empty field is still a row


@pytest.mark.parametrize("fmt", ["table", "csv", "json"])
def test_columns_print_as_a_frame_does_whether_arrays_or_lists(fmt):
    """A page printed from lists (no numpy) or numpy arrays reads exactly as pandas prints the same frame."""
    import numpy as np

    from vosbench.outputs import views

    rows = [(7, "=HYPERLINK(1)", 125_000, None, 3, -2), (12, "plain\u202e", -5, 10_000, None, 40), (3, None, 0, 0, 1, 7)]
    names = ("id", "memo", "amount", "balance_after", "reverses_id", "count")
    money_columns = ("amount", "balance_after")
    totals = {"USD": {"amount": 125_000 - 5, "count": 45}}
    frame = pd.DataFrame({name: pd.array(values, dtype="Int64") if name != "memo" else pd.Series(values, dtype=object)
                          for name, values in zip(names, zip(*rows))})
    as_frame, as_lists, as_arrays = io.StringIO(), io.StringIO(), io.StringIO()
    views.print_frame(frame, money_columns, fmt, totals=totals, stream=as_frame)
    listed = views.rows_as_columns(names, rows)
    views.print_columns(listed, money_columns, fmt, totals=totals, stream=as_lists)
    arrays = {name: np.array([0 if v is None else v for v in values], dtype=np.int64) if name != "memo"
              else np.array(values, dtype=object) for name, values in listed.items()}
    missing = {name: np.array([v is None for v in values]) for name, values in listed.items() if name != "memo"}
    views.print_columns(arrays, money_columns, fmt, missing=missing, totals=totals, stream=as_arrays)
    assert as_lists.getvalue() == as_frame.getvalue() == as_arrays.getvalue()


def test_html_amounts_read_in_their_currencys_places_totals_rows_too():
    """Yen without cents, dinars to three places, dollars to two (more only when an amount has more)."""
    frame = pd.DataFrame({"kind": ["deposit", "bonus", "deposit"], "currency": ["JPY", "KWD", "USD"],
                          "count": [3, 1, 2], "amount": [15_860_000, 5_000, 70_001]})
    totals = {"JPY": {"count": 3, "amount": 15_860_000}, "KWD": {"count": 1, "amount": 5_000},
              "USD": {"count": 2, "amount": 70_001}}
    shown = re.findall(r">([0-9][0-9,.]*)<", export.styled(Table("t", "T", frame, ("amount",), totals)).to_html())
    assert shown == ["3", "1,586", "1", "0.500", "2", "7.0001"] * 2  # the rows, then each currency's total
