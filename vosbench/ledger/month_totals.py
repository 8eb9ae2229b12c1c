"""Per-account, per-month totals kept up to date with every append.

A month's reconciliation reads that month's row and the previous closing, so its
cost grows with the period, not with the ledger's history. The rows are derived
data: :func:`recompute` rebuilds them from the raw journal for ``vosbench verify``.
"""

from __future__ import annotations

import bisect
import itertools
import operator
from collections import defaultdict
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from vosbench.core import periods
from vosbench.core.money import MAX_MINOR
from vosbench.ledger import database, hashchain, listed_values, rollup_cells, tables

if TYPE_CHECKING:
    import numpy as np

PAYMENT_KIND_COLUMNS = tables.PAYMENT_KIND_COLUMNS
CHARGE_COLUMNS = ("call_fee", "agent_fee", "other_fee")
COUNT_COLUMNS = ("calls", "payment_count", *tables.KIND_COUNT_COLUMNS)
_KIND_COUNT = dict(zip(PAYMENT_KIND_COLUMNS, tables.KIND_COUNT_COLUMNS))
_SUMMED = (*PAYMENT_KIND_COLUMNS, *CHARGE_COLUMNS, *COUNT_COLUMNS)
_SLOT = {column: index for index, column in enumerate(_SUMMED)}  # a figure's place in a month's list
_KIND_SLOTS = {kind: (_SLOT[kind], _SLOT[_KIND_COUNT[kind]]) for kind in PAYMENT_KIND_COLUMNS}
_CHARGE_SLOTS = tuple(_SLOT[column] for column in (*CHARGE_COLUMNS, "calls"))
_payment_figures = operator.itemgetter(*(_SLOT[column] for column in PAYMENT_KIND_COLUMNS))
_charge_figures = operator.itemgetter(*(_SLOT[column] for column in CHARGE_COLUMNS))
_PAYMENT_SLOTS = [_SLOT[column] for column in PAYMENT_KIND_COLUMNS]
_CHARGE_SUM_SLOTS = [_SLOT[column] for column in CHARGE_COLUMNS]


class MonthKeyer:
    """Turns naive UTC instants into YYYY-MM months of the ledger's time zone.

    Month starts are converted to UTC once and looked up by bisection, which is much
    cheaper per record than a time-zone conversion.
    """

    def __init__(self, tz_name: str):
        zone = ZoneInfo(tz_name)
        self.starts: list[datetime] = []
        self.labels: list[str] = []
        for year in range(1970, 2101):
            for month in range(1, 13):
                local = datetime(year, month, 1, tzinfo=zone)
                self.starts.append(local.astimezone(UTC).replace(tzinfo=None))
                self.labels.append(f"{year:04d}-{month:02d}")

    def of_instant(self, naive_utc: datetime) -> str:
        index = bisect.bisect_right(self.starts, naive_utc) - 1
        if index < 0 or naive_utc >= self.starts[-1]:
            raise ValueError(f"{naive_utc.isoformat()} is outside the years 1970-2100 the ledger handles")
        return self.labels[index]

    @staticmethod
    def of_day(day: date) -> str:
        return day.isoformat()[:7]  # five times cheaper than strftime


