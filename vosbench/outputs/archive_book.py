"""The people's copy of a retention archive: one workbook beside the Parquet files.

What the archive holds, as a person reads it: the manifest's counts and per-kind sums per
currency, every account's kept month totals of the archived months (their closings are
what later months open from) and, up to a spreadsheet's reach, the payment records
themselves. The Parquet files stay the archive of record; this workbook is for reading.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from vosbench.core.money import format_money
from vosbench.ledger import archive, tables
from vosbench.outputs.export import Table, write_xlsx

BOOK = "archive.xlsx"
RECORD_LIMIT = 200_000
"""Payments shown in the workbook at most; a larger archive is read with `vosbench query --archive`."""


def _summary(manifest: dict) -> pd.DataFrame:
    lines = [("archived before", manifest["before"]), ("months", ", ".join(manifest["months"])),
             ("time zone", manifest["timezone"]), ("archived by", manifest["archived_by"]),
             ("written at (UTC)", manifest["written_at"])]
    for name, held in manifest["tables"].items():
        lines.append((f"{name} rows", str(held["rows"])))
    for name, by_currency in manifest["sums"].items():
        for currency, figures in sorted(by_currency.items()):
            for figure, amount in sorted(figures.items()):
                shown = str(amount) if figure == "calls" else format_money(amount, 4)
                lines.append((f"{name} {figure} ({currency})", shown))
    return pd.DataFrame(lines, columns=["item", "value"])


def write(folder: Path) -> Path:
    """Write the workbook into the archive ``folder`` (its manifest and Parquet files already there)."""
    manifest = archive.read_manifest(folder)
    accounts = archive.read_table(folder, "accounts").to_pandas()[["id", "account", "name", "currency"]]
    totals = archive.read_table(folder, "account_months").to_pandas().merge(
        accounts.rename(columns={"id": "account_id"}), on="account_id", how="left")
    money = [*tables.MONTH_TOTAL_COLUMNS, "closing"]
    totals = totals[["account", "name", "currency", "month", *money, "payment_count"]]
    sheets = [Table("manifest", "What the archive holds", _summary(manifest)),
              Table("month_totals", "Month totals kept in the ledger", totals, money=tuple(money))]
    if manifest["tables"]["payments"]["rows"] <= RECORD_LIMIT:
        payments = archive.read_table(folder, "payments").to_pandas().merge(
            accounts.rename(columns={"id": "account_id"}), on="account_id", how="left")
        columns = ["id", "occurred_at", "account", "kind", "amount", "currency", "operator", "channel", "method",
                   "reference", "memo", "hash"]
        sheets.append(Table("payments", "Archived payment records (times UTC)", payments[columns],
                            money=("amount",)))
    return write_xlsx(Path(folder) / BOOK, sheets)
