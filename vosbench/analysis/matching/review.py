"""A month's matching run against the ledger: load, pair, flag, and lay out the results.

The matcher's results are recomputed on every run (nothing about a run is stored);
analyst decisions, which are stored, are applied on top, so they survive re-runs and
re-imports. A month takes the payment records of the month (cut in the reporting time
zone) and the statement lines posted in it, plus the window days either side so that a
deposit of the 30th can meet its credit of the 2nd; only groups touching the month are
reported.

Payment records considered: deposits, withdrawals and auto-recharges paid the ways the
imported statements cover (a bank statement covers bank wires, a gateway report card
and gateway payments, an IVR log recharge cards, a wallet export crypto), leaving out
records that were reversed and the reversals themselves.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from vosbench.analysis.matching import decisions as decisions_module
from vosbench.analysis.matching.matcher import (
    STATUS_MEANING,
    STATUSES,
    Group,
    Line,
    Payment,
    Settings,
    flag_wrong_accounts,
    match,
)
from vosbench.core import periods
from vosbench.ledger import database, tables
from vosbench.sources.bankfiles.lines import CHANNEL_METHODS
from vosbench.sources.bankfiles.profiles import FeeSchedule

MONEY_COLUMNS = ("statement_amount", "recorded_amount", "difference")
MATCHED_KINDS = ("deposit", "withdrawal", "auto_recharge")
_P, _A, _L, _I = tables.payments, tables.current_accounts, tables.statement_lines, tables.statement_imports
METHOD_CHANNEL = {method: channel for channel, methods in CHANNEL_METHODS.items() for method in methods}


@dataclass
class MatchRun:
    """The groups of one month's run, and the tables made of them."""

    period: periods.Period
    channels: list[str]
    groups: list[Group]
    settings: Settings
    import_warnings: list[tuple[str, str]] = field(default_factory=list)
    """(file, warning) of the imports with lines in the month: what their files were read in spite of."""

    def items(self) -> pd.DataFrame:
        """One row per group: what was paired (or left alone), by which rule, and why."""
        rows = [_item(group) for group in sorted(self.groups, key=_group_order)]
        frame = pd.DataFrame(rows, columns=ITEM_COLUMNS)
        for column in MONEY_COLUMNS:
            frame[column] = frame[column].astype("int64")
        return frame

    def summary(self) -> pd.DataFrame:
        """Items, lines, records and amounts per status, every status listed."""
        rows = []
        for status in STATUSES:
            chosen = [g for g in self.groups if g.status == status]
            rows.append((status, STATUS_MEANING[status], len(chosen), sum(len(g.lines) for g in chosen),
                         sum(len(g.payments) for g in chosen),
                         sum(line.amount for g in chosen for line in g.lines),
                         sum(p.amount for g in chosen for p in g.payments)))
        frame = pd.DataFrame(rows, columns=["status", "meaning", "items", "statement_lines", "payment_records",
                                            "statement_amount", "recorded_amount"])
        return frame.astype({"statement_amount": "int64", "recorded_amount": "int64"})

    def of_status(self, *statuses: str) -> pd.DataFrame:
        items = self.items()
        return items[items["status"].isin(statuses)].reset_index(drop=True)


ITEM_COLUMNS = ["status", "rule", "score", "explanation", "decision", "line_ids", "posted_on", "statement_amount",
                "reference", "counterparty", "payment_ids", "accounts", "occurred_on", "recorded_amount",
                "difference"]


def _group_order(group: Group) -> tuple:
    first_day = min([l.day for l in group.lines] + [p.day for p in group.payments])
    return (STATUSES.index(group.status), first_day, sorted(l.id for l in group.lines),
            sorted(p.id for p in group.payments))


def _ids(items) -> str:
    return ",".join(str(item.id) for item in sorted(items, key=lambda item: item.id))


