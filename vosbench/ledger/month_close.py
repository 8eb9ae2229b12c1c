"""Months that close: once audited, a month takes no more records until it is reopened for a stated reason.

A close is a record in ``month_closes`` (append-only and chained like every audit table)
holding what the month looked like when it was closed: every chain head and row count,
each account's closing for the month, and the Merkle root over the payments
(:mod:`vosbench.ledger.merkle`) that single-record proofs lead to. Its receipt is the JSON of those facts; kept
outside the ledger it is an anchor (``vosbench verify --anchor``).

Closing a month closes the ledger up to its end: a month's opening is every record before
it, so its figures stand only while nothing earlier changes. Months therefore close in
order (a month is refused while an earlier month holding records is open) and reopen in
reverse order (a month is refused while a later one is closed), and the write door asks
:func:`closed_through` before appending, so a record dated before the end of the latest
closed month is refused — even one dated into an earlier month a close never named (a
month before the ledger's first record, or a gap an older version let be).

``close --through`` (:func:`close_through`) closes every open month up to one, in order,
each one a close of its own with its receipt, and stops at the first that cannot close.

Who may close: where the ledger has identities (registered operators), the closer must
be a supervisor and a second, different operator confirms; on a ledger without them the
names are recorded as given. Reopening always needs a reason and a second person, and
stays in the history that every later report shows.

On a server, where people are logins, the second person is one too: a supervisor's login
records the close or reopen as a request (:func:`request`, in ``close_requests``), and a second
registered clerk or supervisor (an auditor's or reader's login may not write a close), under their own login,
confirms it (:func:`confirm`); only then is the
``month_closes`` row written, and the database binds its ``second`` to the login writing it
(:func:`vosbench.ledger.guards._person_rules`). On SQLite (no logins) the second is named with the close.
The owner of a server ledger (no person: a copy, a service) closes in one step, as on SQLite.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from vosbench.core import periods
from vosbench.core.errors import VosbenchError
from vosbench.core.hidden_text import blank
from vosbench.core.money import format_money
from vosbench.ledger import database, guards, hashchain, merkle, tables
from vosbench.ledger.anchor import CheckpointKey, canonical, damaged_receipt, seal, stored_receipt
from vosbench.ledger.roles import OPERATOR_ROLES, current_login

SUPERVISOR = "supervisor"
_DONE = {"close": "closed", "reopen": "reopened"}


class CloseError(VosbenchError, ValueError):
    """A close or reopen that the rules refuse; the message says which rule and what to do."""


@dataclass(frozen=True)
class CloseEvent:
    """One close or reopen of a month, as recorded."""

    id: int
    month: str
    action: str  # close, reopen
    by: str
    second: str
    reason: str
    at: datetime
    receipt: dict  # {} when damaged
    damage: str = ""  # what is wrong with its stored receipt ('' when nothing: :func:`vosbench.ledger.anchor.stored_receipt`)


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def history(connection: sa.Connection, *, reopens_of: str | None = None) -> list[CloseEvent]:
    """Every close and reopen, oldest first; with ``reopens_of`` (YYYY-MM) only that month's reopens.

    Each receipt holds every account's closing: parsing them all costs a second at 50,000
    accounts and grows with every month closed, so a caller after a month's reopens reads those alone.
    """
    table = tables.month_closes
    query = sa.select(table).order_by(table.c.id)
    if reopens_of is not None:
        query = query.where(table.c.month == reopens_of, table.c.action == "reopen")
    return [CloseEvent(row.id, row.month, row.action, row.closed_by, row.second, row.reason, row.recorded_at,
                       *stored_receipt(row.receipt, row.month, row.action))
            for row in connection.execute(query)]


def closed_months(connection: sa.Connection) -> dict[str, CloseEvent]:
    """The months closed now (their last event is a close), each with that close."""
    state: dict[str, CloseEvent] = {}
    for event in history(connection):
        state[event.month] = event
    return {month: event for month, event in state.items() if event.action == "close"}


def trusted_closed_months(connection: sa.Connection) -> dict[str, CloseEvent]:
    """:func:`closed_months`, once each closed month's close holds a receipt that reads; else a :class:`CloseError`
    naming the first that does not. What is dated, closed or archived is refused while such a close stands: it is
    safer than trusting a close that vouches for nothing."""
    closed = closed_months(connection)
    for event in closed.values():
        if event.damage:
            raise CloseError(damaged_receipt(
                event.id, event.month, event.action, event.by, event.damage,
                refused="; records dated in any month, closes and archives are refused while it is the month's "
                        "latest close", reopen=f" ({reopen_command(connection, event.month)})"))
    return closed


def closed_through(closed: dict[str, CloseEvent]) -> str | None:
    """The latest of the ``closed`` months (:func:`closed_months`): the ledger is closed up to its end."""
    return max(closed) if closed else None


def _open_months_before(connection: sa.Connection, month: str, closed: dict[str, CloseEvent]) -> list[str]:
    """The months before ``month`` that hold records and are not closed, oldest first."""
    table = tables.account_months
    held = connection.scalars(sa.select(table.c.month).where(table.c.month < month).distinct().order_by(table.c.month))
    return [label for label in held if label not in closed]


def receipt_digest(receipt: dict) -> str:
    """sha256 of a receipt's canonical JSON: what a close record and its receipt file agree on."""
    return hashlib.sha256(canonical(receipt).encode("utf-8")).hexdigest()


