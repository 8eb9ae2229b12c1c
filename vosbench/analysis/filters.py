"""The payment filter: one frozen, validated object shared by the panel, the CLI and papermill.

:class:`PaymentFilter` holds every filter of VOS3000's payment-record query — start and
end day, account, transaction kind, amount range, operator — plus channel, method,
reference/memo text and "include sub-accounts". The panel builds it from its widgets,
``vosbench query`` from its options and a notebook from its parameters
(:meth:`PaymentFilter.from_parameters`), so the same words mean the same rows everywhere;
:mod:`vosbench.analysis.explore` turns it into SQL with every value bound.

Building a filter checks what can be checked without a ledger (days, kinds, amounts,
time zone); :meth:`PaymentFilter.check` checks the accounts and operators against one.
Every problem is reported at once, each naming the field and the fix.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields, replace
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa

from vosbench.core import money, periods
from vosbench.core.errors import VosbenchError
from vosbench.core.model import Channel, Kind, Method
from vosbench.ledger import payment_rollup, tables

MAX_TEXT = 1_000
"""The longest "reference or memo contains" text: longer patterns pass SQLite's LIKE limit, and no one types them."""


class FilterError(VosbenchError, ValueError):
    """A filter that cannot be used; ``problems`` lists every reason, each with its fix."""

    def __init__(self, problems: Iterable[str]):
        self.problems = list(problems)
        super().__init__("; ".join(self.problems))


_YES = {"1", "true", "yes", "y", "on"}
_NO = {"0", "false", "no", "n", "off", ""}


def account_label(account: str, name: str, kind: str) -> str:
    """How an account is shown to a person: number first, since names are not unique."""
    return f"{account} — {name} ({kind})"


