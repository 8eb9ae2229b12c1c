"""Records and facts decided before the simulation runs: incidents and planted anomalies.

The simulation merges scheduled records into an account's day like any other record,
so their balances after are computed by the same rule as everything else — a planted
record is wrong only in the way it was planted to be.
"""

from __future__ import annotations

from vosbench.sources.demo.payments import Draft


class Schedule:
    """Scheduled records by (month index, account) and day; planted snapshot and commission faults."""

    def __init__(self) -> None:
        self._records: dict[tuple[int, str], dict[int, list[Draft]]] = {}
        self.snapshot_offsets: dict[tuple[int, str], int] = {}
        """(month index, account) -> amount added to the reported month-end balance."""
        self.commission_faults: dict[tuple[int, str], tuple[str, str]] = {}
        """(month index, account) -> (rate actually applied, answer-key id) where it differs from the
        configured rate."""

    def add(self, month_index: int, *drafts: Draft) -> None:
        for draft in drafts:
            self._records.setdefault((month_index, draft.account), {}).setdefault(draft.day, []).append(draft)

    def records(self, month_index: int, account: str) -> dict[int, list[Draft]]:
        """The account's scheduled records of the month by day index (empty if none)."""
        return self._records.get((month_index, account), {})
