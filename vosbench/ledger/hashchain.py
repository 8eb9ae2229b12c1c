"""The hash chain: every journal row carries sha256(previous hash + canonical row).

Rows are chained per table in append (id) order. The canonical form is a JSON array
of the row's stored values in a fixed column order, so the hash depends only on what
the database holds: an UPDATE made behind the triggers' back, a deleted row or a
reordering changes a hash that :func:`verify_chain` recomputes.
"""

from __future__ import annotations

import functools
import hashlib
import json
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa

from vosbench.ledger import tables

GENESIS = "0" * 64
CHAINED_TABLES = ("payments", "charges", "balance_snapshots")
"""Tables whose rows carry their own chain hash, linked by the write door."""

ROW_CHAINED_TABLES = tuple(name for name in tables.APPEND_ONLY_TABLES if name not in CHAINED_TABLES)
"""Guarded tables without a hash column: a trigger links each inserted row into its ``chain_heads``
entry (:mod:`vosbench.ledger.guards`); the row's text is SQLite's ``json_array`` of its columns."""

PURGED = "purged"
"""What :func:`anchored_link` gives for a row a retention purge removed from inside a range."""

LINK_FUNCTION = "vosbench_link"
"""The SQL function the row-chain triggers call (registered on every connection of the ledger)."""


def link(previous: str, row_text: str) -> str:
    """The next head of a row chain: sha256(previous head + the row's canonical text)."""
    return hashlib.sha256((previous + row_text).encode("utf-8")).hexdigest()


@functools.cache
def chained_columns(table: sa.Table) -> tuple[str, ...]:
    """The columns a table's hash covers: ``id`` first, then all others but ``hash`` (last)."""
    names = tuple(column.name for column in table.columns)
    assert names[0] == "id" and names[-1] == "hash", f"{table.name}: id must come first, hash last"
    return names[:-1]


def canonical_time(moment: datetime) -> str:
    """A UTC time as hashed (and as SQLite stores it): 'YYYY-MM-DD HH:MM:SS.ffffff'."""
    return moment.isoformat(" ", "microseconds")  # positional: a third cheaper, once per record


def canonical_value(value):
    """JSON form of the values json cannot write itself: times and days as text."""
    if isinstance(value, datetime):
        return canonical_time(value)
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"cannot hash a {type(value).__name__}")


_encoder = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=canonical_value)
# typeshed leaves out json.encoder's C accelerator, which CPython has (None elsewhere)
_c_make_encoder = getattr(json.encoder, "c_make_encoder", None)
if _c_make_encoder is not None:
    # CPython's C encoder built once with the same settings: JSONEncoder.encode builds it
    # anew for every row, which costs as much as the hashing itself on a bulk import.
    _c_encoder = _c_make_encoder(
        None, canonical_value, json.encoder.encode_basestring, None, ":", ",", False, False, True)

    def _encode(values, /) -> str:
        return "".join(_c_encoder(values, 0))
else:
    _encode = _encoder.encode


def row_hash(previous: str, values: Sequence) -> str:
    """The hash of one row given the previous row's hash and its values in column order."""
    return hashlib.sha256((previous + _encode(values)).encode("utf-8")).hexdigest()


@dataclass
class ChainHead:
    """The chain's state for one table, locked for the length of a write transaction."""

    name: str
    last_id: int
    head_hash: str
    row_count: int

    def link_all(self, rows: Iterable[tuple]) -> list[tuple]:
        """Give each row (its values after ``id``, in column order) the next id and its hash.

        Times must already be :func:`canonical_time` text, so that what is hashed is
        exactly what is stored. Returns the full rows: (id, *values, hash). One call per
        batch: this loop runs once per record of a bulk append.
        """
        last_id, head = self.last_id, self.head_hash
        linked, sha256, encode = [], hashlib.sha256, _encode
        for values in rows:
            last_id += 1
            row = (last_id, *values)
            head = sha256((head + encode(row)).encode("utf-8")).hexdigest()  # row_hash, inlined
            linked.append((*row, head))
        self.row_count += last_id - self.last_id
        self.last_id, self.head_hash = last_id, head
        return linked