class MonthDeltas:
    """Changes to apply to ``account_months``, collected while rows are appended.

    Payments are summed per (account, month, kind) and charges per (account, month) —
    one small tuple key per record — and spread over the months' figures once, in bulk by
    :meth:`columns` (what :func:`apply` keeps) or per account by :meth:`by_account`.
    """

    def __init__(self) -> None:
        self._payments: dict[tuple[int, str, str], list[int]] = {}
        self._charges: dict[tuple[int, str], list[int]] = {}

    def add_payments(self, account_ids: Iterable[int], months: Iterable[str], kinds: Iterable[str],
                     amounts: Iterable[int]) -> None:
        """Add payments given as columns (one value per payment in each)."""
        summed = self._payments
        for key, amount in zip(zip(account_ids, months, kinds), amounts):
            sums = summed.get(key)
            if sums is None:
                summed[key] = [amount, 1]
            else:
                sums[0] += amount
                sums[1] += 1

    def add_payment_sums(self, sums: dict[tuple, list[int]]) -> None:
        """Add payments already summed per (account id, month, kind): [amount, count] each."""
        summed = self._payments
        for key, (amount, count) in sums.items():
            found = summed.get(key)
            if found is None:
                summed[key] = [amount, count]
            else:
                found[0] += amount
                found[1] += count

    def add_charge_sums(self, sums: dict[tuple, list[int]]) -> None:
        """Add charges already summed per (account id, month): [call_fee, agent_fee, other_fee, calls] each."""
        for key, figures in sums.items():
            found = self._charges.get(key)
            if found is None:
                self._charges[key] = list(figures)
            else:
                for index, value in enumerate(figures):
                    found[index] += value

    def add_charge(self, account_id: int, month: str, call_fee: int, agent_fee: int,
                   other_fee: int, calls: int) -> None:
        sums = self._charges.setdefault((account_id, month), [0, 0, 0, 0])
        sums[0] += call_fee
        sums[1] += agent_fee
        sums[2] += other_fee
        sums[3] += calls

    def by_account(self) -> dict[int, dict[str, list[int]]]:
        """account id → month → the change of each figure, in ``_SUMMED`` order."""
        grouped: dict[int, dict[str, list[int]]] = defaultdict(dict)
        width, payment_count = len(_SUMMED), _SLOT["payment_count"]
        for (account_id, month, kind), (amount, count) in self._payments.items():
            months = grouped[account_id]
            figures = months.get(month) or months.setdefault(month, [0] * width)
            amount_slot, count_slot = _KIND_SLOTS[kind]
            figures[amount_slot] += amount
            figures[count_slot] += count
            figures[payment_count] += count
        for (account_id, month), charged in self._charges.items():
            months = grouped[account_id]
            figures = months.get(month) or months.setdefault(month, [0] * width)
            for slot, value in zip(_CHARGE_SLOTS, charged):
                figures[slot] += value
        return grouped

    def columns(self) -> tuple[np.ndarray, list[str], np.ndarray]:
        """The changes as columns, a row per (account, month) in that order: account ids, months, and each
        figure's change in ``_SUMMED`` order (a row each); what :meth:`by_account` holds, summed in bulk.

        int64 when no sum of the changes can pass it, else Python integers (as
        :func:`vosbench.ledger.coded_payments.exact` decides), so every sum is exact.
        """
        import numpy as np

        payments, charges = self._payments, self._charges
        paid = [*zip(*payments), *zip(*payments.values())] if payments else [()] * 5
        charged = [*zip(*charges), *zip(*charges.values())] if charges else [()] * 6
        months = sorted({*paid[1], *charged[1]})
        number = {month: index for index, month in enumerate(months)}
        sizes = (len(payments), len(charges))
        accounts = np.fromiter(itertools.chain(paid[0], charged[0]), np.int64, sum(sizes))
        month_codes = np.fromiter(map(number.__getitem__, itertools.chain(paid[1], charged[1])), np.int64, sum(sizes))
        cells, where = np.unique(accounts * len(months) + month_codes, return_inverse=True)
        where = where.reshape(-1)
        values = (*paid[3:], *charged[2:])
        exact = sum(sum(map(abs, column)) for column in values) < 2**63
        figures = np.zeros((len(cells), len(_SUMMED)), dtype=np.int64 if exact else object)
        paid_at, charged_at = where[:sizes[0]], where[sizes[0]:]
        slots = [_KIND_SLOTS[kind] for kind in paid[2]]
        amount_slots = np.fromiter((amount for amount, _ in slots), np.int64, sizes[0])
        count_slots = np.fromiter((count for _, count in slots), np.int64, sizes[0])
        amounts, counts = (np.array(column, dtype=figures.dtype) for column in (paid[3], paid[4]))
        figures[paid_at, amount_slots] = amounts  # a cell's kinds are distinct: each (cell, slot) once
        figures[paid_at, count_slots] = counts
        np.add.at(figures[:, _SLOT["payment_count"]], paid_at, counts)
        for slot, column in zip(_CHARGE_SLOTS, charged[2:]):
            figures[charged_at, slot] = np.array(column, dtype=figures.dtype)
        labels = np.array(months, dtype=object)[cells % len(months)].tolist() if months else []
        return cells // max(len(months), 1), labels, figures

    def moved(self) -> list[str]:
        """The figures this batch changes (the others keep their stored values)."""
        kinds = {kind for _, _, kind in self._payments}
        touched = {*kinds, *(_KIND_COUNT[kind] for kind in kinds)}
        if kinds:
            touched.add("payment_count")
        if self._charges:
            touched.update((*CHARGE_COLUMNS, "calls"))
        return [column for column in _SUMMED if column in touched]

    def add(self, other: MonthDeltas) -> None:
        """Add the changes ``other`` collected (a part of a file, to this file's)."""
        self.add_payment_sums(other._payments)
        self.add_charge_sums(other._charges)

    def cells(self) -> int:
        """How many sums are collected: what this object's memory grows with."""
        return len(self._payments) + len(self._charges)

    def taken(self) -> MonthDeltas:
        """The changes collected so far, as a new object; this one is left empty."""
        taken = MonthDeltas()
        taken._payments, taken._charges = self._payments, self._charges
        self._payments, self._charges = {}, {}
        return taken

    def __bool__(self) -> bool:
        return bool(self._payments or self._charges)


