"""The audit's record sections — movements, top accounts, large payments — from the month's records read once.

The controls read every record of the month with its account in one query
(:func:`vosbench.controls.context.month_payments`); the audit's record sections are
groupings and picks of those same rows. Computed here from that frame, the month is
read once instead of once per section (at 10M payments each section's query scanned
June's 411k records again: 5-7 s of every audit). The answers are those of the SQL
sections in :mod:`vosbench.outputs.audit` (``query_movements`` and its siblings, which
an audit scoped by a saved view and the finance dashboard still use): the same
columns, types and order, and exact sums (:func:`vosbench.outputs.views.group_sums`
sums as Python integers where int64 could wrap). ``tests/test_audit_reads.py`` compares
both on generated ledgers.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from vosbench.core import periods
from vosbench.outputs import views

MOVEMENT_KEYS = ("currency", "kind", "channel", "method")
MOVEMENT_COUNTS = ("records", "records_in", "money_in", "money_out", "net", "reversals", "reversed_amount")
"""The movement figures, in the order of ``audit._MOVEMENT_INTS``."""
TOP_ACCOUNT_KEYS = ("currency", "account", "name", "account_kind")
LARGE_PAYMENT_COLUMNS = ("payment_id", "occurred_at", "account", "name", "kind", "currency", "amount", "channel",
                         "method", "operator", "approved_by", "reference", "reverses", "reversed_by")


def _figures(records: pd.DataFrame) -> pd.DataFrame:
    """Per record, the movement figures it adds to its group: a record, in or out, a reversal and its amount."""
    amount = records["amount"].to_numpy(dtype=np.int64)
    reversal = records["reverses_id"].notna().to_numpy()
    positive = amount > 0
    return pd.DataFrame({
        "records": np.ones(len(amount), dtype=np.int64),
        "records_in": positive.astype(np.int64),
        "money_in": np.where(positive, amount, 0),
        "money_out": np.where(amount < 0, -amount, 0),  # -amount fits: the ledger's amounts are within ±(2**63 - 1)
        "net": amount,
        "reversals": reversal.astype(np.int64),
        "reversed_amount": np.where(reversal, amount, 0),
    }, index=records.index)


def _grouped(records: pd.DataFrame, keys: tuple[str, ...]) -> pd.DataFrame:
    """The movement figures summed per ``keys``, exactly, sorted by the keys; the keys as columns."""
    figures = pd.concat([records[list(keys)], _figures(records)], axis=1)
    return views.group_sums(figures, list(keys), MOVEMENT_COUNTS).reset_index()


def movements(records: pd.DataFrame) -> pd.DataFrame:
    """What ``audit.query_movements`` gives: the records' figures per currency, kind, channel and method."""
    frame = _grouped(records, MOVEMENT_KEYS)
    return frame.astype(dict.fromkeys(MOVEMENT_KEYS, "str"))


def top_accounts(records: pd.DataFrame, currencies: list[str], top_n: int, columns: tuple[str, ...],
                 idle: pd.DataFrame) -> pd.DataFrame:
    """What ``audit.query_top_accounts`` gives: per currency (in ``currencies``' order), the ``top_n`` accounts that
    received the most money, ties by account number; ``columns`` in that order. ``idle`` is the part of a currency
    without records (the SQL section's empty result, whose column types the parts put together keep)."""
    frame = _grouped(records, TOP_ACCOUNT_KEYS).rename(columns={"account_kind": "kind"})
    frame = frame.astype(dict.fromkeys(("currency", "account", "name", "kind"), "str"))
    # SQL's ORDER BY money_in DESC, account within each currency: a stable sort on the account, then on money in
    frame = frame.sort_values("account", kind="stable").sort_values("money_in", ascending=False, kind="stable")
    parts = [frame[frame["currency"] == currency].head(top_n) for currency in currencies]
    parts = [part if not part.empty else idle for part in parts]
    chosen = pd.concat(parts, ignore_index=True) if parts else frame.iloc[:0]
    return chosen[list(columns)]


def large_payments(records: pd.DataFrame, threshold: int, timezone: str) -> pd.DataFrame:
    """What ``audit.query_large_payments`` gives: records of at least ``threshold`` either way, largest first
    (ties by id), times as the wall clock of ``timezone``."""
    amount = records["amount"].to_numpy(dtype=np.int64)
    size = np.abs(amount)  # within int64: the ledger's amounts are within ±(2**63 - 1)
    picked = records[size >= threshold].assign(size=size[size >= threshold])
    picked = picked.sort_values("id", kind="stable").sort_values("size", ascending=False, kind="stable")
    picked = picked.reset_index(drop=True)
    frame = picked.rename(columns={"id": "payment_id", "reverses_id": "reverses", "reversed_by_id": "reversed_by"})
    # the SQL section's ids come through queries.result_frame: nullable Int64, as its links
    frame = frame.astype({"payment_id": "Int64"}).assign(occurred_at=periods.local_times(picked["occurred_at"], timezone))
    return frame[list(LARGE_PAYMENT_COLUMNS)]
