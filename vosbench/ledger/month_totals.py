"""Per-account, per-month totals kept up to date with every append.

A month's reconciliation reads that month's row and the previous closing, so its
cost grows with the period, not with the ledger's history. The rows are derived
data: :func:`recompute` rebuilds them from the raw journal for ``vosbench verify``.
"""

from __future__ import annotations

import bisect
import operator
from collections import defaultdict
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from vosbench.core import periods
from vosbench.core.money import MAX_MINOR
from vosbench.ledger import database, hashchain, listed_values, rollup_cells, tables

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
    one small tuple key per record — and spread over the months' figures once, by
    :meth:`by_account`.
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
    by_account = deltas.by_account()
    if not by_account:
        return
    table = tables.account_months
    affected = sorted(by_account)
    # Only the figures this batch moves are changed (a batch of charges leaves the payment sums alone).
    moved = deltas.moved()
    moved_slots = [_SLOT[column] for column in moved]
    first = min(month for months in by_account.values() for month in months)
    last = max(month for months in by_account.values() for month in months)
    # One read per chunk of accounts of what the batch needs of each: its stored months from the batch's
    # first to its last (present or not, and months whose closings shift), the latest one before (the
    # opening of a new month) and the latest of all (whether a month follows the batch's), not every month
    # of its history: a batch of a few months in a long history reads a few rows per account.
    changed: dict[tuple[int, str], list[int]] = {}  # a stored month of the batch → its moved sums' changes, its closing's
    inserts, shifts = [], []
    # a change no BIGINT parameter holds is refused alike on every dialect (some would add it as a DECIMAL), in
    # words by vosbench.ledger.money_bounds: each month's own changes checked here at once, the running net
    # change (a month's balance moved) below, month by month
    figures = [delta for months in by_account.values() for delta in months.values()]
    if min(map(min, figures)) < -MAX_MINOR or max(map(max, figures)) > MAX_MINOR:
        _refuse_past_bound(by_account)
    stored_at = bisect.bisect_right
    for start in range(0, len(affected), STORED_CHUNK):
        chunk = affected[start:start + STORED_CHUNK]
        kept: dict[int, tuple[list[str], list[int]]] = {}
        for account_id, month, closing in _read_stored_months(connection, first, last, chunk):  # by account, month
            months, closings = kept.get(account_id) or kept.setdefault(account_id, ([], []))
            months.append(month)
            closings.append(closing)
        for account_id in chunk:
            months, closings = kept.get(account_id, _NONE_KEPT)
            ordered = sorted(by_account[account_id].items())
            running, count = 0, len(ordered)
            for index, (month, delta) in enumerate(ordered):
                running += sum(_payment_figures(delta)) - sum(_charge_figures(delta))  # net_change, inlined
                if not -MAX_MINOR <= running <= MAX_MINOR:
                    raise OverflowError(f"a change of account id {account_id}'s {month} passes 64 bits")
                later = stored_at(months, month)  # the first stored month after this one
                if later and months[later - 1] == month:
                    changed[(account_id, month)] = [*map(delta.__getitem__, moved_slots), running]
                else:  # opens from the closing of the latest stored month before it
                    inserts.append((account_id, month, *delta, (closings[later - 1] if later else 0) + running))
                following = ordered[index + 1][0] if index + 1 < count else _AFTER_ALL
                if running and later < len(months) and months[later] < following:  # stored months to shift
                    shifts.append((account_id, month, following, running))
    rollup_cells.merge(connection, table, ("account_id", "month"), (*moved, "closing"), changed)
    database.insert_many(connection, table.insert(), inserts, ("account_id", "month", *_SUMMED, "closing"))
    _shift(connection, shifts)


_NONE_KEPT: tuple[list[str], list[int]] = ([], [])
"""The stored months and closings of an account that has none (never changed)."""


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
