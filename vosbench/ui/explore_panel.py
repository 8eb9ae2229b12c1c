"""The payment explorer: a filter panel over the ledger for analysts, in ipywidgets.

:class:`PaymentExplorer` puts together the filter form (:mod:`vosbench.ui.panel.form`),
the results grid with paging, sorting, the count and the per-kind totals of the whole
filter, the charts, an account's statement and the exports
(:mod:`vosbench.ui.panel.sections`). Every number comes from :mod:`vosbench.analysis.explore` and
:mod:`vosbench.analysis.account_statement`, computed in the database; this module only decides what
runs when and shows the outcome. On a large ledger the first query starts a background build
of the fast payment columns; :mod:`vosbench.ui.panel.column_build` shows how far it has come.

Nothing the analyst types can raise into the notebook: bad input and failed queries
become a message in the panel (``status``), and the results on screen stay those of
the last filter that worked (``current_filter``, ``current_page``). Paging, sorting
and exports apply to that filter, not to unsubmitted edits of the form.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from datetime import date
from pathlib import Path

import ipywidgets as widgets
from sqlalchemy.engine import Engine

from vosbench.analysis import explore, saved_views
from vosbench.analysis.explore import Page
from vosbench.analysis.filters import PaymentFilter
from vosbench.analysis.saved_views import SavedView
from vosbench.ledger.handle import currencies
from vosbench.ui.panel import form as form_module
from vosbench.ui.panel import markup, memory, views
from vosbench.ui.panel.approvals import ApprovalQueue
from vosbench.ui.panel.column_build import BuildNote
from vosbench.ui.panel.grid import PaymentGrid
from vosbench.ui.panel.record import RecordForm
from vosbench.ui.panel.sections import ChartsSection, ExportSection, StatementSection
from vosbench.ui.panel.trends import TrendsSection
from vosbench.ui.panel.views import ViewsSection
from vosbench.ui.unopened import Unopened, opened

PAGE_SIZES = (25, 50, 100, 200)
DEFAULT_EXPORT_DIR = Path("exports")
_log = logging.getLogger(__name__)

_BUSY_HTML = ("<span style='display: inline-flex; align-items: center; gap: 6px; color: #1F4E79;'>"
              "<span style='width: 14px; height: 14px; border: 3px solid #C5D5E6; border-top-color: #1F4E79; "
              "border-radius: 50%; animation: vosbench-spin 0.8s linear infinite;'></span>Working…</span>"
              "<style>@keyframes vosbench-spin { to { transform: rotate(360deg); } }</style>")


class PaymentExplorer:
    """The filter panel; display ``.widget``. The form's widgets are attributes (see ``FIELDS``).

    ``initial`` is the filter the panel opens with and Reset returns to — by default the
    view ``view`` names, else the one last queried on this ledger (kept in ``memory_dir``
    when given), else the latest month with records (:func:`explore.latest_month`), so the
    panel opens as fast on ten years of history as on one month. Exports go to
    ``export_dir`` (default ``./exports``); saved views to ``views_dir`` (default
    ``parameters/views/``), shared as links to ``share_url`` (the page's own URL in Voilà).
    ``problem`` is what the link or the notebook asked for wrongly (:func:`views.opening`), shown
    above the results until the next query.
    """

    FIELDS = form_module.FIELDS

    def __init__(self, engine: Engine, *, initial: PaymentFilter | None = None,
                 export_dir: Path | None = None, page_size: int = 50, view: SavedView | None = None,
                 views_dir: Path | None = None, memory_dir: Path | None = None, share_url: str = "",
                 problem: str = ""):
        self.engine = engine
        self.memory_dir = Path(memory_dir) if memory_dir is not None else None
        if view is None and initial is None and self.memory_dir is not None:
            view = memory.recall(self.memory_dir, engine)
        if view is not None and initial is None:
            initial = view.filter
        self.initial = initial if initial is not None else explore.latest_month(engine)
        self.current_filter: PaymentFilter | None = None
        self.current_page: Page | None = None
        self._sorting = self._trends_held = False
        self.directory = form_module.AccountDirectory(explore.account_choices(engine))
        held = currencies(engine)
        self.form = form_module.FilterForm(self.directory, explore.operators(engine), held)
        for name in self.FIELDS:
            setattr(self, name, getattr(self.form, name))
        self.notice = widgets.HTML()
        self.status = widgets.HTML()
        self.build_note = BuildNote()
        self.busy = widgets.HTML(_BUSY_HTML, layout=widgets.Layout(display="none"))
        self.totals = widgets.HTML()
        self.grid = PaymentGrid(on_sort=self.sort_by_column, on_account=self.open_account)
        self.prev_button = widgets.Button(description="Previous", icon="chevron-left", disabled=True)
        self.next_button = widgets.Button(description="Next", icon="chevron-right", disabled=True)
        self.page_label = widgets.HTML()
        self.page_size = widgets.Dropdown(description="Rows per page", options=PAGE_SIZES,
                                          value=page_size if page_size in PAGE_SIZES else 50,
                                          style={"description_width": "initial"},
                                          layout=widgets.Layout(width="170px"))
        self.sort_by = widgets.Dropdown(description="Sort by", style={"description_width": "initial"},
                                        options=[(name.replace("_", " "), name) for name in explore.SORTABLE],
                                        value="occurred_at", layout=widgets.Layout(width="210px"))
        self.sort_direction = widgets.ToggleButtons(options=[("newest/largest first", True),
                                                             ("oldest/smallest first", False)], value=True)
        self.charts = ChartsSection("/".join(held) or "no currency")
        self.trends = TrendsSection(held, on_narrow=self.narrow)
        self.statement = StatementSection(self.directory)
        self.exports = ExportSection(Path(export_dir) if export_dir is not None else DEFAULT_EXPORT_DIR)
        self.approvals = ApprovalQueue(engine, on_posted=self.query)  # an approved entry shows up at once
        self.record = RecordForm(engine, self.directory, on_submitted=self._recorded)
        self.views = ViewsSection(Path(views_dir) if views_dir else saved_views.DEFAULT_FOLDER, share_url, engine)
        self._wire()
        self.widget = self._layout()
        if view is not None:
            self._set_layout(view.layout)
        self.form.show(self.initial)
        self.query()
        if problem:  # what the link or the notebook asked for wrongly (views.opening): said until the next query
            self.notice.value = markup.message(
                "error", "The filter or view asked for could not be opened, so the panel opened on its usual filter:",
                [problem])

    @classmethod
    def open(cls, *, db_url: str = "", parameters: Mapping[str, object] | None = None, view: str = "",
             views_dir: str = "", export_dir: str = "exports", remember: bool = True,
             environ: Mapping[str, str] = os.environ) -> PaymentExplorer | Unopened:
        """The notebook's entry: the panel over the ledger of ``db_url`` (else VOSBENCH_DB, else the demo),
        opening on the filter ``parameters`` give (the notebook's, as papermill passes them) or the view that
        ``view`` or the page's link (Voilà's ``environ``) names. A ledger that cannot be opened gives
        :class:`Unopened`, which says why in the page; parameters given wrongly are refused
        (:class:`~vosbench.analysis.filters.FilterError`), as the CLI refuses them."""
        from vosbench.sources import demo

        def open_() -> PaymentExplorer:
            engine = demo.open_or_build(db_url or None).engine
            opening = views.opening(engine, parameters or {}, view, environ.get("QUERY_STRING", ""), views_dir or None)
            return cls(engine, initial=opening.filter, view=opening.view, problem=opening.problem,
                       export_dir=Path(export_dir), views_dir=Path(views_dir) if views_dir else None,
                       memory_dir=memory.default_folder() if remember else None, share_url=views.page_url(environ))

        return opened(open_, "payment explorer")

    # --- layout and wiring --------------------------------------------------------------------

    def _layout(self) -> widgets.VBox:
        def heading(text: str) -> widgets.HTML:
            return widgets.HTML(f"<h3 style='margin: 14px 0 4px 0;'>{text}</h3>")

        paging = widgets.HBox([self.prev_button, self.page_label, self.next_button, self.page_size,
                               self.sort_by, self.sort_direction],
                              layout=widgets.Layout(flex_flow="row wrap", align_items="center"))
        return widgets.VBox([
            widgets.HTML("<h2 style='margin: 4px 0;'>Payment explorer</h2>"),
            self.form.layout,
            widgets.HBox([self.form.query_button, self.form.reset_button, self.busy],
                         layout=widgets.Layout(align_items="center")),
            self.notice, self.status, self.build_note.layout,
            heading("Results"), self.totals, paging, self.grid.layout,
            heading("Charts"), self.charts.layout,
            heading("Trends"), self.trends.layout,
            heading("Saved views"), self.views.layout,
            heading("Account statement"), self.statement.layout,
            heading("Export the whole result"), self.exports.layout,
            heading("Record a payment"), self.record.layout,
            heading("Pending approvals"), self.approvals.layout,
        ], layout=widgets.Layout(padding="0 8px"))

    def _recorded(self) -> None:
        """A recorded entry shows in the results at once; a queued one in the approvals queue."""
        self.approvals.refresh()
        self.query()

    def _wire(self) -> None:
        self.form.query_button.on_click(lambda _: self.query())
        self.form.reset_button.on_click(lambda _: self.reset())
        self.prev_button.on_click(lambda _: self.turn_by(-1))
        self.next_button.on_click(lambda _: self.turn_by(+1))
        for control in (self.page_size, self.sort_by, self.sort_direction):
            control.observe(lambda _: self._resorted(), names="value")
        for control in (self.trends.grain, self.trends.by, self.trends.currency):
            control.observe(lambda _: self.redraw_trends(), names="value")
        self.statement.show_button.on_click(lambda _: self.show_statement())
        self.exports.xlsx_button.on_click(lambda _: self.export(".xlsx"))
        self.exports.csv_button.on_click(lambda _: self.export(".csv"))
        self.views.save_button.on_click(lambda _: self.save_view())
        self.views.open_button.on_click(lambda _: self.open_view())
        self.views.share_button.on_click(lambda _: self.share_view())
        for field in (self.form.account, self.form.min_amount, self.form.max_amount, self.form.text):
            field.on_msg(self._enter_pressed)  # Enter in a text box runs the query

    def _enter_pressed(self, _widget, content, _buffers) -> None:
        if isinstance(content, dict) and content.get("event") == "submit":
            self.query()

    # --- actions (each one guarded: a problem becomes a message) -------------------------------

    def query(self) -> bool:
        """Run the form's filter: page 1, count, per-kind totals, charts. False when it could not."""
        return self._guarded(self._query, "The filter cannot be used; nothing was queried")

    def reset(self) -> bool:
        """Put the form back to the filter the panel opened with and query it."""
        self.form.show(self.initial)
        return self.query()

    def turn_to(self, page: int) -> bool:
        """Show ``page`` of the current filter with the chosen page size and order."""
        f = self.current_filter
        if f is None:
            return False
        return self._guarded(lambda: self._show_page(f, page), "The page cannot be shown")

    def turn_by(self, pages: int) -> bool:
        """Move ``pages`` forward (or back, when negative) from the page shown."""
        if self.current_page is None:
            return False
        return self.turn_to(max(1, self.current_page.page + pages))

    def sort_by_column(self, column: str, descending: bool) -> bool:
        """Show page 1 of the current filter sorted by ``column`` (what a header click asks)."""
        self._sorting = True  # both dropdowns change; one query, not two
        try:
            self.sort_by.value, self.sort_direction.value = column, descending
        finally:
            self._sorting = False
        return self.turn_to(1)

    def open_account(self, account: str) -> bool:
        """Show ``account``'s statement for the current filter's period (what a row click asks)."""
        self.statement.offer([account, *(number for _, number in self.statement.account.options)])
        self.statement.account.value = account
        return self.show_statement()

    def layout_choices(self) -> saved_views.Layout:
        """The grid's page size, order and columns and the trend's grain and split, as a view keeps them."""
        return saved_views.Layout(page_size=self.page_size.value, sort=self.sort_by.value,
                                  descending=self.sort_direction.value, columns=tuple(self.grid.columns),
                                  grain=self.trends.grain.value, by=self.trends.by.value)

    def current_view(self, name: str, description: str = "") -> SavedView:
        """The filter on screen and the layout choices as a view called ``name``."""
        if self.current_filter is None:
            raise ValueError("no query has run yet; press Query first, then save")
        return SavedView(name, self.current_filter, self.layout_choices(), description)

    def save_view(self) -> bool:
        """Save the current filter and layout under the name typed, list it and show its link."""
        def save() -> None:
            path = self.views.save(self.current_view(self.views.name.value.strip()))
            self.status.value = markup.message("info", f"Saved the view as {path}.")
        return self._guarded(save, "The view was not saved")

    def share_view(self) -> bool:
        """Save the current filter and layout in the ledger, for the team, under the name typed."""
        def share() -> None:
            version = self.views.share(self.current_view(self.views.name.value.strip()))
            self.status.value = markup.message("info", f"Shared the view {version.view.name} in the ledger "
                                                       f"(version {version.number}, by {version.saved_by}).")
        return self._guarded(share, "The view was not shared")

    def open_view(self, name: str | None = None) -> bool:
        """Apply the saved view ``name`` (default: the one chosen in the list; ``ledger:NAME`` for a
        shared one) and query it."""
        def open_() -> None:
            self.apply_view(self.views.chosen_view(name))
        return self._guarded(open_, "The view cannot be opened")

    def apply_view(self, view: SavedView) -> bool:
        """Show ``view``'s filter and layout and query it."""
        self._set_layout(view.layout)
        self.views.show_link(view)
        self.form.show(view.filter)
        return self.query()

    def _set_layout(self, layout: saved_views.Layout) -> None:
        self._sorting = True  # the page shown is replaced by the query that follows
        try:
            if layout.page_size not in self.page_size.options:
                self.page_size.options = sorted({*self.page_size.options, layout.page_size})
            self.page_size.value = layout.page_size
            self.sort_by.value, self.sort_direction.value = layout.sort, layout.descending
            if layout.columns:
                self.grid.show_columns(layout.columns)
            self._trends_held = True
            self.trends.grain.value, self.trends.by.value = layout.grain, layout.by
        finally:
            self._sorting = self._trends_held = False

    def narrow(self, f: PaymentFilter) -> bool:
        """Show ``f`` in the form and query it (what a click on a trend bar asks); Reset undoes it."""
        self.form.show(f)
        return self.query()

    def redraw_trends(self) -> bool:
        """Draw the trend of the current filter again at the chosen grain and split."""
        shown = self.current_filter
        if shown is None or self._trends_held:
            return False
        return self._guarded(lambda: self.trends.update(self.engine, shown),
                             "The trend cannot be drawn")

    def _resorted(self) -> None:
        if not self._sorting:
            self.turn_to(1)

    def show_statement(self) -> bool:
        """Show the statement of the chosen account for the current filter's period."""
        return self._guarded(self._show_statement, "The statement cannot be shown")

    def export(self, suffix: str) -> bool:
        """Write every record of the current result to a ``suffix`` (.xlsx or .csv) file and link it."""
        return self._guarded(lambda: self._export(suffix), "Nothing was exported")

    def _guarded(self, action: Callable[[], object], failure: str) -> bool:
        self.busy.layout.display = "inline-flex"
        self.form.set_busy(True)
        try:
            action()
            return True
        except ValueError as error:  # FilterError, MoneyError, PeriodError: the input's fault, with its fix
            problems = getattr(error, "problems", None) or [str(error)]
            self.status.value = markup.message("error", f"{failure}:", problems)
        except Exception as error:  # the panel's boundary: a notebook must never see a traceback from a click
            self.status.value = markup.failure(failure, error, _log)
        finally:
            self.form.set_busy(False)
            self.busy.layout.display = "none"
        return False

    def _query(self) -> None:
        f = self.form.read()
        with self.engine.connect() as connection:
            f.check(connection)
        shown = self._show_page(f, 1)
        self.current_filter = f
        self.form.show(f)  # the account box now shows the number a typed name resolved to
        self.charts.update(self.engine, f, shown.timezone)
        self.trends.update(self.engine, f)
        if self.memory_dir is not None:
            memory.remember(self.memory_dir, self.engine, SavedView("last", f, self.layout_choices()))
        self.exports.link.value = ""
        self.notice.value = ""
        self.build_note.watch(self.engine)

    def _show_page(self, f: PaymentFilter, page: int) -> Page:
        shown = explore.query_page(self.engine, f, page=page, page_size=self.page_size.value,
                                   sort=self.sort_by.value, descending=self.sort_direction.value)
        self.current_page = shown
        self.grid.show(shown)
        self.totals.value = markup.kind_totals(shown)
        self.page_label.value = f"<span style='padding: 0 8px;'>Page {shown.page} of {shown.pages}</span>"
        self.prev_button.disabled = shown.page <= 1
        self.next_button.disabled = shown.page >= shown.pages
        if shown.total_count:
            self.status.value = markup.message(
                "info", f"{shown.total_count:,} payment record{'s match' if shown.total_count != 1 else ' matches'} "
                        f"the filter (times in {shown.timezone}).")
        else:
            self.status.value = markup.message("empty", "No payment records match the filter: widen the dates "
                                                        "or clear a condition.")
        self.statement.offer([*f.accounts, *shown.rows["account"]])
        return shown

    def _statement_period(self) -> tuple[date, date]:
        f = self.current_filter
        if f is None:
            raise ValueError("no query has run yet; press Query first")
        covered = self.charts.months_shown()
        if covered is None:
            if f.start is None or f.end is None:
                raise ValueError("the filter has no records to take a period from; set the From and To dates")
            return f.start, f.end
        return f.start or covered[0], f.end or covered[1]

    def _show_statement(self) -> None:
        account = self.statement.account.value
        if not account:
            raise ValueError("no account to show; query records first, then pick one of their accounts")
        start, end = self._statement_period()
        if self.current_page is None:  # a filter is only kept once its first page was shown
            raise ValueError("no query has run yet; press Query first")
        self.statement.show(self.engine, account, start, end, self.current_page.timezone)

    def _export(self, suffix: str) -> None:
        if self.current_filter is None or self.current_page is None:
            raise ValueError("no query has run yet; press Query first")
        path = self.exports.write(self.engine, self.current_filter, suffix, sort=self.sort_by.value,
                                  descending=self.sort_direction.value)
        self.status.value = markup.message(
            "info", f"Wrote all {self.current_page.total_count:,} records of the filter to {path.name}.")
