"""Measuring the checks against a demo ledger's answer key: recall on the planted, precision overall.

Each planted anomaly kind belongs to one check. A finding *finds* an anomaly when it
comes from that check, names the anomaly's account and holds all of its records. Every
other finding of the month is counted against its check as a false positive — the
demo is clean apart from what it plants, so that is what the checks cost an auditor.
"""

from __future__ import annotations

import pandas as pd

from vosbench.controls.checks import CHECKS
from vosbench.controls.findings import Finding

CHECK_OF_ANOMALY = {
    "balance_not_updated": "balance_drift",
    "snapshot_mismatch": "balance_drift",
    "adjustment_without_reason": "adjustment_without_reason_or_link",
    "unapproved_large_deposit": "unapproved_above_threshold",
    "duplicate_deposit": "duplicate",
    "wrong_account_deposit": "look_alike_account",
    "reversed_deposit": "reversal",
    "commission_mismatch": "commission_mismatch",
}


def finds(finding: Finding, anomaly: dict) -> bool:
    return (finding.check == CHECK_OF_ANOMALY.get(anomaly["kind"]) and anomaly["account"] in finding.accounts
            and set(anomaly["payment_ids"]) <= set(finding.payment_ids))


def missed(findings: list[Finding], key: dict, month: str) -> list[dict]:
    """The planted anomalies of ``month`` that no finding of the right check finds."""
    return [a for a in key["anomalies"] if a["month"] == month and not any(finds(f, a) for f in findings)]


def score(findings: list[Finding], key: dict, month: str) -> pd.DataFrame:
    """Per check: planted, found, findings, true and false positives, precision and recall."""
    planted = [a for a in key["anomalies"] if a["month"] == month]
    rows = []
    for check in CHECKS:
        mine = [f for f in findings if f.check == check]
        targets = [a for a in planted if CHECK_OF_ANOMALY.get(a["kind"]) == check]
        true = [f for f in mine if any(finds(f, a) for a in targets)]
        found = [a for a in targets if any(finds(f, a) for f in mine)]
        rows.append({"check": check, "planted": len(targets), "found": len(found), "findings": len(mine),
                     "true_positives": len(true), "false_positives": len(mine) - len(true),
                     "precision": len(true) / len(mine) if mine else None,
                     "recall": len(found) / len(targets) if targets else None})
    return pd.DataFrame(rows)
