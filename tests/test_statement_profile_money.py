"""Amounts, signs and currencies read through CSV/XLSX profiles: exactly as written, or refused with the cell.

A separator out of its place, a float with more places than money has, a direction the
profile does not name, a blank currency cell: each is refused naming the line and the
column, never read as another amount, sign or currency.
"""

from __future__ import annotations

import zipfile
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest
import sqlalchemy as sa
import yaml

from vosbench.core.money import UNIT
from vosbench.ledger import setup, tables
from vosbench.ledger.write_door import ImportRejected
from vosbench.sources.bankfiles import importing, profiles, tabular
from vosbench.sources.bankfiles.lines import StatementFileError

BANK_HEADER = "Date,Value date,Amount,Reference,Counterparty,Description,Transaction ID\n"


@pytest.fixture
def engine(tmp_path):
    return setup.open_ledger(f"sqlite:///{tmp_path / 'ledger.sqlite'}", create=True, timezone="UTC")


def amounts(engine) -> list[int]:
    with engine.connect() as connection:
        return list(connection.scalars(sa.select(tables.statement_lines.c.amount).order_by(tables.statement_lines.c.id)))


def bank_csv(tmp_path: Path, amount: str) -> Path:
    path = tmp_path / "bank.csv"
    path.write_text(BANK_HEADER + f'2026-10-02,,"{amount}",R1,Acme,wire,T1\n', encoding="utf-8")
    return path


def profile_file(tmp_path: Path, **changes) -> str:
    data = yaml.safe_load((profiles.PROFILES_DIR / "generic-bank-csv.yaml").read_text(encoding="utf-8"))
    data.update(changes)
    path = tmp_path / "profile.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return str(path)


@pytest.mark.parametrize("written, minor", [
    ("1,234.50", 12_345_000), ("1234.50", 12_345_000), ("-12,345,678.9", -123_456_789_000), ("(80.25)", -802_500),
    ("+5", 50_000), ("0.0001", 1),
])
def test_a_point_decimal_profile_reads_its_amounts_exactly(engine, tmp_path, written, minor):
    assert importing.import_file(engine, bank_csv(tmp_path, written), profile="generic-bank-csv").added == 1
    assert amounts(engine) == [minor]


@pytest.mark.parametrize("written", [
    "1.000,00",  # a comma-decimal amount: never 1.00
    "12,34", "1,0", "1,00,000.00",  # commas not between groups of three: never 1234 or 10
    "5 000,00", "1e3", "\u0661\u0662\u0663", "$120", "(-5)", "",
])
def test_a_point_decimal_profile_refuses_separators_out_of_place(engine, tmp_path, written):
    with pytest.raises(ImportRejected) as refused:
        importing.import_file(engine, bank_csv(tmp_path, written), profile="generic-bank-csv")
    assert refused.value.rejections[0].line == 2 and refused.value.rejections[0].reason.startswith("Amount:")
    assert amounts(engine) == []


@pytest.mark.parametrize("written, minor", [("1.234,50", 12_345_000), ("5,5", 55_000), ("1\u00a0234,50", None)])
def test_a_comma_decimal_profile_reads_its_own_form(engine, tmp_path, written, minor):
    profile = profile_file(tmp_path, decimal_separator=",", thousands_separator=".", delimiter=";")
    path = tmp_path / "bank.csv"
    path.write_text(BANK_HEADER.replace(",", ";") + f"2026-10-02;;{written};R1;Acme;wire;T1\n", encoding="utf-8")
    if minor is None:  # a space is not this profile's thousands separator
        with pytest.raises(ImportRejected, match="ASCII digits with ',' before the decimals and '.' between"):
            importing.import_file(engine, path, profile=profile)
        return
    assert importing.import_file(engine, path, profile=profile).added == 1
    assert amounts(engine) == [minor]


def test_a_profile_whose_two_separators_are_the_same_is_refused(tmp_path):
    with pytest.raises(profiles.ProfileError, match="both '.'; an amount could then be read a hundred times"):
        profiles.load(profile_file(tmp_path, thousands_separator="."))


def test_a_profile_that_names_no_currency_is_refused(tmp_path):
    data = yaml.safe_load((profiles.PROFILES_DIR / "generic-bank-csv.yaml").read_text(encoding="utf-8"))
    del data["currency"]
    with pytest.raises(profiles.ProfileError, match="say the file's currency"):
        profiles.from_mapping(data)


@pytest.mark.parametrize("cell, message", [
    (12.34567, "has more than 4 decimal places"),  # never rounded to 12.3457
    (1e20, "too large for the ledger"),
    (9.2e18, "too large for the ledger"),
    (True, "TRUE/FALSE, not an amount"),
    (datetime(2026, 1, 1), "holds a datetime"),
])
def test_an_xlsx_number_cell_is_taken_exactly_or_refused(engine, tmp_path, cell, message):
    book = openpyxl.Workbook()
    book.active.append(BANK_HEADER.strip().split(","))
    book.active.append(["2026-10-02", None, cell, "R1", "Acme", "wire", "T1"])
    book.active.append(["2026-10-03", None, 0.1 + 0.2, "R2", "Acme", "wire", "T2"])  # a formula's 0.30000000000000004
    book.save(tmp_path / "bank.xlsx")
    with pytest.raises(ImportRejected) as refused:
        importing.import_file(engine, tmp_path / "bank.xlsx", profile="generic-bank-csv")
    assert [(r.line, message in r.reason) for r in refused.value.rejections] == [(2, True)]  # line 3 reads as 0.30


