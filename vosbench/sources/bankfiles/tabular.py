"""CSV and XLSX exports (gateway reports, IVR recharge logs, wallet exports, bank CSVs), read via a profile.

Every row is read; each bad one (a date that does not fit the profile's format, an
amount that is not a number, an empty required cell) is reported with file, line and
reason, and the file is imported all-or-nothing. A header that lacks a column that
decides money (date, amount, direction, currency, id) means the file is not what the
profile describes: the whole file is refused with the columns it has and the ones
expected. A column that only describes a line (reference, counterparty, description,
value date, account), or that a skip or outgoing rule reads, may be missing, as it is
from some of a source's real exports: it is read as empty and the import says so.

XLSX cells that hold numbers arrive as binary doubles; one is taken at the 15 significant
digits a spreadsheet shows, and refused if that holds more than four places (never rounded).
A formula is read as the value the spreadsheet saved beside it; one saved without a value
(by a program that does not compute formulas) refuses its line rather than reading as empty.
"""

from __future__ import annotations

import functools
import io
import re
import zipfile
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from vosbench.core import money
from vosbench.ledger.write_door import Rejection
from vosbench.sources import csv_text
from vosbench.sources.bankfiles.lines import ParsedStatement, StatementFileError, StatementLine, sha256_of
from vosbench.sources.bankfiles.outgoing import LINE_FIELDS
from vosbench.sources.bankfiles.profiles import OPTIONAL_ROLES, Profile


def parse(path: Path, profile: Profile, *, name: str | None = None) -> ParsedStatement:
    """Read a CSV or XLSX file through ``profile``."""
    raw = path.read_bytes()
    file = name or path.name
    is_xlsx = path.suffix.lower() in (".xlsx", ".xlsm")
    rows, starts = _xlsx_rows(raw, file, profile) if is_xlsx else _csv_rows(raw, file, profile)
    rows, starts = rows[profile.skip_rows:], starts[profile.skip_rows:]
    if not rows:
        raise StatementFileError(f"{file}: no header row (after skipping {profile.skip_rows} row(s))")
    header = [str(cell or "").strip() for cell in rows[0]]
    columns, warnings = _columns_in(header, profile, file)
    checked = [profile.sign_check.column] if profile.sign_check and profile.sign_check.column in header else []
    wanted = {*columns.values(), *(column for column in profile.skip_when if column in header), *checked}
    repeated = sorted(column for column in wanted if header.count(column) > 1)
    if repeated:
        raise StatementFileError(f"{file}: column(s) {', '.join(repeated)} appear more than once in the header; "
                                 "which one is meant cannot be told: remove or rename the others")
    index = {column: header.index(column) for column in wanted}
    skip_when = {column: skipped for column, skipped in profile.skip_when.items() if column in index}
    lines, rejections = [], []
    width = len(rows[0])
    for line_number, cells in zip(starts[1:], rows[1:]):
        if all(cell in (None, "") for cell in cells):
            continue
        shifted = None if is_xlsx else csv_text.width_problem(len(cells), width)
        if shifted:
            rejections.append(Rejection(file, line_number, shifted))
            continue
        values = {column: cells[i] if i < len(cells) else None for column, i in index.items()}
        uncomputed = [value.problem(column) for column, value in values.items() if isinstance(value, Uncomputed)]
        if uncomputed:
            rejections.append(Rejection(file, line_number, "; ".join(uncomputed)))
            continue
        if any(str(values[column] or "").strip().casefold() in skipped for column, skipped in skip_when.items()):
            continue
        try:
            lines.append(_line(values, header, cells, profile, columns, line_number))
        except ValueError as error:
            rejections.append(Rejection(file, line_number, str(error)))
    return ParsedStatement(file, "xlsx" if is_xlsx else "csv", profile.channel, profile.name, lines,
                           rejections, sha256_of(raw), warnings=warnings)


