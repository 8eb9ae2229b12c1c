"""What the checks read, fetched once per run: the month's records and the reference data.

One query brings the month's payment records with their accounts (every check works
on that frame, in int64 minor units); the accounts, the operators with their shifts,
the accounts operators manage and the agents' commission rates come from their tables.
A ledger without reference data still runs every check that does not need it.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from vosbench.analysis.reconcile import Reconciliation
from vosbench.core import periods
from vosbench.core.periods import Period
from vosbench.ledger import database, queries, tables
from vosbench.ledger.policy import ControlSettings

_TEXT_COLUMNS = ("account", "name", "account_kind", "parent", "currency", "kind", "operator", "channel", "method",
                 "reference", "memo", "reason", "approved_by")


@dataclass(frozen=True)
class MonthData:
    """Everything one run of the checks reads; frames are read-only by convention."""

    engine: Engine
    period: Period
    ledger_timezone: str
    settings: ControlSettings
    payments: pd.DataFrame  # queries/controls_month_payments.sql
    accounts: pd.DataFrame  # queries/accounts.sql
    operators: pd.DataFrame  # tables.operators
    managed: pd.DataFrame  # login, account, relation
    rate_count: int  # commission rates configured
    reconciliation: Reconciliation | None = None  # the month's, when the caller has it already (the audit does)

    @property
    def month(self) -> str:
        return self.period.label

    def manual(self) -> pd.DataFrame:
        """The month's records entered by people (the settings' manual channels)."""
        return self.payments[self.payments["channel"].isin(self.settings.manual_channels)]

    def thresholds(self) -> pd.Series:
        """Each record's approval threshold (minor units; NA where its kind/currency has none)."""
        frame = self.payments
        # a month holds a few (currency, kind) pairs: each is looked up once, then spread over its records
        codes, pairs = pd.factorize(pd.MultiIndex.from_arrays([frame["currency"], frame["kind"]]))
        limits = pd.array([self.settings.threshold(currency, kind) for currency, kind in pairs], dtype="Int64")
        return pd.Series(limits.take(codes), index=frame.index)


def load(engine: Engine, month: str, settings: ControlSettings,
         reconciliation: Reconciliation | None = None) -> MonthData:
    """Read ``month`` (cut in the ledger's time zone) and the reference data."""
    with engine.connect() as connection:
        zone = database.ledger_timezone(connection)
        period = periods.month(month, zone)
        payments = queries.frame(connection, "controls_month_payments",
                                 {"start": period.start, "end": period.end},
                                 times={"occurred_at": sa.DateTime()})
        accounts = queries.frame(connection, "accounts")
        operators = pd.read_sql(sa.select(tables.operators), connection)
        managed = pd.read_sql(
            sa.select(tables.operator_accounts.c.login, tables.accounts.c.account, tables.operator_accounts.c.relation)
            .join(tables.accounts, tables.accounts.c.id == tables.operator_accounts.c.account_id), connection)
        rate_count = connection.execute(sa.select(sa.func.count()).select_from(tables.commission_rates)).scalar_one()
    for column in ("amount", "id", "account_id"):
        payments[column] = payments[column].astype("int64")
    for column in _TEXT_COLUMNS:  # an empty month has no values to infer text from
        payments[column] = payments[column].astype("str")
    for column in ("reverses_id", "reversed_by_id", "balance_after"):
        payments[column] = payments[column].astype("Int64")
    payments["local_time"] = periods.local_times(payments["occurred_at"], zone)
    return MonthData(engine, period, zone, settings, payments, accounts, operators, managed, rate_count,
                     reconciliation)
