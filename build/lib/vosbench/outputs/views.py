"""Turning result frames into what a person reads: money as exact decimals, at the edge.

Frames inside vosbench carry money as int64 minor units; these helpers make a
display copy (Decimal values with four places) and print it as a table, CSV or JSON.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from typing import TextIO

import pandas as pd

from vosbench.core import money


def displayable(frame: pd.DataFrame, money_columns: Iterable[str]) -> pd.DataFrame:
    """A copy of ``frame`` whose money columns hold exact Decimals (None where missing)."""
    shown = frame.copy()
    for column in money_columns:
        if column in shown.columns:
            shown[column] = [None if pd.isna(v) else money.to_decimal(int(v)) for v in shown[column]]
    return shown


def print_frame(frame: pd.DataFrame, money_columns: Iterable[str], fmt: str = "table", *,
                totals: dict[str, int] | None = None, stream: TextIO | None = None) -> None:
    """Print ``frame`` as ``table`` (with a totals row), ``csv`` or ``json`` (money as strings)."""
    from vosbench.outputs import export

    stream = stream or sys.stdout
    money_columns = tuple(money_columns)
    shown = displayable(frame, money_columns)
    if fmt == "csv":
        export.write_csv(shown, stream)
    elif fmt == "json":
        json.dump({"rows": records(shown), "totals": {k: str(money.to_decimal(v)) for k, v in (totals or {}).items()}},
                  stream, default=str, indent=2)
        stream.write("\n")
    else:
        if totals:
            total_row = {column: money.to_decimal(totals[column]) for column in totals if column in shown}
            first = shown.columns[0]
            shown = pd.concat([shown, pd.DataFrame([{first: "TOTAL", **total_row}])], ignore_index=True)
        with pd.option_context("display.max_rows", None, "display.max_columns", None, "display.width", 250):
            # object first: nullable integer columns cannot hold "" for their missing values
            stream.write(shown.astype(object).fillna("").to_string(index=False) + "\n")


def records(frame: pd.DataFrame) -> list[dict]:
    """Rows as dicts for JSON, missing values as None."""
    return frame.astype(object).where(frame.notna(), None).to_dict(orient="records")
