"""Call traffic: how many calls and billed minutes a customer makes on a day, and what they cost.

Counts follow a customer's size, a weekly rhythm (quieter weekends), a ramp-up after
opening, slow growth with age and a fade before leaving. Money is integer arithmetic
only: billed minutes (an integer) times a per-minute price in minor units.
"""

from __future__ import annotations

import random

from vosbench.sources.demo.hierarchy import Customer

WEEKDAY_FACTOR = (1.00, 1.03, 1.04, 1.02, 0.97, 0.84, 0.86)
"""Monday..Sunday: business traffic dips at the UAE weekend."""


def month_factor(customer: Customer, month_index: int) -> float:
    """Traffic level in a month relative to the customer's base size; 0 when not calling."""
    if month_index < customer.opens or (customer.churns is not None and month_index > customer.churns):
        return 0.0
    age = month_index - customer.opens
    ramp = (0.45, 0.8)[age] if age < 2 else 1.0
    fade = 1.0
    if customer.churns is not None:
        fade = {0: 0.5, 1: 0.75}.get(customer.churns - month_index, 1.0)
    return ramp * fade * customer.growth ** age


def expected_fee(customer: Customer, factor: float, days: int) -> int:
    """Roughly what the customer's calls cost over ``days`` at ``factor`` (minor units)."""
    minutes = int(customer.calls_per_day * customer.minutes_per_call * factor * days)
    return minutes * customer.rate


def day_traffic(rng: random.Random, customer: Customer, factor: float, weekday: int) -> tuple[int, int]:
    """(calls, billed minutes) for one day; every answered call bills at least a minute."""
    if rng.random() >= customer.calling_share:
        return 0, 0
    mean = customer.calls_per_day / customer.calling_share * factor * WEEKDAY_FACTOR[weekday]
    calls = int(mean * (0.7 + 0.6 * rng.random()) + rng.random())
    if not calls:
        return 0, 0
    minutes = int(calls * customer.minutes_per_call * (0.85 + 0.3 * rng.random()) + rng.random())
    return calls, max(calls, minutes)


def affordable(calls: int, minutes: int, rate: int, available: int) -> tuple[int, int]:
    """Cut the day's traffic to what the balance plus credit allows: the switch blocks calls at zero."""
    if minutes * rate <= available:
        return calls, minutes
    minutes = max(0, available) // rate
    return min(calls, minutes), minutes
