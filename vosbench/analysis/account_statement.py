"""An account statement: opening balance, every movement with a running balance, closing.

This is what support opens when a customer says "I paid and my balance didn't change":
each payment record and each day's charges in time order, the balance the ledger's
records give after each (``running_balance``), the balance the source system reported
(``reported_balance_after``) and where the two disagree.

Conventions (see the balance chain, :mod:`vosbench.analysis.balance_continuity`): a day's charges are
deducted at the end of that day in the ledger's time zone, so they appear at the local
midnight that starts the next day, before any payment of that same instant; accounts
open at zero. The opening balance is the kept closing of the month before the start
(``account_months``) plus the movements of that month up to the start, so the cost
follows the period, not the account's history.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from vosbench.analysis.filters import FilterError, account_problems
from vosbench.core import money, periods
from vosbench.ledger import database, queries, tables

LINE_COLUMNS = ("at", "what", "payment_id", "kind", "description", "amount", "running_balance",
                "reported_balance_after", "discrepancy", "instant")
"""Columns of :attr:`Statement.lines`; money in minor units, ``at`` naive local time, ``instant`` the same
moment in naive UTC (the one to show with its offset: in the hour the clocks go back, one ``at`` is two
instants)."""

DISCREPANCY_COLUMNS = ("at", "payment_id", "kind", "description", "amount", "running_balance",
                       "reported_balance_after", "discrepancy", "change")
"""Columns of :attr:`Statement.discrepancies`: ``change`` is how much the difference moved at that
record — non-zero where it began or grew, zero where an earlier difference carries on."""

MONEY_COLUMNS = ("amount", "running_balance", "reported_balance_after", "discrepancy", "change")

PAYMENT, CHARGES = "payment", "charges"


@dataclass(frozen=True)
class Statement:
    """One account over local days ``period_start`` .. ``period_end`` (inclusive) in ``timezone``.

    ``opening`` and ``closing`` are the balances the ledger's records give at the start
    and the end (minor units). ``reported_opening`` is the balance the source system
    showed at the start (its last reported balance_after before the start, less the
    charges since), None when it never reported one; ``discrepancies`` starts from the
    difference between the two.
    """

    account: str
    name: str
    period_start: date
    period_end: date
    timezone: str
    opening: int
    closing: int
    lines: pd.DataFrame
    discrepancies: pd.DataFrame
    reported_opening: int | None = None


def account_statement(engine: Engine, account: str, start: date, end: date, *,
                      timezone: str | None = None) -> Statement:
    """The statement of ``account`` (an account number) for local days ``start`` .. ``end``.

    Days are cut in ``timezone`` (default: the ledger's); charges always follow the
    ledger's own days.
    """
    if start > end:
        raise FilterError([f"start {start} is after end {end}; swap them or move one"])
    with engine.connect() as connection:
        ledger_timezone = database.ledger_timezone(connection)
        timezone = timezone or ledger_timezone
        periods.zone(timezone)
        found = connection.execute(sa.select(tables.current_accounts.c.id, tables.current_accounts.c.name)
                                   .where(tables.current_accounts.c.account == account)).first()
        if found is None:
            raise FilterError(account_problems(connection, [account]))
        account_id = found.id
        begins = periods.local_midnight(start, timezone)
        ends = periods.local_midnight(end + timedelta(days=1), timezone)
        start_day = periods.local_day(begins, ledger_timezone)
        opening = _opening(connection, account_id, begins, start_day, ledger_timezone)
        anchor = queries.frame(connection, "statement_reported_anchor", {"account_id": account_id, "start": begins},
                               times={"occurred_at": sa.DateTime()})
        anchor_day = periods.local_day(anchor["occurred_at"].iloc[0], ledger_timezone) if len(anchor) else start_day
        paid = queries.frame(connection, "statement_payments",
                             {"account_id": account_id, "start": begins, "end": ends},
                             times={"occurred_at": sa.DateTime()})
        charged = queries.frame(connection, "statement_charges",
                                {"account_id": account_id, "first_day": min(anchor_day, start_day),
                                 "end_day": periods.local_day(ends, ledger_timezone)},
                                times={"day": sa.Date()})
    charged["day"] = charged["day"].dt.date
    charged["total"] = _added(_added(charged["call_fee"], charged["agent_fee"]), charged["other_fee"])
    before = charged["day"] < start_day
    reported_opening = None
    if len(anchor):
        reported_opening = int(anchor["balance_after"].iloc[0]) - money.exact_sum(charged.loc[before, "total"])
    lines = _lines(paid, charged[~before].reset_index(drop=True), opening, ledger_timezone, timezone)
    closing = opening + money.exact_sum(lines["amount"])
    return Statement(account, found.name, start, end, timezone, opening, closing, lines,
                     _discrepancies(lines, opening, reported_opening), reported_opening)


def _opening(connection: sa.Connection, account_id: int, begins: datetime, start_day: date,
             ledger_timezone: str) -> int:
    """The balance at ``begins``: the previous month's kept closing plus this month's part before it."""
    month = periods.month(f"{start_day.year:04d}-{start_day.month:02d}", ledger_timezone)
    opened = queries.frame(connection, "statement_opening", {
        "account_id": account_id, "month": month.label, "month_start": month.start,
        "month_first_day": month.first_day, "start": begins, "start_day": start_day})
    row = opened.iloc[0]
    return (int(row["kept_closing"]) + queries.joined_sum(row["paid_high"], row["paid_low"])
            - queries.joined_sum(row["charged_high"], row["charged_low"]))


def _lines(paid: pd.DataFrame, charged: pd.DataFrame, opening: int, ledger_timezone: str,
           timezone: str) -> pd.DataFrame:
    """Payments and charge days in time order with the running balance and the reported one."""
    payments = pd.DataFrame({
        "instant": paid["occurred_at"], "order": 1, "what": PAYMENT,
        "payment_id": paid["id"].astype("Int64"), "kind": paid["kind"].astype(object),
        "description": [_describe_payment(row) for row in paid.itertuples(index=False)],
        "amount": paid["amount"].astype("Int64"),
        "reported_balance_after": paid["balance_after"].astype("Int64"),
    })
    charges = pd.DataFrame({
        "instant": pd.Series([periods.day_end(day, ledger_timezone) for day in charged["day"]],
                             dtype="datetime64[us]"),
        "order": 0, "what": CHARGES, "payment_id": pd.array([None] * len(charged), dtype="Int64"),
        "kind": None, "description": [_describe_charges(row) for row in charged.itertuples(index=False)],
        "amount": -charged["total"],
        "reported_balance_after": pd.array([None] * len(charged), dtype="Int64"),
    })
    # At one instant the day's charges come first: they were deducted as that day ended.
    lines = pd.concat([frame for frame in (charges, payments) if len(frame)] or [payments], ignore_index=True)
    lines["instant"] = pd.to_datetime(lines["instant"])
    lines = lines.sort_values(["instant", "order", "payment_id"], kind="stable").reset_index(drop=True)
    lines["amount"] = money.whole_series(lines["amount"].tolist(), nullable=True) if lines["amount"].dtype == object \
        else lines["amount"].astype("Int64")
    lines["running_balance"] = _running_balances(opening, lines["amount"])
    lines["reported_balance_after"] = lines["reported_balance_after"].astype("Int64")
    lines["discrepancy"] = _added(lines["reported_balance_after"], lines["running_balance"], sign=-1)
    lines["at"] = periods.local_times(lines["instant"], timezone)
    return lines[list(LINE_COLUMNS)]


def _discrepancies(lines: pd.DataFrame, opening: int, reported_opening: int | None) -> pd.DataFrame:
    """Payment lines whose reported balance disagrees with the running one, and how much it moved."""
    known = lines[lines["discrepancy"].notna()].copy()
    carried = 0 if reported_opening is None else reported_opening - opening
    before = money.whole_series([carried, *known["discrepancy"].tolist()][:len(known)], known.index, nullable=True)
    known["change"] = _added(known["discrepancy"], before, sign=-1)
    return known[known["discrepancy"] != 0][list(DISCREPANCY_COLUMNS)].reset_index(drop=True)


# --- exact arithmetic on money columns: int64 where a bound says it cannot wrap, else Python integers ---------

def _largest(values: pd.Series) -> int:
    """The largest magnitude among ``values`` (nullable whole numbers), 0 when none."""
    if values.dtype == object:
        return max((abs(int(value)) for value in values.tolist() if not pd.isna(value)), default=0)
    return int(np.abs(values.to_numpy(dtype=np.int64, na_value=0)).max(initial=0))  # one numpy pass, not pandas


def _added(first: pd.Series, second: pd.Series, *, sign: int = 1) -> pd.Series:
    """``first + second`` (``sign`` −1: ``first − second``) of nullable whole numbers, missing where either is.

    pandas' int64 wraps around past 2**63 without a word (a reported balance of +500 trillion against a running
    one of −500 trillion differed by a negative): while the two magnitudes add up within int64 it cannot, and
    pandas adds the columns as ever; else each pair is added as Python integers.
    """
    if _largest(first) + _largest(second) <= money.MAX_MINOR:
        return (first.astype("Int64") + second.astype("Int64") if sign > 0
                else first.astype("Int64") - second.astype("Int64"))
    return money.whole_series([None if pd.isna(a) or pd.isna(b) else int(a) + sign * int(b)
                               for a, b in zip(first.tolist(), second.tolist())], first.index, nullable=True)


def _running_balances(opening: int, amounts: pd.Series) -> pd.Series:
    """``opening`` and each line's amount added up in order: the balance after each line, exact at any size.

    While ``opening`` plus every line's magnitude fits int64 no partial sum can wrap, and pandas' cumsum runs as
    ever; else the balances are added up as Python integers.
    """
    if abs(opening) + _largest(amounts) * len(amounts) <= money.MAX_MINOR:
        return (opening + amounts.astype("Int64").cumsum()).astype("Int64")
    balances = itertools.accumulate((int(amount) for amount in amounts.tolist()), initial=opening)
    return money.whole_series(list(balances)[1:], amounts.index, nullable=True)


def _describe_payment(row) -> str:
    parts = [f"{row.channel}/{row.method}", f"by {row.operator}", row.reference, row.memo]
    if row.reason:
        parts.append(f"reason: {row.reason}")
    if not pd.isna(row.reverses_id):
        parts.append(f"reverses payment {int(row.reverses_id)}")
    return " · ".join(part for part in parts if part)


def _describe_charges(row) -> str:
    fees = [(label, int(value)) for label, value in
            (("call fees", row.call_fee), ("agent fees", row.agent_fee), ("other fees", row.other_fee)) if value]
    listed = ", ".join(f"{label} {money.format_money(value, 4)}" for label, value in fees) or "none"
    return f"charges of {row.day}: {listed} ({int(row.calls)} calls)"
