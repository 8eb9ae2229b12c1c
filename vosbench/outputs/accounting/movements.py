"""A month's movements as accounting sees them: payment records and each day's fees.

Payments are dated by the local day (the ledger's reporting time zone) they occurred
on; fees by their charge day, summed per currency and account kind because the
accounting side posts a day's revenue, not one line per customer. Money stays int
minor units.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from vosbench.core import periods
from vosbench.ledger import database, queries


@dataclass(frozen=True)
class Movements:
    """One month: ``payments`` (with ``day``, the local date) and ``charges`` per day, currency, account kind."""

    period: periods.Period
    payments: pd.DataFrame
    charges: pd.DataFrame

    @property
    def empty(self) -> bool:
        return self.payments.empty and self.charges.empty

    @property
    def currencies(self) -> list[str]:
        return sorted(set(self.payments["currency"]) | set(self.charges["currency"]))


def month_movements(engine: Engine, month: str) -> Movements:
    """The payments and charges of ``month`` ('YYYY-MM') cut in the ledger's time zone."""
    with engine.connect() as connection:
        timezone = database.ledger_timezone(connection)
        period = periods.month(month, timezone)
        paid = queries.frame(connection, "accounting_payments", {"start": period.start, "end": period.end},
                             times={"occurred_at": sa.DateTime()})
        first_day, last_day = periods.charge_days(period, timezone)
        charged = queries.frame(connection, "accounting_charges", {"first_day": first_day, "last_day": last_day},
                                times={"day": sa.Date()})
    paid["day"] = (paid["occurred_at"].dt.tz_localize("UTC").dt.tz_convert(timezone).dt.date
                   if len(paid) else pd.Series(dtype=object))
    charged["day"] = charged["day"].dt.date if len(charged) else pd.Series(dtype=object)
    for text in ("currency", "kind", "account_kind", "method", "channel", "reference", "memo", "account", "name"):
        if text in paid:
            paid[text] = paid[text].astype(object)
    for text in ("currency", "account_kind"):
        charged[text] = charged[text].astype(object)
    return Movements(period, paid, charged)
