"""The explore panel's questions answered from the payment columns (:mod:`vosbench.analysis.payment_columns`).

A filter becomes a :class:`Scope` (its period as UTC microseconds, the account ids it covers,
the words it names; :mod:`vosbench.analysis.explore` makes it with the same SQL that picks the
accounts), then a :class:`Selection` of record positions: the period is a slice of the columns
(sorted by time), each further condition a boolean test over that slice while most records pass,
then over the positions still chosen once few are (gathering a few values costs less than
testing all). The answers are those of the SQL path, row for row: counts by
:func:`numpy.bincount`, money summed exactly in int64 by :func:`numpy.add.at` (never through
floats) and only when no sum can pass 2**63 (:func:`Selection.summable`; else the caller asks
SQL, which sums past 64 bits exactly).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial

import numpy as np

from vosbench.analysis.payment_columns import PaymentColumns

_INT64_LIMIT = 2**63
_DENSE = 8
"""While more than one record in this many passes, the next test runs over the whole slice."""


@dataclass(frozen=True)
class Scope:
    """A filter as the columns test it. ``start``/``end``: UTC microseconds (start inclusive, end exclusive);
    ``accounts``/``held``: the account ids of the accounts (and subtrees) and of the currencies named, None
    for no such filter; ``low``/``high``: the |amount| range; ``memos``: the codes of the memos holding the
    filter's text (no reference holds it), None for no text."""

    start: int | None
    end: int | None
    accounts: np.ndarray | None
    held: np.ndarray | None
    kinds: tuple[str, ...]
    channels: tuple[str, ...]
    methods: tuple[str, ...]
    operators: tuple[str, ...]
    low: int | None
    high: int | None
    memos: tuple[int, ...] | None = None


@dataclass(frozen=True)
class Selection:
    """The chosen records: positions ``low..high`` of the columns when ``positions`` is None, else those positions
    (ascending, so in time order). (Positions, not a mask: gathering the chosen values of three columns at 10M
    took half the time of compressing each by a mask of every second record.)"""

    columns: PaymentColumns
    low: int
    high: int
    positions: np.ndarray | None

    def __len__(self) -> int:
        return self.high - self.low if self.positions is None else len(self.positions)

    def take(self, field: str) -> np.ndarray:
        """``field``'s values of the chosen records, in time order."""
        values = getattr(self.columns, field)
        return values[self.low:self.high] if self.positions is None else values[self.positions]

    def summable(self) -> bool:
        """Whether every sum of the chosen amounts fits int64 (count × largest |amount| below 2**63)."""
        return len(self) * max(1, self.columns.largest) < _INT64_LIMIT


def _member(values: np.ndarray, codes: Sequence[int]) -> np.ndarray:
    """``values`` in ``codes`` as a boolean array (one code: a comparison; more: a look-up table)."""
    if len(codes) == 1:
        return values == codes[0]
    table = np.zeros(max(codes, default=0) + 2, dtype=bool)
    table[list(codes)] = True
    return np.take(table, values, mode="clip")  # codes past the table land on its last entry, False


