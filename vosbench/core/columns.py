"""Rows of a named tuple held as columns: how bulk data crosses the sync's process boundary
and the write door.

A sync moves millions of records; building a tuple per record (and pickling it from the
reader process to the writer) costs more than checking and writing the record. Columns
(one sequence per field) are built, sent and consumed column by column, and turned into
rows only where a row-by-row path needs them (explaining a rejected batch).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar, Self


class Columns:
    """One sequence per field of :attr:`row_type`, in field order; ``len`` is the number of rows.

    A subclass names the row type. Each field reads as an attribute (``columns.amount``).
    """

    __slots__ = ("columns",)
    # a typing.NamedTuple class (_fields, _make); typing has no name for "any NamedTuple class"
    row_type: ClassVar[Any]
    _index: ClassVar[dict[str, int]]

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls._index = {name: index for index, name in enumerate(cls.row_type._fields)}

    def __init__(self, columns: Sequence[Sequence]):
        fields = self.row_type._fields
        if len(columns) != len(fields):
            raise ValueError(f"{type(self).__name__} need {len(fields)} columns ({', '.join(fields)}), "
                             f"not {len(columns)}")
        self.columns = tuple(columns)

    @classmethod
    def of(cls, rows: Sequence) -> Self:
        return cls(tuple(zip(*rows)) if rows else [()] * len(cls.row_type._fields))

    def __len__(self) -> int:
        return len(self.columns[0])

    def __getattr__(self, name: str) -> Sequence:
        try:
            return self.columns[type(self)._index[name]]
        except KeyError:
            raise AttributeError(name) from None

    def rows(self) -> list:
        return list(map(self.row_type._make, zip(*self.columns)))