def _columns_in(header: list[str], profile: Profile, file: str) -> tuple[dict[str, str], list[str]]:
    """Each role's column in this file (the first of the profile's headers it has), and what the file lacks.

    A missing role that decides money refuses the file; a missing descriptive role, or a
    column a skip or outgoing rule reads, is a warning (the rule then finds nothing there).
    """
    columns, missing, absent = {}, [], []
    for role, headers in profile.columns.items():
        found = next((column for column in headers if column in header), None)
        if found is not None:
            columns[role] = found
        elif role in OPTIONAL_ROLES:
            absent.append(f"{' or '.join(headers)} ({role.replace('_', ' ')})")
        else:
            missing.append(" or ".join(headers))
    if missing:
        raise StatementFileError(
            f"{file}: not a {profile.name} export: column(s) {', '.join(missing)} missing "
            f"(the file has {', '.join(h for h in header if h) or 'no headers'}); pick the right --profile")
    warnings = [f"no column {', '.join(absent)}: read as empty"] if absent else []
    unread = [column for column in profile.skip_when if column not in header]
    if unread:
        warnings.append(f"no column {', '.join(unread)}: rows are not skipped by it (skip_when)")
    if profile.sign_check and profile.sign_check.column not in header:
        warnings.append(f"no column {profile.sign_check.column}: the amounts' signs are not checked against it (sign_check)")
    unruled = sorted({rule.field for rule in profile.outgoing
                      if rule.field and rule.field not in LINE_FIELDS and rule.field not in header})
    if unruled:
        warnings.append(f"no column {', '.join(unruled)}: its outgoing rules find no money out here")
    return columns, warnings


def _csv_rows(raw: bytes, file: str, profile: Profile) -> tuple[list[list], list[int]]:
    """The file's rows, and the line each starts on (a quoted cell may span lines): read strictly.

    A quote left open would otherwise take the rows after it into one cell, and the
    payments in them would be missing from the statement without a word.
    """
    if raw[:4] == b"PK\x03\x04":
        raise StatementFileError(f"{file}: this is a zip/XLSX file, not CSV; save it with the .xlsx extension")
    try:
        text = raw.decode(profile.encoding)
    except (UnicodeDecodeError, LookupError) as error:
        raise StatementFileError(f"{file}: cannot be read as {profile.encoding} text ({error}); "
                                 "set encoding in the profile or save the file as UTF-8") from None
    try:
        return csv_text.rows(text, file, delimiter=profile.delimiter)
    except csv_text.CsvTextError as error:
        raise StatementFileError(str(error)) from None


def _xlsx_rows(raw: bytes, file: str, profile: Profile) -> tuple[list[list], list[int]]:
    import openpyxl

    try:
        book = openpyxl.load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as error:
        raise StatementFileError(f"{file}: not a readable XLSX workbook ({error}); "
                                 "export it again or save it as CSV") from None
    try:
        if profile.sheet and profile.sheet not in book.sheetnames:
            raise StatementFileError(f"{file}: no sheet {profile.sheet!r}; it has {', '.join(book.sheetnames)}")
        sheet = book[profile.sheet] if profile.sheet else book.worksheets[0]
        rows = [list(row) for row in sheet.iter_rows(values_only=True)]
        title = sheet.title
    finally:
        book.close()
    if any(_FORMULA.search(part) for part in _sheet_parts(raw)):  # a second read only for a sheet with formulas
        _mark_uncomputed(raw, title, rows)
    return rows, list(range(1, len(rows) + 1))


_FORMULA = re.compile(rb"<(?:\w+:)?f[\s>/]")
"""A formula element of a worksheet's XML (``<f>``, ``<x:f t="shared" …/>``)."""


def _sheet_parts(raw: bytes) -> list[bytes]:
    """The XML of each worksheet of the XLSX ``raw`` (its zip entries under ``xl/worksheets/``)."""
    with zipfile.ZipFile(io.BytesIO(raw)) as parts:
        return [parts.read(name) for name in parts.namelist() if name.startswith("xl/worksheets/") and name.endswith(".xml")]


class Uncomputed(str):
    """A cell whose formula the file holds without its value: the program that wrote it does not compute formulas
    (a spreadsheet saves each formula's last value beside it), so what the cell shows cannot be known."""

    def problem(self, column: str) -> str:
        return (f"column {column} holds the formula {self} without its value (the program that wrote the file "
                "does not compute formulas); open the file in a spreadsheet and save it, or export it as CSV")


