"""Duplicates: the same money entered twice.

Two records are duplicates when they credit the same account with the same amount
under the same reference as a person reads it (the same wire entered twice; an invisible
character, letter case or look-alike letters make no other reference: :func:`as_read`), or — with different
references — within a few minutes of each other when people keyed them in (the
manual channels). Portal, IVR, gateway and billing-engine records are left out of
the second rule: each carries the payment system's own id, proof of a separate
payment (customers do buy two 5.00 cards in a row). Reversals are corrections.
"""

from __future__ import annotations

import pandas as pd

from vosbench.controls.context import MonthData
from vosbench.controls.findings import Finding
from vosbench.controls.texts import as_read


def _describe(data: MonthData, group: pd.DataFrame) -> str:
    return "; ".join(f"#{row.id} at {data.time_text(row.occurred_at)} by {row.operator}" for row in group.itertuples())


def duplicates(data: MonthData) -> list[Finding]:
    frame = data.payments[data.payments["reverses_id"].isna() & (data.payments["amount"] > 0)]
    found: list[Finding] = []
    taken: set[int] = set()
    frame = frame.assign(read_as=as_read(frame["reference"]))
    referenced = frame[frame["read_as"] != ""]
    same_reference = referenced[referenced.duplicated(["account_id", "amount", "read_as"], keep=False)]
    for (account, amount, _), group in same_reference.groupby(["account", "amount", "read_as"], sort=True):
        taken.update(group["id"])
        written = sorted(set(group["reference"]))
        found.append(Finding(
            "duplicate", "high", data.month, (account,),
            f"{len(group)} records credit {account} with {data.money_text(amount, group['currency'].iloc[0])} under the "
            "same reference "
            f"{written[0]}" + (f" (written {', '.join(map(ascii, written))})" if len(written) > 1 else "")
            + f": {_describe(data, group)}; all of them raised the balance", tuple(group["id"]),
            ",".join(sorted(set(group["operator"]))), int(amount) * (len(group) - 1)))
    window = pd.Timedelta(minutes=data.settings.duplicate_window_minutes)
    people = frame[frame["channel"].isin(data.settings.manual_channels) & ~frame["id"].isin(taken)]
    people = people.sort_values(["account_id", "amount", "occurred_at", "id"])
    close = ((people["account_id"] == people["account_id"].shift()) & (people["amount"] == people["amount"].shift())
             & (people["occurred_at"] - people["occurred_at"].shift() <= window))
    cluster = (~close).cumsum()
    for _, group in people.groupby(cluster[close | close.shift(-1, fill_value=False)], sort=True):
        row = group.iloc[0]
        found.append(Finding(
            "duplicate", "medium", data.month, (row.account,),
            f"{len(group)} records credit {row.account} with {data.money_text(row.amount, row.currency)} within "
            f"{data.settings.duplicate_window_minutes} minutes under different references: {_describe(data, group)}",
            tuple(group["id"]), ",".join(sorted(set(group["operator"]))), int(row.amount) * (len(group) - 1)))
    return found
