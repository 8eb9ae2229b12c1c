"""The monthly audit's statement-matching section: computed only when the month has statements.

:class:`vosbench.outputs.audit.MonthlyAudit` calls :func:`compute` once; its notebook shows
:func:`view` ("Statement matching": items per result, "Statement findings": everything
that did not simply match) and its workbook gets one *Statement matching* sheet with
every item, from :func:`tables`. A month without statement lines has neither sheet nor
numbers, and the notebook says so.
"""

from __future__ import annotations

from sqlalchemy.engine import Engine

from vosbench.analysis.matching import review
from vosbench.core import money
from vosbench.outputs.export import Table

SHEET = "Statement matching"
VIEWS = ("Statement matching", "Statement findings")
SHOWN_ROWS = 200
_SUMMARY_MONEY = ("statement_amount", "recorded_amount")
_FINDING_COLUMNS = ["status", "rule", "score", "line_ids", "posted_on", "statement_amount", "counterparty",
                    "payment_ids", "accounts", "occurred_on", "recorded_amount", "difference", "explanation",
                    "decision"]


def compute(engine: Engine, month: str, timezone: str) -> review.MatchRun | None:
    """The month's matching run, or None when no statement line is posted in the month."""
    if not review.has_statements(engine, month, timezone=timezone):
        return None
    return review.run_month(engine, month, timezone=timezone)


def tables(run: review.MatchRun | None, label: str) -> list[Table]:
    """The workbook's sheet: every item of the run (none without statements)."""
    if run is None:
        return []
    return [Table(SHEET, f"Statement lines and payment records paired, {label} (channels "
                         f"{', '.join(run.channels)}; window {run.settings.window_days} days)" + _warned(run),
                  run.items(), review.MONEY_COLUMNS)]


def _warned(run: review.MatchRun) -> str:
    """The import warnings as one sentence (the files were read, but not as their format asks), and the decision
    rows left out of matching because they cannot be read."""
    said = ""
    if run.import_warnings:
        said += "; statement files read with warnings: " + "; ".join(f"{file}: {warning}"
                                                                    for file, warning in run.import_warnings)
    if run.unreadable:
        said += "; " + "; ".join(row.words() for row in run.unreadable)
    return said


def view(run: review.MatchRun | None, name: str, label: str):
    """The notebook's view ``name`` (one of :data:`VIEWS`) as a formatted table."""
    from IPython.display import Markdown

    from vosbench.outputs import export

    if run is None:
        return Markdown(f"**{name}:** no statement lines are posted in {label}; import statements with "
                        "`vosbench statements import` to reconcile deposits with the money that arrived.")
    if name == "Statement matching":
        summary = run.summary()
        totals = {column: money.exact_sum(summary[column]) for column in _SUMMARY_MONEY}
        table = export.styled(Table(name, f"Statement lines and payment records by result, {label}: the "
                                          f"workbook's {SHEET} sheet lists every item", summary, _SUMMARY_MONEY,
                                    totals))
        if not run.import_warnings:
            return table
        from html import escape

        from IPython.display import HTML

        warned = "".join(f"<li>{escape(file)}: {escape(warning)}</li>" for file, warning in run.import_warnings)
        return HTML(table.to_html() + f"<p><b>Statement files read with warnings</b> (kept with their import):</p>"
                                      f"<ul class=\"import-warnings\">{warned}</ul>")
    findings = run.items()
    findings = findings[findings["status"] != "matched"][_FINDING_COLUMNS].reset_index(drop=True)
    if findings.empty:
        return Markdown(f"**{name}:** none; every statement line and payment record of {label} matched.")
    title = f"What did not simply match, {label}"
    if len(findings) > SHOWN_ROWS:
        title += f": the first {SHOWN_ROWS} of {len(findings)}"
        findings = findings.head(SHOWN_ROWS)
    return export.styled(Table(name, title, findings, review.MONEY_COLUMNS))

