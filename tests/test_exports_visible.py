"""Hidden characters in memos, references and names: stored exactly, shown escaped by every export.

A right-to-left override makes ``REF<U+202E>exe.txt`` read as ``REFtxt.exe``; a NUL
stops some CSV readers. The ledger keeps the text as entered; CSV, xlsx, HTML, the PDF's
page, accounting files and terminal tables show ``\\u202e`` and ``\\u0000`` instead.
"""

import csv
import io
import json
from datetime import date

import numpy as np
import openpyxl
import pandas as pd
import pytest
import sqlalchemy as sa
from ledger_text import ACCOUNTS, ledger_from_text

from vosbench.commands import main
from vosbench.core import config
from vosbench.outputs import customer_statement, export, views
from vosbench.outputs.accounting import layouts
from vosbench.outputs.visible import visible

REFERENCE, SHOWN_REFERENCE = "REF\u202eexe.txt", "REF\\u202eexe.txt"
MEMO, SHOWN_MEMO = "paid\x00by\u2066card\u2069\u200f\x1b[2J", "paid\\u0000by\\u2066card\\u2069\\u200f\\u001b[2J"
FORMULA, SHOWN_FORMULA = "=1+2\x00", "=1+2\\u0000"  # still a formula start once shown: still defused
RAW = ("\u202e", "\x00", "\u2066", "\u2069", "\u200f", "\x1b")


@pytest.mark.parametrize("text, shown", [
    (REFERENCE, SHOWN_REFERENCE), (MEMO, SHOWN_MEMO), ("\u200eleft\u061c\x7f\x85", "\\u200eleft\\u061c\\u007f\\u0085"),
    ("tab\tline\nreturn\r", "tab\tline\nreturn\r"),  # whitespace CSV quotes and cells keep
    ("Ελληνικά ✓ عربي", "Ελληνικά ✓ عربي"),  # letters of any script are not hidden
])
def test_hidden_characters_are_written_as_escapes(text, shown):
    assert visible(text) == shown


@pytest.fixture
def ledger_url(tmp_path, monkeypatch):
    engine = ledger_from_text(tmp_path, timezone="Asia/Dubai", accounts=ACCOUNTS, payments=f"""
        source_key,account,kind,amount,occurred_at,operator,channel,method,reference,memo
        k1,C1,deposit,10.00,2026-10-02T10:00:00Z,a,admin,cash,{REFERENCE},{MEMO}
        k2,C2,deposit,20.00,2026-10-03T10:00:00Z,a,admin,cash,plain,{FORMULA}
    """)
    with engine.connect() as connection:  # the ledger keeps the text exactly as entered
        stored = connection.execute(sa.text("SELECT reference, memo FROM payments ORDER BY id")).all()
    assert [tuple(row) for row in stored] == [(REFERENCE, MEMO), ("plain", FORMULA)]
    url = engine.url.render_as_string(hide_password=False)
    monkeypatch.setenv(config.ENV_DB, url)
    return url


def query(capsys, *argv):
    assert main.main(["query", "--sort", "id", "--asc", *argv]) == 0
    return capsys.readouterr().out


def _no_raw(text: str) -> bool:
    return not any(character in text for character in RAW)


def test_csv_printed_and_written_shows_escapes(ledger_url, capsys, tmp_path):
    for text in (query(capsys, "--format", "csv"),
                 (query(capsys, "--format", "csv", "--out", str(tmp_path / "p.csv")),
                  (tmp_path / "p.csv").read_text(encoding="utf-8"))[1]):
        assert _no_raw(text)
        rows = list(csv.DictReader(io.StringIO(text)))
        assert [(row["reference"], row["memo"]) for row in rows] == [(SHOWN_REFERENCE, SHOWN_MEMO),
                                                                     ("plain", "'" + SHOWN_FORMULA)]


