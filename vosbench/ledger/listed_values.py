"""Lists of values bound in one ``IN`` condition: the keys and account ids a bulk append looks up.

SQLAlchemy expands an IN list parameter value by value on every execution; on SQLite a list is
bound instead as one JSON array that ``json_each`` reads (:func:`listed`), when that gives every
value back exactly (:func:`list_form`). The write door's look-ups and the month totals' reads
of stored months use it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence

import sqlalchemy as sa

CHUNK = {"sqlite": 5_000}
"""Values of an IN list bound per statement (:func:`chunks`): SQLite takes them as one JSON array, so a chunk
costs one parameter whatever its size; the servers' expanded lists keep to :data:`SERVER_CHUNK`."""

SERVER_CHUNK = 500

JSON_LIST, EXPANDED_LIST = "json", "expanded"
"""The two ways :func:`listed` binds a list (:func:`list_form` says which a list takes)."""

_INT64 = range(-2**63, 2**63)


def list_form(values: Sequence, dialect: str) -> str:
    """How :func:`listed` binds ``values`` on ``dialect``: :data:`JSON_LIST` on SQLite when its ``json_each``
    gives back every value exactly, else :data:`EXPANDED_LIST`, a parameter per value.

    ``json_each`` ends a text at a NUL ('nul\\x00inside' comes back as 'nul': another key, or none) and gives an
    integer past 64 bits back as a real, so a list holding either is bound value by value, compared as the
    driver binds it (text byte for byte). Anything but text or integers is bound so too. Checked per list with
    the C loops of ``join``, ``min`` and ``max``: a bulk append's lists hold a million keys a file.
    """
    if dialect != "sqlite":
        return EXPANDED_LIST
    kinds = set(map(type, values))
    if kinds <= {str}:
        exact = "\x00" not in "".join(values)
    elif kinds <= {int}:
        exact = min(values) in _INT64 and max(values) in _INT64  # not empty: an empty list is all text
    else:
        exact = False
    return JSON_LIST if exact else EXPANDED_LIST


def listed(column: sa.ColumnElement, name: str, form: str) -> sa.ColumnElement[bool]:
    """``column IN`` the values bound as ``name`` (:func:`bound_list`) in ``form`` (:func:`list_form`): one
    JSON array read by SQLite's ``json_each``, or an expanding parameter.

    A bulk append looks up a million keys or account ids a file: SQLAlchemy expands an IN list
    value by value on every execution (at 1M payments 2M values, about a second), and a JSON
    array is one value bound like any other, compiled once.
    """
    if form == JSON_LIST:
        return column.in_(sa.select(sa.column("value")).select_from(sa.func.json_each(sa.bindparam(name, type_=sa.Text))))
    return column.in_(sa.bindparam(name, expanding=True))


def bound_list(values: Sequence, form: str):
    """``values`` as :func:`listed` binds them in ``form``.

    The JSON keeps characters as they are (``ensure_ascii=False``): a lone surrogate, which no stored text
    can hold, stays in the text for the driver to refuse as it refuses it in an expanded list, not written
    as an escape that SQLite would pair with the next into another character.
    """
    return json.dumps(list(values), ensure_ascii=False) if form == JSON_LIST else list(values)


def chunks(values: Sequence, dialect: str) -> Iterator[tuple[str, object]]:
    """``values`` cut into the chunks one statement binds on ``dialect`` (:data:`CHUNK`): each chunk's form
    (:func:`list_form`, for :func:`listed`) and its bound value (:func:`bound_list`)."""
    size = CHUNK.get(dialect, SERVER_CHUNK)
    for start in range(0, len(values), size):
        part = values[start:start + size]
        form = list_form(part, dialect)
        yield form, bound_list(part, form)