def check_supervisor(connection: sa.Connection, by: str, *, action: str) -> dict[str, str]:
    """The registered operators (login → role), once ``by`` is known to be allowed to ``action``.

    Where the ledger has identities only a supervisor closes, reopens or purges months; a
    ledger without any takes the name as given.
    """
    if not by:
        raise CloseError(f"say who does it: {action} needs --by LOGIN")
    roles = dict(connection.execute(sa.select(tables.operators.c.login, tables.operators.c.role)).all())
    login = current_login(connection)
    if login in roles and by != login:  # a person's login (the owner, who is none, is held by no guard)
        raise CloseError(f"you are connected as {login}; --by {by} differs. On a server ledger the person who "
                         f"does it is the database login: give --by {login}, or connect as {by}")
    if roles and roles.get(by) != SUPERVISOR:
        raise CloseError(f"{by!r} is not a registered supervisor; only an operator whose role is "
                         f"{SUPERVISOR} may {action} (see operators.csv)")
    return roles


@dataclass(frozen=True)
class CloseRequest:
    """A supervisor's request, on a server, to close or reopen a month: a second login confirms it."""

    id: int
    month: str
    action: str  # close, reopen
    by: str
    reason: str
    at: datetime


def confirming_login(connection: sa.Connection) -> str | None:
    """The connected login where a close takes two logins (a server, connected as a registered operator); else None."""
    if connection.dialect.name == "sqlite":
        return None
    login = current_login(connection)
    held = connection.scalar(sa.select(sa.func.count()).select_from(tables.operators)
                             .where(tables.operators.c.login == login))
    return login if held else None


def reopen_command(connection: sa.Connection, month: str) -> str:
    """How the reopen of ``month`` is asked for on this ledger: at once, naming the second person, or — where the
    second person is a login (:func:`confirming_login`) — requested, then confirmed by another login."""
    if confirming_login(connection) is None:
        return f"`vosbench reopen --month {month} --by LOGIN --second LOGIN --reason TEXT`"
    return (f"`vosbench reopen --month {month} --by LOGIN --reason TEXT`, then `vosbench reopen --month {month} "
            "--confirm` under another login")


def _latest_request(connection: sa.Connection, month: str) -> CloseRequest | None:
    """The latest close request of ``month`` (a withdrawal included), or None."""
    row = connection.execute(sa.select(tables.close_requests).where(tables.close_requests.c.month == month)
                             .order_by(tables.close_requests.c.id.desc()).limit(1)).first()
    return None if row is None else CloseRequest(row.id, row.month, row.action, row.requested_by, row.reason,
                                                 row.requested_at)


