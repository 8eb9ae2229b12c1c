"""The monthly audit: every section's numbers, computed once from the ledger.

:class:`MonthlyAudit` is built from (ledger, month, time zone, parameters) and holds
each section as a DataFrame with money in int64 minor units. The notebook shows
its tables and charts, and the same object writes the xlsx and the PNGs, so every
output of one run carries the same numbers. Aggregates run in the database
(SQLAlchemy Core, bound values); pandas only receives results.
"""

from __future__ import annotations

import functools
import html
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from vosbench import controls
from vosbench.analysis import reconcile, report_scope
from vosbench.controls import context
from vosbench.core import money, periods
from vosbench.core.model import Channel, Kind, Method
from vosbench.ledger import database, month_close, month_totals, queries, tables, thresholds, verification
from vosbench.ledger.hashchain import fingerprint_frame
from vosbench.outputs import charts, export, record_sections, views
from vosbench.outputs import matching_section as statement_section
from vosbench.outputs.export import Table
from vosbench.outputs.provenance import Provenance, input_file, synced_streams, verification_frame
from vosbench.outputs.visible import visible

DIMENSIONS: dict[str, type[Enum]] = {"kind": Kind, "channel": Channel, "method": Method}
MOVEMENT_MONEY = ("money_in", "money_out", "net", "reversed_amount")
TREND_MONTHS = 12
SHOWN_ROWS = 200
"""Longest table the notebook shows; the xlsx always holds every row."""
TREND_MONEY = ("deposit", "withdrawal", "adjustment", "bonus", "commission", "auto_recharge",
               "payments", "charges", "net_change", "balances")
_BREAK_MONEY = ("amount", "previous_balance_after", "charges_between", "expected_balance_after",
                "reported_balance_after", "gap")
NO_DATA_NOTE = "**This month holds no payment records and no charges: there is nothing to report.**\n\n"
DIFFERENCE_COLUMNS = ("account", "name", "expected_closing", "snapshot_as_of", "recorded_closing",
                      "difference", "classification", "explanation")
"""What a reader needs beside each explanation; the Reconciliation sheet has every column."""

_P, _A, _M = tables.payments, tables.current_accounts, tables.account_months


def _total(expression) -> sa.ColumnElement:
    """An exact SUM as BIGINT on every dialect (PostgreSQL would return NUMERIC), 0 when empty."""
    return sa.cast(sa.func.coalesce(sa.func.sum(expression), 0), sa.BigInteger)


def _frame(connection: sa.Connection, statement, integers: tuple[str, ...] = ()) -> pd.DataFrame:
    """The statement's rows (:func:`queries.result_frame`); ``integers`` are never empty, so plain int64."""
    result = connection.execute(statement)
    return _rows_frame(list(result.keys()), result.all(), integers)


def _rows_frame(keys: list[str], rows, integers: tuple[str, ...] = ()) -> pd.DataFrame:
    """:func:`_frame` of rows already read (none: the frame a query finding nothing gives, typed its own way)."""
    frame = queries.result_frame(keys, rows)
    for column in integers:
        frame[column] = frame[column].astype("int64")
    return frame


def _in(period: periods.Period, account_ids: list[int] | None = None,
        where: Sequence[sa.ColumnElement[bool]] = ()) -> sa.ColumnElement:
    """Payments of ``period``, of ``account_ids`` only when given (a subtree's accounts), meeting ``where``
    (a saved view's conditions, :mod:`vosbench.analysis.report_scope`)."""
    scope = [] if account_ids is None else [_P.c.account_id.in_(account_ids)]
    return sa.and_(_P.c.occurred_at >= period.start, _P.c.occurred_at < period.end, *scope, *where)


def _movement_columns() -> list:
    amount, reversal = _P.c.amount, _P.c.reverses_id.is_not(None)
    return [
        sa.func.count().label("records"),
        _total(sa.case((amount > 0, 1), else_=0)).label("records_in"),
        _total(sa.case((amount > 0, amount), else_=0)).label("money_in"),
        _total(sa.case((amount < 0, -amount), else_=0)).label("money_out"),
        _total(amount).label("net"),
        _total(sa.case((reversal, 1), else_=0)).label("reversals"),
        _total(sa.case((reversal, amount), else_=0)).label("reversed_amount"),
    ]


_MOVEMENT_INTS = ("records", "records_in", "money_in", "money_out", "net", "reversals", "reversed_amount")


