"""A streaming xlsx writer: each sheet's rows go straight into the file as XML text.

openpyxl builds an object per cell and serialises it through an XML library, some
tens of microseconds a cell: a reconciliation sheet of every account of a large
operator (50,000 rows of 23 columns) took most of an audit's time. The workbooks
vosbench writes need few things — text, whole numbers, exact money, times, a
handful of fixed styles, frozen headers, column widths and a filter — so this
module writes exactly those, a row at a time, into the zip entry of its sheet.

Money arrives as integer minor units and is written as its exact decimal text
(``1234.5000``), never through a float. Text is always an inline string, so
nothing a source wrote can become a formula; text a spreadsheet would take for a
formula also gets the quote prefix, as Excel marks text typed after an apostrophe.
Characters that hide or reorder text are written as escapes (:mod:`vosbench.outputs.visible`).
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from enum import IntEnum
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from vosbench.core import money
from vosbench.outputs.visible import HIDDEN, looks_like_formula, visible

MONEY_FORMAT = "#,##0.0000"
"""Excel number format of money cells: all four stored places, so sub-cent differences show."""
DATETIME_FORMAT = "yyyy-mm-dd hh:mm:ss"
DATE_FORMAT = "yyyy-mm-dd"
_EPOCH = datetime(1899, 12, 30)
"""Day 0 of Excel's 1900 date system as it counts since March 1900."""
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
"""Characters XML 1.0 cannot carry (controls, lone surrogates, U+FFFE/U+FFFF); they are shown as U+FFFD."""
_ESCAPE_LIKE = re.compile(r"_(x[0-9A-Fa-f]{4}_)")
"""Text a spreadsheet would decode as an ``_xHHHH_`` character escape; its underscore is escaped itself."""
_CAREFUL = re.compile(f"[\ud800-\udfff\ufffe\uffff{HIDDEN.pattern[1:-1]}]|_x[0-9A-Fa-f]{{4}}_")
"""Text the short way of :func:`_column_cells` must not take: it is escaped, replaced or cut first."""
MAX_CELL_TEXT = 32_767
"""The most characters a spreadsheet cell holds; longer text is cut with a note saying how long it was."""
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_RELATIONS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


class Style(IntEnum):
    """The cell formats a workbook holds: their order is their index in styles.xml."""

    PLAIN = 0
    HEADER = 1
    MONEY = 2
    DATETIME = 3
    DATE = 4
    QUOTED_TEXT = 5
    TOTAL = 6
    TOTAL_MONEY = 7


_STYLES = f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<styleSheet xmlns="{_MAIN}"><numFmts count="3"><numFmt numFmtId="164" formatCode="{MONEY_FORMAT}"/>\
<numFmt numFmtId="165" formatCode="{DATETIME_FORMAT}"/><numFmt numFmtId="166" formatCode="{DATE_FORMAT}"/></numFmts>\
<fonts count="3"><font><sz val="11"/><name val="Calibri"/></font>\
<font><b/><sz val="11"/><color rgb="FFFFFFFF"/><name val="Calibri"/></font>\
<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>\
<fills count="3"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill>\
<fill><patternFill patternType="solid"><fgColor rgb="001F4E79"/></patternFill></fill></fills>\
<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>\
<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>\
<cellXfs count="8"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>\
<xf numFmtId="0" fontId="1" fillId="2" borderId="0" xfId="0" applyFont="1" applyFill="1" applyAlignment="1">\
<alignment vertical="center"/></xf>\
<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>\
<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>\
<xf numFmtId="166" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>\
<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0" quotePrefix="1"/>\
<xf numFmtId="0" fontId="2" fillId="0" borderId="0" xfId="0" applyFont="1"/>\
<xf numFmtId="164" fontId="2" fillId="0" borderId="0" xfId="0" applyFont="1" applyNumberFormat="1"/></cellXfs>\
<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>"""


def column_letter(index: int) -> str:
    """Excel's name of column ``index`` (1 → A, 27 → AA)."""
    letters = ""
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _serial(value: datetime | date) -> str:
    """A time or day as Excel's serial number (days since its epoch, the time as the fraction)."""
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        delta = value - _EPOCH
        return repr(delta.days + (delta.seconds + delta.microseconds / 1_000_000) / 86_400)
    return str((value - _EPOCH.date()).days)


def _text(reference: str, text: str, style: Style) -> str:
    text = visible(text)  # escaped first: the formula guard judges the text as it is shown
    if style is Style.PLAIN and looks_like_formula(text):
        style = Style.QUOTED_TEXT
    text = _ESCAPE_LIKE.sub(r"_x005F_\1", _ILLEGAL.sub("\ufffd", text))
    if len(text) > MAX_CELL_TEXT:
        note = f" … [cut: {len(text):,} characters in all]"
        text = text[:MAX_CELL_TEXT - len(note)] + note
    text = escape(text)
    return f'<c r="{reference}" s="{style:d}" t="inlineStr"><is><t xml:space="preserve">{text}</t></is></c>'


