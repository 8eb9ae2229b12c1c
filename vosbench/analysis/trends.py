"""Payment trends at any grain, beside the previous period and the same period a year before.

:func:`trend` counts and sums a :class:`~vosbench.analysis.filters.PaymentFilter`'s records
per day, ISO week, month or quarter of the reporting time zone, split by kind, channel,
method, operator or top-level subtree (the reseller or unparented account a record's
account hangs under), in one currency: two currencies never add up, so a ledger whose accounts
hold several is drawn one currency at a time (the records of the accounts holding it). The
first and last grains are cut to the period, so a bar holds exactly the records the grid shows
for it (a cut grain is labelled with its days: ``2026-Q3 (08-01–09-30)``). Each grain is
compared with the same days of the grain as many grains before (the period just before) and of
the grain a year earlier; money stays exact integer minor units, summed by the database (exact
past 64 bits: :func:`vosbench.ledger.queries.summed_rows`).

Portable SQL cannot cut days in a time zone, so each grain's UTC bounds are bound as a
small derived table joined on the time index (as :func:`vosbench.analysis.explore.monthly_by_kind`
does for months). :func:`movers` reads the kept per-account month totals: the accounts
whose deposits or charges changed most from the month before.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, replace
from datetime import date, timedelta

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from vosbench.analysis import explore
from vosbench.analysis.filters import PaymentFilter
from vosbench.core import periods
from vosbench.core.errors import VosbenchError
from vosbench.core.money import MAX_MINOR, format_money, whole_series
from vosbench.ledger import database, handle, payment_rollup, queries, tables, text_index

GRAINS = ("day", "week", "month", "quarter")
DIMENSIONS = ("kind", "channel", "method", "operator", "subtree")
MAX_BUCKETS = 400
"""Most points a trend draws; SQLite also caps a compound SELECT at 500 parts."""
TOP_GROUPS = 8
"""Groups drawn by name (largest money moved first); the rest are summed as ``OTHERS``."""
OTHERS = "others"
_GRAINS_PER_YEAR = {"week": 52, "month": 12, "quarter": 4}
_p, _accounts = tables.payments, tables.current_accounts


class TrendError(VosbenchError, ValueError):
    """A trend that cannot be drawn as asked; the message says what to change."""


@dataclass(frozen=True)
class Bucket:
    """One grain of the period: its label and its local days (inclusive)."""

    label: str
    first_day: date
    last_day: date


@dataclass(frozen=True)
class Trend:
    """What :func:`trend` found.

    ``groups``: position, bucket, group, count, amount — the period's records in ``currency``
    per grain and group (top groups by name, the rest as ``others``). ``totals``: one row per position with
    bucket, amount, count, and the same for the period before (``previous_*``) and a year
    before (``last_year_*``), zero where no record fell. ``only``: the currency the records were
    restricted to, on a ledger whose accounts hold several (None when all are in ``currency``).
    """

    grain: str
    by: str
    timezone: str
    currency: str
    buckets: tuple[Bucket, ...]
    previous: tuple[Bucket, ...]
    last_year: tuple[Bucket, ...]
    groups: pd.DataFrame
    totals: pd.DataFrame
    only: str | None = None


# --- grains ---------------------------------------------------------------------------------

def _start_of(day: date, grain: str) -> date:
    if grain == "day":
        return day
    if grain == "week":
        return day - timedelta(days=day.weekday())
    if grain == "month":
        return day.replace(day=1)
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def _step(start: date, grain: str, steps: int) -> date:
    """The start of the grain ``steps`` grains after (before, when negative) the one starting at ``start``."""
    if grain == "day":
        return start + timedelta(days=steps)
    if grain == "week":
        return start + timedelta(weeks=steps)
    months = steps * (3 if grain == "quarter" else 1)
    index = start.year * 12 + start.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _label(start: date, grain: str) -> str:
    if grain == "day":
        return start.isoformat()
    if grain == "week":
        year, week, _ = start.isocalendar()
        return f"{year}-W{week:02d}"
    if grain == "month":
        return f"{start:%Y-%m}"
    return f"{start.year}-Q{(start.month - 1) // 3 + 1}"


def _check_grain(grain: str) -> None:
    if grain not in GRAINS:
        raise TrendError(f"grain: {grain!r} is not a grain; use one of: {', '.join(GRAINS)}")


def buckets(first: date, last: date, grain: str) -> tuple[Bucket, ...]:
    """The grains of local days ``first`` .. ``last``, the first and last cut to them."""
    _check_grain(grain)
    if first > last:
        raise TrendError(f"the period starts {first} after it ends {last}; swap the From and To days")
    found, start = [], _start_of(first, grain)
    while start <= last:
        following = _step(start, grain, 1)
        found.append(_bucket(start, max(start, first), min(following - timedelta(days=1), last), grain))
        if len(found) > MAX_BUCKETS:
            raise TrendError(f"{first} to {last} by {grain} is more than {MAX_BUCKETS} points; "
                             "choose a coarser grain (week, month, quarter) or a shorter period")
        start = following
    return tuple(found)


def _bucket(start: date, first_day: date, last_day: date, grain: str) -> Bucket:
    """The days ``first_day`` .. ``last_day`` of the grain starting at ``start``; labelled with them when they
    are not the whole grain."""
    label = _label(start, grain)
    if (first_day, last_day) != (start, _step(start, grain, 1) - timedelta(days=1)):
        label += f" ({first_day:%m-%d})" if first_day == last_day else f" ({first_day:%m-%d}–{last_day:%m-%d})"
    return Bucket(label, first_day, last_day)


def _shifted(current: tuple[Bucket, ...], grain: str, steps: int) -> tuple[Bucket, ...]:
    """Each grain of ``current`` moved ``steps`` grains (earlier when negative), with the same days of its grain:
    a grain cut to start on its 32nd day or end 10 days early is compared with the same part of the other."""
    moved = []
    for bucket in current:
        start = _start_of(bucket.first_day, grain)
        end = _step(start, grain, 1) - timedelta(days=1)
        into, short = (bucket.first_day - start).days, (end - bucket.last_day).days
        other = _step(start, grain, steps)
        other_end = _step(other, grain, 1) - timedelta(days=1)
        first_day = min(other + timedelta(days=into), other_end)
        moved.append(_bucket(other, first_day, max(other_end - timedelta(days=short), first_day), grain))
    return tuple(moved)


def previous_period(current: tuple[Bucket, ...], grain: str) -> tuple[Bucket, ...]:
    """As many grains, ending the grain before ``current`` starts, each cut as its counterpart is."""
    return _shifted(current, grain, -len(current))


def same_period_last_year(current: tuple[Bucket, ...], grain: str) -> tuple[Bucket, ...]:
    """The grains a year before, each cut as its counterpart is: the same days (29 February: the 28th), weeks
    52 weeks earlier (same weekdays), months, quarters."""
    if grain == "day":
        return tuple(_bucket(day, day, day, grain) for day in (
            b.first_day.replace(year=b.first_day.year - 1, day=28) if (b.first_day.month, b.first_day.day) == (2, 29)
            else b.first_day.replace(year=b.first_day.year - 1) for b in current))
    return _shifted(current, grain, -_GRAINS_PER_YEAR[grain])


# --- SQL ------------------------------------------------------------------------------------

def _subtree_roots():
    """(account id, number of the top account above it) for every account, by a recursive CTE."""
    child = _accounts.alias("child")
    tree = (sa.select(_accounts.c.id.label("id"), _accounts.c.account.label("root"))
            .where(_accounts.c.parent_id.is_(None)).cte("subtree", recursive=True))
    return tree.union_all(sa.select(child.c.id, tree.c.root).where(child.c.parent_id == tree.c.id))


def _grouped(connection: sa.Connection, f: PaymentFilter, timezone: str, run: tuple[Bucket, ...], by: str,
             indexed: bool, only: str | None = None) -> list[tuple]:
    """(position, group, count, amount) of ``f``'s records over ``run``'s grains (f's own days ignored).

    ``only``: keep the records of the accounts holding that currency (None: every record, one currency).
    """
    bounds = sa.union_all(*(
        sa.select(sa.literal(position, sa.Integer).label("position"),
                  sa.literal(periods.local_midnight(b.first_day, timezone), sa.DateTime).label("starts"),
                  sa.literal(periods.local_midnight(b.last_day + timedelta(days=1), timezone),
                             sa.DateTime).label("ends"))
        for position, b in enumerate(run))).subquery("grains")
    source = bounds.join(_p, sa.and_(_p.c.occurred_at >= bounds.c.starts, _p.c.occurred_at < bounds.c.ends))
    if by == "subtree":
        roots = _subtree_roots()
        source = source.join(roots, roots.c.id == _p.c.account_id)
        group = roots.c.root
    else:
        group = _p.c[by]
    undated = replace(f, start=None, end=None)
    in_currency = () if only is None else (
        _p.c.account_id.in_(explore.held_in((only,))),)
    where = (*explore.conditions(undated, timezone, connection.dialect.name, indexed=indexed), *in_currency)
    rows = queries.summed_rows(connection, lambda total: (
        sa.select(bounds.c.position, group.label("grp"), sa.func.count(), *total(_p.c.amount))
        .select_from(source).where(*where).group_by(bounds.c.position, group)))
    return [(int(position), str(name), int(count), queries.whole_number(amount)) for position, name, count, amount in rows]


def _grouped_from_rollup(connection: sa.Connection, f: PaymentFilter, timezone: str, run: tuple[Bucket, ...],
                         by: str, only: str | None = None) -> list[tuple] | None:
    """What :func:`_grouped` gives, summed from the payment rollup's month or day cells; None when it cannot answer.

    The rollup keeps every record's count and sum per local month and day of the ledger's zone,
    by kind, channel and method, so a trend by one of those over whole grains is a few thousand
    cells instead of every record of three periods (their cells keep the account's currency, which
    ``only`` picks as :func:`_grouped` does). Operators (a trend by operator, or a filter naming
    some) are kept per whole month: their months' cells answer whole months and quarters (no index
    holds the operator of a record). A filter naming accounts, amounts or text, operators over
    weeks or days, another zone, or a login that does not see the rollup reads the records.
    """
    if by not in ("kind", "channel", "method", "operator") or f.accounts or f.text \
            or f.min_amount is not None or f.max_amount is not None:
        return None
    if timezone != database.ledger_timezone(connection) or not payment_rollup.covers_ledger(connection):
        return None
    monthly = all(b.first_day.day == 1 and (b.last_day + timedelta(days=1)).day == 1 for b in run)
    by_operator = by == "operator" or bool(f.operators)
    if by_operator and not monthly:  # operators are kept by month only
        return None
    width = 7 if monthly else 10  # YYYY-MM or YYYY-MM-DD
    rollup = tables.payment_rollup
    operators: tuple[sa.ColumnElement[bool], ...]
    if by_operator:
        grain = payment_rollup.OPERATOR_MONTH
        operators = (rollup.c.operator.in_(f.operators),) if f.operators else ()
    else:  # month and day cells sum every operator: the key's prefix is whole
        grain = payment_rollup.MONTH if monthly else payment_rollup.DAY
        operators = (rollup.c.operator == "",)
    where = (rollup.c.grain == grain, *operators,
             rollup.c.period.between(run[0].first_day.isoformat()[:width], run[-1].last_day.isoformat()[:width]),
             *explore.vocabulary_clauses(rollup, f), *(() if only is None else (rollup.c.currency == only,)))
    starts = [b.first_day.isoformat()[:width] for b in run]
    summed: dict[tuple[int, str], list[int]] = {}
    for period, group, count, amount in queries.summed_rows(connection, lambda total: (
            sa.select(rollup.c.period, rollup.c[by], sa.func.sum(rollup.c.records), *total(rollup.c.amount))
            .where(*where).group_by(rollup.c.period, rollup.c[by]))):
        figures = summed.setdefault((bisect.bisect_right(starts, period) - 1, str(group)), [0, 0])
        figures[0] += int(count)
        figures[1] += int(amount)
    return [(position, group, count, amount) for (position, group), (count, amount) in summed.items()]


def _summed(connection: sa.Connection, statement: sa.Select, what: str) -> list[sa.Row]:
    """The rows of ``statement`` (the movers'), whose sums are exact or refused in words, never a float.

    PostgreSQL and MariaDB SUM a BIGINT as a whole NUMERIC; SQLite's SUM stops at 64 bits
    with an error, while its ``+`` past them (and a server's) gives a REAL or an error: each
    is refused, naming ``what`` passed the range.
    """
    try:
        rows = list(connection.execute(statement))
    except sa.exc.DBAPIError as error:
        if not any(words in str(error.orig) for words in ("integer overflow", "out of range")):
            raise
        raise TrendError(_PAST_RANGE.format(what=what)) from None
    if any(isinstance(value, float) for row in rows for value in row):
        raise TrendError(_PAST_RANGE.format(what=what))
    return rows


_PAST_RANGE = ("{what} sum past the largest amount the ledger can hold (" + format_money(MAX_MINOR, 4) + "), "
               "which a trend cannot draw exactly; narrow the filter (kinds, accounts, currency) or take a shorter grain")


def _period_of(connection: sa.Connection, f: PaymentFilter, timezone: str) -> tuple[date, date] | None:
    first, last = f.start, f.end
    if first is None or last is None:
        earliest, latest = explore.record_span(connection)
        if earliest is None or latest is None:
            return None
        first = first or periods.local_day(earliest, timezone)
        last = last or periods.local_day(latest, timezone)
    return first, last


def _restriction(held: list[str], currency: str | None) -> tuple[str, str | None]:
    """(the trend's currency, the currency its records must be restricted to or None when all are in it).

    ``held``: the currencies the ledger's accounts hold, sorted.
    """
    if currency is None:
        if len(held) > 1:
            raise TrendError(f"currency: the ledger's accounts hold {', '.join(held)}, which never add up; "
                             "draw the trend in one of them")
        return (held[0] if held else ""), None
    if currency not in held:
        raise TrendError(f"currency: no account holds {currency!r}; use one of: {', '.join(held) or 'none (no account)'}")
    return currency, (currency if len(held) > 1 else None)


def trend(engine: Engine, f: PaymentFilter, *, grain: str = "month", by: str = "kind", currency: str | None = None) -> Trend:
    """``f``'s records per ``grain`` and ``by`` group, with the previous period and last year beside them.

    ``currency``: the records of the accounts holding it; needed when the accounts hold several,
    unless ``f`` names one currency.
    """
    _check_grain(grain)
    if currency is None and len(f.currencies) == 1:
        currency = f.currencies[0]
    if by not in DIMENSIONS:
        raise TrendError(f"by: {by!r} is not a way to split a trend; use one of: {', '.join(DIMENSIONS)}")
    shown, only = _restriction(handle.currencies(engine), currency)
    indexed = text_index.prepare(engine, f.text)
    with engine.connect() as connection:
        timezone = explore.reporting_timezone(connection, f)
        period = _period_of(connection, f, timezone)
        if period is None:
            empty = pd.DataFrame(columns=["position", "bucket", "group", "count", "amount"])
            return Trend(grain, by, timezone, shown, (), (), (), empty, _totals((), [], [], []), only)
        current = buckets(*period, grain)
        before, year_before = previous_period(current, grain), same_period_last_year(current, grain)
        rows, before_rows, year_rows = (
            _grouped_from_rollup(connection, f, timezone, run, by, only)
            or _grouped(connection, f, timezone, run, by, indexed, only)
            for run in (current, before, year_before))
    return Trend(grain, by, timezone, shown, current, before, year_before, _top_groups(rows, current),
                 _totals(current, rows, before_rows, year_rows), only)


def _top_groups(rows: list[tuple], run: tuple[Bucket, ...]) -> pd.DataFrame:
    moved: dict[str, int] = {}
    for _, name, _, amount in rows:
        moved[name] = moved.get(name, 0) + abs(amount)
    named = set(sorted(moved, key=lambda name: (-moved[name], name))[:TOP_GROUPS])
    summed: dict[tuple[int, str], list[int]] = {}
    for position, name, count, amount in rows:
        key = (position, name if name in named else OTHERS)
        figures = summed.setdefault(key, [0, 0])
        figures[0] += count
        figures[1] += amount
    order = {name: index for index, name in enumerate(sorted(named, key=lambda name: (-moved[name], name)))}
    keys = sorted(summed, key=lambda key: (key[0], order.get(key[1], len(order))))
    return pd.DataFrame({"position": [key[0] for key in keys], "bucket": [run[key[0]].label for key in keys],
                         "group": [key[1] for key in keys], "count": [summed[key][0] for key in keys],
                         "amount": whole_series([summed[key][1] for key in keys])}).astype({"position": "int64", "count": "int64"})


def _per_position(rows: list[tuple], size: int) -> tuple[list[int], list[int]]:
    counts, amounts = [0] * size, [0] * size
    for position, _, count, amount in rows:
        counts[position] += count
        amounts[position] += amount
    return counts, amounts


def _totals(current, rows, before_rows, year_rows) -> pd.DataFrame:
    size = len(current)
    count, amount = _per_position(rows, size)
    previous_count, previous_amount = _per_position(before_rows, size)
    year_count, year_amount = _per_position(year_rows, size)
    return pd.DataFrame({
        "position": list(range(size)), "bucket": [b.label for b in current],
        "count": count, "amount": whole_series(amount), "previous_count": previous_count,
        "previous_amount": whole_series(previous_amount), "last_year_count": year_count,
        "last_year_amount": whole_series(year_amount),
    }).astype({name: "int64" for name in ("position", "count", "previous_count", "last_year_count")})


# --- cross-filtering ------------------------------------------------------------------------

def narrowed(f: PaymentFilter, shown: Trend, position: int, group: str | None = None) -> PaymentFilter:
    """``f`` narrowed to one grain of ``shown`` (and one group, unless None or ``others``), and to the trend's
    currency when the ledger holds several: a chart click, whose grid shows exactly the bar's records."""
    bucket = shown.buckets[position]
    start = max(bucket.first_day, f.start) if f.start else bucket.first_day
    end = min(bucket.last_day, f.end) if f.end else bucket.last_day
    narrower = replace(f, start=start, end=end, currencies=(shown.only,) if shown.only else f.currencies)
    if group is None or group == OTHERS:
        return narrower
    if shown.by == "subtree":
        return replace(narrower, accounts=(group,), include_sub_accounts=True)
    field = {"kind": "kinds", "channel": "channels", "method": "methods", "operator": "operators"}[shown.by]
    return PaymentFilter.from_parameters({**narrower.to_parameters(), field: [group]})


# --- movers ---------------------------------------------------------------------------------

MOVER_COLUMNS = ("account", "name", "currency", "deposits", "previous_deposits", "deposits_change",
                 "charges", "previous_charges", "charges_change")


def movers(engine: Engine, month: str, n: int = 10, f: PaymentFilter | None = None,
           currency: str | None = None) -> pd.DataFrame:
    """The ``n`` accounts whose deposits or charges changed most from the month before ``month`` ('YYYY-MM').

    Months of the ledger's time zone, from the kept per-account month totals; ``f``'s
    accounts (with sub-accounts when it says so) narrow the accounts, its other fields do not.
    Ranked by the larger of the two changes (absolute), then account number. Changes in
    different currencies are never ranked against each other: ``currency`` keeps the
    accounts held in it, and a ledger of several currencies needs one (as :func:`trend`).
    """
    if n < 1:
        raise TrendError(f"n: {n} movers is not a number of accounts; give 1 or more")
    before = periods.shift_label(month, -1)  # raises PeriodError naming the label's fix
    kept = tables.account_months
    charges = kept.c.call_fee + kept.c.agent_fee + kept.c.other_fee

    def in_month(label: str, value):
        return sa.func.sum(sa.case((kept.c.month == label, value), else_=0))

    _, only = _restriction(handle.currencies(engine), currency)
    where = [kept.c.month.in_([month, before])]
    if f is not None and f.accounts:
        where.append(kept.c.account_id.in_(explore.account_scope(f)))
    if only is not None:
        where.append(kept.c.account_id.in_(explore.held_in((only,))))
    per_account = (sa.select(kept.c.account_id, in_month(month, kept.c.deposit).label("deposits"),
                             in_month(before, kept.c.deposit).label("previous_deposits"),
                             in_month(month, charges).label("charges"),
                             in_month(before, charges).label("previous_charges"))
                   .where(*where).group_by(kept.c.account_id).subquery("per_account"))
    deposit_change = per_account.c.deposits - per_account.c.previous_deposits
    charge_change = per_account.c.charges - per_account.c.previous_charges
    larger = sa.case((sa.func.abs(deposit_change) >= sa.func.abs(charge_change), sa.func.abs(deposit_change)),
                     else_=sa.func.abs(charge_change))
    statement = (sa.select(_accounts.c.account, _accounts.c.name, _accounts.c.currency, per_account.c.deposits,
                           per_account.c.previous_deposits, deposit_change, per_account.c.charges,
                           per_account.c.previous_charges, charge_change)
                 .select_from(per_account.join(_accounts, _accounts.c.id == per_account.c.account_id))
                 .where(larger > 0).order_by(larger.desc(), _accounts.c.account).limit(n))
    with engine.connect() as connection:
        rows = _summed(connection, statement, "an account's deposits or charges of the two months")
    frame = pd.DataFrame([tuple(row) for row in rows], columns=list(MOVER_COLUMNS))
    return frame.astype({name: "int64" for name in MOVER_COLUMNS[3:]})
