"""Run every control check on one month and collect the findings with their annotations.

The checks, their order and running them are :mod:`vosbench.controls.checks`'s; this adds each
finding's latest annotation. Only the CLI turns findings into an exit code.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd
from sqlalchemy.engine import Engine

from vosbench.analysis.reconcile import Reconciliation
from vosbench.controls import annotations as finding_notes  # "annotations" alone is the __future__ feature
from vosbench.controls.checks import CHECKS, find
from vosbench.controls.findings import SEVERITIES, Finding, to_frame
from vosbench.ledger.policy import ControlSettings

NO_OPERATOR = "(no operator)"
"""Where :meth:`ControlsResult.by_operator` counts a finding that names no operator (a ledger-wide one)."""


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
        """Findings per operator and severity (findings naming several operators count for each; those naming none,
        such as a balance that drifted, under :data:`NO_OPERATOR`)."""
        rows = [{"operator": name, "severity": f.severity} for f in self.findings
                for name in (f.operator.split(",") if f.operator else [NO_OPERATOR])]
        frame = pd.DataFrame(rows, columns=["operator", "severity"])
        table = frame.groupby(["operator", "severity"]).size().unstack(fill_value=0)
        return table.reindex(columns=list(SEVERITIES), fill_value=0).reset_index()


def run(engine: Engine, month: str, settings: ControlSettings | None = None,
        checks: list[str] | None = None, reconciliation: Reconciliation | None = None,
        records: pd.DataFrame | None = None) -> ControlsResult:
    """Run ``checks`` (default: all) on ``month`` ('YYYY-MM', the ledger's time zone) with the latest annotations.

    ``reconciliation`` is the month's (in the ledger's zone) when the caller made it already, and
    ``records`` its :func:`vosbench.controls.context.month_payments` (the audit reads them once for its sections too).
    """
    found = find(engine, month, settings, checks, reconciliation, records)
    noted = finding_notes.latest(engine)
    return ControlsResult(found.month, found.findings, {f.finding_id: noted[f.finding_id] for f in found.findings
                                                        if f.finding_id in noted}, found.seconds, found.not_run)
