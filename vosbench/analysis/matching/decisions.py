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

from vosbench.analysis.matching import matcher, records
from vosbench.analysis.matching.matcher import Decision
from vosbench.core.errors import VosbenchError
from vosbench.ledger import database, decision_rows, identity, tables
from vosbench.ledger.decision_rows import ACTIONS, UnreadableDecision

_D = tables.match_decisions


class DecisionError(VosbenchError, ValueError):
    """A decision that cannot be recorded; nothing was written. The message says what to fix."""


def parse_ids(text: str | list | tuple, what: str) -> list[int]:
    """Ids given as ``"12,13"`` or a list, as sorted unique ints."""
    try:
        return decision_rows.ids(text)
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
        if action != "reject":
            _must_be_someone_else(connection, decided_by, payments, action)
            _must_be_able_to_apply(connection, Decision(action, frozenset(lines), frozenset(payments), decided_by))
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


def _must_be_someone_else(connection: sa.Connection, decided_by: str, payment_ids: list[int], action: str) -> None:
    """Maker-checker: whoever recorded a payment does not confirm or make its pairing with the money."""
    _P = tables.payments
    own = list(connection.scalars(sa.select(_P.c.id).where(_P.c.id.in_(payment_ids), _P.c.operator == decided_by)
                                  .order_by(_P.c.id)))
    if own:
        raise DecisionError(f"{decided_by} recorded payment record {', '.join(map(str, own))}, so cannot {action} "
                            "its pairing with a statement line (maker-checker); another clerk, supervisor or auditor "
                            "decides it")


def _must_be_able_to_apply(connection: sa.Connection, decision: Decision) -> None:
    """Refuse a confirm or match the matcher could never apply, naming why and what to do instead."""
    lines, payments, problems = records.load_chosen(connection, sorted(decision.line_ids), sorted(decision.payment_ids))
    pools = {line.pool for line in lines} | {payment.pool for payment in payments}
    if len(pools) > 1:
        problems.append("a pairing stays within one channel and one currency, and these are "
                        + ", ".join(f"{channel} {currency}" for channel, currency in sorted(pools)))
    directions = {amount > 0 for amount in (sum(line.amount for line in lines), sum(p.amount for p in payments)) if amount}
    if len(directions) > 1:  # money in paired with money out: the record's own line would then show as missing
        problems.append("the statement lines and the payment records move money in opposite directions (one in, one "
                        "out)")
    if problems:
        raise DecisionError(f"a {decision.action} of lines {_listed(decision.line_ids)} with payment records "
                            f"{_listed(decision.payment_ids)} could never apply: {'; '.join(problems)}")
    clash = matcher.standing_conflict(load(connection)[0], decision)
    if clash is not None:
        shared = sorted(clash.line_ids & decision.line_ids)
        item = f"statement line {_listed(shared)}" if shared else \
            f"payment record {_listed(clash.payment_ids & decision.payment_ids)}"
        raise DecisionError(f"{item} is already paired by decision {clash.decision_id} ({clash.action} of lines "
                            f"{_listed(clash.line_ids)} with payment records {_listed(clash.payment_ids)}, by "
                            f"{clash.decided_by}), which the matcher applies first; to pair it otherwise, undo that one "
                            f"first: `vosbench decide reject --lines {_listed(clash.line_ids)} --payments "
                            f"{_listed(clash.payment_ids)}`")


def _listed(ids) -> str:
    return ",".join(map(str, sorted(ids)))


def outcome(engine: Engine, line_ids, payment_ids) -> str:
    """How ``vosbench match`` will report a confirmed or hand-made pairing: its status and amounts, with the currency."""
    with engine.connect() as connection:
        lines, payments, _ = records.load_chosen(connection, parse_ids(line_ids, "line ids"),
                                                parse_ids(payment_ids, "payment ids"))
    status, words = matcher.pair_status(lines, payments)
    currency = next((line.currency for line in lines), "")
    return f"{status} ({words}, {currency})"


def load(connection: sa.Connection) -> tuple[list[Decision], list[UnreadableDecision]]:
    """Every decision in the order it was taken, and the rows that cannot be read, which the matcher leaves out
    (:mod:`vosbench.ledger.decision_rows`)."""
    readable, unreadable = decision_rows.read(connection)
    return [Decision(row.action, row.line_ids, row.payment_ids, row.decided_by, row.id) for row in readable], unreadable


def history(engine: Engine) -> pd.DataFrame:
    """The decisions table as it is: who decided what, when, and why."""
    with engine.connect() as connection:
        result = connection.execute(sa.select(_D).order_by(_D.c.id))
        return pd.DataFrame(result.all(), columns=list(result.keys()))
