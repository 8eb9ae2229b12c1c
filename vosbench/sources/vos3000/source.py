"""Read-only queries against a VOS3000 database (SQLAlchemy Core, values always bound).

Nothing here writes to VOS3000. Payment records are read in id order, one chunk at a
time after the mark (ranges of ids, each concatenated by the server into one text: see
:func:`payment_chunk`), so a 10M-row ``e_payhistory`` streams in bounded memory and a
chunk is the unit of resumption. Call charges are read one day at a time, streamed from
the server.
"""

from __future__ import annotations

from collections.abc import Iterator

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles

from vosbench.core.errors import VosbenchError
from vosbench.sources.vos3000 import schema
from vosbench.sources.vos3000.schema import e_consumption, e_customer, e_payhistory, e_reportcustomerfee

REQUIRED_TABLES = ("e_customer", "e_payhistory", "e_consumption")


class SourceError(VosbenchError, RuntimeError):
    """The VOS3000 database cannot be read as expected; the message says what to fix."""


def connect(url: str) -> sa.Engine:
    """An engine for the VOS3000 database at ``url`` whose required tables are all there."""
    try:
        parsed = sa.make_url(url)
    except sa.exc.ArgumentError:
        raise SourceError(f"--source {url!r} is not a database URL; give one like "
                          "mysql+pymysql://user:password@host:3306/vos3000") from None
    if not parsed.database:
        raise SourceError("--source names no database; end the URL with /vos3000 or /vos3000db")
    engine = sa.create_engine(parsed, pool_pre_ping=True)
    try:
        with engine.connect() as connection:
            present = set(sa.inspect(connection).get_table_names())
    except sa.exc.OperationalError as error:
        shown = parsed.render_as_string(hide_password=True)
        raise SourceError(f"cannot connect to the VOS3000 database {shown}: {error.orig}; check host, "
                          "port, user, password and that the database exists") from None
    missing = [name for name in REQUIRED_TABLES if name not in present]
    if missing:
        raise SourceError(f"database {parsed.database!r} has no table(s) {', '.join(missing)}; is it the "
                          "VOS3000 database (usually vos3000 or vos3000db)?")
    return engine


def customers(connection: sa.Connection, parent_column: str) -> list[sa.Row]:
    """Every account: id, account, name, money, limitmoney, parent_id (ordered by id)."""
    if parent_column not in e_customer.c:
        raise SourceError(f"mapping parent_column {parent_column!r} is not a column of e_customer; "
                          f"use one of {', '.join(e_customer.c.keys())}")
    c = e_customer.c
    query = sa.select(c.id, c.account, c.name, c.money, c.limitmoney,
                      c[parent_column].label("parent_id")).order_by(c.id)
    return list(connection.execute(query))


PAYMENT_FIELDS = ("id", "paymoney", "time", "customermoney", "paytype", "type", "customeraccount", "memo",
                  "loginname")
"""The e_payhistory columns a sync reads, in the order :func:`payment_chunk` gives them."""

SEPARATOR = "\x1f"  # ASCII unit separator: between the fields of the concatenated text
RANGE_IDS = 2_000  # ids per concatenated text: ~0.3 MB for rows of ~150 bytes, under MySQL 5's 1 MB packets
_CONCAT_LIMIT = 16 << 20  # group_concat_max_len (bytes); MySQL 5's default of 1024 would cut every text


class _Concatenated(sa.sql.functions.FunctionElement):
    """``GROUP_CONCAT(value SEPARATOR x'1f')``: MySQL's string aggregate, with our separator."""

    name = "group_concat"
    inherit_cache = True
    type = sa.Text()


@compiles(_Concatenated, "mysql")
def _render_concatenated(element, compiler, **kw) -> str:
    return f"GROUP_CONCAT({compiler.process(element.clauses, **kw)} SEPARATOR X'1F')"


def payment_chunk(connection: sa.Connection, after_id: int, size: int) -> list[list[str]]:
    """At most ``size`` e_payhistory rows with ``id > after_id``, the next ones in id order, as
    columns of text: one list per :data:`PAYMENT_FIELDS` (an empty list when there are none).

    Every value is the text the server writes for it (a double's too: MariaDB and MySQL 8
    write the shortest round-trip text, which is what the money rule starts from, see
    :meth:`vosbench.sources.vos3000.convert.Converter.minor_texts`). The server concatenates the
    rows of :data:`RANGE_IDS` ids at a time into one text, so the driver handles a few
    large values instead of a million rows of nine: that was most of the cost of reading.
    A text that does not split into whole rows in id order (a value holding the separator,
    a text cut short or refused for its size, rows out of order) is not guessed at: its
    ids are read row by row.
    """
    c = e_payhistory.c
    fields = sa.func.concat_ws(SEPARATOR, *(sa.func.ifnull(c[name], "") for name in PAYMENT_FIELDS))
    concatenated = (sa.select(sa.func.count(), _Concatenated(fields))
                    .where(c.id > sa.bindparam("after"), c.id <= sa.bindparam("upto")))
    next_id = sa.select(sa.func.min(c.id)).where(c.id > sa.bindparam("after"))
    connection.execute(sa.text("SET SESSION group_concat_max_len = :limit"), {"limit": _CONCAT_LIMIT})
    columns: list[list] = [[] for _ in PAYMENT_FIELDS]
    width = len(PAYMENT_FIELDS)
    after, wanted = after_id, size
    while wanted > 0:
        upto = after + min(RANGE_IDS, wanted)  # ids are unique: never more than wanted rows
        count, text = connection.execute(concatenated, {"after": after, "upto": upto}).one()
        if not count:
            following = connection.scalar(next_id, {"after": upto})
            if following is None:
                break
            after = following - 1  # over a gap in the ids
            continue
        values = text.split(SEPARATOR) if text is not None else []  # None: larger than the server's packets
        if len(values) != count * width or not _increasing(values[0::width]):
            values = _payment_rows(connection, after, upto)
        for column, index in zip(columns, range(width)):
            column += values[index::width]
        after, wanted = upto, wanted - count
    return columns if columns[0] else []