def lock_head(connection: sa.Connection, name: str) -> ChainHead:
    """Lock and read a chain head; the no-op UPDATE takes the write lock on every dialect."""
    heads = tables.chain_heads
    connection.execute(
        heads.update().where(heads.c.name == name).values(row_count=heads.c.row_count)
    )
    row = connection.execute(sa.select(heads).where(heads.c.name == name)).one()
    return ChainHead(row.name, row.last_id, row.head_hash, row.row_count)


def save_head(connection: sa.Connection, head: ChainHead) -> None:
    """Store the advanced head in the same transaction as the rows it covers."""
    heads = tables.chain_heads
    connection.execute(
        heads.update()
        .where(heads.c.name == head.name)
        .values(last_id=head.last_id, head_hash=head.head_hash, row_count=head.row_count)
    )


@dataclass(frozen=True)
class ChainBreak:
    """The first row whose stored hash disagrees with the recomputed chain."""

    table: str
    row_id: int | None
    message: str


@dataclass(frozen=True)
class PurgedRange:
    """Ids a retention purge removed from a chained table, and the links on either side of them."""

    first_id: int
    last_id: int
    previous_hash: str
    last_hash: str


def purged_ranges(connection: sa.Connection, name: str) -> dict[int, PurgedRange]:
    """The purged ranges of chain ``name``, by first id (none on a ledger that never purged)."""
    table = tables.purged_ranges
    if not sa.inspect(connection).has_table(table.name):
        return {}
    return {row.first_id: PurgedRange(row.first_id, row.last_id, row.previous_hash, row.last_hash)
            for row in connection.execute(sa.select(table).where(table.c.table_name == name))}


def _skip_purged(gaps: dict[int, PurgedRange], expected_id: int, previous: str) -> tuple[int, str]:
    """Step over the purged ranges starting at ``expected_id``: the next id expected and the link to resume from.

    A range's ``previous_hash`` must be the link the chain reached, so a range cannot be
    slipped in where other rows stood.
    """
    while expected_id in gaps and gaps[expected_id].previous_hash == previous:
        gap = gaps[expected_id]
        expected_id, previous = gap.last_id + 1, gap.last_hash
    return expected_id, previous


MAX_BREAKS = 1_000
"""Broken links named per chain: past them, one line says how many more rows were left unnamed."""


def verify_chain(connection: sa.Connection, name: str, *, after: int = 0, previous: str = GENESIS,
                 flag: sa.ColumnElement[bool] | None = None, flagged: list[int] | None = None) -> list[ChainBreak]:
    """Recompute one table's chain; every row changed or missing (up to :data:`MAX_BREAKS`), then the head.

    After a row that does not hash to its stored link, the chain goes on from that stored link: a later row
    changed on its own is named too (three rows edited were one problem), while rows whose links someone
    recomputed after a change follow it unnoticed, as they must. ``after`` and ``previous`` start from a
    trusted anchor instead of the first row: the rows up to id ``after`` are taken as the anchor saw them,
    ending in ``previous``. Ranges a retention purge removed are stepped over from their recorded links (their
    rows are checked in the archive, :mod:`vosbench.ledger.archive`). ``flag`` (on SQLite) is a test of the
    row tried in the same read: the ids of the rows it holds for are added to ``flagged``, in id order, up to
    :data:`MAX_BREAKS` + 1 (verification's stored-time test, without a read of its own).
    """
    table = tables.metadata.tables[name]
    gaps = purged_ranges(connection, name)
    expected_id, unnamed = after + 1, 0
    breaks: list[ChainBreak] = []
    written_by_database = connection.dialect.name == "sqlite"  # see _canonical_texts

    def broken(row_id: int, message: str) -> None:
        nonlocal unnamed
        if len(breaks) < MAX_BREAKS:
            breaks.append(ChainBreak(name, row_id, message))
        else:
            unnamed += 1

    for row_id, text, stored, flagged_row in _canonical_texts(connection, table, after, flag):
        if flagged_row and flagged is not None and len(flagged) <= MAX_BREAKS:
            flagged.append(row_id)
        if gaps and row_id != expected_id:
            expected_id, previous = _skip_purged(gaps, expected_id, previous)
        if row_id != expected_id:
            # the row after a gap links to a row that is gone: its own link cannot be checked, the chain goes on from it
            broken(row_id, f"{name} row {expected_id} is missing (next id {row_id})"
                   if row_id == expected_id + 1 else f"{name} rows {expected_id} to {row_id - 1} are missing")
        elif text is None or hashlib.sha256((previous + text).encode("utf-8")).hexdigest() != stored:
            # the database's rendering is a shortcut; the row's values as the ledger reads them decide
            if not written_by_database or row_hash(previous, _stored_values(connection, table, row_id)) != stored:
                broken(row_id, f"{name} row {row_id} was changed after it was recorded (hash mismatch)")
        previous, expected_id = stored, row_id + 1
    if unnamed:
        breaks.append(ChainBreak(name, None, f"{name}: {unnamed:,} more rows are broken (the first {MAX_BREAKS:,} "
                                             "are named)"))
    if gaps:
        expected_id, previous = _skip_purged(gaps, expected_id, previous)
    # the chain's rows ever appended, purged ones included: what its head counts
    head = _head_break(connection, name, expected_id - 1, previous)
    return breaks + ([head] if head is not None else [])


