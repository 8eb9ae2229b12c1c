"""The registry of control checks, and running them on one month: the findings the month's records give now.

Checks return findings and never raise for what they find. :data:`CHECKS` is the order
findings are counted and shown in. What the checks find is computed each time, never
stored: the findings an audit shows and the ones an annotation may name
(:func:`vosbench.controls.annotations.annotate`) both come from :func:`find`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd
from sqlalchemy.engine import Engine

from vosbench.analysis.reconcile import Reconciliation
from vosbench.controls import (
    amounts,
    commission,
    context,
    dating,
    discipline,
    drift,
    duplicates,
    lookalikes,
    operators,
    prior_period,
    reversals,
)
from vosbench.controls.findings import Finding, priced
from vosbench.ledger import scopes
from vosbench.ledger.policy import ControlSettings

CHECKS: dict[str, Callable[[context.MonthData], list[Finding]]] = {
    "adjustment_without_reason_or_link": discipline.adjustments_without_reason_or_link,
    "unapproved_above_threshold": discipline.unapproved_above_threshold,
    "approved_by_maker": discipline.approved_by_maker,
    "just_under_threshold": discipline.just_under_threshold,
    "back_dated_entry": dating.back_dated_entries,
    "future_dated": dating.future_dated_records,
    "duplicate": duplicates.duplicates,
    "reversal": reversals.reversals,
    "outside_working_hours": operators.outside_working_hours,
    "operator_concentration": operators.operator_concentration,
    "self_dealing": operators.self_dealing,
    "unregistered_operator": operators.unregistered_operators,
    "round_amount_cluster": amounts.round_amount_clusters,
    "benford_first_digit": amounts.benford_first_digit,
    "look_alike_account": lookalikes.look_alike_accounts,
    "commission_mismatch": commission.commission_mismatch,
    "balance_drift": drift.balance_drift,
    "prior_period_item": prior_period.prior_period_items,
}
NEEDS_REFERENCE = {"outside_working_hours": "operators", "unregistered_operator": "operators",
                   "self_dealing": "operator_accounts",
                   "commission_mismatch": "commission_rates"}
"""Checks that read reference data, and the table that must hold it."""

NEEDS_THRESHOLDS = ("unapproved_above_threshold",)
"""Checks that read the approval thresholds, which a reseller's or agent's login is not shown (every entry would
look unapproved to it): not run under such a login."""


@dataclass(frozen=True)
class Found:
    """What the checks found in a month, how long each took, and those that had nothing to read (and why)."""

    month: str
    findings: list[Finding]
    seconds: dict[str, float]
    not_run: dict[str, str]


def find(engine: Engine, month: str, settings: ControlSettings | None = None, checks: list[str] | None = None,
         reconciliation: Reconciliation | None = None, records: pd.DataFrame | None = None) -> Found:
    """Run ``checks`` (default: all) on ``month`` ('YYYY-MM', the ledger's time zone).

    ``reconciliation`` and ``records`` (:func:`context.month_payments`) are the month's when the caller read them already.
    """
    unknown = sorted(set(checks or ()) - set(CHECKS))
    if unknown:
        raise ValueError(f"unknown check(s) {', '.join(unknown)}; use any of: {', '.join(CHECKS)}")
    data = context.load(engine, month, settings or ControlSettings(), reconciliation, records)
    with engine.connect() as connection:
        scoped = scopes.scoped_role(connection)
    empty = {"operators": data.operators.empty, "operator_accounts": data.managed.empty,
             "commission_rates": data.rate_count == 0}
    findings: list[Finding] = []
    seconds, not_run = {}, {}
    for name, check in CHECKS.items():
        if checks and name not in checks:
            continue
        table = NEEDS_REFERENCE.get(name)
        if table and empty.get(table):
            not_run[name] = f"the ledger's {table} table is empty"
            continue
        if scoped and name in NEEDS_THRESHOLDS:
            not_run[name] = (f"the approval thresholds are not shown to this login ({scoped}); a login that sees the "
                             "whole ledger runs it")
            continue
        started = time.perf_counter()
        findings.extend(check(data))
        seconds[name] = time.perf_counter() - started
    records = dict(zip(data.payments["id"].tolist(), data.payments["currency"].tolist()))
    accounts = dict(zip(data.accounts["account"].tolist(), data.accounts["currency"].tolist()))
    return Found(data.month, [priced(finding, records, accounts) for finding in findings], seconds, not_run)
