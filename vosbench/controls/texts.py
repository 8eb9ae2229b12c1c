"""Free text as the checks compare it: as a person reads it, not as its bytes are.

A reference with a zero-width space inside (``INV``, U+200B, ``-20``), in another letter case or in
full-width or look-alike letters reads as the one it copies, so a check matching references by
their bytes is steered around by one invisible character. Every check that compares references
or memos compares them through :func:`as_read` (the fold account numbers are held to,
:func:`vosbench.ledger.account_numbers.folded`).
"""

from __future__ import annotations

import pandas as pd

from vosbench.ledger.account_numbers import folded


def as_read(texts: pd.Series) -> pd.Series:
    """``texts`` folded as a reader takes them, surrounding spaces dropped; plain ASCII (nearly all) is only
    lower-cased, which is its whole fold, so a month of references costs no per-row Python."""
    ascii_only = texts.str.isascii()
    read = texts.str.lower()
    if not ascii_only.all():
        read[~ascii_only] = texts[~ascii_only].map(folded)
    return read.str.strip()
