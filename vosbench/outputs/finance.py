"""The finance summary: a month as a finance lead reads it, every figure per currency.

:class:`FinanceSummary` is computed once from (ledger, month, optional subtrees) and holds
each section as a DataFrame with money in int64 minor units: cash in and out by kind,
channel and method; deposits against charges (revenue) over 13 months; the balances held
for account holders and how they moved; top accounts and resellers; agent commissions;
money statement matching could not pair; the month's open control findings. The
notebook ``notebooks/finance_summary.ipynb`` shows it; :meth:`FinanceSummary.write_outputs`
writes the xlsx (the figures behind every chart), the charts as PNG and SVG, and the
printable PDF, so every output of one run carries the same numbers.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from vosbench import __version__, controls
from vosbench.analysis import reconcile, report_scope
from vosbench.core import config, periods, timeshow
from vosbench.core.money import exact_sum
from vosbench.ledger import account_history, database, tables
from vosbench.ledger.hashchain import fingerprint
from vosbench.outputs import audit, charts, customer_statement, export, matching_section, pdf, provenance, views
from vosbench.outputs.export import Table
from vosbench.outputs.visible import visible_value

TREND_MONTHS = 13
_VIEW_NOTE = ("; cash, top accounts, commissions, bonuses and adjustments count only the view's records of the "
              "month (the Filter sheet says what it selects); charges, balances and the trend every record of its "
              "accounts")
TOP_N = 10
TEMPLATE = Path(__file__).parent / "templates" / "finance_summary.html"
CASH_KINDS = ("deposit", "withdrawal", "auto_recharge")
"""Kinds that move money through a bank or gateway; the others only move balances."""
UNMATCHED = ("no_payment_record", "no_money", "amount_difference", "wrong_account")
BALANCE_MONEY = ("opening", "payments", "charges", "closing")
FIGURES = {  # chart file name -> (the table behind it, its title)
    "cash-by-kind": ("Cash by kind", "Money in and out by kind"),
    "cash-by-channel": ("Cash by channel", "Money in and out by channel"),
    "cash-by-method": ("Cash by method", "Money in and out by method"),
    "deposits-and-charges": ("Deposits and charges", f"Deposits and charges (revenue), {TREND_MONTHS} months"),
    "balances-held": ("Balances held", f"Balances held for account holders, {TREND_MONTHS} months"),
    "top-accounts": ("Top accounts", f"Top {TOP_N} accounts by money in"),
    "commissions": ("Commissions", "Agent and reseller commissions"),
}


@dataclass
class FinanceSummary:
    """Every section of one month's finance summary (see the module docstring)."""

    period: periods.Period
    subtrees: tuple[str, ...]
    currencies: tuple[str, ...]
    movements: pd.DataFrame
    trend: pd.DataFrame
    accounts: pd.DataFrame  # the reconciliation's rows in scope
    top_accounts: pd.DataFrame
    unmatched: pd.DataFrame
    open_findings: int | None
    fingerprint: str
    ledger_url: str
    saved_view: report_scope.ReportScope | None = None  # the saved view the pack follows, if any
    parents: dict[str, str] = field(default_factory=dict)  # every account's parent at the month's end ('' at the top)

    @classmethod
    def compute(cls, engine: Engine, month: str, *, subtrees: tuple[str, ...] = (), ledger_url: str = "",
                view: str = "") -> FinanceSummary:
        """Run every section's queries for ``month`` (YYYY-MM, the ledger's zone), limited to ``subtrees`` if given.

        A subtree is the one that stood at the month's end (:func:`account_history.tree_as_of`).

        ``view`` (a saved view's name or YAML file) limits the pack to the view's accounts, and
        its cash and top-accounts sections to the view's records of the month.
        """
        with engine.connect() as connection:
            zone = database.ledger_timezone(connection)
            period = periods.month(month, zone)
            tree = account_history.tree_as_of(connection, period.end)
            numbers = _scope(tree, subtrees)
            scope = report_scope.for_month(report_scope.resolve(view, month, connection)[0], period) if view else None
            where = scope.payment_conditions(connection) if scope else ()
            covered = scope.account_numbers(connection) if scope else None
            if covered is not None:
                numbers = covered if numbers is None else numbers & covered
            ids = None if numbers is None else list(connection.scalars(
                sa.select(tables.current_accounts.c.id).where(tables.current_accounts.c.account.in_(sorted(numbers)))))
            movements = audit.query_movements(connection, period, ids, where)
            trend = audit.query_trend(connection, period.label, TREND_MONTHS, ids)
            top = audit.query_top_accounts(connection, period, TOP_N, ids, where)
            kind_totals = audit.query_kind_totals(connection, period, ids, where) if scope else None
            currency_of = dict(connection.execute(sa.select(tables.current_accounts.c.account, tables.current_accounts.c.currency)).all())
            parents = tree.parent_numbers()
            short = provenance.fingerprint_short(fingerprint(connection))
        accounts = reconcile.reconcile(engine, period.label).accounts
        if numbers is not None:
            accounts = accounts[accounts["account"].isin(numbers)].reset_index(drop=True)
        if kind_totals is not None:
            accounts = _counting_only(accounts, kind_totals)
        currencies = tuple(sorted(set(accounts["currency"]) | set(movements["currency"]) | set(trend["currency"])))
        findings = controls.run(engine, period.label, controls.load_settings(controls.DEFAULT_SETTINGS)).frame()
        if numbers is not None:
            findings = findings[[bool(set(a.split(", ")) & numbers) for a in findings["accounts"]]]
        return cls(period, tuple(subtrees), currencies, movements, trend, accounts, top,
                   _unmatched(engine, period, numbers, currency_of, scope),
                   0 if findings.empty else int((findings["status"] != "explained").sum()),
                   short, config.mask_url(ledger_url or str(engine.url)), scope, parents)

    @classmethod
    def open(cls, *, month: str, subtrees: str = "", db_url: str = "", view: str = "") -> FinanceSummary:
        """The notebook's entry: ``subtrees`` is a comma-separated list of account numbers ('' = every account)."""
        from vosbench.sources import demo

        roots = tuple(part.strip() for part in subtrees.split(",") if part.strip())
        with demo.open_or_build(db_url or None) as ledger:
            return cls.compute(ledger.engine, month, subtrees=roots, ledger_url=ledger.url, view=view)

    @property
    def empty(self) -> bool:
        """True when the month holds no payment record and no charge in scope."""
        return int(self.movements["records"].sum()) == 0 and int(self.accounts["charges"].sum()) == 0

    @property
    def scope(self) -> str:
        accounts = f"subtrees {', '.join(self.subtrees)}" if self.subtrees else "every account"
        return accounts if self.saved_view is None else f"{self.saved_view.title} ({accounts})"

    # --- sections -----------------------------------------------------------------------------

    def headline(self) -> pd.DataFrame:
        """(figure, currency, amount, count): what a finance lead reads first, per currency."""
        rows: list[tuple[str, str, int | None, int | None]] = []
        for currency in self.currencies:
            moved = self.movements[self.movements["currency"] == currency]
            cash = moved[moved["kind"].isin(CASH_KINDS)]
            mine = self.accounts[self.accounts["currency"] == currency]
            lost = self.unmatched[self.unmatched["currency"] == currency]
            rows += [(figure, currency, amount, count) for figure, amount, count in [
                ("Cash in (deposits, auto-recharges)", exact_sum(cash["money_in"]), cash["records_in"].sum()),
                ("Cash out (withdrawals, refunds, reversals)", exact_sum(cash["money_out"]),
                 cash["records"].sum() - cash["records_in"].sum()),
                ("Charges (revenue: call, agent and other fees)", exact_sum(mine["charges"]), None),
                ("Agent and reseller commissions", exact_sum(mine["commission"]), None),
                ("Bonuses and adjustments (net)", exact_sum(mine["bonus"]) + exact_sum(mine["adjustment"]), None),
                ("Balances held at the start of the month", exact_sum(mine["opening"]), len(mine)),
                ("Balances held at the end of the month", exact_sum(mine["expected_closing"]), None),
                ("Money on statements with no payment record", _gross(lost, "no_payment_record", "statement_amount"),
                 _gross(lost, "no_payment_record", "items")),
                ("Payment records with no money on a statement", _gross(lost, "no_money", "recorded_amount"),
                 _gross(lost, "no_money", "items")),
            ]]
        rows.append(("Open control findings", "", None, self.open_findings))
        return views.figures_frame(rows, ["figure", "currency", "amount", "count"], ("amount", "count"))

    def balances_by_kind(self) -> pd.DataFrame:
        """Per currency and account kind: opening, payments, charges and closing of the balances held."""
        frame = self.accounts.rename(columns={"expected_closing": "closing"})
        grouped = views.group_sums(frame, ["currency", "kind"], BALANCE_MONEY)
        return grouped.join(frame.groupby(["currency", "kind"]).size().rename("accounts")).reset_index()

    def top_resellers(self) -> pd.DataFrame:
        """Per currency, each top-level account's subtree: deposits, charges and balances held, largest deposits first.

        The top-level account is found in the whole tree as it stood at the month's end (so a
        closed month's figures stay put when an account moves later): an agent between a
        customer and its reseller with no money of its own in the month is still passed through.
        """
        roots = [_root(account, self.parents) for account in self.accounts["account"]]
        frame = self.accounts.assign(reseller=roots)
        grouped = (views.group_sums(frame, ["currency", "reseller"], ["deposit", "charges", "commission", "expected_closing"])
                   .rename(columns={"expected_closing": "balances_held"}))
        grouped = grouped.join(frame.groupby(["currency", "reseller"]).size().rename("accounts")).reset_index()
        return (grouped.sort_values(["currency", "deposit"], ascending=[True, False])
                .groupby("currency").head(TOP_N).reset_index(drop=True))

    def commissions(self) -> pd.DataFrame:
        """Commission paid to each agent and reseller in the month, largest first per currency."""
        earners = self.accounts[self.accounts["kind"].isin(("agent", "reseller")) & (self.accounts["commission"] != 0)]
        frame = earners[["currency", "account", "name", "kind", "commission"]]
        return frame.sort_values(["currency", "commission"], ascending=[True, False]).reset_index(drop=True)

    def tables(self) -> dict[str, Table]:
        """Every section as a table, in reading order (one xlsx sheet each)."""
        label = self.period.label
        cash = {d: audit.movements_by(self.movements, d) for d in audit.DIMENSIONS}
        trend = self.trend
        return {table.name: table for table in [
            Table("Summary", f"Headline figures, {label} ({self.scope})", self.headline(), ("amount",)),
            *([] if self.saved_view is None else [Table("Filter", f"The pack follows {self.saved_view.title}",
                                                  pd.DataFrame(self.saved_view.rows(), columns=["item", "value"]))]),
            *(Table(f"Cash by {d}", f"Money in and out by {d}, {label}",
                    cash[d][["currency", d, "records", "money_in", "money_out", "net"]],
                    ("money_in", "money_out", "net")) for d in audit.DIMENSIONS),
            Table("Deposits and charges", f"Deposits and charges (revenue) by month, {TREND_MONTHS} months to {label}",
                  trend[["currency", "month", "deposit", "auto_recharge", "withdrawal", "charges", "payments"]],
                  ("deposit", "auto_recharge", "withdrawal", "charges", "payments")),
            Table("Balances held", f"Balances held at each month end and the month's net change, to {label}",
                  trend[["currency", "month", "payments", "charges", "net_change", "balances"]],
                  ("payments", "charges", "net_change", "balances")),
            Table("Balances by account kind", f"Balances held per account kind, {label}", self.balances_by_kind(),
                  BALANCE_MONEY, _per_currency(self.balances_by_kind(), BALANCE_MONEY)),
            Table("Top accounts", f"Top {TOP_N} accounts by money in, per currency, {label}",
                  self.top_accounts, ("money_in", "money_out", "net")),
            Table("Top resellers", f"Top-level accounts and everything below them, {label}", self.top_resellers(),
                  ("deposit", "charges", "commission", "balances_held")),
            Table("Commissions", f"Agent and reseller commissions, {label}", self.commissions(), ("commission",),
                  _per_currency(self.commissions(), ("commission",))),
            Table("Unmatched money", f"Statement matching: what did not simply match, {label}", self.unmatched,
                  ("statement_amount", "recorded_amount")),
            Table("Provenance", "Where these numbers come from", pd.DataFrame(self.provenance(), columns=["item", "value"])),
        ]}

    def provenance(self) -> list[tuple[str, str]]:
        return [("month", self.period.label), ("time zone", self.period.timezone), ("scope", self.scope),
                ("currencies", ", ".join(self.currencies)), ("ledger", self.ledger_url),
                ("ledger fingerprint", self.fingerprint), ("vosbench", __version__),
                ("generated at", timeshow.shown(datetime.now(UTC), self.period.timezone))]

    # --- charts, views and files --------------------------------------------------------------

    def figure(self, name: str, currency: str | None = None):
        """One chart by its file name (see :data:`FIGURES`): each currency on its own axis, or only ``currency``."""
        if name not in FIGURES:
            raise KeyError(f"no chart named {name!r}; the charts are {', '.join(FIGURES)}")
        title = f"{FIGURES[name][1]}, {self.period.label}"
        per_currency = {}
        for shown in [currency] if currency else self.currencies:
            if name.startswith("cash-by-"):
                dimension = name.removeprefix("cash-by-")
                per_currency[shown] = charts.movements_bar(audit.movements_by(self.movements, dimension, shown),
                                                              dimension, title=title, currency=shown)
                continue
            trend = self.trend[self.trend["currency"] == shown]
            if name == "deposits-and-charges":
                per_currency[shown] = charts.deposits_and_charges(trend, title=title, currency=shown)
            elif name == "balances-held":
                per_currency[shown] = charts.balances_held(trend, title=title, currency=shown)
            elif name == "top-accounts":
                top = self.top_accounts[self.top_accounts["currency"] == shown]
                per_currency[shown] = charts.top_accounts_bar(
                    top.rename(columns={"money_in": "amount", "records": "count"}), title=title, currency=shown)
            else:
                paid = self.commissions()[self.commissions()["currency"] == shown].head(TOP_N)
                per_currency[shown] = charts.top_accounts_bar(
                    paid.rename(columns={"commission": "amount"}).assign(count=1), title=title, currency=shown)
        return charts.by_currency(per_currency, title=title)

    def introduction(self):
        from IPython.display import Markdown

        period = self.period
        note = ("**This month holds no payment records and no charges in scope: there is nothing to report.**\n\n"
                if self.empty else "")
        return Markdown(
            f"# Finance summary {period.label}{'' if self.saved_view is None else f' — {self.saved_view.title}'}\n\n"
            f"{note}Scope: {self.scope}{'' if self.saved_view is None else _VIEW_NOTE}. Days cut in {period.timezone}. "
            f"Amounts in each account's currency ({', '.join(self.currencies) or 'none'}); every total and chart "
            f"is per currency, never summed across them.\n\nLedger `{self.ledger_url}`, {self.fingerprint}; "
            f"vosbench {__version__}.")

    def view(self, name: str):
        """A section as a formatted HTML table for the notebook."""
        from IPython.display import Markdown

        table = self.tables()[name]
        if table.frame.empty:
            return Markdown(f"**{table.title}:** none.")
        return export.styled(table)

    def write_outputs(self, output_dir: str | Path) -> list[Path]:
        """Write the xlsx, every chart as PNG and SVG, and the PDF into ``output_dir``; '' writes nothing."""
        if not str(output_dir):
            return []
        folder = Path(output_dir)
        figures = {name: self.figure(name) for name in FIGURES}
        written = [export.write_xlsx(folder / xlsx_name(self.period.label), list(self.tables().values()))]
        written += export.write_pngs(figures, folder, formats=("png", "svg"))
        written.append(self.write_pdf(folder / pdf_name(self.period.label), folder))
        return written

    def write_pdf(self, path: Path, charts_folder: Path) -> Path:
        """The printable A4 summary: headline, every chart (SVG) with the table behind it, page numbers."""
        import jinja2

        tables = self.tables()
        sections = [{"title": FIGURES[name][1], "image": (Path(charts_folder) / f"{name}.svg").resolve().as_uri(),
                     "table": export.styled(_shortened(tables[FIGURES[name][0]])).to_html()}
                    for name in FIGURES]
        environment = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined, finalize=visible_value)
        page = environment.from_string(TEMPLATE.read_text(encoding="utf-8")).render(
            month=self.period.label, scope=self.scope, fingerprint=self.fingerprint, empty=self.empty,
            currencies=", ".join(self.currencies), timezone=self.period.timezone, version=__version__,
            generated=timeshow.shown(datetime.now(UTC), self.period.timezone), sections=sections,
            headline=export.styled(tables["Summary"]).to_html(),
            balances=export.styled(tables["Balances by account kind"]).to_html(),
            resellers=export.styled(_shortened(tables["Top resellers"])).to_html(),
            unmatched=export.styled(tables["Unmatched money"]).to_html() if len(self.unmatched) else "")
        with tempfile.TemporaryDirectory(prefix="vosbench-summary-") as work:
            source = Path(work) / "finance_summary_print.html"
            source.write_text(page, encoding="utf-8")
            return pdf.html_to_pdf(source, path)


