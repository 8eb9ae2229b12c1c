"""Run every control check on one month and collect the findings with their annotations.

Checks return findings and never raise for what they find; only the CLI turns findings
into an exit code. :data:`CHECKS` is the order findings are counted and shown in.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

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
from vosbench.controls import annotations as finding_notes  # "annotations" alone is the __future__ feature
from vosbench.controls.findings import SEVERITIES, Finding, to_frame
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


@dataclass
class ControlsResult:
    month: str
    findings: list[Finding]
    annotations: dict[str, tuple[str, str]]
    seconds: dict[str, float] = field(default_factory=dict)
    not_run: dict[str, str] = field(default_factory=dict)  # check -> why it had nothing to read

    def frame(self) -> pd.DataFrame:
        """Every finding, most serious first, with its latest annotation (status 'open' if none)."""
        return to_frame(self.findings, self.annotations)

    def counts(self) -> pd.DataFrame:
        """Findings per check and severity (every check listed, zeros included)."""
        table = pd.DataFrame(0, index=pd.Index(list(CHECKS), name="check"), columns=list(SEVERITIES))
        for finding in self.findings:
            table.loc[finding.check, finding.severity] += 1
        table["total"] = table.sum(axis=1)
        return table.reset_index()

    def by_operator(self) -> pd.DataFrame:
        """Findings per operator and severity (findings naming several operators count for each)."""
        rows = [{"operator": name, "severity": f.severity} for f in self.findings
                for name in (f.operator.split(",") if f.operator else ["(none)"])]
        frame = pd.DataFrame(rows, columns=["operator", "severity"])
        table = frame.groupby(["operator", "severity"]).size().unstack(fill_value=0)
        return table.reindex(columns=list(SEVERITIES), fill_value=0).reset_index()


def run(engine: Engine, month: str, settings: ControlSettings | None = None,
        checks: list[str] | None = None, reconciliation: Reconciliation | None = None) -> ControlsResult:
    """Run ``checks`` (default: all) on ``month`` ('YYYY-MM', the ledger's time zone).

    ``reconciliation`` is the month's (in the ledger's zone) when the caller made it already.
    """
    unknown = sorted(set(checks or ()) - set(CHECKS))
    if unknown:
        raise ValueError(f"unknown check(s) {', '.join(unknown)}; use any of: {', '.join(CHECKS)}")
    data = context.load(engine, month, settings or ControlSettings(), reconciliation)
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
        started = time.perf_counter()
        findings.extend(check(data))
        seconds[name] = time.perf_counter() - started
    noted = finding_notes.latest(engine)
    return ControlsResult(data.month, findings, {f.finding_id: noted[f.finding_id] for f in findings
                                                 if f.finding_id in noted}, seconds, not_run)