def pending(connection: sa.Connection, month: str) -> CloseRequest | None:
    """The request waiting for a second login in ``month``: its latest, when it asks what the month's state allows
    (a close of an open month, a reopen of a closed one). A confirmed request no longer does, a withdrawn one
    (:func:`withdraw`) is followed by its withdrawal, and a later one replaces it."""
    found = _latest_request(connection, month)
    if found is None or found.action == guards.WITHDRAW:
        return None
    table = tables.month_closes
    latest = connection.scalar(sa.select(table.c.action).where(table.c.month == month).order_by(table.c.id.desc()).limit(1))
    if (latest == "close") != (found.action == "reopen"):
        return None
    return found


def withdraw(engine: Engine, month: str, action: str, *, reason: str = "", at: datetime | None = None) -> CloseRequest:
    """Withdraw, on a server, the request waiting to ``action`` ``month``, under the connected login: the supervisor
    who requested it, or the ledger's owner. The withdrawal is appended to ``close_requests`` (who, when, why), and a
    ``--confirm`` after it finds nothing to confirm; the database refuses a withdrawal by anyone else, and a close
    confirming a withdrawn request (:func:`vosbench.ledger.guards._withdrawable`)."""
    at = at or _now()
    with engine.begin() as connection:
        if connection.dialect.name == "sqlite":
            raise CloseError(f"a {action} waits for a second login on a server ledger only; here it is made at once, "
                             "so there is no request to withdraw")
        label = periods.month(month, database.ledger_timezone(connection)).label
        login = current_login(connection) or ""
        found = pending(connection, label)
        if found is None or found.action != action:
            raise CloseError(f"no {action} of {label} waits for confirmation: there is nothing to withdraw")
        if found.by != login and confirming_login(connection) is not None:  # a person's login; the owner may
            raise CloseError(f"the {action} of {label} was requested by {found.by}; only they (or the ledger's owner) "
                             f"withdraw it, under their own login")
        row_id = database.inserted_id(connection.execute(tables.close_requests.insert().values(
            month=label, action=guards.WITHDRAW, requested_by=login, reason=reason.strip(), requested_at=at)))
        return CloseRequest(row_id, label, guards.WITHDRAW, login, reason.strip(), at)


def request(engine: Engine, month: str, action: str, *, by: str, second: str | None = None, reason: str = "",
            at: datetime | None = None) -> CloseRequest:
    """Record, on a server, supervisor ``by``'s request (under their own login) to ``action`` (close or reopen)
    ``month``: nothing closes or reopens until a second login confirms it (:func:`confirm`)."""
    at = at or _now()
    if action == "reopen" and blank(reason):
        raise CloseError("say why the month is reopened (--reason TEXT); the reason shows in every later report")
    with engine.begin() as connection:
        period = (_ended(connection, month, at, "close a month") if action == "close"
                  else periods.month(month, database.ledger_timezone(connection)))
        by = (by or "").strip()
        check_supervisor(connection, by, action=action)
        if confirming_login(connection) is None:
            raise CloseError(f"a {action} is requested and confirmed by two logins on a server ledger only; here "
                             f"{action} it at once, naming the second person (--second LOGIN)")
        if second:
            raise CloseError(f"on a server ledger the second person is a login, not a name typed here: leave --second "
                             f"out; {second} (or another registered operator) confirms it under their own login with "
                             f"`vosbench {action} --month {period.label} --confirm`")
        if (period.label in closed_months(connection)) == (action == "close"):
            raise CloseError(f"{period.label} is {'already closed' if action == 'close' else 'not closed'}")
        row_id = database.inserted_id(connection.execute(tables.close_requests.insert().values(
            month=period.label, action=action, requested_by=by, reason=reason.strip(), requested_at=at)))
        return CloseRequest(row_id, period.label, action, by, reason.strip(), at)


