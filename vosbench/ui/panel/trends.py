"""The explorer's trend view: a grain, a split, a currency, the chart with its comparisons, the month's movers.

Two currencies never add up: a ledger whose accounts hold several shows a currency choice and
draws the trend of the chosen one.

The chart is a plotly ``FigureWidget`` so that a click on a bar reaches Python: the
section turns it into a narrower filter (:func:`vosbench.analysis.trends.narrowed`) and
hands it to ``on_narrow`` — the explorer shows it in the form and queries it, so the grid,
totals and other charts follow and Reset goes back.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import ipywidgets as widgets
import plotly.graph_objects as go
from sqlalchemy.engine import Engine

from vosbench.analysis import trends
from vosbench.analysis.filters import PaymentFilter
from vosbench.outputs import charts
from vosbench.ui.panel import markup

MOVERS_SHOWN = 10
_SPLITS = (("kind", "kind"), ("channel", "channel"), ("method", "method"), ("operator", "operator"),
           ("top subtrees (reseller or top account)", "subtree"))


def clickable(figure: go.Figure) -> go.FigureWidget:
    """``figure`` as a FigureWidget, money sent as exact decimal text.

    A widget's state travels as JSON, which has no Decimal; told to (``autotypenumbers``),
    plotly.js reads numeric text as numbers, so the amounts stay exact up to the browser.
    """
    for trace in figure.data:
        for name in ("x", "y"):
            values = getattr(trace, name)
            if values is not None:
                setattr(trace, name, [str(value) if isinstance(value, Decimal) else value for value in values])
    figure.update_layout(autotypenumbers="convert types")
    return go.FigureWidget(figure)


class TrendsSection:
    """Grain, split and currency controls, the trend chart and the movers table; display ``.layout``.

    ``currencies``: those the ledger's accounts hold (:func:`vosbench.ledger.handle.currencies`);
    the choice is shown only when there are several.
    """

    def __init__(self, currencies: list[str], on_narrow: Callable[[PaymentFilter], object]):
        self.on_narrow = on_narrow
        self.currency = widgets.ToggleButtons(options=currencies or [""], description="Currency",
                                              style={"button_width": "60px"},
                                              layout=widgets.Layout(display=None if len(currencies) > 1 else "none"))
        self.grain = widgets.ToggleButtons(options=trends.GRAINS, value="month", description="Grain",
                                           style={"button_width": "80px"})
        self.by = widgets.Dropdown(options=_SPLITS, value="kind", description="Split by",
                                   layout=widgets.Layout(width="330px"))
        self.chart = widgets.Box(layout=widgets.Layout(width="100%"))
        self.movers = widgets.HTML()
        self.figure: go.FigureWidget | None = None
        self.shown: trends.Trend | None = None
        self.filter: PaymentFilter | None = None
        self.layout = widgets.VBox([
            widgets.HBox([self.grain, self.by, self.currency], layout=widgets.Layout(flex_flow="row wrap", align_items="center")),
            widgets.HTML("<span style='color: #555;'>Click a bar to narrow the results to that period and "
                         "group; Reset goes back.</span>"),
            self.chart, self.movers])

    def update(self, engine: Engine, f: PaymentFilter) -> None:
        """Query the trend and the movers of ``f`` at the chosen grain and split, and redraw them."""
        shown = trends.trend(engine, f, grain=self.grain.value, by=self.by.value, currency=self.currency.value or None)
        self.shown, self.filter = shown, f
        split = dict((value, label) for label, value in _SPLITS)[self.by.value]
        title = f"Amount by {self.grain.value} and {split}, beside the period before and a year before"
        figure = clickable(charts.trend_comparison(shown, currency=shown.currency or "no currency", title=title))
        for trace in figure.data:
            if trace.type == "bar":
                trace.on_click(self._clicked)
        self.figure = figure
        self.chart.children = (figure,)
        if shown.buckets:
            # the filter's last month, not the last grain's: a week can run into the next month
            last = min(shown.buckets[-1].last_day, f.end) if f.end else shown.buckets[-1].last_day
            month = f"{last:%Y-%m}"
            self.movers.value = markup.movers_html(
                trends.movers(engine, month, MOVERS_SHOWN, f, currency=self.currency.value or None), month)
        else:
            self.movers.value = ""

    def _clicked(self, trace, points, _state) -> None:
        if not points.point_inds or self.shown is None or self.filter is None:
            return
        self.on_narrow(trends.narrowed(self.filter, self.shown, points.point_inds[0], trace.name))
