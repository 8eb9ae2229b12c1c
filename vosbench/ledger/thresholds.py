"""The approval thresholds the ledger holds: the amount from which a person's entry needs a supervisor.

Each setting is a row of ``approval_thresholds`` (currency, kind, minor units, who, when,
why), append-only and chained like every audit table; the newest row of a (currency,
kind) pair is the threshold in force. A new ledger, or one migrated from before the
table, takes the thresholds of the controls file it is opened with once, set by
:data:`INSTALLER`; afterwards only a supervisor changes one (:func:`set_threshold`), and
the database itself refuses anyone else's row (:mod:`vosbench.ledger.guards`). Raising a
threshold needs a reason, and so does setting the first of a pair; lowering one does not.
A currency is an ISO 4217 currency of money, and a threshold has no more decimals than it.

Maker-checker fails closed: a currency and kind with no threshold in force holds every
person's entry for a supervisor (:data:`NO_THRESHOLD`), in :func:`threshold` and in the
database. A controls file never loosens them: :func:`threshold` lets a client's file lower a
threshold for its own entries (``record --controls``), never raise, remove or add one, and
the database refuses an unapproved entry of a person at or above the ledger's threshold
whatever the client holds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from vosbench.core import currencies, money, timeshow
from vosbench.core.errors import VosbenchError
from vosbench.core.hidden_text import blank
from vosbench.core.model import Kind
from vosbench.ledger import database, hashchain, identity, roles, tables
from vosbench.ledger.guards import NO_THRESHOLD
from vosbench.ledger.policy import ControlSettings

if TYPE_CHECKING:
    import pandas as pd

INSTALLER = roles.INSTALLER
"""Who set the thresholds a ledger took from its controls file when it was made or migrated."""

HISTORY_COLUMNS = ("id", "set_at", "currency", "kind", "previous", "amount", "set_by", "reason")
"""The columns of :func:`history`: money in minor units (``previous`` NA for a pair's first setting)."""


class ThresholdError(VosbenchError, ValueError):
    """A threshold setting that was refused; nothing was written. The message names the input and the fix."""


@dataclass(frozen=True)
class Change:
    """A threshold set: the pair, the amount in force before (None: there was none) and after, who set it."""

    currency: str
    kind: str
    previous: int | None
    amount: int
    set_by: str


def in_force(connection: sa.Connection) -> dict[str, dict[str, int]]:
    """currency → kind → the threshold in force (minor units): the newest setting of each pair."""
    table = tables.approval_thresholds
    force: dict[str, dict[str, int]] = {}
    for row in connection.execute(sa.select(table.c.currency, table.c.kind, table.c.amount).order_by(table.c.id)):
        force.setdefault(row.currency, {})[row.kind] = row.amount
    return force


def threshold(connection: sa.Connection, settings: ControlSettings, currency: str, kind: str) -> int:
    """The threshold a person's ``kind`` entry in ``currency`` is held to: the ledger's, which ``settings`` may only
    lower; :data:`NO_THRESHOLD` when the ledger has none for the pair (every entry waits, whatever ``settings`` say)."""
    table = tables.approval_thresholds
    ledger = connection.scalar(sa.select(table.c.amount).where(table.c.currency == currency, table.c.kind == str(kind))
                               .order_by(table.c.id.desc()).limit(1))
    if ledger is None:
        return NO_THRESHOLD
    client = settings.threshold(currency, str(kind))
    if client is not None and client > ledger:
        raise ThresholdError(f"the controls file's {currency} {kind} threshold {money.format_money(client)} is above the "
                             f"ledger's {money.format_money(ledger)}; a controls file may only lower them: lower it or "
                             "leave --controls out (a supervisor raises the ledger's with `vosbench thresholds set`)")
    return ledger if client is None else min(ledger, client)


def why_held(currency: str, kind: str, limit: int) -> str:
    """Why a person's ``kind`` entry in ``currency`` held to ``limit`` (:func:`threshold`) needs a supervisor: what
    a refusal or a pending entry says, with the command that sets a threshold where the pair has none."""
    if limit == NO_THRESHOLD:
        return (f"no {currency} {kind} approval threshold is set, so every person's {kind} in {currency} waits for a "
                f"supervisor; one sets it with `vosbench thresholds set --currency {currency} --kind {kind} "
                "--amount AMOUNT --reason TEXT --operator NAME`")
    return f"at or above the {currency} {kind} threshold {money.format_money(limit)}"


def seed(connection: sa.Connection, settings: Callable[[], ControlSettings], *, at: datetime | None = None) -> int:
    """Give a ledger without thresholds those of ``settings()`` (called only then), set by :data:`INSTALLER`
    at ``at`` (naive UTC; default now: the demo gives its fixed moment, so that a build is reproducible);
    the number of settings written (0 when the ledger has some already)."""
    table = tables.approval_thresholds
    if connection.scalar(sa.select(table.c.id).limit(1)) is not None:
        return 0
    now = at or _now()
    rows = [{"currency": currency, "kind": kind, "amount": amount, "set_by": INSTALLER, "set_at": now,
             "reason": "the controls file the ledger was set up with"}
            for currency, kinds in sorted(settings().approval_thresholds.items()) for kind, amount in sorted(kinds.items())]
    for row in rows:  # one statement per row: MariaDB's chain trigger links a multi-row insert's rows alike, but plainly
        connection.execute(table.insert().values(**row))
    return len(rows)


def set_threshold(engine: Engine, *, currency: str, kind: str, amount: str, operator: str | None,
                  reason: str = "") -> Change:
    """Set the threshold of ``kind`` entries in ``currency`` to ``amount`` (decimal text), as supervisor
    ``operator`` (on a server: the login); raising one needs a ``reason``."""
    currency = (currency or "").strip()
    try:
        currencies.decimals(currency, field="--currency")
        kind = Kind.parse(kind, field="--kind").value
        minor = currencies.check_places(money.to_minor(amount, field="--amount"), currency, field="--amount")
    except ValueError as error:
        raise ThresholdError(str(error)) from None
    if minor <= 0:
        raise ThresholdError(f"--amount {amount}: a threshold must be above zero (e.g. --amount 5000.00)")
    reason = (reason or "").strip()
    with engine.begin() as connection:
        hashchain.lock_head(connection, "approval_thresholds")  # two supervisors at once: each sees the other's
        operator = identity.acting_operator(connection, operator, allowed=identity.CHECKERS,
                                            action="sets approval thresholds")
        previous = in_force(connection).get(currency, {}).get(kind)
        if previous == minor:
            raise ThresholdError(f"the {currency} {kind} threshold is {money.format_money(minor)} already; "
                                 "nothing to change")
        if minor > (previous or NO_THRESHOLD) and blank(reason):  # none set holds every entry: a first one loosens it
            before = "none (every entry waits)" if previous is None else money.format_money(previous)
            raise ThresholdError(f"raising the {currency} {kind} threshold from {before} to "
                                 f"{money.format_money(minor)} needs a reason (--reason TEXT)")
        connection.execute(tables.approval_thresholds.insert().values(
            currency=currency, kind=kind, amount=minor, set_by=operator, set_at=_now(), reason=reason))
    return Change(currency, kind, previous, minor, operator)


def history(connection: sa.Connection) -> pd.DataFrame:
    """Every threshold setting, oldest first, with the amount it replaced; times naive UTC."""
    import pandas as pd  # here: opening a ledger, which seeds its thresholds, needs no pandas

    table = tables.approval_thresholds
    result = connection.execute(sa.select(table.c.id, table.c.set_at, table.c.currency, table.c.kind, table.c.amount,
                                          table.c.set_by, table.c.reason).order_by(table.c.id))
    frame = pd.DataFrame(result.all(), columns=list(result.keys()))
    frame["amount"] = frame["amount"].astype("int64")
    frame["previous"] = frame.groupby(["currency", "kind"])["amount"].shift().astype("Int64")
    return frame[list(HISTORY_COLUMNS)]


def shown_history(engine: Engine) -> pd.DataFrame:
    """:func:`history` with its times in the ledger's reporting zone, labelled: what a person reads."""
    with engine.connect() as connection:
        frame = history(connection)
        zone = database.ledger_timezone(connection)
    frame["set_at"] = timeshow.zoned(frame["set_at"], zone)
    return frame


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)
