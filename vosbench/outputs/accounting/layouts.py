"""The import layouts of QuickBooks Online, Xero and Sage, each as its publisher documents it.

A layout is a header, a date format, a way to write an amount and a row limit per file;
the functions here turn bank-feed records and journal lines into its rows. Amounts are
plain decimal text with a point and no grouping or currency sign (every package refuses
``1,234.50`` and ``$``), rounded half-to-even to cents because the packages keep two
places; the general journal (:data:`GENERAL_JOURNAL`) keeps all four. Free text that a
spreadsheet would run as a formula is written with a leading apostrophe.

Sources (named in the README too):

* QuickBooks Online bank transactions: Intuit, "Format CSV files in Excel to get bank
  transactions into QuickBooks" — the 3-column layout ``Date, Description, Amount``,
  a signed amount (negative: money out); dates MM/DD/YYYY as QuickBooks' US import reads them.
* QuickBooks Online journal entries: Intuit, "Import journal entries" — ``Journal No``,
  ``Journal Date``, ``Account Name`` (names, with account numbers turned off), ``Debits``,
  ``Credits``, ``Description``; one debit or credit per line; each journal number balances.
* Xero bank statement: Xero, "Import a CSV bank statement" / its precoded template —
  ``*Date, *Amount, Payee, Description, Reference``, DD/MM/YYYY, minus sign for money
  spent, at most 1,000 lines per file.
* Xero manual journals: Xero, "Enter multiple manual journals using an import template" —
  ``Narration, Date, Description, AccountCode, TaxRate, Amount``; lines with the same
  narration and date form one journal; positive amounts are debits, negative credits;
  at most 300 lines per file.
* Sage Accounting bank statement: Sage, "Import a bank statement" — a CSV of
  ``Date, Description, Amount`` (the 3-column form), DD/MM/YYYY, negative: money out.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

import pandas as pd

from vosbench.core import money
from vosbench.outputs.export import looks_like_formula
from vosbench.outputs.visible import visible

_CENT = Decimal("0.01")


@dataclass(frozen=True)
class Layout:
    """One import layout: its header, how one record becomes a row, how many rows one file may hold."""

    name: str
    spec: str
    header: tuple[str, ...]
    row: Callable[[Any], tuple]  # a bank-feed or journal row: a named tuple of its own fields
    max_rows: int | None = None
    lines_per_group: int = 1  # a journal entry's lines never straddle two files


def cents(minor: int) -> str:
    """``minor`` as the packages take an amount: '-1234.50' (cents, half-to-even, no grouping)."""
    return f"{money.to_decimal(minor).quantize(_CENT, rounding=ROUND_HALF_EVEN)}"


def exact(minor: int) -> str:
    """``minor`` with all four stored places: '-1234.5000'."""
    return f"{money.to_decimal(minor)}"


def text(value) -> str:
    """Free text as a cell: missing as empty, hidden characters escaped, formula-like text defused."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    value = visible(str(value).replace("\r", " ").replace("\n", " "))
    return "'" + value if looks_like_formula(value) else value


def _us(day) -> str:
    return day.strftime("%m/%d/%Y")


def _dmy(day) -> str:
    return day.strftime("%d/%m/%Y")


def _blank_zero(value: str, minor: int) -> str:
    return value if minor else ""


# --- bank feeds: rows of payment records (fields: day, amount, description, payee, reference) ----------

QUICKBOOKS_BANK = Layout(
    "quickbooks", "QuickBooks Online bank transactions CSV, 3-column (Intuit: 'Format CSV files in Excel "
    "to get bank transactions into QuickBooks')", ("Date", "Description", "Amount"),
    lambda r: (_us(r.day), text(r.description), cents(r.amount)), max_rows=1000)

XERO_BANK = Layout(
    "xero", "Xero precoded bank statement CSV (Xero: 'Import a CSV bank statement')",
    ("*Date", "*Amount", "Payee", "Description", "Reference"),
    lambda r: (_dmy(r.day), cents(r.amount), text(r.payee), text(r.description), text(r.reference)),
    max_rows=1000)

SAGE_BANK = Layout(
    "sage", "Sage Accounting bank statement CSV, 3-column (Sage: 'Import a bank statement')",
    ("Date", "Description", "Amount"), lambda r: (_dmy(r.day), text(r.description), cents(r.amount)))

BANK_LAYOUTS = {layout.name: layout for layout in (QUICKBOOKS_BANK, XERO_BANK, SAGE_BANK)}

# --- journals: rows of journal lines (columns of vosbench.outputs.accounting.journal.LINE_COLUMNS) ----

GENERAL_JOURNAL = Layout(
    "journal", "vosbench general journal CSV: ISO dates, exact amounts to four places, one currency per entry",
    ("entry", "date", "currency", "account_code", "account_name", "debit", "credit", "memo", "payment_ids"),
    lambda r: (r.entry, r.date.isoformat(), r.currency, r.account_code, text(r.account_name), exact(r.debit),
               exact(r.credit), text(r.memo), r.payment_ids))

QUICKBOOKS_JOURNAL = Layout(
    "quickbooks", "QuickBooks Online journal entries import (Intuit: 'Import journal entries')",
    ("Journal No", "Journal Date", "Account Name", "Debits", "Credits", "Description"),
    lambda r: (r.entry, _us(r.date), text(r.account_name), _blank_zero(cents(r.debit), r.debit),
               _blank_zero(cents(r.credit), r.credit), text(r.memo)), lines_per_group=2)


def _xero_journal_row(tax_rate: str):
    # Xero groups a journal's lines by narration and date: the entry number keeps each narration unique.
    return lambda r: (text(f"{r.entry} {r.memo.split(' · ')[0]}"), _dmy(r.date), text(r.memo), r.account_code, tax_rate,
                      cents(r.debit - r.credit))


def xero_journal(tax_rate: str) -> Layout:
    """Xero's manual journal layout; ``tax_rate`` is the tax rate name every line carries (e.g. 'Tax Exempt')."""
    return Layout("xero", "Xero manual journals import template (Xero: 'Enter multiple manual journals "
                  "using an import template')", ("Narration", "Date", "Description", "AccountCode", "TaxRate",
                                                 "Amount"), _xero_journal_row(tax_rate), max_rows=300,
                  lines_per_group=2)


def chunks(frame: pd.DataFrame, layout: Layout) -> Sequence[pd.DataFrame]:
    """``frame`` cut into files of at most ``layout.max_rows`` rows, never splitting a group of lines."""
    if layout.max_rows is None or len(frame) <= layout.max_rows:
        return [frame]
    step = layout.max_rows - layout.max_rows % layout.lines_per_group
    return [frame.iloc[start:start + step] for start in range(0, len(frame), step)]
