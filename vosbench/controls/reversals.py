"""Reversals: what was reversed, by whom, how long after — and reversals of reversals.

Every reversal of the month is listed (they are few and each takes money back).
Severity: a reversal of a reversal is high (money moved three times), and so is one dated
before the record it takes back (back-dated: across a month's end it moves money into the
earlier month); a reversal by the operator who entered the original, or without a reason,
is medium (no second pair of eyes); any other is low.
"""

from __future__ import annotations

import pandas as pd
import sqlalchemy as sa

from vosbench.controls.context import MonthData
from vosbench.controls.findings import Finding
from vosbench.core.hidden_text import blank
from vosbench.ledger import queries


def _duration(delta: pd.Timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes < 120:
        return f"{minutes} minutes"
    if minutes < 48 * 60:
        return f"{minutes // 60} hours"
    return f"{minutes // 1440} days"


def reversals(data: MonthData) -> list[Finding]:
    made = data.payments[data.payments["reverses_id"].notna()]
    if made.empty:
        return []
    with data.engine.connect() as connection:
        originals = queries.frame(connection, "controls_reversed_originals",
                                  {"ids": [int(i) for i in made["reverses_id"]]}, times={"occurred_at": sa.DateTime()})
    originals = originals.set_index("id")
    found = []
    for row in made.itertuples():
        if int(row.reverses_id) not in originals.index:  # archived and purged: only the reversal is here
            found.append(Finding("reversal", "low", data.month, (row.account,),
                                 f"reversal #{row.id} by {row.operator} takes back #{int(row.reverses_id)}, "
                                 "a record of an archived month (see its archive)",
                                 (row.id, int(row.reverses_id)), row.operator, int(row.amount)))
            continue
        original = originals.loc[int(row.reverses_id)]
        same_maker = original["operator"].strip().lower() == row.operator.strip().lower()
        twice = pd.notna(original["reverses_id"])
        reason = "" if blank(row.reason) else row.reason.strip()
        gap = row.occurred_at - original["occurred_at"]
        earlier = gap < pd.Timedelta(0)
        severity = "high" if twice or earlier else "medium" if same_maker or not reason else "low"
        what = (f"reversal #{row.id} by {row.operator} takes back {original['kind']} #{int(row.reverses_id)} of "
                f"{data.money_text(original['amount'], row.currency)} ({original['reference'] or 'no reference'}) entered by "
                f"{original['operator']}, " + (f"yet is dated {_duration(-gap)} before it" if earlier else f"{_duration(gap)} later"))
        notes = [f"reason: {reason}" if reason else "no reason given"]
        if earlier:
            notes.append("a reversal dated before the record it takes back is back-dated")
        if twice:
            notes.append(f"#{int(row.reverses_id)} was itself a reversal of #{int(original['reverses_id'])}")
        if same_maker:
            notes.append("the operator reversed their own entry")
        found.append(Finding("reversal", severity, data.month, (row.account,), f"{what}; {'; '.join(notes)}",
                             (row.id, int(row.reverses_id)), row.operator, int(row.amount)))
    return found
