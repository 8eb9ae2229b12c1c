"""HTML the explorer shows: the per-kind totals, a statement, messages (the grid is :mod:`.grid`).

Tables go through :func:`vosbench.outputs.export.styled`, so money reads the same as in the
audit notebook (exact decimals formatted at the edge, text escaped). Each table keeps
a fixed element id (``T_<name>``) that a browser test can wait on.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Sequence

import pandas as pd

from vosbench.analysis import account_statement, explore
from vosbench.core import money
from vosbench.ledger import database
from vosbench.outputs.export import Table, styled

TOTALS_ID, STATEMENT_ID = "kind_totals", "statement"
STATEMENT_SHOWN_LINES = 1000
"""Longest statement shown in the panel; the period can be narrowed with the dates."""

_DISCREPANCY_STYLE = "background-color: #FDECEA; color: #B71C1C; font-weight: bold;"
_BOX = ("padding: 6px 10px; border-radius: 4px; margin: 4px 0; border-left: 4px solid {colour}; "
        "background: {background};")
_TONES = {"error": ("#C62828", "#FDECEA"), "info": ("#1F4E79", "#EAF1F8"), "empty": ("#EF6C00", "#FFF4E5")}


def message(tone: str, text: str, details: Sequence[str] = ()) -> str:
    """A boxed message (``error``, ``info`` or ``empty``), each detail on its own line."""
    colour, background = _TONES[tone]
    items = "".join(f"<li>{html.escape(detail)}</li>" for detail in details)
    listed = f"<ul style='margin: 4px 0 0 0;'>{items}</ul>" if items else ""
    return (f"<div class='vosbench-{tone}' style='{_BOX.format(colour=colour, background=background)}'>"
            f"{html.escape(text)}{listed}</div>")


PAGE_URL = "the ledger URL (db_url, else VOSBENCH_DB)"
"""Where a notebook page's reader gave the ledger: what a database's error tells them to check."""


def failure(text: str, error: Exception, log: logging.Logger) -> str:
    """The message of an action that failed unexpectedly (the panel's boundary: a click never raises into the
    notebook): a database's error said as every command says it, anything else — a defect — by its type and
    words, with its traceback to ``log`` (call it while handling ``error``)."""
    said = database.explained(error, PAGE_URL)
    if said is None:
        log.exception("%s", text)
        said = f"{type(error).__name__}: {error}"
    return message("error", f"{text}: {said}")


def _scrolling(inner: str, max_height: str = "none") -> str:
    return f"<div style='overflow: auto; max-height: {max_height};'>{inner}</div>"


def kind_totals(page: explore.Page) -> str:
    """Count and amount per kind and currency for the whole filter, with a total per currency."""
    if page.total_count == 0:
        return ""
    totals = explore.totals_per_currency(page.totals_by_kind)
    return styled(Table(TOTALS_ID, "Totals by kind", page.totals_by_kind, ("amount",), totals)).to_html()


def _flag_discrepancies(row: pd.Series) -> list[str]:
    wrong = not pd.isna(row["discrepancy"]) and int(row["discrepancy"]) != 0
    return [_DISCREPANCY_STYLE if wrong else ""] * len(row)


def statement_html(shown: account_statement.Statement, label: str) -> str:
    """Opening, every movement with the running balance, closing; disagreeing reports in red."""
    fmt = money.format_money
    period = f"{shown.period_start} to {shown.period_end} ({shown.timezone})"
    head = (f"<h4 style='margin: 6px 0;'>Statement of {html.escape(label)}, {period}</h4>"
            f"<p style='margin: 2px 0;'>Opening balance <b>{fmt(shown.opening)}</b> · "
            f"{len(shown.lines):,} movements · closing balance <b>{fmt(shown.closing)}</b>"
            + ("" if shown.reported_opening is None else
               f" · reported at the start: {fmt(shown.reported_opening)}") + "</p>")
    if len(shown.discrepancies):
        first = shown.discrepancies.iloc[0]
        note = message("error", f"{len(shown.discrepancies)} records whose reported balance_after disagrees "
                                f"with the running balance, first at {first['at']} (payment "
                                f"{int(first['payment_id'])}, off by {fmt(int(first['discrepancy']))}); "
                                "they are highlighted below.")
    else:
        note = message("info", "Every reported balance_after agrees with the running balance.")
    lines = shown.lines.drop(columns="instant")  # `at` is the time the holder reads
    caption = "Movements in time order (a day's charges are deducted as the day ends)"
    if len(lines) > STATEMENT_SHOWN_LINES:
        caption += f": the first {STATEMENT_SHOWN_LINES:,} of {len(lines):,}; narrow the dates to see the rest"
        lines = lines.head(STATEMENT_SHOWN_LINES)
    if lines.empty:
        return head + note + message("empty", "No payments and no charges in this period.")
    table = styled(Table(STATEMENT_ID, caption, lines, account_statement.MONEY_COLUMNS)).apply(_flag_discrepancies, axis=1)
    return head + note + _scrolling(table.to_html(), "520px")


MOVERS_ID = "movers"


def movers_html(found: pd.DataFrame, month: str) -> str:
    """The month's movers (:func:`vosbench.analysis.trends.movers`), or a note that nothing changed."""
    if found.empty:
        return message("empty", f"No account's deposits or charges changed between {month} and the month "
                                "before; pick a period whose last month has records.")
    money_columns = tuple(name for name in found.columns if name not in ("account", "name", "currency"))
    return styled(Table(MOVERS_ID, f"Movers of {month}: deposits or charges changed most from the month before",
                        found, money_columns)).to_html()
