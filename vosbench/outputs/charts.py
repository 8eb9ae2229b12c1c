"""Plotly figure builders: a DataFrame in, a Figure out, nothing else touched.

Money arrives as int64 minor units and is plotted as exact Decimals
(:func:`vosbench.core.money.to_decimal`); plotly serializes them itself, so no float
conversion happens in vosbench. Colours are fixed per meaning (money in is green,
money out red, charges orange) so every chart of a report reads the same way.
"""

from __future__ import annotations

from decimal import Decimal

import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
from plotly.subplots import make_subplots

from vosbench.core import money

MONEY_IN = "#2E7D32"
MONEY_OUT = "#C62828"
NET = "#1F4E79"
CHARGES = "#EF6C00"
BALANCES = "#6A1B9A"
NEUTRAL = "#607D8B"

_FONT = dict(family="Arial, Helvetica, sans-serif", size=13)


def use_notebook_renderer() -> None:
    """Embed charts as self-contained HTML so they survive nbconvert and need no network."""
    pio.renderers.default = "notebook"


def decimals(values: pd.Series) -> list[Decimal | None]:
    """Minor units as exact Decimals for plotting (missing stays missing)."""
    return [None if pd.isna(value) else money.to_decimal(int(value)) for value in values]


def _layout(figure: go.Figure, title: str, *, height: int = 480) -> go.Figure:
    figure.update_layout(
        title=dict(text=title, x=0.01, xanchor="left"), template="plotly_white", font=_FONT,
        height=height, margin=dict(l=80, r=30, t=70, b=60),
        # Beside the plot, never above it: a long legend above wraps into the title.
        legend=dict(orientation="v", yanchor="top", y=1.0, xanchor="left", x=1.02),
    )
    return figure


def _amount_axis(currency: str) -> dict:
    return dict(title_text=f"Amount ({currency})", tickformat=",", separatethousands=True,
                zeroline=True, zerolinecolor="#999")


def _hover(currency: str) -> str:
    return f"%{{x}}<br>%{{fullData.name}}: %{{y:,.2f}} {currency}<extra></extra>"


def movements_bar(frame: pd.DataFrame, dimension: str, *, title: str, currency: str) -> go.Figure:
    """Grouped bars of money in and money out per value of ``dimension`` (kind, channel, method).

    ``frame`` has columns ``dimension``, ``money_in`` and ``money_out`` (both >= 0, minor units).
    """
    labels = [str(value) for value in frame[dimension]]
    figure = go.Figure([
        go.Bar(name=name, x=labels, y=(amounts := decimals(frame[column])), marker_color=colour,
               text=_bar_labels(amounts), textposition="outside", cliponaxis=False, textfont=dict(size=11),
               hovertemplate=_hover(currency))
        for name, column, colour in (("Money in", "money_in", MONEY_IN), ("Money out", "money_out", MONEY_OUT))
    ])
    figure.update_layout(barmode="group", bargap=0.25)
    figure.update_xaxes(title_text=dimension.replace("_", " ").capitalize(), type="category")
    figure.update_yaxes(**_amount_axis(currency))
    return _layout(figure, title)


def _bar_labels(amounts: list[Decimal | None]) -> list[str]:
    """Each bar's amount to the unit (grouped), under one unit exactly, blank for none: a bar too small to see beside
    a large one (the month's bonuses beside its deposits) is still read by its label."""
    return ["" if not amount else f"{amount:,.0f}" if abs(amount) >= 1 else f"{amount.normalize():f}"
            for amount in amounts]


TREND_FLOWS = (("deposit", "Deposits", MONEY_IN), ("withdrawal", "Withdrawals", MONEY_OUT),
               ("charges", "Charges", CHARGES), ("payments", "Net payments (all kinds)", NET))