def _canonical_texts(connection: sa.Connection, table: sa.Table, after: int, flag: sa.ColumnElement[bool] | None = None):
    """(id, the row's canonical JSON text or None, stored hash, whether ``flag`` holds) of each row past ``after``,
    in id order (``flag`` is tested on SQLite only; elsewhere, and without one, False).

    On SQLite the database writes the text itself (``json_array`` of the stored values: times are
    kept as their canonical text), so only three columns per row reach Python, not every value
    converted; a row holding a blob gets None. Elsewhere the values are read and encoded here. A text
    that does not give the stored hash is not yet a break: :func:`verify_chain` then hashes the
    row's values read the ordinary way, as it always did.

    ``json_array`` refuses a blob (the ledger never writes one): the rows are read without testing
    each column's type first (at 2M payments that test was 1.3 s CPU of every audit), and only when
    SQLite refuses one are the rows from the last one taken on read again, each column's type tested.
    """
    columns = [table.c[column] for column in chained_columns(table)]
    if connection.dialect.name == "sqlite":
        tested = sa.false() if flag is None else sa.case((flag, sa.true()), else_=sa.false())
        no_blob = sa.and_(*(sa.func.typeof(column) != sa.literal_column("'blob'") for column in columns))
        taken = after
        for guarded, text in ((False, sa.func.json_array(*columns)),
                              (True, sa.case((no_blob, sa.func.json_array(*columns)), else_=sa.null()))):
            query = sa.select(table.c.id, sa.type_coerce(text, sa.Text()), table.c.hash, tested).where(table.c.id > taken)
            try:
                for row in driver_rows(connection, query.order_by(table.c.id)):
                    taken = row[0]
                    yield row
                return
            except sqlite3.OperationalError as error:
                if guarded or "BLOB" not in str(error):
                    raise
    result = connection.execute(sa.select(*columns, table.c.hash).where(table.c.id > after).order_by(table.c.id),
                                execution_options={"stream_results": True, "yield_per": 20_000})
    for row in result:
        yield row[0], _encode(list(row[:-1])), row[-1], False