def _cell(reference: str, value: Any, style: Style) -> str:
    """One cell's XML (``value`` not None): money as its exact text, text inline, times as serial numbers."""
    kind = type(value)
    if style is Style.MONEY or style is Style.TOTAL_MONEY:
        shown = value if kind is str else money.exact_texts([value])[0]
        return f'<c r="{reference}" s="{style:d}"><v>{shown}</v></c>'
    if kind is str:
        return _text(reference, value, style)
    if kind is bool:
        return f'<c r="{reference}" s="{style:d}" t="b"><v>{int(value)}</v></c>'
    if kind is int or kind is float:
        return f'<c r="{reference}" s="{style:d}"><v>{value!r}</v></c>'
    if isinstance(value, (datetime, date)):
        if style is Style.PLAIN:
            style = Style.DATETIME if isinstance(value, datetime) else Style.DATE
        return f'<c r="{reference}" s="{style:d}"><v>{_serial(value)}</v></c>'
    return _text(reference, str(value), style)


def _column_cells(letter: str, numbers: list[str], values: Sequence[Any], style: Style) -> list[str]:
    """The cells of one column, row by row ("" where a value is None); money and plain text take a short way."""
    if style is Style.MONEY:
        return [f'<c r="{letter}{number}" s="{style:d}"><v>{value}</v></c>' if value is not None else ""
                for number, value in zip(numbers, values)]
    return ["" if value is None else
            f'<c r="{letter}{number}" t="inlineStr"><is><t xml:space="preserve">{escape(value)}</t></is></c>'
            if type(value) is str and len(value) <= MAX_CELL_TEXT and not looks_like_formula(value)
            and not _CAREFUL.search(value) else
            _cell(f"{letter}{number}", value, style) for number, value in zip(numbers, values)]


class Sheet:
    """One sheet being written: the header first, then rows, each turned into XML as it comes."""

    def __init__(self, stream, name: str, widths: Sequence[float], rows: int):
        self._stream, self.name, self.rows, self.columns = stream, name, 0, len(widths)
        self._letters = [column_letter(index) for index in range(1, len(widths) + 1)]
        cols = "".join(f'<col min="{i}" max="{i}" width="{w:g}" customWidth="1"/>' for i, w in enumerate(widths, 1))
        # the used range up front: without it a streaming reader (openpyxl's read-only mode, which the audit
        # command uses to read back the Verification sheet) parses every sheet whole to learn its size
        used = f"A1:{self._letters[-1]}{rows}" if rows and widths else "A1"
        self._write(f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="{_MAIN}" '
                    f'xmlns:r="{_RELATIONS}"><dimension ref="{used}"/><sheetViews><sheetView workbookViewId="0">'
                    '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
                    '<selection pane="bottomLeft" activeCell="A2" sqref="A2"/></sheetView></sheetViews>'
                    f'<sheetFormatPr defaultRowHeight="15"/>{f"<cols>{cols}</cols>" if cols else ""}<sheetData>')

    def _write(self, text: str) -> None:
        self._stream.write(text.encode("utf-8"))

    def row(self, cells: Iterable[tuple[Any, Style]]) -> None:
        """Append a row of (value, style); None leaves a cell empty. Money values are exact decimal text
        (:func:`vosbench.core.money.exact_texts`), or int minor units."""
        self.rows += 1
        number = self.rows
        self._write(f'<row r="{number}">' + "".join(
            _cell(f"{letter}{number}", value, style) for letter, (value, style) in zip(self._letters, cells)
            if value is not None) + "</row>")

    def rows_of(self, columns: Sequence[tuple[Sequence[Any], Style]]) -> None:
        """Append as many rows as the columns are long, given a column at a time: (values, style) each.

        Each column is turned into its cells in one pass — a large sheet's cost — and the rows are
        then joined from them; values are as for :meth:`row`.
        """
        count = len(columns[0][0]) if columns else 0
        numbers = [str(number) for number in range(self.rows + 1, self.rows + count + 1)]
        cells = [_column_cells(letter, numbers, values, style) for letter, (values, style) in zip(self._letters, columns)]
        starts = [f'<row r="{number}">' for number in numbers]
        for first in range(0, count, 2_000):
            last = first + 2_000
            self._write("".join(map("".join, zip(starts[first:last], *(column[first:last] for column in cells),
                                                 ["</row>"] * (min(last, count) - first)))))
        self.rows += count

    def abandon(self) -> None:
        self._stream.close()

    def close(self, filter_rows: int | None) -> str | None:
        """End the sheet; with ``filter_rows`` (header + data rows) the header gets a filter. Its range, if any."""
        self._write("</sheetData>")
        reference = None
        if filter_rows is not None and self.columns:
            reference = f"A1:{self._letters[-1]}{filter_rows}"
            self._write(f'<autoFilter ref="{reference}"/>')
        self._write('<pageMargins left="0.75" right="0.75" top="1" bottom="1" header="0.5" footer="0.5"/></worksheet>')
        self._stream.close()
        return reference