def waiting(engine: Engine, month: str, action: str) -> CloseRequest:
    """The request to ``action`` ``month`` that waits for the connected login's confirmation, or why there is none."""
    with engine.connect() as connection:
        login = confirming_login(connection)
        label = periods.month(month, database.ledger_timezone(connection)).label
        if login is None:
            raise CloseError(f"--confirm confirms a request another login made, on a server ledger; here {action} the "
                             "month at once, naming the second person (--second LOGIN)")
        role = connection.scalar(sa.select(tables.operators.c.role).where(tables.operators.c.login == login))
        if OPERATOR_ROLES.get(str(role).split(":")[0]) != "writer":
            raise CloseError(f"{login} is a registered {role}, and that role may not confirm a {action}: confirming "
                             f"writes the {action} (its record, its chain heads), which only a clerk's or supervisor's "
                             f"login may; another clerk or supervisor confirms it under their own login "
                             f"(`vosbench {action} --month {label} --confirm`)")
        found = pending(connection, label)
        latest = _latest_request(connection, label)
    if found is None and latest is not None and latest.action == guards.WITHDRAW:
        raise CloseError(f"the request for {label} was withdrawn by {latest.by} at {latest.at:%Y-%m-%d %H:%M} UTC"
                         + (f" ({latest.reason})" if latest.reason else "") + f": nothing to confirm; a supervisor "
                         f"requests it again, under their own login: `vosbench {action} --month {label} --by LOGIN`")
    if found is None or found.action != action:
        raise CloseError(f"no {action} of {label} waits for confirmation; a supervisor requests it first, under their "
                         f"own login: `vosbench {action} --month {label} --by LOGIN"
                         + (" --reason TEXT`" if action == "reopen" else "`"))
    if found.by == login:
        raise CloseError(f"you ({login}) requested the {action} of {label}; another registered operator confirms it, "
                         f"under their own login: `vosbench {action} --month {label} --confirm`")
    return found


def confirm(engine: Engine, month: str, action: str, *, at: datetime | None = None, key: CheckpointKey | None = None,
            deliver: Callable[[dict], None] | None = None) -> CloseEvent:
    """Confirm, under the connected login, the request waiting to ``action`` ``month`` (:func:`waiting`): the close
    (or reopen, with the request's reason) is then recorded by its requester, with this login as the second person."""
    found = waiting(engine, month, action)
    with engine.connect() as connection:
        login = current_login(connection) or ""
    if action == "close":
        return close(engine, found.month, by=found.by, second=login, at=at, key=key, deliver=deliver)
    return reopen(engine, found.month, by=found.by, second=login, reason=found.reason, at=at, key=key)


def _check_people(connection: sa.Connection, month: str, by: str, second: str | None, *,
                  action: str) -> tuple[str, str]:
    by, second = (by or "").strip(), (second or "").strip()
    login = confirming_login(connection)
    if login is not None and by != login:  # on a server the second person is the login writing the close
        if second != login:
            raise CloseError(f"you are connected as {login}; on a server ledger the second person is the login that "
                             f"confirms: {by} requests it (`vosbench {action} --month {month} --by {by}`), then another "
                             f"operator confirms it under their own login (`vosbench {action} --month {month} --confirm`)")
        found = pending(connection, month)
        if found is None or (found.action, found.by) != (action, by):
            raise CloseError(f"no {action} of {month} requested by {by} waits for confirmation; {by} requests it first "
                             f"(`vosbench {action} --month {month} --by {by}`)")
        roles = dict(connection.execute(sa.select(tables.operators.c.login, tables.operators.c.role)).all())
        if roles.get(by) != SUPERVISOR:
            raise CloseError(f"{by!r} is not a registered supervisor; only an operator whose role is "
                             f"{SUPERVISOR} may {action}")
        return by, second
    if login is not None:
        raise CloseError(f"on a server ledger a second login confirms a {action}: record it as a request "
                         f"(`vosbench {action} --month {month} --by {by}`), and another operator confirms it under "
                         f"their own login (`vosbench {action} --month {month} --confirm`)")
    roles = check_supervisor(connection, by, action=action)
    if roles:
        if not second:
            raise CloseError(f"a second registered operator, other than {by}, must confirm it (--second LOGIN)")
        if second not in roles:
            raise CloseError(f"a second registered operator confirms it (--second LOGIN); "
                             f"{second!r} is not one")
    if (action == "reopen" or roles) and (not second or second == by):
        raise CloseError(f"a second person, other than {by}, must confirm it (--second LOGIN)")
    return by, second


