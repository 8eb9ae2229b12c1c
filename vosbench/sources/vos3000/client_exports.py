"""``vosbench import vos3000-export FILE``: payment-record exports of the VOS3000 client.

Reads .xls (legacy Excel, xlrd), .xlsx (openpyxl) and .csv; the header row is found by
its labels (``vosbench/sources/vos3000/export-headers.yaml``, configurable because they differ
by version). Amounts are VOS3000's doubles, read by the rule of the database sync: exact at
the ledger's 4 places, rounded half-to-even past them and flagged ``inexact_money``, refused
past the ledger's range; text must be plain decimal text (no commas, exponents or words).
A CSV row with a cell too few or too many is refused, never read shifted
(:func:`~vosbench.sources.csv_text.width_problem`).
Records of an account are read in time order so the sign of each movement is derived
from consecutive "balance after" values exactly as the database sync does.

Times are the switch's wall-clock times, read in the ledger's zone. A time the clocks skipped
(02:30 on a spring-forward night) names no instant: the row is refused. A time the clocks
showed twice (01:30 on the night they go back) is the one that keeps the records in the order
of their serial numbers, which grow with time as ``e_payhistory.id`` does (01:10 after 01:30 is
the second 01:10); where nothing tells, the first, flagged ``ambiguous_time``. The file is
appended all-or-nothing, every bad row reported with its line; the source key is the
serial number (else ``account/time``), so importing a file again adds nothing.
"""

from __future__ import annotations

import hashlib
import re
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml
from sqlalchemy.engine import Engine

from vosbench.core import money, yaml_problem
from vosbench.core.errors import VosbenchError
from vosbench.ledger import database
from vosbench.ledger.write_door import BatchResult, Rejection, to_utc_naive
from vosbench.sources import csv_text
from vosbench.sources.vos3000 import convert
from vosbench.sources.vos3000 import mapping as mapping_module
from vosbench.sources.vos3000.records import PayRecord, PayRecords, to_payments
from vosbench.sources.vos3000.state import Flag, append_and_keep, flag_keeper

DEFAULT_HEADERS = Path(__file__).resolve().parent / "export-headers.yaml"
REQUIRED = ("account", "amount", "balance_after", "type", "time")


class ExportError(VosbenchError, ValueError):
    """An export file that cannot be read; nothing was imported from it."""


def load_headers(path: Path | None = None) -> dict:
    path = path or DEFAULT_HEADERS
    try:
        config = yaml_problem.load(Path(path).read_bytes())
    except OSError as error:
        raise ExportError(f"header mapping {path}: {error.strerror}") from None
    except yaml.YAMLError as error:
        raise ExportError(f"header mapping {path} is not valid YAML ({yaml_problem.described(error)}); fix the file") from None
    unknown = set(config) - {"columns", "types", "modes", "time_formats"}
    if unknown:
        raise ExportError(f"header mapping {path}: unknown key(s) {', '.join(sorted(unknown))}")
    return config


