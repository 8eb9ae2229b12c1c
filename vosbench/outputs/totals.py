"""Totals rows of a table, labelled alike wherever a table is shown: printed, in CSV or xlsx, in HTML.

Totals are one row (column → minor units) or, keyed by currency, one row per currency:
amounts of two currencies are never added.
"""

from __future__ import annotations

from collections.abc import Mapping


def per_currency(totals) -> bool:
    """True for totals keyed by currency (one row each), False for a single row."""
    return bool(totals) and all(isinstance(row, Mapping) for row in totals.values())


def labelled(totals) -> list[tuple[str, Mapping[str, int]]]:
    """Labelled totals rows: ``[("Total", row)]``, or one ``("Total <currency>", row)`` per currency."""
    if not totals:
        return []
    if per_currency(totals):
        return [(f"Total {currency}", row) for currency, row in totals.items()]
    return [("Total", totals)]
