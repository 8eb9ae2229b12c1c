"""VOS3000 payment records → ledger payments (none for a record that moved no money), with what to flag.

Shared by every way a payment record arrives (database, Web API, export file), so a
record reads the same whichever door it came through: the signed movement
(:mod:`vosbench.sources.vos3000.signs`), the kind from the mapping, and an adjustment instead
when the movement's sign contradicts the kind (a "deduction" that raised the balance).
"""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from vosbench.core.columns import Columns
from vosbench.core.model import SIGN_RULES, Kind
from vosbench.ledger.write_door import PaymentColumns
from vosbench.sources.vos3000.mapping import Mapping
from vosbench.sources.vos3000.signs import signed_movement
from vosbench.sources.vos3000.state import Flag


class PayRecord(NamedTuple):
    """A payment record as VOS3000 holds it, money already in minor units (a tuple: millions are made)."""

    key: str
    account: str
    amount: int  # paymoney / fee, as stored (sign unknown)
    balance_after: int  # customermoney
    type_code: int
    paytype: int
    occurred_at: datetime  # naive UTC (a bulk reader may carry epoch milliseconds instead: see to_payments)
    operator: str
    memo: str
    line: int = 0


class PayRecords(Columns):
    """Payment records as columns (:class:`vosbench.core.columns.Columns` of :class:`PayRecord`)."""

    __slots__ = ()
    row_type = PayRecord


def to_payments(records: PayRecords, before: dict[str, int], mapping: Mapping, stream: str,
                flags: list[Flag]) -> PaymentColumns:
    """The ledger payments for ``records`` (in the order each account's balance moved),
    without the records that moved no money; flags are appended.

    ``before`` holds each account's balance after its previous record and is advanced.
    ``occurred_at`` is carried through as it comes (datetimes, or whatever stands for
    them), so a bulk reader can convert its times once, after dropping records.
    """
    rules = {code: mapping.type_rule(code) for code in set(records.type_code)}
    kept, kinds, movements, reasons = [], [], [], []
    for index, (key, account, amount, balance_after, code) in enumerate(zip(
            records.key, records.account, records.amount, records.balance_after, records.type_code)):
        rule = rules[code]
        signed = signed_movement(amount, balance_after, before.get(account), rule)
        before[account] = balance_after
        if signed.disagrees:
            flags.append(Flag(stream, key, "sign_disagrees", (
                f"type {code} amount {amount:+d} minor units: the balance moved by {signed.movement:+d}, "
                f"the rule '{rule.sign}' reads {rule.signed(amount):+d}; the balance's reading is kept")))
        if signed.movement == 0:
            flags.append(Flag(stream, key, "zero_amount", f"type {code} moved no money; not a payment"))
            continue
        kind, reason = rule.kind, rule.reason
        sign_rule = SIGN_RULES[kind]
        if sign_rule and (signed.movement > 0) != (sign_rule > 0):
            direction = "raised" if signed.movement > 0 else "lowered"
            flags.append(Flag(stream, key, "kind_changed", f"a type {code} ({kind.value}) record "
                                                           f"that {direction} the balance; kept as an adjustment"))
            kind, reason = Kind.ADJUSTMENT, f"VOS3000 type {code} record that {direction} the balance"
        kept.append(index)
        kinds.append(kind)
        movements.append(signed.movement)
        reasons.append(reason)
    count = len(kept)

    def pick(column) -> list:  # the values of the records kept
        return list(column) if count == len(records) else [column[index] for index in kept]

    methods = {code: mapping.method(code) for code in set(records.paytype)}
    return PaymentColumns((
        pick(records.key), pick(records.account), kinds, movements, pick(records.occurred_at),
        [operator or "vos3000" for operator in pick(records.operator)], [mapping.channel] * count,
        [methods[code] for code in pick(records.paytype)], [""] * count,
        [memo or "" for memo in pick(records.memo)], reasons, pick(records.balance_after), [""] * count,
        [None] * count, [""] * count, pick(records.line)))
