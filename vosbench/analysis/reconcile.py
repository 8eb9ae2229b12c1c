"""Month reconciliation: opening + payments − charges = expected closing, per account.

For every account with a balance or activity up to the end of the month, the expected
closing is compared with the balance the source system reported (the latest balance
snapshot in the month; a payment recorded at the report's very instant is after it, as the next
month's first payments are after a month-end report), and each difference is classified and explained
in plain words:

- ``agrees``: the reported balance is the expected one;
- ``no snapshot``: no balance was reported in the month, nothing to compare;
- ``balance not updated``: payment records whose reported balance did not follow
  (balance-chain breaks, :mod:`vosbench.analysis.balance_continuity`) add up to the difference;
- ``carried over``: the same difference as at the end of the previous month;
- ``snapshot disagrees``: the chain holds and the previous month agreed, so only the
  reported month-end balance is off;
- ``unexplained``: none of the above.

Cost grows with the month, not with the ledger's history: in the ledger's own time zone
the kept month totals (``account_months``) and each account's previous closing are read,
with the accounts' details, in one query. A month cut in another time zone has no kept
totals, so its payments, charges and opening balance are summed from the raw records —
slower, as it reads all history.

The computation reads whole columns into numpy int64 arrays (money stays exact integer
minor units; on SQLite every account's figures come packed in one row, which numpy splits,
:func:`vosbench.ledger.queries.packed`: a third less time than 50,000 rows through the driver)
and classifies every account at once; the rare account with a figure so large that int64
sums could wrap around is added apart with Python integers (:func:`_exact_sums`).
Only the accounts whose reported balance differs are explained one by one, from their balance chain. The result is a set
of columns (:class:`AccountRows`) that the command line prints as they are; the pandas
DataFrame of :attr:`Reconciliation.accounts` is made from them on first use, for the
notebooks and workbooks. pandas is loaded only then: a difference is explained from the
balance chain's records (:func:`vosbench.analysis.balance_continuity.break_records`) without it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property, partial
from typing import TYPE_CHECKING

import numpy as np
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from vosbench.analysis import day_cut, result_columns
from vosbench.core import money, periods, timeshow
from vosbench.core.errors import VosbenchError
from vosbench.core.periods import Period
from vosbench.ledger import account_history, database, queries, tables
from vosbench.ledger.month_totals import CHARGE_COLUMNS, PAYMENT_KIND_COLUMNS

if TYPE_CHECKING:
    import pandas as pd

    from vosbench.analysis.balance_continuity import Break

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

TEXT_COLUMNS = ("account", "name", "kind", "parent", "currency")

COLUMNS: tuple[str, ...] = (
    *TEXT_COLUMNS, *MONEY_COLUMNS[:-2], "snapshot_as_of",
    "recorded_closing", "difference", "classification", "explanation",
)

REPORTED_COLUMNS = ("snapshot_as_of", "recorded_closing", "difference")
"""The columns that hold a value only where a balance was reported (:attr:`AccountRows.reported`)."""


class ReconcileError(VosbenchError, ValueError):
    """A reconciliation request that cannot be run; the message names the input and the fix."""


@dataclass(frozen=True)
class AccountRows:
    """Reconciled accounts as columns: a numpy array per name of :data:`COLUMNS`, one row per account.

    Money is int64 minor units (Python integers, dtype object, in a column holding a result past
    int64); ``snapshot_as_of`` is datetime64 (naive UTC). Where no
    balance was reported (``reported`` False), the :data:`REPORTED_COLUMNS` hold no
    value (NaT, and 0 in the money columns) — they are missing, not zero.
    """

    columns: Mapping[str, np.ndarray]
    reported: np.ndarray

    def __len__(self) -> int:
        return len(self.reported)

    def where(self, keep: np.ndarray) -> AccountRows:
        """The rows where ``keep`` is true."""
        return AccountRows({name: values[keep] for name, values in self.columns.items()}, self.reported[keep])

    def differences(self) -> AccountRows:
        """The rows whose reported balance does not simply agree."""
        return self.where(self.columns["classification"] != AGREES)

    def missing(self) -> dict[str, np.ndarray]:
        """Column name → where that column holds no value (the reported columns where nothing was reported)."""
        return {name: ~self.reported for name in REPORTED_COLUMNS}

    def totals(self) -> dict[str, dict[str, int]]:
        """One totals row per currency: the sum of every money column (unreported balances left out)."""
        return _per_currency(self.columns["currency"], {name: self.columns[name] for name in MONEY_COLUMNS})

    def frame(self) -> pd.DataFrame:
        """The rows as a DataFrame: money int64, or nullable Int64 where it may be missing; text as str.

        A money column holding a figure past int64 (an account's sums of absurd amounts) holds
        Python integers (dtype object, None where missing) instead.
        """
        import pandas as pd

        data: dict[str, object] = {}
        for name in COLUMNS:
            values = self.columns[name]
            if name == "snapshot_as_of":
                data[name] = pd.Series(values)
            elif name in MONEY_COLUMNS and values.dtype == object:  # a figure past int64: Python integers
                shown = values.copy()
                if name in REPORTED_COLUMNS:
                    shown[~self.reported] = None
                data[name] = pd.Series(shown, dtype=object)
            elif name in REPORTED_COLUMNS:
                data[name] = pd.arrays.IntegerArray(values.astype(np.int64), ~self.reported)
            elif values.dtype == object:
                data[name] = pd.Series(values, dtype="str")
            else:
                data[name] = values
        return pd.DataFrame(data, columns=list(COLUMNS))


@dataclass
class Reconciliation:
    """One month reconciled: a row per account, and the balance-chain breaks of the month."""

    period: Period
    rows: AccountRows
    find_breaks: Callable[[], pd.DataFrame] = field(repr=False, compare=False)

    @cached_property
    def accounts(self) -> pd.DataFrame:
        """A row per account, in :data:`COLUMNS`, as a DataFrame (made from :attr:`rows` on first use)."""
        return self.rows.frame()

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
        if frame is None:
            return self.rows.totals()
        return _per_currency(frame["currency"].to_numpy(dtype=object),
                             {name: frame[name].fillna(0).to_numpy(dtype=object) for name in MONEY_COLUMNS})

    def differences(self) -> pd.DataFrame:
        """The accounts whose reported balance does not simply agree."""
        return self.rows.differences().frame()


def _per_currency(currency: np.ndarray, amounts: Mapping[str, np.ndarray]) -> dict[str, dict[str, int]]:
    """Sums of each money column per currency, currencies in order (missing amounts count as 0).

    Summed exactly (:func:`vosbench.core.money.exact_sum`): their sum over many accounts need not fit
    int64 (nor, rarely, an account's own figure), and numpy's int64 sum would wrap around without a word.
    """
    return {str(code): {name: money.exact_sum(values[currency == code]) for name, values in amounts.items()}
            for code in sorted(set(currency.tolist()))}


def reconcile(engine: Engine, month: str, *, timezone: str | None = None,
              account: str | None = None, subtree: str | None = None) -> Reconciliation:
    """Reconcile ``month`` ('YYYY-MM') cut in ``timezone`` (default: the ledger's).

    ``account`` limits it to one account; ``subtree`` to an agent or reseller and all
    the accounts below it, at any depth, as the tree stood at the month's end (an account
    that moved later is reconciled where it was then). Accounts are matched on account
    number; the parent column shows each account's parent at the month's end, the name
    its name now.
    """
    with engine.connect() as connection:
        ledger_timezone = database.ledger_timezone(connection)
        period = periods.month(month, timezone or ledger_timezone)
        tree = _period_tree(connection, period, subtree)
        account_ids = _scope(connection, tree, account, subtree)
        if period.timezone == ledger_timezone:
            figures = _kept_figures(connection, period, account_ids)
        else:
            figures = _journal_figures(connection, period, ledger_timezone, account_ids)
        if tree is not None:
            parents = tree.parent_numbers()
            figures["parent"] = np.array([parents.get(number, "") for number in figures["account"]], dtype=object)
        reported = _reported(connection, period, ledger_timezone, account_ids)
        reported_before = _reported(connection, periods.previous(period), ledger_timezone, account_ids)
        table = _balances(figures, reported, reported_before)
        rows = _classify(connection, table, period, kept=period.timezone == ledger_timezone)
    return Reconciliation(period, rows, partial(_month_breaks, engine, period, account_ids))


def _month_breaks(engine: Engine, period: Period, account_ids: list[int] | None) -> pd.DataFrame:
    from vosbench.analysis import balance_continuity

    with engine.connect() as connection:
        return balance_continuity.breaks(connection, period, account_ids=account_ids)


# --- which accounts --------------------------------------------------------------------------

def _period_tree(connection: sa.Connection, period: Period, subtree: str | None) -> account_history.TreeAsOf | None:
    """The account tree as it stood at the end of ``period``, when the reconciliation needs it.

    A subtree is the one that stood then, and the parent column shows each account's parent
    then, so that a closed month's reconciliation stays as it was closed when an account
    moves later. Read only for a subtree or when an account changed since the period ended:
    otherwise the tree now is the tree then, and the kept details already say it.
    """
    if subtree or account_history.changed_since(connection, period.end):
        return account_history.tree_as_of(connection, period.end)
    return None


def _scope(connection: sa.Connection, tree: account_history.TreeAsOf | None, account: str | None,
           subtree: str | None) -> list[int] | None:
    """The account ids to reconcile, ``None`` for all; a subtree from ``tree`` (the period's)."""
    if account and subtree:
        raise ReconcileError("give account= or subtree=, not both")
    wanted = (account or subtree or "").strip()
    if not wanted:
        return None
    found: list[int] | None
    if account:  # an account's number never changes, so the table itself answers
        account_id = connection.scalar(sa.select(tables.accounts.c.id).where(tables.accounts.c.account == wanted))
        found = None if account_id is None else [account_id]
    else:
        members = tree.members(wanted) if tree is not None else None
        found = None if members is None else [account_id for account_id, _ in members]
    if found is None:
        raise ReconcileError(
            f"{'account' if account else 'subtree'} {wanted!r} is not in the ledger; give an account "
            "number as listed in accounts.csv (accounts are matched on number, never on name)")
    return found


# --- the month's figures per account ----------------------------------------------------------

FIGURE_COLUMNS = ("opening", *PAYMENT_KIND_COLUMNS, *CHARGE_COLUMNS)


def _kept_figures(connection: sa.Connection, period: Period, account_ids) -> dict[str, np.ndarray]:
    """Accounts, opening and month totals from ``account_months``, in one query: a row per account in scope.

    Besides :data:`TEXT_COLUMNS`, ``account_id`` and :data:`FIGURE_COLUMNS` (0 where
    missing): ``has_history`` (a month before this one) and ``active`` (a month row now).
    Every account's figures are read packed where the database can (:func:`queries.packed`).
    """
    params = {"month": period.label}
    numbers = ("account_id", *FIGURE_COLUMNS, "payment_count")
    found = None if account_ids is not None else queries.packed(connection, "month_balances", params,
                                                                integers=numbers, texts=TEXT_COLUMNS)
    if found is None:
        rows = queries.columns(connection, "month_balances", params, account_ids=account_ids)
        found = {name: result_columns.whole(rows[name]) for name in numbers}
        found.update({name: (np.array(rows[name], dtype=object), np.zeros(len(rows[name]), dtype=bool))
                      for name in TEXT_COLUMNS})
    figures = {name: found[name][0] for name in (*TEXT_COLUMNS, "account_id", *FIGURE_COLUMNS)}
    figures["has_history"] = ~found["opening"][1]
    figures["active"] = ~found["payment_count"][1]
    return figures


def _journal_figures(connection: sa.Connection, period: Period, ledger_timezone: str,
                     account_ids) -> dict[str, np.ndarray]:
    """The same figures summed from raw records, for a period cut in another time zone."""
    first_day, last_day = periods.charge_days(period, ledger_timezone)
    directory = queries.columns(connection, "accounts")
    if account_ids is not None:
        wanted = set(account_ids)
        keep = [index for index, account_id in enumerate(directory["account_id"]) if account_id in wanted]
        directory = {name: [values[index] for index in keep] for name, values in directory.items()}
    position = {account_id: index for index, account_id in enumerate(directory["account_id"])}
    count = len(position)
    figures = {name: np.array(directory[name], dtype=object) for name in TEXT_COLUMNS}
    figures["account_id"] = np.array(directory["account_id"], dtype=np.int64)
    figures.update({name: np.zeros(count, dtype=np.int64) for name in FIGURE_COLUMNS})
    figures["has_history"] = np.zeros(count, dtype=bool)
    figures["active"] = np.zeros(count, dtype=bool)

    def place(found: dict[str, list], column: str, target: str) -> np.ndarray:
        at = np.array([position.get(account_id, -1) for account_id in found["account_id"]], dtype=np.int64)
        if f"{column}_high" in found:  # summed in two parts, so that no SUM passes 64 bits
            found = {column: [None if high is None else queries.joined_sum(high, low)
                              for high, low in zip(found[f"{column}_high"], found[f"{column}_low"])], **found}
        amounts, _ = result_columns.whole(found[column])
        if amounts.dtype == object:  # a sum past int64: this figure is kept as Python integers
            figures[target] = figures[target].astype(object)
        np.add.at(figures[target], at[at >= 0], amounts[at >= 0])
        return at[at >= 0]

    opened = queries.columns(connection, "opening_from_journal", {"start": period.start, "first_day": first_day},
                             account_ids=account_ids)
    figures["has_history"][place(opened, "opening", "opening")] = True
    paid = queries.columns(connection, "period_payments_by_kind", {"start": period.start, "end": period.end},
                           account_ids=account_ids)
    for kind in PAYMENT_KIND_COLUMNS:
        rows = [index for index, each in enumerate(paid["kind"]) if each == kind]
        figures["active"][place({name: [values[i] for i in rows] for name, values in paid.items()}, "amount", kind)] = True
    charged = queries.columns(connection, "period_charges", {"first_day": first_day, "last_day": last_day},
                              account_ids=account_ids)
    for column in CHARGE_COLUMNS:
        figures["active"][place(charged, column, column)] = True
    return figures


def _reported(connection: sa.Connection, period: Period, ledger_timezone: str, account_ids) -> dict[str, np.ndarray]:
    """The latest balance reported in ``period`` per account, with what the ledger moved after it.

    ``moved_after`` = payments − charges between the report and the period's end, so the
    expected balance at the report is ``expected_closing − moved_after``.
    """
    _, last_charge_day = periods.charge_days(period, ledger_timezone)
    rows = queries.columns(
        connection, "period_snapshots",
        {"start": period.start, "end": period.end, "last_charge_day": last_charge_day},
        account_ids=account_ids, times={"as_of": sa.DateTime(), "day_before": sa.Date()})
    shift, utc_day = day_cut.day_shift(rows["as_of"], ledger_timezone)
    correction = day_cut.charges_deducted_by(shift, utc_day, result_columns.whole(rows["charge_on_day"])[0],
                                             day_cut.days(rows["day_before"]), result_columns.whole(rows["charge_day_before"])[0])
    charged_after = result_columns.whole(rows["charges_from_day"])[0] - correction
    moved_after = result_columns.whole(rows["payments_after"])[0] - charged_after
    as_of = result_columns.instants(rows["as_of"])
    early = as_of < np.datetime64(period.end, "us")
    return {"account_id": np.array(rows["account_id"], dtype=np.int64), "as_of": as_of,
            "balance": result_columns.whole(rows["balance"])[0], "moved_after": np.where(early, moved_after, 0)}


_SAFE = money.MAX_MINOR // 16
"""Figures up to this size combine exactly in int64 however :func:`_sums` adds them (fewer than 16 terms each)."""

_ADDED = ("opening", *PAYMENT_KIND_COLUMNS, *CHARGE_COLUMNS, "recorded_closing", "moved_after",
          "previous_balance", "previous_moved_after")
"""The figures of an account that :func:`_sums` adds up."""


def _sums(figures: Mapping[str, np.ndarray], reported: np.ndarray, previous_reported: np.ndarray) -> dict[str, np.ndarray]:
    """Payments, charges, expected closing, difference and last month's difference of each account.

    The expected balance at the report is ``expected_closing − moved_after``, and at last
    month's end this month's opening. Works alike on int64 and on Python-int (object) arrays.
    """
    payments = sum((figures[name] for name in PAYMENT_KIND_COLUMNS[1:]), figures[PAYMENT_KIND_COLUMNS[0]])
    charges = sum((figures[name] for name in CHARGE_COLUMNS[1:]), figures[CHARGE_COLUMNS[0]])
    expected_closing = figures["opening"] + payments - charges
    return {"payments": payments, "charges": charges, "expected_closing": expected_closing,
            "difference": np.where(reported, figures["recorded_closing"] - (expected_closing - figures["moved_after"]), 0),
            "previous_difference": np.where(previous_reported, figures["previous_balance"]
                                            - (figures["opening"] - figures["previous_moved_after"]), 0)}


def _exact_sums(figures: Mapping[str, np.ndarray], reported: np.ndarray,
                previous_reported: np.ndarray) -> dict[str, np.ndarray]:
    """:func:`_sums`, exact for every amount the ledger holds.

    int64 adds every account's figures at once and cannot wrap around while they are within
    :data:`_SAFE`; only the accounts with a figure beyond it (an absurd adjustment, a month
    cut in another time zone summing past 64 bits) are added apart, as Python integers, and
    the other accounts' figures are the fast path's. A result column stays int64 when each
    result fits it, else it holds Python integers (dtype object).
    """
    large = np.zeros(len(reported), dtype=bool)
    for name in _ADDED:
        large |= (figures[name] > _SAFE) | (figures[name] < -_SAFE)
    if not large.any():
        return _sums(figures, reported, previous_reported)
    within = {name: np.where(large, 0, figures[name]).astype(np.int64) for name in _ADDED}
    sums = _sums(within, reported, previous_reported)
    apart = _sums({name: figures[name][large].astype(object) for name in _ADDED}, reported[large], previous_reported[large])
    for name, values in apart.items():
        if max(map(abs, values.tolist())) > money.MAX_MINOR:
            sums[name] = sums[name].astype(object)
        sums[name][large] = values
    return sums


def _balances(figures: dict[str, np.ndarray], reported: dict[str, np.ndarray],
              reported_before: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Join the figures and reports; compute expected closing, difference and last month's.

    Keeps the accounts with history, activity or a report, ordered by account number.
    """
    ids = figures["account_id"]
    order = np.argsort(ids, kind="stable")

    def at_accounts(report: dict[str, np.ndarray]) -> np.ndarray:
        """For each account, its row in ``report`` (-1: none)."""
        found = np.full(len(ids), -1, dtype=np.int64)
        slots = np.searchsorted(ids, report["account_id"], sorter=order)
        inside = slots < len(ids)
        hit = np.zeros(len(report["account_id"]), dtype=bool)
        hit[inside] = ids[order[slots[inside]]] == report["account_id"][inside]
        found[order[slots[hit]]] = np.nonzero(hit)[0]
        return found

    now, before = at_accounts(reported), at_accounts(reported_before)
    keep = figures["has_history"] | figures["active"] | (now >= 0)
    # accounts come ordered by number from the database; a stable sort in Python's order settles any collation
    numbers = figures["account"][keep].tolist()
    ordered = np.nonzero(keep)[0][sorted(range(len(numbers)), key=numbers.__getitem__)]
    table = {name: figures[name][ordered] for name in (*TEXT_COLUMNS, "account_id", "has_history", *FIGURE_COLUMNS)}
    now, before = now[ordered], before[ordered]
    table["reported"], table["previous_reported"] = now >= 0, before >= 0
    table["snapshot_as_of"] = _gather(reported["as_of"], now, np.datetime64("NaT", "us"))
    table["recorded_closing"] = _gather(reported["balance"], now, 0)
    added = {name: table[name] for name in ("opening", *PAYMENT_KIND_COLUMNS, *CHARGE_COLUMNS, "recorded_closing")}
    added["moved_after"] = _gather(reported["moved_after"], now, 0)
    added["previous_balance"] = _gather(reported_before["balance"], before, 0)
    added["previous_moved_after"] = _gather(reported_before["moved_after"], before, 0)
    table.update(_exact_sums(added, table["reported"], table["previous_reported"]))
    return table


def _gather(values: np.ndarray, at: np.ndarray, missing) -> np.ndarray:
    """``values[at]``, with ``missing`` where ``at`` is -1."""
    found = np.full(len(at), missing, dtype=values.dtype)
    found[at >= 0] = values[at[at >= 0]]
    return found


# --- classification --------------------------------------------------------------------------

def _classify(connection: sa.Connection, table: dict[str, np.ndarray], period: Period, *, kept: bool) -> AccountRows:
    """Classify every account at once; explain one by one only the reported balances that differ."""
    reported = table["reported"]
    differing = reported & (table["difference"] != 0)
    labels = np.where(reported, AGREES, NO_SNAPSHOT).astype(object)
    texts = np.full(len(reported), f"no balance was reported for {period.label}, so the expected closing "
                                   "cannot be checked", dtype=object)
    if reported.any():
        texts[reported] = [f"the balance reported {at} equals opening + payments − charges"
                           for at in _reported_at(table["snapshot_as_of"][reported], period)]
    if differing.any():
        positions = np.nonzero(differing)[0]
        relevant = _breaks_before_reports(connection, table, positions, period)
        carried = positions[table["previous_reported"][positions]
                            & (table["difference"][positions] == table["previous_difference"][positions])]
        since = _carried_since(connection, period, table, carried) if kept and len(carried) else {}
        for position in positions:
            account = table["account"][position]
            labels[position], texts[position] = _verdict(table, int(position), relevant.get(account), period,
                                                         since.get(account))
    columns = {name: table[name] for name in COLUMNS if name in table}
    columns["classification"], columns["explanation"] = labels, texts
    return AccountRows(columns, reported)


def _breaks_before_reports(connection: sa.Connection, table: dict[str, np.ndarray], positions: np.ndarray,
                           period: Period) -> dict[str, list[Break]]:
    """Per differing account, the chain breaks before its reported balance (later ones cannot show in it).

    A payment at the report's very instant is after the report, as :file:`queries/period_snapshots.sql`
    counts it: a month-end report is taken at the next month's first instant, whose payments are not in it.
    """
    from vosbench.analysis import balance_continuity

    reported_at = dict(zip(table["account"][positions].tolist(), table["snapshot_as_of"][positions]))
    relevant: dict[str, list[Break]] = {}
    for broken in balance_continuity.break_records(connection, period,
                                                   account_ids=table["account_id"][positions].tolist()):
        if np.datetime64(broken.occurred_at, "us") < reported_at.get(broken.account, np.datetime64("NaT", "us")):
            relevant.setdefault(broken.account, []).append(broken)
    return relevant


def _verdict(table: dict[str, np.ndarray], position: int, breaks: list[Break] | None, period: Period,
             since: str | None) -> tuple[str, str]:
    """Classify and explain one reported balance that differs from the expected one."""
    at = _at(table["snapshot_as_of"][position].item(), period)
    difference = int(table["difference"][position])
    previous_label = periods.previous(period).label
    previous = int(table["previous_difference"][position]) if table["previous_reported"][position] else None
    gaps = 0 if breaks is None else sum(broken.gap for broken in breaks)
    if breaks is not None and gaps != 0 and gaps in (difference, difference - (previous or 0)):
        carried = "" if gaps == difference else (
            f", on top of {_money(previous)} carried over from the end of {previous_label}")
        listed = "; ".join(_describe_break(broken, period) for broken in breaks)
        return BALANCE_NOT_UPDATED, (
            f"payment records whose reported balance did not follow them: {listed}. These gaps add "
            f"up to {_money(gaps)}, the difference{carried}")
    if previous == difference:
        lasting = f"; it has been the same since the end of {since}" if since and since < previous_label else ""
        return CARRIED_OVER, (
            f"the reported balance is off by {_money(difference)}, the same difference as at the end of "
            f"{previous_label}{lasting}: an earlier discrepancy carried forward, not new this month")
    has_history = bool(table["has_history"][position])
    if breaks is None and (previous == 0 or not has_history):
        before = f"{previous_label} agreed" if has_history else "the account is new"
        recorded = int(table["recorded_closing"][position])
        return SNAPSHOT_DISAGREES, (
            f"every reported balance_after follows the chain and {before}; only the balance reported "
            f"{at}, {_money(recorded)}, is off by {_money(difference)} from the expected "
            f"{_money(recorded - difference)}")
    chain = "no balance-chain break" if breaks is None else (
        f"balance-chain breaks adding up to {_money(gaps)}")
    last = "no balance reported" if previous is None else f"a difference of {_money(previous)}"
    return UNEXPLAINED, (f"the reported balance is off by {_money(difference)}; the month shows "
                         f"{chain} and the end of {previous_label} had {last}")


def _describe_break(broken: Break, period: Period) -> str:
    return (f"payment {broken.payment_id} ({broken.kind} of {_money(broken.amount)} at "
            f"{_local(broken.occurred_at, period.timezone)}) left a reported balance of "
            f"{_money(broken.reported_balance_after)} instead of {_money(broken.expected_balance_after)} "
            f"(gap {_money(broken.gap)})")


def _money(minor) -> str:
    """Two places when exact at two, else all four, so no part of a difference is hidden."""
    minor = int(minor)
    return money.format_money(minor, 2 if minor % 100 == 0 else money.SCALE)


def _local(instant: datetime, timezone: str) -> str:
    """'2026-11-01 01:45:00 -05:00 America/New_York': with its offset, since in the hour the clocks go back
    one wall-clock time is two instants."""
    return f"{timeshow.shown(instant, timezone)} {timezone}"


def _at(instant: datetime, period: Period) -> str:
    return f"at the end of {period.label}" if instant == period.end else f"at {_local(instant, period.timezone)}"


def _reported_at(instants: np.ndarray, period: Period) -> list[str]:
    """:func:`_at` for a whole column of report instants, each distinct instant worked out once."""
    distinct, index = np.unique(instants, return_inverse=True)
    texts = [_at(instant.item(), period) for instant in distinct]
    return [texts[i] for i in index.ravel()]


# --- how long a carried difference has lasted -----------------------------------------------

def _carried_since(connection: sa.Connection, period: Period, table: dict[str, np.ndarray],
                   carried: np.ndarray) -> dict[str, str]:
    """For differences equal to last month's (the rows ``carried``): the first month-end of the unbroken run.

    Walks back through the kept month closings and month-end reports of those accounts
    only; a month-end without a report, or with another difference, ends the walk.
    """
    ids = table["account_id"][carried].tolist()
    closings = queries.columns(connection, "month_closings_before", {"month": period.label}, account_ids=ids)
    reports = queries.columns(connection, "reported_balances_before", {"before": period.start},
                              account_ids=ids, times={"as_of": sa.DateTime()})
    months_of: dict[int, list[tuple[str, int]]] = {}
    for account_id, label, closing in sorted(zip(closings["account_id"], closings["month"], closings["closing"]),
                                             key=lambda row: row[1]):
        months_of.setdefault(int(account_id), []).append((label, int(closing)))
    reported_at = {(int(account_id), as_of): int(balance)
                   for account_id, as_of, balance in zip(reports["account_id"], reports["as_of"], reports["balance"])}
    since = {}
    for position in carried:
        account_id, history = int(table["account_id"][position]), months_of.get(int(table["account_id"][position]), [])
        difference = int(table["difference"][position])
        month, earliest = periods.previous(period), None
        while history and month.label >= history[0][0]:
            reported = reported_at.get((account_id, month.end))
            closing = next((c for label, c in reversed(history) if label <= month.label), 0)
            if reported is None or reported - closing != difference:
                break
            earliest, month = month.label, periods.previous(month)
        if earliest is not None:
            since[table["account"][position]] = earliest
    return since
