"""How a table leaves vosbench for a person: xlsx, CSV, an HTML table in a notebook, PNG charts.

Frames carry money as int64 minor units; this module turns them into exact Decimals
(xlsx, CSV) or formatted text (HTML) at the very edge, so every output shows the
same numbers. Text that a spreadsheet would run as a formula (it begins with
``= + - @``, a tab or a carriage return) is always written as text, and characters
that hide or reorder text are shown as escapes (:mod:`vosbench.outputs.visible`) in
xlsx, CSV and HTML alike.
"""

from __future__ import annotations

import csv
import re
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

import pandas as pd

from vosbench import __version__
from vosbench.core import currencies, money, timeshow
from vosbench.outputs.totals import labelled as total_rows
from vosbench.outputs.totals import per_currency
from vosbench.outputs.visible import FORMULA_TRIGGERS, HIDDEN, looks_like_formula, visible, visible_value

# the cell formats are the streaming writer's; they are named here too
from vosbench.outputs.workbook import DATETIME_FORMAT as DATETIME_FORMAT
from vosbench.outputs.workbook import MONEY_FORMAT as MONEY_FORMAT
from vosbench.outputs.workbook import Style, Workbook

if TYPE_CHECKING:  # plotly is imported only by the callers that draw
    import plotly.graph_objects as go


_SHEET_NAME_BAD = re.compile(r"[\[\]:*?/\\]")


@dataclass(frozen=True)
class Table:
    """One section's table: what the notebook shows and what becomes one xlsx sheet.

    ``money`` names the columns holding int minor units; ``totals`` (per column: minor
    units for money, plain numbers such as counts otherwise) is a bold row under the data,
    or, keyed by currency, one bold row per currency: two currencies are never added.
    """

    name: str
    title: str
    frame: pd.DataFrame
    money: tuple[str, ...] = ()
    totals: Mapping[str, int] | Mapping[str, Mapping[str, int]] | None = None


# --- xlsx -----------------------------------------------------------------------------------

def _cell_value(value, is_money: bool):
    """The Python value of a cell: Decimal money, plain datetimes and numbers, None for missing."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if is_money:
        return money.to_decimal(int(value))
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if hasattr(value, "item") and not isinstance(value, (str, Decimal)):
        return value.item()  # numpy scalar -> Python int/bool
    return value


def _display_width(value, is_money: bool) -> int:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return 0
    if is_money:
        return len(money.format_money(int(value), 4)) + 1
    if isinstance(value, (datetime, pd.Timestamp)):
        return 19
    return len(str(value))


def sheet_name(name: str) -> str:
    """``name`` made acceptable to Excel (no ``[]:*?/\\``, at most 31 characters)."""
    return _SHEET_NAME_BAD.sub("-", name)[:31]


def _columns(frame: pd.DataFrame, is_money: list[bool]) -> list[tuple[list, Style]]:
    """Each column of ``frame`` as (values, style) for the sheet: money as its exact text (made a column at a time),
    other values as Python's own, missing ones None."""
    columns = []
    for index, flag in enumerate(is_money):
        values = frame.iloc[:, index]
        if flag:
            columns.append((_csv_column(values, True), Style.MONEY))
        elif isinstance(values.dtype, pd.StringDtype) or (
                pd.api.types.is_integer_dtype(values.dtype) and not values.hasnans):
            columns.append((values.astype(object).where(values.notna(), None).tolist(), Style.PLAIN))
        else:
            columns.append(([_cell_value(value, False) for value in values], Style.PLAIN))
    return columns


def zone_headed(table: Table, timezone: str) -> Table:
    """``table`` with each column of naive times (wall clock in ``timezone``) headed with the zone, as
    ``occurred_at (Asia/Dubai)``: a sheet's cell holds a time without its offset, so its heading says it."""
    frame = table.frame
    renamed = {column: timeshow.heading(str(column), timezone) for column in frame.columns
               if pd.api.types.is_datetime64_dtype(frame[column])}
    return replace(table, frame=frame.rename(columns=renamed)) if renamed else table