def driver_rows(connection: sa.Connection, query: sa.Select | sa.TextClause, params: dict | None = None,
                batch: int = 20_000):
    """The rows of ``query`` as the driver gives them (plain tuples, nothing converted), read ``batch`` at a time.

    For the chains' three text columns, SQLAlchemy's result rows cost more than the hashing
    itself (at 1M payments 5.0 s CPU through them, 2.9 s this way); the statement is still
    SQLAlchemy Core's (or a query file's text), its values bound as SQLAlchemy binds them (a time
    in the ledger's stored form), on the caller's connection and transaction. For a dialect whose
    driver takes positional parameters (SQLite).
    """
    dialect = connection.dialect
    compiled = query.compile(dialect=dialect)
    values = compiled.construct_params(params)
    bound = []
    for name in compiled.positiontup or ():
        processor = compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect)
        bound.append(values[name] if processor is None else processor(values[name]))
    cursor = connection.connection.cursor()
    try:
        cursor.execute(str(compiled), tuple(bound))
        while rows := cursor.fetchmany(batch):
            yield from rows
    finally:
        cursor.close()


def _stored_values(connection: sa.Connection, table: sa.Table, row_id: int) -> list:
    """One row's chained values as the ledger reads them (times as datetimes), in column order."""
    columns = [table.c[column] for column in chained_columns(table)]
    return list(connection.execute(sa.select(*columns).where(table.c.id == row_id)).one())


def anchor_heads(connection: sa.Connection) -> dict[str, dict]:
    """Every chain's row count, last id and head: what an anchor records to prove later extension."""
    rows = connection.execute(sa.select(tables.chain_heads).order_by(tables.chain_heads.c.name))
    return {row.name: {"rows": row.row_count, "last_id": row.last_id, "head": row.head_hash} for row in rows}


def fingerprint_frame(fingerprint: dict[str, dict]):
    """The fingerprint as a table: chain head and row count per journal table (the sheet anchors are read from)."""
    import pandas as pd  # here: the write door and verification never need it

    rows = [(name, head["rows"], head["head"]) for name, head in sorted(fingerprint.items())]
    return pd.DataFrame(rows, columns=["table", "rows", "chain head (sha256)"])


def fingerprint(connection: sa.Connection) -> dict[str, dict]:
    """Chain head hash and row count per chained table: the ledger's identity in reports."""
    rows = connection.execute(sa.select(tables.chain_heads).order_by(tables.chain_heads.c.name))
    return {row.name: {"rows": row.row_count, "head": row.head_hash} for row in rows}


# --- row chains: the guarded tables without a hash column -----------------------------------------
#
# The link is the same on every dialect, :func:`link`: sha256 of the previous head and the row's
# canonical text. The text is each dialect's own JSON of the row (:func:`row_text_sql`), computed
# by the trigger and again by verification with the same expression on the same database, so only
# the database's own rendering of its values enters it.

def _read(connection: sa.Connection, query: sa.Select):
    """Rows of ``query``, read in pieces per statement (``Connection.execution_options`` would stream every
    later statement too). On MariaDB read whole: its driver holds one unbuffered result at a time, and
    a row chain is read beside its links (these are the smaller tables)."""
    if connection.dialect.name in ("mysql", "mariadb"):
        return connection.execute(query).all()
    return connection.execute(query, execution_options={"stream_results": True, "yield_per": 20_000})


def row_text_sql(dialect: str, table: sa.Table, prefix: str = "") -> str:
    """The canonical text of a row of ``table`` on ``dialect``, as SQL (``prefix`` "NEW." inside a trigger).

    SQLite and MariaDB: ``json_array`` of every column in table order; PostgreSQL: ``row_to_json``
    of the whole row (column order is the table's, and its times have no zone, so the text does not
    depend on the session's settings).
    """
    if dialect == "postgresql":
        return f"row_to_json({prefix[:-1] if prefix else table.name})::text"
    function = "JSON_ARRAY" if dialect in ("mysql", "mariadb") else "json_array"
    return f"{function}(" + ", ".join(f"{prefix}{column.name}" for column in table.columns) + ")"


def row_key(dialect: str, table: sa.Table) -> str | None:
    """The column a row link names a row by: SQLite's rowid, else ``id``; None where a server table has no id.

    Such a table's links are numbered by their place in the chain instead (:func:`_verify_unnumbered`).
    """
    if dialect == "sqlite":
        return "rowid"
    return "id" if "id" in table.columns else None


