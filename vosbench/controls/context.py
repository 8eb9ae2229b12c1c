"""What the checks read, fetched once per run: the month's records and the reference data.

One query brings the month's payment records with their accounts (every check works
on that frame, in int64 minor units); the accounts, the operators with their shifts,
the accounts operators manage, the agents' commission rates and every setting of the approval
thresholds (each record is held to the one in force when it was recorded) come from their tables,
and so do the approval requests behind the approved entries (when a person entered one, who approved it).
A ledger without reference data still runs every check that does not need it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from vosbench.analysis.reconcile import Reconciliation
from vosbench.core import currencies, periods, timeshow
from vosbench.core.periods import Period
from vosbench.ledger import database, hashchain, queries, tables, thresholds
from vosbench.ledger.guards import MANUAL_SOURCE
from vosbench.ledger.policy import ControlSettings

_TEXT_COLUMNS = ("account", "name", "account_kind", "parent", "currency", "kind", "operator", "channel", "method",
                 "reference", "memo", "reason", "approved_by", "source")


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
    threshold_history: pd.DataFrame | None = None  # the ledger's threshold settings (thresholds.HISTORY_COLUMNS)
    approved_requests: pd.DataFrame | None = None  # queries/controls_entry_requests.sql: payment_id, requested_at, checker

    @property
    def month(self) -> str:
        return self.period.label

    def time_text(self, instant) -> str:
        """A naive UTC instant as a finding says it: in the ledger's zone with its offset (:func:`timeshow.shown`),
        so each instant of the hour the clocks go back reads apart from the other."""
        return timeshow.shown(instant, self.ledger_timezone)

    @staticmethod
    def money_text(minor: int, currency: str) -> str:
        """An amount as a finding says it: with its currency's own places, never rounded (:func:`currencies.format_amount`)."""
        return currencies.format_amount(int(minor), currency)

    def manual(self) -> pd.DataFrame:
        """The month's records entered by people (the settings' manual channels)."""
        return self.payments[self.payments["channel"].isin(self.settings.manual_channels)]

    def persons(self) -> pd.Series:
        """Whether each record is a person's entry through vosbench's manual door (source ``vosbench``)."""
        return self.payments["source"] == MANUAL_SOURCE

    def request_of(self, column: str) -> pd.Series:
        """``column`` of each record's approved request (``requested_at`` or ``checker``); NA where none made it."""
        requests = self.approved_requests
        if requests is None or requests.empty:
            return pd.Series(pd.NA, index=self.payments.index, dtype="object")
        by_payment = pd.Series(requests[column].to_numpy(), index=requests["payment_id"].astype("int64"))
        return pd.Series(by_payment.reindex(self.payments["id"].to_numpy()).to_numpy(), index=self.payments.index)

    def entered_at(self) -> pd.Series:
        """When a person entered each record (naive UTC), whatever date they gave it: for a person's entry its
        approval request's time where it waited for one, else the time it was recorded; an imported or synced
        record keeps the date its source wrote (``occurred_at``), as nobody here entered it."""
        frame = self.payments
        requested = pd.to_datetime(self.request_of("requested_at")).astype(frame["recorded_at"].dtype)
        entered = requested.where(requested.notna(), frame["recorded_at"])
        return entered.where(self.persons(), frame["occurred_at"])

    def thresholds(self) -> pd.Series:
        """Each record's approval threshold (minor units; NA where its kind/currency has none): the ledger's
        in force when it was recorded, lowered where the settings' is lower (a controls file only tightens)."""
        frame = self.payments
        # a month holds a few (currency, kind) pairs: each is looked up once, then spread over its records
        codes, pairs = pd.factorize(pd.MultiIndex.from_arrays([frame["currency"], frame["kind"]]))
        limits = pd.Series(pd.array([self.settings.threshold(currency, kind) for currency, kind in pairs],
                                    dtype="Int64").take(codes), index=frame.index)
        ledger = self._ledger_thresholds()
        return limits.where(limits.notna() & (limits < ledger).fillna(True), ledger)

    def _ledger_thresholds(self) -> pd.Series:
        """Each record's threshold in the ledger when it was recorded: its pair's newest setting by then (the
        pair's first setting before that: the controls file's seed stands for the policy the ledger was made under)."""
        frame, limits = self.payments, pd.Series(pd.NA, index=self.payments.index, dtype="Int64")
        if self.threshold_history is None or frame.empty:
            return limits
        for (currency, kind), settings in self.threshold_history.groupby(["currency", "kind"]):
            mine = (frame["currency"] == currency) & (frame["kind"] == kind)
            if mine.any():
                since = settings["set_at"].to_numpy(dtype="datetime64[us]")
                at = since.searchsorted(frame.loc[mine, "recorded_at"].to_numpy(dtype="datetime64[us]"), side="right")
                limits[mine] = settings["amount"].to_numpy()[(at - 1).clip(0)]
        return limits


