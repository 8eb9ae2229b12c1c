"""The ledger's write door for people: record one payment, reverse one.

Manual entries follow the strict rules (sign per kind, commission only to agents and
resellers, a reason on every adjustment and reversal). Nothing here edits a record:
a correction is a new record that points at the one it corrects.
"""

from __future__ import annotations

import contextlib
import uuid
from datetime import UTC, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from vosbench.core import money
from vosbench.core.errors import VosbenchError
from vosbench.core.model import Channel, Kind, Method
from vosbench.ledger import tables
from vosbench.ledger.guards import MANUAL_SOURCE  # what the database's threshold guard knows a person's entry by
from vosbench.ledger.write_door import CLOCK_SKEW, ImportRejected, NewPayment, append_batch, to_utc_naive


class LedgerError(VosbenchError, ValueError):
    """A manual entry was refused; nothing was written. The message says what to fix."""


def entry_time(occurred_at: datetime | None, *, now: datetime | None = None) -> datetime:
    """When a person's entry happened, as naive UTC: ``occurred_at`` (which carries its zone), else now.

    Refused when it lies more than :data:`CLOCK_SKEW` past now. An entry dated in the past is kept
    as dated; the audit's ``back_dated_entry`` check names the ones entered long after.
    """
    now = now or datetime.now(UTC)
    moment = to_utc_naive(occurred_at or now, field_name="occurred_at")
    if moment > to_utc_naive(now, field_name="now") + CLOCK_SKEW:
        raise LedgerError(f"occurred_at {occurred_at.isoformat() if occurred_at else moment} is in the future "
                          f"(now {now.astimezone(UTC):%Y-%m-%d %H:%M} UTC); date an entry when the money moved, "
                          "at the latest now")
    return moment


def _refuse(error: ImportRejected) -> LedgerError:
    return LedgerError("; ".join(rejection.reason for rejection in error.rejections))


def record(engine: Engine, *, account: str, kind: str | Kind, amount: str | Decimal | int,
           occurred_at: datetime | None = None, operator: str, channel: str | Channel = Channel.ADMIN,
           method: str | Method = Method.OTHER, reference: str = "", memo: str = "", reason: str = "",
           balance_after: str | Decimal | int | None = None, approved_by: str = "",
           connection: sa.Connection | None = None, source_key: str = "") -> int:
    """Append one payment record and return its ledger id.

    ``amount`` is exact decimal text or a Decimal, signed from the account's point of
    view (+ raises the balance); ``occurred_at`` must carry a time zone (default: now).
    ``connection``, in a transaction the caller began, makes the record part of it
    (maker-checker writes the record and its approval together, under the request's ``source_key``;
    default a fresh one).
    """
    try:
        entry = NewPayment(
            source_key=source_key or uuid.uuid4().hex,
            account=account.strip(),
            kind=Kind.parse(kind, field="kind") if isinstance(kind, str) else kind,
            amount=money.to_minor(amount),
            occurred_at=entry_time(occurred_at),
            operator=_required(operator, "operator"),
            channel=Channel.parse(channel, field="channel") if isinstance(channel, str) else channel,
            method=Method.parse(method, field="method") if isinstance(method, str) else method,
            reference=reference.strip(), memo=memo.strip(), reason=reason.strip(),
            balance_after=None if balance_after is None else money.to_minor(balance_after, field="balance_after"),
            approved_by=approved_by.strip(),
        )
    except ValueError as error:
        raise LedgerError(str(error)) from None
    try:
        return append_batch(engine, "payments", [entry], source=MANUAL_SOURCE, file="record",
                            strict=True, connection=connection).ids[0]
    except ImportRejected as error:
        raise _refuse(error) from None


def reverse(engine: Engine, payment_id: int, *, reason: str, operator: str,
            occurred_at: datetime | None = None, approved_by: str = "",
            connection: sa.Connection | None = None, source_key: str = "") -> int:
    """Append the offsetting record of ``payment_id`` (exactly the negative amount) and return its id.

    ``approved_by``, ``connection`` and ``source_key`` as for :func:`record` (an approved reversal request).
    """
    table = tables.payments
    with contextlib.nullcontext(connection) if connection is not None else engine.connect() as reading:
        original = reading.execute(
            sa.select(table, tables.accounts.c.account).join(tables.accounts)
            .where(table.c.id == payment_id)).one_or_none()
    if original is None:
        raise LedgerError(f"payment {payment_id} does not exist; check the id with `vosbench query`")
    entry = NewPayment(
        source_key=source_key or uuid.uuid4().hex, account=original.account, kind=Kind(original.kind),
        amount=-original.amount,
        occurred_at=entry_time(occurred_at),
        operator=_required(operator, "operator"), channel=Channel.ADMIN, method=Method(original.method),
        reference=original.reference, memo=f"reversal of payment {payment_id}", reason=reason.strip(),
        reverses_id=payment_id, approved_by=approved_by.strip(),
    )
    try:
        return append_batch(engine, "payments", [entry], source=MANUAL_SOURCE, file="reverse",
                            strict=True, connection=connection).ids[0]
    except ImportRejected as error:
        raise _refuse(error) from None


def _required(value: str, name: str) -> str:
    if not (value or "").strip():
        raise LedgerError(f"{name} is required; say who is entering the record")
    return value.strip()
