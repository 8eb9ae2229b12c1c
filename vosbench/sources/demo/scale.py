"""How big the demo is: the knobs a user or a benchmark turns, checked before anything is written."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

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
    currencies: tuple[str, ...] = ("USD",)
    """The accounts' currencies: each reseller's subtree holds one, in turn (at least one reseller each).
    The first is the one the demo's bank and gateway statements are in, so it must be USD."""

    def validate(self) -> None:
        """Raise ValueError naming the bad setting and the range that works."""
        try:
            ends = periods.month(self.end_month, "Etc/GMT+12").end  # the month over everywhere
        except periods.PeriodError as error:
            raise ValueError(f"demo scale end_month: {error}") from None
        if ends > datetime.now(UTC).replace(tzinfo=None):  # its records would be dated after they were recorded
            raise ValueError(f"demo scale end_month: {self.end_month} has not ended yet; give a month that has, "
                             "e.g. the last one")
        checks: tuple[tuple[bool, str], ...] = (
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
        currencies = tuple(self.currencies)
        checks += (
            (all(isinstance(c, str) and len(c) == 3 and c.isalpha() and c.isupper() for c in currencies)
             and len(set(currencies)) == len(currencies) and len(currencies) >= 1,
             f"currencies={','.join(map(str, currencies))}: give distinct ISO 4217 codes such as USD,EUR,AED"),
            (currencies[:1] == ("USD",),
             f"currencies={','.join(map(str, currencies))}: start with USD (the demo's statements are in USD)"),
            (self.agents >= len(currencies),
             f"agents={self.agents}: give at least one agent per currency ({len(currencies)})"),
        )
        for ok, message in checks:
            if not ok:
                raise ValueError(f"demo scale {message}")


def parse_currencies(text: str) -> tuple[str, ...]:
    """``'USD,EUR,AED'`` as ('USD', 'EUR', 'AED'), for a ``--currencies`` option; checked by :meth:`DemoScale.validate`."""
    return tuple(part.strip().upper() for part in str(text).split(",") if part.strip())
