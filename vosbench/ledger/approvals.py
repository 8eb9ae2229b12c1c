"""Maker-checker: people's entries above a threshold wait for a second operator.

:func:`submit` (a payment) and :func:`submit_reversal` are the doors for every entry a
person makes, whatever its channel: only imports and syncs of history bypass them. They
check the maker is a registered operator who may enter records
(:mod:`vosbench.ledger.identity`), apply the entry rules that the ledger's own ``record``
does not know (an adjustment needs a reason *and* a link — a ticket id or CDR flow
number), then either record the entry at once (below its kind's and currency's
threshold: the ledger's own, :mod:`vosbench.ledger.thresholds`, which the settings may
only lower; a pair without one holds every entry) or keep it as a pending request. The
database refuses such an entry posted without an approval whatever the client holds
(:mod:`vosbench.ledger.guards`). A request posts to the ledger — through ``manual_entry``,
with the checker as ``approved_by`` and the request's own source key
(:func:`~vosbench.ledger.guards.request_key`, by which the database ties the approval to
that one entry), in one transaction with the approval — only when a different operator
holding the supervisor role approves it; a rejection is kept with its reason. Requests and decisions are append-only tables: who
and when stay.

Deciding takes the payments chain head's lock first, so checkers racing on one request
queue there and each then sees whether it was decided: one posts, the others get the
same clear refusal (and the UNIQUE decision per request still backs this up).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from vosbench.core import money, timeshow
from vosbench.core.errors import VosbenchError
from vosbench.core.hidden_text import blank
from vosbench.core.model import SIGN_RULES, Channel, Kind, Method
from vosbench.ledger import database, guards, hashchain, identity, manual_entry, tables, thresholds
from vosbench.ledger.guards import NO_THRESHOLD
from vosbench.ledger.policy import ControlSettings
from vosbench.ledger.write_door import to_utc_naive

APPROVED, REJECTED = "approved", "rejected"


class ApprovalError(VosbenchError, ValueError):
    """An entry, approval or rejection that was refused; nothing was written. The message says the fix."""


@dataclass(frozen=True)
class Submission:
    status: str  # 'recorded' (id = payment id) or 'pending' (id = request id)
    id: int
    threshold: int = NO_THRESHOLD
    why: str = ""  # why a pending entry waits (thresholds.why_held), for the person who entered it


def _now() -> datetime:
    return datetime.now(UTC)


def submit(engine: Engine, settings: ControlSettings, *, account: str, kind: str, amount: str | Decimal | int,
           operator: str, occurred_at: datetime | None = None, channel: str = "admin", method: str = "other",
           reference: str = "", memo: str = "", reason: str = "") -> Submission:
    """Record a manual entry, or keep it for approval when it reaches its threshold."""
    try:
        kind_ = Kind.parse(kind, field="kind")
        channel_, method_ = Channel.parse(channel, field="channel"), Method.parse(method, field="method")
        minor = money.to_minor(amount)
        when = manual_entry.entry_time(occurred_at)
    except ValueError as error:
        raise ApprovalError(str(error)) from None
    if kind_ is Kind.ADJUSTMENT and (blank(reason) or not settings.has_link(reference, reason, memo)):
        raise ApprovalError("adjustment needs a reason and a link: say why (--reason) and give the dispute ticket "
                            "id or CDR flow number it settles (e.g. --reference 'ticket #12345' or 'CDR 88123456')")
    with engine.connect() as connection:
        operator = identity.acting_operator(connection, operator, allowed=identity.MAKERS, action="enters records")
        currency = connection.scalar(sa.select(tables.current_accounts.c.currency)
                                     .where(tables.current_accounts.c.account == account.strip()))
        threshold = None if currency is None else thresholds.threshold(connection, settings, currency, kind_.value)
    if currency is None or threshold is None:
        raise ApprovalError(f"account {account!r} is unknown; check the account number with `vosbench query`")
    sign = SIGN_RULES[kind_]
    if abs(minor) >= threshold and (minor == 0 or sign and (minor > 0) != (sign > 0)):
        raise ApprovalError(f"amount {money.format_money(minor)}: a {kind_.value} must "
                            f"{'raise' if sign > 0 else 'lower'} the balance (+ raises it)")
    with engine.begin() as connection:  # the check and the write under the payments head's lock: no racing twin
        hashchain.lock_head(connection, "payments")
        _refuse_twin(connection, account=account.strip(), amount=minor, reference=reference.strip(), memo=memo.strip())
        if abs(minor) < threshold:
            payment_id = manual_entry.record(engine, account=account, kind=kind_, amount=money.to_decimal(minor),
                                             occurred_at=occurred_at,
                                             operator=operator, channel=channel_, method=method_, reference=reference,
                                             memo=memo, reason=reason, connection=connection)
            return Submission("recorded", payment_id, threshold)
        return _pending(connection, maker=operator, account=account.strip(), kind=kind_.value, amount=minor,
                        currency=currency, occurred_at=when,
                        channel=channel_.value, method=method_.value, reference=reference.strip(), memo=memo.strip(),
                        reason=reason.strip(), threshold=threshold)


def _refuse_twin(connection: sa.Connection, *, account: str, amount: int, reference: str, memo: str) -> None:
    """Refuse an entry an undecided request already holds: the same account, amount and reference.

    Two people following the same proposal (or one clicking twice) would otherwise queue two
    requests for one payment, and a supervisor approving both posts it twice. Without a
    reference the memo is the key instead (a proposal's says which statement line it is for);
    an entry with neither names nothing to compare, and passes.
    """
    if not reference and not memo:
        return
    r, d = tables.approval_requests, tables.approval_decisions
    twin = connection.execute(
        sa.select(r.c.id, r.c.maker, r.c.requested_at).select_from(r.outerjoin(d, d.c.request_id == r.c.id))
        .where(d.c.id.is_(None), r.c.account == account, r.c.amount == amount, r.c.reference == reference,
               *([] if reference else [r.c.memo == memo]))
        .order_by(r.c.id).limit(1)).one_or_none()
    if twin is not None:
        raise ApprovalError(
            f"request {twin.id} ({twin.maker}, {twin.requested_at:%Y-%m-%d %H:%M} UTC) already waits for approval of "
            f"{money.format_money(amount)} to {account} with "
            f"{f'reference {reference!r}' if reference else f'memo {memo!r}'}; a supervisor approves it "
            f"(`vosbench approvals approve {twin.id} --operator NAME`) or rejects it "
            f"(`vosbench approvals reject {twin.id} --operator NAME --reason TEXT`) before another is entered")


def submit_reversal(engine: Engine, settings: ControlSettings, payment_id: int, *, reason: str,
                    operator: str) -> Submission:
    """Reverse a payment at once, or keep the reversal for approval when the original reaches its threshold."""
    with engine.connect() as connection:
        operator = identity.acting_operator(connection, operator, allowed=identity.MAKERS, action="enters records")
        original = connection.execute(
            sa.select(tables.payments, tables.current_accounts.c.account, tables.current_accounts.c.currency)
            .join(tables.current_accounts, tables.current_accounts.c.id == tables.payments.c.account_id)
            .where(tables.payments.c.id == payment_id)).one_or_none()
        threshold = None if original is None else thresholds.threshold(connection, settings, original.currency,
                                                                         original.kind)
    if original is None or threshold is None:
        raise ApprovalError(f"payment {payment_id} does not exist; check the id with `vosbench query`")
    if blank(reason):
        raise ApprovalError("a reversal needs a reason (--reason TEXT)")
    with engine.begin() as connection:  # the check and the write under the payments head's lock: no racing twin
        hashchain.lock_head(connection, "payments")
        _refuse_second_reversal(connection, payment_id)
        if abs(original.amount) < threshold:
            return Submission("recorded", manual_entry.reverse(engine, payment_id, reason=reason, operator=operator,
                                                               connection=connection), threshold)
        return _pending(connection, maker=operator, account=original.account, kind=original.kind, amount=-original.amount,
                        currency=original.currency, occurred_at=to_utc_naive(_now()), channel=Channel.ADMIN.value,
                        method=original.method, reference=original.reference, memo=f"reversal of payment {payment_id}",
                        reason=reason.strip(), threshold=threshold, reverses_id=payment_id)


def _refuse_second_reversal(connection: sa.Connection, payment_id: int) -> None:
    """Refuse a reversal of a payment already reversed, or whose reversal already waits for approval: a
    supervisor approving two would find the second refused only then, and the queue would show both."""
    p, r, d = tables.payments, tables.approval_requests, tables.approval_decisions
    done = connection.scalar(sa.select(p.c.id).where(p.c.reverses_id == payment_id))
    if done is not None:
        raise ApprovalError(f"payment {payment_id} is already reversed by payment {done}; a record is reversed only once")
    twin = connection.execute(
        sa.select(r.c.id, r.c.maker, r.c.requested_at).select_from(r.outerjoin(d, d.c.request_id == r.c.id))
        .where(d.c.id.is_(None), r.c.reverses_id == payment_id).order_by(r.c.id).limit(1)).one_or_none()
    if twin is not None:
        raise ApprovalError(
            f"request {twin.id} ({twin.maker}, {twin.requested_at:%Y-%m-%d %H:%M} UTC) already waits for approval of "
            f"the reversal of payment {payment_id}; a supervisor approves it (`vosbench approvals approve {twin.id} "
            f"--operator NAME`) or rejects it (`vosbench approvals reject {twin.id} --operator NAME --reason TEXT`) "
            "before another is entered")


def _pending(connection: sa.Connection, **request) -> Submission:
    """Keep ``request`` for a second operator, in the caller's transaction."""
    request_id = database.inserted_id(connection.execute(tables.approval_requests.insert().values(
        requested_at=to_utc_naive(_now()), **request)))
    return Submission("pending", request_id, request["threshold"],
                      thresholds.why_held(request["currency"], request["kind"], request["threshold"]))


def _open_request(connection: sa.Connection, request_id: int):
    request = connection.execute(sa.select(tables.approval_requests)
                                 .where(tables.approval_requests.c.id == request_id)).one_or_none()
    if request is None:
        raise ApprovalError(f"approval request {request_id} does not exist; list them with `vosbench approvals list`")
    decided = connection.execute(sa.select(tables.approval_decisions)
                                 .where(tables.approval_decisions.c.request_id == request_id)).one_or_none()
    if decided is not None:
        raise ApprovalError(f"approval request {request_id} was already {decided.decision} by {decided.checker} "
                            f"at {decided.decided_at:%Y-%m-%d %H:%M} UTC; a request is decided once")
    return request


def _decide(connection: sa.Connection, request_id: int, checker: str, verb: str):
    """Lock, check the checker and the request; the request, still open, and the checker's login."""
    hashchain.lock_head(connection, "payments")  # first: a racing checker waits here, then sees the decision
    checker = identity.acting_operator(connection, checker, action=f"{verb}s entries")
    request = _open_request(connection, request_id)
    if request.maker == checker:
        raise ApprovalError(f"{checker} entered request {request_id}; a different operator must {verb} it")
    identity.require_role(connection, checker, identity.CHECKERS, f"{verb}s entries")
    return request, checker


def _write_decision(connection: sa.Connection, request_id: int, **decision) -> None:
    connection.execute(tables.approval_decisions.insert().values(
        request_id=request_id, decided_at=to_utc_naive(_now()), **decision))


def approve(engine: Engine, request_id: int, *, checker: str) -> int:
    """Post the request to the ledger with ``checker`` as approver; return the payment id."""
    with engine.begin() as connection:  # the record and its decision commit together, or neither
        request, checker = _decide(connection, request_id, checker, "approve")
        if request.reverses_id is not None:
            payment_id = manual_entry.reverse(engine, request.reverses_id, reason=request.reason,
                                              operator=request.maker, approved_by=checker, connection=connection,
                                              source_key=guards.request_key(request_id))
        else:
            payment_id = manual_entry.record(
                engine, account=request.account, kind=request.kind, amount=money.to_decimal(request.amount),
                occurred_at=request.occurred_at.replace(tzinfo=UTC), operator=request.maker,
                channel=request.channel, method=request.method, reference=request.reference, memo=request.memo,
                reason=request.reason, approved_by=checker, connection=connection,
                source_key=guards.request_key(request_id))
        _write_decision(connection, request_id, decision=APPROVED, checker=checker, reason="", payment_id=payment_id)
    return payment_id


def reject(engine: Engine, request_id: int, *, checker: str, reason: str) -> None:
    """Refuse the request with a reason; nothing reaches the ledger."""
    if blank(reason):
        raise ApprovalError("a rejection needs a reason (--reason TEXT)")
    with engine.begin() as connection:
        _request, checker = _decide(connection, request_id, checker, "reject")
        _write_decision(connection, request_id, decision=REJECTED, checker=checker, reason=reason.strip(),
                        payment_id=None)


REQUEST_COLUMNS = ("request_id", "requested_at", "maker", "account", "kind", "amount", "currency", "threshold",
                   "occurred_at", "channel", "method", "reference", "memo", "reason", "status", "checker",
                   "decided_at", "decision_reason", "payment_id")
"""The columns of :func:`requests`; money in minor units, times naive UTC."""


def requests(engine: Engine, *, pending_only: bool = True) -> pd.DataFrame:
    """Approval requests, oldest first, with their decision (status 'pending' until decided)."""
    r, d = tables.approval_requests, tables.approval_decisions
    statement = (sa.select(r.c.id.label("request_id"), r.c.requested_at, r.c.maker, r.c.account, r.c.kind,
                           r.c.amount, r.c.currency, r.c.threshold, r.c.occurred_at, r.c.channel, r.c.method,
                           r.c.reference, r.c.memo, r.c.reason,
                           sa.func.coalesce(d.c.decision, "pending").label("status"), d.c.checker, d.c.decided_at,
                           d.c.reason.label("decision_reason"), d.c.payment_id)
                 .select_from(r.outerjoin(d, d.c.request_id == r.c.id)).order_by(r.c.id))
    if pending_only:
        statement = statement.where(d.c.id.is_(None))
    with engine.connect() as connection:
        result = connection.execute(statement)
        frame = pd.DataFrame(result.all(), columns=list(result.keys()))
        timezone = database.ledger_timezone(connection)
    for column in ("amount", "threshold"):
        frame[column] = frame[column].astype("int64")
    frame["payment_id"] = frame["payment_id"].astype("Int64")
    for column in ("requested_at", "occurred_at", "decided_at"):  # shown in the reporting zone, labelled
        frame[column] = timeshow.zoned(frame[column], timezone)
    return frame