def query_movements(connection: sa.Connection, period: periods.Period,
                    account_ids: list[int] | None = None, where: Sequence = ()) -> pd.DataFrame:
    """The period's payment records grouped by currency, kind, channel and method (a few dozen rows)."""
    keys = (_A.c.currency, _P.c.kind, _P.c.channel, _P.c.method)
    return _frame(connection, sa.select(*keys, *_movement_columns())
                  .select_from(_P.join(_A, _A.c.id == _P.c.account_id)).where(_in(period, account_ids, where))
                  .group_by(*keys).order_by(*keys), _MOVEMENT_INTS)


def query_kind_totals(connection: sa.Connection, period: periods.Period,
                      account_ids: list[int] | None = None, where: Sequence = ()) -> pd.DataFrame:
    """Per account and payment kind, the net amount of the period's records (those ``where`` picks)."""
    return _frame(connection, sa.select(_A.c.account, _P.c.kind, _total(_P.c.amount).label("net"))
                  .select_from(_P.join(_A, _A.c.id == _P.c.account_id)).where(_in(period, account_ids, where))
                  .group_by(_A.c.account, _P.c.kind).order_by(_A.c.account, _P.c.kind), ("net",))


def movements_by(movements: pd.DataFrame, dimension: str, currency: str | None = None) -> pd.DataFrame:
    """Totals per currency and value of ``dimension``, every value of the vocabulary listed (zero when unused).

    ``currency`` keeps one currency (its rows without the currency column's help: still listed).
    """
    order = [member.value for member in DIMENSIONS[dimension]]
    currencies = [currency] if currency else sorted(set(movements["currency"])) or [""]
    parts = []
    for each in currencies:
        grouped = views.group_sums(movements[movements["currency"] == each], dimension, _MOVEMENT_INTS)
        extra = sorted(set(grouped.index) - set(order))  # words a source used outside the vocabulary
        frame = grouped.reindex(order + extra, fill_value=0).rename_axis(dimension).reset_index()
        parts.append(frame.assign(currency=each)[["currency", dimension, *_MOVEMENT_INTS]])
    return pd.concat(parts, ignore_index=True)


TOP_ACCOUNT_COLUMNS = ("currency", "account", "name", "kind", "records", "money_in", "money_out", "net", "reversals")


def query_top_accounts(connection: sa.Connection, period: periods.Period, top_n: int,
                       account_ids: list[int] | None = None, where: Sequence = ()) -> pd.DataFrame:
    """Per currency, the ``top_n`` accounts that received the most money in the period."""
    columns = _movement_columns()
    money_in = columns[2]
    currencies = connection.scalars(sa.select(_A.c.currency).distinct().order_by(_A.c.currency)).all()
    parts = []
    for currency in currencies:
        statement = (sa.select(_A.c.currency, _A.c.account, _A.c.name, _A.c.kind, *columns)
                     .select_from(_P.join(_A, _A.c.id == _P.c.account_id))
                     .where(_in(period, account_ids, where), _A.c.currency == currency)
                     .group_by(_A.c.currency, _A.c.account, _A.c.name, _A.c.kind)
                     .order_by(money_in.desc(), _A.c.account).limit(top_n))
        parts.append(_frame(connection, statement, _MOVEMENT_INTS))
    frame = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=list(TOP_ACCOUNT_COLUMNS))
    return frame[list(TOP_ACCOUNT_COLUMNS)]


def query_large_payments(connection: sa.Connection, period: periods.Period, threshold: int,
                         where: Sequence = ()) -> pd.DataFrame:
    """Records whose amount is at least ``threshold`` either way, largest first, times in ``period``'s zone."""
    reversal = _P.alias("reversal")
    size = sa.case((_P.c.amount < 0, -_P.c.amount), else_=_P.c.amount)
    statement = (
        sa.select(_P.c.id.label("payment_id"), _P.c.occurred_at, _A.c.account, _A.c.name, _P.c.kind,
                  _A.c.currency, _P.c.amount, _P.c.channel, _P.c.method, _P.c.operator, _P.c.approved_by, _P.c.reference,
                  _P.c.reverses_id.label("reverses"), reversal.c.id.label("reversed_by"))
        .select_from(_P.join(_A, _A.c.id == _P.c.account_id)
                     .outerjoin(reversal, reversal.c.reverses_id == _P.c.id))
        .where(_in(period, where=where), size >= threshold).order_by(size.desc(), _P.c.id))
    return _large_payment_types(_frame(connection, statement, ("amount",)), period.timezone)


