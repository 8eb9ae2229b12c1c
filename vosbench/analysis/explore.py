"""Finding payment records: a :class:`~vosbench.analysis.filters.PaymentFilter` turned into SQL.

Every result is one SQL statement built with SQLAlchemy Core, values bound, run where
the data is: the page (LIMIT/OFFSET in a stable order), the per-kind totals of the whole
filter (the total count is their sum), the chart aggregates. pandas receives results,
never the raw table. Money stays int64 minor units (nullable ``Int64``). A page is computed
as plain rows (:func:`page_records`), which the command line prints without loading pandas;
:func:`query_page` makes the panel's frames from them.

Days are cut in the reporting time zone — the filter's, else the ledger's: a filter
from 2026-10-01 to 2026-10-31 in Asia/Dubai selects 2026-09-30 20:00 <= occurred_at <
2026-10-31 20:00 UTC. Times in the returned frames are naive *local* times of that zone
(what the analyst reads), and :attr:`Page.timezone` names it.

On a large ledger the count, the totals, a page's ids (newest first, or by amount) and the
charts are read from the payment columns (:mod:`vosbench.analysis.payment_columns`, scanned by
:mod:`vosbench.analysis.column_scan`) once they describe the ledger as it is; the same answers,
row for row. SQL stays the reference and answers whatever the columns do not: a text search,
another sort, columns not built yet (being built in the background), sums that could pass 64 bits.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from vosbench.analysis.filters import FilterError, PaymentFilter, account_label
from vosbench.core import periods
from vosbench.core.model import Kind
from vosbench.ledger import account_rollup, amount_rollup, database, payment_rollup, queries, tables, text_index

if TYPE_CHECKING:  # frames are made by queries.result_frame, which loads pandas when a frame is asked for
    import numpy as np  # and the payment columns, numpy: loaded where they answer (a terminal page needs neither)
    import pandas as pd

    from vosbench.analysis import column_scan, payment_columns

_payments, _accounts = tables.payments, tables.current_accounts

ROW_COLUMNS = ("id", "occurred_at", "account", "name", "kind", "amount", "currency", "balance_after", "channel", "method",
               "operator", "reference", "memo", "reason", "reverses_id", "approved_by")
"""Columns of a page's rows and of :func:`query_all`."""

MONEY_COLUMNS = ("amount", "balance_after")
"""Money columns of the rows, in minor units."""

_FROM_ACCOUNTS = ("account", "name", "currency")
_SOURCES = {**{name: _accounts.c[name] for name in _FROM_ACCOUNTS},
            **{name: _payments.c[name] for name in ROW_COLUMNS if name not in _FROM_ACCOUNTS}}

SORTABLE: tuple[str, ...] = ("occurred_at", "id", "account", "name", "kind", "amount", "currency", "balance_after",
                             "channel", "method", "operator", "reference", "approved_by")
"""Columns a page may be sorted by; ties are broken on ``id`` in the same direction."""

MAX_PAGE_SIZE = 10_000
FEW_MATCHES = 4
"""A filter matching fewer than this many times the records up to the page's end is sorted after
filtering rather than read in index order (see :func:`_ordering`)."""
_INTEGER_COLUMNS = {"id", "amount", "balance_after", "reverses_id", "count"}
_MONTHLY_COLUMNS = ("month", "kind", "count", "amount")
TOTALS_COLUMNS = ("kind", "currency", "count", "amount")
"""Columns of the per-kind totals: one row per kind and currency."""
_KIND_ORDER = {kind.value: index for index, kind in enumerate(Kind)}


@dataclass(frozen=True)
class _Paging:
    """Where a page sits among a filter's records; ``page`` is 1-based and within ``1..pages`` (a page past
    the end shows the last one)."""

    total_count: int
    page: int
    page_size: int
    sort: str
    descending: bool
    timezone: str

    @property
    def pages(self) -> int:
        """How many pages the filter fills (at least 1, so an empty result is page 1 of 1)."""
        return page_count(self.total_count, self.page_size)


@dataclass(frozen=True)
class PageRecords(_Paging):
    """One page of a filter's records as plain rows, with the count and per-kind totals of the whole filter:
    what the command line prints.

    ``rows`` are tuples in :data:`ROW_COLUMNS` as the database gives them (``occurred_at``
    naive UTC, money in minor units, None where missing); ``totals`` are tuples in
    :data:`TOTALS_COLUMNS` (count and amount as ints), ordered by currency, then kind.
    """

    rows: list[tuple]
    totals: list[tuple]


@dataclass(frozen=True)
class Page(_Paging):
    """:class:`PageRecords` as frames: what the panel shows."""

    rows: pd.DataFrame
    totals_by_kind: pd.DataFrame


