"""The explorer's results grid: one page of records in ipydatagrid, sorted and paged by the ledger.

ipydatagrid draws on a canvas with a fixed row height, so a page of 200 records stays
compact however long a reference is (it is cut with an ellipsis, resizable by dragging
the header's edge). The grid never sorts or pages by itself: it only ever holds the page
:func:`vosbench.analysis.explore.query_page` returned, and a click on a column header
asks the explorer for a new page sorted by that column (``on_sort``) — a sort of the page
alone would misorder a ten-million-record result. Its own header menu sorts too; that
request is taken over the same way and the grid's local sort undone.

Every cell is text made here: money as exact decimals (never a float) right-aligned, with
its currency's places or as many more as the amount has (5,000 yen, 12.50 dollars, 5.0001
dollars: nothing the ledger keeps is hidden or rounded), times as local time. A click on a record's row hands its account
to ``on_account`` (the explorer opens that account's statement).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import ipywidgets as widgets
import pandas as pd
from ipydatagrid import DataGrid, TextRenderer

from vosbench.analysis import explore
from vosbench.core import currencies
from vosbench.ui.panel import markup

ROW_HEIGHT = 22
HEADER_HEIGHT = 26
INDEX_WIDTH = 56
VISIBLE_ROWS = 18
"""Rows seen without scrolling inside the grid; a longer page scrolls in the grid, not the notebook."""
CAPTION_ID = "grid_caption"

WIDTHS = {"id": 70, "occurred_at": 150, "account": 90, "name": 170, "kind": 100, "amount": 120, "currency": 84,
          "balance_after": 120, "channel": 80, "method": 100, "operator": 90, "reference": 150,
          "memo": 180, "reason": 150, "reverses_id": 90, "approved_by": 100}
"""Starting widths in pixels (every column named, so a browser test can find a header's place)."""
DEFAULT_HIDDEN = ("reverses_id", "approved_by", "reason")
FIRST_DESCENDING = {"occurred_at", "id", "amount", "balance_after"}
"""Columns whose first header click shows the newest or largest first; text starts at A."""


def cell_text(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` (a page's rows) as the text each cell shows; money exact, in its row's currency's places."""
    shown = {}
    codes = frame["currency"] if "currency" in frame.columns else [""] * len(frame)  # "": two places
    for name in frame.columns:
        values = frame[name]
        if name in explore.MONEY_COLUMNS:
            shown[name] = ["" if pd.isna(v) else currencies.format_amount(int(v), code) for v, code in zip(values, codes)]
        elif name == "occurred_at":
            shown[name] = ["" if pd.isna(v) else f"{v:%Y-%m-%d %H:%M:%S}" for v in values]
        else:
            shown[name] = ["" if pd.isna(v) else str(v) for v in values]
    return pd.DataFrame(shown, columns=list(frame.columns), dtype=object)


def header_label(column: str, sort: str, descending: bool) -> str:
    """A column's header text; the sorted one carries its direction."""
    label = column.replace("_", " ")
    return f"{label} {'▼' if descending else '▲'}" if column == sort else label


class PaymentGrid:
    """The page on screen, the column chooser and the caption; display ``.layout``.

    ``on_sort(column, descending)`` is called when a header is clicked; ``on_account(account)``
    when a record's row is. ``columns`` are the columns shown, in order.
    """

    def __init__(self, on_sort: Callable[[str, bool], object], on_account: Callable[[str], object]):
        self.on_sort, self.on_account = on_sort, on_account
        self.page: explore.Page | None = None
        self.columns: list[str] = [name for name in explore.ROW_COLUMNS if name not in DEFAULT_HIDDEN]
        self.caption = widgets.HTML()
        self.chooser = widgets.SelectMultiple(
            description="Columns", options=[(name.replace("_", " "), name) for name in explore.ROW_COLUMNS],
            value=tuple(self.columns), rows=4, style={"description_width": "initial"},
            layout=widgets.Layout(width="260px"),
            tooltip="Ctrl/Shift-click to show or hide columns")
        money_cell = TextRenderer(horizontal_alignment="right", font="12px monospace")
        self.table = DataGrid(
            pd.DataFrame(), base_row_size=ROW_HEIGHT, base_column_header_size=HEADER_HEIGHT,
            base_row_header_size=INDEX_WIDTH, selection_mode="row", editable=False,
            renderers={}, default_renderer=TextRenderer(font="12px sans-serif"),
            header_renderer=TextRenderer(font="bold 12px sans-serif"),
            layout=widgets.Layout(height=f"{HEADER_HEIGHT + 4}px", width="100%"))
        self._money_cell = money_cell
        self.table.on_cell_click(self._clicked)
        self.table.observe(self._local_sort, names="_transforms")
        self.chooser.observe(lambda _: self._choose_columns(), names="value")
        self.message = widgets.HTML()
        self.layout = widgets.VBox([widgets.HBox([self.caption, self.chooser],
                                                 layout=widgets.Layout(justify_content="space-between",
                                                                       align_items="flex-start")),
                                    self.message, self.table])

    # --- showing ---------------------------------------------------------------------------

    def show(self, page: explore.Page) -> None:
        """Put ``page`` on screen (or an empty state saying what to change)."""
        self.page = page
        if page.total_count == 0:
            self.caption.value = ""
            self.message.value = markup.message(
                "empty", "No payment records match this filter. Widen the dates, clear some kinds, channels, "
                         "methods or operators, lower the amount range or shorten the text, then press Query.")
            self.table.layout.display = "none"
            return
        self.message.value = ""
        self.table.layout.display = None
        first = (page.page - 1) * page.page_size + 1
        direction = "descending ▼" if page.descending else "ascending ▲"
        self.caption.value = (f"<span id='{CAPTION_ID}' data-sort='{page.sort}' "
                              f"data-descending='{str(page.descending).lower()}' data-count='{page.total_count}'>"
                              f"Records {first:,}–{first + len(page.rows) - 1:,} of {page.total_count:,}, "
                              f"sorted by {page.sort.replace('_', ' ')} {direction}; times in {page.timezone}. "
                              "Click a header to sort by it, a row to see its account's statement.</span>")
        self._draw()

    def _draw(self) -> None:
        page = self.page
        if page is None:  # nothing queried yet: the grid stays empty
            return
        shown = cell_text(page.rows[self.columns])
        shown.columns = [header_label(name, page.sort, page.descending) for name in self.columns]
        shown.index = pd.RangeIndex((page.page - 1) * page.page_size + 1,
                                    (page.page - 1) * page.page_size + 1 + len(shown), name="#")
        self.table.renderers = {header_label(name, page.sort, page.descending): self._money_cell
                                for name in self.columns if name in explore.MONEY_COLUMNS}
        self.table.column_widths = {header_label(name, page.sort, page.descending): WIDTHS[name]
                                    for name in self.columns}
        self.table.data = shown
        rows = min(len(shown), VISIBLE_ROWS)
        self.table.layout.height = f"{HEADER_HEIGHT + rows * ROW_HEIGHT + 18}px"  # 18: the scroll bar

    def _choose_columns(self) -> None:
        chosen = [name for name in explore.ROW_COLUMNS if name in self.chooser.value]
        self.columns = chosen or ["account"]  # a grid of no columns would leave nothing to click
        if self.page is not None and self.page.total_count:
            self._draw()

    def show_columns(self, columns: Sequence[str]) -> None:
        """Show ``columns`` (unknown names ignored), in the ledger's column order."""
        self.chooser.value = tuple(name for name in explore.ROW_COLUMNS if name in columns)

    # --- clicks ----------------------------------------------------------------------------

    def header_clicked(self, column_index: int) -> None:
        """A header click: sort by that column, flipping the direction when it is sorted already."""
        if self.page is None or not 0 <= column_index < len(self.columns):
            return
        column = self.columns[column_index]
        if column not in explore.SORTABLE:
            self.caption.value += markup.message("info", f"{column.replace('_', ' ')} cannot be sorted; "
                                                         f"sort by one of: {', '.join(explore.SORTABLE)}")
            return
        descending = not self.page.descending if column == self.page.sort else column in FIRST_DESCENDING
        self.on_sort(column, descending)

    def row_clicked(self, row: int) -> None:
        """A click on the ``row``-th record of the page (0-based): open its account."""
        if self.page is not None and 0 <= row < len(self.page.rows):
            self.on_account(str(self.page.rows["account"].iloc[row]))

    def _clicked(self, cell: dict) -> None:
        if cell.get("region") == "column-header":
            self.header_clicked(int(cell["column_index"]))
        elif cell.get("region") in ("body", "row-header"):
            self.row_clicked(int(cell["primary_key_row"]))

    def _local_sort(self, change) -> None:
        """The grid's own header menu asked to sort: ask the ledger instead, and drop the local sort."""
        sorts = [t for t in change["new"] if t.get("type") == "sort"]
        if not sorts or self.page is None:
            return
        self.table._transforms = [t for t in change["new"] if t.get("type") != "sort"]
        labels = [header_label(name, self.page.sort, self.page.descending) for name in self.columns]
        if sorts[-1].get("column") in labels:
            column = self.columns[labels.index(sorts[-1]["column"])]
            if column in explore.SORTABLE:
                self.on_sort(column, sorts[-1].get("desc", False))