def _mark_uncomputed(raw: bytes, title: str, rows: list[list]) -> None:
    """Put an :class:`Uncomputed` in ``rows`` where sheet ``title`` holds a formula and read empty."""
    import openpyxl

    book = openpyxl.load_workbook(io.BytesIO(raw), read_only=True, data_only=False)
    try:
        for row, written in zip(rows, book[title].iter_rows(values_only=True)):
            for index, cell in enumerate(written[:len(row)]):
                if row[index] is None and isinstance(cell, str) and cell.startswith("="):
                    row[index] = Uncomputed(cell)
    finally:
        book.close()


def _cell(values: dict, columns: dict[str, str], role: str) -> object:
    column = columns.get(role)
    value = values.get(column) if column else None
    return value.strip() if isinstance(value, str) else value


def _amount(value, profile: Profile, what: str) -> int:
    """An amount cell as minor units, exactly as written, or a ValueError naming the cell and what it holds.

    A number cell (XLSX) is taken at the 15 significant digits a spreadsheet shows and
    must hold at most four places; text is ASCII digits with the profile's separators in
    their places (``1,234.50``; a thousands separator only between groups of three), an
    optional sign or accounting parentheses: ``1.000,00`` under a point-decimal profile is
    refused, never read as 1.
    """
    if isinstance(value, bool):
        raise ValueError(f"{what}: {value} is TRUE/FALSE, not an amount")
    if isinstance(value, float):
        return money.to_minor(Decimal(f"{value:.15g}"), field=what)
    if isinstance(value, int):
        return money.to_minor(value, field=what)
    if not isinstance(value, str) and value is not None:
        raise ValueError(f"{what}: holds a {type(value).__name__} ({value}), not an amount")
    text = (value or "").strip()
    if not text:
        raise ValueError(f"{what}: empty; every row needs an amount")
    if profile.thousands_separator == " ":  # the spaces French and Swiss exports group with
        text = text.replace("\u00a0", " ").replace("\u202f", " ")
    negative = text.startswith("(") and text.endswith(")")  # accounting negative
    if negative:
        text = text[1:-1].strip()
    found = _amount_form(profile.decimal_separator, profile.thousands_separator).fullmatch(text)
    if not found:
        grouping = (f" and {profile.thousands_separator!r} between groups of three"
                    if profile.thousands_separator else "")
        raise ValueError(f"{what}: {value!r} is not an amount as this profile writes them: ASCII digits with "
                         f"{profile.decimal_separator!r} before the decimals{grouping} (e.g. {_example(profile)})")
    sign, whole, decimals = found.groups()
    if negative and sign:
        raise ValueError(f"{what}: {value!r} is signed inside accounting parentheses; which sign is meant?")
    if profile.thousands_separator:
        whole = whole.replace(profile.thousands_separator, "")
    number = ("-" if negative else sign) + whole + ("." + decimals if decimals is not None else "")
    return money.to_minor(number, field=what)


@functools.cache
def _amount_form(decimal: str, thousands: str) -> re.Pattern:
    """The text of an amount under these separators: sign, whole part (grouped or not), decimals."""
    grouped = f"|[0-9]{{1,3}}(?:{re.escape(thousands)}[0-9]{{3}})+" if thousands else ""
    return re.compile(f"([+-]?)([0-9]+{grouped})(?:{re.escape(decimal)}([0-9]+))?")


def _example(profile: Profile) -> str:
    whole = f"1{profile.thousands_separator}234" if profile.thousands_separator else "1234"
    return f"{whole}{profile.decimal_separator}50"


def _date(value, profile: Profile, column: str, role: str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value or "").strip()
    if not text:
        raise ValueError(f"{column}: empty; every row needs a {role.replace('_', ' ')}")
    try:
        return datetime.strptime(text, profile.date_format).date()
    except ValueError:
        raise ValueError(f"{column}: {text!r} is not a date in the profile's format "
                         f"{profile.date_format}") from None


