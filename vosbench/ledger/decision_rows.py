"""The matching decisions as stored: each row read into what it decides, or named with what is wrong with it.

vosbench writes a decision only through :func:`vosbench.analysis.matching.decisions.record`,
which checks its action and ids. A row appended behind that path (plain SQL by a login
allowed to decide) may hold an action or ids that mean nothing, and the table is
append-only, so it stays for good. Such a row must not stop every later ``vosbench match``
of every login: it is left out of matching and named (its id, who, when, what is wrong) by
``vosbench match`` and by ``vosbench verify``.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from vosbench.ledger import tables

ACTIONS = ("confirm", "reject", "match")
_D = tables.match_decisions


@dataclass(frozen=True)
class StoredDecision:
    """One decision as its row holds it, once its action and ids read as vosbench writes them."""

    id: int
    action: str
    line_ids: frozenset[int]
    payment_ids: frozenset[int]
    decided_by: str


@dataclass(frozen=True)
class UnreadableDecision:
    """A decision row that means nothing to the matcher: its id, who and when, and what is wrong with it."""

    decision_id: int
    decided_by: str
    decided_at: str
    problem: str

    def words(self) -> str:
        """One line for a person: which row, why it is left out, and what to do."""
        return (f"decision {self.decision_id} (by {self.decided_by}, {self.decided_at}) cannot be read and is left "
                f"out of matching: {self.problem}; vosbench never writes such a row (it was appended behind its back "
                "and stays, the table being append-only): ask its author, and decide the pairing again with "
                "`vosbench decide` if one was meant")


def ids(text: str | list | tuple) -> list[int]:
    """Ids given as ``"12,13"`` or a list, as sorted unique ints; ValueError when one is no whole number."""
    parts = text.split(",") if isinstance(text, str) else list(text)
    return sorted({int(str(part).strip()) for part in parts if str(part).strip()})


def read(connection: sa.Connection) -> tuple[list[StoredDecision], list[UnreadableDecision]]:
    """Every decision in the order it was taken, and apart from them the rows that cannot be read."""
    readable, unreadable = [], []
    # the time as stored text: a row is named by it even where it is no time SQLAlchemy reads
    when = sa.type_coerce(_D.c.decided_at, sa.String).label("decided_at")
    statement = sa.select(_D.c.id, _D.c.action, _D.c.line_ids, _D.c.payment_ids, _D.c.decided_by, when).order_by(_D.c.id)
    for row in connection.execute(statement):
        problems = [] if row.action in ACTIONS else [f"its action {row.action!r} is not one of {', '.join(ACTIONS)}"]
        chosen = []
        for what, text in (("statement line", row.line_ids), ("payment record", row.payment_ids)):
            try:
                chosen.append(frozenset(ids(text)))
            except ValueError:
                problems.append(f"its {what} ids {text!r} are not a list of ids such as 12,13")
                continue
            if not chosen[-1]:
                problems.append(f"it names no {what}")
        if problems:
            unreadable.append(UnreadableDecision(row.id, row.decided_by, str(row.decided_at), "; ".join(problems)))
        else:
            readable.append(StoredDecision(row.id, row.action, chosen[0], chosen[1], row.decided_by))
    return readable, unreadable