def write_xlsx(path: Path, tables: Sequence[Table]) -> Path:
    """Write one sheet per table to ``path`` (replacing it) and return the path.

    Rows stream into the file as they are made (:mod:`vosbench.outputs.workbook`), so a
    sheet of every account of a large operator costs seconds, not minutes.
    """
    with Workbook(Path(path), f"vosbench {__version__}") as book:
        for table in tables:
            frame = table.frame
            columns = list(frame.columns)
            is_money = [column in table.money for column in columns]
            sample = frame.head(500)
            widths = [min(max(max([len(str(column)) + 3, *(_display_width(v, flag) for v in sample[column])]) + 2, 8), 60)
                      for column, flag in zip(columns, is_money)]
            labelled = total_rows(table.totals) if columns else []
            sheet = book.sheet(sheet_name(table.name), widths, 1 + len(frame) + (1 + len(labelled) if labelled else 0))
            sheet.row((str(column), Style.HEADER) for column in columns)
            sheet.rows_of(_columns(frame, is_money))
            if labelled:
                sheet.row(())  # a blank row keeps the totals outside the filter range
            for label, totals in labelled:
                sheet.row([(label, Style.TOTAL)] + [
                    (totals.get(column), Style.TOTAL_MONEY if column in table.money else Style.TOTAL)
                    for column in columns[1:]])
            book.closed(sheet, len(frame) + 1)
    return Path(path)


# --- CSV ------------------------------------------------------------------------------------

def _csv_text(value, is_money: bool) -> str:
    kind = type(value)
    if not is_money and (kind is str or kind is Decimal or kind is int):  # most cells: no pandas check needed
        if kind is str:
            value = visible(value)
            return "'" + value if looks_like_formula(value) else value
        return str(value)
    value = _cell_value(value, is_money)
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    text = str(value)
    if isinstance(value, str):
        text = visible(text)
        if looks_like_formula(text):
            return "'" + text  # a spreadsheet opening the CSV shows the text instead of running it
    return text


def _csv_column(values: pd.Series, is_money: bool) -> list:
    """One column's CSV fields: money as exact text and whole numbers as they are (a column at a time), the rest
    cell by cell through :func:`_csv_text`."""
    if is_money:
        missing = values.isna().to_numpy()
        whole = values.where(~missing, 0).to_numpy(dtype=object if values.dtype == object else "int64")  # object: past int64
        return list(money.exact_texts(whole, missing))
    if pd.api.types.is_integer_dtype(values.dtype) and not values.hasnans:
        return values.tolist()
    if isinstance(values.dtype, pd.StringDtype):
        text = values.fillna("")
        hidden = text.str.contains(HIDDEN)
        if hidden.any():
            text = text.where(~hidden, text.map(visible))
        return text.where(~text.str.startswith(FORMULA_TRIGGERS), "'" + text).tolist()
    return [_csv_text(value, False) for value in values]


def write_csv(frame: pd.DataFrame, target: Path | TextIO, money_columns: Iterable[str] = ()) -> None:
    """Write ``frame`` as CSV: money (int minor units) as exact decimal text, formula-like text defused.

    ``target`` is a path (written as UTF-8) or an open text stream.
    """
    money_columns = set(money_columns)
    columns = list(frame.columns)
    fields = [_csv_column(frame.iloc[:, index], column in money_columns) for index, column in enumerate(columns)]

    def emit(stream: TextIO) -> None:
        writer = csv.writer(stream, lineterminator="\n")
        writer.writerow([_csv_text(str(column), False) for column in columns])
        writer.writerows(zip(*fields))

    if isinstance(target, (str, Path)):
        with open(target, "w", encoding="utf-8", newline="") as stream:
            emit(stream)
    else:
        emit(target)


# --- HTML tables for notebooks ---------------------------------------------------------------

_TABLE_STYLES = [
    {"selector": "caption", "props": "caption-side: top; text-align: left; font-weight: bold; "
                                     "font-size: 1.05em; padding: 4px 0;"},
    {"selector": "th", "props": "background: #1F4E79; color: white; padding: 4px 8px; text-align: left;"},
    {"selector": "td", "props": "padding: 3px 8px; border-bottom: 1px solid #ddd;"},
]


