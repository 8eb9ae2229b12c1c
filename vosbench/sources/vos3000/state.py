"""Sync state: how far each stream of a source has been read, and what was flagged.

A mark is saved by :func:`saver` inside the transaction of the batch it covers (through
:func:`append_and_keep`), so after an interruption the ledger holds a consistent
prefix: every chunk with its mark, or neither. Flags (signs that disagree, values not
representable at the ledger's scale, accounts missing from e_customer, …) are saved the
same way and are kept once per (stream, source key, code), so a re-run adds none.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from vosbench.ledger import sync_marks, tables
from vosbench.ledger.write_door import BatchResult, PaymentColumns, append_batch
from vosbench.sources.vos3000 import pay_claims


@dataclass(frozen=True)
class Flag:
    stream: str
    source_key: str
    code: str
    detail: str


@dataclass(frozen=True)
class Mark:
    mark: str
    rows_read: int
    provenance: dict


def marks(engine: Engine, source: str) -> dict[str, Mark]:
    """The saved marks of ``source``, by stream."""
    table = tables.sync_state
    with engine.connect() as connection:
        return {row.stream: Mark(row.mark, row.rows_read, json.loads(row.provenance))
                for row in connection.execute(sa.select(table).where(table.c.source == source))}


def flags(engine: Engine, source: str) -> list[Flag]:
    """Every flag kept for ``source``, in the order they were raised."""
    table = tables.sync_flags
    with engine.connect() as connection:
        return [Flag(row.stream, row.source_key, row.code, row.detail) for row in connection.execute(
            sa.select(table).where(table.c.source == source).order_by(table.c.id))]


def append_and_keep(ledger: Engine, content: str, rows: Sequence | PaymentColumns, *, source: str, file: str,
                    keep: Callable[[sa.Connection], None], **options) -> BatchResult:
    """``journal.append_batch`` with ``keep`` (a :func:`saver` or :func:`flag_keeper`) writing in
    the same transaction once the rows are in (or found present): both commit, or neither.

    Payments that are the switch's own records of deposits ``--pay`` already recorded are left
    out (:mod:`~vosbench.sources.vos3000.pay_claims`), counted as present and flagged.
    """
    with ledger.begin() as connection:
        left_out: list[tuple[str, str]] = []
        if content == "payments":
            rows, left_out = pay_claims.unclaimed(connection, source, rows)
        result = append_batch(ledger, content, rows, source=source, file=file, connection=connection, **options)
        _keep_flags(connection, source, [Flag("payments", key, pay_claims.CODE, detail) for key, detail in left_out])
        keep(connection)
    result.skipped += len(left_out)
    return result


def saver(source: str, stream: str, mark: str, rows_read: int, provenance: dict,
          raised: Sequence[Flag] = ()) -> Callable[[sa.Connection], None]:
    """A function that saves ``stream``'s mark and ``raised`` flags on the batch's connection."""

    def save(connection: sa.Connection) -> None:
        sync_marks.save(connection, source=source, stream=stream, mark=mark, rows_read=rows_read,
                        updated_at=datetime.now(UTC).replace(tzinfo=None),
                        provenance=json.dumps(provenance, sort_keys=True))
        _keep_flags(connection, source, raised)

    return save


def flag_keeper(source: str, raised: Sequence[Flag]) -> Callable[[sa.Connection], None]:
    """A function that keeps ``raised`` flags on the batch's connection (no mark to save)."""
    return lambda connection: _keep_flags(connection, source, raised)


def _keep_flags(connection: sa.Connection, source: str, raised: Sequence[Flag]) -> None:
    if not raised:
        return
    table = tables.sync_flags
    present: set[tuple] = set()
    keys = sorted({flag.source_key for flag in raised})
    for start in range(0, len(keys), 500):
        present.update(tuple(row) for row in connection.execute(
            sa.select(table.c.stream, table.c.source_key, table.c.code)
            .where(table.c.source == source, table.c.source_key.in_(keys[start:start + 500]))))
    new, seen = [], set()
    for flag in raised:
        key = (flag.stream, flag.source_key, flag.code)
        if key not in present and key not in seen:
            seen.add(key)
            new.append({"source": source, "stream": flag.stream, "source_key": flag.source_key,
                        "code": flag.code, "detail": flag.detail})
    if new:
        connection.execute(table.insert(), new)
