"""Turning result frames into what a person reads: money as exact decimals, at the edge.

Frames inside vosbench carry money as int64 minor units; these helpers make a
display copy (Decimal values with four places) and print it as a table, CSV or JSON;
tables and CSV show characters that hide or reorder text as escapes (:mod:`vosbench.outputs.visible`).
:func:`print_columns` prints the same from columns — numpy arrays, or the Python lists of a page
of rows (:func:`rows_as_columns`), which need no numpy either — for the commands that compute
without pandas and should not pay for loading it; :func:`column_records` gives their JSON records.
"""

from __future__ import annotations

import csv
import io
import json
import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, TextIO

from vosbench.core import money
from vosbench.outputs import totals as totals_rows
from vosbench.outputs.visible import FORMULA_TRIGGERS, HIDDEN, looks_like_formula, visible, visible_value

if TYPE_CHECKING:  # pandas is loaded by the frame helpers only
    import numpy as np
    import pandas as pd


NO_RECORDS = "no records match"
"""What a command prints when its table has no rows."""


def figures_frame(rows: Sequence[tuple], columns: Sequence[str], whole: Sequence[str], *,
                  nullable: bool = True) -> pd.DataFrame:
    """``rows`` as a frame whose ``whole`` columns (minor units, counts; None where missing) are exact.

    Never through a float, which pandas makes of whole numbers beside a None (and a float loses the
    last digits of an amount past 2**53): nullable Int64 (int64 when not ``nullable``: no None), or
    Python integers (dtype object) in a column holding a sum past int64 (absurd amounts added up).
    """
    import pandas as pd

    frame = pd.DataFrame(list(rows), columns=list(columns), dtype=object)
    for name in whole:
        try:
            frame[name] = frame[name].astype("Int64" if nullable else "int64")
        except OverflowError:
            frame[name] = frame[name].where(frame[name].notna(), None)
    return frame


def group_sums(frame: pd.DataFrame, keys: str | list[str], columns: Sequence[str]) -> pd.DataFrame:
    """``frame.groupby(keys)[columns].sum()``, exact: int64 columns, or Python integers where a sum passes int64.

    pandas' int64 sum wraps around past 2**63 without a word (two closings of 500 trillion add up
    to a negative). A column whose magnitudes add up within int64 cannot wrap and is summed as it
    is; the rare one that could is summed as Python integers (dtype object), kept so only where a
    sum does not fit int64.
    """
    import numpy as np
    import pandas as pd

    wide = [name for name in columns if frame[name].dtype == object
            or int(np.abs(frame[name].to_numpy()).max(initial=0)) * len(frame) > money.MAX_MINOR]
    sums = frame.astype(dict.fromkeys(wide, object)).groupby(keys, sort=True)[list(columns)].sum()
    for name in wide:
        exact = [int(value) for value in sums[name]]
        fits = all(abs(value) <= money.MAX_MINOR for value in exact)
        sums[name] = pd.Series(exact, index=sums.index, dtype="int64" if fits else object)
    return sums


def displayable(frame: pd.DataFrame, money_columns: Iterable[str]) -> pd.DataFrame:
    """A copy of ``frame`` as a person reads it: money as exact Decimals (None where missing), times by
    :mod:`vosbench.core.timeshow`'s rule (to the second; aware times labelled with their zone's offset)."""
    import pandas as pd

    from vosbench.core import timeshow

    shown = frame.copy()
    for column in money_columns:
        if column in shown.columns:
            missing = shown[column].isna().to_numpy()  # one pass, not a pandas call per value
            shown[column] = [None if absent else money.to_decimal(int(v))
                             for v, absent in zip(shown[column].to_numpy(dtype=object), missing)]
    for column in shown.columns:
        values = shown[column]
        if isinstance(values.dtype, pd.DatetimeTZDtype):
            shown[column] = [timeshow.shown(value) or None for value in values]
        elif pd.api.types.is_datetime64_dtype(values.dtype):
            shown[column] = [None if pd.isna(value) else value.strftime(timeshow.FORMAT) for value in values]
    return shown