def xlsx_name(label: str) -> str:
    return f"finance-summary-{label}.xlsx"


def pdf_name(label: str) -> str:
    return f"finance-summary-{label}.pdf"


def output_names(label: str) -> list[str]:
    """The files :meth:`FinanceSummary.write_outputs` writes for month ``label``."""
    return [xlsx_name(label), *(f"{name}.{fmt}" for name in FIGURES for fmt in ("png", "svg")), pdf_name(label)]


def _scope(tree: account_history.TreeAsOf, subtrees: tuple[str, ...]) -> set[str] | None:
    """The account numbers of ``subtrees`` in ``tree`` (the month's), None for every account."""
    if not subtrees:
        return None
    return {account for root in subtrees for account in customer_statement.members(tree, root)}


def _counting_only(accounts: pd.DataFrame, kind_totals: pd.DataFrame) -> pd.DataFrame:
    """The reconciliation's rows with each payment kind's figure counted over a view's records only.

    The balances (opening, payments, charges, closing) stay those of the whole account; the
    per-kind figures the headline, top resellers and commissions read (a deposit-only view
    has no bonus) follow the view, as the cash sections do.
    """
    net = {(row.account, row.kind): int(row.net) for row in kind_totals.itertuples(index=False)}
    counted = accounts.copy()
    for kind in tables.PAYMENT_KIND_COLUMNS:
        if kind in counted.columns:
            counted[kind] = pd.Series([net.get((account, kind), 0) for account in counted["account"]],
                                      index=counted.index, dtype="int64")
    return counted