def _large_payment_types(frame: pd.DataFrame, timezone: str) -> pd.DataFrame:
    """The large payments' rows as the section shows them: times on ``timezone``'s wall clock, links nullable."""
    frame["occurred_at"] = periods.local_times(pd.to_datetime(frame["occurred_at"]), timezone)
    for column in ("reverses", "reversed_by"):
        frame[column] = frame[column].astype("Int64")
    return frame


def with_local_times(frame: pd.DataFrame, columns: tuple[str, ...], timezone: str) -> pd.DataFrame:
    """A copy of ``frame`` whose instant ``columns`` (naive UTC) show the wall clock of ``timezone``."""
    shown = frame.copy()
    for column in columns:
        if column in shown.columns:
            shown[column] = periods.local_times(pd.to_datetime(shown[column]), timezone)
    return shown


def _trend_figures(row, figures: tuple[str, ...]) -> dict[str, int]:
    """A row of :func:`queries.split_sum` parts as each kind's exact sum, with payments and charges added up."""
    kept = {name: queries.joined_sum(row[f"{name}_high"], row[f"{name}_low"]) for name in figures}
    return {**{name: kept[name] for name in month_totals.PAYMENT_KIND_COLUMNS},
            "payments": sum(kept[name] for name in month_totals.PAYMENT_KIND_COLUMNS),
            "charges": sum(kept[name] for name in month_totals.CHARGE_COLUMNS)}


def query_trend(connection: sa.Connection, label: str, count: int = TREND_MONTHS,
                account_ids: list[int] | None = None) -> pd.DataFrame:
    """Month-over-month totals per currency from the kept month rows: the ``count`` months up to ``label``.

    ``balances`` is the sum of the currency's accounts' closings at each month end: the net
    change of every earlier month (one aggregate) plus the running net change in the window.
    """
    months = periods.labels_ending(label, count)
    figures = (*month_totals.PAYMENT_KIND_COLUMNS, *month_totals.CHARGE_COLUMNS)
    sums = [part for name in figures for part in queries.split_sum(_M.c[name], name)]
    held = _M.join(_A, _A.c.id == _M.c.account_id)
    scope = [] if account_ids is None else [_M.c.account_id.in_(account_ids)]
    statement = (sa.select(_A.c.currency, _M.c.month, *sums, _total(_M.c.payment_count).label("records"),
                           sa.func.count().label("accounts"))
                 .select_from(held).where(_M.c.month.between(months[0], months[-1]), *scope)
                 .group_by(_A.c.currency, _M.c.month))
    found = {(row["currency"], row["month"]): {**_trend_figures(row, figures), "records": int(row["records"]),
                                               "accounts": int(row["accounts"])}
             for row in connection.execute(statement).mappings()}
    earlier = {}
    for before in connection.execute(sa.select(_A.c.currency, *sums).select_from(held)
                                     .where(_M.c.month < months[0], *scope).group_by(_A.c.currency)).mappings():
        kept = _trend_figures(before, figures)
        earlier[before["currency"]] = kept["payments"] - kept["charges"]
    currencies = sorted({currency for currency, _ in found} | set(earlier)) or sorted(
        connection.scalars(sa.select(_A.c.currency).distinct()))
    columns = ["currency", "month", *TREND_MONEY, "records", "accounts"]
    nothing = dict.fromkeys((*month_totals.PAYMENT_KIND_COLUMNS, "payments", "charges", "records", "accounts"), 0)
    parts = []
    for currency in currencies:  # summed in Python: a month's figures added up may pass int64
        balance, rows = earlier.get(currency, 0), []
        for month in months:
            kept = found.get((currency, month), nothing)
            balance += kept["payments"] - kept["charges"]
            shown = {"currency": currency, "month": month, **kept, "net_change": kept["payments"] - kept["charges"],
                     "balances": balance}
            rows.append(tuple(shown[name] for name in columns))
        parts.append(views.figures_frame(rows, columns, columns[2:], nullable=False))
    return pd.concat(parts, ignore_index=True)[columns] if parts else pd.DataFrame(columns=columns)


