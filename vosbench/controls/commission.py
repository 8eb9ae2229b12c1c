"""Agent commission: what was paid against what the traffic and the configured rate say.

A commission paid in a month is for the previous month's traffic. The base is
recomputed from that traffic, read from the kept month totals, as the
``commission_base`` setting says:

- ``sub_account_fees`` (the default, and how the demo pays): the call fees of the
  customers below the agent (for a reseller, below its agents);
- ``agent_margin``: those fees less the agent fees VOS3000 charged the account itself
  (CDR ``agentfee``, its wholesale cost) — commission on the margin;
- ``agent_fees``: the agent fees charged to the account.

Base × the account's rate from ``commission_rates``, rounded half-to-even to the minor
unit, is what was due. A payment off by more than the tolerance, a missing payment
when one is due, and a payment to an account with no configured rate are findings.

Fees count in the base only in the account's own currency: a reseller whose subtree
holds customers in another currency cannot have what is due computed without an
exchange rate, so amounts in two currencies are never added; such an account gets a
low finding saying its commission was not checked, instead of a due figure.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

import pandas as pd

from vosbench.controls.context import MonthData
from vosbench.controls.findings import Finding
from vosbench.core import periods
from vosbench.ledger import queries

BASES = {
    "sub_account_fees": lambda sub_account_fees, agent_fees: sub_account_fees,
    "agent_margin": lambda sub_account_fees, agent_fees: sub_account_fees - agent_fees,
    "agent_fees": lambda sub_account_fees, agent_fees: agent_fees,
}
"""How each ``commission_base`` (settings.COMMISSION_BASES) combines sub-account fees and agent fees."""


def due(base: int, rate: str) -> int:
    """``rate`` × ``base`` in minor units, rounded half-to-even."""
    return int((Decimal(base) * Decimal(rate)).to_integral_value(rounding=ROUND_HALF_EVEN))


def _base_text(basis: str, sub_account_fees: int, agent_fees: int, currency: str) -> str:
    def shown(minor: int) -> str:
        return MonthData.money_text(minor, currency)

    if basis == "sub_account_fees":
        return f"its sub-accounts' call fees {shown(sub_account_fees)}"
    if basis == "agent_fees":
        return f"its agent fees {shown(agent_fees)}"
    return (f"its margin (sub-accounts' call fees {shown(sub_account_fees)} − its agent fees "
            f"{shown(agent_fees)} = {shown(sub_account_fees - agent_fees)})")


def commission_mismatch(data: MonthData) -> list[Finding]:
    traffic_month = periods.previous(data.period).label
    with data.engine.connect() as connection:
        base = queries.frame(connection, "controls_commission_base", {"month": traffic_month})
    paid = data.payments[data.payments["kind"] == "commission"]
    paid_by_account = paid.groupby("account")
    tolerance, basis = data.settings.commission_tolerance, data.settings.commission_base
    found = []
    for row in base.itertuples():
        records = paid_by_account.get_group(row.account) if row.account in paid_by_account.groups else paid.iloc[0:0]
        amount = int(records["amount"].sum())
        if pd.isna(row.rate):  # no configured rate (NULL reads as a missing value)
            if amount:
                found.append(Finding(
                    "commission_mismatch", "low", data.month, (row.account,),
                    f"{row.account} was paid {data.money_text(amount, row.currency)} commission but has no configured rate to "
                    "check it against; add its rate to commission_rates", tuple(records["id"]), "", amount))
            continue
        if int(row.other_currency_accounts):
            found.append(Finding(
                "commission_mismatch", "low", data.month, (row.account,),
                f"{row.account} ({row.currency}) was paid {data.money_text(amount, row.currency)} commission for {traffic_month}, "
                f"not checked: {int(row.other_currency_accounts)} of its sub-accounts in other currencies were charged "
                f"call fees then, which are never added to {row.currency}; check it against their traffic by hand",
                tuple(records["id"]), ",".join(sorted(set(records["operator"]))), amount))
            continue
        sub_account_fees, agent_fees = int(row.sub_account_fees), int(row.agent_fees)
        expected = max(0, due(BASES[basis](sub_account_fees, agent_fees), row.rate))
        if abs(amount - expected) <= tolerance:
            continue
        found.append(Finding(
            "commission_mismatch", "high", data.month, (row.account,),
            f"{row.account} was paid {data.money_text(amount, row.currency)} commission for {traffic_month}; "
            f"{_base_text(basis, sub_account_fees, agent_fees, row.currency)} × rate {row.rate} = "
            f"{data.money_text(expected, row.currency)} (difference {data.money_text(amount - expected, row.currency)})",
            tuple(records["id"]), ",".join(sorted(set(records["operator"]))), amount - expected))
    return found