def trend_lines(frame: pd.DataFrame, *, title: str, currency: str) -> go.Figure:
    """Month-over-month flows (top) and the balances held at each month end (bottom).

    ``frame`` has one row per month with ``month`` ('YYYY-MM') and the money columns
    ``deposit``, ``withdrawal``, ``charges``, ``payments``, ``balances`` (minor units).
    """
    months = [str(month) for month in frame["month"]]
    figure = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.08,
                           row_heights=[0.62, 0.38],
                           subplot_titles=("Money moved in the month", "Balances held at month end"))
    for column, name, colour in TREND_FLOWS:
        figure.add_trace(go.Scatter(name=name, x=months, y=decimals(frame[column]), mode="lines+markers",
                                    line=dict(color=colour, width=2), hovertemplate=_hover(currency)),
                         row=1, col=1)
    figure.add_trace(go.Bar(name="Balances held", x=months, y=decimals(frame["balances"]),
                            marker_color=BALANCES, hovertemplate=_hover(currency)), row=2, col=1)
    figure.update_xaxes(type="category")
    figure.update_xaxes(title_text="Month", row=2, col=1)
    figure.update_yaxes(**_amount_axis(currency))
    return _layout(figure, title, height=660)


def classification_bar(frame: pd.DataFrame, *, title: str) -> go.Figure:
    """Accounts per reconciliation result; ``frame`` has ``classification`` and ``accounts``."""
    colours = [MONEY_IN if value == "agrees" else MONEY_OUT for value in frame["classification"]]
    figure = go.Figure(go.Bar(x=[str(v) for v in frame["classification"]], y=list(frame["accounts"]),
                              marker_color=colours, text=list(frame["accounts"]), textposition="outside",
                              hovertemplate="%{x}: %{y} accounts<extra></extra>"))
    figure.update_xaxes(title_text="Reconciliation result", type="category")
    if _wide_range(frame["accounts"]):
        figure.update_yaxes(type="log", dtick=1, title_text="Accounts (log scale)")  # ticks 1, 10, 100, …
        for result, count in zip(frame["classification"], frame["accounts"], strict=True):
            if int(count) == 0:  # a log axis draws no bar of 0: its count is written on the axis instead
                figure.add_annotation(x=str(result), y=0, yref="paper", yanchor="bottom", text="0", showarrow=False)
    else:
        figure.update_yaxes(title_text="Accounts", rangemode="tozero")
    return _layout(figure, title)


def _wide_range(counts: pd.Series) -> bool:
    """True when bars differ so much (e.g. 1990 agree, 3 differ) that a linear axis hides the small ones."""
    positive = [int(c) for c in counts if int(c) > 0]
    return len(positive) > 1 and max(positive) >= 50 * min(positive)


# --- payment explorer: figures that follow a PaymentFilter ----------------------------------

KIND_COLOURS = {"deposit": MONEY_IN, "withdrawal": MONEY_OUT, "adjustment": NEUTRAL, "bonus": "#00897B",
                "commission": BALANCES, "auto_recharge": "#0277BD"}
"""One colour per transaction kind, so a kind reads the same in every explorer chart."""

_EMPTY_TEXT = "No payment records match the filter"
_EMPTY_HINT = "widen the dates, or clear a kind, channel, method, operator, amount or text condition"


def _note_if_empty(figure: go.Figure, frame: pd.DataFrame) -> go.Figure:
    """An empty chart says so and what to change, over bare axes (no scale of nothing)."""
    if frame.empty:
        figure.add_annotation(text=f"{_EMPTY_TEXT}<br><sub>{_EMPTY_HINT}</sub>", showarrow=False, xref="paper",
                              yref="paper", x=0.5, y=0.5, font=dict(size=15, color=NEUTRAL))
        figure.update_yaxes(showticklabels=False, showgrid=False)
    return figure


def _kinds_in_order(values: pd.Series) -> list[str]:
    """The kinds present, in vocabulary order (words outside the vocabulary last, sorted)."""
    present = {str(value) for value in values}
    return [kind for kind in KIND_COLOURS if kind in present] + sorted(present - set(KIND_COLOURS))


