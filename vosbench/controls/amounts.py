"""The shape of manual amounts: clusters of round sums, and the first-digit (Benford) test.

Neither proves anything alone — people do pay round sums — so both are low-severity
pointers for an auditor to look at together with the other findings.
"""

from __future__ import annotations

import math

import pandas as pd

from vosbench.controls.context import MonthData
from vosbench.controls.findings import Finding

BENFORD = {digit: math.log10(1 + 1 / digit) for digit in range(1, 10)}
"""Expected share of each first digit (proportions, not money)."""


def _manual_entries(data: MonthData) -> pd.DataFrame:
    frame = data.manual()
    return frame[frame["reverses_id"].isna()]


def round_amount_clusters(data: MonthData) -> list[Finding]:
    """Several round manual amounts on one account within a few days."""
    settings = data.settings
    entries = _manual_entries(data)
    round_ = entries[entries["amount"] % settings.round_unit == 0].sort_values(["account", "occurred_at", "id"])
    span = pd.Timedelta(days=settings.round_cluster_days)
    found = []
    for account, group in round_.groupby("account", sort=True):
        if len(group) < settings.round_cluster_min:
            continue
        times = list(group["occurred_at"])
        start, clusters = 0, list[tuple[int, int]]()
        for end in range(len(times)):
            while times[end] - times[start] > span:
                start += 1
            if end - start + 1 >= settings.round_cluster_min:
                if clusters and start <= clusters[-1][1]:
                    clusters[-1] = (clusters[-1][0], end)
                else:
                    clusters.append((start, end))
        for first, last in clusters:
            part, currency = group.iloc[first:last + 1], group["currency"].iloc[0]
            found.append(Finding(
                "round_amount_cluster", "low", data.month, (account,),
                f"{len(part)} manual entries on {account} in multiples of {data.money_text(settings.round_unit, currency)} "
                f"within {settings.round_cluster_days} days: " + ", ".join(
                    f"{data.money_text(r.amount, currency)} ({r.operator}, {r.local_time:%m-%d})" for r in part.itertuples()),
                tuple(part["id"]), ",".join(sorted(set(part["operator"]))), int(part["amount"].sum())))
    return found


def first_digit_shares(amounts: pd.Series) -> dict[int, float]:
    """Share of each first digit 1–9 among the non-zero ``amounts`` (minor units)."""
    digits = amounts.abs().astype(str).str[0].astype(int)
    digits = digits[digits > 0]
    return {d: float((digits == d).sum()) / len(digits) for d in range(1, 10)} if len(digits) else {}


def benford_mad(shares: dict[int, float]) -> float:
    """Mean absolute deviation of first-digit ``shares`` from Benford's law (0: a perfect fit)."""
    return sum(abs(shares.get(d, 0.0) - BENFORD[d]) for d in BENFORD) / 9


def benford_first_digit(data: MonthData) -> list[Finding]:
    """Per operator: do the first digits of their manual amounts follow Benford's law?

    Measured by the mean absolute deviation (MAD) of the nine shares. Amounts people
    choose (round top-ups, menu amounts) do not follow the law, so a whole desk can sit
    above the textbook limit without anything being wrong: the bar is the higher of
    ``benford_mad_limit`` and ``benford_desk_ratio`` × the MAD of the rest of the desk
    (every other operator's manual amounts of the month, when they are a sample
    themselves). An operator is flagged for deviating from the law *more than their
    colleagues do*. Caveat: the test needs ``benford_min_sample`` entries (operators with
    fewer are not tested) and amounts spanning several orders of magnitude; a high MAD
    is a pointer only.
    """
    settings = data.settings
    limit, ratio = float(settings.benford_mad_limit), float(settings.benford_desk_ratio)
    entries = _manual_entries(data)
    found = []
    for operator, group in entries.groupby("operator", sort=True):
        if len(group) < settings.benford_min_sample:
            continue
        shares = first_digit_shares(group["amount"])
        mad = benford_mad(shares)
        rest = entries.loc[entries["operator"] != operator, "amount"]
        desk = benford_mad(first_digit_shares(rest)) if len(rest) >= settings.benford_min_sample else None
        bar = max(limit, ratio * desk) if desk is not None else limit
        if mad <= bar:
            continue
        worst = max(BENFORD, key=lambda d: abs(shares[d] - BENFORD[d]))
        against = (f"the limit {limit} and {ratio:g} × the rest of the desk's MAD {desk:.4f}" if desk is not None
                   else f"the limit {limit} (no other operator has a sample to compare with)")
        found.append(Finding(
            "benford_first_digit", "low", data.month, (),
            f"first digits of {operator}'s {len(group)} manual amounts deviate from Benford's law (MAD "
            f"{mad:.4f}, above {against}); most off: digit {worst} at {shares[worst]:.1%} vs "
            f"{BENFORD[worst]:.1%} expected. Caveat: only operators with {settings.benford_min_sample}+ entries are "
            "tested, and chosen amounts (round top-ups) need not follow the law — a pointer, not proof",
            (), operator, None))
    return found
