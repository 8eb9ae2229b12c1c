"""Named SQL: one query per file in ``queries/``, loaded by name, values always bound.

Each file starts with a comment saying what the query returns and which parameters it
takes, so an auditor can read the SQL that produced a number. The SQL is portable
(SQLite, PostgreSQL, MariaDB): no dialect-only functions, no values pasted in.

Queries that can be limited to some accounts take two parameters, ``:everyone`` (1 =
every account) and ``:account_ids`` (an expanding list), written as
``(:everyone = 1 OR x.account_id IN :account_ids)``; :func:`frame` and :func:`columns` fill them in.

:func:`frame` gives a DataFrame (for the notebooks and the analyses built on pandas);
:func:`columns` gives the same result column by column as plain lists, for the code that
reads in bulk into numpy arrays and must not pay for loading pandas.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from typing import TYPE_CHECKING

import sqlalchemy as sa

from vosbench.core import resources
from vosbench.core.errors import VosbenchError

if TYPE_CHECKING:  # pandas is loaded by frame(), the one function here that makes a DataFrame
    import numpy as np
    import pandas as pd

QUERIES_DIR = resources.folder("queries")
"""The repository's ``queries/`` folder."""

LISTED_ACCOUNTS_MAX = 5_000
"""Longest account list sent to the database; a wider scope is fetched whole and cut here,
because an IN list that long costs more than it saves and some databases cap bound values."""

_NAME = re.compile(r"[a-z][a-z0-9_]*")


class QueryError(VosbenchError, LookupError):
    """A query name that does not exist; the message lists the ones that do."""


def names() -> list[str]:
    """The names of every query in ``queries/``."""
    return sorted(path.stem for path in QUERIES_DIR.glob("*.sql"))


@cache
def source(name: str) -> str:
    """The SQL text of query ``name`` (``queries/<name>.sql``)."""
    path = QUERIES_DIR / f"{name}.sql"
    if not _NAME.fullmatch(name) or not path.is_file():
        raise QueryError(
            f"no query named {name!r} in {QUERIES_DIR}; use one of: {', '.join(names())}"
        )
    return path.read_text(encoding="utf-8")


@cache
def _statement(name: str) -> str:
    return "\n".join(line for line in source(name).splitlines() if not line.lstrip().startswith("--"))


def load(name: str) -> sa.TextClause:
    """Query ``name`` as a SQLAlchemy text clause ready for bound parameters.

    Whole-line ``--`` comments are left out of the statement sent to the database, so
    the header may name parameters (``:month``) without them being taken as parameters.
    """
    return sa.text(_statement(name))


def _bind(statement: sa.TextClause, params: Mapping[str, object]) -> sa.TextClause:
    """Declare the type of every parameter so each dialect stores and compares it like the column."""
    declared: list[sa.BindParameter] = []
    for key, value in params.items():
        if isinstance(value, (list, tuple)):
            declared.append(sa.bindparam(key, expanding=True))
        elif isinstance(value, datetime):
            declared.append(sa.bindparam(key, type_=sa.DateTime()))
        elif isinstance(value, date):
            declared.append(sa.bindparam(key, type_=sa.Date()))
    return statement.bindparams(*declared) if declared else statement


def scope_params(account_ids: Iterable[int] | None) -> tuple[dict[str, object], set[int] | None]:
    """``:everyone``/``:account_ids`` for a scope, and the ids to cut to afterwards (if widened)."""
    if account_ids is None:
        return {"everyone": 1, "account_ids": [0]}, None
    wanted = sorted({int(account_id) for account_id in account_ids})
    if len(wanted) > LISTED_ACCOUNTS_MAX:
        return {"everyone": 1, "account_ids": [0]}, set(wanted)
    return {"everyone": 0, "account_ids": wanted or [0]}, None


SPLIT = 2**32
"""A money sum that may pass 64 bits is summed in two parts: whole multiples of this, and the rest."""