def _root(account: str, parent: dict[str, str]) -> str:
    seen = set()
    while parent.get(account) and account not in seen:
        seen.add(account)
        account = parent[account]
    return account


def _gross(unmatched: pd.DataFrame, status: str, column: str) -> int:
    """``column`` of ``status``'s rows summed as sizes: money in and money out missing never offset each other."""
    return exact_sum(unmatched.loc[unmatched["status"] == status, column].abs())


def _per_currency(frame: pd.DataFrame, columns: tuple[str, ...]) -> dict[str, dict[str, int]]:
    """A table's totals rows: each money column added up per currency, exactly (int64 would wrap past 2**63)."""
    return {currency: {column: exact_sum(group[column]) for column in columns}
            for currency, group in frame.groupby("currency", sort=True)}


def _shortened(table: Table, rows: int = 15) -> Table:
    """A table cut for print: the workbook holds every row."""
    if len(table.frame) <= rows:
        return table
    return Table(table.name, table.title, table.frame.head(rows), table.money)


def _unmatched(engine: Engine, period: periods.Period, numbers: set[str] | None,
               currency_of: dict[str, str], scope: report_scope.ReportScope | None = None) -> pd.DataFrame:
    """Per currency, status and direction (money ``in`` or ``out``), what statement matching left unpaired or off
    (none without statements); money in and money out are summed apart, never netted.

    With a saved view (``scope``) an item counts when one of its payment records is among the
    view's records of the month (its kinds, channels, methods… not only its accounts), and a
    statement line paired with no record when the view selects a kind such a line could be.
    """
    columns = ["currency", "status", "direction", "items", "statement_amount", "recorded_amount"]
    run = matching_section.compute(engine, period.label, period.timezone)
    if run is None:
        return pd.DataFrame(columns=columns).astype({"statement_amount": "int64", "recorded_amount": "int64"})
    items = run.items()
    items = items[items["status"].isin(UNMATCHED)]
    named = [[a for a in str(accounts).split(", ") if a] for accounts in items["accounts"]]
    if numbers is not None:
        keep = [not found or bool(set(found) & numbers) for found in named]
        items, named = items[keep], [found for found, kept in zip(named, keep) if kept]
    if scope is not None:
        items, named = _in_view(engine, scope, items, named)
    lines = [[int(i) for i in str(ids).split(",") if i.strip()] for ids in items["line_ids"]]
    wanted = sorted({i for ids in lines for i in ids})
    with engine.connect() as connection:
        line_currency = dict(connection.execute(sa.select(tables.statement_lines.c.id, tables.statement_lines.c.currency)
                                                .where(tables.statement_lines.c.id.in_(wanted))).all()) if wanted else {}
        first_day, last_day = periods.charge_days(period, period.timezone)
        settled = set(connection.scalars(sa.select(tables.statement_lines.c.currency).distinct()
                                         .where(tables.statement_lines.c.posted_on.between(first_day, last_day))))
    # a statement line is in its statement's currency; a record without one in its account's. A record in a
    # currency no statement of the month is in was never expected on one: it is not money missing.
    items = items.assign(currency=[line_currency[ids[0]] if ids else currency_of.get(found[0], "") if found else ""
                                   for ids, found in zip(lines, named)],
                         direction=["in" if (statement if ids else recorded) >= 0 else "out" for ids, statement, recorded
                                    in zip(lines, items["statement_amount"], items["recorded_amount"])])
    items = items[items["currency"].isin(settled)]
    grouped = views.group_sums(items.assign(items=1), ["currency", "status", "direction"],
                               ["items", "statement_amount", "recorded_amount"]).reset_index()
    return grouped[columns]


_LINE_KINDS = {True: ("deposit", "auto_recharge"), False: ("withdrawal",)}
"""The kinds a statement line could be recorded as, by whether it is money in: what matching pairs it with."""


def _in_view(engine: Engine, scope: report_scope.ReportScope, items: pd.DataFrame,
             named: list[list[str]]) -> tuple[pd.DataFrame, list[list[str]]]:
    """The matching items a saved view covers (see :func:`_unmatched`), and the accounts each names."""
    records = [[int(i) for i in str(ids).split(",") if i.strip()] for ids in items["payment_ids"]]
    wanted = sorted({i for ids in records for i in ids})
    with engine.connect() as connection:
        chosen = set(connection.scalars(sa.select(tables.payments.c.id)
                                        .where(tables.payments.c.id.in_(wanted), *scope.payment_conditions(connection)))
                     ) if wanted else set()
    kinds = {kind.value for kind in scope.filter.kinds}
    keep = [bool(set(ids) & chosen) if ids else not kinds or bool(kinds & set(_LINE_KINDS[int(amount) > 0]))
            for ids, amount in zip(records, items["statement_amount"])]
    return items[keep], [found for found, kept in zip(named, keep) if kept]