def count_active_accounts(connection: sa.Connection, period: periods.Period, ledger_timezone: str) -> int:
    """Accounts with a payment record or a day of charges deducted in the period."""
    first_day, last_day = periods.charge_days(period, ledger_timezone)
    charged = sa.select(tables.charges.c.account_id).where(tables.charges.c.day.between(first_day, last_day))
    paid = sa.select(_P.c.account_id).where(_in(period))
    return int(connection.execute(sa.select(sa.func.count()).select_from(sa.union(paid, charged).subquery())).scalar_one())


def _record_sections(records: pd.DataFrame, currencies: Sequence[str], top_n: int, threshold: int,
                     timezone: str) -> dict[str, pd.DataFrame]:
    """Movements, top accounts and large payments from the month's records read once (:mod:`record_sections`).

    Where a query would find nothing (a currency without records, no payment that large) the frame
    it gives stands in, typed its own way, so that every section is the SQL section's to the dtype.
    """
    idle = _rows_frame(["currency", "account", "name", "kind", *_MOVEMENT_INTS], [], _MOVEMENT_INTS)
    large = record_sections.large_payments(records, threshold, timezone)
    if large.empty:
        large = _large_payment_types(_rows_frame(list(record_sections.LARGE_PAYMENT_COLUMNS), [], ("amount",)), timezone)
    return dict(movements=record_sections.movements(records),
                top_accounts=record_sections.top_accounts(records, list(currencies), top_n, TOP_ACCOUNT_COLUMNS, idle),
                large_payments=large)


def _scoped_record_sections(connection: sa.Connection, period: periods.Period, top_n: int, threshold: int,
                            where: Sequence) -> dict[str, pd.DataFrame]:
    """The same sections of the records a saved view picks (its conditions are SQL, so each section is a query), and
    of an empty month."""
    return dict(movements=query_movements(connection, period, where=where),
                top_accounts=query_top_accounts(connection, period, top_n, where=where),
                large_payments=query_large_payments(connection, period, threshold, where))


def failed_checks(xlsx: Path) -> list[str]:
    """The integrity checks a written audit workbook reports failed: "check: detail" per row of its Verification sheet.

    The audit runs in a notebook kernel; its workbook is what the command can read back
    to exit non-zero when the ledger did not verify.
    """
    from openpyxl import load_workbook  # here: only an audit that wrote its workbook reads it back

    book = load_workbook(xlsx, read_only=True)
    try:
        if "Verification" not in book.sheetnames:
            return []
        rows = book["Verification"].iter_rows(min_row=2, values_only=True)
        return [f"{check}: {detail or result}" for check, result, detail, *_ in rows
                if check and check != "scope" and result not in ("ok", "not made", None)]
    finally:
        book.close()


def month_is_empty(engine: Engine, month: str, timezone: str | None = None) -> bool:
    """True when ``month`` holds no payment record and no charge: a report of it has nothing to report."""
    with engine.connect() as connection:
        ledger_zone = database.ledger_timezone(connection)
        return count_active_accounts(connection, periods.month(month, timezone or ledger_zone), ledger_zone) == 0


