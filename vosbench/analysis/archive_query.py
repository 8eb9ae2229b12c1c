"""Payment records read back from a retention archive, with the query's filters applied.

The ledger no longer holds an archived month's records; ``vosbench query --archive PATH``
finds them in the archive's Parquet files, with the same :class:`PaymentFilter` and the
same columns as a query of the ledger (sub-accounts are followed through the accounts as
they were when the archive was written).
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pandas as pd

from vosbench.analysis.explore import ROW_COLUMNS
from vosbench.analysis.filters import PaymentFilter
from vosbench.core import periods
from vosbench.ledger import archive


def _subtree(accounts: pd.DataFrame, roots: tuple[str, ...]) -> set[int]:
    chosen = set(accounts.loc[accounts["account"].isin(roots), "id"])
    while True:
        below = set(accounts.loc[accounts["parent_id"].isin(chosen), "id"]) - chosen
        if not below:
            return chosen
        chosen |= below


def query(folder: Path, f: PaymentFilter) -> tuple[pd.DataFrame, str]:
    """The archived payments ``f`` selects, oldest first, and the time zone their days are cut in.

    ``occurred_at`` stays naive UTC: a wall-clock time of the hour the clocks go back names two instants.
    """
    manifest = archive.read_manifest(folder)
    zone = f.timezone or manifest["timezone"]
    payments = archive.read_table(folder, "payments").to_pandas()
    accounts = archive.read_table(folder, "accounts").to_pandas()
    keep = pd.Series(True, index=payments.index)
    if f.start is not None:
        keep &= payments["occurred_at"] >= periods.local_midnight(f.start, zone)
    if f.end is not None:
        keep &= payments["occurred_at"] < periods.local_midnight(f.end + timedelta(days=1), zone)
    if f.accounts:
        chosen = (_subtree(accounts, f.accounts) if f.include_sub_accounts
                  else set(accounts.loc[accounts["account"].isin(f.accounts), "id"]))
        keep &= payments["account_id"].isin(chosen)
    if f.currencies:
        keep &= payments["account_id"].isin(accounts.loc[accounts["currency"].isin(f.currencies), "id"])
    for column, wanted in (("kind", f.kinds), ("operator", f.operators), ("channel", f.channels),
                           ("method", f.methods)):
        if wanted:
            keep &= payments[column].isin([str(value) for value in wanted])
    if f.min_amount is not None:
        keep &= payments["amount"].abs() >= f.min_amount
    if f.max_amount is not None:
        keep &= payments["amount"].abs() <= f.max_amount
    if f.text:
        needle = f.text.casefold()
        keep &= (payments["reference"].str.casefold().str.contains(needle, regex=False)
                 | payments["memo"].str.casefold().str.contains(needle, regex=False))
    found = payments[keep].merge(accounts[["id", "account", "name"]].rename(columns={"id": "account_id"}),
                                 on="account_id", how="left")
    columns = [column for column in ROW_COLUMNS if column in found.columns]
    return found.sort_values(["occurred_at", "id"])[columns].reset_index(drop=True), zone
