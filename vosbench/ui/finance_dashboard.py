"""The finance dashboard: the summary's charts for a chosen month, subtree and currency, with downloads.

Served by Voilà (``vosbench dashboard``) from ``notebooks/finance_dashboard.ipynb``. Pick the
month, optionally subtrees, press Show, then pick a currency: the headline and every chart
of :class:`vosbench.outputs.finance.FinanceSummary` follow. The buttons write the month's
pack (PDF, xlsx, charts) or an accounting export into the export folder and link the files.
Charts are set as Output widgets' display items, so the same code runs in Voilà and in pytest.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import ipywidgets as widgets
import sqlalchemy as sa

from vosbench.core.errors import VosbenchError
from vosbench.ledger import tables
from vosbench.ledger.handle import Ledger
from vosbench.outputs import export
from vosbench.outputs.accounting.writer import TARGETS, export_accounting
from vosbench.outputs.finance import FIGURES, FinanceSummary
from vosbench.ui.panel.markup import message
from vosbench.ui.panel.sections import figure_output, link_html
from vosbench.ui.unopened import Unopened, opened


class FinanceDashboard:
    """The widgets and what they show; ``summary`` is the last month computed."""

    def __init__(self, url: str, export_dir: Path):
        self.url = url
        self.export_dir = Path(export_dir)
        engine = Ledger.open(url).engine
        try:
            with engine.connect() as connection:
                months = list(connection.scalars(sa.select(tables.account_months.c.month).distinct()
                                                 .order_by(tables.account_months.c.month.desc())))
        finally:
            engine.dispose()
        self.month = widgets.Dropdown(options=months, value=months[0] if months else None, description="Month")
        self.subtrees = widgets.Text(description="Subtrees", placeholder="e.g. R0001,A0003 (empty: every account)")
        self.show_button = widgets.Button(description="Show", button_style="primary")
        self.currency = widgets.Dropdown(options=[], description="Currency")
        self.status = widgets.HTML()
        self.headline = widgets.HTML()
        self.charts = {name: widgets.Output() for name in FIGURES}
        self.pack_button = widgets.Button(description="Write the pack", icon="file-pdf-o",
                                          tooltip="PDF, xlsx and the charts (PNG, SVG) of this month and scope")
        self.target = widgets.Dropdown(options=TARGETS, value="quickbooks", description="Export to")
        self.export_button = widgets.Button(description="Accounting export", icon="download")
        self.links = widgets.HTML()
        self.summary: FinanceSummary | None = None
        self.show_button.on_click(self.refresh)
        self._refreshing = False
        self.currency.observe(lambda _change: None if self._refreshing else self.draw(), names="value")
        self.pack_button.on_click(self.write_pack)
        self.export_button.on_click(self.write_export)
        self.layout = widgets.VBox([
            widgets.HTML("<h2 style='margin: 4px 0;'>Finance dashboard</h2>"),
            widgets.HBox([self.month, self.subtrees, self.show_button, self.currency]),
            self.status, self.headline, *self.charts.values(),
            widgets.HBox([self.pack_button, self.target, self.export_button]), self.links,
        ])

    @classmethod
    def open(cls, *, db_url: str = "", export_dir: str = "exports") -> FinanceDashboard | Unopened:
        """The notebook's entry: the ledger from ``db_url`` (else VOSBENCH_DB or the embedded one); one that cannot
        be opened gives :class:`Unopened`, which says why in the page."""
        from vosbench.sources import demo

        def open_() -> FinanceDashboard:
            with demo.open_or_build(db_url or None) as ledger:
                dashboard = cls(ledger.url, Path(export_dir))
            if dashboard.month.value:
                dashboard.refresh()
            return dashboard

        return opened(open_, "finance dashboard")

    def refresh(self, _button=None) -> None:
        """Compute the chosen month and scope, then draw it in the chosen (or first) currency."""
        roots = tuple(part.strip() for part in self.subtrees.value.split(",") if part.strip())
        engine = Ledger.open(self.url).engine
        try:
            self.summary = FinanceSummary.compute(engine, self.month.value, subtrees=roots, ledger_url=self.url)
        except VosbenchError as error:  # a wrong subtree: say so in the page, keep what was shown
            self.status.value = message("error", str(error))
            return
        finally:
            engine.dispose()
        chosen, currencies = self.currency.value, list(self.summary.currencies)
        self._refreshing = True  # one draw for the new choices, not one per trait change
        try:
            self.currency.options = currencies
            self.currency.value = chosen if chosen in currencies else (currencies[0] if currencies else None)
        finally:
            self._refreshing = False
        self.draw()

    def draw(self) -> None:
        """The headline and the charts of the chosen currency."""
        summary, currency = self.summary, self.currency.value
        if summary is None or currency is None:
            return
        self.status.value = message("info", f"{summary.period.label}, {summary.scope}, in {currency}"
                                            + (": no records this month" if summary.empty else ""))
        headline = summary.headline()
        mine = headline[(headline["currency"] == currency) | (headline["currency"] == "")].reset_index(drop=True)
        self.headline.value = export.styled(export.Table("Headline", f"Headline, {currency}", mine,
                                                         ("amount",))).to_html()
        for name, output in self.charts.items():
            output.outputs = (figure_output(summary.figure(name, currency)),)

    def _shown(self) -> FinanceSummary:
        """The month on screen; the buttons act on it (there is none before a month is computed)."""
        if self.summary is None:
            raise VosbenchError("no month is shown yet: pick a month and press Show first")
        return self.summary

    def _folder(self, what: str) -> Path:
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        return self.export_dir / f"{what}-{self._shown().period.label}-{stamp}"

    def write_pack(self, _button=None) -> list[Path]:
        """Write the pack of what is shown and link its PDF and workbook."""
        written = self._shown().write_outputs(self._folder("finance-summary"))
        self.links.value = "<br>".join(link_html(path) for path in written if path.suffix in (".pdf", ".xlsx"))
        return written

    def write_export(self, _button=None) -> list[Path]:
        """Write the month's accounting export for the chosen package and link its files."""
        engine = Ledger.open(self.url).engine
        try:
            result = export_accounting(engine, self._shown().period.label, self.target.value,
                                       out_dir=self._folder(f"accounting-{self.target.value}"))
        finally:
            engine.dispose()
        self.links.value = "<br>".join(link_html(path) for path in result.files) or message(
            "info", f"no records in {result.month}: nothing to export")
        return result.files