def _row_texts(connection: sa.Connection, name: str, after: int = 0):
    """(row id, canonical text) of ``name``'s rows past ``after``, in id order, as the dialect writes the text."""
    table = tables.metadata.tables[name]
    dialect = connection.dialect.name
    key = row_key(dialect, table)
    text = sa.literal_column(row_text_sql(dialect, table), sa.Text())
    row_id: sa.ColumnClause[int] = sa.literal_column(f"{name}.{key}" if key else "0", sa.Integer())
    query = sa.select(row_id, text).select_from(table)
    if key is not None:
        query = query.where(row_id > after).order_by(row_id)
    return _read(connection, query)


def anchored_link(connection: sa.Connection, name: str, rows: int, last_id: int | None = None) -> tuple[int, str] | None:
    """(id, stored hash) of a chain's ``rows``-th row (id ``last_id`` when known); (0, GENESIS) for none.

    Once the chain is verified up to there, that hash stands for the content of every row before it.
    """
    if rows == 0:
        return 0, GENESIS
    if name in CHAINED_TABLES:
        table = tables.metadata.tables[name]
        wanted = last_id or rows
        found = connection.execute(sa.select(table.c.id, table.c.hash).where(table.c.id == wanted)).first()
        if found is None:  # purged: its range ends in a known link; a row inside one is the archive's to prove
            for gap in purged_ranges(connection, name).values():
                if gap.first_id <= wanted <= gap.last_id:
                    return (wanted, gap.last_hash if wanted == gap.last_id else PURGED)
    else:
        links = tables.row_links
        query = sa.select(links.c.row_id, links.c.hash).where(links.c.table_name == name)
        found = connection.execute(query.where(links.c.row_id == last_id) if last_id is not None
                                   else query.order_by(links.c.row_id).offset(rows - 1).limit(1)).first()
    return None if found is None else (found[0], found[1])


def _stored_links(connection: sa.Connection, name: str, after: int = 0):
    links = tables.row_links
    return _read(connection, sa.select(links.c.row_id, links.c.hash)
                 .where(links.c.table_name == name, links.c.row_id > after).order_by(links.c.row_id))


def seal_rows(connection: sa.Connection, name: str, *,
              insert_links: Callable[[list[tuple[str, int, str]]], object] | None = None) -> int:
    """Link the rows of ``name`` that have no link yet (a ledger made before row chains, a bulk append); how many.

    Only rows past the head's ``last_id`` are linked, so a row edited behind the guards is
    never sealed as if it were original. ``insert_links`` writes the links, (table name,
    row id, hash) each, when the caller has a faster way than SQLAlchemy's executemany.
    """
    heads = tables.chain_heads
    head = connection.execute(sa.select(heads).where(heads.c.name == name)).one()
    last_id, previous, count, links = head.last_id, head.head_hash, head.row_count, []
    rows: Iterable = _row_texts(connection, name, head.last_id)
    if row_key(connection.dialect.name, tables.metadata.tables[name]) is None:
        # no id to tell new rows by: numbered by place, and only in a chain that has none yet
        rows = [(place, text) for place, (_, text) in enumerate(rows, start=1)] if count == 0 else []
    for row_id, text in rows:
        previous = link(previous, text)
        links.append((name, row_id, previous))
        last_id, count = row_id, count + 1
    if links:
        if insert_links is None:
            connection.execute(tables.row_links.insert(), [dict(zip(("table_name", "row_id", "hash"), row)) for row in links])
        else:
            insert_links(links)
        connection.execute(heads.update().where(heads.c.name == name)
                           .values(last_id=last_id, head_hash=previous, row_count=count))
    return len(links)


