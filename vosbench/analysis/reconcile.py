"""Month reconciliation: opening + payments − charges = expected closing, per account.

For every account with a balance or activity up to the end of the month, the expected
closing is compared with the balance the source system reported (the latest balance
snapshot in the month), and each difference is classified and explained in plain words:

- ``agrees``: the reported balance is the expected one;
- ``no snapshot``: no balance was reported in the month, nothing to compare;
- ``balance not updated``: payment records whose reported balance did not follow
  (balance-chain breaks, :mod:`vosbench.analysis.balance_continuity`) add up to the difference;
- ``carried over``: the same difference as at the end of the previous month;
- ``snapshot disagrees``: the chain holds and the previous month agreed, so only the
  reported month-end balance is off;
- ``unexplained``: none of the above.

Cost grows with the month, not with the ledger's history: in the ledger's own time zone
the kept month totals (``account_months``) and each account's previous closing are read.
A month cut in another time zone has no kept totals, so its payments, charges and
opening balance are summed from the raw records — slower, as it reads all history.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property, partial

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from vosbench.analysis import balance_continuity
from vosbench.core import money, periods
from vosbench.core.errors import VosbenchError
from vosbench.core.periods import Period
from vosbench.ledger import database, queries
from vosbench.ledger.month_totals import CHARGE_COLUMNS, PAYMENT_KIND_COLUMNS

AGREES = "agrees"
NO_SNAPSHOT = "no snapshot"
BALANCE_NOT_UPDATED = "balance not updated"
CARRIED_OVER = "carried over"
SNAPSHOT_DISAGREES = "snapshot disagrees"
UNEXPLAINED = "unexplained"
CLASSIFICATIONS = (AGREES, NO_SNAPSHOT, BALANCE_NOT_UPDATED, CARRIED_OVER, SNAPSHOT_DISAGREES, UNEXPLAINED)

MONEY_COLUMNS: tuple[str, ...] = (
    "opening", *PAYMENT_KIND_COLUMNS, "payments", *CHARGE_COLUMNS, "charges",
    "expected_closing", "recorded_closing", "difference",
)
"""Money columns of :attr:`Reconciliation.accounts`, in integer minor units."""

COLUMNS: tuple[str, ...] = (
    "account", "name", "kind", "parent", "currency", *MONEY_COLUMNS[:-2], "snapshot_as_of",
    "recorded_closing", "difference", "classification", "explanation",
)


class ReconcileError(VosbenchError, ValueError):
    """A reconciliation request that cannot be run; the message names the input and the fix."""


@dataclass
class Reconciliation:
    """One month reconciled: a row per account, and the balance-chain breaks of the month."""

    period: Period
    accounts: pd.DataFrame
    find_breaks: Callable[[], pd.DataFrame] = field(repr=False, compare=False)

    @cached_property
    def breaks(self) -> pd.DataFrame:
        """Every balance-chain break of the month in scope (:func:`vosbench.analysis.balance_continuity.breaks`).

        Worked out on first use: the classification needs the chain of the accounts that
        differ only, while the whole month's chain costs as much as the rest together.
        """
        return self.find_breaks()

    def totals(self, frame: pd.DataFrame | None = None) -> dict[str, dict[str, int]]:
        """The totals rows, one per currency: the sum of every money column (unreported balances left out).

        ``frame`` is the part of :attr:`accounts` being shown (default: all of it), so a
        listing of the differences totals only what it lists. Two currencies are never added.
        """
        frame = self.accounts if frame is None else frame
        return {str(currency): {column: int(group[column].sum()) for column in MONEY_COLUMNS}
                for currency, group in frame.groupby("currency", sort=True)}

    def differences(self) -> pd.DataFrame:
        """The accounts whose reported balance does not simply agree."""
        return self.accounts[self.accounts["classification"] != AGREES].reset_index(drop=True)


def reconcile(engine: Engine, month: str, *, timezone: str | None = None,
              account: str | None = None, subtree: str | None = None) -> Reconciliation:
    """Reconcile ``month`` ('YYYY-MM') cut in ``timezone`` (default: the ledger's).

    ``account`` limits it to one account; ``subtree`` to an agent or reseller and all
    the accounts below it, at any depth. Accounts are matched on account number.
    """
    with engine.connect() as connection:
        ledger_timezone = database.ledger_timezone(connection)
        period = periods.month(month, timezone or ledger_timezone)
        directory = queries.frame(connection, "accounts")
        account_ids = _scope(directory, account, subtree)
        if period.timezone == ledger_timezone:
            figures = _kept_figures(connection, period, account_ids)
        else:
            figures = _journal_figures(connection, period, ledger_timezone, directory, account_ids)
        reported = _reported(connection, period, ledger_timezone, account_ids)
        reported_before = _reported(connection, periods.previous(period), ledger_timezone, account_ids)
        table = _balances(directory, figures, reported, reported_before)
        differing = [int(i) for i in table.loc[table["difference"].fillna(0) != 0, "account_id"]]
        chain_breaks = balance_continuity.breaks(connection, period, account_ids=differing)
        since = _carried_since(connection, period, table) if period.timezone == ledger_timezone else {}
    return Reconciliation(period, _classify(table, chain_breaks, period, since),
                          partial(_month_breaks, engine, period, account_ids))


def _month_breaks(engine: Engine, period: Period, account_ids: list[int] | None) -> pd.DataFrame:
    with engine.connect() as connection:
        return balance_continuity.breaks(connection, period, account_ids=account_ids)


# --- which accounts --------------------------------------------------------------------------

def _scope(directory: pd.DataFrame, account: str | None, subtree: str | None) -> list[int] | None:
    """The account ids to reconcile, ``None`` for all."""
    if account and subtree:
        raise ReconcileError("give account= or subtree=, not both")
    wanted = account or subtree
    if not wanted:
        return None
    found = directory.loc[directory["account"] == wanted.strip(), "account_id"]
    if found.empty:
        raise ReconcileError(
            f"{'account' if account else 'subtree'} {wanted!r} is not in the ledger; give an account "
            "number as listed in accounts.csv (accounts are matched on number, never on name)")
    root = int(found.iloc[0])
    if account:
        return [root]
    children: dict[int, list[int]] = {}
    for child, parent in zip(directory["account_id"], directory["parent_id"]):
        if not pd.isna(parent):
            children.setdefault(int(parent), []).append(int(child))
    members, frontier = [root], [root]
    while frontier:
        frontier = [child for parent in frontier for child in children.get(parent, [])]
        members.extend(frontier)
    return members


# --- the month's figures per account ----------------------------------------------------------

def _kept_figures(connection: sa.Connection, period: Period, account_ids) -> pd.DataFrame:
    """Opening and month totals from ``account_months``: one row per account in scope."""
    figures = queries.frame(connection, "month_balances", {"month": period.label}, account_ids=account_ids)
    figures["active"] = figures["payment_count"].notna()
    return figures


def _journal_figures(connection: sa.Connection, period: Period, ledger_timezone: str,
                     directory: pd.DataFrame, account_ids) -> pd.DataFrame:
    """The same figures summed from raw records, for a period cut in another time zone."""
    first_day, last_day = periods.charge_days(period, ledger_timezone)
    paid = queries.frame(connection, "period_payments_by_kind",
                         {"start": period.start, "end": period.end}, account_ids=account_ids)
    charged = queries.frame(connection, "period_charges",
                            {"first_day": first_day, "last_day": last_day}, account_ids=account_ids)
    opened = queries.frame(connection, "opening_from_journal",
                           {"start": period.start, "first_day": first_day}, account_ids=account_ids)
    by_kind = (paid.set_index(["account_id", "kind"])["amount"].unstack(fill_value=0)
               .reindex(columns=list(PAYMENT_KIND_COLUMNS), fill_value=0))
    counts = paid.groupby("account_id")["payment_count"].sum().rename("payment_count")
    ids = directory["account_id"] if account_ids is None else pd.Series(account_ids, name="account_id")
    figures = (pd.DataFrame({"account_id": ids.astype("Int64")})
               .merge(opened, on="account_id", how="left")
               .merge(by_kind.join(counts).reset_index(), on="account_id", how="left")
               .merge(charged, on="account_id", how="left"))
    figures["active"] = figures["account_id"].isin(paid["account_id"]) | figures["account_id"].isin(
        charged["account_id"])
    return figures


def _reported(connection: sa.Connection, period: Period, ledger_timezone: str, account_ids) -> pd.DataFrame:
    """The latest balance reported in ``period`` per account, with what the ledger moved after it.

    ``moved_after`` = payments − charges between the report and the period's end, so the
    expected balance at the report is ``expected_closing − moved_after``.
    """
    _, last_charge_day = periods.charge_days(period, ledger_timezone)
    rows = queries.frame(
        connection, "period_snapshots",
        {"start": period.start, "end": period.end, "last_charge_day": last_charge_day},
        account_ids=account_ids, times={"as_of": sa.DateTime(), "day_before": sa.Date()})
    correction = balance_continuity.day_cut_correction(rows["as_of"], ledger_timezone, rows["charge_on_day"],
                                                  rows["day_before"], rows["charge_day_before"])
    charged_after = rows["charges_from_day"].astype("Int64").fillna(0) - correction
    moved_after = rows["payments_after"].astype("Int64").fillna(0) - charged_after
    early = rows["as_of"] < period.end
    return pd.DataFrame({"account_id": rows["account_id"], "as_of": rows["as_of"],
                         "balance": rows["balance"].astype("Int64"),
                         "moved_after": moved_after.where(early, 0).astype("Int64")})


def _balances(directory, figures, reported, reported_before) -> pd.DataFrame:
    """Join the figures and reports; compute expected closing, difference and last month's."""
    before = reported_before.rename(columns={"as_of": "previous_as_of", "balance": "previous_balance",
                                             "moved_after": "previous_moved_after"})
    table = (directory.merge(figures, on="account_id")
             .merge(reported, on="account_id", how="left")
             .merge(before, on="account_id", how="left"))
    table["has_history"] = table["opening"].notna()
    table = table[table["has_history"] | table["active"] | table["as_of"].notna()].copy()
    for column in ("opening", *PAYMENT_KIND_COLUMNS, *CHARGE_COLUMNS):
        table[column] = table[column].astype("Int64").fillna(0).astype("int64")
    table["payments"] = table[list(PAYMENT_KIND_COLUMNS)].sum(axis=1).astype("int64")
    table["charges"] = table[list(CHARGE_COLUMNS)].sum(axis=1).astype("int64")
    table["expected_closing"] = table["opening"] + table["payments"] - table["charges"]
    table["snapshot_as_of"] = table["as_of"]
    table["recorded_closing"] = table["balance"].astype("Int64")
    expected_at_report = table["expected_closing"].astype("Int64") - table["moved_after"]
    table["difference"] = (table["recorded_closing"] - expected_at_report).astype("Int64")
    # The expected balance at last month's end is this month's opening.
    expected_before = table["opening"].astype("Int64") - table["previous_moved_after"]
    table["previous_difference"] = (table["previous_balance"] - expected_before).astype("Int64")
    return table.sort_values("account").reset_index(drop=True)


# --- classification --------------------------------------------------------------------------

def _classify(table: pd.DataFrame, chain_breaks: pd.DataFrame, period: Period,
              since: dict[str, str]) -> pd.DataFrame:
    """Add ``classification`` and ``explanation`` and keep the contract's columns."""
    unreported = table["difference"].isna().to_numpy()
    agrees = (table["difference"] == 0).fillna(False).to_numpy(dtype=bool)
    reported_at = _reported_at(table["snapshot_as_of"], period)
    labels = [NO_SNAPSHOT if missing else AGREES for missing in unreported]
    texts = [f"no balance was reported for {period.label}, so the expected closing {_money(expected)} "
             "cannot be checked" if missing else f"the balance reported {at} equals opening + payments − charges"
             for missing, expected, at in zip(unreported, table["expected_closing"], reported_at)]
    relevant = _breaks_before_reports(table, chain_breaks)
    for position in (~unreported & ~agrees).nonzero()[0]:
        row = table.iloc[position]
        labels[position], texts[position] = _verdict(
            row, relevant.get(row["account"]), period, since.get(row["account"]))
    table["classification"] = pd.Series(labels, index=table.index, dtype="str")
    table["explanation"] = pd.Series(texts, index=table.index, dtype="str")
    return table[list(COLUMNS)]


def _breaks_before_reports(table: pd.DataFrame, chain_breaks: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Per account, the chain breaks up to its reported balance (later ones cannot show in it)."""
    if chain_breaks.empty:
        return {}
    reports = table[["account", "snapshot_as_of"]].dropna()
    joined = chain_breaks.merge(reports, on="account")
    joined = joined[joined["occurred_at"] <= joined["snapshot_as_of"]]
    return {account: rows for account, rows in joined.groupby("account")}


def _verdict(row: pd.Series, breaks: pd.DataFrame | None, period: Period, since: str | None) -> tuple[str, str]:
    """Classify and explain one reported balance that differs from the expected one."""
    at = _at(row["snapshot_as_of"], period)
    difference = int(row["difference"])
    previous_label = periods.previous(period).label
    previous = None if pd.isna(row["previous_difference"]) else int(row["previous_difference"])
    gaps = 0 if breaks is None else int(breaks["gap"].sum())
    if breaks is not None and gaps != 0 and gaps in (difference, difference - (previous or 0)):
        carried = "" if gaps == difference else (
            f", on top of {_money(previous)} carried over from the end of {previous_label}")
        listed = "; ".join(_describe_break(b, period) for b in breaks.itertuples(index=False))
        return BALANCE_NOT_UPDATED, (
            f"payment records whose reported balance did not follow them: {listed}. These gaps add "
            f"up to {_money(gaps)}, the difference{carried}")
    if previous == difference:
        lasting = f"; it has been the same since the end of {since}" if since and since < previous_label else ""
        return CARRIED_OVER, (
            f"the reported balance is off by {_money(difference)}, the same difference as at the end of "
            f"{previous_label}{lasting}: an earlier discrepancy carried forward, not new this month")
    if breaks is None and (previous == 0 or not row["has_history"]):
        before = f"{previous_label} agreed" if row["has_history"] else "the account is new"
        recorded = int(row["recorded_closing"])
        return SNAPSHOT_DISAGREES, (
            f"every reported balance_after follows the chain and {before}; only the balance reported "
            f"{at}, {_money(recorded)}, is off by {_money(difference)} from the expected "
            f"{_money(recorded - difference)}")
    chain = "no balance-chain break" if breaks is None else (
        f"balance-chain breaks adding up to {_money(gaps)}")
    last = "no balance reported" if previous is None else f"a difference of {_money(previous)}"
    return UNEXPLAINED, (f"the reported balance is off by {_money(difference)}; the month shows "
                         f"{chain} and the end of {previous_label} had {last}")


def _describe_break(broken, period: Period) -> str:
    return (f"payment {broken.payment_id} ({broken.kind} of {_money(broken.amount)} at "
            f"{_local(broken.occurred_at, period.timezone)}) left a reported balance of "
            f"{_money(broken.reported_balance_after)} instead of {_money(broken.expected_balance_after)} "
            f"(gap {_money(broken.gap)})")


def _money(minor) -> str:
    """Two places when exact at two, else all four, so no part of a difference is hidden."""
    minor = int(minor)
    return money.format_money(minor, 2 if minor % 100 == 0 else money.SCALE)


def _local(instant, timezone: str) -> str:
    return f"{periods.local_instant(pd.Timestamp(instant).to_pydatetime(), timezone):%Y-%m-%d %H:%M} {timezone}"


def _at(instant, period: Period) -> str:
    return f"at the end of {period.label}" if instant == period.end else f"at {_local(instant, period.timezone)}"


def _reported_at(instants: pd.Series, period: Period) -> list[str]:
    """:func:`_at` for a whole column of report instants at once (NaT rows: unused)."""
    texts = pd.Series(f"at the end of {period.label}", index=instants.index, dtype=object)
    early = instants.notna() & (instants != period.end)
    if early.any():
        local = instants[early].dt.tz_localize("UTC").dt.tz_convert(period.timezone)
        texts[early] = "at " + local.dt.strftime("%Y-%m-%d %H:%M") + f" {period.timezone}"
    return texts.tolist()


# --- how long a carried difference has lasted -----------------------------------------------

def _carried_since(connection: sa.Connection, period: Period, table: pd.DataFrame) -> dict[str, str]:
    """For differences equal to last month's: the first month-end of the unbroken run.

    Walks back through the kept month closings and month-end reports of those accounts
    only; a month-end without a report, or with another difference, ends the walk.
    """
    carried = table[(table["difference"].fillna(0) != 0)
                    & (table["difference"] == table["previous_difference"]).fillna(False)]
    if carried.empty:
        return {}
    ids = [int(account_id) for account_id in carried["account_id"]]
    closings = queries.frame(connection, "month_closings_before", {"month": period.label}, account_ids=ids)
    reports = queries.frame(connection, "reported_balances_before", {"before": period.start},
                            account_ids=ids, times={"as_of": sa.DateTime()})
    months_of: dict[int, list[tuple[str, int]]] = {}
    for row in closings.sort_values("month").itertuples(index=False):
        months_of.setdefault(int(row.account_id), []).append((row.month, int(row.closing)))
    reported_at = {(int(r.account_id), pd.Timestamp(r.as_of)): int(r.balance)
                   for r in reports.itertuples(index=False)}
    since = {}
    for row in carried.itertuples(index=False):
        account_id, history = int(row.account_id), months_of.get(int(row.account_id), [])
        month, earliest = periods.previous(period), None
        while history and month.label >= history[0][0]:
            reported = reported_at.get((account_id, pd.Timestamp(month.end)))
            closing = next((c for label, c in reversed(history) if label <= month.label), 0)
            if reported is None or reported - closing != int(row.difference):
                break
            earliest, month = month.label, periods.previous(month)
        if earliest is not None:
            since[row.account] = earliest
    return since
