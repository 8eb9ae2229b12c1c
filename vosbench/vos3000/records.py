"""One VOS3000 payment record → one ledger payment (or none), with what to flag.

Shared by every way a payment record arrives (database, Web API, export file), so a
record reads the same whichever door it came through: the signed movement
(:mod:`vosbench.vos3000.signs`), the kind from the mapping, and an adjustment instead
when the movement's sign contradicts the kind (a "deduction" that raised the balance).
"""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from vosbench.journal import NewPayment
from vosbench.model import SIGN_RULES, Kind
from vosbench.vos3000.mapping import Mapping
from vosbench.vos3000.signs import signed_movement
from vosbench.vos3000.state import Flag


class PayRecord(NamedTuple):
    """A payment record as VOS3000 holds it, money already in minor units (a tuple: millions are made)."""

    key: str
    account: str
    amount: int  # paymoney / fee, as stored (sign unknown)
    balance_after: int  # customermoney
    type_code: int
    paytype: int
    occurred_at: datetime  # naive UTC
    operator: str
    memo: str
    line: int = 0


def to_payment(record: PayRecord, balance_before: int | None, mapping: Mapping, stream: str,
               flags: list[Flag]) -> NewPayment | None:
    """The ledger payment for ``record`` (None for a zero movement); flags are appended."""
    rule = mapping.type_rule(record.type_code)
    signed = signed_movement(record.amount, record.balance_after, balance_before, rule)
    if signed.disagrees:
        flags.append(Flag(stream, record.key, "sign_disagrees", (
            f"type {record.type_code} amount {record.amount:+d} minor units: the balance moved by "
            f"{signed.movement:+d}, the rule '{rule.sign}' reads {rule.signed(record.amount):+d}; "
            "the balance's reading is kept")))
    if signed.movement == 0:
        flags.append(Flag(stream, record.key, "zero_amount", f"type {record.type_code} moved no money; not a payment"))
        return None
    kind, reason = rule.kind, rule.reason
    sign_rule = SIGN_RULES[kind]
    if sign_rule and (signed.movement > 0) != (sign_rule > 0):
        direction = "raised" if signed.movement > 0 else "lowered"
        flags.append(Flag(stream, record.key, "kind_changed", f"a type {record.type_code} ({kind.value}) record "
                                                              f"that {direction} the balance; kept as an adjustment"))
        kind, reason = Kind.ADJUSTMENT, f"VOS3000 type {record.type_code} record that {direction} the balance"
    return NewPayment(source_key=record.key, account=record.account, kind=kind, amount=signed.movement,
                      occurred_at=record.occurred_at, operator=record.operator or "vos3000",
                      channel=mapping.channel, method=mapping.method(record.paytype), memo=record.memo or "",
                      reason=reason, balance_after=record.balance_after, line=record.line)