def close(engine: Engine, month: str, *, by: str, second: str | None = None, at: datetime | None = None,
          key: CheckpointKey | None = None, deliver: Callable[[dict], None] | None = None) -> CloseEvent:
    """Close ``month`` (YYYY-MM in the ledger's zone): record its chain heads, counts and closings.

    With ``key`` the receipt carries an HMAC (:func:`vosbench.ledger.anchor.seal`). ``deliver``
    gets the receipt before the close commits: a receipt it cannot keep (an error it raises)
    leaves the month open, never closed with its outside anchor lost.
    """
    at = at or _now()
    with engine.begin() as connection:
        period = _ended(connection, month, at, "close a month")
        by, second = _check_people(connection, period.label, by, second, action="close")
        # Before the closed months are read: two people closing or reopening at once take turns, each seeing
        # what the other recorded; and no record slips in between the receipt and the close (the write door's
        # dated writers wait on this head too).
        hashchain.lock_head(connection, "payments")
        closed = trusted_closed_months(connection)
        if period.label in closed:
            raise CloseError(f"{period.label} is already closed; reopen it first to change it "
                             f"({reopen_command(connection, period.label)})")
        still_open = _open_months_before(connection, period.label, closed)
        if still_open:
            raise CloseError(f"{', '.join(still_open)} {'is' if len(still_open) == 1 else 'are'} still open and "
                             f"{'holds' if len(still_open) == 1 else 'hold'} records; close {still_open[0]} first "
                             f"(months close in order: a record dated into an earlier open month would change "
                             f"{period.label}'s opening), or every one of them in order with "
                             f"`vosbench close --through {period.label}`")
        heads = hashchain.anchor_heads(connection)
        size = heads["payments"]["rows"]
        receipt = {"kind": "vosbench month close", "month": period.label, "timezone": period.timezone,
                   "closed_by": by, "second": second, "closed_at": hashchain.canonical_time(at),
                   "heads": heads, "closings": closings(connection, period.label),
                   "merkle": {"payments": {"size": size, "root": merkle.root(merkle.payment_hashes(connection, size))}}}
        event = _record(connection, period.label, "close", by, second, "", at, seal(receipt, key) if key else receipt)
        record_span(connection, event.id, period)
        if deliver is not None:
            deliver(event.receipt)
        return event


def _ended(connection: sa.Connection, month: str, at: datetime, doing: str) -> periods.Period:
    """``month`` cut in the ledger's zone, once it has ended by ``at``; else why not and when it ends."""
    period = periods.month(month, database.ledger_timezone(connection))
    if period.end > at:
        raise CloseError(f"{period.label} has not ended yet (it ends {period.end:%Y-%m-%d %H:%M} UTC); "
                         f"{doing} once its last day is over")
    return period


def months_through(engine: Engine, month: str, *, at: datetime | None = None) -> list[str]:
    """The months ``close --through month`` closes, in order: each open month before it holding records, then it.

    Refused, with nothing closed, when ``month`` has not ended or is closed already (then so is
    every month before it that holds records: months close in order).
    """
    at = at or _now()
    with engine.connect() as connection:
        period = _ended(connection, month, at, "close through a month")
        closed = trusted_closed_months(connection)
        if period.label in closed:
            raise CloseError(f"{period.label} is already closed, and so is every month before it that holds records: "
                             "nothing to close")
        return [*_open_months_before(connection, period.label, closed), period.label]


def close_through(engine: Engine, month: str, *, by: str, second: str | None = None, at: datetime | None = None,
                  key: CheckpointKey | None = None, deliver: Callable[[dict], None] | None = None,
                  confirming: bool = False) -> Iterator[CloseEvent]:
    """Close every open month up to and including ``month``, oldest first, each by :func:`close` (its own
    transaction, rules, two-person check and receipt, given to ``deliver`` before it commits),
    yielding each close once it is recorded. ``confirming`` (a server's second login): each by :func:`confirm`
    of the close requested for it.

    Stops at the first month that cannot close: a :class:`CloseError` then says which
    months closed, which month did not and why, and which were not tried. The months closed
    before it stay closed (each is a whole close with its receipt, like ``close --month``).
    """
    months = months_through(engine, month, at=at)
    closed: list[str] = []
    for index, label in enumerate(months):
        try:
            event = (confirm(engine, label, "close", at=at, key=key, deliver=deliver) if confirming
                     else close(engine, label, by=by, second=second, at=at, key=key, deliver=deliver))
        except (VosbenchError, ValueError, sa.exc.SQLAlchemyError) as error:
            done = f"closed {_span(closed)}" if closed else "closed nothing"
            untried = months[index + 1:]
            rest = f"; {_span(untried)} not tried" if untried else ""
            reason = getattr(error, "orig", None) or error
            raise CloseError(f"{done}; {label} did not close: {reason}{rest}") from error
        closed.append(label)
        yield event


