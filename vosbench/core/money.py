"""Exact money: the only way an amount enters or leaves vosbench.

Amounts are kept as integer *minor units* at a fixed scale of four decimal places
(1 unit = 0.0001), because VoIP rates are quoted to four or more places and a
binary float cannot hold 0.1 exactly. Integers sum exactly in SQL (BIGINT), in
pandas (int64) and in Python, so every total is exact by construction.

Values that arrive as binary doubles (VOS3000 stores money as ``double``) are
converted once, at the edge, by :func:`from_double`: the double's shortest
round-trip decimal text is taken and rounded half-to-even to the scale.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from decimal import ROUND_HALF_EVEN, Decimal

from vosbench.core.errors import VosbenchError

SCALE = 4
"""Decimal places kept for every amount."""

UNIT = 10**SCALE
"""Minor units per currency unit."""

_QUANTUM = Decimal(1).scaleb(-SCALE)

_DECIMAL_TEXT = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
"""Amounts as text: ASCII digits with an optional sign and point. Exponents (``1e3``), ``NaN``,
``Infinity``, blanks and ``_`` are refused: a typo such as ``1e3`` for ``1.3`` must not be a thousand."""

# Largest magnitude a signed 64-bit minor-unit column holds: ~922 billion units.
MAX_MINOR = 2**63 - 1


class MoneyError(VosbenchError, ValueError):
    """An amount that cannot be taken exactly; the message names the value and the fix."""


def to_minor(value: str | Decimal | int, *, field: str = "amount") -> int:
    """Return ``value`` as integer minor units.

    Accepts decimal text (``"12.50"``, ``"-0.0001"``, ``"+3"``, ``".25"``: see :data:`_DECIMAL_TEXT`),
    :class:`~decimal.Decimal` or an ``int`` of whole currency units. Refuses floats, more than
    four decimal places and any other text (exponents, ``NaN``, blanks, separators), naming
    ``field`` in the error.
    """
    if isinstance(value, bool) or isinstance(value, float):
        raise MoneyError(
            f"{field}: {value!r} is a binary float; money must be given as decimal text "
            f"such as '12.50' (quote it in YAML and CSV tools)"
        )
    if isinstance(value, str):
        minor = _plain_decimal(value)
        if minor is not None:
            return minor
    if isinstance(value, int):
        minor = value * UNIT
    else:
        if isinstance(value, str):
            if not value.strip():
                raise MoneyError(f"{field}: empty; give a decimal amount such as '12.50'")
            if not _DECIMAL_TEXT.fullmatch(value):
                raise MoneyError(
                    f"{field}: {value!r} is not a number written as decimal text; give digits with an "
                    f"optional sign and point, such as '12.50' (no exponent, blanks or separators)"
                )
            number = Decimal(value)
        elif isinstance(value, Decimal):
            number = value
        else:
            raise MoneyError(f"{field}: {value!r} ({type(value).__name__}) is not an amount")
        if not number.is_finite():
            raise MoneyError(f"{field}: {value!r} is not a finite amount")
        scaled = number.scaleb(SCALE)
        if scaled != scaled.to_integral_value():
            raise MoneyError(
                f"{field}: {value!r} has more than {SCALE} decimal places; round it at the source"
            )
        minor = int(scaled)
    if abs(minor) > MAX_MINOR:
        raise MoneyError(f"{field}: {value!r} is too large for the ledger")
    return minor


def column_to_minor(texts: Sequence[str], *, field: str = "amount") -> list[int]:
    """:func:`to_minor` of every text of a column, at a fraction of the cost when all are spelt alike.

    A bulk import's amounts usually all carry exactly four places (``-12.5000``): then the
    minor units are the digits without the point, which ``int`` reads in one call. Any
    other spelling anywhere in the column sends the whole column through :func:`to_minor`,
    which also words the errors.
    """
    joined = "".join(texts)
    # int() would also read blanks, "_", non-ASCII digits and a sign after the point, which to_minor refuses
    if (joined.isascii() and "_" not in joined and joined.split() == [joined] and ".-" not in joined
            and ".+" not in joined and not any(text[-5:-4] != "." for text in texts)):
        try:
            minor = [int(text.replace(".", "", 1)) for text in texts]
        except ValueError:
            pass
        else:
            if not minor or max(max(minor), -min(minor)) <= MAX_MINOR:
                return minor
    return [to_minor(text, field=field) for text in texts]


def _plain_decimal(text: str) -> int | None:
    """Minor units of the common spelling ``[-]digits[.up to four digits]`` by integer arithmetic, else None.

    The same value :class:`~decimal.Decimal` gives, at a fifth of its cost: an import reads
    millions of amounts. Anything else (exponents, underscores, blanks, too many places or
    digits) is left to the general path, which also words the errors.
    """
    negative = text[:1] == "-"
    whole, _, places = (text[1:] if negative else text).partition(".")
    if not (whole.isdigit() and whole.isascii() and len(whole) <= 14 and len(places) <= SCALE
            and (not places or (places.isdigit() and places.isascii()))):
        return None
    minor = int(whole) * UNIT + (int(places) * 10 ** (SCALE - len(places)) if places else 0)
    return -minor if negative else minor


def from_double(value: float, *, field: str = "amount") -> int:
    """Convert a binary double from a source system (VOS3000) to minor units.

    The rule: take Python's shortest round-trip text of the double (``repr``), then
    round half-to-even to four places. ``0.1`` becomes 1000 minor units, never
    0.1000000000000000055…
    """
    if not math.isfinite(value):
        raise MoneyError(f"{field}: {value!r} is not a finite amount")
    too_large = MoneyError(f"{field}: {value!r} is too large for the ledger")
    if abs(value) > MAX_MINOR / UNIT * 2:  # roughly, before Decimal's quantize, which raises on 1e300
        raise too_large
    minor = int(Decimal(repr(value)).quantize(_QUANTUM, rounding=ROUND_HALF_EVEN).scaleb(SCALE))
    if abs(minor) > MAX_MINOR:
        raise too_large
    return minor


def to_decimal(minor: int) -> Decimal:
    """Return minor units as an exact :class:`~decimal.Decimal` with four places."""
    return Decimal(int(minor)).scaleb(-SCALE).quantize(_QUANTUM)


def exact_texts(minor, missing=None):
    """A column of minor units (int64 array) as the exact decimal text of each amount, like ``str(to_decimal(m))``.

    Done on the whole array at once — for files of every account, where a Decimal per
    cell was most of the cost: each distinct amount's digits are worked out with integer
    arithmetic into a row of characters, right-aligned, and the rows are read as text.
    ``missing`` (a boolean array) marks cells left empty. Python integers (an object array: a
    sum of absurd amounts may pass int64) are taken too, those past int64 written one at a time.
    """
    import numpy as np  # here: commands that never write a table never load numpy

    if np.asarray(minor).dtype.kind in "Ou":  # Python integers past int64 (numpy reads 10**19 as uint64)
        whole_numbers = [0 if value is None else int(value) for value in np.asarray(minor, dtype=object).tolist()]
        past = np.array([abs(value) > MAX_MINOR for value in whole_numbers], dtype=bool)
        texts = exact_texts(np.where(past, 0, np.array(whole_numbers, dtype=object)).astype(np.int64))
        texts[past] = [str(to_decimal(value)) for value, out in zip(whole_numbers, past.tolist()) if out]
        if missing is not None:
            texts[np.asarray(missing, dtype=bool)] = None
        return texts
    minor = np.asarray(minor, dtype=np.int64)
    if minor.size == 0:
        return np.empty(0, dtype=object)
    distinct, where = np.unique(minor, return_inverse=True)  # columns of mostly zeros: a few texts to make
    whole, fraction = np.divmod(np.abs(distinct), UNIT)
    places = len(str(int(whole.max())))  # digits of the largest whole part
    width = 1 + places + 1 + SCALE  # sign, whole part, point, fraction
    chars = np.full((distinct.size, width), ord(" "), dtype=np.uint32)  # one character per cell, read as str
    for place in range(SCALE):
        chars[:, width - 1 - place] = ord("0") + fraction // 10**place % 10
    chars[:, width - 1 - SCALE] = ord(".")
    digits = np.ones(distinct.size, dtype=np.int64)  # of the whole part: the units always
    for place in range(places):
        shown = whole >= 10**place if place else np.ones(distinct.size, dtype=bool)
        chars[:, width - 2 - SCALE - place] = np.where(shown, ord("0") + whole // 10**place % 10, ord(" "))
        digits += shown if place else 0
    negative = np.nonzero(distinct < 0)[0]
    chars[negative, width - 2 - SCALE - digits[negative]] = ord("-")
    texts = np.strings.lstrip(chars.view(f"U{width}").ravel()).astype(object)[where.ravel()]
    if missing is not None:
        texts[np.asarray(missing, dtype=bool)] = None
    return texts


def exact_sum(minor) -> int:
    """The exact sum of a column of minor units (a pandas Series, numpy array or list; missing cells left out).

    Never numpy's or pandas' own sum: amounts the ledger holds may sum past int64, where those wrap
    around without a word (two adjustments of 500 trillion make a negative total). An int64 array
    is added as its high and low 32-bit halves apart — each half's sum fits int64 for fewer than
    2**31 values — joined as Python integers: exact, and fifty times quicker than a Python integer
    per cell for a column of every account. Anything else is added as Python integers.
    """
    if hasattr(minor, "dropna"):  # a pandas Series: its missing cells count as nothing
        minor = minor.dropna()
    if getattr(minor, "dtype", None) is not None and minor.dtype.kind == "i" and len(minor) < 2**31:
        import numpy as np

        high, low = np.divmod(np.asarray(minor, dtype=np.int64), 2**32)  # low in [0, 2**32), high within ±2**31
        return int(high.sum()) * 2**32 + int(low.sum())
    return sum(map(int, minor.tolist() if hasattr(minor, "tolist") else minor))


def format_money(minor: int, places: int | None = None, *, grouping: bool = True, fewest: int = 2) -> str:
    """Format minor units for display: exactly, with ``fewest`` places (two; a currency's own:
    :func:`vosbench.core.currencies.format_amount`) or as many more as the amount has (9,999.9999 never
    shows as the 10,000.00 it is just under); with ``places``, rounded half-to-even to them.
    """
    if places is None:
        places = next(shown for shown in range(fewest, SCALE + 1) if int(minor) % 10 ** (SCALE - shown) == 0)
    if 0 < places <= SCALE:  # integer arithmetic, the same half-to-even rounding: reports format thousands
        step = 10 ** (SCALE - places)
        kept, rest = divmod(abs(int(minor)), step)
        if rest * 2 > step or (rest * 2 == step and kept % 2):
            kept += 1
        whole, part = divmod(kept, 10**places)
        sign = "-" if minor < 0 else ""  # as Decimal writes it: -0.00 for a small negative
        return f"{sign}{whole:,}.{part:0{places}d}" if grouping else f"{sign}{whole}.{part:0{places}d}"
    amount = to_decimal(minor).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN)
    return f"{amount:,}" if grouping else f"{amount}"


def whole_series(values, index=None, *, nullable: bool = False):
    """Whole numbers (minor units; None or NA where missing when ``nullable``) as an exact pandas Series.

    int64 (nullable Int64), or Python integers (dtype object) when one passes int64: a sum of
    absurd amounts, which an int64 column would wrap around without a word (or pandas refuse).
    """
    import pandas as pd  # here: commands that never make a frame never load pandas

    values = list(values)
    if max((abs(int(value)) for value in values if not pd.isna(value)), default=0) <= MAX_MINOR:
        return pd.Series(pd.array(values, dtype="Int64" if nullable else "int64"), index=index)
    return pd.Series([None if pd.isna(value) else int(value) for value in values], index=index, dtype=object)
