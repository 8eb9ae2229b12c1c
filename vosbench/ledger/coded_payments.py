"""Payments as numpy columns of small integer codes: what the kept rollups of a batch are grouped by, worked out once.

The rollups kept by the write path (:mod:`vosbench.ledger.payment_rollup`,
:mod:`vosbench.ledger.account_rollup`, :mod:`vosbench.ledger.amount_rollup`) sum a batch's
payments per cell: a local day or month, kind, channel, method, the account's current
currency, an account or operator. Folded record by record in Python, that cost as much as
inserting the records; here each column is coded once per batch (a dict look-up per value,
the local days found by one bulk search of the day starts) and a rollup's cells are the
distinct rows of a few code columns, summed in bulk (:func:`grouped`). The sums stay exact:
int64 when the batch's amounts cannot overflow it, Python integers otherwise (:func:`exact`).
A batch's month totals (of payments, and of charges per account and month) are summed the same way.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING, NamedTuple
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from vosbench.ledger import database, hashchain, rollup_cells, tables

if TYPE_CHECKING:
    import numpy as np

Cells = rollup_cells.Cells


class Coded(NamedTuple):
    """One column of a batch: a code per payment, and the value each code stands for."""

    codes: np.ndarray  # int64, one per payment (or per cell being regrouped)
    words: np.ndarray  # object: words[code] is the value


def coded(values: Iterable) -> Coded:
    """``values`` as codes: a dict look-up per value, much cheaper than sorting Python objects."""
    import numpy as np  # here: commands that never write a table never load numpy

    values = values if isinstance(values, Sequence) else list(values)
    distinct = list(set(values))
    index = {value: code for code, value in enumerate(distinct)}
    words = np.empty(len(distinct), dtype=object)
    words[:] = distinct
    return Coded(np.fromiter(map(index.__getitem__, values), np.int64, len(values)), words)


def grouped(keys: Sequence[np.ndarray], values: Sequence[np.ndarray]) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """The distinct rows of the code columns ``keys``, and each of ``values`` summed over each (one sort)."""
    import numpy as np

    order = np.lexsort(keys[::-1])
    ordered = [key[order] for key in keys]
    change = np.zeros(len(order), dtype=bool)
    if len(order):
        change[0] = True
    for key in ordered:
        change[1:] |= key[1:] != key[:-1]
    starts = np.flatnonzero(change)
    if not len(starts):
        return [key[:0] for key in ordered], [value[:0] for value in values]
    return [key[starts] for key in ordered], [np.add.reduceat(value[order], starts) for value in values]


def as_cells(key: Sequence[Coded | str], groups: Sequence[np.ndarray], sums: Sequence[np.ndarray]) -> Cells:
    """Grouped codes back to a rollup's cells: ``key`` names each key column's :class:`Coded` (its codes are
    ``groups``, in order) or a fixed word (the grain, an empty operator)."""
    size = len(sums[0])
    decoded = iter([column.words[codes].tolist() for column, codes in zip((k for k in key if not isinstance(k, str)), groups)])
    columns = [[word] * size if isinstance(word, str) else next(decoded) for word in key]
    return dict(zip(zip(*columns), map(list, zip(*(total.tolist() for total in sums)))))


def cells(key: Sequence[Coded | str], values: Sequence[np.ndarray], rows: np.ndarray | None = None) -> Cells:
    """The sums of ``values`` per distinct ``key`` (:class:`Coded` columns or fixed words) over ``rows`` (a mask)."""
    columns = [column.codes if rows is None else column.codes[rows] for column in key if not isinstance(column, str)]
    groups, sums = grouped(columns, [value if rows is None else value[rows] for value in values])
    return as_cells(key, groups, sums)


def exact(values: Sequence[int]) -> np.ndarray:
    """``values`` as an array whose sums are exact: int64 unless together they could pass it, else Python integers."""
    import numpy as np

    return np.array(values, dtype=object if sum(map(abs, values)) >= 2**63 else np.int64)


FIRST_YEAR, LAST_YEAR = 1970, 2100
"""The years the ledger handles."""


@lru_cache(maxsize=64)
def _day_starts(tz_name: str, first_year: int, last_year: int) -> tuple[np.ndarray, np.ndarray]:
    """Each local day's start as naive UTC (datetime64[us]) from ``first_year`` to the first day after
    ``last_year``, and its YYYY-MM-DD label (the years a batch needs: a few milliseconds a year)."""
    import numpy as np

    zone, day, last = ZoneInfo(tz_name), date(first_year, 1, 1), date(last_year + 1, 1, 1)
    starts, labels = [], []
    while day <= last:
        starts.append(hashchain.canonical_time(datetime(day.year, day.month, day.day, tzinfo=zone)
                                               .astimezone(UTC).replace(tzinfo=None)))
        labels.append(day.isoformat())
        day += timedelta(days=1)
    words = np.empty(len(labels), dtype=object)
    words[:] = labels
    return np.array(starts, dtype="datetime64[us]"), words


def local_days(tz_name: str, times: Sequence[str]) -> Coded:
    """The local day (YYYY-MM-DD in ``tz_name``) of each naive UTC instant, given as its canonical text.

    numpy parses the text ten times faster than it converts datetime objects, and the write
    door has the text already (it is what is stored and hashed); the days are then one search
    of the day starts of the years around the instants' (a local day is at most a day from the UTC one).
    """
    import numpy as np

    instants = np.array(times, dtype="datetime64[us]")
    if not len(instants):
        return Coded(np.zeros(0, dtype=np.int64), np.empty(0, dtype=object))
    years = instants.astype("datetime64[Y]").astype(np.int64) + 1970
    first, last = max(int(years.min()) - 1, FIRST_YEAR), min(int(years.max()) + 1, LAST_YEAR)
    starts, labels = _day_starts(tz_name, min(first, LAST_YEAR), max(last, FIRST_YEAR))
    index = np.searchsorted(starts, instants, side="right") - 1
    outside = np.flatnonzero((index < 0) | (index >= len(starts) - 1))
    if len(outside):
        raise ValueError(f"{times[outside[0]]} is outside the years {FIRST_YEAR}-{LAST_YEAR} the ledger handles")
    days, codes = np.unique(index, return_inverse=True)
    return Coded(codes.reshape(-1), labels[days])


def currencies(connection: sa.Connection, account_ids: Iterable[int]) -> dict[int, str]:
    """Each account's current currency (accounts missing from the view are left out).

    Many accounts are read in one statement over the whole view: a bulk import touches most
    of them, and 500 at a time cost a statement per 500.
    """
    view, wanted = tables.current_accounts, sorted(set(account_ids))
    if len(wanted) > 5_000:
        found = dict(connection.execute(sa.select(view.c.id, view.c.currency)).all())
        return {account_id: found[account_id] for account_id in wanted if account_id in found}
    found = {}
    for start in range(0, len(wanted), 500):
        found.update(connection.execute(sa.select(view.c.id, view.c.currency)
                                        .where(view.c.id.in_(wanted[start:start + 500]))).all())
    return found


class CodedPayments:
    """A batch of payments as coded columns, each worked out once for every rollup that sums it.

    ``times`` are the naive UTC instants as :func:`vosbench.ledger.hashchain.canonical_time` text.

    Records of an account missing from the accounts view (removed behind the guards) join
    no account and so no cell: :attr:`known` leaves them out.
    """

    def __init__(self, connection: sa.Connection, account_ids: Sequence[int], times: Sequence[str],
                 kinds: Iterable[str], channels: Iterable[str], methods: Iterable[str], amounts: Sequence[int],
                 operators: Iterable[str] | None = None):
        import numpy as np

        self.connection = connection
        self.account = coded(account_ids)
        self.day = local_days(database.ledger_timezone(connection), times)
        self.month = _months(self.day)
        self.kind, self.channel, self.method = coded(map(str, kinds)), coded(map(str, channels)), coded(map(str, methods))
        self.operator = coded(operators) if operators is not None else None
        currency_of = currencies(connection, self.account.words.tolist())
        currency = coded(currency_of.get(account_id, "") for account_id in self.account.words.tolist())
        self.currency = Coded(currency.codes[self.account.codes], currency.words)
        self.known = np.isin(self.account.codes, [code for code, account_id in enumerate(self.account.words.tolist())
                                                  if account_id in currency_of])
        self.amount = exact(amounts)
        self.records = np.ones(len(amounts), dtype=self.amount.dtype)

    def __len__(self) -> int:
        return len(self.records)


def _months(days: Coded) -> Coded:
    """The YYYY-MM month of each day of ``days``."""
    month = coded(label[:7] for label in days.words.tolist())
    return Coded(month.codes[days.codes], month.words)


def read(connection: sa.Connection, *where: sa.ColumnElement[bool]) -> Iterator[CodedPayments]:
    """The raw payment records (those ``where`` selects), coded a part at a time (for ``verify`` and rebuilds)."""
    payments = tables.payments
    statement = sa.select(payments.c.account_id, payments.c.occurred_at, payments.c.kind, payments.c.channel,
                          payments.c.method, payments.c.amount, payments.c.operator).where(*where)
    for part in connection.execute(statement, execution_options={"yield_per": 100_000}).partitions():
        account_ids, times, kinds, channels, methods, amounts, operators = zip(*part)
        yield CodedPayments(connection, account_ids, list(map(hashchain.canonical_time, times)), kinds, channels,
                            methods, amounts, operators)