def monthly_by_kind(frame: pd.DataFrame, *, title: str, currency: str) -> go.Figure:
    """Signed amount (top, stacked bars) and record count (bottom) per month, one colour per kind.

    ``frame`` has columns ``month`` ('YYYY-MM'), ``kind``, ``count`` and ``amount`` (minor units);
    a month a kind did not occur in shows zero for it.
    """
    months = sorted({str(month) for month in frame["month"]})
    figure = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.1, row_heights=[0.62, 0.38],
                           subplot_titles=("Amount (withdrawals below zero)", "Records"))
    for kind in _kinds_in_order(frame["kind"]):
        rows = frame[frame["kind"].astype(str) == kind].assign(month=lambda f: f["month"].astype(str))
        rows = rows.set_index("month").reindex(months)
        colour = KIND_COLOURS.get(kind, NEUTRAL)
        figure.add_trace(go.Bar(name=kind, x=months, y=decimals(rows["amount"].fillna(0)), marker_color=colour,
                                legendgroup=kind, hovertemplate=_hover(currency)), row=1, col=1)
        figure.add_trace(go.Bar(name=kind, x=months, y=[int(c) for c in rows["count"].fillna(0)],
                                marker_color=colour, legendgroup=kind, showlegend=False,
                                hovertemplate="%{x}<br>%{fullData.name}: %{y} records<extra></extra>"),
                         row=2, col=1)
    figure.update_layout(barmode="relative", bargap=0.2)
    figure.update_xaxes(type="category")
    figure.update_xaxes(title_text="Month", row=2, col=1)
    figure.update_yaxes(**_amount_axis(currency), row=1, col=1)
    figure.update_yaxes(title_text="Records", rangemode="tozero", row=2, col=1)
    return _note_if_empty(_layout(figure, title, height=560), frame)


def channel_method_bar(frame: pd.DataFrame, *, title: str, currency: str) -> go.Figure:
    """Net amount per channel, stacked by method; the hover names the record count too.

    ``frame`` has columns ``channel``, ``method``, ``count`` and ``amount`` (minor units).
    """
    channels = sorted({str(channel) for channel in frame["channel"]})
    figure = go.Figure()
    for method in sorted({str(method) for method in frame["method"]}):
        rows = frame[frame["method"].astype(str) == method].assign(channel=lambda f: f["channel"].astype(str))
        rows = rows.set_index("channel").reindex(channels)
        figure.add_trace(go.Bar(name=method, x=channels, y=decimals(rows["amount"].fillna(0)),
                                customdata=[int(c) for c in rows["count"].fillna(0)],
                                hovertemplate=f"%{{x}} · %{{fullData.name}}: %{{y:,.2f}} {currency}"
                                              "<br>%{customdata} records<extra></extra>"))
    figure.update_layout(barmode="relative", bargap=0.3, showlegend=True)  # name the method even when alone
    figure.update_xaxes(title_text="Channel", type="category")
    figure.update_yaxes(**_amount_axis(currency))
    return _note_if_empty(_layout(figure, title, height=420), frame)


def top_accounts_bar(frame: pd.DataFrame, *, title: str, currency: str) -> go.Figure:
    """Horizontal bars of the accounts with the largest amounts, largest on top.

    ``frame`` has columns ``account``, ``name``, ``count`` and ``amount`` (minor units), largest first.
    """
    labels = [f"{account} · {name if len(name) <= 28 else name[:27] + '…'}"
              for account, name in zip(frame["account"], frame["name"].fillna(""))]
    figure = go.Figure(go.Bar(x=decimals(frame["amount"])[::-1], y=labels[::-1], orientation="h",
                              marker_color=NET, customdata=[int(c) for c in frame["count"]][::-1],
                              hovertemplate=f"%{{y}}: %{{x:,.2f}} {currency}"
                                            "<br>%{customdata} records<extra></extra>"))
    figure.update_xaxes(**_amount_axis(currency))
    figure.update_yaxes(type="category", automargin=True)
    _layout(figure, title, height=420)
    figure.update_layout(margin=dict(l=20))
    return _note_if_empty(figure, frame)


