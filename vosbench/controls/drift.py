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
from vosbench.core.money import format_money

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
        difference = int(row.difference)
        if row.account in first_break.index:
            step = first_break.loc[row.account]
            start = (f"the divergence starts at record #{int(step['payment_id'])} ({step['kind']} of "
                     f"{format_money(int(step['amount']))}): reported balance after "
                     f"{format_money(int(step['reported_balance_after']))}, expected "
                     f"{format_money(int(step['expected_balance_after']))}")
            ids: tuple[int, ...] = (int(step["payment_id"]),)
        else:
            start = "no record of the month breaks the balance chain: " + row.explanation
            ids = ()
        found.append(Finding(
            "balance_drift", _SEVERITY[row.classification], data.month, (row.account,),
            f"{row.account}: reported month-end balance {format_money(int(row.recorded_closing))} differs from the "
            f"ledger's {format_money(int(row.expected_closing))} by {format_money(difference)} "
            f"({row.classification}); {start}", ids, "", difference))
    return found