def load(engine: Engine, month: str, settings: ControlSettings,
         reconciliation: Reconciliation | None = None, records: pd.DataFrame | None = None) -> MonthData:
    """Read ``month`` (cut in the ledger's time zone) and the reference data; ``records`` is its
    :func:`month_payments` when the caller read them already (left as they are: a column is added to a copy)."""
    with engine.connect() as connection:
        zone = database.ledger_timezone(connection)
        period = periods.month(month, zone)
        payments = month_payments(connection, period) if records is None else records
        accounts = queries.frame(connection, "accounts")
        operators = pd.read_sql(sa.select(tables.operators), connection)
        managed = pd.read_sql(
            sa.select(tables.operator_accounts.c.login, tables.accounts.c.account, tables.operator_accounts.c.relation)
            .join(tables.accounts, tables.accounts.c.id == tables.operator_accounts.c.account_id), connection)
        rate_count = connection.execute(sa.select(sa.func.count()).select_from(tables.commission_rates)).scalar_one()
        threshold_history = thresholds.history(connection)
        approved_requests = queries.frame(connection, "controls_entry_requests", {}, times={"requested_at": sa.DateTime()})
    payments = payments.assign(local_time=periods.local_times(payments["occurred_at"], zone))
    return MonthData(engine, period, zone, settings, payments, accounts, operators, managed, rate_count,
                     reconciliation, threshold_history, approved_requests)


_MONTH_COLUMNS = ("id", "account_id", "account", "name", "account_kind", "parent", "currency", "kind", "amount",
                  "occurred_at", "recorded_at", "operator", "channel", "method", "reference", "memo", "reason",
                  "approved_by", "reverses_id", "reversed_by_id", "balance_after", "source")
"""The columns of queries/controls_month_payments.sql, in its order (its header lists them)."""
_TIMES = ("occurred_at", "recorded_at")
_STORED_TIME = "%Y-%m-%d %H:%M:%S.%f"  # the one form the ledger writes a time in on SQLite (verify checks it)


def month_payments(connection: sa.Connection, period: Period) -> pd.DataFrame:
    """The month's records with their accounts (queries/controls_month_payments.sql), typed as every check reads them.

    On SQLite the rows come as the driver gives them, into one grid, a column at a time into
    the frame, and the times are parsed a column at a time: through SQLAlchemy's rows and its
    per-value time parsing the read took 7.5 s CPU of every audit at 410k records a month, 5.5 s
    this way. A time stored in another form than the ledger's (written behind its back), or a
    server's ledger, is read through SQLAlchemy as before: what the checks see never differs.
    """
    params = {"start": period.start, "end": period.end}
    if connection.dialect.name == "sqlite":
        statement = queries.load("controls_month_payments").bindparams(
            *(sa.bindparam(name, type_=sa.DateTime()) for name in params))
        rows = list(hashchain.driver_rows(connection, statement, params))
        grid = np.empty((len(rows), len(_MONTH_COLUMNS)), dtype=object)
        if rows:
            grid[:] = rows
        payments = queries.columns_frame(list(_MONTH_COLUMNS), grid.T)
        try:
            for column in _TIMES:
                payments[column] = _stored_times(payments[column])
            return _typed(payments)
        except ValueError:  # a time in another form than the ledger writes: parsed the general way below
            pass
    return _typed(queries.frame(connection, "controls_month_payments", params,
                                times={column: sa.DateTime() for column in _TIMES}))


def _stored_times(values: pd.Series) -> pd.Series:
    """A column of times as datetime64: SQLite's text in the ledger's one form parsed in one pass (ValueError for
    any other form or type)."""
    kind = pd.api.types.infer_dtype(values, skipna=False)
    if kind not in ("string", "empty"):
        raise ValueError(f"times read as {kind}")
    return pd.to_datetime(values.astype(object), format=_STORED_TIME, exact=True)


def _typed(payments: pd.DataFrame) -> pd.DataFrame:
    """The month's records as the checks read them: ids and amounts int64, texts str, links nullable Int64."""
    for column in ("amount", "id", "account_id"):
        payments[column] = payments[column].astype("int64")
    for column in _TEXT_COLUMNS:  # an empty month has no values to infer text from
        payments[column] = payments[column].astype("str")
    for column in ("reverses_id", "reversed_by_id", "balance_after"):
        payments[column] = payments[column].astype("Int64")
    return payments
