"""A month's matching run against the ledger: load, pair, flag, and lay out the results.

The matcher's results are recomputed on every run (nothing about a run is stored);
analyst decisions, which are stored, are applied on top, so they survive re-runs and
re-imports. A month takes the payment records of the month (cut in the reporting time
zone) and the statement lines posted in it, plus the window days either side so that a
deposit of the 30th can meet its credit of the 2nd; only groups touching the month are
reported.

The lines and records are read by :mod:`vosbench.analysis.matching.records`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from vosbench.analysis.matching import decisions as decisions_module
from vosbench.analysis.matching.matcher import (
    STATUS_MEANING,
    STATUSES,
    Decision,
    Group,
    Line,
    Payment,
    Settings,
    flag_wrong_accounts,
    latest_decisions,
    match,
    unapplied,
)
from vosbench.analysis.matching.records import load_chosen, load_lines, load_payments
from vosbench.core import money, periods
from vosbench.ledger import database, tables
from vosbench.ledger.decision_rows import UnreadableDecision

MONEY_COLUMNS = ("statement_amount", "recorded_amount", "difference")
_A, _L, _I = tables.current_accounts, tables.statement_lines, tables.statement_imports


@dataclass
class MatchRun:
    """The groups of one month's run, and the tables made of them."""

    period: periods.Period
    channels: list[str]
    groups: list[Group]
    settings: Settings
    import_warnings: list[tuple[str, str]] = field(default_factory=list)
    """(file, warning) of the imports with lines in the month: what their files were read in spite of."""
    unapplied: list[tuple[Decision, Decision]] = field(default_factory=list)
    """(decision, the earlier one holding its items) for each confirm or match of the month that is not applied."""
    unreadable: list[UnreadableDecision] = field(default_factory=list)
    """The decision rows that cannot be read (written behind vosbench's back): left out of matching, named."""

    def items(self) -> pd.DataFrame:
        """One row per group: what was paired (or left alone), by which rule, and why."""
        rows = [_item(group) for group in sorted(self.groups, key=_group_order)]
        frame = pd.DataFrame(rows, columns=ITEM_COLUMNS)
        for column in MONEY_COLUMNS:  # int64, or Python integers where a group's sum passes it
            frame[column] = money.whole_series(frame[column].tolist(), frame.index)
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
                                            "statement_amount", "recorded_amount"]).astype(object)
        for column in ("statement_amount", "recorded_amount"):  # int64, or Python integers where a sum passes it
            frame[column] = money.whole_series(frame[column].tolist())
        return frame.astype({"items": "int64", "statement_lines": "int64", "payment_records": "int64"})

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
        decided, unreadable = decisions_module.load(connection)
        _add_decided(connection, decided, lines, payments)
        warnings = import_warnings(connection, period.first_day, period.last_day)
    groups = match(lines, payments, decided, settings)
    line_ids, payment_ids = {line.id for line in lines}, {payment.id for payment in payments}
    skipped = [(decision, clash) for decision, clash in unapplied(decided)
               if decision.line_ids & line_ids or decision.payment_ids & payment_ids]
    flag_wrong_accounts(groups, accounts)
    first, last = period.first_day.toordinal(), period.last_day.toordinal()
    touching = [g for g in groups if any(first <= item.day <= last for item in g.lines)
                or any(first <= item.day <= last for item in g.payments)]
    return MatchRun(period, channels, touching, settings, warnings, skipped, unreadable)


def _add_decided(connection: sa.Connection, decided: list[Decision], lines: list[Line], payments: list[Payment]) -> None:
    """Add the lines and records a standing confirm or match pairs with those loaded, whatever their dates.

    A person may pair a line with a record dated further away than the window; the pairing
    is then shown whole in the month of either side, never cut to a lone line or record.
    """
    line_ids, payment_ids = {line.id for line in lines}, {payment.id for payment in payments}
    standing = [d for d in latest_decisions(decided) if d.action != "reject"]
    wanted_lines = {i for d in standing if d.payment_ids & payment_ids for i in d.line_ids} - line_ids
    wanted_payments = {i for d in standing if d.line_ids & line_ids for i in d.payment_ids} - payment_ids
    if wanted_lines or wanted_payments:
        more_lines, more_payments, _ = load_chosen(connection, sorted(wanted_lines), sorted(wanted_payments))
        lines += more_lines
        payments += more_payments


def import_warnings(connection: sa.Connection, first_day: date, last_day: date) -> list[tuple[str, str]]:
    """(file, warning) stored with the imports that have lines posted from ``first_day`` to ``last_day``."""
    _W = tables.statement_import_warnings
    imports = sa.select(_L.c.import_id).where(_L.c.posted_on.between(first_day, last_day)).distinct()
    statement = (sa.select(_I.c.file_name, _W.c.warning).select_from(_W.join(_I, _I.c.id == _W.c.import_id))
                 .where(_W.c.import_id.in_(imports)).order_by(_W.c.id))
    return [(row.file_name, row.warning) for row in connection.execute(statement)]
