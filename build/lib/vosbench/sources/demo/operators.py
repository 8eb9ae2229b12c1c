"""Who enters records, and when: six back-office people with shifts, and the system logins.

Manual records (cash, bank wires, adjustments, reversals) are entered by a person on
duty during their shift on a working day; records from the web portal, the IVR, the
crypto gateway API and the billing engine carry the system login that VOS3000 shows.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from vosbench.sources.demo.timeline import DemoMonth

HOUR = 3600


@dataclass(frozen=True)
class Operator:
    login: str
    role: str  # 'clerk' enters payments; 'supervisor' approves, adjusts and reverses
    starts: int  # local hour the shift starts
    ends: int  # local hour it ends
    saturdays: bool = False


OPERATORS = (
    Operator("amira.haddad", "clerk", 8, 16),
    Operator("omar.farouk", "clerk", 9, 17),
    Operator("priya.nair", "clerk", 12, 20, saturdays=True),
    Operator("james.okafor", "clerk", 14, 22),
    Operator("fatima.saleh", "supervisor", 9, 18),
    Operator("daniel.meyer", "supervisor", 10, 19, saturdays=True),
)

SYSTEM = "system"  # billing engine: auto-recharges, commissions, promotional bonuses
WEB_PORTAL = "web"
IVR = "ivr"
CRYPTO_API = "api"

LARGE_DEPOSIT = 10_000_0000
"""Manual deposits of 10,000.00 or more need a supervisor's approval (approved_by)."""
LARGE_WITHDRAWAL = 10_000_0000
"""So do withdrawals (payouts, refunds) of 10,000.00 or more: parameters/controls.yaml's thresholds."""


def on_duty(month: DemoMonth, day_index: int, role: str) -> list[Operator]:
    """The people of ``role`` working on that local day (Saturday shifts for some)."""
    working = month.is_working_day(day_index)
    saturday = month.days[day_index].weekday() == 5
    return [op for op in OPERATORS if op.role == role and (working or (saturday and op.saturdays))]


def manual_slot(rng: random.Random, month: DemoMonth, day_index: int,
                role: str = "clerk") -> tuple[str, int] | None:
    """An operator of ``role`` on duty that day and a moment (seconds into the day) in their shift."""
    staff = on_duty(month, day_index, role)
    if not staff:
        return None
    person = rng.choice(staff)
    return person.login, rng.randrange(person.starts * HOUR + 120, person.ends * HOUR - 120)


def second_supervisor(login: str) -> str:
    """The first supervisor other than ``login``: the desk's fixed counter-signer for payouts.

    Fixed rather than drawn, so that approving the rare large payout draws nothing from the
    build's random stream and every other record of a demo stays as it was.
    """
    return next(op.login for op in OPERATORS if op.role == "supervisor" and op.login != login)


def approver_for(login: str, rng: random.Random) -> str:
    """A supervisor other than the person who entered the record."""
    return rng.choice([op.login for op in OPERATORS if op.role == "supervisor" and op.login != login])
