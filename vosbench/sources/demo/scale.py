"""How big the demo is: the knobs a user or a benchmark turns, checked before anything is written."""

from __future__ import annotations

from dataclasses import dataclass

from vosbench.core import periods

MIN_CUSTOMERS = 20
"""Fewer customers cannot hold the planted anomalies on distinct, long-lived accounts."""


@dataclass(frozen=True)
class DemoScale:
    """The demo's size and seed.

    ``payments_per_month`` None gives the realistic mix (about 2–4 top-ups per calling
    customer a month, ~90k payment records over the default 24 months). A number asks for
    about that many payment records a month (benchmarks: 41,667 for 1M in total); far above
    the realistic mix, top-ups become small exact amounts rather than round sums.
    """

    resellers: int = 2
    agents: int = 8
    customers: int = 2000
    months: int = 24
    end_month: str = "2026-10"
    payments_per_month: int | None = None
    seed: int = 20261031

    def validate(self) -> None:
        """Raise ValueError naming the bad setting and the range that works."""
        try:
            periods.parse_label(self.end_month)
        except periods.PeriodError as error:
            raise ValueError(f"demo scale end_month: {error}") from None
        checks = (
            (self.resellers >= 1, f"resellers={self.resellers}: give at least 1"),
            (self.agents >= self.resellers,
             f"agents={self.agents}: give at least one agent per reseller ({self.resellers})"),
            (self.customers >= MIN_CUSTOMERS,
             f"customers={self.customers}: give at least {MIN_CUSTOMERS} (the planted anomalies need them)"),
            (2 <= self.months <= 240,
             f"months={self.months}: give 2 to 240 (a commission needs a month of traffic before it)"),
            (self.payments_per_month is None or self.payments_per_month >= self.customers,
             f"payments_per_month={self.payments_per_month}: give at least one per customer "
             f"({self.customers}), or leave it out for the realistic mix"),
        )
        for ok, message in checks:
            if not ok:
                raise ValueError(f"demo scale {message}")