def print_frame(frame: pd.DataFrame, money_columns: Iterable[str], fmt: str = "table", *,
                totals: Mapping[str, int] | Mapping[str, Mapping[str, int]] | None = None,
                stream: TextIO | None = None, empty: str = NO_RECORDS, cut: bool = False) -> None:
    """Print ``frame`` as ``table`` (with totals rows), ``csv`` or ``json`` (money as strings).

    ``totals`` is one row (column → minor units) or, keyed by currency, one row per currency
    (``TOTAL USD``, ``TOTAL EUR``): amounts of two currencies are never added. A table with
    no rows prints ``empty`` instead of pandas' text; CSV still prints its header. ``cut``: texts
    of records (references, memos) are cut to :data:`TABLE_CELL` in a table; without it every text
    is whole (a finding's detail, a command to paste).
    """
    import pandas as pd

    from vosbench.outputs import export

    stream = stream or sys.stdout
    money_columns = tuple(money_columns)
    if fmt == "csv":  # the CSV writer turns minor units into exact text a column at a time
        export.write_csv(displayable(frame, ()), stream, [column for column in money_columns if column in frame])
        return
    shown = displayable(frame, money_columns)
    if fmt == "json":
        def exact(row):
            return {column: str(money.to_decimal(value)) if column in money_columns else value
                    for column, value in row.items()}

        json.dump({"rows": records(shown),
                   "totals": ({currency: exact(row) for currency, row in (totals or {}).items()} if totals_rows.per_currency(totals)
                              else exact(totals or {}))},
                  stream, default=str, indent=2)
        stream.write("\n")
    elif shown.empty:
        stream.write(empty + "\n")
    else:
        first = shown.columns[0]
        extra = [{first: label, **{column: money.to_decimal(value) if column in money_columns else value
                                   for column, value in row.items() if column in shown}}
                 for label, row in total_rows(totals)]
        if extra:
            shown = pd.concat([shown, pd.DataFrame(extra)], ignore_index=True)
        with pd.option_context("display.max_rows", None, "display.max_columns", None, "display.width", 250):
            # object first: nullable integer columns cannot hold "" for their missing values
            cells = shown.astype(object).fillna("")
            cells.columns = [visible(str(column)) for column in cells.columns]
            shown_cell = (lambda value: table_cell(visible_value(value))) if cut else visible_value
            stream.write(cells.map(shown_cell).to_string(index=False) + "\n")


TABLE_CELL = 80
"""The widest cell of a terminal table of records (:func:`print_columns`, :func:`print_frame` with ``cut``): a
longer text (a memo pasted whole) is cut there with '…', so one record does not pad every row to its width; CSV and
JSON keep every text whole."""


def table_cell(value):
    """``value`` as a terminal table shows it: a text cut to :data:`TABLE_CELL` characters, the cut marked (any other
    value as it is)."""
    return value if not isinstance(value, str) or len(value) <= TABLE_CELL else value[:TABLE_CELL - 1] + "…"


def total_rows(totals) -> list[tuple[str, Mapping[str, int]]]:
    """The labelled totals rows of a printed table: ``TOTAL``, or ``TOTAL <currency>`` per currency."""
    return [(label.upper(), row) for label, row in totals_rows.labelled(totals)]


def records(frame: pd.DataFrame) -> list[dict]:
    """Rows as dicts for JSON, missing values as None."""
    return frame.astype(object).where(frame.notna(), None).to_dict(orient="records")


def print_columns(columns: Mapping[str, np.ndarray | list], money_columns: Iterable[str], fmt: str = "table", *,
                  missing: Mapping[str, np.ndarray] | None = None,
                  totals: Mapping[str, int] | Mapping[str, Mapping[str, int]] | None = None,
                  stream: TextIO | None = None, empty: str = NO_RECORDS) -> None:
    """:func:`print_frame` for columns (name → numpy array or list, in the order given), without pandas.

    Money columns are int64 minor units, times datetime64 (naive, shown to the second);
    ``missing`` marks, per array, the cells that hold no value (printed empty, JSON null); in a
    list, None does. The table, CSV and JSON read as :func:`print_frame` writes them.
    """
    stream = stream or sys.stdout
    money_columns = {name for name in money_columns if name in columns}
    names = list(columns)
    if fmt == "csv":  # a column at a time, then joined: many times faster than a csv writer's row at a time
        fields = [_csv_fields(columns[name], name in money_columns, (missing or {}).get(name)) for name in names]
        if len(fields) == 1:  # a row of one empty field is written "" (an empty line would be no row)
            fields = [[field or '""' for field in fields[0]]]
        stream.write(",".join(_csv_texts(names)) + "\n" + "".join(line + "\n" for line in map(",".join, zip(*fields))))
        return
    if fmt == "json":
        def exact(row):
            return {name: str(money.to_decimal(value)) if name in money_columns else value for name, value in row.items()}

        json.dump({"rows": column_records(columns, money_columns, missing=missing),
                   "totals": ({currency: exact(row) for currency, row in (totals or {}).items()} if totals_rows.per_currency(totals)
                              else exact(totals or {}))},
                  stream, indent=2)
        stream.write("\n")
        return
    if not len(next(iter(columns.values()), ())):
        stream.write(empty + "\n")
        return
    cells = {name: _cells(columns[name], name in money_columns, (missing or {}).get(name)) for name in names}
    table = [[("" if cell is None else table_cell(visible(str(cell)))) for cell in cells[name]] for name in names]
    labelled = total_rows(totals)
    for label, sums in labelled:
        for column, name in zip(table, names):
            total = sums.get(name)  # money as exact decimal text, other sums (a count) as they are
            column.append(label if name == names[0] else "" if total is None
                          else str(money.to_decimal(total)) if name in money_columns else str(total))
    # a column of whole numbers other than money, every cell filled, is set one place further right (but the
    # first), as pandas lays out an integer column: room for a sign
    signed = {name for name in names[1:] if name not in money_columns and all(name in sums for _, sums in labelled)
              and _whole_numbers(columns[name], (missing or {}).get(name))}
    widths = [max(len(name), *(len(cell) for cell in column)) + (name in signed) for name, column in zip(names, table)]
    stream.write(" ".join(name.rjust(width) for name, width in zip(names, widths)) + "\n")
    for row in zip(*table):
        stream.write(" ".join(cell.rjust(width) for cell, width in zip(row, widths)) + "\n")