def trend_comparison(shown, *, title: str, currency: str) -> go.Figure:
    """A :class:`~vosbench.analysis.trends.Trend`: stacked bars per group, the two comparisons as lines.

    Each bar is one grain of one group (a click on it can narrow a filter to both); the
    lines are the totals of the period before and of the same period a year earlier, at
    the same place, their own grains named in the hover.
    """
    labels = [bucket.label for bucket in shown.buckets]
    groups = shown.groups
    figure = go.Figure()
    names = list(dict.fromkeys(str(name) for name in groups["group"]))
    for name in (_kinds_in_order(groups["group"]) if shown.by == "kind" else names):
        rows = groups[groups["group"] == name].set_index("position").reindex(range(len(labels)))
        figure.add_trace(go.Bar(name=name, x=labels, y=decimals(rows["amount"].fillna(0)),
                                marker_color=KIND_COLOURS.get(name) if shown.by == "kind" else None,
                                customdata=[int(c) for c in rows["count"].fillna(0)],
                                hovertemplate=f"%{{x}} · %{{fullData.name}}: %{{y:,.2f}} {currency}"
                                              "<br>%{customdata} records<extra></extra>"))
    totals = shown.totals
    for column, name, run, dash in (("previous_amount", "Previous period", shown.previous, "dot"),
                                    ("last_year_amount", "Same period last year", shown.last_year, "dash")):
        figure.add_trace(go.Scatter(name=name, x=labels, y=decimals(totals[column]), mode="lines+markers",
                                    line=dict(color=NEUTRAL if dash == "dot" else BALANCES, dash=dash, width=2),
                                    customdata=[bucket.label for bucket in run],
                                    hovertemplate=f"%{{customdata}} ({name.lower()}): %{{y:,.2f}} {currency}"
                                                  "<extra></extra>"))
    figure.update_layout(barmode="relative", bargap=0.2)
    figure.update_xaxes(title_text=f"{shown.grain.capitalize()} ({shown.timezone})", type="category")
    figure.update_yaxes(**_amount_axis(currency))
    return _note_if_empty(_layout(figure, title, height=460), groups)


SEVERITY_COLOURS = {"high": "#c0392b", "medium": "#e67e22", "low": "#95a5a6"}


def findings_by_operator(frame: pd.DataFrame, *, title: str) -> go.Figure:
    """Stacked bars: control findings per operator, by severity (``operator`` + one column per severity)."""
    figure = go.Figure([go.Bar(name=severity, x=frame["operator"], y=frame[severity],
                               marker_color=SEVERITY_COLOURS[severity]) for severity in SEVERITY_COLOURS
                        if severity in frame])
    figure.update_layout(barmode="stack", yaxis_title="Findings", xaxis_title="Operator")
    severities = [severity for severity in SEVERITY_COLOURS if severity in frame]
    tallest = int(frame[severities].sum(axis=1).max()) if len(frame) and severities else 0
    # Whole findings: never a 0.5 tick; one tick per finding while there are few.
    figure.update_yaxes(tickformat=",d", dtick=1 if tallest <= 10 else None, rangemode="tozero")
    return _note_if_empty(_layout(figure, title), frame)


# --- one figure per currency, stacked: amounts of two currencies never share an axis ----------

