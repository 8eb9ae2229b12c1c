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
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa

from vosbench.ledger import tables

GENESIS = "0" * 64
CHAINED_TABLES = ("payments", "charges", "balance_snapshots")


@functools.cache
def chained_columns(table: sa.Table) -> tuple[str, ...]:
    """The columns a table's hash covers: ``id`` first, then all others but ``hash`` (last)."""
    names = tuple(column.name for column in table.columns)
    assert names[0] == "id" and names[-1] == "hash", f"{table.name}: id must come first, hash last"
    return names[:-1]


def canonical_time(moment: datetime) -> str:
    """A UTC time as hashed (and as SQLite stores it): 'YYYY-MM-DD HH:MM:SS.ffffff'."""
    return moment.isoformat(" ", "microseconds")  # positional: a third cheaper, once per record


def _canonical(value):
    """JSON form of the values json cannot write itself: times and days as text."""
    if isinstance(value, datetime):
        return canonical_time(value)
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"cannot hash a {type(value).__name__}")


_encoder = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=_canonical)
# typeshed leaves out json.encoder's C accelerator, which CPython has (None elsewhere)
_c_make_encoder = getattr(json.encoder, "c_make_encoder", None)
if _c_make_encoder is not None:
    # CPython's C encoder built once with the same settings: JSONEncoder.encode builds it
    # anew for every row, which costs as much as the hashing itself on a bulk import.
    _c_encoder = _c_make_encoder(
        None, _canonical, json.encoder.encode_basestring, None, ":", ",", False, False, True)

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


def verify_chain(connection: sa.Connection, name: str) -> ChainBreak | None:
    """Recompute one table's chain; return the first broken link, or None if it holds."""
    table = tables.metadata.tables[name]
    columns = chained_columns(table)
    previous = GENESIS
    expected_id = 1
    count = 0
    result = connection.execution_options(stream_results=True, yield_per=20_000).execute(
        sa.select(*(table.c[c] for c in columns), table.c.hash).order_by(table.c.id)
    )
    for row in result:
        values = list(row[:-1])
        row_id = values[0]
        if row_id != expected_id:
            return ChainBreak(name, row_id, f"{name} row {expected_id} is missing (next id {row_id})")
        recomputed = row_hash(previous, values)
        if recomputed != row[-1]:
            return ChainBreak(
                name, row_id, f"{name} row {row_id} was changed after it was recorded (hash mismatch)"
            )
        previous = recomputed
        expected_id += 1
        count += 1
    head = connection.execute(
        sa.select(tables.chain_heads).where(tables.chain_heads.c.name == name)
    ).one()
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


def fingerprint(connection: sa.Connection) -> dict[str, dict]:
    """Chain head hash and row count per chained table: the ledger's identity in reports."""
    rows = connection.execute(sa.select(tables.chain_heads).order_by(tables.chain_heads.c.name))
    return {row.name: {"rows": row.row_count, "head": row.head_hash} for row in rows}
