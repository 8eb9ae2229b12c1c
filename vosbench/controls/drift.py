"""Balance drift: where an account's reported balance starts to disagree with its ledger.

For each account whose month-end reported balance differs from the balance its records
give (the reconciliation's differences), the balance chain names the first record whose
reported balance does not follow from the one before — where the divergence starts.
With no such record in the month, the divergence is in the snapshot itself (or carried
over from an earlier month, as the reconciliation explains).
"""

from __future__ import annotations

from vosbench.analysis import balance_continuity, reconcile
from vosbench.controls.context import MonthData
from vosbench.controls.findings import Finding

_SEVERITY = {reconcile.BALANCE_NOT_UPDATED: "high", reconcile.UNEXPLAINED: "high",
             reconcile.SNAPSHOT_DISAGREES: "medium", reconcile.CARRIED_OVER: "low"}


def balance_drift(data: MonthData) -> list[Finding]:
    result = data.reconciliation or reconcile.reconcile(data.engine, data.month)
    differing = result.accounts[result.accounts["classification"].isin(_SEVERITY)]
    if differing.empty:
        return []
    with data.engine.connect() as connection:
        breaks = balance_continuity.breaks(connection, result.period,
                                      account_ids=[int(i) for i in data.accounts.loc[
                                          data.accounts["account"].isin(differing["account"]), "account_id"]])
    first_break = breaks.sort_values(["occurred_at", "payment_id"]).groupby("account").head(1).set_index("account")
    found = []
    for row in differing.itertuples():
        difference, currency = int(row.difference), row.currency
        if row.account in first_break.index:
            step = first_break.loc[row.account]
            start = (f"the divergence starts at record #{int(step['payment_id'])} ({step['kind']} of "
                     f"{data.money_text(step['amount'], currency)}): reported balance after "
                     f"{data.money_text(step['reported_balance_after'], currency)}, expected "
                     f"{data.money_text(step['expected_balance_after'], currency)}")
            ids: tuple[int, ...] = (int(step["payment_id"]),)
        else:
            start = "no record of the month breaks the balance chain: " + row.explanation
            ids = ()
        found.append(Finding(
            "balance_drift", _SEVERITY[row.classification], data.month, (row.account,),
            f"{row.account}: reported month-end balance {data.money_text(row.recorded_closing, currency)} differs from the "
            f"ledger's {data.money_text(row.expected_closing, currency)} by {data.money_text(difference, currency)} "
            f"({row.classification}); {start}", ids, "", difference))
    return found