def split_sum(expression: sa.ColumnElement, label: str) -> tuple[sa.Label, sa.Label]:
    """SUM(``expression``) as ``label_high`` (whole :data:`SPLIT`s) and ``label_low`` (the rest), 0 when empty.

    Each part stays within 64 bits for up to 2**31 rows however large the amounts, where SQLite's
    SUM of a total past 64 bits fails and a server's BIGINT cast does: :func:`joined_sum` adds
    them up exactly in Python. The division is exact, so any dialect's integer division gives it.
    """
    rest = expression % SPLIT
    return (sa.func.coalesce(sa.func.sum((expression - rest) // SPLIT), 0).label(f"{label}_high"),
            sa.func.coalesce(sa.func.sum(rest), 0).label(f"{label}_low"))


def joined_sum(high, low) -> int:
    """The exact sum of :func:`split_sum`'s two parts (or of a query's ``*_high``/``*_low`` columns)."""
    return whole_number(high) * SPLIT + whole_number(low)


Summing = Callable[[sa.ColumnElement], tuple[sa.ColumnElement, ...]]
"""How a statement built for :func:`summed_rows` sums a money expression: splat ``*total(expression)``."""


def summed_rows(connection: sa.Connection, build: Callable[[Summing], sa.Select]) -> list[tuple]:
    """The rows of the statement ``build(total)`` makes, each money sum ``*total(expression)`` in it exact.

    The first try sums plainly, at no cost: exact on the servers (they sum a BIGINT into a
    NUMERIC or DECIMAL) and on SQLite while every total fits 64 bits. SQLite's SUM of a total
    past them (two legal adjustments of 500 trillion in one month) fails with "integer
    overflow" for every filter that holds both: then the statement is built again with each
    sum in two parts (:func:`split_sum`), joined here into the Python integer it stands for
    (one column again, so the rows come back alike). A plain sum of no rows is NULL, a split one 0.
    """
    try:
        return [tuple(row) for row in connection.execute(build(lambda expression: (sa.func.sum(expression),)))]
    except sa.exc.OperationalError as error:
        if not sum_overflowed(connection, error):
            raise
    labels: list[str] = []

    def split(expression: sa.ColumnElement) -> tuple[sa.ColumnElement, ...]:
        labels.append(f"exact_sum_{len(labels)}")
        return split_sum(expression, labels[-1])

    result = connection.execute(build(split))
    keys = list(result.keys())
    highs = {keys.index(f"{label}_high") for label in labels}
    return [tuple(joined_sum(value, row[place + 1]) if place in highs else value
                  for place, value in enumerate(row) if place - 1 not in highs) for row in result]


def sum_overflowed(connection: sa.Connection, error: sa.exc.OperationalError) -> bool:
    """Whether ``error`` is SQLite's SUM passing 64 bits (the servers sum a BIGINT into NUMERIC or DECIMAL)."""
    return connection.dialect.name == "sqlite" and "integer overflow" in str(error.orig)


def whole_number(value) -> int:
    """A whole number the database returned, as an int: a PostgreSQL SUM of BIGINT arrives as a whole
    Decimal and is taken as the integer it is; a fraction is an error, never rounded away."""
    if isinstance(value, Decimal) and value != value.to_integral_value():
        raise ValueError(f"the database returned {value} where whole minor units were expected")
    return int(value)


def _column(values, is_time: bool) -> pd.Series:
    """One result column as a Series: times as datetime64, whole numbers as exact Int64.

    PostgreSQL returns a SUM of BIGINT as NUMERIC (Decimal); whole Decimals are taken
    as the integers they are. A column holding a sum past int64 (absurd amounts added up)
    keeps Python integers (dtype object), exact, as :func:`vosbench.outputs.views.figures_frame` does.
    """
    import numpy as np
    import pandas as pd

    objects = np.empty(len(values), dtype=object)
    objects[:] = values
    if is_time:
        return pd.Series(pd.to_datetime(objects))
    kind = pd.api.types.infer_dtype(objects, skipna=True)
    if kind == "decimal" and all(value is None or value == value.to_integral_value() for value in objects):
        objects = np.array([None if value is None else int(value) for value in objects], dtype=object)
        kind = "integer"
    if kind in ("integer", "empty"):
        missing = pd.isna(objects)
        try:
            exact = np.where(missing, 0, objects).astype(np.int64)  # Python ints: no rounding possible
        except OverflowError:
            return pd.Series([None if absent else value for value, absent in zip(objects, missing)], dtype=object)
        return pd.Series(pd.arrays.IntegerArray(exact, missing))
    return pd.Series(objects).infer_objects()


def result_frame(keys: list[str], rows, *, times: AbstractSet[str] = frozenset()) -> pd.DataFrame:
    """Result rows as a DataFrame, the one conversion every query's rows go through.

    Columns of whole numbers (money in minor units, counts, ids) become nullable ``Int64``
    straight from Python ints, so money stays exact; the ``times`` columns become datetime64.
    """
    rows = list(rows)
    return columns_frame(keys, zip(*rows) if rows else ((), ) * len(keys), times=times)


def columns_frame(keys: list[str], columns, *, times: AbstractSet[str] = frozenset()) -> pd.DataFrame:
    """Result columns (one sequence of values per key) as a DataFrame, converted as :func:`result_frame` converts
    rows: for a caller holding its rows as columns already (a grid read straight from the driver)."""
    import pandas as pd

    return pd.DataFrame({key: _column(values, key in times) for key, values in zip(keys, columns)}, columns=keys)


def _run(connection: sa.Connection, name: str, params: Mapping[str, object] | None,
         account_ids: Iterable[int] | None, times: Mapping[str, sa.types.TypeEngine] | None) -> tuple[list[str], Sequence]:
    """Run query ``name`` in scope: its column names and rows (a wide scope fetched whole, cut here)."""
    params = dict(params or {})
    cut_to = None
    if ":account_ids" in _statement(name):
        scope, cut_to = scope_params(account_ids)
        params.update(scope)
    statement = _bind(load(name), params)
    result = connection.execute(statement.columns(**times) if times else statement, params)
    keys, rows = list(result.keys()), result.all()
    if cut_to is not None:
        at = keys.index("account_id")
        rows = [row for row in rows if row[at] in cut_to]
    return keys, rows


def frame(connection: sa.Connection, name: str, params: Mapping[str, object] | None = None, *,
          account_ids: Iterable[int] | None = None,
          times: Mapping[str, sa.types.TypeEngine] | None = None) -> pd.DataFrame:
    """Run query ``name`` and return its rows as a DataFrame.

    ``account_ids`` limits a scoped query to those accounts (``None``: every account).
    ``times`` declares the result columns holding times or days (name → ``sa.DateTime()``
    or ``sa.Date()``); they become datetime64 columns. Columns of whole numbers become
    nullable ``Int64`` straight from Python ints, so money stays exact (never float).
    """
    keys, rows = _run(connection, name, params, account_ids, times)
    return result_frame(keys, rows, times=set(times or ()))


def columns(connection: sa.Connection, name: str, params: Mapping[str, object] | None = None, *,
            account_ids: Iterable[int] | None = None,
            times: Mapping[str, sa.types.TypeEngine] | None = None) -> dict[str, list]:
    """Run query ``name`` and return its result column by column: name → list of the driver's values.

    The same scope and ``times`` as :func:`frame`, without a DataFrame: values stay as the
    driver gives them (ints, str, datetime, None; a PostgreSQL SUM of BIGINT is a whole
    Decimal), for callers that take whole columns into numpy at once.
    """
    keys, rows = _run(connection, name, params, account_ids, times)
    if not rows:
        return {key: [] for key in keys}
    return {key: list(values) for key, values in zip(keys, zip(*rows))}


NO_VALUE = -(2**63)
"""What a missing integer is packed as (:func:`packed`): no amount, count or id is ever this."""


def packed(connection: sa.Connection, name: str, params: Mapping[str, object] | None = None, *,
           integers: Sequence[str] = (), texts: Sequence[str] = ()) -> dict[str, tuple[np.ndarray, np.ndarray]] | None:
    """Run query ``name`` for every account on SQLite, its result packed into one row: name → (values, where missing).

    A query with a row per account (50,000 of them at an operator's scale) costs more in the
    driver than in SQLite: every value becomes a Python object in a row tuple. Packed, SQLite
    joins each column's values into one string (``group_concat``) and numpy splits it in C.
    Integer columns come back as int64 (0 where missing), text columns as object arrays, each with its
    boolean mask of missing values (a text column has none: one NULL there reads the rows). The
    rows' order is SQLite's, the same in every column (one aggregate pass reads each row once for
    all), so they stay aligned: sort them if order matters.

    Nothing is taken on trust: every column must unpack to as many values as the query has rows,
    every integer must be written as one (a REAL or a text where money belongs is not). Otherwise —
    a text holding the separator included, or a column longer than SQLite's longest string — or on a
    server: None, and the caller reads the rows as usual (:func:`columns`).
    """
    if connection.dialect.name != "sqlite":
        return None
    import numpy as np

    params = {**(params or {}), **scope_params(None)[0]} if ":account_ids" in _statement(name) else dict(params or {})
    rows = _bind(load(name), params).columns(*map(sa.column, (*integers, *texts))).subquery("q")
    parts = [sa.func.count(),
             *(sa.func.group_concat(sa.func.ifnull(rows.c[column], NO_VALUE), ",") for column in integers),
             *(sa.func.group_concat(sa.func.ifnull(rows.c[column], ""), sa.func.char(0x1F)) for column in texts),
             *(sa.func.total(rows.c[column].is_(None)) for column in texts)]
    try:
        count, *found = connection.execute(sa.select(*parts), params).one()
    except sa.exc.DataError as error:
        if "too big" not in str(error.orig):  # a column longer than SQLite's longest string (1 GB by default)
            raise
        return None
    result = {}
    for column, joined in zip(integers, found):
        try:
            values = np.fromstring(joined or "", dtype=np.int64, sep=",")
        except ValueError:  # not an integer's digits
            return None
        missing = values == NO_VALUE
        result[column] = np.where(missing, 0, values), missing
    for column, joined, nulls in zip(texts, found[len(integers):], found[len(integers) + len(texts):]):
        values = np.array(joined.split("\x1f") if count else [], dtype=object)
        if nulls:  # a NULL and an empty text pack alike: read as rows
            return None
        result[column] = values, np.zeros(len(values), dtype=bool)
    return result if all(len(values) == count for values, _ in result.values()) else None
