"""The signed movement of an e_payhistory record.

VOS3000 does not document whether ``paymoney`` is signed for deductions (type 1) and
make-zero (type 3). Each record carries ``customermoney``, the balance right after it,
so between two consecutive records of an account::

    customermoney_now − customermoney_before = movement − charges in between

When nothing was charged in between, the change is exactly +|paymoney| or −|paymoney|
and that *derives* the sign. Otherwise (calls in between, the account's first record)
the configured rule of the record's type decides. A record whose derived sign differs
from its rule is flagged, so a wrong rule shows up instead of silently flipping money.
"""

from __future__ import annotations

from typing import NamedTuple

from vosbench.sources.vos3000.mapping import TypeRule


class Signed(NamedTuple):
    movement: int  # minor units, + raises the balance
    derived: bool  # True when consecutive balances fixed the sign
    disagrees: bool  # derived, and the type's rule reads the other sign


def signed_movement(paymoney: int, balance_after: int, balance_before: int | None, rule: TypeRule) -> Signed:
    """The movement of a record with ``paymoney`` (minor units) under ``rule``.

    ``balance_before`` is the account's previous record's ``customermoney`` (None for
    its first record).
    """
    by_rule = rule.signed(paymoney)
    size = abs(paymoney)
    if balance_before is None or size == 0:
        return Signed(by_rule, False, False)
    change = balance_after - balance_before
    if change == size:
        derived = size
    elif change == -size:
        derived = -size
    else:
        return Signed(by_rule, False, False)
    return Signed(derived, True, derived != by_rule)