def _span(months: list[str]) -> str:
    """``2026-01`` or ``2026-01 to 2026-05 (5 months)``: a run of months for a one-line report."""
    return months[0] if len(months) == 1 else f"{months[0]} to {months[-1]} ({len(months)} months)"


def reopen(engine: Engine, month: str, *, by: str, second: str | None, reason: str,
           at: datetime | None = None, key: CheckpointKey | None = None) -> CloseEvent:
    """Reopen a closed month for a stated reason, confirmed by a second person."""
    at = at or _now()
    if blank(reason):
        raise CloseError("say why the month is reopened (--reason TEXT); the reason shows in every later report")
    with engine.begin() as connection:
        period = periods.month(month, database.ledger_timezone(connection))
        by, second = _check_people(connection, period.label, by, second, action="reopen")
        hashchain.lock_head(connection, "payments")  # as a close does: one close or reopen at a time
        closed = closed_months(connection)
        if period.label not in closed:
            raise CloseError(f"{period.label} is not closed")
        later = sorted((label for label in closed if label > period.label), reverse=True)
        if later:
            raise CloseError(f"{', '.join(later)} {'is' if len(later) == 1 else 'are'} closed after "
                             f"{period.label}; reopen {later[0]} first (months reopen latest first: a record dated into "
                             f"{period.label} would change {later[-1]}'s opening)")
        receipt = {"kind": "vosbench month reopen", "month": period.label, "reopened_by": by, "second": second,
                   "reason": reason.strip(), "reopened_at": hashchain.canonical_time(at),
                   "heads": hashchain.anchor_heads(connection)}
        return _record(connection, period.label, "reopen", by, second, reason.strip(), at,
                       seal(receipt, key) if key else receipt)


def _record(connection, month, action, by, second, reason, at, receipt) -> CloseEvent:
    event_id = connection.execute(tables.month_closes.insert().values(
        month=month, action=action, closed_by=by, second=second, reason=reason, recorded_at=at,
        receipt=canonical(receipt), receipt_sha256=receipt_digest(receipt))).inserted_primary_key[0]
    return CloseEvent(event_id, month, action, by, second, reason, at, receipt)


def record_span(connection: sa.Connection, close_id: int, period: periods.Period) -> None:
    """Record the UTC instants of the month close ``close_id`` closed: the database's guards refuse a payment dated
    inside or before them while that close is the month's latest event (:func:`vosbench.ledger.guards._closed_month_rules`)."""
    connection.execute(tables.month_spans.insert().values(close_id=close_id, month=period.label,
                                                          starts_at=period.start, ends_at=period.end))


def fill_spans(connection: sa.Connection) -> int:
    """Record the span of each month closed now that has none (a ledger closed before schema 8), cut in the zone its
    close receipt names (the ledger's when it names none); returns how many were recorded."""
    spanned = set(connection.scalars(sa.select(tables.month_spans.c.close_id)))
    zone = database.ledger_timezone(connection)
    missing = [event for event in closed_months(connection).values() if event.id not in spanned]
    for event in missing:
        record_span(connection, event.id, periods.month(event.month, event.receipt.get("timezone") or zone))
    return len(missing)


def closings(connection: sa.Connection, month: str) -> dict[str, int]:
    """Each account's closing (minor units) at the end of ``month``: its latest month total up to it."""
    table, accounts = tables.account_months, tables.accounts
    latest = (sa.select(table.c.account_id, sa.func.max(table.c.month).label("month"))
              .where(table.c.month <= month).group_by(table.c.account_id).subquery())
    rows = connection.execute(
        sa.select(accounts.c.account, table.c.closing)
        .join(latest, sa.and_(table.c.account_id == latest.c.account_id, table.c.month == latest.c.month))
        .join(accounts, accounts.c.id == table.c.account_id))
    return dict(sorted(rows.all()))


