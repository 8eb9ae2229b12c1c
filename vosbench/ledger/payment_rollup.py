"""Count and sum of the payments per local month and day, kind, channel, method and currency.

The explore panel's filters that name no account, amount or text (a period, kinds,
channels, methods, operators) select whole cells of this rollup: their count, per-kind
totals and charts are sums of at most a few thousand rows instead of a scan of every
record over history. Months ('M' rows) answer the whole months of a period and days ('D'
rows) its partial months; both are cut in the ledger's time zone, as month totals are.
Operators' months ('O' rows, one set per operator) answer a filter of operators over
whole months. The currency is the account's current one, as the panel's totals group by it.

The rows are derived data, kept in the same transaction as every append
(:func:`add_payments`), rebuilt when an account's currency changes or records are
purged (:func:`rebuild`), and recomputed from the raw records by ``verify``
(:func:`recompute`, :func:`stored`).
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from vosbench.ledger import database, rollup_cells, tables

MONTH, DAY, OPERATOR_MONTH = "M", "D", "O"
KEY_COLUMNS = ("grain", "operator", "period", "kind", "channel", "method", "currency")
VALUE_COLUMNS = ("records", "amount")
Cells = rollup_cells.Cells
"""(grain, operator, period, kind, channel, method, currency) → [records, amount]."""


class DayKeyer:
    """Turns naive UTC instants into YYYY-MM-DD days of a time zone (by bisection over day starts)."""

    def __init__(self, tz_name: str):
        self.starts, self.labels = _day_starts(tz_name)

    def of_instant(self, naive_utc: datetime) -> str:
        index = bisect.bisect_right(self.starts, naive_utc) - 1
        if index < 0 or index == len(self.starts) - 1:
            raise ValueError(f"{naive_utc.isoformat()} is outside the years 1970-2100 the ledger handles")
        return self.labels[index]


@lru_cache(maxsize=4)
def _day_starts(tz_name: str) -> tuple[list[datetime], list[str]]:
    zone, day, last = ZoneInfo(tz_name), date(1970, 1, 1), date(2101, 1, 1)
    starts, labels = [], []
    while day <= last:
        starts.append(datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(UTC).replace(tzinfo=None))
        labels.append(day.isoformat())
        day += timedelta(days=1)
    return starts, labels


def currencies(connection: sa.Connection, account_ids: Iterable[int]) -> dict[int, str]:
    """Each account's current currency (accounts missing from the view are left out)."""
    view, wanted = tables.current_accounts, sorted(set(account_ids))
    found: dict[int, str] = {}
    for start in range(0, len(wanted), 500):
        found.update(connection.execute(sa.select(view.c.id, view.c.currency)
                                        .where(view.c.id.in_(wanted[start:start + 500]))).all())
    return found


def cells(connection: sa.Connection, account_ids: Sequence[int], times: Iterable[datetime], kinds: Iterable[str],
          channels: Iterable[str], methods: Iterable[str], operators: Iterable[str], amounts: Iterable[int]) -> Cells:
    """The rollup cells of payments given as columns (one value per payment in each)."""
    keyer = DayKeyer(database.ledger_timezone(connection))
    by_account: dict[tuple, list[int]] = {}
    for key, amount in zip(zip(map(keyer.of_instant, times), kinds, channels, methods, operators, account_ids), amounts):
        rollup_cells.fold(by_account, key, (1, amount))
    currency = currencies(connection, account_ids)
    result: Cells = {}
    for (day, kind, channel, method, operator, account_id), (records, amount) in by_account.items():
        if account_id not in currency:  # an account removed behind the guards: its records join no account
            continue
        words = (str(kind), str(channel), str(method), currency[account_id])
        for cell in ((DAY, "", day, *words), (MONTH, "", day[:7], *words), (OPERATOR_MONTH, operator, day[:7], *words)):
            rollup_cells.fold(result, cell, (records, amount))
    return result


def add_payments(connection: sa.Connection, account_ids: Sequence[int], times: Iterable[datetime],
                 kinds: Iterable[str], channels: Iterable[str], methods: Iterable[str], operators: Iterable[str],
                 amounts: Iterable[int]) -> None:
    """Fold newly appended payments into the rollup (in the append's transaction)."""
    added = cells(connection, account_ids, times, kinds, channels, methods, operators, amounts)
    if not added:
        return
    table = tables.payment_rollup
    spans = []
    for grain in (MONTH, DAY, OPERATOR_MONTH):
        periods = [key[2] for key in added if key[0] == grain]
        span = [table.c.grain == grain, table.c.period.between(min(periods), max(periods))]
        if grain == OPERATOR_MONTH:  # each operator's months are a range of the key
            span.append(table.c.operator.in_(sorted({key[1] for key in added if key[0] == grain})))
        spans.append(sa.and_(*span))
    rollup_cells.merge(connection, table, KEY_COLUMNS, VALUE_COLUMNS, added, sa.or_(*spans))


def recompute(connection: sa.Connection) -> Cells:
    """The rollup from the raw records (for ``verify`` and :func:`rebuild`)."""
    payments = tables.payments
    return rollup_cells.recompute(connection, (payments.c.account_id, payments.c.occurred_at, payments.c.kind,
                                               payments.c.channel, payments.c.method, payments.c.operator,
                                               payments.c.amount), cells)


def stored(connection: sa.Connection) -> Cells:
    """The rollup as kept."""
    return rollup_cells.stored(connection, tables.payment_rollup, KEY_COLUMNS, VALUE_COLUMNS)


def rebuild(connection: sa.Connection) -> None:
    """Replace the rollup with one recomputed from the raw records.

    For the rare changes that move records between cells: an account's currency changed,
    a retention purge removed records.
    """
    rollup_cells.replace(connection, tables.payment_rollup, KEY_COLUMNS, VALUE_COLUMNS, recompute(connection))


def covers_ledger(connection: sa.Connection) -> bool:
    """Whether this connection may answer from the rollup: it holds rows, and so this login sees them.

    A scoped login (a reseller's or agent's) sees none of the rollup, which sums every
    account; its totals are counted from the records it sees. So does a login the rollup
    was not yet granted to or scoped for (a server ledger upgraded since ``server init``,
    until it is run again): the refusal is taken back to a savepoint, the transaction goes
    on. A ledger without payments has no rows either, and nothing to count.
    """
    return covers(connection, tables.payment_rollup)


def covers(connection: sa.Connection, table: sa.Table) -> bool:
    """Whether ``table`` (a rollup of every account) holds rows this login sees (see :func:`covers_ledger`)."""
    try:
        with connection.begin_nested():
            return connection.scalar(sa.select(sa.literal(1)).select_from(table).limit(1)) is not None
    except sa.exc.DBAPIError:
        return False