def test_a_repeated_amount_column_refuses_the_file(engine, tmp_path):
    path = tmp_path / "bank.csv"
    path.write_text(BANK_HEADER.strip() + ",Amount\n2026-10-02,,100.00,R1,Acme,wire,T1,1.00\n", encoding="utf-8")
    with pytest.raises(StatementFileError, match="Amount appear more than once"):
        importing.import_file(engine, path, profile="generic-bank-csv")


CRYPTO_HEADER = "Date (UTC),TxHash,From,Amount,Direction,Memo,Network\n"


@pytest.mark.parametrize("amount, direction, minor", [("50.00", "IN", 500_000), ("50.00", "out", -500_000)])
def test_a_direction_profile_signs_by_the_values_it_names(engine, tmp_path, amount, direction, minor):
    path = tmp_path / "wallet.csv"
    path.write_text(CRYPTO_HEADER + f"2026-10-03 15:01:41,0xab,w,{amount},{direction},C00008,USDT\n", encoding="utf-8")
    assert importing.import_file(engine, path, profile="crypto").added == 1
    assert amounts(engine) == [minor]


@pytest.mark.parametrize("amount, direction, message", [
    ("50.00", "", r"Direction: '' is neither money in \(in\) nor money out \(out\)"),
    ("50.00", "incoming", "Direction: 'incoming' is neither"),
    ("-50.00", "IN", "Amount: negative, while Direction gives the direction"),
])
def test_a_direction_the_profile_does_not_name_is_refused_never_guessed(engine, tmp_path, amount, direction, message):
    path = tmp_path / "wallet.csv"
    path.write_text(CRYPTO_HEADER + f"2026-10-03 15:01:41,0xab,w,{amount},{direction},C00008,USDT\n", encoding="utf-8")
    with pytest.raises(ImportRejected, match=message):
        importing.import_file(engine, path, profile="crypto")


def test_a_blank_currency_cell_is_refused_not_taken_as_usd(engine, tmp_path):
    path = tmp_path / "gateway.csv"
    path.write_text("created_utc,charge_id,card_holder,customer_account,description,gross,fee,net,currency,status\n"
                    "2026-10-03 10:08:46,ch_1,ACME,C00005,Portal top-up,20.00,0.88,19.12,,succeeded\n",
                    encoding="utf-8")
    with pytest.raises(ImportRejected, match="currency: empty; a line's currency is never assumed"):
        importing.import_file(engine, path, profile="gateway")


def test_an_xlsx_formula_without_its_value_is_refused_naming_the_cell_not_read_as_empty(engine, tmp_path):
    """A program that writes formulas without computing them (openpyxl, many report generators) leaves no value: the
    amount or reference it shows cannot be known, so the line is refused; a formula a spreadsheet saved reads as its value."""
    book = openpyxl.Workbook()
    book.active.append(BANK_HEADER.strip().split(","))
    book.active.append(["2026-10-02", None, "=10*2", "R1", "Acme", "wire", "T1"])
    book.active.append(["2026-10-03", None, "5.00", '=CONCAT("R", 2)', "Acme", "wire", "T2"])
    book.active.append(["2026-10-04", None, "7.00", "R3", "Acme", "wire", "T3"])
    book.save(tmp_path / "bank.xlsx")
    with pytest.raises(ImportRejected) as refused:
        importing.import_file(engine, tmp_path / "bank.xlsx", profile="generic-bank-csv")
    assert [(r.line, r.reason) for r in refused.value.rejections] == [
        (2, "column Amount holds the formula =10*2 without its value (the program that wrote the file does not compute "
            "formulas); open the file in a spreadsheet and save it, or export it as CSV"),
        (3, "column Reference holds the formula =CONCAT(\"R\", 2) without its value (the program that wrote the file "
            "does not compute formulas); open the file in a spreadsheet and save it, or export it as CSV")]
    # the same file as a spreadsheet saves it, the amount's value beside its formula: line 2 reads as 20.00
    with zipfile.ZipFile(tmp_path / "bank.xlsx") as written, zipfile.ZipFile(tmp_path / "saved.xlsx", "w") as saved:
        for part in written.namelist():
            content = written.read(part)
            saved.writestr(part, content.replace(b"<f>10*2</f><v />", b"<f>10*2</f><v>20</v>") if "worksheets" in part else content)
    with pytest.raises(ImportRejected) as refused:
        importing.import_file(engine, tmp_path / "saved.xlsx", profile="generic-bank-csv")
    assert [r.line for r in refused.value.rejections] == [3]
    parsed = tabular.parse(tmp_path / "saved.xlsx", profiles.load("generic-bank-csv"))
    assert [(line.line, line.amount) for line in parsed.lines] == [(2, 20 * UNIT), (4, 7 * UNIT)]