def _directed(amount: int, direction: str, profile: Profile, columns: dict[str, str]) -> int:
    """``amount`` (written unsigned) signed by the direction column: only the profile's values for in and out count."""
    column = columns["direction"]
    if amount < 0:
        raise ValueError(f"{columns.get('amount', 'amount')}: negative, while {column} gives the direction "
                         f"({direction!r}); which one is right?")
    if direction.lower() in profile.credit_values:
        return amount
    if direction.lower() in profile.debit_values:
        return -amount
    raise ValueError(f"{column}: {direction!r} is neither money in ({', '.join(profile.credit_values)}) nor money "
                     f"out ({', '.join(profile.debit_values)}); add it to the profile's sign if it is one of them")


def _check_sign(amount: int, values: dict, profile: Profile, columns: dict[str, str]) -> None:
    """Refuse a row whose amount goes the other way than its sign-check column says (or that says neither way).

    PayPal writes Gross signed and says the same again in Balance Impact: a Debit with a positive
    Gross is a contradiction, and taking either side would be a guess at which way the money went.
    """
    check = profile.sign_check
    if check is None or check.column not in values:  # a download without the column: said in a warning
        return
    said = str(values[check.column] or "").strip()
    if said.lower() in check.credit_values:
        way, contradicted = "money in", amount < 0
    elif said.lower() in check.debit_values:
        way, contradicted = "money out", amount > 0
    else:
        raise ValueError(f"{check.column}: {said!r} is neither money in ({', '.join(check.credit_values)}) nor money out "
                         f"({', '.join(check.debit_values)}); add it to the profile's sign_check if it is one of them")
    if contradicted:
        amount_cell = (f"{columns['amount']} {_cell(values, columns, 'amount')!r}" if "amount" in columns
                       else f"the amount {money.format_money(amount, 4)}")
        raise ValueError(f"{amount_cell} is money {'out' if amount < 0 else 'in'}, while {check.column} says {said!r} "
                         f"({way}): which one is right cannot be told and a sign is never guessed; correct the row at "
                         "the source and import the file again")


def _currency(values: dict, profile: Profile, columns: dict[str, str]) -> str:
    """The row's currency: its own cell when the profile maps one (never left empty), else the profile's."""
    if "currency" not in columns:
        return profile.currency
    currency = str(_cell(values, columns, "currency") or "").upper()
    if not currency:
        raise ValueError(f"{columns['currency']}: empty; a line's currency is never assumed")
    return currency


def _line(values: dict, header: list[str], cells: list, profile: Profile, columns: dict[str, str],
          number: int) -> StatementLine:
    """One row as a statement line; ``columns`` gives each role's column in this file."""
    posted = _date(_cell(values, columns, "date"), profile, columns["date"], "date")
    value_cell = _cell(values, columns, "value_date")
    value_on = (_date(value_cell, profile, columns["value_date"], "value_date") if value_cell not in (None, "")
                else None)
    if "amount" in columns:
        amount = _amount(_cell(values, columns, "amount"), profile, columns["amount"])
    else:  # separate credit and debit columns, one of them filled
        credit, debit = _cell(values, columns, "credit"), _cell(values, columns, "debit")
        amount = (_amount(credit, profile, columns["credit"]) if credit not in (None, "") else 0) - (
            _amount(debit, profile, columns["debit"]) if debit not in (None, "") else 0)
    if profile.sign == "plus_is_out":
        amount = -amount
    elif profile.sign == "direction":
        amount = _directed(amount, str(_cell(values, columns, "direction") or "").strip(), profile, columns)
    _check_sign(amount, values, profile, columns)
    source_id = str(_cell(values, columns, "id") or "")
    raw = {name: (cells[i] if i < len(cells) else None) for i, name in enumerate(header) if name}
    return StatementLine(
        statement_account=profile.source, statement_id=profile.source, posted_on=posted, value_on=value_on,
        amount=amount, currency=_currency(values, profile, columns),
        reference=str(_cell(values, columns, "reference") or ""),
        counterparty=str(_cell(values, columns, "counterparty") or ""),
        account_hint=str(_cell(values, columns, "account") or ""),
        description=str(_cell(values, columns, "description") or ""),
        raw=raw, line_key=f"id:{source_id}" if source_id else "", line=number)