def net_change(figures: list[int]) -> int:
    """Payments minus charges of a month's figures (in ``_SUMMED`` order): how much it moves the balance."""
    return sum(_payment_figures(figures)) - sum(_charge_figures(figures))


def _with_closings(rows_by_month: dict[str, list[int]], opening: int = 0) -> list[dict]:
    closing = opening
    ordered = []
    for month in sorted(rows_by_month):
        figures = rows_by_month[month]
        closing += net_change(figures)
        ordered.append({**dict(zip(_SUMMED, figures)), "month": month, "closing": closing})
    return ordered


def apply(connection: sa.Connection, deltas: MonthDeltas) -> None:
    """Fold ``deltas`` into the stored totals of the affected accounts, closings included.

    A month's closing is the running sum of its account's net changes, so a delta moves
    the closing of its own month and of every later one by the same amount. The stored
    months of each affected account within the batch's first and last month are read, with
    the latest one before (the opening of a new month) and its latest of all (whether any
    month follows the batch's). A stored month of the batch gains its sums and the batch's
    net change up to it (upserted: :func:`rollup_cells.merge`), a new one is inserted opening
    from the closing of the latest stored month before it, and the stored months between one
    month of the batch and the next (or after its last) are shifted by the net change up to
    the first, by one ranged UPDATE each (:func:`_shift`). SQLite runs each of the three as one
    statement, where a statement per row pays for the savepoint the batch is kept under.
    Appending to the current month therefore touches one row per account, and back-filling
    an old month of a long history costs a range per account, not a rewrite of every later row.
    """
    import numpy as np

    accounts, months, figures = deltas.columns()
    if not len(months):
        return
    # Only the figures this batch moves are changed (a batch of charges leaves the payment sums alone).
    moved = deltas.moved()
    moved_slots = [_SLOT[column] for column in moved]
    # a change no BIGINT parameter holds is refused alike on every dialect (some would add it as a DECIMAL), in
    # words by vosbench.ledger.money_bounds: each month's own changes checked here at once, the running net
    # change (a month's balance moved) below
    if figures.min() < -MAX_MINOR or figures.max() > MAX_MINOR:
        _refuse_past_bound(deltas.by_account())
    net = figures[:, _PAYMENT_SLOTS].sum(axis=1) - figures[:, _CHARGE_SUM_SLOTS].sum(axis=1)
    total = np.cumsum(net)
    first_of_account = np.flatnonzero(np.r_[True, accounts[1:] != accounts[:-1]])
    size = np.diff(np.r_[first_of_account, len(accounts)])
    running = total - np.repeat(total[first_of_account] - net[first_of_account], size)  # net change up to each month
    if figures.dtype == object and max(map(abs, running.tolist())) > MAX_MINOR:
        _refuse_past_bound(deltas.by_account())
    last_of_account = np.r_[accounts[1:] != accounts[:-1], True]
    following = months[1:] + [_AFTER_ALL]
    following = [_AFTER_ALL if last else month for last, month in zip(last_of_account.tolist(), following)]
    # One read per chunk of accounts (the batch's rows are in account order) of what the batch needs of each
    present = np.zeros(len(months), dtype=bool)
    opening = np.zeros(len(months), dtype=figures.dtype)
    shifted = np.zeros(len(months), dtype=bool)
    bounds, span = [*first_of_account.tolist(), len(months)], (min(months), max(months))
    for start in range(0, len(first_of_account), STORED_CHUNK):
        rows = slice(bounds[start], bounds[min(start + STORED_CHUNK, len(first_of_account))])
        present[rows], opening[rows], shifted[rows] = _against_stored(
            connection, span, accounts[rows], months[rows], following[rows], running[rows])
    kept, new, moving = np.flatnonzero(present), np.flatnonzero(~present), np.flatnonzero(shifted)
    changed = {(account_id, month): [*sums, change] for account_id, month, sums, change
               in _rows(accounts, months, figures[:, moved_slots], kept, running)}
    # a new month opens from the closing before it, added in Python integers: past 64 bits the insert is refused
    # (and worded), not wrapped
    inserts = [(account_id, month, *sums, closing + change) for account_id, month, sums, closing, change
               in _rows(accounts, months, figures, new, opening, running)]
    shifts = list(zip(accounts[moving].tolist(), [months[row] for row in moving.tolist()],
                      [following[row] for row in moving.tolist()], running[moving].tolist()))
    table = tables.account_months
    rollup_cells.merge(connection, table, ("account_id", "month"), (*moved, "closing"), changed)
    database.insert_many(connection, table.insert(), inserts, ("account_id", "month", *_SUMMED, "closing"))
    _shift(connection, shifts)


