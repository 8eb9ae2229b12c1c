"""Sync marks: how far each stream of a source has been read, kept as an append-only history.

A sync's high-water mark moves with every chunk it appends; an edited mark would make the
next sync skip or repeat records without a trace. Every saved mark is therefore appended
to ``sync_marks`` (guarded and chained like every audit table), and ``sync_state`` holds
only the latest one per stream, for the readers' convenience: derived data, which
:func:`disagreements` checks against the history for ``verify``.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from vosbench.ledger import tables

_FIELDS = ("source", "stream", "mark", "rows_read", "updated_at", "provenance")


def save(connection: sa.Connection, *, source: str, stream: str, mark: str, rows_read: int, updated_at: datetime,
         provenance: str) -> None:
    """Append the mark to the history and make it the stream's current one, in the caller's transaction."""
    values = dict(source=source, stream=stream, mark=mark, rows_read=rows_read, updated_at=updated_at,
                  provenance=provenance)
    connection.execute(tables.sync_marks.insert().values(**values))
    current = tables.sync_state
    connection.execute(current.delete().where((current.c.source == source) & (current.c.stream == stream)))
    connection.execute(current.insert().values(**values))


def seed(connection: sa.Connection) -> None:
    """Start the history of a ledger made before it with the marks it holds (a schema upgrade)."""
    current = tables.sync_state
    connection.execute(tables.sync_marks.insert().from_select(
        list(_FIELDS), sa.select(*(current.c[name] for name in _FIELDS)).order_by(current.c.source, current.c.stream)))


def disagreements(connection: sa.Connection) -> list[tuple[str, str]]:
    """(source/stream, what) for each current mark that is not the latest of its history."""
    history = tables.sync_marks
    latest = (sa.select(sa.func.max(history.c.id).label("id")).group_by(history.c.source, history.c.stream)
              .subquery())
    last = {(row.source, row.stream): tuple(row._mapping[name] for name in _FIELDS)
            for row in connection.execute(sa.select(history).join(latest, history.c.id == latest.c.id))}
    now = {(row.source, row.stream): tuple(row._mapping[name] for name in _FIELDS)
           for row in connection.execute(sa.select(tables.sync_state))}
    found = []
    for key in sorted(set(last) | set(now)):
        name = "/".join(key)
        if key not in now:
            found.append((name, f"sync mark of {name} is gone from sync_state (its history ends at "
                                f"{last[key][2]!r})"))
        elif key not in last:
            found.append((name, f"sync mark of {name} ({now[key][2]!r}) has no history: written behind the sync"))
        elif now[key] != last[key]:
            found.append((name, f"sync mark of {name} is {now[key][2]!r} ({now[key][3]} rows read), its history "
                                f"ends at {last[key][2]!r} ({last[key][3]} rows read): edited behind the sync"))
    return found
