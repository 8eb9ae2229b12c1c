"""Prior-period items: a record a sync of history brings for a month already closed.

A closed month's audit stands as it was closed, so nothing is added to it. A payment
typed in by hand for a closed month is refused (:mod:`vosbench.ledger.write_door`); but
a VOS3000 sync reports what already happened on the switch, and refusing it would leave
the ledger short of money that moved. Such a payment is posted at the start of the first
open month after the latest closed one (the ledger is closed up to the end of that month:
:mod:`vosbench.ledger.month_close`), and ``prior_period_items`` keeps the date the source gave it,
the closed month and the month it was posted in; the audit's ``prior_period_item`` control
names every one of them in the month it was posted.

A sync that brings the same record again finds it under its source key and its posted
time (:func:`restore`), so syncing stays idempotent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from vosbench.core import periods
from vosbench.ledger import tables


@dataclass(frozen=True)
class Move:
    """One payment of a batch posted outside its closed month."""

    index: int  # its position among the batch's accepted rows
    occurred_at: datetime  # as the source gave it
    closed_month: str
    posted_month: str


def restore(connection: sa.Connection, source: str, rows):
    """``rows`` (payments, or their columns) with the posted time of those a sync already brought as
    prior-period items; ``rows`` themselves when the source has none (the common case costs one query)."""
    items, payments = tables.prior_period_items, tables.payments
    posted = {key: (original, moved) for key, original, moved in connection.execute(
        sa.select(payments.c.source_key, items.c.occurred_at, payments.c.occurred_at)
        .join(payments, payments.c.id == items.c.payment_id).where(payments.c.source == source))}
    if not posted:
        return rows
    return [row._replace(occurred_at=posted[row.source_key][1])
            if row.source_key in posted and posted[row.source_key][0] == row.occurred_at else row
            for row in (rows.rows() if hasattr(rows, "rows") else rows)]


def post(rows: list, months: list[str], through: str, timezone: str) -> tuple[list, list[Move]]:
    """Move the rows dated up to the end of ``through``, the latest closed month (``months``: each row's month),
    to the start of the month after it, the first that may change."""
    moved, moves = list(rows), []
    target = periods.shift_label(through, 1)
    for index, (row, month) in enumerate(zip(rows, months)):
        if month <= through:
            moved[index] = row._replace(occurred_at=periods.month(target, timezone).start)
            moves.append(Move(index, row.occurred_at, month, target))
    return moved, moves


def record(connection: sa.Connection, moves: list[Move], ids: list[int]) -> None:
    """Keep each moved payment's own date and months, beside the payment the batch wrote."""
    if moves:
        connection.execute(tables.prior_period_items.insert(), [
            {"payment_id": ids[move.index], "occurred_at": move.occurred_at, "closed_month": move.closed_month,
             "posted_month": move.posted_month} for move in moves])
