"""Entry discipline: adjustments carry a reason and a link; large manual entries a supervisor's approval.

The same rules refuse a manual entry at the door (:mod:`vosbench.ledger.approvals`); these
checks find the records that got in anyway — imported history, which is accepted as
it happened, or entries made before the rules were set. A name in ``approved_by`` is only a
claim: it counts when it is a registered supervisor's other than the maker's (any second name
while no operators are registered) and, on a person's entry, the checker of its approved request.
"""

from __future__ import annotations

import pandas as pd

from vosbench.controls.context import MonthData
from vosbench.controls.findings import Finding
from vosbench.core.hidden_text import blank
from vosbench.ledger.guards import MANUAL_SOURCE


def adjustments_without_reason_or_link(data: MonthData) -> list[Finding]:
    """Adjustments with no reason, or no ticket id / CDR flow number in reference, reason or memo."""
    settings = data.settings
    found = []
    for row in data.payments[data.payments["kind"] == "adjustment"].itertuples():
        reason = "" if blank(row.reason) else row.reason.strip()
        linked = settings.has_link(row.reference, row.reason, row.memo)
        if reason and linked:
            continue
        missing = " and ".join(word for word, absent in (("reason", not reason), ("link", not linked)) if absent)
        found.append(Finding(
            "adjustment_without_reason_or_link", "high" if not reason else "medium", data.month, (row.account,),
            f"adjustment of {data.money_text(row.amount, row.currency)} on {row.account} by {row.operator} at "
            f"{data.time_text(row.occurred_at)} has no "
            f"{missing} (a reason and a ticket id or CDR flow number are required)",
            (row.id,), row.operator, row.amount))
    return found


def _above_threshold(data: MonthData) -> pd.DataFrame:
    """Manual, non-reversal records at or above their kind's approval threshold, with the threshold (NA where
    its currency and kind have none: as the ledger's write door, the audit fails closed, and every amount is)."""
    frame = data.payments.assign(threshold=data.thresholds())
    frame = frame[frame["channel"].isin(data.settings.manual_channels) & frame["reverses_id"].isna()]
    return frame[frame["threshold"].isna() | (frame["amount"].abs() >= frame["threshold"].fillna(0).astype("int64"))]


def _approval_gap(data: MonthData, row, role: str | None, checker) -> str | None:
    """Why ``row``'s approval does not count, or None when it does.

    An approval is a second person's: where operators are registered, a supervisor's, and for a
    person's entry (which vosbench records only once a supervisor approves its request) the
    approval of its request. One by the maker is :func:`approved_by_maker`'s.
    """
    approver = row.approved_by.strip()
    if not approver:
        return "without approval"
    if approver.casefold() == row.operator.strip().casefold():
        return None
    if not data.operators.empty and role != "supervisor":
        return f"approved by {approver}, " + (f"a {role}" if role else "not a registered operator")
    if row.source == MANUAL_SOURCE and (pd.isna(checker) or str(checker).casefold() != approver.casefold()):
        return f"marked approved by {approver} with no request of it approved by {approver}"
    return None


def unapproved_above_threshold(data: MonthData) -> list[Finding]:
    """Manual entries at or above the approval threshold that no second operator approved: no approver, an
    approver who is no registered supervisor, or, for a person's entry, no approved request behind it."""
    frame = _above_threshold(data)
    roles = dict(zip(data.operators["login"].astype(str).str.casefold(), data.operators["role"].astype(str), strict=True))
    checkers = data.request_of("checker")
    found = []
    for row in frame.itertuples():
        gap = _approval_gap(data, row, roles.get(row.approved_by.strip().casefold()), checkers[row.Index])
        if gap is None:
            continue
        limit = (f"no {row.currency} {row.kind} threshold is set, so every one needs" if pd.isna(row.threshold)
                 else f"{row.kind}s of {data.money_text(row.threshold, row.currency)} {row.currency} or more need")
        found.append(Finding(
            "unapproved_above_threshold", "high", data.month, (row.account,),
            f"{row.kind} of {data.money_text(row.amount, row.currency)} on {row.account} entered by {row.operator} at "
            f"{data.time_text(row.occurred_at)} "
            f"{gap}; {limit} a second operator" + ("" if data.operators.empty else ", a supervisor"),
            (row.id,), row.operator, row.amount))
    return found


def approved_by_maker(data: MonthData) -> list[Finding]:
    """Records whose approver is the operator who entered them (maker-checker defeated)."""
    frame = data.payments
    own = frame[(frame["approved_by"].str.strip() != "")
                & (frame["approved_by"].str.strip().str.lower() == frame["operator"].str.strip().str.lower())]
    return [Finding(
        "approved_by_maker", "high", data.month, (row.account,),
        f"{row.kind} of {data.money_text(row.amount, row.currency)} on {row.account} at {data.time_text(row.occurred_at)} "
        "was entered and approved by the "
        f"same operator, {row.operator}", (row.id,), row.operator, row.amount) for row in own.itertuples()]


def just_under_threshold(data: MonthData) -> list[Finding]:
    """Per operator and kind: manual entries within a few percent below the approval threshold.

    One such amount is ordinary; several from one operator in a month suggest entries
    sized to avoid a second approval (severity grows with the count).
    """
    frame = data.payments.assign(threshold=data.thresholds())
    frame = frame[frame["channel"].isin(data.settings.manual_channels) & frame["threshold"].notna()
                  & frame["reverses_id"].isna()]
    threshold = frame["threshold"].astype("int64")
    share = data.settings.just_under_share
    numerator, denominator = share.as_integer_ratio()  # exact: no float in the money path
    floor = threshold - threshold * numerator // denominator
    near = frame[(frame["amount"].abs() < threshold) & (frame["amount"].abs() >= floor)]
    found = []
    for (operator, kind, currency), group in near.groupby(["operator", "kind", "currency"], sort=True):
        count, limit = len(group), int(group["threshold"].iloc[0])
        found.append(Finding(
            "just_under_threshold", "medium" if count >= 3 else "low", data.month, tuple(group["account"]),
            f"{operator} entered {count} {kind}(s) just under the {data.money_text(limit, currency)} {currency} approval "
            f"threshold (within {share * 100:.0f}%): {', '.join(data.money_text(a, currency) for a in group['amount'])}",
            tuple(group["id"]), operator, int(group["amount"].sum())))
    return found
