"""Agent commission: what was paid against what the traffic and the configured rate say.

A commission paid in a month is for the previous month's traffic: the call fees of the
customers below the agent (for a reseller, below its agents), read from the kept month
totals, times the account's rate from ``commission_rates``, rounded half-to-even to the
minor unit. A payment off by more than the tolerance, a missing payment when one is
due, and a payment to an account with no configured rate are findings.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

from vosbench import periods, queries
from vosbench.controls.context import MonthData
from vosbench.controls.findings import Finding
from vosbench.money import format_money


def due(call_fees: int, rate: str) -> int:
    """``rate`` × ``call_fees`` in minor units, rounded half-to-even."""
    return int((Decimal(call_fees) * Decimal(rate)).to_integral_value(rounding=ROUND_HALF_EVEN))


def commission_mismatch(data: MonthData) -> list[Finding]:
    traffic_month = periods.previous(data.period).label
    with data.engine.connect() as connection:
        base = queries.frame(connection, "controls_commission_base", {"month": traffic_month})
    paid = data.payments[data.payments["kind"] == "commission"]
    paid_by_account = paid.groupby("account")
    tolerance = data.settings.commission_tolerance
    found = []
    for row in base.itertuples():
        records = paid_by_account.get_group(row.account) if row.account in paid_by_account.groups else paid.iloc[0:0]
        amount = int(records["amount"].sum())
        fees = int(row.call_fees)
        if row.rate is None:
            if amount:
                found.append(Finding(
                    "commission_mismatch", "low", data.month, (row.account,),
                    f"{row.account} was paid {format_money(amount)} commission but has no configured rate to "
                    "check it against; add its rate to commission_rates", tuple(records["id"]), "", amount))
            continue
        expected = due(fees, row.rate)
        if abs(amount - expected) <= tolerance:
            continue
        found.append(Finding(
            "commission_mismatch", "high", data.month, (row.account,),
            f"{row.account} was paid {format_money(amount, 4)} commission for {traffic_month}; its sub-accounts' "
            f"call fees {format_money(fees, 4)} × rate {row.rate} = {format_money(expected, 4)} "
            f"(difference {format_money(amount - expected, 4)})",
            tuple(records["id"]), ",".join(sorted(set(records["operator"]))), amount - expected))
    return found