@dataclass(frozen=True)
class PaymentFilter:
    """Which payment records to show. Empty fields do not filter.

    ``start``/``end`` are local days (inclusive) in ``timezone`` ("" = the ledger's).
    ``accounts`` are account numbers — the unique key; names are not unique.
    ``min_amount``/``max_amount`` are minor units compared with the amount's absolute
    value, so "from 100" finds deposits and withdrawals of 100 or more alike.
    ``text`` is a case-insensitive substring of the reference or the memo.
    ``currencies`` keeps the records of the accounts held in them (amounts of two currencies
    never add up; each total is per currency either way).
    """

    start: date | None = None
    end: date | None = None
    timezone: str = ""
    accounts: tuple[str, ...] = ()
    include_sub_accounts: bool = False
    kinds: tuple[Kind, ...] = ()
    min_amount: int | None = None
    max_amount: int | None = None
    operators: tuple[str, ...] = ()
    channels: tuple[Channel, ...] = ()
    methods: tuple[Method, ...] = ()
    currencies: tuple[str, ...] = ()
    text: str = ""

    def __post_init__(self) -> None:
        problems: list[str] = []
        bad: set[str] = set()  # fields too broken to compare with another
        set_ = object.__setattr__  # frozen: normalise once, here
        for name in ("start", "end"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, datetime) or not isinstance(value, date)):
                problems.append(f"{name}: {value!r} is not a day; give a date such as 2026-10-01")
                bad.add(name)
        set_(self, "timezone", (self.timezone or "").strip())
        if self.timezone:
            try:
                periods.zone(self.timezone)
            except periods.PeriodError as error:
                problems.append(f"timezone: {error}")
        set_(self, "accounts", _unique(self.accounts))
        set_(self, "operators", _unique(self.operators))
        set_(self, "currencies", tuple(dict.fromkeys(code.upper() for code in _unique(self.currencies))))
        for name, vocabulary in (("kinds", Kind), ("channels", Channel), ("methods", Method)):
            words = []
            for word in _unique(getattr(self, name)):
                try:
                    words.append(vocabulary.parse(word, field=name))
                except ValueError as error:
                    problems.append(str(error))
            set_(self, name, tuple(dict.fromkeys(words)))
        for name in ("min_amount", "max_amount"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
                problems.append(f"{name}: {value!r} is not minor units; use money.to_minor('12.50') "
                                "or from_parameters, which takes decimal text")
                bad.add(name)
            elif value is not None and value < 0:
                problems.append(f"{name}: {money.format_money(value, 4)} is negative; amounts are "
                                "compared by absolute value, so give a positive bound")
        if not isinstance(self.include_sub_accounts, bool):
            problems.append(f"include_sub_accounts: {self.include_sub_accounts!r} is not true or false")
        set_(self, "text", str(self.text or "").strip())
        if "\x00" in self.text:  # SQL's LIKE ends a pattern at a NUL: '\x00abc' would match every record
            problems.append("text: holds a NUL character, which a search cannot match; remove it")
        if len(self.text) > MAX_TEXT:
            problems.append(f"text: {len(self.text):,} characters; a search text holds at most {MAX_TEXT:,}, "
                            "so search for a distinctive part of it")
        if self.start and self.end and not bad & {"start", "end"} and self.start > self.end:
            problems.append(f"start {self.start} is after end {self.end}; swap them or move one")
        if (self.min_amount is not None and self.max_amount is not None
                and not bad & {"min_amount", "max_amount"} and self.min_amount > self.max_amount):
            problems.append(f"min_amount {money.format_money(self.min_amount, 4)} is above max_amount "
                            f"{money.format_money(self.max_amount, 4)}; swap them or widen the range")
        if problems:
            raise FilterError(problems)

    @property
    def is_empty(self) -> bool:
        """True when no field narrows the records (a time zone alone selects every record)."""
        return replace(self, timezone="") == PaymentFilter()

    # --- parameters (papermill, CLI) ---------------------------------------------------------

    @classmethod
    def from_parameters(cls, values: Mapping[str, object]) -> PaymentFilter:
        """A filter from parameter values as papermill, YAML or the CLI give them.

        Days are dates or 'YYYY-MM-DD'; lists are lists or comma-separated text; money is
        decimal text ('12.50', never a float; None for no bound, a blank is refused:
        :func:`amount_bound`); flags are booleans or yes/no words. Missing keys keep their
        defaults; an unknown key is an error.
        """
        problems: list[str] = []
        known = [field.name for field in fields(cls)]
        for key in values:
            if key not in known:
                close = _close(str(key), known, n=1)
                hint = f"did you mean {close[0]!r}? " if close else ""
                problems.append(f"{key!r} is not a filter; {hint}use: {', '.join(known)}")
        given: dict[str, Any] = {}  # each parser returns its own field's type
        for key in known:
            if key not in values:
                continue
            try:
                given[key] = _PARSERS[key](values[key], key)
            except (ValueError, TypeError) as error:
                problems.append(str(error))
        try:
            built = cls(**given)  # the values that parsed, so their own problems are reported too
        except FilterError as error:
            problems.extend(error.problems)
        if problems:
            raise FilterError(problems)
        return built

    def to_parameters(self) -> dict[str, object]:
        """Every field as a plain parameter value; ``from_parameters`` gives this filter back."""
        return {
            "start": self.start.isoformat() if self.start else None,
            "end": self.end.isoformat() if self.end else None,
            "timezone": self.timezone,
            "accounts": list(self.accounts),
            "include_sub_accounts": self.include_sub_accounts,
            "kinds": [kind.value for kind in self.kinds],
            "min_amount": _money_text(self.min_amount),
            "max_amount": _money_text(self.max_amount),
            "operators": list(self.operators),
            "channels": [channel.value for channel in self.channels],
            "methods": [method.value for method in self.methods],
            "currencies": list(self.currencies),
            "text": self.text,
        }

    def describe(self) -> list[tuple[str, str]]:
        """(label, value) rows saying what this filter selects, for a Filter sheet or header."""
        def listed(items) -> str:
            return ", ".join(str(item) for item in items) or "all"

        def amount(value) -> str:
            return "none" if value is None else money.format_money(value, 4)

        return [
            ("From (local day)", self.start.isoformat() if self.start else "the beginning"),
            ("To (local day, inclusive)", self.end.isoformat() if self.end else "the end"),
            ("Time zone", self.timezone or "the ledger's"),
            ("Accounts", listed(self.accounts)),
            ("Include sub-accounts", "yes" if self.include_sub_accounts else "no"),
            ("Kinds", listed(self.kinds)),
            ("Amount at least (absolute)", amount(self.min_amount)),
            ("Amount at most (absolute)", amount(self.max_amount)),
            ("Operators", listed(self.operators)),
            ("Channels", listed(self.channels)),
            ("Methods", listed(self.methods)),
            ("Currencies", listed(self.currencies)),
            ("Reference or memo contains", self.text or "(anything)"),
        ]

    # --- against a ledger -------------------------------------------------------------------

    def check(self, connection: sa.Connection) -> None:
        """Raise :class:`FilterError` for accounts, operators or currencies the ledger does not know.

        Each unknown value gets the close matches the ledger does have; a name given for
        an account says which account numbers carry it.
        """
        problems = account_problems(connection, self.accounts)
        if self.currencies:
            held = set(connection.scalars(sa.select(tables.current_accounts.c.currency).distinct()))
            problems += [f"currency {code!r}: no account holds it; the ledger's accounts hold {', '.join(sorted(held))}"
                         for code in self.currencies if code not in held]
        if self.operators:
            known = payment_rollup.operators(connection)
            for operator in (operator for operator in self.operators if operator not in known):
                close = _close(operator, known)
                hint = f"did you mean {', '.join(close)}?" if close else f"known operators: {', '.join(known[:20])}"
                problems.append(f"operator {operator!r} has recorded no payment in this ledger; {hint}")
        if problems:
            raise FilterError(problems)


def account_problems(connection: sa.Connection, wanted: Iterable[str]) -> list[str]:
    """One message per account number in ``wanted`` that the ledger lacks, with close matches."""
    wanted = list(wanted)
    if not wanted:
        return []
    table = tables.current_accounts
    found = set(connection.scalars(sa.select(table.c.account).where(table.c.account.in_(wanted))))
    unknown = [account for account in wanted if account not in found]
    if not unknown:
        return []
    directory = connection.execute(sa.select(table.c.account, table.c.name, table.c.kind)).all()
    by_name: dict[str, list[str]] = {}
    for row in directory:
        by_name.setdefault(row.name.casefold(), []).append(account_label(row.account, row.name, row.kind))
    by_number = {row.account.casefold(): account_label(row.account, row.name, row.kind) for row in directory}
    problems = []
    for account in unknown:
        named = by_name.get(account.casefold())
        if named:
            problems.append(f"account {account!r} is a name, not an account number; it is the name of "
                            f"{'; '.join(named)}: give the account number (names are not unique)")
            continue
        # numbers are short codes: one wrong character of two ('A2' for 'A1') is still a near miss
        close = [by_number[n] for n in _close(account, list(by_number), cutoff=0.5)]
        close += [label for n in _close(account, list(by_name)) for label in by_name[n] if label not in close]
        hint = f"did you mean {'; '.join(close[:6])}?" if close else "give an account number as the ledger lists it"
        problems.append(f"account {account!r} is not in the ledger; {hint}")
    return problems


def _close(word: str, candidates: list[str], n: int = 5, cutoff: float = 0.6) -> list[str]:
    """Up to ``n`` candidates close to ``word`` ignoring case, closest first, ties in sorted order."""
    matcher = difflib.SequenceMatcher()
    matcher.set_seq2(word.casefold())
    scored = []
    for candidate in candidates:
        matcher.set_seq1(candidate.casefold())
        if matcher.real_quick_ratio() >= cutoff and matcher.quick_ratio() >= cutoff and matcher.ratio() >= cutoff:
            scored.append((-matcher.ratio(), candidate))
    return [candidate for _, candidate in sorted(scored)[:n]]


def _unique(values) -> tuple[str, ...]:
    """Stripped, non-empty, de-duplicated words in their first order (a string is one word)."""
    if values is None:
        return ()
    if isinstance(values, str):
        values = [values]
    words = (value if isinstance(value, str) else str(value) for value in values)
    return tuple(dict.fromkeys(word.strip() for word in words if word.strip()))


def _money_text(minor: int | None) -> str | None:
    return None if minor is None else money.format_money(minor, 4, grouping=False)


# --- parsing one parameter value each ---------------------------------------------------------

def _day(value, key):
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        raise ValueError(f"{key}: {value!r} is a time; give a day such as 2026-10-01")
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise ValueError(f"{key}: {value!r} is not a day; give it as YYYY-MM-DD, e.g. 2026-10-01") from None


def _words(value, key):
    if value is None:
        return ()
    if isinstance(value, str):
        return tuple(value.split(","))
    if isinstance(value, (list, tuple, set, frozenset)):
        return tuple(str(item) for item in value)
    raise ValueError(f"{key}: {value!r} is not a list; give a list or comma-separated text")


def amount_bound(text: str, key: str = "") -> str:
    """A min/max amount bound as decimal text, stripped; a blank one is a ValueError, never read as "no bound".

    A bound is left out to have none: a blank one is a value lost on the way (an unset variable
    in a script, ``-p min_amount ""``), and reading it as no bound would show every amount. The
    CLI's ``--min-amount``/``--max-amount``, papermill parameters, saved views and view links all
    refuse it here (``key`` names the parameter; without it, the option).
    """
    value = text.strip()
    if not value:
        raise ValueError(f"{key + ': ' if key else ''}empty; give a decimal amount such as 100.00 "
                         f"(leave {key or 'the option'} out for no bound)")
    return value


def _amount(value, key):
    if value is None:
        return None
    return money.to_minor(amount_bound(value, key) if isinstance(value, str) else value, field=key)


def _flag(value, key):
    if isinstance(value, bool):
        return value
    word = str(value).strip().lower() if value is not None else ""
    if word in _YES:
        return True
    if word in _NO:
        return False
    raise ValueError(f"{key}: {value!r} is not true or false; give yes or no")


def _text(value, key):
    return "" if value is None else str(value)


_PARSERS = {
    "start": _day, "end": _day, "timezone": _text, "accounts": _words, "include_sub_accounts": _flag,
    "kinds": _words, "min_amount": _amount, "max_amount": _amount, "operators": _words,
    "channels": _words, "methods": _words, "currencies": _words, "text": _text,
}
