""""Find this payment": a customer says they paid; where is the money, and where is the record?

Given an amount, a date and optionally a name or reference, list the statement lines
and payment records of every account that could be it, best first. The database does
the narrowing (amount band and date range, bound values, indexed columns); the score
then weighs how close the amount and date are and how well the name and reference fit:

- reference equal: +1.0 (a reference is the strongest evidence there is);
- amount: 0.5 when exact, falling linearly to 0 at the edge of the band;
- date: 0.3 on the day, falling to 0 at ``days`` away;
- name: 0.2 × the similarity of the name to the counterparty or account name.
"""

from __future__ import annotations

import difflib
from datetime import date, timedelta
from decimal import Decimal

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from vosbench.analysis.matching.matcher import name_key, normalize
from vosbench.analysis.matching.records import local_day
from vosbench.core import money, periods
from vosbench.ledger import database, tables

MONEY_COLUMNS = ("amount",)
COLUMNS = ["score", "found_in", "id", "day", "amount", "account", "name", "reference", "detail", "why"]
_L, _P, _A = tables.statement_lines, tables.payments, tables.current_accounts


def find_payment(engine: Engine, amount: str | Decimal, on: date | str, *, name: str = "", reference: str = "",
                 days: int = 7, band_percent: str = "5", limit: int = 50) -> pd.DataFrame:
    """Candidate statement lines and payment records for a payment of ``amount`` around ``on``, ranked."""
    wanted = money.to_minor(amount, field="amount")
    if wanted == 0:
        raise ValueError("amount: give the amount the customer paid, such as 250.00")
    if isinstance(on, str):
        try:
            on = date.fromisoformat(on.strip())
        except ValueError:
            raise ValueError(f"date: {on!r} is not a date in the form YYYY-MM-DD") from None
    if days < 0:
        raise ValueError(f"days: {days} must be 0 or more")
    band = abs(wanted) * Decimal(band_percent) / 100
    low, high = int(abs(wanted) - band), int(abs(wanted) + band)
    amounts = (sa.between(_L.c.amount, low, high) if wanted > 0 else sa.between(_L.c.amount, -high, -low))
    payment_amounts = (sa.between(_P.c.amount, low, high) if wanted > 0 else sa.between(_P.c.amount, -high, -low))
    reference = reference.strip()
    with engine.connect() as connection:
        zone_name = database.ledger_timezone(connection)
        zone = periods.zone(zone_name)
        first, last = on - timedelta(days=days), on + timedelta(days=days)
        near_lines = sa.and_(_L.c.posted_on.between(first, last), amounts)
        near_payments = sa.and_(_P.c.occurred_at >= periods.local_midnight(first, zone_name),
                                _P.c.occurred_at < periods.local_midnight(last + timedelta(days=1), zone_name),
                                payment_amounts)
        if reference:
            near_lines = sa.or_(near_lines, _L.c.reference == reference)
            near_payments = sa.or_(near_payments, _P.c.reference == reference)
        lines = connection.execute(sa.select(_L).where(near_lines).limit(5_000)).all()
        records = connection.execute(
            sa.select(_P.c.id, _P.c.occurred_at, _P.c.amount, _P.c.reference, _P.c.kind, _P.c.method, _P.c.memo,
                      _A.c.account, _A.c.name).select_from(_P.join(_A, _A.c.id == _P.c.account_id))
            .where(near_payments).limit(5_000)).all()
    rows = []
    for line in lines:
        rows.append(_scored("statement line", line.id, line.posted_on, line.amount, line.account_hint or
                            line.statement_account, line.counterparty, line.reference,
                            f"{line.channel}: {line.description}".strip(": "), wanted, on, name, reference, days,
                            band))
    for record in records:
        day = date.fromordinal(local_day(record.occurred_at, zone))
        rows.append(_scored("payment record", record.id, day, record.amount, record.account, record.name,
                            record.reference, f"{record.kind} by {record.method}: {record.memo}", wanted, on, name,
                            reference, days, band))
    frame = pd.DataFrame(rows, columns=COLUMNS)
    frame = frame.sort_values(["score", "found_in", "id"], ascending=[False, True, True]).head(limit)
    return frame.astype({"amount": "int64"}).reset_index(drop=True)


def _scored(found_in: str, item_id: int, day: date, amount: int, account: str, who: str, item_reference: str,
            detail: str, wanted: int, on: date, name: str, reference: str, days: int, band: Decimal) -> list:
    score, why = 0.0, []
    if reference and normalize(item_reference) == normalize(reference):
        score += 1.0
        why.append("reference equal")
    gap = abs(abs(amount) - abs(wanted))
    if gap == 0:
        score += 0.5
        why.append("amount exact")
    elif band and gap <= band:
        score += 0.5 * float(1 - Decimal(gap) / band)
        why.append(f"amount {money.format_money(amount - wanted)} off")
    distance = abs((day - on).days)
    if distance <= days:
        score += 0.3 * (1 - distance / (days + 1))
        why.append("same day" if distance == 0 else f"{distance} day(s) away")
    if name and who:
        similarity = difflib.SequenceMatcher(None, name_key(name), name_key(who)).ratio()
        score += 0.2 * similarity
        if similarity >= 0.8:
            why.append(f"name fits ({similarity:.0%})")
    return [round(score, 3), found_in, item_id, day, amount, account, who, item_reference, detail, ", ".join(why)]
