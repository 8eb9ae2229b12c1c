"""Prior-period items: payments dated into a closed month that a sync brought after the close.

The closed month's figures stand; the money is posted in this month
(:mod:`vosbench.ledger.prior_period`). Each such payment is a finding of medium severity,
with the date the source gave it, so an auditor sees why this month holds money of an
earlier one and whether the closed month's audit missed it.
"""

from __future__ import annotations

import sqlalchemy as sa

from vosbench.controls.context import MonthData
from vosbench.controls.findings import Finding
from vosbench.ledger import queries


def prior_period_items(data: MonthData) -> list[Finding]:
    with data.engine.connect() as connection:
        items = queries.frame(connection, "controls_prior_period_items", {"month": data.month},
                              times={"occurred_at": sa.DateTime()})
    if items.empty:
        return []
    # the month's payments in scope: a reseller's audit names only its own subtree's items
    posted = data.payments.set_index("id")
    found = []
    for item in items.itertuples():
        if int(item.payment_id) not in posted.index:
            continue
        payment = posted.loc[int(item.payment_id)]
        found.append(Finding(
            "prior_period_item", "medium", data.month, (payment["account"],),
            f"{payment['kind']} #{int(item.payment_id)} of {data.money_text(payment['amount'], payment['currency'])} is "
            f"dated {data.time_text(item.occurred_at)}, "
            f"in {item.closed_month}, which was closed when the sync brought it; posted in {data.month} "
            "as a prior-period item", (int(item.payment_id),), payment["operator"], int(payment["amount"])))
    return found