def receipt_problem(connection: sa.Connection, receipt: dict) -> str | None:
    """What a close ``receipt`` an auditor holds says that the ledger no longer does; None when it still stands
    (or the receipt is no close).

    A receipt's chain heads are taken before its own close is recorded, so a ledger whose close of the month was
    erased, and a record then dated into the reopened month, would still hold those heads: the receipt's closings
    and its close are checked too. Three cases: the month was reopened after the receipt and closings now differ
    (who reopened it, when and why); no such close is recorded any more (removed behind the ledger's back); or
    closings differ with no reopen recorded. The first few differing accounts are named.
    """
    month, closed_at = str(receipt.get("month")), str(receipt.get("closed_at", ""))
    if receipt.get("kind") != "vosbench month close" or not isinstance(receipt.get("closings"), dict):
        return None
    seen, now = receipt["closings"], closings(connection, month)
    differing = [account for account in sorted(set(seen) | set(now)) if int(seen.get(account, 0)) != now.get(account, 0)]
    shown = "; ".join(f"{account} {format_money(int(seen.get(account, 0)))} → {format_money(now.get(account, 0))}"
                      for account in differing[:3]) + ("; …" if len(differing) > 3 else "")
    reopenings = [event for event in history(connection, reopens_of=month)
                  if hashchain.canonical_time(event.at) > closed_at]
    if reopenings:
        if not differing:
            return None
        first = reopenings[0]
        return (f"{month} was reopened {first.at:%Y-%m-%d %H:%M} UTC by {first.by} ({first.reason}) after this receipt; "
                f"the closings of {len(differing)} account(s) now differ from it: {shown}. "
                f"Check the month against the receipt of its latest close (`vosbench closes` lists them)")
    table = tables.month_closes
    recorded = connection.execute(sa.select(table.c.recorded_at).where(table.c.month == month, table.c.action == "close"))
    if not any(hashchain.canonical_time(at) == closed_at for at, in recorded):
        return (f"the ledger holds no close of {month} made at {closed_at}, nor any reopen of it after: its close record "
                "was removed behind the ledger's back" + (f", and the closings of {len(differing)} account(s) now "
                                                         f"differ from the receipt: {shown}" if differing else ""))
    if differing:
        return (f"the closings of {len(differing)} account(s) at the end of {month} differ from this receipt with no "
                f"reopen recorded: {shown}; records dated in {month} were changed behind the ledger's back")
    return None


def closing_problems(connection: sa.Connection) -> list[str]:
    """Each closed month whose closings (as its close receipt records them) the ledger no longer makes.

    The write door keeps them standing; one that moved was changed under it (a record dated
    before the month's end slipped in, or a ledger an older version let close out of order).
    """
    problems = []
    for month, event in closed_months(connection).items():
        if "closings" not in event.receipt:  # a receipt written before closings were recorded
            continue
        recorded, now = event.receipt["closings"], closings(connection, month)
        for account in sorted(set(recorded) | set(now)):
            if recorded.get(account, 0) != now.get(account, 0):
                problems.append(f"{month} was closed (close record {event.id}) with {account} closing at "
                                f"{format_money(recorded.get(account, 0))}; its records now make "
                                f"{format_money(now.get(account, 0))}: a record dated before the end of {month} "
                                "came in after it closed")
    return problems


def summary(connection: sa.Connection) -> list[tuple[str, str]]:
    """(item, value) lines for a report: every close and reopen, so a reopened month shows in every later report."""
    table, lines = tables.month_closes, []
    # the receipts are left unread: each holds every account's closing, and a report names only the events
    for month, action, by, second, reason, at in connection.execute(
            sa.select(table.c.month, table.c.action, table.c.closed_by, table.c.second, table.c.reason,
                      table.c.recorded_at).order_by(table.c.id)):
        text = f"{_DONE[action]} {at:%Y-%m-%d %H:%M} UTC by {by}" + (f", confirmed by {second}" if second else "")
        if reason:
            text += f": {reason}"
        lines.append((f"month {month}", text))
    return lines
