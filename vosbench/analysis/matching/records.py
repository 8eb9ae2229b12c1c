"""Statement lines and payment records read from the ledger as the matcher sees them.

Payment records considered: deposits, withdrawals and auto-recharges paid the ways the
imported statements cover (a bank statement covers bank wires, a gateway report card
and gateway payments, an IVR log recharge cards, a wallet export crypto), leaving out
records that were reversed and the reversals themselves. A month's run reads them by
date (:mod:`vosbench.analysis.matching.review`); a decision reads the ones it names
(:mod:`vosbench.analysis.matching.decisions`).
"""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa

from vosbench.analysis.matching.matcher import Line, Payment
from vosbench.core import periods
from vosbench.ledger import database, tables
from vosbench.sources.bankfiles.lines import CHANNEL_METHODS
from vosbench.sources.bankfiles.profiles import FeeSchedule

MATCHED_KINDS = ("deposit", "withdrawal", "auto_recharge")
_P, _A, _L, _I = tables.payments, tables.current_accounts, tables.statement_lines, tables.statement_imports
METHOD_CHANNEL = {method: channel for channel, methods in CHANNEL_METHODS.items() for method in methods}


def load_chosen(connection: sa.Connection, line_ids: list[int],
                payment_ids: list[int]) -> tuple[list[Line], list[Payment], list[str]]:
    """The lines and records a decision names, as the matcher sees them, and why any record can never be paired.

    A record is matched only when :func:`load_payments` would load it: a deposit, withdrawal
    or auto-recharge, paid a way some statement covers, neither reversed nor a reversal.
    """
    lines = _lines(connection, _L.c.id.in_(line_ids))
    reversal = _P.alias("reversal")
    statement = (sa.select(_P.c.id, _P.c.kind, _P.c.method, _P.c.occurred_at, _P.c.amount, _P.c.reverses_id,
                           reversal.c.id.label("reversed_by"), _A.c.account, _A.c.name, _P.c.reference, _A.c.currency)
                 .select_from(_P.join(_A, _A.c.id == _P.c.account_id)
                              .outerjoin(reversal, reversal.c.reverses_id == _P.c.id))
                 .where(_P.c.id.in_(payment_ids)).order_by(_P.c.id))
    zone = periods.zone(database.ledger_timezone(connection))
    payments, problems = [], []
    for row in connection.execute(statement):
        if row.kind not in MATCHED_KINDS:
            problems.append(f"payment record {row.id} is a {row.kind}; statements pair with "
                            f"{', '.join(MATCHED_KINDS)} records only")
        elif row.reverses_id is not None or row.reversed_by is not None:
            problems.append(f"payment record {row.id} " + ("is a reversal" if row.reverses_id is not None else
                                                           f"was reversed by record {row.reversed_by}"))
        elif row.method not in METHOD_CHANNEL:
            problems.append(f"payment record {row.id} was paid by {row.method}, which no statement covers")
        else:
            payments.append(Payment(row.id, METHOD_CHANNEL[row.method], local_day(row.occurred_at, zone), row.amount,
                                    row.account, row.name, row.reference, row.currency))
    return lines, payments, problems


def load_lines(connection: sa.Connection, first_day: date, last_day: date) -> list[Line]:
    """Statement lines posted from ``first_day`` to ``last_day``, with their source's fee schedule."""
    return _lines(connection, _L.c.posted_on.between(first_day, last_day))


def _lines(connection: sa.Connection, condition: sa.ColumnElement[bool]) -> list[Line]:
    """The statement lines meeting ``condition``, with their source's fee schedule."""
    classified = sa.case((_L.c.raw.like('%"outgoing": "%'), _L.c.raw), else_=None)  # only those lines' raw
    statement = (sa.select(_L.c.id, _L.c.channel, _L.c.posted_on, _L.c.amount, _L.c.reference, _L.c.counterparty,
                           _L.c.account_hint, _L.c.description, _L.c.line_key, _L.c.currency, _I.c.fee_percent, _I.c.fee_fixed,
                           _I.c.fee_tolerance, classified.label("classified"))
                 .select_from(_L.join(_I, _I.c.id == _L.c.import_id))
                 .where(condition))
    fees: dict[tuple, FeeSchedule] = {}
    lines = []
    for row in connection.execute(statement):
        fee_key = (row.fee_percent, row.fee_fixed, row.fee_tolerance)
        fee = fees.get(fee_key) or fees.setdefault(fee_key, FeeSchedule(Decimal(row.fee_percent), row.fee_fixed,
                                                                        row.fee_tolerance))
        outgoing = str(json.loads(row.classified).get("outgoing") or "") if row.classified else ""
        lines.append(Line(row.id, row.channel, row.posted_on.toordinal(), row.amount, row.reference,
                          row.counterparty, row.account_hint, row.description, fee, row.line_key, row.currency,
                          outgoing))
    return lines


def load_payments(connection: sa.Connection, start: datetime, end: datetime, timezone: str,
                  channels: list[str]) -> list[Payment]:
    """Deposits, withdrawals and auto-recharges in [start, end) paid the ways ``channels`` cover."""
    methods = [m for channel in channels for m in CHANNEL_METHODS[channel]]
    if not methods:
        return []
    reversal = _P.alias("reversal")
    statement = (sa.select(_P.c.id, _P.c.method, _P.c.occurred_at, _P.c.amount, _A.c.account, _A.c.name,
                           _P.c.reference, _A.c.currency)
                 .select_from(_P.join(_A, _A.c.id == _P.c.account_id)
                              .outerjoin(reversal, reversal.c.reverses_id == _P.c.id))
                 .where(_P.c.occurred_at >= start, _P.c.occurred_at < end, _P.c.kind.in_(MATCHED_KINDS),
                        _P.c.method.in_(methods), _P.c.reverses_id.is_(None), reversal.c.id.is_(None)))
    zone = periods.zone(timezone)
    return [Payment(row.id, METHOD_CHANNEL[row.method], local_day(row.occurred_at, zone), row.amount, row.account,
                    row.name, row.reference, row.currency) for row in connection.execute(statement)]


def local_day(naive_utc: datetime, zone) -> int:
    return periods.local_day(naive_utc, zone.key).toordinal()