ROWS_AT_ONCE = 10_000
"""Rows of a batch's months turned into Python values at once (:func:`_rows`)."""


def _rows(accounts: np.ndarray, months: list[str], figures: np.ndarray, chosen: np.ndarray,
          *values: np.ndarray) -> Iterator[tuple]:
    """(account id, month, its ``figures`` as a list, and its value of each of ``values``) of each ``chosen``
    row, as Python integers, made :data:`ROWS_AT_ONCE` at a time: the lists of the whole of a batch of 200,000
    months at once took 40 MiB more than the rows themselves."""
    for start in range(0, len(chosen), ROWS_AT_ONCE):
        rows = chosen[start:start + ROWS_AT_ONCE]
        yield from zip(accounts[rows].tolist(), [months[row] for row in rows.tolist()], figures[rows].tolist(),
                       *(value[rows].tolist() for value in values))


def _against_stored(connection: sa.Connection, span: tuple[str, str], accounts: np.ndarray, months: list[str],
                    following: list[str], running: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Of each month of a batch (``accounts``' ``months``, in that order, the batch's months spanning ``span``):
    whether it is stored, the closing it opens from if not (the latest stored one before it, else 0), and whether
    stored months lie between it and the account's ``following`` month of the batch (their closings shift by its
    ``running`` net change, when there is one).

    Reads each account's stored months from the batch's first to its last, the latest one
    before and the latest of all, not every month of its history: a batch of a few months in
    a long history reads a few rows per account.
    """
    import numpy as np

    stored_accounts, stored_months, stored_closings = [], [], []
    for account_id, month, closing in _read_stored_months(connection, *span, np.unique(accounts).tolist()):
        stored_accounts.append(account_id)
        stored_months.append(month)
        stored_closings.append(closing)
    if not stored_accounts:
        return (np.zeros(len(months), dtype=bool), np.zeros(len(months), dtype=running.dtype),
                np.zeros(len(months), dtype=bool))
    # every month as one number that sorts as (account, month) does, over the batch's and the stored ones' labels
    labels = sorted({*months, *stored_months})
    number = {label: index for index, label in enumerate(labels)}

    def keys(account_ids, month_labels) -> np.ndarray:
        return (np.asarray(account_ids, dtype=np.int64) * len(labels)
                + np.fromiter(map(number.__getitem__, month_labels), np.int64, len(month_labels)))

    stored, batch = keys(stored_accounts, stored_months), keys(accounts, months)
    later = np.searchsorted(stored, batch, side="right")  # the first stored month after each
    before, after = np.maximum(later - 1, 0), np.minimum(later, len(stored) - 1)
    stored_of = np.asarray(stored_accounts, dtype=np.int64)
    same_before = (later > 0) & (stored_of[before] == accounts)
    opening = np.where(same_before, np.array(stored_closings, dtype=running.dtype)[before], 0)
    shifted = ((later < len(stored)) & (stored_of[after] == accounts) & (running != 0)
               & (np.array(stored_months, dtype=object)[after] < np.array(following, dtype=object)))
    return same_before & (stored[before] == batch), opening, shifted


def _refuse_past_bound(by_account: dict[int, dict[str, list[int]]]) -> None:
    """Raise OverflowError naming the first account and month (in :func:`apply`'s order) whose change, or the
    net change up to it, passes 64 bits."""
    for account_id in sorted(by_account):
        running = 0
        for month, delta in sorted(by_account[account_id].items()):
            running += net_change(delta)
            if not (-MAX_MINOR <= min(delta) and max(delta) <= MAX_MINOR and -MAX_MINOR <= running <= MAX_MINOR):
                raise OverflowError(f"a change of account id {account_id}'s {month} passes 64 bits")


STORED_CHUNK = 5_000
"""Accounts whose stored months :func:`apply` reads in one statement (at most a few hundred thousand rows)."""


def _read_stored_months(connection: sa.Connection, first: str, last: str, accounts: list[int]) -> Iterable[tuple]:
    """The rows of :func:`_stored_months` for ``accounts``: on SQLite as the driver gives them, the accounts
    bound as one JSON array (:func:`vosbench.ledger.listed_values.listed`).

    A bulk import reads a few million of these rows (at 1M payments 3.3M): SQLAlchemy's result
    rows and its expansion of an IN list, value by value, cost more than the statement itself.
    """
    form = listed_values.list_form(accounts, connection.dialect.name)
    statement, values = _stored_months(first, last, form), {"accounts": listed_values.bound_list(accounts, form)}
    if form == listed_values.JSON_LIST:  # driver_rows binds no expanding list
        return hashchain.driver_rows(connection, statement, values)
    return connection.execute(statement, values)


def _stored_months(first: str, last: str, form: str) -> sa.Select:
    """(account id, month, closing) of the months :func:`apply` reads of each account of its ``accounts``: those
    from ``first`` to ``last``, the latest before ``first`` and the latest after ``last``, by account and month.

    Three parts, each a range of the accounts' primary key: a condition with the latest
    months as correlated subqueries in one statement was evaluated row by row over every
    month of each account (at 1M payments most of a charges file's import). The accounts are
    bound as :func:`vosbench.ledger.listed_values.listed` binds a list in ``form``.
    """
    table = tables.account_months
    accounts = listed_values.listed(table.c.account_id, "accounts", form)

    def latest(*where: sa.ColumnElement[bool]) -> sa.Select:
        found = (sa.select(table.c.account_id, sa.func.max(table.c.month).label("month")).where(accounts, *where)
                 .group_by(table.c.account_id).subquery())
        return sa.select(table.c.account_id, table.c.month, table.c.closing).join(
            found, sa.and_(table.c.account_id == found.c.account_id, table.c.month == found.c.month))

    within = sa.select(table.c.account_id, table.c.month, table.c.closing).where(accounts, table.c.month.between(first, last))
    ordered = sa.union_all(within, latest(table.c.month < first), latest(table.c.month > last)).subquery()
    return sa.select(ordered.c.account_id, ordered.c.month, ordered.c.closing).order_by(ordered.c.account_id, ordered.c.month)


_AFTER_ALL = "9999-99"
"""A month label after every real one (labels are YYYY-MM text)."""


def _shift(connection: sa.Connection, shifts: list[tuple[int, str, str, int]]) -> None:
    """Shift the closings of stored months by a batch's net change: ``shifts`` are (account id, after, before,
    change), each moving the account's months strictly between ``after`` and ``before``.

    The servers run a ranged UPDATE per shift; SQLite, inside the savepoint the batch's totals
    are kept under (where a statement per shift cost up to 135 µs), takes them from a
    temporary table in one UPDATE … FROM (:func:`vosbench.ledger.database.staged`).
    """
    table, dialect = tables.account_months, connection.dialect.name
    if dialect != "sqlite":
        database.execute_many(connection, table.update().where(
            table.c.account_id == sa.bindparam("b_account_id"), table.c.month > sa.bindparam("b_after"),
            table.c.month < sa.bindparam("b_before"))
            .values(closing=database.kept_sum(dialect, table.c.closing, sa.bindparam("b_shift", type_=sa.BigInteger))),
            shifts, ("b_account_id", "b_after", "b_before", "b_shift"))
        return
    with database.staged(connection, "month_shifts", ("account_id", "after", "before", "shift"), shifts) as staged:
        if staged is not None:
            connection.execute(table.update().where(
                table.c.account_id == staged.c.account_id, table.c.month > staged.c.after,
                table.c.month < staged.c.before).values(closing=database.kept_sum(dialect, table.c.closing, staged.c.shift)))


def figures_after(connection: sa.Connection, deltas: MonthDeltas) -> Iterator[tuple[int, str, str, int]]:
    """What :func:`apply` would write: (account id, month, the figure in words, value) of each money figure
    ``deltas`` moves, the change it brings, and each closing it shifts (read before :func:`apply`, or after it
    was taken back); per account, month by month, a month's sums before its closing.

    :mod:`vosbench.ledger.money_bounds` compares them with the largest amount a column holds.
    """
    by_account = deltas.by_account()
    figures = [column for column in deltas.moved() if column not in COUNT_COLUMNS]
    table = tables.account_months
    statement = (sa.select(table.c.account_id, table.c.month, table.c.closing, *(table.c[name] for name in figures))
                 .where(table.c.account_id.in_(sa.bindparam("accounts", expanding=True))))
    affected = sorted(by_account)
    kept: dict[int, dict[str, tuple[int, ...]]] = defaultdict(dict)
    for start in range(0, len(affected), 500):
        for account_id, month, *values in connection.execute(statement, {"accounts": affected[start:start + 500]}):
            kept[account_id][month] = tuple(map(int, values))
    for account_id in affected:
        changes, stored_months = by_account[account_id], kept[account_id]
        # a closing after the batch: the stored closing of its month (or the latest before) plus the net
        # change of every month of the batch up to it
        shifted, closing = 0, 0
        for month in sorted(set(stored_months) | set(changes)):
            if month in stored_months:
                closing = stored_months[month][0]
            if month in changes:
                base, delta = stored_months.get(month, (0,) * (len(figures) + 1)), changes[month]
                for index, name in enumerate(figures):
                    yield account_id, month, f"{name} total", base[index + 1] + delta[_SLOT[name]]
                    yield account_id, month, f"{name} added by this batch", delta[_SLOT[name]]
                shifted += net_change(delta)
                yield account_id, month, "balance moved by this batch", shifted
            if month >= min(changes):
                yield account_id, month, "closing balance", closing + shifted


def recompute(connection: sa.Connection, openings: dict[int, int] | None = None) -> dict[tuple[int, str], dict]:
    """Rebuild every account's month totals from the raw journal (for ``verify``).

    ``openings`` (account id → closing) are the balances a retention purge carried forward:
    the closings of the records that remain start from them.
    """
    openings = openings or {}
    keyer = MonthKeyer(database.ledger_timezone(connection))
    deltas = MonthDeltas()
    payments = tables.payments
    for part in connection.execute(
        sa.select(payments.c.account_id, payments.c.occurred_at, payments.c.kind, payments.c.amount),
        execution_options={"yield_per": 50_000},
    ).partitions():
        account_ids, times, kinds, amounts = zip(*part)
        deltas.add_payments(account_ids, map(keyer.of_instant, times), kinds, amounts)
    charges = tables.charges
    for charge_rows in connection.execute(
        sa.select(charges.c.account_id, charges.c.day, charges.c.call_fee, charges.c.agent_fee,
                  charges.c.other_fee, charges.c.calls),
        execution_options={"yield_per": 50_000},
    ).partitions():
        # rows unpacked as tuples: a Row's attribute look-ups were half the time of this loop (a row per account-day)
        for account_id, day, call_fee, agent_fee, other_fee, calls in charge_rows:
            deltas.add_charge(account_id, keyer.of_day(day), call_fee, agent_fee, other_fee, calls)
    return {
        (account_id, row["month"]): row
        for account_id, months in deltas.by_account().items()
        for row in _with_closings(months, openings.get(account_id, 0))
    }


def fill_kind_counts(connection: sa.Connection) -> None:
    """Set the per-kind record counts of every stored month from the raw journal (schema upgrade)."""
    table = tables.account_months
    counts = [{"b_account_id": account_id, "b_month": month, **{f"b_{c}": entry[c] for c in tables.KIND_COUNT_COLUMNS}}
              for (account_id, month), entry in recompute(connection).items()]
    if counts:
        connection.execute(
            table.update().where(table.c.account_id == sa.bindparam("b_account_id"),
                                 table.c.month == sa.bindparam("b_month"))
            .values(**{c: sa.bindparam(f"b_{c}") for c in tables.KIND_COUNT_COLUMNS}),
            counts)


def recompute_month(connection: sa.Connection, month: str) -> dict[tuple[int, str], dict]:
    """Rebuild one month's totals from that month's raw records (for the audit of ``month``).

    The database sums the month's records per account (and kind): exact integer SUMs, a
    row per account rather than per record, and independent of the appends' own folding.
    The closings start from each account's stored closing of its latest earlier month:
    the earlier months are taken as the last close left them, so the cost follows the
    month's records and the number of accounts, not the ledger's history.
    """
    zone = database.ledger_timezone(connection)
    period = periods.month(month, zone)
    first_day, last_day = periods.charge_days(period, zone)
    payments, charges, table = tables.payments, tables.charges, tables.account_months
    figures: dict[int, list[int]] = defaultdict(lambda: [0] * len(_SUMMED))
    payment_count = _SLOT["payment_count"]
    for account_id, kind, amount, count in connection.execute(
        sa.select(payments.c.account_id, payments.c.kind, sa.func.sum(payments.c.amount), sa.func.count())
        .where(payments.c.occurred_at >= period.start, payments.c.occurred_at < period.end)
        .group_by(payments.c.account_id, payments.c.kind)
    ):
        amount_slot, count_slot = _KIND_SLOTS[kind]
        row = figures[account_id]
        row[amount_slot] += int(amount)  # PostgreSQL and MariaDB sum BIGINT as a whole NUMERIC
        row[count_slot] += count
        row[payment_count] += count
    for account_id, *charged in connection.execute(
        sa.select(charges.c.account_id, *(sa.func.sum(charges.c[c]) for c in (*CHARGE_COLUMNS, "calls")))
        .where(charges.c.day.between(first_day, last_day)).group_by(charges.c.account_id)
    ):
        row = figures[account_id]
        for slot, value in zip(_CHARGE_SLOTS, charged):
            row[slot] += int(value)
    latest = (sa.select(table.c.account_id, sa.func.max(table.c.month).label("month"))
              .where(table.c.month < month).group_by(table.c.account_id).subquery())
    openings = dict(connection.execute(
        sa.select(table.c.account_id, table.c.closing)
        .join(latest, sa.and_(table.c.account_id == latest.c.account_id, table.c.month == latest.c.month))).all())
    return {
        (account_id, row["month"]): row
        for account_id, month_figures in figures.items()
        for row in _with_closings({month: month_figures}, openings.get(account_id, 0))
    }


def stored(connection: sa.Connection, month: str | None = None) -> dict[tuple[int, str], dict]:
    """The month totals as kept by the appends: every month's, or ``month``'s only."""
    table = tables.account_months
    statement = sa.select(table) if month is None else sa.select(table).where(table.c.month == month)
    return {
        (row.account_id, row.month): {**{c: getattr(row, c) for c in _SUMMED},
                                      "month": row.month, "closing": row.closing}
        for row in connection.execute(statement)
    }