def _increasing(ids: list[str]) -> bool:
    numbers = list(map(int, ids))
    return all(map(int.__lt__, numbers, numbers[1:]))


def _payment_rows(connection: sa.Connection, after_id: int, upto_id: int) -> list[str]:
    """The rows with ids in ``(after_id, upto_id]`` read one by one, flattened as
    :func:`payment_chunk` splits its texts, each value as the server writes it."""
    c = e_payhistory.c
    query = (sa.select(*(sa.func.concat(sa.func.ifnull(c[name], "")) for name in PAYMENT_FIELDS))
             .where(c.id > after_id, c.id <= upto_id).order_by(c.id))
    return [value for row in connection.execute(query) for value in row]


def payment_names(connection: sa.Connection, accounts: list[str]) -> dict[str, str]:
    """The ``customername`` e_payhistory gives each of ``accounts`` (for accounts e_customer lacks)."""
    c = e_payhistory.c
    query = (sa.select(c.customeraccount, sa.func.max(c.customername))
             .where(c.customeraccount.in_(accounts)).group_by(c.customeraccount))
    return {account: name for account, name in connection.execute(query)}


def payments_after(connection: sa.Connection, after_id: int) -> int:
    return connection.execute(sa.select(sa.func.count()).select_from(e_payhistory)
                              .where(e_payhistory.c.id > after_id)).scalar_one()


def balances_before(connection: sa.Connection, accounts: list[str], up_to_id: int) -> dict[str, float]:
    """Each account's ``customermoney`` on its last record with ``id <= up_to_id``."""
    c = e_payhistory.c
    found: dict[str, float] = {}
    for start in range(0, len(accounts), 500):
        last = (sa.select(c.customeraccount, sa.func.max(c.id).label("id"))
                .where(c.id <= up_to_id, c.customeraccount.in_(accounts[start:start + 500]))
                .group_by(c.customeraccount).subquery())
        query = sa.select(c.customeraccount, c.customermoney).join(last, last.c.id == c.id)
        found.update({row.customeraccount: row.customermoney for row in connection.execute(query)})
    return found


def cdr_tables(connection: sa.Connection) -> list[str]:
    """The CDR tables present: ``e_cdr`` (if any) and every daily ``e_cdr_YYYYMMDD``."""
    names = sa.inspect(connection).get_table_names()
    return sorted(name for name in names
                  if name == schema.ROLLING_CDR or schema.daily_cdr_day(name) is not None)


def cdr_fees(connection: sa.Connection, table: str, start_ms: int, end_ms: int) -> Iterator[tuple]:
    """(flowno, customeraccount, fee, agentaccount, agentfee) of the calls that stopped in
    ``[start_ms, end_ms)``, streamed from the server."""
    c = schema.cdr_table(table).c
    query = (sa.select(c.flowno, c.customeraccount, c.fee, c.agentaccount, c.agentfee)
             .where(c.stoptime >= start_ms, c.stoptime < end_ms))
    result = connection.execute(query, execution_options={"stream_results": True, "yield_per": 20_000})
    for partition in result.partitions():
        yield from partition


def consumptions(connection: sa.Connection, start_ms: int, end_ms: int) -> list[sa.Row]:
    """Non-call deductions (id, account, accountname, money) in ``[start_ms, end_ms)``."""
    c = e_consumption.c
    return list(connection.execute(sa.select(c.id, c.account, c.accountname, c.money)
                                   .where(c.time >= start_ms, c.time < end_ms).order_by(c.id)))


def reported_fees(connection: sa.Connection, start_ms: int, end_ms: int) -> list[sa.Row]:
    """e_reportcustomerfee rows (id, customeraccount, customername, count, fee) of days in range."""
    c = e_reportcustomerfee.c
    return list(connection.execute(sa.select(c.id, c.customeraccount, c.customername, c.count, c.fee)
                                   .where(c.date >= start_ms, c.date < end_ms).order_by(c.id)))


def earliest_ms(connection: sa.Connection, charges_from: str) -> int | None:
    """The earliest time a charge could come from (None when there is nothing to charge)."""
    candidates = [connection.scalar(sa.select(sa.func.min(e_consumption.c.time)))]
    if charges_from == "report":
        candidates.append(connection.scalar(sa.select(sa.func.min(e_reportcustomerfee.c.date))))
    else:
        for table in cdr_tables(connection):
            c = schema.cdr_table(table).c
            candidates.append(connection.scalar(sa.select(sa.func.min(c.stoptime))))
    present = [value for value in candidates if value is not None]
    return min(present) if present else None
