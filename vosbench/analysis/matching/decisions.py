"""Analyst decisions on pairings — confirm, reject, match by hand — kept append-only with who and when.

A decision names the statement lines and payment records it is about. The matcher
applies every decision before its own rules (see :mod:`vosbench.analysis.matching.matcher`):
a confirmed or hand-made pairing is taken as it is, a rejected one is never proposed
again. A decision is never edited; a later decision on the same pairing overrides an
earlier one, and both stay in the table. Who decides is a registered operator allowed to
match (on a server ledger: the login; :func:`vosbench.ledger.identity.acting_operator`).
"""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from vosbench.analysis.matching.matcher import Decision
from vosbench.core.errors import VosbenchError
from vosbench.ledger import database, identity, tables

ACTIONS = ("confirm", "reject", "match")
_D = tables.match_decisions


class DecisionError(VosbenchError, ValueError):
    """A decision that cannot be recorded; nothing was written. The message says what to fix."""


def parse_ids(text: str | list | tuple, what: str) -> list[int]:
    """Ids given as ``"12,13"`` or a list, as sorted unique ints."""
    parts = text.split(",") if isinstance(text, str) else list(text)
    try:
        return sorted({int(str(part).strip()) for part in parts if str(part).strip()})
    except ValueError:
        raise DecisionError(f"{what}: {text!r} is not a list of ids such as 12,13") from None


def record(engine: Engine, action: str, *, line_ids, payment_ids, decided_by: str | None, note: str = "",
           decided_at: datetime | None = None) -> int:
    """Append one decision by ``decided_by`` (None on a server: the login) and return its id."""
    action = (action or "").strip().lower()
    if action not in ACTIONS:
        raise DecisionError(f"action: {action!r} is not one of {', '.join(ACTIONS)}")
    lines, payments = parse_ids(line_ids, "line ids"), parse_ids(payment_ids, "payment ids")
    if not lines or not payments:
        raise DecisionError(f"a {action} names at least one statement line and one payment record "
                            "(see `vosbench match --month YYYY-MM` for their ids)")
    with engine.begin() as connection:
        decided_by = identity.acting_operator(connection, decided_by, action="decides pairings",
                                              allowed=identity.MATCHERS, option="--by")
        _must_exist(connection, tables.statement_lines, lines, "statement line")
        _must_exist(connection, tables.payments, payments, "payment record")
        return database.inserted_id(connection.execute(_D.insert().values(
            action=action, line_ids=",".join(map(str, lines)), payment_ids=",".join(map(str, payments)),
            decided_by=decided_by, note=(note or "").strip(),
            decided_at=decided_at or datetime.now(UTC).replace(tzinfo=None))))


def _must_exist(connection: sa.Connection, table: sa.Table, ids: list[int], what: str) -> None:
    found = set(connection.scalars(sa.select(table.c.id).where(table.c.id.in_(ids))))
    missing = [i for i in ids if i not in found]
    if missing:
        raise DecisionError(f"{what} {', '.join(map(str, missing))} does not exist; check the ids with "
                            "`vosbench match --month YYYY-MM`")


def load(connection: sa.Connection) -> list[Decision]:
    """Every decision in the order it was taken."""
    return [Decision(row.action, frozenset(parse_ids(row.line_ids, "line ids")),
                     frozenset(parse_ids(row.payment_ids, "payment ids")), row.decided_by)
            for row in connection.execute(sa.select(_D).order_by(_D.c.id))]


def history(engine: Engine) -> pd.DataFrame:
    """The decisions table as it is: who decided what, when, and why."""
    with engine.connect() as connection:
        result = connection.execute(sa.select(_D).order_by(_D.c.id))
        return pd.DataFrame(result.all(), columns=list(result.keys()))