def column_records(columns: Mapping[str, np.ndarray | list], money_columns: Iterable[str], *,
                   missing: Mapping[str, np.ndarray] | None = None) -> list[dict]:
    """Columns (as :func:`print_columns` takes them) as JSON records, one dict a row, as :func:`records` gives a
    frame's displayable copy: money as exact decimal text, times to the second, None where missing."""
    money_columns = set(money_columns)
    cells = [_cells(values, name in money_columns, (missing or {}).get(name)) for name, values in columns.items()]
    return [dict(zip(columns, row)) for row in zip(*cells)]


def rows_as_columns(names: Sequence[str], rows: Sequence[Sequence]) -> dict[str, list]:
    """Result rows (a page: few) as :func:`print_columns` takes them: a list of values per name, None where missing.

    Lists, not arrays: printing a page then loads no numpy.
    """
    return {name: list(values) for name, values in zip(names, zip(*rows) if rows else [()] * len(names))}


def _whole_numbers(values: np.ndarray | list, missing: np.ndarray | None) -> bool:
    """Whether a column holds a whole number in every cell (pandas lays such a column out as integers)."""
    if isinstance(values, list):
        return all(type(value) is int for value in values)
    return values.dtype.kind in "iu" and not (missing is not None and missing.any())


def _cells(values: np.ndarray | list, is_money: bool, missing: np.ndarray | None) -> list:
    """One column's cells as exact text (money), text to the second (times), or the values; None where missing."""
    if isinstance(values, list):  # Python values: money one amount at a time, the rest as it is
        return [None if value is None else str(money.to_decimal(value)) if is_money else value for value in values]
    import numpy as np

    if is_money:
        return list(money.exact_texts(values, missing))
    if np.issubdtype(values.dtype, np.datetime64):
        # to the second, as frames show them (timeshow.FORMAT)
        cells = [None if text == "NaT" else text.replace("T", " ") for text in np.datetime_as_string(values, unit="s").tolist()]
    else:
        cells = values.tolist()
    if missing is not None:
        cells = [None if absent else cell for cell, absent in zip(cells, missing.tolist())]
    return cells


def _csv_fields(values: np.ndarray | list, is_money: bool, missing: np.ndarray | None) -> list[str]:
    """One column's CSV fields, as :func:`print_frame` writes them: empty where missing; money, numbers and times as
    they are (never quoted, never a formula); text through :func:`_csv_texts`."""
    if isinstance(values, list):
        if is_money or all(value is None or type(value) is int for value in values):
            return ["" if cell is None else str(cell) for cell in _cells(values, is_money, None)]
        return _csv_texts(["" if value is None else str(value) for value in values])
    import numpy as np

    if is_money:
        texts = money.exact_texts(values)
    elif np.issubdtype(values.dtype, np.datetime64) or values.dtype != object:
        return ["" if cell is None else str(cell) for cell in _cells(values, False, missing)]
    else:
        texts = values.copy()
    if missing is not None:
        texts[missing] = ""
    if is_money:
        return texts.tolist()
    texts[texts == None] = ""  # noqa: E711 (elementwise, in numpy)
    return _csv_texts(list(map(str, texts)))


_QUOTED_BY_CSV = re.compile('[,"\r\n]')
"""Characters that may make the csv module quote a field (the delimiter, the quote, line ends)."""


def _csv_texts(texts: list[str]) -> list[str]:
    """Text fields as the csv module writes them, hidden characters escaped (:mod:`vosbench.outputs.visible`) and
    text a spreadsheet would run as a formula written as text ('…).

    Each distinct text is looked at once, and a column with nothing to defuse or quote
    (the usual case) is passed as it is; a field that needs quotes is quoted by :mod:`csv`
    itself, so the quoting is exactly csv's.
    """
    distinct = set(texts)
    # one text to search, each field after "ÿ": never hidden, and one byte a character keeps the search fast
    # (a field holding it only takes the slow way)
    joined = "\xff" + "\xff".join(distinct)
    formula_start = re.compile("\xff[" + re.escape("".join(FORMULA_TRIGGERS)) + "]")
    if not formula_start.search(joined) and not _QUOTED_BY_CSV.search(joined) and not HIDDEN.search(joined):
        return texts
    written = {}
    for text in distinct:
        field = visible(text)
        field = "'" + field if looks_like_formula(field) else field
        if _QUOTED_BY_CSV.search(field):
            line = io.StringIO()
            csv.writer(line, lineterminator="\n").writerow([field, ""])  # two fields: a lone empty field is quoted
            field = line.getvalue()[:-2]
        written[text] = field
    return [written[text] for text in texts]