def test_xlsx_shows_escapes_and_keeps_formulas_as_text(ledger_url, capsys, tmp_path):
    query(capsys, "--format", "xlsx", "--out", str(tmp_path / "p.xlsx"))
    sheet = openpyxl.load_workbook(tmp_path / "p.xlsx")["Payments"]
    header = [cell.value for cell in sheet[1]]
    reference, memo = header.index("reference") + 1, header.index("memo") + 1
    assert (sheet.cell(2, reference).value, sheet.cell(2, memo).value) == (SHOWN_REFERENCE, SHOWN_MEMO)
    formula = sheet.cell(3, memo)
    assert formula.value == SHOWN_FORMULA and formula.data_type == "s" and formula.quotePrefix


def test_terminal_tables_show_escapes_and_json_keeps_the_exact_text(ledger_url, capsys):
    table = query(capsys)
    assert SHOWN_REFERENCE in table and SHOWN_MEMO in table and _no_raw(table)
    printed = query(capsys, "--format", "json")
    assert _no_raw(printed)  # JSON writes them as \uXXXX itself, and reads back exactly what is stored
    assert [(row["reference"], row["memo"]) for row in json.loads(printed)["rows"]] == [(REFERENCE, MEMO),
                                                                                       ("plain", FORMULA)]
    frame = pd.DataFrame({"memo": [MEMO], "n": [1]})
    out = io.StringIO()
    views.print_frame(frame, (), stream=out)
    assert SHOWN_MEMO in out.getvalue() and _no_raw(out.getvalue())
    for fmt in ("table", "csv"):
        out = io.StringIO()
        views.print_columns({"memo": frame["memo"].to_numpy(dtype=object), "n": frame["n"].to_numpy()}, (), fmt,
                            stream=out)
        assert SHOWN_MEMO in out.getvalue() and _no_raw(out.getvalue())


@pytest.mark.parametrize("dtype", [object, "string"])
def test_html_tables_and_csv_of_either_text_dtype_show_escapes(dtype):
    frame = pd.DataFrame({"memo": pd.Series([MEMO, "<b>&"], dtype=dtype), f"name{chr(0x202e)}": ["x", "y"]})
    page = export.styled(export.Table("T", "caption", frame)).to_html()
    assert SHOWN_MEMO in page and "name\\u202e" in page and "&lt;b&gt;&amp;" in page and _no_raw(page)
    out = io.StringIO()
    export.write_csv(frame, out)
    assert next(csv.reader(io.StringIO(out.getvalue().splitlines()[1]))) == [SHOWN_MEMO, "x"]
    assert _no_raw(out.getvalue())


def test_the_pdf_page_and_accounting_files_show_escapes(ledger_url):
    from vosbench.ledger import setup

    document = customer_statement.build(setup.open_ledger(ledger_url), "C1", date(2026, 10, 1), date(2026, 10, 31))
    page = customer_statement.html(document)  # what Chromium prints as the PDF
    assert SHOWN_REFERENCE in page and _no_raw(page)
    assert layouts.text(MEMO) == SHOWN_MEMO and layouts.text(FORMULA) == "'" + SHOWN_FORMULA


def test_a_very_long_text_is_cut_in_a_terminal_table_and_kept_whole_elsewhere():
    """One record's 20,000-character memo padded every row of the terminal table to its width: a table shows
    :data:`views.TABLE_CELL` characters of it, the cut marked; CSV and JSON keep every character."""
    long = "memo " * 4_000
    columns = {"memo": np.array([long, "short"], dtype=object), "n": np.array([1, 2])}
    for printer in (lambda out: views.print_columns(columns, (), "table", stream=out),
                    lambda out: views.print_frame(pd.DataFrame(columns), (), stream=out, cut=True)):
        out = io.StringIO()
        printer(out)
        lines = out.getvalue().splitlines()
        assert max(map(len, lines)) < views.TABLE_CELL + 20 and long[:views.TABLE_CELL - 1] + "…" in lines[1]
    for fmt in ("csv", "json"):
        out = io.StringIO()
        views.print_columns(columns, (), fmt, stream=out)
        assert long.strip() in out.getvalue()
    out = io.StringIO()  # a table that is no list of records (a finding's detail, a command to paste) keeps it whole
    views.print_frame(pd.DataFrame(columns), (), stream=out)
    assert long.strip() in out.getvalue()