def page_count(total_count: int, page_size: int) -> int:
    """How many pages of ``page_size`` hold ``total_count`` records: at least 1, so an empty result is page 1 of 1."""
    return max(1, -(-total_count // page_size))


# --- the filter as SQL ---------------------------------------------------------------------------

def reporting_timezone(connection: sa.Connection, f: PaymentFilter) -> str:
    """The zone the filter's days are cut in: its own, else the ledger's."""
    return f.timezone or database.ledger_timezone(connection)


def utc_bounds(f: PaymentFilter, timezone: str) -> tuple[datetime | None, datetime | None]:
    """The filter's days as naive UTC instants: start inclusive, end exclusive."""
    start = periods.local_midnight(f.start, timezone) if f.start else None
    end = periods.local_midnight(f.end + timedelta(days=1), timezone) if f.end else None
    return start, end


def account_scope(f: PaymentFilter):
    """A SELECT of the account ids the filter covers; sub-accounts at any depth from the kept account tree.

    (A recursive walk of ``current_accounts`` cannot use an index on its computed parent: it
    took minutes for an agent with 14,000 customers; :mod:`vosbench.ledger.account_tree` is
    one index range.)
    """
    numbered = tables.accounts  # an account's number never changes, so the table itself answers
    chosen = sa.select(numbered.c.id).where(numbered.c.account.in_(f.accounts))
    if not f.include_sub_accounts:
        return chosen
    tree = tables.account_tree
    return sa.select(tree.c.account_id.label("id")).where(tree.c.ancestor_id.in_(chosen))


def like_pattern(text: str) -> str:
    """``%text%`` with the user's own ``%``, ``_`` and ``\\`` taken literally (escape ``\\``)."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def conditions(f: PaymentFilter, timezone: str, dialect: str = "", *,
               indexed: bool = False, walk: str = "", driver: str = "") -> list[sa.ColumnElement[bool]]:
    """The WHERE clauses on ``payments`` that select the filter's records (values bound).

    ``dialect`` is the database's dialect name: SQLite's LIKE already ignores ASCII case
    and its lower() folds ASCII only, so there the text search skips lower() — the same
    rows at half the cost. ``indexed`` (what :func:`vosbench.ledger.text_index.prepare` said): the
    text's LIKE runs only on the records the search index names, not on every record.
    ``walk``: the column of the sort index a page is read in the order of; the accounts and
    (unless the walk is by time) the period are then checked on each record met rather than
    read through their indexes (which for a large subtree or a quarter reads every record of it,
    then sorts them). ``driver`` (:func:`_driver`): the one dimension whose index reads the
    records; the others are checked on each record it reads. Operators have no index of their
    own (the payment columns answer them; see :data:`vosbench.ledger.tables.RETIRED_INDEXES`):
    they are checked on each record read.
    """
    p = _payments
    where: list[sa.ColumnElement[bool]] = []
    start, end = utc_bounds(f, timezone)

    def bare(column: sa.ColumnElement, dimension: str, *, walked: bool = True) -> sa.ColumnElement:
        """``column`` as it is, or unordered when a walk or another driver reads the records."""
        away = (walk and walked) or (driver and dimension not in _DRIVER_COLUMNS[driver])
        return _unordered(column) if away else column

    occurred_at = bare(p.c.occurred_at, "period", walked=walk != "occurred_at")
    if start is not None:
        where.append(occurred_at >= start)
    if end is not None:
        where.append(occurred_at < end)
    if f.accounts:
        where.append(bare(p.c.account_id, "accounts").in_(account_scope(f)))
    for column, chosen in ((bare(p.c.kind, "amount", walked=False), f.kinds), (p.c.channel, f.channels),
                           (p.c.method, f.methods)):
        if chosen:
            where.append(column.in_([word.value for word in chosen]))
    if driver == "amount" and not f.kinds:
        # Every record's kind is one of Kind (the insert trigger refuses any other): named, each kind's range of
        # the (kind, amount) index serves the amount range; left out, SQLite read every record (0.3 s at 1M).
        where.append(p.c.kind.in_([kind.value for kind in Kind]))
    if f.operators:
        where.append(p.c.operator.in_(f.operators))
    if f.currencies:  # checked on each record another index reads: a currency's accounts may be every account
        where.append(_unordered(p.c.account_id).in_(held_in(f.currencies)))
    if f.min_amount is not None or f.max_amount is not None:
        where.append(sa.or_(*_amount_ranges(f.min_amount, f.max_amount,
                                            bare(p.c.amount, "amount", walked=False))))
    if f.text:
        pattern = like_pattern(f.text)
        like = "like" if dialect == "sqlite" else "ilike"
        where.append(sa.or_(*(getattr(column, like)(pattern, escape="\\") for column in (p.c.reference, p.c.memo))))
        if indexed:
            where.append(p.c.id.in_(text_index.candidates(f.text)))
    return where


def _amount_ranges(low: int | None, high: int | None,
                   amount: sa.ColumnElement = _payments.c.amount) -> list[sa.ColumnElement[bool]]:
    """``low <= |amount| <= high`` as one or two plain ranges on ``amount``, which an index on it can serve."""
    if low is None or low == 0:
        # no lower bound: |amount| >= 0 holds for every record, so only an upper bound limits
        return [amount.between(-high, high) if high is not None else sa.true()]
    credits, debits = [amount >= low], [amount <= -low]
    if high is not None:
        credits.append(amount <= high)
        debits.append(amount >= -high)
    return [sa.and_(*credits), sa.and_(*debits)]


def _chosen(f: PaymentFilter, timezone: str, dialect: str, *columns: sa.ColumnElement, indexed: bool,
            driver: str) -> sa.Subquery:
    """``columns`` of the filter's records (:func:`conditions` with ``indexed`` and ``driver``), as a subquery
    to aggregate.

    An amount range that the database or the rollups may read first (``driver`` "" or "amount") is read
    as its credits and debits apart, each a range of the (kind, amount) index, joined by UNION ALL: given
    their OR, SQLite read every record once the query grouped them (a subtree's EUR card records of
    1,000 or more: 300 ms for each chart at 1M).
    """
    ranges = _amount_ranges(f.min_amount, f.max_amount) if f.min_amount is not None or f.max_amount is not None else []
    if driver not in ("", "amount") or not ranges:
        return sa.select(*columns).where(*conditions(f, timezone, dialect, indexed=indexed, driver=driver)).subquery("chosen")
    others = conditions(replace(f, min_amount=None, max_amount=None), timezone, dialect, indexed=indexed, driver=driver)
    branches = [sa.select(*columns).where(*others, amount_range) for amount_range in ranges]
    return (sa.union_all(*branches) if len(branches) > 1 else branches[0]).subquery("chosen")


def _unordered(column: sa.ColumnElement) -> sa.ColumnElement:
    """``column``'s value in a form no index serves (COALESCE(x, x)).

    Sorting or grouping on it makes the database read the rows its filter selects and
    then sort them, instead of walking an index in this column's order and looking up
    every row — a walk that costs far more when few of those rows are kept.
    """
    return sa.func.coalesce(column, column)


def _ordering(sort: str, descending: bool, *, few: bool = False) -> list:
    """ORDER BY keys: ``sort`` then ``id``. ``few``: the filter matches few records.

    Reading a large result in index order stops after one page; for a filter matching
    few records that walk visits the whole index, so the sort key is then wrapped
    (COALESCE(x, x): the same value, but no index order) and the database filters
    first and sorts the few matches.
    """
    if sort not in SORTABLE:
        raise FilterError([f"sort: {sort!r} is not a sortable column; use one of: {', '.join(SORTABLE)}"])
    column = _SOURCES[sort]
    direction = sa.desc if descending else sa.asc
    keys = []
    if sort == "balance_after":  # unknown balances last in both directions, on every database
        keys.append(sa.case((column.is_(None), 1), else_=0))
    keys.append(direction(_unordered(column) if few else column))
    if sort != "id":
        keys.append(direction(_payments.c.id))
    return keys


def _rows_statement(f: PaymentFilter, timezone: str, dialect: str, sort: str, descending: bool, *,
                    few: bool = False, indexed: bool = False, driver: str = "") -> sa.Select:
    # The records drive and each one's account is looked up by its key: joined on the bare column,
    # the database may rather read every account's records through their index, then sort them all.
    walk = sort if not few and sort in _WALKED else ""
    return (sa.select(*(_SOURCES[name].label(name) for name in ROW_COLUMNS))
            .select_from(_payments.join(_accounts, _accounts.c.id == _unordered(_payments.c.account_id)))
            .where(*conditions(f, timezone, dialect, indexed=indexed, walk=walk, driver="" if walk else driver))
            .order_by(*_ordering(sort, descending, few=few)))


_WALKED = ("occurred_at", "id", "amount")
"""Sorts an index serves in order (amount: within a kind, by ``ix_payments_kind_amount``)."""


def _page_statement(f: PaymentFilter, timezone: str, dialect: str, sort: str, descending: bool, *,
                    page: int, page_size: int, few: bool, indexed: bool,
                    walks: Mapping[Kind, bool] | None = None, driver: str = "") -> sa.Select:
    """One page of the filter's records in order.

    By amount, a large result is read kind by kind: each kind's records lie in amount order in
    the (kind, amount) index, so a page is the first ``page * page_size`` of each kind, merged
    (no index orders every kind's amounts together, and sorting the whole result took seconds).
    ``walks`` (:func:`_amount_walks`) names the kinds holding matches and whether each is walked in
    that order or, its matches being sparse, read first and sorted; None or empty: every kind is walked.
    ``driver`` (:func:`_driver`) reads the records that are read first and sorted.
    """
    offset = (page - 1) * page_size
    if sort != "amount" or few:
        return _rows_statement(f, timezone, dialect, sort, descending, few=few, indexed=indexed, driver=driver) \
            .limit(page_size).offset(offset)
    # and an amount range's credits and debits apart: each part is one range of the index, read in order
    unbounded = replace(f, min_amount=None, max_amount=None)
    bounded = f.min_amount is not None or f.max_amount is not None

    def ranges(walked: bool) -> list[sa.ColumnElement[bool]]:
        # a walk reads the (kind, amount) index; records another driver reads check their amount one by one
        amount = _payments.c.amount if walked or driver in ("", "amount") else _unordered(_payments.c.amount)
        return _amount_ranges(f.min_amount, f.max_amount, amount) if bounded else [sa.true()]

    walks = walks or dict.fromkeys(f.kinds or Kind, True)
    # each walked kind on its own; the sparse ones together, their matches read once and sorted
    parts: list[tuple[tuple[Kind, ...], bool]] = [((kind,), True) for kind, walked in walks.items() if walked]
    sparse = tuple(kind for kind, walked in walks.items() if not walked)
    parts += [(sparse, False)] if sparse else []
    pieces = [(kinds, walked, amount_range) for kinds, walked in parts for amount_range in ranges(walked)]
    branches = [_rows_statement(replace(unbounded, kinds=kinds), timezone, dialect, sort, descending,
                                few=not walked, indexed=indexed, driver=driver)
                .where(amount_range).limit(page * page_size).subquery(f"part_{index}")
                for index, (kinds, walked, amount_range) in enumerate(pieces)]
    merged = sa.union_all(*(sa.select(branch) for branch in branches)).subquery("by_kind")
    direction = sa.desc if descending else sa.asc
    return (sa.select(merged).order_by(direction(merged.c.amount), direction(merged.c.id))
            .limit(page_size).offset(offset))


def _walk_pays(connection: sa.Connection, f: PaymentFilter, timezone: str, matches: int, reach: int) -> bool:
    """Whether a page in time (or id) order walks the time index rather than read ``matches`` records first.

    The walk meets about reach × (the period's records) / ``matches`` records before it stops: it
    pays when that is no more than the matches themselves (a busy customer's deposits of 1,000 or more,
    564 records in 10M, were a walk of a million records: seconds). Without the payment rollup to
    count the period, :data:`FEW_MATCHES` alone decides.
    """
    if not payment_rollup.covers_ledger(connection) or timezone != database.ledger_timezone(connection):
        return True
    return reach * _records_of(connection, f, "period", (None, None)) <= matches * matches


def _amount_walks(connection: sa.Connection, f: PaymentFilter, timezone: str, totals: list[tuple],
                  reach: int) -> dict[Kind, bool]:
    """The kinds holding the filter's records (per its totals), all True when a page by amount walks each
    kind's (kind, amount) index, all False when it reads their matches first and sorts them.

    A walk stops after ``reach`` matches, having met about reach × (the kind's records) / (its matches)
    index entries (all of the kind's when it holds fewer matches), each a look-up of its record at
    random: cheap when the matches are dense (a busy customer), a read of most of the kind when they
    are sparse (a rare operator's 1,373 records: seconds, where reading them first and sorting them
    took milliseconds when an index held the operator). Reading first reads the records of the index that
    holds the fewest (per the rollups): an account's, each a look-up at random too, or
    the period's, which lie in time order as they were appended (a third of the cost each: a month's
    records of one currency at 1M were read and sorted in 80 ms, walked in 200 ms). Kinds are walked
    when their walks together meet no more records than reading first costs, even if one kind is
    sparse (an agent's subtree holds few of the commissions: walking every kind took 80 ms at 1M,
    reading its records first 400 ms). Without the rollups (or in another zone), the kinds are walked
    when each holds at least :data:`FEW_MATCHES` × ``reach`` matches. A kind without matches is not read at all.
    """
    matches: dict[str, int] = {}
    for kind, _currency, count, _amount in totals:
        matches[kind] = matches.get(kind, 0) + count
    matches = {kind: found for kind, found in matches.items() if found}
    found_kinds = [kind for kind in Kind if kind.value in matches]
    records = _kind_records(connection)
    if records is None or timezone != database.ledger_timezone(connection) or not account_rollup.covers_ledger(connection):
        return dict.fromkeys(found_kinds, all(matches[kind.value] >= FEW_MATCHES * reach for kind in found_kinds))
    visits = sum(min(records.get(kind.value, 0), reach * records.get(kind.value, 0) // matches[kind.value])
                 for kind in found_kinds)
    return dict.fromkeys(found_kinds, visits <= _first_read_cost(connection, f))


_IN_TIME_ORDER = 3
"""How many records of a period (in time order, as appended) cost one record looked up at random."""


def _first_read_cost(connection: sa.Connection, f: PaymentFilter) -> int:
    """What reading ``f``'s records first costs, in records looked up at random: those of its period
    (:data:`_IN_TIME_ORDER` to one), or of its accounts when they hold fewer (per the rollups)."""
    months = (f.start.isoformat()[:7] if f.start else None, f.end.isoformat()[:7] if f.end else None)
    costs = [_records_of(connection, f, "period", (None, None)) // _IN_TIME_ORDER]
    costs += [_records_of(connection, f, "accounts", months)] if f.accounts else []
    return min(costs)


def _kind_records(connection: sa.Connection) -> dict[str, int] | None:
    """Each kind's records in the ledger, from the payment rollup's month cells; None when it cannot answer."""
    if not payment_rollup.covers_ledger(connection):
        return None
    rollup = tables.payment_rollup
    return {kind: int(records) for kind, records in connection.execute(
        sa.select(rollup.c.kind, sa.func.sum(rollup.c.records))
        .where(rollup.c.grain == payment_rollup.MONTH, rollup.c.operator == "").group_by(rollup.c.kind))}


# --- results -------------------------------------------------------------------------------------

def _frame(rows, columns: tuple[str, ...], timezone: str | None = None, *, utc: bool = False) -> pd.DataFrame:
    """Result rows as a DataFrame (:func:`queries.result_frame`), ``occurred_at`` as naive local time
    (``utc``: as stored, naive UTC, for text that shows each time with its offset)."""
    data = queries.result_frame(list(columns), rows, times={"occurred_at"})
    for name in columns:
        if name == "occurred_at":
            if utc:
                data[name] = data[name].astype("datetime64[us]")
                continue
            if timezone is None:
                raise ValueError("a frame of record times needs the reporting time zone")
            data[name] = periods.local_times(data[name].astype("datetime64[us]"), timezone)
        elif name in _INTEGER_COLUMNS and data[name].dtype != object:  # object: Python ints, a sum past int64
            data[name] = data[name].astype("Int64")
        else:
            data[name] = data[name].astype(object)
    return data


_Months = tuple[str | None, str | None]
"""The first and last month 'YYYY-MM' of a range, either None for open-ended."""


def _kept_months(connection: sa.Connection, f: PaymentFilter, timezone: str) -> _Months | None:
    """The first and last month ('YYYY-MM', either None for open-ended) whose kept totals answer ``f``.

    The kept per-account month totals (``account_months``) hold each kind's count and sum,
    so a filter of whole months of the ledger's zone, accounts and kinds needs no scan of
    the records; any other filter (amounts, operators, channels, methods, currencies, text,
    part of a month, another zone) returns None and is counted from the rollups or the records.
    """
    if (f.min_amount is not None or f.max_amount is not None or f.operators or f.channels or f.methods or f.text
            or f.currencies):
        return None
    if timezone != database.ledger_timezone(connection):
        return None
    return _whole_months(f)


def _kept_conditions(f: PaymentFilter, months: _Months) -> list[sa.ColumnElement[bool]]:
    kept = tables.account_months
    where = [kept.c.month >= months[0]] if months[0] else []
    if months[1]:
        where.append(kept.c.month <= months[1])
    if f.accounts:
        where.append(kept.c.account_id.in_(account_scope(f)))
    return where


def _kept_kinds(f: PaymentFilter) -> list[str]:
    return [kind.value for kind in f.kinds] if f.kinds else [kind.value for kind in Kind]


def _kept_totals_by_kind(connection: sa.Connection, f: PaymentFilter, months: _Months) -> list[tuple]:
    kept = tables.account_months
    kinds = _kept_kinds(f)
    only = _only_currency(connection)

    def statement(total: queries.Summing) -> sa.Select:
        sums = (*(sa.func.coalesce(sa.func.sum(kept.c[f"{kind}_count"]), 0) for kind in kinds),
                *(part for kind in kinds for part in total(kept.c[kind])))
        if only is not None:  # no look-up of each month's account (a subtree's months are many)
            return sa.select(sa.literal(only, sa.String), *sums).where(*_kept_conditions(f, months))
        return (sa.select(_accounts.c.currency, *sums)
                .select_from(kept.join(_accounts, _accounts.c.id == kept.c.account_id))
                .where(*_kept_conditions(f, months)).group_by(_accounts.c.currency))

    per_currency = queries.summed_rows(connection, statement)
    return [(kind, row[0], row[1 + index], row[1 + len(kinds) + index])
            for row in per_currency for index, kind in enumerate(kinds) if row[1 + index]]


def vocabulary_clauses(rollup: sa.Table, f: PaymentFilter) -> list[sa.ColumnElement[bool]]:
    """``f``'s kinds, channels, methods and currencies as WHERE clauses on a rollup, which keeps each as a column
    (a cell's currency is its account's)."""
    return [*(rollup.c[name].in_([word.value for word in chosen])
              for name, chosen in (("kind", f.kinds), ("channel", f.channels), ("method", f.methods)) if chosen),
            *((rollup.c.currency.in_(f.currencies),) if f.currencies else ())]


def held_in(currencies: Sequence[str]) -> sa.Select:
    """A SELECT of the ids of the accounts held in ``currencies``."""
    return sa.select(_accounts.c.id).where(_accounts.c.currency.in_(currencies))


def _rollup_conditions(connection: sa.Connection, f: PaymentFilter, timezone: str) -> list | None:
    """The WHERE clauses on ``payment_rollup`` whose rows sum to ``f``'s records, or None when they cannot.

    The rollup (:mod:`vosbench.ledger.payment_rollup`) answers a filter of a period, kinds,
    channels and methods in the ledger's zone: the period's whole months from its month rows,
    the days before and after them from its day rows; with operators, whole months from the
    operators' month rows. A filter naming accounts, amounts or text, operators over part of
    a month, a period in another zone, or a login that does not see the rollup (a scoped
    one) is counted from the records.
    """
    if f.accounts or f.text or f.min_amount is not None or f.max_amount is not None:
        return None
    whole_months = (f.start is None or f.start.day == 1) and (f.end is None or (f.end + timedelta(days=1)).day == 1)
    if f.operators and not whole_months:  # operators are kept by month only
        return None
    if timezone != database.ledger_timezone(connection) or not payment_rollup.covers_ledger(connection):
        return None
    rollup = tables.payment_rollup
    where = vocabulary_clauses(rollup, f)
    if not f.operators:
        return [*where, sa.or_(*_rollup_spans(f.start, f.end))]
    where += [rollup.c.grain == payment_rollup.OPERATOR_MONTH, rollup.c.operator.in_(f.operators)]
    if f.start is not None:
        where.append(rollup.c.period >= f.start.isoformat()[:7])
    if f.end is not None:
        where.append(rollup.c.period <= f.end.isoformat()[:7])
    return where


def _rollup_spans(start: date | None, end: date | None) -> list[sa.ColumnElement[bool]]:
    """Rollup rows covering the local days ``start``..``end`` (either open): whole months, then the days left."""
    rollup = tables.payment_rollup

    def days(first: date, last: date) -> sa.ColumnElement[bool]:
        return sa.and_(rollup.c.grain == payment_rollup.DAY, rollup.c.period.between(first.isoformat(), last.isoformat()))

    first_whole = None if start is None else start if start.day == 1 else _next_month(start)
    after_whole = None if end is None else (  # the day after the last whole month
        end + timedelta(days=1) if (end + timedelta(days=1)).day == 1 else end.replace(day=1))
    if start is not None and end is not None and first_whole is not None and after_whole is not None \
            and first_whole >= after_whole:
        return [days(start, end)]
    months = [rollup.c.grain == payment_rollup.MONTH]
    if first_whole is not None:
        months.append(rollup.c.period >= first_whole.isoformat()[:7])
    if after_whole is not None:
        months.append(rollup.c.period < after_whole.isoformat()[:7])
    spans = [sa.and_(*months)]
    if start is not None and first_whole is not None and start < first_whole:
        spans.append(days(start, first_whole - timedelta(days=1)))
    if end is not None and after_whole is not None and end >= after_whole:
        spans.append(days(after_whole, end))
    return spans


def _next_month(day: date) -> date:
    """The first day of the month after ``day``'s."""
    return (day.replace(day=1) + timedelta(days=32)).replace(day=1)


def _rollup_sums(connection: sa.Connection, where: list, *keys: sa.ColumnElement,
                 rollup: sa.Table = tables.payment_rollup) -> list[tuple]:
    """Records and amount (exact: :func:`queries.summed_rows`) of the ``rollup`` rows ``where`` selects, per ``keys``
    (in their order)."""
    return queries.summed_rows(connection, lambda total: (
        sa.select(*keys, sa.func.sum(rollup.c.records), *total(rollup.c.amount)).where(*where).group_by(*keys)
        .order_by(*keys)))


def _whole_months(f: PaymentFilter) -> _Months | None:
    """The filter's period as whole months ('YYYY-MM', either None for open-ended), or None when it cuts a month."""
    if f.start is not None and f.start.day != 1:
        return None
    if f.end is not None and (f.end + timedelta(days=1)).day != 1:
        return None
    return (f.start.strftime("%Y-%m") if f.start else None, f.end.strftime("%Y-%m") if f.end else None)


def _month_range(month: sa.ColumnElement, months: _Months) -> list[sa.ColumnElement[bool]]:
    """``month`` ('YYYY-MM') within ``months`` (either end open)."""
    return [*([month >= months[0]] if months[0] else []), *([month <= months[1]] if months[1] else [])]


def _account_rollup_conditions(connection: sa.Connection, f: PaymentFilter, timezone: str, *,
                               own: bool = False) -> list | None:
    """The WHERE clauses on ``account_rollup`` whose rows sum to ``f``'s records, or None when they cannot.

    The account rollup (:mod:`vosbench.ledger.account_rollup`) answers a filter of accounts
    (one, several, or their subtrees), whole months of the ledger's zone, kinds, channels
    and methods. ``own``: the rows of each account's own records, for the top accounts — of
    every account when the filter names none (a month's own cells are two thirds as many as
    its records, but read in key order with no look-up of a record: a seventh of the time).
    No accounts otherwise (the records' own indexes or the payment rollup answer better),
    operators, amounts, text, part of a month, another zone, or a login that does not see
    the rollup: None (counted from the records).
    """
    if f.operators or f.text or f.min_amount is not None or f.max_amount is not None or not (f.accounts or own):
        return None
    months = _whole_months(f)
    if months is None or timezone != database.ledger_timezone(connection) \
            or not account_rollup.covers_ledger(connection):
        return None
    rollup = tables.account_rollup
    where = vocabulary_clauses(rollup, f)
    where += _month_range(rollup.c.month, months)
    if own:
        # every account: one seek per account into its months (the key starts with the account), not a scan
        scope: sa.Select = account_scope(f) if f.accounts else sa.select(tables.accounts.c.id)
        where += [rollup.c.part == account_rollup.OWN, rollup.c.account_id.in_(scope)]
    elif f.include_sub_accounts:  # each subtree is its top account's own and below rows: the tops, none under another
        where.append(rollup.c.account_id.in_(_subtree_tops(connection, f.accounts)))
    else:
        where += [rollup.c.part == account_rollup.OWN, rollup.c.account_id.in_(account_scope(f))]
    return where


def _amount_split(connection: sa.Connection, f: PaymentFilter, timezone: str) -> tuple[list, list[PaymentFilter]] | None:
    """``f``'s amount range as WHERE clauses on ``amount_rollup`` for the buckets it covers whole, plus the
    filters of its edge pieces (read from the records); None when the rollup cannot answer.

    The amount rollup (:mod:`vosbench.ledger.amount_rollup`) answers an amount range with whole
    months of the ledger's zone, kinds, channels and methods. Accounts, operators, text, part of
    a month, another zone, a range covering no bucket whole, or a login that does not see the
    rollup: None (counted from the records).
    """
    if (f.min_amount is None and f.max_amount is None) or f.accounts or f.operators or f.text:
        return None
    months = _whole_months(f)
    whole = amount_rollup.whole_buckets(f.min_amount, f.max_amount)
    if months is None or whole is None or timezone != database.ledger_timezone(connection) \
            or not amount_rollup.covers_ledger(connection):
        return None
    rollup = tables.amount_rollup
    where = vocabulary_clauses(rollup, f)
    where += _month_range(rollup.c.month, months)
    first, after = whole
    where.append(rollup.c.bucket >= first)
    edges = []
    if f.min_amount is not None and f.min_amount < first:
        edges.append(replace(f, max_amount=first - 1))
    if after is not None:
        where.append(rollup.c.bucket < after)
        if f.max_amount is not None and after <= f.max_amount:
            edges.append(replace(f, min_amount=after))
    return where, edges


def _merged(*parts: Iterable[Sequence]) -> list[tuple]:
    """Rows of (keys…, count, amount) of pieces of one filter, added up per key and ordered by it."""
    sums: dict[tuple, list[int]] = {}
    for part in parts:
        for *key, count, amount in part:
            entry = sums.setdefault(tuple(key), [0, 0])
            entry[0] += int(count)
            entry[1] += int(amount)
    return [(*key, count, amount) for key, (count, amount) in sorted(sums.items())]


def _subtree_tops(connection: sa.Connection, accounts: Sequence[str]) -> list[int]:
    """The ids of ``accounts`` that sit under none of the others (their subtrees hold the others')."""
    numbered, tree = tables.accounts, tables.account_tree
    chosen = list(connection.scalars(sa.select(numbered.c.id).where(numbered.c.account.in_(accounts))))
    under = set(connection.scalars(sa.select(tree.c.account_id).where(
        tree.c.ancestor_id.in_(chosen), tree.c.account_id.in_(chosen), tree.c.ancestor_id != tree.c.account_id)))
    return [account_id for account_id in chosen if account_id not in under]


_DRIVER_COLUMNS = {"period": {"period"}, "accounts": {"accounts", "period"}, "amount": {"amount"}}
"""Each driver's filter dimensions left to its index: (occurred_at), (account_id, occurred_at), (kind, amount)."""


def _driver(connection: sa.Connection, f: PaymentFilter, timezone: str, *, indexed: bool = False) -> str:
    """The dimension whose index should read ``f``'s records: the one the rollups say holds the fewest; ""
    lets the database choose (one such dimension or none, a text search, or no rollup to ask).

    SQLite's statistics know each index's average, not its skew: to it a customer holds 200 records
    and a period a share of the ledger, so it read a busy customer's million records to find its
    16,000 deposits of 1,000 or more (seconds) rather than those deposits' range of the (kind,
    amount) index. The rollups count what each dimension's index reads: the period exactly, accounts
    over the whole months around the period (their index holds the time after them), an
    amount range over every month (the (kind, amount) index holds no time: a month's records of 10 to
    50 were fewer than the month's, but reading them meant reading that range of every month, 580,000
    records at 1M, a second for the month's top accounts).
    """
    given = [name for name, present in (("period", f.start is not None or f.end is not None),
                                        ("accounts", bool(f.accounts)),
                                        ("amount", f.min_amount is not None or f.max_amount is not None))
             if present]
    if len(given) < 2 or (f.text and indexed) or timezone != database.ledger_timezone(connection) \
            or not (payment_rollup.covers_ledger(connection) and account_rollup.covers_ledger(connection)
                    and amount_rollup.covers_ledger(connection)):
        return ""
    months = (f.start.isoformat()[:7] if f.start else None, f.end.isoformat()[:7] if f.end else None)
    records = {name: _records_of(connection, f, name, (None, None) if name == "amount" else months) for name in given}
    return min(given, key=lambda name: records[name])


def _records_of(connection: sa.Connection, f: PaymentFilter, dimension: str, months: _Months) -> int:
    """The records ``dimension`` of ``f`` alone selects (its period, or every record when it has none:
    exactly; the others over its whole months)."""
    if dimension == "period":
        rollup, where = tables.payment_rollup, [sa.or_(*_rollup_spans(f.start, f.end))]
    elif dimension == "accounts":
        rollup = tables.account_rollup
        where = [*_month_range(rollup.c.month, months)]
        if f.include_sub_accounts:
            where.append(rollup.c.account_id.in_(_subtree_tops(connection, f.accounts)))
        else:
            where += [rollup.c.part == account_rollup.OWN, rollup.c.account_id.in_(account_scope(f))]
    else:
        return _amount_records(connection, f, months)
    return int(connection.scalar(sa.select(sa.func.coalesce(sa.func.sum(rollup.c.records), 0)).where(*where)) or 0)


def _amount_records(connection: sa.Connection, f: PaymentFilter, months: _Months) -> int:
    """About the records of ``f``'s kinds with |amount| in its range: those of the buckets it covers, each
    bucket it covers in part in proportion to the part (a range of one value in a bucket of 50 to 100 holds
    few of the bucket's records, not all: counted whole, the range looked larger than a month)."""
    rollup = tables.amount_rollup
    low, high = f.min_amount or 0, f.max_amount
    where = [*_month_range(rollup.c.month, months), rollup.c.bucket >= amount_rollup.bucket(low),
             *([rollup.c.bucket <= amount_rollup.bucket(high)] if high is not None else []),
             *([rollup.c.kind.in_([kind.value for kind in f.kinds])] if f.kinds else [])]
    total = 0.0
    for bucket, records in connection.execute(sa.select(rollup.c.bucket, sa.func.sum(rollup.c.records))
                                              .where(*where).group_by(rollup.c.bucket)):
        bucket = int(bucket)
        after = amount_rollup.bucket_after(bucket)
        top = after if high is None else min(after, high + 1)
        total += int(records) * max(0, top - max(low, bucket)) / (after - bucket)
    return round(total)


def _totals_by_kind(connection: sa.Connection, f: PaymentFilter, timezone: str, *,
                    indexed: bool = False) -> list[tuple]:
    """Rows of :data:`TOTALS_COLUMNS` (count and amount as ints), ordered by currency, then kind."""
    rolled = _rollup_conditions(connection, f, timezone)
    by_account = _account_rollup_conditions(connection, f, timezone) if rolled is None else None
    split = _amount_split(connection, f, timezone) if rolled is None and by_account is None else None
    months = _kept_months(connection, f, timezone) if rolled is None and by_account is None else None
    rows: Iterable[Sequence]
    if rolled is not None:
        rollup = tables.payment_rollup
        rows = _rollup_sums(connection, rolled, rollup.c.kind, rollup.c.currency)
    elif by_account is not None:
        rollup = tables.account_rollup
        rows = _rollup_sums(connection, by_account, rollup.c.kind, rollup.c.currency, rollup=rollup)
    elif split is not None:  # whole amount buckets from the rollup, the edge pieces from the records
        rollup = tables.amount_rollup
        rows = _merged(_rollup_sums(connection, split[0], rollup.c.kind, rollup.c.currency, rollup=rollup),
                       *(_totals_by_kind(connection, edge, timezone) for edge in split[1]))
    elif months is not None:
        rows = _kept_totals_by_kind(connection, f, months)
    else:
        driver = _driver(connection, f, timezone, indexed=indexed)
        only = _only_currency(connection)  # once: each asking scans the accounts
        # Grouped after filtering: walking the (kind, amount) index to group would look up every
        # row at random (17 s for a method filter at 1M records; a scan of what the filter reads: 1 s).
        chosen = _chosen(f, timezone, connection.dialect.name, _unordered(_payments.c.kind).label("kind"),
                         *_counted_columns(only), indexed=indexed, driver=driver)
        rows = queries.summed_rows(connection, lambda total: _per_kind_and_currency(chosen, only, total))
    totals = [(kind, currency, queries.whole_number(count), queries.whole_number(amount))
              for kind, currency, count, amount in rows]
    return sorted(totals, key=lambda row: (row[1], _KIND_ORDER.get(row[0], len(_KIND_ORDER))))


def _per_kind_and_currency(chosen: sa.Subquery, only: str | None, total: queries.Summing) -> sa.Select:
    """Count and sum (``total``: :func:`queries.summed_rows`) of the chosen records per kind and account currency
    (two currencies never add up).

    A ledger whose accounts all keep one currency (``only``, :func:`_only_currency`) needs no look-up
    of each record's account (a third of the time of a count over a busy operator's records). Otherwise
    the chosen records drive and each one's account is looked up by its key: joined on the bare column,
    SQLite read every account and then its records through the account index (a text with no period
    over 1M records, in a ledger of two currencies: over 2 s, where the scan alone takes 0.3 s).
    """
    if only is not None:
        return (sa.select(chosen.c.kind, sa.literal(only, sa.String), sa.func.count(), *total(chosen.c.amount))
                .group_by(chosen.c.kind))
    return (sa.select(chosen.c.kind, _accounts.c.currency, sa.func.count(), *total(chosen.c.amount))
            .select_from(chosen.join(_accounts, _accounts.c.id == _unordered(chosen.c.account_id)))
            .group_by(chosen.c.kind, _accounts.c.currency))


def _counted_columns(only: str | None) -> tuple[sa.ColumnElement, ...]:
    """What a count reads of each record besides its kind: the amount, and the account unless one currency
    (``only``) is every account's.

    (Without the account, a count by kind and amount range reads the (kind, amount) index alone.)
    """
    return (_payments.c.amount,) if only is not None else (_payments.c.amount, _payments.c.account_id)


def _only_currency(connection: sa.Connection) -> str | None:
    """The one currency every account has ever kept, else None (several, or no account)."""
    kept: set[str] = set()
    for table in (tables.accounts, tables.account_versions):
        kept.update(connection.scalars(sa.select(table.c.currency).distinct().limit(2)))
    return kept.pop() if len(kept) == 1 else None


def currencies_of(engine: Engine, f: PaymentFilter) -> list[str]:
    """The currencies of the accounts the filter covers, sorted: amounts of two of them never add up."""
    with engine.connect() as connection:
        only = _only_currency(connection)
        if only is not None:
            return [only]
        statement = sa.select(_accounts.c.currency).distinct()
        if f.accounts:
            statement = statement.where(_accounts.c.id.in_(account_scope(f)))
        if f.currencies:
            statement = statement.where(_accounts.c.currency.in_(f.currencies))
        return sorted(connection.scalars(statement))


def totals_per_currency(totals: pd.DataFrame | Iterable[Sequence]) -> dict[str, dict[str, int]]:
    """The totals rows of per-kind totals (a frame, or rows of :data:`TOTALS_COLUMNS`): count and amount per
    currency, currencies in order, never added across currencies."""
    itertuples = getattr(totals, "itertuples", None)  # a frame in TOTALS_COLUMNS gives its rows
    rows: Iterable[Sequence] = totals if itertuples is None else itertuples(index=False)
    per_currency: dict[str, dict[str, int]] = {}
    for _kind, currency, count, amount in rows:
        sums = per_currency.setdefault(str(currency), {"count": 0, "amount": 0})
        sums["count"] += int(count)
        sums["amount"] += int(amount)
    return dict(sorted(per_currency.items()))


def query_page(engine: Engine, f: PaymentFilter, *, page: int = 1, page_size: int = 50,
               sort: str = "occurred_at", descending: bool = True) -> Page:
    """One page of the filter's records plus the count and per-kind totals of the whole filter, as frames
    (:func:`page_records`; times in the rows as naive local time of the page's zone)."""
    found = page_records(engine, f, page=page, page_size=page_size, sort=sort, descending=descending)
    return Page(found.total_count, found.page, found.page_size, found.sort, found.descending, found.timezone,
                rows=_frame(found.rows, ROW_COLUMNS, found.timezone), totals_by_kind=_frame(found.totals, TOTALS_COLUMNS))


def page_records(engine: Engine, f: PaymentFilter, *, page: int = 1, page_size: int = 50,
                 sort: str = "occurred_at", descending: bool = True, scanned: bool = True) -> PageRecords:
    """One page of the filter's records plus the count and per-kind totals of the whole filter, as plain rows.

    Two statements: the per-kind totals (whose counts add up to the total count) and
    the page itself, ordered by ``sort`` then ``id`` so equal values never swap pages.
    ``scanned`` False leaves the payment columns out (a terminal command's one page: SQL alone,
    without loading numpy or starting their build in a process about to end).
    """
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise FilterError([f"page_size: {page_size} is out of range; give 1 to {MAX_PAGE_SIZE}"])
    if page < 1:
        raise FilterError([f"page: {page} is before the first page; pages start at 1"])
    _ordering(sort, descending)  # a bad sort column fails before any query runs
    columns = _columns(engine, f) if scanned and sort in ("occurred_at", "amount") else None
    if columns is not None:
        from vosbench.analysis import column_scan

        with engine.connect() as connection:
            timezone = reporting_timezone(connection, f)
            selection = column_scan.select(columns, _scope(connection, f, timezone, columns))
            if selection.summable():
                totals = (_totals_by_kind(connection, f, timezone) if _rolled_up(connection, f, timezone)
                          else _column_totals(connection, selection))
                total_count = sum(row[2] for row in totals)
                page = min(page, page_count(total_count, page_size))
                positions = column_scan.page_positions(selection, sort, descending, (page - 1) * page_size, page_size)
                rows = _rows_by_id(connection, columns.id[positions].tolist())
                return PageRecords(total_count, page, page_size, sort, descending, timezone, rows=rows, totals=totals)
    indexed = text_index.prepare(engine, f.text)
    with engine.connect() as connection:
        timezone = reporting_timezone(connection, f)
        totals = _totals_by_kind(connection, f, timezone, indexed=indexed)
        total_count = sum(row[2] for row in totals)
        page = min(page, max(1, -(-total_count // page_size)))
        reach = page * page_size  # records an index-order walk must find before it can stop
        few = total_count < FEW_MATCHES * reach or (
            sort in ("occurred_at", "id") and not _walk_pays(connection, f, timezone, total_count, reach))
        walks = _amount_walks(connection, f, timezone, totals, reach) if sort == "amount" and not few else None
        driver = _driver(connection, f, timezone, indexed=indexed) if few or walks else ""
        statement = _page_statement(f, timezone, connection.dialect.name, sort, descending, page=page,
                                    page_size=page_size, few=few, indexed=indexed, walks=walks, driver=driver)
        rows = [tuple(row) for row in connection.execute(statement)]
    return PageRecords(total_count, page, page_size, sort, descending, timezone, rows=rows, totals=totals)


def query_all(engine: Engine, f: PaymentFilter, *, sort: str = "occurred_at", descending: bool = True,
              utc: bool = False) -> pd.DataFrame:
    """Every record the filter selects, in :data:`ROW_COLUMNS` (for exports); ``utc``: times as stored."""
    indexed = text_index.prepare(engine, f.text)
    with engine.connect() as connection:
        timezone = reporting_timezone(connection, f)
        statement = _rows_statement(f, timezone, connection.dialect.name, sort, descending, indexed=indexed)
        return _frame(connection.execute(statement), ROW_COLUMNS, timezone, utc=utc)


# --- chart data (aggregates in SQL) -------------------------------------------------------------

def record_span(connection: sa.Connection) -> tuple[datetime | None, datetime | None]:
    """The first and last record's time (naive UTC), or None twice for a ledger without payments.

    Two statements: each is one step at an end of the time index, where one statement asking
    for both reads the whole index (SQLite serves min() or max() alone from an index, not both).
    """
    occurred_at = _payments.c.occurred_at
    return (connection.scalar(sa.select(sa.func.min(occurred_at))), connection.scalar(sa.select(sa.func.max(occurred_at))))


def _months(connection: sa.Connection, f: PaymentFilter, timezone: str) -> list[periods.Period]:
    """The calendar months (in ``timezone``) from the filter's first to last day, else the ledger's."""
    first, last = f.start, f.end
    if first is None or last is None:
        earliest, latest = record_span(connection)
        if earliest is None or latest is None:
            return []
        first = first or periods.local_day(earliest, timezone)
        last = last or periods.local_day(latest, timezone)
    months, label = [], f"{first.year:04d}-{first.month:02d}"
    while label <= f"{last.year:04d}-{last.month:02d}":
        months.append(periods.month(label, timezone))
        after = months[-1].last_day + timedelta(days=1)
        label = f"{after.year:04d}-{after.month:02d}"
    return months


def monthly_by_kind(engine: Engine, f: PaymentFilter) -> pd.DataFrame:
    """Count and amount of the filter's records per month (reporting time zone) and kind.

    Columns month ('YYYY-MM'), kind, count, amount; months without records are left out.
    Portable SQL cannot cut months in a time zone, so each record's month is a CASE over
    the months' bound UTC starts: the filter picks its records by its best index first (a
    join with a table of month bounds let the database read every month's records and
    filter them after: 25 s for 611 records of an agent's subtree at 1M).
    """
    p = _payments
    selection = _scanned(engine, f)
    if selection is not None:
        from vosbench.analysis import column_scan

        with engine.connect() as connection:
            months = _months(connection, f, reporting_timezone(connection, f))
        return _frame(column_scan.by_month_and_kind(selection, [_microseconds(m.start) for m in months],
                                                    [m.label for m in months]) if months else [], _MONTHLY_COLUMNS)
    indexed = text_index.prepare(engine, f.text)
    with engine.connect() as connection:
        timezone = reporting_timezone(connection, f)
        rolled = _rollup_conditions(connection, f, timezone)
        if rolled is not None:
            rollup = tables.payment_rollup
            month_of = sa.func.substr(rollup.c.period, 1, 7)
            return _frame(_rollup_sums(connection, rolled, month_of, rollup.c.kind), _MONTHLY_COLUMNS)
        by_account = _account_rollup_conditions(connection, f, timezone)
        if by_account is not None:
            rollup = tables.account_rollup
            return _frame(_rollup_sums(connection, by_account, rollup.c.month, rollup.c.kind, rollup=rollup),
                          _MONTHLY_COLUMNS)
        split = _amount_split(connection, f, timezone)
        if split is not None:
            rollup = tables.amount_rollup
            return _frame(_merged(_rollup_sums(connection, split[0], rollup.c.month, rollup.c.kind, rollup=rollup),
                                  *(monthly_by_kind(engine, edge).itertuples(index=False) for edge in split[1])),
                          _MONTHLY_COLUMNS)
        kept_months = _kept_months(connection, f, timezone)
        if kept_months is not None:
            return _frame(_kept_monthly_by_kind(connection, f, kept_months), _MONTHLY_COLUMNS)
        months = _months(connection, f, timezone)
        if not months:
            return _frame([], _MONTHLY_COLUMNS)
        # Latest month first: the newest records are the most (and a CASE stops at its first match).
        month = (sa.case(*((p.c.occurred_at >= sa.literal(m.start, sa.DateTime), m.label)
                           for m in reversed(months[1:])), else_=months[0].label) if len(months) > 1
                 else sa.literal(months[0].label, sa.String)).label("month")  # a CASE needs a WHEN
        kind = _unordered(p.c.kind).label("kind")
        # The months span the filter's days, else every record: no bound of their own (a bound over the
        # whole ledger made the database read it all by time, even for the few records of an amount's edge).
        chosen = _chosen(f, timezone, connection.dialect.name, month, kind, p.c.amount, indexed=indexed,
                         driver=_driver(connection, f, timezone, indexed=indexed))
        keys = (chosen.c.month, chosen.c.kind)
        return _frame(queries.summed_rows(connection, lambda total: (
            sa.select(*keys, sa.func.count(), *total(chosen.c.amount)).group_by(*keys).order_by(*keys))),
            _MONTHLY_COLUMNS)


def _kept_monthly_by_kind(connection: sa.Connection, f: PaymentFilter, months: _Months) -> list[tuple]:
    """:func:`monthly_by_kind` from the kept month totals: one row per month and kind with records."""
    kept = tables.account_months
    kinds = _kept_kinds(f)
    rows: list[tuple] = []
    for month, *figures in queries.summed_rows(connection, lambda total: (
            sa.select(kept.c.month, *(sa.func.sum(kept.c[f"{kind}_count"]) for kind in kinds),
                      *(part for kind in kinds for part in total(kept.c[kind])))
            .where(*_kept_conditions(f, months)).group_by(kept.c.month).order_by(kept.c.month))):
        rows.extend((month, kind, figures[index], figures[len(kinds) + index])
                    for index, kind in sorted(enumerate(kinds), key=lambda pair: pair[1]) if figures[index])
    return rows


def by_channel_method(engine: Engine, f: PaymentFilter) -> pd.DataFrame:
    """Count and amount of the filter's records per channel and method."""
    p = _payments
    selection = _scanned(engine, f)
    if selection is not None:
        from vosbench.analysis import column_scan

        return _frame(column_scan.by_channel_and_method(selection), ("channel", "method", "count", "amount"))
    indexed = text_index.prepare(engine, f.text)
    with engine.connect() as connection:
        timezone = reporting_timezone(connection, f)
        rolled = _rollup_conditions(connection, f, timezone)
        if rolled is not None:
            rollup = tables.payment_rollup
            return _frame(_rollup_sums(connection, rolled, rollup.c.channel, rollup.c.method),
                          ("channel", "method", "count", "amount"))
        by_account = _account_rollup_conditions(connection, f, timezone)
        if by_account is not None:
            rollup = tables.account_rollup
            return _frame(_rollup_sums(connection, by_account, rollup.c.channel, rollup.c.method, rollup=rollup),
                          ("channel", "method", "count", "amount"))
        split = _amount_split(connection, f, timezone)
        if split is not None:
            rollup = tables.amount_rollup
            return _frame(_merged(_rollup_sums(connection, split[0], rollup.c.channel, rollup.c.method, rollup=rollup),
                                  *(by_channel_method(engine, edge).itertuples(index=False) for edge in split[1])),
                          ("channel", "method", "count", "amount"))
        chosen = _chosen(f, timezone, connection.dialect.name, p.c.channel, p.c.method, p.c.amount, indexed=indexed,
                         driver=_driver(connection, f, timezone, indexed=indexed))
        keys = (chosen.c.channel, chosen.c.method)
        return _frame(queries.summed_rows(connection, lambda total: (
            sa.select(*keys, sa.func.count(), *total(chosen.c.amount)).group_by(*keys).order_by(*keys))),
            ("channel", "method", "count", "amount"))


def top_accounts(engine: Engine, f: PaymentFilter, n: int = 10) -> pd.DataFrame:
    """The ``n`` accounts that moved the most money (sum of |amount|) under the filter.

    Columns account, name, count, amount (the signed net of their records).
    """
    if n < 1:
        raise FilterError([f"n: {n} top accounts is not a number of accounts; give 1 or more"])
    p = _payments
    columns = _columns(engine, f)
    if columns is not None:
        from vosbench.analysis import column_scan

        with engine.connect() as connection:
            selection = column_scan.select(columns, _scope(connection, f, reporting_timezone(connection, f), columns))
            if selection.summable():
                return _frame(_column_top(connection, column_scan.top_candidates(selection, n), n),
                              ("account", "name", "count", "amount"))
    indexed = text_index.prepare(engine, f.text)
    with engine.connect() as connection:
        timezone = reporting_timezone(connection, f)
        own = _account_rollup_conditions(connection, f, timezone, own=True)
        grouped: Callable[[queries.Summing], sa.Select]
        if own is not None:  # each account's own cells of the period
            rollup = tables.account_rollup

            def grouped(total: queries.Summing) -> sa.Select:
                return (sa.select(rollup.c.account_id, sa.func.sum(rollup.c.records), *total(rollup.c.amount),
                                  *total(rollup.c.moved)).where(*own).group_by(rollup.c.account_id))
        else:
            # Grouped after filtering: walking the account index to group would look up every row.
            chosen = _chosen(f, timezone, connection.dialect.name, _unordered(p.c.account_id).label("account_id"),
                             p.c.amount, indexed=indexed, driver=_driver(connection, f, timezone, indexed=indexed))

            def grouped(total: queries.Summing) -> sa.Select:
                return (sa.select(chosen.c.account_id, sa.func.count(), *total(chosen.c.amount),
                                  *total(sa.func.abs(chosen.c.amount))).group_by(chosen.c.account_id))
        return _frame(_top_ranked(connection, grouped, n), ("account", "name", "count", "amount"))


def _top_ranked(connection: sa.Connection, grouped: Callable[[queries.Summing], sa.Select], n: int) -> list[tuple]:
    """(account, name, count, amount) of the ``n`` accounts that moved the most, of the rows (account id, count,
    amount, moved) ``grouped`` sums per account; ties in account number order.

    The database ranks them (ORDER BY the sum moved, LIMIT ``n``). SQLite's SUM fails past 64 bits (an
    account that moved two absurd amounts): then every account's sums are read exactly
    (:func:`queries.summed_rows`) and ranked here.
    """
    plain = grouped(lambda expression: (sa.func.sum(expression),))
    account_id, _, _, moved = plain.selected_columns
    ranked = plain.order_by(moved.desc(), account_id).limit(n).subquery("ranked")
    ranked_id, count, amount, ranked_moved = ranked.c
    statement = (sa.select(_accounts.c.account, _accounts.c.name, count, amount)
                 .select_from(ranked.join(_accounts, _accounts.c.id == ranked_id))
                 .order_by(ranked_moved.desc(), _accounts.c.account))
    try:
        return [tuple(row) for row in connection.execute(statement)]
    except sa.exc.OperationalError as error:
        if not queries.sum_overflowed(connection, error):
            raise
    top = sorted(queries.summed_rows(connection, grouped), key=lambda row: (-row[3], row[0]))[:n]
    named = {row.id: (row.account, row.name) for row in connection.execute(
        sa.select(_accounts.c.id, _accounts.c.account, _accounts.c.name).where(_accounts.c.id.in_([row[0] for row in top])))}
    return [(*named[row[0]], row[1], row[2]) for row in sorted(top, key=lambda row: (-row[3], named[row[0]][0]))]


def latest_month(engine: Engine) -> PaymentFilter:
    """The calendar month (ledger's time zone) of the newest payment record; an empty filter if there is none.

    What the panel opens on: one month reads one month of records however long the history is.
    """
    with engine.connect() as connection:
        newest = connection.scalar(sa.select(sa.func.max(_payments.c.occurred_at)))
        if newest is None:
            return PaymentFilter()
        day = periods.local_day(newest, database.ledger_timezone(connection))
    first = day.replace(day=1)
    return PaymentFilter(start=first, end=(first + timedelta(days=32)).replace(day=1) - timedelta(days=1))


# --- choices for the form ------------------------------------------------------------------------

def account_choices(engine: Engine) -> list[tuple[str, str]]:
    """(label, account number) for every account, e.g. ("C00012 — Acme Trading (customer)", "C00012")."""
    with engine.connect() as connection:
        rows = connection.execute(sa.select(_accounts.c.account, _accounts.c.name, _accounts.c.kind)
                                  .order_by(_accounts.c.account)).all()
    return [(account_label(row.account, row.name, row.kind), row.account) for row in rows]


def operators(engine: Engine) -> list[str]:
    """Every operator who recorded a payment, sorted."""
    with engine.connect() as connection:
        return payment_rollup.operators(connection)


def totals_by_kind(engine: Engine, f: PaymentFilter) -> pd.DataFrame:
    """Count and sum per kind and currency of every record the filter selects (what the panel's totals show)."""
    selection = _scanned(engine, f)
    if selection is not None:
        with engine.connect() as connection:
            return _frame(_column_totals(connection, selection), TOTALS_COLUMNS)
    indexed = text_index.prepare(engine, f.text)
    with engine.connect() as connection:
        return _frame(_totals_by_kind(connection, f, reporting_timezone(connection, f), indexed=indexed), TOTALS_COLUMNS)


# --- answers from the payment columns ------------------------------------------------------------

def _columns(engine: Engine, f: PaymentFilter) -> payment_columns.PaymentColumns | None:
    """The payment columns when they may answer ``f``: current, and no text to search unless they answer it exactly
    (:meth:`~vosbench.analysis.payment_columns.PaymentColumns.answers_text`; else the text index and LIKE of SQL)."""
    from vosbench.analysis import payment_columns

    columns = payment_columns.current(engine)
    if columns is None or (f.text and not columns.answers_text(f.text, engine.dialect.name)):
        return None
    return columns


def _scanned(engine: Engine, f: PaymentFilter) -> column_scan.Selection | None:
    """The columns' selection of ``f`` when they are to answer its totals and charts: they are current and may answer
    it (:func:`_columns`), the payment rollup does not (:func:`_rolled_up`), and its sums stay exact in 64 bits;
    else None (SQL answers)."""
    columns = _columns(engine, f)
    if columns is None:
        return None
    from vosbench.analysis import column_scan

    with engine.connect() as connection:
        timezone = reporting_timezone(connection, f)
        if _rolled_up(connection, f, timezone):
            return None
        selection = column_scan.select(columns, _scope(connection, f, timezone, columns))
    return selection if selection.summable() else None


def _rolled_up(connection: sa.Connection, f: PaymentFilter, timezone: str) -> bool:
    """Whether the payment rollup answers ``f``'s totals and charts: a few dozen kept cells, where the columns scan
    each record of the period (a whole ledger's 10M: 90 ms against 10)."""
    return _rollup_conditions(connection, f, timezone) is not None


def _microseconds(moment: datetime) -> int:
    """A naive UTC time as the columns keep it: microseconds since 1970."""
    import numpy as np

    return int((np.datetime64(moment, "us") - np.datetime64(0, "us")).astype(np.int64))


def _scope(connection: sa.Connection, f: PaymentFilter, timezone: str,
           columns: payment_columns.PaymentColumns) -> column_scan.Scope:
    """``f`` as the columns test it; its accounts and currencies are turned into account ids, and its text into the
    codes of the memos holding it, by the same SQL tests that :func:`conditions` uses (its text only when
    ``columns`` answer it: no reference holds it)."""
    import numpy as np

    from vosbench.analysis import column_scan

    start, end = utc_bounds(f, timezone)

    def ids(statement: sa.Select) -> np.ndarray:
        return np.array(connection.scalars(statement).all(), dtype=np.int64)

    return column_scan.Scope(
        start=None if start is None else _microseconds(start), end=None if end is None else _microseconds(end),
        accounts=ids(account_scope(f)) if f.accounts else None, held=ids(held_in(f.currencies)) if f.currencies else None,
        kinds=tuple(kind.value for kind in f.kinds), channels=tuple(channel.value for channel in f.channels),
        methods=tuple(method.value for method in f.methods), operators=f.operators,
        low=f.min_amount, high=f.max_amount, memos=_memo_codes(connection, columns, f.text) if f.text else None)


def _memo_codes(connection: sa.Connection, columns: payment_columns.PaymentColumns, text: str) -> tuple[int, ...]:
    """The codes of the kept memos that contain ``text``, as the database's own LIKE of :func:`conditions` decides
    (tested on the few different memos, not on every record)."""
    memos = sa.func.json_each(sa.bindparam("memos", columns.memo_words)).table_valued("key", "value")
    return tuple(connection.scalars(sa.select(memos.c.key).where(memos.c.value.like(like_pattern(text), escape="\\"))))


def _column_totals(connection: sa.Connection, selection: column_scan.Selection) -> list[tuple]:
    """:func:`_totals_by_kind`'s rows from the columns: each record in its account's current currency."""
    from vosbench.analysis import column_scan

    currency_of, currencies = _currencies_by_account(connection)
    totals = column_scan.totals(selection, currency_of, currencies)
    return sorted(totals, key=lambda row: (row[1], _KIND_ORDER.get(row[0], len(_KIND_ORDER))))


_CURRENCY_MAPS: dict[tuple, tuple[np.ndarray, list[str]]] = {}


def _currencies_by_account(connection: sa.Connection) -> tuple[np.ndarray, list[str]]:
    """(code of each account id's current currency, -1 for none; the currencies coded), kept per ledger, login
    and state of the accounts: accounts and their versions are only ever added, so their newest ids tell a change
    (reading 50,000 accounts' currencies took 200 ms, a look-up of the newest ids takes none)."""
    import numpy as np

    key = (connection.engine.url.render_as_string(hide_password=True),
           connection.scalar(sa.select(sa.func.max(tables.accounts.c.id))),
           connection.scalar(sa.select(sa.func.max(tables.account_versions.c.id))))
    if key not in _CURRENCY_MAPS:
        only = _only_currency(connection)
        if only is not None:  # as SQL: every record is in the one currency, no account looked up
            _CURRENCY_MAPS[key] = (np.zeros(1, dtype=np.int16), [only])
        else:
            accounts = connection.execute(sa.select(_accounts.c.id, _accounts.c.currency)).all()
            currencies = sorted({currency for _, currency in accounts})
            code = {currency: index for index, currency in enumerate(currencies)}
            currency_of = np.full(max((account_id for account_id, _ in accounts), default=0) + 2, -1, dtype=np.int16)
            for account_id, currency in accounts:
                currency_of[account_id] = code[currency]
            _CURRENCY_MAPS[key] = (currency_of, currencies)
    return _CURRENCY_MAPS[key]


def _column_top(connection: sa.Connection, candidates: list[tuple[int, int, int, int]], n: int) -> list[tuple]:
    """:func:`_top_ranked`'s rows from the columns' candidates: named, ranked by money moved, ties by account number."""
    named = {row.id: (row.account, row.name) for row in connection.execute(
        sa.select(_accounts.c.id, _accounts.c.account, _accounts.c.name)
        .where(_accounts.c.id.in_([candidate[0] for candidate in candidates])))}
    ranked = sorted((candidate for candidate in candidates if candidate[0] in named),
                    key=lambda candidate: (-candidate[3], named[candidate[0]][0]))[:n]
    return [(*named[account_id], count, amount) for account_id, count, amount, _ in ranked]


def _rows_by_id(connection: sa.Connection, ids: list[int]) -> list[tuple]:
    """The page's rows (:data:`ROW_COLUMNS`) of the records ``ids``, in that order."""
    if not ids:
        return []
    statement = (sa.select(*(_SOURCES[name].label(name) for name in ROW_COLUMNS))
                 .select_from(_payments.join(_accounts, _accounts.c.id == _payments.c.account_id))
                 .where(_payments.c.id.in_(ids)))
    found = {row[0]: tuple(row) for row in connection.execute(statement)}
    return [found[record_id] for record_id in ids if record_id in found]