def _sheet_rows(path: Path) -> tuple[list[list], list[int]]:
    """The file's rows and the line (CSV) or row (spreadsheet) each starts on."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        try:
            return csv_text.rows(path.read_bytes().decode("utf-8-sig"), path.name)
        except csv_text.CsvTextError as error:
            raise ExportError(str(error)) from None
    if suffix == ".xlsx":
        import openpyxl

        try:
            book = openpyxl.load_workbook(path, read_only=True, data_only=True)
        except (zipfile.BadZipFile, KeyError, ValueError) as error:
            raise ExportError(f"{path}: not a readable XLSX workbook ({error}); export it again from the VOS3000 "
                              "client or save it as CSV") from None
        rows = [list(row) for row in book.worksheets[0].iter_rows(values_only=True)]
    elif suffix == ".xls":
        import xlrd

        try:
            sheet = xlrd.open_workbook(str(path)).sheet_by_index(0)
        except xlrd.XLRDError as error:
            raise ExportError(f"{path}: not a readable XLS workbook ({error}); export it again from the VOS3000 "
                              "client or save it as CSV") from None
        rows = [sheet.row_values(n) for n in range(sheet.nrows)]
    else:
        raise ExportError(f"{path}: not an export this reads; give a .xls, .xlsx or .csv file")
    return rows, list(range(1, len(rows) + 1))


def _locate(rows: list[list], columns: dict[str, list[str]], path: Path) -> tuple[int, dict[str, int]]:
    labels = {label.strip().lower(): field for field, names in columns.items() for label in names}
    for index, row in enumerate(rows[:20]):
        found = {labels[str(cell).strip().lower()]: n for n, cell in enumerate(row)
                 if cell is not None and str(cell).strip().lower() in labels}
        if all(field in found for field in REQUIRED):
            return index, found
    raise ExportError(f"{path}: no header row naming {', '.join(REQUIRED)} in its first 20 rows; add this "
                      "version's labels to the header mapping (--headers)")


def _amount(value, column: str, converter: convert.Converter, source_key: str) -> int:
    """Minor units of an amount cell by the rule of every VOS3000 double, else a ValueError naming ``column``.

    VOS3000 keeps money as doubles, and its client writes them to the export as they are: a
    number cell is that double, a CSV or text cell its text. Both are read as the database
    sync reads them (:mod:`~vosbench.sources.vos3000.convert`): exact when they have at most 4
    places; with more (``79.60000000000001``, the sum of two doubles) rounded half-to-even to
    4 places and kept by ``converter`` to be flagged; beyond the ledger's range refused. Text
    must be plain decimal text: VOS3000 does not document thousands separators, and ``1,5``
    or ``1.000,00`` cannot be read without guessing which mark is the decimal point, so any
    comma is refused, and so are exponents, ``NaN`` and blanks.
    """
    field = f"column {column!r}"
    if isinstance(value, float):  # nan, inf and doubles past the ledger's range are refused there
        return converter.minor(value, field=field, source_key=source_key)
    text = str(value if value is not None else "").strip()
    if "," in text:
        raise ValueError(f"{field}: {text!r} has a comma; write the amount as plain decimal text "
                         "with a point and no thousands separators, such as 1234.50")
    if _LONG_DECIMAL.fullmatch(text):  # a double's text with more places than the ledger keeps
        return converter.minor_text(text, field=field, source_key=source_key)
    return money.to_minor(text, field=field)


_LONG_DECIMAL = re.compile(r"-?[0-9]{1,15}\.[0-9]{5,}")
"""Plain decimal text with more than 4 places (and a whole part a double holds to the unit)."""


def _code(value, words: dict, field: str) -> int:
    text = str(value).strip()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if text.lstrip("-").isdigit():
        return int(text)
    lowered = {str(k).lower(): v for k, v in words.items()}
    if text.lower() not in lowered:
        raise ValueError(f"{field}: {text!r} is not a known word; add it to the header mapping's "
                         f"{field}s (known: {', '.join(sorted(lowered))})")
    return int(lowered[text.lower()])


def _local_time(value, formats: list[str], zone: ZoneInfo) -> datetime:
    """A time cell as the wall-clock time it shows (naive); one the clocks of ``zone`` skipped is an error."""
    if isinstance(value, datetime):
        moment = value.replace(tzinfo=None)
    else:
        for pattern in formats:
            try:
                moment = datetime.strptime(str(value).strip(), pattern)
                break
            except ValueError:
                continue
        else:
            raise ValueError(f"time: {value!r} matches none of the formats {', '.join(formats)}")
    if _instant(moment, zone, 0).astimezone(zone).replace(tzinfo=None) != moment:
        raise ValueError(f"time: {moment} never showed on the clocks of {zone.key} (they skipped that hour); the "
                         f"export's times are read in the ledger's zone, {zone.key}: correct the time")
    return moment


def _instant(local: datetime, zone: ZoneInfo, fold: int) -> datetime:
    return local.replace(tzinfo=zone, fold=fold).astimezone(UTC)


def _instants(times: list[tuple[int, str, datetime]], zone: ZoneInfo) -> dict[int, tuple[datetime, bool]]:
    """Each row's (naive UTC instant, whether it was a guess) from (line, serial, wall-clock time).

    A time shown twice (the hour the clocks go back) takes, of its two instants, the first one not
    before the records of lower serial numbers; when both are, or the serials are no numbers to go
    by, the first, and it is a guess.
    """
    ordered = sorted(times, key=lambda t: int(t[1])) if all(t[1].isdigit() for t in times) else None
    latest: datetime | None = None
    found: dict[int, tuple[datetime, bool]] = {}
    for line, _, local in ordered or times:
        first, second = _instant(local, zone, 0), _instant(local, zone, 1)
        if first == second:
            found[line] = (first, False)
        elif ordered is not None and latest is not None and first < latest <= second:
            found[line] = (second, False)
        else:
            found[line] = (first, True)
        latest = found[line][0] if latest is None else max(latest, found[line][0])
    return {line: (to_utc_naive(instant), guessed) for line, (instant, guessed) in found.items()}


def import_export(ledger: Engine, path: Path, *, headers: dict, source_name: str = "vos3000-export",
                  mapping: mapping_module.Mapping | None = None) -> BatchResult:
    """Import one export file (all-or-nothing); see the module docstring."""
    if not path.exists():
        raise ExportError(f"{path}: no such file")
    mapping = mapping or mapping_module.load()
    rows, starts = _sheet_rows(path)
    header_index, at = _locate(rows, headers["columns"], path)
    labels = {field: str(rows[header_index][n]).strip() for field, n in at.items()}
    with ledger.connect() as connection:
        zone = ZoneInfo(database.ledger_timezone(connection))
    records, rejections, rows_read = [], [], []
    converter = convert.Converter()
    width = len(rows[header_index]) if path.suffix.lower() == ".csv" else None  # a sheet's rows are its grid's width
    for line, row in zip(starts[header_index + 1:], rows[header_index + 1:]):
        cells = {field: (row[n] if n < len(row) else None) for field, n in at.items()}
        if not any(value not in (None, "") for value in cells.values()):
            continue
        shifted = csv_text.width_problem(len(row), width) if width is not None else None
        if shifted:
            rejections.append(Rejection(path.name, line, shifted))
            continue
        serial = cells.get("serial")
        serial = str(int(serial)) if isinstance(serial, float) and serial.is_integer() else str(serial or "").strip()
        try:
            rows_read.append((line, cells, serial, _local_time(cells["time"], headers["time_formats"], zone)))
        except ValueError as error:
            rejections.append(Rejection(path.name, line, str(error)))
    instants = _instants([(line, serial, local) for line, _, serial, local in rows_read], zone)
    guessed = []
    for line, cells, serial, local in rows_read:
        try:
            occurred, guess = instants[line]
            account = str(cells["account"]).strip()
            if not account:
                raise ValueError("account is empty")
            key = serial or f"{account}/{occurred.isoformat()}"
            if guess:
                guessed.append(Flag("export", key, "ambiguous_time",
                                    f"{local} showed twice on the clocks of {zone.key}; read as the first, "
                                    f"{occurred.isoformat()} UTC: no record of a lower serial number places it later"))
            records.append(PayRecord(
                key, account, _amount(cells["amount"], labels["amount"], converter, key),
                _amount(cells["balance_after"], labels["balance_after"], converter, key),
                _code(cells["type"], headers["types"], "type"),
                _code(cells.get("mode") if cells.get("mode") not in (None, "") else -1, headers["modes"], "mode"),
                occurred, str(cells.get("operator") or "").strip(), str(cells.get("memo") or "").strip(), line=line))
        except ValueError as error:
            rejections.append(Rejection(path.name, line, str(error)))
    rejections.sort(key=lambda rejection: rejection.line)  # a bad time is found in the first pass, the rest in the second
    flags = [*guessed, *(Flag("export", item.source_key, "inexact_money", str(item)) for item in converter.take_inexact())]
    in_balance_order = PayRecords.of(sorted(records, key=lambda r: (r.account, r.occurred_at, r.line)))
    payments = sorted(to_payments(in_balance_order, {}, mapping, "export", flags).rows(), key=lambda p: p.line)
    return append_and_keep(ledger, "payments", payments, source=source_name, file=path.name, history=True,
                           file_sha256=hashlib.sha256(path.read_bytes()).hexdigest(), parse_rejections=rejections,
                           keep=flag_keeper(source_name, [Flag(f.stream, f"{path.name}:{f.source_key}", f.code,
                                                               f.detail) for f in flags]))
