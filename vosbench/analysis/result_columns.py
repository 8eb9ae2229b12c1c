"""Query results as numpy columns: whole numbers exact in int64, times as datetime64.

The analyses that compute over whole columns (reconciliation, the balance chain) take the
driver's values through here, so money stays exact without pandas: Python ints go into the
arrays as they are, and a PostgreSQL SUM of BIGINT (a whole Decimal) is taken as the integer
it is (:func:`vosbench.ledger.queries.whole_number`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import numpy as np

from vosbench.ledger import queries


def whole(values: Sequence) -> tuple[np.ndarray, np.ndarray]:
    """A result column of whole numbers as (int64 values with 0 where missing, where missing).

    A column holding a sum past int64 (the servers' exact SUM of absurd amounts) comes back as
    Python integers (dtype object) instead: never wrapped around, never refused.
    """
    kinds = set(map(type, values))
    if kinds <= {int}:  # the usual column: no NULL, no Decimal
        try:
            return np.array(values, dtype=np.int64).reshape(len(values)), np.zeros(len(values), dtype=bool)
        except OverflowError:
            pass
    objects = np.empty(len(values), dtype=object)
    objects[:] = values if kinds <= {int, type(None)} else [None if value is None else queries.whole_number(value)
                                                            for value in values]
    missing = objects == None  # noqa: E711 (elementwise, in numpy)
    exact = np.where(missing, 0, objects)
    try:
        return exact.astype(np.int64), missing  # Python ints: no rounding possible
    except OverflowError:
        return exact, missing


def instants(values: Sequence[datetime | None]) -> np.ndarray:
    """Naive UTC datetimes (None where missing) as datetime64[us] (NaT where missing)."""
    return np.array([np.datetime64("NaT") if value is None else value for value in values], dtype="datetime64[us]")