def styled(table: Table):
    """A pandas Styler of ``table``: money formatted from exact decimals, text escaped, stable ids."""
    frame = table.frame
    labelled = total_rows(table.totals) if len(frame.columns) else []
    if labelled:
        # a currency's totals row names its currency, so its amounts read in that currency's places
        codes = list(table.totals or {}) if per_currency(table.totals) and "currency" in frame.columns[1:] else []
        rows = [{**{column: totals.get(column) for column in frame.columns}, frame.columns[0]: label,
                 **({"currency": codes[index]} if codes else {})} for index, (label, totals) in enumerate(labelled)]
        # nullable integers, so whole-number columns left blank in the totals row stay whole; Python integers
        # where a total passes int64 (absurd amounts added up)
        wide = {column for _, totals in labelled for column, value in totals.items()
                if isinstance(value, int) and abs(value) > money.MAX_MINOR}
        frame = frame.astype({column: object if column in wide else "Int64" for column in frame.columns
                              if pd.api.types.is_integer_dtype(frame[column])})
        frame = pd.concat([frame, pd.DataFrame(rows, columns=frame.columns).astype(frame.dtypes.to_dict())],
                          ignore_index=True)
    money_columns = [column for column in table.money if column in frame.columns]
    if money_columns and "currency" in frame.columns:  # each amount with its own currency's places (yen: none)
        codes = frame["currency"].tolist()
        frame = frame.assign(**{column: [_money_text(value, code) for value, code in zip(frame[column], codes)]
                                for column in money_columns})
    # money from exact minor units; other fractions (scores, shares) read to two places
    ratios = {column: "{:.2f}" for column in frame.columns
              if column not in money_columns and pd.api.types.is_float_dtype(frame[column])}
    texts = {column: visible_value for column in frame.columns
             if column not in money_columns and column not in ratios and frame[column].dtype.kind in "OSUT"}
    styler = frame.style.format({**ratios, **texts, **{column: _money_text for column in money_columns}}, na_rep="",
                                escape="html")
    # headers read as words and may wrap, so wide tables fit the page
    styler = styler.format_index(lambda name: visible(str(name)).replace("_", " "), escape="html", axis=1)
    numbers = [column for column in frame.columns if column in money_columns or (
        pd.api.types.is_numeric_dtype(frame[column]) and not pd.api.types.is_bool_dtype(frame[column]))]
    styler = styler.set_properties(**{"text-align": "left"})
    instants = [column for column in frame.columns if pd.api.types.is_datetime64_any_dtype(frame[column])]
    if instants:
        styler = styler.set_properties(subset=instants, **{"white-space": "nowrap"})
    prose = [column for column in frame.columns if column not in numbers and frame[column].map(
        lambda value: isinstance(value, str) and len(value) > 60).any()]
    if prose:
        styler = styler.set_properties(subset=prose, **{"min-width": "24em"})
    if numbers:
        styler = styler.set_properties(subset=numbers, **{"text-align": "right",
                                                          "font-variant-numeric": "tabular-nums"})
    if labelled and len(frame):
        styler = styler.set_properties(subset=pd.IndexSlice[frame.index[-len(labelled):], :],
                                       **{"font-weight": "bold"})
    return (styler.hide(axis="index").set_caption(table.title).set_table_styles(_TABLE_STYLES)
            .set_uuid(re.sub(r"\W", "_", table.name)))


def _money_text(value, currency: object = None) -> str:
    """An amount in minor units as a table shows it: with ``currency``'s own places when it names one, else
    two or as many as the amount has; text already made (an amount shown in its currency) as it is."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    if isinstance(value, str):
        return value
    if isinstance(currency, str) and currency:
        return currencies.format_amount(int(value), currency)
    return money.format_money(int(value))


# --- PNG charts -----------------------------------------------------------------------------

def write_pngs(figures: Mapping[str, go.Figure], folder: Path, *, width: int = 1100,
               height: int = 550, formats: Sequence[str] = ("png",)) -> list[Path]:
    """Write each plotly figure as ``<folder>/<name>.<format>`` (png, svg, pdf); one Chromium serves them all.

    A figure that sets its own height keeps it; ``height`` applies to the others.
    """
    import kaleido
    from kaleido.errors import JavascriptError

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    kaleido.start_sync_server(silence_warnings=True)
    try:
        with warnings.catch_warnings():
            # plotly passes per-call options the shared server ignores; the size still applies
            warnings.filterwarnings("ignore", message="The kopts argument is ignored")
            for name, figure in figures.items():
                for fmt in formats:
                    path = folder / f"{name}.{fmt}"
                    try:
                        figure.write_image(path, width=width, height=figure.layout.height or height)
                    except JavascriptError:
                        # on a loaded machine Chromium's page at times runs the call before its script has loaded
                        # ("kaleido_scopes is not defined"): a fresh browser, once, then any error stands
                        kaleido.stop_sync_server(silence_warnings=True)
                        kaleido.start_sync_server(silence_warnings=True)
                        figure.write_image(path, width=width, height=figure.layout.height or height)
                    written.append(path)
    finally:
        kaleido.stop_sync_server(silence_warnings=True)
    return written
