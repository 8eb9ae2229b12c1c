"""The explorer's sections below the grid: charts, the account statement, exports.

Each section owns its widgets and fills them from the ledger for a filter; the
explorer (:mod:`vosbench.ui.explore_panel`) decides when, and turns any problem into a message.
"""

from __future__ import annotations

import html
import os
from datetime import date, datetime, timedelta
from pathlib import Path

import ipywidgets as widgets
import pandas as pd
import plotly.io as pio
from sqlalchemy.engine import Engine

from vosbench.analysis import account_statement, explore
from vosbench.analysis.filters import PaymentFilter
from vosbench.outputs import charts, query_export
from vosbench.ui.panel import markup
from vosbench.ui.panel.form import AccountDirectory

TOP_ACCOUNTS = 10


class ChartsSection:
    """Three plotly charts that follow the filter; ``figures`` and ``data`` keep what is shown."""

    NAMES = ("monthly", "channels", "top-accounts")

    def __init__(self, currency: str):
        self.currency = currency
        # the monthly chart spans the panel; the other two share a row and wrap on a narrow screen
        self.outputs = {name: widgets.Output(layout=widgets.Layout(
                            width="100%" if name == "monthly" else "auto",
                            flex="1 1 100%" if name == "monthly" else "1 1 460px", min_width="0"))
                        for name in self.NAMES}
        self.figures: dict[str, object] = {}
        self.data: dict[str, pd.DataFrame] = {}
        self.layout = widgets.VBox([self.outputs["monthly"],
                                    widgets.HBox([self.outputs["channels"], self.outputs["top-accounts"]],
                                                 layout=widgets.Layout(flex_flow="row wrap"))])

    def update(self, engine: Engine, f: PaymentFilter, timezone: str) -> None:
        """Query the chart data for ``f`` and redraw the three charts.

        The charts add amounts up, so they are drawn for a filter whose accounts keep one
        currency; over several, they say so and how to narrow the filter (the grid's totals
        and the trend are per currency).
        """
        covered = explore.currencies_of(engine, f)
        if len(covered) > 1:
            self.data, self.figures = {}, {}
            note = (f"The charts add amounts up, and this filter's accounts keep {', '.join(covered)}: pick an "
                    "account or a subtree of one currency to draw them (the totals above and the trend below are "
                    "per currency).")
            self.outputs["monthly"].outputs = (html_output(markup.message("empty", note), note),)
            for name in self.NAMES[1:]:
                self.outputs[name].outputs = ()
            return
        currency = covered[0] if covered else self.currency
        self.data = {"monthly": explore.monthly_by_kind(engine, f),
                     "channels": explore.by_channel_method(engine, f),
                     "top-accounts": explore.top_accounts(engine, f, TOP_ACCOUNTS)}
        self.figures = {
            "monthly": charts.monthly_by_kind(self.data["monthly"], currency=currency,
                                              title=f"Amount and records by month and kind ({timezone})"),
            "channels": charts.channel_method_bar(self.data["channels"], currency=currency,
                                                  title="Amount by channel and method"),
            "top-accounts": charts.top_accounts_bar(self.data["top-accounts"], currency=currency,
                                                    title=f"Top {TOP_ACCOUNTS} accounts by money moved (net shown)"),
        }
        for name, figure in self.figures.items():
            self.outputs[name].outputs = (figure_output(figure),)

    def months_shown(self) -> tuple[date, date] | None:
        """First and last local day of the months the monthly chart covers (None when it is empty)."""
        months = sorted(self.data.get("monthly", pd.DataFrame({"month": []}))["month"])
        if not months:
            return None
        first = date.fromisoformat(f"{months[0]}-01")
        last_start = date.fromisoformat(f"{months[-1]}-01")
        return first, (last_start + timedelta(days=32)).replace(day=1) - timedelta(days=1)


def html_output(markup_text: str, plain: str) -> dict:
    """HTML (and its plain text) as an Output widget's display item."""
    return {"output_type": "display_data", "data": {"text/html": markup_text, "text/plain": plain}, "metadata": {}}


def figure_output(figure) -> dict:
    """``figure`` as an Output widget's display item in plotly's own mimetype.

    Setting the widget's outputs directly (not ``with output: display(...)``) works the
    same in a kernel, in Voilà and in plain pytest, where there is no kernel to capture.
    """
    bundle = pio.renderers["plotly_mimetype"].to_mimebundle(figure.to_dict())
    bundle["text/plain"] = f"<plotly chart: {figure.layout.title.text}>"
    return {"output_type": "display_data", "data": bundle, "metadata": {}}


class StatementSection:
    """Pick an account of the results and see its statement for the filter's period."""

    def __init__(self, directory: AccountDirectory):
        self.directory = directory
        self.account = widgets.Dropdown(description="Account", options=[], style={"description_width": "initial"},
                                        layout=widgets.Layout(width="460px"))
        self.show_button = widgets.Button(description="Show statement", icon="list",
                                          tooltip="opening, every movement with a running balance, closing")
        self.html = widgets.HTML(markup.message("info", "Query, then pick an account of the results "
                                                        "and press Show statement."))
        self.statement: account_statement.Statement | None = None
        self.layout = widgets.VBox([widgets.HBox([self.account, self.show_button]), self.html])

    def offer(self, accounts: list[str]) -> None:
        """Let the analyst pick from ``accounts`` (account numbers, first ones first, no repeats)."""
        numbers = list(dict.fromkeys(accounts))
        keep = self.account.value if self.account.value in numbers else (numbers[0] if numbers else None)
        self.account.options = [(self.directory.label(number), number) for number in numbers]
        self.account.value = keep

    def show(self, engine: Engine, account: str, start: date, end: date, timezone: str) -> None:
        """Compute and show the statement of ``account`` for local days ``start`` .. ``end``."""
        self.statement = account_statement.account_statement(engine, account, start, end, timezone=timezone or None)
        self.html.value = markup.statement_html(self.statement, self.directory.label(account))


class ExportSection:
    """Write every record of the current result to xlsx or CSV and link the file."""

    def __init__(self, export_dir: Path):
        self.export_dir = Path(export_dir)
        self.xlsx_button = widgets.Button(description="Export xlsx", icon="file-excel-o",
                                          tooltip="every record of the result, with Totals and Filter sheets")
        self.csv_button = widgets.Button(description="Export CSV", icon="file-text-o",
                                         tooltip="every record of the result; the filter beside it in .filter.csv")
        self.link = widgets.HTML("")
        self.written: Path | None = None
        self.layout = widgets.HBox([self.xlsx_button, self.csv_button, self.link],
                                   layout=widgets.Layout(align_items="center"))

    def write(self, engine: Engine, f: PaymentFilter, suffix: str, *, sort: str, descending: bool) -> Path:
        """Write the file (named after the moment, never overwriting) and show a link to it."""
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        path = self.export_dir / f"payments-{stamp}{suffix}"
        counter = 1
        while path.exists():
            counter += 1
            path = self.export_dir / f"payments-{stamp}-{counter}{suffix}"
        self.written = query_export.export_result(engine, f, path, sort=sort, descending=descending)
        self.link.value = link_html(self.written)
        return self.written


def link_html(path: Path) -> str:
    """An ``<a href>`` to ``path``, relative to the working folder (the notebook's) where it can be."""
    try:
        href = os.path.relpath(path)
    except ValueError:  # another drive on Windows: no relative path exists
        href = str(path)
    href = Path(href).as_posix()
    return (f"Wrote <a href='{html.escape(href, quote=True)}' target='_blank' download>"
            f"{html.escape(href)}</a>")
