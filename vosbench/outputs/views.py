"""Turning result frames into what a person reads: money as exact decimals, at the edge.

Frames inside vosbench carry money as int64 minor units; these helpers make a
display copy (Decimal values with four places) and print it as a table, CSV or JSON.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Mapping
from typing import TextIO

import pandas as pd

from vosbench.core import money, timeshow

NO_RECORDS = "no records match"
"""What a command prints when its table has no rows."""


def displayable(frame: pd.DataFrame, money_columns: Iterable[str]) -> pd.DataFrame:
    """A copy of ``frame`` as a person reads it: money as exact Decimals (None where missing), times by
    :mod:`vosbench.core.timeshow`'s rule (to the second; aware times labelled with their zone's offset)."""
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
                stream: TextIO | None = None, empty: str = NO_RECORDS) -> None:
    """Print ``frame`` as ``table`` (with totals rows), ``csv`` or ``json`` (money as strings).

    ``totals`` is one row (column → minor units) or, keyed by currency, one row per currency
    (``TOTAL USD``, ``TOTAL EUR``): amounts of two currencies are never added. A table with
    no rows prints ``empty`` instead of pandas' text; CSV still prints its header.
    """
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
                   "totals": ({currency: exact(row) for currency, row in (totals or {}).items()} if _per_currency(totals)
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
            stream.write(shown.astype(object).fillna("").to_string(index=False) + "\n")


def _per_currency(totals) -> bool:
    return bool(totals) and all(isinstance(row, Mapping) for row in totals.values())


def total_rows(totals) -> list[tuple[str, Mapping[str, int]]]:
    """The labelled totals rows of a printed table: ``TOTAL``, or ``TOTAL <currency>`` per currency."""
    from vosbench.outputs import export

    return [(label.upper(), row) for label, row in export.total_rows(totals)]


def records(frame: pd.DataFrame) -> list[dict]:
    """Rows as dicts for JSON, missing values as None."""
    return frame.astype(object).where(frame.notna(), None).to_dict(orient="records")