def verify_row_chain(connection: sa.Connection, name: str, *, after: int = 0, previous: str = GENESIS,
                     count: int = 0) -> ChainBreak | None:
    """Recompute one row-chained table's links; the first row edited, removed or slipped in, else None.

    ``after`` (a row id), ``previous`` and ``count`` start from a trusted anchor's ``count`` rows.
    """
    table = tables.metadata.tables[name]
    if row_key(connection.dialect.name, table) is None:
        return _verify_unnumbered(connection, table)
    rows, links = iter(_row_texts(connection, name, after)), iter(_stored_links(connection, name, after))
    row, stored = next(rows, None), next(links, None)
    while row is not None or stored is not None:
        if row is not None and (stored is None or row[0] < stored[0]):
            return ChainBreak(name, row[0], f"{name} row {row[0]} was added behind the guards (it has no link)")
        if stored is not None and (row is None or stored[0] < row[0]):
            return ChainBreak(name, stored[0], f"{name} row {stored[0]} was removed after it was recorded")
        assert row is not None and stored is not None  # neither ran out first: the same row on both sides
        previous = link(previous, row[1])
        if previous != stored[1]:
            return ChainBreak(name, row[0], f"{name} row {row[0]} was changed after it was recorded (hash mismatch)")
        count += 1
        row, stored = next(rows, None), next(links, None)
    return _head_break(connection, name, count, previous)


def _verify_unnumbered(connection: sa.Connection, table: sa.Table) -> ChainBreak | None:
    """The chain of a server table without an id: every link made by one of its rows, every row by one link.

    Its links are numbered by place, so each is checked from the link before it against the rows
    not yet matched, trying first the row after the last one matched: a table appended in key
    order costs one hash a row (these are the small back-office tables, read whole).
    """
    name = table.name
    keys = [table.c[column.name] for column in table.primary_key.columns]
    text = sa.literal_column(row_text_sql(connection.dialect.name, table), sa.Text())
    rows = connection.execute(sa.select(*keys, text).select_from(table).order_by(*keys)).all()
    unused = dict.fromkeys(range(len(rows)))
    previous, count, cursor, unmade = GENESIS, 0, 0, []
    for place, stored in _stored_links(connection, name):
        order = (*range(cursor, len(rows)), *range(cursor))
        found = next((index for index in order if index in unused and link(previous, rows[index][-1]) == stored), None)
        if found is None:
            unmade.append(place)
        else:
            del unused[found]
            cursor = found + 1
        previous, count = stored, count + 1
    described = [", ".join(f"{key.name} {value}" for key, value in zip(keys, rows[index][:-1], strict=True))
                 for index in unused]
    if described:
        how = "was changed after it was recorded" if unmade else "was added behind the guards"
        return ChainBreak(name, None, f"{name} row ({described[0]}) {how} (no link of its chain is made by it)")
    if unmade:
        return ChainBreak(name, unmade[0], f"{name}: the row linked at place {unmade[0]} of its chain was removed "
                                           "after it was recorded")
    return _head_break(connection, name, count, previous)


def _head_break(connection: sa.Connection, name: str, count: int, previous: str) -> ChainBreak | None:
    head = connection.execute(
        sa.select(tables.chain_heads).where(tables.chain_heads.c.name == name)).one_or_none()
    if head is None:
        return ChainBreak(name, None, f"{name}: the ledger has no chain head for it (chain_heads row removed)")
    if head.row_count > count:
        return ChainBreak(
            name, head.last_id,
            f"{name}: chain head records {head.row_count} rows up to id {head.last_id}, the table holds {count}: "
            f"the last {head.row_count - count} rows were removed (through id {head.last_id})")
    if head.row_count != count or head.head_hash != previous:
        return ChainBreak(
            name, None,
            f"{name}: chain head records {head.row_count} rows ending {head.head_hash[:12]}…, "
            f"the table holds {count} ending {previous[:12]}… (rows removed from the end?)",
        )
    return None


def describe_head(head: dict, *, short: bool = False) -> str:
    """One chain's fingerprint as people read it: '1,234 rows, chain head 9f2c…' (``short``: 16 hex digits)."""
    shown = f"{head['head'][:16]}…" if short else head["head"]
    return f"{head['rows']} rows, chain head {shown}"
