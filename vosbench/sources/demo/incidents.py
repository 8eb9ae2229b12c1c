"""Ordinary back-office incidents, scheduled before the simulation: clean, explained corrections.

Each month a supervisor makes a few adjustments, every one with a reason; in every
third month a deposit is taken back — a card chargeback or a recalled wire — by a
reversal that points at it and says why. None of these happen in the last month, where
the planted reversal must be the only one.
"""

from __future__ import annotations

import random

from vosbench.core.money import UNIT
from vosbench.sources.demo import operators
from vosbench.sources.demo.hierarchy import Customer, Hierarchy
from vosbench.sources.demo.payments import RecordMaker, nice
from vosbench.sources.demo.schedule import Schedule
from vosbench.sources.demo.timeline import DemoMonth

ROUTES = ("Pakistan mobile", "India mobile", "Nigeria MTN", "Philippines Globe", "Bangladesh GP",
          "Egypt Vodafone", "Kenya Safaricom", "UK landline", "Saudi STC", "Afghanistan Roshan")


def schedule_incidents(hierarchy: Hierarchy, months: list[DemoMonth], maker: RecordMaker,
                       schedule: Schedule, seed: int) -> None:
    """Put the months' adjustments and legitimate reversals on the schedule."""
    for month in months[1:]:
        rng = random.Random(f"{seed}:incidents:{month.label}")
        maker.rng = rng
        steady = hierarchy.steady(month.index)
        for _ in range(max(1, len(steady) // 250)):
            _adjustment(rng, maker, schedule, month, rng.choice(steady))
        if month.index % 3 == 1 and month is not months[-1]:
            payers = [c for c in steady if c.habit in ("web", "wire")]
            _reversed_payment(rng, maker, schedule, month, rng.choice(payers))


def working_slot(rng: random.Random, month: DemoMonth, first: int, last: int,
                 role: str) -> tuple[int, str, int]:
    """A random working day in [first, last] with someone of ``role`` on duty: (day, login, seconds)."""
    days = [d for d in range(first, last + 1) if month.is_working_day(d)]
    day = rng.choice(days)
    slot = operators.manual_slot(rng, month, day, role)
    assert slot is not None, "every role has people on every working day"
    login, seconds = slot
    return day, login, seconds


def _adjustment(rng: random.Random, maker: RecordMaker, schedule: Schedule, month: DemoMonth,
                customer: Customer) -> None:
    day, login, seconds = working_slot(rng, month, 2, len(month.days) - 3, "supervisor")
    ticket = rng.randrange(10_000, 99_999)
    route = rng.choice(ROUTES)
    minutes = rng.randint(40, 2_500)
    amount, reason = rng.choice((
        (minutes * customer.rate, f"Credit for {minutes} minutes of failed calls to {route}, ticket #{ticket}"),
        (-minutes * customer.rate // 4, f"Rate correction: {route} billed at the old price, ticket #{ticket}"),
        (nice(rng.randint(10, 150) * UNIT), f"Goodwill credit after the switch outage, ticket #{ticket}"),
        (-25 * UNIT, f"Bank charges of a returned wire passed on to the customer, ticket #{ticket}"),
    ))
    schedule.add(month.index, maker.adjustment(day, customer.account, amount, login, seconds, reason,
                                               memo=f"ticket #{ticket}"))


def _reversed_payment(rng: random.Random, maker: RecordMaker, schedule: Schedule, month: DemoMonth,
                      customer: Customer) -> None:
    day, clerk, seconds = working_slot(rng, month, 2, len(month.days) - 9, "clerk")
    amount = nice(rng.randint(100, 2_500) * UNIT)
    if customer.habit == "web":
        payment = maker.gateway(day, customer.account, amount)
        reason = f"Chargeback CB-{rng.randrange(10**7, 10**8)}: the cardholder disputed the payment with the issuer"
    else:
        payment = maker.bank_wire(month, day, customer.account, customer.name, amount, clerk, seconds)
        reason = f"Wire recalled by the remitting bank (MT192 for {payment.reference}); funds returned"
    later, supervisor, when = working_slot(rng, month, day + 2, day + 6, "supervisor")
    schedule.add(month.index, payment, maker.reversal(payment, later, supervisor, when, reason))