@dataclass
class MonthlyAudit:
    """Every section of one month's audit, computed once (see the module docstring)."""

    period: periods.Period
    currencies: tuple[str, ...]
    threshold: int
    movements: pd.DataFrame
    top_accounts: pd.DataFrame
    large_payments: pd.DataFrame
    trend: pd.DataFrame
    active_accounts: int
    reconciliation: reconcile.Reconciliation
    verification: verification.Verification
    provenance: Provenance
    thresholds: pd.DataFrame  # every approval threshold setting the ledger holds (thresholds.HISTORY_COLUMNS)
    statement_matching: statement_section.review.MatchRun | None = None  # None: no statements this month
    controls: controls.ControlsResult | None = None  # the Controls section
    scope: report_scope.ReportScope | None = None  # the saved view its record sections follow, if any

    @classmethod
    def compute(cls, engine: Engine, month: str, *, timezone: str | None = None,
                large_payment_threshold: str = "5000.00", top_n: int = 10, controls_file: str = "",
                parameters: dict | None = None, ledger_url: str = "", view: str = "") -> MonthlyAudit:
        """Run every section's queries against ``engine`` for ``month`` (YYYY-MM).

        ``controls_file`` names the controls settings (empty: ``parameters/controls.yaml``).
        ``view`` (a saved view's name or YAML file) limits the record sections — movements,
        large payments, top accounts — to the view's records of the month; the rest of the
        audit (reconciliation, matching, controls, verification) covers the whole ledger.
        """
        threshold = money.to_minor(large_payment_threshold, field="large_payment_threshold")
        if threshold <= 0:
            raise ValueError(f"large_payment_threshold: {large_payment_threshold!r} must be above zero")
        if top_n < 1:
            raise ValueError(f"top_n: {top_n} must be at least 1")
        with engine.connect() as connection:
            ledger_zone = database.ledger_timezone(connection)
            period = periods.month(month, timezone or ledger_zone)
            scope = report_scope.for_month(report_scope.resolve(view, month, connection)[0], period) if view else None
            where = scope.payment_conditions(connection) if scope else ()
            currencies = tuple(sorted(connection.scalars(sa.select(_A.c.currency).distinct())))
            records = None if scope else context.month_payments(connection, period)
            sections = dict(
                # an empty month's queries cost nothing and type their empty columns their own way: kept
                **(_scoped_record_sections(connection, period, top_n, threshold, where) if records is None
                   or records.empty else _record_sections(records, currencies, top_n, threshold, period.timezone)),
                trend=query_trend(connection, month),
                active_accounts=count_active_accounts(connection, period, ledger_zone),
            )
            syncs = synced_streams(connection)
            closes = tuple(month_close.summary(connection))  # a reopened month shows in every later report
            sections["thresholds"] = with_local_times(thresholds.history(connection), ("set_at",), period.timezone)
        reconciliation = reconcile.reconcile(engine, month, timezone=period.timezone)
        sections["statement_matching"] = statement_section.compute(engine, month, period.timezone)
        verified = verification.verify_month(engine, month)
        findings = None
        inputs: tuple[tuple[str, str], ...] = ()
        if period.timezone == ledger_zone:
            settings_file = Path(controls_file) if controls_file else controls.DEFAULT_SETTINGS
            # the same month cut the same way: the balance-drift check reads this reconciliation
            # and the same records: the checks read the frame the record sections were made from
            findings = controls.run(engine, month, controls.load_settings(settings_file), reconciliation=reconciliation,
                                    records=records)
            inputs = (input_file("controls settings", settings_file),)
        provenance = Provenance.collect(
            parameters=parameters if parameters is not None else dict(
                month=month, timezone=timezone or "", large_payment_threshold=large_payment_threshold,
                top_n=top_n, controls_file=controls_file, view=view),
            ledger_url=ledger_url or str(engine.url), ledger_timezone=ledger_zone,
            report_timezone=period.timezone, fingerprint=verified.fingerprint, syncs=syncs, inputs=inputs,
            closes=closes)
        return cls(period=period, currencies=currencies, threshold=threshold,
                   reconciliation=reconciliation, verification=verified, provenance=provenance,
                   controls=findings, scope=scope, **sections)

    @classmethod
    def open(cls, *, month: str, timezone: str = "", db_url: str = "",
             large_payment_threshold: str = "5000.00", top_n: int = 10, controls_file: str = "",
             view: str = "") -> MonthlyAudit:
        """The notebook's entry: resolve the ledger URL (building the demo at the default) and compute."""
        from vosbench.sources import demo

        with demo.open_or_build(db_url or None) as ledger:
            return cls.compute(ledger.engine, month, timezone=timezone or None,
                               large_payment_threshold=large_payment_threshold, top_n=top_n,
                               controls_file=controls_file, ledger_url=ledger.url, view=view, parameters=dict(
                                   month=month, timezone=timezone, db_url=db_url,
                                   large_payment_threshold=large_payment_threshold, top_n=top_n,
                                   controls_file=controls_file, view=view))

    # --- sections as tables ---------------------------------------------------------------------

    @property
    def empty(self) -> bool:
        """True when the month holds no payment record and no charge: nothing to report."""
        return self.active_accounts == 0

    def headline(self) -> pd.DataFrame:
        """The figures a reader looks at first: (figure, currency, amount, count), money per currency.

        Counts that are not money (accounts active, breaks, verification problems) have no currency.
        """
        totals = self.reconciliation.totals()
        accounts = self.reconciliation.accounts
        rows: list[tuple[str, str, int | None, int | None]] = []
        for currency in self.currencies:
            mover = self.movements.loc[self.movements["currency"] == currency]
            moved = {name: money.exact_sum(mover[name]) for name in _MOVEMENT_INTS}
            recon = totals.get(currency, dict.fromkeys(reconcile.MONEY_COLUMNS, 0))
            mine = accounts[accounts["currency"] == currency]
            differences = mine[mine["classification"] != reconcile.AGREES]
            large = self.large_payments[self.large_payments["currency"] == currency]
            shown = money.format_money(self.threshold)
            rows += [(figure, currency, amount, count) for figure, amount, count in [
                ("Money in (records with a positive amount)", moved["money_in"], moved["records_in"]),
                ("Money out (records with a negative amount)", moved["money_out"],
                 moved["records"] - moved["records_in"]),
                ("Net payments (in − out)", moved["net"], moved["records"]),
                ("Charges (call, agent and other fees)", recon["charges"], None),
                ("Net change of balances (payments − charges)", moved["net"] - recon["charges"], None),
                ("Reversals (offsetting records)", moved["reversed_amount"], moved["reversals"]),
                (f"Large payments, at least {shown} either way (total size)", money.exact_sum(large["amount"].abs()),
                 len(large)),
                ("Opening balances", recon["opening"], len(mine)),
                ("Expected closing balances", recon["expected_closing"], None),
                ("Recorded closing balances (accounts with a snapshot)", recon["recorded_closing"],
                 int(mine["recorded_closing"].notna().sum())),
                ("Differences, recorded − expected (accounts not agreeing)", recon["difference"], len(differences)),
            ]]
        problems = len(self.verification.breaks) + len(self.verification.total_mismatches)
        rows += [("Accounts active (a payment or a charge)", "", None, self.active_accounts),
                 ("Balance-chain breaks", "", None, len(self.reconciliation.breaks)),
                 ("Ledger verification problems (hash chains, month totals)", "", None, problems)
                 if not self.verification.unmade else
                 ("Ledger verification: not made under this login (the Verification sheet says why)", "", None, None)]
        return views.figures_frame(rows, ["figure", "currency", "amount", "count"], ("amount", "count"))

    def results(self) -> pd.DataFrame:
        """Accounts and summed difference per reconciliation classification, every class listed."""
        accounts = self.reconciliation.accounts
        grouped = {label: (len(group), money.exact_sum(group["difference"]))
                   for label, group in accounts.groupby("classification")}
        extra = sorted(set(grouped) - set(reconcile.CLASSIFICATIONS))
        rows = [(label, *grouped.get(label, (0, 0))) for label in [*reconcile.CLASSIFICATIONS, *extra]]
        return views.figures_frame(rows, ["classification", "accounts", "difference"], ("accounts", "difference"))

    def tables(self) -> dict[str, Table]:
        """Every section as a table, in reading order (one xlsx sheet each).

        Made once, on first use, and kept: the notebook shows the sections one cell at a
        time and the workbook writes them all, and at a large operator's size each making
        (every account's rows with local times, every finding) costs seconds.
        """
        return dict(self._tables)

    @functools.cached_property
    def _tables(self) -> dict[str, Table]:
        label, zone = self.period.label, self.period.timezone
        rec = self.reconciliation
        accounts = with_local_times(rec.accounts, ("snapshot_as_of",), zone)
        differences = with_local_times(rec.differences(), ("snapshot_as_of",), zone)
        movements = pd.concat([movements_by(self.movements, d).rename(columns={d: "value"}).assign(by=d)
                               for d in DIMENSIONS], ignore_index=True)[["by", "currency", "value", *_MOVEMENT_INTS]]
        return {table.name: table for table in [
            Table("Summary", f"Headline figures, {label} ({zone})", self.headline(), ("amount",)),
            *self.filter_tables(),
            Table("Movements", f"Payment records by kind, channel and method, {label}",
                  movements, MOVEMENT_MONEY),
            Table("Large payments", f"Records of at least {money.format_money(self.threshold)} either way, "
                                    f"times in {zone}", self.large_payments, ("amount",)),
            Table("Top accounts", f"Top accounts by money in, per currency, {label}",
                  self.top_accounts, MOVEMENT_MONEY),
            Table("Trend", f"Last {TREND_MONTHS} months (month totals, ledger time zone "
                           f"{self.provenance.ledger_timezone})", self.trend, TREND_MONEY),
            Table("Reconciliation", f"Opening + payments − charges = closing, per account, {label} "
                                    f"(times in {zone})", accounts, reconcile.MONEY_COLUMNS, rec.totals()),
            Table("Results", "Accounts per reconciliation result", self.results(), ("difference",)),
            Table("Differences", f"Accounts whose recorded closing does not agree, and why (times in {zone})",
                  differences[[c for c in DIFFERENCE_COLUMNS if c in differences.columns]],
                  reconcile.MONEY_COLUMNS),
            *statement_section.tables(self.statement_matching, label),
            Table("Breaks", f"Balance-chain breaks: a reported balance_after that does not follow "
                            f"(times in {zone})", with_local_times(rec.breaks, ("occurred_at",), zone),
                  _BREAK_MONEY),
            Table("Verification", "Hash chains and month totals recomputed from the raw records (from the last "
                                  "month close on, when the ledger holds one)",
                  verification_frame(self.verification)),
            Table("Fingerprint", "Ledger fingerprint: chain head and row count per journal table",
                  fingerprint_frame(self.verification.fingerprint)),
            Table("Thresholds", f"Approval thresholds: every setting the ledger holds, the newest of a currency's "
                                f"kind in force; who set it, when (times in {zone}) and why",
                  self.thresholds, ("previous", "amount")),
            *self.control_tables(),
            Table("Provenance", "Where these numbers come from",
                  pd.DataFrame(self.provenance.rows(), columns=["item", "value"])),
        ]}

    def filter_tables(self) -> list[Table]:
        """The Filter sheet of an audit scoped by a saved view (none otherwise): the view and what it selects."""
        if self.scope is None:
            return []
        return [Table("Filter", f"Movements, large payments and top accounts follow {self.scope.title}",
                      pd.DataFrame(self.scope.rows(), columns=["item", "value"]))]

    def control_tables(self) -> list[Table]:
        """The Controls (counts per check and severity) and Findings sheets; none when not run."""
        if self.controls is None:  # the month is cut in another zone than the ledger's
            return []
        return [Table("Controls", f"Control findings per check and severity, {self.period.label}",
                      self.controls.counts()),
                Table("Findings", "Every finding, most serious first, with its latest annotation",
                      self.controls.frame(), ("amount",))]

    def introduction(self):
        """The report's title and scope as Markdown."""
        from IPython.display import Markdown

        period, source, first, last = self.period, self.provenance, self.period.first_day, self.period.last_day
        scoped = "" if self.scope is None else (
            f"**Scoped by saved {self.scope.title}** ({_as_text(self.scope.view.description) or 'no description'}): "
            "movements, large payments and top accounts count only its records of the month (the Filter "
            "sheet says what it selects); reconciliation, statement matching, controls and verification "
            "cover the whole ledger.\n\n")
        return Markdown(
            f"# Monthly audit {period.label}{'' if self.scope is None else f' — {self.scope.title}'}\n\n"
            f"{scoped}"
            f"Records from **{first.day} {first:%B %Y} 00:00 to {last.day} {last:%B %Y} 24:00, "
            f"{period.timezone}** "
            f"({period.start:%Y-%m-%d %H:%M} to {period.end:%Y-%m-%d %H:%M} UTC). "
            f"{self._currency_note()}\n\n{NO_DATA_NOTE if self.empty else ''}"
            f"Ledger `{source.ledger_url}` (time zone {source.ledger_timezone}); "
            f"vosbench {source.vosbench_version}; generated {source.generated_at:%Y-%m-%d %H:%M:%S} UTC.")

    def _currency_note(self) -> str:
        if len(self.currencies) == 1:
            return f"Amounts in {self.currencies[0]}."
        return (f"Amounts in each account's currency ({', '.join(self.currencies)}); every total and chart "
                "is per currency, never summed across them.")

    def view(self, name: str, *, dimension: str | None = None):
        """A section as a formatted HTML table for the notebook (``Movements`` takes a ``dimension``)."""
        from IPython.display import Markdown

        if name in statement_section.VIEWS:
            return statement_section.view(self.statement_matching, name, self.period.label)
        if name in ("Controls", "Findings") and self.controls is None:
            return Markdown(f"*Not run for a month cut in {self.period.timezone}: the controls cut months in the "
                            f"ledger's zone ({self.provenance.ledger_timezone}); audit the month without the "
                            "`timezone` parameter for them.*")
        if name == "Movements" and dimension:
            table = Table(f"Movements by {dimension}", f"Payment records by {dimension}, {self.period.label}",
                          movements_by(self.movements, dimension), MOVEMENT_MONEY)
        else:
            table = self.tables()[name]
        if name == "Reconciliation":  # the per-account rows live in the xlsx; show the totals, one per line
            per_currency = self.reconciliation.totals()  # what the table's totals rows hold: one row per currency
            totals_rows = [(column, currency, totals[column]) for currency, totals in per_currency.items()
                           for column in table.money if column in totals]
            table = Table("Reconciliation totals", "Reconciliation totals (all accounts, per currency)",
                          pd.DataFrame(totals_rows, columns=["total of", "currency", "amount"]), ("amount",))
        if table.frame.empty:
            return Markdown(f"**{table.title}:** none.")
        if len(table.frame) > SHOWN_ROWS:
            table = Table(table.name, f"{table.title}: the first {SHOWN_ROWS} of {len(table.frame)}; "
                                      f"the workbook's {table.name} sheet lists all",
                          table.frame.head(SHOWN_ROWS), table.money, table.totals)
        return export.styled(table)

    # --- charts and files ---------------------------------------------------------------------

    def figure(self, name: str):
        """One chart of the report by its file name (see :data:`FIGURE_NAMES`)."""
        label, zone = self.period.label, self.period.timezone
        if name.startswith("movements-by-"):
            dimension = name.removeprefix("movements-by-")
            title = f"Money in and out by {dimension}, {label} ({zone})"
            return charts.by_currency({currency: charts.movements_bar(
                movements_by(self.movements, dimension, currency), dimension, currency=currency, title=title)
                for currency in self.currencies}, title=title)
        if name == "trend":
            title = f"Last {TREND_MONTHS} months up to {label} ({self.provenance.ledger_timezone})"  # the kept months' cut
            return charts.by_currency({currency: charts.trend_lines(
                self.trend[self.trend["currency"] == currency], currency=currency, title=title)
                for currency in self.currencies}, title=title)
        if name == "reconciliation-results":
            return charts.classification_bar(self.results(), title=f"Reconciliation results, {label}")
        if name == "findings-by-operator":
            if self.controls is None:  # the controls cut months in the ledger's zone; this month is another cut
                return charts.findings_by_operator(
                    pd.DataFrame({"operator": []}), title=f"Control findings by operator, {label}: not run for a "
                    f"month cut in {zone} (the controls use the ledger's {self.provenance.ledger_timezone})")
            return charts.findings_by_operator(self.controls.by_operator(),
                                               title=f"Control findings by operator, {label}")
        raise KeyError(f"no chart named {name!r}; the charts are {', '.join(FIGURE_NAMES)}")

    def write_outputs(self, output_dir: str | Path, *, xlsx: bool = True, png: bool = True) -> WrittenFiles:
        """Write the xlsx and the PNG charts into ``output_dir``; an empty ``output_dir`` writes nothing."""
        written = WrittenFiles()
        if not str(output_dir):
            return written
        folder = Path(output_dir)
        if xlsx:
            # every time column of the sections is the period zone's wall clock (the HTML captions say so)
            written.append(export.write_xlsx(folder / xlsx_name(self.period.label),
                                             [export.zone_headed(table, self.period.timezone)
                                              for table in self.tables().values()]))
        if png:
            written += export.write_pngs({name: self.figure(name) for name in FIGURE_NAMES}, folder)
        return written


class WrittenFiles(list):
    """The files an audit wrote; shown in the notebook as a list of names."""

    def _repr_markdown_(self) -> str:
        if not self:
            return "No files written (`output_dir` is empty)."
        return "Files written:\n\n" + "\n".join(f"- `{path.name}`" for path in self)


FIGURE_NAMES = (*(f"movements-by-{d}" for d in DIMENSIONS), "trend", "reconciliation-results",
                "findings-by-operator")


def xlsx_name(label: str) -> str:
    return f"monthly-audit-{label}.xlsx"


def output_names(label: str, *, xlsx: bool = True, png: bool = True) -> list[str]:
    """File names the audit of month ``label`` writes with these choices."""
    return ([xlsx_name(label)] if xlsx else []) + ([f"{name}.png" for name in FIGURE_NAMES] if png else [])


def _as_text(words: str) -> str:
    """Words a person wrote (a view's description) as plain text in the report's Markdown: markup and hidden
    characters shown as they are, never run (the report is opened by auditors in a browser)."""
    return html.escape(visible(words)).replace("*", "\\*").replace("_", "\\_").replace("`", "\\`")
