"""Auditors' annotations on findings: a status and a note, kept append-only by finding id.

An annotation is never edited; a new one supersedes the earlier ones of the same
finding (the latest wins). Because finding ids are stable, annotations come back when
the audit is re-run on the same ledger. Findings are computed, not stored: an annotation
is taken only for an id the month's controls find now, run with the same settings (a
mistyped id, or one of another month, would be a note no audit ever shows). Its author is a
registered auditor or supervisor (on a server ledger: the login), as for every entry a
person makes (:func:`vosbench.ledger.identity.acting_operator`).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from vosbench.controls import checks
from vosbench.controls.findings import STATUSES
from vosbench.core import timeshow
from vosbench.core.errors import VosbenchError
from vosbench.ledger import database, identity, policy, tables

if TYPE_CHECKING:
    import pandas as pd

_ID = re.compile(r"F-[0-9a-f]{12}")


class UnknownFindingError(VosbenchError, ValueError):
    """A finding id the month's controls do not find; the message names it and how to list the real ones."""


def annotate(engine: Engine, finding_id: str, *, month: str, status: str, note: str, author: str | None,
             controls: str | Path | None = None) -> int:
    """Append an annotation by ``author`` (None on a server: the login) of a finding of ``month`` and return its
    id; bad input is refused with the fix.

    The finding must be one the controls find in ``month`` now, run with the settings in ``controls`` (default:
    the installed file, as ``vosbench controls``): its id is a hash, so only running them tells.
    """
    finding_id = finding_id.strip()
    if not _ID.fullmatch(finding_id):
        raise ValueError(f"finding id {finding_id!r} is not one; copy it from `vosbench controls` (e.g. F-1a2b3c4d5e6f)")
    if status not in STATUSES:
        raise ValueError(f"status {status!r}: use one of {', '.join(STATUSES)}")
    if status != "open" and not note.strip():
        raise ValueError(f"a finding marked {status} needs a note saying why (--note TEXT)")
    with engine.connect() as connection:  # who may annotate is told before the month's checks are run
        identity.acting_operator(connection, author, action="annotates findings", allowed=identity.ANNOTATORS,
                                 option="--by")
    _require_found(engine, finding_id, month, controls)
    with engine.begin() as connection:
        author = identity.acting_operator(connection, author, action="annotates findings",
                                          allowed=identity.ANNOTATORS, option="--by")
        return database.inserted_id(connection.execute(tables.finding_annotations.insert().values(
            finding_id=finding_id, status=status, note=note.strip(), author=author,
            annotated_at=datetime.now(UTC).replace(tzinfo=None))))


def _require_found(engine: Engine, finding_id: str, month: str, controls: str | Path | None) -> None:
    """UnknownFindingError unless the controls, run on ``month`` with the settings in ``controls``, find ``finding_id``."""
    found = checks.find(engine, month, policy.load(controls)).findings
    if finding_id not in {finding.finding_id for finding in found}:
        named, option = (f" with {controls}", f" --controls {controls}") if controls else ("", "")
        raise UnknownFindingError(
            f"finding {finding_id} is not among the {len(found)} findings the controls find in {month}{named}; "
            f"list them with `vosbench controls --month {month}{option}` and copy an id from there")


def latest(engine: Engine) -> dict[str, tuple[str, str]]:
    """finding id → (status, note) of its latest annotation (a few per finding at most: read whole)."""
    table = tables.finding_annotations
    with engine.connect() as connection:
        rows = connection.execute(sa.select(table.c.finding_id, table.c.status, table.c.note)
                                  .order_by(table.c.id)).all()
    return {row.finding_id: (row.status, row.note) for row in rows}


def history(engine: Engine, finding_id: str) -> pd.DataFrame:
    """Every annotation of one finding, oldest first."""
    import pandas as pd  # here: annotating needs no pandas

    table = tables.finding_annotations
    with engine.connect() as connection:
        frame = pd.read_sql(sa.select(table).where(table.c.finding_id == finding_id).order_by(table.c.id), connection)
        frame["annotated_at"] = timeshow.zoned(frame["annotated_at"], database.ledger_timezone(connection))
    return frame