def _among(values: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """``values`` (account ids) among ``ids``."""
    if len(ids) == 0:
        return np.zeros(len(values), dtype=bool)
    table = np.zeros(int(ids.max()) + 2, dtype=bool)
    table[ids] = True
    return np.take(table, values, mode="clip")


def select(columns: PaymentColumns, scope: Scope) -> Selection:
    """The records of ``scope``: the period's slice, narrowed test by test."""
    low = 0 if scope.start is None else int(np.searchsorted(columns.at, scope.start, side="left"))
    high = len(columns) if scope.end is None else int(np.searchsorted(columns.at, scope.end, side="left"))
    high = max(low, high)
    # one-byte codes first (a comparison of 10M of them: 3 ms; a look-up of 10M accounts: 40), so that the
    # costlier tests more often run over the few positions left
    tests: list[tuple[str, Callable[[np.ndarray], np.ndarray]]] = [
        (field, partial(_member, codes=columns.codes(field, words)))
        for field, words in (("channel", scope.channels), ("method", scope.methods), ("kind", scope.kinds)) if words]
    if scope.operators:
        tests.append(("operator", partial(_member, codes=columns.codes("operator", scope.operators))))
    if scope.accounts is not None:
        tests.append(("account", partial(_among, ids=scope.accounts)))
    if scope.low or scope.high is not None:
        tests.append(("amount", partial(_in_range, low=scope.low, high=scope.high)))
    if scope.held is not None:
        tests.append(("account", partial(_among, ids=scope.held)))
    if scope.memos is not None:
        tests.append(("memo", partial(_member, codes=scope.memos)))
    mask: np.ndarray | None = None
    positions: np.ndarray | None = None
    for field, test in tests:
        if positions is None:
            passed = test(getattr(columns, field)[low:high])
            mask = passed if mask is None else mask & passed
            if np.count_nonzero(mask) * _DENSE < len(mask):
                positions = low + np.flatnonzero(mask)
        elif len(positions):
            positions = positions[test(getattr(columns, field)[positions])]
    if positions is None and mask is not None:
        positions = low + np.flatnonzero(mask)
    return Selection(columns, low, high, positions)


def _in_range(amounts: np.ndarray, low: int | None, high: int | None) -> np.ndarray:
    """``low <= |amount| <= high`` (either bound open)."""
    magnitude = np.abs(amounts)
    passed = magnitude >= low if low else np.ones(len(amounts), dtype=bool)
    return passed & (magnitude <= high) if high is not None else passed


def _grouped(groups: np.ndarray, amounts: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Count and exact int64 sum of ``amounts`` per group code ``0..size-1``."""
    counts = np.bincount(groups, minlength=size)
    sums = np.zeros(size, dtype=np.int64)
    np.add.at(sums, groups, amounts.astype(np.int64, copy=False))
    return counts, sums


def totals(selection: Selection, currency_of: np.ndarray, currencies: Sequence[str]) -> list[tuple]:
    """(kind, currency, count, amount) per kind and currency of the chosen records; ``currency_of[account id]`` is
    the code in ``currencies`` of each account's currency, -1 for an account the login does not see (its records
    are left out, as SQL's join leaves them)."""
    kinds = selection.columns.vocabulary["kind"]
    kind = selection.take("kind").astype(np.intp)
    amounts = selection.take("amount")
    if len(currencies) == 1:
        counts, sums = _grouped(kind, amounts, len(kinds))
        return [(kinds[group], currencies[0], int(counts[group]), int(sums[group]))
                for group in np.flatnonzero(counts).tolist()]
    # per kind and account first (no look-up of each record's currency), then each account's sums to its currency
    accounts = selection.take("account").astype(np.intp)
    width = int(accounts.max()) + 1 if len(accounts) else 1
    counts, sums = _grouped(kind * width + accounts, amounts, len(kinds) * width)
    present = np.flatnonzero(counts)
    currency = np.take(currency_of, present % width, mode="clip").astype(np.intp)
    seen = currency >= 0  # an account the login does not see: left out, as SQL's join leaves it
    groups = (present // width * len(currencies) + currency)[seen]
    size = len(kinds) * len(currencies)
    accounts_in, records = _grouped(groups, counts[present][seen], size)
    _, money = _grouped(groups, sums[present][seen], size)
    return [(kinds[group // len(currencies)], currencies[group % len(currencies)], int(records[group]), int(money[group]))
            for group in np.flatnonzero(accounts_in).tolist()]


def by_month_and_kind(selection: Selection, starts: Sequence[int], labels: Sequence[str]) -> list[tuple]:
    """(month, kind, count, amount) of the chosen records, ordered; a record's month is the last of ``starts`` (UTC
    microseconds, ascending) at or before it, the first month for any record before them all (as SQL's CASE)."""
    times = selection.take("at")
    cuts = np.searchsorted(times, np.asarray(starts[1:], dtype=np.int64), side="left")
    month = np.repeat(np.arange(len(starts), dtype=np.intp), np.diff(np.concatenate([[0], cuts, [len(times)]])))
    kinds = selection.columns.vocabulary["kind"]
    counts, sums = _grouped(month * len(kinds) + selection.take("kind").astype(np.intp), selection.take("amount"),
                            len(starts) * len(kinds))
    rows = [(labels[group // len(kinds)], kinds[group % len(kinds)], int(counts[group]), int(sums[group]))
            for group in np.flatnonzero(counts).tolist()]
    return sorted(rows, key=lambda row: (row[0], row[1]))


def by_channel_and_method(selection: Selection) -> list[tuple]:
    """(channel, method, count, amount) of the chosen records, ordered by channel then method."""
    channels, methods = selection.columns.vocabulary["channel"], selection.columns.vocabulary["method"]
    groups = selection.take("channel").astype(np.intp) * len(methods) + selection.take("method").astype(np.intp)
    counts, sums = _grouped(groups, selection.take("amount"), len(channels) * len(methods))
    rows = [(channels[group // len(methods)], methods[group % len(methods)], int(counts[group]), int(sums[group]))
            for group in np.flatnonzero(counts).tolist()]
    return sorted(rows, key=lambda row: (row[0], row[1]))


def top_candidates(selection: Selection, n: int) -> list[tuple[int, int, int, int]]:
    """(account id, count, amount, moved) of every account whose money moved (sum of |amount|) reaches the
    ``n``-th largest: the top ``n`` and any tied with the last of them (the caller orders ties by account number)."""
    accounts = selection.take("account").astype(np.intp)
    if not len(accounts):
        return []
    amounts = selection.take("amount").astype(np.int64, copy=False)
    size = int(accounts.max()) + 1
    counts = np.bincount(accounts, minlength=size)
    sums = np.zeros(size, dtype=np.int64)
    moved = np.zeros(size, dtype=np.int64)
    np.add.at(sums, accounts, amounts)
    np.add.at(moved, accounts, np.abs(amounts))
    present = np.flatnonzero(counts)
    reach = moved[present]
    floor = np.partition(reach, len(reach) - n)[len(reach) - n] if len(reach) > n else reach.min()
    return [(int(account), int(counts[account]), int(sums[account]), int(moved[account]))
            for account in present[reach >= floor]]


def page_positions(selection: Selection, sort: str, descending: bool, offset: int, size: int) -> np.ndarray:
    """Positions of the records ``offset..offset+size`` in ``sort`` order ("occurred_at" or "amount"), ties by id
    in the same direction (as SQL's ORDER BY ``sort``, id)."""
    count = len(selection)
    if sort == "occurred_at":  # the columns lie in (time, id) order
        first, last = (count - offset - size, count - offset) if descending else (offset, offset + size)
        first, last = max(0, first), max(0, min(count, last))
        positions = selection.positions
        page = (np.arange(selection.low + first, selection.low + last) if positions is None else positions[first:last])
        return page[::-1] if descending else page
    sign = -1 if descending else 1
    key = selection.take("amount").astype(np.int64) * sign
    reach = offset + size
    within = _smallest(key, reach) if reach < count else np.arange(count)  # indexes into the chosen records
    positions = selection.positions
    candidates = within + selection.low if positions is None else positions[within]
    order = np.lexsort((selection.columns.id[candidates] * sign, key[within]))
    return candidates[order][offset:reach]


_SAMPLE = 65_536


def _smallest(key: np.ndarray, reach: int) -> np.ndarray:
    """Indexes of every key at or below the ``reach``-th smallest (ties included), ascending.

    A sample of the keys guesses a bound that a few times ``reach`` keys fall under; when at least ``reach``
    do, the ``reach``-th smallest is among them and only they are partitioned (a partition of 10M keys took
    100 ms, a comparison with the bound 10); else all keys are.
    """
    if len(key) > 16 * max(reach, _SAMPLE // 16):
        sample = key[::len(key) // _SAMPLE]
        rank = min(len(sample) - 1, 8 * reach * len(sample) // len(key) + 8)
        under = np.flatnonzero(key <= np.partition(sample, rank)[rank])
        if len(under) >= reach:
            kept = key[under]
            return under[kept <= np.partition(kept, reach - 1)[reach - 1]]
    return np.flatnonzero(key <= np.partition(key, reach - 1)[reach - 1])