class Workbook:
    """An xlsx file written sheet by sheet: open a sheet, give it rows, close it; the book closes as its
    ``with`` block ends (or is removed, when the block fails)."""

    def __init__(self, path: Path, creator: str):
        self.path, self.creator = Path(path), creator
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._zip = zipfile.ZipFile(self.path, "w", zipfile.ZIP_DEFLATED, compresslevel=1)
        self._names: list[str] = []
        self._filters: list[str | None] = []
        self._open: Sheet | None = None

    def __enter__(self) -> Workbook:
        return self

    def __exit__(self, kind, error, trace) -> None:
        if error is None:
            self.close()
            return
        if self._open is not None:  # a failed sheet: no half-written file is left behind
            self._open.abandon()
        self._zip.close()
        self.path.unlink(missing_ok=True)

    def sheet(self, name: str, widths: Sequence[float], rows: int) -> Sheet:
        """Open the next sheet: one column per width, ``rows`` rows in all (its header and totals included)."""
        self._names.append(name)
        stream = self._zip.open(f"xl/worksheets/sheet{len(self._names)}.xml", "w", force_zip64=True)
        self._open = Sheet(stream, name, widths, rows)
        return self._open

    def closed(self, sheet: Sheet, filter_rows: int | None) -> None:
        self._filters.append(sheet.close(filter_rows))
        self._open = None

    def close(self) -> None:
        """Write the parts that list the sheets, their styles and the book's properties."""
        count = len(self._names)
        sheet_types = "".join(
            f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>' for i in range(1, count + 1))
        self._put("[Content_Types].xml", '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                  '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
                  '<Default Extension="xml" ContentType="application/xml"/>'
                  '<Override PartName="/xl/workbook.xml" ContentType="application/'
                  'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
                  '<Override PartName="/xl/styles.xml" ContentType="application/'
                  'vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
                  '<Override PartName="/docProps/core.xml" ContentType="application/'
                  f'vnd.openxmlformats-package.core-properties+xml"/>{sheet_types}</Types>')
        self._put("_rels/.rels", '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                  f'<Relationship Id="rId1" Type="{_RELATIONS}/officeDocument" Target="xl/workbook.xml"/>'
                  '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/'
                  'metadata/core-properties" Target="docProps/core.xml"/></Relationships>')
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        self._put("docProps/core.xml", '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/'
                  'metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/'
                  'dc/terms/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
                  f'<dc:creator>{escape(self.creator)}</dc:creator>'
                  f'<dcterms:created xsi:type="dcterms:W3CDTF">{now}</dcterms:created></cp:coreProperties>')
        sheets = "".join(f'<sheet name={quoteattr(name)} sheetId="{i}" r:id="rId{i}"/>'
                         for i, name in enumerate(self._names, 1))
        quoted = [name.replace("'", "''") for name in self._names]
        names = "".join(
            f'<definedName name="_xlnm._FilterDatabase" localSheetId="{i}" hidden="1">'
            f"{escape(chr(39) + quoted[i] + chr(39))}!{_absolute(reference)}</definedName>"
            for i, reference in enumerate(self._filters) if reference)
        self._put("xl/workbook.xml", f'<workbook xmlns="{_MAIN}" xmlns:r="{_RELATIONS}"><sheets>{sheets}</sheets>'
                  f'{f"<definedNames>{names}</definedNames>" if names else ""}</workbook>')
        links = "".join(f'<Relationship Id="rId{i}" Type="{_RELATIONS}/worksheet" Target="worksheets/sheet{i}.xml"/>'
                        for i in range(1, count + 1))
        self._put("xl/_rels/workbook.xml.rels",
                  '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                  f'{links}<Relationship Id="rId{count + 1}" Type="{_RELATIONS}/styles" Target="styles.xml"/>'
                  '</Relationships>')
        self._put("xl/styles.xml", _STYLES)
        self._zip.close()

    def _put(self, name: str, text: str) -> None:
        if not text.startswith("<?xml"):
            text = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n' + text
        self._zip.writestr(name, text)


def _absolute(reference: str) -> str:
    """``A1:F3`` → ``$A$1:$F$3``."""
    return ":".join(re.sub(r"([A-Z]+)(\d+)", r"$\1$\2", part) for part in reference.split(":"))