def by_currency(figures: dict[str, go.Figure], *, title: str) -> go.Figure:
    """The figures of each currency stacked as rows of one figure, each row on its own axis.

    One currency: its figure, untouched. Several: every subplot row of every figure becomes
    a row titled with its currency, so no axis ever holds two currencies; a series is in
    the legend once, and clicking it hides it in every currency.
    """
    if len(figures) == 1:
        return next(iter(figures.values()))
    rows, titles, heights = [], [], []
    for currency, figure in figures.items():
        axes = sorted({trace.yaxis or "y" for trace in figure.data}, key=_axis_number) or ["y"]
        subtitles = [annotation.text for annotation in figure.layout.annotations or ()]
        for position, axis in enumerate(axes):
            rows.append((currency, figure, axis))
            subtitle = subtitles[position] if position < len(subtitles) and len(axes) > 1 else ""
            titles.append(f"{currency}" + (f" · {subtitle}" if subtitle else ""))
            heights.append(figure.layout.height or 480)
    stacked = make_subplots(rows=len(rows), cols=1, subplot_titles=titles, vertical_spacing=0.4 / len(rows),
                            row_heights=[height / sum(heights) for height in heights])
    shown: set[str] = set()
    for row, (_currency, figure, axis) in enumerate(rows, start=1):
        for trace in figure.data:
            if (trace.yaxis or "y") != axis:
                continue
            copy = go.Figure(trace).data[0]
            copy.legendgroup = copy.legendgroup or copy.name
            copy.showlegend = bool(copy.name and trace.showlegend is not False and copy.name not in shown)
            shown.add(copy.name)
            stacked.add_trace(copy, row=row, col=1)
        for kind, update in (("yaxis", stacked.update_yaxes), ("xaxis", stacked.update_xaxes)):
            update(**_axis_style(figure.layout[kind + axis[1:]]), row=row, col=1)
    first = next(iter(figures.values()))
    stacked.update_layout(barmode=first.layout.barmode, bargap=first.layout.bargap)
    _layout(stacked, title, height=int(sum(heights) * 0.85))
    stacked.update_layout(margin=dict(t=110), legend=dict(y=1.0 + 60 / sum(heights)))
    return stacked


def _axis_style(axis) -> dict:
    """An axis's own look (title, type, format), without its place in the source figure's grid."""
    style = axis.to_plotly_json()
    for placement in ("domain", "anchor", "matches", "overlaying", "position", "side", "showticklabels"):
        style.pop(placement, None)
    return style


def _axis_number(axis: str) -> int:
    return int(axis[1:] or 1)


# --- finance summary ---------------------------------------------------------------------------

def deposits_and_charges(frame: pd.DataFrame, *, title: str, currency: str) -> go.Figure:
    """Per month: money deposited (all deposits and auto-recharges) beside the charges earned (revenue).

    ``frame`` has ``month``, ``deposit``, ``auto_recharge`` and ``charges`` (minor units), oldest first.
    """
    months = [str(month) for month in frame["month"]]
    deposited = frame["deposit"] + frame["auto_recharge"]
    figure = go.Figure([
        go.Bar(name="Deposits (incl. auto-recharge)", x=months, y=decimals(deposited), marker_color=MONEY_IN,
               hovertemplate=_hover(currency)),
        go.Bar(name="Charges (revenue)", x=months, y=decimals(frame["charges"]), marker_color=CHARGES,
               hovertemplate=_hover(currency)),
    ])
    figure.update_layout(barmode="group", bargap=0.25)
    figure.update_xaxes(title_text="Month", type="category")
    figure.update_yaxes(**_amount_axis(currency))
    return _layout(figure, title, height=420)


def balances_held(frame: pd.DataFrame, *, title: str, currency: str) -> go.Figure:
    """Balances held for account holders at each month end (bars) and the month's net change (line)."""
    months = [str(month) for month in frame["month"]]
    figure = go.Figure([
        go.Bar(name="Balances held at month end", x=months, y=decimals(frame["balances"]), marker_color=BALANCES,
               hovertemplate=_hover(currency)),
        go.Scatter(name="Net change in the month", x=months, y=decimals(frame["net_change"]), mode="lines+markers",
                   line=dict(color=NET, width=2), hovertemplate=_hover(currency)),
    ])
    figure.update_xaxes(title_text="Month", type="category")
    figure.update_yaxes(**_amount_axis(currency))
    return _layout(figure, title, height=420)
