"""A deposit made with ``sync vos3000-api --pay``, recognised when the switch's own record of it is synced.

Pay moves the money on the switch, and the switch writes its own payment record of it
(``e_payhistory``, the API's pay history, the client's export). The ledger records the
deposit at once, under its own key (``pay/ACCOUNT/MS``), before any sync has seen that
record; a later sync of the API, of the database or of an export brings the same money in
under the switch's key. Added as it comes, the deposit would count twice.

So a synced deposit that answers a Pay deposit is left out, and a flag (``pay_recorded``)
names the payment it is. It answers one when it is of the same account and amount, the
switch recorded it from :data:`CLOCK_SKEW` before the moment Pay was asked to
:data:`ANSWERED_WITHIN` after, and its balance after is the one Pay reported (when Pay
reported one). Each Pay deposit answers one synced record, the earliest, and keeps it:
a flag kept from an earlier sync holds the pairing, so a second deposit of the same
amount minutes later is still added.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import timedelta

import sqlalchemy as sa

from vosbench.core.model import Channel, Kind
from vosbench.ledger import tables
from vosbench.ledger.write_door import NewPayment, PaymentColumns

CODE = "pay_recorded"
ANSWERED_WITHIN = timedelta(minutes=15)
"""How long after Pay was asked the switch's record of it may be dated."""
CLOCK_SKEW = timedelta(minutes=2)
"""How far the switch's clock may run behind this machine's."""
PAY_KEYS = ("pay/", "pay0")
"""The key range of the deposits Pay recorded (``pay/ACCOUNT/MS``; ``0`` sorts right after ``/``)."""
_DETAIL = "the deposit `sync vos3000-api --pay` recorded as payment {id}; not added again"
_PAYMENT_ID = re.compile(r"recorded as payment (\d+);")


def unclaimed(connection: sa.Connection, source: str, rows: Sequence[NewPayment] | PaymentColumns,
              ) -> tuple[Sequence[NewPayment] | PaymentColumns, list[tuple[str, str]]]:
    """``rows`` without the switch's records of Pay deposits, and each one left out: its key and why."""
    columns = rows if isinstance(rows, PaymentColumns) else PaymentColumns.of(list(rows))
    if not len(columns):
        return rows, []
    # the Pay deposits of the rows' time span first: most syncs have none, and then nothing else is done
    pays = _pay_deposits(connection, min(columns.occurred_at) - ANSWERED_WITHIN, max(columns.occurred_at) + CLOCK_SKEW)
    if not pays:
        return rows, []
    deposits = [index for index, kind in enumerate(columns.kind) if kind == Kind.DEPOSIT]
    kept = _kept_pairings(connection, source)
    taken: dict[int, int] = {}  # row index -> the Pay deposit's payment id
    for pay in pays:
        key = kept.get(pay.id)
        candidates = [index for index in deposits if index not in taken and (
            columns.source_key[index] == key if key is not None else _answers(columns, index, pay))]
        if candidates:
            taken[min(candidates, key=lambda index: columns.occurred_at[index])] = pay.id
    if not taken:
        return rows, []
    left_out = [(columns.source_key[index], _DETAIL.format(id=payment_id)) for index, payment_id in sorted(taken.items())]
    remaining = [row for index, row in enumerate(columns.rows()) if index not in taken]
    return (PaymentColumns.of(remaining) if isinstance(rows, PaymentColumns) else remaining), left_out


def _answers(columns: PaymentColumns, index: int, pay) -> bool:
    """True when row ``index`` of ``columns`` is the switch's record of the Pay deposit ``pay``."""
    return (columns.account[index] == pay.account and columns.amount[index] == pay.amount
            and pay.occurred_at - CLOCK_SKEW <= columns.occurred_at[index] <= pay.occurred_at + ANSWERED_WITHIN
            and (pay.balance_after is None or columns.balance_after[index] == pay.balance_after))


def _pay_deposits(connection: sa.Connection, first, last) -> list:
    """The deposits Pay recorded between ``first`` and ``last`` (naive UTC), oldest first."""
    payments, accounts = tables.payments, tables.accounts
    return list(connection.execute(
        sa.select(payments.c.id, accounts.c.account, payments.c.amount, payments.c.occurred_at,
                  payments.c.balance_after)
        .join(accounts, accounts.c.id == payments.c.account_id)
        .where(payments.c.occurred_at.between(first, last), payments.c.kind == Kind.DEPOSIT.value,
               payments.c.channel == Channel.API.value, payments.c.source_key >= PAY_KEYS[0],
               payments.c.source_key < PAY_KEYS[1])
        .order_by(payments.c.occurred_at, payments.c.id)))


def _kept_pairings(connection: sa.Connection, source: str) -> dict[int, str]:
    """Pay deposit id -> the key of the switch's record that an earlier sync of ``source`` paired it with."""
    flags = tables.sync_flags
    pairings = {}
    for key, detail in connection.execute(sa.select(flags.c.source_key, flags.c.detail).where(
            flags.c.source == source, flags.c.code == CODE)):
        found = _PAYMENT_ID.search(detail)
        if found:
            pairings[int(found.group(1))] = key
    return pairings
