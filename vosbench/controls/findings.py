"""A finding: what a check saw, on which records, how serious, in plain words.

A finding's id is stable: a hash of the check, the month and the sorted account
numbers and record ids it concerns, so the same ledger gives the same ids on every run
and an auditor's annotation (keyed by the id) comes back when the audit is re-run.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from vosbench.core.money import MAX_MINOR

if TYPE_CHECKING:
    import pandas as pd


SEVERITIES = ("high", "medium", "low")
STATUSES = ("open", "explained", "escalated")
"""What an auditor may say of a finding (``vosbench findings annotate --status``)."""
"""Most serious first: high = money may be lost or misstated; low = worth a look."""

COLUMNS = ("finding_id", "check", "severity", "month", "accounts", "payment_ids", "operator", "currency", "amount",
           "explanation", "status", "note")
"""The columns of :func:`to_frame`; ``amount`` in minor units of ``currency`` (nullable Int64, or Python integers
past int64)."""


@dataclass(frozen=True)
class Finding:
    check: str
    severity: str
    month: str
    accounts: tuple[str, ...]
    explanation: str
    payment_ids: tuple[int, ...] = ()
    operator: str = ""
    amount: int | None = None  # the money at stake, minor units
    finding_id: str = field(default="", compare=False)
    currency: str = ""  # of ``amount``: its records' currency (set by :func:`priced`); "" when it has none

    def __post_init__(self):
        if self.severity not in SEVERITIES:
            raise ValueError(f"severity {self.severity!r}: use one of {', '.join(SEVERITIES)}")
        object.__setattr__(self, "accounts", tuple(sorted(set(self.accounts))))
        object.__setattr__(self, "payment_ids", tuple(sorted({int(i) for i in self.payment_ids})))
        object.__setattr__(self, "finding_id", stable_id(self.check, self.month, self.accounts, self.payment_ids,
                                                         self.operator))


def stable_id(check: str, month: str, accounts: tuple[str, ...], payment_ids: tuple[int, ...],
              operator: str = "") -> str:
    """'F-' and 12 hex digits of sha256 over what the finding is about (never its wording)."""
    key = "|".join((check, month, ",".join(accounts), ",".join(map(str, payment_ids)), operator))
    return "F-" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:12]


def priced(finding: Finding, record_currencies: dict[int, str], account_currencies: dict[str, str]) -> Finding:
    """``finding`` with the currency of its amount: that of its records (or, naming none of the month's, of its
    accounts). Records in several currencies have no amount at stake: a sum of yen and dollars means nothing, and
    the explanation names each record's money in its own currency."""
    found = {record_currencies[i] for i in finding.payment_ids if i in record_currencies} or {
        account_currencies[a] for a in finding.accounts if a in account_currencies}
    if len(found) == 1:
        return replace(finding, currency=found.pop())
    return replace(finding, amount=None) if found and finding.amount is not None else finding


def to_frame(findings: list[Finding], annotations: dict[str, tuple[str, str]] | None = None) -> pd.DataFrame:
    """Findings as a table, most serious first; ``annotations`` maps id → (status, note)."""
    annotations = annotations or {}
    rank = {name: i for i, name in enumerate(SEVERITIES)}
    ordered = sorted(findings, key=lambda f: (rank[f.severity], f.check, f.accounts, f.payment_ids, f.operator))
    rows = [{"finding_id": f.finding_id, "check": f.check, "severity": f.severity, "month": f.month,
             "accounts": ", ".join(f.accounts), "payment_ids": ", ".join(map(str, f.payment_ids)),
             "operator": f.operator, "currency": f.currency, "amount": f.amount, "explanation": f.explanation,
             "status": annotations.get(f.finding_id, ("open", ""))[0],
             "note": annotations.get(f.finding_id, ("open", ""))[1]} for f in ordered]
    import pandas as pd  # here: listing severities must not load pandas

    frame = pd.DataFrame(rows, columns=list(COLUMNS))
    if all(f.amount is None or abs(f.amount) <= MAX_MINOR for f in findings):
        frame["amount"] = frame["amount"].astype("Int64")
    else:  # money at stake past int64 (a difference between absurd amounts): kept as Python integers
        frame["amount"] = frame["amount"].astype(object).where(frame["amount"].notna(), None)
    return frame