def _item(group: Group) -> dict:
    line_days = sorted({date.fromordinal(l.day).isoformat() for l in group.lines})
    payment_days = sorted({date.fromordinal(p.day).isoformat() for p in group.payments})
    return {
        "status": group.status, "rule": group.rule, "score": group.score, "explanation": group.explanation,
        "decision": group.decision, "line_ids": _ids(group.lines), "posted_on": ", ".join(line_days),
        "statement_amount": sum(l.amount for l in group.lines),
        "reference": "; ".join(dict.fromkeys(l.reference for l in group.lines if l.reference)),
        "counterparty": "; ".join(dict.fromkeys(l.counterparty for l in group.lines if l.counterparty)),
        "payment_ids": _ids(group.payments),
        "accounts": ", ".join(dict.fromkeys(p.account for p in sorted(group.payments, key=lambda p: p.id))),
        "occurred_on": ", ".join(payment_days), "recorded_amount": sum(p.amount for p in group.payments),
        "difference": group.difference if group.lines and group.payments else
        sum(l.amount for l in group.lines) - sum(p.amount for p in group.payments),
    }


def has_statements(engine: Engine, month: str, *, timezone: str | None = None) -> bool:
    """True when any statement line is posted in ``month``."""
    with engine.connect() as connection:
        period = periods.month(month, timezone or database.ledger_timezone(connection))
        return connection.execute(sa.select(sa.func.count()).select_from(_L).where(
            _L.c.posted_on.between(period.first_day, period.last_day))).scalar_one() > 0


def run_month(engine: Engine, month: str, *, timezone: str | None = None,
              settings: Settings | None = None) -> MatchRun:
    """Match ``month``'s statement lines and payment records, with every decision applied."""
    settings = settings or Settings()
    with engine.connect() as connection:
        period = periods.month(month, timezone or database.ledger_timezone(connection))
        margin = timedelta(days=settings.window_days)
        lines = load_lines(connection, period.first_day - margin, period.last_day + margin)
        channels = sorted({line.channel for line in lines})
        payments = load_payments(connection, period.start - margin, period.end + margin, period.timezone, channels)
        accounts = dict(connection.execute(sa.select(_A.c.account, _A.c.name)).all())
        decided = decisions_module.load(connection)
        warnings = import_warnings(connection, period.first_day, period.last_day)
    groups = match(lines, payments, decided, settings)
    flag_wrong_accounts(groups, accounts)
    first, last = period.first_day.toordinal(), period.last_day.toordinal()
    touching = [g for g in groups if any(first <= item.day <= last for item in g.lines)
                or any(first <= item.day <= last for item in g.payments)]
    return MatchRun(period, channels, touching, settings, warnings)


def import_warnings(connection: sa.Connection, first_day: date, last_day: date) -> list[tuple[str, str]]:
    """(file, warning) stored with the imports that have lines posted from ``first_day`` to ``last_day``."""
    _W = tables.statement_import_warnings
    imports = sa.select(_L.c.import_id).where(_L.c.posted_on.between(first_day, last_day)).distinct()
    statement = (sa.select(_I.c.file_name, _W.c.warning).select_from(_W.join(_I, _I.c.id == _W.c.import_id))
                 .where(_W.c.import_id.in_(imports)).order_by(_W.c.id))
    return [(row.file_name, row.warning) for row in connection.execute(statement)]


def load_lines(connection: sa.Connection, first_day: date, last_day: date) -> list[Line]:
    """Statement lines posted from ``first_day`` to ``last_day``, with their source's fee schedule."""
    classified = sa.case((_L.c.raw.like('%"outgoing": "%'), _L.c.raw), else_=None)  # only those lines' raw
    statement = (sa.select(_L.c.id, _L.c.channel, _L.c.posted_on, _L.c.amount, _L.c.reference, _L.c.counterparty,
                           _L.c.account_hint, _L.c.description, _L.c.line_key, _L.c.currency, _I.c.fee_percent, _I.c.fee_fixed,
                           _I.c.fee_tolerance, classified.label("classified"))
                 .select_from(_L.join(_I, _I.c.id == _L.c.import_id))
                 .where(_L.c.posted_on.between(first_day, last_day)))
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
